/* Portal users' rules and passwords (handlers/asset/portal_user.c): which
 * e-mail addresses and passwords are taken, that the stored form is a
 * salted yescrypt hash that the password (and nothing else) matches, and
 * that no message repeats what it refuses. The login against the database,
 * portal_user_verify, is tested end to end (tests/e2e/test_portal_users.py,
 * through dlcs-admin portal-login). */
#include <stdbool.h>
#include <string.h>

#include "arena.h"
#include "asset/portal_user.h"
#include "check.h"

static struct arena *A;

static void test_email(void)
{
	const char *good[] = {
		"a@b.co",
		"editor@example.org",
		"Editor.Name+tag@Mail.Example.ORG",
		"o'brien@example.ie",
		"x!#$%&'*+/=?^_`{|}~-y@e-x.example",
		"1@2.3",
		NULL,
	};
	for (const char **e = good; *e; e++)
		CHECK(portal_email_problem(*e) == NULL);
	const char *bad[] = {
		"",
		"plain",
		"@example.org",
		"a@",
		"a@@example.org",
		"a@b@example.org",
		"a@localhost", /* one label */
		"a@example..org",
		"a@.example.org",
		"a@example.org.",
		"a@-example.org",
		"a@example-.org",
		"a@exa_mple.org",
		".a@example.org",
		"a.@example.org",
		"a..b@example.org",
		"a b@example.org",
		"\"a\"@example.org", /* quoted local parts are not taken */
		"a@example.org\r\nBcc: x@y.z",
		"a\n@example.org",
		"\xc3\xa9@example.org", /* not ASCII */
		"a@\xc3\xa9xample.org",
		"a@[127.0.0.1]",
		NULL,
	};
	for (const char **e = bad; *e; e++)
		CHECK(portal_email_problem(*e) != NULL);
	/* lengths: 64 before the '@', 63 per label, 254 in all */
	char buf[400];
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.org");
	CHECK(portal_email_problem(buf) == NULL);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.org");
	CHECK(portal_email_problem(buf) != NULL);
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 63);
	strcpy(buf + 65, ".org");
	CHECK(portal_email_problem(buf) == NULL);
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".org");
	CHECK(portal_email_problem(buf) != NULL);
	/* "a@", three labels of 63 and their dots, and a last label of L: 194 + L */
	for (int L = 59; L <= 61; L++) {
		strcpy(buf, "a@");
		size_t n = 2;
		for (int i = 0; i < 3; i++) {
			memset(buf + n, 'c', 63);
			n += 63;
			buf[n++] = '.';
		}
		memset(buf + n, 'd', (size_t)L);
		buf[n + (size_t)L] = '\0';
		CHECK(strlen(buf) == 194 + (size_t)L);
		if (L <= 60)
			CHECK(portal_email_problem(buf) == NULL); /* up to 254 */
		else
			CHECK(portal_email_problem(buf) != NULL); /* 255 */
	}
	/* a refusal never quotes the address */
	const char *why = portal_email_problem("secret-name@localhost");
	CHECK(why && !strstr(why, "secret-name"));
}

static void test_password_rules(void)
{
	CHECK(portal_password_problem("correct horse battery") == NULL);
	CHECK(portal_password_problem("123456789012") == NULL); /* 12: the least */
	CHECK(portal_password_problem("12345678901") != NULL);
	CHECK(portal_password_problem("") != NULL);
	/* characters, not bytes: 11 two-byte characters are too few, 12 enough */
	CHECK(portal_password_problem("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9") != NULL);
	CHECK(portal_password_problem("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9") == NULL);
	CHECK(portal_password_problem("twelve chars\tplus a tab") != NULL);
	CHECK(portal_password_problem("twelve chars\r\nand CRLF") != NULL);
	CHECK(portal_password_problem("twelve chars\x7f") != NULL);
	char big[600];
	memset(big, 'p', 511);
	big[511] = '\0';
	CHECK(portal_password_problem(big) == NULL);
	big[511] = 'p';
	big[512] = '\0';
	CHECK(portal_password_problem(big) != NULL);
	const char *why = portal_password_problem("hunter2");
	CHECK(why && !strstr(why, "hunter2"));
}

static void test_hash(void)
{
	const char *pw = "correct horse battery staple";
	const char *h1 = portal_password_hash(A, pw);
	const char *h2 = portal_password_hash(A, pw);
	CHECK(h1 && strncmp(h1, "$y$", 3) == 0);
	CHECK(h2 && strncmp(h2, "$y$", 3) == 0);
	CHECK(h1 && h2 && strcmp(h1, h2) != 0); /* a fresh salt each */
	CHECK(h1 && !strstr(h1, pw));
	CHECK(portal_password_matches(A, pw, h1));
	CHECK(portal_password_matches(A, pw, h2));
	CHECK(!portal_password_matches(A, "correct horse battery stapl", h1));
	CHECK(!portal_password_matches(A, "Correct horse battery staple", h1));
	CHECK(!portal_password_matches(A, "", h1));
	/* anything but a yescrypt hash matches nothing */
	CHECK(!portal_password_matches(A, pw, NULL));
	CHECK(!portal_password_matches(A, pw, ""));
	CHECK(!portal_password_matches(A, pw, "*0"));
	CHECK(!portal_password_matches(A, pw, pw));
	CHECK(!portal_password_matches(A, "x", "$1$abc$"));
	CHECK(!portal_password_matches(A, pw, "$y$j9T$"));
	/* a hash cut short or changed is no match */
	if (h1) {
		char *cut = arena_strdup(A, h1);
		cut[strlen(cut) - 1] = '\0';
		CHECK(!portal_password_matches(A, pw, cut));
		char *flip = arena_strdup(A, h1);
		flip[strlen(flip) - 1] ^= 1;
		CHECK(!portal_password_matches(A, pw, flip));
	}
	/* passwords at the limits hash and match */
	char big[512];
	memset(big, 'q', 511);
	big[511] = '\0';
	const char *hb = portal_password_hash(A, big);
	CHECK(hb && portal_password_matches(A, big, hb));
	big[510] = 'r';
	CHECK(hb && !portal_password_matches(A, big, hb));
	const char *utf = "\xc3\xa9t\xc3\xa9 \xe2\x82\xac\xe2\x82\xac mots de passe";
	const char *hu = portal_password_hash(A, utf);
	CHECK(hu && portal_password_matches(A, utf, hu));
}

int main(void)
{
	A = arena_new(64 * 1024);
	test_email();
	test_password_rules();
	test_hash();
	arena_free(A);
	return check_done();
}
