/* Stored manifests (handlers/asset/manifest_store.c) in a temporary storage
 * tree: what the two halves of a key depend on, the ETag, where a file goes
 * and with which mode, when a stored file may be sent (and is marked used),
 * and what the sweep deletes: idle files, temporary files, the least
 * recently used beyond the size, never one used in the last two minutes. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "check.h"
#include "files.h"
#include "asset/manifest_store.h"

static struct arena *A;
static char root[64];

static struct mstore_key key(const char *const *parts, size_t n, const char *versions)
{
	struct mstore_key k;
	mstore_key_request(A, &k, 7, parts, n);
	mstore_key_state(&k, versions);
	return k;
}

static const char *path_of(const struct mstore_key *k)
{
	return arena_printf(A, "%s/%s", root, mstore_rel(A, k));
}

static time_t mtime_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mtime : (time_t)-1;
}

static void set_age(const char *path, long seconds)
{
	struct timespec ts[2] = {{time(NULL) - seconds, 0}, {time(NULL) - seconds, 0}};
	CHECK(utimensat(AT_FDCWD, path, ts, 0) == 0);
}

static void test_keys(void)
{
	const char *p1[] = {"3", "http://h", "/iiif-resource/7/q/a", "7", "q", "s1=p1"};
	const char *p2[] = {"3", "http://h", "/iiif-resource/7/q/a", "7", "q", "s1=p1"};
	const char *p3[] = {"2", "http://h", "/iiif-resource/7/q/a", "7", "q", "s1=p1"};
	const char *p4[] = {"3", "http://h", "/iiif-resource/7/q/a", "1", "q", "s1=p1"};
	const char *ab_c[] = {"ab", "c"}, *a_bc[] = {"a", "bc"};
	const char *null_part[] = {"x", NULL}, *empty_part[] = {"x", ""};
	struct mstore_key k1 = key(p1, 6, "5,9,12"), k2 = key(p2, 6, "5,9,12");
	CHECK(memcmp(&k1, &k2, sizeof k1) == 0);
	CHECK(strlen(k1.request) == 64 && strlen(k1.rows) == 64 && k1.c == 7);
	struct mstore_key k3 = key(p3, 6, "5,9,12"), k4 = key(p4, 6, "5,9,12");
	CHECK(strcmp(k1.request, k3.request) != 0 && strcmp(k1.request, k4.request) != 0);
	CHECK(strcmp(k1.rows, k3.rows) == 0);
	struct mstore_key k5 = key(p1, 6, "5,9,13"), k6 = key(p1, 6, "5,9");
	CHECK(strcmp(k1.rows, k5.rows) != 0 && strcmp(k1.rows, k6.rows) != 0);
	CHECK(strcmp(k1.request, k5.request) == 0);
	struct mstore_key ka = key(ab_c, 2, ""), kb = key(a_bc, 2, "");
	CHECK(strcmp(ka.request, kb.request) != 0);
	struct mstore_key kn = key(null_part, 2, ""), ke = key(empty_part, 2, "");
	CHECK(strcmp(kn.request, ke.request) != 0);
	/* the customer is part of the request half */
	struct mstore_key kc;
	mstore_key_request(A, &kc, 8, p1, 6);
	CHECK(strcmp(kc.request, k1.request) != 0);
	/* the ETag: quoted, 'm' and 32 hex digits, another for either half */
	const char *e1 = mstore_etag(A, &k1);
	CHECK(strlen(e1) == 35 && e1[0] == '"' && e1[1] == 'm' && e1[34] == '"');
	CHECK_STR(mstore_etag(A, &k2), e1);
	CHECK(strcmp(mstore_etag(A, &k3), e1) != 0 && strcmp(mstore_etag(A, &k5), e1) != 0);
	CHECK_STR(mstore_rel(A, &k1),
		  arena_printf(A, MSTORE_DIR "/7/%s/%s.json", k1.request, k1.rows));
}

static void test_put_and_ready(void)
{
	const char *p[] = {"3", "http://h", "/p"};
	struct mstore_key k = key(p, 3, "1,2");
	const char *path = path_of(&k);
	CHECK(!mstore_ready(A, root, &k));
	mode_t old = umask(077);
	CHECK(mstore_put(A, root, &k, "{\"a\":1}", 7) == 0);
	umask(old);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644 && st.st_size == 7);
	CHECK(mstore_ready(A, root, &k));
	/* replaced in one rename; no temporary file left */
	CHECK(mstore_put(A, root, &k, "{\"a\":22}", 8) == 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 8);
	const char *dir = arena_printf(A, "%s/" MSTORE_DIR "/7/%s", root, k.request);
	CHECK(files_rm_rf(arena_printf(A, "%s/.tmp-none", dir)) == 0);
	/* used a while ago: sent, and marked used now */
	set_age(path, MSTORE_TOUCH_SECONDS + 30);
	CHECK(mstore_ready(A, root, &k));
	CHECK(mtime_of(path) >= time(NULL) - 2);
	/* unused for longer than the API sends: made again instead */
	set_age(path, MSTORE_SEND_SECONDS + 1);
	CHECK(!mstore_ready(A, root, &k));
	CHECK(mtime_of(path) < time(NULL) - MSTORE_SEND_SECONDS);
	unlink(path);
	CHECK(!mstore_ready(A, root, &k));
	/* a directory where the file would be is not sent */
	CHECK(files_mkdirs(A, path) == 0);
	CHECK(!mstore_ready(A, root, &k));
	CHECK(rmdir(path) == 0);
	/* a storage root that is not a directory: -1, nothing else */
	const char *file_root = arena_printf(A, "%s/plain-file", root);
	FILE *f = fopen(file_root, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK(mstore_put(A, file_root, &k, "x", 1) == -1);
	CHECK(!mstore_ready(A, file_root, &k));
	unlink(file_root);
}

static void test_sweep(void)
{
	const char *pa[] = {"a"}, *pb[] = {"b"}, *pc[] = {"c"}, *pd[] = {"d"};
	char big[1000];
	memset(big, 'x', sizeof big);
	struct mstore_key idle = key(pa, 1, "1"), old = key(pb, 1, "2"), older = key(pc, 1, "3"),
			  fresh = key(pd, 1, "4");
	CHECK(mstore_put(A, root, &idle, big, sizeof big) == 0);
	CHECK(mstore_put(A, root, &old, big, sizeof big) == 0);
	CHECK(mstore_put(A, root, &older, big, sizeof big) == 0);
	CHECK(mstore_put(A, root, &fresh, big, sizeof big) == 0);
	set_age(path_of(&idle), MSTORE_IDLE_SECONDS + 1);
	set_age(path_of(&older), MSTORE_EVICT_SECONDS + 80);
	set_age(path_of(&old), MSTORE_EVICT_SECONDS + 30);
	set_age(path_of(&fresh), 10);
	const char *stale_tmp =
		arena_printf(A, "%s/" MSTORE_DIR "/7/%s/.tmp-1-deadbeef", root, fresh.request);
	FILE *f = fopen(stale_tmp, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	set_age(stale_tmp, MSTORE_IDLE_SECONDS + 1);
	/* another process sweeping: nothing done */
	int held = open(arena_printf(A, "%s/" MSTORE_DIR "/.sweep.lock", root), O_RDWR | O_CREAT,
			0644);
	CHECK(held >= 0 && flock(held, LOCK_EX) == 0);
	CHECK(mstore_sweep(A, root, 0) == 0);
	CHECK(access(path_of(&idle), F_OK) == 0);
	close(held);
	/* within the size: the idle file and the stale temporary file only */
	CHECK(mstore_sweep(A, root, 1LL << 30) == 2);
	CHECK(access(path_of(&idle), F_OK) != 0 && access(stale_tmp, F_OK) != 0);
	CHECK(access(path_of(&old), F_OK) == 0 && access(path_of(&older), F_OK) == 0);
	/* the idle file's directory went with it */
	CHECK(access(arena_printf(A, "%s/" MSTORE_DIR "/7/%s", root, idle.request), F_OK) != 0);
	/* over the size: least recently used first, down to it */
	CHECK(mstore_sweep(A, root, 2500) == 1);
	CHECK(access(path_of(&older), F_OK) != 0 && access(path_of(&old), F_OK) == 0);
	/* never one used within MSTORE_EVICT_SECONDS, whatever the size */
	CHECK(mstore_sweep(A, root, 0) == 1);
	CHECK(access(path_of(&old), F_OK) != 0 && access(path_of(&fresh), F_OK) == 0);
	CHECK(mstore_sweep(A, root, 0) == 0);
	CHECK(mstore_ready(A, root, &fresh));
	/* nothing to sweep, no root */
	CHECK(mstore_sweep(A, NULL, 0) == 0);
	CHECK(mstore_sweep(A, "/nonexistent-dlcs-root", 0) == 0);
}

int main(void)
{
	A = arena_new(0);
	if (!check_tmpdir(root, sizeof root, "mstore"))
		return 1;
	test_keys();
	test_put_and_ready();
	test_sweep();
	files_rm_rf(root);
	arena_free(A);
	return check_done();
}
