#include <string.h>

#include "arena.h"
#include "base64.h"
#include "ids.h"
#include "sha256.h"
#include "check.h"

int main(void)
{
	CHECK(asset_id_valid("my-image.jpg"));
	CHECK(asset_id_valid("PHOTO.2.22.36.2.tif"));
	CHECK(asset_id_valid("a_b~c(1)"));
	CHECK(!asset_id_valid(""));
	CHECK(!asset_id_valid("a/b"));
	CHECK(!asset_id_valid(".."));
	CHECK(!asset_id_valid("a..b"));
	CHECK(!asset_id_valid("."));
	CHECK(!asset_id_valid("a b"));
	CHECK(!asset_id_valid("a\nb"));
	CHECK(!asset_id_valid("a\x01"));
	CHECK(!asset_id_valid("a'b"));
	CHECK(!asset_id_valid("a%b"));
	CHECK(!asset_id_valid("caf\xc3\xa9"));
	char long_id[302];
	memset(long_id, 'a', 300);
	long_id[300] = '\0';
	CHECK(!asset_id_valid(long_id));
	long_id[200] = '\0';
	CHECK(asset_id_valid(long_id));
	long_id[201] = '\0';
	long_id[200] = 'a';
	CHECK(!asset_id_valid(long_id));

	CHECK(customer_name_valid("example-customer"));
	CHECK(customer_name_valid("a.b_c-1"));
	CHECK(!customer_name_valid("has space"));
	CHECK(!customer_name_valid(""));
	CHECK(!customer_name_valid("x/y"));

	char u1[37], u2[37];
	uuid_make(u1);
	uuid_make(u2);
	CHECK(uuid_valid(u1) && uuid_valid(u2) && strcmp(u1, u2) != 0);
	CHECK(!uuid_valid("not-a-uuid"));
	CHECK(!uuid_valid("0123456789abcdef0123456789abcdef0123"));

	char h1[65], h2[65];
	random_hex(h1, 32);
	random_hex(h2, 32);
	CHECK(strlen(h1) == 64 && strcmp(h1, h2) != 0);

	char d[65];
	sha256_hex("", 0, d);
	CHECK_STR(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, d);
	CHECK_STR(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(m, strlen(m), d);
	CHECK_STR(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	struct arena *a = arena_new(1024);
	size_t n;
	CHECK_STR(base64_decode(a, "dXNlcjpwYXNz", &n), "user:pass");
	CHECK(n == 9);
	CHECK_STR(base64_decode(a, "YQ==", &n), "a");
	CHECK(base64_decode(a, "!!!!", &n) == NULL);
	arena_free(a);
	return check_done();
}
