/* Saying that something a process depends on (the database) is down,
 * neither once only nor on every retry: once when it goes down, again
 * every `interval_ms` while it stays down, and once when it is back, each
 * with how long it has been. A runner whose database is unreachable at
 * start used to log "started" and then nothing while it retried. The
 * caller keeps the struct (zeroed) and writes the log line the answer asks
 * for; the clock is passed in, so that the rule is tested without waiting. */
#ifndef DLCS_OUTAGE_H
#define DLCS_OUTAGE_H

#include <stdbool.h>

struct outage {
	long long since_ms;  /* when the current outage began; 0: none */
	long long logged_ms; /* when it was last reported */
};

enum outage_say {
	OUTAGE_QUIET,      /* nothing to say */
	OUTAGE_DOWN,       /* it just went down */
	OUTAGE_STILL_DOWN, /* still down, interval_ms after the last line */
	OUTAGE_BACK,       /* it is back after an outage */
};

/* Records one attempt (ok or not) at now_ms and says what to log.
 * *lasted_ms, when not NULL, is how long the outage has lasted (for
 * OUTAGE_STILL_DOWN and OUTAGE_BACK). */
enum outage_say outage_note(struct outage *o, bool ok, long long now_ms, long long interval_ms,
			    long long *lasted_ms);

/* The monotonic clock in ms, for now_ms. */
long long outage_clock_ms(void);

#endif
