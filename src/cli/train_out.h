/* SPDX-License-Identifier: MIT
 * train_out.h: what `softreg train` records while it trains (the per-epoch
 * history, the trace of distances) and writes after (metrics, trace, JSON). */
#ifndef SOFTREG_TRAIN_OUT_H
#define SOFTREG_TRAIN_OUT_H

#include "cli.h"

struct trace {
	uint64_t total; /* iterations the run will make */
	size_t kd1, stride, cap, count;
	uint64_t *iteration;
	uint32_t *epoch;
	double *loss;
	float *snap; /* (cap, kd1) */
	bool failed;
};

/* Room for the snapshots of 'total' iterations of a (k, d) model, within
 * $SOFTREG_TRACE_MB MiB (default 512): every stride-th iteration, and the
 * last. Prints and returns EXIT_RUNTIME when out of memory. */
/* $SOFTREG_TRACE_MB: a usage error unless unset or a whole number >= 1;
 * the limit in MiB (default 512) */
int trace_check_env(const char *cmd);
uint64_t trace_limit_mb(void);
int trace_init(struct trace *t, uint64_t total, size_t k, size_t d);
void trace_free(struct trace *t);
/* record iteration 'it' when it is one of those kept */
void trace_add(struct trace *t, uint64_t it, uint32_t epoch, double loss, const struct softreg_model *m);
/* the CSV: iteration,epoch,batch_loss,dist_W,dist_b (to the final model) */
int trace_write(const char *path, const struct trace *t, const struct softreg_model *m);

/* the CSV of the epochs: epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds */
int metrics_write(const char *path, const struct softreg_epoch_info *h, size_t n);

#endif
