/* SPDX-License-Identifier: MIT
 * cmd_train.c: softreg train: parse, load, check, train, save. */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: softreg train [OPTIONS]\n"
	"\n"
	"Train softmax regression on DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]\n"
	"and print the test accuracy. The objective is\n"
	"  F(W, b) = (1/n) sum_i CE(softmax(W x_i + b), y_i) + (l2/2) |W|^2  (bias not regularised)\n"
	"\n"
	"data and model:\n"
	"  --data DIR            data folder (default $SOFTREG_DATA or data/mnist)\n"
	"  --standardize         per-feature mean/std from the training set (default: pixels / 255)\n"
	"  --out MODEL           save the trained model (.srm), atomically\n"
	"  --preset seed         the tutorial's configuration: raw 0-255 pixels, zero init, batches\n"
	"                        in file order, batch 10000, lr 1e-5, 20 epochs, plain SGD\n"
	"solver:\n"
	"  --solver sgd|lbfgs    mini-batch SGD (default) or full-batch L-BFGS\n"
	"  --epochs N            SGD epochs (default 2); L-BFGS: maximum iterations (default 1000)\n"
	"  --max-iter N          the same as --epochs\n"
	"  --batch B             SGD batch size (default 100)\n"
	"  --lr LR               SGD learning rate (default 0.3)\n"
	"  --momentum M          SGD momentum in [0, 1) (default 0.9)\n"
	"  --schedule S          const, step (x0.1 at 50%, x0.01 at 75% of epochs) or cosine (default)\n"
	"  --l2 L, --weight-decay L\n"
	"                        lambda of the objective (default 0 for SGD, 1e-4 for L-BFGS)\n"
	"  --history H           L-BFGS memory (default 10)\n"
	"  --tol T               L-BFGS: stop when |grad F| <= T (default 1e-5)\n"
	"  --seed S              seed of the shuffles (default 1)\n"
	"  --no-shuffle          SGD batches in file order\n"
	"  --validation N        hold out the last N training images; report validation accuracy\n"
	"  --early-stop P        SGD: stop after P epochs without a better validation accuracy,\n"
	"                        keeping the best model (needs --validation)\n"
	"compute:\n"
	"  --kernel blas|naive   the batched BLAS kernel (default) or the per-sample reference\n"
	"  --threads T           threads for OpenMP and OpenBLAS (default: all cores)\n"
	"  --eval-every N        test evaluation every N epochs/iterations (default 1; 0: at the end)\n"
	"output:\n"
	"  --metrics FILE.csv    one row per epoch: epoch,train_loss,train_accuracy,test_loss,\n"
	"                        test_accuracy,lr,seconds\n"
	"  --trace FILE.csv      one row per iteration: iteration,epoch,batch_loss,dist_W,dist_b\n"
	"                        (distances to the final W and b; snapshots are kept in memory, at\n"
	"                        most $SOFTREG_TRACE_MB MiB (default 512), every s-th iteration beyond, and always the last)\n"
	"  --checkpoint FILE     save model, momentum, RNG and position after every epoch (and on Ctrl-C)\n"
	"  --resume FILE         continue a checkpoint; --epochs counts the total\n"
	"  --json                print one JSON object on stdout\n"
	"  --quiet               no progress on stderr\n"
	"\n"
	"Exit status: 0 ok, 1 runtime error (bad file, divergence), 2 usage error, 130 interrupted.\n";

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct trace {
	uint64_t total; /* iterations the run will make */
	size_t kd1, stride, cap, count;
	uint64_t *iteration;
	uint32_t *epoch;
	double *loss;
	float *snap; /* (cap, kd1) */
	bool failed;
};

struct ctx {
	struct progress prog;
	struct softreg_model *m;
	struct softreg_train_state *state;
	const char *checkpoint;
	struct softreg_epoch_info *history;
	size_t nhistory, history_cap;
	struct trace *tr;
	bool ckpt_failed;
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
	if (c->checkpoint) {
		c->m->epochs = c->state->epochs_done;
		if (softreg_model_save(c->m, c->state, c->checkpoint, c->ckpt_err)) {
			c->ckpt_failed = true;
			return 1; /* stop: the user asked for checkpoints and they fail */
		}
	}
	return 0;
}

static void on_iter(uint64_t it, uint32_t epoch, double loss, const struct softreg_model *m, void *user)
{
	struct ctx *c = user;
	struct trace *t = c->tr;
	if (!t || t->failed || ((it - 1) % t->stride != 0 && it != t->total))
		return; /* every stride-th iteration, and always the last */
	if (t->count == t->cap) {
		t->failed = true;
		return;
	}
	size_t i = t->count++;
	t->iteration[i] = it;
	t->epoch[i] = epoch;
	t->loss[i] = loss;
	memcpy(t->snap + i * t->kd1, m->W, m->k * m->d * sizeof(float));
	memcpy(t->snap + i * t->kd1 + m->k * m->d, m->b, m->k * sizeof(float));
}

static int write_trace(const char *path, struct trace *t, const struct softreg_model *m)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return runtime_error("%s: cannot write the trace", path);
	fprintf(f, "iteration,epoch,batch_loss,dist_W,dist_b\n");
	size_t kd = m->k * m->d;
	for (size_t i = 0; i < t->count; i++) {
		const float *s = t->snap + i * t->kd1;
		double dw = 0, db = 0;
		for (size_t j = 0; j < kd; j++)
			dw += ((double)s[j] - m->W[j]) * ((double)s[j] - m->W[j]);
		for (size_t j = 0; j < m->k; j++)
			db += ((double)s[kd + j] - m->b[j]) * ((double)s[kd + j] - m->b[j]);
		fprintf(f, "%llu,%u,%.9g,%.9g,%.9g\n", (unsigned long long)t->iteration[i], t->epoch[i], t->loss[i],
			sqrt(dw), sqrt(db));
	}
	if (fclose(f) != 0)
		return runtime_error("%s: write error", path);
	return 0;
}

static int write_metrics(const char *path, const struct ctx *c)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return runtime_error("%s: cannot write the metrics", path);
	fprintf(f, "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds\n");
	for (size_t i = 0; i < c->nhistory; i++) {
		const struct softreg_epoch_info *h = &c->history[i];
		fprintf(f, "%u,%.9g,%.9g,%.9g,%.9g,%.9g,%.6f\n", h->epoch,
			h->objective >= 0 ? h->objective : h->train_loss, h->train_accuracy, h->test_loss,
			h->test_accuracy, h->lr, h->seconds);
	}
	if (fclose(f) != 0)
		return runtime_error("%s: write error", path);
	return 0;
}

static void print_json(const struct ctx *c, const char *dir, const struct softreg_dataset *train,
		       const struct softreg_dataset *test, const struct softreg_params *p,
		       const struct softreg_report *rep, const struct softreg_model *m, int threads,
		       double load_s, const char *preset)
{
	static const char *schedules[] = {"const", "step", "cosine"};
	printf("{\"dataset\": ");
	json_string(stdout, dir);
	printf(", \"n_train\": %zu, \"n_test\": %zu, \"validation\": %zu, \"d\": %zu, \"k\": %zu", train->n - p->validation,
	       test->n, p->validation, m->d, m->k);
	printf(", \"solver\": \"%s\", \"preset\": ", p->solver == SOFTREG_SOLVER_LBFGS ? "lbfgs" : "sgd");
	json_string(stdout, preset ? preset : "");
	printf(", \"epochs\": %u, \"batch\": %zu, \"lr\": %.9g, \"momentum\": %.9g, \"l2\": %.9g", rep->epochs_run, p->batch,
	       p->lr, p->momentum, p->l2);
	printf(", \"schedule\": \"%s\", \"standardize\": %s, \"kernel\": \"%s\", \"threads\": %d, \"seed\": %llu",
	       schedules[p->schedule], m->prep == SOFTREG_PREP_STANDARDIZE ? "true" : "false", p->kernel->name, threads,
	       (unsigned long long)p->seed);
	printf(", \"blas_core\": ");
	json_string(stdout, softreg_blas_corename());
	printf(", \"load_seconds\": %.6f, \"train_seconds\": %.6f, \"iterations\": %llu", load_s, rep->train_seconds,
	       (unsigned long long)rep->iterations);
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

int cmd_train(int argc, char **argv)
{
	static const char *const solvers[] = {"sgd", "lbfgs", NULL};
	static const char *const schedules[] = {"const", "step", "cosine", NULL};
	static const char *const kernels[] = {"blas", "naive", NULL};
	static const char *const presets[] = {"seed", NULL};
	struct softreg_params p;
	softreg_params_default(&p);
	const char *dir = default_data_dir(), *out = NULL, *metrics = NULL, *trace_path = NULL, *resume = NULL;
	const char *preset = NULL;
	bool json = false, quiet = false, standardize = false, epochs_set = false, l2_set = false;
	int threads = 0, solver = 0, schedule = 2, kernel = 0, pre = -1;
	struct ctx c = {0};

	/* the preset first, so that explicit flags override it */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc && strcmp(argv[i + 1], "seed") == 0)
			pre = 0;
		else if (strcmp(argv[i], "--preset=seed") == 0)
			pre = 0;
	if (pre == 0) {
		softreg_params_seed_preset(&p);
		schedule = (int)p.schedule;
	}

	struct args a;
	args_init(&a, "train", argc, argv);
	for (const char *f; (f = args_next(&a));) {
		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			fputs(help, stdout);
			return EXIT_OK;
		} else if (!strcmp(f, "--data")) {
			args_string(&a, &dir);
		} else if (!strcmp(f, "--epochs") || !strcmp(f, "--max-iter")) {
			args_u32(&a, 1, 1000000, &p.epochs);
			epochs_set = true;
		} else if (!strcmp(f, "--batch")) {
			args_size(&a, 1, 1u << 24, &p.batch);
		} else if (!strcmp(f, "--lr")) {
			args_double(&a, 0, 1e6, true, &p.lr);
		} else if (!strcmp(f, "--momentum")) {
			args_double(&a, 0, 0.999999, false, &p.momentum);
		} else if (!strcmp(f, "--l2") || !strcmp(f, "--weight-decay")) {
			args_double(&a, 0, 1e6, false, &p.l2);
			l2_set = true;
		} else if (!strcmp(f, "--schedule")) {
			args_choice(&a, schedules, &schedule);
		} else if (!strcmp(f, "--solver")) {
			args_choice(&a, solvers, &solver);
		} else if (!strcmp(f, "--history")) {
			args_int(&a, 1, 1000, &p.history);
		} else if (!strcmp(f, "--tol")) {
			args_double(&a, 0, 1e6, false, &p.tol);
		} else if (!strcmp(f, "--seed")) {
			args_u64(&a, &p.seed);
		} else if (!strcmp(f, "--no-shuffle")) {
			p.shuffle = 0;
		} else if (!strcmp(f, "--validation")) {
			args_size(&a, 1, (size_t)1 << 31, &p.validation);
		} else if (!strcmp(f, "--early-stop")) {
			args_u32(&a, 1, 1000000, &p.early_stop);
		} else if (!strcmp(f, "--kernel")) {
			args_choice(&a, kernels, &kernel);
		} else if (!strcmp(f, "--threads")) {
			args_int(&a, 1, 1024, &threads);
		} else if (!strcmp(f, "--eval-every")) {
			args_u32(&a, 0, 1000000, &p.eval_every);
		} else if (!strcmp(f, "--preset")) {
			int x = -1;
			args_choice(&a, presets, &x);
			preset = "seed";
		} else if (!strcmp(f, "--standardize")) {
			standardize = true;
		} else if (!strcmp(f, "--out")) {
			args_string(&a, &out);
		} else if (!strcmp(f, "--metrics")) {
			args_string(&a, &metrics);
		} else if (!strcmp(f, "--trace")) {
			args_string(&a, &trace_path);
		} else if (!strcmp(f, "--checkpoint")) {
			args_string(&a, &c.checkpoint);
		} else if (!strcmp(f, "--resume")) {
			args_string(&a, &resume);
		} else if (!strcmp(f, "--json")) {
			json = true;
		} else if (!strcmp(f, "--quiet") || !strcmp(f, "-q")) {
			quiet = true;
		} else if (args_is_flag(f)) {
			return usage_error("train", "unknown option '%s'", f);
		} else {
			return usage_error("train", "unexpected argument '%s'", f);
		}
		if (a.inline_value && (!strcmp(f, "--no-shuffle") || !strcmp(f, "--standardize") ||
				       !strcmp(f, "--json") || !strcmp(f, "--quiet")))
			return usage_error("train", "%s takes no value", f);
	}
	if (a.failed)
		return EXIT_USAGE;
	p.solver = (enum softreg_solver)solver;
	p.schedule = (enum softreg_schedule)schedule;
	p.kernel = kernel ? &softreg_kernel_naive : &softreg_kernel_blas;
	if (p.solver == SOFTREG_SOLVER_LBFGS) {
		if (!epochs_set)
			p.epochs = 1000;
		if (!l2_set)
			p.l2 = 1e-4;
		if (resume || c.checkpoint)
			return usage_error("train", "--checkpoint and --resume apply to the SGD solver");
		if (p.early_stop)
			return usage_error("train", "--early-stop applies to the SGD solver");
	}
	if (p.early_stop && !p.validation)
		return usage_error("train", "--early-stop needs --validation N");
	if (preset && standardize)
		return usage_error("train", "--preset seed uses raw pixels; drop --standardize");
	const char *why = softreg_check_params(&p);
	if (why)
		return usage_error("train", "%s", why);
	threads = softreg_set_threads(threads);

	/* load */
	double t0 = cli_now();
	struct softreg_dataset train, test;
	char err[SOFTREG_ERRLEN];
	if (softreg_dataset_load_dir(dir, max_bytes_from_env(), &train, &test, err))
		return runtime_error("%s", err);
	double load_s = cli_now() - t0;
	int rc = EXIT_RUNTIME;
	struct softreg_model *m = NULL;
	struct softreg_train_state *state = NULL;
	struct trace tr = {0};
	if (p.validation >= train.n) {
		rc = usage_error("train", "--validation %zu must be below the %zu training images", p.validation, train.n);
		goto out;
	}
	if (resume) {
		if (softreg_model_load(resume, &m, &state, err)) {
			runtime_error("%s", err);
			goto out;
		}
		if (!state) {
			runtime_error("%s: a model, not a checkpoint (write one with --checkpoint)", resume);
			goto out;
		}
		if (softreg_model_check_data(m, &train, resume, err)) {
			runtime_error("%s", err);
			goto out;
		}
		if (state->epochs_done >= p.epochs) {
			runtime_error("%s: already trained %u epochs; ask for more with --epochs", resume, state->epochs_done);
			goto out;
		}
	} else {
		m = softreg_model_alloc((size_t)train.max_label + 1, train.rows, train.cols);
		state = softreg_train_state_alloc((size_t)train.max_label + 1, train.d);
		if (!m || !state) {
			runtime_error("out of memory for a model of %zux%zu", (size_t)train.max_label + 1, train.d);
			goto out;
		}
		if (preset)
			m->scale = 1.0f;
		else if (standardize) {
			/* statistics of the training rows only: the validation rows stay unseen */
			struct softreg_dataset fit = train;
			fit.n -= p.validation;
			softreg_model_standardize(m, &fit);
		}
	}
	if (softreg_model_check_data(m, &test, "test data", err)) {
		runtime_error("%s", err);
		goto out;
	}

	c.m = m;
	c.state = state;
	c.history_cap = p.epochs;
	c.history = calloc(p.epochs, sizeof(*c.history));
	if (!c.history) {
		runtime_error("out of memory");
		goto out;
	}
	if (trace_path) {
		size_t n = train.n - p.validation, B = p.batch < n ? p.batch : n;
		uint64_t total = p.solver == SOFTREG_SOLVER_LBFGS ? p.epochs : (uint64_t)p.epochs * ((n + B - 1) / B);
		tr.kd1 = m->k * m->d + m->k;
		const char *mb = getenv("SOFTREG_TRACE_MB");
		uint64_t limit = (mb && atoll(mb) > 0 ? (uint64_t)atoll(mb) : 512) << 20;
		uint64_t per = tr.kd1 * sizeof(float) + 24;
		uint64_t fit = limit / per ? limit / per : 1;
		tr.stride = (size_t)((total + fit - 1) / fit);
		tr.stride = tr.stride ? tr.stride : 1;
		tr.total = total;
		tr.cap = (size_t)((total + tr.stride - 1) / tr.stride) + (tr.stride > 1);
		tr.iteration = malloc(tr.cap * sizeof(uint64_t));
		tr.epoch = malloc(tr.cap * sizeof(uint32_t));
		tr.loss = malloc(tr.cap * sizeof(double));
		tr.snap = malloc(tr.cap * tr.kd1 * sizeof(float));
		if (!tr.iteration || !tr.epoch || !tr.loss || !tr.snap) {
			runtime_error("out of memory for the trace (set $SOFTREG_TRACE_MB lower)");
			goto out;
		}
		c.tr = &tr;
		p.on_iter = on_iter;
	}
	if (metrics)
		p.eval_train = 1;
	progress_init(&c.prog, quiet);
	p.progress = on_progress;
	p.user = &c;
	p.stop = &stop_flag;
	struct sigaction sa = {0};
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);

	struct softreg_report rep;
	enum softreg_result r = softreg_train(m, &train, &test, &p, state, &rep, err);
	signal(SIGINT, SIG_DFL);
	if (c.ckpt_failed) {
		runtime_error("%s", c.ckpt_err);
		goto out;
	}
	if (r == SOFTREG_ERR_INTERRUPTED) {
		if (c.checkpoint) {
			m->epochs = state->epochs_done;
			if (softreg_model_save(m, state, c.checkpoint, err)) {
				runtime_error("%s", err);
				goto out;
			}
			fprintf(stderr, "softreg: %s; checkpoint written to %s\n", err, c.checkpoint);
		} else {
			fprintf(stderr, "softreg: %s; no checkpoint written (use --checkpoint FILE)\n", err);
		}
		rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (r) {
		runtime_error("%s", err);
		goto out;
	}
	if (rep.objective < 0) {
		softreg_objective(m, &train, train.n - p.validation, p.l2, NULL, &rep.objective, NULL, err);
		float *g = malloc((m->k * m->d + m->k) * sizeof(float));
		if (g)
			softreg_objective(m, &train, train.n - p.validation, p.l2, g, &rep.objective, &rep.grad_norm, err);
		free(g);
	}
	if (out && softreg_model_save(m, NULL, out, err)) {
		runtime_error("%s", err);
		goto out;
	}
	if (metrics && write_metrics(metrics, &c))
		goto out;
	if (trace_path) {
		if (tr.failed) {
			runtime_error("%s: the trace overflowed its buffer", trace_path);
			goto out;
		}
		if (write_trace(trace_path, &tr, m))
			goto out;
	}
	if (json)
		print_json(&c, dir, &train, &test, &p, &rep, m, threads, load_s, preset);
	else
		printf("test accuracy %.2f%%  (%u %s%s, train %.3f s, load %.3f s, %d threads, %s kernel)\n",
		       100 * rep.test_accuracy, rep.epochs_run, p.solver == SOFTREG_SOLVER_LBFGS ? "iteration" : "epoch", rep.epochs_run == 1 ? "" : "s",
		       rep.train_seconds, load_s, threads, p.kernel->name);
	rc = EXIT_OK;
out:
	free(c.history);
	free(tr.iteration);
	free(tr.epoch);
	free(tr.loss);
	free(tr.snap);
	softreg_model_free(m);
	softreg_train_state_free(state);
	softreg_dataset_free(&train);
	softreg_dataset_free(&test);
	return rc;
}
