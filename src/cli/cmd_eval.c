/* SPDX-License-Identifier: MIT
 * cmd_eval.c: softreg eval: accuracy, log-loss, confusion, precision, recall. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: softreg eval --model MODEL [--data DIR] [--split test|train] [--confusion FILE.csv] [--json]\n"
	"\n"
	"Evaluate MODEL on the test (default) or training set of DIR (default $SOFTREG_DATA or\n"
	"data/mnist): accuracy, mean log-loss, the confusion matrix (rows = truth, columns =\n"
	"prediction), per-class precision and recall.\n"
	"  --confusion FILE.csv  also write the confusion matrix as CSV\n"
	"  --json                print {accuracy, log_loss, confusion, precision, recall} on stdout\n"
	"  --threads T           threads (default: all cores)\n";

int cmd_eval(int argc, char **argv)
{
	static const char *const splits[] = {"test", "train", NULL};
	const char *dir = default_data_dir(), *model_path = NULL, *confusion_path = NULL;
	bool json = false;
	int split = 0, threads = 0;
	struct args a;
	args_init(&a, "eval", argc, argv);
	for (const char *f; (f = args_next(&a));) {
		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(f, "--model")) {
			args_string(&a, &model_path);
		} else if (!strcmp(f, "--data")) {
			args_string(&a, &dir);
		} else if (!strcmp(f, "--split")) {
			args_choice(&a, splits, &split);
		} else if (!strcmp(f, "--confusion")) {
			args_string(&a, &confusion_path);
		} else if (!strcmp(f, "--threads")) {
			args_int(&a, 1, 1024, &threads);
		} else if (!strcmp(f, "--json")) {
			json = true;
		} else {
			return usage_error("eval", "%s '%s'", args_is_flag(f) ? "unknown option" : "unexpected argument", f);
		}
	}
	if (a.failed)
		return EXIT_USAGE;
	if (!model_path)
		return usage_error("eval", "--model MODEL is required");
	softreg_set_threads(threads);
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m = NULL;
	struct softreg_dataset ds = {0};
	uint64_t *conf = NULL;
	int rc = EXIT_RUNTIME;
	if (softreg_model_load(model_path, &m, NULL, err) ||
	    softreg_dataset_load_split(dir, split ? "train" : "t10k", max_bytes_from_env(), &ds, err)) {
		runtime_error("%s", err);
		goto out;
	}
	if (softreg_model_check_data(m, &ds, dir, err)) {
		runtime_error("%s; model: %s", err, model_path);
		goto out;
	}
	size_t k = m->k;
	conf = calloc(k * k, sizeof(uint64_t));
	double acc, loss;
	if (!conf) {
		runtime_error("out of memory");
		goto out;
	}
	if (softreg_evaluate(m, &ds, 0, ds.n, conf, &acc, &loss, err)) {
		runtime_error("%s", err);
		goto out;
	}
	if (confusion_path) {
		FILE *f = fopen(confusion_path, "w");
		if (!f) {
			runtime_error("%s: cannot write", confusion_path);
			goto out;
		}
		fprintf(f, "truth");
		for (size_t j = 0; j < k; j++)
			fprintf(f, ",pred_%zu", j);
		fputc('\n', f);
		for (size_t i = 0; i < k; i++) {
			fprintf(f, "%zu", i);
			for (size_t j = 0; j < k; j++)
				fprintf(f, ",%llu", (unsigned long long)conf[i * k + j]);
			fputc('\n', f);
		}
		if (fclose(f) != 0) {
			runtime_error("%s: write error", confusion_path);
			goto out;
		}
	}
	if (json) {
		printf("{\"model\": ");
		json_string(stdout, model_path);
		printf(", \"data\": ");
		json_string(stdout, dir);
		printf(", \"split\": \"%s\", \"n\": %zu, \"k\": %zu, \"accuracy\": %.6f, \"log_loss\": %.6f, \"confusion\": [",
		       splits[split], ds.n, k, acc, loss);
		for (size_t i = 0; i < k; i++) {
			printf("%s[", i ? ", " : "");
			for (size_t j = 0; j < k; j++)
				printf("%s%llu", j ? ", " : "", (unsigned long long)conf[i * k + j]);
			printf("]");
		}
		printf("]");
	} else {
		printf("%s set of %s: %zu images, %zu classes\n", splits[split], dir, ds.n, k);
		printf("accuracy %.2f%%  log-loss %.4f\n\nconfusion (rows = truth, columns = prediction)\n      ",
		       100 * acc, loss);
		for (size_t j = 0; j < k; j++)
			printf("%6zu", j);
		printf("\n");
		for (size_t i = 0; i < k; i++) {
			printf("%6zu", i);
			for (size_t j = 0; j < k; j++)
				printf("%6llu", (unsigned long long)conf[i * k + j]);
			printf("\n");
		}
		printf("\nclass  precision  recall\n");
	}
	for (int pass = 0; pass < (json ? 2 : 1); pass++) {
		if (json)
			printf(", \"%s\": [", pass ? "recall" : "precision");
		for (size_t c = 0; c < k; c++) {
			uint64_t tp = conf[c * k + c], col = 0, row = 0;
			for (size_t i = 0; i < k; i++) {
				col += conf[i * k + c];
				row += conf[c * k + i];
			}
			double prec = col ? (double)tp / (double)col : 0, rec = row ? (double)tp / (double)row : 0;
			if (json)
				printf("%s%.6f", c ? ", " : "", pass ? rec : prec);
			else
				printf("%5zu  %8.2f%%  %6.2f%%\n", c, 100 * prec, 100 * rec);
		}
		if (json)
			printf("]");
	}
	if (json)
		printf("}\n");
	rc = EXIT_OK;
out:
	free(conf);
	softreg_model_free(m);
	softreg_dataset_free(&ds);
	return rc;
}
