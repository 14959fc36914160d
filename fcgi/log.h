/* One line per event to stderr: time, pid, level, message. Never keys or bodies. */
#ifndef DLCS_LOG_H
#define DLCS_LOG_H

void log_set_program(const char *name);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
