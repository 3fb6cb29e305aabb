/* SPDX-License-Identifier: MIT
 * lbfgs.c: full-batch L-BFGS (Nocedal & Wright, algorithms 7.4 and 3.5-3.6:
 * two-loop recursion, strong-Wolfe line search with a cubic zoom) on
 * F(W, b) = mean CE + (l2/2)|W|^2 over the training rows [0, n).
 *
 * What makes it fast and exact:
 *  - Preconditioning. With x~ = [x, 1], the Hessian of F is roughly
 *    (class curvature) (x) E[x~ x~^T] + l2, and raw pixels are neither centred
 *    nor uncorrelated, so plain L-BFGS crawls. The solver works in the
 *    variables v = [W, b] L, where L L^T = M = E[x~ x~^T] + tau I (estimated
 *    once on a strided sample of rows, factored by LAPACK's dpotrf): the same
 *    F under a linear change of variables, i.e. L-BFGS whose initial inverse
 *    Hessian is M^-1 instead of the identity. It costs two triangular solves
 *    of k x (d+1)^2 per evaluation, against GEMMs of n x d x k, and cuts
 *    the iterations to tol 1e-5 at l2 = 1e-4 from 386 to 100 on MNIST, and
 *    from over 1000 to about 350 on Fashion-MNIST.
 *  - Precision. The iterate, the sum of the chunks' gradients, the (s, y)
 *    pairs and the recursion are double; only the kernel sees floats (W, b
 *    rounded at each evaluation). The kernel's F has float noise (about 1e-9
 *    on MNIST, 1e-8 on small sets, from float logits) that near the optimum
 *    exceeds the decrease per iteration; there the line search also accepts a
 *    step on the gradient alone (Hager and Zhang's approximate Wolfe
 *    conditions) when F is not higher than that noise allows.
 *  - Warm starts along an l2 path (softreg sweep). A struct softreg_lbfgs_memory
 *    carries the preconditioner and the (s, y) pairs from one call to the
 *    next: the factorisation is not redone, and the pairs, whose y change with
 *    l2 by a known linear term, are corrected exactly. On MNIST's 11-value path
 *    the pairs save few iterations (the fits' tails dominate); the
 *    preconditioner saves its 60 ms per fit.
 * Every evaluation is the chosen kernel over the rows in fixed chunks, summed
 * in a fixed order (sr_sum_range, the one loss-and-gradient path), and the solver's own BLAS and LAPACK calls run on one
 * thread: the model is the same, bit for bit, at any thread count. */
#include "dist.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define C1 1e-4          /* sufficient decrease */
#define C2 0.9           /* curvature: the usual choice for quasi-Newton */
#define AW_DELTA 0.1     /* approximate Wolfe: phi'(a) <= (2 delta - 1) phi'(0) */
#define F_NOISE 1e-7     /* the rise of F (relative) the approximate Wolfe test tolerates */
#define MAX_LS 20        /* evaluations per line search */
#define CHUNK_ROWS 8192  /* rows per kernel call; from 2048 to 60000 all run at the same speed */
#define PC_ROWS 4096     /* rows sampled for E[x~ x~^T]: 2048 to 16384 need the same iterations, 1024 20% more */
#define PC_MAX_D 2048    /* M is (d+1)^2 doubles, its factorisation O(d^3): beyond, plain L-BFGS */
#define PC_TAU 1.0       /* tau, times the mean of E[x_j^2]: see precondition() */

/* Run a BLAS or LAPACK call on one thread, whatever the thread count: inside
 * an active parallel region OpenBLAS does not fork, and its one-threaded
 * rounding is the same at any --threads (its threaded syrk, potrf and trsm
 * split the work, and so the sums, by the thread count). */
#define ONE_THREAD(call)                                                       \
	do {                                                                   \
		_Pragma("omp parallel num_threads(omp_get_max_threads())")   \
		if (omp_get_thread_num() == 0) {                               \
			call;                                                  \
		}                                                              \
	} while (0)

/* LAPACK's Cholesky factorisation (in OpenBLAS) */
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);

struct lb {
	struct softreg_model *m;             /* the user's model: W, b get each evaluated point */
	const struct softreg_dataset *train;
	size_t n, k, d, D, nv;               /* D = d + 1; nv = k * D */
	double l2;
	double *L;                           /* (D, D) lower Cholesky factor of M; NULL: identity */
	double *u;                           /* (k, D) scratch: [W, b] or its gradient */
	struct softreg_workspace *ws;
	float *gc;                           /* (k*d + k) one chunk's gradient */
	int64_t *xacc;                       /* the exact sum of the chunks' gradients (dist.h) */
	double *gsum;                        /* (k*d + k) the gradient's sum over the rows */
	const struct softreg_dist *dist;     /* the processes that share the rows (NULL: one) */
};

/* a point of the search: v, the gradient in v, F and |grad F| in [W, b] */
struct point {
	double *x, *g;
	double f, gnorm;
};

/* What a call leaves for the next (softreg_lbfgs_memory_alloc()): the
 * preconditioner and the ring of (s, y) pairs, in the variables v. */
struct softreg_lbfgs_memory {
	size_t k, d, hm;    /* the shape it holds; hm 0: empty */
	bool conditioned;   /* precondition() ran (L may still be NULL: none could be had) */
	double *L;          /* (D, D) the preconditioner's factor, or NULL */
	double *S, *Y, *rho; /* (hm, nv), (hm, nv), (hm): one allocation at S */
	size_t used, head;
	double l2;          /* the l2 the pairs' y were measured at */
};

struct softreg_lbfgs_memory *softreg_lbfgs_memory_alloc(void)
{
	return calloc(1, sizeof(struct softreg_lbfgs_memory));
}

static void memory_clear(struct softreg_lbfgs_memory *km)
{
	free(km->L);
	free(km->S);
	memset(km, 0, sizeof(*km));
}

void softreg_lbfgs_memory_free(struct softreg_lbfgs_memory *km)
{
	if (km) {
		memory_clear(km);
		free(km);
	}
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* The sampled rows of a shard held by the processes of L->dist: each
 * gathers the sample rows it holds into their places in X (ns x d), and
 * every process then has them all, so the moments below are the same bits
 * as in one process. NULL when out of memory (on any process). */
static float *gather_sample(const struct lb *L, size_t ns)
{
	size_t d = L->d, n = L->n, N = (size_t)softreg_dist_size(L->dist), r = (size_t)softreg_dist_rank(L->dist);
	size_t row0 = sr_dist_row0(L->dist, L->train), row1 = row0 + L->train->n;
	float *X = malloc(ns * d * sizeof(float));
	int64_t *lo = calloc(N + 2, sizeof(int64_t));
	size_t *at = calloc(N + 1, sizeof(size_t));
	bool ok = X && lo && at;
	size_t first = ns; /* the first sample this process holds */
	for (size_t i = 0; i < ns; i++) {
		size_t row = i * n / ns;
		if (row >= row0 && row < row1) {
			first = i < first ? i : first;
			float *x = ok ? X + i * d : NULL;
			if (x)
				sr_gather_row(L->m, &L->train->x, row - row0, x);
		}
	}
	if (lo) { /* the processes' first samples, in rank order: their shares of X */
		lo[r] = (int64_t)first;
		lo[N] = !ok;
	}
	int64_t tmp[2];
	sr_dist_sum_i64(L->dist, lo ? lo : tmp, lo ? N + 1 : 0);
	ok = lo && lo[N] == 0 && ok;
	if (ok) {
		at[N] = ns;
		for (size_t q = N; q-- > 0;) /* a process that holds no sample starts where the next does */
			at[q] = (size_t)lo[q] < at[q + 1] ? (size_t)lo[q] : at[q + 1];
		sr_dist_gather_rows(L->dist, X, d, at);
	}
	free(lo);
	free(at);
	if (!ok) {
		free(X);
		return NULL;
	}
	return X;
}

/* E[x x^T] (lower triangle, d x d) and E[x] over a strided sample of ns of
 * the n rows, as the model preprocesses them; false when out of memory */
static bool sample_moments(const struct lb *L, size_t ns, double *M)
{
	size_t d = L->d, D = L->D, n = L->n, blk = 1024;
	bool shard = sr_dist_sharded(L->dist, L->train);
	float *all = shard ? gather_sample(L, ns) : NULL;
	float *X = shard ? all : malloc(blk * d * sizeof(float)), *C = calloc(d * d, sizeof(float));
	uint32_t *rows = malloc(blk * sizeof(uint32_t));
	bool ok = X && C && rows && M;
	for (size_t i0 = 0; ok && i0 < ns; i0 += blk) {
		size_t mb = ns - i0 < blk ? ns - i0 : blk;
		for (size_t i = 0; i < mb; i++)
			rows[i] = (uint32_t)((i0 + i) * n / ns);
		struct softreg_batch b = {.src = &L->train->x, .m = mb, .rows = rows};
		if (shard)
			X = all + i0 * d;
		else
			softreg_gather(L->m, &b, X);
		ONE_THREAD(cblas_ssyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)mb, 1.0f, X, (int)d, 1.0f, C, (int)d));
		for (size_t i = 0; i < mb; i++) /* E[x] goes in the last row of M */
			for (size_t j = 0; j < d; j++)
				M[d * D + j] += X[i * d + j];
	}
	for (size_t i = 0; ok && i < d; i++) {
		for (size_t j = 0; j <= i; j++)
			M[i * D + j] = (double)C[i * d + j] / (double)ns;
		M[d * D + i] /= (double)ns;
	}
	free(shard ? all : X);
	free(C);
	free(rows);
	return ok;
}

/* L->L = the Cholesky factor of M = E[x~ x~^T] + tau I. When it cannot be had
 * (too many features, out of memory, M not positive definite) L->L stays NULL:
 * plain L-BFGS, slower but as exact.
 *
 * tau keeps M^-1 from trusting directions the data barely spans, where the
 * class curvature, not E[x~ x~^T], shapes the Hessian. Tried from 0.1 to 30
 * times the mean of E[x_j^2], on MNIST and Fashion-MNIST, pixels/255 and
 * standardised, l2 from 1e-5 to 1e-2: 1 is never more than 1.5x the
 * iterations of the best, which moves between 0.3 and 10. */
static void precondition(struct lb *L)
{
	size_t d = L->d, D = L->D, ns = L->n < PC_ROWS ? L->n : PC_ROWS;
	if (D > PC_MAX_D)
		return;
	double *M = calloc(D * D, sizeof(double));
	if (!sample_moments(L, ns, M) || !M) { /* sample_moments() first: under MPI it is collective */
		free(M);
		return;
	}
	double trace = 0;
	for (size_t j = 0; j < d; j++)
		trace += M[j * D + j];
	double tau = PC_TAU * (trace / (double)d + 1e-12);
	for (size_t i = 0; i < d; i++) {
		M[i * D + i] += tau;
		for (size_t j = 0; j < i; j++) /* full symmetric: either triangle serves LAPACK */
			M[j * D + i] = M[i * D + j];
		M[i * D + d] = M[d * D + i];
	}
	M[d * D + d] = 1 + tau;
	/* row-major lower L L^T is column-major upper U^T U */
	int nd = (int)D, info = 0;
	ONE_THREAD(dpotrf_("U", &nd, M, &nd, &info));
	if (info == 0)
		L->L = M;
	else
		free(M);
}

/* v -> the user's [W, b] (k, D): u = v L^-1, in place */
static void to_user(const struct lb *L, double *u)
{
	if (L->L)
		ONE_THREAD(cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)L->k,
				       (int)L->D, 1.0, L->L, (int)L->D, u, (int)L->D));
}

/* the user's [W, b] (k, D) -> v = u L, in place */
static void to_work(const struct lb *L, double *u)
{
	if (L->L)
		ONE_THREAD(cblas_dtrmm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)L->k,
				       (int)L->D, 1.0, L->L, (int)L->D, u, (int)L->D));
}

/* a gradient in [W, b] -> in v: g L^-T, in place */
static void grad_to_work(const struct lb *L, double *g)
{
	if (L->L)
		ONE_THREAD(cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)L->k,
				       (int)L->D, 1.0, L->L, (int)L->D, g, (int)L->D));
}

/* the model's floats <- the point v */
static void set_model(struct lb *L, const double *v)
{
	size_t k = L->k, d = L->d, D = L->D;
	memcpy(L->u, v, L->nv * sizeof(double));
	to_user(L, L->u);
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < d; j++)
			L->m->W[c * d + j] = (float)L->u[c * D + j];
		L->m->b[c] = (float)L->u[c * D + d];
	}
}

/* F, its gradient in v and |grad F| in [W, b] at p->x, evaluated where the
 * kernel really is: at W, b rounded to floats. Chunks are summed in double. */
static void eval(struct lb *L, struct point *p)
{
	size_t k = L->k, d = L->d, D = L->D, n = L->n, kd = k * d;
	set_model(L, p->x);
	double *u = L->u, reg = 0, *g = L->gsum;
	double ce = sr_sum_range(L->m, L->train, 0, n, L->ws, L->gc, L->xacc, g) / (double)n;
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < d; j++)
			u[c * D + j] = g[c * d + j] / (double)n;
		u[c * D + d] = g[kd + c] / (double)n;
	}
	for (size_t c = 0; c < k; c++)
		for (size_t j = 0; j < d; j++) {
			double wj = L->m->W[c * d + j];
			reg += wj * wj;
			u[c * D + j] += L->l2 * wj;
		}
	p->f = ce + 0.5 * L->l2 * reg;
	p->gnorm = sqrt(dot(u, u, L->nv));
	grad_to_work(L, u);
	memcpy(p->g, u, L->nv * sizeof(double));
}

/* the minimiser of the cubic through (a, fa, da) and (b, fb, db), kept inside
 * the middle 80% of [a, b]; bisection when the cubic has no minimum there */
static double cubic_min(double a, double fa, double da, double b, double fb, double db)
{
	double d1 = da + db - 3 * (fa - fb) / (a - b);
	double s = d1 * d1 - da * db;
	double lo = fmin(a, b), hi = fmax(a, b), w = hi - lo, t = 0.5 * (a + b);
	if (s >= 0) {
		double d2 = copysign(sqrt(s), b - a);
		double den = db - da + 2 * d2;
		if (den != 0)
			t = b - (b - a) * (db + d2 - d1) / den;
	}
	if (!(t >= lo + 0.1 * w && t <= hi - 0.1 * w))
		t = 0.5 * (a + b);
	return t;
}

/* Line search along dir from p (slope dphi0 < 0), trying step a1 first. It
 * accepts a step that meets the strong Wolfe conditions, or the approximate
 * Wolfe ones with F at most F_NOISE (relative) above p's. On success p holds
 * the new point, t the old one, and the step is returned; 0 when no step was
 * acceptable (p unchanged); -1 on a non-finite F. */
static double line_search(struct lb *L, struct point *p, const double *dir, double dphi0, double a1, struct point *t,
			  uint64_t *evals)
{
	size_t nv = L->nv;
	double f0 = p->f, a_lo = 0, f_lo = f0, d_lo = dphi0, a_hi = 0, f_hi = 0, d_hi = 0, a = a1;
	bool zoom = false;
	for (int i = 0; i < MAX_LS; i++) {
		if (zoom) {
			if (fabs(a_hi - a_lo) <= 1e-12 * fmax(a_lo, a_hi)) /* the bracket is below double resolution */
				break;
			a = cubic_min(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi);
		}
		for (size_t j = 0; j < nv; j++)
			t->x[j] = p->x[j] + a * dir[j];
		eval(L, t);
		++*evals;
		double ft = t->f, dt = dot(t->g, dir, nv);
		if (!isfinite(ft))
			return -1;
		bool armijo = ft <= f0 + C1 * a * dphi0;
		bool approx = ft <= f0 + F_NOISE * fabs(f0) && dt <= (2 * AW_DELTA - 1) * dphi0 && dt >= C2 * dphi0;
		if ((armijo && fabs(dt) <= -C2 * dphi0) || approx) {
			struct point old = *p;
			*p = *t, *t = old;
			return a;
		}
		if (!armijo || (zoom ? ft >= f_lo : (i > 0 && ft >= f_lo))) {
			a_hi = a, f_hi = ft, d_hi = dt;
			zoom = true;
		} else if (zoom) {
			if (dt * (a_hi - a_lo) >= 0)
				a_hi = a_lo, f_hi = f_lo, d_hi = d_lo;
			a_lo = a, f_lo = ft, d_lo = dt;
		} else if (dt >= 0) {
			a_hi = a_lo, f_hi = f_lo, d_hi = d_lo;
			a_lo = a, f_lo = ft, d_lo = dt;
			zoom = true;
		} else {
			a_lo = a, f_lo = ft, d_lo = dt;
			a *= 2;
		}
	}
	return 0;
}

/* dir = -H g by the two-loop recursion over the 'used' newest pairs of the
 * ring of 'hm' (s, y) pairs that ends before 'head' */
static void two_loop(size_t nv, size_t hm, size_t used, size_t head, const double *S, const double *Y,
		     const double *rho, double *alpha, const double *g, double *dir)
{
	for (size_t j = 0; j < nv; j++)
		dir[j] = -g[j];
	for (size_t q = 0; q < used; q++) {
		size_t h = (head + hm - 1 - q) % hm;
		alpha[h] = rho[h] * dot(S + h * nv, dir, nv);
		const double *y = Y + h * nv;
		for (size_t j = 0; j < nv; j++)
			dir[j] -= alpha[h] * y[j];
	}
	if (used) {
		size_t h = (head + hm - 1) % hm;
		double gamma = 1.0 / (rho[h] * dot(Y + h * nv, Y + h * nv, nv)); /* s'y / y'y */
		for (size_t j = 0; j < nv; j++)
			dir[j] *= gamma;
	}
	for (size_t q = used; q-- > 0;) {
		size_t h = (head + hm - 1 - q) % hm;
		double beta = rho[h] * dot(Y + h * nv, dir, nv);
		const double *s = S + h * nv;
		for (size_t j = 0; j < nv; j++)
			dir[j] += (alpha[h] - beta) * s[j];
	}
}

/* The pairs of the memory were measured at l2_old; F at l2 differs by
 * (l2 - l2_old)/2 |W|^2, whose gradient in v is linear: P(v L^-1) L^-T (P
 * zeroes the bias column). So each y gains (l2 - l2_old) P(s L^-1) L^-T, exactly.
 * Returns the pairs kept: the newest ones while s'y stays positive. */
static size_t correct_pairs(struct lb *L, double dl2, size_t hm, size_t used, size_t head, const double *S, double *Y,
			    double *rho)
{
	size_t nv = L->nv, D = L->D;
	double *z = L->u;
	for (size_t q = 0; q < used; q++) {
		size_t h = (head + hm - 1 - q) % hm;
		const double *s = S + h * nv;
		double *y = Y + h * nv;
		memcpy(z, s, nv * sizeof(double));
		to_user(L, z);
		for (size_t c = 0; c < L->k; c++)
			z[c * D + L->d] = 0;
		grad_to_work(L, z);
		for (size_t j = 0; j < nv; j++)
			y[j] += dl2 * z[j];
		double sy = dot(s, y, nv);
		if (!(sy > 1e-10 * sqrt(dot(s, s, nv) * dot(y, y, nv))))
			return q;
		rho[h] = 1.0 / sy;
	}
	return used;
}

enum softreg_result sr_train_lbfgs(struct softreg_model *m, const struct softreg_dataset *train, size_t n,
				   const struct softreg_dataset *test, const struct softreg_params *p,
				   const struct softreg_kernel *kern, const struct softreg_kernel *test_kern,
				   const struct softreg_dist *dist, struct softreg_train_state *st,
				   struct softreg_report *rep, char *err)
{
	if (st->epochs_done || st->iterations)
		return sr_fail(err, SOFTREG_ERR_PARAM, "the L-BFGS solver cannot resume a checkpoint");
	size_t k = m->k, d = m->d, D = d + 1, nv = k * D, hm = (size_t)p->history;
	struct lb L = {.m = m, .train = train, .n = n, .k = k, .d = d, .D = D, .nv = nv, .l2 = p->l2, .dist = dist};
	size_t n_all = sr_dist_total(dist, train); /* training and validation rows, on every process */
	size_t n_test = test ? sr_dist_total(dist, test) : 0;
	size_t rows = n < CHUNK_ROWS ? n : CHUNK_ROWS, ev = sr_eval_rows(k);
	L.ws = softreg_workspace_alloc(kern, rows, k, d);
	struct softreg_workspace *eval_ws = softreg_workspace_alloc(kern, ev, k, d);
	struct softreg_workspace *test_ws = test && test_kern != kern ? softreg_workspace_alloc(test_kern, ev, k, d)
								   : eval_ws;
	/* doubles: x, g of the point and the trial, dir, u, gsum, hm pairs (s, y), rho, alpha;
	 * the pairs and rho in the carried memory when there is one */
	struct softreg_lbfgs_memory *km = p->lbfgs_memory;
	bool reuse = km && km->hm == hm && km->k == k && km->d == d;
	if (km && !reuse) {
		memory_clear(km);
		size_t npair = 2 * hm * nv + hm;
		km->S = npair <= SIZE_MAX / 8 / nv ? malloc(npair * sizeof(double)) : NULL;
		if (km->S)
			km->k = k, km->d = d, km->hm = hm;
	}
	size_t ndouble = km ? 7 * nv + hm : (7 + 2 * hm) * nv + 2 * hm;
	double *mem = ndouble <= SIZE_MAX / 8 / nv ? malloc(ndouble * sizeof(double)) : NULL;
	L.gc = malloc(nv * sizeof(float));
	size_t nx = sr_xsum_words(nv);
	L.xacc = nx ? malloc(nx * sizeof(int64_t)) : NULL;
	enum softreg_result r = L.ws && eval_ws && test_ws && mem && L.gc && L.xacc && (!km || km->S) ? SOFTREG_OK
		: sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory for L-BFGS on a %zu x %zu model (%zu bytes of history and "
			  "iterates, %zu of workspace)", k, d, ndouble * sizeof(double), softreg_workspace_bytes(kern, rows, k, d));
	if ((r = softreg_dist_agree(dist, r, err))) { /* no process goes on alone */
		softreg_workspace_free(L.ws);
		if (test_ws != eval_ws)
			softreg_workspace_free(test_ws);
		softreg_workspace_free(eval_ws);
		free(mem);
		free(L.gc);
		free(L.xacc);
		return r;
	}
	L.ws->dist = eval_ws->dist = test_ws->dist = dist;
	struct point P = {.x = mem, .g = mem + nv}, T = {.x = mem + 2 * nv, .g = mem + 3 * nv};
	double *dir = mem + 4 * nv, *S = mem + 7 * nv, *Y = S + hm * nv, *rho = Y + hm * nv, *alpha = rho + hm;
	if (km) {
		S = km->S, Y = S + hm * nv, rho = Y + hm * nv;
		alpha = mem + 7 * nv;
	}
	L.u = mem + 5 * nv;
	L.gsum = mem + 6 * nv;
	uint64_t evals = 1;
	double t_start = sr_now();

	size_t used = 0, head = 0; /* ring buffer of the last 'hm' pairs */
	if (km && km->conditioned) {
		L.L = km->L;
		used = km->used, head = km->head;
		if (used && p->l2 != km->l2)
			used = correct_pairs(&L, p->l2 - km->l2, hm, used, head, S, Y, rho);
	} else {
		precondition(&L);
		if (km)
			km->L = L.L, km->conditioned = true;
	}
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < d; j++)
			P.x[c * D + j] = m->W[c * d + j];
		P.x[c * D + d] = m->b[c];
	}
	to_work(&L, P.x);
	eval(&L, &P);
	for (uint32_t it = 1; it <= p->epochs && P.gnorm > p->tol; it++) {
		double t0 = sr_now();
		two_loop(nv, hm, used, head, S, Y, rho, alpha, P.g, dir);
		double dphi0 = dot(P.g, dir, nv);
		if (!(dphi0 < 0)) { /* not a descent direction: restart from steepest descent */
			for (size_t j = 0; j < nv; j++)
				dir[j] = -P.g[j];
			dphi0 = -dot(P.g, P.g, nv);
			used = 0;
		}
		double a1 = used ? 1.0 : fmin(1.0, 1.0 / sqrt(-dphi0));
		double step = line_search(&L, &P, dir, dphi0, a1, &T, &evals);
		if (step < 0) {
			r = sr_fail(err, SOFTREG_ERR_DIVERGED, "L-BFGS diverged at iteration %u (non-finite objective)", it);
			rep->diverged_epoch = it;
			break;
		}
		if (step == 0) {
			if (used == 0) /* not even steepest descent lowers F at float precision: converged */
				break;
			used = 0; /* retry this iteration from steepest descent */
			it--;
			continue;
		}
		/* the pair (s, y) from the old point, now in T */
		double *s_new = S + head * nv, *y_new = Y + head * nv;
		for (size_t j = 0; j < nv; j++) {
			s_new[j] = P.x[j] - T.x[j];
			y_new[j] = P.g[j] - T.g[j];
		}
		double sy = dot(s_new, y_new, nv);
		if (sy > 1e-10 * sqrt(dot(s_new, s_new, nv) * dot(y_new, y_new, nv))) { /* else H would not stay positive */
			rho[head] = 1.0 / sy;
			head = (head + 1) % hm;
			used = used < hm ? used + 1 : hm;
		}
		st->iterations++;
		st->epochs_done = it;
		rep->epochs_run = it;
		struct softreg_epoch_info info = {
			.epoch = it, .epochs = p->epochs, .batch = 1, .batches = 1, .train_loss = -1,
			.train_accuracy = -1, .test_loss = -1, .test_accuracy = -1, .val_accuracy = -1, .lr = step,
			.seconds = sr_now() - t0, .objective = P.f, .grad_norm = P.gnorm, .end_of_epoch = 1};
		bool last = it == p->epochs || P.gnorm <= p->tol;
		/* the model holds P's floats: the accepted point was the last one evaluated */
		if (n_test && (last || (p->eval_every && it % p->eval_every == 0))) {
			sr_evaluate_ws(m, test, 0, n_test, NULL, &info.test_accuracy, &info.test_loss, test_ws, NULL);
			rep->test_accuracy = info.test_accuracy;
			rep->test_loss = info.test_loss;
		}
		if (n < n_all) {
			sr_evaluate_ws(m, train, n, n_all - n, NULL, &info.val_accuracy, NULL, eval_ws, NULL);
			rep->val_accuracy = info.val_accuracy;
		}
		if (p->on_iter)
			p->on_iter(st->iterations, it, P.f, m, p->user);
		/* under MPI the processes stop together: a signal may reach one first */
		bool halt = p->progress && p->progress(&info, p->user);
		bool stop = p->stop && *p->stop;
		if (sr_dist_on(dist)) {
			int64_t v[2] = {halt, stop};
			sr_dist_sum_i64(dist, v, 2);
			halt = v[0] != 0, stop = v[1] != 0;
		}
		if (halt) {
			r = sr_fail(err, SOFTREG_ERR_INTERRUPTED, "training stopped at iteration %u", it);
			break;
		}
		if (stop) {
			r = sr_fail(err, SOFTREG_ERR_INTERRUPTED, "interrupted at iteration %u", it);
			break;
		}
	}
	/* the model gets the floats that F and |grad F| were evaluated at */
	set_model(&L, P.x);
	rep->objective = P.f;
	rep->grad_norm = P.gnorm;
	rep->train_seconds = sr_now() - t_start;
	if (r == SOFTREG_OK && n_test)
		sr_evaluate_ws(m, test, 0, n_test, NULL, &rep->test_accuracy, &rep->test_loss, test_ws, NULL);
	softreg_workspace_free(L.ws);
	if (test_ws != eval_ws)
		softreg_workspace_free(test_ws);
	softreg_workspace_free(eval_ws);
	free(mem);
	if (km) { /* the memory keeps L and the pairs for the next call */
		km->used = r == SOFTREG_ERR_DIVERGED ? 0 : used;
		km->head = head;
		km->l2 = p->l2;
	} else {
		free(L.L);
	}
	free(L.gc);
	free(L.xacc);
	return r;
}
