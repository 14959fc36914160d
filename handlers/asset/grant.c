/* Grants of restricted assets to sessions, as links nginx follows
 * (asset/grant.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "ids.h"
#include "asset/auth_session.h"
#include "asset/grant.h"
#include "banned.h"

/* A change marked less than this before a decision began may not have
 * been seen by it: file times come from the kernel's coarse clock. */
#define MARK_MARGIN_NS 1000000000LL

static long long bucket_now(void)
{
	return (long long)time(NULL) / GRANT_BUCKET_SECONDS;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

static const char *changed_mark(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/restricted/changed/%d/%d/%s", root, c, s, id);
}

/* Written before an asset's first grant and taken by the change that
 * revokes them: an asset that was never granted (every new ingest) costs
 * its change no look at the sessions. */
static const char *granted_mark(struct arena *a, const char *root, int c, int s, const char *id)
{
	return arena_printf(a, "%s/restricted/granted/%d/%d/%s", root, c, s, id);
}

/* mkdir, an existing directory being fine. */
static int dir_make(const char *path, mode_t mode)
{
	return mkdir(path, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* True when the asset's access changed after (or just before) `decided`. */
static bool changed_since(struct arena *a, const char *root, int c, int s, const char *id,
			  const struct timespec *decided)
{
	struct stat st;
	if (lstat(changed_mark(a, root, c, s, id), &st) != 0)
		return false;
	long long mark = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	long long since = (long long)decided->tv_sec * 1000000000LL + decided->tv_nsec;
	return mark > since - MARK_MARGIN_NS;
}

/* True when the session of cookie was ended (its revocation marker). */
static bool session_revoked(struct arena *a, const char *root, const char *cookie)
{
	struct stat st;
	return lstat(arena_printf(a, "%s/" AUTH_REVOKED_DIR "/%.*s", root, AUTH_SID_HEX, cookie),
		     &st) == 0;
}

/* Deletes the session's buckets older than the one before `bucket`: no
 * request finds them any more. */
static void buckets_drop_old(struct arena *a, const char *session_dir, long long bucket)
{
	DIR *d = opendir(session_dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (all_digits(e->d_name) && strtoll(e->d_name, NULL, 10) < bucket - 1)
			files_rm_rf(arena_printf(a, "%s/%s", session_dir, e->d_name));
	closedir(d);
}

int grant_make(struct arena *a, const char *root, int c, const char *cookie, long long expires_at,
	       int s, const char *id, const struct timespec *decided)
{
	if (!root || c < 1 || s < 0 || !cookie || !hex_lower_n(cookie, AUTH_COOKIE_HEX) ||
	    !asset_id_valid(id))
		return 0;
	long long bucket = bucket_now();
	/* nginx uses it until the bucket's end: the session must outlive that */
	if (expires_at <= (bucket + 1) * GRANT_BUCKET_SECONDS)
		return 0;
	const char *top = arena_printf(a, "%s/" GRANT_DIR, root);
	const char *cdir = arena_printf(a, "%s/%d", top, c);
	const char *sdir = arena_printf(a, "%s/%s", cdir, cookie);
	const char *bdir = arena_printf(a, "%s/%lld", sdir, bucket);
	const char *space_dir = arena_printf(a, "%s/%d", bdir, s);
	const char *link = arena_printf(a, "%s/%s", space_dir, id);
	struct stat st;
	if (lstat(link, &st) == 0)
		return 1;
	/* The levels above the cookies are traversed, never listed. Each
	 * level is made here, none by a mkdir -p: a level a revocation has
	 * just renamed away fails this grant, never comes back listable. */
	if (dir_make(top, 0711) != 0 || dir_make(cdir, 0711) != 0 || dir_make(sdir, 0755) != 0)
		return -1;
	if (mkdir(bdir, 0755) == 0)
		buckets_drop_old(a, sdir, bucket);
	else if (errno != EEXIST)
		return -1;
	if (dir_make(space_dir, 0755) != 0 ||
	    files_link_swap(a, arena_printf(a, "../../../../../%d/%d/%s", c, s, id), link) != 0)
		return -1;
	/* After the link: a change that took the mark before this has its
	 * mark checked below, one after it finds this mark and the link. */
	const char *granted = granted_mark(a, root, c, s, id);
	if (lstat(granted, &st) != 0 && files_touch(a, granted) != 0) {
		unlink(link);
		return -1;
	}
	/* A change that overtook the decision may have removed the grants
	 * before this one was made: its mark tells, and the link goes. */
	if (changed_since(a, root, c, s, id, decided) || session_revoked(a, root, cookie))
		return unlink(link) != 0 && errno != ENOENT ? -1 : 0;
	return 1;
}

/* Removes asset s/id's link from every bucket of every session under
 * customer_dir. 0 or -1. */
static int revoke_asset(const char *customer_dir, int s, const char *id)
{
	DIR *d = opendir(customer_dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	int rc = 0;
	char path[PATH_MAX];
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!hex_lower_n(e->d_name, AUTH_COOKIE_HEX))
			continue;
		int sfd = openat(dirfd(d), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		DIR *sd = sfd >= 0 ? fdopendir(sfd) : NULL;
		if (!sd) {
			if (sfd >= 0)
				close(sfd);
			if (errno != ENOENT)
				rc = -1;
			continue;
		}
		struct dirent *b;
		while ((b = readdir(sd))) {
			if (!all_digits(b->d_name))
				continue;
			if (snprintf(path, sizeof path, "%s/%d/%s", b->d_name, s, id) >=
				    (int)sizeof path ||
			    (unlinkat(dirfd(sd), path, 0) != 0 && errno != ENOENT &&
			     errno != ENOTDIR))
				rc = -1;
		}
		closedir(sd);
	}
	closedir(d);
	return rc;
}

int grant_asset_changed(struct arena *a, const char *root, int c, int s, const char *id)
{
	/* the changed mark first: a grant made meanwhile is undone by its
	 * maker, so only the grants made before it need looking for */
	if (files_touch(a, changed_mark(a, root, c, s, id)) != 0)
		return -1;
	if (unlink(granted_mark(a, root, c, s, id)) != 0)
		return errno == ENOENT ? 0 : -1;
	return revoke_asset(arena_printf(a, "%s/" GRANT_DIR "/%d", root, c), s, id);
}

int grant_asset_open(struct arena *a, const char *root, int c, int s, const char *id)
{
	return unlink(changed_mark(a, root, c, s, id)) != 0 && errno != ENOENT ? -1 : 0;
}

/* Takes dir out of nginx's sight in one rename, then deletes it. */
static int tree_revoke(struct arena *a, const char *root, const char *dir)
{
	char rnd[9];
	random_hex(rnd, 4);
	const char *trash =
		arena_printf(a, "%s/" GRANT_DIR "/.trash-%d-%s", root, (int)getpid(), rnd);
	if (rename(dir, trash) != 0)
		return errno == ENOENT ? 0 : -1;
	return files_rm_rf(trash);
}

int grant_revoke_session(struct arena *a, const char *root, int c, const char *cookie)
{
	if (!root || !cookie || !hex_lower_n(cookie, AUTH_COOKIE_HEX))
		return 0;
	return tree_revoke(a, root, arena_printf(a, "%s/" GRANT_DIR "/%d/%s", root, c, cookie));
}

int grant_revoke_customer(struct arena *a, const char *root, int c)
{
	if (!root)
		return 0;
	return tree_revoke(a, root, arena_printf(a, "%s/" GRANT_DIR "/%d", root, c));
}

/* Sweeps one customer's sessions; returns how many trees it deleted. */
static int sweep_customer(struct arena *a, const char *cdir, long long bucket, int max)
{
	DIR *d = opendir(cdir);
	if (!d)
		return 0;
	int done = 0;
	struct dirent *e;
	while (done < max && (e = readdir(d))) {
		if (!hex_lower_n(e->d_name, AUTH_COOKIE_HEX))
			continue;
		const char *sdir = arena_printf(a, "%s/%s", cdir, e->d_name);
		DIR *sd = opendir(sdir);
		if (!sd)
			continue;
		struct dirent *b;
		while (done < max && (b = readdir(sd)))
			if (all_digits(b->d_name) && strtoll(b->d_name, NULL, 10) < bucket - 1) {
				files_rm_rf(arena_printf(a, "%s/%s", sdir, b->d_name));
				done++;
			}
		closedir(sd);
		rmdir(sdir); /* only when nothing is left in it */
	}
	closedir(d);
	return done;
}

void grant_sweep(struct arena *a, const char *root, int max)
{
	if (!root)
		return;
	const char *top = arena_printf(a, "%s/" GRANT_DIR, root);
	DIR *d = opendir(top);
	if (!d)
		return;
	long long bucket = bucket_now();
	int done = 0;
	struct dirent *e;
	while (done < max && (e = readdir(d))) {
		if (all_digits(e->d_name))
			done += sweep_customer(a, arena_printf(a, "%s/%s", top, e->d_name), bucket,
					       max - done);
		else if (strncmp(e->d_name, ".trash-", 7) == 0)
			/* left by a process that died while deleting it */
			done += files_rm_rf(arena_printf(a, "%s/%s", top, e->d_name)) == 0;
	}
	closedir(d);
}
