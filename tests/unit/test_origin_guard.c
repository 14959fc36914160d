/* The origin address guard (handlers/asset/origin_guard.c): the ranges
 * refused by default at their edges, the IPv6 forms that carry an IPv4
 * address, origin_allow_networks and its parser. No traffic: addresses
 * are only judged. */
#include "../../handlers/asset/origin_guard.c"

#include <stdlib.h>
#include <sys/un.h>

#include "check.h"

/* The decision for the address ip (IPv4 or IPv6 text) under g; the
 * address as the guard writes it in text. */
static bool allows_text(const struct origin_guard *g, const char *ip, char *text, size_t len)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(80)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return origin_guard_allows(g, (struct sockaddr *)&in, sizeof in, text, len);
	if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1)
		return origin_guard_allows(g, (struct sockaddr *)&in6, sizeof in6, text, len);
	fprintf(stderr, "test bug: %s is not an address\n", ip);
	exit(2);
}

static bool allows(const struct origin_guard *g, const char *ip)
{
	char text[64];
	return allows_text(g, ip, text, sizeof text);
}

/* Checks every address of list against want under g, naming the ones that
 * disagree. */
static void expect(const struct origin_guard *g, const char *const *list, bool want,
		   const char *what)
{
	for (; *list; list++) {
		bool got = allows(g, *list);
		CHECK(got == want);
		if (got != want)
			fprintf(stderr, "  %s: %s is %s\n", what, *list,
				got ? "allowed" : "refused");
	}
}

static const char *const REFUSED_V4[] = {
	"0.0.0.0",         "0.255.255.255",   "10.0.0.0",        "10.255.255.255",
	"100.64.0.0",      "100.127.255.255", "127.0.0.0",       "127.0.0.1",
	"127.0.0.2",       "127.255.255.255", "169.254.0.0",     "169.254.169.254",
	"169.254.255.255", "172.16.0.0",      "172.16.0.1",      "172.31.255.255",
	"192.0.0.0",       "192.0.0.255",     "192.0.2.1",       "192.88.99.1",
	"192.168.0.0",     "192.168.255.255", "198.18.0.0",      "198.19.255.255",
	"198.51.100.7",    "203.0.113.9",     "224.0.0.1",       "239.255.255.255",
	"240.0.0.0",       "255.255.255.254", "255.255.255.255", NULL,
};

/* The first and last addresses beside each refused range, and some public ones. */
static const char *const ALLOWED_V4[] = {
	"1.0.0.0",      "9.255.255.255",   "11.0.0.0",     "100.63.255.255",
	"100.128.0.0",  "126.255.255.255", "128.0.0.0",    "169.253.255.255",
	"169.255.0.0",  "172.15.255.255",  "172.32.0.0",   "192.0.1.0",
	"192.0.3.0",    "192.88.98.255",   "192.88.100.0", "192.167.255.255",
	"192.169.0.0",  "198.17.255.255",  "198.20.0.0",   "198.51.99.255",
	"198.51.101.0", "203.0.112.255",   "203.0.114.0",  "223.255.255.255",
	"8.8.8.8",      "93.184.216.34",   NULL,
};

static const char *const REFUSED_V6[] = {
	"::",
	"::1",
	"::ffff:127.0.0.1", /* mapped: the kernel connects to the IPv4 address */
	"::ffff:127.0.0.2",
	"::ffff:0.0.0.0",
	"::ffff:10.1.2.3",
	"::ffff:169.254.169.254",
	"::ffff:255.255.255.255",
	"::127.0.0.1", /* compatible (deprecated) */
	"::10.0.0.1",
	"::0.0.0.2",          /* not a compatible address: outside 2000::/3 */
	"64:ff9b::127.0.0.1", /* NAT64 */
	"64:ff9b::a9fe:a9fe",
	"64:ff9b:1::1",       /* local-use NAT64 */
	"2002:7f00:1::1",     /* 6to4 of 127.0.0.1 */
	"2002:a9fe:a9fe::",   /* 6to4 of 169.254.169.254 */
	"2002:c0a8:101:1::1", /* 6to4 of 192.168.1.1 */
	"fe80::1",
	"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"fec0::1",
	"fc00::",
	"fd12:3456:789a::1",
	"ff02::1",
	"ff0e::1",
	"100::1",
	"2001::1", /* Teredo */
	"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff",
	"2001:db8::1",
	"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	"3fff::1",
	"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
	"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /* just below 2000::/3 */
	"4000::",                                  /* just above */
	"5f00::1",
	"e000::1",
	NULL,
};

static const char *const ALLOWED_V6[] = {
	"2000::",
	"2001:200::",                             /* just above 2001::/23 */
	"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", /* just below 2001:db8::/32 */
	"2001:db9::",
	"2001:4860:4860::8888",
	"2606:4700:4700::1111",
	"2a00:1450:4001::1",
	"3ffe::1",
	"3fff:1000::", /* just above 3fff::/20 */
	"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"::ffff:8.8.8.8",
	"::8.8.8.8",
	"64:ff9b::808:808",
	"2002:808:808::1",
	NULL,
};

static void test_default(void)
{
	expect(NULL, REFUSED_V4, false, "default");
	expect(NULL, ALLOWED_V4, true, "default");
	expect(NULL, REFUSED_V6, false, "default");
	expect(NULL, ALLOWED_V6, true, "default");
	struct origin_guard none;
	CHECK(origin_guard_parse(&none, "", NULL, 0) == 0 && none.n == 0);
	expect(&none, REFUSED_V4, false, "empty list");
	expect(&none, REFUSED_V6, false, "empty list");
}

static void test_text(void)
{
	char text[64];
	CHECK(!allows_text(NULL, "127.0.0.2", text, sizeof text));
	CHECK_STR(text, "127.0.0.2");
	CHECK(!allows_text(NULL, "::ffff:127.0.0.2", text, sizeof text));
	CHECK_STR(text, "::ffff:127.0.0.2");
	CHECK(!allows_text(NULL, "::1", text, sizeof text));
	CHECK_STR(text, "::1");
	CHECK(allows_text(NULL, "8.8.8.8", text, sizeof text));
	CHECK_STR(text, "8.8.8.8");
	CHECK(!allows_text(NULL, "fe80::1", NULL, 0)); /* no text wanted */

	/* Other families, short lengths and NULL are refused. */
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/tmp/x"};
	CHECK(!origin_guard_allows(NULL, (struct sockaddr *)&un, sizeof un, text, sizeof text));
	CHECK(strstr(text, "family") != NULL);
	struct sockaddr_in in = {.sin_family = AF_INET};
	inet_pton(AF_INET, "8.8.8.8", &in.sin_addr);
	CHECK(origin_guard_allows(NULL, (struct sockaddr *)&in, sizeof in, NULL, 0));
	CHECK(!origin_guard_allows(NULL, (struct sockaddr *)&in, sizeof in - 1, NULL, 0));
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "2001:4860:4860::8888", &in6.sin6_addr);
	CHECK(origin_guard_allows(NULL, (struct sockaddr *)&in6, sizeof in6, NULL, 0));
	CHECK(!origin_guard_allows(NULL, (struct sockaddr *)&in6, sizeof(struct sockaddr_in), NULL,
				   0));
	CHECK(!origin_guard_allows(NULL, NULL, 0, text, sizeof text));
}

static void test_allow_list(void)
{
	struct origin_guard g;
	char err[200];

	/* The test stack's: one loopback address, not its neighbours. */
	CHECK(origin_guard_parse(&g, "127.0.0.1/32", err, sizeof err) == 0 && g.n == 1);
	CHECK(allows(&g, "127.0.0.1"));
	CHECK(allows(&g, "::ffff:127.0.0.1")); /* the same address, mapped */
	CHECK(!allows(&g, "127.0.0.2"));
	CHECK(!allows(&g, "127.0.0.0"));
	CHECK(!allows(&g, "::ffff:127.0.0.2"));
	CHECK(!allows(&g, "::1"));
	CHECK(!allows(&g, "0.0.0.0"));
	CHECK(!allows(&g, "::"));
	CHECK(!allows(&g, "10.0.0.1"));
	CHECK(allows(&g, "8.8.8.8")); /* what is allowed anyway stays so */

	/* The development stack's. */
	CHECK(origin_guard_parse(&g, "127.0.0.0/8", err, sizeof err) == 0);
	CHECK(allows(&g, "127.0.0.0") && allows(&g, "127.255.255.255") && allows(&g, "127.0.0.2"));
	CHECK(allows(&g, "::ffff:127.1.2.3"));
	CHECK(allows(&g, "::127.0.0.1"));
	CHECK(allows(&g, "2002:7f00:1::1"));
	CHECK(!allows(&g, "::1") && !allows(&g, "0.0.0.0") && !allows(&g, "169.254.169.254"));

	/* A bare address is that address; several, with commas and blanks. */
	CHECK(origin_guard_parse(&g, " 10.1.2.3 ,::1,\t, fd00::/8  192.168.0.0/16 ", err,
				 sizeof err) == 0);
	CHECK(g.n == 4);
	CHECK(allows(&g, "10.1.2.3") && !allows(&g, "10.1.2.4"));
	CHECK(allows(&g, "::1") && !allows(&g, "::"));
	CHECK(allows(&g, "fd12::1") && !allows(&g, "fc00::1"));
	CHECK(allows(&g, "192.168.44.1") && !allows(&g, "172.16.0.1"));

	/* Everything IPv4 opens the IPv6 forms of IPv4 addresses, not ::1 or ::. */
	CHECK(origin_guard_parse(&g, "0.0.0.0/0", err, sizeof err) == 0);
	expect(&g, REFUSED_V4, true, "0.0.0.0/0");
	CHECK(allows(&g, "::ffff:10.0.0.1") && allows(&g, "64:ff9b::7f00:1"));
	CHECK(!allows(&g, "::1") && !allows(&g, "::") && !allows(&g, "fe80::1"));
	CHECK(origin_guard_parse(&g, "::/0", err, sizeof err) == 0);
	expect(&g, REFUSED_V6, true, "::/0");
	CHECK(!allows(&g, "127.0.0.1")); /* IPv4 itself is not IPv6 */

	/* A mapped network is kept as its IPv4 network. */
	CHECK(origin_guard_parse(&g, "::ffff:10.0.0.0/104", err, sizeof err) == 0);
	CHECK(g.n == 1 && g.nets[0].len == 4 && g.nets[0].prefix == 8);
	CHECK(allows(&g, "10.9.8.7") && allows(&g, "::ffff:10.9.8.7") && !allows(&g, "172.16.0.1"));
	CHECK(origin_guard_parse(&g, "::ffff:0:0/96", err, sizeof err) == 0);
	CHECK(g.nets[0].len == 4 && g.nets[0].prefix == 0);

	/* Prefix edges inside a byte. */
	CHECK(origin_guard_parse(&g, "172.16.0.0/13", err, sizeof err) == 0);
	CHECK(allows(&g, "172.23.255.255") && !allows(&g, "172.24.0.0"));
	CHECK(origin_guard_parse(&g, "fe80::/9", err, sizeof err) == 0); /* fe80:: to feff:... */
	CHECK(allows(&g, "fe80::1") && allows(&g, "fec0::1") && allows(&g, "feff::1"));
	CHECK(!allows(&g, "ff02::1") && !allows(&g, "fc00::1") && !allows(&g, "fe7f::1"));

	/* The most networks, and no more. */
	char many[2048] = "";
	size_t off = 0;
	for (int i = 0; i < ORIGIN_GUARD_NETS_MAX; i++)
		off += (size_t)snprintf(many + off, sizeof many - off, "10.0.%d.0/24,", i);
	CHECK(origin_guard_parse(&g, many, err, sizeof err) == 0 && g.n == ORIGIN_GUARD_NETS_MAX);
	CHECK(allows(&g, "10.0.63.9") && !allows(&g, "10.0.64.9"));
	snprintf(many + off, sizeof many - off, "10.1.0.0/16");
	CHECK(origin_guard_parse(&g, many, err, sizeof err) == -1);
	CHECK_STR(err, "origin_allow_networks: more than 64 networks");
}

static void test_bad_lists(void)
{
	static const char *const bad[][2] = {
		{"127.0.0.1/33", "'127.0.0.1/33' has a prefix length above 32"},
		{"::1/129", "'::1/129' has a prefix length above 128"},
		{"127.0.0.1/", "'127.0.0.1/' has a prefix length that is not a number"},
		{"127.0.0.1/-1", "'127.0.0.1/-1' has a prefix length that is not a number"},
		{"127.0.0.1/+8", "'127.0.0.1/+8' has a prefix length that is not a number"},
		{"127.0.0.0/8x", "'127.0.0.0/8x' has a prefix length that is not a number"},
		{"127.0.0.0/0008", "'127.0.0.0/0008' has a prefix length that is not a number"},
		{"127.0.0.1/8", "'127.0.0.1/8' has address bits set beyond its prefix length"},
		{"10.1.0.0/8", "'10.1.0.0/8' has address bits set beyond its prefix length"},
		{"::1/64", "'::1/64' has address bits set beyond its prefix length"},
		{"/8", "'/8' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"127.1", "'127.1' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"0x7f.0.0.1",
		 "'0x7f.0.0.1' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"010.0.0.1", "'010.0.0.1' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"2130706433",
		 "'2130706433' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"300.0.0.1", "'300.0.0.1' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"1.2.3.4.5", "'1.2.3.4.5' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"localhost", "'localhost' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"fe80::1%lo",
		 "'fe80::1%lo' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"[::1]", "'[::1]' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"::1::", "'::1::' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"127.0.0.1;10.0.0.0/8",
		 "'127.0.0.1;10.0.0.0/8' is not an IPv4 or IPv6 network (address/prefix-length)"},
		{"10.0.0.0/8 127.0.0.1/ 8",
		 "'127.0.0.1/' has a prefix length that is not a number"},
		{"127.0.0.1/32/32", "'127.0.0.1/32/32' has a prefix length that is not a number"},
		{"10.0.0.0/8,all", "'all' is not an IPv4 or IPv6 network (address/prefix-length)"},
	};
	struct origin_guard g;
	char err[200];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[300];
		snprintf(want, sizeof want, "origin_allow_networks: %s", bad[i][1]);
		CHECK(origin_guard_parse(&g, bad[i][0], err, sizeof err) == -1);
		CHECK_STR(err, want);
	}
	/* A long entry is named, cut. */
	char lng[300];
	memset(lng, '1', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	CHECK(origin_guard_parse(&g, lng, err, sizeof err) == -1);
	CHECK(strncmp(err, "origin_allow_networks: '111", 27) == 0 && strstr(err, "...'") &&
	      strlen(err) < 160);
	/* A small buffer is cut, not overrun; none at all is fine. */
	char small[8];
	CHECK(origin_guard_parse(&g, "nope", small, sizeof small) == -1);
	CHECK_STR(small, "origin_");
	CHECK(origin_guard_parse(&g, "nope", NULL, 0) == -1);
	/* NULL, blanks and separators only: nothing opened. */
	CHECK(origin_guard_parse(&g, NULL, err, sizeof err) == 0 && g.n == 0 && err[0] == '\0');
	CHECK(origin_guard_parse(&g, " ,\t, ", err, sizeof err) == 0 && g.n == 0);
}

int main(void)
{
	test_default();
	test_text();
	test_allow_list();
	test_bad_lists();
	return check_done();
}
