/* The pool supervisor with real processes: a supervisor is forked with a
 * trivial worker that reports its pid through a pipe, then its workers are
 * killed, crash, or refuse to stop. This process is a child subreaper, so the
 * workers orphaned by a killed supervisor come back to it and can be reaped
 * and counted. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "supervise.h"
#include "banned.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- workers: each writes its pid to the pipe whose write end is ctx ---- */

static void report(void *ctx)
{
	pid_t me = getpid();
	ssize_t w = write(*(int *)ctx, &me, sizeof me);
	(void)w;
}

static int worker_wait(void *ctx) /* until a signal ends it (SIGTERM) */
{
	report(ctx);
	for (;;)
		pause();
	return 0; /* not reached */
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

/* Reports its pid at start and again on each SIGUSR1 (a log reopen). */
static int worker_usr1(void *ctx)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* blocked but inside sigsuspend: a signal that comes before the wait
	 * is not lost */
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	report(ctx);
	for (;;) {
		sigsuspend(&old);
		if (usr1_seen) {
			usr1_seen = 0;
			report(ctx);
		}
	}
	return 0; /* not reached */
}

static int worker_crash(void *ctx)
{
	report(ctx);
	return 1;
}

static int worker_bad_config(void *ctx)
{
	report(ctx);
	return SUPERVISE_EXIT_CONFIG;
}

static int worker_stubborn(void *ctx) /* ignores SIGTERM */
{
	signal(SIGTERM, SIG_IGN);
	report(ctx);
	for (;;)
		pause();
	return 0; /* not reached */
}

/* ---- helpers ------------------------------------------------------------ */

struct sup {
	pid_t pid;
	int rd; /* read end: the pids of started workers */
};

static struct sup sup_start_ex(int workers, int (*worker)(void *), bool ignore_sigchld)
{
	int p[2];
	struct sup s = {-1, -1};
	if (pipe(p) != 0)
		return s;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (ignore_sigchld) /* as a careless parent may leave it */
			signal(SIGCHLD, SIG_IGN);
		struct supervise_opts o = {
			.workers = workers,
			.worker = worker,
			.ctx = &p[1],
			.burst = 3,
			.window_ms = 2000,
			.backoff_ms = 200,
			.backoff_max_ms = 800,
			.stop_timeout_ms = 1000,
		};
		_exit(supervise_run(&o));
	}
	close(p[1]);
	s.pid = pid;
	s.rd = p[0];
	return s;
}

static struct sup sup_start(int workers, int (*worker)(void *))
{
	return sup_start_ex(workers, worker, false);
}

/* The next started worker's pid, or 0 after timeout_ms. */
static pid_t next_pid(int rd, int timeout_ms)
{
	struct pollfd pf = {.fd = rd, .events = POLLIN};
	if (poll(&pf, 1, timeout_ms) != 1)
		return 0;
	pid_t pid;
	return read(rd, &pid, sizeof pid) == (ssize_t)sizeof pid ? pid : 0;
}

/* True when pid is gone (reaping it when it came to us as an orphan). */
static bool gone(pid_t pid)
{
	waitpid(pid, NULL, WNOHANG);
	return kill(pid, 0) != 0 && errno == ESRCH;
}

static bool gone_within(pid_t pid, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (!gone(pid)) {
		if (now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

/* The supervisor's exit status, -1 if it did not end within timeout_ms. */
static int sup_wait(struct sup *s, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int st;
	while (waitpid(s->pid, &st, WNOHANG) == 0) {
		if (now_ms() > end)
			return -1;
		usleep(10000);
	}
	close(s->rd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- tests -------------------------------------------------------------- */

static void test_replaces_a_killed_worker_and_only_it(void)
{
	struct sup s = sup_start(3, worker_wait);
	pid_t w[3];
	for (int i = 0; i < 3; i++)
		w[i] = next_pid(s.rd, 5000);
	CHECK(w[0] > 0 && w[1] > 0 && w[2] > 0);
	CHECK(w[0] != w[1] && w[1] != w[2] && w[0] != w[2]);

	long long t0 = now_ms();
	kill(w[1], SIGKILL);
	pid_t fresh = next_pid(s.rd, 2000);
	CHECK(fresh > 0);
	CHECK(now_ms() - t0 < 2000);
	CHECK(fresh != w[0] && fresh != w[1] && fresh != w[2]);
	CHECK(gone_within(w[1], 1000));
	CHECK(!gone(w[0]) && !gone(w[2])); /* the siblings were not touched */
	CHECK(next_pid(s.rd, 300) == 0);   /* and nothing else was started */

	/* SIGTERM: every worker ends, then the supervisor, cleanly. */
	kill(s.pid, SIGTERM);
	CHECK(sup_wait(&s, 5000) == 0);
	CHECK(gone(w[0]) && gone(w[2]) && gone(fresh));
}

static void test_an_inherited_ignored_sigchld_changes_nothing(void)
{
	struct sup s = sup_start_ex(1, worker_wait, true);
	pid_t w = next_pid(s.rd, 5000);
	CHECK(w > 0);
	kill(w, SIGKILL);
	pid_t fresh = next_pid(s.rd, 2000);
	CHECK(fresh > 0 && fresh != w);
	kill(s.pid, SIGTERM);
	CHECK(sup_wait(&s, 5000) == 0);
	CHECK(gone(fresh));
}

/* logrotate's one SIGUSR1 to the pool's pid reaches every worker (each
 * reopens its log file); the supervisor survives it and starts nobody. */
static void test_sigusr1_is_forwarded_to_every_worker(void)
{
	struct sup s = sup_start(2, worker_usr1);
	pid_t w0 = next_pid(s.rd, 5000), w1 = next_pid(s.rd, 5000);
	CHECK(w0 > 0 && w1 > 0 && w0 != w1);
	for (int round = 0; round < 2; round++) {
		CHECK(kill(s.pid, SIGUSR1) == 0);
		pid_t a = next_pid(s.rd, 2000), b = next_pid(s.rd, 2000);
		CHECK((a == w0 && b == w1) || (a == w1 && b == w0));
		CHECK(next_pid(s.rd, 200) == 0); /* once each, nobody new */
	}
	CHECK(!gone(s.pid) && !gone(w0) && !gone(w1));
	kill(s.pid, SIGTERM);
	CHECK(sup_wait(&s, 5000) == 0);
	CHECK(gone(w0) && gone(w1));
}

static void test_crash_loop_backs_off(void)
{
	struct sup s = sup_start(1, worker_crash);
	/* burst 3 within 2 s, then 200, 400, 800, 800 ms: about 12 starts in
	 * 6 s. Without the back-off it would be thousands. A slow machine only
	 * spaces the deaths out (and a streak may start over), so the bounds
	 * hold under any load: enough starts to show that the loop goes on, few
	 * enough to show that it is held back. */
	long long end = now_ms() + 6000;
	int starts = 0;
	for (long long left; (left = end - now_ms()) > 0;)
		if (next_pid(s.rd, (int)left) > 0)
			starts++;
	CHECK(starts >= 4);
	CHECK(starts <= 20);
	if (starts < 4 || starts > 20)
		fprintf(stderr, "crash loop: %d starts in 6 s\n", starts);
	kill(s.pid, SIGTERM);
	CHECK(sup_wait(&s, 5000) == 0); /* a pending start does not delay the stop */
}

static void test_bad_config_stops_the_pool(void)
{
	struct sup s = sup_start(2, worker_bad_config);
	pid_t a = next_pid(s.rd, 5000), b = next_pid(s.rd, 5000);
	CHECK(a > 0 && b > 0);
	CHECK(sup_wait(&s, 5000) == SUPERVISE_EXIT_CONFIG);
	CHECK(gone(a) && gone(b));
}

static void test_stubborn_worker_is_killed_at_the_timeout(void)
{
	struct sup s = sup_start(1, worker_stubborn);
	pid_t w = next_pid(s.rd, 5000);
	CHECK(w > 0);
	usleep(100000); /* let it ignore SIGTERM first */
	long long t0 = now_ms();
	kill(s.pid, SIGTERM);
	CHECK(sup_wait(&s, 5000) == 1); /* 1: a worker had to be killed */
	CHECK(now_ms() - t0 >= 900);
	CHECK(gone(w));
}

static void test_workers_follow_a_killed_supervisor(void)
{
	struct sup s = sup_start(2, worker_wait);
	pid_t a = next_pid(s.rd, 5000), b = next_pid(s.rd, 5000);
	CHECK(a > 0 && b > 0);
	kill(s.pid, SIGKILL);
	CHECK(sup_wait(&s, 5000) == 128 + SIGKILL);
	/* PR_SET_PDEATHSIG: SIGTERM to each; they come to us and are reaped. */
	CHECK(gone_within(a, 3000));
	CHECK(gone_within(b, 3000));
}

static int inline_worker(const struct worker_env *env)
{
	return env->cfg && env->argv0 ? 7 : 8;
}

static void test_command_line(void)
{
	unsetenv("DLCS_CONFIG");
	char *w0[] = {"t", "-w", "0", NULL};
	CHECK(supervise_program(3, w0, "test", NULL, inline_worker) ==
	      7); /* -w 0: in this process */
	char *bad[][4] = {
		{"t", "-w", "x", NULL}, {"t", "-w", "1025", NULL}, {"t", "-w", "-1", NULL},
		{"t", "-w", "", NULL},  {"t", "-x", "1", NULL},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(supervise_program(3, bad[i], "test", NULL, inline_worker) == 2);
	char *missing[] = {"t", "-c", "/nonexistent/dlcs.conf", "-w", "0", NULL};
	CHECK(supervise_program(5, missing, "test", NULL, inline_worker) == 1);
	/* --help and --version read no configuration (the file is missing)
	 * and run no worker (it would return 7); -c's operand is a file name. */
	char *help[] = {"t", "-c", "/nonexistent/dlcs.conf", "--help", NULL};
	CHECK(supervise_program(4, help, "test", NULL, inline_worker) == 0);
	char *version[] = {"t", "-w", "0", "--version", NULL};
	CHECK(supervise_program(4, version, "test", NULL, inline_worker) == 0);
	char *named_help[] = {"t", "-c", "--help", "-w", "0", NULL};
	CHECK(supervise_program(5, named_help, "test", NULL, inline_worker) == 1);
	/* A file with an unknown key: refused before any worker runs, with
	 * the status that stops a pool (the worker would say 7 or 8). */
	char conf[] = "/tmp/test_supervise.XXXXXX";
	int fd = mkstemp(conf);
	CHECK(fd >= 0 && write(fd, "db_name = x\nno_such_key = 1\n", 29) == 29);
	close(fd);
	char *refused[] = {"t", "-c", conf, "-w", "0", NULL};
	CHECK(supervise_program(5, refused, "test", NULL, inline_worker) == SUPERVISE_EXIT_CONFIG);
	char *refused_pool[] = {"t", "-c", conf, "-w", "2", NULL};
	CHECK(supervise_program(5, refused_pool, "test", NULL, inline_worker) ==
	      SUPERVISE_EXIT_CONFIG);
	unlink(conf);
	struct supervise_opts none = {.workers = 0, .worker = worker_crash};
	CHECK(supervise_run(&none) == 1);
}

int main(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_replaces_a_killed_worker_and_only_it();
	test_an_inherited_ignored_sigchld_changes_nothing();
	test_sigusr1_is_forwarded_to_every_worker();
	test_crash_loop_backs_off();
	test_bad_config_stops_the_pool();
	test_stubborn_worker_is_killed_at_the_timeout();
	test_workers_follow_a_killed_supervisor();
	test_command_line();
	return check_done();
}
