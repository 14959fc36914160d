/* Builds a struct req for unit tests without FastCGI: the environment is a
 * NULL-terminated list of "NAME=value" strings. */
#ifndef DLCS_FAKE_REQ_H
#define DLCS_FAKE_REQ_H

#include <string.h>

#include "app.h"
#include "arena.h"
#include "req.h"

static inline const char *fake_getenv(void *ctx, const char *name)
{
	const char *const *env = ctx;
	size_t n = strlen(name);
	for (; env && *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static inline void fake_req(struct req *rq, struct arena *a, struct app *app, enum http_method m,
			    const char *path, const char *const *env)
{
	memset(rq, 0, sizeof *rq);
	rq->arena = a;
	rq->app = app;
	rq->method = m;
	rq->path = path;
	rq->query = "";
	rq->base_url = "http://h";
	rq->getenv = fake_getenv;
	rq->env_ctx = (void *)env;
}

#endif
