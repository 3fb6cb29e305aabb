/* SPDX-License-Identifier: MIT
 * grad.c: the one loss-and-gradient path. Every solver, the objective and
 * the evaluation get their sums here, from the kernel a workspace was made
 * for; this is also the one place where sums from other processes are
 * combined (dist.h).
 *
 * Why the sums are the same bits at any process count:
 *  - sr_sum_range() (L-BFGS, the objective): the rows are cut into blocks of
 *    ws->m_max rows from 'first', which depend on the range alone; each
 *    block's sums come from the kernel (deterministic at any thread count);
 *    the blocks' sums are then added EXACTLY, into fixed-point integers
 *    (sr_xsum_*), and rounded to double once. Integer addition does not care
 *    in which order or on which process the blocks were added, so one
 *    process and any N give the same integer, hence the same double. The
 *    processes exchange one accumulator, 9 words per value (k*d + k values,
 *    whatever n), in one MPI_Allreduce.
 *  - sr_batch_sums() (SGD): the blas kernel cuts a batch into the same
 *    groups at any process count; the processes compute their share of the
 *    groups, gather all partials and add them in group order, as one process
 *    does. The other kernels compute the whole batch on every process. */
#include "dist.h"

#include <string.h>

double sr_blas_loss_grad_shared(const struct softreg_model *m, const struct softreg_batch *b, float *grad,
				struct softreg_workspace *ws);
double sr_sparse_loss_grad_shared(const struct softreg_model *m, const struct softreg_batch *b, float *grad,
				  struct softreg_workspace *ws);

double sr_batch_sums(const struct softreg_model *m, const struct softreg_batch *b, struct softreg_workspace *ws,
		     float *grad)
{
	if (sr_dist_on(ws->dist) && ws->kernel == &softreg_kernel_blas)
		return sr_blas_loss_grad_shared(m, b, grad, ws);
	if (sr_dist_on(ws->dist) && ws->kernel == &softreg_kernel_sparse)
		return sr_sparse_loss_grad_shared(m, b, grad, ws);
	return ws->kernel->loss_grad(m, b, grad, ws);
}

/* softreg_dist_set_sums(d, 0): this process's blocks added in order in
 * double, then the processes' sums up a tree fixed by their ranks; 'buf'
 * (k*d + k + 1 doubles: the scratch of the exact sums is larger) carries the
 * gradient and the loss in one message */
static double tree_sums(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first, size_t count,
			struct softreg_workspace *ws, float *gchunk, double *buf, double *grad)
{
	size_t kd1 = m->k * m->d + m->k, bs = ws->m_max, lo, hi, row0 = sr_dist_row0(ws->dist, ds);
	double one, *v = grad ? buf : &one;
	size_t nv = grad ? kd1 + 1 : 1;
	memset(v, 0, nv * sizeof(double));
	sr_dist_rows(ws->dist, ds, first, count, bs, &lo, &hi);
	for (size_t i0 = lo; i0 < hi; i0 += bs) {
		size_t mc = hi - i0 < bs ? hi - i0 : bs;
		struct softreg_batch b = {.src = &ds->x, .y = ds->y, .first = i0 - row0, .m = mc};
		v[nv - 1] += ws->kernel->loss_grad(m, &b, grad ? gchunk : NULL, ws);
		for (size_t j = 0; grad && j < kd1; j++)
			v[j] += (double)gchunk[j];
	}
	sr_dist_sum_tree_f64(ws->dist, v, nv);
	if (grad)
		memcpy(grad, v, kd1 * sizeof(double));
	return v[nv - 1];
}

double sr_sum_range(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first, size_t count,
		    struct softreg_workspace *ws, float *gchunk, int64_t *xacc, double *grad)
{
	size_t kd1 = m->k * m->d + m->k, bs = ws->m_max, lo, hi;
	size_t row0 = sr_dist_row0(ws->dist, ds); /* the data set's rows start here (a shard) */
	if (sr_dist_on(ws->dist) && ws->dist->tree_sums)
		return tree_sums(m, ds, first, count, ws, gchunk, (double *)(void *)xacc, grad);
	int64_t own[SR_XSUM1_WORDS], *loss = grad ? sr_xsum_loss(xacc, kd1) : own;
	if (grad)
		sr_xsum_clear(xacc, kd1);
	else
		sr_xsum1_clear(loss);
	sr_dist_rows(ws->dist, ds, first, count, bs, &lo, &hi);
	for (size_t i0 = lo; i0 < hi; i0 += bs) {
		size_t mc = hi - i0 < bs ? hi - i0 : bs;
		struct softreg_batch b = {.src = &ds->x, .y = ds->y, .first = i0 - row0, .m = mc};
		sr_xsum1_add(loss, ws->kernel->loss_grad(m, &b, grad ? gchunk : NULL, ws));
		if (grad)
			sr_xsum_add(xacc, gchunk, kd1);
	}
	if (grad) {
		sr_xsum_allreduce(ws->dist, xacc, kd1); /* one message: the gradient and the loss */
		sr_xsum_round(xacc, kd1, grad);
	} else if (sr_dist_on(ws->dist)) {
		sr_xsum1_pack(loss);
		sr_dist_sum_i64(ws->dist, loss, SR_XSUM1_WORDS);
	}
	return sr_xsum1_round(loss);
}
