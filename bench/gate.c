/* SPDX-License-Identifier: MIT
 * gate.c: the correctness gate, run before anything is timed (llm.c's way).
 * The blas kernel must agree with the naive one, the oracle (it sums in
 * double), on the same batch of real rows, within a stated float32
 * tolerance; and it must give the same bits at every thread count. */
#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * |blas - naive| <= atol + rtol * |naive|, entry by entry (llm.c's form,
 * with an absolute floor for entries that cancel to near zero).
 *
 * Why these values. Pixels are scaled into [0, 1] and every entry of
 * G = S - Y is in [-1, 1], so no gradient entry exceeds 1 in magnitude: an
 * absolute tolerance means the same at every batch size. float32 has
 * u = 2^-24 = 6e-8, and a float sum of n terms errs by at most n u times the
 * sum of their magnitudes:
 *  - dW, db: means of m terms |g x| <= 1, summed by the blas kernel in chunks
 *    of at most 64 rows, then in a group (at most 60 chunks), then over at
 *    most 16 groups: at most (64 + 60 + 16) u = 8e-6, hence atol 1e-5;
 *  - logits: 784 products |w x| <= 0.05 for the gate's model: ~1e-6 in
 *    practice, 1e-3 in the (unreachable) worst case; atol 1e-4;
 *  - loss: the mean of logsumexp(z) - z_y, summed in double by both kernels:
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

static struct diff diff_of(const float *a, const float *r, size_t n, const struct tolerance *t)
{
	struct diff d = {0, 0, 0};
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - (double)r[i]), ref = fabs((double)r[i]);
		if (!isfinite(e)) {
			d.abs = d.rel = d.worst = INFINITY;
			return d;
		}
		d.abs = fmax(d.abs, e);
		/* relative error only where it means something: below atol it is noise */
		if (ref >= t->atol)
			d.rel = fmax(d.rel, e / ref);
		d.worst = fmax(d.worst, e / (t->atol + t->rtol * ref));
	}
	return d;
}

/* What one kernel computes on the gate's batch. */
struct result {
	float loss;
	float *dW, *db, *Z; /* (k, d), (k), (m, k) */
};

static void compute(const struct softreg_kernel *kern, const struct bench_data *data,
		    const struct softreg_batch *b, struct softreg_workspace *ws, struct result *r)
{
	r->loss = kern->loss_grad(data->model, b, r->dW, r->db, ws);
	kern->logits(data->model, b, r->Z, ws);
}

static bool same_bits(const struct result *a, const struct result *b, size_t nW, size_t nb, size_t nZ)
{
	return memcmp(&a->loss, &b->loss, sizeof(float)) == 0 && memcmp(a->dW, b->dW, nW * sizeof(float)) == 0 &&
	       memcmp(a->db, b->db, nb * sizeof(float)) == 0 && memcmp(a->Z, b->Z, nZ * sizeof(float)) == 0;
}

/* The test hook: move one dW entry well outside the tolerance, as a wrong
 * kernel would, so that a test can check that the gate fails. */
static void plant_error(float *dW, const float *ref, size_t n)
{
	size_t i = n / 2;
	dW[i] += (float)(100 * (gate_tol[1].atol + gate_tol[1].rtol * fabs((double)ref[i])));
}

static int max_threads(const struct bench_opts *o)
{
	int t = o->threads[0];
	for (int i = 1; i < o->nthreads; i++)
		t = o->threads[i] > t ? o->threads[i] : t;
	return t;
}

int run_gate(const struct bench_opts *o, const struct bench_data *data, size_t batch, struct gate_result *g,
	     char *err)
{
	const struct softreg_model *m = data->model;
	size_t k = m->k, d = m->d, nW = k * d, nZ = batch * k;
	struct softreg_batch b = {.m = batch, .pixels = data->train.pixels, .rows = data->perm,
				  .labels = data->train.labels};
	struct result res[3]; /* naive, blas at the first thread count, blas at another */
	float *mem = NULL;
	struct softreg_workspace *ws = NULL;
	int rc = BENCH_FAIL;

	memset(g, 0, sizeof(*g));
	g->batch = batch;
	softreg_set_threads(max_threads(o)); /* the workspace serves up to this many */
	ws = softreg_workspace_alloc(batch, k, d);
	size_t per = nW + k + nZ;
	mem = malloc(3 * per * sizeof(float)); /* nZ <= 2^24 * 256: no overflow */
	if (!ws || !mem) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory for the gate at batch %zu", batch);
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		res[i].dW = mem + (size_t)i * per;
		res[i].db = res[i].dW + nW;
		res[i].Z = res[i].db + k;
	}
	compute(&softreg_kernel_naive, data, &b, ws, &res[0]);
	g->same_bits = true;
	for (int t = 0; t < o->nthreads; t++) {
		softreg_set_threads(o->threads[t]);
		struct result *r = t == 0 ? &res[1] : &res[2];
		compute(&softreg_kernel_blas, data, &b, ws, r);
		if (t > 0 && !same_bits(&res[1], r, nW, k, nZ))
			g->same_bits = false;
	}
	if (o->plant_error)
		plant_error(res[1].dW, res[0].dW, nW);
	g->loss = diff_of(&res[1].loss, &res[0].loss, 1, &gate_tol[0]);
	g->dW = diff_of(res[1].dW, res[0].dW, nW, &gate_tol[1]);
	g->db = diff_of(res[1].db, res[0].db, k, &gate_tol[2]);
	g->logits = diff_of(res[1].Z, res[0].Z, nZ, &gate_tol[3]);
	g->within_tol = g->loss.worst <= 1 && g->dW.worst <= 1 && g->db.worst <= 1 && g->logits.worst <= 1;
	g->passed = g->within_tol && g->same_bits;
	rc = BENCH_OK;
out:
	softreg_workspace_free(ws);
	free(mem);
	return rc;
}
