/* See runners.h. */
#include "db.h"
#include "asset/runners.h"
#include "banned.h"

int runners_beat(struct db *db, const char *owner, const char *host, int pid)
{
	long long rc = db_exec(db,
			       "INSERT INTO runners (owner, host, pid, started, heartbeat)"
			       " VALUES (?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
			       " ON DUPLICATE KEY UPDATE heartbeat = UTC_TIMESTAMP(6)",
			       "ssi", owner, host, pid);
	return rc < 0 ? (int)rc : DB_OK;
}

int runners_gone(struct db *db, const char *owner)
{
	long long rc = db_exec(db, "DELETE FROM runners WHERE owner = ?", "s", owner);
	return rc < 0 ? (int)rc : DB_OK;
}

int runners_prune(struct db *db)
{
	long long rc = db_exec(
		db, "DELETE FROM runners WHERE heartbeat < UTC_TIMESTAMP(6) - INTERVAL 1 DAY", "");
	return rc < 0 ? (int)rc : DB_OK;
}
