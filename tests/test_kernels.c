/* SPDX-License-Identifier: MIT
 * test_kernels.c: the blas kernel against its naive twin, both against finite
 * differences in double precision, and the softmax at extreme logits.
 *
 * Tolerance for blas vs naive: |blas - naive| <= atol + rtol |naive| with
 * rtol = 1e-4 and atol = 1e-5 x the largest |naive| value of that tensor. A
 * float32 sum of n terms carries a rounding error of about sqrt(n) eps
 * (eps = 6e-8) relative to the size of its terms: 1.7e-6 for the d = 784
 * products of a logit, 1.9e-6 for the m = 1000 rows of a gradient. Gradient
 * entries are sums of terms of both signs and can cancel to near zero, so the
 * error is bounded relative to the tensor's scale, not to each entry; 1e-5 is a
 * 5x margin over that estimate, small enough that any real mistake (a missed
 * row, a wrong scale, a transposed index) fails by orders of magnitude. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double max_abs(const float *x, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++)
		m = fmax(m, fabs((double)x[i]));
	return m;
}

static void compare(const char *what, const float *a, const float *ref, size_t n, const char *ctx)
{
	size_t where;
	double mabs;
	double atol = 1e-5 * max_abs(ref, n) + 1e-12;
	double worst = t_compare(a, ref, n, atol, 1e-4, &where, &mabs);
	CHECK(worst <= 1.0, "%s %s: index %zu blas %.9g naive %.9g (max abs diff %.3g)", ctx, what, where,
	      (double)a[where], (double)ref[where], mabs);
}

static const char *const kinds[] = {"uint8", "float32", "float16", "csr"};

/* batch 'b' through 'kern' and through naive on the same source: loss sums,
 * gradient sums and logits within the tolerance */
static void twin_batch(const struct softreg_kernel *kern, const struct softreg_model *mod,
		       const struct softreg_batch *b, const char *ctx)
{
	size_t k = mod->k, d = mod->d, m = b->m;
	const struct softreg_kernel *ks[2] = {&softreg_kernel_naive, kern};
	float *g[2], *Z[2];
	double loss[2];
	for (int i = 0; i < 2; i++) {
		struct softreg_workspace *ws = softreg_workspace_alloc(ks[i], m, k, d);
		CHECK(ws != NULL, "%s: no workspace", ctx);
		if (!ws)
			return;
		g[i] = malloc((k * d + k) * sizeof(float));
		Z[i] = malloc(m * k * sizeof(float));
		loss[i] = ks[i]->loss_grad(mod, b, g[i], ws);
		ks[i]->logits(mod, b, Z[i], ws);
		softreg_workspace_free(ws);
	}
	CHECK(isfinite(loss[0]) && fabs(loss[1] - loss[0]) <= 1e-5 * fabs(loss[0]) + 1e-6 * (double)m,
	      "%s loss sum %s %.9g naive %.9g", ctx, kern->name, loss[1], loss[0]);
	compare("dW", g[1], g[0], k * d, ctx);
	compare("db", g[1] + k * d, g[0] + k * d, k, ctx);
	compare("logits", Z[1], Z[0], m * k, ctx);
	for (int i = 0; i < 2; i++) {
		free(g[i]);
		free(Z[i]);
	}
}

/* one batch of random rows, and one of consecutive rows (float32: used in
 * place), through every kernel that takes each source kind */
static void twin_case(size_t k, size_t rows, size_t cols, size_t m, bool standardize, uint64_t seed)
{
	size_t d = rows * cols, n = m + 17;
	struct softreg_dataset ds;
	t_random_dataset(&ds, n, rows, cols, k, seed, false);
	struct softreg_model *mod = softreg_model_alloc(k, rows, cols);
	if (standardize)
		softreg_model_standardize(mod, &ds, NULL);
	t_random_floats(mod->W, k * d, -0.05f, 0.05f, seed + 1);
	t_random_floats(mod->b, k, -0.5f, 0.5f, seed + 2);
	uint32_t *rowsel = malloc(m * sizeof(uint32_t));
	struct softreg_rng rng;
	softreg_rng_seed(&rng, seed + 3);
	for (size_t i = 0; i < m; i++)
		rowsel[i] = (uint32_t)softreg_rng_below(&rng, n);
	/* the other sources hold the uint8 rows as the model preprocesses them;
	 * the model then sees them as they are (scale 1) */
	struct softreg_model *ident = softreg_model_alloc(k, rows, cols);
	softreg_model_copy(ident, mod);
	ident->prep = SOFTREG_PREP_SCALE;
	ident->scale = 1.0f;
	for (int kind = 0; kind < SOFTREG_SOURCE_KINDS; kind++) {
		struct softreg_dataset v;
		const struct softreg_dataset *src = &ds;
		if (kind != SOFTREG_SOURCE_U8) {
			t_convert_dataset(&ds, mod, (enum softreg_source_kind)kind, &v);
			src = &v;
		}
		const struct softreg_model *use = kind == SOFTREG_SOURCE_U8 ? mod : ident;
		for (size_t i = 0; softreg_kernels[i]; i++) {
			const struct softreg_kernel *kern = softreg_kernels[i];
			if (kern == &softreg_kernel_naive || !softreg_kernel_takes(kern, (enum softreg_source_kind)kind))
				continue;
			char ctx[160];
			struct softreg_batch b = {.src = &src->x, .y = src->y, .m = m, .rows = rowsel};
			snprintf(ctx, sizeof(ctx), "%s %s k=%zu d=%zu m=%zu random rows%s", kern->name, kinds[kind], k, d, m,
				 standardize ? " standardized" : "");
			twin_batch(kern, use, &b, ctx);
			b = (struct softreg_batch){.src = &src->x, .y = src->y, .first = 17, .m = m};
			snprintf(ctx, sizeof(ctx), "%s %s k=%zu d=%zu m=%zu rows 17..%s", kern->name, kinds[kind], k, d, m,
				 standardize ? " standardized" : "");
			twin_batch(kern, use, &b, ctx);
		}
		if (kind != SOFTREG_SOURCE_U8)
			t_free_view(&v);
	}
	free(rowsel);
	softreg_model_free(ident);
	softreg_model_free(mod);
	softreg_dataset_free(&ds);
}

/* every kernel gives the same bits at 1, 2 and 3 threads */
static void thread_counts(const struct softreg_kernel *kern, enum softreg_source_kind kind)
{
	size_t k = 7, rows = 6, cols = 9, d = rows * cols, m = 300;
	struct softreg_dataset ds, v;
	t_random_dataset(&ds, m, rows, cols, k, 41, false);
	struct softreg_model *mod = softreg_model_alloc(k, rows, cols);
	t_random_floats(mod->W, k * d, -0.05f, 0.05f, 42);
	t_convert_dataset(&ds, mod, kind, &v);
	if (kind != SOFTREG_SOURCE_U8)
		mod->scale = 1.0f;
	float *g[3];
	double loss[3];
	int before = softreg_get_threads();
	for (int t = 0; t < 3; t++) {
		softreg_set_threads(t + 1);
		struct softreg_workspace *ws = softreg_workspace_alloc(kern, m, k, d);
		struct softreg_batch b = {.src = &v.x, .y = v.y, .m = m};
		g[t] = malloc((k * d + k) * sizeof(float));
		loss[t] = kern->loss_grad(mod, &b, g[t], ws);
		softreg_workspace_free(ws);
	}
	softreg_set_threads(before);
	for (int t = 1; t < 3; t++)
		CHECK(loss[t] == loss[0] && memcmp(g[t], g[0], (k * d + k) * sizeof(float)) == 0,
		      "%s on %s: %d threads differ from 1", kern->name, kinds[kind], t + 1);
	for (int t = 0; t < 3; t++)
		free(g[t]);
	t_free_view(&v);
	softreg_model_free(mod);
	softreg_dataset_free(&ds);
}

/* the mean cross-entropy in double, written independently of both kernels */
static double loss_double(const struct softreg_model *m, const float *X, const uint32_t *y, size_t n)
{
	double total = 0, z[16];
	for (size_t i = 0; i < n; i++) {
		double mx = -INFINITY, s = 0;
		for (size_t j = 0; j < m->k; j++) {
			z[j] = m->b[j];
			for (size_t t = 0; t < m->d; t++)
				z[j] += (double)m->W[j * m->d + t] * X[i * m->d + t];
			mx = fmax(mx, z[j]);
		}
		for (size_t j = 0; j < m->k; j++)
			s += exp(z[j] - mx);
		total += mx + log(s) - z[y[i]];
	}
	return total / (double)n;
}

/* central differences in double on the parameters (perturbations kept exact
 * in float by choosing h a power of two) against each kernel's gradient */
static void finite_differences(const struct softreg_kernel *kern, enum softreg_source_kind kind)
{
	size_t k = 4, rows = 3, cols = 5, d = rows * cols, m = 23;
	struct softreg_dataset ds, v;
	t_random_dataset(&ds, m, rows, cols, k, 77, false);
	struct softreg_model *mod = softreg_model_alloc(k, rows, cols);
	t_random_floats(mod->W, k * d, -1, 1, 5);
	t_random_floats(mod->b, k, -1, 1, 6);
	float *X = malloc(m * d * sizeof(float)), *g = malloc((k * d + k) * sizeof(float));
	struct softreg_batch b0 = {.src = &ds.x, .m = m};
	softreg_gather(mod, &b0, X);
	t_convert_dataset(&ds, mod, kind, &v);
	if (kind != SOFTREG_SOURCE_U8) /* the converted rows are already preprocessed */
		mod->scale = 1.0f;
	if (kind == SOFTREG_SOURCE_F16) /* and rounded: the oracle sees what the kernel sees */
		softreg_gather(mod, &(struct softreg_batch){.src = &v.x, .m = m}, X);
	struct softreg_batch b = {.src = kind == SOFTREG_SOURCE_U8 ? &ds.x : &v.x, .y = ds.y, .m = m};
	struct softreg_workspace *ws = softreg_workspace_alloc(kern, m, k, d);
	float loss = (float)(kern->loss_grad(mod, &b, g, ws) / (double)m);
	for (size_t i = 0; i < k * d + k; i++)
		g[i] /= (float)m;
	CHECK(fabs(loss - loss_double(mod, X, ds.y, m)) < 1e-5, "%s loss %.9g vs double %.9g", kern->name,
	      (double)loss, loss_double(mod, X, ds.y, m));
	const float h = 1.0f / 1024;
	double worst = 0;
	for (size_t p = 0; p < k * d + k; p++) {
		float *param = p < k * d ? &mod->W[p] : &mod->b[p - k * d];
		float keep = *param;
		*param = keep + h;
		double up = loss_double(mod, X, ds.y, m);
		*param = keep - h;
		double down = loss_double(mod, X, ds.y, m);
		*param = keep;
		double fd = (up - down) / (2.0 * h);
		double err = fabs(fd - g[p]) / (1e-4 + 1e-3 * fabs(fd));
		worst = fmax(worst, err);
		CHECK(err <= 1, "%s parameter %zu: finite difference %.9g, kernel %.9g", kern->name, p, fd, (double)g[p]);
	}
	printf("finite differences, %s kernel on %s: %zu parameters, worst error %.2e of tolerance\n", kern->name,
	       kinds[kind], k * d + k, worst);
	t_free_view(&v);
	softreg_workspace_free(ws);
	free(X);
	free(g);
	softreg_model_free(mod);
	softreg_dataset_free(&ds);
}

static void softmax_extremes(const struct softreg_kernel *kern)
{
	/* rows: +-1e4, equal logits, one huge logit */
	const size_t k = 3, m = 4;
	float Z[12] = {1e4f, -1e4f, -1e4f, /* y=0: p = (1, 0, 0), loss 0 */
		       1e4f, -1e4f, 0.0f,  /* y=1: loss 2e4 */
		       5.0f, 5.0f, 5.0f,   /* y=2: p = 1/3 each, loss log 3 */
		       1e30f, 0.0f, 0.0f}; /* y=1: loss 1e30, finite */
	uint32_t y[4] = {0, 1, 2, 1};
	float l[4];
	for (size_t i = 0; i < m; i++) {
		float z[3];
		memcpy(z, Z + 3 * i, sizeof(z));
		l[i] = (float)kern->softmax_loss(z, &y[i], 1, k);
		memcpy(Z + 3 * i, z, sizeof(z));
	}
	for (size_t i = 0; i < m * k; i++)
		CHECK(isfinite(Z[i]) && Z[i] >= 0 && Z[i] <= 1, "%s p[%zu] = %g", kern->name, i, (double)Z[i]);
	CHECK(Z[0] == 1.0f && Z[1] == 0.0f && Z[2] == 0.0f, "%s +-1e4 row: %g %g %g", kern->name, (double)Z[0],
	      (double)Z[1], (double)Z[2]);
	CHECK(l[0] == 0.0f, "%s loss of the certain class: %g", kern->name, (double)l[0]);
	CHECK(l[1] == 2e4f, "%s loss at -1e4: %g", kern->name, (double)l[1]);
	CHECK(fabsf(Z[6] - 1.0f / 3) <= 6e-8f && Z[6] == Z[7] && Z[7] == Z[8], "%s equal logits: %.9g", kern->name,
	      (double)Z[6]);
	CHECK(fabsf(l[2] - logf(3.0f)) <= 1e-6f, "%s equal logits loss %.9g", kern->name, (double)l[2]);
	CHECK(Z[9] == 1.0f && Z[10] == 0.0f && l[3] == 1e30f, "%s huge logit: p %g loss %g", kern->name,
	      (double)Z[9], (double)l[3]);
	/* the whole batch at once gives the mean */
	float all[12] = {1e4f, -1e4f, -1e4f, 1e4f, -1e4f, 0.0f, 5.0f, 5.0f, 5.0f, 1.0f, 2.0f, 3.0f};
	float mean = (float)(kern->softmax_loss(all, y, m, k) / (double)m);
	CHECK(isfinite(mean) && mean > 5e3f, "%s batch mean loss %g", kern->name, (double)mean);
}

/* The sparse kernel's softmax (fused with the logits and the scatter on its
 * AVX2 path) at extreme logits: one feature of value 1 per row, so W[c][0]
 * is logit c. k = 3 (one block of 8) and 12 (two, label in the second);
 * float and compact CSR. Loss and gradient (p - y) must be exact. */
static void sparse_extremes(size_t k, bool compact)
{
	const size_t m = 5;
	float base[5][3] = {{1e4f, -1e4f, -1e4f}, {1e4f, -1e4f, 0.0f}, {5.0f, 5.0f, 5.0f}, {1e30f, 0.0f, 0.0f},
			    {5.0f, 5.0f, 5.0f}};
	uint32_t y[5] = {0, 1, 2, 1, (uint32_t)k - 1};
	uint64_t indptr[6] = {0, 1, 2, 3, 4, 5};
	uint32_t idx[5] = {0};
	float val[5] = {1, 1, 1, 1, 1};
	uint16_t idx16[5] = {0};
	uint8_t val8[5] = {1, 1, 1, 1, 1};
	struct softreg_source src = {.kind = SOFTREG_SOURCE_CSR, .n = m, .d = 1, .indptr = indptr};
	if (compact)
		src.indices16 = idx16, src.values8 = val8;
	else
		src.indices = idx, src.values = val;
	struct softreg_model *mod = softreg_model_alloc(k, 1, 1);
	struct softreg_workspace *ws = softreg_workspace_alloc(&softreg_kernel_sparse, 1, k, 1);
	float *g = malloc((k + k) * sizeof(float));
	CHECK(mod && ws && g, "sparse_extremes: out of memory");
	for (size_t i = 0; mod && ws && g && i < m; i++) {
		mod->prep = SOFTREG_PREP_SCALE;
		mod->scale = 1.0f;
		for (size_t c = 0; c < k; c++) /* classes past the third: far below */
			mod->W[c] = c < 3 && i < 4 ? base[i][c] : i < 4 ? -1e4f : 5.0f;
		struct softreg_batch b = {.src = &src, .y = y, .first = i, .m = 1};
		double loss = softreg_kernel_sparse.loss_grad(mod, &b, g, ws);
		double want[5] = {0, 2e4, log(3.0), 1e30, log((double)k)};
		CHECK(fabs(loss - want[i]) <= 1e-6 * (want[i] > 1 ? want[i] : 1), "k %zu %s row %zu: loss %.9g, want %.9g",
		      k, compact ? "compact" : "float", i, loss, want[i]);
		for (size_t c = 0; c < k; c++) {
			double p = i == 2 ? (c < 3 ? 1.0 / 3 : 0) : i == 4 ? 1.0 / (double)k : c == 0;
			double want_g = p - (c == y[i]);
			CHECK(fabs(g[c] - want_g) <= 1e-6 && fabsf(g[k + c] - g[c]) == 0,
			      "k %zu %s row %zu: dW[%zu] %.9g db %.9g, want %.9g", k, compact ? "compact" : "float", i, c,
			      (double)g[c], (double)g[k + c], want_g);
		}
	}
	free(g);
	softreg_workspace_free(ws);
	softreg_model_free(mod);
}

/* --standardize on sparse data scales without centring (mean 0), with the
 * standard deviation of every feature counting the zeros, as scikit-learn's
 * StandardScaler(with_mean=False); the same on dense data centres */
static void standardize_sparse(void)
{
	size_t k = 3, rows = 4, cols = 5, d = rows * cols, n = 40;
	struct softreg_dataset ds, v;
	t_random_dataset(&ds, n, rows, cols, k, 61, false);
	struct softreg_model *id = softreg_model_alloc(k, rows, cols), *m = softreg_model_alloc(k, rows, cols);
	id->scale = 1.0f;
	for (size_t i = 0; i < n * d; i += 3) /* zeros in every feature */
		((uint8_t *)ds.mem_[0])[i] = 0;
	t_convert_dataset(&ds, id, SOFTREG_SOURCE_CSR, &v);
	char err[SOFTREG_ERRLEN];
	softreg_model_init_prep(m, &v.x);
	CHECK(softreg_model_standardize(m, &v, err) == SOFTREG_OK, "%s", err);
	for (size_t j = 0; j < d; j++) {
		double s1 = 0, s2 = 0;
		for (size_t i = 0; i < n; i++) {
			double x = T_PIXELS(&ds)[i * d + j];
			s1 += x;
			s2 += x * x;
		}
		double mean = s1 / (double)n, sd = sqrt(s2 / (double)n - mean * mean);
		CHECK(m->mean[j] == 0.0f, "feature %zu: sparse data centred (mean %g)", j, (double)m->mean[j]);
		CHECK(fabs(m->inv_std[j] * sd - 1) < 1e-5, "feature %zu: inv_std %g, 1/std %g", j, (double)m->inv_std[j],
		      1 / sd);
	}
	CHECK(softreg_model_check_data(m, &v, "csr", err) == SOFTREG_OK, "%s", err);
	struct softreg_model *dense = softreg_model_alloc(k, rows, cols);
	softreg_model_standardize(dense, &ds, NULL);
	CHECK(dense->mean[1] != 0.0f, "dense data not centred");
	dense->input = SOFTREG_INPUT_REAL;
	CHECK(softreg_model_check_data(dense, &v, "csr", err) == SOFTREG_ERR_MISMATCH && strstr(err, "centres"),
	      "a centring model took sparse data: %s", err);
	t_free_view(&v);
	softreg_model_free(id);
	softreg_model_free(m);
	softreg_model_free(dense);
	softreg_dataset_free(&ds);
}

/* softreg_dataset_sparsify() on uint8, float32 and float16 rows (4 of 5
 * pixels zeroed, whole zero rows, an odd d): every nonzero in order, the
 * origin kept, a model made on it scales as on the dense rows, and the sparse
 * kernel on the CSR agrees with the naive kernel on the dense rows. */
static void sparsify_case(enum softreg_source_kind kind, size_t rows, size_t cols)
{
	size_t n = 301, k = 10, d = rows * cols;
	struct softreg_dataset ds, v;
	t_random_dataset(&ds, n, rows, cols, k, 700 + (uint64_t)kind, false);
	uint8_t *px = ds.mem_[0];
	struct softreg_rng rng;
	softreg_rng_seed(&rng, 701);
	for (size_t i = 0; i < n * d; i++)
		if (softreg_rng_below(&rng, 5) != 0 || (i / d) % 50 == 7)
			px[i] = 0;
	struct softreg_model *mod = softreg_model_alloc(k, rows, cols);
	t_random_floats(mod->W, k * d, -0.05f, 0.05f, 702);
	t_random_floats(mod->b, k, -0.5f, 0.5f, 703);
	t_convert_dataset(&ds, mod, kind, &v); /* the uint8 rows themselves for U8 */
	struct softreg_dataset sp = v;          /* the same view, to be made sparse */
	memset(sp.mem_, 0, sizeof(sp.mem_));
	char err[SOFTREG_ERRLEN];
	double density = softreg_source_density(&v.x);
	CHECK(density > 0.15 && density < 0.25, "%s: density %.3f of rows with 1 in 5 nonzero", kinds[kind], density);
	CHECK(softreg_dataset_sparsify(&sp, err) == SOFTREG_OK, "%s: sparsify: %s", kinds[kind], err);
	CHECK(sp.x.kind == SOFTREG_SOURCE_CSR && softreg_source_input(&sp.x) == kind, "%s: origin %d", kinds[kind],
	      sp.x.origin);
	/* uint8 rows of d <= 65536: the compact form alone (3 bytes a nonzero);
	 * others, and wider uint8 rows: floats */
	bool want_compact = kind == SOFTREG_SOURCE_U8 && d <= 65536;
	CHECK(want_compact ? sp.x.values8 && sp.x.indices16 && !sp.x.values && !sp.x.indices
			   : !sp.x.values8 && !sp.x.indices16 && sp.x.values && sp.x.indices,
	      "%s: the CSR's form is not the %s one", kinds[kind], want_compact ? "compact" : "float");
	size_t bad = 0, nnz = 0;
	float *row = malloc(d * sizeof(float));
	struct softreg_model *ident = softreg_model_alloc(k, rows, cols);
	ident->prep = SOFTREG_PREP_SCALE;
	ident->scale = 1.0f;
	for (size_t i = 0; i < n; i++) {
		struct softreg_batch one = {.src = &v.x, .first = i, .m = 1};
		softreg_gather(ident, &one, row);
		for (size_t j = 0, p = sp.x.indptr[i]; j < d; j++) {
			if (row[j] == 0.0f)
				continue;
			nnz++;
			bool compact = sp.x.values8 != NULL;
			uint32_t col = compact ? sp.x.indices16[p] : sp.x.indices[p];
			float val = compact ? sp.x.values8[p] : sp.x.values[p];
			bad += p >= sp.x.indptr[i + 1] || col != j || val != row[j];
			p++;
		}
	}
	CHECK(bad == 0 && nnz == sp.x.indptr[n], "%s: %zu of %zu nonzeros wrong (CSR has %llu)", kinds[kind], bad, nnz,
	      (unsigned long long)sp.x.indptr[n]);
	/* a model made on the CSR preprocesses as one made on the dense rows */
	struct softreg_model *a = softreg_model_alloc(k, rows, cols), *b2 = softreg_model_alloc(k, rows, cols);
	softreg_model_init_prep(a, &v.x);
	softreg_model_init_prep(b2, &sp.x);
	CHECK(a->input == b2->input && a->scale == b2->scale, "%s: the CSR's model scales by %g, the dense one's by %g",
	      kinds[kind], (double)b2->scale, (double)a->scale);
	memcpy(b2->W, mod->W, k * d * sizeof(float));
	memcpy(b2->b, mod->b, k * sizeof(float));
	memcpy(a->W, mod->W, k * d * sizeof(float));
	memcpy(a->b, mod->b, k * sizeof(float));
	struct softreg_workspace *wn = softreg_workspace_alloc(&softreg_kernel_naive, n, k, d);
	struct softreg_workspace *ws = softreg_workspace_alloc(&softreg_kernel_sparse, n, k, d);
	float *g0 = malloc((k * d + k) * sizeof(float)), *g1 = malloc((k * d + k) * sizeof(float));
	struct softreg_batch bd = {.src = &v.x, .y = v.y, .m = n}, bs = {.src = &sp.x, .y = sp.y, .m = n};
	double l0 = softreg_kernel_naive.loss_grad(a, &bd, g0, wn), l1 = softreg_kernel_sparse.loss_grad(b2, &bs, g1, ws);
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "sparsified %s d=%zu", kinds[kind], d);
	CHECK(fabs(l1 - l0) <= 1e-5 * fabs(l0), "%s: loss %.9g, naive on the dense rows %.9g", ctx, l1, l0);
	compare("dW", g1, g0, k * d, ctx);
	compare("db", g1 + k * d, g0 + k * d, k, ctx);
	free(g0);
	free(g1);
	free(row);
	softreg_workspace_free(wn);
	softreg_workspace_free(ws);
	softreg_model_free(a);
	softreg_model_free(b2);
	softreg_model_free(ident);
	softreg_model_free(mod);
	for (size_t i = 0; i < sizeof(sp.mem_) / sizeof(sp.mem_[0]); i++)
		free(sp.mem_[i]);
	if (kind != SOFTREG_SOURCE_U8)
		t_free_view(&v);
	softreg_dataset_free(&ds);
}

int main(void)
{
	const char *off = getenv("SOFTREG_DISABLE_CPU_FEATURES");
	CHECK(!(off && strstr(off, "avx2")) || strcmp(softreg_sparse_path(), "plain") == 0,
	      "SOFTREG_DISABLE_CPU_FEATURES=%s, yet the sparse kernel runs its %s path", off, softreg_sparse_path());
	CHECK(!(off && strstr(off, "avx512")) || strcmp(softreg_sparse_path(), "avx512") != 0,
	      "SOFTREG_DISABLE_CPU_FEATURES=%s, yet the sparse kernel runs its %s path", off, softreg_sparse_path());
	printf("sparse kernel path: %s\n", softreg_sparse_path());
	standardize_sparse();
	for (int kind = SOFTREG_SOURCE_U8; kind <= SOFTREG_SOURCE_F16; kind++) {
		sparsify_case((enum softreg_source_kind)kind, 28, 28);
		sparsify_case((enum softreg_source_kind)kind, 1, 13);
	}
	sparsify_case(SOFTREG_SOURCE_U8, 2, 32771); /* d = 65542: too wide for uint16 indices */
	size_t ms[] = {1, 7, 64, 65, 256, 1000};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		twin_case(10, 28, 28, ms[i], false, 100 + i);
	twin_case(3, 5, 157, 129, false, 300); /* odd shapes: d = 785 */
	twin_case(3, 5, 157, 7, false, 301);
	twin_case(10, 28, 28, 256, true, 302);
	twin_case(2, 1, 1, 1, false, 303);
	twin_case(300, 1, 40, 70, false, 304);  /* many classes */
	twin_case(600, 1, 500, 300, false, 305); /* a large model: long chunks, fewer partial gradients */
	for (int kind = 0; kind < SOFTREG_SOURCE_KINDS; kind++)
		for (size_t i = 0; softreg_kernels[i]; i++)
			if (softreg_kernel_takes(softreg_kernels[i], (enum softreg_source_kind)kind)) {
				finite_differences(softreg_kernels[i], (enum softreg_source_kind)kind);
				thread_counts(softreg_kernels[i], (enum softreg_source_kind)kind);
			}
	for (size_t i = 0; softreg_kernels[i]; i++)
		softmax_extremes(softreg_kernels[i]);
	for (int compact = 0; compact < 2; compact++) {
		sparse_extremes(3, compact);
		sparse_extremes(12, compact);
	}
	return t_done("test_kernels");
}
