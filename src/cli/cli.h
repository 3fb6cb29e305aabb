/* SPDX-License-Identifier: MIT
 * cli.h: what the softreg commands share: flag parsing, output helpers. */
#ifndef SOFTREG_CLI_H
#define SOFTREG_CLI_H

#include "softreg.h"

#include <stdbool.h>
#include <stdio.h>

/* exit statuses (DESIGN.md) */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

/* A walk over argv of one command. 'cmd' names it in messages. */
struct args {
	int argc, i;
	char **argv;
	const char *cmd;
	const char *flag;   /* the flag being parsed */
	const char *inline_value; /* the VALUE of --flag=VALUE */
	bool failed;
};

void args_init(struct args *a, const char *cmd, int argc, char **argv);
/* the next argument: a flag (its name, e.g. "--epochs") or a positional
 * (returned as is); NULL at the end */
const char *args_next(struct args *a);
bool args_is_flag(const char *s);
/* the value of the current flag; NULL (and an error printed) when missing */
const char *args_value(struct args *a);

/* Parse the current flag's value. Each prints a one-line usage error and
 * sets a->failed on bad input; the range is inclusive. */
void args_u32(struct args *a, uint32_t min, uint32_t max, uint32_t *out);
void args_u64(struct args *a, uint64_t *out);
void args_size(struct args *a, size_t min, size_t max, size_t *out);
void args_double(struct args *a, double min, double max, bool min_open, double *out);
void args_int(struct args *a, int min, int max, int *out);
void args_string(struct args *a, const char **out);
/* a value among 'choices' (NULL-terminated); the index */
void args_choice(struct args *a, const char *const *choices, int *out);

/* a usage error: "softreg: CMD: MESSAGE (see softreg CMD --help)"; returns EXIT_USAGE */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a runtime error: "softreg: MESSAGE"; returns EXIT_RUNTIME */
int runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* the data folder: --data, else $SOFTREG_DATA, else data/mnist */
const char *default_data_dir(void);
/* $SOFTREG_MAX_BYTES or 0 (the library's default) */
uint64_t max_bytes_from_env(void);

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

#endif
