/* The origin address guard (origin_guard.h): the ranges refused by
 * default, the origin_allow_networks parser, and the one decision. Pure
 * functions: tests/unit/test_origin_guard.c covers them case by case. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest/origin_guard.h"
#include "banned.h"

#define SETTING "origin_allow_networks"

/* Not globally routable IPv4 (the IANA special-purpose registry, less the
 * few anycast services in it that are global). */
static const struct origin_net DENY4[] = {
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
static const struct origin_net GLOBAL6 = {16, 3, {0x20}};
static const struct origin_net DENY6[] = {
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

static bool net_contains(const struct origin_net *n, const unsigned char *a, size_t len)
{
	if (n->len != len)
		return false;
	size_t full = n->prefix / 8;
	unsigned rest = n->prefix % 8;
	if (memcmp(n->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (n->addr[full] & mask) == (a[full] & mask);
}

static bool list_contains(const struct origin_net *list, size_t n, const unsigned char *a,
			  size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (net_contains(&list[i], a, len))
			return true;
	return false;
}

static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The IPv4 address an IPv6 address carries: ::ffff:a.b.c.d (mapped: the
 * kernel connects to a.b.c.d over IPv4), 64:ff9b::a.b.c.d (NAT64),
 * ::a.b.c.d (the deprecated "compatible" form; :: and ::1 are not, RFC
 * 4291, so 0.0.0.0/8 is left out), 2002:AABB:CCDD:: (6to4). */
static bool embedded_v4(const unsigned char *a6, unsigned char v4[4])
{
	static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const unsigned char zero[12] = {0};
	const unsigned char *src = NULL;
	if (memcmp(a6, V4_MAPPED, 12) == 0 || memcmp(a6, nat64, 12) == 0 ||
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
	return !net_contains(&GLOBAL6, a, 16) ||
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
		if (net_contains(&g->nets[i], a, len) ||
		    (has_v4 && net_contains(&g->nets[i], v4, 4)))
			return true;
	return !refused_by_default(a, len);
}

/* One entry of the list; NULL, or why it is not a network. */
static const char *net_parse(const char *tok, struct origin_net *net)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(tok, '/');
	size_t alen = slash ? (size_t)(slash - tok) : strlen(tok);
	memset(net, 0, sizeof *net);
	if (alen == 0 || alen >= sizeof addr)
		return "is not an IPv4 or IPv6 network (address/prefix-length)";
	memcpy(addr, tok, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, net->addr) == 1)
		net->len = 4;
	else if (inet_pton(AF_INET6, addr, net->addr) == 1)
		net->len = 16;
	else
		return "is not an IPv4 or IPv6 network (address/prefix-length)";
	unsigned bits = net->len * 8u, prefix = bits;
	if (slash) {
		const char *d = slash + 1;
		size_t nd = strspn(d, "0123456789");
		if (nd == 0 || nd > 3 || d[nd] != '\0')
			return "has a prefix length that is not a number";
		prefix = 0;
		for (size_t i = 0; i < nd; i++)
			prefix = prefix * 10 + (unsigned)(d[i] - '0');
		if (prefix > bits)
			return net->len == 4 ? "has a prefix length above 32"
					     : "has a prefix length above 128";
	}
	net->prefix = (unsigned char)prefix;
	for (unsigned b = prefix; b < bits; b++)
		if (net->addr[b / 8] & (0x80u >> (b % 8)))
			return "has address bits set beyond its prefix length";
	if (net->len == 16 && prefix >= 96 && memcmp(net->addr, V4_MAPPED, 12) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->len = 4;
		net->prefix = (unsigned char)(prefix - 96);
	}
	return NULL;
}

int origin_guard_parse(struct origin_guard *g, const char *list, char *err, size_t errlen)
{
	static const char seps[] = ", \t";
	g->n = 0;
	say(err, errlen, "%s", "");
	for (const char *p = list ? list : ""; *p;) {
		p += strspn(p, seps);
		if (!*p)
			break;
		size_t len = strcspn(p, seps);
		char tok[INET6_ADDRSTRLEN + 8];
		struct origin_net net = {0};
		const char *why = "is not an IPv4 or IPv6 network (address/prefix-length)";
		if (len < sizeof tok) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			why = net_parse(tok, &net);
		}
		if (why) {
			say(err, errlen, SETTING ": '%.*s%s' %s", len > 60 ? 60 : (int)len, p,
			    len > 60 ? "..." : "", why);
			return -1;
		}
		if (g->n == ORIGIN_GUARD_NETS_MAX) {
			say(err, errlen, SETTING ": more than %d networks", ORIGIN_GUARD_NETS_MAX);
			return -1;
		}
		g->nets[g->n++] = net;
		p += len;
	}
	return 0;
}
