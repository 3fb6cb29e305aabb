/* SPDX-License-Identifier: MIT
 * dataset.c: a dataset is n x d uint8 pixels and n labels, from two IDX files. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum softreg_result softreg_dataset_load(const char *images_path, const char *labels_path,
					 uint64_t max_bytes, struct softreg_dataset *ds, char *err)
{
	memset(ds, 0, sizeof(*ds));
	struct softreg_idx img = {0}, lab = {0};
	enum softreg_result r = softreg_idx_read(images_path, max_bytes, &img, err);
	if (r == SOFTREG_OK)
		r = softreg_idx_read(labels_path, max_bytes, &lab, err);
	if (r == SOFTREG_OK && img.ndim != 3)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: expected an image file (3 dimensions), found %zu",
			    images_path, img.ndim);
	if (r == SOFTREG_OK && lab.ndim != 1)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: expected a label file (1 dimension), found %zu",
			    labels_path, lab.ndim);
	if (r == SOFTREG_OK && img.dims[1] * img.dims[2] > ((size_t)1 << 26))
		r = sr_fail(err, SOFTREG_ERR_FORMAT,
			    "%s: images of %zux%zu pixels are larger than a model takes (2^26 pixels)", images_path,
			    img.dims[1], img.dims[2]);
	if (r == SOFTREG_OK && img.dims[0] > UINT32_MAX) /* rows are indexed by uint32 */
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: more than 2^32 - 1 images", images_path);
	if (r == SOFTREG_OK && img.dims[0] != lab.dims[0])
		r = sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: %zu labels for %zu images in %s", labels_path,
			    lab.dims[0], img.dims[0], images_path);
	if (r) {
		softreg_idx_free(&img);
		softreg_idx_free(&lab);
		return r;
	}
	ds->n = img.dims[0];
	ds->rows = img.dims[1];
	ds->cols = img.dims[2];
	ds->d = ds->rows * ds->cols; /* cannot overflow: checked by the reader */
	ds->pixels = img.data;
	ds->labels = lab.data;
	for (size_t i = 0; i < ds->n; i++)
		if (ds->labels[i] > ds->max_label)
			ds->max_label = ds->labels[i];
	return SOFTREG_OK;
}

enum softreg_result softreg_dataset_find(const char *dir, const char *stem, char *path, size_t size,
					 char *err)
{
	struct stat st;
	int n = snprintf(path, size, "%s/%s", dir, stem);
	if (n > 0 && (size_t)n < size && stat(path, &st) == 0)
		return SOFTREG_OK;
	n = snprintf(path, size, "%s/%s.gz", dir, stem);
	if (n > 0 && (size_t)n < size && stat(path, &st) == 0)
		return SOFTREG_OK;
	return sr_fail(err, SOFTREG_ERR_IO, "%s/%s[.gz]: no such file (fetch the data with scripts/fetch-mnist)",
		       dir, stem);
}

enum softreg_result softreg_dataset_load_split(const char *dir, const char *prefix, uint64_t max_bytes,
					       struct softreg_dataset *ds, char *err)
{
	char stem[2][128], path[2][4096];
	memset(ds, 0, sizeof(*ds));
	snprintf(stem[0], sizeof(stem[0]), "%s-images-idx3-ubyte", prefix);
	snprintf(stem[1], sizeof(stem[1]), "%s-labels-idx1-ubyte", prefix);
	for (int i = 0; i < 2; i++) {
		enum softreg_result r = softreg_dataset_find(dir, stem[i], path[i], sizeof(path[i]), err);
		if (r)
			return r;
	}
	return softreg_dataset_load(path[0], path[1], max_bytes, ds, err);
}

enum softreg_result softreg_dataset_load_dir(const char *dir, uint64_t max_bytes,
					     struct softreg_dataset *train, struct softreg_dataset *test,
					     char *err)
{
	memset(train, 0, sizeof(*train));
	memset(test, 0, sizeof(*test));
	static const char *stems[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
				       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
	char paths[4][4096];
	for (int i = 0; i < 4; i++) {
		enum softreg_result r = softreg_dataset_find(dir, stems[i], paths[i], sizeof(paths[i]), err);
		if (r)
			return r;
	}
	/* Decompression dominates loading: the two sets inflate in parallel. */
	enum softreg_result rs[2];
	char errs[2][SOFTREG_ERRLEN] = {"", ""};
	struct softreg_dataset *sets[2] = {train, test};
#pragma omp parallel for num_threads(2) schedule(static, 1)
	for (int i = 0; i < 2; i++)
		rs[i] = softreg_dataset_load(paths[2 * i], paths[2 * i + 1], max_bytes, sets[i], errs[i]);
	for (int i = 0; i < 2; i++) {
		if (rs[i]) {
			sr_fail(err, rs[i], "%s", errs[i]);
			softreg_dataset_free(train);
			softreg_dataset_free(test);
			return rs[i];
		}
	}
	enum softreg_result r = SOFTREG_OK;
	if (train->rows != test->rows || train->cols != test->cols)
		r = sr_fail(err, SOFTREG_ERR_MISMATCH, "%s: test images are %zux%zu, training images %zux%zu",
			    paths[2], test->rows, test->cols, train->rows, train->cols);
	else if (train->max_label < 1)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: all labels are 0: at least 2 classes are needed",
			    paths[1]);
	else if (test->max_label > train->max_label)
		r = sr_fail(err, SOFTREG_ERR_MISMATCH,
			    "%s: test label %u is not a class of the training set (labels 0..%u)", paths[3],
			    test->max_label, train->max_label);
	if (r) {
		softreg_dataset_free(train);
		softreg_dataset_free(test);
	}
	return r;
}

void softreg_dataset_free(struct softreg_dataset *ds)
{
	if (!ds)
		return;
	free(ds->pixels);
	free(ds->labels);
	memset(ds, 0, sizeof(*ds));
}

void sr_gather_rows(const struct softreg_model *m, const struct softreg_batch *b, size_t i0, size_t i1,
		    float *X)
{
	size_t d = m->d;
	for (size_t i = i0; i < i1; i++)
		sr_gather_row(m, b->pixels + (size_t)(b->rows ? b->rows[i] : i) * d, X + (i - i0) * d);
}

void softreg_gather(const struct softreg_model *m, const struct softreg_batch *batch, float *X)
{
	if (batch->X)
		memcpy(X, batch->X, batch->m * m->d * sizeof(float));
	else
		sr_gather_rows(m, batch, 0, batch->m, X);
}
