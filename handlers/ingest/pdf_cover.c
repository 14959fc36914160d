/* The cover of a PDF projection (ingest/pdf_cover.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "files.h"
#include "log.h"
#include "str.h"
#include "ingest/child.h"
#include "ingest/origin.h"
#include "ingest/pdf_cover.h"
#include "ingest/pdf_write.h"
#include "ingest/runner.h"
#include "banned.h"

/* A rendered page can be no larger than A4 at 100 dpi as a JPEG. */
#define PAGE_MAX_BYTES (16LL * 1024 * 1024)
#define COVER_NICE     10

/* The first line Ghostscript wrote to its stderr, for the error. */
static const char *first_line(struct arena *a, const char *path)
{
	size_t len = 0;
	unsigned char *text = files_read(a, path, 64 * 1024, &len);
	if (!text)
		return "";
	size_t n = 0;
	while (n < len && n < 200 && text[n] != '\n' && text[n] >= 0x20 && text[n] < 0x7f)
		n++;
	return arena_printf(a, ": %.*s", (int)n, (const char *)text);
}

/* Renders pdf's first pages into dir/page-NNN.jpg. NULL or why not. */
static const char *render(struct arena *a, const char *dir, const char *pdf,
			  bool (*keep_going)(void *), void *ctx)
{
	const char *gs = child_find(a, "gs");
	if (!gs)
		return "Ghostscript (gs) is not installed on the runner's host";
	const char *last = arena_printf(a, "-dLastPage=%d", PDF_COVER_MAX_PAGES);
	const char *const argv[] = {"gs",
				    "-q",
				    "-dSAFER",
				    "-dBATCH",
				    "-dNOPAUSE",
				    "-dNOPROMPT",
				    "-sDEVICE=jpeg",
				    "-dJPEGQ=85",
				    "-r100",
				    "-sPAPERSIZE=a4",
				    "-dFIXEDMEDIA",
				    "-dPDFFitPage",
				    "-dFirstPage=1",
				    last,
				    "-sOutputFile=page-%03d.jpg",
				    "-f",
				    pdf,
				    NULL};
	const char *err = arena_printf(a, "%s/gs.err", dir);
	struct child_spec s = {.path = gs,
			       .argv = argv,
			       .cwd = dir,
			       .err_file = err,
			       .nice = COVER_NICE,
			       .timeout_ms = PDF_COVER_TIMEOUT_MS,
			       .keep_going = keep_going,
			       .ctx = ctx};
	struct child_result r;
	child_run(&s, &r);
	switch (r.end) {
	case CHILD_EXITED:
		if (r.status == 0)
			return NULL;
		log_warn("coverpage: gs exited %d%s", r.status, first_line(a, err));
		return arena_printf(a, "Ghostscript could not read it (exit %d)", r.status);
	case CHILD_TIMEOUT:
		return arena_printf(a, "Ghostscript took longer than %d s",
				    PDF_COVER_TIMEOUT_MS / 1000);
	case CHILD_STOPPED:
		return "stopped (the lease was lost)";
	case CHILD_NO_START:
		break;
	}
	return arena_printf(a, "Ghostscript could not be started: %s", strerror(r.status));
}

/* What went wrong with the fetch, for anyone to read (no URL, no address). */
static const char *fetch_problem(struct arena *a, enum origin_status st, long http_status)
{
	switch (st) {
	case ORIGIN_BAD_URL:
		return "coverpage: its URL is refused (scheme, form or address)";
	case ORIGIN_UNREACHABLE:
		return "coverpage: unreachable";
	case ORIGIN_HTTP_ERROR:
		return arena_printf(a, "coverpage: answered HTTP %ld", http_status);
	case ORIGIN_TOO_LARGE:
		return "coverpage: larger than origin_max_bytes";
	case ORIGIN_EMPTY:
		return "coverpage: empty";
	case ORIGIN_OK:
	case ORIGIN_LOCAL_ERROR:
		break;
	}
	return "coverpage: could not be fetched";
}

const char *pdf_cover_add(struct runner *rn, struct arena *a, int c, const char *url,
			  const char *work_dir, struct pdf_writer *w, bool (*keep_going)(void *),
			  void *ctx)
{
	if (mkdir(work_dir, 0700) != 0)
		return arena_printf(a, "cannot create %s: %s", work_dir, strerror(errno));
	const char *pdf = arena_printf(a, "%s/cover.pdf", work_dir);
	struct origin_fetch f;
	memset(&f, 0, sizeof f);
	enum origin_status st = origin_fetch(rn->db, a, rn->cfg, c, url, pdf, &f);
	if (st != ORIGIN_OK) {
		/* the detail to the log: the projection's error is public */
		log_warn("coverpage of customer %d: %s", c, f.error);
		return fetch_problem(a, st, f.http_status);
	}
	char head[5] = {0};
	int fd = open(pdf, O_RDONLY | O_CLOEXEC);
	bool is_pdf = fd >= 0 && read(fd, head, sizeof head) == (ssize_t)sizeof head &&
		      memcmp(head, "%PDF-", 5) == 0;
	if (fd >= 0)
		close(fd);
	if (!is_pdf)
		return "coverpage: not a PDF (it does not start with %PDF-)";
	const char *why = render(a, work_dir, pdf, keep_going, ctx);
	if (why)
		return arena_printf(a, "coverpage: %s", why);
	int pages = 0;
	for (int i = 1; i <= PDF_COVER_MAX_PAGES; i++) {
		size_t len = 0;
		unsigned char *jpeg = files_read(
			a, arena_printf(a, "%s/page-%03d.jpg", work_dir, i), PAGE_MAX_BYTES, &len);
		if (!jpeg)
			break;
		if (pdf_add_jpeg(w, jpeg, len) != 0)
			return arena_printf(a, "coverpage: page %d could not be added", i);
		pages++;
	}
	return pages ? NULL : "coverpage: Ghostscript rendered no page";
}
