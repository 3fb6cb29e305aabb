/* SPDX-License-Identifier: MIT
 * data.c: the data options of the commands, and loading behind them. */
#include "data.h"
#include "cli.h"

#include <string.h>

const char *const data_formats[] = {"auto", "idx", "npy", "libsvm", "csv", NULL};

/* "auto" and the kernel table's names; no command lists kernels of its own */
const char *kernel_names_[16] = {"auto"};

__attribute__((constructor)) static void fill_kernel_choices(void)
{
	for (size_t i = 0; softreg_kernels[i] && i + 2 < 16; i++)
		kernel_names_[i + 1] = softreg_kernels[i]->name;
}

const struct softreg_kernel *kernel_of_choice(int choice)
{
	return choice > 0 ? softreg_kernel_by_name(kernel_names_[choice]) : NULL;
}

void data_defaults(struct data_opts *o)
{
	if (!o->dir && !o->train && !o->test)
		o->dir = default_data_dir();
}

const char *data_name(const struct data_opts *o)
{
	return o->train ? o->train : o->dir ? o->dir : o->test ? o->test : "";
}

int data_read(const struct data_opts *o, const char *features, const char *labels, size_t d,
	      struct softreg_dataset *ds)
{
	struct softreg_read_opts r = {.format = (enum softreg_format)o->format, .max_bytes = max_bytes_from_env(),
				      .zero_based = o->zero_based, .d = d, .label_column = o->label_column};
	char err[SOFTREG_ERRLEN];
	if (softreg_dataset_read(features, labels, &r, ds, err))
		return runtime_error("%s", err);
	if (ds->dropped)
		fprintf(stderr, "softreg: %s: %zu values of features beyond the model's %zu were ignored\n", features,
			ds->dropped, d);
	return 0;
}

int data_load_train_test(const char *cmd, const struct data_opts *o, struct softreg_dataset *train,
			 struct softreg_dataset *test, bool *have_test)
{
	char err[SOFTREG_ERRLEN];
	memset(train, 0, sizeof(*train));
	memset(test, 0, sizeof(*test));
	*have_test = false;
	if (o->dir && (o->train || o->test))
		return usage_error(cmd, "--data DIR and --train/--test FILE exclude each other");
	if (o->dir) {
		if (softreg_dataset_load_dir(o->dir, max_bytes_from_env(), train, test, err))
			return runtime_error("%s", err);
		*have_test = true;
		return 0;
	}
	if (!o->train)
		return usage_error(cmd, "--train FILE is needed with --test (or give --data DIR)");
	if ((o->train_labels && !o->train) || (o->test_labels && !o->test))
		return usage_error(cmd, "a labels file needs its features file (--train/--test)");
	int rc = data_read(o, o->train, o->train_labels, 0, train);
	if (rc == 0 && !train->labels) {
		softreg_dataset_free(train);
		return usage_error(cmd, "%s: training needs labels (--train-labels FILE)", o->train);
	}
	if (rc == 0 && o->test) {
		rc = data_read(o, o->test, o->test_labels, train->d, test); /* libsvm: the training set's d */
		if (rc == 0 && !test->labels) {
			softreg_dataset_free(test);
			rc = usage_error(cmd, "%s: testing needs labels (--test-labels FILE)", o->test);
		}
		*have_test = rc == 0;
	}
	if (rc)
		softreg_dataset_free(train);
	return rc;
}

const char *data_labels_name(const struct data_opts *o, int test, char *buf, size_t size)
{
	const char *labels = test ? o->test_labels : o->train_labels, *features = test ? o->test : o->train;
	if (labels || features)
		return labels ? labels : features;
	if (softreg_dataset_find(o->dir, test ? "t10k-labels-idx1-ubyte" : "train-labels-idx1-ubyte", buf, size, NULL))
		snprintf(buf, size, "%s", o->dir);
	return buf;
}

int data_map(struct softreg_dataset *ds, const int64_t *classes, size_t k, const char *what)
{
	char err[SOFTREG_ERRLEN];
	if (softreg_dataset_map_labels(ds, classes, k, what, err))
		return runtime_error("%s", err);
	return 0;
}

int data_sparsify(const char *cmd, const struct softreg_dist *dist, const struct softreg_kernel *kernel,
		  const struct softreg_model *m, size_t batch, struct softreg_dataset *train, struct softreg_dataset *test)
{
	if (train->x.kind == SOFTREG_SOURCE_CSR)
		return 0;
	if (!kernel) { /* process 0's choice, made on the rows every process count gives it */
		int sparse = softreg_kernel_choose(&train->x, m, batch, NULL) == &softreg_kernel_sparse;
		softreg_dist_bcast(dist, &sparse, sizeof(sparse));
		kernel = sparse ? &softreg_kernel_sparse : &softreg_kernel_blas;
	}
	if (kernel != &softreg_kernel_sparse)
		return 0;
	bool centres = false;
	for (size_t j = 0; m->prep == SOFTREG_PREP_STANDARDIZE && j < m->d; j++)
		centres = centres || m->mean[j] != 0.0f;
	if (centres)
		return usage_error(cmd, "--kernel sparse keeps the zeros of the data: it cannot train a model that "
					"centres its features (--standardize on dense data)");
	char err[SOFTREG_ERRLEN];
	if (softreg_dataset_sparsify(train, err) || (test && softreg_dataset_sparsify(test, err)))
		return runtime_error("%s", err);
	return 0;
}
