/* The external role provider's check (api/auth_flow.h): the token a user
 * typed is POSTed to the URL the customer configured, which answers the
 * role URIs it grants. The URL is the customer's own choice, so only http
 * and https are allowed, no redirect is followed, every address connected
 * to meets the origin guard (an SSRF otherwise: the API workers would POST
 * to loopback services or the cloud metadata endpoint for anyone who can
 * configure a provider), and the answer is read only as a JSON array of
 * strings, never shown. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "req.h"
#include "str.h"
#include "asset/origin_guard.h"
#include "asset/settings.h"
#include "api/auth_flow.h"
#include "banned.h"

#define ANSWER_MAX 65536

struct answer {
	struct sbuf b;
	size_t n;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct answer *a = ctx;
	size_t n = size * nmemb;
	if (a->n + n > ANSWER_MAX) {
		a->too_big = true;
		return 0;
	}
	sbuf_add(&a->b, p, n);
	a->n += n;
	return n;
}

/* The guard and what it refused, for libcurl's socket opener. */
struct guard {
	struct origin_guard allow;
	bool refused;
	char address[INET6_ADDRSTRLEN + 16];
};

/* libcurl's socket opener: each address the transfer is about to connect
 * to (whatever DNS answered at that moment) is judged here; a refused one
 * gets no socket, so nothing is sent to it. */
static curl_socket_t guarded_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct guard *g = arg;
	char text[INET6_ADDRSTRLEN + 16];
	if (purpose != CURLSOCKTYPE_IPCXN ||
	    !origin_guard_allows(&g->allow, &addr->addr, addr->addrlen, text, sizeof text)) {
		g->refused = true;
		xsnprintf(g->address, sizeof g->address, "%s", text[0] ? text : "?");
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

const char *auth_external_roles(struct req *rq, const struct db_rows *svc, int cfg_col,
				int cred_col, const char *token, bool *refused)
{
	if (refused)
		*refused = false;
	/* checked when the configuration is loaded: a list the guard refuses
	 * never gets here, but a guard other than the configured one must
	 * never fetch */
	struct guard g = {.refused = false, .address = ""};
	char err[200];
	if (origin_guard_parse(&g.allow, setting_str(rq->app->cfg, S_ORIGIN_ALLOW_NETWORKS), err,
			       sizeof err) != 0) {
		log_err("external role provider: %s", err);
		return NULL;
	}
	const char *cfg_text = db_str(svc, 0, (size_t)cfg_col),
		   *cred_text = db_str(svc, 0, (size_t)cred_col);
	yajl_val cfg = cfg_text ? json_parse(rq->arena, cfg_text, strlen(cfg_text), NULL) : NULL;
	yajl_val url = cfg ? json_get(cfg, "url") : NULL;
	if (!url || !YAJL_IS_STRING(url))
		return NULL;
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	char *enc = curl_easy_escape(h, token, 0);
	const char *form = enc ? arena_printf(rq->arena, "token=%s", enc) : NULL;
	curl_free(enc);
	struct answer a = {.n = 0, .too_big = false};
	sbuf_init(&a.b, rq->arena);
	long code = 0;
	bool ok = form != NULL;
	if (ok) {
		curl_easy_setopt(h, CURLOPT_URL, url->u.string);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
		/* no proxy from the environment: the guard judges the address
		 * connected to, which must be the provider's */
		ok = curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guarded_socket) == CURLE_OK &&
		     curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &g) == CURLE_OK;
		yajl_val cred = cred_text
					? json_parse(rq->arena, cred_text, strlen(cred_text), NULL)
					: NULL;
		yajl_val user = cred ? json_get(cred, "user") : NULL,
			 pw = cred ? json_get(cred, "password") : NULL;
		if (user && pw && YAJL_IS_STRING(user) && YAJL_IS_STRING(pw)) {
			curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(h, CURLOPT_USERNAME, user->u.string);
			curl_easy_setopt(h, CURLOPT_PASSWORD, pw->u.string);
		}
		CURLcode rc = ok ? curl_easy_perform(h) : CURLE_FAILED_INIT;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		ok = rc == CURLE_OK && code == 200 && !a.too_big;
		if (rc != CURLE_OK && g.refused)
			log_warn("external role provider: address %s is not allowed "
				 "(origin_allow_networks)",
				 g.address);
		else if (rc != CURLE_OK)
			log_info("external role provider: %s", curl_easy_strerror(rc));
		if (refused)
			*refused = rc != CURLE_OK && g.refused;
	}
	curl_easy_cleanup(h);
	if (!ok)
		return NULL;
	yajl_val v = json_parse(rq->arena, a.b.buf, a.n, NULL);
	if (!v || !YAJL_IS_ARRAY(v))
		return NULL;
	for (size_t i = 0; i < v->u.array.len; i++)
		if (!YAJL_IS_STRING(v->u.array.values[i]))
			return NULL;
	return json_to_text(rq->arena, v);
}
