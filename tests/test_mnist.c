/* SPDX-License-Identifier: MIT
 * test_mnist.c: on the real data. The defaults reach 92% test accuracy; the
 * tutorial's configuration (--preset seed) matches, epoch by epoch, the same
 * algorithm recomputed here in double precision; the kernels agree on real
 * batches. Skipped (77) when data/mnist is absent. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct softreg_dataset train, test;

struct accs {
	double acc[64];
	int n;
};

static int record(const struct softreg_epoch_info *info, void *user)
{
	struct accs *a = user;
	if (info->end_of_epoch && a->n < 64)
		a->acc[a->n++] = info->test_accuracy;
	return 0;
}

static struct softreg_model *defaults(void)
{
	struct softreg_model *m = softreg_model_alloc(10, train.rows, train.cols);
	struct softreg_params p;
	softreg_params_default(&p);
	struct softreg_report rep;
	char err[SOFTREG_ERRLEN] = "";
	CHECK(softreg_train(m, &train, &test, &p, NULL, &rep, err) == SOFTREG_OK, "%s", err);
	printf("defaults: %u epochs, test accuracy %.2f%%, %.3f s\n", rep.epochs_run, 100 * rep.test_accuracy,
	       rep.train_seconds);
	CHECK(rep.test_accuracy >= 0.92, "defaults reached %.2f%% < 92.0%%", 100 * rep.test_accuracy);
	return m;
}

/* The tutorial's algorithm in double: raw pixels, zero init, batches of B in
 * file order, W -= lr * mean gradient. Test accuracy after each epoch. */
static void seed_in_double(size_t epochs, size_t B, double lr, double *acc)
{
	size_t k = 10, d = train.d;
	double *W = calloc(k * d, sizeof(double)), *b = calloc(k, sizeof(double));
	double *gW = malloc(k * d * sizeof(double)), *gb = malloc(k * sizeof(double)), z[256];
	for (size_t e = 0; e < epochs; e++) {
		for (size_t i0 = 0; i0 < train.n; i0 += B) {
			size_t m = i0 + B <= train.n ? B : train.n - i0;
			memset(gW, 0, k * d * sizeof(double));
			memset(gb, 0, k * sizeof(double));
			for (size_t i = i0; i < i0 + m; i++) {
				const uint8_t *x = T_PIXELS(&train) + i * d;
				double mx = -INFINITY, s = 0;
				for (size_t j = 0; j < k; j++) {
					double v = b[j];
					for (size_t t = 0; t < d; t++)
						v += W[j * d + t] * x[t];
					z[j] = v;
					mx = fmax(mx, v);
				}
				for (size_t j = 0; j < k; j++)
					s += (z[j] = exp(z[j] - mx));
				for (size_t j = 0; j < k; j++) {
					double g = z[j] / s - (j == train.y[i]);
					for (size_t t = 0; t < d; t++)
						gW[j * d + t] += g * x[t];
					gb[j] += g;
				}
			}
			for (size_t j = 0; j < k * d; j++)
				W[j] -= lr * gW[j] / (double)m;
			for (size_t j = 0; j < k; j++)
				b[j] -= lr * gb[j] / (double)m;
		}
		size_t correct = 0;
		for (size_t i = 0; i < test.n; i++) {
			const uint8_t *x = T_PIXELS(&test) + i * d;
			size_t best = 0;
			double bestz = -INFINITY;
			for (size_t j = 0; j < k; j++) {
				double v = b[j];
				for (size_t t = 0; t < d; t++)
					v += W[j * d + t] * x[t];
				if (v > bestz)
					bestz = v, best = j;
			}
			correct += best == test.y[i];
		}
		acc[e] = (double)correct / (double)test.n;
	}
	free(W);
	free(b);
	free(gW);
	free(gb);
}

static void seed_preset(void)
{
	struct softreg_model *m = softreg_model_alloc(10, train.rows, train.cols);
	m->scale = 1.0f; /* raw 0-255 pixels, as the CLI's --preset seed */
	struct softreg_params p;
	softreg_params_seed_preset(&p);
	struct accs a = {0};
	p.progress = record;
	p.user = &a;
	char err[SOFTREG_ERRLEN] = "";
	CHECK(softreg_train(m, &train, &test, &p, NULL, NULL, err) == SOFTREG_OK, "%s", err);
	CHECK(a.n == 20 && p.epochs == 20 && p.batch == 10000 && p.lr == 1e-5 && p.momentum == 0 && !p.shuffle,
	      "the preset is not the tutorial's configuration");
	double ref[20];
	seed_in_double(20, p.batch, p.lr, ref);
	double worst = 0;
	for (int e = 0; e < a.n && e < 20; e++) {
		double diff = fabs(a.acc[e] - ref[e]) * 100;
		worst = fmax(worst, diff);
		printf("seed preset epoch %2d: softreg %.2f%%  double %.2f%%  diff %.2f pt\n", e + 1, 100 * a.acc[e],
		       100 * ref[e], diff);
		CHECK(diff <= 0.2, "epoch %d: %.2f%% vs %.2f%% in double", e + 1, 100 * a.acc[e], 100 * ref[e]);
	}
	printf("seed preset: largest difference %.2f points\n", worst);
	softreg_model_free(m);
}

static void real_batches(const struct softreg_model *trained)
{
	size_t k = trained->k, d = trained->d, ms[] = {1, 7, 256, 1000};
	struct softreg_workspace *ws0 = softreg_workspace_alloc(&softreg_kernel_naive, 1000, k, d);
	struct softreg_workspace *ws1 = softreg_workspace_alloc(&softreg_kernel_blas, 1000, k, d);
	float *g0 = malloc((k * d + k) * sizeof(float)), *g1 = malloc((k * d + k) * sizeof(float));
	for (size_t i = 0; i < 4; i++) {
		struct softreg_batch b = {.src = &train.x, .y = train.y, .first = 12345, .m = ms[i]};
		float l0 = (float)(softreg_kernel_naive.loss_grad(trained, &b, g0, ws0) / (double)ms[i]);
		float l1 = (float)(softreg_kernel_blas.loss_grad(trained, &b, g1, ws1) / (double)ms[i]);
		double scale = 0;
		for (size_t j = 0; j < k * d + k; j++)
			scale = fmax(scale, fabs(g0[j]));
		size_t where;
		double mabs, worst = t_compare(g1, g0, k * d + k, 1e-5 * scale + 1e-12, 1e-4, &where, &mabs);
		CHECK(fabsf(l1 - l0) <= 1e-5f * fabsf(l0) + 1e-6f, "m=%zu loss %.9g vs %.9g", ms[i], (double)l1, (double)l0);
		CHECK(worst <= 1, "m=%zu gradient index %zu: %.9g vs %.9g", ms[i], where, (double)g1[where], (double)g0[where]);
		printf("real batch m=%zu: loss diff %.2e, max |dW, db| diff %.2e\n", ms[i], fabs((double)l1 - l0), mabs);
	}
	free(g0);
	free(g1);
	softreg_workspace_free(ws0);
	softreg_workspace_free(ws1);
}

int main(void)
{
	const char *dir = t_mnist_dir();
	if (!dir) {
		printf("no MNIST data (set SOFTREG_TEST_DATA or run scripts/fetch-mnist): skipped\n");
		return 77;
	}
	char err[SOFTREG_ERRLEN];
	if (softreg_dataset_load_dir(dir, 0, &train, &test, err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(train.n == 60000 && test.n == 10000 && train.d == 784 && t_map_identity(&train) == 10 &&
		      t_map_identity(&test) == 10,
	      "not MNIST: %zu %zu %zu", train.n, test.n, train.d);
	struct softreg_model *m = defaults();
	real_batches(m);
	seed_preset();
	softreg_model_free(m);
	softreg_dataset_free(&train);
	softreg_dataset_free(&test);
	return t_done("test_mnist");
}
