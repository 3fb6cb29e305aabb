/* SPDX-License-Identifier: MIT
 * dist.h: the processes of an MPI run as the library sees them (dist.c).
 * Built without MPI (SOFTREG_MPI 0), a group is one process and every
 * function here is a no-op or a plain loop; nothing else in the library
 * names MPI.
 *
 * Two ways of adding sums from several processes:
 *  - exact (sr_xsum_*): every float (or double) summand goes, exactly, into
 *    a fixed-point integer of 288 (2100) bits held as 32-bit limbs in int64
 *    words, so carries can wait; integers add associatively, so any split of
 *    the summands among processes and any reduction tree give the same
 *    integer, which is rounded once to double. L-BFGS, the objective and the
 *    evaluation sum their blocks this way, in one process too.
 *  - in a fixed order (sr_dist_gather_groups, sr_dist_sum_tree_*): SGD's
 *    group partials are gathered and added in group order as in one process;
 *    --shard's per-process sums go up a binomial tree fixed by the rank (the
 *    same bits at the same process count). */
#ifndef SOFTREG_DIST_H
#define SOFTREG_DIST_H

#include "internal.h"

#include <stdbool.h>
#include <stdint.h>

#if SOFTREG_MPI
#include <mpi.h>
#endif

#define SR_DIST_HELD 4

struct softreg_dist {
	int rank, size;
	bool started; /* softreg_dist_init() initialised MPI: free finalises it */
	struct {
		const struct softreg_dataset *ds;
		size_t row0, n; /* ds holds rows [row0, row0 + ds->n) of n */
	} held[SR_DIST_HELD];
	/* what this process sent, and its time in collectives (the bench);
	 * mutable through a const group: counters, not state */
	uint64_t sent;
	double comm_s;
	bool tree_sums; /* softreg_dist_set_sums(d, 0): L-BFGS's sums in double up a rank tree */
#if SOFTREG_MPI
	MPI_Comm comm;
#endif
};

/* whether 'd' is more than one process */
static inline bool sr_dist_on(const struct softreg_dist *d)
{
	return d && d->size > 1;
}

/* this process's share [*lo, *hi) of n units (equal parts in rank order) */
void sr_dist_share(const struct softreg_dist *d, size_t n, size_t *lo, size_t *hi);

/* the data set's first row and its total row count: (0, ds->n) unless
 * softreg_dist_hold() named it */
size_t sr_dist_row0(const struct softreg_dist *d, const struct softreg_dataset *ds);
size_t sr_dist_total(const struct softreg_dist *d, const struct softreg_dataset *ds);
bool sr_dist_sharded(const struct softreg_dist *d, const struct softreg_dataset *ds);

/* The rows [*lo, *hi) of [first, first + count) that this process sums,
 * cut into blocks of 'bs' rows from *lo. A data set held whole: an equal
 * share of the range's blocks of 'bs' rows from 'first'. A held shard: the
 * rows of the range it holds; softreg_dist_shard(align 1) puts its ends on
 * multiples of SOFTREG_DIST_BLOCK, which every block size (a power of two
 * no larger) divides, so a range from row 0, or within the last process's
 * rows, gets the same blocks as in one process. */
void sr_dist_rows(const struct softreg_dist *d, const struct softreg_dataset *ds, size_t first, size_t count,
		  size_t bs, size_t *lo, size_t *hi);

/* ---- exact sums ---- */

/* int64 words of an exact accumulator of n floats (9 per value, one word
 * counting non-finite summands) and of one double (a loss: sr_xsum_loss(),
 * SR_XSUM1_WORDS); 0 when that overflows. sr_xsum_allreduce() sums both. */
size_t sr_xsum_words(size_t n);
int64_t *sr_xsum_loss(int64_t *acc, size_t n);
void sr_xsum_clear(int64_t *acc, size_t n);
/* acc += x (n floats), exactly */
void sr_xsum_add(int64_t *acc, const float *x, size_t n);
/* acc's limbs carried, so that accumulators packed alike add word by word
 * (another thread's, another process's) without overflow */
void sr_xsum_pack(int64_t *acc, size_t n);
/* acc summed over the processes (in place, exact) */
void sr_xsum_allreduce(const struct softreg_dist *d, int64_t *acc, size_t n);
/* out[i] = the value i of acc rounded to double (NaN when any summand was not finite) */
void sr_xsum_round(int64_t *acc, size_t n, double *out);

/* The same for one double (a loss): SR_XSUM1_WORDS words; the last is the
 * non-finite count. sr_xsum1_pack() normalises in place, for an allreduce
 * of the words among others (sr_dist_sum_i64). */
#define SR_XSUM1_WORDS 68
void sr_xsum1_clear(int64_t *acc);
void sr_xsum1_add(int64_t *acc, double x);
void sr_xsum1_pack(int64_t *acc);
double sr_xsum1_round(int64_t *acc);

/* ---- collectives (no-ops for one process) ---- */

/* v summed over the processes, in place: integers, so exact */
void sr_dist_sum_i64(const struct softreg_dist *d, int64_t *v, size_t n);
/* v summed over the processes up a binomial tree fixed by the ranks, then
 * broadcast: the same bits on every process and on a rerun at this count */
void sr_dist_sum_tree_f32(const struct softreg_dist *d, float *v, size_t n);
void sr_dist_sum_tree_f64(const struct softreg_dist *d, double *v, size_t n);
/* whether 'flag' is set on any process */
bool sr_dist_any(const struct softreg_dist *d, bool flag);
/* 'bytes' of 'buf' from rank 'root' to all */
void sr_dist_bcast(const struct softreg_dist *d, void *buf, size_t bytes, int root);

/* SGD's groups: group g is 'len' floats at part + g * stride, of which this
 * process computed its share of the ng groups (sr_dist_share); afterwards
 * every process has all ng. 'loss' (nc doubles, chunk c of group g from
 * sr_part(g, nc, ng)) likewise, unless NULL. */
void sr_dist_gather_groups(const struct softreg_dist *d, float *part, size_t stride, size_t len, size_t ng,
			   double *loss, size_t nc);

/* the rows [i0, i0 + m) of 'X' (m x d floats) this process holds are
 * gathered so every process has all m; process r holds the rows of
 * sr_dist_blocks()-style shares given by 'owner_lo' (size + 1 row offsets) */
void sr_dist_gather_rows(const struct softreg_dist *d, float *X, size_t d_cols, const size_t *owner_lo);

/* the lines of 'path' that start in bytes [b0, b1), into 'ds' (libsvm.c,
 * csv.c); none is fine */
enum softreg_result sr_libsvm_read_range(const char *path, const struct softreg_read_opts *opts, uint64_t b0,
					 uint64_t b1, struct softreg_dataset *ds, char *err);
enum softreg_result sr_csv_read_range(const char *path, const struct softreg_read_opts *opts, uint64_t b0,
				      uint64_t b1, struct softreg_dataset *ds, char *err);

#endif
