/* SPDX-License-Identifier: MIT
 * opts.h: command-line options from one table per command (flag, kind,
 * range, help), shared by every softreg command and by softreg-bench. */
#ifndef SOFTREG_OPTS_H
#define SOFTREG_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_kind {
	OPT_END = 0,
	OPT_SECTION, /* a heading in --help; 'name' is its title */
	OPT_FLAG,    /* bool, no value */
	OPT_SIZE,    /* size_t in [min, max] */
	OPT_U32,     /* uint32_t in [min, max] */
	OPT_U64,     /* uint64_t, any */
	OPT_INT,     /* int in [min, max] */
	OPT_DOUBLE,  /* double in [min, max] ((min, max] when min_open) */
	OPT_STRING,  /* const char *, non-empty */
	OPT_CHOICE,  /* int: the index of the value in 'choices' */
};

struct opt {
	enum opt_kind kind;
	const char *name;             /* "--epochs" */
	const char *alias;            /* a second name, or NULL */
	const char *meta;             /* the value's name in --help ("N") */
	size_t offset;                /* of the value in the command's options struct */
	double min, max;
	bool min_open;
	const char *const *choices;   /* OPT_CHOICE: NULL-terminated */
	const char *help;             /* --help text: what it does and its default */
};

#define OPT_MAX 64 /* entries of a table */

struct opt_seen {
	bool given[OPT_MAX];          /* per table entry: given on the command line */
	const char **pos;             /* positional arguments (NULL: none taken) */
	size_t npos;
};

/* Parse argv[1..argc) into 'out' by 'table'. '--help' prints 'usage' and the
 * table's help and returns OPTS_HELP. A bad flag or value prints one line
 * "softreg: CMD: ..." and returns OPTS_USAGE. 'seen->pos', when not NULL,
 * must have room for argc entries and collects positional arguments. */
enum { OPTS_OK = 0, OPTS_HELP = 1, OPTS_USAGE = 2 };
int opts_parse(const char *cmd, const char *usage, const struct opt *table, void *out, int argc, char **argv,
	       struct opt_seen *seen);
/* a decimal integer: digits only (no sign, space or base prefix), no overflow */
bool opts_parse_u64(const char *v, uint64_t *out);

/* whether the option named 'name' was given */
bool opts_given(const struct opt *table, const struct opt_seen *seen, const char *name);
/* the table's help, one line per option, under its sections */
void opts_help(FILE *f, const struct opt *table);

#endif
