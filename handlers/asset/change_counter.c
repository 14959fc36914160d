/* Change counters (asset/change_counter.h). */
#include "db.h"
#include "asset/change_counter.h"
#include "banned.h"

static const char SQL_BUMP[] = "INSERT INTO change_counters (name, generation) VALUES (?, 1)"
			       " ON DUPLICATE KEY UPDATE generation = generation + 1";
static const char SQL_READ[] = "SELECT generation FROM change_counters WHERE name = ?";

int change_counter_bump(struct db *db, const char *name)
{
	return db_exec(db, SQL_BUMP, "s", name) < 0 ? -1 : 0;
}

long long change_counter_read(struct db *db, struct arena *a, const char *name)
{
	struct db_rows *r = db_query(db, a, SQL_READ, "s", name);
	if (!r)
		return -1;
	return r->n ? db_int(r, 0, 0) : 0;
}
