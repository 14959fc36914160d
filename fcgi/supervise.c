/* The pool supervisor (see supervise.h). One process, one thread, no signal
 * handler: SIGCHLD, SIGTERM, SIGINT and SIGUSR1 stay blocked and are taken with
 * sigtimedwait(), whose timeout is also the clock of the delayed
 * replacements. All of its state is the struct supervisor on its stack. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "str.h"
#include "supervise.h"
#include "banned.h"

/* The death times kept for the crash-loop count; `burst` stays below it. */
enum { DEATH_RING = 64 };

struct slot {
	pid_t pid;        /* the worker in this slot; 0 while a start is pending */
	pid_t replaces;   /* the dead worker a pending start stands for */
	long long due_ms; /* when a pending start is due */
	int delay_ms;     /* the back-off it waits (for the log line) */
};

struct supervisor {
	struct supervise_opts o; /* with the defaults filled in */
	pid_t self;
	sigset_t waited;   /* SIGCHLD, SIGTERM, SIGINT, SIGUSR1: taken by sigtimedwait */
	sigset_t old_mask; /* what the workers get back */
	struct slot *slots;
	long long deaths[DEATH_RING]; /* ring of death times, ndeaths in all */
	unsigned ndeaths;
	int streak; /* back-offs in a row: the next one doubles */
	int status; /* exit status of supervise_run */
	bool stopping;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *status_text(char *buf, size_t len, int st)
{
	if (WIFEXITED(st)) {
		xsnprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(st));
		xsnprintf(buf, len, "killed by signal %d, %s%s", WTERMSIG(st),
			  abbrev ? abbrev : "unknown", WCOREDUMP(st) ? ", core dumped" : "");
	} else {
		xsnprintf(buf, len, "wait status %#x", (unsigned)st);
	}
	return buf;
}

/* Forks one worker; returns its pid, or -1 (logged) when fork failed. The
 * child never returns from here. */
static pid_t worker_fork(struct supervisor *s)
{
	fflush(NULL); /* nothing buffered may be written twice */
	pid_t pid = fork();
	if (pid < 0) {
		log_err("supervisor: fork failed: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* The child. SIGTERM (finish the request in hand, then exit) when the
	 * supervisor goes, however it goes; if it went before this line, go
	 * now. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		log_warn("supervisor: PR_SET_PDEATHSIG failed: %s", strerror(errno));
	if (getppid() != s->self)
		_exit(0);
	sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
	exit(s->o.worker(s->o.ctx));
}

/* Starts the worker of a pending slot; on a failed fork, tries again in a
 * second. Returns the new pid or -1. */
static pid_t slot_start(struct supervisor *s, struct slot *sl, long long now)
{
	pid_t pid = worker_fork(s);
	if (pid < 0) {
		sl->due_ms = now + 1000;
		return -1;
	}
	sl->pid = pid;
	return pid;
}

/* How many of the recorded deaths fall within the window ending now. */
static int recent_deaths(const struct supervisor *s, long long now)
{
	int n = 0;
	unsigned first = s->ndeaths > DEATH_RING ? s->ndeaths - DEATH_RING : 0;
	for (unsigned i = first; i < s->ndeaths; i++)
		if (now - s->deaths[i % DEATH_RING] < s->o.window_ms)
			n++;
	return n;
}

/* A worker of slot sl ended with wait status st. */
static void worker_ended(struct supervisor *s, struct slot *sl, int st, long long now)
{
	char how[96];
	status_text(how, sizeof how, st);
	pid_t dead = sl->pid;
	sl->pid = 0;
	if (s->stopping) {
		bool clean = (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
			     (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
		if (!clean)
			log_warn("supervisor: worker %d stopped (%s)", (int)dead, how);
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == SUPERVISE_EXIT_CONFIG) {
		log_err("supervisor: worker %d exited with status %d (its configuration is "
			"unusable); not replaced, stopping the pool",
			(int)dead, SUPERVISE_EXIT_CONFIG);
		s->status = SUPERVISE_EXIT_CONFIG;
		s->stopping = true;
		return;
	}
	s->deaths[s->ndeaths % DEATH_RING] = now;
	s->ndeaths++;
	int n = recent_deaths(s, now);
	sl->replaces = dead;
	if (n <= s->o.burst) {
		s->streak = 0;
		sl->delay_ms = 0;
		pid_t pid = slot_start(s, sl, now);
		if (pid > 0)
			log_err("supervisor: worker %d died (%s); replaced by %d", (int)dead, how,
				(int)pid);
		else
			log_err("supervisor: worker %d died (%s); replacing it in 1000 ms",
				(int)dead, how);
		return;
	}
	/* A crash loop: wait before the replacement, longer each time. */
	long long delay = s->o.backoff_ms;
	for (int i = 0; i < s->streak && delay < s->o.backoff_max_ms; i++)
		delay *= 2;
	if (delay > s->o.backoff_max_ms)
		delay = s->o.backoff_max_ms;
	s->streak++;
	sl->delay_ms = (int)delay;
	sl->due_ms = now + delay;
	log_err("supervisor: worker %d died (%s); crash loop (%d deaths within %d ms): "
		"replacing it in %lld ms",
		(int)dead, how, n, s->o.window_ms, delay);
}

/* Collects every ended worker. Returns how many were workers of ours. */
static int reap(struct supervisor *s)
{
	int n = 0, st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < s->o.workers; i++)
			if (s->slots[i].pid == pid) {
				worker_ended(s, &s->slots[i], st, now_ms());
				n++;
				break;
			}
	}
	return n;
}

/* Starts the pending slots that are due; returns the milliseconds until the
 * next one is (-1: none pending). */
static long long start_due(struct supervisor *s)
{
	long long next = -1, now = now_ms();
	for (int i = 0; i < s->o.workers; i++) {
		struct slot *sl = &s->slots[i];
		if (sl->pid != 0)
			continue;
		if (sl->due_ms <= now) {
			pid_t pid = slot_start(s, sl, now);
			if (pid > 0 && sl->replaces)
				log_info(
					"supervisor: worker %d started, replacing %d after a %d ms "
					"back-off",
					(int)pid, (int)sl->replaces, sl->delay_ms);
			else if (pid > 0)
				log_info("supervisor: worker %d started", (int)pid);
			if (pid > 0)
				continue;
		}
		long long wait = sl->due_ms - now;
		if (next < 0 || wait < next)
			next = wait;
	}
	return next;
}

static int live_workers(const struct supervisor *s)
{
	int n = 0;
	for (int i = 0; i < s->o.workers; i++)
		n += s->slots[i].pid > 0;
	return n;
}

/* SIGTERM to every worker, then wait for them; SIGKILL to those still there
 * after the stop timeout. */
static void stop_all(struct supervisor *s)
{
	for (int i = 0; i < s->o.workers; i++)
		if (s->slots[i].pid > 0)
			kill(s->slots[i].pid, SIGTERM);
	long long deadline = now_ms() + s->o.stop_timeout_ms;
	for (;;) {
		reap(s);
		if (live_workers(s) == 0)
			return;
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct timespec ts = {left / 1000, (long)(left % 1000) * 1000000L};
		sigtimedwait(&s->waited, NULL, &ts); /* SIGCHLD, or a repeated stop: both fine */
	}
	for (int i = 0; i < s->o.workers; i++) {
		pid_t pid = s->slots[i].pid;
		if (pid <= 0)
			continue;
		log_warn("supervisor: worker %d did not stop within %d ms; killed", (int)pid,
			 s->o.stop_timeout_ms);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		s->slots[i].pid = 0;
		if (s->status == 0)
			s->status = 1;
	}
}

/* SIGUSR1 (logrotate moved log_file): the supervisor reopens its own,
 * and each worker is told to reopen its, so one signal to the pool's pid
 * (systemd's MAINPID, spawn-fcgi's pid file) is enough. A worker started
 * later inherits the reopened file. */
static void forward_usr1(struct supervisor *s)
{
	if (log_reopen() != 0)
		log_warn("supervisor: SIGUSR1: cannot reopen the log file: %s", strerror(errno));
	int n = 0;
	for (int i = 0; i < s->o.workers; i++)
		if (s->slots[i].pid > 0 && kill(s->slots[i].pid, SIGUSR1) == 0)
			n++;
	log_info("supervisor: SIGUSR1: log reopened, forwarded to %d worker%s", n,
		 n == 1 ? "" : "s");
}

static int or_default(int v, int def)
{
	return v > 0 ? v : def;
}

int supervise_run(const struct supervise_opts *o)
{
	struct supervisor s;
	memset(&s, 0, sizeof s);
	s.o = *o;
	s.o.burst = or_default(o->burst, 5);
	s.o.window_ms = or_default(o->window_ms, 10000);
	s.o.backoff_ms = or_default(o->backoff_ms, 500);
	s.o.backoff_max_ms = or_default(o->backoff_max_ms, 30000);
	s.o.stop_timeout_ms = or_default(o->stop_timeout_ms, 10000);
	if (s.o.burst >= DEATH_RING)
		s.o.burst = DEATH_RING - 1;
	if (s.o.backoff_max_ms < s.o.backoff_ms)
		s.o.backoff_max_ms = s.o.backoff_ms;
	if (o->workers < 1 || o->workers > SUPERVISE_MAX_WORKERS || !o->worker) {
		log_err("supervisor: the worker count must be 1..%d, not %d", SUPERVISE_MAX_WORKERS,
			o->workers);
		return 1;
	}
	s.slots = calloc((size_t)o->workers, sizeof *s.slots);
	if (!s.slots) {
		log_err("supervisor: out of memory");
		return 1;
	}
	s.self = getpid();
	/* An ignored SIGCHLD, inherited from whoever started us, would have
	 * the kernel reap the workers unseen. */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&s.waited);
	sigaddset(&s.waited, SIGCHLD);
	sigaddset(&s.waited, SIGTERM);
	sigaddset(&s.waited, SIGINT);
	sigaddset(&s.waited, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s.waited, &s.old_mask);
	log_info("supervisor: keeping %d worker%s running", o->workers, o->workers == 1 ? "" : "s");

	while (!s.stopping) {
		reap(&s);
		if (s.stopping)
			break;
		long long wait = start_due(&s);
		if (wait < 0 || wait > 3600 * 1000)
			wait = 3600 * 1000;
		struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000L};
		siginfo_t si;
		int sig = sigtimedwait(&s.waited, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			int n = live_workers(&s);
			log_info("supervisor: SIG%s: stopping %d worker%s", sigabbrev_np(sig), n,
				 n == 1 ? "" : "s");
			s.stopping = true;
		} else if (sig == SIGUSR1) {
			forward_usr1(&s);
		}
	}
	stop_all(&s);
	sigprocmask(SIG_SETMASK, &s.old_mask, NULL);
	free(s.slots);
	log_info("supervisor: stopped");
	return s.status;
}

/* ---- the programs' main() ------------------------------------------------ */

struct program {
	struct worker_env env;
	int (*worker)(const struct worker_env *env);
};

static int program_worker(void *ctx)
{
	struct program *p = ctx;
	return p->worker(&p->env);
}

/* A worker count: digits only, 0..SUPERVISE_MAX_WORKERS; -1 otherwise. */
static int parse_count(const char *s)
{
	int n = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
		if (n > SUPERVISE_MAX_WORKERS)
			return -1;
	}
	return n;
}

/* --help and --version, wherever they are among the options (the operands
 * of -c and -w excepted): answered on stdout before anything is read, so
 * that they work without a configuration or a database. Returns 0 when
 * one was answered, -1 otherwise. */
static int program_info(int argc, char **argv, const char *program)
{
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-w") == 0) && i + 1 < argc) {
			i++;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", program, PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: %s [-c CONFIG] [-w WORKERS]\n"
			       "       %s --help | --version\n"
			       "  -c CONFIG   the configuration file (default: $DLCS_CONFIG;\n"
			       "              dlcs.conf(5), dlcs-admin config)\n"
			       "  -w WORKERS  processes the supervisor keeps running, 0..%d\n"
			       "              (default 1; 0: one, in this process, unsupervised)\n"
			       "See %s(8).\n",
			       program, program, SUPERVISE_MAX_WORKERS, program);
			return 0;
		}
	}
	return -1;
}

int supervise_program(int argc, char **argv, const char *program,
		      const struct settings_table *settings,
		      int (*worker)(const struct worker_env *env))
{
	log_set_program(program);
	if (program_info(argc, argv, program) == 0)
		return fflush(stdout) == 0 ? 0 : 1;
	const char *path = getenv("DLCS_CONFIG");
	int workers = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc &&
			   parse_count(argv[i + 1]) >= 0) {
			workers = parse_count(argv[++i]);
		} else if (strcmp(argv[i], "-w") == 0) {
			log_err("%s: -w takes the number of workers, 0..%d, not '%.100s'", program,
				SUPERVISE_MAX_WORKERS, i + 1 < argc ? argv[i + 1] : "");
			return 2;
		} else {
			log_err("usage: %s [-c CONFIG] [-w WORKERS]; unknown argument '%.100s'",
				program, argv[i]);
			return 2;
		}
	}
	char err[300];
	struct config *cfg = NULL;
	int crc = path ? config_load(path, settings, &cfg, err, sizeof err) : 0;
	if (crc) {
		log_err("%s: %s", path, err);
		return crc == CONFIG_EINVALID ? SUPERVISE_EXIT_CONFIG : 1;
	}
	if (!cfg)
		cfg = config_empty(settings);
	enum log_level level;
	if (!log_level_parse(setting_str(cfg, S_LOG_LEVEL), &level)) {
		log_err("%s: log_level: '%.40s' is none of debug, info, warn, error",
			path ? path : "(no configuration)", setting_str(cfg, S_LOG_LEVEL));
		config_free(cfg);
		return SUPERVISE_EXIT_CONFIG;
	}
	const char *log_file = setting_str(cfg, S_LOG_FILE);
	if (log_configure(level, log_file) != 0) {
		log_err("%s: log_file: cannot open %s: %s", path ? path : "(no configuration)",
			log_file, strerror(errno));
		config_free(cfg);
		return 1;
	}
	/* The pool's counters, mapped before the fork so every worker shares
	 * them; without them the pool still serves. */
	if (!metrics_open(setting_str(cfg, S_STORAGE_ROOT), program))
		log_warn("%s: metrics: cannot map %s/.metrics/%s: %s (not counting)", program,
			 setting_str(cfg, S_STORAGE_ROOT), program, strerror(errno));
	struct program p = {.env = {.cfg = cfg, .config_path = path, .argv0 = argv[0]},
			    .worker = worker};
	int rc;
	if (workers == 0) {
		rc = worker(&p.env);
	} else {
		struct supervise_opts o = {.workers = workers, .worker = program_worker, .ctx = &p};
		rc = supervise_run(&o);
	}
	config_free(cfg);
	return rc;
}
