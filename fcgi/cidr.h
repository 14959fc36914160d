/* Networks written as CIDRs ("10.0.0.0/8", "::1/128"): the parser of a
 * list of them and the one containment test. A type of the configuration
 * (config.h, SETTING_NETWORKS), so every program checks such a setting at
 * start, and the tool of the origin guard (asset/origin_guard.h),
 * which decides with them. Pure functions: tests/unit/test_origin_guard.c
 * covers them case by case. */
#ifndef DLCS_CIDR_H
#define DLCS_CIDR_H

#include <stdbool.h>
#include <stddef.h>

/* Most networks one list may hold. */
#define CIDR_LIST_MAX 64

struct cidr {
	unsigned char len;    /* address bytes: 4 (IPv4) or 16 (IPv6) */
	unsigned char prefix; /* 0..32 or 0..128 */
	unsigned char addr[16];
};

/* Parses a list of CIDRs separated by commas and/or blanks into nets (room
 * for CIDR_LIST_MAX), e.g. "127.0.0.0/8, ::1/128"; an address without a
 * prefix length is that one address. An IPv4-mapped network
 * (::ffff:a.b.c.d/n, n >= 96) is kept as its IPv4 network. NULL or "" is
 * the empty list. 0 with *n set, or -1 with why (may be NULL) naming the
 * entry that is not an address, has a prefix length out of range, has bits
 * set beyond its prefix length (a typo, refused rather than guessed), or
 * is one too many. why is cut to whylen, never overrun. */
int cidr_list_parse(const char *list, struct cidr *nets, size_t *n, char *why, size_t whylen);

/* True when the address a (len bytes: 4 or 16) is inside net; an address
 * of the other family never is. */
bool cidr_contains(const struct cidr *net, const unsigned char *a, size_t len);

/* True when the IPv6 address a6 is IPv4-mapped (::ffff:a.b.c.d). */
bool cidr_v4_mapped(const unsigned char *a6);

#endif
