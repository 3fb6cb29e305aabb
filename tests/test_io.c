/* SPDX-License-Identifier: MIT
 * test_io.c: IDX raw == gzip, model save -> load bitwise, PGM values,
 * the RNG and the shuffle. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/softreg-test-io-XXXXXX";

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void write_idx(const char *path, bool gz, const uint32_t *dims, int ndim, const uint8_t *data, size_t n)
{
	uint8_t hdr[16] = {0, 0, 8, (uint8_t)ndim};
	for (int i = 0; i < ndim; i++)
		be32(hdr + 4 + 4 * i, dims[i]);
	if (gz) {
		gzFile f = gzopen(path, "wb");
		gzwrite(f, hdr, (unsigned)(4 + 4 * ndim));
		gzwrite(f, data, (unsigned)n);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");
		fwrite(hdr, 1, (size_t)(4 + 4 * ndim), f);
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

static void test_idx(void)
{
	struct softreg_dataset ds;
	t_random_dataset(&ds, 50, 7, 9, 4, 11, false);
	uint32_t idims[3] = {50, 7, 9}, ldims[1] = {50};
	char p[4][512];
	snprintf(p[0], 512, "%s/img", dir);
	snprintf(p[1], 512, "%s/img.gz", dir);
	snprintf(p[2], 512, "%s/lab", dir);
	snprintf(p[3], 512, "%s/lab.gz", dir);
	uint8_t *lb = t_label_bytes(&ds);
	write_idx(p[0], false, idims, 3, T_PIXELS(&ds), ds.n * ds.d);
	write_idx(p[1], true, idims, 3, T_PIXELS(&ds), ds.n * ds.d);
	write_idx(p[2], false, ldims, 1, lb, ds.n);
	write_idx(p[3], true, ldims, 1, lb, ds.n);
	struct softreg_dataset raw, gz;
	char err[SOFTREG_ERRLEN];
	CHECK(softreg_dataset_load(p[0], p[2], 0, &raw, err) == SOFTREG_OK, "raw: %s", err);
	CHECK(softreg_dataset_load(p[1], p[3], 0, &gz, err) == SOFTREG_OK, "gz: %s", err);
	CHECK(raw.n == 50 && raw.rows == 7 && raw.cols == 9 && raw.d == 63, "raw shape %zu %zu %zu", raw.n, raw.rows,
	      raw.cols);
	CHECK(gz.n == raw.n && gz.d == raw.d && memcmp(T_PIXELS(&gz), T_PIXELS(&raw), raw.n * raw.d) == 0 &&
		      memcmp(gz.labels, raw.labels, raw.n * sizeof(int64_t)) == 0,
	      "gzip and raw differ");
	CHECK(memcmp(T_PIXELS(&raw), T_PIXELS(&ds), ds.n * ds.d) == 0 &&
		      memcmp(raw.labels, ds.labels, ds.n * sizeof(int64_t)) == 0,
	      "read data differs from what was written");
	CHECK(raw.x.kind == SOFTREG_SOURCE_U8 && raw.x.n == 50 && raw.x.d == 63, "source %d", (int)raw.x.kind);
	/* images with the wrong label file: count mismatch */
	uint32_t ldims2[1] = {49};
	write_idx(p[2], false, ldims2, 1, lb, 49);
	struct softreg_dataset bad;
	CHECK(softreg_dataset_load(p[0], p[2], 0, &bad, err) == SOFTREG_ERR_MISMATCH && strstr(err, p[2]),
	      "count mismatch not reported: %s", err);
	/* the header's claim is checked before allocating: a huge claim fails fast */
	uint32_t huge[3] = {4000000000u, 4000000000u, 4000000000u};
	write_idx(p[0], false, huge, 3, T_PIXELS(&ds), 10);
	free(lb);
	struct softreg_idx idx;
	CHECK(softreg_idx_read(p[0], 0, &idx, err) == SOFTREG_ERR_FORMAT && strstr(err, "limit"), "huge: %s", err);
	softreg_dataset_free(&raw);
	softreg_dataset_free(&gz);
	softreg_dataset_free(&ds);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *b = malloc(*len);
	if (fread(b, 1, *len, f) != *len) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static void test_model(bool standardize, bool with_state)
{
	struct softreg_dataset ds;
	t_random_dataset(&ds, 30, 4, 6, 5, 3, false);
	struct softreg_model *m = softreg_model_alloc(5, 4, 6);
	if (standardize)
		softreg_model_standardize(m, &ds, NULL);
	t_random_floats(m->W, 5 * 24, -3, 3, 9);
	t_random_floats(m->b, 5, -3, 3, 10);
	m->epochs = 7;
	m->seed = 0x123456789abcdefULL;
	m->test_accuracy = 0.875;
	struct softreg_train_state *s = NULL;
	if (with_state) {
		s = softreg_train_state_alloc(5, 24);
		s->epochs_done = 3;
		s->batches_done = 2;
		s->iterations = 99;
		softreg_rng_seed(&s->rng, 5);
		t_random_floats(s->velocity, s->nv, -1, 1, 12);
		s->best_val = 0.5;
	}
	char a[512], b[512], err[SOFTREG_ERRLEN];
	snprintf(a, sizeof(a), "%s/a.srm", dir);
	snprintf(b, sizeof(b), "%s/b.srm", dir);
	CHECK(softreg_model_save(m, s, a, err) == SOFTREG_OK, "save: %s", err);
	struct softreg_model *m2;
	struct softreg_train_state *s2;
	CHECK(softreg_model_load(a, &m2, &s2, err) == SOFTREG_OK, "load: %s", err);
	if (!m2)
		return;
	CHECK(m2->k == 5 && m2->d == 24 && m2->rows == 4 && m2->cols == 6 && m2->prep == m->prep &&
		      m2->epochs == 7 && m2->seed == m->seed && m2->test_accuracy == 0.875,
	      "header fields differ");
	CHECK(memcmp(m2->W, m->W, 5 * 24 * sizeof(float)) == 0 && memcmp(m2->b, m->b, 5 * sizeof(float)) == 0,
	      "W or b differ after load");
	if (standardize)
		CHECK(memcmp(m2->mean, m->mean, 24 * sizeof(float)) == 0 &&
			      memcmp(m2->inv_std, m->inv_std, 24 * sizeof(float)) == 0,
		      "standardisation differs after load");
	CHECK((s2 != NULL) == with_state, "state presence %d", s2 != NULL);
	if (s2 && s)
		CHECK(s2->epochs_done == 3 && s2->batches_done == 2 && s2->iterations == 99 &&
			      memcmp(&s2->rng, &s->rng, sizeof(s->rng)) == 0 && s2->best_val == 0.5 &&
			      memcmp(s2->velocity, s->velocity, s->nv * sizeof(float)) == 0,
		      "state differs after load");
	/* saving what was loaded gives the same bytes */
	CHECK(softreg_model_save(m2, s2, b, err) == SOFTREG_OK, "save 2: %s", err);
	size_t la = 0, lb = 0;
	uint8_t *ba = slurp(a, &la), *bb = slurp(b, &lb);
	CHECK(ba && bb && la == lb && memcmp(ba, bb, la) == 0, "save -> load -> save is not bitwise identical");
	/* one flipped bit anywhere is caught */
	if (ba) {
		ba[la / 2] ^= 0x10;
		struct softreg_model *m3;
		CHECK(softreg_model_parse(ba, la, "flipped", &m3, NULL, err) == SOFTREG_ERR_FORMAT && strstr(err, "CRC"),
		      "flipped bit: %s", err);
	}
	free(ba);
	free(bb);
	softreg_model_free(m);
	softreg_model_free(m2);
	softreg_train_state_free(s);
	softreg_train_state_free(s2);
	softreg_dataset_free(&ds);
}

static void test_pgm(void)
{
	const char p2[] = "P2\n# a comment\n3 2\n# another\n15\n0 15 7\n1 2 3\n";
	uint8_t *px;
	size_t rows, cols;
	char err[SOFTREG_ERRLEN];
	CHECK(softreg_pgm_parse((const uint8_t *)p2, sizeof(p2) - 1, "p2", &px, &rows, &cols, err) == SOFTREG_OK,
	      "P2: %s", err);
	if (px) {
		/* rescaled to 0..255: v * 255 / 15 rounded */
		CHECK(rows == 2 && cols == 3 && px[0] == 0 && px[1] == 255 && px[2] == 119 && px[3] == 17, "P2 values %u %u %u %u",
		      px[0], px[1], px[2], px[3]);
		free(px);
	}
	const uint8_t p5[] = {'P', '5', '\n', '2', ' ', '1', '\n', '2', '5', '5', '\n', 9, 200};
	CHECK(softreg_pgm_parse(p5, sizeof(p5), "p5", &px, &rows, &cols, err) == SOFTREG_OK, "P5: %s", err);
	if (px) {
		CHECK(rows == 1 && cols == 2 && px[0] == 9 && px[1] == 200, "P5 values");
		free(px);
	}
	CHECK(softreg_pgm_parse(p5, sizeof(p5) - 1, "short", &px, &rows, &cols, err) == SOFTREG_ERR_FORMAT &&
		      strstr(err, "truncated"),
	      "truncated P5: %s", err);
}

static void test_rng(void)
{
	struct softreg_rng a, b;
	softreg_rng_seed(&a, 42);
	softreg_rng_seed(&b, 42);
	bool same = true;
	for (int i = 0; i < 100; i++)
		same &= softreg_rng_next(&a) == softreg_rng_next(&b);
	CHECK(same, "same seed, different streams");
	/* a shuffle is a permutation, and the same seed gives the same one */
	enum { N = 1000 };
	static uint32_t p1[N], p2[N];
	for (uint32_t i = 0; i < N; i++)
		p1[i] = p2[i] = i;
	softreg_rng_seed(&a, 7);
	softreg_rng_seed(&b, 7);
	softreg_shuffle(&a, p1, N);
	softreg_shuffle(&b, p2, N);
	static int seen[N];
	size_t fixed = 0;
	for (uint32_t i = 0; i < N; i++) {
		seen[p1[i]]++;
		fixed += p1[i] == i;
	}
	bool perm = true;
	for (int i = 0; i < N; i++)
		perm &= seen[i] == 1;
	CHECK(perm && memcmp(p1, p2, sizeof(p1)) == 0, "shuffle is not a reproducible permutation");
	CHECK(fixed < 20, "shuffle left %zu of %d in place", fixed, N);
	/* below() stays below and covers the range */
	int hist[7] = {0};
	for (int i = 0; i < 7000; i++)
		hist[softreg_rng_below(&a, 7)]++;
	for (int i = 0; i < 7; i++)
		CHECK(hist[i] > 800 && hist[i] < 1200, "rng_below bucket %d has %d of 7000", i, hist[i]);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_idx();
	test_model(false, false);
	test_model(true, false);
	test_model(false, true);
	test_pgm();
	test_rng();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return t_done("test_io");
}
