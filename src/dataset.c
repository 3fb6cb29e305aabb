/* SPDX-License-Identifier: MIT
 * dataset.c: data sets: reading any format, the class table, labels to class
 * indices, and the rows of a batch as preprocessed floats. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <strings.h>
#include <sys/stat.h>

/* the IDX pair into 'ds': uint8 images as the source, labels widened */
static enum softreg_result idx_pair(const char *images_path, const char *labels_path, uint64_t max_bytes,
				    struct softreg_dataset *ds, char *err)
{
	struct softreg_idx img = {0}, lab = {0};
	uint8_t *img_mem = NULL; /* what to free: img.data may point into it */
	enum softreg_result r = sr_idx_read(images_path, max_bytes, &img, &img_mem, err);
	if (r == SOFTREG_OK && labels_path)
		r = softreg_idx_read(labels_path, max_bytes, &lab, err);
	if (r == SOFTREG_OK && img.ndim != 3)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: expected an image file (3 dimensions), found %zu",
			    images_path, img.ndim);
	if (r == SOFTREG_OK && labels_path && lab.ndim != 1)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: expected a label file (1 dimension), found %zu",
			    labels_path, lab.ndim);
	if (r == SOFTREG_OK && img.dims[1] * img.dims[2] > SOFTREG_MAX_FEATURES)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: images of %zux%zu pixels are more features than a model takes",
			    images_path, img.dims[1], img.dims[2]);
	if (r == SOFTREG_OK && img.dims[0] > UINT32_MAX) /* rows are indexed by uint32 */
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: more than 2^32 - 1 images", images_path);
	if (r == SOFTREG_OK && labels_path && img.dims[0] != lab.dims[0])
		r = sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: %zu labels for %zu images in %s", labels_path,
			    lab.dims[0], img.dims[0], images_path);
	int64_t *labels = NULL;
	if (r == SOFTREG_OK && labels_path) {
		labels = malloc(lab.dims[0] * sizeof(int64_t));
		if (!labels)
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", labels_path);
	}
	if (r) {
		free(img_mem);
		softreg_idx_free(&lab);
		return r;
	}
	for (size_t i = 0; labels && i < lab.dims[0]; i++)
		labels[i] = lab.data[i];
	softreg_idx_free(&lab);
	ds->n = img.dims[0];
	ds->rows = img.dims[1];
	ds->cols = img.dims[2];
	ds->d = ds->rows * ds->cols; /* cannot overflow: checked by the reader */
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = ds->n, .d = ds->d, .data = img.data};
	ds->labels = labels;
	sr_dataset_own(ds, img_mem);
	sr_dataset_own(ds, labels);
	return SOFTREG_OK;
}

enum softreg_result softreg_dataset_load(const char *images_path, const char *labels_path, uint64_t max_bytes,
					 struct softreg_dataset *ds, char *err)
{
	memset(ds, 0, sizeof(*ds));
	return idx_pair(images_path, labels_path, max_bytes, ds, err);
}

enum softreg_result softreg_dataset_find(const char *dir, const char *stem, char *path, size_t size,
					 char *err)
{
	struct stat st;
	int n = snprintf(path, size, "%s/%s", dir, stem);
	if (n < 0 || (size_t)n >= size)
		return sr_fail(err, SOFTREG_ERR_IO, "%s/%s: %s", dir, stem, strerror(ENAMETOOLONG));
	if (stat(path, &st) == 0 || errno != ENOENT) /* a symlink loop, say: the reader says why */
		return SOFTREG_OK;
	n = snprintf(path, size, "%s/%s.gz", dir, stem);
	if (n > 0 && (size_t)n < size && (stat(path, &st) == 0 || errno != ENOENT))
		return SOFTREG_OK;
	return sr_fail(err, SOFTREG_ERR_IO, "%s/%s[.gz]: no such file (fetch the data with scripts/fetch-mnist)",
		       dir, stem);
}

enum softreg_result softreg_dataset_load_split(const char *dir, const char *prefix, uint64_t max_bytes,
					       struct softreg_dataset *ds, char *err)
{
	char stem[2][128];
	memset(ds, 0, sizeof(*ds));
	snprintf(stem[0], sizeof(stem[0]), "%s-images-idx3-ubyte", prefix);
	snprintf(stem[1], sizeof(stem[1]), "%s-labels-idx1-ubyte", prefix);
	char *path = malloc(2 * PATH_MAX); /* off the stack: a small stack limit must not crash */
	if (!path)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", dir);
	enum softreg_result r = SOFTREG_OK;
	for (int i = 0; i < 2 && r == SOFTREG_OK; i++)
		r = softreg_dataset_find(dir, stem[i], path + i * PATH_MAX, PATH_MAX, err);
	if (r == SOFTREG_OK)
		r = softreg_dataset_load(path, path + PATH_MAX, max_bytes, ds, err);
	free(path);
	return r;
}

enum softreg_result softreg_dataset_load_dir(const char *dir, uint64_t max_bytes,
					     struct softreg_dataset *train, struct softreg_dataset *test,
					     char *err)
{
	memset(train, 0, sizeof(*train));
	memset(test, 0, sizeof(*test));
	static const char *stems[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
				       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
	/* off the stack: a small stack limit must not crash */
	char (*paths)[PATH_MAX] = malloc(4 * sizeof(*paths)), (*errs)[SOFTREG_ERRLEN] = calloc(2, sizeof(*errs));
	enum softreg_result r = paths && errs ? SOFTREG_OK : sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", dir);
	for (int i = 0; i < 4 && r == SOFTREG_OK; i++)
		r = softreg_dataset_find(dir, stems[i], paths[i], sizeof(paths[i]), err);
	if (r == SOFTREG_OK) {
		/* Decompression dominates loading: the two sets inflate in parallel. */
		enum softreg_result rs[2];
		struct softreg_dataset *sets[2] = {train, test};
#pragma omp parallel for num_threads(2) schedule(static, 1)
		for (int i = 0; i < 2; i++)
			rs[i] = softreg_dataset_load(paths[2 * i], paths[2 * i + 1], max_bytes, sets[i], errs[i]);
		for (int i = 0; i < 2 && r == SOFTREG_OK; i++)
			if (rs[i])
				r = sr_fail(err, rs[i], "%s", errs[i]);
	}
	if (r == SOFTREG_OK && (train->rows != test->rows || train->cols != test->cols))
		r = sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: test images are %zux%zu, training images %zux%zu", paths[2],
			    test->rows, test->cols, train->rows, train->cols);
	if (r) {
		softreg_dataset_free(train);
		softreg_dataset_free(test);
	}
	free(paths);
	free(errs);
	return r;
}

/* ---- formats ---- */

const char *softreg_format_name(enum softreg_format f)
{
	static const char *names[] = {"auto", "idx", "npy", "libsvm", "csv"};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

enum softreg_format softreg_format_detect(const char *path)
{
	uint8_t magic[6] = {0};
	int fd = sr_open_fd(path, NULL, NULL); /* a FIFO is refused, never waited on */
	ssize_t got = fd >= 0 ? read(fd, magic, sizeof(magic)) : 0;
	if (fd >= 0)
		close(fd);
	if (got >= 6 && memcmp(magic, "\x93NUMPY", 6) == 0)
		return SOFTREG_FORMAT_NPY;
	if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return SOFTREG_FORMAT_IDX; /* gzip: the only compressed input is IDX */
	if (got >= 4 && magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 && (magic[3] == 1 || magic[3] == 3))
		return SOFTREG_FORMAT_IDX;
	if (ends_with(path, ".npy"))
		return SOFTREG_FORMAT_NPY;
	if (ends_with(path, ".svm") || ends_with(path, ".libsvm") || ends_with(path, ".txt"))
		return SOFTREG_FORMAT_LIBSVM;
	if (ends_with(path, ".csv"))
		return SOFTREG_FORMAT_CSV;
	if (ends_with(path, "-ubyte") || ends_with(path, "-ubyte.gz") || strstr(path, ".idx"))
		return SOFTREG_FORMAT_IDX;
	return SOFTREG_FORMAT_AUTO;
}

/* .npy features and labels files into one data set */
static enum softreg_result npy_pair(const char *features, const char *labels, struct softreg_dataset *ds, char *err)
{
	enum softreg_result r = sr_npy_read(features, 0, ds, err);
	if (r || !labels)
		return r;
	struct softreg_dataset lab = {0};
	r = sr_npy_read(labels, 1, &lab, err);
	if (r == SOFTREG_OK && lab.n != ds->n)
		r = sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: %zu labels for %zu rows in %s", labels, lab.n, ds->n,
			    features);
	if (r == SOFTREG_OK) {
		/* the labels' buffer moves to the features' data set */
		for (size_t i = 0; i < sizeof(lab.mem_) / sizeof(lab.mem_[0]); i++) {
			if (lab.mem_[i] == lab.labels) {
				lab.mem_[i] = NULL;
				if (!sr_dataset_own(ds, lab.labels))
					lab.mem_[i] = lab.labels, r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: too many buffers", labels);
				else
					ds->labels = lab.labels;
			}
		}
		if (r == SOFTREG_OK && !ds->labels)
			r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: no labels read", labels);
	}
	softreg_dataset_free(&lab);
	if (r)
		softreg_dataset_free(ds);
	return r;
}

enum softreg_result softreg_dataset_read(const char *features, const char *labels,
					 const struct softreg_read_opts *opts, struct softreg_dataset *ds, char *err)
{
	struct softreg_read_opts none = {0};
	if (!opts)
		opts = &none;
	memset(ds, 0, sizeof(*ds));
	enum softreg_format f = opts->format ? opts->format : softreg_format_detect(features);
	bool inline_labels = f == SOFTREG_FORMAT_LIBSVM || f == SOFTREG_FORMAT_CSV;
	if (labels && inline_labels)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: %s files hold their labels; no labels file is taken (%s)",
			       features, softreg_format_name(f), labels);
	switch (f) {
	case SOFTREG_FORMAT_IDX: return idx_pair(features, labels, opts->max_bytes, ds, err);
	case SOFTREG_FORMAT_NPY: return npy_pair(features, labels, ds, err);
	case SOFTREG_FORMAT_LIBSVM: return sr_libsvm_read(features, opts, ds, err);
	case SOFTREG_FORMAT_CSV: return sr_csv_read(features, opts, ds, err);
	case SOFTREG_FORMAT_AUTO: break;
	}
	int fd = sr_open_fd(features, NULL, err); /* missing, a folder, a FIFO: say that first */
	if (fd < 0)
		return SOFTREG_ERR_IO;
	close(fd);
	return sr_fail(err, SOFTREG_ERR_FORMAT,
		       "%s: unknown format (not IDX or .npy by content; name it .svm, .libsvm, .txt or .csv, or give --format)",
		       features);
}

/* ---- classes ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

enum softreg_result softreg_dataset_classes(const struct softreg_dataset *ds, const char *what, int64_t **classes_ret,
					    size_t *k_ret, char *err)
{
	*classes_ret = NULL;
	*k_ret = 0;
	if (!ds->labels || ds->n == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: no labels", what);
	int64_t *v = malloc(ds->n * sizeof(int64_t));
	if (!v)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for the class table", what);
	memcpy(v, ds->labels, ds->n * sizeof(int64_t));
	qsort(v, ds->n, sizeof(int64_t), cmp_i64);
	size_t k = 0;
	for (size_t i = 0; i < ds->n; i++)
		if (i == 0 || v[i] != v[k - 1])
			v[k++] = v[i];
	if (k < 2 || k > SOFTREG_MAX_CLASSES) {
		free(v);
		if (k < 2)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: every label is %lld: at least 2 classes are needed",
				       what, (long long)ds->labels[0]);
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %zu distinct labels, more than the %u classes a model takes",
			       what, k, SOFTREG_MAX_CLASSES);
	}
	int64_t *shrunk = realloc(v, k * sizeof(int64_t));
	*classes_ret = shrunk ? shrunk : v;
	*k_ret = k;
	return SOFTREG_OK;
}

/* the index of 'value' in the increasing 'classes', or k when absent */
static size_t class_index(const int64_t *classes, size_t k, int64_t value)
{
	size_t lo = 0, hi = k;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (classes[mid] < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k && classes[lo] == value ? lo : k;
}

enum softreg_result softreg_dataset_map_labels(struct softreg_dataset *ds, const int64_t *classes, size_t k,
					       const char *what, char *err)
{
	if (!ds->labels)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: no labels", what);
	uint32_t *y = ds->y ? ds->y : malloc((ds->n ? ds->n : 1) * sizeof(uint32_t));
	if (!y)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu labels", what, ds->n);
	ds->y = y;
	/* labels 0..k-1 (IDX, most files) map to themselves: skip the search */
	bool identity = classes[0] == 0 && classes[k - 1] == (int64_t)k - 1;
	for (size_t i = 0; i < ds->n; i++) {
		int64_t v = ds->labels[i];
		size_t c = identity ? (v >= 0 && v < (int64_t)k ? (size_t)v : k) : class_index(classes, k, v);
		if (c == k) {
			free(ds->y);
			ds->y = NULL;
			return sr_fail(err, SOFTREG_ERR_MISMATCH,
				       "%s: row %zu: label %lld is not a class of the training set (%zu classes, %lld..%lld)",
				       what, i + 1, (long long)v, k, (long long)classes[0], (long long)classes[k - 1]);
		}
		y[i] = (uint32_t)c;
	}
	return SOFTREG_OK;
}

/* ---- rows as preprocessed floats ---- */

static void prep_floats(const struct softreg_model *m, float *x, size_t d)
{
	if (m->prep == SOFTREG_PREP_STANDARDIZE) {
		const float *mu = m->mean, *is = m->inv_std;
#pragma omp simd
		for (size_t j = 0; j < d; j++)
			x[j] = (x[j] - mu[j]) * is[j];
	} else if (m->scale != 1.0f) {
		float s = m->scale;
#pragma omp simd
		for (size_t j = 0; j < d; j++)
			x[j] *= s;
	}
}

void sr_gather_row(const struct softreg_model *m, const struct softreg_source *src, size_t row, float *x)
{
	size_t d = m->d;
	switch (src->kind) {
	case SOFTREG_SOURCE_U8:
		sr_gather_row_u8(m, (const uint8_t *)src->data + row * d, x);
		return;
	case SOFTREG_SOURCE_F32:
		memcpy(x, (const float *)src->data + row * d, d * sizeof(float));
		break;
	case SOFTREG_SOURCE_F16:
		softreg_f16_to_f32((const uint16_t *)src->data + row * d, x, d);
		break;
	case SOFTREG_SOURCE_CSR:
		memset(x, 0, d * sizeof(float));
		for (uint64_t p = src->indptr[row]; p < src->indptr[row + 1]; p++)
			x[sr_csr_index(src, p)] = sr_csr_value(src, p);
		break;
	}
	prep_floats(m, x, d);
}

void sr_gather_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0, size_t i1, float *X)
{
	size_t d = m->d;
	if (b->src->kind == SOFTREG_SOURCE_U8) {
		const uint8_t *px = b->src->data;
		for (size_t i = i0; i < i1; i++)
			sr_gather_row_u8(m, px + sr_row(b, i) * d, X + (i - i0) * d);
		return;
	}
	for (size_t i = i0; i < i1; i++)
		sr_gather_row(m, b->src, sr_row(b, i), X + (i - i0) * d);
}

bool sr_rows_in_place(const struct softreg_model *m, const struct softreg_batch *b)
{
	return b->src->kind == SOFTREG_SOURCE_F32 && !b->rows && m->prep == SOFTREG_PREP_SCALE && m->scale == 1.0f;
}

void softreg_gather(const struct softreg_model *m, const struct softreg_batch *batch, float *X)
{
	sr_gather_rows(m, batch, 0, batch->m, X);
}
