/* Grants (handlers/asset/grant.c) in a temporary storage tree: where the
 * link is and what it reaches, which cookies and ids make none, a session
 * that ends within the bucket, a change or a logout that overtook the
 * decision, and every way grants go (an asset's change, a session, a
 * customer, old buckets). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "check.h"
#include "files.h"
#include "asset/auth_session.h"
#include "asset/grant.h"
#include "asset/store.h"

static struct arena *A;
static char root[64];

/* A cookie value of the current form: 96 hex digits, its sid first. */
static const char *cookie_of(char c)
{
	char *v = arena_alloc(A, AUTH_COOKIE_HEX + 1);
	memset(v, c, AUTH_COOKIE_HEX);
	v[AUTH_COOKIE_HEX] = 0;
	return v;
}

static long long bucket(void)
{
	return (long long)time(NULL) / GRANT_BUCKET_SECONDS;
}

static const char *grant_path(const char *cookie, long long b, int s, const char *id)
{
	return arena_printf(A, "%s/" GRANT_DIR "/5/%s/%lld/%d/%s", root, cookie, b, s, id);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static struct timespec now_plus(int seconds)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += seconds;
	return t;
}

static long long far(void)
{
	return (long long)time(NULL) + 3600;
}

static void make_asset(int s, const char *id)
{
	CHECK(files_mkdirs(A, arena_printf(A, "%s/5/%d/%s/tiles", root, s, id)) == 0);
}

static void test_make(void)
{
	const char *k = cookie_of('a');
	struct timespec t = now_plus(0);
	CHECK(grant_make(A, root, 5, k, far(), 3, "r.1", &t) == 1);
	const char *link = grant_path(k, bucket(), 3, "r.1");
	struct stat st, sa;
	CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
	/* it reaches the asset's own directory */
	CHECK(stat(arena_printf(A, "%s/tiles", link), &st) == 0 &&
	      stat(arena_printf(A, "%s/5/3/r.1/tiles", root), &sa) == 0 && st.st_ino == sa.st_ino);
	/* the levels above the cookies are not listed by others */
	CHECK(stat(arena_printf(A, "%s/" GRANT_DIR, root), &st) == 0 &&
	      (st.st_mode & 0777) == 0711);
	CHECK(stat(arena_printf(A, "%s/" GRANT_DIR "/5", root), &st) == 0 &&
	      (st.st_mode & 0777) == 0711);
	CHECK(grant_make(A, root, 5, k, far(), 3, "r.1", &t) == 1); /* there */
	/* never in the public tree */
	CHECK(!exists(arena_printf(A, "%s/public/iiif-img/5/3/r.1", root)));
}

static void test_refused(void)
{
	struct timespec t = now_plus(0);
	long long end = (bucket() + 1) * GRANT_BUCKET_SECONDS;
	const char *k = cookie_of('b');
	/* the session ends before nginx would stop using the grant */
	CHECK(grant_make(A, root, 5, k, end, 3, "r.1", &t) == 0);
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/5/%s", root, k)));
	CHECK(grant_make(A, root, 5, k, end + 1, 3, "r.1", &t) == 1);
	/* cookies that are not of the current form, ids that are not ids */
	const char *bad[] = {
		"", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"../../../../../../../../../../../../../../../../../../../../../../../.."
		"../../../../../../../../",
		/* CR LF, an encoded "../", invalid UTF-8, each in a 96-byte value */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcd\r\n",
		"%2e%2e%2f0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
		"abcdef0123456789abcdef0123456",
		"\xc3\x28\xa0\xa1", NULL};
	char upper[AUTH_COOKIE_HEX + 1], short95[AUTH_COOKIE_HEX], slash[AUTH_COOKIE_HEX + 1];
	memset(upper, 'A', AUTH_COOKIE_HEX);
	upper[AUTH_COOKIE_HEX] = 0;
	memset(short95, 'c', AUTH_COOKIE_HEX - 1);
	short95[AUTH_COOKIE_HEX - 1] = 0;
	memset(slash, 'c', AUTH_COOKIE_HEX);
	slash[40] = '/';
	slash[AUTH_COOKIE_HEX] = 0;
	for (size_t i = 0; bad[i]; i++)
		CHECK(grant_make(A, root, 5, bad[i], far(), 3, "r.1", &t) == 0);
	CHECK(grant_make(A, root, 5, upper, far(), 3, "r.1", &t) == 0);
	CHECK(grant_make(A, root, 5, short95, far(), 3, "r.1", &t) == 0);
	CHECK(grant_make(A, root, 5, slash, far(), 3, "r.1", &t) == 0);
	CHECK(grant_make(A, root, 5, NULL, far(), 3, "r.1", &t) == 0);
	const char *k2 = cookie_of('d');
	CHECK(grant_make(A, root, 5, k2, far(), 3, "..", &t) == 0);
	CHECK(grant_make(A, root, 5, k2, far(), 3, "a/b", &t) == 0);
	CHECK(grant_make(A, root, 0, k2, far(), 3, "r.1", &t) == 0);
	CHECK(grant_make(A, root, 5, k2, far(), -1, "r.1", &t) == 0);
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/5/%s", root, k2)));
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/0", root)));
}

static void test_asset_changed(void)
{
	const char *k1 = cookie_of('1'), *k2 = cookie_of('2');
	make_asset(3, "chg");
	struct timespec before = now_plus(0);
	CHECK(grant_make(A, root, 5, k1, far(), 3, "chg", &before) == 1);
	CHECK(grant_make(A, root, 5, k2, far(), 3, "chg", &before) == 1);
	CHECK(grant_make(A, root, 5, k1, far(), 3, "r.1", &before) == 1);
	const char *granted = arena_printf(A, "%s/restricted/granted/5/3/chg", root);
	CHECK(exists(granted));
	CHECK(grant_asset_changed(A, root, 5, 3, "chg") == 0);
	CHECK(!exists(granted));
	/* gone from every session, the session's other grants kept */
	CHECK(!exists(grant_path(k1, bucket(), 3, "chg")));
	CHECK(!exists(grant_path(k2, bucket(), 3, "chg")));
	CHECK(exists(grant_path(k1, bucket(), 3, "r.1")));
	/* a decision from before the change is not made a grant */
	CHECK(grant_make(A, root, 5, k1, far(), 3, "chg", &before) == 0);
	CHECK(!exists(grant_path(k1, bucket(), 3, "chg")));
	/* one taken after it is */
	struct timespec after = now_plus(2);
	CHECK(grant_make(A, root, 5, k1, far(), 3, "chg", &after) == 1);
	CHECK(exists(granted));
	/* an asset never granted: its change finds nothing to remove */
	CHECK(grant_asset_changed(A, root, 5, 3, "never") == 0);
	CHECK(exists(arena_printf(A, "%s/restricted/changed/5/3/never", root)));
	/* open: the mark goes */
	CHECK(grant_asset_open(A, root, 5, 3, "chg") == 0);
	CHECK(!exists(arena_printf(A, "%s/restricted/changed/5/3/chg", root)));
}

static void test_sessions(void)
{
	const char *k1 = cookie_of('e'), *k2 = cookie_of('f');
	struct timespec t = now_plus(0);
	CHECK(grant_make(A, root, 5, k1, far(), 3, "r.1", &t) == 1);
	CHECK(grant_make(A, root, 5, k2, far(), 3, "r.1", &t) == 1);
	/* a logout: the session's tree goes, the other's stays */
	CHECK(grant_revoke_session(A, root, 5, k1) == 0);
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/5/%s", root, k1)));
	CHECK(exists(grant_path(k2, bucket(), 3, "r.1")));
	CHECK(grant_revoke_session(A, root, 5, k1) == 0); /* again: nothing there */
	/* a decision from before the logout: its revocation marker */
	CHECK(auth_sid_revoke(A, root, arena_strndup(A, k1, AUTH_SID_HEX)) == 0);
	CHECK(grant_make(A, root, 5, k1, far(), 3, "r.1", &t) == 0);
	CHECK(!exists(grant_path(k1, bucket(), 3, "r.1")));
	/* a role's deletion: every session of the customer */
	CHECK(grant_revoke_customer(A, root, 5) == 0);
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/5", root)));
	CHECK(grant_make(A, root, 5, k2, far(), 3, "r.1", &t) == 1); /* made again */
	struct stat st;
	CHECK(stat(arena_printf(A, "%s/" GRANT_DIR "/5", root), &st) == 0 &&
	      (st.st_mode & 0777) == 0711);
}

static void test_buckets(void)
{
	const char *k = cookie_of('9'), *idle = cookie_of('8');
	long long b = bucket();
	const char *old = grant_path(k, b - 5, 3, "r.1");
	const char *prev = grant_path(k, b - 1, 3, "r.1");
	CHECK(files_link_replace(A, "x", old) == 0 && files_link_replace(A, "x", prev) == 0);
	CHECK(files_link_replace(A, "x", grant_path(idle, b - 7, 3, "r.1")) == 0);
	CHECK(files_mkdirs(A, arena_printf(A, "%s/" GRANT_DIR "/.trash-1-x/y", root)) == 0);
	struct timespec t = now_plus(0);
	/* a new bucket: the session's buckets before the previous one go */
	CHECK(grant_make(A, root, 5, k, far(), 3, "r.1", &t) == 1);
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/5/%s/%lld", root, k, b - 5)));
	CHECK(exists(prev));
	/* the sweep: idle sessions' old buckets, emptied sessions, trash */
	grant_sweep(A, root, 100);
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/5/%s", root, idle)));
	CHECK(!exists(arena_printf(A, "%s/" GRANT_DIR "/.trash-1-x", root)));
	CHECK(exists(grant_path(k, b, 3, "r.1")) && exists(prev));
}

int main(void)
{
	A = arena_new(1 << 16);
	umask(022);
	if (!check_tmpdir(root, sizeof root, "test-grants"))
		return 1;
	make_asset(3, "r.1");
	test_make();
	test_refused();
	test_asset_changed();
	test_sessions();
	test_buckets();
	files_rm_rf(root);
	arena_free(A);
	return check_done();
}
