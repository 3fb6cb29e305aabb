/* SPDX-License-Identifier: MIT
 * main.c: the softreg program: pick the command, hand it argv. */
#include "cli.h"
#include "dist_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: softreg COMMAND [OPTIONS]\n"
	"\n"
	"Softmax regression on IDX image data (MNIST, Fashion-MNIST, any IDX pair).\n"
	"\n"
	"commands:\n"
	"  train     train a model (SGD or L-BFGS), print test accuracy\n"
	"  eval      accuracy, log-loss, confusion matrix, precision and recall\n"
	"  predict   label and top-K probabilities of IDX or PGM images\n"
	"  show      a digit as text art (or a PGM file), with its label\n"
	"  export    a model's weights as CSV, JSON or .npy\n"
	"  info      version, BLAS, threads, CPU features\n"
	"  sweep     choose l2 on a validation split (warm-started L-BFGS path), refit, test\n"
	"\n"
	"'softreg COMMAND --help' describes each command.\n";

/* OpenMP's threads spin at barriers by default (libgomp: 300000 rounds).
 * When another process holds a core, a spinning thread waits a whole
 * scheduler tick for its partner at every batch: the default training then
 * took 9.7 s instead of 0.08 s here. Sleeping at once ("passive") costs a
 * futex wake-up at every barrier, which at batch 256 made two threads slower
 * than one. So the threads spin SPINCOUNT rounds of a pause instruction
 * (tens of microseconds: a batch's gap between barriers), then sleep: a
 * barrier of an idle machine costs what spinning costs, one of a busy machine
 * at most the spin. SGD also times one thread against all on the first
 * batches of each epoch and keeps the faster (train.c). libgomp reads its
 * settings once, at load, hence the re-exec. Setting OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT keeps the user's choice. */
#define SPINCOUNT "1000"
static void bounded_spin_waits(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT"))
		return;
	if (setenv("GOMP_SPINCOUNT", SPINCOUNT, 0) != 0)
		return;
	execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
}

/* What reached stdout: a full device or a closed stdout is an error (exit 1),
 * not a silent success. */
static int check_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		fprintf(stderr, "softreg: stdout: write error: %s\n", strerror(e ? e : EIO));
		return rc == EXIT_OK ? EXIT_RUNTIME : rc;
	}
	return rc;
}

int main(int argc, char **argv)
{
	bounded_spin_waits(argv);
	/* past a file size limit, write() fails with EFBIG (reported, the
	 * temporary file removed) instead of the process being killed */
	signal(SIGXFSZ, SIG_IGN);
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"train", cmd_train}, {"eval", cmd_eval},     {"predict", cmd_predict},
		    {"show", cmd_show},   {"info", cmd_info},     {"export", cmd_export},
		    {"sweep", cmd_sweep}};
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("softreg %s\n", SOFTREG_VERSION_STRING);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0) {
			/* under mpirun every process runs the command; rank 0 alone prints */
			int rc = cli_dist_begin(&argc, &argv);
			if (rc == 0)
				rc = check_stdout(cmds[i].fn(argc - 1, argv + 1));
			cli_dist_end();
			return rc;
		}
	}
	fprintf(stderr, "softreg: unknown command '%s' (see softreg --help)\n", argv[1]);
	return EXIT_USAGE;
}
