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

#include <omp.h>
#include <stdlib.h>
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

/*
 * The blocks of a range in parallel: each thread takes whole blocks
 * (dynamically: a thread that shares its core with another process takes
 * fewer), runs the kernel on one thread into its own workspace and exact
 * accumulator, and the accumulators are added word by word: integers, so the
 * same bits as the blocks one after the other. Why: one after the other, each
 * block is a parallel region with a serial exact sum between, and an L-BFGS
 * iteration on MNIST woke the second thread about 60 times; on a virtual
 * machine a sleeping thread's wake-up costs hundreds of microseconds, so
 * unless the threads spin through the gaps (which a busy machine punishes)
 * two threads were no faster than one. Used when every thread gets at least
 * PAR_MIN_BLOCKS blocks (else the imbalance costs more than the wake-ups)
 * and a thread's state (a workspace, a gradient, an accumulator) is at most
 * PAR_BYTES_MAX; kept with the workspace.
 */
#define PAR_MIN_BLOCKS 2
#define PAR_BYTES_MAX ((size_t)64 << 20)

struct par_thread {
	struct softreg_workspace *ws;
	float *g;
	int64_t *x;
};

struct sr_par {
	int n; /* threads it holds state for; thread 0 uses the caller's */
	struct par_thread t[];
};

void sr_par_free(struct sr_par *par)
{
	if (!par)
		return;
	for (int i = 1; i < par->n; i++) {
		softreg_workspace_free(par->t[i].ws);
		free(par->t[i].g);
		free(par->t[i].x);
	}
	free(par);
}

/* the state of T threads, made once; NULL when it cannot be had (the caller
 * then sums the blocks in order: the same bits) */
static struct sr_par *par_state(struct softreg_workspace *ws, int T, size_t kd1, size_t nx)
{
	if (ws->par && ws->par->n >= T)
		return ws->par;
	sr_par_free(ws->par);
	ws->par = NULL;
	struct sr_par *p = calloc(1, sizeof(*p) + (size_t)T * sizeof(p->t[0]));
	if (!p)
		return NULL;
	p->n = T;
	bool ok = true;
	for (int i = 1; i < T && ok; i++) {
		p->t[i].ws = sr_workspace_alloc(ws->kernel, ws->m_max, ws->k, ws->d, 1);
		p->t[i].g = malloc(kd1 * sizeof(float));
		p->t[i].x = malloc(nx * sizeof(int64_t));
		ok = p->t[i].ws && p->t[i].g && p->t[i].x;
	}
	if (!ok) {
		sr_par_free(p);
		return NULL;
	}
	ws->par = p;
	return p;
}

/* how many threads share the blocks of [lo, hi), 1: none */
static int par_threads(const struct softreg_workspace *ws, size_t lo, size_t hi, size_t kd1, size_t nx)
{
	size_t nb = (hi - lo + ws->m_max - 1) / ws->m_max;
	int T = omp_get_max_threads();
	T = T < ws->threads ? T : ws->threads;
	T = (size_t)T <= nb / PAR_MIN_BLOCKS ? T : (int)(nb / PAR_MIN_BLOCKS);
	if (T < 2 || omp_in_parallel() || nx == 0)
		return 1;
	size_t bytes = softreg_workspace_bytes(ws->kernel, ws->m_max, ws->k, ws->d) + kd1 * sizeof(float) +
		       nx * sizeof(int64_t);
	return bytes <= PAR_BYTES_MAX ? T : 1;
}

/* the blocks of [lo, hi) summed by up to T threads into xacc (grad) or loss;
 * OpenMP may give fewer (OMP_THREAD_LIMIT, OMP_DYNAMIC): only the team's
 * accumulators are added */
static void par_sums(const struct softreg_model *m, const struct softreg_dataset *ds, size_t lo, size_t hi,
		     size_t row0, struct softreg_workspace *ws, struct sr_par *p, int T, float *gchunk, int64_t *xacc,
		     int64_t *loss, bool grad)
{
	size_t kd1 = m->k * m->d + m->k, bs = ws->m_max, nb = (hi - lo + bs - 1) / bs;
	int threads = ws->threads, team = 1;
	ws->threads = 1; /* the kernel on one thread in every thread, thread 0's too */
#pragma omp parallel num_threads(T)
	{
		int t = omp_get_thread_num();
		if (t == 0)
			team = omp_get_num_threads();
		struct softreg_workspace *w = t ? p->t[t].ws : ws;
		float *g = t ? p->t[t].g : gchunk;
		int64_t *x = t ? p->t[t].x : xacc, *l = t ? sr_xsum_loss(p->t[t].x, kd1) : loss;
		if (t && grad)
			sr_xsum_clear(x, kd1);
		else if (t)
			sr_xsum1_clear(l);
#pragma omp for schedule(dynamic, 1)
		for (size_t blk = 0; blk < nb; blk++) {
			size_t i0 = lo + blk * bs, mc = hi - i0 < bs ? hi - i0 : bs;
			struct softreg_batch b = {.src = &ds->x, .y = ds->y, .first = i0 - row0, .m = mc};
			sr_xsum1_add(l, w->kernel->loss_grad(m, &b, grad ? g : NULL, w));
			if (grad)
				sr_xsum_add(x, g, kd1);
		}
	}
	ws->threads = threads;
	size_t nx = grad ? sr_xsum_words(kd1) : SR_XSUM1_WORDS;
	int64_t *into = grad ? xacc : loss;
	if (grad)
		sr_xsum_pack(xacc, kd1);
	else
		sr_xsum1_pack(loss);
	for (int t = 1; t < team; t++) {
		int64_t *from = grad ? p->t[t].x : sr_xsum_loss(p->t[t].x, kd1);
		if (grad)
			sr_xsum_pack(from, kd1);
		else
			sr_xsum1_pack(from);
		for (size_t i = 0; i < nx; i++)
			into[i] += from[i];
	}
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
	size_t nx = sr_xsum_words(kd1);
	int T = par_threads(ws, lo, hi, kd1, nx);
	struct sr_par *p = T > 1 ? par_state(ws, T, kd1, nx) : NULL;
	if (p)
		par_sums(m, ds, lo, hi, row0, ws, p, T, gchunk, xacc, loss, grad != NULL);
	for (size_t i0 = lo; !p && i0 < hi; i0 += bs) {
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
