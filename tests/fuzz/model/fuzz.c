/* SPDX-License-Identifier: MIT
 * fuzz target: the model loader (softreg_model_parse). The first byte picks:
 *   bit 0: recompute the trailing CRC-32 first, so that the fuzzer explores
 *          the checks behind it rather than the checksum;
 *   bit 1: ask for the training state;
 *   bit 2: also write the bytes to a file for softreg_model_load(), which
 *          reads the header before the rest and must give the same verdict.
 * An accepted model, saved with softreg_model_save(), must give back the
 * input bytes exactly, and load again to the same values. */
#include "../fuzz_common.h"

#include <zlib.h>

static void check_same(const struct softreg_model *a, const struct softreg_model *b)
{
	CHECK(a->k == b->k && a->d == b->d && a->rows == b->rows && a->cols == b->cols);
	CHECK(a->prep == b->prep && memcmp(&a->scale, &b->scale, sizeof(float)) == 0);
	CHECK(a->epochs == b->epochs && a->seed == b->seed);
	CHECK(memcmp(&a->test_accuracy, &b->test_accuracy, sizeof(double)) == 0);
	CHECK(memcmp(a->W, b->W, a->k * a->d * sizeof(float)) == 0);
	CHECK(memcmp(a->b, b->b, a->k * sizeof(float)) == 0);
	CHECK(memcmp(a->classes, b->classes, a->k * sizeof(int64_t)) == 0);
	if (a->prep == SOFTREG_PREP_STANDARDIZE)
		CHECK(memcmp(a->mean, b->mean, a->d * sizeof(float)) == 0 &&
		      memcmp(a->inv_std, b->inv_std, a->d * sizeof(float)) == 0);
}

static void round_trip(const uint8_t *buf, size_t size, const struct softreg_model *m,
		       const struct softreg_train_state *s, bool all_kept)
{
	char err[SOFTREG_ERRLEN];
	const char *path = scratch_path();
	CHECK(softreg_model_save(m, s, path, err) == SOFTREG_OK);
	size_t len;
	uint8_t *saved = read_file(path, &len);
	/* else the state was dropped, and the file is shorter; a version 1 file
	 * saves as version 2 (with its class table) */
	if (all_kept && size > 12 && buf[8] == 2)
		CHECK(len == size && memcmp(saved, buf, size) == 0);
	free(saved);
	struct softreg_model *m2;
	struct softreg_train_state *s2;
	CHECK(softreg_model_load(path, &m2, &s2, err) == SOFTREG_OK);
	check_same(m, m2);
	CHECK((s2 != NULL) == (s != NULL));
	if (s)
		CHECK(s2->nv == s->nv && memcmp(s2->velocity, s->velocity, s->nv * sizeof(float)) == 0 &&
		      s2->epochs_done == s->epochs_done && s2->batches_done == s->batches_done &&
		      s2->iterations == s->iterations && memcmp(&s2->rng, &s->rng, sizeof(s->rng)) == 0);
	softreg_model_free(m2);
	softreg_train_state_free(s2);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	uint8_t opt = data[0];
	size--;
	uint8_t *buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, data + 1, size);
	if ((opt & 1) && size >= 4) {
		uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(size - 4));
		for (int i = 0; i < 4; i++)
			buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	}
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m;
	struct softreg_train_state *s = NULL;
	enum softreg_result r = softreg_model_parse(buf, size, "srm", &m, (opt & 2) ? &s : NULL, err);
	if (opt & 4) {
		const char *path = scratch_path();
		struct softreg_model *m2;
		char err2[SOFTREG_ERRLEN];
		write_file(path, buf, size);
		enum softreg_result r2 = softreg_model_load(path, &m2, NULL, err2);
		CHECK(r2 == r && (r2 == SOFTREG_OK || m2 == NULL));
		if (r2)
			check_error(err2, path);
		else
			check_same(m, m2);
		softreg_model_free(m2);
	}
	if (r) {
		CHECK(m == NULL && s == NULL);
		check_error(err, "srm");
	} else {
		bool has_state = buf[12] & 1; /* the flags word, checked by the parser */
		round_trip(buf, size, m, s, (opt & 2) || !has_state);
		softreg_model_free(m);
		softreg_train_state_free(s);
	}
	free(buf);
	return 0;
}
