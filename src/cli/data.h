/* SPDX-License-Identifier: MIT
 * data.h: the data options every command shares (--data DIR or --train/--test
 * files in any format) and the loading behind them. */
#ifndef SOFTREG_CLI_DATA_H
#define SOFTREG_CLI_DATA_H

#include "opts.h"
#include "softreg.h"

#include <stddef.h>

struct data_opts {
	const char *dir;          /* --data: the MNIST layout */
	const char *train, *train_labels, *test, *test_labels;
	int format;               /* enum softreg_format */
	bool zero_based;
	const char *label_column;
};

extern const char *const data_formats[]; /* "auto", "idx", "npy", "libsvm", "csv" */

/* table entries of the data options of a struct 'type' whose member 'm' is a
 * struct data_opts; 'train' 1 adds --train and --train-labels */
#define DATA_OPTS_DIR(type, m)                                                                                \
	{OPT_STRING, "--data", NULL, "DIR", offsetof(type, m.dir), 0, 0, false, NULL,                        \
	 "MNIST-layout folder: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]\n"                          \
	 "                         (default $SOFTREG_DATA or data/mnist)"}
#define DATA_OPTS_TRAIN(type, m)                                                                              \
	{OPT_STRING, "--train", NULL, "FILE", offsetof(type, m.train), 0, 0, false, NULL,                     \
	 "training features: IDX, .npy, libsvm or CSV (instead of --data)"},                                   \
	{OPT_STRING, "--train-labels", NULL, "FILE", offsetof(type, m.train_labels), 0, 0, false, NULL,       \
	 "training labels (IDX or .npy; libsvm and CSV hold their own)"}
#define DATA_OPTS_TEST(type, m)                                                                               \
	{OPT_STRING, "--test", NULL, "FILE", offsetof(type, m.test), 0, 0, false, NULL,                       \
	 "test features, any format"},                                                                         \
	{OPT_STRING, "--test-labels", NULL, "FILE", offsetof(type, m.test_labels), 0, 0, false, NULL,         \
	 "test labels (IDX or .npy)"}
#define DATA_OPTS_FORMAT(type, m)                                                                             \
	{OPT_CHOICE, "--format", NULL, "F", offsetof(type, m.format), 0, 0, false, data_formats,              \
	 "auto (default: by content, then extension), idx, npy, libsvm or csv"},                               \
	{OPT_FLAG, "--zero-based", NULL, NULL, offsetof(type, m.zero_based), 0, 0, false, NULL,               \
	 "libsvm indices start at 0 (default 1, as liblinear)"},                                               \
	{OPT_STRING, "--label-column", NULL, "C", offsetof(type, m.label_column), 0, 0, false, NULL,          \
	 "CSV: the label column, a header name or a 0-based index (default 0)"}

/* The choices of --kernel: "auto", then every name of the library's kernel
 * table (filled before main() runs), NULL-terminated; and the kernel a choice
 * means (NULL: auto). */
extern const char *kernel_names_[];
#define kernel_choices ((const char *const *)kernel_names_)
const struct softreg_kernel *kernel_of_choice(int choice);

/* 'dir' from $SOFTREG_DATA or data/mnist when neither --data nor --train/--test was given */
void data_defaults(struct data_opts *o);

/* Read 'features' (+ 'labels') with the options; 'd' is the feature count
 * for libsvm (0: from the file). Prints one error line; returns 0 or EXIT_RUNTIME. */
int data_read(const struct data_opts *o, const char *features, const char *labels, size_t d,
	      struct softreg_dataset *ds);

/* Training and test sets (test may be absent with --train: then
 * *have_test is false). Prints one error line; returns 0, EXIT_RUNTIME or EXIT_USAGE. */
int data_load_train_test(const char *cmd, const struct data_opts *o, struct softreg_dataset *train,
			 struct softreg_dataset *test, bool *have_test);

/* Map labels to the class table; prints one error line, returns 0 or EXIT_RUNTIME */
int data_map(struct softreg_dataset *ds, const int64_t *classes, size_t k, const char *what);

/* Dense training (and test) data to CSR when the sparse kernel will train
 * them: asked for (--kernel sparse), or chosen by softreg_kernel_choose()
 * for 'kernel' NULL (auto; process 0 decides for all of 'dist'); a usage
 * error when 'm' centres its features. */
int data_sparsify(const char *cmd, const struct softreg_dist *dist, const struct softreg_kernel *kernel,
		  const struct softreg_model *m, size_t batch, struct softreg_dataset *train, struct softreg_dataset *test);

/* the file that holds the training (test 0) or test (1) labels, for
 * messages: the labels file, the features file (libsvm, CSV), or the IDX
 * labels file of --data DIR; written into 'buf' */
const char *data_labels_name(const struct data_opts *o, int test, char *buf, size_t size);

/* a name of the data for messages and JSON: the folder or the training file */
const char *data_name(const struct data_opts *o);

#endif
