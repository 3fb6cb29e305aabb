/* SPDX-License-Identifier: MIT
 * internal.h: helpers shared by the library's files; not installed. */
#ifndef SOFTREG_INTERNAL_H
#define SOFTREG_INTERNAL_H

#include "softreg.h"

#include <stdarg.h>
#include <stdbool.h>

/* Write a one-line message into 'err' (SOFTREG_ERRLEN bytes; NULL is fine)
 * and return 'r', so failures read: return fail(err, SOFTREG_ERR_IO, "..."). */
enum softreg_result sr_fail(char *err, enum softreg_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* a * b into *out; false when it overflows size_t */
static inline bool sr_mul(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

double sr_now(void); /* CLOCK_MONOTONIC, seconds */

/* fopen 'path' for reading, and its size; an error unless it is a regular file */
#include <stdio.h>
enum softreg_result sr_open_regular(const char *path, FILE **f_ret, size_t *size_ret, char *err);
/* the same as a file descriptor (-1 on failure, 'err' filled); never blocks on a FIFO */
int sr_open_fd(const char *path, size_t *size_ret, char *err);
/* A process's share of a text file (MPI): 'path' mapped read-only into
 * *map_ret (*size_ret bytes, NULL when empty; sr_text_unmap() it), and
 * [*start_ret, *end_ret) the lines that start in bytes [b0, b1), each line
 * belonging to the share its first byte is in (libsvm.c, csv.c) */
enum softreg_result sr_text_map(const char *path, uint64_t b0, uint64_t b1, const char **map_ret, size_t *size_ret,
				size_t *start_ret, size_t *end_ret, char *err);
void sr_text_unmap(const char *map, size_t size);

/* Kernel internals shared by the kernels and the workspace. */
struct softreg_workspace {
	const struct softreg_kernel *kernel; /* the kernel it was sized for */
	size_t m_max, k, d;
	int threads;          /* the thread count it was sized for */
	size_t chunks_max;    /* row chunks of a batch of m_max */
	size_t groups_max;    /* partial gradients (blas) */
	float *X;             /* per thread: SR_CHUNK rows of d floats, then a gap (kernel_blas.c) */
	float *Z;             /* (m_max, k) logits / probabilities */
	float *partial;       /* per group: k*d + k floats, rounded to cache lines, then a gap */
	double *acc;          /* (k*d + 2k) naive kernel accumulators and logits */
	double *loss;         /* (chunks_max) per-chunk loss sums */
	float *Wt, *Gt;       /* sparse: W and the gradient transposed, (blocks, d, 8) */
	float *Zp, *bk, *gb;  /* sparse: (blocks, m_max, 8) logits; bias and its gradient, padded */
	float *ztmp;          /* sparse: per thread, one row of logits (blocks * 8) */
	void *mem_;
	const struct softreg_dist *dist; /* the processes that share the sums (NULL: one); dist.h */
	struct sr_par *par;   /* sr_sum_range()'s per-thread state, made at first use (grad.c) */
};

/* a workspace sized for 'threads' threads (softreg_workspace_alloc(): all) */
struct softreg_workspace *sr_workspace_alloc(const struct softreg_kernel *kernel, size_t m_max, size_t k, size_t d,
					     int threads);
void sr_par_free(struct sr_par *par);

/* Rows per chunk of the blas kernel: fixed, so results do not depend on the
 * thread count; small enough that a chunk's floats (64 x 784 x 4 = 200 KB)
 * stay in L2 between the gather and the two GEMMs. */
#define SR_CHUNK 64

/* row i of a batch */
static inline size_t sr_row(const struct softreg_batch *b, size_t i)
{
	return b->rows ? b->rows[i] : b->first + i;
}

/* class index of sample i of a batch */
static inline uint32_t sr_label(const struct softreg_batch *b, size_t i)
{
	return b->y[sr_row(b, i)];
}

/* nonzero p of a CSR source: from the compact form when it has one */
static inline uint32_t sr_csr_index(const struct softreg_source *s, uint64_t p)
{
	return s->values8 ? s->indices16[p] : s->indices[p];
}

static inline float sr_csr_value(const struct softreg_source *s, uint64_t p)
{
	return s->values8 ? (float)s->values8[p] : s->values[p];
}

/* one row of d uint8 values to floats with the model's preprocessing; inline,
 * so that the kernels' gather loops vectorise it (out of line, the blas
 * kernel's gather took 3x as long) */
static inline void sr_gather_row_u8(const struct softreg_model *m, const uint8_t *restrict p, float *restrict x)
{
	size_t d = m->d;
	if (m->prep == SOFTREG_PREP_STANDARDIZE) {
		const float *mu = m->mean, *is = m->inv_std;
		for (size_t j = 0; j < d; j++)
			x[j] = ((float)p[j] - mu[j]) * is[j];
	} else {
		float s = m->scale;
		for (size_t j = 0; j < d; j++)
			x[j] = (float)p[j] * s;
	}
}

/* one dense row of the source to d floats with the model's preprocessing */
void sr_gather_row(const struct softreg_model *m, const struct softreg_source *src, size_t row, float *x);

/* gather rows [i0, i1) of a batch into X (i1 - i0, d) */
void sr_gather_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0,
		    size_t i1, float *X);

/* whether the batch's rows can be used in place as X: float32, consecutive,
 * and preprocessing that is the identity */
bool sr_rows_in_place(const struct softreg_model *m, const struct softreg_batch *b);

/* the geometry of a batch of m rows for the blas kernel: chunks (each with its loss
 * sum) and groups (each with its partial gradient); it depends on the shape
 * alone, never on the thread count */
size_t sr_blas_nchunks(size_t m, size_t k, size_t d);
size_t sr_blas_ngroups(size_t m, size_t k, size_t d);
/* softreg_idx_read() leaving the payload where it was read: out->data may
 * point into *base, which is what to free */
enum softreg_result sr_idx_read(const char *path, uint64_t max_bytes, struct softreg_idx *out, uint8_t **base,
			       char *err);
size_t sr_sparse_nchunks(size_t m);
/* the sparse kernel's blocks of 8 classes for k classes, and its partial
 * gradients at most */
size_t sr_sparse_blocks(size_t k);
size_t sr_sparse_groups_max(size_t k);
size_t sr_sparse_group_stride(size_t k, size_t d);
/* the blas kernel's per-thread X buffer and per-group partial, in floats
 * (0 when they overflow) */
size_t sr_blas_x_stride(size_t k, size_t d);
size_t sr_blas_partial_stride(size_t k, size_t d);
/* Ask for every cache line of [p, p + bytes), for reading or (rw) for
 * writing, from the line p is in (a span need not start on a line). Always
 * inline: GCC deleted calls of a helper whose only effect was prefetches. */
static inline __attribute__((always_inline)) void sr_prefetch_span(const void *p, size_t bytes, bool rw)
{
	if (bytes == 0)
		return;
	for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + bytes; a < end; a += 64) {
		if (rw)
			__builtin_prefetch((const void *)a, 1);
		else
			__builtin_prefetch((const void *)a, 0);
	}
}

/* the first of n units that part p of 'parts' equal parts starts at */
static inline size_t sr_part(size_t p, size_t n, size_t parts)
{
	return (size_t)((unsigned __int128)p * n / parts);
}

/* stable softmax of rows [i0, i0 + m) of a batch in Z (m, k), in place; the
 * summed cross-entropy (shared by the blas and sparse kernels) */
double sr_softmax_rows(float *Z, const struct softreg_batch *b, size_t i0, size_t m, size_t k);
/* one row z (k) to probabilities in place; its cross-entropy for class y */
double sr_softmax_row(float *z, size_t k, uint32_t y);
/* the same for rows 'ld' floats apart (ld >= k) */
double sr_softmax_rows_ld(float *Z, size_t ld, const struct softreg_batch *b, size_t i0, size_t m, size_t k);
/* softmax_loss of a kernel table row, over chunks in a fixed order */
double sr_softmax_loss(float *Z, const uint32_t *y, size_t m, size_t k);

/* ---- the one loss-and-gradient path (grad.c) ---- */

/* The sums of one batch (SGD): the loss returned, the gradient into 'grad'
 * (k*d + k floats) */
double sr_batch_sums(const struct softreg_model *m, const struct softreg_batch *b, struct softreg_workspace *ws,
		     float *grad);

/* Sums over rows [first, first + count) of 'ds' of the cross-entropy
 * (returned) and, when 'grad' is not NULL, of the gradient, written into
 * 'grad' (k*d + k doubles) -- in blocks of ws->m_max rows whose sums are
 * added exactly and rounded once, so the sums are the same at any thread
 * and process count (ws->dist shares the blocks). 'gchunk' is k*d + k floats
 * and 'xacc' sr_xsum_words(k*d + k) words of scratch (dist.h). Every solver
 * and the objective call this. */
double sr_sum_range(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first, size_t count,
		    struct softreg_workspace *ws, float *gchunk, int64_t *xacc, double *grad);

/* ---- readers: each fills a struct softreg_dataset that owns its memory ---- */

/* .npy from a file: features memory-mapped (float32 and uint8 little-endian
 * C-order data are used in place; other dtypes converted), or labels
 * ('labels' 1) into ds->labels and ds->n. */
enum softreg_result sr_npy_read(const char *path, int labels, struct softreg_dataset *ds, char *err);
/* libsvm/svmlight text from a file, streamed (the text is never held whole) */
enum softreg_result sr_libsvm_read(const char *path, const struct softreg_read_opts *opts,
				   struct softreg_dataset *ds, char *err);
/* numeric CSV from a file */
enum softreg_result sr_csv_read(const char *path, const struct softreg_read_opts *opts,
				struct softreg_dataset *ds, char *err);
/* SOFTREG_ERR_FORMAT naming 'name' and the first row that holds a NaN or an
 * infinity, else SOFTREG_OK (dense float sources and CSR values) */
enum softreg_result sr_check_finite(const struct softreg_dataset *ds, const char *name, char *err);
/* whether the CPU converts half floats in hardware (F16C) */
bool sr_cpu_has_f16c(void);
/* give 'p' to 'ds' to free (one of its mem_ slots); false when all are taken */
bool sr_dataset_own(struct softreg_dataset *ds, void *p);

/* whether the model's preprocessing subtracts a mean (then sparse data would
 * lose its zeros) */
bool sr_model_centres(const struct softreg_model *m);

/* CRC-32 and little-endian helpers for the model format */
uint32_t sr_crc32(uint32_t crc, const void *buf, size_t len);


/* accuracy, log-loss and confusion of rows [first, first + count) with the
 * workspace's kernel */
enum softreg_result sr_evaluate_ws(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				   size_t count, uint64_t *confusion, double *accuracy_ret, double *log_loss_ret,
				   struct softreg_workspace *ws, char *err);
/* SOFTREG_ERR_FORMAT unless the m x k logits Z of rows first.. are finite: a
 * model whose weights or preprocessing overflow on these inputs */
enum softreg_result sr_check_logits(const float *Z, size_t m, size_t k, size_t first, char *err);

/* the L-BFGS solver (lbfgs.c), on rows [0, n) of 'train' */
enum softreg_result sr_train_lbfgs(struct softreg_model *m, const struct softreg_dataset *train, size_t n,
				   const struct softreg_dataset *test, const struct softreg_params *p,
				   const struct softreg_kernel *kern, const struct softreg_kernel *test_kern,
				   const struct softreg_dist *dist, struct softreg_train_state *st,
				   struct softreg_report *rep, char *err);
/* rows per evaluation chunk for k classes (metrics.c) */
size_t sr_eval_rows(size_t k);

/* The constants of exp_nonpositive() (kernels.c) and of its vector twins
 * (kernel_sparse.c): Cody and Waite's reduction x = n ln2 + r, Cephes' expf
 * polynomial for e^r (coefficients of r^2 .. r^7 / r^2), 2^n made in the
 * exponent bits. */
#define SR_EXP_LOG2E 1.44269504088896341f
#define SR_EXP_LN2_HI 0.693145751953125f /* ln2 = hi + lo, hi exact */
#define SR_EXP_LN2_LO 1.428606765330187e-06f
#define SR_EXP_SHIFTER 12582912.0f /* 1.5 * 2^23: x + shifter rounds x to an integer */
#define SR_EXP_SHIFTER_BITS 0x4B400000
#define SR_EXP_LOWEST (-87.33654f) /* ln(FLT_MIN): 2^n stays a normal float above it */
#define SR_EXP_P0 1.9875691500e-4f
#define SR_EXP_P1 1.3981999507e-3f
#define SR_EXP_P2 8.3334519073e-3f
#define SR_EXP_P3 4.1665795894e-2f
#define SR_EXP_P4 1.6666665459e-1f
#define SR_EXP_P5 5.0000001201e-1f

#endif
