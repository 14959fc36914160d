/* See outage.h. */
#include <time.h>

#include "outage.h"
#include "banned.h"

enum outage_say outage_note(struct outage *o, bool ok, long long now_ms, long long interval_ms,
			    long long *lasted_ms)
{
	if (now_ms <= 0) /* 0 marks "no outage" */
		now_ms = 1;
	long long lasted = o->since_ms ? now_ms - o->since_ms : 0;
	if (lasted_ms)
		*lasted_ms = lasted;
	if (ok) {
		if (!o->since_ms)
			return OUTAGE_QUIET;
		*o = (struct outage){0};
		return OUTAGE_BACK;
	}
	if (!o->since_ms) {
		o->since_ms = o->logged_ms = now_ms;
		return OUTAGE_DOWN;
	}
	if (now_ms - o->logged_ms < interval_ms)
		return OUTAGE_QUIET;
	o->logged_ms = now_ms;
	return OUTAGE_STILL_DOWN;
}

long long outage_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
