/* SPDX-License-Identifier: MIT
 * cmd_export.c: softreg export: a model's weights for other tools. */
#include "cli.h"

#include <string.h>

static const char help[] =
	"usage: softreg export --model MODEL [--format npy|csv|json] [--out FILE]\n"
	"\n"
	"Write the model's weights (default: npy to stdout unless --out):\n"
	"  npy   W as a float32 array of shape (k, rows, cols): each class's template as an image\n"
	"  csv   a header 'class,bias,w_R_C...' and one row per class\n"
	"  json  {k, d, rows, cols, prep, scale, W: [[...]], b: [...]}\n";

static void npy(FILE *f, const struct softreg_model *m)
{
	char hdr[128];
	int n = snprintf(hdr, sizeof(hdr), "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu, %zu), }",
			 m->k, m->rows, m->cols);
	/* header padded with spaces to a multiple of 64 bytes, ending in \n */
	int total = 10 + n + 1, pad = (64 - total % 64) % 64;
	fwrite("\x93NUMPY\x01\x00", 1, 8, f);
	uint16_t hl = (uint16_t)(n + pad + 1);
	fputc(hl & 0xff, f);
	fputc(hl >> 8, f);
	fwrite(hdr, 1, (size_t)n, f);
	for (int i = 0; i < pad; i++)
		fputc(' ', f);
	fputc('\n', f);
	fwrite(m->W, sizeof(float), m->k * m->d, f); /* little-endian hosts */
}

int cmd_export(int argc, char **argv)
{
	static const char *const formats[] = {"npy", "csv", "json", NULL};
	const char *model_path = NULL, *out = NULL;
	int format = 0;
	struct args a;
	args_init(&a, "export", argc, argv);
	for (const char *f; (f = args_next(&a));) {
		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(f, "--model")) {
			args_string(&a, &model_path);
		} else if (!strcmp(f, "--format")) {
			args_choice(&a, formats, &format);
		} else if (!strcmp(f, "--out")) {
			args_string(&a, &out);
		} else {
			return usage_error("export", "%s '%s'", args_is_flag(f) ? "unknown option" : "unexpected argument", f);
		}
	}
	if (a.failed)
		return EXIT_USAGE;
	if (!model_path)
		return usage_error("export", "--model MODEL is required");
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m;
	if (softreg_model_load(model_path, &m, NULL, err))
		return runtime_error("%s", err);
	FILE *f = out ? fopen(out, "wb") : stdout;
	if (!f) {
		softreg_model_free(m);
		return runtime_error("%s: cannot write", out);
	}
	if (format == 0) {
		npy(f, m);
	} else if (format == 1) {
		fprintf(f, "class,bias");
		for (size_t r = 0; r < m->rows; r++)
			for (size_t c = 0; c < m->cols; c++)
				fprintf(f, ",w_%zu_%zu", r, c);
		fputc('\n', f);
		for (size_t j = 0; j < m->k; j++) {
			fprintf(f, "%zu,%.9g", j, m->b[j]);
			for (size_t t = 0; t < m->d; t++)
				fprintf(f, ",%.9g", m->W[j * m->d + t]);
			fputc('\n', f);
		}
	} else {
		fprintf(f, "{\"k\": %zu, \"d\": %zu, \"rows\": %zu, \"cols\": %zu, \"prep\": \"%s\", \"scale\": %.9g, \"W\": [",
			m->k, m->d, m->rows, m->cols, m->prep == SOFTREG_PREP_STANDARDIZE ? "standardize" : "scale",
			m->scale);
		for (size_t j = 0; j < m->k; j++) {
			fprintf(f, "%s[", j ? ", " : "");
			for (size_t t = 0; t < m->d; t++)
				fprintf(f, "%s%.9g", t ? ", " : "", m->W[j * m->d + t]);
			fprintf(f, "]");
		}
		fprintf(f, "], \"b\": [");
		for (size_t j = 0; j < m->k; j++)
			fprintf(f, "%s%.9g", j ? ", " : "", m->b[j]);
		fprintf(f, "]}\n");
	}
	int bad = ferror(f);
	if (out)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	softreg_model_free(m);
	if (bad)
		return runtime_error("%s: write error", out ? out : "stdout");
	return EXIT_OK;
}
