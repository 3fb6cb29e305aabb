/* SPDX-License-Identifier: MIT
 * cmd_predict.c: softreg predict: label and top-K probabilities per image. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: softreg predict --model MODEL [--top K] [--json] FILE...\n"
	"\n"
	"For each image, print the predicted label and the K most probable classes (default 3).\n"
	"FILE is an IDX image file (every image in it, raw or .gz) or a PGM image (P2 or P5)\n"
	"of the model's size.\n";

struct out {
	bool json, first;
	size_t top;
};

static void predict_one(const struct softreg_model *m, const uint8_t *px, const char *file, long index,
			struct out *o, float *proba)
{
	size_t k = m->k, order[256];
	softreg_predict_proba(m, px, proba);
	for (size_t j = 0; j < k; j++)
		order[j] = j;
	size_t top = o->top < k ? o->top : k;
	for (size_t i = 0; i < top; i++) /* partial selection sort: k is small */
		for (size_t j = i + 1; j < k; j++)
			if (proba[order[j]] > proba[order[i]]) {
				size_t t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
	if (o->json) {
		printf("%s{\"file\": ", o->first ? "" : ", ");
		json_string(stdout, file);
		if (index >= 0)
			printf(", \"index\": %ld", index);
		printf(", \"label\": %zu, \"top\": [", order[0]);
		for (size_t i = 0; i < top; i++)
			printf("%s{\"class\": %zu, \"p\": %.6f}", i ? ", " : "", order[i], proba[order[i]]);
		printf("]}");
	} else {
		if (index >= 0)
			printf("%s[%ld]: %zu ", file, index, order[0]);
		else
			printf("%s: %zu ", file, order[0]);
		for (size_t i = 0; i < top; i++)
			printf(" %zu:%.4f", order[i], proba[order[i]]);
		printf("\n");
	}
	o->first = false;
}

static int predict_file(const struct softreg_model *m, const char *path, struct out *o, float *proba)
{
	char err[SOFTREG_ERRLEN];
	FILE *f = fopen(path, "rb");
	int c0 = f ? fgetc(f) : EOF;
	if (f)
		fclose(f);
	if (c0 == 'P') {
		uint8_t *px;
		size_t rows, cols;
		if (softreg_pgm_read(path, &px, &rows, &cols, err))
			return runtime_error("%s", err);
		if (rows != m->rows || cols != m->cols) {
			free(px);
			return runtime_error("%s: image is %zux%zu, the model expects %zux%zu", path, cols, rows, m->cols,
					     m->rows);
		}
		predict_one(m, px, path, -1, o, proba);
		free(px);
		return 0;
	}
	struct softreg_idx idx;
	if (softreg_idx_read(path, max_bytes_from_env(), &idx, err))
		return runtime_error("%s", err);
	if (idx.ndim != 3 || idx.dims[1] != m->rows || idx.dims[2] != m->cols) {
		softreg_idx_free(&idx);
		return runtime_error("%s: not an IDX image file of %zux%zu images", path, m->rows, m->cols);
	}
	for (size_t i = 0; i < idx.dims[0]; i++)
		predict_one(m, idx.data + i * m->d, path, (long)i, o, proba);
	softreg_idx_free(&idx);
	return 0;
}

int cmd_predict(int argc, char **argv)
{
	const char *model_path = NULL;
	struct out o = {.first = true, .top = 3};
	const char **files = calloc((size_t)argc, sizeof(char *));
	size_t nfiles = 0;
	if (!files)
		return runtime_error("out of memory");
	struct args a;
	args_init(&a, "predict", argc, argv);
	int rc = EXIT_USAGE;
	for (const char *f; (f = args_next(&a));) {
		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			fputs(help, stdout);
			free(files);
			return EXIT_OK;
		} else if (!strcmp(f, "--model")) {
			args_string(&a, &model_path);
		} else if (!strcmp(f, "--top")) {
			args_size(&a, 1, 256, &o.top);
		} else if (!strcmp(f, "--json")) {
			o.json = true;
		} else if (args_is_flag(f)) {
			usage_error("predict", "unknown option '%s'", f);
			goto out;
		} else {
			files[nfiles++] = f;
		}
	}
	if (a.failed)
		goto out;
	if (!model_path) {
		usage_error("predict", "--model MODEL is required");
		goto out;
	}
	if (!nfiles) {
		usage_error("predict", "no image file given");
		goto out;
	}
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m;
	rc = EXIT_RUNTIME;
	if (softreg_model_load(model_path, &m, NULL, err)) {
		runtime_error("%s", err);
		goto out;
	}
	float proba[256];
	if (o.json) {
		printf("{\"model\": ");
		json_string(stdout, model_path);
		printf(", \"predictions\": [");
	}
	rc = EXIT_OK;
	for (size_t i = 0; i < nfiles && rc == EXIT_OK; i++)
		if (predict_file(m, files[i], &o, proba))
			rc = EXIT_RUNTIME;
	if (o.json)
		printf("]}\n");
	softreg_model_free(m);
out:
	free(files);
	return rc;
}
