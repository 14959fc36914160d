/* base64 (fcgi/base64.c), which carries direct uploads (the "file" field of
 * an asset PUT, api/upload.c) and dlcs-admin ingest's uploads: the RFC 4648
 * vectors, every length and byte value through a round trip (NULs
 * included), and what the decoder refuses: characters outside the
 * alphabet (the URL-safe ones, whitespace, NUL, 8-bit bytes), '=' before
 * the end and a length that cannot be base64. */
#include <string.h>

#include "arena.h"
#include "base64.h"
#include "check.h"

static struct arena *A;

static void vectors(void)
{
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
					    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		CHECK_STR(base64_encode(A, plain[i], strlen(plain[i])), coded[i]);
		size_t n = 99;
		char *d = base64_decode(A, coded[i], &n);
		CHECK(d && n == strlen(plain[i]) && memcmp(d, plain[i], n) == 0 && d[n] == '\0');
	}
	/* padding may be left out */
	size_t n;
	char *d = base64_decode(A, "Zm9vYg", &n);
	CHECK(d && n == 4 && memcmp(d, "foob", 4) == 0);
}

static void round_trips(void)
{
	unsigned char in[300];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 37 + 11); /* every byte value, 0 among them */
	int bad = 0;
	for (size_t len = 0; len <= sizeof in; len++) {
		char *e = base64_encode(A, in, len);
		size_t n = 0;
		char *d = e ? base64_decode(A, e, &n) : NULL;
		if (!e || strlen(e) != (len + 2) / 3 * 4 || !d || n != len ||
		    memcmp(d, in, len) != 0)
			bad++;
	}
	CHECK(bad == 0);
}

static void refused(void)
{
	static const char *const bad[] = {
		"Zm9v\nYmFy",               /* whitespace */
		"Zm9v YmFy",    "Zm9v-_Fy", /* the URL-safe alphabet */
		"Zm=9v",                    /* '=' before the end */
		"Zm9vY",                    /* 5 characters: no whole byte in the last */
		"Zm9v\xc3\xa9",             /* 8-bit bytes */
		"Zm9v\x7f",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(base64_decode(A, bad[i], NULL) == NULL);
	/* a NUL ends the text: what follows is not read (the JSON parser refuses
	 * \u0000 in strings, fcgi/json.c, so no upload is cut short by one) */
	size_t n;
	char *d = base64_decode(A, "Zm9v\0YmFy", &n);
	CHECK(d && n == 3);
}

int main(void)
{
	A = arena_new(1 << 16);
	vectors();
	round_trips();
	refused();
	arena_free(A);
	return check_done();
}
