/* The data generation (fcgi/generation.c) and the rule by which the
 * database layer bumps it (fcgi/db.c, included for its static functions):
 * which statements count as writes, and when a write is committed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../fcgi/db.c"
#include "config.h"
#include "generation.h"
#include "check.h"

static char dir[64];

/* A path in the test directory; the last eight stay valid. */
static const char *tmp_path(const char *name)
{
	static char paths[8][128];
	static unsigned next;
	char *path = paths[next++ % 8];
	xsnprintf(path, sizeof paths[0], "%s/%s", dir, name);
	return path;
}

static uint64_t value_of(struct generation *g)
{
	struct gen_stamp s = {0, 0};
	CHECK(generation_read(g, &s));
	return s.value;
}

static void test_counter(void)
{
	const char *path = tmp_path("gen");
	struct generation *a = generation_open(path);
	struct gen_stamp s0, s1, s2;
	CHECK(generation_read(a, &s0));
	CHECK(s0.value == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 4096);

	/* A second mapping (another process, in effect) sees every bump. */
	struct generation *b = generation_open(path);
	CHECK(generation_bump(a));
	CHECK(value_of(b) == 1);
	CHECK(generation_bump(b));
	CHECK(generation_read(a, &s1));
	CHECK(s1.value == 2 && s1.map == s0.map);
	CHECK(!gen_stamp_eq(&s0, &s1));
	CHECK(generation_read(a, &s2));
	CHECK(gen_stamp_eq(&s1, &s2));

	/* Processes bumping at once lose nothing (atomic add on the shared page). */
	uint64_t before = value_of(a);
	enum { N = 20000 };
	pid_t pid = fork();
	if (pid == 0) {
		struct generation *c = generation_open(path);
		for (int i = 0; i < N; i++)
			generation_bump(c);
		generation_close(c);
		_exit(0);
	}
	for (int i = 0; i < N; i++)
		generation_bump(a);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(value_of(b) == before + 2 * N);

	/* Deleted: the next read maps a new file, under a new map number, so a
	 * stamp taken before can never match again, even at the same value. */
	CHECK(generation_read(a, &s1));
	CHECK(unlink(path) == 0);
	CHECK(generation_read(a, &s2));
	CHECK(s2.map != s1.map);
	CHECK(s2.value == 0);
	CHECK(!gen_stamp_eq(&s1, &s2));
	/* ...and a writer still holding the old file follows to the new one. */
	CHECK(generation_bump(b));
	CHECK(value_of(a) == 1);

	/* Replaced by rename: the same. */
	const char *other = tmp_path("other");
	int fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(generation_read(a, &s1));
	CHECK(rename(other, path) == 0);
	CHECK(generation_read(a, &s2));
	CHECK(s2.map != s1.map && s2.value == 0);
	CHECK(stat(path, &st) == 0 && st.st_size == 4096);
	generation_close(a);
	generation_close(b);
	unlink(path);
}

static void test_unusable(void)
{
	/* No such directory: reads fail (nothing may be cached), bumps fail. */
	struct generation *g = generation_open("/nonexistent-dir/x/.data-generation");
	struct gen_stamp s;
	CHECK(!generation_read(g, &s));
	CHECK(!generation_bump(g));
	generation_close(g);

	/* A directory is not a counter. */
	g = generation_open(dir);
	CHECK(!generation_read(g, &s));
	generation_close(g);

	/* A file that becomes unusable stops the reads, and recovers. */
	const char *sub = tmp_path("sub");
	CHECK(mkdir(sub, 0755) == 0);
	char path[160];
	xsnprintf(path, sizeof path, "%s/gen", sub);
	g = generation_open(path);
	CHECK(generation_read(g, &s));
	CHECK(unlink(path) == 0 && rmdir(sub) == 0);
	CHECK(!generation_read(g, &s));
	CHECK(mkdir(sub, 0755) == 0);
	CHECK(generation_read(g, &s));
	generation_close(g);
	unlink(path);
	rmdir(sub);
}

static void test_statement_kinds(void)
{
	static const struct {
		const char *sql;
		enum stmt_kind kind;
	} cases[] = {
		{"SELECT 1", STMT_READ},
		{"  select id FROM assets", STMT_READ},
		{"\n\tSelect 1", STMT_READ},
		{"(SELECT 1) UNION (SELECT 2)", STMT_READ},
		{"SELECT id FROM ingest_queue WHERE id = ? FOR UPDATE", STMT_READ},
		{"-- a comment\nSELECT 1", STMT_READ},
		{"# a comment\nSELECT 1", STMT_READ},
		{"/* a comment */ SELECT 1", STMT_READ},
		{"INSERT INTO t VALUES (1)", STMT_DML},
		{"insert into t values (1)", STMT_DML},
		{"UPDATE t SET a = 1", STMT_DML},
		{"DELETE FROM t", STMT_DML},
		{"REPLACE INTO t VALUES (1)", STMT_DML},
		{"  /* x */ update t set a = 1", STMT_DML},
		{"CREATE TABLE t (a INT)", STMT_OTHER},
		{"ALTER TABLE t ADD b INT", STMT_OTHER},
		{"TRUNCATE t", STMT_OTHER},
		{"CALL p()", STMT_OTHER},
		{"WITH x AS (SELECT 1) SELECT * FROM x", STMT_OTHER},
		{"/*! UPDATE t SET a = 1 */", STMT_OTHER},
		{"/* unterminated SELECT", STMT_OTHER},
		{"SELECTED", STMT_OTHER},
		{"--SELECT", STMT_OTHER},
		{"", STMT_OTHER},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum stmt_kind k = stmt_kind(cases[i].sql);
		if (k != cases[i].kind)
			fprintf(stderr, "stmt_kind(\"%s\") = %d, want %d\n", cases[i].sql, (int)k,
				(int)cases[i].kind);
		CHECK(k == cases[i].kind);
	}
}

/* The bump rule, on a database layer without a server: statements are
 * noted as the run functions note them, transactions end as db_commit and
 * db_rollback end them. */
static void test_bump_rule(void)
{
	struct config *cfg = config_empty(NULL);
	config_set(cfg, "data_generation_file", tmp_path("db-gen"));
	config_set(cfg, "db_socket", "/nonexistent/mysqld.sock");
	struct db *db = db_new(cfg);
	struct generation *g = generation_open(tmp_path("db-gen"));
	struct gen_stamp s;
	CHECK(db_generation(db, &s) && s.value == 0);

	/* Autocommit: a write bumps at once, a read or an empty DML never. */
	note_statement(db, "SELECT 1", -1);
	CHECK(value_of(g) == 0);
	note_statement(db, "UPDATE t SET a = 1 WHERE id = 7", 0);
	CHECK(value_of(g) == 0);
	note_statement(db, "UPDATE t SET a = 1 WHERE id = 7", 1);
	CHECK(value_of(g) == 1);
	note_statement(db, "DELETE FROM t WHERE id = 7", -1); /* failed: may have happened */
	CHECK(value_of(g) == 2);
	note_statement(db, "CREATE TABLE t2 (a INT)", 0);
	CHECK(value_of(g) == 3);

	/* In a transaction: nothing until the commit... */
	db->in_txn = true;
	note_statement(db, "SELECT a FROM t WHERE id = 1 FOR UPDATE", -1);
	CHECK(!db->dirty);
	note_statement(db, "UPDATE t SET a = 2 WHERE id = 1", 0);
	CHECK(!db->dirty);
	note_statement(db, "INSERT INTO t VALUES (1)", 1);
	CHECK(db->dirty && value_of(g) == 3);
	/* ...except a statement that commits implicitly (DDL), at once too. */
	note_statement(db, "ALTER TABLE t ADD c INT", 0);
	CHECK(value_of(g) == 4);
	/* A rollback changed nothing: no bump. */
	db_rollback(db);
	CHECK(!db->in_txn && !db->dirty && value_of(g) == 4);

	/* A commit that cannot happen (the connection is gone: the server
	 * rolled the work back) bumps nothing either. */
	db->in_txn = true;
	note_statement(db, "UPDATE t SET a = 3 WHERE id = 1", 1);
	CHECK(db_commit(db) != DB_OK);
	CHECK(!db->dirty && value_of(g) == 4);

	/* A read-only transaction that commits: no bump. */
	db->in_txn = true;
	note_statement(db, "SELECT 1", -1);
	CHECK(!db->dirty);
	db_rollback(db);

	/* By hand (dlcs-admin bump-generation). */
	CHECK(db_generation_bump(db) == DB_OK);
	CHECK(db_generation(db, &s) && s.value == 5);
	generation_close(g);
	db_free(db);
	config_free(cfg);

	/* Without a usable file there is no generation: the cache stays off. */
	cfg = config_empty(NULL);
	config_set(cfg, "storage_root", "/nonexistent/storage");
	db = db_new(cfg);
	CHECK(!db_generation(db, &s));
	CHECK(db_generation_bump(db) != DB_OK);
	db_free(db);
	/* The default: {storage_root}/.data-generation. */
	config_set(cfg, "storage_root", dir);
	db = db_new(cfg);
	CHECK(db_generation(db, &s));
	struct stat st;
	CHECK(stat(tmp_path(".data-generation"), &st) == 0);
	db_free(db);
	config_free(cfg);
	unlink(tmp_path(".data-generation"));
	unlink(tmp_path("db-gen"));
}

int main(void)
{
	xsnprintf(dir, sizeof dir, "/tmp/dlcs-test-gen-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_counter();
	test_unusable();
	test_statement_kinds();
	test_bump_rule();
	rmdir(dir);
	return check_done();
}
