/* SPDX-License-Identifier: MIT
 * cli.h: what the softreg commands share: flag parsing, output helpers. */
#ifndef SOFTREG_CLI_H
#define SOFTREG_CLI_H

#include "opts.h"
#include "softreg.h"

#include <stdbool.h>
#include <stdio.h>

/* exit statuses (DESIGN.md) */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* a usage error unless $SOFTREG_MAX_BYTES is unset or a positive integer */
int cli_env_check(const char *cmd);

/* a usage error: "softreg: CMD: MESSAGE (see softreg CMD --help)"; returns EXIT_USAGE */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a runtime error: "softreg: MESSAGE"; returns EXIT_RUNTIME */
int runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* the data folder: --data, else $SOFTREG_DATA, else data/mnist */
const char *default_data_dir(void);
/* $SOFTREG_MAX_BYTES or 0 (the library's default) */
uint64_t max_bytes_from_env(void);

/* An output built in memory and saved atomically (out.c): out_begin() gives
 * the stream to print to; out_commit() saves it to 'path' (a one-line error
 * printed; returns EXIT_RUNTIME) and frees it; out_abandon() frees it. */
struct out_file {
	FILE *f;
	char *buf;
	size_t len;
};
FILE *out_begin(struct out_file *o);
int out_commit(struct out_file *o, const char *path);
void out_abandon(struct out_file *o);
/* SIGINT, SIGTERM and SIGHUP (batch schedulers send SIGTERM before they kill)
 * set 'stop_signal' to their number, for training to stop after the current
 * batch; a second one ends the process at once. catch_stop_signals(false)
 * restores the default actions. */
#include <signal.h>
extern volatile sig_atomic_t stop_signal;
void catch_stop_signals(bool on);

/* softreg_save_file() and softreg_model_save() with SIGINT, SIGTERM and SIGHUP
 * held back until the save is done */
enum softreg_result save_file(const char *path, const void *buf, size_t len, char *err);
enum softreg_result save_model(const struct softreg_model *m, const struct softreg_train_state *s, const char *path,
			       char *err);
/* Before any work: each of the n output 'paths' (NULL: not asked for) can be
 * written, and no two name the same file. A usage error names the flag;
 * returns 0 or EXIT_USAGE. */
int check_outputs(const char *cmd, const char *const *paths, const char *const *flags, size_t n);

/* EXIT_RUNTIME (one line printed) when an address-space limit leaves too
 * little room for the BLAS buffers of 'threads' threads (aslimit.c), else 0 */
int check_blas_headroom(int threads);

/* json helpers: a string with escapes */
void json_string(FILE *f, const char *s);

/* progress reporting for train (progress.c) */
struct progress {
	bool tty, quiet;
	double last_draw;
	double start;
};
/* CLOCK_MONOTONIC in seconds */
double cli_now(void);
void progress_init(struct progress *p, bool quiet);
void progress_batch(struct progress *p, const struct softreg_epoch_info *info);
void progress_epoch(struct progress *p, const struct softreg_epoch_info *info);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sweep(int argc, char **argv);

#endif
