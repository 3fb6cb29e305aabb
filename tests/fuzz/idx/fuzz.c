/* SPDX-License-Identifier: MIT
 * fuzz target: the IDX reader. The first byte picks the path:
 *   mode 0: softreg_idx_parse() on the rest, in memory;
 *   mode 1: the rest written to a file as is, read by softreg_idx_read()
 *           (the raw path, or the gzip path when it starts with 1f 8b);
 *   mode 2: the rest gzipped, then read by softreg_idx_read().
 * Bit 7 sets a small byte limit. Modes 1 (raw) and 2 must agree with the
 * memory parser on the same IDX bytes: same verdict, same dims and data. */
#include "../fuzz_common.h"

#include <zlib.h>

static void write_gzip(const char *path, const uint8_t *data, size_t size)
{
	gzFile g = gzopen(path, "wb1");
	CHECK(g != NULL);
	CHECK(size == 0 || gzwrite(g, data, (unsigned)size) == (int)size);
	CHECK(gzclose(g) == Z_OK);
}

static void check_same(const struct softreg_idx *a, const struct softreg_idx *b)
{
	CHECK(a->ndim == b->ndim && a->nbytes == b->nbytes);
	CHECK(memcmp(a->dims, b->dims, a->ndim * sizeof(a->dims[0])) == 0);
	CHECK(memcmp(a->data, b->data, a->nbytes) == 0);
}

static void check_ok(const struct softreg_idx *x, uint64_t limit)
{
	CHECK(x->ndim == 1 || x->ndim == 3);
	size_t n = 1;
	for (size_t i = 0; i < x->ndim; i++)
		n *= x->dims[i];
	CHECK(n == x->nbytes && n > 0 && (limit == 0 || n <= limit));
	touch(x->data, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	int mode = data[0] % 3;
	uint64_t limit = data[0] & 0x80 ? 4096 : 0;
	data++, size--;
	char err[SOFTREG_ERRLEN];
	struct softreg_idx mem, file;
	enum softreg_result rm = softreg_idx_parse(data, size, "mem", limit, &mem, err);
	if (rm)
		check_error(err, "mem");
	else
		check_ok(&mem, limit);
	if (mode == 0) {
		softreg_idx_free(&mem);
		return 0;
	}
	const char *path = scratch_path();
	if (mode == 1)
		write_file(path, data, size);
	else
		write_gzip(path, data, size);
	enum softreg_result rf = softreg_idx_read(path, limit, &file, err);
	if (rf)
		check_error(err, path);
	else
		check_ok(&file, limit);
	bool gz_input = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	if (mode == 2 || !gz_input) {
		CHECK((rm == SOFTREG_OK) == (rf == SOFTREG_OK));
		if (rm == SOFTREG_OK)
			check_same(&mem, &file);
	}
	softreg_idx_free(&mem);
	softreg_idx_free(&file);
	return 0;
}
