/* SPDX-License-Identifier: MIT
 * metrics.c: accuracy, log-loss, confusion matrix, the regularised objective
 * and class probabilities, through the kernels of the table. */
#include "dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per evaluation chunk: the logits of 4096 rows of 10 classes are 160 KB;
 * with many classes, fewer rows (Z stays within about 16 MB), a power of two,
 * so that it divides SOFTREG_DIST_BLOCK and the blocks of an MPI shard are
 * those of one process (dist.h). */
#define SR_EVAL_ROWS 4096
#define SR_EVAL_FLOATS ((size_t)4 << 20)

static size_t eval_rows(size_t count, size_t k)
{
	size_t rows = SR_EVAL_ROWS;
	while (rows > 1 && rows * k > SR_EVAL_FLOATS)
		rows /= 2;
	return count < rows ? (count ? count : 1) : rows;
}

size_t sr_eval_rows(size_t k)
{
	return eval_rows(SIZE_MAX, k);
}

enum softreg_result sr_check_logits(const float *Z, size_t m, size_t k, size_t first, char *err)
{
	for (size_t i = 0; i < m; i++) {
		float acc = 0;
		for (size_t j = 0; j < k; j++)
			acc += Z[i * k + j] * 0.0f; /* NaN or inf anywhere makes this NaN */
		if (acc != 0.0f)
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "row %zu: the model's logits are not finite (its weights or preprocessing overflow "
				       "on this input)", first + i + 1);
	}
	return SOFTREG_OK;
}

static const struct softreg_kernel *pick(const struct softreg_kernel *kernel, const struct softreg_dataset *ds)
{
	return kernel ? kernel : softreg_kernel_auto(ds->x.kind);
}

static size_t argmax(const float *z, size_t k)
{
	size_t best = 0;
	for (size_t j = 1; j < k; j++)
		if (z[j] > z[best])
			best = j;
	return best;
}

enum softreg_result sr_evaluate_ws(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				   size_t count, uint64_t *confusion, double *accuracy_ret, double *log_loss_ret,
				   struct softreg_workspace *ws, char *err)
{
	size_t k = m->k, correct = 0, lo, hi, row0 = sr_dist_row0(ws->dist, ds);
	int64_t loss[SR_XSUM1_WORDS];
	sr_xsum1_clear(loss);
	enum softreg_result r = SOFTREG_OK;
	if (confusion)
		memset(confusion, 0, k * k * sizeof(uint64_t));
	/* the blocks are those of one process; under MPI this process's share
	 * (dist.h), the counts and the exact loss summed over the processes */
	sr_dist_rows(ws->dist, ds, first, count, ws->m_max, &lo, &hi);
	for (size_t i0 = lo; i0 < hi && !r; i0 += ws->m_max) {
		size_t mc = hi - i0 < ws->m_max ? hi - i0 : ws->m_max, l0 = i0 - row0;
		struct softreg_batch b = {.src = &ds->x, .y = ds->y, .first = l0, .m = mc};
		ws->kernel->logits(m, &b, ws->Z, ws);
		if ((r = sr_check_logits(ws->Z, mc, k, i0, err)))
			break;
		for (size_t i = 0; i < mc; i++) {
			size_t best = argmax(ws->Z + i * k, k), y = ds->y[l0 + i];
			correct += best == y;
			if (confusion)
				confusion[y * k + best]++;
		}
		sr_xsum1_add(loss, ws->kernel->softmax_loss(ws->Z, ds->y + l0, mc, k));
	}
	if (sr_dist_on(ws->dist)) {
		int64_t w[SR_XSUM1_WORDS + 2];
		sr_xsum1_pack(loss);
		memcpy(w, loss, sizeof(loss));
		w[SR_XSUM1_WORDS] = (int64_t)correct;
		w[SR_XSUM1_WORDS + 1] = r != SOFTREG_OK;
		sr_dist_sum_i64(ws->dist, w, SR_XSUM1_WORDS + 2);
		memcpy(loss, w, sizeof(loss));
		correct = (size_t)w[SR_XSUM1_WORDS];
		if (w[SR_XSUM1_WORDS + 1] && !r)
			r = sr_fail(err, SOFTREG_ERR_FORMAT, "the model's logits are not finite on another process's rows");
		if (confusion) /* counts: exact in any order */
			sr_dist_sum_i64(ws->dist, (int64_t *)confusion, k * k);
	}
	if (r)
		return r;
	if (accuracy_ret)
		*accuracy_ret = count ? (double)correct / (double)count : 0;
	if (log_loss_ret)
		*log_loss_ret = count ? sr_xsum1_round(loss) / (double)count : 0;
	return SOFTREG_OK;
}

/* a workspace for 'kernel' (or auto) on 'ds', with a message when it cannot be had */
static enum softreg_result take_ws(const struct softreg_model *m, const struct softreg_dataset *ds,
				   const struct softreg_kernel *kernel, size_t rows, const char *what,
				   struct softreg_workspace **ws_ret, char *err)
{
	const struct softreg_kernel *kern = pick(kernel, ds);
	*ws_ret = NULL;
	if (!softreg_kernel_takes(kern, ds->x.kind))
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: the %s kernel does not take %s data", what, kern->name,
			       softreg_source_name(ds->x.kind));
	*ws_ret = softreg_workspace_alloc(kern, rows, m->k, m->d);
	if (!*ws_ret)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for the %s kernel's workspace (%zu bytes)",
			       what, kern->name, softreg_workspace_bytes(kern, rows, m->k, m->d));
	return SOFTREG_OK;
}

/* what evaluate and objective begin with after their check of the rows ('r'):
 * the labels, the model's fit to the data, a workspace */
static enum softreg_result begin(const struct softreg_model *m, const struct softreg_dataset *ds, size_t count,
				 const struct softreg_kernel *kernel, const char *what, enum softreg_result r,
				 struct softreg_workspace **ws_ret, char *err)
{
	*ws_ret = NULL;
	if (r == SOFTREG_OK && !ds->y)
		r = sr_fail(err, SOFTREG_ERR_PARAM, "%s: the labels are not mapped to the model's classes", what);
	if (r == SOFTREG_OK)
		r = softreg_model_check_data(m, ds, "data", err);
	if (r == SOFTREG_OK)
		r = take_ws(m, ds, kernel, eval_rows(count, m->k), what, ws_ret, err);
	return r;
}

enum softreg_result softreg_evaluate(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				     size_t count, const struct softreg_kernel *kernel, uint64_t *confusion,
				     double *accuracy_ret, double *log_loss_ret, char *err)
{
	return softreg_evaluate_dist(m, ds, first, count, kernel, NULL, confusion, accuracy_ret, log_loss_ret, err);
}

enum softreg_result softreg_evaluate_dist(const struct softreg_model *m, const struct softreg_dataset *ds,
					  size_t first, size_t count, const struct softreg_kernel *kernel,
					  const struct softreg_dist *dist, uint64_t *confusion, double *accuracy_ret,
					  double *log_loss_ret, char *err)
{
	size_t n = sr_dist_total(dist, ds); /* a held shard: the rows of every process */
	enum softreg_result r = SOFTREG_OK;
	struct softreg_workspace *ws;
	if (first > n || count > n - first)
		r = sr_fail(err, SOFTREG_ERR_PARAM, "evaluate: rows %zu..%zu outside the %zu samples", first,
			    first + count, n);
	r = begin(m, ds, count, kernel, "evaluate", r, &ws, err);
	r = softreg_dist_agree(dist, r, err); /* no process goes on to the sums alone */
	if (r == SOFTREG_OK) {
		ws->dist = dist;
		r = sr_evaluate_ws(m, ds, first, count, confusion, accuracy_ret, log_loss_ret, ws, err);
	}
	softreg_workspace_free(ws);
	return r;
}

enum softreg_result softreg_objective(const struct softreg_model *m, const struct softreg_dataset *ds, size_t count,
				      double l2, const struct softreg_kernel *kernel, float *grad, double *F_ret,
				      double *grad_norm_ret, char *err)
{
	return softreg_objective_dist(m, ds, count, l2, kernel, NULL, grad, F_ret, grad_norm_ret, err);
}

enum softreg_result softreg_objective_dist(const struct softreg_model *m, const struct softreg_dataset *ds,
					   size_t count, double l2, const struct softreg_kernel *kernel,
					   const struct softreg_dist *dist, float *grad, double *F_ret,
					   double *grad_norm_ret, char *err)
{
	size_t n = sr_dist_total(dist, ds); /* a held shard: the rows of every process */
	enum softreg_result r = SOFTREG_OK;
	struct softreg_workspace *ws;
	if (count == 0 || count > n)
		r = sr_fail(err, SOFTREG_ERR_PARAM, "objective: %zu rows of %zu", count, n);
	r = begin(m, ds, count, kernel, "objective", r, &ws, err);
	size_t k = m->k, d = m->d, kd1 = k * d + k, nx = sr_xsum_words(kd1);
	bool want = grad || grad_norm_ret;
	float *gc = want && r == SOFTREG_OK ? malloc(kd1 * sizeof(float)) : NULL;
	double *g = want && r == SOFTREG_OK ? calloc(kd1, sizeof(double)) : NULL;
	int64_t *xacc = want && r == SOFTREG_OK && nx ? malloc(nx * sizeof(int64_t)) : NULL;
	if (r == SOFTREG_OK && want && (!gc || !g || !xacc))
		r = sr_fail(err, SOFTREG_ERR_NOMEM, "objective: out of memory");
	r = softreg_dist_agree(dist, r, err); /* no process goes on to the sums alone */
	if (r) {
		softreg_workspace_free(ws);
		free(gc);
		free(g);
		free(xacc);
		return r;
	}
	ws->dist = dist;
	double ce = sr_sum_range(m, ds, 0, count, ws, gc, xacc, g) / (double)count, reg = 0, norm = 0;
	free(xacc);
	for (size_t j = 0; j < k * d; j++)
		reg += (double)m->W[j] * m->W[j];
	if (F_ret)
		*F_ret = ce + 0.5 * l2 * reg;
	for (size_t j = 0; want && j < kd1; j++) {
		double gj = g[j] / (double)count + (j < k * d ? l2 * m->W[j] : 0);
		if (grad)
			grad[j] = (float)gj;
		norm += gj * gj;
	}
	if (grad_norm_ret)
		*grad_norm_ret = sqrt(norm);
	softreg_workspace_free(ws);
	free(gc);
	free(g);
	return SOFTREG_OK;
}

enum softreg_result softreg_predict(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				    size_t count, const struct softreg_kernel *kernel, float *P, char *err)
{
	if (first > ds->n || count > ds->n - first)
		return sr_fail(err, SOFTREG_ERR_PARAM, "predict: rows %zu..%zu outside the %zu samples", first,
			       first + count, ds->n);
	enum softreg_result r = softreg_model_check_data(m, ds, "data", err);
	struct softreg_workspace *ws = NULL;
	if (r == SOFTREG_OK)
		r = take_ws(m, ds, kernel, eval_rows(count, m->k), "predict", &ws, err);
	if (r)
		return r;
	size_t k = m->k;
	for (size_t i0 = first; i0 < first + count; i0 += ws->m_max) {
		size_t mc = first + count - i0 < ws->m_max ? first + count - i0 : ws->m_max;
		struct softreg_batch b = {.src = &ds->x, .first = i0, .m = mc};
		float *Pc = P + (i0 - first) * k;
		ws->kernel->logits(m, &b, Pc, ws);
		if ((r = sr_check_logits(Pc, mc, k, i0, err)))
			break;
		for (size_t i = 0; i < mc; i++) { /* a stable softmax in double: probabilities to print */
			float *z = Pc + i * k;
			double mx = z[argmax(z, k)], sum = 0;
			for (size_t j = 0; j < k; j++)
				sum += exp((double)z[j] - mx);
			for (size_t j = 0; j < k; j++)
				z[j] = (float)(exp((double)z[j] - mx) / sum);
		}
	}
	softreg_workspace_free(ws);
	return r;
}
