/* SPDX-License-Identifier: MIT
 * test_determinism.c: the same seed gives the same model, bit for bit, at any
 * thread count; a run stopped mid-epoch and resumed from its saved state gives
 * the model of the run that was never stopped. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct softreg_dataset ds;

static struct softreg_model *run(int threads, const struct softreg_kernel *kern, uint64_t seed)
{
	softreg_set_threads(threads);
	struct softreg_model *m = softreg_model_alloc(t_map_identity(&ds), ds.rows, ds.cols);
	struct softreg_params p;
	softreg_params_default(&p);
	p.epochs = 2;
	p.batch = 256; /* several row chunks a batch, and a short last batch */
	p.seed = seed;
	p.kernel = kern;
	char err[SOFTREG_ERRLEN] = "";
	CHECK(softreg_train(m, &ds, NULL, &p, NULL, NULL, err) == SOFTREG_OK, "%s", err);
	return m;
}

static bool same(const struct softreg_model *a, const struct softreg_model *b)
{
	return memcmp(a->W, b->W, a->k * a->d * sizeof(float)) == 0 && memcmp(a->b, b->b, a->k * sizeof(float)) == 0;
}

static int stop_after;
static int count_batches(const struct softreg_epoch_info *info, void *user)
{
	volatile sig_atomic_t *flag = user;
	if (!info->end_of_epoch && --stop_after == 0)
		*flag = 1;
	return 0;
}

static void resume(void)
{
	softreg_set_threads(2);
	struct softreg_params p;
	softreg_params_default(&p);
	p.epochs = 3;
	p.batch = 300;
	p.schedule = SOFTREG_SCHEDULE_COSINE;
	size_t k = t_map_identity(&ds);
	char err[SOFTREG_ERRLEN] = "";
	struct softreg_model *whole = softreg_model_alloc(k, ds.rows, ds.cols);
	CHECK(softreg_train(whole, &ds, &ds, &p, NULL, NULL, err) == SOFTREG_OK, "%s", err);

	/* stopped after 13 batches: epoch 2, batch 3 (10 batches an epoch) */
	volatile sig_atomic_t flag = 0;
	struct softreg_params q = p;
	q.progress = count_batches;
	q.user = (void *)&flag;
	q.stop = &flag;
	stop_after = 13;
	struct softreg_model *part = softreg_model_alloc(k, ds.rows, ds.cols);
	struct softreg_train_state *st = softreg_train_state_alloc(k, ds.d);
	CHECK(softreg_train(part, &ds, &ds, &q, st, NULL, err) == SOFTREG_ERR_INTERRUPTED, "not interrupted: %s", err);
	CHECK(st->epochs_done == 1 && st->batches_done == 3, "stopped at epoch %u batch %u", st->epochs_done,
	      st->batches_done);
	char path[] = "/tmp/softreg-resume-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	CHECK(softreg_model_save(part, st, path, err) == SOFTREG_OK, "%s", err);
	struct softreg_model *loaded;
	struct softreg_train_state *st2;
	CHECK(softreg_model_load(path, &loaded, &st2, err) == SOFTREG_OK && st2, "%s", err);
	unlink(path);
	if (!loaded || !st2)
		return;
	CHECK(softreg_train(loaded, &ds, &ds, &p, st2, NULL, err) == SOFTREG_OK, "resume: %s", err);
	CHECK(same(loaded, whole), "resumed model differs from the uninterrupted one");
	CHECK(loaded->epochs == whole->epochs && loaded->test_accuracy == whole->test_accuracy,
	      "metadata: epochs %u vs %u, accuracy %g vs %g", loaded->epochs, whole->epochs, loaded->test_accuracy,
	      whole->test_accuracy);
	softreg_model_free(whole);
	softreg_model_free(part);
	softreg_model_free(loaded);
	softreg_train_state_free(st);
	softreg_train_state_free(st2);
}

int main(void)
{
	t_random_dataset(&ds, 3000, 28, 28, 10, 99, false);
	struct softreg_model *a = run(2, &softreg_kernel_blas, 1), *b = run(2, &softreg_kernel_blas, 1);
	CHECK(same(a, b), "same seed and threads, different models");
	struct softreg_model *c = run(2, &softreg_kernel_blas, 2);
	CHECK(!same(a, c), "a different seed gave the same model: the seed is ignored");
	for (int t = 1; t <= 3; t++) { /* 3 threads on 2 cores: oversubscribed */
		struct softreg_model *x = run(t, &softreg_kernel_blas, 1);
		CHECK(same(a, x), "blas kernel: %d threads differ from 2 threads", t);
		softreg_model_free(x);
	}
	struct softreg_model *n1 = run(1, &softreg_kernel_naive, 1), *n2 = run(2, &softreg_kernel_naive, 1);
	CHECK(same(n1, n2), "naive kernel: 1 and 2 threads differ");
	resume();
	softreg_model_free(a);
	softreg_model_free(b);
	softreg_model_free(c);
	softreg_model_free(n1);
	softreg_model_free(n2);
	softreg_dataset_free(&ds);
	return t_done("test_determinism");
}
