/* fcgi/outage.c: one line when the database goes down, one every interval
 * while it stays down, one when it is back; none while it is up. */
#include "check.h"
#include "outage.h"

static void test_an_outage(void)
{
	struct outage o = {0};
	long long lasted = -1;
	CHECK(outage_note(&o, true, 1000, 30000, &lasted) == OUTAGE_QUIET);
	CHECK(lasted == 0);
	CHECK(outage_note(&o, false, 2000, 30000, &lasted) == OUTAGE_DOWN);
	CHECK(lasted == 0);
	/* retried every second: quiet until the interval has passed */
	for (long long t = 3000; t < 32000; t += 1000)
		CHECK(outage_note(&o, false, t, 30000, NULL) == OUTAGE_QUIET);
	CHECK(outage_note(&o, false, 32000, 30000, &lasted) == OUTAGE_STILL_DOWN);
	CHECK(lasted == 30000);
	CHECK(outage_note(&o, false, 33000, 30000, NULL) == OUTAGE_QUIET);
	CHECK(outage_note(&o, false, 62000, 30000, &lasted) == OUTAGE_STILL_DOWN);
	CHECK(lasted == 60000);
	CHECK(outage_note(&o, true, 62500, 30000, &lasted) == OUTAGE_BACK);
	CHECK(lasted == 60500);
	CHECK(outage_note(&o, true, 63000, 30000, NULL) == OUTAGE_QUIET);
	/* a second outage starts afresh */
	CHECK(outage_note(&o, false, 70000, 30000, &lasted) == OUTAGE_DOWN);
	CHECK(lasted == 0);
	CHECK(outage_note(&o, true, 70001, 30000, &lasted) == OUTAGE_BACK);
	CHECK(lasted == 1);
	/* a clock at 0 still marks an outage */
	struct outage z = {0};
	CHECK(outage_note(&z, false, 0, 30000, NULL) == OUTAGE_DOWN);
	CHECK(outage_note(&z, true, 5, 30000, NULL) == OUTAGE_BACK);
	CHECK(outage_clock_ms() > 0);
}

int main(void)
{
	test_an_outage();
	return check_done();
}
