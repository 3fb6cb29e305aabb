/* SPDX-License-Identifier: MIT
 * kernel_sparse.c: the kernel for CSR rows. Only the nonzeros are touched:
 * z_c = b_c + sum over the row's nonzeros (j, v) of W[c][j] v, and the
 * gradient scatters G[i][c] v into dW[c][j].
 *
 * Layout. For each call W is copied transposed, the feature scale s_j (the
 * model's scale or 1/std_j) folded in, in blocks of 8 classes: row j of a
 * thread's copy holds its blocks' W[c][j] s_j, 8 floats a block, padded
 * classes 0. So a nonzero costs one broadcast and one FMA per block forward
 * and one load, FMA and store per block into Gt (laid out alike) backward.
 * The copies cost 2kd per call, against 4 nnz k for the batch (what makes
 * the kernel lose below ~96 rows a batch). A logit sums its nonzeros in 4
 * interleaved partial sums. Rows come shuffled: the nonzeros of the row 16
 * ahead, and the offsets of the row 32 ahead, are prefetched. CSR made of
 * uint8 pixels comes in the compact form (uint16 indices, uint8 values):
 * 3 bytes a nonzero instead of 8; the SIMD loops read 4 of its indices in
 * one 8-byte load and make 4 values floats in one conversion, then broadcast
 * each by a permute (fewer loads per nonzero: one table load each before).
 *
 * Threads. k <= 16 (one or two blocks): the batch's chunks are cut into row
 * groups by the batch size alone (a group per 50 rows, at most 4, and beyond
 * 2 at most one per 128 rows); a row goes through logits, softmax and
 * scatter in one pass (on the SIMD paths its 8 or 16 logits stay in
 * registers from the first FMA to the last scatter, and the next row's
 * logits are summed before its scatter), into its group's partial gradient;
 * the partials are added in group order, each thread adding its features.
 * More classes: the threads split the blocks; each computes its classes'
 * logits for every row, then (after a barrier and the softmax of rows split
 * by chunks) its classes' gradient over the rows in batch order, with no
 * partials. Either way every sum has one order
 * whatever the thread count: the same bits at any thread count. Under MPI
 * the row groups are shared among the processes (sr_sparse_loss_grad_shared).
 *
 * Paths. The loops are written for AVX-512, for AVX2 + FMA (function target
 * attributes, so a portable build has them) and in plain C; the CPU's best
 * is chosen at the first call (cpuid); $SOFTREG_DISABLE_CPU_FEATURES=avx512
 * forces the AVX2 loops and =avx2 the plain ones, so the tests run each.
 * The AVX-512 loops give the AVX2 loops' bits (the same operations, lane for
 * lane); the plain ones round differently (no FMA). Each path gives the
 * same bits at any thread count.
 *
 * The model's preprocessing must not centre (mean 0: softreg_model_check_data
 * refuses a centring model for sparse data), so an absent feature stays 0. */
#include "internal.h"
#include "dist.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define LANES 8 /* classes per block */
#define STRIP 2 /* blocks a row's nonzeros are run over at once */
#define AHEAD 16 /* rows prefetched ahead */

/* one call's operands, shared by the threads */
struct op {
	const struct softreg_batch *b;
	const uint64_t *indptr;
	const uint32_t *indices;
	const float *values;
	const uint16_t *indices16; /* the compact form, or NULL */
	const uint8_t *values8;
	size_t m, d, kp; /* kp: classes padded to blocks */
	size_t zs;       /* floats from one block of Z to the next */
	const float *Wt, *bk;
	float *Gt, *gb, *Z; /* Z (blocks, m, 8): a thread's logits apart from another's */
};

/* Each block's logit sums the row's nonzeros in UNROLL interleaved partial
 * sums (nonzero p into sum (p - p0) mod UNROLL, the last (p1 - p0) mod
 * UNROLL into sum 0), added as (s0 + s1) + (s2 + s3) and then to the bias:
 * one chain of FMAs waited 4 cycles per nonzero. Every path and every strip
 * width sums in this order. */
#define UNROLL 4

/* row i's 8 logits (or G) of block blk */
static inline float *zrow(const struct op *o, size_t i, size_t blk)
{
	return o->Z + blk * o->zs + i * LANES;
}

/* block blk's bias gradient: blocks a cache line apart, as threads write them */
#define GB_STRIDE 16

/* Prefetch the nonzeros of row i, and the offsets of row i + AHEAD: rows come
 * shuffled, so computing the address of a row's nonzeros is itself a miss
 * (on indptr) unless its offsets were fetched a while before. */
/* always inline: GCC deleted calls of this function, which has no effect
 * but the prefetches (a shuffled epoch took 56 ms instead of 35) */
static inline __attribute__((always_inline)) void prefetch_row(const struct op *o, size_t i)
{
	if (i + AHEAD < o->m)
		__builtin_prefetch(o->indptr + sr_row(o->b, i + AHEAD));
	if (i >= o->m)
		return;
	size_t row = sr_row(o->b, i);
	uint64_t p0 = o->indptr[row], p1 = o->indptr[row + 1];
	if (o->values8) {
		for (uint64_t p = p0; p < p1; p += 32)
			__builtin_prefetch(o->indices16 + p);
		for (uint64_t p = p0; p < p1; p += 64)
			__builtin_prefetch(o->values8 + p);
		return;
	}
	for (uint64_t p = p0; p < p1; p += 16) {
		__builtin_prefetch(o->indices + p);
		__builtin_prefetch(o->values + p);
	}
}

/* the floats of the bytes 0..255, to broadcast a compact value from */
static float u8_float[256];

__attribute__((constructor)) static void fill_u8_float(void)
{
	for (int i = 0; i < 256; i++)
		u8_float[i] = (float)i;
}

/* nonzeros [p, p + 4) of the compact CSR (idx16, val8): their 4 indices in
 * one word (index u in bits 16u to 16u + 15) and their 4 value bytes in
 * *values: two loads where 4 nonzeros took 8 (the SIMD loops' compact
 * reads). The arrays come as the caller's local copies: read through the
 * op, they were loaded again after every store of the scatter (which might,
 * for all the compiler knows, have changed the op). */
static inline uint64_t compact4(const uint16_t *idx16, const uint8_t *val8, uint64_t p, uint32_t *values)
{
	uint64_t q;
	memcpy(&q, idx16 + p, sizeof(q));
	memcpy(values, val8 + p, sizeof(*values));
	return q;
}

/* ---- the plain path ---- */

/* logits of blocks [b0, b1) of row i into Z */
static void fwd_plain(const struct op *o, size_t i, size_t b0, size_t b1)
{
	size_t row = sr_row(o->b, i);
	uint64_t p0 = o->indptr[row], p1 = o->indptr[row + 1], full = p0 + (p1 - p0) / UNROLL * UNROLL;
	for (size_t blk = b0; blk < b1; blk++) {
		size_t width = (b1 - b0) * LANES;
		const float *restrict w = o->Wt + b0 * o->d * LANES + (blk - b0) * LANES;
		float acc[UNROLL][LANES] = {{0}};
		for (uint64_t p = p0; p < p1; p++) {
			const float *wj = w + (size_t)sr_csr_index(o->b->src, p) * width;
			float v = sr_csr_value(o->b->src, p), *a = acc[p < full ? (p - p0) % UNROLL : 0];
			for (int l = 0; l < LANES; l++)
				a[l] += v * wj[l];
		}
		float *z = zrow(o, i, blk);
		for (int l = 0; l < LANES; l++)
			z[l] = o->bk[blk * LANES + (size_t)l] + ((acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]));
	}
}

/* gradient of blocks [b0, b1) from row i: Gt += v g, gb += g */
static void bwd_plain(const struct op *o, size_t i, size_t b0, size_t b1)
{
	size_t row = sr_row(o->b, i);
	uint64_t p0 = o->indptr[row], p1 = o->indptr[row + 1];
	for (size_t blk = b0; blk < b1; blk++) {
		size_t width = (b1 - b0) * LANES;
		float *restrict gt = o->Gt + b0 * o->d * LANES + (blk - b0) * LANES, *gb = o->gb + blk * GB_STRIDE;
		const float *g = zrow(o, i, blk);
		for (int l = 0; l < LANES; l++)
			gb[l] += g[l];
		for (uint64_t p = p0; p < p1; p++) {
			float *gj = gt + (size_t)sr_csr_index(o->b->src, p) * width, v = sr_csr_value(o->b->src, p);
			for (int l = 0; l < LANES; l++)
				gj[l] += v * g[l];
		}
	}
}

/* ---- the AVX2 + FMA path ---- */
#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))

/* The sums over nonzeros [p0, p1) of v * w[j][s*8 .. s*8+8) for the S
 * blocks of rows of 'width' floats at w, each in UNROLL interleaved partial
 * sums added as (s0 + s1) + (s2 + s3); S and C are constants in each call,
 * so the UNROLL x S partial sums stay in registers */
AVX2 static inline __attribute__((always_inline)) void strip_sums(const struct op *o, uint64_t p0, uint64_t p1,
								   const float *restrict w, size_t width, int S,
								   bool C, __m256 *sum)
{
	const uint32_t *restrict idx = o->indices;
	const float *restrict val = o->values;
	const uint16_t *restrict idx16 = o->indices16;
	const uint8_t *restrict val8 = o->values8;
	uint64_t p = p0;
	__m256 acc[STRIP][UNROLL];
	for (int s = 0; s < S; s++)
		for (int u = 0; u < UNROLL; u++)
			acc[s][u] = _mm256_setzero_ps();
	if (C) /* compact: 4 indices in one load, 4 values made floats at once */
		for (; p + UNROLL <= p1; p += UNROLL) {
			uint32_t vb;
			uint64_t q = compact4(idx16, val8, p, &vb);
			__m256 v4 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi32_si128((int)vb)));
			for (int u = 0; u < UNROLL; u++) {
				const float *wj = w + (size_t)(q >> (16 * u) & 0xffff) * width;
				__m256 v = _mm256_permutevar8x32_ps(v4, _mm256_set1_epi32(u));
				for (int s = 0; s < S; s++)
					acc[s][u] = _mm256_fmadd_ps(v, _mm256_load_ps(wj + s * LANES), acc[s][u]);
			}
		}
	else
		for (; p + UNROLL <= p1; p += UNROLL)
			for (int u = 0; u < UNROLL; u++) {
				const float *wj = w + (size_t)idx[p + u] * width;
				__m256 v = _mm256_broadcast_ss(val + p + u);
				for (int s = 0; s < S; s++)
					acc[s][u] = _mm256_fmadd_ps(v, _mm256_load_ps(wj + s * LANES), acc[s][u]);
			}
	for (; p < p1; p++) {
		const float *wj = w + (size_t)(C ? idx16[p] : idx[p]) * width;
		__m256 v = _mm256_broadcast_ss(C ? u8_float + val8[p] : val + p);
		for (int s = 0; s < S; s++)
			acc[s][0] = _mm256_fmadd_ps(v, _mm256_load_ps(wj + s * LANES), acc[s][0]);
	}
	for (int s = 0; s < S; s++)
		sum[s] = _mm256_add_ps(_mm256_add_ps(acc[s][0], acc[s][1]), _mm256_add_ps(acc[s][2], acc[s][3]));
}

/* gt[j][s*8 .. s*8+8) += v g[s] for the nonzeros [p0, p1) and the S blocks */
AVX2 static inline __attribute__((always_inline)) void strip_scatter(const struct op *o, uint64_t p0, uint64_t p1,
								      float *restrict gt, size_t width, int S, bool C,
								      const __m256 *g)
{
	const uint32_t *restrict idx = o->indices;
	const float *restrict val = o->values;
	const uint16_t *restrict idx16 = o->indices16;
	const uint8_t *restrict val8 = o->values8;
	uint64_t p = p0;
	if (C) /* as strip_sums() */
		for (; p + 4 <= p1; p += 4) {
			uint32_t vb;
			uint64_t q = compact4(idx16, val8, p, &vb);
			__m256 v4 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi32_si128((int)vb)));
			for (int u = 0; u < 4; u++) {
				float *gj = gt + (size_t)(q >> (16 * u) & 0xffff) * width;
				__m256 v = _mm256_permutevar8x32_ps(v4, _mm256_set1_epi32(u));
				for (int s = 0; s < S; s++)
					_mm256_store_ps(gj + s * LANES,
							_mm256_fmadd_ps(v, g[s], _mm256_load_ps(gj + s * LANES)));
			}
		}
	for (; p < p1; p++) {
		float *gj = gt + (size_t)(C ? idx16[p] : idx[p]) * width;
		__m256 v = _mm256_broadcast_ss(C ? u8_float + val8[p] : val + p);
		for (int s = 0; s < S; s++)
			_mm256_store_ps(gj + s * LANES, _mm256_fmadd_ps(v, g[s], _mm256_load_ps(gj + s * LANES)));
	}
}

/* S blocks from blk of row i */
AVX2 static inline __attribute__((always_inline)) void fwd_avx2_strip(const struct op *o, uint64_t p0, uint64_t p1,
								       size_t i, size_t b0, size_t b1, size_t blk, int S,
								       bool C)
{
	size_t width = (b1 - b0) * LANES; /* the thread's copy of W: rows of its blocks */
	__m256 sum[STRIP];
	strip_sums(o, p0, p1, o->Wt + b0 * o->d * LANES + (blk - b0) * LANES, width, S, C, sum);
	for (int s = 0; s < S; s++)
		_mm256_storeu_ps(zrow(o, i, blk + s), _mm256_add_ps(_mm256_loadu_ps(o->bk + (blk + s) * LANES), sum[s]));
}

/* row i's blocks [b0, b1) through STRIP_FN in strips of 2 blocks (then 1),
 * on the compact CSR (C true) or the full one: the strip width and C are
 * constants in each call, so the strip's registers are fixed */
#define FOR_STRIPS(STRIP_FN)                                                   \
	size_t row = sr_row(o->b, i), blk = b0;                                \
	uint64_t p0 = o->indptr[row], p1 = o->indptr[row + 1];                 \
	bool C = o->values8 != NULL;                                           \
	for (; blk + 2 <= b1; blk += 2) {                                      \
		if (C)                                                         \
			STRIP_FN(o, p0, p1, i, b0, b1, blk, 2, true);          \
		else                                                           \
			STRIP_FN(o, p0, p1, i, b0, b1, blk, 2, false);         \
	}                                                                      \
	if (blk < b1 && C)                                                     \
		STRIP_FN(o, p0, p1, i, b0, b1, blk, 1, true);                  \
	else if (blk < b1)                                                     \
		STRIP_FN(o, p0, p1, i, b0, b1, blk, 1, false)

AVX2 static void fwd_avx2(const struct op *o, size_t i, size_t b0, size_t b1)
{
	FOR_STRIPS(fwd_avx2_strip);
}

AVX2 static inline __attribute__((always_inline)) void bwd_avx2_strip(const struct op *o, uint64_t p0, uint64_t p1,
								       size_t i, size_t b0, size_t b1, size_t blk, int S,
								       bool C)
{
	size_t width = (b1 - b0) * LANES;
	__m256 g[STRIP];
	for (int s = 0; s < S; s++) {
		g[s] = _mm256_loadu_ps(zrow(o, i, blk + s));
		float *gb = o->gb + (blk + s) * GB_STRIDE;
		_mm256_storeu_ps(gb, _mm256_add_ps(_mm256_loadu_ps(gb), g[s]));
	}
	strip_scatter(o, p0, p1, o->Gt + b0 * o->d * LANES + (blk - b0) * LANES, width, S, C, g);
}

AVX2 static void bwd_avx2(const struct op *o, size_t i, size_t b0, size_t b1)
{
	FOR_STRIPS(bwd_avx2_strip);
}

/* exp(x) for x <= 0, 8 lanes: exp_nonpositive()'s reduction and polynomial
 * (kernels.c), each step rounded once by an FMA where that one rounds twice,
 * so the two may differ in the last bits; -inf and below ln(FLT_MIN) give 0,
 * a NaN stays NaN */
AVX2 static inline __m256 exp8_nonpositive(__m256 x)
{
	const __m256 lowest = _mm256_set1_ps(SR_EXP_LOWEST), shifter = _mm256_set1_ps(SR_EXP_SHIFTER);
	__m256 xc = _mm256_max_ps(lowest, x); /* x when x is NaN */
	__m256 t = _mm256_fmadd_ps(xc, _mm256_set1_ps(SR_EXP_LOG2E), shifter), n = _mm256_sub_ps(t, shifter);
	__m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(SR_EXP_LN2_HI), xc);
	r = _mm256_fnmadd_ps(n, _mm256_set1_ps(SR_EXP_LN2_LO), r);
	__m256 p = _mm256_set1_ps(SR_EXP_P0);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SR_EXP_P1));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SR_EXP_P2));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SR_EXP_P3));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SR_EXP_P4));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(SR_EXP_P5));
	p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
	__m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(t),
									   _mm256_set1_epi32(SR_EXP_SHIFTER_BITS)),
							  _mm256_set1_epi32(127)),
					 23);
	__m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
	return _mm256_andnot_ps(_mm256_cmp_ps(x, lowest, _CMP_LT_OQ), e);
}

/* lane l of every lane of v: the largest */
AVX2 static inline __m256 hmax8(__m256 v)
{
	v = _mm256_max_ps(v, _mm256_permute2f128_ps(v, v, 1));
	v = _mm256_max_ps(v, _mm256_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
	return _mm256_max_ps(v, _mm256_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
}

/* row i's logits of S blocks: the bias added, padded classes -inf */
AVX2 static inline __attribute__((always_inline)) void logits8(const struct op *o, size_t i, size_t k, int S, bool C,
								__m256 *z)
{
	size_t row = sr_row(o->b, i);
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	strip_sums(o, o->indptr[row], o->indptr[row + 1], o->Wt, (size_t)S * LANES, S, C, z);
	for (int s = 0; s < S; s++) {
		z[s] = _mm256_add_ps(_mm256_loadu_ps(o->bk + s * LANES), z[s]);
		/* padded classes: -inf, out of the max and the sum */
		__m256 real = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)k - s * LANES), lane));
		z[s] = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), z[s], real);
	}
}

/*
 * Rows [i0, i1) for k <= 16 (S = 1 or 2 blocks): each row's logits, softmax
 * and loss, and with 'grad' G = S - Y and its scatter into o->Gt, the row's
 * 8 or 16 values kept in registers throughout (the general path stores the
 * logits and runs the scalar softmax). The logits sum as the strips do; the
 * softmax as sr_softmax_row() but for the order of the double sum: pairs of
 * lanes, then the halves. One row behind the other: row i + 1's logits are
 * summed before row i's scatter, so that the chain from a row's last FMA
 * through its softmax to the G its scatter waits for runs beside the next
 * row's sums (loss_grad 4-8% faster on one thread: README). Every sum in
 * the same order as row by row: the same bits. The loss takes one log a
 * chunk, of the product of its rows' sums of exponentials (each in [1, k],
 * so at most 16^16 for a chunk's 16 rows): libm's log, a row at a time, was
 * 4-5% of a shuffled epoch (MNIST b256, one thread and two). It is only the
 * loss: G, and so the model, does not depend on it.
 */
AVX2 static inline __attribute__((always_inline)) double rows_avx2_s(const struct op *o, size_t i0, size_t i1,
								    size_t k, bool grad, int S, bool C)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	double prod = 1, lin = 0;
	__m256 z[STRIP], e[STRIP], g[STRIP];
	prefetch_row(o, i0 + AHEAD);
	logits8(o, i0, k, S, C, z);
	for (size_t i = i0; i < i1; i++) {
		__m256 mx = z[0];
		for (int s = 1; s < S; s++)
			mx = _mm256_max_ps(mx, z[s]);
		mx = hmax8(mx);
		uint32_t y = sr_label(o->b, i);
		float zs[STRIP * LANES], mxs = _mm256_cvtss_f32(mx);
		__m256d sd = _mm256_setzero_pd();
		for (int s = 0; s < S; s++) {
			_mm256_storeu_ps(zs + s * LANES, z[s]);
			e[s] = exp8_nonpositive(_mm256_sub_ps(z[s], mx));
			sd = _mm256_add_pd(sd, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(e[s])),
							     _mm256_cvtps_pd(_mm256_extractf128_ps(e[s], 1))));
		}
		__m128d h = _mm_add_pd(_mm256_castpd256_pd128(sd), _mm256_extractf128_pd(sd, 1));
		double sumd = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
		__m256 inv = _mm256_set1_ps(1.0f / (float)sumd);
		for (int s = 0; s < S; s++) {
			__m256 hot = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_set1_epi32((int)y - s * LANES), lane));
			g[s] = _mm256_sub_ps(_mm256_mul_ps(e[s], inv), _mm256_and_ps(hot, _mm256_set1_ps(1.0f)));
		}
		if (i + 1 < i1) {
			prefetch_row(o, i + 1 + AHEAD);
			logits8(o, i + 1, k, S, C, z);
		}
		if (grad) {
			size_t row = sr_row(o->b, i);
			for (int s = 0; s < S; s++) {
				float *gb = o->gb + (size_t)s * GB_STRIDE;
				_mm256_storeu_ps(gb, _mm256_add_ps(_mm256_loadu_ps(gb), g[s]));
			}
			strip_scatter(o, o->indptr[row], o->indptr[row + 1], o->Gt, (size_t)S * LANES, S, C, g);
		}
		prod *= sumd;
		lin += (double)(zs[y] - mxs);
	}
	return log(prod) - lin;
}

AVX2 static double rows_avx2(const struct op *o, size_t i0, size_t i1, size_t k, bool grad)
{
	bool C = o->values8 != NULL;
	if (k > LANES)
		return C ? rows_avx2_s(o, i0, i1, k, grad, 2, true) : rows_avx2_s(o, i0, i1, k, grad, 2, false);
	return C ? rows_avx2_s(o, i0, i1, k, grad, 1, true) : rows_avx2_s(o, i0, i1, k, grad, 1, false);
}

/* r[0..8) transposed: out[c] = element c of the 8 rows */
AVX2 static inline void transpose8(const __m256 *r, __m256 *out)
{
	__m256 t[8], u[8];
	for (int i = 0; i < 4; i++) {
		t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
	}
	for (int i = 0; i < 2; i++) {
		u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
		u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
		u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
		u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
	}
	for (int c = 0; c < 4; c++) {
		out[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
		out[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
	}
}

/* add16_avx512() with 8 features a tile, each class block transposed apart */
AVX2 static size_t add16_avx2(const float *Gt, size_t gs, size_t G, size_t j0, size_t j1, size_t k, size_t d,
			      const float *is, float scale, float *grad_sum)
{
	size_t j = j0;
	for (; j + 8 <= j1; j += 8) {
		__m256 r[2][8], c8[2][8];
		for (int q = 0; q < 8; q++)
			for (int h = 0; h < 2; h++) {
				const float *p = Gt + (j + (size_t)q) * 2 * LANES + h * LANES;
				__m256 a = _mm256_loadu_ps(p);
				for (size_t g = 1; g < G; g++)
					a = _mm256_add_ps(a, _mm256_loadu_ps(p + g * gs));
				r[h][q] = a;
			}
		transpose8(r[0], c8[0]);
		transpose8(r[1], c8[1]);
		__m256 sv = is ? _mm256_loadu_ps(is + j) : _mm256_set1_ps(scale);
		for (size_t c = 0; c < k; c++)
			_mm256_storeu_ps(grad_sum + c * d + j, _mm256_mul_ps(c8[c / LANES][c % LANES], sv));
	}
	return j;
}

/* load_rows() of features [j0, j1) for 16 padded classes (the transposed
 * copy of W, scales folded in), 8 features at a time, each 8x8 block
 * transposed in registers; returns the first feature left to load_rows() */
AVX2 static size_t load16_avx2(const float *W, size_t d, size_t j0, size_t j1, size_t k, const float *is,
			       float scale, float *wt)
{
	size_t j = j0;
	for (; j + 8 <= j1; j += 8) {
		__m256 sv = is ? _mm256_loadu_ps(is + j) : _mm256_set1_ps(scale);
		for (size_t h = 0; h < 2; h++) {
			__m256 r[8], o[8];
			for (size_t q = 0; q < 8; q++) {
				size_t c = h * LANES + q;
				r[q] = c < k ? _mm256_mul_ps(_mm256_loadu_ps(W + c * d + j), sv) : _mm256_setzero_ps();
			}
			transpose8(r, o);
			for (size_t q = 0; q < 8; q++)
				_mm256_storeu_ps(wt + (j + q) * 2 * LANES + h * LANES, o[q]);
		}
	}
	return j;
}

/* ---- the AVX-512 path ----
 * The AVX2 path's operations, lane for lane, 16 classes a register: two
 * blocks in one zmm, so a nonzero costs one FMA forward and one load, FMA
 * and store backward where the AVX2 loops take two of each. Every lane sees
 * the same operations in the same order as there (the partial sums, the
 * exp, the double sum's pairs), so the two paths give the same bits
 * (tests/formats/test_simd_paths.sh compares trained models byte for byte). k <= 8 keeps
 * the AVX2 row: a second half would be padding. */
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

/* strip_sums() with Z registers of 16 floats (2 Z blocks) */
AVX512 static inline __attribute__((always_inline)) void strip_sums16(const struct op *o, uint64_t p0, uint64_t p1,
								     const float *restrict w, size_t width, int Z,
								     bool C, __m512 *sum)
{
	const uint32_t *restrict idx = o->indices;
	const float *restrict val = o->values;
	const uint16_t *restrict idx16 = o->indices16;
	const uint8_t *restrict val8 = o->values8;
	uint64_t p = p0;
	__m512 acc[STRIP][UNROLL];
	for (int s = 0; s < Z; s++)
		for (int u = 0; u < UNROLL; u++)
			acc[s][u] = _mm512_setzero_ps();
	if (C) /* as strip_sums() */
		for (; p + UNROLL <= p1; p += UNROLL) {
			uint32_t vb;
			uint64_t q = compact4(idx16, val8, p, &vb);
			__m512 v4 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_cvtsi32_si128((int)vb)));
			for (int u = 0; u < UNROLL; u++) {
				const float *wj = w + (size_t)(q >> (16 * u) & 0xffff) * width;
				__m512 v = _mm512_permutexvar_ps(_mm512_set1_epi32(u), v4);
				for (int s = 0; s < Z; s++)
					acc[s][u] = _mm512_fmadd_ps(v, _mm512_loadu_ps(wj + s * 2 * LANES), acc[s][u]);
			}
		}
	else
		for (; p + UNROLL <= p1; p += UNROLL)
			for (int u = 0; u < UNROLL; u++) {
				const float *wj = w + (size_t)idx[p + u] * width;
				__m512 v = _mm512_set1_ps(val[p + u]);
				for (int s = 0; s < Z; s++)
					acc[s][u] = _mm512_fmadd_ps(v, _mm512_loadu_ps(wj + s * 2 * LANES), acc[s][u]);
			}
	for (; p < p1; p++) {
		const float *wj = w + (size_t)(C ? idx16[p] : idx[p]) * width;
		__m512 v = _mm512_set1_ps(C ? u8_float[val8[p]] : val[p]);
		for (int s = 0; s < Z; s++)
			acc[s][0] = _mm512_fmadd_ps(v, _mm512_loadu_ps(wj + s * 2 * LANES), acc[s][0]);
	}
	for (int s = 0; s < Z; s++)
		sum[s] = _mm512_add_ps(_mm512_add_ps(acc[s][0], acc[s][1]), _mm512_add_ps(acc[s][2], acc[s][3]));
}

/* strip_scatter() with Z registers of 16 floats */
AVX512 static inline __attribute__((always_inline)) void strip_scatter16(const struct op *o, uint64_t p0, uint64_t p1,
									float *restrict gt, size_t width, int Z, bool C,
									const __m512 *g)
{
	const uint32_t *restrict idx = o->indices;
	const float *restrict val = o->values;
	const uint16_t *restrict idx16 = o->indices16;
	const uint8_t *restrict val8 = o->values8;
	uint64_t p = p0;
	if (C) /* as strip_sums() */
		for (; p + 4 <= p1; p += 4) {
			uint32_t vb;
			uint64_t q = compact4(idx16, val8, p, &vb);
			__m512 v4 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_cvtsi32_si128((int)vb)));
			for (int u = 0; u < 4; u++) {
				float *gj = gt + (size_t)(q >> (16 * u) & 0xffff) * width;
				__m512 v = _mm512_permutexvar_ps(_mm512_set1_epi32(u), v4);
				for (int s = 0; s < Z; s++)
					_mm512_storeu_ps(gj + s * 2 * LANES,
							 _mm512_fmadd_ps(v, g[s], _mm512_loadu_ps(gj + s * 2 * LANES)));
			}
		}
	for (; p < p1; p++) {
		float *gj = gt + (size_t)(C ? idx16[p] : idx[p]) * width;
		__m512 v = _mm512_set1_ps(C ? u8_float[val8[p]] : val[p]);
		for (int s = 0; s < Z; s++)
			_mm512_storeu_ps(gj + s * 2 * LANES,
					 _mm512_fmadd_ps(v, g[s], _mm512_loadu_ps(gj + s * 2 * LANES)));
	}
}

/* the upper 8 floats of v */
AVX512 static inline __m256 high8(__m512 v)
{
	return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

/* 2 Z blocks from blk of row i */
AVX512 static inline __attribute__((always_inline)) void fwd_avx512_strip(const struct op *o, uint64_t p0, uint64_t p1,
									 size_t i, size_t b0, size_t b1, size_t blk, int Z,
									 bool C)
{
	size_t width = (b1 - b0) * LANES;
	__m512 sum[STRIP];
	strip_sums16(o, p0, p1, o->Wt + b0 * o->d * LANES + (blk - b0) * LANES, width, Z, C, sum);
	for (int s = 0; s < Z; s++) {
		__m512 z = _mm512_add_ps(_mm512_loadu_ps(o->bk + (blk + 2 * (size_t)s) * LANES), sum[s]);
		_mm256_storeu_ps(zrow(o, i, blk + 2 * (size_t)s), _mm512_castps512_ps256(z));
		_mm256_storeu_ps(zrow(o, i, blk + 2 * (size_t)s + 1), high8(z));
	}
}

AVX512 static inline __attribute__((always_inline)) void bwd_avx512_strip(const struct op *o, uint64_t p0, uint64_t p1,
									 size_t i, size_t b0, size_t b1, size_t blk, int Z,
									 bool C)
{
	size_t width = (b1 - b0) * LANES;
	__m512 g[STRIP];
	for (int s = 0; s < Z; s++) {
		__m256 lo = _mm256_loadu_ps(zrow(o, i, blk + 2 * (size_t)s));
		__m256 hi = _mm256_loadu_ps(zrow(o, i, blk + 2 * (size_t)s + 1));
		g[s] = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)),
							   _mm256_castps_pd(hi), 1));
		float *gb0 = o->gb + (blk + 2 * (size_t)s) * GB_STRIDE, *gb1 = gb0 + GB_STRIDE;
		_mm256_storeu_ps(gb0, _mm256_add_ps(_mm256_loadu_ps(gb0), lo));
		_mm256_storeu_ps(gb1, _mm256_add_ps(_mm256_loadu_ps(gb1), hi));
	}
	strip_scatter16(o, p0, p1, o->Gt + b0 * o->d * LANES + (blk - b0) * LANES, width, Z, C, g);
}

/* row i's blocks [b0, b1) through STRIP_FN in strips of 4 blocks (2 zmm),
 * then 2 (1 zmm), then the odd block through the AVX2 strip */
#define FOR_STRIPS16(STRIP_FN, STRIP8_FN)                                      \
	size_t row = sr_row(o->b, i), blk = b0;                                \
	uint64_t p0 = o->indptr[row], p1 = o->indptr[row + 1];                 \
	bool C = o->values8 != NULL;                                           \
	for (; blk + 4 <= b1; blk += 4) {                                      \
		if (C)                                                         \
			STRIP_FN(o, p0, p1, i, b0, b1, blk, 2, true);          \
		else                                                           \
			STRIP_FN(o, p0, p1, i, b0, b1, blk, 2, false);         \
	}                                                                      \
	if (blk + 2 <= b1) {                                                   \
		if (C)                                                         \
			STRIP_FN(o, p0, p1, i, b0, b1, blk, 1, true);          \
		else                                                           \
			STRIP_FN(o, p0, p1, i, b0, b1, blk, 1, false);         \
		blk += 2;                                                      \
	}                                                                      \
	if (blk < b1 && C)                                                     \
		STRIP8_FN(o, p0, p1, i, b0, b1, blk, 1, true);                 \
	else if (blk < b1)                                                     \
		STRIP8_FN(o, p0, p1, i, b0, b1, blk, 1, false)

AVX512 static void fwd_avx512(const struct op *o, size_t i, size_t b0, size_t b1)
{
	FOR_STRIPS16(fwd_avx512_strip, fwd_avx2_strip);
}

AVX512 static void bwd_avx512(const struct op *o, size_t i, size_t b0, size_t b1)
{
	FOR_STRIPS16(bwd_avx512_strip, bwd_avx2_strip);
}

/* exp8_nonpositive() on 16 lanes, the same operations */
AVX512 static inline __m512 exp16_nonpositive(__m512 x)
{
	const __m512 lowest = _mm512_set1_ps(SR_EXP_LOWEST), shifter = _mm512_set1_ps(SR_EXP_SHIFTER);
	__m512 xc = _mm512_max_ps(lowest, x); /* x when x is NaN */
	__m512 t = _mm512_fmadd_ps(xc, _mm512_set1_ps(SR_EXP_LOG2E), shifter), n = _mm512_sub_ps(t, shifter);
	__m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(SR_EXP_LN2_HI), xc);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(SR_EXP_LN2_LO), r);
	__m512 p = _mm512_set1_ps(SR_EXP_P0);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SR_EXP_P1));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SR_EXP_P2));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SR_EXP_P3));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SR_EXP_P4));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(SR_EXP_P5));
	p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
	__m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(t),
									   _mm512_set1_epi32(SR_EXP_SHIFTER_BITS)),
							  _mm512_set1_epi32(127)),
					 23);
	__m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
	return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, lowest, _CMP_LT_OQ), _mm512_setzero_ps());
}

/* row i's 16 logits: the bias added, padded classes -inf */
AVX512 static inline __attribute__((always_inline)) __m512 logits16(const struct op *o, size_t i, size_t k, bool C)
{
	size_t row = sr_row(o->b, i);
	__m512 z;
	strip_sums16(o, o->indptr[row], o->indptr[row + 1], o->Wt, 2 * LANES, 1, C, &z);
	z = _mm512_add_ps(_mm512_loadu_ps(o->bk), z);
	return _mm512_mask_blend_ps((__mmask16)((1u << k) - 1), _mm512_set1_ps(-INFINITY), z);
}

/*
 * rows_avx2_s() for 9 to 16 classes in one register: the same sums; the
 * softmax's double sum adds the same lane pairs in the same order (the low
 * block's halves, the high block's, then the two).
 */
AVX512 static inline __attribute__((always_inline)) double rows_avx512_s(const struct op *o, size_t i0, size_t i1,
									size_t k, bool grad, bool C)
{
	double prod = 1, lin = 0;
	prefetch_row(o, i0 + AHEAD);
	__m512 z = logits16(o, i0, k, C);
	for (size_t i = i0; i < i1; i++) {
		__m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(z), high8(z));
		m8 = _mm256_max_ps(m8, _mm256_permute2f128_ps(m8, m8, 1));
		m8 = _mm256_max_ps(m8, _mm256_shuffle_ps(m8, m8, _MM_SHUFFLE(1, 0, 3, 2)));
		m8 = _mm256_max_ps(m8, _mm256_shuffle_ps(m8, m8, _MM_SHUFFLE(2, 3, 0, 1)));
		float mxs = _mm256_cvtss_f32(m8), zs[2 * LANES];
		_mm512_storeu_ps(zs, z);
		__m512 e = exp16_nonpositive(_mm512_sub_ps(z, _mm512_set1_ps(mxs)));
		__m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(e)), hi = _mm512_cvtps_pd(high8(e));
		__m256d sd = _mm256_add_pd(_mm256_add_pd(_mm512_castpd512_pd256(lo), _mm512_extractf64x4_pd(lo, 1)),
					   _mm256_add_pd(_mm512_castpd512_pd256(hi), _mm512_extractf64x4_pd(hi, 1)));
		__m128d h = _mm_add_pd(_mm256_castpd256_pd128(sd), _mm256_extractf128_pd(sd, 1));
		double sumd = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
		uint32_t y = sr_label(o->b, i);
		__m512 hot = _mm512_maskz_mov_ps((__mmask16)(1u << y), _mm512_set1_ps(1.0f));
		__m512 g = _mm512_sub_ps(_mm512_mul_ps(e, _mm512_set1_ps(1.0f / (float)sumd)), hot);
		if (i + 1 < i1) {
			prefetch_row(o, i + 1 + AHEAD);
			z = logits16(o, i + 1, k, C);
		}
		if (grad) {
			size_t row = sr_row(o->b, i);
			float *gb0 = o->gb, *gb1 = o->gb + GB_STRIDE;
			_mm256_storeu_ps(gb0, _mm256_add_ps(_mm256_loadu_ps(gb0), _mm512_castps512_ps256(g)));
			_mm256_storeu_ps(gb1, _mm256_add_ps(_mm256_loadu_ps(gb1), high8(g)));
			strip_scatter16(o, o->indptr[row], o->indptr[row + 1], o->Gt, 2 * LANES, 1, C, &g);
		}
		prod *= sumd;
		lin += (double)(zs[y] - mxs);
	}
	return log(prod) - lin;
}

AVX512 static double rows_avx512(const struct op *o, size_t i0, size_t i1, size_t k, bool grad)
{
	if (k <= LANES)
		return rows_avx2(o, i0, i1, k, grad);
	return o->values8 ? rows_avx512_s(o, i0, i1, k, grad, true) : rows_avx512_s(o, i0, i1, k, grad, false);
}

/* r[0..16) (rows j, 16 classes each) transposed: out[c] = the 16 rows' class c */
AVX512 static inline void transpose16(const __m512 *r, __m512 *out)
{
	__m512 t[16], u[16];
	for (int i = 0; i < 8; i++) {
		t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
	}
	for (int i = 0; i < 4; i++) {
		u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
		u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
		u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
		u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
	}
	for (int c = 0; c < 4; c++) {
		__m512 y0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), y1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
		__m512 y2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
		__m512 y3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
		out[c] = _mm512_shuffle_f32x4(y0, y2, 0x88);
		out[8 + c] = _mm512_shuffle_f32x4(y0, y2, 0xdd);
		out[4 + c] = _mm512_shuffle_f32x4(y1, y3, 0x88);
		out[12 + c] = _mm512_shuffle_f32x4(y1, y3, 0xdd);
	}
}

/*
 * For 16 padded classes: the G partials of features [j0, j1)
 * added in group order as the plain loop does, 16 features at a time, the
 * tile transposed in registers so that each class's 16 features are stored
 * at once (the plain loop stores k floats d apart per feature). Returns the
 * first feature it left to the plain loop.
 */
AVX512 static size_t add16_avx512(const float *Gt, size_t gs, size_t G, size_t j0, size_t j1, size_t k, size_t d,
				  const float *is, float scale, float *grad_sum)
{
	size_t j = j0;
	for (; j + 16 <= j1; j += 16) {
		__m512 r[16], c16[16];
		for (int q = 0; q < 16; q++) {
			const float *p = Gt + (j + (size_t)q) * 2 * LANES;
			__m512 a = _mm512_loadu_ps(p);
			for (size_t g = 1; g < G; g++)
				a = _mm512_add_ps(a, _mm512_loadu_ps(p + g * gs));
			r[q] = a;
		}
		transpose16(r, c16);
		__m512 sv = is ? _mm512_loadu_ps(is + j) : _mm512_set1_ps(scale);
		for (size_t c = 0; c < k; c++)
			_mm512_storeu_ps(grad_sum + c * d + j, _mm512_mul_ps(c16[c], sv));
	}
	return j;
}

/* load16_avx2() 16 features at a time */
AVX512 static size_t load16_avx512(const float *W, size_t d, size_t j0, size_t j1, size_t k, const float *is,
				   float scale, float *wt)
{
	size_t j = j0;
	for (; j + 16 <= j1; j += 16) {
		__m512 sv = is ? _mm512_loadu_ps(is + j) : _mm512_set1_ps(scale), r[16], o[16];
		for (size_t c = 0; c < 16; c++)
			r[c] = c < k ? _mm512_mul_ps(_mm512_loadu_ps(W + c * d + j), sv) : _mm512_setzero_ps();
		transpose16(r, o);
		for (size_t q = 0; q < 16; q++)
			_mm512_storeu_ps(wt + (j + q) * 2 * LANES, o[q]);
	}
	return j;
}

#endif

/* ---- dispatch ---- */

struct path {
	const char *name;
	void (*fwd)(const struct op *o, size_t i, size_t b0, size_t b1);
	void (*bwd)(const struct op *o, size_t i, size_t b0, size_t b1);
	/* whole rows [i0, i1) (logits, softmax, scatter) of k <= 16 classes,
	 * or NULL: their loss */
	double (*rows)(const struct op *o, size_t i0, size_t i1, size_t k, bool grad);
	/* the row groups' partials of 16 padded classes added (add_groups()
	 * for features [j0, j1)), or NULL: the first feature it left */
	size_t (*add16)(const float *Gt, size_t gs, size_t G, size_t j0, size_t j1, size_t k, size_t d,
			const float *is, float scale, float *grad_sum);
	/* load_rows() of features [j0, j1) for 16 padded classes, or NULL:
	 * the first feature it left */
	size_t (*load16)(const float *W, size_t d, size_t j0, size_t j1, size_t k, const float *is, float scale,
			 float *wt);
};

static const struct path plain = {"plain", fwd_plain, bwd_plain, NULL, NULL, NULL};
#if defined(__x86_64__)
static const struct path avx2 = {"avx2", fwd_avx2, bwd_avx2, rows_avx2, add16_avx2, load16_avx2};
static const struct path avx512 = {"avx512", fwd_avx512, bwd_avx512, rows_avx512, add16_avx512, load16_avx512};
#endif

/* whether $SOFTREG_DISABLE_CPU_FEATURES (a comma-separated list) names 'f' */
static bool disabled(const char *f)
{
	const char *s = getenv("SOFTREG_DISABLE_CPU_FEATURES");
	size_t n = strlen(f);
	for (; s && *s; s += strcspn(s, ","), s += *s == ',') {
		if (strncmp(s, f, n) == 0 && (s[n] == ',' || s[n] == 0))
			return true;
	}
	return false;
}

static const struct path *best_path(void)
{
	static const struct path *_Atomic cached;
	const struct path *p = atomic_load_explicit(&cached, memory_order_relaxed);
	if (p)
		return p;
	p = &plain;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !disabled("avx2")) {
		p = &avx2;
		if (__builtin_cpu_supports("avx512f") && !disabled("avx512"))
			p = &avx512;
	}
#endif
	atomic_store_explicit(&cached, p, memory_order_relaxed);
	return p;
}

const char *softreg_sparse_path(void)
{
	return best_path()->name;
}

/* ---- the kernel ---- */

size_t sr_sparse_blocks(size_t k)
{
	return (k + LANES - 1) / LANES;
}

/* Rows per chunk, the unit of a loss sum and of a row group: 16, so that
 * groups of chunks split a batch evenly (the default batch of 100: 48 and
 * 52 rows, where chunks of 64 gave 64 and 36) */
#define CHUNK 16

static size_t nchunks(size_t m)
{
	return (m + CHUNK - 1) / CHUNK;
}

size_t sr_sparse_nchunks(size_t m)
{
	return nchunks(m);
}

/* threads: one per class block at most, as many as the workspace was sized for */
static int team(const struct softreg_workspace *ws, size_t blocks)
{
	int t = omp_get_max_threads();
	t = t < ws->threads ? t : ws->threads;
	t = (size_t)t < blocks ? t : (int)blocks;
	return t < 1 ? 1 : t;
}

/* the feature scales s_j folded into Wt and out of Gt: inv_std, or NULL
 * for the one 'scale' */
static const float *fscales(const struct softreg_model *m)
{
	return m->prep == SOFTREG_PREP_STANDARDIZE ? m->inv_std : NULL;
}

/* Wt and bk of blocks [b0, b1) from the model: the thread's copy of W,
 * rows j of its (b1 - b0) * 8 classes, written in order, W's rows read as
 * streams */
static void load_blocks(const struct softreg_model *m, struct softreg_workspace *ws, size_t b0, size_t b1)
{
	size_t k = m->k, d = m->d, width = (b1 - b0) * LANES, c0 = b0 * LANES;
	size_t nc = k - c0 < width ? k - c0 : width; /* real classes */
	const float *is = fscales(m);
	float *restrict wt = ws->Wt + b0 * d * LANES;
	for (size_t l = 0; l < width; l++)
		ws->bk[c0 + l] = l < nc ? m->b[c0 + l] : 0.0f;
	const float *restrict w = m->W + c0 * d;
	for (size_t j = 0; j < d; j++) {
		float s = is ? is[j] : m->scale, *o = wt + j * width;
		for (size_t l = 0; l < nc; l++)
			o[l] = w[l * d + j] * s;
		for (size_t l = nc; l < width; l++)
			o[l] = 0.0f;
	}
}

/* classes of blocks [b0, b1) of grad (k*d + k) from the thread's Gt and gb */
static void store_blocks(const struct softreg_model *m, const struct softreg_workspace *ws, size_t b0, size_t b1,
			 float *grad)
{
	size_t k = m->k, d = m->d, width = (b1 - b0) * LANES, c0 = b0 * LANES;
	size_t nc = k - c0 < width ? k - c0 : width;
	const float *is = fscales(m);
	const float *restrict gt = ws->Gt + b0 * d * LANES;
	float *restrict gw = grad + c0 * d;
	for (size_t j = 0; j < d; j++) {
		float s = is ? is[j] : m->scale;
		for (size_t l = 0; l < nc; l++)
			gw[l * d + j] = gt[j * width + l] * s;
	}
	for (size_t l = 0; l < nc; l++)
		grad[k * d + c0 + l] = ws->gb[(c0 + l) / LANES * GB_STRIDE + (c0 + l) % LANES];
}

static struct op op_of(const struct softreg_model *m, const struct softreg_batch *b, struct softreg_workspace *ws)
{
	const struct softreg_source *s = b->src;
	return (struct op){.b = b, .indptr = s->indptr, .indices = s->indices, .values = s->values,
			   .indices16 = s->values8 ? s->indices16 : NULL, .values8 = s->values8, .m = b->m, .d = m->d,
			   .kp = sr_sparse_blocks(m->k) * LANES, .zs = ws->m_max * LANES, .Wt = ws->Wt, .bk = ws->bk,
			   .Gt = ws->Gt, .gb = ws->gb, .Z = ws->Zp};
}

/* row i's softmax and cross-entropy, in zp (kp floats of the thread's);
 * with 'grad', G = S - Y in its place */
static double softmax_row(const struct op *o, size_t i, size_t k, bool grad, float *zp)
{
	size_t nb = o->kp / LANES;
	for (size_t blk = 0; blk < nb; blk++)
		memcpy(zp + blk * LANES, zrow(o, i, blk), sizeof(float) * LANES);
	uint32_t y = sr_label(o->b, i);
	double loss = sr_softmax_row(zp, k, y);
	if (grad)
		zp[y] -= 1.0f;
	for (size_t blk = 0; blk < nb; blk++)
		memcpy(zrow(o, i, blk), zp + blk * LANES, sizeof(float) * LANES);
	return loss;
}

/* rows [i0, i1) of chunk c, every block, one pass: the logits, the softmax
 * (loss into ws->loss[c]) and, with 'grad', G = S - Y and its scatter into
 * o->Gt, while the row's nonzeros are in L1 */
static void fused_chunk(const struct path *path, const struct op *o, struct softreg_workspace *ws, size_t c,
			size_t nb, size_t k, bool grad, float *zp)
{
	size_t i0 = c * CHUNK, i1 = i0 + CHUNK < o->m ? i0 + CHUNK : o->m;
	double loss = 0;
	if (path->rows && nb <= 2) {
		ws->loss[c] = path->rows(o, i0, i1, k, grad);
		return;
	}
	for (size_t i = i0; i < i1; i++) {
		prefetch_row(o, i + AHEAD);
		path->fwd(o, i, 0, nb);
		loss += softmax_row(o, i, k, grad, zp);
		if (grad)
			path->bwd(o, i, 0, nb);
	}
	ws->loss[c] = loss;
}

/* the softmax of chunk c's rows (after every thread's logits), G = S - Y */
static void softmax_chunk(const struct op *o, struct softreg_workspace *ws, size_t c, size_t k, bool grad, float *zp)
{
	size_t i0 = c * CHUNK, i1 = i0 + CHUNK < o->m ? i0 + CHUNK : o->m;
	double loss = 0;
	for (size_t i = i0; i < i1; i++) {
		loss += softmax_row(o, i, k, grad, zp);
	}
	ws->loss[c] = loss;
}

/* Wt rows [j0, j1) of every block (the layout of a thread that has them
 * all: rows of kp floats), for threads that split the rows */
static void load_rows(const struct softreg_model *m, float *Wt, size_t j0, size_t j1)
{
	size_t k = m->k, d = m->d, kp = sr_sparse_blocks(k) * LANES;
	const float *is = fscales(m);
	for (size_t j = j0; j < j1; j++) {
		float s = is ? is[j] : m->scale, *o = Wt + j * kp;
		for (size_t c = 0; c < k; c++)
			o[c] = m->W[c * d + j] * s;
		for (size_t c = k; c < kp; c++)
			o[c] = 0.0f;
	}
}

/* load_rows() of [j0, j1), through the path's SIMD transpose where it has one */
static void load_features(const struct softreg_model *m, const struct path *path, float *Wt, size_t j0, size_t j1)
{
	size_t j = j0;
	if (path->load16 && sr_sparse_blocks(m->k) == 2) /* 16 padded classes */
		j = path->load16(m->W, m->d, j0, j1, m->k, fscales(m), m->scale, Wt);
	load_rows(m, Wt, j, j1);
}

static void load_bias(const struct softreg_model *m, struct softreg_workspace *ws)
{
	size_t k = m->k, kp = sr_sparse_blocks(k) * LANES;
	for (size_t c = 0; c < kp; c++)
		ws->bk[c] = c < k ? m->b[c] : 0.0f;
}

/*
 * Row groups, for k <= 16 (ROWGROUP_BLOCKS blocks): with so few classes a
 * thread's share of the classes is one block of 8, and both threads would
 * stream every row for it. Instead the chunks of the batch are cut into
 * groups, by the batch size alone; each group's rows go through in one pass
 * (logits, softmax, scatter) into its own partial gradient, and the
 * partials are added in group order, each thread adding those of its
 * features. Any thread count gives the same bits; one thread does the
 * groups one after another.
 *
 * How many: a group per GROUP_ROWS rows, at most MAX_GROUPS, and beyond
 * two at most one per GROUP_ROWS_MORE rows. Each group costs a partial to
 * clear and to add (2 d kp floats, half of them from the other core's
 * cache), so two threads want two groups, each as large as it can be
 * (MNIST b256: 4 groups of 64 rows took 6-7% longer epochs than 2 of 128,
 * at one thread and at two; README), while more cores want more groups to
 * share: batches of 512 rows and more still make 4.
 */
#define ROWGROUP_BLOCKS 2
#define GROUP_ROWS 50
#define GROUP_ROWS_MORE 128
#define MAX_GROUPS 4

size_t sr_sparse_groups_max(size_t k)
{
	return sr_sparse_blocks(k) <= ROWGROUP_BLOCKS ? MAX_GROUPS : 1;
}

/* a group's partial: Gt (d, kp), then its bias gradient (blocks of
 * GB_STRIDE), rounded to whole cache lines: one piece to gather */
size_t sr_sparse_group_stride(size_t k, size_t d)
{
	size_t nb = sr_sparse_blocks(k), n = d * nb * LANES + nb * GB_STRIDE;
	return (n + 15) / 16 * 16;
}

static size_t ngroups(size_t m, size_t nc, size_t nb)
{
	if (nb > ROWGROUP_BLOCKS)
		return 1;
	size_t g = m / GROUP_ROWS, most = m / GROUP_ROWS_MORE;
	most = most < 2 ? 2 : most > MAX_GROUPS ? MAX_GROUPS : most;
	g = g < 1 ? 1 : g > most ? most : g;
	return g < nc ? g : nc;
}

/* thread t of nt's share of the groups [g0, g1) of G: their partials and
 * their chunks' losses */
static void compute_groups(const struct softreg_model *m, const struct softreg_batch *b, bool grad,
			   struct softreg_workspace *ws, const struct path *path, size_t G, size_t g0, size_t g1,
			   size_t t, size_t nt)
{
	size_t k = m->k, d = m->d, nb = sr_sparse_blocks(k), kp = nb * LANES, nc = nchunks(b->m);
	size_t gs = sr_sparse_group_stride(k, d);
	float *wt = ws->Wt + t * d * kp; /* the thread's own copy: no barrier to wait at */
	size_t h0 = g0 + sr_part(t, g1 - g0, nt), h1 = g0 + sr_part(t + 1, g1 - g0, nt);
	struct op o = op_of(m, b, ws);
	/* its first rows asked for now: the copy and the clearing hide their
	 * misses, which prefetch_row() hides for the rows after them (2 us
	 * of a batch's 37 at 2 threads, 1.5 of 69 at one: MNIST b256) */
	for (size_t i = sr_part(h0, nc, G) * CHUNK, i1 = i + AHEAD; h0 < h1 && i < i1; i++)
		prefetch_row(&o, i);
	load_features(m, path, wt, 0, d);
	for (size_t g = h0; grad && g < h1; g++)
		memset(ws->Gt + g * gs, 0, gs * sizeof(float));
	o.Wt = wt;
	for (size_t g = h0; g < h1; g++) {
		o.Gt = ws->Gt + g * gs;
		o.gb = o.Gt + d * kp;
		for (size_t c = sr_part(g, nc, G); c < sr_part(g + 1, nc, G); c++)
			fused_chunk(path, &o, ws, c, nb, k, grad, ws->ztmp + t * kp);
	}
}

/* thread t of nt's features of grad_sum from the G partials, added in group
 * order (and thread 0 the bias) */
static void add_groups(const struct softreg_model *m, struct softreg_workspace *ws, const struct path *path, size_t G,
		       float *grad_sum, size_t t, size_t nt)
{
	size_t k = m->k, d = m->d, kp = sr_sparse_blocks(k) * LANES, gs = sr_sparse_group_stride(k, d);
	const float *is = fscales(m);
	size_t j = sr_part(t, d, nt), j1 = sr_part(t + 1, d, nt);
	if (path->add16 && kp == 2 * LANES)
		j = path->add16(ws->Gt, gs, G, j, j1, k, d, is, m->scale, grad_sum);
	for (; j < j1; j++) {
		float s = is ? is[j] : m->scale, acc[ROWGROUP_BLOCKS * LANES];
		memcpy(acc, ws->Gt + j * kp, kp * sizeof(float));
		for (size_t g = 1; g < G; g++)
			for (size_t c = 0; c < kp; c++)
				acc[c] += ws->Gt[g * gs + j * kp + c];
		for (size_t c = 0; c < k; c++)
			grad_sum[c * d + j] = acc[c] * s;
	}
	if (t == 0)
		for (size_t c = 0; c < k; c++) {
			float acc = 0;
			for (size_t g = 0; g < G; g++)
				acc += ws->Gt[g * gs + d * kp + c / LANES * GB_STRIDE + c % LANES];
			grad_sum[k * d + c] = acc;
		}
}

static double chunk_losses(const struct softreg_workspace *ws, size_t nc)
{
	double total = 0;
	for (size_t c = 0; c < nc; c++)
		total += ws->loss[c];
	return total;
}

static double rowgroup_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
				 struct softreg_workspace *ws, const struct path *path)
{
	size_t nc = nchunks(b->m), G = ngroups(b->m, nc, sr_sparse_blocks(m->k));
	load_bias(m, ws);
	/* one parallel region: the partials, a barrier, their sum */
#pragma omp parallel num_threads(team(ws, G))
	{
		size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
		compute_groups(m, b, grad_sum != NULL, ws, path, G, 0, G, t, nt);
		if (grad_sum) {
#pragma omp barrier
			add_groups(m, ws, path, G, grad_sum, t, nt);
		}
	}
	return chunk_losses(ws, nc);
}

/* The same sums with the row groups shared among the processes of ws->dist
 * (SGD under MPI): this process computes its share of the groups, every
 * process gathers every partial and chunk loss and adds them in group order
 * as above: the same bits as one process. With more than 16 classes (one
 * group) every process computes the whole batch. */
double sr_sparse_loss_grad_shared(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
				  struct softreg_workspace *ws)
{
	size_t nb = sr_sparse_blocks(m->k), nc = nchunks(b->m), G = ngroups(b->m, nc, nb), g0, g1;
	if (b->m == 0 || nb > ROWGROUP_BLOCKS || G < 2)
		return softreg_kernel_sparse.loss_grad(m, b, grad_sum, ws);
	const struct path *path = best_path();
	sr_dist_share(ws->dist, G, &g0, &g1);
	load_bias(m, ws);
	if (g1 > g0) {
#pragma omp parallel num_threads(team(ws, g1 - g0))
		compute_groups(m, b, grad_sum != NULL, ws, path, G, g0, g1, (size_t)omp_get_thread_num(),
			       (size_t)omp_get_num_threads());
	}
	size_t gs = sr_sparse_group_stride(m->k, m->d);
	sr_dist_gather_groups(ws->dist, ws->Gt, gs, grad_sum ? gs : 0, G, ws->loss, nc);
	if (grad_sum) {
#pragma omp parallel num_threads(team(ws, G))
		add_groups(m, ws, path, G, grad_sum, (size_t)omp_get_thread_num(), (size_t)omp_get_num_threads());
	}
	return chunk_losses(ws, nc);
}

// X (m, d) sparse, W (k, d), b (k), grad_sum (k*d + k); G = S - Y overwrites Z (blocks, m, 8)
static double sparse_loss_grad(const struct softreg_model *m, const struct softreg_batch *b, float *grad_sum,
			       struct softreg_workspace *ws)
{
	size_t k = m->k, d = m->d, nb = sr_sparse_blocks(k), nc = nchunks(b->m);
	if (b->m == 0) {
		if (grad_sum)
			memset(grad_sum, 0, (k * d + k) * sizeof(float));
		return 0;
	}
	const struct path *path = best_path();
	if (nb <= ROWGROUP_BLOCKS)
		return rowgroup_loss_grad(m, b, grad_sum, ws, path);
	/* more classes: split between the threads by blocks of 8; padded
	 * classes have logits 0 (their Wt and bk are 0), are left out of the
	 * softmax, so their G is 0 */
	struct op o = op_of(m, b, ws);
	bool grad = grad_sum != NULL;
#pragma omp parallel num_threads(team(ws, nb))
	{
		size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
		size_t b0 = sr_part(t, nb, nt), b1 = sr_part(t + 1, nb, nt);
		load_blocks(m, ws, b0, b1);
		if (grad) {
			memset(ws->Gt + b0 * d * LANES, 0, (b1 - b0) * d * LANES * sizeof(float));
			memset(ws->gb + b0 * GB_STRIDE, 0, (b1 - b0) * GB_STRIDE * sizeof(float));
		}
		if (nt == 1) {
			for (size_t c = 0; c < nc; c++)
				fused_chunk(path, &o, ws, c, nb, k, grad, ws->ztmp);
		} else {
			for (size_t i = 0; i < b->m; i++) {
				prefetch_row(&o, i + AHEAD);
				path->fwd(&o, i, b0, b1);
			}
#pragma omp barrier
			for (size_t c = sr_part(t, nc, nt); c < sr_part(t + 1, nc, nt); c++)
				softmax_chunk(&o, ws, c, k, grad, ws->ztmp + t * o.kp);
#pragma omp barrier
			for (size_t i = 0; grad && i < b->m; i++) {
				prefetch_row(&o, i + AHEAD);
				path->bwd(&o, i, b0, b1);
			}
		}
		if (grad)
			store_blocks(m, ws, b0, b1, grad_sum);
	}
	double total = 0;
	for (size_t c = 0; c < nc; c++)
		total += ws->loss[c];
	return total;
}

// X (m, d) sparse, W (k, d), b (k), Z (m, k): the rows split between threads
static void sparse_logits(const struct softreg_model *m, const struct softreg_batch *b, float *Z,
			  struct softreg_workspace *ws)
{
	size_t k = m->k, d = m->d, nb = sr_sparse_blocks(k);
	const struct path *path = best_path();
	struct op o = op_of(m, b, ws);
	load_bias(m, ws);
#pragma omp parallel num_threads(team(ws, nchunks(b->m)))
	{
		size_t t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
		load_features(m, path, ws->Wt, sr_part(t, d, nt), sr_part(t + 1, d, nt));
		if (nt > 1) {
#pragma omp barrier
		}
		for (size_t i = sr_part(t, b->m, nt); i < sr_part(t + 1, b->m, nt); i++) {
			prefetch_row(&o, i + AHEAD);
			path->fwd(&o, i, 0, nb);
			for (size_t blk = 0; blk < nb; blk++) {
				size_t n = k - blk * LANES < LANES ? k - blk * LANES : LANES;
				memcpy(Z + i * k + blk * LANES, zrow(&o, i, blk), n * sizeof(float));
			}
		}
	}
}

const struct softreg_kernel softreg_kernel_sparse = {
	.name = "sparse",
	.sources = 1u << SOFTREG_SOURCE_CSR,
	.about = "CSR rows: W transposed in blocks of 8 classes; threads split row groups (k <= 16) or classes",
	.loss_grad = sparse_loss_grad,
	.logits = sparse_logits,
	.softmax_loss = sr_softmax_loss,
};
