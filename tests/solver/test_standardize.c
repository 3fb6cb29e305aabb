/* SPDX-License-Identifier: MIT
 * test_standardize.c: per-feature standardisation is computed right (zero
 * variance included), is stored in the model, and survives save/load: the
 * loaded model predicts the same probabilities, bit for bit, as the one saved;
 * and predict (softreg_predict_proba) applies the same preprocessing as
 * training and evaluation (the kernel's gather). */
#include "solver_test.h"

#include <stdbool.h>
#include <unistd.h>

static struct softreg_model *trained_model(const struct softreg_dataset *ds, size_t k)
{
	struct softreg_model *m = softreg_model_alloc(k, ds->rows, ds->cols);
	REQUIRE(m, "model");
	softreg_model_standardize(m, ds, NULL);
	struct softreg_params p;
	softreg_params_default(&p);
	p.solver = SOFTREG_SOLVER_LBFGS;
	p.epochs = 100;
	p.l2 = 1e-3;
	p.eval_every = 0;
	char err[SOFTREG_ERRLEN] = "";
	struct softreg_report rep;
	REQUIRE(softreg_train(m, ds, NULL, &p, NULL, &rep, err) == SOFTREG_OK, "train: %s", err);
	return m;
}

int main(void)
{
	const size_t n = 400, rows = 6, cols = 5, k = 3, d = rows * cols, zero_cols = 2;
	struct softreg_dataset ds;
	synth_dataset(&ds, n, rows, cols, k, 100, zero_cols, 7);
	/* one more constant feature that is not zero: the last pixel is 200 everywhere */
	for (size_t i = 0; i < n; i++)
		((uint8_t *)ds.mem_[0])[i * d + d - 1] = 200;

	/* 1. mean and 1/std per feature, against a direct computation in double */
	struct softreg_model *m = softreg_model_alloc(k, rows, cols);
	REQUIRE(m, "model");
	softreg_model_standardize(m, &ds, NULL);
	CHECK(m->prep == SOFTREG_PREP_STANDARDIZE, "prep is %d", (int)m->prep);
	for (size_t j = 0; j < d; j++) {
		double s = 0, sq = 0;
		for (size_t i = 0; i < n; i++) {
			s += T_PX(&ds)[i * d + j];
			sq += (double)T_PX(&ds)[i * d + j] * T_PX(&ds)[i * d + j];
		}
		double mean = s / (double)n, var = sq / (double)n - mean * mean;
		bool constant = j % cols < zero_cols || j == d - 1;
		CHECK(fabs(m->mean[j] - mean) <= 1e-4 * fmax(1, mean), "feature %zu: mean %g, expected %g", j,
		      (double)m->mean[j], mean);
		if (constant)
			CHECK(m->inv_std[j] == 0, "constant feature %zu: inv_std %g, expected 0", j, (double)m->inv_std[j]);
		else
			CHECK(fabs(m->inv_std[j] * sqrt(var) - 1) <= 1e-5, "feature %zu: inv_std %g, expected %g", j,
			      (double)m->inv_std[j], 1 / sqrt(var));
	}
	float *X = malloc(n * d * sizeof(float));
	REQUIRE(X, "out of memory");
	struct softreg_batch b = {.src = &ds.x, .m = n};
	softreg_gather(m, &b, X);
	size_t bad = 0;
	for (size_t q = 0; q < n * d; q++)
		bad += !isfinite(X[q]) || (q % d == d - 1 && X[q] != 0);
	CHECK(bad == 0, "%zu gathered features are not finite, or a constant feature is not 0", bad);
	softreg_model_free(m);

	/* 2. a trained standardised model: save, load, same bytes, same predictions */
	m = trained_model(&ds, k);
	char dir[] = "/tmp/softreg-test-standardize.XXXXXX", path[64], err[SOFTREG_ERRLEN] = "";
	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/m.srm", dir);
	REQUIRE(softreg_model_save(m, NULL, path, err) == SOFTREG_OK, "save: %s", err);
	struct softreg_model *l = NULL;
	REQUIRE(softreg_model_load(path, &l, NULL, err) == SOFTREG_OK, "load: %s", err);
	unlink(path);
	rmdir(dir);
	CHECK(l->prep == SOFTREG_PREP_STANDARDIZE, "loaded prep is %d", (int)l->prep);
	CHECK(memcmp(l->mean, m->mean, d * sizeof(float)) == 0, "mean differs after load");
	CHECK(memcmp(l->inv_std, m->inv_std, d * sizeof(float)) == 0, "inv_std differs after load");
	CHECK(memcmp(l->W, m->W, k * d * sizeof(float)) == 0 && memcmp(l->b, m->b, k * sizeof(float)) == 0,
	      "W or b differs after load");

	float pm[16], pl[16], ps[16];
	size_t differ = 0, scale_differs = 0, agree = 0;
	struct softreg_model *s = softreg_model_alloc(k, rows, cols); /* the same weights, pixels / 255 */
	REQUIRE(s, "model");
	softreg_model_copy(s, l);
	s->prep = SOFTREG_PREP_SCALE;
	s->scale = 1.0f / 255;
	for (size_t i = 0; i < n; i++) {
		REQUIRE(softreg_predict(m, &ds, i, 1, NULL, pm, err) == SOFTREG_OK &&
				softreg_predict(l, &ds, i, 1, NULL, pl, err) == SOFTREG_OK &&
				softreg_predict(s, &ds, i, 1, NULL, ps, err) == SOFTREG_OK,
			"predict: %s", err);
		differ += memcmp(pm, pl, k * sizeof(float)) != 0;
		size_t best = 0;
		for (size_t c = 0; c < k; c++) {
			scale_differs += fabsf(ps[c] - pl[c]) > 1e-3f;
			best = pl[c] > pl[best] ? c : best;
		}
		agree += best == ds.y[i];
	}
	CHECK(differ == 0, "%zu of %zu images get other probabilities from the loaded model", differ, n);
	CHECK(scale_differs > 0, "ignoring the standardisation changes nothing: the test would not see it lost");

	/* 3. predict and evaluate (the kernel's gather) apply the same preprocessing */
	double acc = -1;
	REQUIRE(softreg_evaluate(l, &ds, 0, n, NULL, NULL, &acc, NULL, err) == SOFTREG_OK, "evaluate: %s", err);
	CHECK((size_t)llround(acc * (double)n) == agree, "evaluate says %.0f correct, predict %zu",
	      acc * (double)n, agree);
	CHECK(acc > 0.9, "training accuracy %.3f: the model did not learn", acc);
	printf("standardised model: train accuracy %.3f, %zu images, probabilities identical after load\n", acc, n);

	softreg_model_free(s);
	softreg_model_free(l);
	softreg_model_free(m);
	free(X);
	softreg_dataset_free(&ds);
	return finish("test_standardize");
}
