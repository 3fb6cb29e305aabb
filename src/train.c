/* SPDX-License-Identifier: MIT
 * train.c: mini-batch SGD with momentum, L2 weight decay and schedules; the
 * per-epoch evaluation; early stopping; resumable state. */
#include "dist.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void softreg_params_default(struct softreg_params *p)
{
	memset(p, 0, sizeof(*p));
	p->solver = SOFTREG_SOLVER_SGD;
	p->epochs = 2;
	p->batch = 100;
	p->lr = 0.3;
	p->momentum = 0.9;
	p->l2 = 0;
	p->schedule = SOFTREG_SCHEDULE_COSINE;
	p->seed = 1;
	p->shuffle = 1;
	p->history = 10;
	p->tol = 1e-5;
	p->eval_every = 1;
	p->kernel = NULL; /* auto: by the training data's source */
}

void softreg_params_seed_preset(struct softreg_params *p)
{
	softreg_params_default(p);
	p->epochs = 20;
	p->batch = 10000;
	p->lr = 1e-5;
	p->momentum = 0;
	p->schedule = SOFTREG_SCHEDULE_CONST;
	p->shuffle = 0;
}

const char *softreg_check_params(const struct softreg_params *p)
{
	if (p->solver != SOFTREG_SOLVER_SGD && p->solver != SOFTREG_SOLVER_LBFGS)
		return "unknown solver";
	if (p->epochs == 0)
		return "epochs must be >= 1";
	if (p->batch == 0)
		return "batch must be >= 1";
	if (p->batch > (1u << 24))
		return "batch must be <= 16777216";
	if (!(p->lr > 0) || !isfinite(p->lr))
		return "lr must be a finite number > 0";
	if (!(p->momentum >= 0 && p->momentum < 1))
		return "momentum must be in [0, 1)";
	if (!(p->l2 >= 0) || !isfinite(p->l2))
		return "l2 must be a finite number >= 0";
	if (p->schedule > SOFTREG_SCHEDULE_COSINE)
		return "unknown schedule";
	if (p->history < 1 || p->history > 1000)
		return "history must be in [1, 1000]";
	if (!(p->tol >= 0) || !isfinite(p->tol))
		return "tol must be a finite number >= 0";
	return NULL;
}

static double lr_at(const struct softreg_params *p, uint32_t epoch, uint64_t it, uint64_t total)
{
	switch (p->schedule) {
	case SOFTREG_SCHEDULE_STEP:
		/* x0.1 for the last half, x0.01 for the last quarter */
		if (4 * (uint64_t)(epoch - 1) >= 3 * (uint64_t)p->epochs)
			return p->lr * 0.01;
		if (2 * (uint64_t)(epoch - 1) >= (uint64_t)p->epochs)
			return p->lr * 0.1;
		return p->lr;
	case SOFTREG_SCHEDULE_COSINE:
		return p->lr * 0.5 * (1.0 + cos(M_PI * (double)it / (double)total));
	default:
		return p->lr;
	}
}

/* A mean batch loss this large means logits off by thousands in the wrong
 * direction: the rate is far too big, and with a stable softmax the loss can
 * grow for a long time before anything overflows, so stop here rather than
 * wait for a NaN. (The uniform guess the training starts from scores log k.) */
#define SR_LOSS_DIVERGED 1e4

static bool finite_all(const float *x, size_t n)
{
	float acc = 0;
#pragma omp simd reduction(+ : acc) /* any order: a NaN or inf anywhere makes acc NaN */
	for (size_t i = 0; i < n; i++)
		acc += x[i] * 0.0f; /* NaN or inf anywhere makes this NaN */
	return acc == 0.0f;
}

struct sgd_ctx {
	const struct softreg_params *p;
	const struct softreg_dist *dist; /* the processes that train together (NULL: one) */
	struct softreg_model *m;
	const struct softreg_dataset *train, *test;
	size_t n;                 /* training rows (validation excluded), of all processes */
	size_t n_test;            /* test rows, of all processes */
	struct softreg_workspace *ws, *eval_ws, *test_ws; /* test_ws may be eval_ws */
	float *grad;              /* (k*d + k + 1): the gradient, then (--shard) the loss */
	uint32_t *perm;           /* (n, or n_loc with --shard) */
	/* --shard under MPI: each process trains on its n_loc rows; every
	 * process's count, for the size of each global batch */
	bool shard;
	size_t n_loc;
	int64_t *n_of;            /* (processes) */
};

/* --shard: the rows of batch bi (of 'batches') of a process that holds n */
static size_t shard_batch(size_t n, size_t bi, size_t batches, size_t *i0)
{
	*i0 = sr_part(bi, n, batches);
	return sr_part(bi + 1, n, batches) - *i0;
}

/* --shard: this process's batch sums added to every other's up a tree fixed
 * by the ranks (the same bits at this process count); the loss travels as
 * the last float. Returns the loss sum. */
static double shard_sums(struct sgd_ctx *c, const struct softreg_batch *b)
{
	size_t kd1 = c->m->k * c->m->d + c->m->k;
	double loss = 0;
	if (b->m)
		loss = c->ws->kernel->loss_grad(c->m, b, c->grad, c->ws);
	else
		memset(c->grad, 0, kd1 * sizeof(float));
	c->grad[kd1] = (float)loss;
	sr_dist_sum_tree_f32(c->dist, c->grad, kd1 + 1);
	return c->grad[kd1];
}

/* Under MPI the processes agree on stopping every STOP_EVERY batches and at
 * the end of every epoch: a signal reaches them at different times, and
 * none may leave the others waiting. */
#define STOP_EVERY 8

static bool agree_stop(const struct softreg_dist *dist, bool mine, bool check)
{
	if (!sr_dist_on(dist))
		return mine;
	return check ? sr_dist_any(dist, mine) : false;
}

/* entries of W updated between two rounds of prefetches: 2 KB of each
 * array, every line of it asked for at once, so that lines another core has
 * touched arrive many at a time, not one miss after another */
#define SGD_SPAN 512

/* Update [W, b] with the mean gradient g * inv (g is the batch's sum):
 * v = mu v - lr (g inv + l2 W), W += v; whether W and b stay finite (W
 * checked in the same pass). With more than one thread, another core wrote
 * half of g (the kernels split the gradient's features) and read all of W
 * (to make its copy) since the last step: such lines, one store or load
 * waiting for the next, made the step 8 us a batch instead of 1.3 (MNIST,
 * 2 threads); asked for a span at a time ahead (W to be written), 4 us. */
static bool sgd_update(struct softreg_model *m, float *v, const float *g, float inv, float lr, float mu, float l2)
{
	size_t kd = m->k * m->d;
	float *W = m->W, poison = 0; /* NaN once W holds a NaN or an infinity */
	sr_prefetch_span(W, (kd < SGD_SPAN ? kd : SGD_SPAN) * sizeof(float), true);
	sr_prefetch_span(g, (kd < SGD_SPAN ? kd : SGD_SPAN) * sizeof(float), false);
	for (size_t j0 = 0; j0 < kd; j0 += SGD_SPAN) {
		size_t j1 = kd - j0 < SGD_SPAN ? kd : j0 + SGD_SPAN, next = kd - j1 < SGD_SPAN ? kd - j1 : SGD_SPAN;
		sr_prefetch_span(W + j1, next * sizeof(float), true);
		sr_prefetch_span(g + j1, next * sizeof(float), false);
#pragma omp simd reduction(+ : poison)
		for (size_t j = j0; j < j1; j++) {
			v[j] = mu * v[j] - lr * (g[j] * inv + l2 * W[j]);
			W[j] += v[j];
			poison += W[j] * 0.0f;
		}
	}
	for (size_t j = 0; j < m->k; j++) {
		v[kd + j] = mu * v[kd + j] - lr * (g[kd + j] * inv);
		m->b[j] += v[kd + j];
	}
	return poison == 0.0f && finite_all(m->b, m->k);
}

/*
 * The thread count of an epoch's batches, by measurement (params.threads_auto).
 * Whether a second thread pays depends on the work per batch (two barriers a
 * batch against a few tens of microseconds of work at batch 256), on the
 * kernel, and on what else the machine runs (a core held by another process
 * makes every barrier wait for it). Every kernel gives the same bits at any
 * thread count, so the count is free to change from batch to batch: the
 * first PROBE_BATCHES batches of an epoch run half on all threads, then half
 * on one, and the rest of the epoch runs on the faster (the median batch's
 * time, the SGD update included). The first PROBE_WARM batches of each half are not timed:
 * a thread that was idle for a batch sleeps once its short spin is over, and
 * waking it is no cost of the steady state. (Alternating one thread and all
 * batch by batch, as before, woke the second thread for every timed batch:
 * 2 threads' 12.5 ms epochs lost to 1 thread's 17.5 and the default ran on
 * one, on a 2-core Intel VM.)
 */
#define PROBE_BATCHES 16
#define PROBE_WARM 2

struct probe {
	int hi;         /* all threads */
	bool on;
	size_t n;       /* batches probed this epoch */
	double t[2][PROBE_BATCHES / 2]; /* the timed ones' seconds: one thread, all threads */
	size_t nt[2];
	int chosen;
};

/* the median of n > 0 seconds (sorted in place): a batch that met a
 * scheduler tick or a page fault does not decide */
static double median_seconds(double *t, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int probe_threads(struct probe *pr, size_t bi, size_t batches)
{
	if (!pr->on)
		return pr->hi;
	if (bi == 0 || pr->n == 0) { /* a new epoch (or a resumed one) */
		pr->n = 0;
		pr->nt[0] = pr->nt[1] = 0;
		pr->chosen = 0;
	}
	if (batches < 4 * PROBE_BATCHES)
		return pr->hi;
	if (pr->n < PROBE_BATCHES)
		return pr->n < PROBE_BATCHES / 2 ? pr->hi : 1;
	if (!pr->chosen)
		pr->chosen = pr->nt[0] && pr->nt[1] && median_seconds(pr->t[0], pr->nt[0]) < median_seconds(pr->t[1], pr->nt[1])
				     ? 1
				     : pr->hi;
	return pr->chosen;
}

static void probe_record(struct probe *pr, int threads, double seconds)
{
	if (pr->on && pr->n < PROBE_BATCHES) {
		int all = threads == pr->hi;
		if (pr->n % (PROBE_BATCHES / 2) >= PROBE_WARM && pr->nt[all] < PROBE_BATCHES / 2)
			pr->t[all][pr->nt[all]++] = seconds;
		pr->n++;
	}
}

static enum softreg_result sgd(struct sgd_ctx *c, struct softreg_train_state *st, struct softreg_report *rep,
			       char *err);

static enum softreg_result sgd_epochs(struct sgd_ctx *c, struct softreg_train_state *st,
				      struct softreg_report *rep, struct probe *pr, char *err)
{
	const struct softreg_params *p = c->p;
	struct softreg_model *m = c->m;
	size_t k = m->k, d = m->d, n = c->n, B = p->batch < n ? p->batch : n;
	size_t batches = (n + B - 1) / B, nl = c->shard ? c->n_loc : n;
	uint64_t total = (uint64_t)p->epochs * batches;
	size_t nval = c->p->validation;
	double t_start = sr_now();

	for (uint32_t e = st->epochs_done + 1; e <= p->epochs; e++) {
		double t0 = sr_now(), loss_sum = 0;
		struct softreg_rng rng = st->rng;
		if (p->shuffle) {
			for (size_t i = 0; i < nl; i++)
				c->perm[i] = (uint32_t)i;
			if (c->shard) { /* its own stream per process, from one draw of the shared one */
				struct softreg_rng own;
				softreg_rng_seed(&own, softreg_rng_next(&rng) ^
							       0x9e3779b97f4a7c15ull * (uint64_t)(softreg_dist_rank(c->dist) + 1));
				softreg_shuffle(&own, c->perm, nl);
			} else {
				softreg_shuffle(&rng, c->perm, n);
			}
		}
		for (size_t bi = st->batches_done; bi < batches; bi++) {
			size_t i0 = bi * B, mb = i0 + B <= n ? B : n - i0, mall = mb;
			if (c->shard) {
				mb = shard_batch(nl, bi, batches, &i0);
				mall = 0;
				for (int q = 0; q < softreg_dist_size(c->dist); q++) {
					size_t q0;
					mall += shard_batch((size_t)c->n_of[q], bi, batches, &q0);
				}
			}
			struct softreg_batch b = {.src = &c->train->x, .y = c->train->y, .first = i0, .m = mb,
						  .rows = p->shuffle ? c->perm + i0 : NULL};
			double lr = lr_at(p, e, st->iterations, total);
			float inv = 1.0f / (float)mall;
			int threads = probe_threads(pr, bi, batches);
			if (pr->on)
				omp_set_num_threads(threads);
			double tb = sr_now();
			double lsum = c->shard ? shard_sums(c, &b) : sr_batch_sums(m, &b, c->ws, c->grad);
			float loss = (float)(lsum / (double)mall);
			bool ok = isfinite(loss) && loss < SR_LOSS_DIVERGED;
			bool finite = ok && sgd_update(m, st->velocity, c->grad, inv, (float)lr, (float)p->momentum,
						       (float)p->l2);
			probe_record(pr, threads, sr_now() - tb);
			if (!finite) {
				rep->diverged_epoch = e;
				rep->diverged_batch = bi + 1;
				rep->diverged_loss = loss;
				return sr_fail(err, SOFTREG_ERR_DIVERGED,
					       "training diverged at epoch %u, batch %zu (loss = %g); try a smaller --lr", e,
					       bi + 1, isnan(loss) ? (double)NAN : (double)loss); /* not "-nan" */
			}
			loss_sum += loss;
			st->iterations++;
			st->batches_done = (uint32_t)(bi + 1);
			if (p->on_iter)
				p->on_iter(st->iterations, e, loss, m, p->user);
			bool halt = false;
			if (p->progress) {
				struct softreg_epoch_info info = {
					.epoch = e, .epochs = p->epochs, .batch = bi + 1, .batches = batches, .batch_size = B,
					.train_loss = loss_sum / (double)(bi + 1), .train_accuracy = -1,
					.test_loss = -1, .test_accuracy = -1, .val_accuracy = -1, .lr = lr,
					.seconds = sr_now() - t0, .objective = -1, .grad_norm = -1};
				halt = p->progress(&info, p->user) != 0;
			}
			bool more = bi + 1 < batches || e < p->epochs;
			bool check = (bi + 1) % STOP_EVERY == 0 || bi + 1 == batches;
			int64_t v[2] = {halt, p->stop && *p->stop && more};
			if (sr_dist_on(c->dist) && check)
				sr_dist_sum_i64(c->dist, v, 2);
			else if (sr_dist_on(c->dist))
				v[0] = v[1] = 0;
			if (v[0])
				return sr_fail(err, SOFTREG_ERR_INTERRUPTED, "training stopped at epoch %u, batch %zu",
					       e, bi + 1);
			if (v[1])
				return sr_fail(err, SOFTREG_ERR_INTERRUPTED, "interrupted at epoch %u, batch %zu", e, bi + 1);
		}
		double seconds = sr_now() - t0;
		st->rng = rng;
		st->epochs_done = e;
		st->batches_done = 0;
		rep->epochs_run = e;

		struct softreg_epoch_info info = {
			.epoch = e, .epochs = p->epochs, .batch = batches, .batches = batches,
			.train_loss = loss_sum / (double)batches, .train_accuracy = -1, .test_loss = -1,
			.test_accuracy = -1, .val_accuracy = -1, .lr = lr_at(p, e, st->iterations - 1, total),
			.seconds = seconds, .objective = -1, .grad_norm = -1, .end_of_epoch = 1};
		bool last = e == p->epochs;
		if (c->n_test && (last || (p->eval_every && e % p->eval_every == 0))) {
			sr_evaluate_ws(m, c->test, 0, c->n_test, NULL, &info.test_accuracy, &info.test_loss, c->test_ws, NULL);
			rep->test_accuracy = info.test_accuracy;
			rep->test_loss = info.test_loss;
		}
		bool stop_early = false;
		if (p->eval_train)
			sr_evaluate_ws(m, c->train, 0, n, NULL, &info.train_accuracy, NULL, c->eval_ws, NULL);
		if (nval) {
			sr_evaluate_ws(m, c->train, n, nval, NULL, &info.val_accuracy, NULL, c->eval_ws, NULL);
			rep->val_accuracy = info.val_accuracy;
			if (info.val_accuracy > st->best_val) {
				st->best_val = info.val_accuracy;
				st->since_best = 0;
				if (st->best) { /* kept in the state, so that a checkpoint carries it */
					memcpy(st->best, m->W, k * d * sizeof(float));
					memcpy(st->best + k * d, m->b, k * sizeof(float));
				}
			} else {
				st->since_best++;
				stop_early = p->early_stop && st->since_best >= p->early_stop;
			}
		}
		rep->train_seconds = sr_now() - t_start;
		if (agree_stop(c->dist, p->progress && p->progress(&info, p->user), true))
			return sr_fail(err, SOFTREG_ERR_INTERRUPTED, "training stopped after epoch %u", e);
		if (stop_early)
			break;
		if (agree_stop(c->dist, p->stop && *p->stop && !last, true))
			return sr_fail(err, SOFTREG_ERR_INTERRUPTED, "interrupted after epoch %u", e);
	}
	return SOFTREG_OK;
}

/* --shard: F and |grad F| over the rows of every process, for the report (a
 * process's own data set is one shard); left at -1 when out of memory */
static void shard_objective(struct sgd_ctx *c, struct softreg_report *rep)
{
	const struct softreg_model *m = c->m;
	size_t kd = m->k * m->d, kd1 = kd + m->k, nx = sr_xsum_words(kd1);
	float *gc = malloc(kd1 * sizeof(float));
	double *g = malloc(kd1 * sizeof(double));
	int64_t *x = nx ? malloc(nx * sizeof(int64_t)) : NULL;
	int64_t failed = !gc || !g || !x;
	sr_dist_sum_i64(c->dist, &failed, 1);
	if (!failed) {
		double ce = sr_sum_range(m, c->train, 0, c->n, c->eval_ws, gc, x, g) / (double)c->n, reg = 0, norm = 0;
		for (size_t j = 0; j < kd1; j++) {
			double w = j < kd ? m->W[j] : 0, gj = g[j] / (double)c->n + c->p->l2 * w;
			reg += w * w;
			norm += gj * gj;
		}
		rep->objective = ce + 0.5 * c->p->l2 * reg;
		rep->grad_norm = sqrt(norm);
	}
	free(gc);
	free(g);
	free(x);
}

/* a CRC-32 of the training labels and of the start of the features: cheap,
 * and different for other data of the same shape */
static uint32_t fingerprint(const struct softreg_dataset *ds, size_t n)
{
	const struct softreg_source *s = &ds->x;
	uint32_t crc = sr_crc32(0, ds->y, n * sizeof(uint32_t));
	size_t cap = (size_t)1 << 20;
	if (s->kind == SOFTREG_SOURCE_CSR) {
		/* the first nonzeros' uint32 indices, then their float values,
		 * whichever form holds them (the compact one is widened, 256 at a
		 * time: a small stack) */
		size_t nnz = (size_t)s->indptr[n];
		nnz = nnz < cap / 4 ? nnz : cap / 4;
		for (int part = 0; part < 2; part++)
			for (size_t p = 0; p < nnz; p += 256) {
				union {
					uint32_t i[256];
					float v[256];
				} buf;
				size_t c = nnz - p < 256 ? nnz - p : 256;
				for (size_t q = 0; q < c; q++) {
					if (part == 0)
						buf.i[q] = sr_csr_index(s, p + q);
					else
						buf.v[q] = sr_csr_value(s, p + q);
				}
				crc = sr_crc32(crc, &buf, c * 4);
			}
		return crc;
	}
	size_t elem = s->kind == SOFTREG_SOURCE_U8 ? 1 : s->kind == SOFTREG_SOURCE_F16 ? 2 : 4;
	size_t bytes = n * s->d * elem;
	return sr_crc32(crc, s->data, bytes < cap ? bytes : cap);
}

/* A checkpoint continues only the run that wrote it: the same batch size,
 * shuffling, seed, training rows and data. (A version 1 checkpoint, batch 0,
 * recorded none of these.) */
static enum softreg_result check_resume(const struct softreg_train_state *st, const struct softreg_params *p,
					uint32_t fp, size_t n, char *err)
{
	if (st->batch == 0)
		return SOFTREG_OK;
	if (st->batch != p->batch)
		return sr_fail(err, SOFTREG_ERR_MISMATCH, "the checkpoint was made with --batch %llu, not %zu",
			       (unsigned long long)st->batch, p->batch);
	if (st->shuffle != (p->shuffle != 0))
		return sr_fail(err, SOFTREG_ERR_MISMATCH, "the checkpoint was made %s --no-shuffle",
			       st->shuffle ? "without" : "with");
	if (st->seed != p->seed)
		return sr_fail(err, SOFTREG_ERR_MISMATCH, "the checkpoint was made with --seed %llu, not %llu",
			       (unsigned long long)st->seed, (unsigned long long)p->seed);
	if (st->n_train != n)
		return sr_fail(err, SOFTREG_ERR_MISMATCH,
			       "the checkpoint was made on %llu training rows, not %zu (other data or --validation)",
			       (unsigned long long)st->n_train, n);
	if (st->fingerprint != fp)
		return sr_fail(err, SOFTREG_ERR_MISMATCH, "the checkpoint was made on other training data of the same shape");
	return SOFTREG_OK;
}

enum softreg_result softreg_train(struct softreg_model *m, const struct softreg_dataset *train,
				  const struct softreg_dataset *test, const struct softreg_params *p,
				  struct softreg_train_state *state, struct softreg_report *rep, char *err)
{
	return softreg_train_dist(m, train, test, p, NULL, 0, state, rep, err);
}

enum softreg_result softreg_train_dist(struct softreg_model *m, const struct softreg_dataset *train,
				       const struct softreg_dataset *test, const struct softreg_params *p,
				       const struct softreg_dist *dist, int shard_, struct softreg_train_state *state,
				       struct softreg_report *rep, char *err)
{
	struct softreg_report dummy;
	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	rep->test_accuracy = rep->test_loss = rep->val_accuracy = rep->objective = rep->grad_norm = -1;
	const char *why = softreg_check_params(p);
	if (why)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s", why);
	enum softreg_result r = softreg_model_check_data(m, train, "training data", err);
	if (r == SOFTREG_OK && test)
		r = softreg_model_check_data(m, test, "test data", err);
	if (r)
		return r;
	if (!train->y || (test && !test->y))
		return sr_fail(err, SOFTREG_ERR_PARAM, "the labels are not mapped to the model's classes");
	const struct softreg_kernel *kern = p->kernel ? p->kernel : softreg_kernel_auto(train->x.kind);
	const struct softreg_kernel *test_kern = !test ? kern : p->kernel ? p->kernel : softreg_kernel_auto(test->x.kind);
	if (!softreg_kernel_takes(kern, train->x.kind) || !softreg_kernel_takes(test_kern, test ? test->x.kind : train->x.kind))
		return sr_fail(err, SOFTREG_ERR_PARAM, "the %s kernel does not take %s data (kernels: naive takes every "
			       "source, blas dense ones, sparse CSR)", kern->name,
			       softreg_source_name(softreg_kernel_takes(kern, train->x.kind) ? test->x.kind : train->x.kind));
	size_t n_all = sr_dist_total(dist, train); /* a shard's data set holds only some of them */
	if (p->validation >= n_all)
		return sr_fail(err, SOFTREG_ERR_PARAM, "validation (%zu) must be smaller than the %zu training samples",
			       p->validation, n_all);
	if (p->early_stop && !p->validation)
		return sr_fail(err, SOFTREG_ERR_PARAM, "early stopping needs a validation split");
	bool shard = shard_ && p->solver == SOFTREG_SOLVER_SGD && sr_dist_on(dist);
	if (shard && !sr_dist_sharded(dist, train))
		return sr_fail(err, SOFTREG_ERR_PARAM, "shard: the training set is not a shard (softreg_dist_hold())");

	size_t k = m->k, d = m->d, n = n_all - p->validation;
	struct softreg_train_state *own = NULL;
	if (!state) {
		state = own = softreg_train_state_alloc(k, d);
		if (!state)
			return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory");
	}
	if (state->nv != k * d + k) {
		softreg_train_state_free(own);
		return sr_fail(err, SOFTREG_ERR_MISMATCH, "the training state does not fit the model");
	}
	if (p->solver == SOFTREG_SOLVER_SGD && state->batches_done) {
		size_t B = p->batch < n ? p->batch : n, batches = (n + B - 1) / B;
		if (state->batches_done >= batches) {
			softreg_train_state_free(own);
			return sr_fail(err, SOFTREG_ERR_MISMATCH,
				       "the checkpoint stopped at batch %u of an epoch, which has %zu batches of %zu here; "
				       "resume with the first run's --batch",
				       state->batches_done, batches, B);
		}
	}
	bool fresh = state->epochs_done == 0 && state->batches_done == 0 && state->iterations == 0;
	/* the data's fingerprint: under MPI rank 0's (of its shard), so that
	 * its checkpoint resumes on every process */
	size_t row0 = sr_dist_row0(dist, train), mine = n > row0 ? n - row0 : 0;
	int64_t fpv = fingerprint(train, mine < train->n ? mine : train->n);
	sr_dist_bcast(dist, &fpv, sizeof(fpv), 0);
	uint32_t fp = (uint32_t)fpv;
	r = fresh ? SOFTREG_OK : check_resume(state, p, fp, n, err);
	if (r) {
		softreg_train_state_free(own);
		return r;
	}
	if (fresh) {
		softreg_rng_seed(&state->rng, p->seed);
		state->batch = p->batch;
		state->n_train = n;
		state->seed = p->seed;
		state->shuffle = p->shuffle != 0;
		state->fingerprint = fp;
	}
	if (p->early_stop && !state->best) { /* the best so far: the start (or a version 1 checkpoint's model) */
		if (!(state->best = malloc((k * d + k) * sizeof(float)))) {
			softreg_train_state_free(own);
			return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory");
		}
		memcpy(state->best, m->W, k * d * sizeof(float));
		memcpy(state->best + k * d, m->b, k * sizeof(float));
	}
	m->seed = state->seed ? state->seed : p->seed; /* the seed the random state came from */

	if (p->solver == SOFTREG_SOLVER_LBFGS) {
		r = sr_train_lbfgs(m, train, n, test, p, kern, test_kern, dist, state, rep, err);
	} else {
		struct sgd_ctx c = {.p = p, .dist = dist, .m = m, .train = train, .test = test, .n = n, .shard = shard,
				    .n_test = test ? sr_dist_total(dist, test) : 0, .n_loc = mine < train->n ? mine : train->n};
		size_t B = p->batch < n ? p->batch : n, N = (size_t)softreg_dist_size(dist);
		c.ws = softreg_workspace_alloc(kern, B, k, d);
		c.eval_ws = softreg_workspace_alloc(kern, sr_eval_rows(k), k, d);
		c.test_ws = test && test_kern != kern ? softreg_workspace_alloc(test_kern, sr_eval_rows(k), k, d) : c.eval_ws;
		c.grad = malloc((k * d + k + 1) * sizeof(float));
		c.perm = p->shuffle ? malloc((shard ? c.n_loc + 1 : n) * sizeof(uint32_t)) : NULL;
		c.n_of = shard ? calloc(N, sizeof(int64_t)) : NULL;
		if (!c.ws || !c.eval_ws || !c.test_ws || !c.grad || (p->shuffle && !c.perm) || (shard && !c.n_of))
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory for training a %zu x %zu model (batch %zu: %zu bytes "
				    "of workspace, %zu of gradient)", k, d, B, softreg_workspace_bytes(kern, B, k, d),
				    (k * d + k) * sizeof(float));
		r = softreg_dist_agree(dist, r, err); /* no process goes on alone */
		if (r == SOFTREG_OK) {
			c.ws->dist = shard ? NULL : dist; /* --shard: each process its own batch (shard_sums) */
			c.eval_ws->dist = c.test_ws->dist = dist;
			if (shard) {
				c.n_of[softreg_dist_rank(dist)] = (int64_t)c.n_loc;
				sr_dist_sum_i64(dist, c.n_of, N);
			}
			r = sgd(&c, state, rep, err);
			if (r == SOFTREG_OK && state->best && state->best_val >= 0) {
				/* early stopping keeps the best epoch's model */
				memcpy(m->W, state->best, k * d * sizeof(float));
				memcpy(m->b, state->best + k * d, k * sizeof(float));
				if (test)
					sr_evaluate_ws(m, test, 0, c.n_test, NULL, &rep->test_accuracy, &rep->test_loss,
						       c.test_ws, NULL);
				rep->val_accuracy = state->best_val;
			}
			if (r == SOFTREG_OK && shard)
				shard_objective(&c, rep);
		}
		softreg_workspace_free(c.ws);
		if (c.test_ws != c.eval_ws)
			softreg_workspace_free(c.test_ws);
		softreg_workspace_free(c.eval_ws);
		free(c.grad);
		free(c.perm);
		free(c.n_of);
	}
	rep->iterations = state->iterations;
	m->epochs = state->epochs_done;
	if (r == SOFTREG_OK && test)
		m->test_accuracy = rep->test_accuracy;
	softreg_train_state_free(own);
	return r;
}

static enum softreg_result sgd(struct sgd_ctx *c, struct softreg_train_state *st, struct softreg_report *rep,
			       char *err)
{
	struct probe pr = {.hi = omp_get_max_threads()};
	pr.on = c->p->threads_auto && pr.hi > 1 && !c->shard;
	enum softreg_result r = sgd_epochs(c, st, rep, &pr, err);
	omp_set_num_threads(pr.hi);
	return r;
}
