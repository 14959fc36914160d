/* The MariaDB layer. One connection per worker process, opened lazily and
 * reopened after a loss; statements prepared once per connection and kept in
 * a small cache keyed by their SQL text. Every value is bound, never spliced. */
#include <errno.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "config.h"
#include "db.h"
#include "generation.h"
#include "log.h"
#include "str.h"
#include "banned.h"

#define STMT_CACHE_SLOTS 512
#define STMT_CACHE_MAX   384 /* beyond this the cache is emptied: bounded memory */
#define MAX_PARAMS       512
#define SCRATCH          256 /* result bytes fetched inline; longer values are fetched again */

struct stmt_slot {
	char *sql;
	uint64_t hash;
	MYSQL_STMT *st;
};

struct db {
	const struct config *cfg;
	MYSQL *conn;
	struct stmt_slot cache[STMT_CACHE_SLOTS];
	size_t ncached;
	int last_err;
	char last_msg[256];
	bool in_txn;
	int txn_err; /* first error inside the open transaction */
	/* The data generation (generation.h), NULL without a file. `dirty`: the
	 * open transaction ran a statement that may have changed data, so its
	 * commit must bump the generation. */
	struct generation *gen;
	bool dirty;
};

static void cache_clear(struct db *db)
{
	for (size_t i = 0; i < STMT_CACHE_SLOTS; i++) {
		if (db->cache[i].st)
			mysql_stmt_close(db->cache[i].st);
		free(db->cache[i].sql);
		db->cache[i].st = NULL;
		db->cache[i].sql = NULL;
	}
	db->ncached = 0;
}

static void disconnect(struct db *db)
{
	cache_clear(db);
	if (db->conn) {
		mysql_close(db->conn);
		db->conn = NULL;
	}
	db->in_txn = false;
	db->txn_err = DB_OK;
}

/* data_generation_file (by default {storage_root}/.data-generation); none
 * when it cannot be opened. Every program of a host reads the same
 * configuration, so they all map the same file. */
static struct generation *generation_for(const struct config *cfg)
{
	const char *path = setting_str(cfg, S_DATA_GENERATION_FILE);
	return path ? generation_open(path) : NULL;
}

struct db *db_new(const struct config *cfg)
{
	struct db *db = calloc(1, sizeof *db);
	if (!db)
		abort();
	db->cfg = cfg;
	db->gen = generation_for(cfg);
	return db;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	disconnect(db);
	generation_close(db->gen);
	free(db);
}

bool db_generation(struct db *db, struct gen_stamp *out)
{
	return db->gen && generation_read(db->gen, out);
}

int db_generation_bump(struct db *db)
{
	return db->gen && generation_bump(db->gen) ? DB_OK : DB_EFAIL;
}

/* ---- which statements change data ------------------------------------- */

/* The first keyword of a statement, after blanks, comments and opening
 * parentheses; "" when there is none. A MariaDB executable comment
 * (slash-star-bang) is not skipped: its text runs, so it is the statement. */
static const char *first_keyword(const char *s, size_t *len)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '(')
			s++;
		if (s[0] == '-' && s[1] == '-' && (s[2] == ' ' || s[2] == '\t' || s[2] == '\n')) {
			s += strcspn(s, "\n");
		} else if (s[0] == '#') {
			s += strcspn(s, "\n");
		} else if (s[0] == '/' && s[1] == '*' && s[2] != '!' && s[2] != 'M') {
			const char *end = strstr(s + 2, "*/");
			if (!end)
				break;
			s = end + 2;
		} else {
			break;
		}
	}
	size_t n = 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z'))
		n++;
	*len = n;
	return s;
}

static bool keyword_is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(k, want, n) == 0;
}

enum stmt_kind {
	STMT_READ, /* SELECT (also ... FOR UPDATE): changes no data */
	STMT_DML,  /* INSERT/UPDATE/DELETE/REPLACE: changed data iff it affected rows */
	STMT_OTHER /* anything else (DDL, CALL, ...): assumed to change data, and
		      to commit an open transaction implicitly */
};

static enum stmt_kind stmt_kind(const char *sql)
{
	size_t n;
	const char *k = first_keyword(sql, &n);
	if (keyword_is(k, n, "SELECT"))
		return STMT_READ;
	if (keyword_is(k, n, "INSERT") || keyword_is(k, n, "UPDATE") ||
	    keyword_is(k, n, "DELETE") || keyword_is(k, n, "REPLACE"))
		return STMT_DML;
	return STMT_OTHER;
}

static void bump(struct db *db)
{
	if (db->gen)
		generation_bump(db->gen);
}

/* After a statement ran (affected: its affected rows, or -1 when it failed
 * or they are unknown). A failed write may still have happened (the
 * connection died after the server ran it), so only a successful DML
 * statement that touched no row is known to have changed nothing. Outside a
 * transaction the change is committed now; inside one it is committed (or
 * not) by db_commit. */
static void note_statement(struct db *db, const char *sql, long long affected)
{
	enum stmt_kind kind = stmt_kind(sql);
	if (kind == STMT_READ || (kind == STMT_DML && affected == 0))
		return;
	if (db->in_txn) {
		db->dirty = true;
		if (kind == STMT_DML)
			return;
	}
	bump(db);
}

static void set_err(struct db *db, int err, const char *msg)
{
	db->last_err = err;
	xsnprintf(db->last_msg, sizeof db->last_msg, "%.200s", msg ? msg : "");
	if (db->in_txn && db->txn_err == DB_OK)
		db->txn_err = err;
}

static int classify(unsigned int code)
{
	switch (code) {
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		return DB_EDUP;
	case ER_ROW_IS_REFERENCED_2:
	case ER_NO_REFERENCED_ROW_2:
	case ER_ROW_IS_REFERENCED:
	case ER_NO_REFERENCED_ROW:
		return DB_EFK;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
		return DB_ELOCK;
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case CR_COMMANDS_OUT_OF_SYNC:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
		return DB_EDOWN;
	default:
		return DB_EFAIL;
	}
}

/* Records a statement's error; a lost connection is dropped so the next
 * db_ensure() opens a fresh one. */
static int fail_stmt(struct db *db, MYSQL_STMT *st)
{
	unsigned int code = st ? mysql_stmt_errno(st) : mysql_errno(db->conn);
	const char *msg = st ? mysql_stmt_error(st) : mysql_error(db->conn);
	int err = classify(code);
	set_err(db, err, msg);
	if (err == DB_EDOWN) {
		log_warn("database connection lost: %s", db->last_msg);
		bool was_txn = db->in_txn;
		disconnect(db);
		/* Keep the latch visible to db_commit of the transaction in hand. */
		if (was_txn) {
			db->in_txn = true;
			db->txn_err = DB_EDOWN;
		}
	} else if (err == DB_EFAIL) {
		log_err("database error %u: %s", code, db->last_msg);
	}
	return err;
}

/* The same for a statement that holds a result set: the result is released
 * before a lost connection closes the statement. */
static int fail_result(struct db *db, MYSQL_STMT *st)
{
	unsigned int code = mysql_stmt_errno(st);
	char msg[256];
	xsnprintf(msg, sizeof msg, "%.200s", mysql_stmt_error(st));
	mysql_stmt_free_result(st);
	int err = classify(code);
	set_err(db, err, msg);
	if (err == DB_EDOWN) {
		log_warn("database connection lost: %s", db->last_msg);
		bool was_txn = db->in_txn;
		disconnect(db);
		if (was_txn) {
			db->in_txn = true;
			db->txn_err = DB_EDOWN;
		}
	} else if (err == DB_EFAIL) {
		log_err("database error %u: %s", code, db->last_msg);
	}
	return err;
}

static int exec_simple(struct db *db, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(db->conn);
	if (!st)
		return DB_EFAIL;
	int rc = DB_OK;
	if (mysql_stmt_prepare(st, sql, strlen(sql)) || mysql_stmt_execute(st))
		rc = classify(mysql_stmt_errno(st));
	mysql_stmt_close(st);
	return rc;
}

int db_ensure(struct db *db)
{
	if (db->conn)
		return DB_OK;
	MYSQL *m = mysql_init(NULL);
	if (!m)
		abort();
	unsigned int timeout = (unsigned int)setting_int(db->cfg, S_DB_CONNECT_TIMEOUT);
	unsigned int rw_timeout = (unsigned int)setting_int(db->cfg, S_DB_RW_TIMEOUT);
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	const char *sock = setting_str(db->cfg, S_DB_SOCKET);
	const char *host = setting_str(db->cfg, S_DB_HOST);
	if (!host) /* "localhost": the client's word for its unix socket */
		host = sock ? "localhost" : "127.0.0.1";
	unsigned int port = (unsigned int)setting_int(db->cfg, S_DB_PORT);
	if (!mysql_real_connect(m, host, setting_str(db->cfg, S_DB_USER),
				setting_str(db->cfg, S_DB_PASSWORD),
				setting_str(db->cfg, S_DB_NAME), port, sock, CLIENT_FOUND_ROWS)) {
		set_err(db, DB_EDOWN, mysql_error(m));
		mysql_close(m);
		return DB_EDOWN;
	}
	db->conn = m;
	/* UTC timestamps everywhere; strict mode so a bad value is an error, not a
	 * silent truncation; READ COMMITTED keeps queue claims from gap-locking. */
	static const char *const session[] = {
		"SET time_zone = '+00:00'",
		"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
		"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
	};
	for (size_t i = 0; i < sizeof session / sizeof session[0]; i++)
		if (exec_simple(db, session[i]) != DB_OK) {
			set_err(db, DB_EDOWN, mysql_error(m));
			disconnect(db);
			return DB_EDOWN;
		}
	return DB_OK;
}

static MYSQL_STMT *stmt_get(struct db *db, const char *sql)
{
	uint64_t h = str_hash(sql);
	size_t i = (size_t)(h % STMT_CACHE_SLOTS);
	while (db->cache[i].sql) {
		if (db->cache[i].hash == h && strcmp(db->cache[i].sql, sql) == 0)
			return db->cache[i].st;
		i = (i + 1) % STMT_CACHE_SLOTS;
	}
	if (db->ncached >= STMT_CACHE_MAX) {
		cache_clear(db);
		i = (size_t)(h % STMT_CACHE_SLOTS);
	}
	MYSQL_STMT *st = mysql_stmt_init(db->conn);
	if (!st)
		abort();
	if (mysql_stmt_prepare(st, sql, strlen(sql))) {
		fail_stmt(db, st);
		mysql_stmt_close(st);
		return NULL;
	}
	db->cache[i].sql = strdup(sql);
	if (!db->cache[i].sql)
		abort();
	db->cache[i].hash = h;
	db->cache[i].st = st;
	db->ncached++;
	return st;
}

static size_t parse_varargs(const char *types, va_list ap, struct db_param *p)
{
	size_t n = 0;
	for (const char *t = types; t && *t; t++) {
		if (n >= MAX_PARAMS)
			abort();
		struct db_param *q = &p[n++];
		memset(q, 0, sizeof *q);
		q->type = *t;
		switch (*t) {
		case 'i':
			q->i = va_arg(ap, int);
			break;
		case 'l':
			q->i = va_arg(ap, long long);
			break;
		case 'u':
			q->i = (long long)va_arg(ap, unsigned long long);
			break;
		case 'd':
			q->d = va_arg(ap, double);
			break;
		case 's':
			q->s = va_arg(ap, const char *);
			q->len = q->s ? strlen(q->s) : 0;
			break;
		case 'S':
			q->s = va_arg(ap, const char *);
			q->len = va_arg(ap, size_t);
			break;
		case 'n':
			break;
		default:
			fprintf(stderr, "db: unknown bind type '%c'\n", *t);
			abort();
		}
	}
	return n;
}

/* Prepares (or reuses) and executes; NULL on error. */
static MYSQL_STMT *run(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	if (db->in_txn && db->txn_err != DB_OK) {
		db->last_err = db->txn_err;
		return NULL;
	}
	for (int attempt = 0;; attempt++) {
		if (!db->conn && db_ensure(db) != DB_OK) {
			if (db->in_txn)
				db->txn_err = DB_EDOWN;
			return NULL;
		}
		MYSQL_STMT *st = stmt_get(db, sql);
		if (st) {
			if (mysql_stmt_param_count(st) != n) {
				fprintf(stderr, "db: %zu binds for %lu placeholders in: %s\n", n,
					mysql_stmt_param_count(st), sql);
				abort();
			}
			MYSQL_BIND b[n ? n : 1];
			unsigned long lens[n ? n : 1];
			memset(b, 0, sizeof b);
			for (size_t i = 0; i < n; i++) {
				switch (p[i].type) {
				case 'i':
				case 'l':
				case 'u':
					b[i].buffer_type = MYSQL_TYPE_LONGLONG;
					b[i].buffer = (void *)&p[i].i;
					b[i].is_unsigned = p[i].type == 'u';
					break;
				case 'd':
					b[i].buffer_type = MYSQL_TYPE_DOUBLE;
					b[i].buffer = (void *)&p[i].d;
					break;
				case 's':
				case 'S':
					if (!p[i].s) {
						b[i].buffer_type = MYSQL_TYPE_NULL;
						break;
					}
					lens[i] = (unsigned long)p[i].len;
					b[i].buffer_type = MYSQL_TYPE_STRING;
					b[i].buffer = (void *)p[i].s;
					b[i].buffer_length = lens[i];
					b[i].length = &lens[i];
					break;
				default:
					b[i].buffer_type = MYSQL_TYPE_NULL;
					break;
				}
			}
			if ((n == 0 || !mysql_stmt_bind_param(st, b)) && !mysql_stmt_execute(st))
				return st;
			fail_stmt(db, st);
		}
		/* A connection that died between requests is reopened once, but
		 * only outside a transaction: inside one the work is lost and the
		 * caller must answer 503. */
		if (db->last_err != DB_EDOWN || db->in_txn || attempt > 0)
			return NULL;
	}
}

long long db_exec_params(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	MYSQL_STMT *st = run(db, sql, p, n);
	if (!st) {
		note_statement(db, sql, -1);
		return db->last_err ? db->last_err : DB_EFAIL;
	}
	my_ulonglong rows = mysql_stmt_affected_rows(st);
	/* Drain a result set if the statement produced one. */
	mysql_stmt_free_result(st);
	db->last_err = DB_OK;
	note_statement(db, sql, rows == (my_ulonglong)-1 ? -1 : (long long)rows);
	return rows == (my_ulonglong)-1 ? 0 : (long long)rows;
}

long long db_exec(struct db *db, const char *sql, const char *types, ...)
{
	struct db_param p[MAX_PARAMS];
	va_list ap;
	va_start(ap, types);
	size_t n = parse_varargs(types, ap, p);
	va_end(ap);
	return db_exec_params(db, sql, p, n);
}

static struct db_rows *query_rows(struct db *db, struct arena *a, const char *sql,
				  const struct db_param *p, size_t n)
{
	MYSQL_STMT *st = run(db, sql, p, n);
	if (!st)
		return NULL;
	struct db_rows *r = arena_alloc(a, sizeof *r);
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	if (!meta) {
		mysql_stmt_free_result(st);
		db->last_err = DB_OK;
		return r; /* no result set: zero rows */
	}
	size_t ncols = mysql_num_fields(meta);
	mysql_free_result(meta);
	if (mysql_stmt_store_result(st)) {
		fail_result(db, st);
		return NULL;
	}
	size_t nrows = (size_t)mysql_stmt_num_rows(st);
	r->n = 0;
	r->ncols = ncols;
	r->cells = arena_alloc(a, (nrows ? nrows : 1) * ncols * sizeof *r->cells);

	MYSQL_BIND b[ncols];
	unsigned long len[ncols];
	my_bool isnull[ncols], trunc[ncols];
	char scratch[ncols][SCRATCH];
	memset(b, 0, sizeof b);
	for (size_t c = 0; c < ncols; c++) {
		b[c].buffer_type = MYSQL_TYPE_STRING;
		b[c].buffer = scratch[c];
		b[c].buffer_length = SCRATCH;
		b[c].length = &len[c];
		b[c].is_null = &isnull[c];
		b[c].error = &trunc[c];
	}
	if (mysql_stmt_bind_result(st, b)) {
		fail_result(db, st);
		return NULL;
	}
	for (;;) {
		int rc = mysql_stmt_fetch(st);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc == 1) {
			fail_result(db, st);
			return NULL;
		}
		if (r->n >= nrows)
			break;
		struct db_cell *row = &r->cells[r->n * ncols];
		for (size_t c = 0; c < ncols; c++) {
			if (isnull[c]) {
				row[c].s = NULL;
				row[c].len = 0;
			} else if (len[c] < SCRATCH) {
				row[c].s = arena_strndup(a, scratch[c], len[c]);
				row[c].len = len[c];
			} else {
				/* Too long for the scratch buffer: fetch the column again
				 * straight into the arena. */
				char *big = arena_alloc(a, len[c] + 1);
				MYSQL_BIND one;
				unsigned long blen = 0;
				memset(&one, 0, sizeof one);
				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = big;
				one.buffer_length = len[c] + 1;
				one.length = &blen;
				if (mysql_stmt_fetch_column(st, &one, (unsigned int)c, 0)) {
					fail_result(db, st);
					return NULL;
				}
				big[len[c]] = '\0';
				row[c].s = big;
				row[c].len = len[c];
			}
		}
		r->n++;
	}
	mysql_stmt_free_result(st);
	db->last_err = DB_OK;
	return r;
}

struct db_rows *db_query_params(struct db *db, struct arena *a, const char *sql,
				const struct db_param *p, size_t n)
{
	struct db_rows *r = query_rows(db, a, sql, p, n);
	/* A statement with a result set may still write (INSERT ... RETURNING):
	 * unless it is a SELECT, it counts as a change whatever happened. */
	note_statement(db, sql, -1);
	return r;
}

struct db_rows *db_query(struct db *db, struct arena *a, const char *sql, const char *types, ...)
{
	struct db_param p[MAX_PARAMS];
	va_list ap;
	va_start(ap, types);
	size_t n = parse_varargs(types, ap, p);
	va_end(ap);
	return db_query_params(db, a, sql, p, n);
}

unsigned long long db_insert_id(struct db *db)
{
	return db->conn ? (unsigned long long)mysql_insert_id(db->conn) : 0;
}

int db_begin(struct db *db)
{
	if (db->in_txn) {
		fputs("db: nested transaction\n", stderr);
		abort();
	}
	if (db_ensure(db) != DB_OK)
		return DB_EDOWN;
	if (mysql_autocommit(db->conn, 0)) {
		int err = classify(mysql_errno(db->conn));
		set_err(db, err, mysql_error(db->conn));
		if (err == DB_EDOWN)
			disconnect(db);
		return err;
	}
	db->in_txn = true;
	db->txn_err = DB_OK;
	db->dirty = false;
	return DB_OK;
}

static void txn_end(struct db *db)
{
	db->in_txn = false;
	db->txn_err = DB_OK;
	db->dirty = false;
	if (db->conn)
		mysql_autocommit(db->conn, 1);
}

int db_commit(struct db *db)
{
	if (!db->in_txn)
		return DB_EFAIL;
	int err = db->txn_err;
	if (err != DB_OK || !db->conn) {
		if (db->conn)
			mysql_rollback(db->conn);
		txn_end(db);
		db->last_err = err ? err : DB_EDOWN;
		return db->last_err;
	}
	if (mysql_commit(db->conn)) {
		err = classify(mysql_errno(db->conn));
		set_err(db, err, mysql_error(db->conn));
		mysql_rollback(db->conn);
		/* A COMMIT whose answer was lost may have happened. */
		if (db->dirty)
			bump(db);
		txn_end(db);
		if (err == DB_EDOWN)
			disconnect(db);
		db->last_err = err;
		return err;
	}
	/* After the commit, never before: a reader that took the generation
	 * before this point is invalidated; one that takes it after sees the
	 * committed rows. */
	if (db->dirty)
		bump(db);
	txn_end(db);
	return DB_OK;
}

void db_rollback(struct db *db)
{
	if (!db->in_txn)
		return;
	if (db->conn)
		mysql_rollback(db->conn);
	txn_end(db);
}

bool db_in_txn(const struct db *db)
{
	return db->in_txn;
}

int db_last_err(const struct db *db)
{
	return db->last_err;
}

const char *db_last_msg(const struct db *db)
{
	return db->last_msg;
}

static const struct db_cell *cell(const struct db_rows *r, size_t row, size_t col)
{
	if (!r || row >= r->n || col >= r->ncols) {
		fprintf(stderr, "db: cell (%zu,%zu) out of range\n", row, col);
		abort();
	}
	return &r->cells[row * r->ncols + col];
}

const char *db_str(const struct db_rows *r, size_t row, size_t col)
{
	return cell(r, row, col)->s;
}

long long db_int(const struct db_rows *r, size_t row, size_t col)
{
	const char *s = cell(r, row, col)->s;
	return s ? strtoll(s, NULL, 10) : 0;
}

bool db_isnull(const struct db_rows *r, size_t row, size_t col)
{
	return cell(r, row, col)->s == NULL;
}

const char *db_time(struct arena *a, const struct db_rows *r, size_t row, size_t col)
{
	const char *s = cell(r, row, col)->s;
	if (!s)
		return NULL;
	char *t = arena_printf(a, "%sZ", s);
	char *sp = strchr(t, ' ');
	if (sp)
		*sp = 'T';
	return t;
}
