/* The origin address guard (origin_guard.h): the ranges refused by
 * default, the origin_allow_networks list, and the one decision. Pure
 * functions: tests/unit/test_origin_guard.c covers them case by case. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asset/origin_guard.h"
#include "banned.h"

#define SETTING "origin_allow_networks"

/* Not globally routable IPv4 (the IANA special-purpose registry, less the
 * few anycast services in it that are global). */
static const struct cidr DENY4[] = {
	{4, 8, {0}},             /* "this network": a connect to 0.0.0.0 reaches this host */
	{4, 8, {10}},            /* private */
	{4, 10, {100, 64}},      /* shared address space (carrier-grade NAT) */
	{4, 8, {127}},           /* loopback */
	{4, 16, {169, 254}},     /* link-local, the cloud metadata endpoint among them */
	{4, 12, {172, 16}},      /* private */
	{4, 24, {192, 0, 0}},    /* IETF protocol assignments */
	{4, 24, {192, 0, 2}},    /* documentation */
	{4, 24, {192, 88, 99}},  /* 6to4 relay anycast (deprecated) */
	{4, 16, {192, 168}},     /* private */
	{4, 15, {198, 18}},      /* benchmarking */
	{4, 24, {198, 51, 100}}, /* documentation */
	{4, 24, {203, 0, 113}},  /* documentation */
	{4, 4, {224}},           /* multicast */
	{4, 4, {240}},           /* reserved, and the limited broadcast 255.255.255.255 */
};

/* IPv6: only global unicast is routable at all; inside it, these are not. */
static const struct cidr GLOBAL6 = {16, 3, {0x20}};
static const struct cidr DENY6[] = {
	{16, 23, {0x20, 0x01}},             /* IETF protocol assignments (Teredo, ORCHID...) */
	{16, 32, {0x20, 0x01, 0x0d, 0xb8}}, /* documentation */
	{16, 20, {0x3f, 0xff}},             /* documentation */
};

/* Writes a message that may be cut (it only informs). */
static void say(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(err, errlen, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

static bool list_contains(const struct cidr *list, size_t n, const unsigned char *a, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&list[i], a, len))
			return true;
	return false;
}

/* The IPv4 address an IPv6 address carries: ::ffff:a.b.c.d (mapped: the
 * kernel connects to a.b.c.d over IPv4), 64:ff9b::a.b.c.d (NAT64),
 * ::a.b.c.d (the deprecated "compatible" form; :: and ::1 are not, RFC
 * 4291, so 0.0.0.0/8 is left out), 2002:AABB:CCDD:: (6to4). */
static bool embedded_v4(const unsigned char *a6, unsigned char v4[4])
{
	static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const unsigned char zero[12] = {0};
	const unsigned char *src = NULL;
	if (cidr_v4_mapped(a6) || memcmp(a6, nat64, 12) == 0 ||
	    (memcmp(a6, zero, 12) == 0 && a6[12] != 0))
		src = a6 + 12;
	else if (a6[0] == 0x20 && a6[1] == 0x02)
		src = a6 + 2;
	if (src)
		memcpy(v4, src, 4);
	return src != NULL;
}

static bool refused_by_default(const unsigned char *a, size_t len)
{
	if (len == 4)
		return list_contains(DENY4, sizeof DENY4 / sizeof DENY4[0], a, 4);
	unsigned char v4[4];
	if (embedded_v4(a, v4))
		return list_contains(DENY4, sizeof DENY4 / sizeof DENY4[0], v4, 4);
	return !cidr_contains(&GLOBAL6, a, 16) ||
	       list_contains(DENY6, sizeof DENY6 / sizeof DENY6[0], a, 16);
}

bool origin_guard_allows(const struct origin_guard *g, const struct sockaddr *sa, size_t salen,
			 char *text, size_t textlen)
{
	unsigned char a[16];
	size_t len;
	int family;
	if (text && textlen)
		text[0] = '\0';
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		memcpy(a, &in.sin_addr, 4);
		len = 4;
		family = AF_INET;
	} else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 in6;
		memcpy(&in6, sa, sizeof in6);
		memcpy(a, &in6.sin6_addr, 16);
		len = 16;
		family = AF_INET6;
	} else {
		say(text, textlen, "of family %d", (int)sa->sa_family);
		return false;
	}
	if (text && textlen && !inet_ntop(family, a, text, (socklen_t)textlen))
		text[0] = '\0';
	unsigned char v4[4];
	bool has_v4 = len == 16 && embedded_v4(a, v4);
	for (size_t i = 0; g && i < g->n; i++)
		if (cidr_contains(&g->nets[i], a, len) ||
		    (has_v4 && cidr_contains(&g->nets[i], v4, 4)))
			return true;
	return !refused_by_default(a, len);
}

int origin_guard_parse(struct origin_guard *g, const char *list, char *err, size_t errlen)
{
	char why[160];
	if (cidr_list_parse(list, g->nets, &g->n, why, sizeof why) == 0) {
		say(err, errlen, "%s", "");
		return 0;
	}
	say(err, errlen, SETTING ": %s", why);
	return -1;
}
