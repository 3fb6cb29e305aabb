/* SPDX-License-Identifier: MIT
 * fuzz target: the .npy reader. The first byte picks:
 *   bit 0: labels (1) or features (0);
 *   bit 1: also write the rest to a file for sr_npy_read(), which reads the
 *          header alone, then maps the file: it must give the same result and
 *          message as softreg_npy_parse() on the bytes, and the same values;
 *   bit 2: first set the header length field to end the header at its first
 *          newline, so that inserting or deleting bytes in the dict keeps it
 *          parseable and the fuzzer explores the grammar, not the length. */
#include "../fuzz_common.h"
#include "../../../src/internal.h"

static size_t elem_size(enum softreg_source_kind k)
{
	return k == SOFTREG_SOURCE_U8 ? 1 : k == SOFTREG_SOURCE_F16 ? 2 : 4;
}

static void check_ok(const struct softreg_dataset *ds, int labels)
{
	CHECK(ds->n > 0 && ds->n <= UINT32_MAX);
	if (labels) {
		CHECK(ds->labels != NULL && ds->x.data == NULL);
		touch((const uint8_t *)ds->labels, ds->n * sizeof(int64_t));
		return;
	}
	CHECK(ds->x.kind == SOFTREG_SOURCE_U8 || ds->x.kind == SOFTREG_SOURCE_F16 || ds->x.kind == SOFTREG_SOURCE_F32);
	CHECK(ds->x.n == ds->n && ds->x.d == ds->d && ds->d > 0 && ds->rows == 1 && ds->cols == ds->d);
	CHECK((uintptr_t)ds->x.data % elem_size(ds->x.kind) == 0);
	touch(ds->x.data, ds->n * ds->d * elem_size(ds->x.kind));
}

static void fix_header_length(uint8_t *b, size_t size)
{
	if (size < 12 || memcmp(b, "\x93NUMPY", 6) != 0 || b[6] < 1 || b[6] > 3)
		return;
	size_t start = b[6] == 1 ? 10 : 12;
	const uint8_t *nl = memchr(b + start, '\n', size - start);
	size_t hlen = nl ? (size_t)(nl - b) + 1 - start : 0;
	if (!nl || (b[6] == 1 && hlen > 0xffff))
		return;
	for (size_t i = 0; i < start - 8; i++)
		b[8 + i] = (uint8_t)(hlen >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	int opt = data[0], labels = opt & 1;
	size--;
	uint8_t *buf = malloc(size ? size : 1); /* exactly the bytes, so that ASan sees an overread */
	CHECK(buf != NULL);
	memcpy(buf, data + 1, size);
	if (opt & 4)
		fix_header_length(buf, size);
	char err[SOFTREG_ERRLEN], err2[SOFTREG_ERRLEN];
	struct softreg_dataset mem, file;
	enum softreg_result rm = softreg_npy_parse(buf, size, "mem", labels, &mem, err);
	if (rm)
		check_error(err, "mem");
	else
		check_ok(&mem, labels);
	if (opt & 2) {
		const char *path = scratch_path();
		write_file(path, buf, size);
		enum softreg_result rf = sr_npy_read(path, labels, &file, err2);
		CHECK(rf == rm);
		if (rf) {
			check_error(err2, path);
			CHECK(strcmp(err + strlen("mem"), err2 + strlen(path)) == 0);
		} else {
			check_ok(&file, labels);
			CHECK(file.n == mem.n && file.d == mem.d && file.x.kind == mem.x.kind);
			if (labels)
				CHECK(memcmp(file.labels, mem.labels, mem.n * sizeof(int64_t)) == 0);
			else
				CHECK(memcmp(file.x.data, mem.x.data, mem.n * mem.d * elem_size(mem.x.kind)) == 0);
		}
		softreg_dataset_free(&file);
		unlink(path);
	}
	softreg_dataset_free(&mem);
	free(buf);
	return 0;
}
