/* SPDX-License-Identifier: MIT
 * cmd_info.c: softreg info: version, BLAS, threads, CPU. */
#include "cli.h"
#include "dist_cli.h"

#include <stdlib.h>
#include <string.h>

#ifndef SOFTREG_GIT
#define SOFTREG_GIT "unknown"
#endif

static const char usage[] =
	"usage: softreg info [--json]\n"
	"\n"
	"Print the version, the BLAS in use (configuration, core, threading model), the thread\n"
	"count, the CPU and its SIMD features, the kernels, the OPENBLAS_* environment, and whether\n"
	"MPI is built in (under mpirun: the process count).\n"
	"\n";

struct info_opts {
	bool json;
};

static const struct opt table[] = {
	{OPT_FLAG, "--json", NULL, NULL, offsetof(struct info_opts, json), 0, 0, false, NULL, "print one JSON object"},
	{OPT_END, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};

int cmd_info(int argc, char **argv)
{
	struct info_opts o = {0};
	struct opt_seen seen = {0};
	int rc = opts_parse("info", usage, table, &o, argc, argv, &seen);
	if (rc)
		return rc == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	bool json = o.json;
	char cpu[256], feat[256];
	softreg_cpu_model(cpu, sizeof(cpu));
	softreg_cpu_features(feat, sizeof(feat));
	const char *coretype = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
	const char *nocpu = getenv("SOFTREG_DISABLE_CPU_FEATURES");
	const char *note = softreg_blas_core_note();
	int threads = softreg_set_threads(cli_default_threads());
	int procs = softreg_dist_size(cli_dist);
	double most;
	size_t min_batch;
	softreg_sparse_rule(&most, &min_batch);
	if (json) {
		printf("{\"version\": \"%s\", \"git\": ", SOFTREG_VERSION_STRING);
		json_string(stdout, SOFTREG_GIT);
		printf(", \"blas_config\": ");
		json_string(stdout, softreg_blas_config());
		printf(", \"blas_core\": ");
		json_string(stdout, softreg_blas_corename());
		printf(", \"blas_parallel\": \"%s\", \"threads\": %d, \"cpu\": ", softreg_blas_parallel(), threads);
		json_string(stdout, cpu);
		printf(", \"simd\": ");
		json_string(stdout, feat);
		printf(", \"OPENBLAS_CORETYPE\": ");
		json_string(stdout, coretype ? coretype : "");
		printf(", \"OPENBLAS_L2_SIZE\": ");
		json_string(stdout, l2 ? l2 : "");
		printf(", \"warning\": ");
		json_string(stdout, note ? note : "");
		printf(", \"sparse_path\": \"%s\", \"SOFTREG_DISABLE_CPU_FEATURES\": ", softreg_sparse_path());
		json_string(stdout, nocpu ? nocpu : "");
		printf(", \"sparse_density\": %g, \"sparse_min_batch\": %zu", most, min_batch);
		printf(", \"mpi\": %s, \"processes\": %d", softreg_mpi_built() ? "true" : "false", procs);
		printf(", \"kernels\": {");
		for (size_t i = 0; softreg_kernels[i]; i++) {
			printf("%s\"%s\": [", i ? ", " : "", softreg_kernels[i]->name);
			for (int kind = 0, n = 0; kind < SOFTREG_SOURCE_KINDS; kind++)
				if (softreg_kernel_takes(softreg_kernels[i], (enum softreg_source_kind)kind))
					printf("%s\"%s\"", n++ ? ", " : "", softreg_source_name((enum softreg_source_kind)kind));
			printf("]");
		}
		printf("}}\n");
	} else {
		printf("softreg      %s (%s)\n", SOFTREG_VERSION_STRING, SOFTREG_GIT);
		printf("blas         %s\n", softreg_blas_config());
		printf("blas core    %s\n", softreg_blas_corename());
		printf("blas threads %s\n", softreg_blas_parallel());
		printf("threads      %d\n", threads);
		printf("cpu          %s\n", cpu);
		printf("simd         %s\n", feat);
		printf("env          OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s SOFTREG_DISABLE_CPU_FEATURES=%s\n",
		       coretype ? coretype : "(unset)", l2 ? l2 : "(unset)", nocpu ? nocpu : "(unset)");
		printf("sparse       %s loops; --kernel auto: dense data with at most %g%% nonzeros goes to CSR "
		       "(batches >= %zu; the rule for %s BLAS kernels)\n",
		       softreg_sparse_path(), 100 * most, min_batch,
		       min_batch == SOFTREG_SPARSE_MIN_BATCH_AVX512 ? "AVX-512" : "AVX2");
		if (softreg_mpi_built())
			printf("mpi          built in; %d process%s%s\n", procs, procs == 1 ? "" : "es",
			       procs == 1 ? " (mpirun -np N softreg train ... for more)" : "");
		else
			printf("mpi          not built in (-Dmpi=enabled and Open MPI's libopenmpi-dev)\n");
		for (size_t i = 0; softreg_kernels[i]; i++) {
			printf("%s %-7s", i ? "            " : "kernels     ", softreg_kernels[i]->name);
			for (int kind = 0; kind < SOFTREG_SOURCE_KINDS; kind++)
				if (softreg_kernel_takes(softreg_kernels[i], (enum softreg_source_kind)kind))
					printf(" %s", softreg_source_name((enum softreg_source_kind)kind));
			printf("  (%s)\n", softreg_kernels[i]->about);
		}
		if (note)
			fprintf(stderr, "softreg: warning: %s\n", note);
	}
	return EXIT_OK;
}
