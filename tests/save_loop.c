/* SPDX-License-Identifier: MIT
 * save_loop.c: save two different models to one path, alternately, forever
 * (until killed). test_checkpoint.sh kills it with SIGKILL at random moments
 * and checks that the file on disk always loads. */
#include "softreg.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: save_loop PATH\n");
		return 2;
	}
	/* a model of 10 x 784 plus a checkpoint state: the size of a real one */
	struct softreg_model *m = softreg_model_alloc(10, 28, 28);
	struct softreg_train_state *s = softreg_train_state_alloc(10, 784);
	if (!m || !s)
		return 1;
	softreg_rng_seed(&s->rng, 1);
	char err[SOFTREG_ERRLEN];
	for (unsigned long i = 0;; i++) {
		for (size_t j = 0; j < m->k * m->d; j++)
			m->W[j] = (float)((i + j) % 97) / 97.0f;
		s->iterations = i;
		if (softreg_model_save(m, (i & 1) ? s : NULL, argv[1], err)) {
			fprintf(stderr, "save_loop: %s\n", err);
			return 1;
		}
		if (i == 0) {
			printf("ready\n");
			fflush(stdout);
		}
	}
}
