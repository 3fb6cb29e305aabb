/* SPDX-License-Identifier: MIT
 * cmd_predict.c: softreg predict: label and top-K probabilities per row. */
#include "cli.h"
#include "data.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: softreg predict --model MODEL [--top K] [--json] FILE...\n"
	"\n"
	"For each row (image) of each FILE, print the predicted label and the K most probable\n"
	"classes (default 3), as the label values the model was trained on. FILE is a PGM image\n"
	"(P2 or P5) of the model's size, or a data file in any format train takes: IDX images\n"
	"(raw or .gz), .npy features, libsvm or CSV (their label column is read and ignored).\n"
	"\n";


struct predict_opts {
	struct data_opts data;
	const char *model;
	size_t top;
	int kernel, threads;
	bool json;
};

#define O(field) offsetof(struct predict_opts, field)
static const struct opt table[] = {
	{OPT_STRING, "--model", NULL, "MODEL", O(model), 0, 0, false, NULL, "the model (.srm); required"},
	{OPT_SIZE, "--top", NULL, "K", O(top), 1, 65535, false, NULL, "how many classes to list (default 3)"},
	DATA_OPTS_FORMAT(struct predict_opts, data),
	{OPT_CHOICE, "--kernel", NULL, "K", O(kernel), 0, 0, false, kernel_choices, "auto (default), naive, blas or sparse"},
	{OPT_INT, "--threads", NULL, "T", O(threads), 1, 1024, false, NULL, "threads (default: all cores)"},
	{OPT_FLAG, "--json", NULL, NULL, O(json), 0, 0, false, NULL, "print one JSON object on stdout"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

/* rows predicted per call: bounds the probabilities held at once */
#define ROWS_PER_CALL 4096

struct out {
	const struct predict_opts *o;
	const struct softreg_model *m;
	const struct softreg_kernel *kern;
	bool first;
	size_t *order;        /* (k) */
	struct ranked *rank;  /* (k) */
};

struct ranked {
	float p;
	size_t c;
};

/* more probable first; ties: the smaller class index first */
static int by_p(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return (x->c > y->c) - (x->c < y->c);
}

/* w->order[0..top) = the classes of the 'top' largest probabilities */
static void rank_classes(struct out *w, const float *proba, size_t top)
{
	size_t k = w->m->k;
	if (top == 1) {
		size_t best = 0;
		for (size_t j = 1; j < k; j++)
			best = proba[j] > proba[best] ? j : best;
		w->order[0] = best;
		return;
	}
	for (size_t j = 0; j < k; j++)
		w->rank[j] = (struct ranked){proba[j], j};
	qsort(w->rank, k, sizeof(w->rank[0]), by_p);
	for (size_t i = 0; i < top; i++)
		w->order[i] = w->rank[i].c;
}

static void print_row(struct out *w, const float *proba, const char *file, long index)
{
	const struct softreg_model *m = w->m;
	size_t top = w->o->top < m->k ? w->o->top : m->k;
	rank_classes(w, proba, top);
	if (w->o->json) {
		printf("%s{\"file\": ", w->first ? "" : ", ");
		json_string(stdout, file);
		if (index >= 0)
			printf(", \"index\": %ld", index);
		printf(", \"label\": %lld, \"top\": [", (long long)m->classes[w->order[0]]);
		for (size_t i = 0; i < top; i++)
			printf("%s{\"class\": %lld, \"p\": %.6f}", i ? ", " : "", (long long)m->classes[w->order[i]],
			       proba[w->order[i]]);
		printf("]}");
	} else {
		if (index >= 0)
			printf("%s[%ld]: %lld ", file, index, (long long)m->classes[w->order[0]]);
		else
			printf("%s: %lld ", file, (long long)m->classes[w->order[0]]);
		for (size_t i = 0; i < top; i++)
			printf(" %lld:%.4f", (long long)m->classes[w->order[i]], proba[w->order[i]]);
		printf("\n");
	}
	w->first = false;
}

/* every row of 'ds'; 'index' false: a single image, printed without one */
static int predict_rows(struct out *w, const struct softreg_dataset *ds, const char *file, bool index)
{
	char err[SOFTREG_ERRLEN];
	size_t k = w->m->k, chunk = ds->n < ROWS_PER_CALL ? ds->n : ROWS_PER_CALL;
	float *P = malloc((chunk ? chunk : 1) * k * sizeof(float));
	if (!P)
		return runtime_error("%s: out of memory for %zu x %zu probabilities", file, chunk, k);
	int rc = 0;
	for (size_t i0 = 0; i0 < ds->n && !rc; i0 += chunk) {
		size_t mc = ds->n - i0 < chunk ? ds->n - i0 : chunk;
		if (softreg_predict(w->m, ds, i0, mc, w->kern, P, err)) {
			rc = runtime_error("%s: %s (model: %s)", file, err, w->o->model);
			break;
		}
		for (size_t i = 0; i < mc; i++)
			print_row(w, P + i * k, file, index ? (long)(i0 + i) : -1);
	}
	free(P);
	return rc;
}

static int predict_pgm(struct out *w, const char *path)
{
	char err[SOFTREG_ERRLEN];
	uint8_t *px;
	size_t rows, cols;
	const struct softreg_model *m = w->m;
	if (softreg_pgm_read(path, &px, &rows, &cols, err))
		return runtime_error("%s", err);
	if (rows != m->rows || cols != m->cols) {
		free(px);
		return runtime_error("%s: image is %zux%zu, the model expects %zux%zu", path, cols, rows, m->cols, m->rows);
	}
	struct softreg_dataset ds = {.n = 1, .d = m->d, .rows = rows, .cols = cols};
	ds.x = (struct softreg_source){.kind = SOFTREG_SOURCE_U8, .n = 1, .d = m->d, .data = px};
	int rc = predict_rows(w, &ds, path, false);
	free(px);
	return rc;
}

static int predict_file(struct out *w, const char *path)
{
	/* a PGM starts with 'P'; O_NONBLOCK: a FIFO is refused by the reader, not waited on */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char c0 = 0;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, &c0, 1) != 1)
		c0 = 0;
	if (fd >= 0)
		close(fd);
	if (c0 == 'P' && w->o->data.format == SOFTREG_FORMAT_AUTO)
		return predict_pgm(w, path);
	struct softreg_dataset ds;
	if (data_read(&w->o->data, path, NULL, w->m->d, &ds))
		return EXIT_RUNTIME;
	char err[SOFTREG_ERRLEN];
	int rc = 0;
	if (check_blas_headroom(softreg_get_threads()))
		rc = EXIT_RUNTIME;
	else if (softreg_model_check_data(w->m, &ds, path, err))
		rc = runtime_error("%s", err);
	else
		rc = predict_rows(w, &ds, path, true);
	softreg_dataset_free(&ds);
	return rc;
}

int cmd_predict(int argc, char **argv)
{
	struct predict_opts o = {.top = 3};
	struct opt_seen seen = {0};
	seen.pos = calloc((size_t)argc + 1, sizeof(char *));
	if (!seen.pos)
		return runtime_error("out of memory");
	int rc = opts_parse("predict", usage, table, &o, argc, argv, &seen);
	if (rc) {
		free(seen.pos);
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	}
	rc = cli_env_check("predict");
	if (!rc && !o.model)
		rc = usage_error("predict", "--model MODEL is required");
	if (!rc && !seen.npos)
		rc = usage_error("predict", "no input file given");
	struct softreg_model *m = NULL;
	char err[SOFTREG_ERRLEN];
	if (!rc && softreg_model_load(o.model, &m, NULL, err))
		rc = runtime_error("%s", err);
	struct out w = {.o = &o, .m = m, .first = true,
			.kern = kernel_of_choice(o.kernel)};
	if (!rc && (!(w.order = calloc(m->k, sizeof(size_t))) || !(w.rank = calloc(m->k, sizeof(struct ranked)))))
		rc = runtime_error("out of memory");
	if (!rc) {
		softreg_set_threads(o.threads);
		if (o.json) {
			printf("{\"model\": ");
			json_string(stdout, o.model);
			printf(", \"predictions\": [");
		}
		for (size_t i = 0; i < seen.npos && !rc; i++)
			rc = predict_file(&w, seen.pos[i]);
		if (o.json)
			printf("]}\n");
	}
	free(w.order);
	free(w.rank);
	softreg_model_free(m);
	free(seen.pos);
	return rc;
}
