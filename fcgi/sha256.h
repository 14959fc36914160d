/* SHA-256 (FIPS 180-4), for storing API key secrets as hashes. */
#ifndef DLCS_SHA256_H
#define DLCS_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);
/* Lower-case hex digest into out[65]. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
