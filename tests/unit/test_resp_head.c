/* The response-head writer and the HTTP grammar it relies on
 * (fcgi/resp_head.c, fcgi/http_syntax.c): what may never reach a client's
 * header block, and media types as mediaType accepts them. */
#include <stdlib.h>

#include "arena.h"
#include "check.h"
#include "http_syntax.h"
#include "req.h"
#include "resp_head.h"
#include "str.h"

static void test_media_types(void)
{
	const char *good[] = {
		"image/jpeg",
		"application/pdf",
		"IMAGE/JPEG",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"image/svg+xml",
		"text/plain; charset=utf-8",
		"text/plain;charset=utf-8",
		"text/plain ; charset=utf-8 ; format=flowed",
		"text/plain; charset=\"utf-8\"",
		"text/plain; x=\"a \\\"quoted\\\" \\\\ value\"",
		"video/mp4; codecs=\"avc1.42E01E, mp4a.40.2\"",
		"x/y",
		"a!#$&-^_.+/b!#$&-^_.+",
		"image/jpeg  ",
		NULL,
	};
	for (const char **p = good; *p; p++) {
		if (!media_type_valid(*p))
			fprintf(stderr, "  refused: %s\n", *p);
		CHECK(media_type_valid(*p));
	}
	const char *bad[] = {
		"",
		"image",
		"image/",
		"/jpeg",
		"image/jpeg/x",
		" image/jpeg",
		"image /jpeg",
		"image/ jpeg",
		"image/jpeg;",
		"image/jpeg; ",
		"image/jpeg; a",
		"image/jpeg; a=",
		"image/jpeg; =b",
		"image/jpeg; a=b c",
		"image/jpeg; a=\"unterminated",
		"image/jpeg; a=\"bad\\",
		"image/jpeg; a=\"ctl\x01\"",
		"image/jpeg\r\nX-Accel-Redirect: /dlcs-storage/1/1/x/original",
		"application/octet-stream\r\nSet-Cookie: p=1",
		"image/jpeg\n",
		"image/jpeg\r",
		"image/jpeg\v",
		"image/jpeg\t\x7f",
		"image/jp\xc3\xa9g",
		"image/jpeg; a=\"\xc3\xa9\"",
		".image/jpeg",
		"image/+jpeg",
		"*/*",
		"image/*",
		NULL,
	};
	for (const char **p = bad; *p; p++) {
		if (media_type_valid(*p))
			fprintf(stderr, "  accepted: %s\n", *p);
		CHECK(!media_type_valid(*p));
	}
	/* RFC 6838: names of up to 127 characters, 255 bytes in all */
	char name[200];
	memset(name, 'a', sizeof name);
	name[127] = '\0';
	char *t = malloc(300);
	snprintf(t, 300, "%s/x", name);
	CHECK(media_type_valid(t));
	name[127] = 'a';
	name[128] = '\0';
	snprintf(t, 300, "%s/x", name);
	CHECK(!media_type_valid(t));
	memset(t, 'a', 299);
	t[100] = '/';
	t[299] = '\0';
	CHECK(!media_type_valid(t));
	free(t);
	CHECK(!media_type_valid(NULL));
}

static void test_tokens_and_values(void)
{
	CHECK(http_token_valid("X-Served-By"));
	CHECK(http_token_valid("a!#$%&'*+-.^_`|~9"));
	CHECK(!http_token_valid(""));
	CHECK(!http_token_valid(NULL));
	CHECK(!http_token_valid("X Served"));
	CHECK(!http_token_valid("X:Y"));
	CHECK(!http_token_valid("X\r\nY"));
	CHECK(!http_token_valid("\xc3\xa9"));
	CHECK(http_field_value_valid(""));
	CHECK(http_field_value_valid("a\tb \"c\" \xc3\xa9"));
	for (int c = 1; c < 0x20; c++) {
		char v[4] = {'a', (char)c, 'b', 0};
		CHECK(http_field_value_valid(v) == (c == '\t'));
	}
	CHECK(!http_field_value_valid("a\x7f"));
	CHECK(!http_field_value_valid(NULL));
}

static const char *write_head(struct arena *a, const struct resp_head *h, const char **refused)
{
	struct sbuf b;
	sbuf_init(&b, a);
	*refused = resp_head_write(&b, h);
	return b.buf ? b.buf : "";
}

static void test_writer(void)
{
	struct arena *a = arena_new(4096);
	const char *refused;
	struct kv ok[] = {{"Location", "https://e.org/x"}, {"ETag", "\"abc\""}};
	struct resp_head h = {.status = 201,
			      .content_type = "image/jpeg",
			      .content_length = 12,
			      .has_body = true,
			      .headers = ok,
			      .nheaders = 2};
	CHECK_STR(write_head(a, &h, &refused),
		  "Status: 201 Created\r\nContent-Type: image/jpeg\r\nContent-Length: 12\r\n"
		  "Location: https://e.org/x\r\nETag: \"abc\"\r\n"
		  "Access-Control-Allow-Origin: *\r\n\r\n");
	CHECK(refused == NULL);

	/* 304: no entity headers; a given CORS header replaces the default */
	struct kv cors[] = {{"access-control-allow-origin", "https://a.org"}};
	h = (struct resp_head){.status = 304, .headers = cors, .nheaders = 1};
	CHECK_STR(write_head(a, &h, &refused),
		  "Status: 304 Not Modified\r\naccess-control-allow-origin: https://a.org\r\n\r\n");

	/* finding 1: a stored media type that would add headers of its own */
	h = (struct resp_head){
		.status = 200,
		.content_type = "application/octet-stream\r\nX-Accel-Redirect: /dlcs-storage/1/1/"
				"x/original\r\nSet-Cookie: p=1; Path=/\r\n\r\n",
		.has_body = true};
	CHECK_STR(write_head(a, &h, &refused), "");
	CHECK_STR(refused, "Content-Type");
	const char *lone[] = {"a\nb", "a\rb", "a\vb", "a\0b", "a\x1b", "a\x7f"};
	for (size_t i = 0; i < sizeof lone / sizeof *lone; i++) {
		struct kv v[] = {{"Location", "/ok"}, {"X-Accel-Redirect", lone[i]}};
		h = (struct resp_head){
			.status = 200, .has_body = true, .headers = v, .nheaders = 2};
		const char *out = write_head(a, &h, &refused);
		if (i == 3) { /* the NUL ends the C string: what is left is harmless */
			CHECK(refused == NULL && strstr(out, "X-Accel-Redirect: a\r\n"));
		} else {
			CHECK_STR(out, "");
			CHECK_STR(refused, "X-Accel-Redirect");
		}
	}
	const char *bad_names[] = {"X-A\r\nSet-Cookie", "X A",         "X:A", "", "Status",
				   "content-length",    "Content-Type"};
	for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
		struct kv v[] = {{bad_names[i], "1"}};
		h = (struct resp_head){
			.status = 200, .has_body = true, .headers = v, .nheaders = 1};
		CHECK_STR(write_head(a, &h, &refused), "");
		CHECK_STR(refused, bad_names[i]);
	}
	arena_free(a);
}

int main(void)
{
	test_media_types();
	test_tokens_and_values();
	test_writer();
	return check_done();
}
