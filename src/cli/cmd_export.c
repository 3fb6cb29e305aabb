/* SPDX-License-Identifier: MIT
 * cmd_export.c: softreg export: a model's weights for other tools. */
#include "cli.h"

#include <string.h>

static const char usage[] =
	"usage: softreg export --model MODEL [--format npy|csv|json] [--out FILE]\n"
	"\n"
	"Write the model's weights (default: npy to stdout unless --out):\n"
	"  npy   W as a float32 array of shape (k, rows, cols): each class's template as an image\n"
	"        (k, d) for data that are not images\n"
	"  csv   a header 'class,bias,w_R_C...' (w_J for non-images) and one row per class, the\n"
	"        class as its label value\n"
	"  json  {k, d, rows, cols, classes, prep, scale, W: [[...]], b: [...]}\n"
	"\n";

static const char *const formats[] = {"npy", "csv", "json", NULL};

struct export_opts {
	const char *model, *out;
	int format;
};

#define O(field) offsetof(struct export_opts, field)
static const struct opt table[] = {
	{OPT_STRING, "--model", NULL, "MODEL", O(model), 0, 0, false, NULL, "the model (.srm); required"},
	{OPT_CHOICE, "--format", NULL, "F", O(format), 0, 0, false, formats, "npy (default), csv or json"},
	{OPT_STRING, "--out", NULL, "FILE", O(out), 0, 0, false, NULL, "write here (default: stdout)"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

static void npy(FILE *f, const struct softreg_model *m)
{
	char hdr[128];
	int n = m->rows > 1 ? snprintf(hdr, sizeof(hdr), "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu, %zu), }",
				       m->k, m->rows, m->cols)
			    : snprintf(hdr, sizeof(hdr), "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
				       m->k, m->d);
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
	struct export_opts o = {0};
	struct opt_seen seen = {0};
	int rc = opts_parse("export", usage, table, &o, argc, argv, &seen);
	if (rc)
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if (!o.model)
		return usage_error("export", "--model MODEL is required");
	const char *model_path = o.model, *out = o.out;
	const char *outs[] = {out}, *flags[] = {"--out"};
	if ((rc = check_outputs("export", outs, flags, 1)))
		return rc;
	int format = o.format;
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m;
	if (softreg_model_load(model_path, &m, NULL, err))
		return runtime_error("%s", err);
	struct out_file of = {0};
	FILE *f = out ? out_begin(&of) : stdout;
	if (!f) {
		softreg_model_free(m);
		return runtime_error("%s: out of memory", out);
	}
	if (format == 0) {
		npy(f, m);
	} else if (format == 1) {
		fprintf(f, "class,bias");
		for (size_t r = 0; r < m->rows; r++)
			for (size_t c = 0; c < m->cols; c++)
				if (m->rows > 1)
					fprintf(f, ",w_%zu_%zu", r, c);
				else
					fprintf(f, ",w_%zu", c);
		fputc('\n', f);
		for (size_t j = 0; j < m->k; j++) {
			fprintf(f, "%lld,%.9g", (long long)m->classes[j], m->b[j]);
			for (size_t t = 0; t < m->d; t++)
				fprintf(f, ",%.9g", m->W[j * m->d + t]);
			fputc('\n', f);
		}
	} else {
		fprintf(f, "{\"k\": %zu, \"d\": %zu, \"rows\": %zu, \"cols\": %zu, \"classes\": [", m->k, m->d, m->rows,
			m->cols);
		for (size_t j = 0; j < m->k; j++)
			fprintf(f, "%s%lld", j ? ", " : "", (long long)m->classes[j]);
		fprintf(f, "], \"prep\": \"%s\", \"scale\": %.9g, \"W\": [",
			m->prep == SOFTREG_PREP_STANDARDIZE ? "standardize" : "scale", m->scale);
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
	softreg_model_free(m);
	if (out)
		return out_commit(&of, out);
	return EXIT_OK; /* main() checks stdout */
}
