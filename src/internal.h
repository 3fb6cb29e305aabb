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

/* Kernel internals shared by the naive and blas kernels and the workspace. */
struct softreg_workspace {
	size_t m_max, k, d;
	int threads;          /* the thread count it was sized for */
	size_t chunks_max;    /* row chunks of a batch of m_max */
	float *X;             /* per thread: SR_CHUNK rows of d floats, then a 64 KB gap (kernel_blas.c) */
	float *Z;             /* (m_max, k) logits / probabilities */
	float *partial;       /* per group: k*d + k floats, rounded to cache lines, then a 64 KB gap */
	double *acc;          /* (k*d + k) naive kernel accumulators */
	float *loss;          /* (chunks_max) per-chunk loss sums */
	void *mem_;
};

/* Rows per chunk of the blas kernel: fixed, so results do not depend on the
 * thread count; small enough that a chunk's floats (64 x 784 x 4 = 200 KB)
 * stay in L2 between the gather and the two GEMMs. */
#define SR_CHUNK 64

/* label of sample i of a batch */
static inline uint8_t sr_label(const struct softreg_batch *b, size_t i)
{
	return b->labels[b->rows ? b->rows[i] : i];
}

/* one row of d pixels to floats with the model's preprocessing */
static inline void sr_gather_row(const struct softreg_model *m, const uint8_t *p, float *x)
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

/* gather rows [i0, i1) of a batch into X (i1 - i0, d) */
void sr_gather_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0,
		    size_t i1, float *X);

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
/* give 'p' to 'ds' to free (one of its mem_ slots); false when all are taken */
bool sr_dataset_own(struct softreg_dataset *ds, void *p);

/* CRC-32 and little-endian helpers for the model format */
uint32_t sr_crc32(uint32_t crc, const void *buf, size_t len);


enum softreg_result sr_evaluate_ws(const struct softreg_model *m, const struct softreg_dataset *ds, size_t first,
				   size_t count, uint64_t *confusion, double *accuracy_ret, double *log_loss_ret,
				   struct softreg_workspace *ws);
/* F and its gradient (k*d + k, W then b) over rows [0, count); 'gtmp' is
 * k*d + k floats of scratch */
enum softreg_result sr_objective_ws(const struct softreg_model *m, const struct softreg_dataset *ds, size_t count,
				    double l2, float *grad, double *F_ret, double *grad_norm_ret,
				    struct softreg_workspace *ws, float *gtmp);

/* the L-BFGS solver (lbfgs.c), on rows [0, n) of 'train' */
enum softreg_result sr_train_lbfgs(struct softreg_model *m, const struct softreg_dataset *train, size_t n,
				   const struct softreg_dataset *test, const struct softreg_params *p,
				   struct softreg_train_state *st, struct softreg_report *rep, char *err);

#endif
