/* Where an asset's files live on disk (shared storage in a multi-host
 * deployment): {storage_root}/{customer}/{space}/{id}/ holds the original,
 * tiles/, thumbs/, s.json and info.txt (see derive.h). A new version is
 * built in {storage_root}/.work/ and swapped in atomically, so readers
 * (nginx serving tiles) never see a half-written asset. */
#ifndef DLCS_STORE_H
#define DLCS_STORE_H

#include <stddef.h>

struct arena;

const char *store_asset_dir(struct arena *a, const char *root, int c, int s, const char *id);
/* Creates and returns a new empty work directory under {root}/.work/. */
const char *store_work_dir(struct arena *a, const char *root, const char *tag, char *err,
			   size_t errlen);
/* Puts work_dir in place of final_dir (creating parents), atomically
 * exchanging with an existing version, which is then deleted. 0 or -1. */
int store_install(struct arena *a, const char *work_dir, const char *final_dir, char *err,
		  size_t errlen);
/* Deletes an asset's directory (missing is fine). 0 or -1. */
int store_remove(struct arena *a, const char *root, int c, int s, const char *id);
/* Deletes a tree (no symlinks followed). 0 or -1. */
int store_rm_rf(const char *path);
/* Removes work directories "{prefix}{pid}-..." under {root}/.work/ whose
 * pid no longer runs on this host (left by a runner that was killed). */
void store_clean_stale(struct arena *a, const char *root, const char *prefix);
/* Total bytes of regular files under path, excluding `except_subdir` (NULL: none). */
long long store_du(struct arena *a, const char *path, const char *except_subdir);

#endif
