/* SPDX-License-Identifier: MIT
 * cmd_show.c: softreg show: one image as text art (or a PGM), with its label. */
#include "cli.h"

#include <string.h>

static const char help[] =
	"usage: softreg show [--data DIR] [--split train|test] --index I [--pgm FILE]\n"
	"\n"
	"Print image I (0-based) of the training (default) or test set of DIR as text art, with\n"
	"its label; --pgm FILE also writes it as a binary PGM (P5).\n";

int cmd_show(int argc, char **argv)
{
	static const char *const splits[] = {"train", "test", NULL};
	const char *dir = default_data_dir(), *pgm = NULL;
	int split = 0;
	size_t index = 0;
	bool have_index = false;
	struct args a;
	args_init(&a, "show", argc, argv);
	for (const char *f; (f = args_next(&a));) {
		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(f, "--data")) {
			args_string(&a, &dir);
		} else if (!strcmp(f, "--split")) {
			args_choice(&a, splits, &split);
		} else if (!strcmp(f, "--index")) {
			args_size(&a, 0, (size_t)1 << 40, &index);
			have_index = true;
		} else if (!strcmp(f, "--pgm")) {
			args_string(&a, &pgm);
		} else {
			return usage_error("show", "%s '%s'", args_is_flag(f) ? "unknown option" : "unexpected argument", f);
		}
	}
	if (a.failed)
		return EXIT_USAGE;
	if (!have_index)
		return usage_error("show", "--index I is required");
	const char *prefix = split ? "t10k" : "train";
	char img[4096], err[SOFTREG_ERRLEN];
	struct softreg_dataset ds = {0};
	if (softreg_dataset_load_split(dir, prefix, max_bytes_from_env(), &ds, err))
		return runtime_error("%s", err);
	snprintf(img, sizeof(img), "%s/%s", dir, prefix);
	int rc = EXIT_OK;
	if (index >= ds.n) {
		rc = usage_error("show", "--index %zu is past the %zu images of %s", index, ds.n, img);
		goto out;
	}
	const uint8_t *px = ds.pixels + index * ds.d;
	static const char ramp[] = " .:-=+*#%@";
	printf("%s[%zu]: label %u\n", img, index, ds.labels[index]);
	for (size_t r = 0; r < ds.rows; r++) {
		for (size_t c = 0; c < ds.cols; c++) {
			char ch = ramp[px[r * ds.cols + c] * 9 / 255];
			putchar(ch);
			putchar(ch);
		}
		putchar('\n');
	}
	if (pgm) {
		FILE *f = fopen(pgm, "wb");
		if (!f || fprintf(f, "P5\n%zu %zu\n255\n", ds.cols, ds.rows) < 0 || fwrite(px, 1, ds.d, f) != ds.d) {
			if (f)
				fclose(f);
			rc = runtime_error("%s: cannot write", pgm);
			goto out;
		}
		if (fclose(f) != 0)
			rc = runtime_error("%s: write error", pgm);
	}
out:
	softreg_dataset_free(&ds);
	return rc;
}
