/* SPDX-License-Identifier: MIT
 * bench.c: softreg-bench, naive against blas for correctness and speed.
 *
 * The flow, as in libdeflate's programs/benchmark.c and llm.c's dev/ kernels:
 * parse the flags, load the data, measure the machine's bounds, run the
 * correctness gate (exit 1 if the blas kernel disagrees with the oracle),
 * then time each selected case and print a table; --json saves it all. */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
	"usage: softreg-bench [OPTIONS]\n"
	"\n"
	"Check the blas kernel against the naive one (the oracle), then time both on\n"
	"MNIST rows: cases op/kernel/bBATCH/tTHREADS for the ops gather (uint8 rows to\n"
	"floats; the library's, kernel 'lib'), logits (forward), softmax (rows, with\n"
	"loss), loss_grad (forward and backward) and epoch (one shuffled pass of\n"
	"softreg_train over the training set). Each case: warm-up, then repetitions\n"
	"until both --reps and --min-seconds are reached; minimum and median per call,\n"
	"GFLOP/s, GB/s and the percent of the machine's bound (roofline: measured read\n"
	"bandwidth and large-sgemm peak).\n"
	"\n"
	"  --batch LIST        batch sizes (default 1,16,64,256,1024,4096,60000)\n"
	"  --threads LIST      thread counts (default 1 and all cores)\n"
	"  --kernel LIST       naive,blas (default both)\n"
	"  --filter PATTERNS   only the cases whose name matches one of the comma-separated\n"
	"                      patterns: a glob when it has * ? or [, else a substring\n"
	"                      (e.g. 'loss_grad/*/b256/*', 'epoch')\n"
	"  --reps N            at least N timed repetitions per case (default 5)\n"
	"  --min-seconds S     and at least S seconds per case (default 0.2)\n"
	"  --naive-max B       the naive kernel's largest batch for logits, loss_grad and epoch\n"
	"                      (default 4096: it is slow on purpose)\n"
	"  --data DIR          MNIST folder (default $SOFTREG_DATA or data/mnist); when the default\n"
	"                      folder has no MNIST, synthetic data of the same shape is used\n"
	"  --synthetic         synthetic data even when MNIST is present\n"
	"  --json FILE         also write the results as JSON (for scripts/bench-compare)\n"
	"  --gate-only         run the correctness gate and stop\n"
	"  --list              print the names of the selected cases and stop\n"
	"  --plant-error       test hook: perturb the blas kernel's dW before the gate compares it,\n"
	"                      so that the gate must fail\n"
	"  -h, --help          this help\n"
	"\n"
	"The naive kernel and the gather are single-threaded: they are timed at the smallest\n"
	"thread count only. Exit status: 0 ok, 1 the gate failed or a runtime error, 2 usage error.\n";

static const size_t default_batches[] = {1, 16, 64, 256, 1024, 4096, 60000};

/* The largest batch the library accepts (softreg_check_params), and thread
 * counts beyond any machine we expect. */
#define MAX_BATCH ((size_t)1 << 24)
#define MAX_THREADS 1024

/* Synthetic data has MNIST's shape: 60000 images of 28x28, 10 classes. */
#define SYNTH_N 60000
#define SYNTH_SIDE 28
#define SYNTH_CLASSES 10
#define BENCH_SEED 20240601u
/* The gate's and the cases' model: small random weights, so that logits
 * are spread (|z| ~ 1) and every gradient entry is non-trivial. */
#define INIT_W 0.05f
#define INIT_B 0.1f

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const struct bound *bound_for(const struct bound *bounds, int nbounds, int threads)
{
	for (int i = 0; i < nbounds; i++)
		if (bounds[i].threads == threads)
			return &bounds[i];
	return NULL;
}

/* ---- flags ---- */

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("softreg-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see softreg-bench --help)\n", stderr);
	va_end(ap);
	return BENCH_USAGE;
}

static bool parse_size(const char *s, size_t min, size_t max, size_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return false;
	*out = (size_t)x;
	return true;
}

/* "a,b,c" into 'out' (at most BENCH_MAX_LIST entries, each in [min, max]) */
static bool parse_list(const char *s, size_t min, size_t max, size_t *out, size_t *n)
{
	char buf[512];
	if (!*s || strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == BENCH_MAX_LIST || !parse_size(tok, min, max, &out[*n]))
			return false;
		(*n)++;
	}
	return *n > 0 && s[strlen(s) - 1] != ',' && s[0] != ',' && !strstr(s, ",,");
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(x) || x < 0 || x > 3600)
		return false;
	*out = x;
	return true;
}

static bool parse_kernels(const char *s, bool on[2])
{
	on[0] = on[1] = false;
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, ",");
		if (len == 5 && strncmp(p, "naive", len) == 0)
			on[0] = true;
		else if (len == 4 && strncmp(p, "blas", len) == 0)
			on[1] = true;
		else
			return false;
		p += len + (p[len] == ',');
	}
	return on[0] || on[1];
}

static void default_opts(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nbatches = sizeof(default_batches) / sizeof(default_batches[0]);
	memcpy(o->batches, default_batches, sizeof(default_batches));
	int cores = omp_get_num_procs();
	o->threads[o->nthreads++] = 1;
	if (cores > 1)
		o->threads[o->nthreads++] = cores;
	o->kernel_on[0] = o->kernel_on[1] = true;
	o->reps = 5;
	o->min_seconds = 0.2;
	o->naive_max = 4096;
	const char *env = getenv("SOFTREG_DATA");
	o->data_dir = env && *env ? env : "data/mnist";
}

/* Returns -1 to go on, else the exit status (0 after --help). */
static int parse_args(struct bench_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		char flag[64];
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		if (eq && (size_t)(eq - a) < sizeof(flag)) { /* --flag=value */
			memcpy(flag, a, (size_t)(eq - a));
			flag[eq - a] = '\0';
			a = flag;
			v = eq + 1;
		}
		static const char *const valued[] = {"--batch", "--threads", "--kernel", "--filter", "--reps",
						     "--min-seconds", "--naive-max", "--data", "--json", NULL};
		bool needs = false;
		for (int j = 0; valued[j]; j++)
			needs |= strcmp(a, valued[j]) == 0;
		if (needs && !v) {
			if (i + 1 >= argc)
				return usage("%s needs a value", a);
			v = argv[++i];
		} else if (!needs && v) {
			return usage("%s takes no value", a);
		}
		size_t list[BENCH_MAX_LIST], n;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(help, stdout);
			return BENCH_OK;
		} else if (!strcmp(a, "--batch")) {
			if (!parse_list(v, 1, MAX_BATCH, o->batches, &o->nbatches))
				return usage("--batch must be a comma-separated list of integers in [1, %zu], got '%s'",
					     MAX_BATCH, v);
		} else if (!strcmp(a, "--threads")) {
			if (!parse_list(v, 1, MAX_THREADS, list, &n))
				return usage("--threads must be a comma-separated list of integers in [1, %d], got '%s'",
					     MAX_THREADS, v);
			o->nthreads = (int)n;
			for (size_t j = 0; j < n; j++)
				o->threads[j] = (int)list[j];
		} else if (!strcmp(a, "--kernel")) {
			if (!parse_kernels(v, o->kernel_on))
				return usage("--kernel must be naive, blas or naive,blas, got '%s'", v);
		} else if (!strcmp(a, "--filter")) {
			o->filter = v;
		} else if (!strcmp(a, "--reps")) {
			if (!parse_size(v, 1, 1000000, &o->reps))
				return usage("--reps must be an integer in [1, 1000000], got '%s'", v);
		} else if (!strcmp(a, "--min-seconds")) {
			if (!parse_seconds(v, &o->min_seconds))
				return usage("--min-seconds must be a number of seconds in [0, 3600], got '%s'", v);
		} else if (!strcmp(a, "--naive-max")) {
			if (!parse_size(v, 1, MAX_BATCH, &o->naive_max))
				return usage("--naive-max must be an integer in [1, %zu], got '%s'", MAX_BATCH, v);
		} else if (!strcmp(a, "--data")) {
			o->data_dir = v;
			o->data_dir_given = true;
		} else if (!strcmp(a, "--json")) {
			o->json_path = v;
		} else if (!strcmp(a, "--synthetic")) {
			o->synthetic = true;
		} else if (!strcmp(a, "--gate-only")) {
			o->gate_only = true;
		} else if (!strcmp(a, "--list")) {
			o->list_only = true;
		} else if (!strcmp(a, "--plant-error")) {
			o->plant_error = true;
		} else {
			return usage("%s '%s'", a[0] == '-' ? "unknown option" : "unexpected argument", a);
		}
	}
	return -1;
}

/* ---- data ---- */

static int load_mnist(const struct bench_opts *o, struct bench_data *d, char *err)
{
	char images[4096], labels[4096];
	if (softreg_dataset_find(o->data_dir, "train-images-idx3-ubyte", images, sizeof(images), err) ||
	    softreg_dataset_find(o->data_dir, "train-labels-idx1-ubyte", labels, sizeof(labels), err))
		return BENCH_FAIL;
	if (softreg_dataset_load(images, labels, 0, &d->train, err))
		return BENCH_FAIL;
	if (d->train.max_label < 1) {
		snprintf(err, SOFTREG_ERRLEN, "%.400s: all labels are 0: at least 2 classes are needed", labels);
		return BENCH_FAIL;
	}
	snprintf(d->source, sizeof(d->source), "%s", o->data_dir);
	return BENCH_OK;
}

/* Random pixels and labels: the speed of every case depends on the shape
 * alone, not on the values. */
static int make_synthetic(struct bench_data *d, struct softreg_rng *rng, char *err)
{
	struct softreg_dataset *ds = &d->train;
	ds->n = SYNTH_N;
	ds->rows = ds->cols = SYNTH_SIDE;
	ds->d = ds->rows * ds->cols;
	ds->pixels = malloc(ds->n * ds->d);
	ds->labels = malloc(ds->n);
	if (!ds->pixels || !ds->labels) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory for the synthetic data");
		return BENCH_FAIL;
	}
	for (size_t i = 0; i < ds->n * ds->d; i++)
		ds->pixels[i] = (uint8_t)softreg_rng_next(rng);
	for (size_t i = 0; i < ds->n; i++)
		ds->labels[i] = (uint8_t)softreg_rng_below(rng, SYNTH_CLASSES);
	ds->max_label = SYNTH_CLASSES - 1;
	d->synthetic = true;
	return BENCH_OK;
}

static float uniform(struct softreg_rng *rng, float half)
{
	return (2 * softreg_rng_uniform(rng) - 1) * half;
}

static int load_data(const struct bench_opts *o, struct bench_data *d, char *err)
{
	struct softreg_rng rng;
	softreg_rng_seed(&rng, BENCH_SEED);
	memset(d, 0, sizeof(*d));
	char why[SOFTREG_ERRLEN] = "";
	if (o->synthetic || load_mnist(o, d, why) != BENCH_OK) {
		if (!o->synthetic && o->data_dir_given) {
			snprintf(err, SOFTREG_ERRLEN, "%s", why);
			return BENCH_FAIL;
		}
		softreg_dataset_free(&d->train);
		if (make_synthetic(d, &rng, err))
			return BENCH_FAIL;
		if (o->synthetic)
			snprintf(d->source, sizeof(d->source), "synthetic (--synthetic)");
		else
			snprintf(d->source, sizeof(d->source), "synthetic (no MNIST in %.3900s)", o->data_dir);
	}
	struct softreg_dataset *ds = &d->train;
	d->model = softreg_model_alloc((size_t)ds->max_label + 1, ds->rows, ds->cols);
	d->perm = malloc(ds->n * sizeof(uint32_t));
	if (!d->model || !d->perm) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory for the model");
		return BENCH_FAIL;
	}
	for (size_t i = 0; i < d->model->k * d->model->d; i++)
		d->model->W[i] = uniform(&rng, INIT_W);
	for (size_t j = 0; j < d->model->k; j++)
		d->model->b[j] = uniform(&rng, INIT_B);
	for (size_t i = 0; i < ds->n; i++)
		d->perm[i] = (uint32_t)i;
	softreg_shuffle(&rng, d->perm, ds->n);
	return BENCH_OK;
}

static void free_data(struct bench_data *d)
{
	softreg_dataset_free(&d->train);
	softreg_model_free(d->model);
	free(d->perm);
}

/* ---- the plan ---- */

static void add_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(struct run *r, const char *fmt, ...)
{
	if (r->nnotes == BENCH_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

static int min_threads(const struct bench_opts *o)
{
	int t = o->threads[0];
	for (int i = 1; i < o->nthreads; i++)
		t = o->threads[i] < t ? o->threads[i] : t;
	return t;
}

/* Whether the case op/kernel/batch/threads is part of the plan. */
static bool case_planned(const struct bench_opts *o, enum op op, int ki, size_t batch, int threads)
{
	bool lib = op == OP_GATHER, naive = !lib && ki == 0;
	if (lib ? ki != 0 : !o->kernel_on[ki])
		return false;
	if (naive && batch > o->naive_max && op != OP_SOFTMAX)
		return false;
	/* no OpenMP inside: one thread count says it all */
	return !(naive || lib) || threads == min_threads(o);
}

static void fill_case(struct case_result *c, const char *name, enum op op, const char *kernel, size_t batch,
		      int threads)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->op = op;
	c->op_name = op_names[op];
	c->kernel = kernel;
	c->batch = batch;
	c->threads = threads;
}

/* The selected cases, in table order (op, batch, kernel, threads: the naive
 * row comes just before the blas rows it is compared with), into 'out'
 * (NULL to count them). */
static size_t plan_cases(const struct bench_opts *o, struct case_result *out)
{
	static const char *const kernels[] = {"naive", "blas"};
	size_t n = 0;
	for (int op = 0; op < OP_COUNT; op++)
		for (size_t bi = 0; bi < o->nbatches; bi++)
			for (int ki = 0; ki < 2; ki++)
				for (int ti = 0; ti < o->nthreads; ti++) {
					size_t batch = o->batches[bi];
					int t = o->threads[ti];
					const char *kernel = op == OP_GATHER ? "lib" : kernels[ki];
					char name[96];
					if (!case_planned(o, (enum op)op, ki, batch, t))
						continue;
					case_name(name, sizeof(name), (enum op)op, kernel, batch, t);
					if (!case_selected(o->filter, name))
						continue;
					if (out)
						fill_case(&out[n], name, (enum op)op, kernel, batch, t);
					n++;
				}
	return n;
}

/* Above this 1-minute load average other processes hold a core: with more
 * runnable threads than cores, OpenMP's spinning threads wait for the
 * scheduler's tick (ms) at every barrier. */
#define BUSY_LOAD 0.5

static void plan_notes(struct run *r)
{
	const struct bench_opts *o = r->o;
	if (r->machine.loadavg > BUSY_LOAD)
		add_note(r, "load average %.1f on %d cores before the run: other processes compete; times at more "
			    "than one thread and the bounds are unreliable (OMP_WAIT_POLICY=passive helps)",
			 r->machine.loadavg, r->machine.cores);
	add_note(r, "naive kernel and gather are single-threaded: timed at %d thread%s only", min_threads(o),
		 min_threads(o) == 1 ? "" : "s");
	for (size_t i = 0; i < o->nbatches; i++)
		if (o->kernel_on[0] && o->batches[i] > o->naive_max) {
			add_note(r, "naive kernel skips logits, loss_grad and epoch above batch %zu (--naive-max): "
				    "one naive epoch takes seconds",
				 o->naive_max);
			break;
		}
}

/* ---- timing ---- */

static void derive(struct case_result *c, const struct run *r)
{
	const struct bound *b = bound_for(r->bounds, r->nbounds, c->threads);
	c->gflops = c->flops / c->ns_min;
	c->gbps = c->bytes / c->ns_min;
	if (b) {
		double compute = c->flops / b->sgemm_gflops, memory = c->bytes / b->read_gbps;
		c->compute_bound = compute >= memory;
		c->bound_ns = c->compute_bound ? compute : memory;
		c->pct_of_bound = 100 * c->bound_ns / c->ns_min;
	}
	for (size_t i = 0; i < r->ncases; i++) {
		const struct case_result *n = &r->cases[i];
		if (n->reps && n->op == c->op && n->batch == c->batch && !strcmp(n->kernel, "naive") &&
		    !strcmp(c->kernel, "blas"))
			c->speedup = n->ns_min / c->ns_min;
	}
	for (size_t i = 0; i < r->ngates; i++)
		if (r->gates[i].batch == c->batch)
			c->gate = &r->gates[i];
}

/* The gate's batches: those of the selected cases (every batch with --gate-only). */
static int run_gates(struct run *r, char *err)
{
	const struct bench_opts *o = r->o;
	r->gates = calloc(o->nbatches, sizeof(*r->gates));
	if (!r->gates) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory");
		return BENCH_FAIL;
	}
	for (size_t i = 0; i < o->nbatches; i++) {
		bool used = o->gate_only;
		for (size_t c = 0; c < r->ncases; c++)
			used |= r->cases[c].batch == o->batches[i];
		if (used && run_gate(o, &r->data, o->batches[i], &r->gates[r->ngates++], err))
			return BENCH_FAIL;
	}
	return BENCH_OK;
}

static bool gates_passed(const struct run *r)
{
	for (size_t i = 0; i < r->ngates; i++)
		if (!r->gates[i].passed)
			return false;
	return true;
}

/* Batches above the data's row count become the row count (the whole set). */
static void clamp_batches(struct bench_opts *o, struct run *r)
{
	size_t n = r->data.train.n, kept = 0;
	for (size_t i = 0; i < o->nbatches; i++) {
		size_t b = o->batches[i] < n ? o->batches[i] : n;
		if (b != o->batches[i])
			add_note(r, "batch %zu is larger than the %zu rows of the data: batch %zu instead", o->batches[i], n,
				 n);
		bool seen = false;
		for (size_t j = 0; j < kept; j++)
			seen |= o->batches[j] == b;
		if (!seen)
			o->batches[kept++] = b;
	}
	o->nbatches = kept;
}

/* A bound that moved this much between the start and the end of the run
 * says the machine changed under the cases: other work, or a virtual CPU
 * moved onto a busier core. */
#define DRIFT 0.15

static void warn_drift(struct run *r)
{
	for (int i = 0; i < r->nbounds; i++) {
		const struct bound *a = &r->bounds[i], *b = &r->bounds_end[i];
		double peak = b->sgemm_gflops / a->sgemm_gflops, bw = b->read_gbps / a->read_gbps;
		if (fabs(peak - 1) > DRIFT || fabs(bw - 1) > DRIFT) {
			add_note(r, "the machine drifted during the run: at %d threads the sgemm peak went %.0f -> %.0f "
				    "GFLOP/s, the bandwidth %.1f -> %.1f GB/s; rerun and compare",
				 a->threads, a->sgemm_gflops, b->sgemm_gflops, a->read_gbps, b->read_gbps);
			printf("note     %s\n", r->notes[r->nnotes - 1]);
		}
	}
}

/* Load the data and plan the cases; BENCH_USAGE when --filter selects none. */
static int prepare(struct bench_opts *o, struct run *r, char *err)
{
	if (load_data(o, &r->data, err))
		return BENCH_FAIL;
	clamp_batches(o, r);
	r->ncases = plan_cases(o, NULL);
	if (r->ncases == 0 && !o->gate_only)
		return usage("no case matches --filter '%s'", o->filter ? o->filter : "");
	r->cases = calloc(r->ncases ? r->ncases : 1, sizeof(*r->cases));
	if (!r->cases) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory");
		return BENCH_FAIL;
	}
	plan_cases(o, r->cases);
	return BENCH_OK;
}

/* The header, the bounds, the gate, then every case: the table on stdout. */
static int measure(struct run *r, char *err)
{
	const struct bench_opts *o = r->o;
	machine_describe(&r->machine);
	plan_notes(r);
	time_t now = time(NULL);
	strftime(r->date, sizeof(r->date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	print_header(stdout, r);
	if (!o->gate_only) {
		r->nbounds = o->nthreads;
		if (measure_bounds(o->threads, o->nthreads, r->bounds, err))
			return BENCH_FAIL;
		print_bounds(stdout, r->bounds, r->nbounds, "before");
	}
	if (run_gates(r, err))
		return BENCH_FAIL;
	print_gate(stdout, r);
	if (!gates_passed(r)) {
		snprintf(err, SOFTREG_ERRLEN, "correctness gate failed: the blas kernel disagrees with the naive one%s",
			 o->plant_error ? " (an error was planted with --plant-error)" : "");
		return BENCH_FAIL;
	}
	printf("gate: passed\n");
	if (o->gate_only)
		return BENCH_OK;
	print_case_header(stdout);
	for (size_t i = 0; i < r->ncases; i++) {
		if (time_case(o, &r->data, &r->cases[i], err))
			return BENCH_FAIL;
		derive(&r->cases[i], r);
		print_case(stdout, &r->cases[i]);
	}
	print_epoch_summary(stdout, r);
	if (measure_bounds(o->threads, o->nthreads, r->bounds_end, err))
		return BENCH_FAIL;
	print_bounds(stdout, r->bounds_end, r->nbounds, "after ");
	warn_drift(r);
	return BENCH_OK;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct run r;
	FILE *json = NULL;
	/* the JSON goes to PATH.tmp, renamed over PATH at the end: a failed run
	 * leaves a previous baseline intact, and a bad path fails at once */
	char err[SOFTREG_ERRLEN] = "", json_tmp[4096] = "";
	int rc;

	default_opts(&o);
	memset(&r, 0, sizeof(r));
	r.o = &o;
	if ((rc = parse_args(&o, argc, argv)) >= 0)
		return rc;
	if ((rc = prepare(&o, &r, err)) != BENCH_OK)
		goto out;
	rc = BENCH_FAIL;
	if (o.list_only) {
		for (size_t i = 0; i < r.ncases; i++)
			printf("%s\n", r.cases[i].name);
		rc = BENCH_OK;
		goto out;
	}
	if (o.json_path && !o.gate_only) {
		int n = snprintf(json_tmp, sizeof(json_tmp), "%s.tmp", o.json_path);
		if (n < 0 || (size_t)n >= sizeof(json_tmp) || !(json = fopen(json_tmp, "w"))) {
			snprintf(err, SOFTREG_ERRLEN, "%.400s: cannot create the file", json_tmp);
			goto out;
		}
	}
	if (measure(&r, err))
		goto out;
	if (json) {
		FILE *f = json;
		json = NULL; /* write_json closes it, whatever happens */
		if (write_json(f, json_tmp, &r, err))
			goto out;
		if (rename(json_tmp, o.json_path) != 0) {
			snprintf(err, SOFTREG_ERRLEN, "%.200s: cannot rename to %.200s", json_tmp, o.json_path);
			goto out;
		}
	}
	rc = BENCH_OK;
out:
	if (json)
		fclose(json);
	if (rc != BENCH_OK && json_tmp[0])
		remove(json_tmp);
	if (rc == BENCH_FAIL)
		fprintf(stderr, "softreg-bench: %s\n", err);
	free(r.cases);
	free(r.gates);
	free_data(&r.data);
	return rc;
}
