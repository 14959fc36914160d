/* dlcs-admin status (admin/commands.h): what an admin checks first, one
 * section a line or a few: the database (reachable, its version, the
 * migrations applied of those in schema_dir), the ingest queue (waiting,
 * in hand, the oldest), the runners (live ones with their last heartbeat,
 * stale ones), the ingest errors of the last day (count and the latest
 * five), and storage (the recorded totals, and the filesystem of
 * storage_root). Each problem found is a line starting "PROBLEM", and makes
 * the exit status 1, so that a monitoring check can run it. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "str.h"
#include "admin/commands.h"
#include "asset/runners.h"
#include "asset/settings.h"
#include "banned.h"

enum { SQL_DATABASE, SQL_QUEUE, SQL_RUNNERS, SQL_ERROR_COUNT, SQL_ERRORS, SQL_STORAGE, SQL__MAX };
static const char *const SQL[SQL__MAX] = {
	[SQL_DATABASE] = "SELECT VERSION(), (SELECT COUNT(*) FROM schema_migrations),"
			 " (SELECT COALESCE(MAX(version), 0) FROM schema_migrations)",
	[SQL_QUEUE] = "SELECT COUNT(*), COALESCE(SUM(lease_until > UTC_TIMESTAMP(6)), 0),"
		      " COALESCE(TIMESTAMPDIFF(SECOND, MIN(enqueued), UTC_TIMESTAMP(6)), 0)"
		      " FROM ingest_queue",
	[SQL_RUNNERS] = "SELECT r.owner, TIMESTAMPDIFF(SECOND, r.heartbeat, UTC_TIMESTAMP(6)),"
			" TIMESTAMPDIFF(SECOND, r.started, UTC_TIMESTAMP(6)),"
			" (SELECT COUNT(*) FROM ingest_queue q WHERE q.lease_owner = r.owner"
			" AND q.lease_until > UTC_TIMESTAMP(6))"
			" FROM runners r ORDER BY r.owner LIMIT 200",
	/* No index on finished: a scan of assets, acceptable for a command
	 * an admin runs, not for a request. */
	[SQL_ERROR_COUNT] = "SELECT COUNT(*) FROM assets WHERE error <> ''"
			    " AND finished > UTC_TIMESTAMP(6) - INTERVAL 1 DAY",
	[SQL_ERRORS] = "SELECT customer_id, space_id, id, finished, LEFT(error, 160) FROM assets"
		       " WHERE error <> '' AND finished > UTC_TIMESTAMP(6) - INTERVAL 1 DAY"
		       " ORDER BY finished DESC LIMIT 5",
	/* space 0 holds each customer's totals */
	[SQL_STORAGE] = "SELECT (SELECT COALESCE(SUM(image_count), 0) FROM spaces),"
			" COALESCE(SUM(bytes), 0), COALESCE(SUM(thumbnail_bytes), 0)"
			" FROM customer_storage WHERE space_id = 0",
};

/* Text from the database (an origin's error message, an id) on a
 * terminal: control characters are shown as '?'. */
static void put_clean(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static const char *human_bytes(char *buf, size_t size, double bytes)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	int u = 0;
	while (bytes >= 1024 && u < 5) {
		bytes /= 1024;
		u++;
	}
	xsnprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
	return buf;
}

static const char *human_age(char *buf, size_t size, long long s)
{
	if (s < 120)
		xsnprintf(buf, size, "%lld s", s);
	else if (s < 7200)
		xsnprintf(buf, size, "%lld min", s / 60);
	else if (s < 172800)
		xsnprintf(buf, size, "%lld h", s / 3600);
	else
		xsnprintf(buf, size, "%lld days", s / 86400);
	return buf;
}

/* The NNN-*.sql files of schema_dir, as migrate applies them; -1 when the
 * directory cannot be read. */
static int schema_files(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len > 8 && strspn(e->d_name, "0123456789") == 3 && e->d_name[3] == '-' &&
		    strcmp(e->d_name + len - 4, ".sql") == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int status_database(struct db *db, struct arena *a, const struct config *cfg)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_DATABASE], "");
	if (!r || r->n != 1) {
		printf("PROBLEM database: reachable, but no schema: %s (run dlcs-admin migrate)\n",
		       db_last_msg(db));
		return 1;
	}
	const char *dir = setting_str(cfg, S_SCHEMA_DIR);
	int files = schema_files(dir);
	long long applied = db_int(r, 0, 1);
	printf("database  ok: MariaDB %s, %lld migrations applied (the last %03lld)",
	       db_str(r, 0, 0), applied, db_int(r, 0, 2));
	if (files < 0) {
		printf("; schema_dir %s unreadable\n", dir ? dir : "(unset)");
		return 0;
	}
	if (files > applied) {
		printf("\nPROBLEM database: %lld of the %d migrations in %s not applied (run "
		       "dlcs-admin "
		       "migrate)\n",
		       files - applied, files, dir);
		return 1;
	}
	printf(" of %d in schema_dir\n", files);
	return 0;
}

static void status_queue(struct db *db, struct arena *a)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_QUEUE], "");
	if (!r || r->n != 1) {
		printf("queue     unreadable: %s\n", db_last_msg(db));
		return;
	}
	char age[32];
	long long n = db_int(r, 0, 0);
	printf("queue     %lld item(s), %lld in a runner's hand", n, db_int(r, 0, 1));
	if (n)
		printf(", the oldest queued %s ago", human_age(age, sizeof age, db_int(r, 0, 2)));
	putchar('\n');
}

static int status_runners(struct db *db, struct arena *a)
{
	struct db_rows *r = db_query(db, a, SQL[SQL_RUNNERS], "");
	if (!r) {
		printf("PROBLEM runners: unreadable: %s (run dlcs-admin migrate)\n",
		       db_last_msg(db));
		return 1;
	}
	size_t live = 0;
	for (size_t i = 0; i < r->n; i++)
		if (db_int(r, i, 1) <= RUNNERS_STALE_SECONDS || db_int(r, i, 3) > 0)
			live++;
	printf("runners   %zu live, %zu stale (no heartbeat for %d s and nothing in hand)\n", live,
	       r->n - live, RUNNERS_STALE_SECONDS);
	for (size_t i = 0; i < r->n; i++) {
		char beat[32], up[32];
		bool is_live = db_int(r, i, 1) <= RUNNERS_STALE_SECONDS || db_int(r, i, 3) > 0;
		printf("  %-5s ", is_live ? "live" : "stale");
		put_clean(db_str(r, i, 0));
		printf("  last heartbeat %s ago, started %s ago, %lld item(s) in hand\n",
		       human_age(beat, sizeof beat, db_int(r, i, 1)),
		       human_age(up, sizeof up, db_int(r, i, 2)), db_int(r, i, 3));
	}
	if (live == 0) {
		printf("PROBLEM runners: none live: nothing is ingested (start dlcs-runner)\n");
		return 1;
	}
	return 0;
}

static void status_errors(struct db *db, struct arena *a)
{
	struct db_rows *n = db_query(db, a, SQL[SQL_ERROR_COUNT], "");
	struct db_rows *r = n ? db_query(db, a, SQL[SQL_ERRORS], "") : NULL;
	if (!r || n->n != 1) {
		printf("errors    unreadable: %s\n", db_last_msg(db));
		return;
	}
	printf("errors    %lld ingest error(s) in the last 24 h%s\n", db_int(n, 0, 0),
	       r->n ? "; the latest:" : "");
	for (size_t i = 0; i < r->n; i++) {
		printf("  %s  %lld/%lld/", db_time(a, r, i, 3), db_int(r, i, 0), db_int(r, i, 1));
		put_clean(db_str(r, i, 2));
		fputs("  ", stdout);
		put_clean(db_str(r, i, 4));
		putchar('\n');
	}
}

static int status_storage(struct db *db, struct arena *a, const struct config *cfg, bool db_up)
{
	char b1[32], b2[32], b3[32];
	struct db_rows *r = db_up ? db_query(db, a, SQL[SQL_STORAGE], "") : NULL;
	if (r && r->n == 1)
		printf("storage   %lld image(s) recorded: %s of originals and tiles, %s of "
		       "thumbnails\n",
		       db_int(r, 0, 0), human_bytes(b1, sizeof b1, (double)db_int(r, 0, 1)),
		       human_bytes(b2, sizeof b2, (double)db_int(r, 0, 2)));
	const char *root = setting_str(cfg, S_STORAGE_ROOT);
	struct statvfs fs;
	if (!root || statvfs(root, &fs) != 0) {
		printf("PROBLEM storage: storage_root %s cannot be read\n",
		       root ? root : "(unset)");
		return 1;
	}
	double total = (double)fs.f_blocks * fs.f_frsize;
	double avail = (double)fs.f_bavail * fs.f_frsize;
	printf("          %s: its filesystem %s used of %s, %s free (%.0f%%)\n", root,
	       human_bytes(b1, sizeof b1, total - (double)fs.f_bfree * fs.f_frsize),
	       human_bytes(b2, sizeof b2, total), human_bytes(b3, sizeof b3, avail),
	       total > 0 ? 100.0 * avail / total : 0.0);
	return 0;
}

int admin_status(struct db *db, const struct config *cfg)
{
	struct arena *a = arena_new(16 * 1024);
	int problems = 0;
	bool up = db_ensure(db) == DB_OK;
	if (!up) {
		printf("PROBLEM database: unreachable: %s\n", db_last_msg(db));
		problems++;
	} else {
		problems += status_database(db, a, cfg);
		status_queue(db, a);
		problems += status_runners(db, a);
		status_errors(db, a);
	}
	problems += status_storage(db, a, cfg, up);
	arena_free(a);
	return problems ? 1 : 0;
}
