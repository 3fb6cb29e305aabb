/* SPDX-License-Identifier: MIT
 * test_early_stop.c: early stopping keeps the best epoch's model.
 *
 * The constructed case: one pixel; training images of class 0 are grey 64,
 * of class 1 grey 191, so full-batch gradient descent (lr 0.5, no momentum)
 * moves the decision boundary from grey 0 up towards the middle, a few greys
 * per epoch. The validation images sit at grey 45 (labelled 0) and grey 60
 * (labelled 1): they agree with a boundary between 45 and 60 only. So
 * validation accuracy is 50% for the first epochs, 100% while the boundary
 * is between them (epoch 5), then 50% for good: the best epoch is in the
 * middle, and training must stop P epochs after it and hand back that
 * epoch's model, bit for bit. */
#include "solver_test.h"

#include <stdbool.h>

#define MAX_EPOCHS 200
#define PATIENCE 5

struct snaps {
	struct softreg_model *m; /* the model being trained */
	size_t count;
	double val[MAX_EPOCHS];
	float W[MAX_EPOCHS][2], b[MAX_EPOCHS][2];
};

static int snapshot(const struct softreg_epoch_info *info, void *user)
{
	struct snaps *s = user;
	if (info->end_of_epoch && s->count < MAX_EPOCHS) {
		s->val[s->count] = info->val_accuracy;
		memcpy(s->W[s->count], s->m->W, 2 * sizeof(float));
		memcpy(s->b[s->count], s->m->b, 2 * sizeof(float));
		s->count++;
	}
	return 0;
}

static enum softreg_result train(const struct softreg_dataset *ds, size_t nval, uint32_t epochs, uint32_t patience,
				 struct snaps *s, struct softreg_report *rep)
{
	struct softreg_params p;
	softreg_params_default(&p);
	p.epochs = epochs;
	p.batch = ds->n - nval; /* full batch: one step per epoch */
	p.lr = 0.5;
	p.momentum = 0;
	p.schedule = SOFTREG_SCHEDULE_CONST;
	p.shuffle = 0;
	p.validation = nval;
	p.early_stop = patience;
	p.eval_every = 0;
	p.progress = snapshot;
	p.user = s;
	s->count = 0;
	char err[SOFTREG_ERRLEN] = "";
	enum softreg_result r = softreg_train(s->m, ds, NULL, &p, NULL, rep, err);
	CHECK(r == SOFTREG_OK, "softreg_train: %s", err);
	return r;
}

int main(void)
{
	const size_t ntrain = 200, nval = 20, n = ntrain + nval;
	struct softreg_dataset ds = {.n = n, .rows = 1, .cols = 1, .d = 1};
	uint8_t *px = malloc(n);
	ds.labels = malloc(n * sizeof(int64_t));
	ds.y = malloc(n * sizeof(uint32_t));
	REQUIRE(px && ds.labels && ds.y, "out of memory");
	ds.mem_[0] = px;
	ds.mem_[1] = ds.labels;
	ds.x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = n, .d = 1, .data = px};
	for (size_t i = 0; i < ntrain; i++) {
		ds.labels[i] = (int64_t)(i % 2);
		px[i] = i % 2 ? 191 : 64;
	}
	for (size_t i = ntrain; i < n; i++) { /* the last nval rows are the validation split */
		ds.labels[i] = (int64_t)(i % 2);
		px[i] = i % 2 ? 60 : 45;
	}
	for (size_t i = 0; i < n; i++)
		ds.y[i] = (uint32_t)ds.labels[i];

	static struct snaps es, full;
	es.m = softreg_model_alloc(2, 1, 1);
	full.m = softreg_model_alloc(2, 1, 1);
	REQUIRE(es.m && full.m, "model");
	struct softreg_report rep, rep_full;
	if (train(&ds, nval, MAX_EPOCHS, PATIENCE, &es, &rep))
		return finish("test_early_stop");

	/* the best epoch: the first with the highest validation accuracy */
	size_t best = 0;
	for (size_t e = 1; e < es.count; e++)
		if (es.val[e] > es.val[best])
			best = e;
	printf("validation accuracy per epoch:");
	for (size_t e = 0; e < es.count; e++)
		printf(" %.2f", es.val[e]);
	printf("\nbest epoch %zu (%.2f), stopped after epoch %u\n", best + 1, es.val[best], rep.epochs_run);

	/* the construction worked: accuracy rose, then fell */
	REQUIRE(best > 0 && es.val[best] > es.val[0] && es.val[es.count - 1] < es.val[best],
		"the constructed case has no peak in validation accuracy; fix the test data");
	CHECK(rep.epochs_run == best + 1 + PATIENCE, "stopped after epoch %u, expected %zu (best %zu + patience %d)",
	      rep.epochs_run, best + 1 + PATIENCE, best + 1, PATIENCE);
	CHECK(es.count == rep.epochs_run, "%zu epochs reported, %u run", es.count, rep.epochs_run);
	CHECK(memcmp(es.m->W, es.W[best], sizeof(es.W[best])) == 0 && memcmp(es.m->b, es.b[best], sizeof(es.b[best])) == 0,
	      "the model handed back is not epoch %zu's: W (%g, %g) b (%g, %g), epoch %zu's W (%g, %g) b (%g, %g)",
	      best + 1, (double)es.m->W[0], (double)es.m->W[1], (double)es.m->b[0], (double)es.m->b[1], best + 1,
	      (double)es.W[best][0], (double)es.W[best][1], (double)es.b[best][0], (double)es.b[best][1]);
	CHECK(rep.val_accuracy == es.val[best], "reported validation accuracy %g, best %g", rep.val_accuracy,
	      es.val[best]);
	double acc = -1;
	softreg_evaluate(es.m, &ds, ntrain, nval, NULL, NULL, &acc, NULL, NULL);
	CHECK(acc == es.val[best], "the kept model scores %g on the validation rows, the best epoch %g", acc,
	      es.val[best]);

	/* without early stopping, the same epochs end on a worse model: keeping the best is what made the difference */
	if (train(&ds, nval, rep.epochs_run, 0, &full, &rep_full) == SOFTREG_OK) {
		double acc_full = -1;
		softreg_evaluate(full.m, &ds, ntrain, nval, NULL, NULL, &acc_full, NULL, NULL);
		CHECK(acc_full < es.val[best], "without early stopping the last model scores %g, not below the best %g",
		      acc_full, es.val[best]);
		CHECK(full.count > best && memcmp(full.W[best], es.W[best], sizeof(es.W[best])) == 0,
		      "the two runs differ before the best epoch: training is not deterministic");
	}
	softreg_model_free(es.m);
	softreg_model_free(full.m);
	softreg_dataset_free(&ds);
	return finish("test_early_stop");
}
