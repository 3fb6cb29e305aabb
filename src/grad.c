/* SPDX-License-Identifier: MIT
 * grad.c: the one loss-and-gradient path. Every solver, the objective and
 * the evaluation get their sums here, from the kernel a workspace was made
 * for; this is also the one place where sums from other processes would be
 * combined. */
#include "internal.h"

#include <string.h>

double sr_batch_sums(const struct softreg_model *m, const struct softreg_batch *b, struct softreg_workspace *ws,
		     float *grad)
{
	return ws->kernel->loss_grad(m, b, grad, ws);
}

double sr_sum_range(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first, size_t count,
		    struct softreg_workspace *ws, float *gchunk, double *grad)
{
	size_t kd1 = m->k * m->d + m->k;
	double loss = 0;
	/* fixed chunks of the range, summed in order: deterministic */
	for (size_t i0 = first; i0 < first + count; i0 += ws->m_max) {
		size_t mc = first + count - i0 < ws->m_max ? first + count - i0 : ws->m_max;
		struct softreg_batch b = {.src = &ds->x, .y = ds->y, .first = i0, .m = mc};
		loss += ws->kernel->loss_grad(m, &b, grad ? gchunk : NULL, ws);
		if (grad)
			for (size_t j = 0; j < kd1; j++)
				grad[j] += (double)gchunk[j];
	}
	return loss;
}
