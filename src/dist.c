/* SPDX-License-Identifier: MIT
 * dist.c: the processes of an MPI run (see dist.h): the group, who computes
 * which rows, exact sums, and the few collectives the solvers need. Built
 * without MPI, one process: the collectives do nothing. */
#include "dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int softreg_mpi_built(void)
{
	return SOFTREG_MPI;
}

/* whether a launcher started this process as one of several (Open MPI,
 * MPICH/Hydra, Slurm, PMIx): outside one, MPI is not initialised at all */
static bool launched(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_NTASKS", NULL};
	for (int i = 0; vars[i]; i++)
		if (getenv(vars[i]))
			return true;
	return false;
}

struct softreg_dist *softreg_dist_init(int *argc, char ***argv, char *err)
{
	struct softreg_dist *d = calloc(1, sizeof(*d));
	if (!d) {
		sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory");
		return NULL;
	}
	d->size = 1;
#if SOFTREG_MPI
	int init = 0;
	MPI_Initialized(&init);
	if (!init && !launched())
		return d;
	if (!init) {
		int provided = 0;
		if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
			free(d);
			sr_fail(err, SOFTREG_ERR_IO, "MPI could not start");
			return NULL;
		}
		d->started = true;
	}
	d->comm = MPI_COMM_WORLD;
	MPI_Comm_rank(d->comm, &d->rank);
	MPI_Comm_size(d->comm, &d->size);
#else
	(void)argc;
	(void)argv;
	(void)launched;
#endif
	return d;
}

void softreg_dist_free(struct softreg_dist *d)
{
	if (!d)
		return;
#if SOFTREG_MPI
	if (d->started)
		MPI_Finalize();
#endif
	free(d);
}

int softreg_dist_rank(const struct softreg_dist *d)
{
	return d ? d->rank : 0;
}

int softreg_dist_size(const struct softreg_dist *d)
{
	return d ? d->size : 1;
}

uint64_t softreg_dist_sent(const struct softreg_dist *d, double *seconds_ret)
{
	if (seconds_ret)
		*seconds_ret = d ? d->comm_s : 0;
	return d ? d->sent : 0;
}

/* the counters of a group passed as const: they are not its state */
static __attribute__((unused)) void count(const struct softreg_dist *d, size_t bytes, double t0)
{
	struct softreg_dist *w = (struct softreg_dist *)d;
	w->sent += bytes;
	w->comm_s += sr_now() - t0;
}

void sr_dist_share(const struct softreg_dist *d, size_t n, size_t *lo, size_t *hi)
{
	int r = softreg_dist_rank(d), N = softreg_dist_size(d);
	*lo = sr_part((size_t)r, n, (size_t)N);
	*hi = sr_part((size_t)r + 1, n, (size_t)N);
}

/* ---- which rows ---- */

/* process r's rows of softreg_dist_shard() */
static void shard_of(size_t r, size_t N, size_t n, size_t trained, int align, size_t *row0_ret, size_t *count_ret)
{
	size_t lo, hi;
	if (trained > n)
		trained = n;
	if (align) {
		size_t nb = (trained + SOFTREG_DIST_BLOCK - 1) / SOFTREG_DIST_BLOCK;
		lo = sr_part(r, nb, N) * SOFTREG_DIST_BLOCK;
		hi = sr_part(r + 1, nb, N) * SOFTREG_DIST_BLOCK;
		lo = lo < trained ? lo : trained;
		hi = hi < trained ? hi : trained;
	} else {
		lo = sr_part(r, trained, N);
		hi = sr_part(r + 1, trained, N);
	}
	if (r + 1 == N) /* the validation rows go to the last process */
		hi = n;
	*row0_ret = lo;
	*count_ret = hi - lo;
}

void softreg_dist_shard(const struct softreg_dist *d, size_t n, size_t trained, int align, size_t *row0_ret,
			size_t *count_ret)
{
	shard_of((size_t)softreg_dist_rank(d), (size_t)softreg_dist_size(d), n, trained, align, row0_ret, count_ret);
}

enum softreg_result softreg_dist_hold(struct softreg_dist *d, const struct softreg_dataset *ds, size_t row0,
				      size_t n, char *err)
{
	if (!d || !ds || row0 > n || ds->n > n - row0)
		return sr_fail(err, SOFTREG_ERR_PARAM, "dist_hold: rows %zu..%zu outside %zu", row0,
			       ds ? row0 + ds->n : row0, n);
	for (int i = 0; i < SR_DIST_HELD; i++) {
		if (!d->held[i].ds || d->held[i].ds == ds) {
			d->held[i].ds = ds;
			d->held[i].row0 = row0;
			d->held[i].n = n;
			return SOFTREG_OK;
		}
	}
	return sr_fail(err, SOFTREG_ERR_PARAM, "dist_hold: more than %d data sets", SR_DIST_HELD);
}

static int held(const struct softreg_dist *d, const struct softreg_dataset *ds)
{
	for (int i = 0; d && i < SR_DIST_HELD; i++)
		if (d->held[i].ds == ds)
			return i;
	return -1;
}

bool sr_dist_sharded(const struct softreg_dist *d, const struct softreg_dataset *ds)
{
	return held(d, ds) >= 0;
}

size_t sr_dist_row0(const struct softreg_dist *d, const struct softreg_dataset *ds)
{
	int i = held(d, ds);
	return i < 0 ? 0 : d->held[i].row0;
}

size_t sr_dist_total(const struct softreg_dist *d, const struct softreg_dataset *ds)
{
	int i = held(d, ds);
	return i < 0 ? ds->n : d->held[i].n;
}

void sr_dist_rows(const struct softreg_dist *d, const struct softreg_dataset *ds, size_t first, size_t count,
		  size_t bs, size_t *lo, size_t *hi)
{
	int i = held(d, ds);
	if (i < 0) { /* held whole: equal shares of the blocks */
		size_t nb = (count + bs - 1) / bs, b0, b1;
		sr_dist_share(d, nb, &b0, &b1);
		*lo = first + (b0 * bs < count ? b0 * bs : count);
		*hi = first + (b1 * bs < count ? b1 * bs : count);
		return;
	}
	/* a shard: the rows of the range it holds */
	size_t r0 = d->held[i].row0, r1 = r0 + ds->n, end = first + count;
	*lo = first > r0 ? first : r0;
	*hi = end < r1 ? end : r1;
	if (*hi < *lo)
		*hi = *lo;
}

/* ---- exact sums ----
 *
 * A float is m 2^(e - 150) with m < 2^24 (e the biased exponent; e = 0:
 * m 2^-149), so in units of 2^-149 it is m shifted left by e - 1 (0 when
 * e = 0): bit positions 0 to 276. Nine 32-bit limbs (288 bits) hold that,
 * each in an int64 word, so that 2^31 summands add without carrying. A
 * double likewise in units of 2^-1074: positions 0 to 2098, 67 limbs. */

#define XL 9        /* limbs of a float sum */
#define XL1 (SR_XSUM1_WORDS - 1)
#define LIMB ((int64_t)1 << 32)

size_t sr_xsum_words(size_t n)
{
	size_t w;
	return sr_mul(n, XL, &w) && w < SIZE_MAX / 16 ? w + 1 + SR_XSUM1_WORDS : 0;
}

int64_t *sr_xsum_loss(int64_t *acc, size_t n)
{
	return acc + n * XL + 1;
}

void sr_xsum_clear(int64_t *acc, size_t n)
{
	memset(acc, 0, sr_xsum_words(n) * sizeof(int64_t));
}

void sr_xsum_add(int64_t *restrict acc, const float *restrict x, size_t n)
{
	int64_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &x[i], sizeof(u));
		uint32_t e = u >> 23 & 0xff, m = u & 0x7fffff;
		bad += e == 0xff;
		m = e == 0xff ? 0 : e ? m | 0x800000 : m;
		uint32_t pos = e ? e - 1 : 0;
		pos = pos > 253 ? 253 : pos;
		uint64_t v = (uint64_t)m << (pos & 31);
		int64_t s = u >> 31 ? -1 : 1;
		int64_t *a = acc + i * XL + (pos >> 5);
		a[0] += s * (int64_t)(v & 0xffffffffu);
		a[1] += s * (int64_t)(v >> 32);
	}
	acc[n * XL] += bad;
}

/* carry limbs 0..L-2 into [0, 2^32); the top limb keeps the sign */
static void normalize(int64_t *a, size_t L)
{
	int64_t carry = 0;
	for (size_t j = 0; j + 1 < L; j++) {
		int64_t t = a[j] + carry;
		carry = t >> 32; /* arithmetic: floor(t / 2^32) */
		a[j] = t - carry * LIMB;
	}
	a[L - 1] += carry;
}

/* the value of the normalised limbs a (L of them, limb j worth 2^(e0 + 32 j))
 * as a double: from the magnitude, summed from the smallest limb up in long
 * double, so nothing cancels */
static double limbs_value(int64_t *a, size_t L, int e0)
{
	bool neg = a[L - 1] < 0;
	if (neg) {
		for (size_t j = 0; j < L; j++)
			a[j] = -a[j];
		normalize(a, L);
	}
	long double v = 0;
	for (size_t j = 0; j < L; j++)
		if (a[j])
			v += ldexpl((long double)a[j], e0 + 32 * (int)j);
	return neg ? -(double)v : (double)v;
}

void sr_xsum_round(int64_t *acc, size_t n, double *out)
{
	bool bad = acc[n * XL] != 0;
	for (size_t i = 0; i < n; i++) {
		int64_t *a = acc + i * XL;
		normalize(a, XL);
		out[i] = bad ? NAN : limbs_value(a, XL, -149);
	}
}

void sr_xsum1_clear(int64_t *acc)
{
	memset(acc, 0, SR_XSUM1_WORDS * sizeof(int64_t));
}

void sr_xsum1_add(int64_t *acc, double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	uint64_t e = u >> 52 & 0x7ff, m = u & (((uint64_t)1 << 52) - 1);
	if (e == 0x7ff) {
		acc[XL1]++;
		return;
	}
	if (e)
		m |= (uint64_t)1 << 52;
	uint32_t pos = e ? (uint32_t)e - 1 : 0;
	unsigned __int128 v = (unsigned __int128)m << (pos & 31);
	int64_t s = u >> 63 ? -1 : 1;
	int64_t *a = acc + (pos >> 5);
	for (int j = 0; j < 3; j++, v >>= 32)
		a[j] += s * (int64_t)(uint64_t)(v & 0xffffffffu);
}

void sr_xsum1_pack(int64_t *acc)
{
	normalize(acc, XL1);
}

double sr_xsum1_round(int64_t *acc)
{
	if (acc[XL1])
		return NAN;
	normalize(acc, XL1);
	return limbs_value(acc, XL1, -1074);
}

/* ---- collectives ---- */

void sr_xsum_pack(int64_t *acc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		normalize(acc + i * XL, XL); /* limbs < 2^32: N of them add without overflow */
	sr_xsum1_pack(sr_xsum_loss(acc, n));
}

void sr_xsum_allreduce(const struct softreg_dist *d, int64_t *acc, size_t n)
{
	if (!sr_dist_on(d))
		return;
	sr_xsum_pack(acc, n);
	sr_dist_sum_i64(d, acc, sr_xsum_words(n));
}

#if SOFTREG_MPI
/* MPI counts are int: large buffers go in pieces */
#define MAX_COUNT ((size_t)1 << 30)
#endif

void sr_dist_sum_i64(const struct softreg_dist *d, int64_t *v, size_t n)
{
	if (!sr_dist_on(d))
		return;
#if SOFTREG_MPI
	double t0 = sr_now();
	for (size_t i = 0; i < n; i += MAX_COUNT) {
		size_t c = n - i < MAX_COUNT ? n - i : MAX_COUNT;
		MPI_Allreduce(MPI_IN_PLACE, v + i, (int)c, MPI_INT64_T, MPI_SUM, d->comm);
	}
	count(d, n * sizeof(int64_t), t0);
#else
	(void)v;
	(void)n;
#endif
}

/* v (n elements of 'size' bytes, MPI type 't') summed up a binomial tree to
 * rank 0: rank r adds r + 1, r + 2, r + 4, ... (the subtrees below it) in
 * that order, then sends to r - lowbit(r); then broadcast. The order depends
 * on the process count alone. */
#if SOFTREG_MPI
static void tree_sum(const struct softreg_dist *d, void *v, size_t n, size_t size, MPI_Datatype t)
{
	double t0 = sr_now();
	size_t sent = 0;
	char *tmp = malloc(n ? n * size : 1);
	int r = d->rank, N = d->size;
	for (int step = 1; step < N; step <<= 1) {
		if (r & step) {
			for (size_t i = 0; i < n; i += MAX_COUNT)
				MPI_Send((char *)v + i * size, (int)(n - i < MAX_COUNT ? n - i : MAX_COUNT), t, r - step, 7,
					 d->comm);
			sent += n * size;
			break;
		}
		if (r + step < N) {
			for (size_t i = 0; i < n; i += MAX_COUNT) {
				size_t c = n - i < MAX_COUNT ? n - i : MAX_COUNT;
				void *into = tmp ? tmp + i * size : (char *)v + i * size; /* out of memory: the sum is lost */
				MPI_Recv(into, (int)c, t, r + step, 7, d->comm, MPI_STATUS_IGNORE);
			}
			if (tmp && size == sizeof(float))
				for (size_t i = 0; i < n; i++)
					((float *)v)[i] += ((const float *)(const void *)tmp)[i];
			else if (tmp)
				for (size_t i = 0; i < n; i++)
					((double *)v)[i] += ((const double *)(const void *)tmp)[i];
		}
	}
	free(tmp);
	count(d, sent, t0);
	sr_dist_bcast(d, v, n * size, 0);
}
#endif

void sr_dist_sum_tree_f32(const struct softreg_dist *d, float *v, size_t n)
{
	if (!sr_dist_on(d))
		return;
#if SOFTREG_MPI
	tree_sum(d, v, n, sizeof(float), MPI_FLOAT);
#else
	(void)v;
	(void)n;
#endif
}

void sr_dist_sum_tree_f64(const struct softreg_dist *d, double *v, size_t n)
{
	if (!sr_dist_on(d))
		return;
#if SOFTREG_MPI
	tree_sum(d, v, n, sizeof(double), MPI_DOUBLE);
#else
	(void)v;
	(void)n;
#endif
}

void softreg_dist_set_sums(struct softreg_dist *d, int exact)
{
	if (d)
		d->tree_sums = !exact;
}

bool sr_dist_any(const struct softreg_dist *d, bool flag)
{
	if (!sr_dist_on(d))
		return flag;
#if SOFTREG_MPI
	double t0 = sr_now();
	int f = flag, any = 0;
	MPI_Allreduce(&f, &any, 1, MPI_INT, MPI_LOR, d->comm);
	count(d, sizeof(int), t0);
	return any != 0;
#else
	return flag;
#endif
}

void sr_dist_bcast(const struct softreg_dist *d, void *buf, size_t bytes, int root)
{
	if (!sr_dist_on(d))
		return;
#if SOFTREG_MPI
	double t0 = sr_now();
	for (size_t i = 0; i < bytes; i += MAX_COUNT)
		MPI_Bcast((char *)buf + i, (int)(bytes - i < MAX_COUNT ? bytes - i : MAX_COUNT), MPI_BYTE, root, d->comm);
	count(d, d->rank == root ? bytes : 0, t0);
#else
	(void)buf;
	(void)bytes;
	(void)root;
#endif
}

enum softreg_result softreg_dist_agree(const struct softreg_dist *d, enum softreg_result r, char *err)
{
	if (!sr_dist_on(d))
		return r;
#if SOFTREG_MPI
	int mine = r ? d->rank : d->size, first = d->size;
	MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, d->comm);
	if (first == d->size)
		return SOFTREG_OK;
	struct {
		int r;
		char msg[SOFTREG_ERRLEN];
	} m = {0};
	if (d->rank == first) {
		m.r = (int)r;
		snprintf(m.msg, sizeof(m.msg), "rank %d: %s", first, err && *err ? err : softreg_result_name(r));
	}
	MPI_Bcast(&m, (int)sizeof(m), MPI_BYTE, first, d->comm);
	if (err)
		snprintf(err, SOFTREG_ERRLEN, "%s", m.msg);
	return (enum softreg_result)m.r;
#else
	(void)err;
	return r;
#endif
}

void sr_dist_gather_groups(const struct softreg_dist *d, float *part, size_t stride, size_t len, size_t ng,
			   double *loss, size_t nc)
{
	if (!sr_dist_on(d))
		return;
#if SOFTREG_MPI
	double t0 = sr_now();
	int N = d->size;
	int *cnt = malloc(4 * (size_t)N * sizeof(int));
	if (!cnt) /* cannot happen in practice (a few ints); every process fails alike only here */
		return;
	int *dsp = cnt + N, *lcnt = dsp + N, *ldsp = lcnt + N;
	for (int r = 0; r < N; r++) {
		size_t g0 = sr_part((size_t)r, ng, (size_t)N), g1 = sr_part((size_t)r + 1, ng, (size_t)N);
		cnt[r] = (int)(g1 - g0);
		dsp[r] = (int)g0;
		size_t c0 = sr_part(g0, nc, ng), c1 = sr_part(g1, nc, ng);
		lcnt[r] = (int)(c1 - c0);
		ldsp[r] = (int)c0;
	}
	/* one group: 'len' floats, the next 'stride' floats on */
	MPI_Datatype one, group;
	MPI_Type_contiguous((int)len, MPI_FLOAT, &one);
	MPI_Type_create_resized(one, 0, (MPI_Aint)(stride * sizeof(float)), &group);
	MPI_Type_commit(&group);
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, part, cnt, dsp, group, d->comm);
	if (loss)
		MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, loss, lcnt, ldsp, MPI_DOUBLE, d->comm);
	MPI_Type_free(&group);
	MPI_Type_free(&one);
	count(d, (size_t)cnt[d->rank] * len * sizeof(float) + (loss ? (size_t)lcnt[d->rank] * sizeof(double) : 0), t0);
	free(cnt);
#else
	(void)part;
	(void)stride;
	(void)len;
	(void)ng;
	(void)loss;
	(void)nc;
#endif
}

void sr_dist_gather_rows(const struct softreg_dist *d, float *X, size_t d_cols, const size_t *owner_lo)
{
	if (!sr_dist_on(d))
		return;
#if SOFTREG_MPI
	double t0 = sr_now();
	int N = d->size;
	int *cnt = malloc(2 * (size_t)N * sizeof(int));
	if (!cnt)
		return;
	MPI_Datatype row;
	MPI_Type_contiguous((int)d_cols, MPI_FLOAT, &row);
	MPI_Type_commit(&row);
	for (int r = 0; r < N; r++) {
		cnt[r] = (int)(owner_lo[r + 1] - owner_lo[r]);
		cnt[N + r] = (int)owner_lo[r];
	}
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, X, cnt, cnt + N, row, d->comm);
	MPI_Type_free(&row);
	count(d, (size_t)cnt[d->rank] * d_cols * sizeof(float), t0);
	free(cnt);
#else
	(void)X;
	(void)d_cols;
	(void)owner_lo;
#endif
}

/* ---- a process's rows of an IDX pair ---- */

enum softreg_result softreg_dataset_load_rows(const char *images, const char *labels, uint64_t max_bytes,
					      size_t row0, size_t count, struct softreg_dataset *ds,
					      int64_t **labels_all_ret, char *err)
{
	memset(ds, 0, sizeof(*ds));
	if (labels_all_ret)
		*labels_all_ret = NULL;
	struct softreg_idx img = {0}, lab = {0};
	enum softreg_result r = softreg_idx_read_rows(images, max_bytes, row0, count, &img, err);
	if (r == SOFTREG_OK)
		r = softreg_idx_read(labels, max_bytes, &lab, err);
	if (r == SOFTREG_OK && img.ndim != 3)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: expected an image file (3 dimensions), found %zu", images,
			    img.ndim);
	if (r == SOFTREG_OK && lab.ndim != 1)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: expected a label file (1 dimension), found %zu", labels,
			    lab.ndim);
	if (r == SOFTREG_OK && img.dims[1] * img.dims[2] > SOFTREG_MAX_FEATURES)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: images of %zux%zu pixels are more features than a model takes",
			    images, img.dims[1], img.dims[2]);
	if (r == SOFTREG_OK && img.dims[0] > UINT32_MAX)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: more than 2^32 - 1 images", images);
	if (r == SOFTREG_OK && img.dims[0] != lab.dims[0])
		r = sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: %zu labels for %zu images in %s", labels, lab.dims[0],
			    img.dims[0], images);
	size_t n = lab.dims[0];
	int64_t *mine = NULL, *all = NULL;
	if (r == SOFTREG_OK) {
		mine = malloc((count ? count : 1) * sizeof(int64_t));
		all = labels_all_ret ? malloc(n * sizeof(int64_t)) : NULL;
		if (!mine || (labels_all_ret && !all))
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", labels);
	}
	if (r) {
		free(mine);
		free(all);
		softreg_idx_free(&img);
		softreg_idx_free(&lab);
		return r;
	}
	for (size_t i = 0; i < count; i++)
		mine[i] = lab.data[row0 + i];
	for (size_t i = 0; all && i < n; i++)
		all[i] = lab.data[i];
	softreg_idx_free(&lab);
	ds->n = count;
	ds->rows = img.dims[1];
	ds->cols = img.dims[2];
	ds->d = ds->rows * ds->cols;
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = count, .d = ds->d, .data = img.data};
	ds->labels = mine;
	sr_dataset_own(ds, img.data);
	sr_dataset_own(ds, mine);
	if (labels_all_ret)
		*labels_all_ret = all;
	return SOFTREG_OK;
}

/* ---- a libsvm or CSV file read by the processes together ---- */

#if SOFTREG_MPI
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Rows [o, o + c) of the file are here; the rows of [lo[q], hi[q]) go to
 * process q: counts and offsets (in rows) of what goes to each */
static void route(size_t o, size_t c, const size_t *lo, const size_t *hi, int N, int *cnt, int *dsp)
{
	for (int q = 0; q < N; q++) {
		size_t a = o > lo[q] ? o : lo[q], b = o + c < hi[q] ? o + c : hi[q];
		cnt[q] = b > a ? (int)(b - a) : 0;
		dsp[q] = b > a ? (int)(a - o) : 0;
	}
}

/* L's CSR rows to ds->x (n_me rows), as the row counts and offsets of
 * 'rows' say (sent, then received: 4 x N ints) */
static enum softreg_result move_csr(const struct softreg_dist *d, const struct softreg_dataset *L, const int *rows,
				    size_t n_me, size_t dfeat, struct softreg_dataset *ds, char *err)
{
	int N = d->size;
	size_t nl = L->n;
	const int *scnt = rows, *sdsp = rows + N, *rcnt = rows + 2 * N, *rdsp = rows + 3 * N;
	int *ints = calloc(4 * (size_t)N, sizeof(int));
	int *sncnt = ints, *sndsp = ints + N, *rncnt = ints + 2 * N, *rndsp = ints + 3 * N;
	uint64_t *snz = malloc((nl ? nl : 1) * sizeof(uint64_t)), *rnz = malloc((n_me ? n_me : 1) * sizeof(uint64_t));
	uint64_t *indptr = malloc((n_me + 1) * sizeof(uint64_t));
	int64_t ok = ints && snz && rnz && indptr;
	sr_dist_sum_i64(d, &ok, 1); /* every process, or none */
	if (ok != N) {
		free(ints), free(snz), free(rnz), free(indptr);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory to exchange rows");
	}
	for (size_t i = 0; i < nl; i++)
		snz[i] = L->x.indptr[i + 1] - L->x.indptr[i];
	MPI_Alltoallv(snz, scnt, sdsp, MPI_UINT64_T, rnz, rcnt, rdsp, MPI_UINT64_T, d->comm);
	indptr[0] = 0;
	for (size_t i = 0; i < n_me; i++)
		indptr[i + 1] = indptr[i] + rnz[i];
	/* the nonzeros: what each row range holds */
	for (int q = 0; q < N; q++) {
		sndsp[q] = (int)L->x.indptr[sdsp[q]];
		sncnt[q] = (int)(L->x.indptr[sdsp[q] + scnt[q]] - L->x.indptr[sdsp[q]]);
		rndsp[q] = (int)indptr[rdsp[q]];
		rncnt[q] = (int)(indptr[rdsp[q] + rcnt[q]] - indptr[rdsp[q]]);
	}
	size_t nnz = indptr[n_me];
	uint32_t *indices = malloc((nnz ? nnz : 1) * sizeof(uint32_t));
	float *values = malloc((nnz ? nnz : 1) * sizeof(float));
	ok = indices && values;
	sr_dist_sum_i64(d, &ok, 1);
	if (ok == N) {
		MPI_Alltoallv(L->x.indices, sncnt, sndsp, MPI_UINT32_T, indices, rncnt, rndsp, MPI_UINT32_T, d->comm);
		MPI_Alltoallv(L->x.values, sncnt, sndsp, MPI_FLOAT, values, rncnt, rndsp, MPI_FLOAT, d->comm);
	}
	count(d, nl * 8 + (size_t)L->x.indptr[nl] * 8, sr_now());
	free(ints);
	free(snz);
	free(rnz);
	if (ok != N) {
		free(indptr), free(indices), free(values);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory to exchange rows");
	}
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_CSR, .n = n_me, .d = dfeat, .indptr = indptr,
					.indices = indices, .values = values};
	sr_dataset_own(ds, indptr);
	sr_dataset_own(ds, indices);
	sr_dataset_own(ds, values);
	return SOFTREG_OK;
}

/* L's dense float32 rows (CSV) likewise: one MPI type a row, so the counts
 * are rows */
static enum softreg_result move_dense(const struct softreg_dist *d, const struct softreg_dataset *L, const int *rows,
				      size_t n_me, size_t dfeat, struct softreg_dataset *ds, char *err)
{
	int N = d->size;
	size_t bytes;
	float *x = sr_mul(n_me ? n_me : 1, dfeat * sizeof(float), &bytes) ? malloc(bytes) : NULL;
	int64_t ok = x != NULL;
	sr_dist_sum_i64(d, &ok, 1);
	if (ok != N) {
		free(x);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory to exchange rows");
	}
	MPI_Datatype row;
	MPI_Type_contiguous((int)dfeat, MPI_FLOAT, &row);
	MPI_Type_commit(&row);
	MPI_Alltoallv(L->x.data, rows, rows + N, row, x, rows + 2 * N, rows + 3 * N, row, d->comm);
	MPI_Type_free(&row);
	count(d, L->n * dfeat * sizeof(float), sr_now());
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_F32, .n = n_me, .d = dfeat, .data = x};
	sr_dataset_own(ds, x);
	return SOFTREG_OK;
}

/* the rows of L (this process's lines, rows [o[me], o[me] + L->n) of the
 * file) to where softreg_dist_shard() puts them; into 'ds', CSR or dense as L */
static enum softreg_result move_rows(const struct softreg_dist *d, const struct softreg_dataset *L, const size_t *o,
				     const size_t *c, const size_t *lo, const size_t *hi, size_t dfeat,
				     struct softreg_dataset *ds, char *err)
{
	int N = d->size, me = d->rank;
	size_t n_me = hi[me] - lo[me], nl = L->n;
	int *rows = calloc(4 * (size_t)N, sizeof(int));
	int *scnt = rows, *sdsp = rows + N, *rcnt = rows + 2 * N, *rdsp = rows + 3 * N;
	int64_t *labels = malloc((n_me ? n_me : 1) * sizeof(int64_t));
	int64_t ok = rows && labels;
	sr_dist_sum_i64(d, &ok, 1); /* every process, or none */
	if (ok != N) {
		free(rows), free(labels);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "out of memory to exchange rows");
	}
	route(o[me], nl, lo, hi, N, scnt, sdsp);
	for (int p = 0; p < N; p++) { /* from p: its rows in my range */
		size_t a = o[p] > lo[me] ? o[p] : lo[me], b = o[p] + c[p] < hi[me] ? o[p] + c[p] : hi[me];
		rcnt[p] = b > a ? (int)(b - a) : 0;
		rdsp[p] = b > a ? (int)(a - lo[me]) : 0;
	}
	MPI_Alltoallv(L->labels, scnt, sdsp, MPI_INT64_T, labels, rcnt, rdsp, MPI_INT64_T, d->comm);
	count(d, nl * 8, sr_now());
	memset(ds, 0, sizeof(*ds));
	ds->n = n_me;
	ds->d = dfeat;
	ds->rows = 1;
	ds->cols = dfeat;
	ds->labels = labels;
	sr_dataset_own(ds, labels);
	enum softreg_result r = L->x.kind == SOFTREG_SOURCE_CSR ? move_csr(d, L, rows, n_me, dfeat, ds, err)
								: move_dense(d, L, rows, n_me, dfeat, ds, err);
	free(rows);
	if (r)
		softreg_dataset_free(ds);
	return r;
}
#endif

/* softreg_dataset_read_libsvm_dist() and softreg_dataset_read_csv_dist() */
static enum softreg_result read_text_dist(const struct softreg_dist *d, const char *path, bool csv,
					  const struct softreg_read_opts *opts, size_t validation, int align,
					  struct softreg_dataset *ds, size_t *row0_ret, size_t *n_ret,
					  int64_t **classes_ret, size_t *nclasses_ret, char *err)
{
	memset(ds, 0, sizeof(*ds));
	*row0_ret = *n_ret = *nclasses_ret = 0;
	*classes_ret = NULL;
	if (!sr_dist_on(d)) {
		enum softreg_result r = csv ? sr_csv_read(path, opts, ds, err) : sr_libsvm_read(path, opts, ds, err);
		*n_ret = ds->n;
		return r;
	}
#if SOFTREG_MPI
	int N = d->size, me = d->rank;
	size_t size = 0, b0, b1;
	int fd = sr_open_fd(path, &size, err);
	enum softreg_result r = fd < 0 ? SOFTREG_ERR_IO : SOFTREG_OK;
	if (fd >= 0)
		close(fd);
	struct softreg_dataset L = {0};
	sr_dist_share(d, size, &b0, &b1);
	if (r == SOFTREG_OK)
		r = csv ? sr_csv_read_range(path, opts, b0, b1, &L, err)
			: sr_libsvm_read_range(path, opts, b0, b1, &L, err);
	/* every process's rows, features and dropped values, then the distinct labels */
	size_t nw = 3 * (size_t)N;
	int64_t *v = calloc(nw, sizeof(int64_t));
	if (r == SOFTREG_OK && !v)
		r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	if ((r = softreg_dist_agree(d, r, err))) {
		free(v);
		softreg_dataset_free(&L);
		return r;
	}
	v[me] = (int64_t)L.n;
	v[N + me] = (int64_t)L.d;
	v[2 * N + me] = (int64_t)L.dropped;
	sr_dist_sum_i64(d, v, nw);
	size_t *o = calloc(4 * (size_t)N + 1, sizeof(size_t)), *c = o + N + 1, *lo = c + N, *hi = lo + N, n = 0, dfeat = 0,
	       dropped = 0;
	for (int q = 0; o && q < N; q++) {
		o[q] = n;
		c[q] = (size_t)v[q];
		n += c[q];
		dfeat = (size_t)v[N + q] > dfeat ? (size_t)v[N + q] : dfeat;
		dropped += (size_t)v[2 * N + q];
	}
	free(v);
	if (o) {
		size_t trained = validation < n ? n - validation : 0;
		for (int q = 0; q < N; q++) {
			size_t cnt;
			shard_of((size_t)q, (size_t)N, n, trained, align, &lo[q], &cnt);
			hi[q] = lo[q] + cnt;
		}
	}
	/* the messages of one process */
	r = o ? SOFTREG_OK : sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	if (r == SOFTREG_OK && n == 0)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %s", path,
			    !csv    ? "no samples (every line is blank or a comment)"
			    : dfeat ? "no data rows (a header alone)"
				    : "no data (the file is empty or blank)");
	if (r == SOFTREG_OK && dfeat == 0)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: no features (every line holds a label alone)", path);
	if ((r = softreg_dist_agree(d, r, err))) {
		free(o);
		softreg_dataset_free(&L);
		return r;
	}
	r = move_rows(d, &L, o, c, lo, hi, dfeat, ds, err);
	softreg_dataset_free(&L);
	*row0_ret = lo[me];
	*n_ret = n;
	free(o);
	if (r)
		return r;
	ds->dropped = dropped;
	/* the class table needs every label: the distinct ones of every process */
	int64_t *mine = malloc((ds->n ? ds->n : 1) * sizeof(int64_t));
	int64_t *cnts = calloc((size_t)N + 1, sizeof(int64_t));
	size_t k = 0;
	if (mine && cnts) {
		memcpy(mine, ds->labels, ds->n * sizeof(int64_t));
		qsort(mine, ds->n, sizeof(int64_t), cmp_i64);
		for (size_t i = 0; i < ds->n; i++)
			if (i == 0 || mine[i] != mine[k - 1])
				mine[k++] = mine[i];
		cnts[me] = (int64_t)k;
	} else if (cnts) {
		cnts[N] = 1;
	}
	int64_t fail = !mine || !cnts;
	sr_dist_sum_i64(d, cnts ? cnts : &fail, cnts ? (size_t)N + 1 : 1);
	size_t total = 0;
	int *rc = cnts && !cnts[N] ? malloc(2 * (size_t)N * sizeof(int)) : NULL;
	for (int q = 0; rc && q < N; q++) {
		rc[N + q] = (int)total;
		rc[q] = (int)cnts[q];
		total += (size_t)cnts[q];
	}
	int64_t *all = rc ? malloc((total ? total : 1) * sizeof(int64_t)) : NULL;
	int64_t bad = !all;
	sr_dist_sum_i64(d, &bad, 1);
	if (!bad)
		MPI_Allgatherv(mine, (int)k, MPI_INT64_T, all, rc, rc + N, MPI_INT64_T, d->comm);
	free(mine);
	free(cnts);
	free(rc);
	if (bad) {
		free(all);
		softreg_dataset_free(ds);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for the class table", path);
	}
	*classes_ret = all;
	*nclasses_ret = total;
	return SOFTREG_OK;
#else
	(void)validation;
	(void)align;
	(void)row0_ret;
	return SOFTREG_OK;
#endif
}

enum softreg_result softreg_dataset_read_libsvm_dist(const struct softreg_dist *d, const char *path,
						     const struct softreg_read_opts *opts, size_t validation,
						     int align, struct softreg_dataset *ds, size_t *row0_ret,
						     size_t *n_ret, int64_t **classes_ret, size_t *nclasses_ret,
						     char *err)
{
	return read_text_dist(d, path, false, opts, validation, align, ds, row0_ret, n_ret, classes_ret,
			      nclasses_ret, err);
}

enum softreg_result softreg_dataset_read_csv_dist(const struct softreg_dist *d, const char *path,
						  const struct softreg_read_opts *opts, size_t validation, int align,
						  struct softreg_dataset *ds, size_t *row0_ret, size_t *n_ret,
						  int64_t **classes_ret, size_t *nclasses_ret, char *err)
{
	return read_text_dist(d, path, true, opts, validation, align, ds, row0_ret, n_ret, classes_ret,
			      nclasses_ret, err);
}

void softreg_dist_bcast(const struct softreg_dist *d, void *buf, size_t bytes)
{
	sr_dist_bcast(d, buf, bytes, 0);
}
