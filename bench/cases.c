/* SPDX-License-Identifier: MIT
 * cases.c: the operations softreg-bench times, each a call into libsoftreg,
 * their flop and byte counts, and the timing loop (warm-up, then samples
 * until both --reps and --min-seconds are reached; minimum and median). */
#include "bench.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const op_names[OP_COUNT] = {"gather", "logits", "softmax", "loss_grad", "epoch", "pass"};

/* Everything one case touches; prepared before the clock starts. */
struct op_ctx {
	const struct softreg_dataset *ds;    /* the data as the case's source */
	const struct softreg_model *m;       /* the model, with that source's preprocessing */
	const struct softreg_kernel *kernel; /* NULL for gather */
	struct softreg_batch batch;          /* the first 'batch' rows of data->perm */
	struct softreg_workspace *ws;
	float *X, *Z, *grad;                 /* (m, d), (m, k), (k*d + k) */
	uint32_t *y;                         /* (m) the batch's classes, contiguous, for softmax */
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
		softreg_gather(c->m, &c->batch, c->X);
	return now_seconds() - t0;
}

static double run_logits(struct op_ctx *c, size_t inner)
{
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		c->kernel->logits(c->m, &c->batch, c->Z, c->ws);
	return now_seconds() - t0;
}

/* Softmax in place, again and again: after the first call Z holds
 * probabilities, which are valid logits too, so every call does the same
 * work (the same expf count) on finite values. */
static double run_softmax(struct op_ctx *c, size_t inner)
{
	size_t m = c->batch.m, k = c->m->k;
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		c->kernel->softmax_loss(c->Z, c->y, m, k);
	return now_seconds() - t0;
}

static double run_loss_grad(struct op_ctx *c, size_t inner)
{
	double t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		c->kernel->loss_grad(c->m, &c->batch, c->grad, c->ws);
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
	if (softreg_train(m, c->ds, NULL, &c->params, NULL, &rep, c->err) != SOFTREG_OK)
		return -1;
	return rep.train_seconds;
}

/* One pass of L-BFGS's objective and gradient over every row (softreg_objective:
 * the blocks of the range and their exact sums, threads sharing the blocks) */
static double run_pass(struct op_ctx *c, size_t inner)
{
	double F, t0 = now_seconds();
	for (size_t i = 0; i < inner; i++)
		if (softreg_objective(c->m, c->ds, c->ds->n, 1e-4, c->kernel, c->grad, &F, NULL, c->err) != SOFTREG_OK)
			return -1;
	return now_seconds() - t0;
}

static const op_fn op_fns[OP_COUNT] = {run_gather, run_logits, run_softmax, run_loss_grad, run_epoch, run_pass};

/* What the work of a case depends on. */
struct shape {
	size_t m, n, k, d;       /* batch rows, data rows, classes, features */
	double elem;             /* bytes of a dense feature: 1, 2 or 4 */
	bool csr;
	double nnz_batch, nnz_all; /* CSR: nonzeros of the batch's rows, of every row */
	double nnz_bytes;          /* CSR: bytes a nonzero */
};

/* bytes of CSR that 'rows' rows of 'nnz' nonzeros read: offsets, indices and values */
static double csr_bytes(const struct shape *s, double rows, double nnz)
{
	return 8 * (rows + 1) + s->nnz_bytes * nnz;
}

/*
 * Work per call. Flops: 2 per multiply-add; softmax counts 5 per element
 * (max, subtract, exp, sum, scale), the SGD update 4 per parameter. Bytes:
 * the compulsory traffic, each input read once and each output written
 * once: the features (1, 2 or 4 bytes each), class indices and row indices
 * (4 bytes each), W, and the outputs. A float batch the blas kernel keeps in
 * cache is not compulsory, so it is not counted.
 *
 * CSR rows (every kernel on them, so that the times compare): the
 * multiply-adds are those of the nonzeros, 2 nnz k for the logits and as
 * many for the gradient (4 nnz k for loss_grad); the bytes, the CSR of the
 * batch's rows. The gradient's scatter into dW, one load and one store of 8
 * floats per nonzero per block of 8 classes, stays in cache: it is bounded by
 * the core's rate of such updates (scatters_of(), roofline.c), not by DRAM.
 */
/* read-modify-writes of 'lanes' floats (8, or 16 for the AVX-512 loops)
 * that the sparse kernel's gradient makes: one per nonzero per 'lanes'
 * classes. 16-float ones only for k > 8: k <= 8 is one 8-float block either
 * way. */
static double scatters_of(enum op op, const struct shape *s, size_t lanes)
{
	double per_nonzero = (double)((s->k + lanes - 1) / lanes);
	if (!s->csr || (lanes > 8 && s->k <= 8))
		return 0;
	if (op == OP_LOSS_GRAD)
		return s->nnz_batch * per_nonzero;
	if (op == OP_EPOCH || op == OP_PASS)
		return s->nnz_all * per_nonzero;
	return 0;
}

static void work_of(enum op op, const struct shape *s, double *flops, double *bytes)
{
	double M = (double)s->m, K = (double)s->k, D = (double)s->d, P = K * D + K; /* parameters */
	double nz = s->nnz_batch, feat = s->csr ? csr_bytes(s, M, nz) : s->elem * M * D;
	double logits = s->csr ? 2 * nz * K + M * K : 2 * M * K * D + M * K, softmax = 5 * M * K;
	switch (op) {
	case OP_GATHER:
		*flops = s->csr ? nz : M * D;
		*bytes = feat + 4 * M * D + 4 * M; /* features in, floats out, row indices */
		return;
	case OP_LOGITS:
		*flops = logits;
		*bytes = feat + 4 * M + 4 * P + 4 * M * K;
		return;
	case OP_SOFTMAX:
		*flops = softmax;
		*bytes = 8 * M * K + 4 * M;
		return;
	case OP_LOSS_GRAD:
		if (s->csr) { /* the scatter into dW is in scatters_of() */
			*flops = 4 * nz * K;
			*bytes = feat;
			return;
		}
		*flops = logits + softmax + 2 * M * K * D + 2 * M * K;
		*bytes = feat + 8 * M + 8 * P; /* features, classes, rows; W in, dW out */
		return;
	case OP_EPOCH: {
		/* every batch a loss_grad and an update; only the features and the
		 * classes come from memory (the parameters live in cache), and for
		 * CSR rows the gradient's scatter */
		size_t full = s->n / s->m, rest = s->n % s->m;
		double f = 0, b = 0, N = (double)s->n;
		struct shape one = *s;
		if (s->csr) {
			*flops = 4 * s->nnz_all * K + (double)(full + (rest > 0)) * 4 * P;
			*bytes = csr_bytes(s, N, s->nnz_all) + 4 * N;
			return;
		}
		work_of(OP_LOSS_GRAD, &one, &f, &b);
		*flops = (double)full * (f + 4 * P);
		if (rest) {
			one.m = rest;
			work_of(OP_LOSS_GRAD, &one, &f, &b);
			*flops += f + 4 * P;
		}
		*bytes = N * (s->elem * D + 4);
		return;
	}
	case OP_PASS: { /* loss_grad of one batch of every row */
		struct shape all = *s;
		all.m = s->n;
		all.nnz_batch = s->nnz_all;
		work_of(OP_LOSS_GRAD, &all, flops, bytes);
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

void case_name(char *buf, size_t size, enum op op, const char *kernel, enum softreg_source_kind source,
	       size_t batch, int threads)
{
	if (op == OP_PASS && source == SOFTREG_SOURCE_U8)
		snprintf(buf, size, "%s/%s/t%d", op_names[op], kernel, threads);
	else if (op == OP_PASS)
		snprintf(buf, size, "%s/%s/%s/t%d", op_names[op], kernel, source_tags[source], threads);
	else if (source == SOFTREG_SOURCE_U8)
		snprintf(buf, size, "%s/%s/b%zu/t%d", op_names[op], kernel, batch, threads);
	else
		snprintf(buf, size, "%s/%s/%s/b%zu/t%d", op_names[op], kernel, source_tags[source], batch, threads);
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
	free(ctx->grad);
	free(ctx->y);
}

static int prepare(struct op_ctx *ctx, const struct bench_data *data, const struct case_result *c)
{
	const struct softreg_model *m = data->model[c->source];
	size_t k = m->k, d = m->d, B = c->batch, nX, nZ;
	memset(ctx, 0, sizeof(*ctx));
	ctx->ds = &data->view[c->source];
	ctx->m = m;
	ctx->kernel = c->kern;
	ctx->batch = (struct softreg_batch){.src = &ctx->ds->x, .y = ctx->ds->y, .m = B, .rows = data->perm};
	if (!mul_ok(B, d, &nX) || !mul_ok(B, k, &nZ))
		return BENCH_FAIL;
	if (c->op == OP_GATHER)
		return (ctx->X = malloc(nX * sizeof(float))) ? BENCH_OK : BENCH_FAIL;
	if (c->op == OP_PASS) /* softreg_objective makes its own workspace */
		return (ctx->grad = malloc((k * d + k) * sizeof(float))) ? BENCH_OK : BENCH_FAIL;
	ctx->ws = softreg_workspace_alloc(c->kern, B, k, d);
	ctx->Z = malloc(nZ * sizeof(float));
	ctx->grad = malloc((k * d + k) * sizeof(float));
	ctx->y = malloc(B * sizeof(uint32_t));
	if (!ctx->ws || !ctx->Z || !ctx->grad || !ctx->y)
		return BENCH_FAIL;
	for (size_t i = 0; i < B; i++)
		ctx->y[i] = ctx->ds->y[data->perm[i]];
	if (c->op == OP_SOFTMAX)
		c->kern->logits(m, &ctx->batch, ctx->Z, ctx->ws); /* realistic logits to start from */
	if (c->op == OP_EPOCH) {
		ctx->model = softreg_model_alloc(k, m->rows, m->cols);
		if (!ctx->model)
			return BENCH_FAIL;
		softreg_model_copy(ctx->model, m); /* the preprocessing and classes; W and b are zeroed */
		softreg_params_default(&ctx->params);
		ctx->params.epochs = 1;
		ctx->params.batch = B;
		ctx->params.eval_every = 0;
		ctx->params.kernel = c->kern;
	}
	return BENCH_OK;
}

int time_case(const struct bench_opts *o, const struct bench_data *data, struct case_result *c, char *err)
{
	const struct softreg_dataset *ds = &data->view[c->source];
	struct op_ctx ctx;
	softreg_set_threads(c->threads);
	int rc = prepare(&ctx, data, c);
	if (rc) {
		snprintf(err, SOFTREG_ERRLEN, "%s: out of memory", c->name);
		goto out;
	}
	rc = time_samples(op_fns[c->op], &ctx, o, c->op == OP_EPOCH || c->op == OP_PASS, c);
	if (rc) {
		snprintf(err, SOFTREG_ERRLEN, "%s: %.400s", c->name, ctx.err[0] ? ctx.err : "out of memory");
		goto out;
	}
	static const double elem[BENCH_SOURCES] = {1, 4, 2, 0};
	bool csr = c->source == SOFTREG_SOURCE_CSR;
	struct shape s = {.m = c->op == OP_PASS ? ds->n : c->batch, .n = ds->n, .k = data->k, .d = ds->d, .elem = elem[c->source], .csr = csr,
			  .nnz_batch = csr ? batch_nnz(data, c->batch) : 0, .nnz_all = csr ? (double)data->nnz : 0,
			  .nnz_bytes = data->nnz_bytes};
	work_of(c->op, &s, &c->flops, &c->bytes);
	c->scatters = scatters_of(c->op, &s, 8);
	c->scatters16 = scatters_of(c->op, &s, 16);
out:
	free_ctx(&ctx);
	return rc;
}
