/* SPDX-License-Identifier: MIT
 * test_text_readers.c: the libsvm and CSV readers: exact content, every error
 * with its line number, and the same result from a file (in blocks of 1 MiB
 * and of a few bytes, so that lines and numbers straddle block boundaries)
 * and from memory; CSV also in two shares cut at every byte, as under MPI.
 * The number parser against strtod, bit for bit. */
#include "../src/numparse.h"
#include "../src/dist.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		checks++;                                                               \
		if (!(cond)) {                                                          \
			failures++;                                                     \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fputc('\n', stderr);                                            \
		}                                                                       \
	} while (0)

static char dir[] = "/tmp/softreg-test-text-XXXXXX";
static char path[600];

static void put(const char *name, const char *text, size_t len)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static bool same(const struct softreg_dataset *a, const struct softreg_dataset *b)
{
	if (a->x.kind != b->x.kind || a->n != b->n || a->d != b->d || a->dropped != b->dropped ||
	    a->rows != b->rows || a->cols != b->cols || memcmp(a->labels, b->labels, a->n * sizeof(int64_t)))
		return false;
	if (a->x.kind == SOFTREG_SOURCE_F32)
		return memcmp(a->x.data, b->x.data, a->n * a->d * sizeof(float)) == 0;
	size_t nnz = a->x.indptr[a->n];
	return memcmp(a->x.indptr, b->x.indptr, (a->n + 1) * sizeof(uint64_t)) == 0 &&
	       memcmp(a->x.indices, b->x.indices, nnz * sizeof(uint32_t)) == 0 &&
	       memcmp(a->x.values, b->x.values, nnz * sizeof(float)) == 0;
}

typedef enum softreg_result (*parse_fn)(const char *, size_t, const char *, const struct softreg_read_opts *,
					struct softreg_dataset *, char *);
typedef enum softreg_result (*read_fn)(const char *, const struct softreg_read_opts *, size_t,
				       struct softreg_dataset *, char *);

/* rows [row0, row0 + part->n) of 'whole' are 'part' (dense) */
static bool same_rows(const struct softreg_dataset *part, const struct softreg_dataset *whole, size_t row0)
{
	size_t d = whole->d;
	return part->d == d && row0 + part->n <= whole->n &&
	       (part->n == 0 || (memcmp(part->labels, whole->labels + row0, part->n * sizeof(int64_t)) == 0 &&
				 memcmp(part->x.data, (const float *)whole->x.data + row0 * d,
					part->n * d * sizeof(float)) == 0));
}

/* CSV: the two shares of a cut at any byte, read as under MPI
 * (sr_csv_read_range()), hold the rows of 'whole' in order */
static void check_cuts(const char *name, size_t len, const struct softreg_read_opts *opts,
		       const struct softreg_dataset *whole)
{
	for (size_t cut = 0; cut <= len; cut++) {
		struct softreg_dataset a = {0}, b = {0};
		char err[SOFTREG_ERRLEN] = "";
		enum softreg_result r = sr_csv_read_range(path, opts, 0, cut, &a, err);
		if (r == SOFTREG_OK)
			r = sr_csv_read_range(path, opts, cut, len, &b, err);
		CHECK(r == SOFTREG_OK && same_rows(&a, whole, 0) && same_rows(&b, whole, a.n) &&
		      a.n + b.n == whole->n, "%s: cut at byte %zu: %s", name, cut, r ? err : "other rows");
		softreg_dataset_free(&a);
		softreg_dataset_free(&b);
	}
}

/* Read 'text' as file 'name' through every path: the file in blocks of 1 MiB,
 * 1, 3 and 4096 bytes, and the buffer in memory. All must agree (result,
 * message, content); the 1 MiB file read is returned. */
static enum softreg_result read_all(bool csv, const char *name, const char *text, size_t len,
				    const struct softreg_read_opts *opts, struct softreg_dataset *ds, char *err)
{
	static const size_t blocks[] = {SR_TEXT_BLOCK, 1, 3, 4096};
	parse_fn parse = csv ? softreg_csv_parse : softreg_libsvm_parse;
	read_fn read = csv ? sr_csv_read_block : sr_libsvm_read_block;
	put(name, text, len);
	enum softreg_result r = read(path, opts, SR_TEXT_BLOCK, ds, err);
	for (size_t i = 0; i <= sizeof(blocks) / sizeof(blocks[0]); i++) {
		struct softreg_dataset other;
		char e2[SOFTREG_ERRLEN] = "";
		enum softreg_result r2 = i == 0 ? parse(text, len, path, opts, &other, e2)
						: read(path, opts, blocks[i - 1], &other, e2);
		CHECK(r2 == r && (r ? strcmp(e2, err) == 0 : same(ds, &other)),
		      "%s: %s and %s disagree: %d '%s' vs %d '%s'", name, i ? "block read" : "memory", "1 MiB read",
		      r2, e2, r, r ? err : "");
		softreg_dataset_free(&other);
	}
	if (r)
		CHECK(strncmp(err, path, strlen(path)) == 0 && !strchr(err, '\n'),
		      "%s: error not one line naming it: %s", name, err);
	if (csv && r == SOFTREG_OK && len <= 4096)
		check_cuts(name, len, opts, ds);
	return r;
}

/* ---- libsvm ---- */

static bool csr_is(const struct softreg_dataset *ds, size_t n, size_t d, const int64_t *labels,
		   const uint64_t *indptr, const uint32_t *indices, const float *values)
{
	if (ds->x.kind != SOFTREG_SOURCE_CSR || ds->n != n || ds->d != d || ds->x.n != n || ds->x.d != d ||
	    ds->rows != 1 || ds->cols != d)
		return false;
	if (memcmp(ds->labels, labels, n * sizeof(int64_t)) || memcmp(ds->x.indptr, indptr, (n + 1) * 8))
		return false;
	for (uint64_t i = 0; i < indptr[n]; i++)
		if (ds->x.indices[i] != indices[i] || ds->x.values[i] != values[i])
			return false;
	return true;
}

static void svm_ok(const char *text, const struct softreg_read_opts *opts, size_t n, size_t d, size_t dropped,
		   const int64_t *labels, const uint64_t *indptr, const uint32_t *indices, const float *values)
{
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN] = "";
	enum softreg_result r = read_all(false, "t.svm", text, strlen(text), opts, &ds, err);
	CHECK(r == SOFTREG_OK, "'%s': %s", text, err);
	if (r == SOFTREG_OK) {
		CHECK(csr_is(&ds, n, d, labels, indptr, indices, values), "'%s': wrong content (n %zu d %zu)", text,
		      ds.n, ds.d);
		CHECK(ds.dropped == dropped, "'%s': dropped %zu, expected %zu", text, ds.dropped, dropped);
	}
	softreg_dataset_free(&ds);
}

/* 'text' ('len' bytes) fails with 'r' and a message that holds 'want' */
static void svm_bad_len(const char *text, size_t len, const struct softreg_read_opts *opts,
			enum softreg_result want_r, const char *want)
{
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN] = "";
	enum softreg_result r = read_all(false, "bad.svm", text, len, opts, &ds, err);
	CHECK(r == want_r && strstr(err, want), "'%s': got %d '%s', expected %d '%s'", text, r, err, want_r, want);
	CHECK(r != SOFTREG_OK || (ds.labels == NULL && ds.n == 0), "'%s': failed read left data", text);
	if (r == SOFTREG_OK)
		softreg_dataset_free(&ds);
}

static void svm_bad(const char *text, const struct softreg_read_opts *opts, enum softreg_result want_r,
		    const char *want)
{
	svm_bad_len(text, strlen(text), opts, want_r, want);
}

static void test_libsvm_content(void)
{
	/* labels -1/+1/1.0/2e0, comments, a blank line, CRLF, a zero not stored, no final newline */
	svm_ok("1 1:0.5 3:-2\n-1 2:1e3 # a comment\n\n   # only a comment\n+1 1:1.0 4:0\r\n1.0\t2:3.25\n2e0 5:7", NULL,
	       5, 5, 0, (int64_t[]){1, -1, 1, 1, 2}, (uint64_t[]){0, 2, 3, 4, 5, 6}, (uint32_t[]){0, 2, 1, 0, 1, 4},
	       (float[]){0.5f, -2, 1000, 1, 3.25f, 7});
	/* d counts an index whose value is zero */
	svm_ok("3 2:1 9:0\n", NULL, 1, 9, 0, (int64_t[]){3}, (uint64_t[]){0, 1}, (uint32_t[]){1}, (float[]){1});
	/* blanks: tabs and spaces anywhere between tokens, '#' right after a value */
	svm_ok("\t 7 \t1:1\t\t2:2 \t#c\n8 3:.5#c\n", NULL, 2, 3, 0, (int64_t[]){7, 8}, (uint64_t[]){0, 2, 3},
	       (uint32_t[]){0, 1, 2}, (float[]){1, 2, 0.5f});
	/* zero-based */
	struct softreg_read_opts zb = {.zero_based = 1};
	svm_ok("0 0:1 2:2\n1 1:3\n", &zb, 2, 3, 0, (int64_t[]){0, 1}, (uint64_t[]){0, 2, 3}, (uint32_t[]){0, 2, 1},
	       (float[]){1, 2, 3});
	/* opts->d: features beyond are dropped and counted (zeros are not counted) */
	struct softreg_read_opts d2 = {.d = 2};
	svm_ok("1 1:1 2:2 3:3 5:0\n2 4:4\n", &d2, 2, 2, 2, (int64_t[]){1, 2}, (uint64_t[]){0, 2, 2},
	       (uint32_t[]){0, 1}, (float[]){1, 2});
	/* labels only, with opts->d: empty rows */
	struct softreg_read_opts d3 = {.d = 3};
	svm_ok("1\n2 # c\n", &d3, 2, 3, 0, (int64_t[]){1, 2}, (uint64_t[]){0, 0, 0}, (uint32_t[]){0}, (float[]){0});
	/* the extremes of int64 and of the feature index */
	svm_ok("9223372036854775807 1:1\n-9223372036854775808 2147483647:-1e-3\n", NULL, 2, 2147483647, 0,
	       (int64_t[]){INT64_MAX, INT64_MIN}, (uint64_t[]){0, 1, 2}, (uint32_t[]){0, 2147483646},
	       (float[]){1, -1e-3f});
	/* values: exact float rounding of long and exponent forms */
	svm_ok("1 1:0.1 2:123456789012345678901234 3:1.5e-7 4:-0.000001 5:1e-50\n", NULL, 1, 5, 0, (int64_t[]){1},
	       (uint64_t[]){0, 4}, (uint32_t[]){0, 1, 2, 3},
	       (float[]){0.1f, (float)123456789012345678901234.0, 1.5e-7f, -0.000001f});
}

static void test_libsvm_errors(void)
{
	enum softreg_result F = SOFTREG_ERR_FORMAT;
	svm_bad("1 1:1\n\n2 3:1 2:1\n", NULL, F, ": line 3: index 2 is not greater than the previous index 3");
	svm_bad("1 1:1 1:2\n", NULL, F, ": line 1: index 1 is not greater than the previous index 1");
	svm_bad("1 1:1\n1 2\n", NULL, F, ": line 2: no ':' after the index: '2'");
	svm_bad("1 1:1\n1 2 3:4\n", NULL, F, ": line 2: no ':' after the index: '2'");
	svm_bad("# c\n1 :3\n", NULL, F, ": line 2: an empty index: ':3'");
	svm_bad("1 2:\n", NULL, F, ": line 1: an empty value for index 2");
	svm_bad("1 2: 3\n", NULL, F, ": line 1: an empty value for index 2");
	svm_bad("1 2:3x\n", NULL, F, ": line 1: the value '3x' of index 2 is not a number");
	svm_bad("1 2:3:4\n", NULL, F, ": line 1: the value '3:4' of index 2 is not a number");
	svm_bad("1 2:1e\n", NULL, F, ": line 1: the value '1e' of index 2 is not a number");
	svm_bad("1 2:0x10\n", NULL, F, ": line 1: the value '0x10' of index 2 is not a number");
	svm_bad("1 1:1\n\n1 2:nan\n", NULL, F, ": line 3: the value 'nan' of index 2 is not a finite float32");
	svm_bad("1 2:-Infinity\n", NULL, F, ": line 1: the value '-Infinity' of index 2 is not a finite float32");
	svm_bad("1 2:1e39\n", NULL, F, ": line 1: the value '1e39' of index 2 is not a finite float32");
	svm_bad("1 2:1e400\n", NULL, F, ": line 1: the value '1e400' of index 2 is not a finite float32");
	svm_bad("1 1:1\n1.5 1:1\n", NULL, F, ": line 2: the label '1.5' is not an integer");
	svm_bad("abc 1:1\n", NULL, F, ": line 1: the label 'abc' is not a number");
	svm_bad("1x 1:1\n", NULL, F, ": line 1: the label '1x' is not a number");
	svm_bad("1:1 2:2\n", NULL, F, ": line 1: the label '1:1' is not a number");
	svm_bad("nan 1:1\n", NULL, F, ": line 1: the label 'nan' is not finite");
	svm_bad("9223372036854775808 1:1\n", NULL, F, ": line 1: the label '9223372036854775808' is outside int64");
	svm_bad("1e19 1:1\n", NULL, F, ": line 1: the label '1e19' is outside int64");
	svm_bad("1 0:1\n", NULL, F, ": line 1: index 0 in a 1-based file");
	svm_bad("1 -1:1\n", NULL, F, ": line 1: expected index:value, found '-1:1'");
	svm_bad("1 2147483648:1\n", NULL, F, ": line 1: an index beyond 2^31 - 1 features: '2147483648:1'");
	struct softreg_read_opts zb = {.zero_based = 1};
	svm_bad("1 2147483647:1\n", &zb, F, ": line 1: an index beyond 2^31 - 1 features");
	svm_bad("1 1:1\r\r\n", NULL, F, ": line 1: the value '1?' of index 1 is not a number");
	svm_bad_len("1 1:1\n1 1:1\0 2:2\n", 16, NULL, F, ": line 2: the value '1' of index 1 is not a number");
	svm_bad("", NULL, F, ": no samples");
	svm_bad("# c\n\n  \n", NULL, F, ": no samples");
	svm_bad("1\n2 # only labels\n", NULL, F, ": no features");
	struct softreg_read_opts big = {.d = (size_t)SOFTREG_MAX_FEATURES + 1};
	svm_bad("1 1:1\n", &big, SOFTREG_ERR_PARAM, "features asked");
	/* a number of 256 characters or more is not data */
	char longnum[400] = "1 1:";
	memset(longnum + 4, '1', 300);
	svm_bad(longnum, NULL, F, ": line 1: the value '1111");
	/* a missing file */
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN];
	CHECK(sr_libsvm_read("/nonexistent/x.svm", NULL, &ds, err) == SOFTREG_ERR_IO &&
		      strstr(err, "/nonexistent/x.svm: "),
	      "missing file: %s", err);
	CHECK(sr_libsvm_read(dir, NULL, &ds, err) == SOFTREG_ERR_IO, "a folder: %s", err);
}

/* a generated file of 'rows' lines whose lengths vary, around 'bytes' */
/* append to a generated text (its buffer is sized for it): the bytes written */
static size_t appendf(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t appendf(char *dst, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsprintf(dst, fmt, ap);
	va_end(ap);
	return n > 0 ? (size_t)n : 0;
}

static char *gen_svm(size_t rows, size_t maxnz, uint64_t seed, size_t *len)
{
	size_t cap = rows * (maxnz * 22 + 40) + 1, n = 0;
	char *t = malloc(cap);
	if (!t) {
		fprintf(stderr, "test_text_readers: out of memory\n");
		exit(1);
	}
	uint64_t s = seed;
	for (size_t i = 0; i < rows; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		size_t nz = (size_t)(s >> 33) % (maxnz + 1), j = 0;
		int label = (int)(s >> 60) - 8;
		n += appendf(t + n, "%s%d", i % 7 == 3 && label >= 0 ? "+" : "", label);
		for (size_t k = 0; k < nz; k++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			j += 1 + (s >> 40) % 5;
			int form = (int)(s >> 20) % 4;
			if (form == 0)
				n += appendf(t + n, " %zu:%.3f", j, (double)(s >> 44) / 1000.0);
			else if (form == 1)
				n += appendf(t + n, "\t%zu:-%llu", j, (unsigned long long)(s >> 50));
			else if (form == 2)
				n += appendf(t + n, " %zu:%.9e", j, (double)(s >> 11) * 1e-12);
			else
				n += appendf(t + n, " %zu:%.17g", j, (double)(int64_t)s * 1e-20);
		}
		n += appendf(t + n, i % 5 == 0 ? " # comment %zu\r\n" : "\n", i);
		if (i % 11 == 0)
			n += appendf(t + n, "\n");
	}
	*len = n;
	return t;
}

static void test_libsvm_blocks(void)
{
	/* a line over 1 MiB (the first read buffer doubles) between short ones */
	size_t cap = 4 << 20, n = 0;
	char *t = malloc(cap);
	if (!t) {
		fprintf(stderr, "test_text_readers: out of memory\n");
		exit(1);
	}
	n += appendf(t + n, "1 1:1\n2");
	for (size_t j = 1; j <= 200000; j++)
		n += appendf(t + n, " %zu:%zu.%03zu", j, j % 10, j % 1000);
	n += appendf(t + n, "\n3 7:7\n");
	CHECK(n > (1 << 20) + 1000, "long line of %zu bytes", n);
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN];
	CHECK(read_all(false, "long.svm", t, n, NULL, &ds, err) == SOFTREG_OK, "long line: %s", err);
	if (ds.n == 3) {
		const struct softreg_source *x = &ds.x;
		CHECK(ds.d == 200000 && x->indptr[1] == 1, "long line: d %zu", ds.d);
		size_t nz = (size_t)(x->indptr[2] - x->indptr[1]), bad = 0;
		for (uint64_t i = x->indptr[1], j = 1; j <= 200000; j++) {
			char tok[32];
			snprintf(tok, sizeof(tok), "%zu.%03zu", (size_t)j % 10, (size_t)j % 1000);
			float v = (float)strtod(tok, NULL);
			if (v == 0)
				continue;
			bad += i >= x->indptr[2] || x->indices[i] != j - 1 || x->values[i] != v;
			i++;
		}
		CHECK(bad == 0 && nz == 200000 - 200000 / 1000, "long line: %zu wrong of %zu nonzeros", bad, nz);
		CHECK(ds.labels[2] == 3 && x->indices[x->indptr[2]] == 6, "after the long line");
	} else {
		CHECK(0, "long line: %zu rows", ds.n);
	}
	softreg_dataset_free(&ds);
	/* the 1 MiB boundary inside a number, then between '\r' and '\n' */
	for (size_t cut = 0; cut < 12; cut++) {
		n = 0;
		size_t pad = SR_TEXT_BLOCK - cut - strlen("1 1:1 #") - 1;
		n += appendf(t + n, "1 1:1 #");
		memset(t + n, 'x', pad);
		n += pad;
		n += appendf(t + n, "\n-2 3:12.5 4:7\r\n5 2:1\r\n");
		CHECK(read_all(false, "cut.svm", t, n, NULL, &ds, err) == SOFTREG_OK, "cut %zu: %s", cut, err);
		CHECK(ds.n == 3 && ds.x.values[1] == 12.5f && ds.x.values[2] == 7 && ds.labels[1] == -2 &&
			      ds.labels[2] == 5,
		      "cut %zu: wrong content", cut);
		softreg_dataset_free(&ds);
	}
	free(t);
	/* 3 MB of varied lines: every path agrees; then an error deep in the file */
	t = gen_svm(30000, 20, 7, &n);
	CHECK(read_all(false, "gen.svm", t, n, NULL, &ds, err) == SOFTREG_OK, "generated: %s", err);
	size_t rows = ds.n;
	softreg_dataset_free(&ds);
	CHECK(rows == 30000, "generated: %zu rows", rows);
	char *bad = strstr(t + n / 2, ":");
	*bad = ';';
	CHECK(read_all(false, "gen.svm", t, n, NULL, &ds, err) == SOFTREG_ERR_FORMAT && strstr(err, ": line "),
	      "generated with a bad byte: %s", err);
	size_t line = 1;
	for (char *p = t; p < bad; p++)
		line += *p == '\n';
	char want[64];
	snprintf(want, sizeof(want), ": line %zu: ", line);
	CHECK(strstr(err, want) != NULL, "bad byte on line %zu: %s", line, err);
	free(t);
}

/* ---- numbers ---- */

static void test_numbers(void)
{
	uint64_t s = 12345;
	struct sr_numctx c = {0};
	size_t bad = 0, fast = 0;
	for (int i = 0; i < 300000; i++) {
		char tok[128];
		size_t n = 0;
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t r = s;
		if (r & 1)
			tok[n++] = r & 2 ? '-' : '+';
		r >>= 2;
		int idig = (int)(r % 12), fdig = (int)((r >> 4) % 12);
		if (r & (1 << 8))
			idig += 8, fdig += 6; /* long mantissas: the slow path */
		r >>= 9;
		for (int k = 0; k < idig; k++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			tok[n++] = (char)('0' + (s >> 60) % 10);
		}
		if (fdig || !idig) {
			tok[n++] = '.';
			for (int k = 0; k < fdig || (!idig && k == 0); k++) {
				s = s * 6364136223846793005ull + 1442695040888963407ull;
				tok[n++] = (char)('0' + (s >> 60) % 10);
			}
		}
		if (r & 1)
			n += (size_t)sprintf(tok + n, "e%d", (int)((r >> 1) % 80) - 40);
		else if ((r & 6) == 6)
			n += (size_t)sprintf(tok + n, "E%+d", (int)((r >> 3) % 700) - 350);
		tok[n] = '\0';
		double want = strtod(tok, NULL), got = 0;
		const char *p = tok;
		enum sr_num st = sr_parse_double(&p, tok + n, &c, &got);
		bool ok = isfinite(want) ? st == SR_NUM_OK && p == tok + n && memcmp(&got, &want, 8) == 0
					 : st == SR_NUM_NONFINITE;
		float fw = (float)want, fg = 0;
		p = tok;
		st = sr_parse_float(&p, tok + n, &c, &fg);
		ok &= isfinite(fw) ? st == SR_NUM_OK && memcmp(&fg, &fw, 4) == 0 : st == SR_NUM_NONFINITE;
		fast += idig + fdig <= 15;
		if (!ok && bad++ < 5)
			CHECK(0, "'%s': strtod %.17g, parsed %.17g", tok, want, got);
	}
	CHECK(bad == 0, "%zu of 300000 numbers differ from strtod (%zu short ones)", bad, fast);
	/* the slow path reads '.' whatever the locale */
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
		const char *tok = "1.25e300", *p = tok;
		double v = 0;
		CHECK(sr_parse_double(&p, tok + strlen(tok), &c, &v) == SR_NUM_OK && v == 1.25e300, "locale: %g", v);
		setlocale(LC_NUMERIC, "C");
	} else {
		printf("test_text_readers: no de_DE or fr_FR locale: the locale check is skipped\n");
	}
	sr_numctx_free(&c);
	/* labels */
	static const struct {
		const char *tok;
		enum sr_num st;
		int64_t v;
	} labels[] = {
		{"3", SR_NUM_OK, 3},
		{"-1", SR_NUM_OK, -1},
		{"+1", SR_NUM_OK, 1},
		{"1.0", SR_NUM_OK, 1},
		{"2e0", SR_NUM_OK, 2},
		{"-0", SR_NUM_OK, 0},
		{"1.", SR_NUM_OK, 1},
		{"1e3", SR_NUM_OK, 1000},
		{"-9.2e18", SR_NUM_OK, -9200000000000000000},
		{"1.5", SR_NUM_NOTINT, 0},
		{"", SR_NUM_BAD, 0},
		{"-", SR_NUM_BAD, 0},
		{".", SR_NUM_BAD, 0},
		{"inf", SR_NUM_NONFINITE, 0},
		{"-9223372036854775809", SR_NUM_RANGE, 0},
		{"18446744073709551616", SR_NUM_RANGE, 0},
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		const char *p = labels[i].tok;
		int64_t v = 0;
		enum sr_num st = sr_parse_label(&p, p + strlen(p), &c, &v);
		CHECK(st == labels[i].st && (st || v == labels[i].v), "label '%s': %d %lld", labels[i].tok, st,
		      (long long)v);
	}
	sr_numctx_free(&c);
}

/* ---- CSV ---- */

static void csv_ok(const char *text, const char *label_column, size_t n, size_t d, const int64_t *labels,
		   const float *x)
{
	struct softreg_read_opts o = {.label_column = label_column};
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN] = "";
	enum softreg_result r = read_all(true, "t.csv", text, strlen(text), &o, &ds, err);
	CHECK(r == SOFTREG_OK, "'%s': %s", text, err);
	if (r == SOFTREG_OK)
		CHECK(ds.x.kind == SOFTREG_SOURCE_F32 && ds.n == n && ds.d == d && ds.x.n == n && ds.x.d == d &&
			      ds.rows == 1 && ds.cols == d && memcmp(ds.labels, labels, n * 8) == 0 &&
			      memcmp(ds.x.data, x, n * d * 4) == 0,
		      "'%s': wrong content (n %zu, d %zu)", text, ds.n, ds.d);
	softreg_dataset_free(&ds);
}

static void csv_bad(const char *text, const char *label_column, enum softreg_result want_r, const char *want)
{
	struct softreg_read_opts o = {.label_column = label_column};
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN] = "";
	enum softreg_result r = read_all(true, "bad.csv", text, strlen(text), &o, &ds, err);
	CHECK(r == want_r && strstr(err, want), "'%s': got %d '%s', expected %d '%s'", text, r, err, want_r, want);
	if (r == SOFTREG_OK)
		softreg_dataset_free(&ds);
}

static void test_csv(void)
{
	/* no header; blanks around fields, CRLF, a blank line, no final newline */
	csv_ok("1,0.5,2\n0, -1 ,3e1\r\n\n \n2 ,1,\t1", NULL, 3, 2, (int64_t[]){1, 0, 2},
	       (float[]){0.5f, 2, -1, 30, 1, 1});
	/* a header; the label by name, by index, a quoted name with a comma and a quote */
	const char *h = "a,\"b, \"\"c\"\"\" , label\n1,2,3\n\n4,5,-6.0\n";
	csv_ok(h, "label", 2, 2, (int64_t[]){3, -6}, (float[]){1, 2, 4, 5});
	csv_ok(h, "2", 2, 2, (int64_t[]){3, -6}, (float[]){1, 2, 4, 5});
	csv_ok(h, "b, \"c\"", 2, 2, (int64_t[]){2, 5}, (float[]){1, 3, 4, -6});
	csv_ok(h, NULL, 2, 2, (int64_t[]){1, 4}, (float[]){2, 3, 5, -6});
	/* one word makes a header; a first row of numbers is data */
	csv_ok("y,1,2\n1,2,3\n", "0", 1, 2, (int64_t[]){1}, (float[]){2, 3});
	csv_ok("7,1\n", "1", 1, 1, (int64_t[]){1}, (float[]){7});
	enum softreg_result F = SOFTREG_ERR_FORMAT, P = SOFTREG_ERR_PARAM;
	csv_bad("1,2,3\n1,2\n", NULL, F, ": line 2: 2 fields, line 1 has 3");
	csv_bad("\n1,2,3\n1,2,3,4\n", NULL, F, ": line 3: 4 fields, line 2 has 3");
	csv_bad("a,b,c\n1,2,3\n\n1,2,3,4,5\n", NULL, F, ": line 4: 5 fields, the header has 3");
	csv_bad("a,b,c\n1\n", NULL, F, ": line 2: 1 field, the header has 3");
	csv_bad("1,2\n1,nan\n", NULL, F, ": line 2: field 2: 'nan' is not a finite float32");
	csv_bad("1,NaN\n", NULL, F, ": line 1: field 2: 'NaN' is not a finite float32");
	csv_bad("1,2\n1,-inf\n", NULL, F, ": line 2: field 2: '-inf' is not a finite float32");
	csv_bad("1,2\ninf,2\n", NULL, F, ": line 2: field 1: the label 'inf' is not finite");
	csv_bad("1,,2\n", NULL, F, ": line 1: field 2 is empty");
	csv_bad("1,2,\n", NULL, F, ": line 1: field 3 is empty");
	csv_bad("a,b\n1, \n", NULL, F, ": line 2: field 2 is empty");
	csv_bad("a,,b\n", NULL, F, ": line 1: field 2 is empty");
	csv_bad("1.5,2\n", NULL, F, ": line 1: field 1: the label '1.5' is not an integer");
	csv_bad("a,b\n1,2\n2,1.5\n", "b", F, ": line 3: field 2: the label '1.5' is not an integer");
	csv_bad("a,b\n1,\"2\"\n", NULL, F, ": line 2: field 2 is quoted");
	csv_bad("a,b\n1,2 3\n", NULL, F, ": line 2: field 2: '2 3' is not a number");
	csv_bad("a,b\n1,x\n", NULL, F, ": line 2: field 2: 'x' is not a number");
	csv_bad("a,b\n1,2\n", "c", P, "has no column 'c'");
	csv_bad("1,2\n", "label", P, "the label column 'label' is a name, but line 1 is not a header");
	csv_bad("a,b\n1,2\n", "2", P, "label column 2 is out of range: line 1 has 2 fields");
	csv_bad("a,b\n1,2\n", "", P, "an empty label column");
	csv_bad("a,b,a\n1,2,3\n", "a", F, "the header names 'a' twice (fields 1 and 3)");
	csv_bad("\"a,b\n1,2\n", NULL, F, ": line 1: field 1: no closing quote");
	csv_bad("\"a\"x,b\n", NULL, F, ": line 1: field 1: text after the closing quote");
	csv_bad("a\"x,b\n", NULL, F, ": line 1: field 1: a quote inside an unquoted field");
	csv_bad("a\n1\n", NULL, F, ": line 1: one field");
	csv_bad("a,b\n", NULL, F, ": no data rows (a header alone)");
	csv_bad("\n\n", NULL, F, ": no data (the file is empty or blank)");
	csv_bad("", NULL, F, ": no data");
	/* many rows, wide enough to cross the block boundaries everywhere */
	size_t n = 0, rows = 20000, d = 30;
	char *t = malloc(rows * (d * 20 + 20) + 100);
	if (!t) {
		fprintf(stderr, "test_text_readers: out of memory\n");
		exit(1);
	}
	n += appendf(t, "label");
	for (size_t j = 0; j < d; j++)
		n += appendf(t + n, ",\"x%zu\"", j);
	n += appendf(t + n, "\r\n");
	for (size_t i = 0; i < rows; i++) {
		n += appendf(t + n, "%zu", i % 10);
		for (size_t j = 0; j < d; j++)
			n += appendf(t + n, j % 3 ? ",%.4f" : ", %.9g ",
					     (double)((i * 31 + j * 17) % 1000) / 7.0);
		n += appendf(t + n, i % 2 ? "\n" : "\r\n");
	}
	struct softreg_read_opts o = {.label_column = "label"};
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN];
	CHECK(read_all(true, "big.csv", t, n, &o, &ds, err) == SOFTREG_OK && ds.n == rows && ds.d == d,
	      "big csv: %s", err);
	if (ds.n == rows)
		CHECK(ds.labels[rows - 1] == (int64_t)((rows - 1) % 10) &&
			      ((const float *)ds.x.data)[d + 1] == (float)strtod("6.8571", NULL),
		      "big csv content");
	softreg_dataset_free(&ds);
	free(t);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_numbers();
	test_libsvm_content();
	test_libsvm_errors();
	test_libsvm_blocks();
	test_csv();
	const char *names[] = {"t.svm", "bad.svm", "long.svm", "cut.svm", "gen.svm", "t.csv", "bad.csv", "big.csv"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	printf("test_text_readers: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
