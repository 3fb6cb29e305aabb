/* SPDX-License-Identifier: MIT
 * cmd_eval.c: softreg eval: accuracy, log-loss, confusion, precision, recall. */
#include "cli.h"
#include "data.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: softreg eval --model MODEL [--data DIR [--split test|train] | --test FILE [--test-labels FILE]]\n"
	"                    [--confusion FILE.csv] [--json]\n"
	"\n"
	"Evaluate MODEL on the test (default) or training set of DIR (default $SOFTREG_DATA or\n"
	"data/mnist), or on FILE in any format: accuracy, mean log-loss, the confusion matrix\n"
	"(rows = truth, columns = prediction; classes by the label values the model was trained\n"
	"on), per-class precision and recall.\n"
	"\n";

static const char *const splits[] = {"test", "train", NULL};

struct eval_opts {
	struct data_opts data;
	const char *model, *confusion;
	int split, threads, kernel;
	bool json;
};

#define O(field) offsetof(struct eval_opts, field)
static const struct opt table[] = {
	{OPT_STRING, "--model", NULL, "MODEL", O(model), 0, 0, false, NULL, "the model (.srm); required"},
	DATA_OPTS_DIR(struct eval_opts, data),
	{OPT_CHOICE, "--split", NULL, "S", O(split), 0, 0, false, splits, "with --data: test (default) or train"},
	DATA_OPTS_TEST(struct eval_opts, data),
	DATA_OPTS_FORMAT(struct eval_opts, data),
	{OPT_STRING, "--confusion", NULL, "FILE.csv", O(confusion), 0, 0, false, NULL, "also write the confusion matrix as CSV"},
	{OPT_CHOICE, "--kernel", NULL, "K", O(kernel), 0, 0, false, kernel_choices, "auto (default), naive, blas or sparse"},
	{OPT_INT, "--threads", NULL, "T", O(threads), 1, 1024, false, NULL, "threads (default: all cores)"},
	{OPT_FLAG, "--json", NULL, NULL, O(json), 0, 0, false, NULL,
	 "print {accuracy, log_loss, confusion, precision, recall} on stdout"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

/* the data set to evaluate on: --test FILE, or a split of --data DIR */
static int load_eval_data(const struct eval_opts *o, const struct softreg_model *m, struct softreg_dataset *ds)
{
	char err[SOFTREG_ERRLEN];
	if (o->data.test)
		return data_read(&o->data, o->data.test, o->data.test_labels, m->d, ds);
	if (softreg_dataset_load_split(o->data.dir, o->split ? "train" : "t10k", max_bytes_from_env(), ds, err))
		return runtime_error("%s", err);
	return 0;
}

static void print_class(const struct softreg_model *m, size_t c, int width)
{
	printf("%*lld", width, (long long)m->classes[c]);
}

int cmd_eval(int argc, char **argv)
{
	struct eval_opts o = {0};
	struct opt_seen seen = {0};
	int rc = opts_parse("eval", usage, table, &o, argc, argv, &seen);
	if (rc)
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if ((rc = cli_env_check("eval")))
		return rc;
	if (!o.model)
		return usage_error("eval", "--model MODEL is required");
	if (o.data.dir && o.data.test)
		return usage_error("eval", "--data DIR and --test FILE exclude each other");
	if (o.data.train || o.data.train_labels)
		return usage_error("eval", "eval takes --test FILE, not --train");
	if (o.data.test_labels && !o.data.test)
		return usage_error("eval", "--test-labels needs --test FILE");
	data_defaults(&o.data);
	const char *outs[] = {o.confusion}, *flags[] = {"--confusion"};
	if ((rc = check_outputs("eval", outs, flags, 1)))
		return rc;
	const struct softreg_kernel *kern = kernel_of_choice(o.kernel);
	softreg_set_threads(o.threads);
	const char *what = o.data.test ? o.data.test : o.data.dir;
	char err[SOFTREG_ERRLEN];
	struct softreg_model *m = NULL;
	struct softreg_dataset ds = {0};
	uint64_t *conf = NULL;
	rc = EXIT_RUNTIME;
	if (softreg_model_load(o.model, &m, NULL, err)) {
		runtime_error("%s", err);
		goto out;
	}
	if (load_eval_data(&o, m, &ds))
		goto out;
	if (!ds.labels) {
		rc = usage_error("eval", "%s: no labels (give --test-labels FILE)", what);
		goto out;
	}
	if (softreg_model_check_data(m, &ds, what, err)) {
		runtime_error("%s; model: %s", err, o.model);
		goto out;
	}
	static char buf[4096]; /* static: off a small stack */
	if (o.data.dir && softreg_dataset_find(o.data.dir, o.split ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte",
					      buf, sizeof(buf), NULL) == SOFTREG_OK)
		what = buf; /* the labels file: where a wrong label is */
	else if (o.data.test_labels)
		what = o.data.test_labels;
	if (data_map(&ds, m->classes, m->k, what))
		goto out;
	if (check_blas_headroom(softreg_get_threads()))
		goto out;
	size_t k = m->k;
	conf = calloc(k * k, sizeof(uint64_t));
	double acc, loss;
	if (!conf) {
		runtime_error("out of memory");
		goto out;
	}
	if (softreg_evaluate(m, &ds, 0, ds.n, kern, conf, &acc, &loss, err)) {
		runtime_error("%s: %s (data: %s)", o.model, err, what);
		goto out;
	}
	if (o.confusion) {
		struct out_file of;
		FILE *f = out_begin(&of);
		if (!f) {
			runtime_error("%s: out of memory", o.confusion);
			goto out;
		}
		fprintf(f, "truth");
		for (size_t j = 0; j < k; j++)
			fprintf(f, ",pred_%lld", (long long)m->classes[j]);
		fputc('\n', f);
		for (size_t i = 0; i < k; i++) {
			fprintf(f, "%lld", (long long)m->classes[i]);
			for (size_t j = 0; j < k; j++)
				fprintf(f, ",%llu", (unsigned long long)conf[i * k + j]);
			fputc('\n', f);
		}
		if (out_commit(&of, o.confusion))
			goto out;
	}
	if (o.json) {
		printf("{\"model\": ");
		json_string(stdout, o.model);
		printf(", \"data\": ");
		json_string(stdout, what);
		printf(", \"split\": \"%s\", \"n\": %zu, \"k\": %zu, \"classes\": [", o.data.test ? "file" : splits[o.split],
		       ds.n, k);
		for (size_t c = 0; c < k; c++)
			printf("%s%lld", c ? ", " : "", (long long)m->classes[c]);
		printf("], \"accuracy\": %.6f, \"log_loss\": %.6f, \"confusion\": [", acc, loss);
		for (size_t i = 0; i < k; i++) {
			printf("%s[", i ? ", " : "");
			for (size_t j = 0; j < k; j++)
				printf("%s%llu", j ? ", " : "", (unsigned long long)conf[i * k + j]);
			printf("]");
		}
		printf("]");
	} else {
		if (o.data.test)
			printf("%s: %zu rows, %zu classes\n", what, ds.n, k);
		else
			printf("%s set of %s: %zu images, %zu classes\n", splits[o.split], what, ds.n, k);
		printf("accuracy %.2f%%  log-loss %.4f\n\nconfusion (rows = truth, columns = prediction)\n      ",
		       100 * acc, loss);
		for (size_t j = 0; j < k; j++)
			print_class(m, j, 6);
		printf("\n");
		for (size_t i = 0; i < k; i++) {
			print_class(m, i, 6);
			for (size_t j = 0; j < k; j++)
				printf("%6llu", (unsigned long long)conf[i * k + j]);
			printf("\n");
		}
		printf("\nclass  precision  recall\n");
	}
	for (int pass = 0; pass < (o.json ? 2 : 1); pass++) {
		if (o.json)
			printf(", \"%s\": [", pass ? "recall" : "precision");
		for (size_t c = 0; c < k; c++) {
			uint64_t tp = conf[c * k + c], col = 0, row = 0;
			for (size_t i = 0; i < k; i++) {
				col += conf[i * k + c];
				row += conf[c * k + i];
			}
			double prec = col ? (double)tp / (double)col : 0, rec = row ? (double)tp / (double)row : 0;
			if (o.json) {
				printf("%s%.6f", c ? ", " : "", pass ? rec : prec);
			} else {
				print_class(m, c, 5);
				printf("  %8.2f%%  %6.2f%%\n", 100 * prec, 100 * rec);
			}
		}
		if (o.json)
			printf("]");
	}
	if (o.json)
		printf("}\n");
	rc = EXIT_OK;
out:
	free(conf);
	softreg_model_free(m);
	softreg_dataset_free(&ds);
	return rc;
}
