/* The host's transcode slots: at most av_max_transcodes audio or video
 * items are worked on at once by the runners of one host, so that
 * transcodes, which take minutes, never hold every runner while images
 * wait. A slot is an flock on {storage_root}/.av-slots/{host}.{k}: held by
 * one runner process at a time, and let go by the kernel when that process
 * dies, however it dies. The host's name is part of the file's, so that
 * hosts sharing storage each have their own slots. */
#ifndef DLCS_INGEST_AV_SLOT_H
#define DLCS_INGEST_AV_SLOT_H

struct arena;

/* Takes a free slot of the n of `host` without waiting: its descriptor, or
 * -1 when all n are taken (or n is 0, or the files cannot be made: logged). */
int av_slot_take(struct arena *a, const char *root, const char *host, int n);
/* Lets the slot go (-1: nothing). */
void av_slot_give(int fd);

#endif
