/* SPDX-License-Identifier: MIT
 * lbfgs.c: full-batch L-BFGS (Nocedal & Wright, algorithms 7.4 and 3.5-3.6:
 * two-loop recursion, strong-Wolfe line search with a cubic zoom) on
 * F(W, b) = mean CE + (l2/2)|W|^2 over the training set. Every evaluation is
 * the blas kernel over the whole set in fixed chunks, so it is deterministic. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define C1 1e-4 /* sufficient decrease */
#define C2 0.9  /* curvature: the usual choice for quasi-Newton */
#define MAX_LS 25

struct lb {
	struct softreg_model *m;
	const struct softreg_dataset *train;
	size_t n, nv;
	double l2;
	struct softreg_workspace *ws;
	float *gtmp;
	uint64_t evals;
};

static double dot(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void pack(const struct softreg_model *m, float *x)
{
	memcpy(x, m->W, m->k * m->d * sizeof(float));
	memcpy(x + m->k * m->d, m->b, m->k * sizeof(float));
}

static void unpack(struct softreg_model *m, const float *x)
{
	memcpy(m->W, x, m->k * m->d * sizeof(float));
	memcpy(m->b, x + m->k * m->d, m->k * sizeof(float));
}

/* F and its gradient at x */
static double eval(struct lb *L, const float *x, float *g)
{
	double F;
	unpack(L->m, x);
	sr_objective_ws(L->m, L->train, L->n, L->l2, g, &F, NULL, L->ws, L->gtmp);
	L->evals++;
	return F;
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

/* Strong-Wolfe line search along dir from x (F f0, slope dphi0 < 0). On
 * success x, g, *f hold the accepted point and the step is returned; 0 when
 * no acceptable step was found (x, g, f unchanged). */
static double line_search(struct lb *L, float *x, float *g, double *f, const float *dir, double dphi0,
			  double a1, float *xt, float *gt)
{
	size_t nv = L->nv;
	double f0 = *f, a_lo = 0, f_lo = f0, d_lo = dphi0, a_hi = 0, f_hi = 0, d_hi = 0, a = a1;
	bool zoom = false;
	for (int i = 0; i < MAX_LS; i++) {
		if (zoom)
			a = cubic_min(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi);
		for (size_t j = 0; j < nv; j++)
			xt[j] = x[j] + (float)a * dir[j];
		double ft = eval(L, xt, gt), dt = dot(gt, dir, nv);
		if (!isfinite(ft))
			return -1;
		if (ft > f0 + C1 * a * dphi0 || (zoom ? ft >= f_lo : (i > 0 && ft >= f_lo))) {
			a_hi = a, f_hi = ft, d_hi = dt;
			zoom = true;
			continue;
		}
		if (fabs(dt) <= -C2 * dphi0) {
			memcpy(x, xt, nv * sizeof(float));
			memcpy(g, gt, nv * sizeof(float));
			*f = ft;
			return a;
		}
		if (zoom) {
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
	/* no strong-Wolfe point: take the best decrease seen, if any */
	if (a_lo > 0 && f_lo < f0) {
		for (size_t j = 0; j < nv; j++)
			x[j] += (float)a_lo * dir[j];
		*f = eval(L, x, g);
		return a_lo;
	}
	return 0;
}

enum softreg_result sr_train_lbfgs(struct softreg_model *m, const struct softreg_dataset *train, size_t n,
				   const struct softreg_dataset *test, const struct softreg_params *p,
				   struct softreg_train_state *st, struct softreg_report *rep, char *err)
{
	if (st->epochs_done || st->iterations)
		return sr_fail(err, SOFTREG_ERR_PARAM, "the L-BFGS solver cannot resume a checkpoint");
	size_t k = m->k, d = m->d, nv = k * d + k, hm = (size_t)p->history;
	struct lb L = {.m = m, .train = train, .n = n, .nv = nv, .l2 = p->l2};
	L.ws = softreg_workspace_alloc(n < 4096 ? n : 4096, k, d);
	struct softreg_workspace *eval_ws = softreg_workspace_alloc(4096, k, d);
	/* x, g, dir, xt, gt, gtmp, then hm pairs (s, y) */
	float *mem = malloc((6 + 2 * hm) * nv * sizeof(float));
	double *rho = malloc(2 * hm * sizeof(double));
	if (!L.ws || !eval_ws || !mem || !rho) {
		softreg_workspace_free(L.ws);
		softreg_workspace_free(eval_ws);
		free(mem);
		free(rho);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory");
	}
	double *alpha = rho + hm;
	float *x = mem, *g = x + nv, *dir = g + nv, *xt = dir + nv, *gt = xt + nv, *S = gt + 2 * nv, *Y = S + hm * nv;
	L.gtmp = gt + nv;
	enum softreg_result r = SOFTREG_OK;
	double t_start = sr_now();

	pack(m, x);
	double f = eval(&L, x, g), gnorm = sqrt(dot(g, g, nv));
	size_t used = 0, head = 0; /* ring buffer of the last 'hm' pairs */
	uint32_t it;
	for (it = 1; it <= p->epochs && gnorm > p->tol; it++) {
		double t0 = sr_now();
		/* two-loop recursion: dir = -H g */
		for (size_t j = 0; j < nv; j++)
			dir[j] = -g[j];
		for (size_t q = 0; q < used; q++) {
			size_t h = (head + hm - 1 - q) % hm;
			alpha[h] = rho[h] * dot(S + h * nv, dir, nv);
			for (size_t j = 0; j < nv; j++)
				dir[j] -= (float)alpha[h] * Y[h * nv + j];
		}
		double gamma = 1;
		if (used) {
			size_t h = (head + hm - 1) % hm;
			gamma = dot(S + h * nv, Y + h * nv, nv) / dot(Y + h * nv, Y + h * nv, nv);
		}
		for (size_t j = 0; j < nv; j++)
			dir[j] *= (float)gamma;
		for (size_t q = used; q-- > 0;) {
			size_t h = (head + hm - 1 - q) % hm;
			double beta = rho[h] * dot(Y + h * nv, dir, nv);
			for (size_t j = 0; j < nv; j++)
				dir[j] += (float)(alpha[h] - beta) * S[h * nv + j];
		}
		double dphi0 = dot(g, dir, nv);
		if (!(dphi0 < 0)) { /* not a descent direction: restart from steepest descent */
			for (size_t j = 0; j < nv; j++)
				dir[j] = -g[j];
			dphi0 = -gnorm * gnorm;
			used = 0;
		}
		double a1 = used ? 1.0 : fmin(1.0, 1.0 / gnorm);
		/* keep the previous point and gradient to form s and y */
		float *s_new = S + head * nv, *y_new = Y + head * nv;
		memcpy(s_new, x, nv * sizeof(float));
		memcpy(y_new, g, nv * sizeof(float));
		double step = line_search(&L, x, g, &f, dir, dphi0, a1, xt, gt);
		if (step < 0) {
			r = sr_fail(err, SOFTREG_ERR_DIVERGED, "L-BFGS diverged at iteration %u (non-finite objective)", it);
			rep->diverged_epoch = it;
			break;
		}
		if (step == 0) { /* no further decrease at float precision: converged */
			unpack(m, x);
			break;
		}
		for (size_t j = 0; j < nv; j++) {
			s_new[j] = x[j] - s_new[j];
			y_new[j] = g[j] - y_new[j];
		}
		double sy = dot(s_new, y_new, nv);
		if (sy > 1e-12) {
			rho[head] = 1.0 / sy;
			head = (head + 1) % hm;
			used = used < hm ? used + 1 : hm;
		}
		gnorm = sqrt(dot(g, g, nv));
		st->iterations++;
		st->epochs_done = it;
		rep->epochs_run = it;
		rep->objective = f;
		rep->grad_norm = gnorm;
		struct softreg_epoch_info info = {
			.epoch = it, .epochs = p->epochs, .batch = 1, .batches = 1, .train_loss = -1,
			.train_accuracy = -1, .test_loss = -1, .test_accuracy = -1, .val_accuracy = -1, .lr = step,
			.seconds = sr_now() - t0, .objective = f, .grad_norm = gnorm, .end_of_epoch = 1};
		bool last = it == p->epochs || gnorm <= p->tol;
		unpack(m, x);
		if (test && test->n && (last || (p->eval_every && it % p->eval_every == 0))) {
			sr_evaluate_ws(m, test, 0, test->n, NULL, &info.test_accuracy, &info.test_loss, eval_ws);
			rep->test_accuracy = info.test_accuracy;
			rep->test_loss = info.test_loss;
		}
		if (n < train->n) {
			sr_evaluate_ws(m, train, n, train->n - n, NULL, &info.val_accuracy, NULL, eval_ws);
			rep->val_accuracy = info.val_accuracy;
		}
		if (p->on_iter)
			p->on_iter(st->iterations, it, f, m, p->user);
		if (p->progress && p->progress(&info, p->user)) {
			r = sr_fail(err, SOFTREG_ERR_INTERRUPTED, "training stopped at iteration %u", it);
			break;
		}
		if (p->stop && *p->stop) {
			r = sr_fail(err, SOFTREG_ERR_INTERRUPTED, "interrupted at iteration %u", it);
			break;
		}
	}
	unpack(m, x);
	rep->train_seconds = sr_now() - t_start;
	rep->objective = f;
	rep->grad_norm = gnorm;
	if (r == SOFTREG_OK && test && test->n)
		sr_evaluate_ws(m, test, 0, test->n, NULL, &rep->test_accuracy, &rep->test_loss, eval_ws);
	softreg_workspace_free(L.ws);
	softreg_workspace_free(eval_ws);
	free(mem);
	free(rho);
	return r;
}
