/* The main of a fuzz driver in `make check`: runs LLVMFuzzerTestOneInput
 * over every file of the driver's checked-in corpus (tests/data/fuzz/NAME,
 * compiled in as FUZZ_CORPUS), or over the files and directories given as
 * arguments (a crash file from tests/fuzz/run, say). Each input is handed
 * over in a buffer of exactly its size, as libFuzzer does, so a read past
 * the end is a sanitizer report. A crash, a sanitizer report or an
 * invariant a driver checks ends the process before the summary line, which
 * fails the test; an unreadable file or an empty corpus counts as failed.
 * Prints "N passed, N failed" like the unit tests. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "str.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int passed, failed;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		failed++;
		return;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		fclose(f);
		failed++;
		return;
	}
	size_t size = (size_t)st.st_size;
	/* malloc(0) may return NULL; a one-byte block keeps the pointer valid
	 * while size says there is nothing to read. */
	uint8_t *data = malloc(size ? size : 1);
	if (!data || fread(data, 1, size, f) != size) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(data);
		fclose(f);
		failed++;
		return;
	}
	fclose(f);
	/* Named before it runs: when it crashes, the log says which. */
	printf("%s (%zu bytes)\n", path, size);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	passed++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: no such file or directory\n", path);
		failed++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		failed++;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				abort();
		}
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n])
			abort();
		xsnprintf(names[n], len, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	/* The same order on every machine. */
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		run_path(FUZZ_CORPUS);
	}
	if (passed == 0 && failed == 0) {
		fprintf(stderr, "no inputs found\n");
		failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
