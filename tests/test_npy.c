/* SPDX-License-Identifier: MIT
 * test_npy.c: the .npy reader, from memory (softreg_npy_parse) and from a file
 * (sr_npy_read), on files built here byte by byte: every dtype and header
 * version, data used in place in the mapping or converted, and one error per
 * way a file can be wrong. Standalone: no Python, no numpy. Exits 1 on any
 * failure, after printing each failing case. */
#include "../src/internal.h" /* sr_npy_read() */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static char dir[256];

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
			failures++;                                               \
		}                                                                 \
	} while (0)

/* ---- building files ---- */

/* An .npy file in 'out' (room for the header and 'nbytes'): version 'major',
 * header text 'dict', padded with spaces and a newline so that the data
 * offset is 'rem' modulo 'align' (numpy writes 64 and 0), then the data. */
static size_t npy_raw(uint8_t *out, unsigned major, const char *dict, size_t align, size_t rem, const void *data,
		      size_t nbytes)
{
	size_t start = major == 1 ? 10 : 12, len = strlen(dict);
	memcpy(out, "\x93NUMPY", 6);
	out[6] = (uint8_t)major, out[7] = 0;
	memcpy(out + start, dict, len);
	while ((start + len + 1) % align != rem)
		out[start + len++] = ' ';
	out[start + len++] = '\n';
	for (size_t i = 0; i < (major == 1 ? 2u : 4u); i++)
		out[8 + i] = (uint8_t)(len >> (8 * i));
	memcpy(out + start + len, data, nbytes);
	return start + len + nbytes;
}

/* The header numpy writes for 'descr' and 'shape' (a Python tuple). */
static size_t npy(uint8_t *out, unsigned major, const char *descr, const char *shape, const void *data,
		  size_t nbytes)
{
	char dict[256];
	snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
	return npy_raw(out, major, dict, 64, 0, data, nbytes);
}

/* 'v' as 'size' bytes in either order */
static void put(uint8_t *p, uint64_t v, size_t size, bool big)
{
	for (size_t i = 0; i < size; i++)
		p[big ? size - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

static const char *write_tmp(const char *name, const uint8_t *b, size_t n)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
	return path;
}

static bool zeroed(const struct softreg_dataset *ds)
{
	static const struct softreg_dataset zero;
	return memcmp(ds, &zero, sizeof(zero)) == 0;
}

static size_t kind_size(enum softreg_source_kind k)
{
	return k == SOFTREG_SOURCE_U8 ? 1 : k == SOFTREG_SOURCE_F16 ? 2 : 4;
}

/* ---- reading them ---- */

/* Read 'b' from memory and from a file: both must succeed and agree. The
 * file's dataset is returned in 'file' (free it); the memory one is freed. */
static bool read_ok(const char *what, const uint8_t *b, size_t n, int labels, struct softreg_dataset *file)
{
	char err[SOFTREG_ERRLEN] = "";
	struct softreg_dataset mem;
	enum softreg_result rm = softreg_npy_parse(b, n, "mem", labels, &mem, err);
	CHECK(rm == SOFTREG_OK, "%s: memory: %s", what, err);
	const char *path = write_tmp("ok.npy", b, n);
	enum softreg_result rf = sr_npy_read(path, labels, file, err);
	CHECK(rf == SOFTREG_OK, "%s: file: %s", what, err);
	unlink(path);
	if (rm || rf) {
		softreg_dataset_free(&mem);
		softreg_dataset_free(file);
		return false;
	}
	CHECK(mem.map_ == NULL, "%s: the memory parser kept a mapping", what);
	CHECK(mem.n == file->n && mem.d == file->d && mem.x.kind == file->x.kind, "%s: memory and file differ", what);
	if (labels)
		CHECK(memcmp(mem.labels, file->labels, mem.n * sizeof(int64_t)) == 0, "%s: labels differ", what);
	else
		CHECK(memcmp(mem.x.data, file->x.data, mem.n * mem.d * kind_size(mem.x.kind)) == 0,
		      "%s: memory and file values differ", what);
	softreg_dataset_free(&mem);
	return true;
}

/* Both paths must fail with 'want' (a code) and a one-line message that
 * starts with the name given and contains 'needle', and leave 'ds' zeroed. */
static void read_err(const char *what, const uint8_t *b, size_t n, int labels, const char *needle)
{
	char err[SOFTREG_ERRLEN] = "";
	struct softreg_dataset ds;
	enum softreg_result r = softreg_npy_parse(b, n, "mem", labels, &ds, err);
	CHECK(r == SOFTREG_ERR_FORMAT, "%s: memory: result %d, want format error", what, (int)r);
	CHECK(strncmp(err, "mem: ", 5) == 0 && !strchr(err, '\n') && strstr(err, needle), "%s: memory: '%s', want '%s'",
	      what, err, needle);
	CHECK(zeroed(&ds), "%s: memory: dataset not zeroed", what);
	softreg_dataset_free(&ds); /* when it was wrongly accepted */
	char memtail[SOFTREG_ERRLEN];
	snprintf(memtail, sizeof(memtail), "%s", err + 3);
	const char *path = write_tmp("bad.npy", b, n);
	r = sr_npy_read(path, labels, &ds, err);
	size_t pl = strlen(path);
	CHECK(r == SOFTREG_ERR_FORMAT, "%s: file: result %d, want format error", what, (int)r);
	CHECK(strncmp(err, path, pl) == 0 && err[pl] == ':' && !strchr(err, '\n') && strstr(err, needle),
	      "%s: file: '%s', want '%s'", what, err, needle);
	CHECK(strcmp(err + pl, memtail) == 0, "%s: file and memory messages differ: '%s' vs '%s'", what, err, memtail);
	CHECK(zeroed(&ds), "%s: file: dataset not zeroed", what);
	softreg_dataset_free(&ds);
	unlink(path);
}

static bool in_map(const struct softreg_dataset *ds)
{
	const char *p = ds->x.data, *m = ds->map_;
	return m && p >= m && p < m + ds->map_len_;
}

/* ---- features ---- */

static uint8_t buf[1 << 16];

static void test_f32(void)
{
	float v[12], be[12];
	for (int i = 0; i < 12; i++)
		v[i] = (float)i * 0.5f - 3.0f;
	for (int i = 0; i < 12; i++) {
		uint32_t bits;
		memcpy(&bits, &v[i], 4);
		put((uint8_t *)&be[i], bits, 4, true);
	}
	struct softreg_dataset ds, ds2;
	for (unsigned major = 1; major <= 3; major++) {
		char what[32];
		snprintf(what, sizeof(what), "<f4 v%u", major);
		size_t n = npy(buf, major, "<f4", "(3, 4)", v, sizeof(v));
		if (!read_ok(what, buf, n, 0, &ds))
			continue;
		CHECK(ds.x.kind == SOFTREG_SOURCE_F32 && ds.n == 3 && ds.d == 4 && ds.x.n == 3 && ds.x.d == 4 &&
			      ds.rows == 1 && ds.cols == 4 && !ds.labels,
		      "%s: kind %d shape (%zu, %zu)", what, (int)ds.x.kind, ds.n, ds.d);
		CHECK(in_map(&ds), "%s: float32 data is not used in place in the mapping", what);
		CHECK(memcmp(ds.x.data, v, sizeof(v)) == 0, "%s: values differ", what);
		softreg_dataset_free(&ds);
	}
	/* big-endian: the same values, converted */
	size_t n = npy(buf, 1, ">f4", "(3, 4)", be, sizeof(be));
	if (read_ok(">f4", buf, n, 0, &ds)) {
		CHECK(ds.x.kind == SOFTREG_SOURCE_F32 && ds.map_ == NULL && memcmp(ds.x.data, v, sizeof(v)) == 0,
		      ">f4: kind %d or values differ from <f4", (int)ds.x.kind);
		softreg_dataset_free(&ds);
	}
	/* a data offset that is not a multiple of 4: copied, still right */
	n = npy_raw(buf, 1, "{'descr':'<f4','fortran_order':False,'shape':(3,4)}", 4, 2, v, sizeof(v));
	if (read_ok("<f4 unaligned", buf, n, 0, &ds)) {
		CHECK(!in_map(&ds) && ds.map_ == NULL && memcmp(ds.x.data, v, sizeof(v)) == 0,
		      "<f4 unaligned: used in place or wrong values");
		softreg_dataset_free(&ds);
	}
	/* keys in another order, other spaces, double quotes, no trailing comma */
	n = npy_raw(buf, 1, " {\"shape\" :( 3 ,4 ,) ,'fortran_order':False,\t'descr':'<f4'}  ", 64, 0, v, sizeof(v));
	if (read_ok("<f4 reordered header", buf, n, 0, &ds2)) {
		CHECK(ds2.n == 3 && ds2.d == 4 && memcmp(ds2.x.data, v, sizeof(v)) == 0, "reordered header: values");
		softreg_dataset_free(&ds2);
	}
	/* Python 2's numpy wrote longs with an L */
	n = npy_raw(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }", 64, 0, v, sizeof(v));
	if (read_ok("<f4 shape (3L, 4L)", buf, n, 0, &ds2))
		softreg_dataset_free(&ds2);
}

static void test_f16(void)
{
	static const uint16_t bits[6] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000};
	static const float want[6] = {1.0f, -2.0f, 0.5f, 65504.0f, 0x1p-24f, -0.0f};
	uint8_t be[12];
	for (int i = 0; i < 6; i++)
		put(be + 2 * i, bits[i], 2, true);
	struct softreg_dataset ds;
	for (int big = 0; big < 2; big++) {
		const char *what = big ? ">f2" : "<f2";
		size_t n = npy(buf, 1, what, "(2, 3)", big ? (const void *)be : (const void *)bits, 12);
		if (!read_ok(what, buf, n, 0, &ds))
			continue;
		CHECK(ds.x.kind == SOFTREG_SOURCE_F16 && ds.n == 2 && ds.d == 3, "%s: kind %d", what, (int)ds.x.kind);
		CHECK(memcmp(ds.x.data, bits, sizeof(bits)) == 0, "%s: half bits differ", what);
		CHECK(big || in_map(&ds), "%s: little-endian float16 not used in place", what);
		float f[6];
		softreg_f16_to_f32(ds.x.data, f, 6);
		for (int i = 0; i < 6; i++)
			CHECK(f[i] == want[i] && signbit(f[i]) == signbit(want[i]), "%s: [%d] = %g, want %g", what, i,
			      (double)f[i], (double)want[i]);
		softreg_dataset_free(&ds);
	}
}

static void test_f64(void)
{
	static const double v[6] = {0.1, -1e-3, 3.5, 1e30, -2.0, 0.0};
	uint8_t be[48];
	for (int i = 0; i < 6; i++) {
		uint64_t bits;
		memcpy(&bits, &v[i], 8);
		put(be + 8 * i, bits, 8, true);
	}
	struct softreg_dataset ds;
	for (int big = 0; big < 2; big++) {
		const char *what = big ? ">f8" : "<f8";
		size_t n = npy(buf, 1, what, "(3, 2)", big ? (const void *)be : (const void *)v, 48);
		if (!read_ok(what, buf, n, 0, &ds))
			continue;
		CHECK(ds.x.kind == SOFTREG_SOURCE_F32 && ds.n == 3 && ds.d == 2 && ds.map_ == NULL,
		      "%s: kind %d, mapping %p", what, (int)ds.x.kind, ds.map_);
		const float *f = ds.x.data;
		for (int i = 0; i < 6; i++)
			CHECK(f[i] == (float)v[i], "%s: [%d] = %.9g, want %.9g", what, i, (double)f[i],
			      (double)(float)v[i]);
		softreg_dataset_free(&ds);
	}
}

static void test_u8(void)
{
	uint8_t v[10];
	for (int i = 0; i < 10; i++)
		v[i] = (uint8_t)(i * 27);
	static const char *const descrs[3] = {"|u1", "<u1", "=u1"};
	struct softreg_dataset ds;
	for (int j = 0; j < 3; j++) {
		size_t n = npy(buf, 1, descrs[j], "(2, 5)", v, sizeof(v));
		if (!read_ok(descrs[j], buf, n, 0, &ds))
			continue;
		CHECK(ds.x.kind == SOFTREG_SOURCE_U8 && ds.n == 2 && ds.d == 5 && in_map(&ds) &&
			      memcmp(ds.x.data, v, sizeof(v)) == 0,
		      "%s: kind %d, in place %d, or values differ", descrs[j], (int)ds.x.kind, in_map(&ds));
		softreg_dataset_free(&ds);
	}
}

/* ---- labels ---- */

static void test_labels(void)
{
	static const struct {
		const char *descr;
		size_t size;
		bool is_signed, big;
	} t[] = {
		{"|u1", 1, false, false}, {"|i1", 1, true, false}, {"<u2", 2, false, false}, {">u2", 2, false, true},
		{"<i2", 2, true, false},  {">i2", 2, true, true},  {"<u4", 4, false, false}, {">u4", 4, false, true},
		{"<i4", 4, true, false},  {">i4", 4, true, true},  {"<u8", 8, false, false}, {">u8", 8, false, true},
		{"<i8", 8, true, false},  {">i8", 8, true, true},
	};
	struct softreg_dataset ds;
	for (size_t j = 0; j < sizeof(t) / sizeof(t[0]); j++) {
		unsigned bits = 8 * (unsigned)t[j].size;
		int64_t want[5];
		if (t[j].is_signed) {
			int64_t max = (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
			int64_t v[5] = {-1, 0, 5, -max - 1, max};
			memcpy(want, v, sizeof(v));
		} else {
			int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << bits) - 1);
			int64_t v[5] = {0, 1, 5, 100, max};
			memcpy(want, v, sizeof(v));
		}
		uint8_t data[40];
		for (int i = 0; i < 5; i++)
			put(data + i * t[j].size, (uint64_t)want[i], t[j].size, t[j].big);
		for (unsigned major = 1; major <= 3; major += 2) {
			char what[32];
			snprintf(what, sizeof(what), "labels %s v%u", t[j].descr, major);
			size_t n = npy(buf, major, t[j].descr, "(5,)", data, 5 * t[j].size);
			if (!read_ok(what, buf, n, 1, &ds))
				continue;
			CHECK(ds.n == 5 && ds.labels && ds.map_ == NULL, "%s: n %zu, mapping %p", what, ds.n, ds.map_);
			for (int i = 0; ds.labels && i < 5; i++)
				CHECK(ds.labels[i] == want[i], "%s: [%d] = %lld, want %lld", what, i,
				      (long long)ds.labels[i], (long long)want[i]);
			softreg_dataset_free(&ds);
		}
	}
	uint8_t b[4] = {0, 1, 1, 0};
	size_t n = npy(buf, 1, "|b1", "(4,)", b, 4);
	if (read_ok("labels |b1", buf, n, 1, &ds)) {
		CHECK(ds.n == 4 && ds.labels[0] == 0 && ds.labels[1] == 1 && ds.labels[2] == 1 && ds.labels[3] == 0,
		      "labels |b1: values");
		softreg_dataset_free(&ds);
	}
	int32_t col[3] = {7, -8, 9};
	n = npy(buf, 1, "<i4", "(3, 1)", col, sizeof(col));
	if (read_ok("labels (3, 1)", buf, n, 1, &ds)) {
		CHECK(ds.n == 3 && ds.labels[0] == 7 && ds.labels[1] == -8 && ds.labels[2] == 9,
		      "labels (3, 1): values");
		softreg_dataset_free(&ds);
	}
}

/* ---- errors ---- */

static void test_errors(void)
{
	float v[12] = {0};
	size_t n = npy(buf, 1, "<f4", "(3, 4)", v, sizeof(v));
	read_err("empty file", buf, 0, 0, "empty file");
	read_err("bad magic", (const uint8_t *)"\x93NUMPZ\x01\x00", 8, 0, "not an .npy file");
	read_err("truncated preamble", buf, 7, 0, "truncated .npy preamble");
	read_err("truncated header", buf, 30, 0, "beyond the end of the file");
	read_err("truncated data", buf, n - 1, 0, "truncated");
	memcpy(buf + n, "junk", 4);
	read_err("trailing junk", buf, n + 4, 0, "4 bytes of trailing junk");
	buf[8] = 0x60, buf[9] = 0xea; /* 60000 */
	read_err("header length beyond the file", buf, n, 0, "header length 60000 is beyond the end");
	n = npy(buf, 2, "<f4", "(3, 4)", v, sizeof(v));
	buf[8] = 0, buf[9] = 0, buf[10] = 0x20, buf[11] = 0; /* 2 MiB */
	read_err("header length over the limit", buf, n, 0, "over the limit");
	n = npy(buf, 1, "<f4", "(3, 4)", v, sizeof(v));
	buf[6] = 4;
	read_err("version 4.0", buf, n, 0, "version 4.0 is not supported");
	n = npy(buf, 1, "<f4", "(4, 4)", v, sizeof(v));
	read_err("shape larger than the data", buf, n, 0, "truncated: shape (4, 4) of '<f4' needs 64 bytes");
	n = npy(buf, 1, "<f4", "(2, 4)", v, sizeof(v));
	read_err("shape smaller than the data", buf, n, 0, "16 bytes of trailing junk");
	n = npy(buf, 1, "<f4", "(12,)", v, sizeof(v));
	read_err("1-D features", buf, n, 0, "features must be 2-D, found shape (12,)");
	n = npy(buf, 1, "<f4", "(3, 2, 2)", v, sizeof(v));
	read_err("3-D features", buf, n, 0, "features must be 2-D, found shape (3, 2, 2)");
	n = npy(buf, 1, "<f4", "()", v, 4);
	read_err("0-D features", buf, n, 0, "found shape ()");
	n = npy(buf, 1, "<f4", "(0, 4)", v, 0);
	read_err("zero rows", buf, n, 0, "empty array of shape (0, 4)");
	n = npy_raw(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", 64, 0, v, sizeof(v));
	read_err("Fortran order", buf, n, 0, "Fortran-order arrays are not supported; save with np.ascontiguousarray");
	n = npy(buf, 1, "<c8", "(3, 2)", v, sizeof(v));
	read_err("complex dtype", buf, n, 0, "dtype '<c8' is not supported (uint8, float16, float32, float64)");
	n = npy(buf, 1, "<i4", "(3, 4)", v, sizeof(v));
	read_err("int32 features", buf, n, 0, "dtype '<i4' is not supported");
	n = npy(buf, 1, "=f4", "(3, 4)", v, sizeof(v));
	read_err("native-order float32", buf, n, 0, "dtype '=f4' is not supported");
	n = npy_raw(buf, 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", 64, 0, v, 12);
	read_err("structured dtype", buf, n, 0, "structured dtypes");
	/* the header's grammar */
	static const struct {
		const char *dict, *needle;
	} bad[] = {
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}", "unknown key 'x'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'shape': (3, 4)}", "key 'shape' twice"},
		{"{'descr': '<f4', 'shape': (3, 4)}", "lacks the key 'fortran_order'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (12)}", "after the one dimension"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)} x", "only spaces after"},
		{"{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4)}", "True or False"},
		{"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3, 4)}", "True or False"},
		{"{'descr': '<f4' 'fortran_order': False, 'shape': (3, 4)}", "expected ',' or '}'"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4)}", "non-negative integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (03, 4)}", "leading zero"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 4)}", "too large"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "overflows"},
		{"{'descr': '<f\\x34', 'fortran_order': False, 'shape': (3, 4)}", "no escapes"},
		{"{'descr': '<f4', 'fortran_order' False, 'shape': (3, 4)}", "expected ':'"},
		{"{'descr': '<f4", "at byte 63: expected a plain string"}, /* the padding's newline */
		{"['descr', '<f4']", "expected '{'"},
	};
	for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
		n = npy_raw(buf, 1, bad[j].dict, 64, 0, v, sizeof(v));
		read_err(bad[j].dict, buf, n, 0, bad[j].needle);
	}
	n = npy_raw(buf, 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }", 64, 0, v, sizeof(v));
	read_err("an L suffix in version 3.0", buf, n, 0, "expected ',' or ')'");
	/* non-finite values: the row (1-based) is named */
	v[2 * 4 + 1] = NAN;
	n = npy(buf, 1, "<f4", "(3, 4)", v, sizeof(v));
	read_err("NaN in row 3", buf, n, 0, "row 3 holds a NaN or infinite feature value");
	uint16_t h[6] = {0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x7c00, 0x3c00};
	n = npy(buf, 1, "<f2", "(3, 2)", h, sizeof(h));
	read_err("float16 inf in row 3", buf, n, 0, "row 3 holds a NaN or infinite");
	double dv[6] = {0, 0, 0, 0, 0, -INFINITY};
	n = npy(buf, 1, "<f8", "(3, 2)", dv, sizeof(dv));
	read_err("float64 -inf in row 3", buf, n, 0, "row 3 holds a NaN or infinite");
	dv[5] = 0, dv[3] = 1e300;
	n = npy(buf, 1, "<f8", "(3, 2)", dv, sizeof(dv));
	read_err("float64 beyond float32", buf, n, 0, "row 2 holds 1e+300, beyond float32");
	/* labels */
	n = npy(buf, 1, "<f4", "(3,)", v, 12);
	read_err("float labels", buf, n, 1, "labels must be integers, found dtype '<f4'");
	n = npy(buf, 1, "<f8", "(3,)", dv, 24);
	read_err("float64 labels", buf, n, 1, "labels must be integers, found dtype '<f8'");
	n = npy(buf, 1, "<c8", "(3,)", v, 24);
	read_err("complex labels", buf, n, 1, "dtype '<c8' is not supported for labels");
	n = npy(buf, 1, "<i4", "(3, 2)", v, 24);
	read_err("2-D labels", buf, n, 1, "labels must be 1-D, found shape (3, 2)");
	uint64_t big[3] = {1, (uint64_t)INT64_MAX + 1, 2};
	n = npy(buf, 1, "<u8", "(3,)", big, sizeof(big));
	read_err("uint64 label beyond int64", buf, n, 1, "row 2 holds the label 9223372036854775808, beyond int64");
	uint8_t b[3] = {0, 1, 2};
	n = npy(buf, 1, "|b1", "(3,)", b, 3);
	read_err("bool label 2", buf, n, 1, "row 3 holds the bool byte 0x02");
	n = npy(buf, 1, "<i4", "(0,)", b, 0);
	read_err("no labels", buf, n, 1, "empty array of shape (0,)");
	/* not a regular file, no file */
	char err[SOFTREG_ERRLEN];
	struct softreg_dataset ds;
	enum softreg_result r = sr_npy_read(dir, 0, &ds, err);
	CHECK(r == SOFTREG_ERR_IO && strstr(err, "not a regular file") && zeroed(&ds), "a folder: %d '%s'", (int)r,
	      err);
	char path[512];
	snprintf(path, sizeof(path), "%s/missing.npy", dir);
	r = sr_npy_read(path, 1, &ds, err);
	CHECK(r == SOFTREG_ERR_IO && strncmp(err, path, strlen(path)) == 0 && zeroed(&ds), "no file: %d '%s'", (int)r,
	      err);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/softreg-test-npy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 2;
	}
	test_f32();
	test_f16();
	test_f64();
	test_u8();
	test_labels();
	test_errors();
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "test_npy: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_npy: all checks passed\n");
	return 0;
}
