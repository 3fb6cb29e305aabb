/* SPDX-License-Identifier: MIT
 * cmd_sweep.c: softreg sweep: choose l2 on a validation split along a
 * warm-started L-BFGS path, refit on train + validation, test once.
 *
 * The path goes from the largest l2 to the smallest; each fit is
 * softreg_train() (the one loss-and-gradient path) started from a prediction
 * of its solution made from the previous fits' solutions, and with the
 * previous fit's L-BFGS memory (its preconditioner and pairs, corrected for
 * the new l2). One model is trained; beside it live one L-BFGS memory and four
 * copies of W, b: the best so far (the refit starts from it), the last three
 * solutions (the predictor's). Nothing grows with the number of l2 values
 * but the table of the fits.
 *
 * Under mpirun every process reads the whole files and runs the same sweep;
 * each fit, objective and evaluation shares its blocks of rows among the
 * processes (softreg_train_dist() and the _dist functions, exact sums), so
 * every process takes the same decisions and the path is the same bits as
 * one process. Rank 0 prints and writes the files. */
#include "cli.h"
#include "data.h"
#include "dist_cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: softreg sweep [--data DIR | --train FILE [--train-labels FILE] [--test FILE [--test-labels FILE]]]\n"
	"                     (--validation N | --val FILE [--val-labels FILE]) [OPTIONS]\n"
	"\n"
	"Choose the l2 of the L-BFGS objective\n"
	"  F(W, b) = (1/n) sum_i CE(softmax(W x_i + b), y_i) + (l2/2) |W|^2  (bias not regularised)\n"
	"on a validation split: fit every l2 of the grid from the largest to the smallest, each fit\n"
	"warm-started (see --warm); keep the best validation accuracy (ties: the larger l2); refit that\n"
	"l2 on the training and validation rows together, from its solution; evaluate the test set\n"
	"once, with that model. A table goes to stderr as the fits finish (* marks a fit stopped by\n"
	"--max-iter).\n"
	"--search binary fits a coarse grid (every 8th value of the default grid), then halves the\n"
	"interval around the best down to the grid's resolution (CLIP's parametric search).\n"
	"\n"
	"Exit status: 0 ok, 1 runtime error (bad file, divergence), 2 usage error, 130 interrupted.\n"
	"\n"
	"Under mpirun (a build with MPI), 'mpirun -np N softreg sweep ...' shares every fit among the\n"
	"processes (each reads the whole files): the same path and model, byte for byte, at any N.\n"
	"Only rank 0 prints and writes files.\n"
	"\n";

#define DEFAULT_GRID "1e-6:1e6:96"
#define GRID_MAX 10000

static const char *const searches[] = {"grid", "binary", NULL};
enum { WARM_MEMORY = 0, WARM_PREDICT = 1, WARM_SOLUTION = 2, WARM_NONE = 3 };
static const char *const warm_modes[] = {"memory", "predict", "solution", "none", NULL};

struct sweep_opts {
	struct data_opts data;
	size_t validation;
	const char *val, *val_labels, *l2;
	int search, warm, kernel, threads, history;
	uint32_t max_iter;
	double tol;
	bool standardize, json, quiet;
	const char *out, *metrics;
};

#define O(field) offsetof(struct sweep_opts, field)
static const struct opt table[] = {
	{OPT_SECTION, "data and model", 0, 0, 0, 0, 0, 0, 0, 0},
	DATA_OPTS_DIR(struct sweep_opts, data),
	DATA_OPTS_TRAIN(struct sweep_opts, data),
	DATA_OPTS_TEST(struct sweep_opts, data),
	DATA_OPTS_FORMAT(struct sweep_opts, data),
	{OPT_SIZE, "--validation", NULL, "N", O(validation), 1, 4294967295.0, false, NULL,
	 "validate on the last N training rows (the rows `softreg train --validation N`\n"
	 "                         holds out)"},
	{OPT_STRING, "--val", NULL, "FILE", O(val), 0, 0, false, NULL,
	 "validate on this file instead (any format; its features of the training kind)"},
	{OPT_STRING, "--val-labels", NULL, "FILE", O(val_labels), 0, 0, false, NULL, "validation labels (IDX or .npy)"},
	{OPT_FLAG, "--standardize", NULL, NULL, O(standardize), 0, 0, false, NULL,
	 "per-feature mean/std of the training rows (validation rows excluded; the refit\n"
	 "                         keeps them); default: uint8 features / 255, others as they are"},
	{OPT_STRING, "--out", NULL, "MODEL", O(out), 0, 0, false, NULL, "save the refit model (.srm), atomically"},
	{OPT_SECTION, "the search", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_STRING, "--l2", NULL, "LIST", O(l2), 0, 0, false, NULL,
	 "comma-separated values (1e-3,1e-4,0), or FROM:TO:COUNT, COUNT values log-spaced\n"
	 "                         from FROM to TO (default " DEFAULT_GRID ", CLIP's grid)"},
	{OPT_CHOICE, "--search", NULL, "S", O(search), 0, 0, false, searches,
	 "grid (every value, default) or binary (coarse grid, then halving around the best)"},
	{OPT_U32, "--max-iter", NULL, "N", O(max_iter), 1, 1000000, false, NULL,
	 "L-BFGS iterations per fit at most (default 1000)"},
	{OPT_DOUBLE, "--tol", NULL, "T", O(tol), 0, 1e6, false, NULL, "stop a fit when |grad F| <= T (default 1e-5)"},
	{OPT_INT, "--history", NULL, "H", O(history), 1, 1000, false, NULL, "L-BFGS memory (default 10)"},
	{OPT_CHOICE, "--warm", NULL, "W", O(warm), 0, 0, false, warm_modes,
	 "how a fit starts: memory (default: a prediction from the last solutions\n"
	 "                         (the previous one, or the secant or parabola through the last 2 or 3 in\n"
	 "                         log l2, whichever has the lowest F), and the previous fit's L-BFGS memory,\n"
	 "                         its pairs corrected for the new l2); predict (the prediction, an empty\n"
	 "                         memory); solution (the previous solution, an empty memory); none (from\n"
	 "                         zero, every fit and the refit: independent fits, for comparison)"},
	{OPT_SECTION, "compute", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_CHOICE, "--kernel", NULL, "K", O(kernel), 0, 0, false, kernel_choices,
	 "auto (default: sparse for libsvm data, blas for dense), blas, sparse or naive"},
	{OPT_INT, "--threads", NULL, "T", O(threads), 1, 1024, false, NULL,
	 "threads for OpenMP and OpenBLAS (default: all cores)"},
	{OPT_SECTION, "output", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_STRING, "--metrics", NULL, "FILE.csv", O(metrics), 0, 0, false, NULL,
	 "one row per fit, in the order fitted: l2,iterations,seconds,\n"
	 "                         validation_accuracy,validation_loss,objective,grad_norm,chosen"},
	{OPT_FLAG, "--json", NULL, NULL, O(json), 0, 0, false, NULL, "print one JSON object on stdout"},
	{OPT_FLAG, "--quiet", "-q", NULL, O(quiet), 0, 0, false, NULL, "no table on stderr"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

/* ---- the grid ---- */

/* a plain decimal number in [lo, hi] from s[0, len): [sign] digits [. digits]
 * [e [sign] digits]; no space, hex, inf or nan */
static bool parse_number(const char *s, size_t len, double lo, double hi, double *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	const char *p = buf + (buf[0] == '+' || buf[0] == '-');
	if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !strchr(".eE+-", *p))
			return false;
	char *end;
	errno = 0;
	double x = strtod(buf, &end);
	if (*end || errno || !isfinite(x) || x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* --l2: "A,B,..." or "FROM:TO:COUNT" into a new array, from the largest
 * value to the smallest, without duplicates; 0 or EXIT_USAGE */
static int parse_grid(const char *s, double **grid_ret, size_t *n_ret)
{
	size_t n = 0, len = strlen(s);
	double *g = NULL;
	const char *c1 = strchr(s, ':');
	if (c1) {
		const char *c2 = strchr(c1 + 1, ':');
		double from, to, count;
		if (!c2 || strchr(c2 + 1, ':') || !parse_number(s, (size_t)(c1 - s), 0, 1e6, &from) ||
		    !parse_number(c1 + 1, (size_t)(c2 - c1 - 1), 0, 1e6, &to) ||
		    !parse_number(c2 + 1, strlen(c2 + 1), 1, GRID_MAX, &count) || count != floor(count) || from <= 0 ||
		    to <= 0)
			return usage_error("sweep", "--l2 FROM:TO:COUNT needs FROM and TO in (0, 1e6] and a whole COUNT "
				    "in [1, %d], got '%.60s'", GRID_MAX, s);
		n = (size_t)count;
		if (!(g = malloc(n * sizeof(double))))
			return runtime_error("out of memory");
		double a = log10(from), b = log10(to);
		for (size_t i = 0; i < n; i++)
			g[i] = i == 0 ? from : i == n - 1 ? to : pow(10.0, a + (b - a) * (double)i / (double)(n - 1));
	} else {
		size_t cap = 1;
		for (const char *p = s; *p; p++)
			cap += *p == ',';
		if (cap > GRID_MAX)
			return usage_error("sweep", "--l2 has more than %d values", GRID_MAX);
		if (!(g = malloc(cap * sizeof(double))))
			return runtime_error("out of memory");
		for (size_t i = 0; i <= len;) {
			const char *comma = strchr(s + i, ',');
			size_t j = comma ? (size_t)(comma - s) : len;
			if (!parse_number(s + i, j - i, 0, 1e6, &g[n])) {
				free(g);
				return usage_error("sweep", "--l2 must be numbers in [0, 1e6] separated by commas, or "
						   "FROM:TO:COUNT; got '%.60s'", s);
			}
			n++;
			i = j + 1;
		}
	}
	qsort(g, n, sizeof(double), cmp_desc);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || g[i] != g[u - 1])
			g[u++] = g[i];
	*grid_ret = g;
	*n_ret = u;
	return 0;
}

/* the shortest %g form of x that reads back as x (JSON, CSV: a value that
 * `softreg train --l2` takes back exactly) */
static const char *fmt_exact(double x, char *buf, size_t size)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	return buf;
}

/* ---- the sweep ---- */

/* where a fit started */
enum start { START_ZERO, START_CURRENT, START_BEST, START_LINEAR, START_QUADRATIC };
static const char *const start_names[] = {"zero", "previous", "best", "linear", "quadratic"};

struct fit {
	double l2;
	size_t index;        /* in the grid */
	enum start start;
	uint64_t iterations;
	double seconds;      /* the fit and its validation evaluation */
	double val_acc, val_loss;
	double objective, grad_norm;
};

struct sweep {
	const struct sweep_opts *o;
	struct softreg_params p;
	struct softreg_model *m;
	float *best_wb;                       /* (k*d + k) W, b of the best fit so far */
	float *hist[3];                       /* (k*d + k) each: the last solutions along the path, newest first */
	double hist_l2[3];
	size_t nhist;
	const struct softreg_dataset *fit;    /* the training rows */
	const struct softreg_dataset *val;    /* rows [val_first, val_first + val_count) validate */
	size_t val_first, val_count;
	const double *grid;
	size_t ngrid;
	bool *done;                           /* (ngrid) fitted */
	struct fit *path;                     /* (ngrid) in the order fitted */
	size_t npath, best;                   /* best: index in path */
	uint64_t path_iterations;
	double path_seconds;
	const char *interrupted_in;           /* what was running when a signal came */
};

static void print_fit(const struct sweep *s, const struct fit *f)
{
	if (s->o->quiet)
		return;
	bool capped = f->iterations >= s->o->max_iter;
	fprintf(stderr, "%12.4g %10llu%s %8.3f %10.2f %10.6f %12.4g  %s\n", f->l2, (unsigned long long)f->iterations,
		capped ? "*" : " ", f->seconds, 100 * f->val_acc, f->val_loss, f->grad_norm, start_names[f->start]);
}

/* W, b = 0, the current solution (a warm start along the path), or the best so far */
static void set_start(struct sweep *s, enum start from)
{
	struct softreg_model *m = s->m;
	size_t kd = m->k * m->d;
	if (from == START_ZERO) {
		memset(m->W, 0, kd * sizeof(float));
		memset(m->b, 0, m->k * sizeof(float));
	} else if (from == START_BEST) {
		memcpy(m->W, s->best_wb, kd * sizeof(float));
		memcpy(m->b, s->best_wb + kd, m->k * sizeof(float));
	}
}

/* W, b <- the polynomial through the last 'order' + 1 solutions in log l2,
 * evaluated at log 'l2' (Lagrange weights; order 1: the secant, 2: the parabola) */
static void extrapolate(struct sweep *s, size_t order, double l2)
{
	struct softreg_model *m = s->m;
	size_t kd = m->k * m->d, kd1 = kd + m->k;
	double x = log(l2), t[3], w[3];
	for (size_t a = 0; a <= order; a++)
		t[a] = log(s->hist_l2[a]);
	for (size_t a = 0; a <= order; a++) {
		w[a] = 1;
		for (size_t b = 0; b <= order; b++)
			if (b != a)
				w[a] *= (x - t[b]) / (t[a] - t[b]);
	}
	for (size_t j = 0; j < kd1; j++) {
		double v = 0;
		for (size_t a = 0; a <= order; a++)
			v += w[a] * s->hist[a][j];
		if (j < kd)
			m->W[j] = (float)v;
		else
			m->b[j - kd] = (float)v;
	}
}

/* Along the path, the solution at 'l2' is predicted from the last ones: the
 * previous solution, the secant through the last two or the parabola through
 * the last three (in log l2), whichever has the lowest F at 'l2' (a forward
 * pass each, about 1% of a fit). The test of F keeps a poor extrapolation from
 * ever starting a fit worse than the previous solution. The model holds the
 * previous solution (hist[0]) on entry and the start on return. */
static int predict(struct sweep *s, double l2, enum start *start)
{
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m = s->m;
	size_t kd = m->k * m->d, usable = 0;
	*start = START_CURRENT;
	while (usable < s->nhist && s->hist_l2[usable] > 0 && s->hist_l2[usable] != l2 &&
	       (usable == 0 || s->hist_l2[usable] != s->hist_l2[usable - 1]))
		usable++;
	if (usable < 2 || !(l2 > 0))
		return 0;
	double F_best, F;
	size_t best = 0, last = 0;
	if (softreg_objective_dist(m, s->fit, s->fit->n, l2, s->p.kernel, cli_dist, NULL, &F_best, NULL, err))
		return runtime_error("%s", err);
	for (size_t order = 1; order < usable && order <= 2; order++) {
		extrapolate(s, order, l2);
		last = order;
		if (softreg_objective_dist(m, s->fit, s->fit->n, l2, s->p.kernel, cli_dist, NULL, &F, NULL, err))
			return runtime_error("%s", err);
		if (F < F_best)
			F_best = F, best = order;
	}
	if (best == 0) {
		memcpy(m->W, s->hist[0], kd * sizeof(float));
		memcpy(m->b, s->hist[0] + kd, m->k * sizeof(float));
	} else if (best != last) {
		extrapolate(s, best, l2);
	}
	*start = best == 0 ? START_CURRENT : best == 1 ? START_LINEAR : START_QUADRATIC;
	return 0;
}

/* after a fit: its solution becomes the newest of the path's (a fit started
 * from the best solution begins a new path) */
static void remember(struct sweep *s, double l2, enum start from)
{
	struct softreg_model *m = s->m;
	size_t kd = m->k * m->d;
	if (from == START_BEST || from == START_ZERO)
		s->nhist = 0;
	float *oldest = s->hist[2];
	s->hist[2] = s->hist[1], s->hist_l2[2] = s->hist_l2[1];
	s->hist[1] = s->hist[0], s->hist_l2[1] = s->hist_l2[0];
	s->hist[0] = oldest, s->hist_l2[0] = l2;
	memcpy(oldest, m->W, kd * sizeof(float));
	memcpy(oldest + kd, m->b, m->k * sizeof(float));
	s->nhist = s->nhist < 3 ? s->nhist + 1 : 3;
}

/* fit grid value i from 'from' and validate it; 0, EXIT_RUNTIME or EXIT_INTERRUPTED */
static int fit_one(struct sweep *s, size_t i, enum start from)
{
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m = s->m;
	enum start start = s->o->warm == WARM_NONE ? START_ZERO : from;
	set_start(s, start);
	s->p.l2 = s->grid[i];
	double t0 = cli_now();
	int rc;
	if (start == START_CURRENT && s->o->warm <= WARM_PREDICT && (rc = predict(s, s->grid[i], &start)))
		return rc;
	struct softreg_report rep;
	enum softreg_result r = softreg_train_dist(m, s->fit, NULL, &s->p, cli_dist, 0, NULL, &rep, err);
	if (r == SOFTREG_ERR_INTERRUPTED) {
		s->interrupted_in = "a fit";
		return EXIT_INTERRUPTED;
	}
	if (r)
		return runtime_error("l2 %g: %s", s->grid[i], err);
	struct fit f = {.l2 = s->grid[i], .index = i, .start = start, .iterations = rep.iterations,
			.objective = rep.objective, .grad_norm = rep.grad_norm};
	if (softreg_evaluate_dist(m, s->val, s->val_first, s->val_count, s->p.kernel, cli_dist, NULL, &f.val_acc,
				  &f.val_loss, err))
		return runtime_error("%s", err);
	f.seconds = cli_now() - t0;
	s->done[i] = true;
	s->path[s->npath] = f;
	const struct fit *b = s->npath ? &s->path[s->best] : NULL;
	if (!b || f.val_acc > b->val_acc || (f.val_acc == b->val_acc && f.l2 > b->l2)) {
		s->best = s->npath;
		size_t kd = m->k * m->d;
		memcpy(s->best_wb, m->W, kd * sizeof(float));
		memcpy(s->best_wb + kd, m->b, m->k * sizeof(float));
	}
	if (s->o->warm <= WARM_PREDICT)
		remember(s, f.l2, from);
	s->npath++;
	s->path_iterations += f.iterations;
	s->path_seconds += f.seconds;
	print_fit(s, &f);
	return 0;
}

/* the coarse step of --search binary: a power of two that leaves 9 to 16
 * intervals (8 for the default 96 values: every decade) */
static size_t coarse_step(size_t n)
{
	size_t step = 1;
	while (step * 16 <= n - 1)
		step *= 2;
	return step;
}

static int search(struct sweep *s)
{
	size_t n = s->ngrid;
	int rc = 0;
	if (s->o->search == 0) { /* grid: every value, largest first, each from the last */
		for (size_t i = 0; i < n && !rc; i++)
			rc = fit_one(s, i, i ? START_CURRENT : START_ZERO);
		return rc;
	}
	size_t step = coarse_step(n);
	for (size_t i = 0; i < n && !rc; i += step)
		rc = fit_one(s, i, i ? START_CURRENT : START_ZERO);
	if (!rc && !s->done[n - 1])
		rc = fit_one(s, n - 1, START_CURRENT);
	/* halve the interval around the best: its neighbours at h grid steps,
	 * each started from the best solution */
	for (size_t h = step / 2; h >= 1 && !rc; h /= 2) {
		size_t b = s->path[s->best].index;
		if (b >= h && !s->done[b - h])
			rc = fit_one(s, b - h, START_BEST);
		if (!rc && b + h < n && !s->done[b + h])
			rc = fit_one(s, b + h, START_BEST);
	}
	return rc;
}

/* ---- train + validation for the refit, when validation is a file ---- */

struct joined {
	struct softreg_dataset ds;
	void *buf[7];
};

static size_t elem_size(enum softreg_source_kind kind)
{
	return kind == SOFTREG_SOURCE_U8 ? 1 : kind == SOFTREG_SOURCE_F16 ? 2 : 4;
}

/* a's na elements then b's nb, into j->buf[slot]; NULL and *ok false when
 * out of memory */
static void *cat(struct joined *j, int slot, const void *a, const void *b, size_t na, size_t nb, size_t elem, bool *ok)
{
	char *p = j->buf[slot] = malloc(na + nb ? (na + nb) * elem : 1);
	if (!p) {
		*ok = false;
		return NULL;
	}
	memcpy(p, a, na * elem);
	memcpy(p + na * elem, b, nb * elem);
	return p;
}

/* a's rows then b's, copied (same source kind and d); 0 or EXIT_RUNTIME */
static int join(const struct softreg_dataset *a, const struct softreg_dataset *b, const char *bname, struct joined *j)
{
	memset(j, 0, sizeof(*j));
	/* a sparsified set keeps the kind it came as (its values are that kind's) */
	if (a->x.kind != b->x.kind || a->x.origin != b->x.origin)
		return runtime_error("%s: %s features, the training set's are %s: the refit on both needs one kind", bname,
				     softreg_source_name(softreg_source_input(&b->x)),
				     softreg_source_name(softreg_source_input(&a->x)));
	if (!a->x.values8 != !b->x.values8) /* sparsify gives both one form: the same kind and d */
		return runtime_error("%s: its CSR is not in the training set's form (compact or float)", bname);
	size_t n = a->n + b->n, d = a->d;
	struct softreg_dataset *ds = &j->ds;
	*ds = *a;
	memset(ds->mem_, 0, sizeof(ds->mem_));
	ds->map_ = NULL;
	ds->map_len_ = 0;
	ds->n = ds->x.n = n;
	ds->dropped = 0;
	int64_t *labels = j->buf[0] = malloc(n * sizeof(int64_t));
	uint32_t *y = j->buf[1] = malloc(n * sizeof(uint32_t));
	bool ok = labels && y;
	if (ok && a->x.kind == SOFTREG_SOURCE_CSR) {
		size_t na = (size_t)a->x.indptr[a->n], nb = (size_t)b->x.indptr[b->n];
		uint64_t *indptr = j->buf[2] = malloc((n + 1) * sizeof(uint64_t));
		if ((ok = indptr != NULL)) {
			memcpy(indptr, a->x.indptr, (a->n + 1) * sizeof(uint64_t));
			for (size_t i = 1; i <= b->n; i++)
				indptr[a->n + i] = na + b->x.indptr[i];
			ds->x.indptr = indptr;
		}
		/* the nonzeros in the form both have (a sparsified uint8 source:
		 * the compact one alone) */
		bool compact = a->x.values8 != NULL;
		ds->x.indices = ok && !compact ? cat(j, 3, a->x.indices, b->x.indices, na, nb, sizeof(uint32_t), &ok) : NULL;
		ds->x.values = ok && !compact ? cat(j, 4, a->x.values, b->x.values, na, nb, sizeof(float), &ok) : NULL;
		ds->x.indices16 = ok && compact ? cat(j, 5, a->x.indices16, b->x.indices16, na, nb, 2, &ok) : NULL;
		ds->x.values8 = ok && compact ? cat(j, 6, a->x.values8, b->x.values8, na, nb, 1, &ok) : NULL;
	} else if (ok) {
		size_t es = elem_size(a->x.kind);
		char *x = j->buf[2] = malloc(n * d * es);
		if ((ok = x != NULL)) {
			memcpy(x, a->x.data, a->n * d * es);
			memcpy(x + a->n * d * es, b->x.data, b->n * d * es);
			ds->x.data = x;
		}
	}
	if (!ok) {
		for (int i = 0; i < 7; i++)
			free(j->buf[i]);
		memset(j, 0, sizeof(*j));
		return runtime_error("out of memory for the training and validation rows together (%zu rows of %zu features)",
				     n, d);
	}
	memcpy(labels, a->labels, a->n * sizeof(int64_t));
	memcpy(labels + a->n, b->labels, b->n * sizeof(int64_t));
	memcpy(y, a->y, a->n * sizeof(uint32_t));
	memcpy(y + a->n, b->y, b->n * sizeof(uint32_t));
	ds->labels = labels;
	ds->y = y;
	return 0;
}

static void joined_free(struct joined *j)
{
	for (int i = 0; i < 7; i++)
		free(j->buf[i]);
	memset(j, 0, sizeof(*j));
}

/* ---- output ---- */

struct result {
	double chosen, load_s, refit_s, total_s;
	uint64_t refit_iterations;
	double refit_objective, refit_grad_norm;
	size_t refit_rows;
	double test_acc, test_loss; /* -1: no test set */
	int threads;
};

static int write_metrics(const struct sweep *s, const char *path)
{
	struct out_file o;
	FILE *f = out_begin(&o);
	if (!f)
		return runtime_error("%s: out of memory for the metrics", path);
	fprintf(f, "l2,iterations,seconds,validation_accuracy,validation_loss,objective,grad_norm,chosen\n");
	char buf[32];
	for (size_t i = 0; i < s->npath; i++) {
		const struct fit *x = &s->path[i];
		fprintf(f, "%s,%llu,%.6f,%.9g,%.9g,%.10g,%.6g,%d\n", fmt_exact(x->l2, buf, sizeof(buf)),
			(unsigned long long)x->iterations, x->seconds, x->val_acc, x->val_loss, x->objective, x->grad_norm,
			i == s->best);
	}
	return out_commit(&o, path);
}

static void print_json(const struct sweep *s, const struct softreg_dataset *train, const struct softreg_dataset *test,
		       const struct result *res)
{
	const struct sweep_opts *o = s->o;
	const struct softreg_model *m = s->m;
	char buf[32];
	printf("{\"dataset\": ");
	json_string(stdout, data_name(&o->data));
	printf(", \"format\": \"%s\", \"source\": \"%s\"", data_formats[o->data.format], softreg_source_name(train->x.kind));
	printf(", \"n_train\": %zu, \"n_validation\": %zu, \"validation\": ", s->fit->n, s->val_count);
	json_string(stdout, o->val ? o->val : "last rows of the training set");
	printf(", \"n_test\": %zu, \"d\": %zu, \"k\": %zu", test ? test->n : 0, m->d, m->k);
	printf(", \"search\": \"%s\", \"warm\": \"%s\", \"grid_size\": %zu, \"max_iter\": %u, \"tol\": %.9g"
	       ", \"history\": %d", searches[o->search], warm_modes[o->warm], s->ngrid, o->max_iter, o->tol, o->history);
	double comm_s;
	uint64_t sent = softreg_dist_sent(cli_dist, &comm_s);
	printf(", \"standardize\": %s, \"kernel\": \"%s\", \"threads\": %d, \"processes\": %d, \"sent_bytes\": %llu"
	       ", \"comm_seconds\": %.6f, \"blas_core\": ", o->standardize ? "true" : "false",
	       (s->p.kernel ? s->p.kernel : softreg_kernel_auto(train->x.kind))->name, res->threads,
	       softreg_dist_size(cli_dist), (unsigned long long)sent, comm_s);
	json_string(stdout, softreg_blas_corename());
	printf(", \"path\": [");
	for (size_t i = 0; i < s->npath; i++) {
		const struct fit *f = &s->path[i];
		printf("%s{\"l2\": %s, \"iterations\": %llu, \"seconds\": %.6f, \"validation_accuracy\": %.6f"
		       ", \"validation_loss\": %.6f, \"objective\": %.10g, \"grad_norm\": %.6g, \"start\": \"%s\"}",
		       i ? ", " : "", fmt_exact(f->l2, buf, sizeof(buf)), (unsigned long long)f->iterations, f->seconds,
		       f->val_acc, f->val_loss, f->objective, f->grad_norm, start_names[f->start]);
	}
	const struct fit *b = &s->path[s->best];
	printf("], \"chosen_l2\": %s, \"validation_accuracy\": %.6f, \"validation_loss\": %.6f",
	       fmt_exact(res->chosen, buf, sizeof(buf)), b->val_acc, b->val_loss);
	printf(", \"path_iterations\": %llu, \"path_seconds\": %.6f", (unsigned long long)s->path_iterations,
	       s->path_seconds);
	printf(", \"refit\": {\"n\": %zu, \"iterations\": %llu, \"seconds\": %.6f, \"objective\": %.10g"
	       ", \"grad_norm\": %.6g}", res->refit_rows, (unsigned long long)res->refit_iterations, res->refit_s,
	       res->refit_objective, res->refit_grad_norm);
	if (res->test_acc >= 0)
		printf(", \"test_accuracy\": %.6f, \"test_loss\": %.6f", res->test_acc, res->test_loss);
	else
		printf(", \"test_accuracy\": null, \"test_loss\": null");
	printf(", \"load_seconds\": %.6f, \"total_seconds\": %.6f}\n", res->load_s, res->total_s);
}

/* ---- the command ---- */

/* the model of 'train' (classes, preprocessing from the training rows alone) */
static int make_model(const struct sweep_opts *o, struct softreg_dataset *train, size_t n_fit,
		      struct softreg_model **m_ret)
{
	char err[SOFTREG_ERRLEN];
	static char buf[4096]; /* static: off a small stack */
	const char *what = data_labels_name(&o->data, 0, buf, sizeof(buf));
	int64_t *classes;
	size_t k;
	if (softreg_dataset_classes(train, what, &classes, &k, err))
		return runtime_error("%s", err);
	int rc = data_map(train, classes, k, what);
	struct softreg_model *m = rc ? NULL : softreg_model_alloc(k, train->rows, train->cols);
	if (m)
		memcpy(m->classes, classes, k * sizeof(int64_t));
	free(classes);
	*m_ret = m;
	if (rc)
		return rc;
	if (!m)
		return runtime_error("out of memory for a model of %zu classes x %zu features (%zu bytes)", k, train->d,
				     softreg_model_bytes(k, train->d));
	softreg_model_init_prep(m, &train->x);
	if (o->standardize) {
		struct softreg_dataset fit = softreg_dataset_rows(train, 0, n_fit);
		if (softreg_model_standardize(m, &fit, err))
			return runtime_error("%s", err);
	}
	return 0;
}

/* an interrupted sweep: the metrics of the fits that finished; 128 + the signal */
static int interrupted(const struct sweep *s)
{
	int status = 128 + (stop_signal ? (int)stop_signal : SIGINT);
	if (cli_rank0() && s->o->metrics && s->npath && write_metrics(s, s->o->metrics))
		return EXIT_RUNTIME;
	fprintf(stderr, "softreg: interrupted during %s (%zu of %zu fits done)%s; no model written\n",
		s->interrupted_in ? s->interrupted_in : "the sweep", s->npath, s->ngrid,
		s->o->metrics && s->npath ? ", their metrics written" : "");
	return status;
}

/* the search, the refit, the test, the outputs */
static int run(struct sweep *s, struct softreg_dataset *train, struct softreg_dataset *all,
	       struct softreg_dataset *test, struct result *res, double t_start)
{
	const struct sweep_opts *o = s->o;
	char err[SOFTREG_ERRLEN];
	if (!o->quiet) {
		fprintf(stderr, "sweep: %zu value%s of l2 from %g to %g (%s search%s%s), %zu training rows, %zu validation "
			"rows (%s)\n", s->ngrid, s->ngrid == 1 ? "" : "s", s->grid[0], s->grid[s->ngrid - 1],
			searches[o->search], o->warm == WARM_NONE ? ", no warm starts" : ", warm starts: ",
			o->warm == WARM_NONE ? "" : warm_modes[o->warm], s->fit->n, s->val_count,
			o->val ? o->val : "the last training rows");
		fprintf(stderr, "%12s %11s %8s %10s %10s %12s  %s\n", "l2", "iterations", "seconds", "val acc %", "val loss",
			"|grad F|", "start");
	}
	int rc = search(s);
	if (rc == EXIT_INTERRUPTED)
		return interrupted(s);
	if (rc)
		return rc;
	const struct fit *b = &s->path[s->best];
	res->chosen = b->l2;
	if (!o->quiet && s->path_iterations)
		for (size_t i = 0; i < s->npath; i++)
			if (s->path[i].iterations >= o->max_iter) {
				fprintf(stderr, "* stopped at --max-iter %u before |grad F| <= %g\n", o->max_iter, o->tol);
				break;
			}
	if (!o->quiet)
		fprintf(stderr, "chosen: l2 %g (validation accuracy %.2f%%); %zu fits, %llu iterations, %.3f s\n", b->l2,
			100 * b->val_acc, s->npath, (unsigned long long)s->path_iterations, s->path_seconds);

	/* the refit on train + validation, from the chosen solution */
	set_start(s, o->warm == WARM_NONE ? START_ZERO : START_BEST);
	s->p.l2 = b->l2;
	double t0 = cli_now();
	struct softreg_report rep;
	enum softreg_result r = softreg_train_dist(s->m, all, NULL, &s->p, cli_dist, 0, NULL, &rep, err);
	if (r == SOFTREG_ERR_INTERRUPTED) {
		s->interrupted_in = "the refit";
		return interrupted(s);
	}
	if (r)
		return runtime_error("refit at l2 %g: %s", b->l2, err);
	res->refit_s = cli_now() - t0;
	res->refit_iterations = rep.iterations;
	res->refit_objective = rep.objective;
	res->refit_grad_norm = rep.grad_norm;
	res->refit_rows = all->n;
	res->test_acc = res->test_loss = -1;
	if (test && softreg_evaluate_dist(s->m, test, 0, test->n, s->p.kernel, cli_dist, NULL, &res->test_acc,
					  &res->test_loss, err))
		return runtime_error("%s", err);
	s->m->test_accuracy = res->test_acc;
	if (!o->quiet)
		fprintf(stderr, "refit on %zu rows (training + validation): %llu iterations, %.3f s\n", all->n,
			(unsigned long long)rep.iterations, res->refit_s);
	if (cli_rank0() && o->out && save_model(s->m, NULL, o->out, err))
		return runtime_error("%s", err);
	if (cli_rank0() && o->metrics && (rc = write_metrics(s, o->metrics)))
		return rc;
	res->total_s = cli_now() - t_start;
	if (o->json)
		print_json(s, train, test, res);
	else if (test)
		printf("chosen l2 %g (validation accuracy %.2f%%), test accuracy %.2f%%  (%zu fits, %llu iterations, "
		       "%.3f s; refit %.3f s; total %.3f s, %d threads)\n", b->l2, 100 * b->val_acc, 100 * res->test_acc,
		       s->npath, (unsigned long long)s->path_iterations, s->path_seconds, res->refit_s, res->total_s,
		       res->threads);
	else
		printf("chosen l2 %g (validation accuracy %.2f%%; no test set)  (%zu fits, %llu iterations, %.3f s; "
		       "refit %.3f s; total %.3f s, %d threads)\n", b->l2, 100 * b->val_acc, s->npath,
		       (unsigned long long)s->path_iterations, s->path_seconds, res->refit_s, res->total_s, res->threads);
	return EXIT_OK;
}

/* the options after parsing; 0 or EXIT_USAGE */
static int check_opts(const struct sweep_opts *o)
{
	if (!o->validation && !o->val)
		return usage_error("sweep", "a validation split is needed: --validation N or --val FILE");
	if (o->validation && o->val)
		return usage_error("sweep", "--validation N and --val FILE exclude each other");
	if (o->val_labels && !o->val)
		return usage_error("sweep", "--val-labels needs --val FILE");
	return 0;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_opts o = {.max_iter = 1000, .tol = 1e-5, .history = 10};
	struct opt_seen seen = {0};
	int rc = opts_parse("sweep", usage, table, &o, argc, argv, &seen);
	if (rc)
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	data_defaults(&o.data);
	if ((rc = cli_env_check("sweep")) || (rc = check_opts(&o)))
		return rc;
	struct sweep s = {.o = &o};
	double *grid = NULL;
	if ((rc = parse_grid(o.l2 ? o.l2 : DEFAULT_GRID, &grid, &s.ngrid)))
		return rc;
	s.grid = grid;
	softreg_params_default(&s.p);
	s.p.solver = SOFTREG_SOLVER_LBFGS;
	s.p.epochs = o.max_iter;
	s.p.tol = o.tol;
	s.p.history = o.history;
	s.p.eval_every = 0;
	s.p.kernel = kernel_of_choice(o.kernel);
	s.p.stop = &stop_signal;
	const char *why = softreg_check_params(&s.p);
	if (why) {
		free(grid);
		return usage_error("sweep", "%s", why);
	}
	const char *outs[] = {o.out, o.metrics};
	const char *flags[] = {"--out", "--metrics"};
	if ((rc = check_outputs("sweep", outs, flags, 2))) {
		free(grid);
		return rc;
	}
	catch_stop_signals(true);
	struct result res = {.threads = softreg_set_threads(o.threads)};

	double t_start = cli_now();
	struct softreg_dataset train = {0}, test = {0}, val = {0}, *all = &train;
	struct joined joined = {0};
	bool have_test;
	char err[SOFTREG_ERRLEN];
	static char buf[4096]; /* static: off a small stack */
	struct softreg_dataset fit;
	struct capture cap; /* under mpirun: a failure on one process is every process's */
	capture_begin(&cap);
	do {
		if ((rc = data_load_train_test("sweep", &o.data, &train, &test, &have_test)))
			break;
		if (o.val && (rc = data_read(&o.data, o.val, o.val_labels, train.d, &val)) == 0 && !val.labels)
			rc = usage_error("sweep", "%s: validation needs labels (--val-labels FILE)", o.val);
		if (rc)
			break;
		if (o.validation >= train.n) {
			rc = usage_error("sweep", "--validation %zu must be below the %zu training rows", o.validation, train.n);
			break;
		}
		size_t n_fit = train.n - o.validation;
		if ((rc = make_model(&o, &train, n_fit, &s.m)))
			break;
		if (softreg_model_check_data(s.m, &train, data_name(&o.data), err) ||
		    (o.val && softreg_model_check_data(s.m, &val, o.val, err)) ||
		    (have_test && softreg_model_check_data(s.m, &test, "test data", err))) {
			rc = runtime_error("%s", err);
			break;
		}
		if (o.val && (rc = data_map(&val, s.m->classes, s.m->k, o.val_labels ? o.val_labels : o.val)))
			break;
		if (have_test &&
		    (rc = data_map(&test, s.m->classes, s.m->k, data_labels_name(&o.data, 1, buf, sizeof(buf)))))
			break;
		/* the sparse kernel on dense data, where it is the faster (softreg_kernel_choose(), as train) */
		if ((rc = data_sparsify("sweep", NULL, s.p.kernel, s.m, 0, &train, have_test ? &test : NULL)))
			break;
		if (o.val && train.x.kind == SOFTREG_SOURCE_CSR && softreg_dataset_sparsify(&val, err)) {
			rc = runtime_error("%s", err);
			break;
		}
		res.load_s = cli_now() - t_start;
		fit = softreg_dataset_rows(&train, 0, n_fit);
		s.fit = &fit;
		if (o.val) {
			s.val = &val, s.val_first = 0, s.val_count = val.n;
			if ((rc = join(&train, &val, o.val, &joined)))
				break;
			all = &joined.ds;
		} else {
			s.val = &train, s.val_first = n_fit, s.val_count = o.validation;
		}
		size_t kd1 = s.m->k * s.m->d + s.m->k;
		s.best_wb = malloc(kd1 * sizeof(float));
		bool predicting = o.warm <= WARM_PREDICT;
		for (int i = 0; i < 3 && predicting; i++)
			s.hist[i] = malloc(kd1 * sizeof(float));
		s.done = calloc(s.ngrid, sizeof(bool));
		s.path = calloc(s.ngrid, sizeof(struct fit));
		if (o.warm == WARM_MEMORY)
			s.p.lbfgs_memory = softreg_lbfgs_memory_alloc();
		if (!s.best_wb || !s.done || !s.path || (o.warm == WARM_MEMORY && !s.p.lbfgs_memory) ||
		    (predicting && (!s.hist[0] || !s.hist[1] || !s.hist[2]))) {
			rc = runtime_error("out of memory for the sweep's state (%zu bytes)", (predicting ? 4 : 1) * kd1 * sizeof(float));
			break;
		}
		if ((rc = check_blas_headroom(res.threads)))
			break;
	} while (0);
	if ((rc = capture_agree(&cap, rc)))
		goto out;
	rc = run(&s, &train, all, have_test ? &test : NULL, &res, t_start);
out:
	catch_stop_signals(false);
	free(grid);
	free(s.best_wb);
	for (int i = 0; i < 3; i++)
		free(s.hist[i]);
	free(s.done);
	free(s.path);
	softreg_lbfgs_memory_free(s.p.lbfgs_memory);
	softreg_model_free(s.m);
	joined_free(&joined);
	softreg_dataset_free(&val);
	softreg_dataset_free(&train);
	softreg_dataset_free(&test);
	return rc;
}
