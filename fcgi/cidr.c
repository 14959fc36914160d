/* CIDR lists (cidr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "banned.h"

static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Writes a message that may be cut (it only informs). */
static void say(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	if (!why || !whylen)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(why, whylen, fmt, ap) < 0)
		why[0] = '\0';
	va_end(ap);
}

bool cidr_v4_mapped(const unsigned char *a6)
{
	return memcmp(a6, V4_MAPPED, 12) == 0;
}

bool cidr_contains(const struct cidr *net, const unsigned char *a, size_t len)
{
	if (net->len != len)
		return false;
	size_t full = net->prefix / 8;
	unsigned rest = net->prefix % 8;
	if (memcmp(net->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (a[full] & mask);
}

/* One entry of the list; NULL, or why it is not a network. */
static const char *net_parse(const char *tok, struct cidr *net)
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
	if (net->len == 16 && prefix >= 96 && cidr_v4_mapped(net->addr)) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->len = 4;
		net->prefix = (unsigned char)(prefix - 96);
	}
	return NULL;
}

int cidr_list_parse(const char *list, struct cidr *nets, size_t *n, char *why, size_t whylen)
{
	static const char seps[] = ", \t";
	*n = 0;
	say(why, whylen, "%s", "");
	for (const char *p = list ? list : ""; *p;) {
		p += strspn(p, seps);
		if (!*p)
			break;
		size_t len = strcspn(p, seps);
		char tok[INET6_ADDRSTRLEN + 8];
		struct cidr net = {0};
		const char *bad = "is not an IPv4 or IPv6 network (address/prefix-length)";
		if (len < sizeof tok) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			bad = net_parse(tok, &net);
		}
		if (bad) {
			say(why, whylen, "'%.*s%s' %s", len > 60 ? 60 : (int)len, p,
			    len > 60 ? "..." : "", bad);
			return -1;
		}
		if (*n == CIDR_LIST_MAX) {
			say(why, whylen, "more than %d networks", CIDR_LIST_MAX);
			return -1;
		}
		nets[(*n)++] = net;
		p += len;
	}
	return 0;
}
