/* SPDX-License-Identifier: MIT
 * bench.h: what the files of softreg-bench share. The program is a thin
 * layer over libsoftreg: it times the library's own functions, never copies
 * of them. */
#ifndef SOFTREG_BENCH_H
#define SOFTREG_BENCH_H

#include "softreg.h"

#include <stdbool.h>
#include <stdio.h>

#define BENCH_MAX_LIST 32    /* entries of --batch / --threads */
#define BENCH_MAX_KERNELS 8  /* entries of softreg_kernels[] the bench can select */
#define BENCH_SOURCES SOFTREG_SOURCE_KINDS

/* a * b into *out; false when it overflows size_t */
static inline bool mul_ok(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

/* exit statuses, as for softreg (DESIGN.md) */
enum { BENCH_OK = 0, BENCH_FAIL = 1, BENCH_USAGE = 2 };

struct bench_opts {
	size_t batches[BENCH_MAX_LIST], nbatches;
	int threads[BENCH_MAX_LIST], nthreads;
	bool kernel_on[BENCH_MAX_KERNELS]; /* by index in softreg_kernels[] */
	bool source_on[BENCH_SOURCES];     /* by enum softreg_source_kind */
	const char *filter;                /* comma-separated patterns, or NULL */
	size_t reps;                       /* at least this many timed repetitions */
	double min_seconds;                /* and at least this long per case */
	size_t naive_max;                  /* the naive kernel skips larger batches (0: from the model's size) */
	const char *data_dir;
	bool data_dir_given, synthetic, gate_only, list_only, plant_error;
	bool shaped;                       /* --shape N,D,K */
	double fill;                       /* --fill P: zero pixels made nonzero with probability P */
	size_t shape_n, shape_d, shape_k;
	const char *json_path;
	/* the list flags as given, parsed after the table */
	const char *batch_arg, *threads_arg, *kernel_arg, *source_arg, *shape_arg;
};

/* The short names of the sources in --source and in the case names. */
extern const char *const source_tags[BENCH_SOURCES]; /* "u8", "f32", "f16", "csr" */

/* Where the data came from. */
enum data_origin { DATA_MNIST, DATA_SYNTHETIC, DATA_SHAPE };

/*
 * The data every case reads: MNIST's training set (uint8), synthetic pixels
 * of its shape, or Gaussian float32 features of --shape. From it, the same
 * rows as each selected source kind: float32 (the preprocessed rows), float16
 * (converted from those), CSR (their nonzeros).
 */
struct bench_data {
	enum data_origin origin;
	char where[4096];                 /* the folder, or how the data was made */
	struct softreg_dataset base;      /* as read or made; labels and y are shared by the views */
	struct softreg_dataset view[BENCH_SOURCES]; /* base with the features of each kind (no ownership) */
	bool have[BENCH_SOURCES];         /* which views exist */
	size_t bytes[BENCH_SOURCES];      /* the size of each view's features */
	uint64_t nnz;                     /* the CSR view's nonzeros */
	double nnz_bytes;                 /* bytes a nonzero of the CSR view that the sparse kernel reads:
					   * 8, or 3 for the compact CSR of uint8 rows */
	struct softreg_model *model[BENCH_SOURCES]; /* one random W, b (seeded); the preprocessing of each source */
	int64_t *classes;                 /* (k) the class table */
	size_t k;
	uint32_t *perm;                   /* (n) a fixed random order of the rows: the batches' rows */
	void *bufs[BENCH_SOURCES * 3];    /* the derived features, owned */
};

/* ---- data.c ---- */

/* The source kinds that the data of 'o' can be had as (a bit per kind). */
unsigned data_sources_possible(const struct bench_opts *o);
/* Load or make the data, and the views of the sources 'o' selects. */
int load_data(const struct bench_opts *o, struct bench_data *d, char *err);
void free_data(struct bench_data *d);
/* The nonzeros of the first 'm' rows of d->perm in the CSR view. */
double batch_nnz(const struct bench_data *d, size_t m);

/* ---- roofline.c: the machine's bounds ---- */

struct bound {
	int threads;
	double read_gbps;      /* sustained read bandwidth, GB/s (1e9 bytes) */
	double sgemm_gflops;   /* cblas_sgemm on a large square product */
	double scatter_gups;   /* t[j][0..8] += v g[0..8], j random in an L1-resident t: 1e9 per second */
	double scatter16_gups; /* the same with 16 floats in one AVX-512 register; 0 where the sparse
				* kernel does not run its AVX-512 loops */
	size_t sgemm_n;
};

/* Measure the bounds at each of 'threads' (sets the thread count) into 'out'. */
int measure_bounds(const int *threads, int nthreads, struct bound *out, char *err);

/* ---- gate.c: the correctness gate ---- */

/* max |a - r| and max |a - r| / |r|, and the worst |a - r| / (atol + rtol |r|) */
struct diff {
	double abs, rel, worst;
};

/* One kernel against the oracle on one source at one batch size. */
struct gate_result {
	size_t batch;
	enum softreg_source_kind source;
	const struct softreg_kernel *kernel;
	struct diff loss, dW, db, logits;
	bool within_tol;       /* every worst <= 1 */
	bool same_bits;        /* the kernel bitwise identical at every thread count */
	bool passed;
};

/* The tolerance of one compared quantity; see gate.c for why these values. */
struct tolerance {
	const char *what;
	double atol, rtol;
};
extern const struct tolerance gate_tol[4]; /* loss, dW, db, logits */

/* The largest batch the gate checks: the oracle's work grows as batch * k * d. */
size_t gate_max_batch(const struct bench_opts *o, const struct bench_data *data);

/* Compare every fast kernel that takes 'source' against the naive one at
 * 'batch': one result each into 'out' (room for BENCH_MAX_KERNELS); their
 * count into '*n'. */
int run_gate(const struct bench_opts *o, const struct bench_data *data, enum softreg_source_kind source,
	     size_t batch, struct gate_result *out, size_t *n, char *err);

/* ---- cases.c: the operations timed, and the timing loop ---- */

enum op { OP_GATHER, OP_LOGITS, OP_SOFTMAX, OP_LOSS_GRAD, OP_EPOCH, OP_PASS, OP_COUNT };

struct case_result {
	char name[96];
	enum op op;
	const char *op_name;
	const struct softreg_kernel *kern; /* NULL for the library's gather */
	const char *kernel;    /* its name, or "lib" for the gather */
	enum softreg_source_kind source;
	size_t batch;
	int threads;
	size_t reps, inner;    /* timed samples, and calls per sample */
	double ns_min, ns_median; /* per call */
	double flops, bytes;   /* per call: arithmetic, and compulsory memory traffic */
	double scatters;       /* per call: 8-float read-modify-writes the gradient needs (CSR) */
	double scatters16;     /* or 16-float ones, for k > 8: one per nonzero per 16 classes */
	double bound_ns;       /* max(flops / peak, bytes / bandwidth, scatters / scatter rate) */
	const char *limit;     /* which of the three sets bound_ns: "compute", "memory" or "scatter" */
	double gflops, gbps, pct_of_bound;
	double speedup;        /* naive ns_min / this ns_min, same op, source and batch; 0 if unknown */
	const struct gate_result *gate; /* the gate of this kernel, source and batch, or NULL */
};

extern const char *const op_names[OP_COUNT];

/* Whether 'name' is selected by the comma-separated patterns of 'filter'
 * (a glob when a pattern has * ? or [, else a substring); NULL selects all. */
bool case_selected(const char *filter, const char *name);

/* The name of a case: op/kernel/bBATCH/tTHREADS for the uint8 source (the
 * names of the runs before there were other sources), else
 * op/kernel/SOURCE/bBATCH/tTHREADS; a pass over all rows has no batch:
 * pass/kernel[/SOURCE]/tTHREADS. */
void case_name(char *buf, size_t size, enum op op, const char *kernel, enum softreg_source_kind source,
	       size_t batch, int threads);

/* Time one case (fills ns_min, ns_median, reps, inner, flops, bytes). */
int time_case(const struct bench_opts *o, const struct bench_data *data, struct case_result *c,
	      char *err);

/* ---- report.c: the table and the JSON ---- */

struct machine {
	char cpu[256], simd[256];
	int cores;
	const char *blas_config, *blas_core, *blas_parallel, *core_note;
	const char *coretype_env, *l2_env;
	double loadavg;        /* 1-minute load average before the run; -1 unknown */
};

#define BENCH_MAX_NOTES 12

/* One run of the program: what it measured and under which conditions. */
struct run {
	const struct bench_opts *o;
	struct machine machine;
	char date[32];               /* UTC, ISO 8601 */
	struct bench_data data;
	struct bound bounds[BENCH_MAX_LIST];     /* measured before the cases; they set bound_ns */
	struct bound bounds_end[BENCH_MAX_LIST]; /* and again after them, to see the machine drift */
	int nbounds;
	struct gate_result *gates;   /* per batch, source and fast kernel */
	size_t ngates;
	struct case_result *cases;
	size_t ncases;
	char notes[BENCH_MAX_NOTES][320];
	int nnotes;
};

void machine_describe(struct machine *m);
void print_header(FILE *f, const struct run *r);
void print_bounds(FILE *f, const struct bound *b, int n, const char *when);
void print_gate(FILE *f, const struct run *r);
void print_case_header(FILE *f);
void print_case(FILE *f, const struct case_result *c);
void print_epoch_summary(FILE *f, const struct run *r);
/* Write the run to 'f' (opened for 'path' before the run, so that a bad path
 * fails at once) and close it. */
int write_json(FILE *f, const char *path, const struct run *r, char *err);

/* ---- bench.c ---- */

double now_seconds(void); /* CLOCK_MONOTONIC */
const struct bound *bound_for(const struct bound *bounds, int nbounds, int threads);

#endif
