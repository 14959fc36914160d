/* Which addresses an origin fetch may connect to. An origin is a URL the
 * customer chooses, fetched from inside the platform: without a guard it
 * reaches what only the platform should (loopback services, the database
 * host, the cloud metadata endpoint 169.254.169.254), and with the `file`
 * channel the answer is then published at /file.
 *
 * By default every address that is not globally routable is refused:
 * IPv4 0/8 (a connect to it reaches this host), 10/8, 100.64/10, 127/8,
 * 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16,
 * 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 (multicast), 240/4
 * (reserved and broadcast); IPv6 outside 2000::/3 (which holds ::, ::1,
 * fc00::/7, fe80::/10, fec0::/10, ff00::/8, 100::/64, 64:ff9b:1::/48), and
 * inside it 2001::/23, 2001:db8::/32 and 3fff::/20. IPv6 forms that carry
 * an IPv4 address (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d and 6to4
 * 2002:AABB:CCDD::) are judged by that IPv4 address.
 *
 * The configuration's origin_allow_networks (CIDRs) opens chosen ranges:
 * an address inside one of them is allowed, as connected or by the IPv4
 * address it carries.
 *
 * The check is made on the address the HTTP client actually connects to
 * (the runner's ingest/origin.c installs it as libcurl's socket opener), so
 * names that resolve to an inside address, DNS rebinding and every
 * redirect hop meet it. The API's external role provider (api/
 * auth_external.c), another URL the customer chooses, is fetched under the
 * same rule and the same setting: one guard for every program. */
#ifndef DLCS_ORIGIN_GUARD_H
#define DLCS_ORIGIN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cidr.h"

/* Most networks origin_allow_networks may list. */
#define ORIGIN_GUARD_NETS_MAX CIDR_LIST_MAX

/* The networks origin_allow_networks opens (none: the default). */
struct origin_guard {
	size_t n;
	struct cidr nets[ORIGIN_GUARD_NETS_MAX];
};

/* Parses an origin_allow_networks value into g (cidr_list_parse: CIDRs
 * separated by commas and/or blanks, e.g. "127.0.0.0/8, ::1/128"). NULL or
 * "" opens nothing. 0, or -1 with err naming the setting and what
 * cidr_list_parse refused. The configuration checks the setting the same
 * way when it is loaded, so a runner never starts with a list this
 * refuses. */
int origin_guard_parse(struct origin_guard *g, const char *list, char *err, size_t errlen);

/* True when an origin fetch may connect to the address sa (AF_INET or
 * AF_INET6; any other family is refused) under g (NULL: the default).
 * text (may be NULL) receives the address as inet_ntop writes it, for the
 * error of a refusal. */
bool origin_guard_allows(const struct origin_guard *g, const struct sockaddr *sa, size_t salen,
			 char *text, size_t textlen);

#endif
