/* MariaDB through prepared statements only. Parameters are bound from a type
 * string, one letter per '?':
 *   'i' int   'l' long long   'u' unsigned long long   'd' double
 *   's' const char * (NULL binds SQL NULL)   'S' const char *, size_t (bytes + length)
 *   'n' SQL NULL (consumes no argument)
 * Results are copied into the caller's arena as text cells, so a row outlives
 * the statement. Statements are prepared once per connection and cached by
 * their SQL text. The connection is (re)opened lazily by db_ensure(); a lost
 * connection is reported as DB_EDOWN and reopened at the next db_ensure(). */
#ifndef DLCS_DB_H
#define DLCS_DB_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct config;
struct db;
struct gen_stamp;

enum db_err {
	DB_OK = 0,
	DB_EFAIL = -1, /* any other server or client error */
	DB_EDUP = -2,  /* duplicate key: the caller answers 409 */
	DB_EDOWN = -3, /* connection lost or server unavailable: 503 */
	DB_EFK = -4,   /* foreign key violation */
	DB_ELOCK = -5, /* deadlock or lock wait timeout: retryable */
};

struct db_cell {
	const char *s; /* NUL-terminated text, NULL for SQL NULL */
	size_t len;
};

struct db_rows {
	size_t n, ncols;
	struct db_cell *cells; /* n * ncols, row-major */
};

struct db *db_new(const struct config *cfg);
void db_free(struct db *db);
/* Connects if needed; DB_OK or DB_EDOWN. Called by the core before each request. */
int db_ensure(struct db *db);

/* Runs a statement that returns no rows: affected rows (>= 0; for UPDATE the
 * rows matched, not only those changed: the connection uses
 * CLIENT_FOUND_ROWS) or an enum db_err. */
long long db_exec(struct db *db, const char *sql, const char *types, ...);
/* Runs a query: rows in the arena, or NULL on error (see db_last_err). */
struct db_rows *db_query(struct db *db, struct arena *a, const char *sql, const char *types, ...);
/* The same with parameters built at run time (the asset query builder). */
struct db_param {
	char type; /* as in the type string: 'i' and 'l' use i, 'd' d, 's'/'S' s+len, 'n' none */
	long long i;
	double d;
	const char *s;
	size_t len;
};
long long db_exec_params(struct db *db, const char *sql, const struct db_param *p, size_t n);
struct db_rows *db_query_params(struct db *db, struct arena *a, const char *sql,
				const struct db_param *p, size_t n);

/* The AUTO_INCREMENT id of the last insert on this connection. */
unsigned long long db_insert_id(struct db *db);

/* Transactions. Inside one, the first failed statement latches: every later
 * call fails fast and db_commit rolls back and returns that error. A request
 * handler never rolls back: it returns its status (req_fail, req_db_fail)
 * and the core (serve.c) rolls back whatever it left open. db_rollback is
 * for the core and for code outside a request (the runner, dlcs-admin, and
 * functions that end a transaction they began themselves). */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);
bool db_in_txn(const struct db *db);

int db_last_err(const struct db *db);
const char *db_last_msg(const struct db *db);

/* The data generation (generation.h) this connection's writes move: the
 * file data_generation_file, default {storage_root}/.data-generation. Every
 * statement that is not a SELECT counts as a write, except an INSERT,
 * UPDATE, DELETE or REPLACE known to have affected no row; a write bumps the
 * generation once it is committed (at db_commit, or at once outside a
 * transaction), and also when the outcome is unknown (an error, a lost
 * COMMIT). A rolled-back transaction changes nothing and bumps nothing.
 * db_generation reads it: false when there is no usable file. */
bool db_generation(struct db *db, struct gen_stamp *out);
/* Bumps it by hand (dlcs-admin bump-generation, after edits made outside
 * this layer); DB_OK or DB_EFAIL. */
int db_generation_bump(struct db *db);

/* Cell accessors; out-of-range row/col abort (a programming error). */
const char *db_str(const struct db_rows *r, size_t row, size_t col); /* NULL for SQL NULL */
long long db_int(const struct db_rows *r, size_t row, size_t col);   /* 0 for NULL */
bool db_isnull(const struct db_rows *r, size_t row, size_t col);
/* A DATETIME cell as ISO 8601 UTC ("2020-01-17T15:36:58.602360Z"), NULL for NULL. */
const char *db_time(struct arena *a, const struct db_rows *r, size_t row, size_t col);

#endif
