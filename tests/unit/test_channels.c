/* The pure rules of delivery channels (handlers/channel_rules.c) and the
 * stored-JSON reader channels_has (handlers/channels.c). */
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "asset/channel_rules.h"
#include "api/channels.h"
#include "check.h"

/* policy_data_check on a JSON text: NULL when valid, else the reason.
 * Malformed text gives "malformed" so a typo in a test shows up. */
static const char *data_check(enum channel c, const char *json)
{
	yajl_val v = yajl_tree_parse(json, NULL, 0);
	const char *why;

	if (!v)
		return "malformed";
	why = policy_data_check(c, v);
	yajl_tree_free(v);
	return why;
}

static void test_names(void)
{
	CHECK(channel_parse("iiif-img") == CH_IIIF_IMG);
	CHECK(channel_parse("thumbs") == CH_THUMBS);
	CHECK(channel_parse("thumbnail") == CH_THUMBS);
	CHECK(channel_parse("iiif-av") == CH_IIIF_AV);
	CHECK(channel_parse("file") == CH_FILE);
	CHECK(channel_parse("none") == CH_NONE);
	CHECK(channel_parse("default") == CH_DEFAULT);
	CHECK(channel_parse("Thumbs") == -1);
	CHECK(channel_parse("iiif") == -1);
	CHECK(channel_parse("") == -1);
	CHECK(channel_parse(NULL) == -1);
	CHECK_STR(channel_name(CH_THUMBS), "thumbs");
	CHECK_STR(channel_name(CH_IIIF_AV), "iiif-av");

	/* The enum is in name order, so walking it sorts the output. */
	for (int c = 1; c < CH_DEFAULT; c++)
		CHECK(strcmp(channel_name(c - 1), channel_name(c)) < 0);

	CHECK(channel_has_policies(CH_IIIF_IMG) && channel_has_policies(CH_THUMBS) &&
	      channel_has_policies(CH_IIIF_AV) && channel_has_policies(CH_FILE));
	CHECK(!channel_has_policies(CH_NONE) && !channel_has_policies(CH_DEFAULT));
	CHECK(channel_customer_policies(CH_THUMBS) && channel_customer_policies(CH_IIIF_AV));
	CHECK(!channel_customer_policies(CH_IIIF_IMG) && !channel_customer_policies(CH_FILE) &&
	      !channel_customer_policies(CH_NONE));
}

static void test_glob(void)
{
	CHECK(media_glob_match("image/*", "image/jpeg"));
	CHECK(media_glob_match("image/*", "IMAGE/JPEG"));
	CHECK(media_glob_match("Image/TIFF", "image/tiff"));
	CHECK(!media_glob_match("image/*", "video/mp4"));
	CHECK(!media_glob_match("image/*", "image"));
	CHECK(media_glob_match("image/*", "image/"));
	CHECK(media_glob_match("*", "application/pdf"));
	CHECK(media_glob_match("*/*", "audio/wav"));
	CHECK(media_glob_match("*/mp4", "video/mp4"));
	CHECK(media_glob_match("*/mp4", "audio/mp4"));
	CHECK(!media_glob_match("*/mp4", "audio/mp3"));
	CHECK(media_glob_match("image/t?ff", "image/tiff"));
	CHECK(!media_glob_match("image/t?ff", "image/tff"));
	CHECK(media_glob_match("application/*+json", "application/ld+json"));
	CHECK(!media_glob_match("application/*+json", "application/json"));
	CHECK(media_glob_match("a*b*c", "aXXbYYbZZc"));
	CHECK(!media_glob_match("a*b*c", "aXXbYYbZZ"));
	CHECK(media_glob_match("**", ""));
	CHECK(!media_glob_match("image/jpeg", "image/jpeg2000"));
	CHECK(!media_glob_match("image/jpeg2000", "image/jpeg"));
	CHECK(!media_glob_match(NULL, "image/jpeg"));
	CHECK(!media_glob_match("*", NULL));
	/* A pattern that backtracks a lot still answers (and quickly). */
	CHECK(!media_glob_match("*a*a*a*a*a*a*a*a*b",
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_media(void)
{
	CHECK(media_is("image/jpeg", "image"));
	CHECK(media_is("Image/JPEG", "image"));
	CHECK(!media_is("imagex/jpeg", "image"));
	CHECK(!media_is("image", "image"));
	CHECK(!media_is(NULL, "image"));

	CHECK(channel_media_ok(CH_IIIF_IMG, "image/tiff"));
	CHECK(channel_media_ok(CH_THUMBS, "image/png"));
	CHECK(!channel_media_ok(CH_IIIF_IMG, "video/mp4"));
	CHECK(!channel_media_ok(CH_THUMBS, "application/pdf"));
	CHECK(channel_media_ok(CH_IIIF_AV, "audio/mpeg"));
	CHECK(channel_media_ok(CH_IIIF_AV, "video/mp4"));
	CHECK(!channel_media_ok(CH_IIIF_AV, "image/jpeg"));
	CHECK(channel_media_ok(CH_FILE, "image/jpeg"));
	CHECK(channel_media_ok(CH_FILE, "application/pdf"));
	CHECK(channel_media_ok(CH_NONE, "anything"));

	CHECK(channel_pattern_ok(CH_IIIF_IMG, "image/*"));
	CHECK(channel_pattern_ok(CH_IIIF_IMG, "image/tiff"));
	CHECK(channel_pattern_ok(CH_IIIF_IMG, "*/*"));
	CHECK(channel_pattern_ok(CH_IIIF_IMG, "*"));
	CHECK(channel_pattern_ok(CH_THUMBS, "im?ge/*"));
	CHECK(!channel_pattern_ok(CH_IIIF_IMG, "audio/*"));
	CHECK(!channel_pattern_ok(CH_THUMBS, "application/pdf"));
	CHECK(!channel_pattern_ok(CH_IIIF_IMG, "image"));
	CHECK(channel_pattern_ok(CH_IIIF_AV, "audio/*"));
	CHECK(channel_pattern_ok(CH_IIIF_AV, "Video/mp4"));
	CHECK(!channel_pattern_ok(CH_IIIF_AV, "image/*"));
	CHECK(channel_pattern_ok(CH_FILE, "image/*"));
	CHECK(channel_pattern_ok(CH_NONE, "application/*"));

	CHECK(media_pattern_valid("image/*"));
	CHECK(media_pattern_valid("application/vnd.ms-excel"));
	CHECK(!media_pattern_valid(""));
	CHECK(!media_pattern_valid("image/ jpeg"));
	CHECK(!media_pattern_valid("image/jpeg\n"));
	CHECK(!media_pattern_valid("image/\xc3\xa9"));
	CHECK(!media_pattern_valid(NULL));
	char longp[300];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	CHECK(!media_pattern_valid(longp));
	longp[255] = '\0';
	CHECK(media_pattern_valid(longp));
}

static void test_policy_names(void)
{
	CHECK(policy_name_valid("default"));
	CHECK(policy_name_valid("my-custom-thumbs"));
	CHECK(policy_name_valid("a.b_c-1"));
	CHECK(!policy_name_valid("My-Thumbs"));
	CHECK(!policy_name_valid("has space"));
	CHECK(!policy_name_valid("a/b"));
	CHECK(!policy_name_valid(""));
	CHECK(!policy_name_valid("."));
	CHECK(!policy_name_valid(".."));
	CHECK(!policy_name_valid(NULL));

	CHECK_STR(policy_ref_name("default"), "default");
	CHECK_STR(policy_ref_name("https://api.example/customers/2/deliveryChannelPolicies/thumbs/"
				  "my-thumbs"),
		  "my-thumbs");
	CHECK_STR(policy_ref_name("https://api.example/x/"), "");
	CHECK_STR(policy_ref_name(NULL), "");
}

static void test_thumb_sizes(void)
{
	CHECK(thumb_size_valid("!1024,1024"));
	CHECK(thumb_size_valid("!400,300"));
	CHECK(thumb_size_valid("2048,"));
	CHECK(thumb_size_valid(",250"));
	CHECK(thumb_size_valid("^!1024,1024"));
	CHECK(thumb_size_valid("^,250"));
	CHECK(thumb_size_valid("^880,"));
	CHECK(thumb_size_valid("!65535,1"));

	CHECK(!thumb_size_valid("max"));
	CHECK(!thumb_size_valid("^max"));
	CHECK(!thumb_size_valid("full"));
	CHECK(!thumb_size_valid("pct:50"));
	CHECK(!thumb_size_valid("100,100")); /* w,h without '!' can distort */
	CHECK(!thumb_size_valid("!100,"));
	CHECK(!thumb_size_valid("!,100"));
	CHECK(!thumb_size_valid(","));
	CHECK(!thumb_size_valid(""));
	CHECK(!thumb_size_valid("^"));
	CHECK(!thumb_size_valid("!^100,100"));
	CHECK(!thumb_size_valid("^^100,"));
	CHECK(!thumb_size_valid("0,"));
	CHECK(!thumb_size_valid(",0"));
	CHECK(!thumb_size_valid("!0,100"));
	CHECK(!thumb_size_valid("0100,"));
	CHECK(!thumb_size_valid("65536,"));
	CHECK(!thumb_size_valid("99999999999999999999,"));
	CHECK(!thumb_size_valid("-100,"));
	CHECK(!thumb_size_valid("+100,"));
	CHECK(!thumb_size_valid("100, "));
	CHECK(!thumb_size_valid(" 100,"));
	CHECK(!thumb_size_valid("100,,"));
	CHECK(!thumb_size_valid("!100,100,"));
	CHECK(!thumb_size_valid("1e3,"));
	CHECK(!thumb_size_valid(NULL));
}

static void test_policy_data(void)
{
	CHECK(!data_check(CH_THUMBS, "[\"!1024,1024\",\"!400,400\",\"!200,200\",\"!100,100\"]"));
	CHECK(!data_check(CH_THUMBS,
			  "[ \"2048,\", \"1336,\", \"880,\", \"^!1024,1024\", \"^!400,400\", "
			  "\"^,250\" ]"));
	CHECK(data_check(CH_THUMBS, "[]") != NULL);
	CHECK(data_check(CH_THUMBS, "[\"max\"]") != NULL);
	CHECK(data_check(CH_THUMBS, "[\"!100,100\", 5]") != NULL);
	CHECK(data_check(CH_THUMBS, "\"!100,100\"") != NULL);
	CHECK(data_check(CH_THUMBS, "{\"a\":\"!100,100\"}") != NULL);

	CHECK(!data_check(CH_IIIF_AV, "[\"audio-mp3-128\"]"));
	CHECK(!data_check(CH_IIIF_AV, "[\"video-mp4-720p\",\"audio-mp3-128\"]"));
	CHECK(data_check(CH_IIIF_AV, "[\"audio-mp3-128\",\"audio-mp3-128\"]") != NULL);
	CHECK(data_check(CH_IIIF_AV, "[\"mystery-preset\"]") != NULL);
	CHECK(data_check(CH_IIIF_AV, "[\"\"]") != NULL);
	CHECK(data_check(CH_IIIF_AV, "[]") != NULL);

	CHECK(data_check(CH_IIIF_IMG, "[\"anything\"]") != NULL);
	CHECK(data_check(CH_FILE, "[\"anything\"]") != NULL);
	CHECK(data_check(CH_NONE, "[\"anything\"]") != NULL);
}

static void test_family(void)
{
	CHECK(channels_family(CH_BIT(CH_FILE), "image/jpeg") == 'F');
	CHECK(channels_family(CH_BIT(CH_IIIF_IMG), "image/jpeg") == 'I');
	CHECK(channels_family(CH_BIT(CH_THUMBS), "image/jpeg") == 'I');
	CHECK(channels_family(CH_BIT(CH_IIIF_IMG) | CH_BIT(CH_THUMBS) | CH_BIT(CH_FILE),
			      "image/jpeg") == 'I');
	CHECK(channels_family(CH_BIT(CH_IIIF_AV), "video/mp4") == 'T');
	CHECK(channels_family(CH_BIT(CH_IIIF_AV) | CH_BIT(CH_FILE), "audio/wav") == 'T');
	CHECK(channels_family(CH_BIT(CH_NONE), "image/jpeg") == 'I');
	CHECK(channels_family(CH_BIT(CH_NONE), "audio/mpeg") == 'T');
	CHECK(channels_family(CH_BIT(CH_NONE), "Video/MP4") == 'T');
	CHECK(channels_family(CH_BIT(CH_NONE), "application/pdf") == 'F');
	CHECK(channels_family(0, "text/plain") == 'F');
}

static void test_has(void)
{
	const char *stored = "[{\"channel\":\"iiif-img\",\"policy\":\"default\"},"
			     "{\"channel\":\"thumbs\",\"policy\":\"default\"}]";

	CHECK(channels_has(stored, "iiif-img"));
	CHECK(channels_has(stored, "thumbs"));
	CHECK(channels_has(stored, "thumbnail"));
	CHECK(!channels_has(stored, "file"));
	CHECK(!channels_has(stored, "bogus"));
	CHECK(!channels_has("[]", "iiif-img"));
	CHECK(!channels_has("not json", "iiif-img"));
	CHECK(!channels_has("{\"channel\":\"iiif-img\"}", "iiif-img"));
	CHECK(!channels_has(NULL, "iiif-img"));
}

int main(void)
{
	test_names();
	test_glob();
	test_media();
	test_policy_names();
	test_thumb_sizes();
	test_policy_data();
	test_family();
	test_has();
	return check_done();
}
