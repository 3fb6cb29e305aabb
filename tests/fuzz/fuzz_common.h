/* SPDX-License-Identifier: MIT
 * fuzz_common.h: what the libFuzzer targets share: a CHECK that aborts (so
 * libFuzzer keeps the input), the one-line error contract, a scratch file. */
#ifndef SOFTREG_FUZZ_COMMON_H
#define SOFTREG_FUZZ_COMMON_H

#include "softreg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(c)                                                                        \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                        \
		}                                                                       \
	} while (0)

/* A library error: one non-empty line that starts with the name given. */
static inline void check_error(const char *err, const char *name)
{
	CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	CHECK(strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':');
}

/* Read every byte, so that ASan sees a short buffer. */
static volatile uint8_t fuzz_sink;
static inline void touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fuzz_sink ^= p[i];
}

static char scratch[512];

static void scratch_remove(void)
{
	unlink(scratch);
}

/* The scratch file of this process in $TMPDIR (scripts/fuzz points it at a
 * folder of its own), removed at exit. */
static inline const char *scratch_path(void)
{
	if (!scratch[0]) {
		const char *dir = getenv("TMPDIR");
		snprintf(scratch, sizeof(scratch), "%s/softreg-fuzz-%ld", dir && *dir ? dir : "/tmp", (long)getpid());
		atexit(scratch_remove);
	}
	return scratch;
}

static inline void write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
}

static inline uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	CHECK(f && fseek(f, 0, SEEK_END) == 0);
	long n = ftell(f);
	CHECK(n >= 0 && fseek(f, 0, SEEK_SET) == 0);
	uint8_t *b = malloc((size_t)n + 1);
	CHECK(b && fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

#endif
