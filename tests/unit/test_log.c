/* The log (fcgi/log.c): levels, the log file, and its reopen on SIGUSR1
 * after logrotate moved it away. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_levels(void)
{
	enum log_level lv = LOG_ERROR;
	CHECK(log_level_parse("debug", &lv) && lv == LOG_DEBUG);
	CHECK(log_level_parse("INFO", &lv) && lv == LOG_INFO);
	CHECK(log_level_parse("warn", &lv) && lv == LOG_WARN);
	CHECK(log_level_parse("error", &lv) && lv == LOG_ERROR);
	CHECK(!log_level_parse("verbose", &lv) && lv == LOG_ERROR);
	CHECK(!log_level_parse("", &lv) && !log_level_parse(NULL, &lv));
}

static void test_file_and_reopen(void)
{
	char dir[] = "/tmp/dlcs-log.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	char path[128], moved[128];
	snprintf(path, sizeof path, "%s/dlcs.log", dir);
	snprintf(moved, sizeof moved, "%s/dlcs.log.1", dir);
	int saved = dup(STDERR_FILENO);

	CHECK(log_configure(LOG_WARN, "/nonexistent-dir/x.log") == -1);
	CHECK(log_configure(LOG_WARN, path) == 0);
	log_debug("not this %d", 1);
	log_info("nor this %d", 2);
	log_warn("a warning %d", 3);
	log_err("an error\nwith a line feed");
	const char *t = slurp(path);
	CHECK(t && strstr(t, "not this") == NULL && strstr(t, "nor this") == NULL);
	CHECK(t && strstr(t, " warn a warning 3\n") &&
	      strstr(t, " error an error?with a line feed\n"));

	/* logrotate moves the file, then SIGUSR1: the next lines go to a new
	 * one under the configured name */
	CHECK(rename(path, moved) == 0);
	log_warn("still the old file");
	CHECK(raise(SIGUSR1) == 0);
	log_warn("the new file");
	t = slurp(moved);
	CHECK(t && strstr(t, "still the old file") && strstr(t, "the new file") == NULL);
	t = slurp(path);
	CHECK(t && strstr(t, "the new file") && strstr(t, "a warning") == NULL);

	/* log_reopen is SIGUSR1's work, for the supervisor that takes it */
	CHECK(rename(path, moved) == 0);
	CHECK(log_reopen() == 0);
	log_warn("after log_reopen");
	t = slurp(path);
	CHECK(t && strstr(t, "after log_reopen") && strstr(t, "the new file") == NULL);

	/* the level also holds without a file */
	CHECK(log_configure(LOG_DEBUG, NULL) == 0);
	log_debug("debug now %d", 4);
	CHECK((t = slurp(path)) && strstr(t, "debug now 4"));

	dup2(saved, STDERR_FILENO);
	close(saved);
	unlink(path);
	unlink(moved);
	rmdir(dir);
}

int main(void)
{
	log_set_program("test_log");
	test_levels();
	test_file_and_reopen();
	return check_done();
}
