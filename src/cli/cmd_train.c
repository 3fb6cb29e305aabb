/* SPDX-License-Identifier: MIT
 * cmd_train.c: softreg train: parse, load, check, train, save. */
#include "cli.h"
#include "data.h"
#include "dist_cli.h"
#include "train_out.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: softreg train [--data DIR | --train FILE [--train-labels FILE] [--test FILE [--test-labels FILE]]]\n"
	"                     [OPTIONS]\n"
	"\n"
	"Train softmax regression and print the test accuracy. The objective is\n"
	"  F(W, b) = (1/n) sum_i CE(softmax(W x_i + b), y_i) + (l2/2) |W|^2  (bias not regularised)\n"
	"Classes are the distinct training labels in increasing order; the model keeps their values.\n"
	"\n"
	"Exit status: 0 ok, 1 runtime error (bad file, divergence), 2 usage error, 130 interrupted.\n"
	"\n"
	"Under mpirun (a build with MPI; see softreg info), 'mpirun -np N softreg train ...' takes the same\n"
	"options and writes the same model, byte for byte, at any N: L-BFGS's processes each sum their\n"
	"rows, SGD's share each batch. Only rank 0 prints and writes files. --shard: each process trains\n"
	"on its own rows only (for data larger than one node): the model is then the same on a rerun\n"
	"with the same N, but differs from one N to another.\n"
	"\n";

static const char *const solvers[] = {"sgd", "lbfgs", NULL};
static const char *const schedules[] = {"const", "step", "cosine", NULL};
static const char *const presets[] = {"seed", NULL};
static const char *const mpi_sums[] = {"exact", "tree", NULL};

struct train_opts {
	struct data_opts data;
	struct softreg_params p;
	int solver, schedule, kernel, preset, threads, mpi_sum;
	bool standardize, no_shuffle, json, quiet, seed_preset, shard;
	const char *out, *metrics, *trace, *checkpoint, *resume;
};

#define O(field) offsetof(struct train_opts, field)
static const struct opt table[] = {
	{OPT_SECTION, "data and model", 0, 0, 0, 0, 0, 0, 0, 0},
	DATA_OPTS_DIR(struct train_opts, data),
	DATA_OPTS_TRAIN(struct train_opts, data),
	DATA_OPTS_TEST(struct train_opts, data),
	DATA_OPTS_FORMAT(struct train_opts, data),
	{OPT_FLAG, "--standardize", NULL, NULL, O(standardize), 0, 0, false, NULL,
	 "per-feature mean/std of the training rows (sparse data: std only, no centring);\n"
	 "                         default: uint8 features / 255, others as they are"},
	{OPT_STRING, "--out", NULL, "MODEL", O(out), 0, 0, false, NULL, "save the trained model (.srm), atomically"},
	{OPT_CHOICE, "--preset", NULL, "seed", O(preset), 0, 0, false, presets,
	 "the tutorial's configuration: raw 0-255 pixels, zero init, batches in file\n"
	 "                         order, batch 10000, lr 1e-5, 20 epochs, plain SGD"},
	{OPT_SECTION, "solver", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_CHOICE, "--solver", NULL, "S", O(solver), 0, 0, false, solvers, "sgd (mini-batch, default) or lbfgs (full batch)"},
	{OPT_U32, "--epochs", "--max-iter", "N", O(p.epochs), 1, 1000000, false, NULL,
	 "SGD epochs (default 2); L-BFGS: maximum iterations (default 1000)"},
	{OPT_SIZE, "--batch", NULL, "B", O(p.batch), 1, 1u << 24, false, NULL, "SGD batch size (default 100)"},
	{OPT_DOUBLE, "--lr", NULL, "LR", O(p.lr), 0, 1e6, true, NULL, "SGD learning rate (default 0.3)"},
	{OPT_DOUBLE, "--momentum", NULL, "M", O(p.momentum), 0, 0.999999, false, NULL, "SGD momentum in [0, 1) (default 0.9)"},
	{OPT_CHOICE, "--schedule", NULL, "S", O(schedule), 0, 0, false, schedules,
	 "const, step (x0.1 at 50%, x0.01 at 75% of epochs) or cosine (default)"},
	{OPT_DOUBLE, "--l2", "--weight-decay", "L", O(p.l2), 0, 1e6, false, NULL,
	 "lambda of the objective (default 0 for SGD, 1e-4 for L-BFGS)"},
	{OPT_INT, "--history", NULL, "H", O(p.history), 1, 1000, false, NULL, "L-BFGS memory (default 10)"},
	{OPT_DOUBLE, "--tol", NULL, "T", O(p.tol), 0, 1e6, false, NULL, "L-BFGS: stop when |grad F| <= T (default 1e-5)"},
	{OPT_U64, "--seed", NULL, "S", O(p.seed), 0, 0, false, NULL, "seed of the shuffles (default 1)"},
	{OPT_FLAG, "--no-shuffle", NULL, NULL, O(no_shuffle), 0, 0, false, NULL, "SGD batches in file order"},
	{OPT_SIZE, "--validation", NULL, "N", O(p.validation), 1, 4294967295.0, false, NULL,
	 "hold out the last N training rows; report validation accuracy"},
	{OPT_U32, "--early-stop", NULL, "P", O(p.early_stop), 1, 1000000, false, NULL,
	 "SGD: stop after P epochs without a better validation accuracy, keeping the\n"
	 "                         best model (needs --validation)"},
	{OPT_SECTION, "compute", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_CHOICE, "--kernel", NULL, "K", O(kernel), 0, 0, false, kernel_choices,
	 "auto (default: sparse for libsvm data, and for dense data sparse enough at\n"
	 "                         batches large enough, made CSR at load; else blas: at most\n"
	 "                         35% nonzeros and 96 rows where OpenBLAS runs AVX2 kernels,\n"
	 "                         20% and 256 where it runs AVX-512 ones; softreg info says\n"
	 "                         which), blas, sparse, or\n"
	 "                         naive (the per-sample reference; every source)"},
	{OPT_INT, "--threads", NULL, "T", O(threads), 1, 1024, false, NULL,
	 "threads for OpenMP and OpenBLAS (default: all cores; under mpirun, the\n"
	 "                         cores shared among the node's processes; SGD then times\n"
	 "                         each epoch's first batches on 1 thread and on all, and\n"
	 "                         runs the rest on the faster: the same model either way)"},
	{OPT_CHOICE, "--mpi-sum", NULL, "S", O(mpi_sum), 0, 0, false, mpi_sums,
	 "under mpirun, how L-BFGS adds the processes' sums: exact (default; the same\n"
	 "                         model at any -np, 72 bytes a parameter sent) or tree (doubles up a\n"
	 "                         fixed tree: 8 bytes, the same model on a rerun with the same -np only)"},
	{OPT_FLAG, "--shard", NULL, NULL, O(shard), 0, 0, false, NULL,
	 "SGD under mpirun: each process reads and shuffles only its own rows; the\n"
	 "                         model is the same on a rerun with the same -np, not across -np"},
	{OPT_U32, "--eval-every", NULL, "N", O(p.eval_every), 0, 1000000, false, NULL,
	 "test evaluation every N epochs/iterations (default 1; 0: at the end)"},
	{OPT_SECTION, "output", 0, 0, 0, 0, 0, 0, 0, 0},
	{OPT_STRING, "--metrics", NULL, "FILE.csv", O(metrics), 0, 0, false, NULL,
	 "one row per epoch: epoch,train_loss,train_accuracy,test_loss,\n"
	 "                         test_accuracy,lr,seconds"},
	{OPT_STRING, "--trace", NULL, "FILE.csv", O(trace), 0, 0, false, NULL,
	 "one row per iteration: iteration,epoch,batch_loss,dist_W,dist_b (distances to\n"
	 "                         the final W and b; snapshots are kept in memory, at most $SOFTREG_TRACE_MB\n"
	 "                         MiB (default 512), every s-th iteration beyond, and always the last)"},
	{OPT_STRING, "--checkpoint", NULL, "FILE", O(checkpoint), 0, 0, false, NULL,
	 "save model, momentum, RNG and position after every epoch (and on Ctrl-C)"},
	{OPT_STRING, "--resume", NULL, "FILE", O(resume), 0, 0, false, NULL, "continue a checkpoint; --epochs counts the total"},
	{OPT_FLAG, "--json", NULL, NULL, O(json), 0, 0, false, NULL, "print one JSON object on stdout"},
	{OPT_FLAG, "--quiet", "-q", NULL, O(quiet), 0, 0, false, NULL, "no progress on stderr"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
#undef O

/* what the callbacks share */
struct ctx {
	struct progress prog;
	struct softreg_model *m;
	struct softreg_train_state *state;
	const char *checkpoint;
	struct softreg_epoch_info *history;
	size_t nhistory, history_cap;
	struct trace tr;
	bool tracing, ckpt_failed;
	size_t n_all, n_test; /* rows of the data, of all processes */
	char ckpt_err[SOFTREG_ERRLEN];
};

static int on_progress(const struct softreg_epoch_info *info, void *user)
{
	struct ctx *c = user;
	if (!info->end_of_epoch) {
		progress_batch(&c->prog, info);
		return 0;
	}
	progress_epoch(&c->prog, info);
	if (c->nhistory < c->history_cap)
		c->history[c->nhistory++] = *info;
	if (c->checkpoint && cli_rank0()) {
		c->m->epochs = c->state->epochs_done;
		if (save_model(c->m, c->state, c->checkpoint, c->ckpt_err)) {
			c->ckpt_failed = true;
			return 1; /* stop: the user asked for checkpoints and they fail */
		}
	}
	return 0;
}

static void on_iter(uint64_t it, uint32_t epoch, double loss, const struct softreg_model *m, void *user)
{
	struct ctx *c = user;
	trace_add(&c->tr, it, epoch, loss, m);
}

/* the options after parsing: presets, solver defaults, cross-checks */
static int check_opts(struct train_opts *o, const struct opt_seen *seen)
{
	struct softreg_params *p = &o->p;
	o->seed_preset = opts_given(table, seen, "--preset");
	if (o->seed_preset) {
		struct softreg_params given = *p;
		softreg_params_seed_preset(p);
		o->schedule = (int)p->schedule;
		/* explicit flags override the preset */
		static const char *const keep[] = {"--epochs", "--batch", "--lr", "--momentum", "--l2", "--seed", NULL};
		for (int i = 0; keep[i]; i++) {
			if (!opts_given(table, seen, keep[i]))
				continue;
			if (!strcmp(keep[i], "--epochs")) p->epochs = given.epochs;
			if (!strcmp(keep[i], "--batch")) p->batch = given.batch;
			if (!strcmp(keep[i], "--lr")) p->lr = given.lr;
			if (!strcmp(keep[i], "--momentum")) p->momentum = given.momentum;
			if (!strcmp(keep[i], "--l2")) p->l2 = given.l2;
			if (!strcmp(keep[i], "--seed")) p->seed = given.seed;
		}
		if (opts_given(table, seen, "--schedule"))
			o->schedule = (int)given.schedule;
		if (o->standardize)
			return usage_error("train", "--preset seed uses raw pixels; drop --standardize");
	}
	p->solver = (enum softreg_solver)o->solver;
	p->schedule = (enum softreg_schedule)o->schedule;
	p->shuffle = p->shuffle && !o->no_shuffle;
	p->kernel = kernel_of_choice(o->kernel);
	if (p->solver == SOFTREG_SOLVER_LBFGS) {
		if (!opts_given(table, seen, "--epochs"))
			p->epochs = 1000;
		if (!opts_given(table, seen, "--l2"))
			p->l2 = 1e-4;
		if (o->resume || o->checkpoint)
			return usage_error("train", "--checkpoint and --resume apply to the SGD solver");
		if (p->early_stop)
			return usage_error("train", "--early-stop applies to the SGD solver");
	}
	if (p->early_stop && !p->validation)
		return usage_error("train", "--early-stop needs --validation N");
	const char *why = softreg_check_params(p);
	return why ? usage_error("train", "%s", why) : 0;
}

/* a new model for 'train' (classes, preprocessing), or the checkpoint's;
 * 'whole' is the whole training set when 'train' is this process's shard */
static int make_model(struct train_opts *o, struct softreg_dataset *train, const struct softreg_dataset *whole,
		      struct softreg_model **m_ret, struct softreg_train_state **st_ret)
{
	char err[SOFTREG_ERRLEN];
	static char buf[4096]; /* static: off a small stack */
	const char *what = data_labels_name(&o->data, 0, buf, sizeof(buf));
	if (o->resume) {
		if (softreg_model_load(o->resume, m_ret, st_ret, err))
			return runtime_error("%s", err);
		if (!*st_ret)
			return runtime_error("%s: a model, not a checkpoint (write one with --checkpoint)", o->resume);
		if ((*st_ret)->epochs_done >= o->p.epochs)
			return runtime_error("%s: already trained %u epochs; ask for more with --epochs", o->resume,
					     (*st_ret)->epochs_done);
		const struct softreg_model *m = *m_ret;
		if ((m->prep == SOFTREG_PREP_STANDARDIZE) != o->standardize)
			return runtime_error("%s: the checkpoint was made %s --standardize", o->resume,
					     o->standardize ? "without" : "with");
		if (train->x.kind == SOFTREG_SOURCE_U8 && m->prep == SOFTREG_PREP_SCALE &&
		    (m->scale == 1.0f) != o->seed_preset)
			return runtime_error("%s: the checkpoint was made %s --preset seed", o->resume,
					     o->seed_preset ? "without" : "with");
		return data_map(train, (*m_ret)->classes, (*m_ret)->k, what);
	}
	int64_t *classes;
	size_t k;
	if (softreg_dataset_classes(whole, what, &classes, &k, err))
		return runtime_error("%s", err);
	int rc = data_map(train, classes, k, what);
	struct softreg_model *m = rc ? NULL : softreg_model_alloc(k, train->rows, train->cols);
	*m_ret = m;
	if (!rc && m) {
		memcpy(m->classes, classes, k * sizeof(int64_t));
		*st_ret = softreg_train_state_alloc(k, train->d);
	}
	free(classes);
	if (rc)
		return rc;
	if (!m || !*st_ret)
		return runtime_error("out of memory for a model of %zu classes x %zu features (%zu bytes, twice with the "
				     "optimiser's state)", k, train->d, softreg_model_bytes(k, train->d));
	softreg_model_init_prep(m, &train->x);
	if (o->seed_preset)
		m->scale = 1.0f; /* raw 0-255 pixels */
	if (o->standardize) {
		/* statistics of the training rows only: the validation rows stay unseen */
		struct softreg_dataset fit = softreg_dataset_rows(whole, 0, whole->n - o->p.validation);
		if (softreg_model_standardize(m, &fit, err))
			return runtime_error("%s", err);
	}
	return 0;
}

static void print_json(const struct ctx *c, const struct train_opts *o, const struct softreg_dataset *train,
		       const struct softreg_dataset *test, const struct softreg_report *rep, int threads, double load_s)
{
	const struct softreg_params *p = &o->p;
	const struct softreg_model *m = c->m;
	printf("{\"dataset\": ");
	json_string(stdout, data_name(&o->data));
	printf(", \"format\": \"%s\", \"source\": \"%s\"", data_formats[o->data.format], softreg_source_name(train->x.kind));
	printf(", \"n_train\": %zu, \"n_test\": %zu, \"validation\": %zu, \"d\": %zu, \"k\": %zu",
	       c->n_all - p->validation, test ? c->n_test : 0, p->validation, m->d, m->k);
	printf(", \"solver\": \"%s\", \"preset\": ", solvers[o->solver]);
	json_string(stdout, o->seed_preset ? "seed" : "");
	printf(", \"epochs\": %u, \"batch\": %zu, \"lr\": %.9g, \"momentum\": %.9g, \"l2\": %.9g", rep->epochs_run, p->batch,
	       p->lr, p->momentum, p->l2);
	printf(", \"schedule\": \"%s\", \"standardize\": %s, \"kernel\": \"%s\", \"threads\": %d, \"seed\": %llu",
	       schedules[p->schedule], m->prep == SOFTREG_PREP_STANDARDIZE ? "true" : "false",
	       (p->kernel ? p->kernel : softreg_kernel_auto(train->x.kind))->name, threads, (unsigned long long)p->seed);
	printf(", \"blas_core\": ");
	json_string(stdout, softreg_blas_corename());
	printf(", \"load_seconds\": %.6f, \"train_seconds\": %.6f, \"iterations\": %llu", load_s, rep->train_seconds,
	       (unsigned long long)rep->iterations);
	double comm_s;
	uint64_t sent = softreg_dist_sent(cli_dist, &comm_s);
	printf(", \"processes\": %d, \"shard\": %s, \"mpi_sum\": \"%s\", \"sent_bytes\": %llu, \"comm_seconds\": %.6f",
	       softreg_dist_size(cli_dist), o->shard ? "true" : "false", mpi_sums[o->mpi_sum], (unsigned long long)sent,
	       comm_s);
	printf(", \"test_accuracy\": %.6f, \"test_loss\": %.6f", rep->test_accuracy, rep->test_loss);
	if (rep->val_accuracy >= 0)
		printf(", \"val_accuracy\": %.6f", rep->val_accuracy);
	printf(", \"objective\": %.10g, \"grad_norm\": %.6g", rep->objective, rep->grad_norm);
	printf(", \"history\": [");
	for (size_t i = 0; i < c->nhistory; i++) {
		const struct softreg_epoch_info *h = &c->history[i];
		printf("%s{\"epoch\": %u, \"train_loss\": %.6f, \"test_loss\": %.6f, \"test_accuracy\": %.6f, "
		       "\"seconds\": %.6f",
		       i ? ", " : "", h->epoch, h->objective >= 0 ? h->objective : h->train_loss, h->test_loss,
		       h->test_accuracy, h->seconds);
		if (h->train_accuracy >= 0)
			printf(", \"train_accuracy\": %.6f", h->train_accuracy);
		if (h->val_accuracy >= 0)
			printf(", \"val_accuracy\": %.6f", h->val_accuracy);
		if (h->objective >= 0)
			printf(", \"objective\": %.10g, \"grad_norm\": %.6g", h->objective, h->grad_norm);
		printf("}");
	}
	printf("]}\n");
}

/* the objective and gradient norm of the final SGD model, for the report */
static void final_objective(const struct softreg_model *m, const struct softreg_dataset *train,
			    const struct softreg_params *p, struct softreg_report *rep)
{
	char err[SOFTREG_ERRLEN];
	size_t n = train->n - p->validation;
	if (softreg_objective(m, train, n, p->l2, p->kernel, NULL, &rep->objective, &rep->grad_norm, err))
		rep->objective = rep->grad_norm = -1;
}

/* an interrupted run: the checkpoint when asked for, and the metrics of the
 * epochs that finished; the exit status of the signal (128 + its number) */
static int interrupted(struct ctx *c, const struct train_opts *o, const char *why)
{
	char err[SOFTREG_ERRLEN];
	int status = 128 + (stop_signal ? (int)stop_signal : SIGINT);
	if (!cli_rank0()) /* rank 0 writes the files; the others stop with it */
		return status;
	if (o->metrics && c->nhistory && metrics_write(o->metrics, c->history, c->nhistory))
		return EXIT_RUNTIME;
	if (!c->checkpoint) {
		fprintf(stderr, "softreg: %s; no checkpoint written (use --checkpoint FILE)\n", why);
		return status;
	}
	c->m->epochs = c->state->epochs_done;
	if (save_model(c->m, c->state, c->checkpoint, err))
		return runtime_error("%s", err);
	fprintf(stderr, "softreg: %s; checkpoint written to %s\n", why, c->checkpoint);
	return status;
}

/* train, then write what was asked for and print the result */
static int run(struct train_opts *o, struct ctx *c, struct softreg_dataset *train, struct softreg_dataset *test,
	       size_t n_all, int threads, double load_s)
{
	struct softreg_params *p = &o->p;
	char err[SOFTREG_ERRLEN];
	c->history_cap = p->epochs;
	c->history = calloc(p->epochs, sizeof(*c->history));
	if (!c->history)
		return runtime_error("out of memory");
	if (o->trace && cli_rank0()) {
		size_t n = n_all - p->validation, B = p->batch < n ? p->batch : n;
		uint64_t total = p->solver == SOFTREG_SOLVER_LBFGS ? p->epochs : (uint64_t)p->epochs * ((n + B - 1) / B);
		if (trace_init(&c->tr, total, c->m->k, c->m->d))
			return EXIT_RUNTIME;
		c->tracing = true;
		p->on_iter = on_iter;
	}
	p->eval_train = o->metrics != NULL;
	progress_init(&c->prog, o->quiet);
	p->progress = on_progress;
	p->user = c;
	p->stop = &stop_signal;
	struct softreg_report rep;
	enum softreg_result r = softreg_train_dist(c->m, train, test, p, cli_dist, o->shard, c->state, &rep, err);
	if (c->ckpt_failed)
		return runtime_error("%s", c->ckpt_err);
	if (r == SOFTREG_ERR_INTERRUPTED)
		return interrupted(c, o, err);
	if (r)
		return runtime_error("%s", err);
	if (rep.objective < 0)
		final_objective(c->m, train, p, &rep);
	if (!cli_rank0())
		return EXIT_OK;
	if (o->out && save_model(c->m, NULL, o->out, err))
		return runtime_error("%s", err);
	if (o->metrics && metrics_write(o->metrics, c->history, c->nhistory))
		return EXIT_RUNTIME;
	if (o->trace && trace_write(o->trace, &c->tr, c->m))
		return EXIT_RUNTIME;
	const char *kname = (p->kernel ? p->kernel : softreg_kernel_auto(train->x.kind))->name;
	char procs[48] = "";
	if (softreg_dist_size(cli_dist) > 1)
		snprintf(procs, sizeof(procs), " x %d processes", softreg_dist_size(cli_dist));
	if (o->json)
		print_json(c, o, train, test, &rep, threads, load_s);
	else if (test)
		printf("test accuracy %.2f%%  (%u %s%s, train %.3f s, load %.3f s, %d threads%s, %s kernel)\n",
		       100 * rep.test_accuracy, rep.epochs_run, p->solver == SOFTREG_SOLVER_LBFGS ? "iteration" : "epoch",
		       rep.epochs_run == 1 ? "" : "s", rep.train_seconds, load_s, threads, procs, kname);
	else
		printf("trained: objective %.6g  (%u %s%s, train %.3f s, load %.3f s, %d threads%s, %s kernel; no test set)\n",
		       rep.objective, rep.epochs_run, p->solver == SOFTREG_SOLVER_LBFGS ? "iteration" : "epoch",
		       rep.epochs_run == 1 ? "" : "s", rep.train_seconds, load_s, threads, procs, kname);
	return EXIT_OK;
}

/* The IDX files of the data options (MNIST's folder, or --train/--test IDX
 * files with their labels): [train images, labels, test images, labels],
 * test NULL when none; false when the data is not an IDX pair */
static bool idx_paths(const struct data_opts *o, const char *paths[4])
{
	static char buf[4][4096]; /* static: off a small stack */
	static const char *const stems[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
					     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
	if (o->dir) {
		for (int i = 0; i < 4; i++) {
			if (softreg_dataset_find(o->dir, stems[i], buf[i], sizeof(buf[i]), NULL))
				return false; /* the full read says what is missing */
			paths[i] = buf[i];
		}
		return true;
	}
	const char *f[2] = {o->train, o->test}, *l[2] = {o->train_labels, o->test_labels};
	for (int i = 0; i < 2; i++) {
		bool idx = f[i] && l[i] &&
			   (o->format == SOFTREG_FORMAT_IDX ||
			    (o->format == SOFTREG_FORMAT_AUTO && softreg_format_detect(f[i]) == SOFTREG_FORMAT_IDX));
		if ((i == 0 || f[i]) && !idx)
			return false;
		paths[2 * i] = f[i];
		paths[2 * i + 1] = l[i];
	}
	return true;
}

/* Under mpirun, this process's rows of an IDX pair, read by byte range
 * (softreg_dist_shard(): whole blocks for L-BFGS, equal shares for --shard;
 * the test set in whole blocks), held for the library; every training label
 * into '*labels_all' for the class table. Prints one line; returns 0 or
 * EXIT_RUNTIME. */
static int load_idx_rows(const struct train_opts *o, const char *paths[4], struct softreg_dataset *train,
			 size_t *n_train, struct softreg_dataset *test, size_t *n_test, int64_t **labels_all)
{
	char err[SOFTREG_ERRLEN];
	uint64_t max = max_bytes_from_env();
	struct softreg_dataset *sets[2] = {train, test};
	size_t *totals[2] = {n_train, n_test};
	for (int i = 0; i < 2; i++) {
		struct softreg_idx h;
		size_t row0, count;
		memset(sets[i], 0, sizeof(*sets[i]));
		*totals[i] = 0;
		if (!paths[2 * i])
			continue;
		if (softreg_idx_read_rows(paths[2 * i], max, 0, 0, &h, err))
			return runtime_error("%s", err);
		size_t n = h.dims[0], trained = i == 0 && o->p.validation < n ? n - o->p.validation : n;
		softreg_dist_shard(cli_dist, n, trained, i == 1 || !o->shard, &row0, &count);
		if (softreg_dataset_load_rows(paths[2 * i], paths[2 * i + 1], max, row0, count, sets[i],
					      i == 0 ? labels_all : NULL, err) ||
		    softreg_dist_hold(cli_dist, sets[i], row0, n, err))
			return runtime_error("%s", err);
		*totals[i] = n;
	}
	return 0;
}

/* The text format (libsvm or CSV) of the data files when both --train and
 * --test (if given) are in it and no labels file is named, else AUTO */
static enum softreg_format text_format(const struct data_opts *o)
{
	const char *f[2] = {o->train, o->test};
	enum softreg_format fmt = SOFTREG_FORMAT_AUTO;
	if (o->dir || !o->train || o->train_labels || o->test_labels)
		return SOFTREG_FORMAT_AUTO;
	for (int i = 0; i < 2; i++) {
		enum softreg_format g = !f[i]	   ? fmt
					: o->format ? (enum softreg_format)o->format
						    : softreg_format_detect(f[i]);
		if ((g != SOFTREG_FORMAT_LIBSVM && g != SOFTREG_FORMAT_CSV) || (fmt && g != fmt))
			return SOFTREG_FORMAT_AUTO;
		fmt = g;
	}
	return fmt;
}

/* Under mpirun, libsvm or CSV files read by the processes together: each
 * parses its share of the bytes, and the rows move to the shards of
 * softreg_dist_shard(); the distinct labels of every process into
 * '*labels_all' ('*nlabels'). Prints one line; returns 0 or EXIT_RUNTIME. */
static int load_text_rows(const struct train_opts *o, enum softreg_format fmt, struct softreg_dataset *train,
			  size_t *n_train, struct softreg_dataset *test, size_t *n_test, int64_t **labels_all,
			  size_t *nlabels)
{
	char err[SOFTREG_ERRLEN];
	struct softreg_read_opts r = {.format = fmt, .zero_based = o->data.zero_based,
				      .label_column = o->data.label_column};
	__typeof__(softreg_dataset_read_csv_dist) *read_dist =
		fmt == SOFTREG_FORMAT_CSV ? softreg_dataset_read_csv_dist : softreg_dataset_read_libsvm_dist;
	size_t row0, nl;
	int64_t *tl = NULL;
	memset(test, 0, sizeof(*test));
	*n_test = 0;
	if (read_dist(cli_dist, o->data.train, &r, o->p.validation, !o->shard, train, &row0, n_train, labels_all,
		      nlabels, err) ||
	    softreg_dist_hold(cli_dist, train, row0, *n_train, err))
		return runtime_error("%s", err);
	if (!o->data.test)
		return 0;
	r.d = train->d; /* libsvm: the training set's features */
	if (read_dist(cli_dist, o->data.test, &r, 0, 1, test, &row0, n_test, &tl, &nl, err) ||
	    softreg_dist_hold(cli_dist, test, row0, *n_test, err)) {
		free(tl);
		return runtime_error("%s", err);
	}
	free(tl);
	if (test->dropped && cli_rank0())
		fprintf(stderr, "softreg: %s: %zu values of features beyond the model's %zu were ignored\n", o->data.test,
			test->dropped, train->d);
	return 0;
}

int cmd_train(int argc, char **argv)
{
	struct train_opts o = {.threads = 0, .schedule = 2, .preset = -1};
	softreg_params_default(&o.p);
	struct opt_seen seen = {0};
	int rc = opts_parse("train", usage, table, &o, argc, argv, &seen);
	if (rc)
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	data_defaults(&o.data);
	if ((rc = cli_env_check("train")) || (rc = trace_check_env("train")) || (rc = check_opts(&o, &seen)))
		return rc;
	const char *outs[] = {o.out, o.checkpoint, o.metrics, o.trace};
	const char *flags[] = {"--out", "--checkpoint", "--metrics", "--trace"};
	if ((rc = check_outputs("train", outs, flags, 4)))
		return rc;
	if (o.shard && o.p.solver != SOFTREG_SOLVER_SGD)
		return usage_error("train", "--shard applies to the SGD solver (L-BFGS's processes always read their own rows)");
	softreg_dist_set_sums(cli_dist, o.mpi_sum == 0);
	catch_stop_signals(true); /* from here on, a signal stops cleanly */
	int threads = softreg_set_threads(o.threads ? o.threads : cli_default_threads());
	o.p.threads_auto = !o.threads; /* SGD: one thread or all, whichever each epoch's first batches find faster */

	double t0 = cli_now();
	/* 'all' holds the data; 'train' and 'test' are this process's rows of
	 * it when the processes split them (views), else the data itself */
	struct softreg_dataset all = {0}, all_test = {0}, train, test;
	bool have_test;
	bool split = softreg_dist_size(cli_dist) > 1 && (o.shard || o.p.solver == SOFTREG_SOLVER_LBFGS);
	/* IDX under mpirun: each process reads the bytes of its rows alone;
	 * libsvm and CSV: its share of the lines (--standardize needs every
	 * row's statistics: read whole below) */
	const char *paths[4];
	enum softreg_format text = split && !o.standardize ? text_format(&o.data) : SOFTREG_FORMAT_AUTO;
	bool ranged = text || (split && !o.standardize && idx_paths(&o.data, paths));
	int64_t *labels_all = NULL;
	size_t n_all = 0, n_test_all = 0, n_labels = 0;
	struct capture cap;
	capture_begin(&cap);
	if (text) {
		rc = load_text_rows(&o, text, &train, &n_all, &test, &n_test_all, &labels_all, &n_labels);
		have_test = o.data.test != NULL;
	} else if (ranged) {
		rc = load_idx_rows(&o, paths, &train, &n_all, &test, &n_test_all, &labels_all);
		n_labels = n_all;
		have_test = paths[2] != NULL;
	} else {
		rc = data_load_train_test("train", &o.data, &train, &test, &have_test);
		n_all = train.n, n_test_all = test.n;
	}
	if ((rc = capture_agree(&cap, rc))) {
		softreg_dataset_free(&train);
		softreg_dataset_free(&test);
		free(labels_all);
		return rc;
	}
	/* the class table comes from every training label */
	struct softreg_dataset every = {.labels = labels_all, .n = n_labels};
	double load_s = cli_now() - t0;
	struct ctx c = {0};
	c.checkpoint = o.checkpoint;
	/* a model, the classes, the shards: a failure on one process alone (memory)
	 * must not leave the others waiting, nor go unsaid */
	capture_begin(&cap);
	do {
		if (o.p.validation >= n_all) {
			rc = usage_error("train", "--validation %zu must be below the %zu training rows", o.p.validation, n_all);
			break;
		}
		char err[SOFTREG_ERRLEN];
		if (split && !ranged) {
			size_t row0, count;
			all = train, all_test = test;
			softreg_dist_shard(cli_dist, all.n, all.n - o.p.validation, !o.shard, &row0, &count);
			train = softreg_dataset_rows(&all, row0, count);
			enum softreg_result r = softreg_dist_hold(cli_dist, &train, row0, all.n, err);
			memset(&test, 0, sizeof(test));
			if (have_test && r == SOFTREG_OK) { /* whole blocks: the evaluation is that of one process */
				softreg_dist_shard(cli_dist, all_test.n, all_test.n, 1, &row0, &count);
				test = softreg_dataset_rows(&all_test, row0, count);
				r = softreg_dist_hold(cli_dist, &test, row0, all_test.n, err);
			}
			if (r) {
				rc = runtime_error("%s", err);
				break;
			}
		}
		if ((rc = make_model(&o, &train, ranged ? &every : split ? &all : &train, &c.m, &c.state)))
			break;
		if (softreg_model_check_data(c.m, &train, o.resume ? o.resume : data_name(&o.data), err) ||
		    (have_test && softreg_model_check_data(c.m, &test, "test data", err))) {
			rc = runtime_error("%s", err);
			break;
		}
		static char buf[4096]; /* static: off a small stack */
		if (have_test && (rc = data_map(&test, c.m->classes, c.m->k, data_labels_name(&o.data, 1, buf, sizeof(buf)))))
			break;
	} while (0);
	if ((rc = capture_agree(&cap, rc)))
		goto out;
	/* the CSR, if the sparse kernel trains dense data, counts as loading; the
	 * choice is process 0's, broadcast, so every process must get here before */
	capture_begin(&cap);
	double t_csr = cli_now();
	rc = data_sparsify("train", cli_dist, o.p.kernel, c.m, o.p.solver == SOFTREG_SOLVER_SGD ? o.p.batch : 0, &train,
			   have_test ? &test : NULL);
	load_s += cli_now() - t_csr;
	if (rc == 0)
		rc = check_blas_headroom(threads);
	if ((rc = capture_agree(&cap, rc)))
		goto out;
	c.n_all = n_all;
	c.n_test = n_test_all;
	rc = run(&o, &c, &train, have_test ? &test : NULL, n_all, threads, load_s);
out:
	catch_stop_signals(false);
	free(c.history);
	trace_free(&c.tr);
	softreg_model_free(c.m);
	softreg_train_state_free(c.state);
	softreg_dataset_free(&train);
	softreg_dataset_free(&test);
	softreg_dataset_free(&all);
	softreg_dataset_free(&all_test);
	free(labels_all);
	return rc;
}
