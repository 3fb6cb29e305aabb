/* SPDX-License-Identifier: MIT
 * cases.c: the operations softreg-bench times, each a call into libsoftreg,
 * their flop and byte counts, and the timing loop (warm-up, then samples
 * until both --reps and --min-seconds are reached; minimum and median). */
#include "bench.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const op_names[OP_COUNT] = {"gather", "logits", "softmax", "loss_grad", "epoch"};

/* Everything one case touches; prepared before the clock starts. */
struct op_ctx {
	const struct bench_data *data;
	const struct softreg_kernel *kernel; /* NULL for gather */
	struct softreg_batch batch;          /* the first 'batch' rows of data->perm */
	struct softreg_workspace *ws;
	float *X, *Z, *dW, *db;
	uint8_t *labels;                     /* (m) the batch's labels, contiguous, for softmax */
	struct softreg_model *model;         /* epoch: the model training moves */
	struct softreg_params params;        /* epoch */
	char err[SOFTREG_ERRLEN];            /* epoch: why softreg_train failed */
};

/* Each runs its operation 'inner' times and returns the seconds taken, or a
 * negative value on failure. */
typedef double (*op_fn)(struct op_ctx *c, size_t inner);

static double run_gather(struct op_ctx *c, size_t inner)
{
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		softreg_gather(c->data->model, &c->batch, c->X);
	return now_seconds() - t0;
}

static double run_logits(struct op_ctx *c, size_t inner)
{
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		c->kernel->logits(c->data->model, &c->batch, c->Z, c->ws);
	return now_seconds() - t0;
}

/* Softmax in place, again and again: after the first call Z holds
 * probabilities, which are valid logits too, so every call does the same
 * work (the same expf count) on finite values. */
static double run_softmax(struct op_ctx *c, size_t inner)
{
	size_t m = c->batch.m, k = c->data->model->k;
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		c->kernel->softmax_loss(c->Z, c->labels, m, k);
	return now_seconds() - t0;
}

static double run_loss_grad(struct op_ctx *c, size_t inner)
{
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		c->kernel->loss_grad(c->data->model, &c->batch, c->dW, c->db, c->ws);
	return now_seconds() - t0;
}

/* One shuffled epoch of softreg_train from a zero model; the library's own
 * clock of the training loop (allocation and set-up excluded). */
static double run_epoch(struct op_ctx *c, size_t inner)
{
	(void)inner; /* an epoch is long enough to be timed alone */
	struct softreg_model *m = c->model;
	memset(m->W, 0, m->k * m->d * sizeof(float));
	memset(m->b, 0, m->k * sizeof(float));
	struct softreg_report rep;
	if (softreg_train(m, &c->data->train, NULL, &c->params, NULL, &rep, c->err) != SOFTREG_OK)
		return -1;
	return rep.train_seconds;
}

static const op_fn op_fns[OP_COUNT] = {run_gather, run_logits, run_softmax, run_loss_grad, run_epoch};

/*
 * Work per call. Flops: 2 per multiply-add; softmax counts 5 per element
 * (max, subtract, exp, sum, scale), the SGD update 4 per parameter. Bytes:
 * the compulsory traffic, each input read once and each output written
 * once: uint8 pixels, W, and the outputs. A float batch the blas kernel
 * keeps in cache is not compulsory, so it is not counted.
 */
static void work_of(enum op op, size_t m, size_t n, size_t k, size_t d, double *flops, double *bytes)
{
	double M = (double)m, K = (double)k, D = (double)d, P = K * D + K; /* parameters */
	double logits = 2 * M * K * D + M * K, softmax = 5 * M * K, grad = 2 * M * K * D + 2 * M * K;
	switch (op) {
	case OP_GATHER:
		*flops = M * D;
		*bytes = M * D + 4 * M * D + 4 * M; /* pixels in, floats out, row indices */
		return;
	case OP_LOGITS:
		*flops = logits;
		*bytes = M * D + 4 * M + 4 * P + 4 * M * K;
		return;
	case OP_SOFTMAX:
		*flops = softmax;
		*bytes = 8 * M * K + M;
		return;
	case OP_LOSS_GRAD:
		*flops = logits + softmax + grad;
		*bytes = M * D + 5 * M + 8 * P; /* pixels, labels, rows; W in, dW out */
		return;
	case OP_EPOCH: {
		/* every batch a loss_grad and an update; only the pixels and labels
		 * come from memory: the 31 KB of parameters live in cache */
		size_t full = n / m, rest = n % m;
		double f = 0, b = 0;
		work_of(OP_LOSS_GRAD, m, n, k, d, &f, &b);
		*flops = (double)full * (f + 4 * P);
		if (rest) {
			work_of(OP_LOSS_GRAD, rest, n, k, d, &f, &b);
			*flops += f + 4 * P;
		}
		*bytes = (double)n * (D + 1);
		return;
	}
	case OP_COUNT:
		break;
	}
	*flops = *bytes = 0;
}

bool case_selected(const char *filter, const char *name)
{
	if (!filter)
		return true;
	const char *p = filter;
	while (*p) {
		size_t len = strcspn(p, ",");
		char pat[256];
		if (len > 0 && len < sizeof(pat)) {
			memcpy(pat, p, len);
			pat[len] = '\0';
			bool glob = strpbrk(pat, "*?[") != NULL;
			if (glob ? fnmatch(pat, name, 0) == 0 : strstr(name, pat) != NULL)
				return true;
		}
		p += len + (p[len] == ',');
	}
	return false;
}

void case_name(char *buf, size_t size, enum op op, const char *kernel, size_t batch, int threads)
{
	snprintf(buf, size, "%s/%s/b%zu/t%d", op_names[op], kernel, batch, threads);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Samples are kept for the median; beyond this many the case is long enough. */
#define MAX_SAMPLES ((size_t)1 << 16)
/* Calls per sample are raised until a sample lasts this long: a thousand
 * times the clock's own cost (~20 ns), yet short, so that a sample is seldom
 * hit by an interrupt or another process and the minimum stays clean on a
 * busy machine. */
#define MIN_SAMPLE_SECONDS 20e-6
/* Warm-up: caches, page faults, OpenMP's thread pool, the CPU's clock. */
#define WARMUP_SECONDS 0.05

static int time_samples(op_fn fn, struct op_ctx *ctx, const struct bench_opts *o, bool single,
			struct case_result *c)
{
	double *samples = malloc(MAX_SAMPLES * sizeof(double));
	if (!samples)
		return BENCH_FAIL;
	double warm_until = now_seconds() + fmin(WARMUP_SECONDS, o->min_seconds / 4);
	double one;
	do {
		one = fn(ctx, 1);
		if (one < 0)
			goto fail;
	} while (now_seconds() < warm_until);
	size_t inner = 1;
	if (!single && one > 0 && one < MIN_SAMPLE_SECONDS)
		inner = (size_t)ceil(MIN_SAMPLE_SECONDS / one);
	size_t n = 0;
	double total = 0;
	while ((n < o->reps || total < o->min_seconds) && n < MAX_SAMPLES) {
		double s = fn(ctx, inner);
		if (s < 0)
			goto fail;
		samples[n++] = s / (double)inner;
		total += s;
	}
	qsort(samples, n, sizeof(double), cmp_double);
	c->reps = n;
	c->inner = inner;
	c->ns_min = samples[0] * 1e9;
	c->ns_median = (n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2) * 1e9;
	free(samples);
	return BENCH_OK;
fail:
	free(samples);
	return BENCH_FAIL;
}

static void free_ctx(struct op_ctx *ctx)
{
	softreg_workspace_free(ctx->ws);
	softreg_model_free(ctx->model);
	free(ctx->X);
	free(ctx->Z);
	free(ctx->dW);
	free(ctx->labels);
}

static int prepare(struct op_ctx *ctx, const struct bench_data *data, const struct case_result *c)
{
	const struct softreg_model *m = data->model;
	size_t k = m->k, d = m->d, B = c->batch;
	memset(ctx, 0, sizeof(*ctx));
	ctx->data = data;
	ctx->kernel = strcmp(c->kernel, "lib") ? softreg_kernel_by_name(c->kernel) : NULL;
	ctx->batch = (struct softreg_batch){.m = B, .pixels = data->train.pixels, .rows = data->perm,
					    .labels = data->train.labels};
	size_t nX, nZ;
	if (!mul_ok(B, d, &nX) || !mul_ok(B, k, &nZ))
		return BENCH_FAIL;
	ctx->ws = softreg_workspace_alloc(B, k, d);
	ctx->X = c->op == OP_GATHER ? malloc(nX * sizeof(float)) : NULL;
	ctx->Z = malloc(nZ * sizeof(float));
	ctx->dW = malloc((k * d + k) * sizeof(float));
	ctx->labels = malloc(B);
	if (!ctx->ws || (c->op == OP_GATHER && !ctx->X) || !ctx->Z || !ctx->dW || !ctx->labels)
		return BENCH_FAIL;
	ctx->db = ctx->dW + k * d;
	for (size_t i = 0; i < B; i++)
		ctx->labels[i] = data->train.labels[data->perm[i]];
	if (c->op == OP_SOFTMAX)
		ctx->kernel->logits(m, &ctx->batch, ctx->Z, ctx->ws); /* realistic logits to start from */
	if (c->op == OP_EPOCH) {
		ctx->model = softreg_model_alloc(k, m->rows, m->cols);
		if (!ctx->model)
			return BENCH_FAIL;
		softreg_params_default(&ctx->params);
		ctx->params.epochs = 1;
		ctx->params.batch = B;
		ctx->params.eval_every = 0;
		ctx->params.kernel = ctx->kernel;
	}
	return BENCH_OK;
}

int time_case(const struct bench_opts *o, const struct bench_data *data, struct case_result *c, char *err)
{
	const struct softreg_model *m = data->model;
	struct op_ctx ctx;
	softreg_set_threads(c->threads);
	int rc = prepare(&ctx, data, c);
	if (rc) {
		snprintf(err, SOFTREG_ERRLEN, "%s: out of memory", c->name);
		goto out;
	}
	rc = time_samples(op_fns[c->op], &ctx, o, c->op == OP_EPOCH, c);
	if (rc) {
		snprintf(err, SOFTREG_ERRLEN, "%s: %.400s", c->name, ctx.err[0] ? ctx.err : "out of memory");
		goto out;
	}
	work_of(c->op, c->batch, data->train.n, m->k, m->d, &c->flops, &c->bytes);
out:
	free_ctx(&ctx);
	return rc;
}
