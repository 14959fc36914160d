/* Schema migrations: schema/NNN-what.sql applied in order, each recorded in
 * schema_migrations, under a named lock so concurrent starters (several
 * hosts sharing one database) apply each exactly once. */
#ifndef DLCS_MIGRATE_H
#define DLCS_MIGRATE_H

struct db;

/* Applies every migration in dir not yet recorded. Returns 0, or -1 after
 * logging which file and statement failed. */
int migrate_apply(struct db *db, const char *dir);

#endif
