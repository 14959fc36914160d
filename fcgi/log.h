/* One line per event: time, pid, level, message. Never keys or bodies.
 * Lines go to stderr, which log_configure may point at a file (log_file)
 * that SIGUSR1 reopens (after logrotate moved it). */
#ifndef DLCS_LOG_H
#define DLCS_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_program(const char *name);

/* The level named (debug, info, warn, error) into *out; false for another
 * name. */
bool log_level_parse(const char *name, enum log_level *out);

/* Lines below `level` are dropped. When file is set, stderr becomes that
 * file (opened to append, created 0640) and SIGUSR1 reopens it, in this
 * process and every one it forks (without a file SIGUSR1 does nothing,
 * rather than end the process). 0, or -1 with errno when the file cannot
 * be opened (stderr is left as it was). */
int log_configure(enum log_level level, const char *file);

/* stderr pointed anew at the configured file (logrotate moved it): what
 * SIGUSR1 does, for a process that takes the signal itself (the pool
 * supervisor). 0, also without a file; -1 keeps the old file. Only
 * async-signal-safe calls. */
int log_reopen(void);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
