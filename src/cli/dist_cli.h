/* SPDX-License-Identifier: MIT
 * dist_cli.h: the program under mpirun (dist_cli.c): the processes of the
 * run, only rank 0 printing, and one error line for a failure on any rank. */
#ifndef SOFTREG_DIST_CLI_H
#define SOFTREG_DIST_CLI_H

#include "softreg.h"

#include <stdbool.h>
#include <stdio.h>

/* the processes of this run (a group of one outside mpirun); set by main() */
extern struct softreg_dist *cli_dist;

/* whether this process prints and writes files: rank 0 */
bool cli_rank0(void);

/* main(): join the processes (prints and returns EXIT_RUNTIME when MPI cannot
 * start); on ranks other than 0, stdout and stderr go to /dev/null.
 * cli_dist_end(): leave them. */
int cli_dist_begin(int *argc, char ***argv);
void cli_dist_end(void);

/* Around work that may fail on one process only (reading its data): what
 * the process prints to stderr is held back; capture_agree() makes every
 * process agree on the lowest rank that failed (its status 'rc'), rank 0
 * prints that rank's first line as "softreg: rank R: ...", and every process
 * returns that status (0 when none failed). One process: nothing is held. */
struct capture {
	FILE *saved;
	char *buf;
	size_t len;
};
void capture_begin(struct capture *c);
int capture_agree(struct capture *c, int rc);

/* the default thread count of a process: the cores, shared among the
 * processes of this node under mpirun */
int cli_default_threads(void);

#endif
