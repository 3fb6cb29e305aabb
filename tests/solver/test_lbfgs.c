/* SPDX-License-Identifier: MIT
 * test_lbfgs.c: the L-BFGS solver on tiny synthetic problems, against an
 * independent oracle: Newton's method in double precision on the same
 * objective, written here from the formula (no kernel, no BLAS).
 *
 * Pins down: F decreases at every iteration (strictly while F - F* > 1e-6 F*,
 * near F* within the float noise the line search allows, 1e-7 relative); the
 * run stops because |grad F| <= tol, and that norm is honest (the oracle's
 * gradient at the returned floats agrees); the returned W, b and F match
 * Newton's optimum; only the training rows (not the validation rows) enter F;
 * the result is the same at 1 and 2 threads. */
#include "solver_test.h"

#include <stdbool.h>

/* ---- the oracle: F, gradient and Hessian in double ---- */

struct oracle {
	size_t n, d, k, D; /* D = d + 1: features and a constant 1 for the bias */
	double *X;         /* (n, D) */
	const uint32_t *y;
	double l2;
};

/* features exactly as the model preprocesses them (softreg_gather), in double */
static void oracle_init(struct oracle *o, const struct softreg_model *m, const struct softreg_dataset *ds, size_t n,
			double l2)
{
	size_t d = m->d, D = d + 1;
	*o = (struct oracle){.n = n, .d = d, .k = m->k, .D = D, .y = ds->y, .l2 = l2};
	float *xf = malloc(n * d * sizeof(float));
	o->X = malloc(n * D * sizeof(double));
	REQUIRE(xf && o->X, "out of memory");
	struct softreg_batch b = {.src = &ds->x, .m = n};
	softreg_gather(m, &b, xf);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d; j++)
			o->X[i * D + j] = xf[i * d + j];
		o->X[i * D + d] = 1;
	}
	free(xf);
}

/* F at th (k, D); gradient g (k*D) and Hessian H (k*D, k*D) when not NULL */
static double oracle_eval(const struct oracle *o, const double *th, double *g, double *H)
{
	size_t n = o->n, d = o->d, k = o->k, D = o->D, nv = k * D;
	double F = 0, z[256], p[256];
	if (g)
		memset(g, 0, nv * sizeof(double));
	if (H)
		memset(H, 0, nv * nv * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		const double *x = o->X + i * D;
		double mx = -INFINITY, sum = 0;
		for (size_t c = 0; c < k; c++) {
			z[c] = 0;
			for (size_t j = 0; j < D; j++)
				z[c] += th[c * D + j] * x[j];
			mx = fmax(mx, z[c]);
		}
		for (size_t c = 0; c < k; c++)
			sum += exp(z[c] - mx);
		F += log(sum) + mx - z[o->y[i]];
		for (size_t c = 0; c < k; c++)
			p[c] = exp(z[c] - mx) / sum;
		if (g)
			for (size_t c = 0; c < k; c++)
				for (size_t j = 0; j < D; j++)
					g[c * D + j] += (p[c] - (c == o->y[i])) * x[j];
		if (H)
			for (size_t c = 0; c < k; c++)
				for (size_t e = 0; e < k; e++) {
					double w = (c == e ? p[c] : 0) - p[c] * p[e];
					for (size_t j = 0; j < D; j++)
						for (size_t t = 0; t < D; t++)
							H[(c * D + j) * nv + e * D + t] += w * x[j] * x[t];
				}
	}
	F /= (double)n;
	if (g)
		for (size_t q = 0; q < nv; q++)
			g[q] /= (double)n;
	if (H)
		for (size_t q = 0; q < nv * nv; q++)
			H[q] /= (double)n;
	for (size_t c = 0; c < k; c++)
		for (size_t j = 0; j < d; j++) {
			double w = th[c * D + j];
			F += 0.5 * o->l2 * w * w;
			if (g)
				g[c * D + j] += o->l2 * w;
			if (H)
				H[(c * D + j) * nv + c * D + j] += o->l2;
		}
	return F;
}

static double norm(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i] * v[i];
	return sqrt(s);
}

/* solve A x = r for symmetric positive definite A (n, n) by Cholesky; A is
 * overwritten. Returns 0, or -1 when A is not positive definite. */
static int cholesky_solve(double *A, double *r, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		double s = A[j * n + j];
		for (size_t t = 0; t < j; t++)
			s -= A[j * n + t] * A[j * n + t];
		if (!(s > 0))
			return -1;
		A[j * n + j] = sqrt(s);
		for (size_t i = j + 1; i < n; i++) {
			double v = A[i * n + j];
			for (size_t t = 0; t < j; t++)
				v -= A[i * n + t] * A[j * n + t];
			A[i * n + j] = v / A[j * n + j];
		}
	}
	for (size_t i = 0; i < n; i++) { /* L z = r */
		for (size_t t = 0; t < i; t++)
			r[i] -= A[i * n + t] * r[t];
		r[i] /= A[i * n + i];
	}
	for (size_t i = n; i-- > 0;) { /* L^T x = z */
		for (size_t t = i + 1; t < n; t++)
			r[i] -= A[t * n + i] * r[t];
		r[i] /= A[i * n + i];
	}
	return 0;
}

/* Newton's method with backtracking from zero; the biases' common shift is
 * free (F does not depend on it), so H gets a tiny ridge. Returns F*. */
static double oracle_newton(const struct oracle *o, double *th)
{
	size_t nv = o->k * o->D;
	double *g = malloc(nv * sizeof(double)), *H = malloc(nv * nv * sizeof(double)), *t = malloc(nv * sizeof(double));
	REQUIRE(g && H && t, "out of memory");
	memset(th, 0, nv * sizeof(double));
	double F = oracle_eval(o, th, g, H);
	for (int it = 0; it < 200 && norm(g, nv) > 1e-13; it++) {
		for (size_t q = 0; q < nv; q++) {
			H[q * nv + q] += 1e-12;
			t[q] = -g[q];
		}
		REQUIRE(cholesky_solve(H, t, nv) == 0, "oracle: Hessian not positive definite");
		double slope = 0;
		for (size_t q = 0; q < nv; q++)
			slope += g[q] * t[q];
		double a = 1, Ft;
		double *x = malloc(nv * sizeof(double));
		REQUIRE(x, "out of memory");
		for (;;) {
			for (size_t q = 0; q < nv; q++)
				x[q] = th[q] + a * t[q];
			Ft = oracle_eval(o, x, NULL, NULL);
			if (Ft <= F + 1e-4 * a * slope || a < 1e-10)
				break;
			a *= 0.5;
		}
		memcpy(th, x, nv * sizeof(double));
		free(x);
		F = oracle_eval(o, th, g, H);
	}
	CHECK(norm(g, nv) <= 1e-11, "the oracle itself did not converge: |g| = %g", norm(g, nv));
	free(g);
	free(H);
	free(t);
	return F;
}

/* ---- the solver under test ---- */

struct trace {
	size_t count;
	double F[2048], gnorm[2048];
};

static int record(const struct softreg_epoch_info *info, void *user)
{
	struct trace *t = user;
	if (info->end_of_epoch && t->count < 2048) {
		t->F[t->count] = info->objective;
		t->gnorm[t->count] = info->grad_norm;
		t->count++;
	}
	return 0;
}

struct problem {
	const char *name;
	size_t n, validation, rows, cols, k, const_cols;
	int noise, standardize;
	double l2, tol;
	double w_tol; /* max |W - W*| allowed, from |g| <= tol and the curvature >= l2 */
};

static struct softreg_model *run_lbfgs(const struct problem *pb, const struct softreg_dataset *ds, struct trace *tr,
				       struct softreg_report *rep)
{
	struct softreg_model *m = softreg_model_alloc(pb->k, pb->rows, pb->cols);
	REQUIRE(m, "model");
	if (pb->standardize)
		softreg_model_standardize(m, ds, NULL);
	struct softreg_params p;
	softreg_params_default(&p);
	p.solver = SOFTREG_SOLVER_LBFGS;
	p.epochs = 2000;
	p.l2 = pb->l2;
	p.tol = pb->tol;
	p.validation = pb->validation;
	p.eval_every = 0;
	p.progress = record;
	p.user = tr;
	char err[SOFTREG_ERRLEN] = "";
	tr->count = 0;
	enum softreg_result r = softreg_train(m, ds, NULL, &p, NULL, rep, err);
	CHECK(r == SOFTREG_OK, "%s: softreg_train: %s", pb->name, err);
	return m;
}

static void check_problem(const struct problem *pb)
{
	struct softreg_dataset ds;
	synth_dataset(&ds, pb->n, pb->rows, pb->cols, pb->k, pb->noise, pb->const_cols, 42);
	size_t n = pb->n - pb->validation, k = pb->k, d = ds.d, D = d + 1, nv = k * D;
	static struct trace tr;
	struct softreg_report rep;
	softreg_set_threads(2);
	struct softreg_model *m = run_lbfgs(pb, &ds, &tr, &rep);

	/* the oracle, on the training rows only, with the model's own features */
	struct oracle o;
	oracle_init(&o, m, &ds, n, pb->l2);
	double *th_star = malloc(nv * sizeof(double)), *th = malloc(nv * sizeof(double)), *g = malloc(nv * sizeof(double));
	REQUIRE(th_star && th && g, "out of memory");
	double F_star = oracle_newton(&o, th_star);
	memset(th, 0, nv * sizeof(double));
	double F_zero = oracle_eval(&o, th, NULL, NULL);

	/* 1. F decreases at every iteration; the run stops at the tolerance */
	CHECK(tr.count >= 2, "%s: %zu iterations", pb->name, tr.count);
	CHECK(tr.count > 0 && tr.F[0] < F_zero, "%s: first iteration F %.12g, F(0) = %.12g", pb->name, tr.F[0], F_zero);
	/* strictly while F is far from F*; within the line search's documented
	 * allowance for F's float noise (1e-7 relative) near it */
	size_t rises = 0;
	for (size_t i = 1; i < tr.count; i++) {
		bool far = tr.F[i - 1] - F_star > 1e-6 * F_star;
		if (far ? tr.F[i] >= tr.F[i - 1] : tr.F[i] > tr.F[i - 1] * (1 + 1e-7)) {
			if (!rises++)
				fprintf(stderr, "%s: F did not decrease at iteration %zu: %.15g -> %.15g (F* %.15g)\n",
					pb->name, i + 1, tr.F[i - 1], tr.F[i], F_star);
		}
	}
	CHECK(rises == 0, "%s: F did not decrease at %zu of %zu iterations", pb->name, rises, tr.count);
	CHECK(rep.grad_norm <= pb->tol, "%s: stopped at |grad F| = %g > tol %g after %u iterations", pb->name,
	      rep.grad_norm, pb->tol, rep.epochs_run);
	CHECK(rep.epochs_run == tr.count && rep.epochs_run < 2000, "%s: %u iterations, %zu reported", pb->name,
	      rep.epochs_run, tr.count);
	CHECK(tr.count && tr.gnorm[tr.count - 1] == rep.grad_norm, "%s: last reported |g| %g, final %g", pb->name,
	      tr.count ? tr.gnorm[tr.count - 1] : -1, rep.grad_norm);

	/* 2. the returned floats against the oracle */
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < d; j++)
			th[c * D + j] = m->W[c * d + j];
		th[c * D + d] = m->b[c];
	}
	double F = oracle_eval(&o, th, g, NULL), gn = norm(g, nv);
	CHECK(gn <= pb->tol * 1.01 + 1e-8, "%s: the oracle's |grad F| at the result is %g (reported %g, tol %g)", pb->name,
	      gn, rep.grad_norm, pb->tol);
	CHECK(F - F_star <= 1e-9 * F_star, "%s: F = %.15g, Newton's F* = %.15g (%.2e relative)", pb->name, F, F_star,
	      (F - F_star) / F_star);
	CHECK(fabs(rep.objective - F) <= 1e-6 * F, "%s: reported F %.12g, the oracle's %.12g at the same floats", pb->name,
	      rep.objective, F);
	/* W is unique (l2 > 0); the biases only up to a common shift */
	double mean_b = 0, mean_bs = 0, dw = 0, db = 0, wmax = 0;
	for (size_t c = 0; c < k; c++) {
		mean_b += th[c * D + d] / (double)k;
		mean_bs += th_star[c * D + d] / (double)k;
	}
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < d; j++) {
			dw = fmax(dw, fabs(th[c * D + j] - th_star[c * D + j]));
			wmax = fmax(wmax, fabs(th_star[c * D + j]));
		}
		db = fmax(db, fabs((th[c * D + d] - mean_b) - (th_star[c * D + d] - mean_bs)));
	}
	CHECK(dw <= pb->w_tol && db <= pb->w_tol, "%s: max |W - W*| = %.3g, |b - b*| = %.3g (allowed %.3g; max |W*| %.3g)",
	      pb->name, dw, db, pb->w_tol, wmax);
	printf("%-28s n %zu d %zu k %zu l2 %g: %u iterations, F %.12f (Newton %.12f, %+.1e rel), |g| %.2e, "
	       "max|dW| %.1e, max|db| %.1e\n",
	       pb->name, n, d, k, pb->l2, rep.epochs_run, F, F_star, (F - F_star) / F_star, gn, dw, db);

	/* 3. the same floats at one thread */
	softreg_set_threads(1);
	static struct trace tr1;
	struct softreg_report rep1;
	struct softreg_model *m1 = run_lbfgs(pb, &ds, &tr1, &rep1);
	CHECK(rep1.epochs_run == rep.epochs_run && memcmp(m1->W, m->W, k * d * sizeof(float)) == 0 &&
		      memcmp(m1->b, m->b, k * sizeof(float)) == 0,
	      "%s: 1 thread gives another model (%u iterations vs %u)", pb->name, rep1.epochs_run, rep.epochs_run);
	softreg_set_threads(2);

	softreg_model_free(m1);
	softreg_model_free(m);
	free(o.X);
	free(th_star);
	free(th);
	free(g);
	softreg_dataset_free(&ds);
}

int main(void)
{
	static const struct problem problems[] = {
		{.name = "pixels/255", .n = 600, .rows = 5, .cols = 5, .k = 4, .const_cols = 1, .noise = 120, .l2 = 1e-2,
		 .tol = 1e-7, .w_tol = 1e-4},
		{.name = "standardised + validation", .n = 800, .validation = 200, .rows = 4, .cols = 6, .k = 3,
		 .const_cols = 1, .noise = 150, .standardize = 1, .l2 = 1e-3, .tol = 1e-7, .w_tol = 1e-3},
		{.name = "weak l2 (ill-conditioned)", .n = 1000, .rows = 6, .cols = 6, .k = 5, .const_cols = 2,
		 .noise = 200, .l2 = 1e-5, .tol = 1e-7, .w_tol = 1e-2},
	};
	for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
		check_problem(&problems[i]);
	return finish("test_lbfgs");
}
