/* fcgi-floor: what the FastCGI path alone costs, for manifest-bench's row
 * "f". A libfcgi responder that answers every request with a file's bytes,
 * read into memory once: no database, no JSON, no fragment, so nginx
 * relaying its answer is the most any manifest built by a libfcgi worker
 * could reach on this machine.
 *
 * Usage: fcgi-floor SOCKET FILE WORKERS  (runs until killed) */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *slurp(const char *path, long *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *body = NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (*len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (body = malloc((size_t)*len)) && fread(body, 1, (size_t)*len, f) != (size_t)*len) {
		free(body);
		body = NULL;
	}
	fclose(f);
	return body;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fcgi-floor SOCKET FILE WORKERS\n");
		return 2;
	}
	long len = 0;
	char *body = slurp(argv[2], &len);
	if (!body) {
		perror(argv[2]);
		return 1;
	}
	if (FCGX_Init() != 0)
		return 1;
	int sock = FCGX_OpenSocket(argv[1], 64);
	/* nginx's workers may run as another user */
	if (sock < 0 || chmod(argv[1], 0666) != 0) {
		perror(argv[1]);
		return 1;
	}
	/* as many processes on the one socket as dlcs-api has workers */
	for (int i = 1; i < atoi(argv[3]); i++)
		if (fork() == 0)
			break;
	FCGX_Request rq;
	if (FCGX_InitRequest(&rq, sock, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&rq) >= 0) {
		FCGX_FPrintF(rq.out,
			     "Status: 200 OK\r\nContent-Type: application/ld+json\r\n"
			     "Content-Length: %ld\r\n\r\n",
			     len);
		FCGX_PutStr(body, (int)len, rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
