#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "str.h"
#include "banned.h"

static const char SQL_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
				" version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,"
				" applied DATETIME(6) NOT NULL) ENGINE=InnoDB";
static const char SQL_LOCK[] = "SELECT GET_LOCK('dlcs_migrate', 60)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('dlcs_migrate')";
static const char SQL_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = ?";
static const char SQL_RECORD[] =
	"INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, UTC_TIMESTAMP(6))";

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(struct arena *a, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct sbuf b;
	sbuf_init(&b, a);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_add(&b, chunk, n);
	fclose(f);
	return b.buf;
}

/* Splits a migration into statements at ';' ending a line, dropping "--"
 * comment lines. Migrations are our own files, so this simple rule holds:
 * no statement in them puts ";" at the end of a line inside a string. */
static int run_file(struct db *db, struct arena *a, const char *path)
{
	char *text = slurp(a, path);
	if (!text) {
		log_err("migrate: cannot read %s", path);
		return -1;
	}
	struct sbuf stmt;
	sbuf_init(&stmt, a);
	char *line = text;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *p = line;
		while (p < line + len && (*p == ' ' || *p == '\t'))
			p++;
		if (!(p + 1 < line + len && p[0] == '-' && p[1] == '-')) {
			sbuf_add(&stmt, line, len);
			sbuf_addc(&stmt, '\n');
			size_t e = len;
			while (e &&
			       (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r'))
				e--;
			if (e && line[e - 1] == ';') {
				stmt.buf[stmt.len - 1 - (len - e) - 1] = ' ';
				if (db_exec(db, stmt.buf, "") < 0) {
					log_err("migrate: %s failed: %s", path, db_last_msg(db));
					return -1;
				}
				sbuf_init(&stmt, a);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int migrate_apply(struct db *db, const char *dir)
{
	struct arena *a = arena_new(64 * 1024);
	int rc = -1;
	if (db_ensure(db) != DB_OK) {
		log_err("migrate: database unavailable: %s", db_last_msg(db));
		goto out;
	}
	if (db_exec(db, SQL_TABLE, "") < 0)
		goto out;
	struct db_rows *lock = db_query(db, a, SQL_LOCK, "");
	if (!lock || lock->n != 1 || db_int(lock, 0, 0) != 1) {
		log_err("migrate: could not take the migration lock");
		goto out;
	}
	DIR *d = opendir(dir);
	if (!d) {
		log_err("migrate: cannot open %s", dir);
		goto unlock;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 8 || strcmp(e->d_name + len - 4, ".sql") != 0 || e->d_name[0] < '0' ||
		    e->d_name[0] > '9')
			continue;
		names = arena_realloc(a, names, n * sizeof *names, (n + 1) * sizeof *names);
		names[n++] = arena_strdup(a, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int version = atoi(names[i]);
		struct db_rows *done = db_query(db, a, SQL_APPLIED, "i", version);
		if (!done) {
			rc = -1;
			break;
		}
		if (done->n)
			continue;
		const char *path = arena_printf(a, "%s/%s", dir, names[i]);
		log_info("migrate: applying %s", names[i]);
		if (run_file(db, a, path) != 0 ||
		    db_exec(db, SQL_RECORD, "is", version, names[i]) < 0)
			rc = -1;
	}
unlock:
	db_query(db, a, SQL_UNLOCK, "");
out:
	arena_free(a);
	return rc;
}
