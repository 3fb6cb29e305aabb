/* SPDX-License-Identifier: MIT
 * bench.c: softreg-bench, every kernel of the library's table against the
 * naive one, on every source it takes, for correctness and speed.
 *
 * The flow, as in libdeflate's programs/benchmark.c and llm.c's dev/ kernels:
 * parse the flags (the option table shared with softreg), load the data and
 * make its sources, measure the machine's bounds, run the correctness gate
 * (exit 1 if a kernel disagrees with the oracle), then time each selected
 * case and print a table; --json saves it all. */
#include "bench.h"
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
	"usage: softreg-bench [OPTIONS]\n"
	"\n"
	"Check every fast kernel against the naive one (the oracle) on every source it\n"
	"takes, then time them on the same rows: MNIST's training set as uint8 (u8), as\n"
	"the preprocessed float32 rows (f32), as float16 (f16) and as the CSR of their\n"
	"nonzeros (csr); or, with --shape, Gaussian float32 features of that shape (f32,\n"
	"f16). Cases are op/kernel/bBATCH/tTHREADS for u8 rows and\n"
	"op/kernel/SOURCE/bBATCH/tTHREADS for the others, for the ops gather (rows to\n"
	"floats; the library's, kernel 'lib'), logits (forward), softmax (rows, with loss;\n"
	"once per kernel, on its first source), loss_grad (forward and backward) and epoch\n"
	"(one shuffled pass of softreg_train). Each case: warm-up, then repetitions until\n"
	"both --reps and --min-seconds are reached; minimum and median per call, GFLOP/s,\n"
	"GB/s and the percent of the machine's bound (roofline: measured read bandwidth\n"
	"and large-sgemm peak).\n"
	"\n";

static const char usage_tail[] =
	"\n"
	"The naive kernel and the gather are single-threaded: they are timed at the smallest\n"
	"thread count only. Exit status: 0 ok, 1 the gate failed or a runtime error, 2 usage error.\n";

static const size_t default_batches[] = {1, 16, 64, 256, 1024, 4096, 60000};

/* The largest batch the library accepts (softreg_check_params), and thread
 * counts beyond any machine we expect. */
#define MAX_BATCH ((size_t)1 << 24)
#define MAX_THREADS 1024
/* --naive-max by default: the batch whose naive loss_grad does the work of
 * 4096 MNIST rows (4096 x 784 x 10 multiply-adds, ~30 ms), at most 4096. */
#define NAIVE_MAX 4096
#define NAIVE_WORK (4096.0 * 784 * 10)

#define O(field) offsetof(struct bench_opts, field)
static const struct opt table[] = {
	{OPT_SECTION, "cases", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_STRING, "--batch", NULL, "LIST", O(batch_arg), 0, 0, false, NULL,
	 "batch sizes (default 1,16,64,256,1024,4096,60000; above the row count: the row count)"},
	{OPT_STRING, "--threads", NULL, "LIST", O(threads_arg), 0, 0, false, NULL, "thread counts (default 1 and all cores)"},
	{OPT_STRING, "--kernel", NULL, "LIST", O(kernel_arg), 0, 0, false, NULL,
	 "kernels to time: naive, blas, sparse (default all; the gate checks every one)"},
	{OPT_STRING, "--source", NULL, "LIST", O(source_arg), 0, 0, false, NULL,
	 "u8, f32, f16, csr (default: all that apply: every one for MNIST, f32,f16 for --shape)"},
	{OPT_STRING, "--filter", NULL, "PATTERNS", O(filter), 0, 0, false, NULL,
	 "only the cases whose name matches one of the comma-separated patterns:\n"
	 "                         a glob when it has * ? or [, else a substring (e.g.\n"
	 "                         'loss_grad/*/b256/*', 'epoch', '/f16/')"},
	{OPT_SIZE, "--reps", NULL, "N", O(reps), 1, 1000000, false, NULL, "at least N timed repetitions per case (default 5)"},
	{OPT_DOUBLE, "--min-seconds", NULL, "S", O(min_seconds), 0, 3600, false, NULL,
	 "and at least S seconds per case (default 0.2)"},
	{OPT_SIZE, "--naive-max", NULL, "B", O(naive_max), 1, (double)MAX_BATCH, false, NULL,
	 "the naive kernel's largest batch for logits, loss_grad and epoch (default 4096 for\n"
	 "                         MNIST, less for larger models: it is slow on purpose); the gate\n"
	 "                         checks batches up to this or MNIST's work, whichever is larger"},
	{OPT_SECTION, "data", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_STRING, "--data", NULL, "DIR", O(data_dir), 0, 0, false, NULL,
	 "MNIST folder (default $SOFTREG_DATA or data/mnist); when the default folder has\n"
	 "                         no MNIST, synthetic data of the same shape is used"},
	{OPT_FLAG, "--synthetic", NULL, NULL, O(synthetic), 0, 0, false, NULL, "random pixels of MNIST's shape even when MNIST is present"},
	{OPT_DOUBLE, "--fill", NULL, "P", O(fill), 0, 1, false, NULL,
	 "make each zero pixel a random nonzero byte with probability P: a denser\n"
	 "                         MNIST, for the sparse kernel against blas (README: choosing the kernel)"},
	{OPT_STRING, "--shape", NULL, "N,D,K", O(shape_arg), 0, 0, false, NULL,
	 "N rows of D Gaussian float32 features (unit expected norm) and K classes\n"
	 "                         labelled 1000, 1002, ... (a linear probe; e.g. 100000,1024,1000)"},
	{OPT_SECTION, "output", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_STRING, "--json", NULL, "FILE", O(json_path), 0, 0, false, NULL, "also write the results as JSON (for scripts/bench-compare)"},
	{OPT_FLAG, "--gate-only", NULL, NULL, O(gate_only), 0, 0, false, NULL, "run the correctness gate and stop"},
	{OPT_FLAG, "--list", NULL, NULL, O(list_only), 0, 0, false, NULL, "print the names of the selected cases and stop"},
	{OPT_FLAG, "--plant-error", NULL, NULL, O(plant_error), 0, 0, false, NULL,
	 "test hook: perturb each fast kernel's dW before the gate compares it, so\n"
	 "                         that the gate must fail"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

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

/* "a,b,c" into 'out' (at most 'cap' entries, each in [min, max]) */
static bool parse_list(const char *s, size_t min, size_t max, size_t *out, size_t cap, size_t *n)
{
	char buf[512];
	if (!*s || strlen(s) >= sizeof(buf) || s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return false;
	strcpy(buf, s);
	*n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == cap || !parse_size(tok, min, max, &out[*n]))
			return false;
		(*n)++;
	}
	return *n > 0;
}

/* "a,b" of 'names' (NULL-terminated, or 'count' of them) into 'on'; false on
 * an unknown or empty name */
static bool parse_names(const char *s, const char *const *names, size_t count, bool *on)
{
	memset(on, 0, count * sizeof(bool));
	if (!*s)
		return false;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ","), i = 0;
		while (i < count && (strlen(names[i]) != len || strncmp(p, names[i], len) != 0))
			i++;
		if (i == count)
			return false;
		on[i] = true;
		p += len;
		if (!*p)
			return true;
	}
}

static size_t kernel_count(void)
{
	size_t n = 0;
	while (softreg_kernels[n] && n < BENCH_MAX_KERNELS)
		n++;
	return n;
}

static int parse_kernels(struct bench_opts *o)
{
	const char *names[BENCH_MAX_KERNELS];
	size_t n = kernel_count();
	char list[128] = "";
	for (size_t i = 0; i < n; i++) {
		names[i] = softreg_kernels[i]->name;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", names[i]);
		o->kernel_on[i] = true;
	}
	if (o->kernel_arg && !parse_names(o->kernel_arg, names, n, o->kernel_on))
		return usage("--kernel must be a comma-separated list of %s, got '%s'", list, o->kernel_arg);
	return -1;
}

static int parse_sources(struct bench_opts *o)
{
	unsigned possible = data_sources_possible(o);
	if (o->source_arg && !parse_names(o->source_arg, source_tags, BENCH_SOURCES, o->source_on))
		return usage("--source must be a comma-separated list of u8, f32, f16, csr, got '%s'", o->source_arg);
	for (int s = 0; s < BENCH_SOURCES; s++) {
		if (!o->source_arg)
			o->source_on[s] = possible >> s & 1u;
		else if (o->source_on[s] && !(possible >> s & 1u))
			return usage("--source %s does not apply to --shape data (dense float32): f32 or f16",
				     source_tags[s]);
	}
	return -1;
}

static int parse_shape(struct bench_opts *o)
{
	size_t v[3], n;
	if (!o->shape_arg)
		return -1;
	if (!parse_list(o->shape_arg, 1, SIZE_MAX, v, 3, &n) || n != 3 || v[0] > UINT32_MAX ||
	    v[1] > SOFTREG_MAX_FEATURES || v[2] < 2 || v[2] > SOFTREG_MAX_CLASSES || v[2] > v[0])
		return usage("--shape must be N,D,K: N rows (< 2^32), D features (>= 1) and K classes (2 to %u, at "
			     "most N), got '%s'",
			     SOFTREG_MAX_CLASSES, o->shape_arg);
	if (o->data_dir_given || o->synthetic || o->fill > 0)
		return usage("--shape makes its own data: it excludes --data, --synthetic and --fill");
	o->shaped = true;
	o->shape_n = v[0];
	o->shape_d = v[1];
	o->shape_k = v[2];
	return -1;
}

/* Returns -1 to go on, else the exit status (0 after --help). */
static int parse_args(struct bench_opts *o, int argc, char **argv)
{
	struct opt_seen seen = {.pos = NULL};
	int rc = opts_parse("softreg-bench", usage_text, table, o, argc, argv, &seen);
	if (rc == OPTS_HELP) {
		fputs(usage_tail, stdout);
		return BENCH_OK;
	}
	if (rc)
		return BENCH_USAGE;
	o->data_dir_given = opts_given(table, &seen, "--data");
	size_t list[BENCH_MAX_LIST], n;
	if (o->batch_arg && !parse_list(o->batch_arg, 1, MAX_BATCH, o->batches, BENCH_MAX_LIST, &o->nbatches))
		return usage("--batch must be a comma-separated list of integers in [1, %zu], got '%s'", MAX_BATCH,
			     o->batch_arg);
	if (o->threads_arg) {
		if (!parse_list(o->threads_arg, 1, MAX_THREADS, list, BENCH_MAX_LIST, &n))
			return usage("--threads must be a comma-separated list of integers in [1, %d], got '%s'",
				     MAX_THREADS, o->threads_arg);
		o->nthreads = (int)n;
		for (size_t j = 0; j < n; j++)
			o->threads[j] = (int)list[j];
	}
	if ((rc = parse_kernels(o)) >= 0 || (rc = parse_shape(o)) >= 0 || (rc = parse_sources(o)) >= 0)
		return rc;
	return -1;
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
	o->reps = 5;
	o->min_seconds = 0.2;
	const char *env = getenv("SOFTREG_DATA");
	o->data_dir = env && *env ? env : "data/mnist";
}

/* --naive-max when not given: from the model's size */
static void default_naive_max(struct bench_opts *o, const struct bench_data *d)
{
	if (o->naive_max)
		return;
	double b = NAIVE_WORK / ((double)d->k * (double)d->base.d);
	o->naive_max = b >= NAIVE_MAX ? NAIVE_MAX : b >= 1 ? (size_t)b : 1;
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

/* The first selected source kernel 'kern' takes: where its softmax is timed
 * (it does not read the source); BENCH_SOURCES when none. */
static int first_source(const struct bench_opts *o, const struct softreg_kernel *kern)
{
	for (int s = 0; s < BENCH_SOURCES; s++)
		if (o->source_on[s] && softreg_kernel_takes(kern, (enum softreg_source_kind)s))
			return s;
	return BENCH_SOURCES;
}

/* Whether the case op/kernel/source/batch/threads is part of the plan;
 * kernel index 'ki' in softreg_kernels[] (the gather is the library's, once). */
static bool case_planned(const struct bench_opts *o, enum op op, size_t ki, int source, size_t batch, int threads)
{
	if (op == OP_GATHER) /* no OpenMP inside: one thread count says it all */
		return ki == 0 && threads == min_threads(o);
	const struct softreg_kernel *kern = softreg_kernels[ki];
	bool naive = kern == &softreg_kernel_naive;
	if (!o->kernel_on[ki] || !softreg_kernel_takes(kern, (enum softreg_source_kind)source))
		return false;
	if (op == OP_SOFTMAX && source != first_source(o, kern))
		return false;
	if (op == OP_PASS) /* every row, whatever the batch: once, and not the naive kernel (seconds a pass) */
		return !naive && batch == o->batches[0];
	if (naive && batch > o->naive_max && op != OP_SOFTMAX)
		return false;
	return !naive || threads == min_threads(o);
}

static void fill_case(struct case_result *c, const char *name, enum op op, size_t ki, int source, size_t batch,
		      int threads)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->op = op;
	c->op_name = op_names[op];
	c->kern = op == OP_GATHER ? NULL : softreg_kernels[ki];
	c->kernel = c->kern ? c->kern->name : "lib";
	c->source = (enum softreg_source_kind)source;
	c->batch = op == OP_PASS ? 0 : batch; /* a pass takes every row */
	c->threads = threads;
}

/* The selected cases, in table order (op, source, batch, kernel, threads:
 * the naive row comes just before the rows it is compared with), into 'out'
 * (NULL to count them). */
static size_t plan_cases(const struct bench_opts *o, struct case_result *out)
{
	size_t n = 0, nk = kernel_count();
	for (int op = 0; op < OP_COUNT; op++)
		for (int s = 0; s < BENCH_SOURCES; s++)
			for (size_t bi = 0; o->source_on[s] && bi < o->nbatches; bi++)
				for (size_t ki = 0; ki < nk; ki++)
					for (int ti = 0; ti < o->nthreads; ti++) {
						size_t batch = o->batches[bi];
						int t = o->threads[ti];
						char name[96];
						if (!case_planned(o, (enum op)op, ki, s, batch, t))
							continue;
						case_name(name, sizeof(name), (enum op)op,
							  op == OP_GATHER ? "lib" : softreg_kernels[ki]->name,
							  (enum softreg_source_kind)s, batch, t);
						if (!case_selected(o->filter, name))
							continue;
						if (out)
							fill_case(&out[n], name, (enum op)op, ki, s, batch, t);
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
	bool naive = false;
	for (size_t ki = 0; ki < kernel_count(); ki++)
		naive |= o->kernel_on[ki] && softreg_kernels[ki] == &softreg_kernel_naive;
	for (size_t i = 0; i < o->nbatches; i++)
		if (naive && o->batches[i] > o->naive_max) {
			add_note(r, "naive kernel skips logits, loss_grad and epoch above batch %zu (--naive-max): "
				    "it is slow on purpose",
				 o->naive_max);
			break;
		}
	size_t gmax = gate_max_batch(o, &r->data);
	for (size_t i = 0; i < o->nbatches; i++)
		if (o->batches[i] > gmax) {
			add_note(r, "the gate checks batches up to %zu rows for this model (the oracle's work grows as "
				    "batch x k x d); larger batches are timed unchecked (raise --naive-max to check them)",
				 gmax);
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
		double scatter = b->scatter_gups > 0 ? c->scatters / b->scatter_gups : 0;
		/* with AVX-512, the fewer of the two ways: 8 floats a block or 16 a pair */
		if (b->scatter16_gups > 0 && c->scatters16 > 0 && c->scatters16 / b->scatter16_gups < scatter)
			scatter = c->scatters16 / b->scatter16_gups;
		c->limit = compute >= memory ? "compute" : "memory";
		c->bound_ns = compute >= memory ? compute : memory;
		if (scatter > c->bound_ns) {
			c->limit = "scatter";
			c->bound_ns = scatter;
		}
		c->pct_of_bound = 100 * c->bound_ns / c->ns_min;
	}
	for (size_t i = 0; i < r->ncases && c->kern && c->kern != &softreg_kernel_naive; i++) {
		const struct case_result *n = &r->cases[i];
		if (n->reps && n->op == c->op && n->batch == c->batch && n->source == c->source &&
		    n->kern == &softreg_kernel_naive)
			c->speedup = n->ns_min / c->ns_min;
	}
	for (size_t i = 0; i < r->ngates; i++) {
		const struct gate_result *g = &r->gates[i];
		if (g->batch == c->batch && g->source == c->source && g->kernel == c->kern)
			c->gate = g;
	}
}

/* The gate's batches: those of the selected cases (every batch with
 * --gate-only), up to gate_max_batch(); its sources: the selected ones. */
static int run_gates(struct run *r, char *err)
{
	const struct bench_opts *o = r->o;
	size_t gmax = gate_max_batch(o, &r->data);
	r->gates = calloc(o->nbatches * BENCH_SOURCES * BENCH_MAX_KERNELS, sizeof(*r->gates));
	if (!r->gates) {
		snprintf(err, SOFTREG_ERRLEN, "out of memory");
		return BENCH_FAIL;
	}
	for (size_t i = 0; i < o->nbatches; i++) {
		for (int s = 0; s < BENCH_SOURCES; s++) {
			bool used = o->gate_only;
			for (size_t c = 0; c < r->ncases; c++)
				used |= r->cases[c].batch == o->batches[i] && (int)r->cases[c].source == s;
			if (!used || !r->data.have[s] || o->batches[i] > gmax)
				continue;
			size_t n;
			if (run_gate(o, &r->data, (enum softreg_source_kind)s, o->batches[i], &r->gates[r->ngates], &n, err))
				return BENCH_FAIL;
			r->ngates += n;
		}
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
	size_t n = r->data.base.n, kept = 0;
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
	default_naive_max(o, &r->data);
	clamp_batches(o, r);
	r->ncases = plan_cases(o, NULL);
	if (r->ncases == 0 && !o->gate_only)
		return usage("no case matches --filter '%s' with these --kernel and --source (a kernel times only the "
			     "sources it takes: blas dense ones, sparse csr)",
			     o->filter ? o->filter : "");
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
		snprintf(err, SOFTREG_ERRLEN, "correctness gate failed: a kernel disagrees with the naive one%s",
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
