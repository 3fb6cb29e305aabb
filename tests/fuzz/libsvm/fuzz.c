/* SPDX-License-Identifier: MIT
 * fuzz target: the libsvm reader. The first byte picks the options: bit 0
 * zero_based, bits 1-2 opts.d of 0, 1, 3 or 8. With bit 3 the rest is also
 * written to a file and read back in blocks of 1 + 5 * (bits 4-7) bytes (15:
 * the reader's 1 MiB), which must agree with softreg_libsvm_parse() exactly:
 * the same message, or the same n, d, dropped and CSR arrays. An accepted
 * input holds the CSR invariants. */
#include "../fuzz_common.h"
#include "../../../src/numparse.h"

#include <math.h>

static void check_ok(const struct softreg_dataset *ds, size_t d_opt)
{
	const struct softreg_source *x = &ds->x;
	CHECK(x->kind == SOFTREG_SOURCE_CSR && ds->n >= 1 && ds->n == x->n && ds->d == x->d && ds->d >= 1);
	CHECK(ds->d <= SOFTREG_MAX_FEATURES && ds->rows == 1 && ds->cols == ds->d && ds->labels && !ds->y);
	CHECK(d_opt ? ds->d == d_opt : ds->dropped == 0);
	CHECK(x->indptr[0] == 0);
	for (size_t i = 0; i < ds->n; i++) {
		CHECK(x->indptr[i] <= x->indptr[i + 1]);
		for (uint64_t k = x->indptr[i]; k < x->indptr[i + 1]; k++) {
			CHECK(x->indices[k] < ds->d && (k == x->indptr[i] || x->indices[k] > x->indices[k - 1]));
			CHECK(isfinite(x->values[k]) && x->values[k] != 0);
		}
	}
	touch((const uint8_t *)ds->labels, ds->n * sizeof(int64_t));
}

static void check_same(const struct softreg_dataset *a, const struct softreg_dataset *b)
{
	CHECK(a->n == b->n && a->d == b->d && a->dropped == b->dropped);
	size_t nnz = a->x.indptr[a->n];
	CHECK(memcmp(a->x.indptr, b->x.indptr, (a->n + 1) * sizeof(uint64_t)) == 0);
	CHECK(memcmp(a->x.indices, b->x.indices, nnz * sizeof(uint32_t)) == 0);
	CHECK(memcmp(a->x.values, b->x.values, nnz * sizeof(float)) == 0);
	CHECK(memcmp(a->labels, b->labels, a->n * sizeof(int64_t)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	static const size_t ds_opt[4] = {0, 1, 3, 8};
	uint8_t o = data[0];
	struct softreg_read_opts opts = {.zero_based = o & 1, .d = ds_opt[(o >> 1) & 3]};
	size_t block = (o >> 4) == 15 ? SR_TEXT_BLOCK : 1 + 5 * (size_t)(o >> 4);
	data++, size--;
	char err[SOFTREG_ERRLEN], err2[SOFTREG_ERRLEN];
	struct softreg_dataset mem, file;
	enum softreg_result rm = softreg_libsvm_parse((const char *)data, size, "mem", &opts, &mem, err);
	if (rm) {
		check_error(err, "mem");
		CHECK(rm == SOFTREG_ERR_FORMAT && mem.labels == NULL && mem.n == 0);
	} else {
		check_ok(&mem, opts.d);
	}
	if (o & 8) {
		const char *path = scratch_path();
		write_file(path, data, size);
		enum softreg_result rf = sr_libsvm_read_block(path, &opts, block, &file, err2);
		CHECK(rf == rm);
		if (rf) {
			check_error(err2, path);
			CHECK(strcmp(err2 + strlen(path), err + strlen("mem")) == 0);
		} else {
			check_same(&mem, &file);
			softreg_dataset_free(&file);
		}
	}
	softreg_dataset_free(&mem);
	return 0;
}
