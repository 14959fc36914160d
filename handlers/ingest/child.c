/* A child process with limits (ingest/child.h). Everything that allocates
 * or may take a lock is done before the fork: the runner has threads (the
 * lease heartbeat, the headers renderer, GraphicsMagick's), and between fork
 * and exec the child may only make system calls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "ingest/child.h"
#include "banned.h"

const char *child_find(struct arena *a, const char *name)
{
	if (!name || !*name)
		return NULL;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? name : NULL;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		const char *full = arena_printf(a, "%.*s/%s", (int)n, n ? p : ".", name);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return full;
		p += n + (p[n] == ':');
	}
	return NULL;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: system calls only. On failure the
 * errno goes up the report pipe and the child exits. */
static void child_exec(const struct child_spec *s, pid_t parent, int max_fd, int in, int out,
		       int err, int report)
{
	int e = 0;
	/* Dies with the runner, whatever kills it; and if it died already,
	 * before the line above took effect, go now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, NULL); /* the runner ignores it */
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(s->cwd) != 0)
		e = errno;
	if (!e && s->nice > 0 && setpriority(PRIO_PROCESS, 0, s->nice) != 0)
		e = errno;
	if (!e) {
		/* Nothing of the runner's beyond 0-2: every other descriptor
		 * closes on exec (the report pipe too, which tells the parent
		 * that exec succeeded). */
#ifdef SYS_close_range
		if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
			for (int fd = 3; fd < max_fd; fd++)
				if (fd != report)
					close(fd);
		execv(s->path, (char *const *)s->argv);
		e = errno;
	}
	while (write(report, &e, sizeof e) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* The descriptor the child gets for `path` (NULL: /dev/null), -1 on error. */
static int open_for_child(const char *path, bool write_it)
{
	if (!path)
		return open("/dev/null", (write_it ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static long long cpu_ms(const struct rusage *ru)
{
	return (long long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
}

/* Waits for pid, asking keep_going between naps, killing it on time out or
 * when told to stop. Fills r->end and r->status. */
static void child_wait(const struct child_spec *s, pid_t pid, long long t0, struct child_result *r)
{
	int nap_ms = 2, st = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	for (;;) {
		pid_t got = wait4(pid, &st, WNOHANG, &ru);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			r->end = CHILD_NO_START;
			r->status = errno;
			return;
		}
		enum child_end end = CHILD_EXITED;
		if (now_ms() - t0 > s->timeout_ms)
			end = CHILD_TIMEOUT;
		else if (s->keep_going && !s->keep_going(s->ctx))
			end = CHILD_STOPPED;
		if (end != CHILD_EXITED) {
			kill(pid, SIGKILL);
			while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
				;
			r->cpu_ms = cpu_ms(&ru);
			r->end = end;
			r->status = WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
			return;
		}
		struct timespec ts = {0, (long)nap_ms * 1000000L};
		nanosleep(&ts, NULL);
		if (nap_ms < 100)
			nap_ms *= 2;
	}
	r->end = CHILD_EXITED;
	r->status = WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
	r->cpu_ms = cpu_ms(&ru);
}

void child_run(const struct child_spec *s, struct child_result *r)
{
	long long t0 = now_ms();
	memset(r, 0, sizeof *r);
	r->end = CHILD_NO_START;
	int in = open_for_child(NULL, false), out = open_for_child(s->out_file, true),
	    err = open_for_child(s->err_file, true), report[2] = {-1, -1};
	if (in < 0 || out < 0 || err < 0 || pipe2(report, O_CLOEXEC) != 0) {
		r->status = errno;
		goto done;
	}
	struct rlimit nofile;
	int max_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536
			     ? (int)nofile.rlim_cur
			     : 65536;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		r->status = errno;
		goto done;
	}
	if (pid == 0)
		child_exec(s, parent, max_fd, in, out, err, report[1]);
	close(report[1]);
	report[1] = -1;
	int e = 0;
	ssize_t n;
	while ((n = read(report[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof e) { /* exec failed: the child is exiting */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		r->status = e;
		goto done;
	}
	child_wait(s, pid, t0, r);
done:
	r->ms = now_ms() - t0;
	for (int fd = 0; fd < 2; fd++)
		if (report[fd] >= 0)
			close(report[fd]);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
}
