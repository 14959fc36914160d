/* The renderer of the custom-headers include, a thread of each runner
 * process: one of the host's runners at a time (the one holding an flock of
 * "{nginx_custom_headers}.renderer"; when it dies, the lock passes to
 * another within a second) follows the custom headers' change counter
 * (asset/change_counter.h) that the API moves on, and after a burst of
 * changes has settled renders the include and installs it into nginx
 * (asset/nginx_reload.h: tested with nginx -t, then one reload), so that
 * twenty changes in a row cost one reload, not twenty. It also renders when
 * it takes the lock, and every minute without a change (a change made with
 * a SQL client, or one whose counter bump was lost, shows up then: an
 * unchanged rendering costs no reload). */
#ifndef DLCS_INGEST_HEADERS_RENDERER_H
#define DLCS_INGEST_HEADERS_RENDERER_H

#include <pthread.h>
#include <stdbool.h>

#include "asset/nginx_reload.h"

struct config;

struct headers_renderer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct config *cfg;
	struct nginx_target target;
	bool started;
	bool quit;
};

/* Starts the thread (with its own database connection, made from cfg, which
 * must outlive it) when nginx_custom_headers is set; else nothing runs. 0,
 * or -1 after logging. */
int headers_renderer_start(struct headers_renderer *hr, const struct config *cfg);
/* Stops the thread (after the rendering in hand, if any) and frees what it
 * made. */
void headers_renderer_stop(struct headers_renderer *hr);

#endif
