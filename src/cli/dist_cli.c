/* SPDX-License-Identifier: MIT
 * dist_cli.c: the program under mpirun: see dist_cli.h. */
#include "dist_cli.h"
#include "cli.h"

#include <fcntl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct softreg_dist *cli_dist;

bool cli_rank0(void)
{
	return softreg_dist_rank(cli_dist) == 0;
}

int cli_dist_begin(int *argc, char ***argv)
{
	char err[SOFTREG_ERRLEN];
	cli_dist = softreg_dist_init(argc, argv, err);
	if (!cli_dist)
		return runtime_error("%s", err);
	if (!cli_rank0()) { /* one process speaks for all */
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			fflush(stdout);
			fflush(stderr);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	return 0;
}

void cli_dist_end(void)
{
	softreg_dist_free(cli_dist);
	cli_dist = NULL;
}

void capture_begin(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	if (softreg_dist_size(cli_dist) < 2)
		return;
	FILE *f = open_memstream(&c->buf, &c->len);
	if (!f)
		return;
	fflush(stderr);
	c->saved = stderr;
	stderr = f;
}

int capture_agree(struct capture *c, int rc)
{
	if (!c->saved)
		return rc;
	fclose(stderr);
	stderr = c->saved;
	char err[SOFTREG_ERRLEN] = "";
	if (c->buf) { /* the first line, without its "softreg: " */
		const char *s = strncmp(c->buf, "softreg: ", 9) == 0 ? c->buf + 9 : c->buf;
		size_t n = strcspn(s, "\n");
		snprintf(err, sizeof(err), "%.*s", (int)(n < sizeof(err) - 1 ? n : sizeof(err) - 1), s);
	}
	free(c->buf);
	memset(c, 0, sizeof(*c));
	if (rc && !*err)
		snprintf(err, sizeof(err), "failed with status %d", rc);
	rc = (int)softreg_dist_agree(cli_dist, (enum softreg_result)rc, err);
	/* a collective read agreed already: "rank 0: rank 2: ..." says "rank 2: ..." */
	const char *msg = err;
	int a, b, at = 0;
	if (sscanf(err, "rank %d: rank %d: %n", &a, &b, &at) == 2 && at > 0)
		msg = strstr(err, ": ") + 2;
	if (rc && cli_rank0())
		fprintf(stderr, "softreg: %s\n", msg);
	return rc;
}

int cli_default_threads(void)
{
	int cores = omp_get_num_procs();
	const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
	int per = local ? atoi(local) : 1;
	if (softreg_dist_size(cli_dist) > 1 && per > 1)
		cores /= per;
	return cores > 0 ? cores : 1;
}
