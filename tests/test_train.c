/* SPDX-License-Identifier: MIT
 * test_train.c: SGD learns a separable set, detects divergence, validates its
 * parameters, follows its schedules, and stops on request; its step is
 * the step written out, bit for bit. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double train_accuracy(const struct softreg_model *m, const struct softreg_dataset *ds)
{
	double acc = -1;
	softreg_evaluate(m, ds, 0, ds->n, NULL, NULL, &acc, NULL, NULL);
	return acc;
}

static void separable(const struct softreg_kernel *kern)
{
	struct softreg_dataset ds;
	t_random_dataset(&ds, 600, 6, 6, 4, 21, true);
	struct softreg_model *m = softreg_model_alloc(4, 6, 6);
	struct softreg_params p;
	softreg_params_default(&p);
	p.epochs = 20;
	p.batch = 32;
	p.lr = 0.1;
	p.kernel = kern;
	struct softreg_report rep;
	char err[SOFTREG_ERRLEN] = "";
	CHECK(softreg_train(m, &ds, &ds, &p, NULL, &rep, err) == SOFTREG_OK, "%s: %s", kern->name, err);
	double acc = train_accuracy(m, &ds);
	CHECK(acc == 1.0, "%s kernel: separable set reached %.4f train accuracy", kern->name, acc);
	CHECK(rep.epochs_run == 20 && rep.test_accuracy == acc, "report: %u epochs, acc %.4f", rep.epochs_run,
	      rep.test_accuracy);
	CHECK(m->epochs == 20 && m->test_accuracy == acc, "model metadata");
	softreg_model_free(m);
	softreg_dataset_free(&ds);
}

/* a rate that overflows float (1e30), and one that is merely far too big (100
 * on raw pixels: the loss explodes but stays finite): both stop, with where;
 * with 'kern' (the sparse kernel), on the data's CSR and that kernel */
static void divergence(double lr, const struct softreg_kernel *kern)
{
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN] = "";
	t_random_dataset(&ds, 300, 8, 8, 3, 5, false);
	if (kern)
		CHECK(softreg_dataset_sparsify(&ds, err) == SOFTREG_OK, "sparsify: %s", err);
	struct softreg_model *m = softreg_model_alloc(3, 8, 8);
	m->scale = 1.0f;
	struct softreg_params p;
	softreg_params_default(&p);
	p.lr = lr;
	p.epochs = 5;
	p.kernel = kern;
	struct softreg_report rep;
	enum softreg_result r = softreg_train(m, &ds, NULL, &p, NULL, &rep, err);
	CHECK(r == SOFTREG_ERR_DIVERGED, "lr %g (%s kernel) gave %s", lr, kern ? kern->name : "default",
	      softreg_result_name(r));
	CHECK(strstr(err, "training diverged at epoch 1, batch") && strstr(err, "try a smaller --lr"), "message: %s",
	      err);
	CHECK(rep.diverged_epoch == 1 && rep.diverged_batch >= 1, "where: epoch %u batch %zu", rep.diverged_epoch,
	      rep.diverged_batch);
	softreg_model_free(m);
	softreg_dataset_free(&ds);
}

/* softreg_train's SGD on the sparse kernel against the same SGD written
 * here: the kernel's loss_grad, then v = mu v - lr (g / m + l2 W), W += v
 * (b without l2), batch by batch in file order. The same bits, at one
 * thread and at two, with 3 classes (one block) and 10 (two); batches of
 * 256, 256 and 88 rows (two row groups, then one). */
static void sgd_step(size_t k, float l2, int threads)
{
	struct softreg_dataset ds;
	char err[SOFTREG_ERRLEN] = "";
	t_random_dataset(&ds, 600, 28, 28, k, 40 + k, false);
	CHECK(softreg_dataset_sparsify(&ds, err) == SOFTREG_OK, "sparsify: %s", err);
	size_t d = 784, kd = k * d;
	struct softreg_model *m = softreg_model_alloc(k, 28, 28), *ref = softreg_model_alloc(k, 28, 28);
	struct softreg_params p;
	softreg_params_default(&p);
	p.kernel = &softreg_kernel_sparse;
	p.batch = 256;
	p.epochs = 2;
	p.lr = 0.05;
	p.momentum = 0.9;
	p.l2 = l2;
	p.schedule = SOFTREG_SCHEDULE_CONST;
	p.shuffle = 0;
	softreg_set_threads(threads);
	CHECK(softreg_train(m, &ds, NULL, &p, NULL, NULL, err) == SOFTREG_OK, "k %zu: %s", k, err);

	struct softreg_workspace *ws = softreg_workspace_alloc(&softreg_kernel_sparse, 256, k, d);
	float *g = malloc((kd + k) * sizeof(float)), *v = calloc(kd + k, sizeof(float));
	float lr = (float)p.lr, mu = (float)p.momentum;
	for (int e = 0; e < 2; e++)
		for (size_t i0 = 0; i0 < ds.n; i0 += 256) {
			struct softreg_batch b = {.src = &ds.x, .y = ds.y, .first = i0,
						  .m = ds.n - i0 < 256 ? ds.n - i0 : 256};
			float inv = 1.0f / (float)b.m;
			softreg_kernel_sparse.loss_grad(ref, &b, g, ws);
			for (size_t j = 0; j < kd; j++) {
				v[j] = mu * v[j] - lr * (g[j] * inv + l2 * ref->W[j]);
				ref->W[j] += v[j];
			}
			for (size_t c = 0; c < k; c++) {
				v[kd + c] = mu * v[kd + c] - lr * (g[kd + c] * inv);
				ref->b[c] += v[kd + c];
			}
		}
	size_t diff = 0;
	for (size_t j = 0; j < kd; j++)
		diff += memcmp(&m->W[j], &ref->W[j], sizeof(float)) != 0;
	CHECK(diff == 0 && memcmp(m->b, ref->b, k * sizeof(float)) == 0 && ref->W[0] != 0.0f,
	      "k %zu, l2 %g, %d threads: %zu of %zu weights differ from the step written here (first %.9g vs %.9g)",
	      k, (double)l2, threads, diff, kd, (double)m->W[0], (double)ref->W[0]);
	softreg_set_threads(0);
	free(g);
	free(v);
	softreg_workspace_free(ws);
	softreg_model_free(m);
	softreg_model_free(ref);
	softreg_dataset_free(&ds);
}

static void params(void)
{
	struct softreg_params p;
	softreg_params_default(&p);
	CHECK(softreg_check_params(&p) == NULL, "defaults invalid: %s", softreg_check_params(&p));
	double bad_lr[] = {0, -1, NAN, INFINITY};
	for (int i = 0; i < 4; i++) {
		softreg_params_default(&p);
		p.lr = bad_lr[i];
		const char *why = softreg_check_params(&p);
		CHECK(why && strstr(why, "lr"), "lr %g accepted", bad_lr[i]);
	}
	softreg_params_default(&p);
	p.momentum = 1;
	CHECK(softreg_check_params(&p) != NULL, "momentum 1 accepted");
	softreg_params_default(&p);
	p.epochs = 0;
	CHECK(softreg_check_params(&p) != NULL, "0 epochs accepted");
	softreg_params_default(&p);
	p.batch = 0;
	CHECK(softreg_check_params(&p) != NULL, "batch 0 accepted");
	softreg_params_default(&p);
	p.l2 = -1;
	CHECK(softreg_check_params(&p) != NULL, "negative l2 accepted");
	/* softreg_train refuses them too, with the message */
	struct softreg_dataset ds;
	t_random_dataset(&ds, 20, 2, 2, 2, 1, false);
	struct softreg_model *m = softreg_model_alloc(2, 2, 2);
	softreg_params_default(&p);
	p.lr = -1;
	char err[SOFTREG_ERRLEN] = "";
	CHECK(softreg_train(m, &ds, NULL, &p, NULL, NULL, err) == SOFTREG_ERR_PARAM && strstr(err, "lr"), "train: %s",
	      err);
	/* a model that does not fit the data */
	struct softreg_model *small = softreg_model_alloc(2, 1, 2);
	softreg_params_default(&p);
	CHECK(softreg_train(small, &ds, NULL, &p, NULL, NULL, err) == SOFTREG_ERR_MISMATCH, "d mismatch: %s", err);
	softreg_model_free(small);
	softreg_model_free(m);
	softreg_dataset_free(&ds);
}

struct lrs {
	double lr[64];
	int n;
	int stop_at; /* batch updates after which to ask for a stop (0: never) */
	volatile sig_atomic_t *flag;
};

static int record(const struct softreg_epoch_info *info, void *user)
{
	struct lrs *l = user;
	if (!info->end_of_epoch) {
		if (l->n < 64)
			l->lr[l->n] = info->lr;
		l->n++;
		if (l->stop_at && l->n == l->stop_at)
			*l->flag = 1;
	}
	return 0;
}

static void schedules(void)
{
	struct softreg_dataset ds;
	t_random_dataset(&ds, 40, 2, 2, 2, 8, false);
	struct softreg_params p;
	softreg_params_default(&p);
	p.batch = 10; /* 4 batches an epoch */
	p.epochs = 4;
	p.lr = 0.5;
	p.progress = record;
	enum softreg_schedule s[3] = {SOFTREG_SCHEDULE_CONST, SOFTREG_SCHEDULE_STEP, SOFTREG_SCHEDULE_COSINE};
	for (int i = 0; i < 3; i++) {
		struct lrs l = {0};
		p.user = &l;
		p.schedule = s[i];
		struct softreg_model *m = softreg_model_alloc(2, 2, 2);
		CHECK(softreg_train(m, &ds, NULL, &p, NULL, NULL, NULL) == SOFTREG_OK, "schedule %d", i);
		CHECK(l.n == 16, "%d updates, expected 16", l.n);
		if (i == 0)
			CHECK(l.lr[0] == 0.5 && l.lr[15] == 0.5, "const: %g %g", l.lr[0], l.lr[15]);
		if (i == 1) /* x0.1 from 50% of the epochs (epoch 3), x0.01 from 75% (epoch 4) */
			CHECK(l.lr[7] == 0.5 && fabs(l.lr[8] - 0.05) < 1e-12 && fabs(l.lr[12] - 0.005) < 1e-12,
			      "step: %g %g %g", l.lr[7], l.lr[8], l.lr[12]);
		if (i == 2) /* lr (1 + cos(pi t / T)) / 2, t = 0..15, T = 16 */
			CHECK(l.lr[0] == 0.5 && fabs(l.lr[8] - 0.25) < 1e-12 &&
				      fabs(l.lr[15] - 0.25 * (1 + cos(M_PI * 15 / 16))) < 1e-12,
			      "cosine: %g %g %g", l.lr[0], l.lr[8], l.lr[15]);
		softreg_model_free(m);
	}
	softreg_dataset_free(&ds);
}

static void stop_flag(void)
{
	struct softreg_dataset ds;
	t_random_dataset(&ds, 40, 2, 2, 2, 8, false);
	struct softreg_params p;
	softreg_params_default(&p);
	p.batch = 10;
	p.epochs = 4;
	volatile sig_atomic_t flag = 0;
	struct lrs l = {.stop_at = 6, .flag = &flag};
	p.progress = record;
	p.user = &l;
	p.stop = &flag;
	struct softreg_model *m = softreg_model_alloc(2, 2, 2);
	struct softreg_train_state *st = softreg_train_state_alloc(2, 4);
	char err[SOFTREG_ERRLEN] = "";
	enum softreg_result r = softreg_train(m, &ds, NULL, &p, st, NULL, err);
	CHECK(r == SOFTREG_ERR_INTERRUPTED, "stop flag gave %s", softreg_result_name(r));
	CHECK(st->epochs_done == 1 && st->batches_done == 2 && st->iterations == 6,
	      "state after stop: epochs %u batches %u iterations %llu", st->epochs_done, st->batches_done,
	      (unsigned long long)st->iterations);
	softreg_train_state_free(st);
	softreg_model_free(m);
	softreg_dataset_free(&ds);
}

int main(void)
{
	separable(&softreg_kernel_blas);
	separable(&softreg_kernel_naive);
	divergence(1e30, NULL);
	divergence(100, NULL);
	divergence(1e30, &softreg_kernel_sparse);
	divergence(100, &softreg_kernel_sparse);
	for (int threads = 1; threads <= 2; threads++) {
		sgd_step(3, 0.0f, threads);
		sgd_step(10, 1e-3f, threads);
	}
	params();
	schedules();
	stop_flag();
	return t_done("test_train");
}
