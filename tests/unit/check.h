/* A minimal unit-test harness: CHECK counts, check_done() prints the
 * closing "N passed, N failed" line and gives the exit status. Unit tests
 * #include the .c under test when they need its static functions. */
#ifndef DLCS_CHECK_H
#define DLCS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond) {                                                                        \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                                             \
			check_passed++;                                                            \
		} else {                                                                           \
			check_failed++;                                                            \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:  %s\n  want: %s\n",   \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		}                                                                                  \
	} while (0)

/* A new private directory /tmp/dlcs-{tag}-{six random characters} for one
 * test, made by mkdtemp (which replaces the template's last six 'X's),
 * into buf; NULL, reported, when it cannot be made. */
static inline char *check_tmpdir(char *buf, size_t len, const char *tag)
{
	int n = snprintf(buf, len, "/tmp/dlcs-%s-", tag);
	if (n < 0 || (size_t)n + 7 > len) {
		fprintf(stderr, "check_tmpdir: the name of '%s' is too long\n", tag);
		return NULL;
	}
	memset(buf + n, 'X', 6);
	buf[n + 6] = '\0';
	if (!mkdtemp(buf)) {
		perror(buf);
		return NULL;
	}
	return buf;
}

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
