/* SPDX-License-Identifier: MIT
 * train_out.c: the trace and the metrics of `softreg train`. */
#include "train_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t trace_limit_mb(void)
{
	const char *mb = getenv("SOFTREG_TRACE_MB");
	return mb ? strtoull(mb, NULL, 10) : 512; /* checked by trace_check_env() */
}

int trace_check_env(const char *cmd)
{
	const char *mb = getenv("SOFTREG_TRACE_MB");
	if (!mb)
		return 0;
	bool digits = *mb != '\0' && strlen(mb) <= 7;
	for (const char *p = mb; digits && *p; p++)
		digits = *p >= '0' && *p <= '9';
	if (!digits || strtoull(mb, NULL, 10) < 1)
		return usage_error(cmd, "$SOFTREG_TRACE_MB must be a whole number of MiB from 1 to 9999999, got '%s'", mb);
	return 0;
}

int trace_init(struct trace *t, uint64_t total, size_t k, size_t d)
{
	memset(t, 0, sizeof(*t));
	t->kd1 = k * d + k;
	uint64_t limit = trace_limit_mb() << 20;
	uint64_t per = t->kd1 * sizeof(float) + 24;
	uint64_t fit = limit / per ? limit / per : 1;
	t->stride = (size_t)((total + fit - 1) / fit);
	t->stride = t->stride ? t->stride : 1;
	t->total = total;
	t->cap = (size_t)((total + t->stride - 1) / t->stride) + (t->stride > 1);
	t->iteration = malloc(t->cap * sizeof(uint64_t));
	t->epoch = malloc(t->cap * sizeof(uint32_t));
	t->loss = malloc(t->cap * sizeof(double));
	t->snap = malloc(t->cap * t->kd1 * sizeof(float));
	if (!t->iteration || !t->epoch || !t->loss || !t->snap) {
		trace_free(t);
		return runtime_error("out of memory for the trace (set $SOFTREG_TRACE_MB lower)");
	}
	return 0;
}

void trace_free(struct trace *t)
{
	free(t->iteration);
	free(t->epoch);
	free(t->loss);
	free(t->snap);
	memset(t, 0, sizeof(*t));
}

void trace_add(struct trace *t, uint64_t it, uint32_t epoch, double loss, const struct softreg_model *m)
{
	if (t->failed || ((it - 1) % t->stride != 0 && it != t->total))
		return; /* every stride-th iteration, and always the last */
	if (t->count == t->cap) {
		t->failed = true;
		return;
	}
	size_t i = t->count++;
	t->iteration[i] = it;
	t->epoch[i] = epoch;
	t->loss[i] = loss;
	memcpy(t->snap + i * t->kd1, m->W, m->k * m->d * sizeof(float));
	memcpy(t->snap + i * t->kd1 + m->k * m->d, m->b, m->k * sizeof(float));
}

int trace_write(const char *path, const struct trace *t, const struct softreg_model *m)
{
	if (t->failed)
		return runtime_error("%s: the trace overflowed its buffer", path);
	struct out_file o;
	FILE *f = out_begin(&o);
	if (!f)
		return runtime_error("%s: out of memory for the trace", path);
	fprintf(f, "iteration,epoch,batch_loss,dist_W,dist_b\n");
	size_t kd = m->k * m->d;
	for (size_t i = 0; i < t->count; i++) {
		const float *s = t->snap + i * t->kd1;
		double dw = 0, db = 0;
		for (size_t j = 0; j < kd; j++)
			dw += ((double)s[j] - m->W[j]) * ((double)s[j] - m->W[j]);
		for (size_t j = 0; j < m->k; j++)
			db += ((double)s[kd + j] - m->b[j]) * ((double)s[kd + j] - m->b[j]);
		fprintf(f, "%llu,%u,%.9g,%.9g,%.9g\n", (unsigned long long)t->iteration[i], t->epoch[i], t->loss[i],
			sqrt(dw), sqrt(db));
	}
	return out_commit(&o, path);
}

int metrics_write(const char *path, const struct softreg_epoch_info *h, size_t n)
{
	struct out_file o;
	FILE *f = out_begin(&o);
	if (!f)
		return runtime_error("%s: out of memory for the metrics", path);
	fprintf(f, "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%u,%.9g,%.9g,%.9g,%.9g,%.9g,%.6f\n", h[i].epoch,
			h[i].objective >= 0 ? h[i].objective : h[i].train_loss, h[i].train_accuracy, h[i].test_loss,
			h[i].test_accuracy, h[i].lr, h[i].seconds);
	return out_commit(&o, path);
}
