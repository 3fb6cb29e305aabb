/* SPDX-License-Identifier: MIT
 * fuzz target: the CSV reader. The first byte picks the options: bits 0-1
 * the label column (the first, index "1", name "y", index "0"). With bit 3
 * the rest is also written to a file and read back in blocks of
 * 1 + 5 * (bits 4-7) bytes (15: the reader's 1 MiB), which must agree with
 * softreg_csv_parse() exactly: the same message, or the same n, d, floats and
 * labels. An accepted input gives n x d finite floats. */
#include "../fuzz_common.h"
#include "../../../src/numparse.h"

#include <math.h>

static void check_ok(const struct softreg_dataset *ds)
{
	const struct softreg_source *x = &ds->x;
	CHECK(x->kind == SOFTREG_SOURCE_F32 && ds->n >= 1 && ds->n == x->n && ds->d == x->d && ds->d >= 1);
	CHECK(ds->rows == 1 && ds->cols == ds->d && ds->labels && !ds->y && ds->dropped == 0);
	const float *v = x->data;
	for (size_t i = 0; i < ds->n * ds->d; i++)
		CHECK(isfinite(v[i]));
	touch((const uint8_t *)ds->labels, ds->n * sizeof(int64_t));
}

static void check_same(const struct softreg_dataset *a, const struct softreg_dataset *b)
{
	CHECK(a->n == b->n && a->d == b->d);
	CHECK(memcmp(a->x.data, b->x.data, a->n * a->d * sizeof(float)) == 0);
	CHECK(memcmp(a->labels, b->labels, a->n * sizeof(int64_t)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	static const char *const columns[4] = {NULL, "1", "y", "0"};
	uint8_t o = data[0];
	struct softreg_read_opts opts = {.label_column = columns[o & 3]};
	size_t block = (o >> 4) == 15 ? SR_TEXT_BLOCK : 1 + 5 * (size_t)(o >> 4);
	data++, size--;
	char err[SOFTREG_ERRLEN], err2[SOFTREG_ERRLEN];
	struct softreg_dataset mem, file;
	enum softreg_result rm = softreg_csv_parse((const char *)data, size, "mem", &opts, &mem, err);
	if (rm) {
		check_error(err, "mem");
		CHECK((rm == SOFTREG_ERR_FORMAT || rm == SOFTREG_ERR_PARAM) && mem.labels == NULL && mem.n == 0);
	} else {
		check_ok(&mem);
	}
	if (o & 8) {
		const char *path = scratch_path();
		write_file(path, data, size);
		enum softreg_result rf = sr_csv_read_block(path, &opts, block, &file, err2);
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
