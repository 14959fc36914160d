/* Installing the custom-headers include into a running nginx
 * (asset/nginx_reload.h).
 *
 * Why the new text is tested in place: `nginx -t` must read it through the
 * real configuration (the server block that includes it, its variables, the
 * locations of dlcs.conf after it), and that configuration names the
 * include's path. So the new file is renamed over the include, tested, and
 * the previous one renamed back when the test fails. The nginx master reads
 * the file only when it is told to reload, which happens only here and
 * only after the test passed; the window in which the untested text is in
 * place is the test's run, under the lock every publisher of this host
 * takes. (A reload that someone else sends in that window and that finds the
 * text bad fails, and nginx keeps its running configuration: nginx's rule.) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "config.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "str.h"
#include "asset/change_counter.h"
#include "asset/nginx_include.h"
#include "asset/nginx_reload.h"
#include "asset/settings.h"
#include "banned.h"

/* How long `nginx -t`, or the reload command, may take (it parses the
 * configuration and compiles its regular expressions: well under a
 * second). */
#define TEST_TIMEOUT_MS 30000
/* How much of the test's output the log line keeps. */
#define TEST_OUTPUT_MAX 2000

void nginx_target_from_config(struct nginx_target *t, const struct config *cfg)
{
	t->include = setting_str(cfg, S_NGINX_CUSTOM_HEADERS);
	t->test_command = setting_str(cfg, S_NGINX_TEST_COMMAND);
	t->pid_file = setting_str(cfg, S_NGINX_PID_FILE);
	if (!t->pid_file)
		t->pid_file = "";
	t->reload_command = setting_str(cfg, S_NGINX_RELOAD_COMMAND);
	if (!t->reload_command)
		t->reload_command = "";
}

/* ---- files ------------------------------------------------------------- */

/* The whole file, or NULL when it cannot be read (ENOENT: absent). */
static const char *file_read(struct arena *a, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct sbuf b;
	sbuf_init(&b, a);
	char chunk[8192];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_add(&b, chunk, got);
	bool ok = !ferror(f);
	fclose(f);
	return ok ? b.buf : NULL;
}

/* text after its first line. */
static const char *after_first_line(const char *text)
{
	const char *nl = strchr(text, '\n');
	return nl ? nl + 1 : "";
}

/* Writes text to a new temporary file beside path: its name, or NULL after
 * logging. */
static const char *write_temp(struct arena *a, const char *path, const char *text)
{
	char rnd[9];
	random_hex(rnd, 4);
	const char *tmp = arena_printf(a, "%s.%d.%s.tmp", path, (int)getpid(), rnd);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("custom headers: cannot create %s: %s", tmp, strerror(errno));
		return NULL;
	}
	bool written = files_write_all(fd, text, strlen(text)) == 0;
	if (close(fd) != 0 || !written) {
		log_err("custom headers: cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return NULL;
	}
	return tmp;
}

/* ---- nginx ------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collects the child's output from fd until it closes it or the deadline;
 * false on the deadline. */
static bool collect(int fd, struct sbuf *out, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? false : true;
		char chunk[1024];
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return true;
		if (out->len < TEST_OUTPUT_MAX)
			sbuf_add(out, chunk, (size_t)got);
	}
}

/* Starts /bin/sh -c command with stdin from /dev/null and stdout and
 * stderr into out_fd, with the default signal mask and dispositions (a
 * runner ignores SIGPIPE and its renderer thread blocks SIGTERM). */
static int spawn_shell(const char *command, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	posix_spawnattr_init(&attr);
	sigset_t none, deflt;
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &deflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};
	int rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/* Runs the test (or the reload) command: 0 when it exits 0, else -1 with
 * *why (its status and output, on one line). */
static int run_command(struct arena *a, const char *command, const char **why)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		*why = arena_printf(a, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid;
	int rc = spawn_shell(command, fds[1], &pid);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		*why = arena_printf(a, "cannot run /bin/sh: %s", strerror(rc));
		return -1;
	}
	struct sbuf out;
	sbuf_init(&out, a);
	bool in_time = collect(fds[0], &out, now_ms() + TEST_TIMEOUT_MS);
	close(fds[0]);
	if (!in_time)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while (out.len && (out.buf[out.len - 1] == '\n' || out.buf[out.len - 1] == ' '))
		out.buf[--out.len] = '\0';
	for (char *p = out.buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (in_time && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	const char *how = !in_time ? arena_printf(a, "timed out after %d ms", TEST_TIMEOUT_MS)
			  : WIFEXITED(status) ? arena_printf(a, "exit %d", WEXITSTATUS(status))
					      : arena_printf(a, "signal %d", WTERMSIG(status));
	*why = arena_printf(a, "%s%s%s", how, out.len ? ": " : "", out.buf);
	return -1;
}

/* The nginx master of pid_file: its pid, 0 when none runs (no file, or a
 * stale one: the pid is checked to be an nginx process, so a stale pid file
 * never signals a stranger), -1 after logging. */
static long nginx_master(const char *pid_file)
{
	FILE *f = fopen(pid_file, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		log_err("custom headers: cannot read %s: %s", pid_file, strerror(errno));
		return -1;
	}
	long pid = 0;
	int got = fscanf(f, "%ld", &pid);
	fclose(f);
	if (got != 1 || pid <= 1)
		return 0;
	char comm_path[64], comm[64] = "";
	xsnprintf(comm_path, sizeof comm_path, "/proc/%ld/comm", pid);
	f = fopen(comm_path, "r");
	if (f) {
		if (!fgets(comm, sizeof comm, f))
			comm[0] = '\0';
		fclose(f);
	}
	return strncmp(comm, "nginx", 5) == 0 ? pid : 0;
}

/* ---- installing -------------------------------------------------------- */

/* Puts tmp in place of path after the test passes (see the top). 0, or -1
 * (refused, *why set) with the previous include back in place. */
static int swap_tested(struct arena *a, const struct nginx_target *t, const char *tmp,
		       const char **why)
{
	const char *path = t->include;
	const char *prev = arena_printf(a, "%s.previous", path);
	unlink(prev);
	bool had_prev = link(path, prev) == 0;
	if (!had_prev && errno != ENOENT) {
		*why = arena_printf(a, "cannot keep the previous include as %s: %s", prev,
				    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		*why = arena_printf(a, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		unlink(prev);
		return -1;
	}
	if (run_command(a, t->test_command, why) == 0) {
		unlink(prev);
		return 0;
	}
	/* Back to what was there before (nothing, when nothing was). */
	if (had_prev ? rename(prev, path) != 0 : unlink(path) != 0)
		log_err("custom headers: cannot put the previous include back at %s: %s", path,
			strerror(errno));
	return -1;
}

/* "{include}.unloaded" exists while the include on disk is newer than what
 * nginx was told to load (its reload failed): the next publisher reloads
 * even when it renders the same locations, instead of taking the file for
 * what nginx runs. */
static void unloaded_mark(struct arena *a, const char *include, bool on)
{
	const char *mark = arena_printf(a, "%s.unloaded", include);
	if (!on) {
		unlink(mark);
		return;
	}
	int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

/* Tells nginx to load the include just installed: nginx_reload_command when
 * set (a runner that is not root cannot signal a master that is: e.g.
 * "sudo -n /usr/sbin/nginx -s reload"), else SIGHUP to the master of
 * nginx_pid_file. Logs the outcome in one line. */
static enum nginx_outcome nginx_reload(struct arena *a, const struct nginx_target *t,
				       const char *what, int nlocations, const char *tested)
{
	const char *path = t->include;
	if (t->reload_command && *t->reload_command) {
		const char *why = NULL;
		if (run_command(a, t->reload_command, &why) != 0) {
			log_err("custom headers: %s: rendered %d locations into %s; %s; the reload "
				"FAILED (nginx_reload_command: %s): nginx runs the previous ones",
				what, nlocations, path, tested, why);
			unloaded_mark(a, path, true);
			return NGINX_FAILED;
		}
		log_info("custom headers: %s: rendered %d locations into %s; %s; reloaded nginx "
			 "(nginx_reload_command)",
			 what, nlocations, path, tested);
		unloaded_mark(a, path, false);
		return NGINX_RELOADED;
	}
	long pid = t->pid_file && *t->pid_file ? nginx_master(t->pid_file) : 0;
	if (pid > 0 && kill((pid_t)pid, SIGHUP) != 0) {
		int err = errno;
		log_err("custom headers: %s: rendered %d locations into %s; %s; cannot signal "
			"nginx (pid %ld): %s%s",
			what, nlocations, path, tested, pid, strerror(err),
			err == EPERM ? " (a runner that is not nginx's master's user reloads it "
				       "through nginx_reload_command, e.g. sudo -n nginx -s reload)"
				     : "");
		unloaded_mark(a, path, true);
		return NGINX_FAILED;
	}
	if (pid > 0) {
		log_info("custom headers: %s: rendered %d locations into %s; %s; reloaded nginx "
			 "(SIGHUP to %ld)",
			 what, nlocations, path, tested, pid);
		unloaded_mark(a, path, false);
		return NGINX_RELOADED;
	}
	log_info("custom headers: %s: rendered %d locations into %s; %s; no nginx runs to "
		 "reload (%s)",
		 what, nlocations, path, tested,
		 pid < 0 ? "its pid file is unreadable" : "none named");
	if (pid < 0)
		return NGINX_FAILED;
	/* an nginx that starts later reads the file as it is */
	unloaded_mark(a, path, false);
	return NGINX_INSTALLED;
}

enum nginx_outcome nginx_include_install(struct arena *a, const struct nginx_target *t,
					 const char *text, const char *what, int nlocations)
{
	const char *path = t->include;
	/* A publisher killed while its test ran left the untested text in place
	 * and the previous include aside: the previous one goes back first. */
	const char *prev = arena_printf(a, "%s.previous", path);
	if (rename(prev, path) == 0)
		log_warn("custom headers: %s: a test was interrupted; the include it replaced is "
			 "back from %s",
			 what, prev);
	const char *old = file_read(a, path);
	/* Its last reload failed: nginx does not run what the file holds. */
	bool unloaded = access(arena_printf(a, "%s.unloaded", path), F_OK) == 0;
	if (old && strcmp(after_first_line(old), after_first_line(text)) == 0) {
		bool same = strcmp(old, text) == 0;
		if (!same) {
			const char *tmp = write_temp(a, path, text);
			if (!tmp || rename(tmp, path) != 0) {
				if (tmp)
					unlink(tmp);
				log_err("custom headers: %s: cannot rewrite %s", what, path);
				return NGINX_FAILED;
			}
		}
		if (unloaded)
			return nginx_reload(a, t, what, nlocations, "tested before");
		if (!same)
			log_info("custom headers: %s: the %d locations of %s are unchanged; no "
				 "reload",
				 what, nlocations, path);
		return NGINX_SAME;
	}
	const char *tmp = write_temp(a, path, text);
	if (!tmp)
		return NGINX_FAILED;
	const char *tested = "not tested (nginx_test_command is empty)";
	if (t->test_command && *t->test_command) {
		const char *why = NULL;
		if (swap_tested(a, t, tmp, &why) != 0) {
			log_err("custom headers: %s: rendered %d locations; nginx -t FAILED (%s): "
				"%s keeps the previous include",
				what, nlocations, why, path);
			return NGINX_REFUSED;
		}
		tested = "nginx -t ok";
	} else if (rename(tmp, path) != 0) {
		log_err("custom headers: %s: cannot rename %s: %s", what, tmp, strerror(errno));
		unlink(tmp);
		return NGINX_FAILED;
	}
	return nginx_reload(a, t, what, nlocations, tested);
}

enum nginx_outcome nginx_include_publish(struct db *db, struct arena *a,
					 const struct nginx_target *t, long long *generation)
{
	*generation = -1;
	if (!t->include || !*t->include)
		return NGINX_SAME;
	const char *lock = arena_printf(a, "%s.lock", t->include);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("custom headers: cannot open %s: %s", lock, strerror(errno));
		return NGINX_FAILED;
	}
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	/* The counter before the rows: the rendering holds at least every
	 * change the counter counts. */
	enum nginx_outcome out = NGINX_FAILED;
	long long gen = change_counter_read(db, a, CHANGE_CUSTOM_HEADERS);
	int nlocations = 0;
	const char *text = gen >= 0 ? nginx_include_render(db, a, gen, &nlocations) : NULL;
	if (gen < 0)
		log_err("custom headers: cannot read their change counter: %s", db_last_msg(db));
	if (text) {
		out = nginx_include_install(a, t, text, arena_printf(a, "generation %lld", gen),
					    nlocations);
		*generation = gen;
	}
	close(fd); /* releases the lock */
	return out;
}
