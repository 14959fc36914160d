/* What the fuzz drivers share: an invariant that aborts (libFuzzer and the
 * standalone main both report it as a crash), and one arena per process,
 * reset before every input. */
#ifndef DLCS_FUZZ_H
#define DLCS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The arena for this input: everything a driver allocates dies at the next. */
static inline struct arena *fuzz_arena(void)
{
	static struct arena *a;
	if (!a)
		a = arena_new(64 * 1024);
	arena_reset(a);
	return a;
}

#endif
