/* SPDX-License-Identifier: MIT
 * fuzz target: the PGM reader (softreg_pgm_parse). A rejected input gives a
 * one-line error; an accepted one gives rows x cols readable pixels, which
 * written back as a P5 of maxval 255 parse to the same pixels. */
#include "../fuzz_common.h"

static uint8_t *as_p5(const uint8_t *px, size_t rows, size_t cols, size_t *len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "P5\n%zu %zu\n255\n", cols, rows);
	CHECK(n > 0 && (size_t)n < sizeof(head));
	uint8_t *b = malloc((size_t)n + rows * cols);
	CHECK(b != NULL);
	memcpy(b, head, (size_t)n);
	memcpy(b + n, px, rows * cols);
	*len = (size_t)n + rows * cols;
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	char err[SOFTREG_ERRLEN];
	uint8_t *px = NULL, *px2 = NULL;
	size_t rows = 0, cols = 0, rows2 = 0, cols2 = 0;
	if (softreg_pgm_parse(data, size, "pgm", &px, &rows, &cols, err)) {
		CHECK(px == NULL);
		check_error(err, "pgm");
		return 0;
	}
	CHECK(px != NULL && rows >= 1 && cols >= 1 && rows <= 65535 && cols <= 65535);
	size_t len;
	uint8_t *p5 = as_p5(px, rows, cols, &len);
	CHECK(softreg_pgm_parse(p5, len, "p5", &px2, &rows2, &cols2, err) == SOFTREG_OK);
	CHECK(rows2 == rows && cols2 == cols && memcmp(px, px2, rows * cols) == 0);
	free(p5);
	free(px);
	free(px2);
	return 0;
}
