/* SPDX-License-Identifier: MIT
 * gate.c: the correctness gate, run before anything is timed (llm.c's way).
 * Every fast kernel must agree with the naive one, the oracle (it sums in
 * double), on the same batch of real rows of every source it takes, within
 * a stated float32 tolerance; and it must give the same bits at every thread
 * count. Kernels return sums; the gate compares means (sums / m), as the
 * solvers use them. */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * |fast - naive| <= atol + rtol * |naive|, entry by entry (llm.c's form,
 * with an absolute floor for entries that cancel to near zero).
 *
 * Why these values. Features are at most 1 in magnitude (MNIST's pixels
 * scaled into [0, 1]; --shape rows of unit expected norm) and every entry of
 * G = S - Y is in [-1, 1], so no gradient entry exceeds 1 in magnitude: an
 * absolute tolerance means the same at every batch size. float32 has
 * u = 2^-24 = 6e-8, and a float sum of n terms errs by at most n u times the
 * sum of their magnitudes:
 *  - dW, db: means of m terms |g x| <= 1. The blas kernel sums in chunks of
 *    at most 64 rows (256 for a large model), then in a group (at most 60
 *    chunks), then over at most 16 groups: at most (64 + 60 + 16) u = 8e-6,
 *    hence atol 1e-5 (a large model: (256 + ...) u = 2e-5 in the worst case;
 *    rounding errors of random sign add up as the square root of the count,
 *    so 1e-6 in practice). The sparse kernel sums each dW entry over the
 *    rows of each row group in order, then over at most 4 groups: m u in
 *    the worst case, sqrt(m) u in practice
 *    (1.5e-5 for 60000 rows, times a mean |g x| well below 1);
 *  - logits: d products |w x| <= 0.05 on MNIST: ~1e-6 in practice, 1e-3 in
 *    the (unreachable) worst case; atol 1e-4;
 *  - loss: the mean of logsumexp(z) - z_y, summed in double by every kernel:
 *    a few ulps of the ~2.3 it is worth; rtol 1e-5.
 * Measured on MNIST rows, batches 1 to 60000, OpenBLAS's Cooperlake and
 * Haswell kernels: the worst entry uses 0.5% of its tolerance (dW 6e-8,
 * logits 6e-7, loss equal). A real bug moves entries by far more (a missing
 * bias: 0.1; a wrong label in a batch of 4096: 2e-4); the test that plants
 * an error of 100 tolerances checks that the gate fails.
 */
const struct tolerance gate_tol[4] = {
	{"loss", 1e-6, 1e-5},
	{"dW", 1e-5, 1e-4},
	{"db", 1e-5, 1e-4},
	{"logits", 1e-4, 1e-5},
};

/* The oracle's work, batch * k * d multiply-adds, that the gate takes on at
 * most: MNIST's whole training set (60000 x 784 x 10, about a second). A
 * batch above both this and --naive-max is timed without a gate. */
#define GATE_WORK (60000.0 * 784 * 10)

size_t gate_max_batch(const struct bench_opts *o, const struct bench_data *data)
{
	double by_work = GATE_WORK / ((double)data->k * (double)data->base.d);
	size_t b = by_work >= 1 ? (size_t)by_work : 1;
	return b > o->naive_max ? b : o->naive_max;
}

static void diff_add(struct diff *d, double a, double r, const struct tolerance *t)
{
	double e = fabs(a - r), ref = fabs(r);
	if (!isfinite(e)) {
		d->abs = d->rel = d->worst = INFINITY;
		return;
	}
	d->abs = fmax(d->abs, e);
	/* relative error only where it means something: below atol it is noise */
	if (ref >= t->atol)
		d->rel = fmax(d->rel, e / ref);
	d->worst = fmax(d->worst, e / (t->atol + t->rtol * ref));
}

/* the entries of a and r (n floats), each times 'scale' */
static struct diff diff_of(const float *a, const float *r, size_t n, double scale, const struct tolerance *t)
{
	struct diff d = {0, 0, 0};
	for (size_t i = 0; i < n && isfinite(d.worst); i++)
		diff_add(&d, scale * a[i], scale * r[i], t);
	return d;
}

/* What one kernel computes on the gate's batch: sums, and logits. */
struct result {
	double loss;
	float *grad, *Z; /* (k*d + k): dW then db; (m, k) */
};

static void compute(const struct softreg_kernel *kern, const struct softreg_model *m,
		    const struct softreg_batch *b, struct softreg_workspace *ws, struct result *r)
{
	r->loss = kern->loss_grad(m, b, r->grad, ws);
	kern->logits(m, b, r->Z, ws);
}

static bool same_bits(const struct result *a, const struct result *b, size_t ngrad, size_t nZ)
{
	return memcmp(&a->loss, &b->loss, sizeof(a->loss)) == 0 &&
	       memcmp(a->grad, b->grad, ngrad * sizeof(float)) == 0 && memcmp(a->Z, b->Z, nZ * sizeof(float)) == 0;
}

/* The test hook: move one dW entry well outside the tolerance, as a wrong
 * kernel would, so that a test can check that the gate fails. The entries
 * are sums of m rows; the gate compares them divided by m. */
static void plant_error(float *grad, const float *ref, size_t nW, size_t m)
{
	size_t i = nW / 2;
	double mean = fabs((double)ref[i]) / (double)m;
	grad[i] += (float)((double)m * 100 * (gate_tol[1].atol + gate_tol[1].rtol * mean));
}

static int max_threads(const struct bench_opts *o)
{
	int t = o->threads[0];
	for (int i = 1; i < o->nthreads; i++)
		t = o->threads[i] > t ? o->threads[i] : t;
	return t;
}

static void compare(const struct bench_opts *o, const struct result *fast, const struct result *ref, size_t m,
		    size_t k, size_t d, struct gate_result *g)
{
	size_t nW = k * d;
	double inv = 1.0 / (double)m;
	if (o->plant_error)
		plant_error(fast->grad, ref->grad, nW, m);
	g->loss = (struct diff){0, 0, 0};
	diff_add(&g->loss, fast->loss * inv, ref->loss * inv, &gate_tol[0]);
	g->dW = diff_of(fast->grad, ref->grad, nW, inv, &gate_tol[1]);
	g->db = diff_of(fast->grad + nW, ref->grad + nW, k, inv, &gate_tol[2]);
	g->logits = diff_of(fast->Z, ref->Z, m * k, 1.0, &gate_tol[3]);
	g->within_tol = g->loss.worst <= 1 && g->dW.worst <= 1 && g->db.worst <= 1 && g->logits.worst <= 1;
	g->passed = g->within_tol && g->same_bits;
}

int run_gate(const struct bench_opts *o, const struct bench_data *data, enum softreg_source_kind source,
	     size_t batch, struct gate_result *out, size_t *n, char *err)
{
	const struct softreg_model *m = data->model[source];
	const struct softreg_dataset *ds = &data->view[source];
	size_t k = m->k, d = m->d, ngrad = k * d + k, nZ, per;
	struct softreg_batch b = {.src = &ds->x, .y = ds->y, .m = batch, .rows = data->perm};
	struct result res[3]; /* naive, the kernel at the first thread count, at another */
	struct softreg_workspace *ws = NULL;
	float *mem = NULL;
	int rc = BENCH_FAIL;

	*n = 0;
	if (!mul_ok(batch, k, &nZ) || !mul_ok(3, ngrad + nZ, &per) || !(mem = malloc(per * sizeof(float))))
		goto nomem;
	for (int i = 0; i < 3; i++) {
		res[i].grad = mem + (size_t)i * (ngrad + nZ);
		res[i].Z = res[i].grad + ngrad;
	}
	softreg_set_threads(1);
	if (!(ws = softreg_workspace_alloc(&softreg_kernel_naive, batch, k, d)))
		goto nomem;
	compute(&softreg_kernel_naive, m, &b, ws, &res[0]);
	softreg_workspace_free(ws);
	ws = NULL;
	for (size_t ki = 0; softreg_kernels[ki] && ki < BENCH_MAX_KERNELS; ki++) {
		const struct softreg_kernel *kern = softreg_kernels[ki];
		if (kern == &softreg_kernel_naive || !softreg_kernel_takes(kern, source))
			continue;
		struct gate_result *g = &out[(*n)++];
		memset(g, 0, sizeof(*g));
		g->batch = batch;
		g->source = source;
		g->kernel = kern;
		g->same_bits = true;
		softreg_set_threads(max_threads(o)); /* the workspace serves up to this many */
		if (!(ws = softreg_workspace_alloc(kern, batch, k, d)))
			goto nomem;
		for (int t = 0; t < o->nthreads; t++) {
			softreg_set_threads(o->threads[t]);
			struct result *r = t == 0 ? &res[1] : &res[2];
			compute(kern, m, &b, ws, r);
			if (t > 0 && !same_bits(&res[1], r, ngrad, nZ))
				g->same_bits = false;
		}
		softreg_workspace_free(ws);
		ws = NULL;
		compare(o, &res[1], &res[0], batch, k, d, g);
	}
	rc = BENCH_OK;
	goto out;
nomem:
	snprintf(err, SOFTREG_ERRLEN, "out of memory for the gate at batch %zu (%s rows)", batch, source_tags[source]);
out:
	softreg_workspace_free(ws);
	free(mem);
	return rc;
}
