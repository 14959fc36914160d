/* The benchmark's floor: a trivial libfcgi responder that answers every
 * request 200 with a small fixed JSON body. It uses the same libfcgi calls as
 * the real core (fcgi/serve.c: FCGX_Accept_r / FCGX_PutStr / FCGX_Finish_r on
 * one reused request, response headers with Content-Length), so the only
 * difference from dlcs-api is the work done per request. tests/bench/api-bench
 * builds it with `gcc -O2 floor.c -lfcgi` and spawns it with spawn-fcgi
 * behind the same nginx as the API.
 *
 * Not part of the product: never linked into dlcs-api. */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stopping;

/* FCGX_ShutdownPending (it only sets a flag, safe in a handler) makes libfcgi
 * return from FCGX_Accept_r instead of going back to accept(): a worker whose
 * kept-alive nginx connection is idle when the signal comes would otherwise
 * drop that connection, block in accept() again and ignore this SIGTERM. */
static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static const char body[] =
	"{\"@context\":\"https://dlcs.github.io/vocab/context/future.json\","
	"\"@id\":\"http://127.0.0.1/floor\",\"@type\":\"vocab:Floor\",\"ok\":true}\n";

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: accept() returns */
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char head[256];
	int head_len = snprintf(head, sizeof head,
				"Status: 200 OK\r\nContent-Type: application/ld+json\r\n"
				"Content-Length: %zu\r\nAccess-Control-Allow-Origin: *\r\n\r\n",
				sizeof body - 1);
	if (head_len < 0 || (size_t)head_len >= sizeof head)
		return 1;

	if (FCGX_Init() != 0)
		return 1;
	FCGX_Request r;
	if (FCGX_InitRequest(&r, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return 1;
	while (!stopping) {
		if (FCGX_Accept_r(&r) < 0) {
			if (!stopping && errno == EINTR)
				continue;
			break;
		}
		FCGX_PutStr(head, head_len, r.out);
		FCGX_PutStr(body, (int)(sizeof body - 1), r.out);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 1);
	return 0;
}
