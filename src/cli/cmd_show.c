/* SPDX-License-Identifier: MIT
 * cmd_show.c: softreg show: one image as text art (or a PGM), with its label. */
#include "cli.h"

#include <string.h>

static const char usage[] =
	"usage: softreg show [--data DIR] [--split train|test] --index I [--pgm FILE]\n"
	"\n"
	"Print image I (0-based) of the training (default) or test set of DIR as text art, with\n"
	"its label; --pgm FILE also writes it as a binary PGM (P5).\n"
	"\n";

static const char *const splits[] = {"train", "test", NULL};

struct show_opts {
	const char *dir, *pgm;
	int split;
	size_t index;
};

#define O(field) offsetof(struct show_opts, field)
static const struct opt table[] = {
	{OPT_STRING, "--data", NULL, "DIR", O(dir), 0, 0, false, NULL, "MNIST-layout folder (default $SOFTREG_DATA or data/mnist)"},
	{OPT_CHOICE, "--split", NULL, "S", O(split), 0, 0, false, splits, "train (default) or test"},
	{OPT_SIZE, "--index", NULL, "I", O(index), 0, 1099511627776.0, false, NULL, "the image, 0-based; required"},
	{OPT_STRING, "--pgm", NULL, "FILE", O(pgm), 0, 0, false, NULL, "also write the image as a binary PGM (P5)"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

int cmd_show(int argc, char **argv)
{
	struct show_opts o = {.dir = default_data_dir()};
	struct opt_seen seen = {0};
	int rc = opts_parse("show", usage, table, &o, argc, argv, &seen);
	if (rc)
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if ((rc = cli_env_check("show")))
		return rc;
	if (!opts_given(table, &seen, "--index"))
		return usage_error("show", "--index I is required");
	const char *outs[] = {o.pgm}, *flags[] = {"--pgm"};
	if ((rc = check_outputs("show", outs, flags, 1)))
		return rc;
	const char *dir = o.dir, *pgm = o.pgm;
	int split = o.split;
	size_t index = o.index;
	const char *prefix = split ? "t10k" : "train";
	char img[4096], err[SOFTREG_ERRLEN];
	struct softreg_dataset ds = {0};
	if (softreg_dataset_load_split(dir, prefix, max_bytes_from_env(), &ds, err))
		return runtime_error("%s", err);
	snprintf(img, sizeof(img), "%s/%s", dir, prefix);
	rc = EXIT_OK;
	if (index >= ds.n) {
		rc = usage_error("show", "--index %zu is past the %zu images of %s", index, ds.n, img);
		goto out;
	}
	const uint8_t *px = (const uint8_t *)ds.x.data + index * ds.d;
	static const char ramp[] = " .:-=+*#%@";
	printf("%s[%zu]: label %lld\n", img, index, (long long)ds.labels[index]);
	for (size_t r = 0; r < ds.rows; r++) {
		for (size_t c = 0; c < ds.cols; c++) {
			char ch = ramp[px[r * ds.cols + c] * 9 / 255];
			putchar(ch);
			putchar(ch);
		}
		putchar('\n');
	}
	if (pgm) {
		struct out_file of;
		FILE *f = out_begin(&of);
		if (f) {
			fprintf(f, "P5\n%zu %zu\n255\n", ds.cols, ds.rows);
			fwrite(px, 1, ds.d, f);
		}
		rc = out_commit(&of, pgm);
	}
out:
	softreg_dataset_free(&ds);
	return rc;
}
