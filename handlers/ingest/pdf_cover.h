/* The cover of a PDF projection: the named query's `coverpage` (CONTRACT
 * section 10, "coverpage prepended when given"), a URL of a PDF. It is
 * fetched like an origin (ingest/origin.h: the address guard, the size cap,
 * the customer's origin strategies), and its first pages are rendered to
 * JPEG by Ghostscript, run as a child process (ingest/child.h: no shell,
 * -dSAFER, a time limit, niced, killed with the runner), each page fitted
 * to A4 at 100 dpi whatever its own size, so that no PDF can ask for a
 * raster of any size. The JPEGs become the projection's first pages. The
 * cover is read once, when the projection is made: a new cover at the same
 * URL shows when the query's result changes. */
#ifndef DLCS_INGEST_PDF_COVER_H
#define DLCS_INGEST_PDF_COVER_H

#include <stdbool.h>

struct arena;
struct pdf_writer;
struct runner;

/* The most pages of a cover, the time Ghostscript may take for them. */
#define PDF_COVER_MAX_PAGES  10
#define PDF_COVER_TIMEOUT_MS 60000

/* Adds the pages of the cover at url (customer c's) to w, using work_dir (a
 * new directory the caller removes afterwards). keep_going(ctx) is asked
 * while Ghostscript runs (false stops it). NULL, or why not (arena text,
 * naming the URL's problem, never its credentials). */
const char *pdf_cover_add(struct runner *rn, struct arena *a, int c, const char *url,
			  const char *work_dir, struct pdf_writer *w, bool (*keep_going)(void *),
			  void *ctx);

#endif
