/* Log lines go to stderr (spawn-fcgi or systemd point it at a file or the
 * journal, or log_file does), one write per line so concurrent workers
 * never interleave within a line (O_APPEND). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "banned.h"

/* Process state of the log, set once at start (log_configure) and read by
 * the SIGUSR1 handler: the one place it lives. */
static const char *program = "dlcs";
static enum log_level min_level = LOG_INFO;
static char log_path[4096]; /* "" when lines stay on the inherited stderr */

static const char *const LEVEL_NAMES[] = {
	[LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn", [LOG_ERROR] = "error"};

bool log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; name && i < sizeof LEVEL_NAMES / sizeof *LEVEL_NAMES; i++)
		if (strcasecmp(name, LEVEL_NAMES[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	return false;
}

int log_reopen(void)
{
	if (!log_path[0])
		return 0;
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	int rc = fd == STDERR_FILENO ? 0 : dup2(fd, STDERR_FILENO);
	if (fd != STDERR_FILENO)
		close(fd);
	return rc < 0 ? -1 : 0;
}

/* SIGUSR1: logrotate has moved the file; lines go to a new one at the
 * configured name. A failure keeps the old file (nothing to log it to). */
static void on_usr1(int sig)
{
	(void)sig;
	int saved = errno;
	(void)log_reopen();
	errno = saved;
}

int log_configure(enum log_level level, const char *file)
{
	min_level = level;
	/* SIGUSR1 harmless from here on, with a file or without: logrotate's
	 * postrotate and the supervisor's forward reach every process. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* a reopen interrupts nothing */
	sigaction(SIGUSR1, &sa, NULL);
	if (!file || !*file)
		return 0;
	size_t n = strlen(file);
	if (n >= sizeof log_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(log_path, file, n + 1);
	if (log_reopen() != 0) {
		log_path[0] = '\0';
		return -1;
	}
	return 0;
}

void log_set_program(const char *name)
{
	program = name;
}

static void log_line(enum log_level lv, const char *fmt, va_list ap)
{
	if (lv < min_level)
		return;
	const char *level = LEVEL_NAMES[lv];
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, program, (int)getpid(), level);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
	if (m >= 0)
		len += (size_t)m;
	/* An over-long line is cut on purpose here (a log line is not data), and
	 * marked so nobody mistakes it for the whole message. */
	if (len >= sizeof line - 1) {
		len = sizeof line - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	}
	/* Control characters from client input never reach the log verbatim. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void log_debug(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(LOG_WARN, fmt, ap);
	va_end(ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line(LOG_ERROR, fmt, ap);
	va_end(ap);
}
