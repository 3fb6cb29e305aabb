/* SPDX-License-Identifier: MIT
 * aslimit.c: under an address-space limit (ulimit -v), OpenBLAS 0.3.21
 * retries a buffer mapping that fails forever, spinning at 100% CPU
 * (OpenBLAS issue 5289, fixed in a later release). It maps its buffers as the
 * library loads, before main(), and again when a GEMM runs on a new thread.
 * So softreg checks the limit twice: in .preinit_array, which runs before
 * any library's initialiser, and before training or evaluating, once the
 * data is in memory; each time a limit too small for what OpenBLAS will map
 * is one line and exit 1, never a hang.
 *
 * The figures, measured with Debian's OpenBLAS 0.3.21 (OpenMP build) on this
 * project's machines: a buffer is 128 MiB plus a little (BUFFER_SIZE); a
 * program linked to OpenBLAS needs an address space of about 40 MiB plus one
 * buffer per OpenBLAS thread to start (173 MiB at 1 thread, 307 MiB at 2),
 * and softreg's training then maps one more buffer per thread. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define BUFFER_MIB 136 /* one OpenBLAS buffer with its alignment, rounded up */
#define START_MIB 48   /* the program and its libraries */

/* the thread count OpenBLAS starts with: its variable, OpenMP's, or the cores */
static long blas_threads(void)
{
	const char *names[] = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"};
	for (int i = 0; i < 2; i++) {
		const char *v = getenv(names[i]);
		long t = v ? strtol(v, NULL, 10) : 0;
		if (t > 0)
			return t;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

/* the limit in MiB, or 0 when there is none */
static unsigned long long limit_mib(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return (unsigned long long)rl.rlim_cur >> 20;
}

/* the address space in use, MiB */
static unsigned long long used_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long pages = 0;
	if (f) {
		if (fscanf(f, "%llu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (unsigned long long)sysconf(_SC_PAGESIZE) >> 20;
}

/* before any library is initialised: async-signal-safe calls only */
static void check_at_start(int argc, char **argv, char **envp)
{
	(void)argc, (void)argv, (void)envp;
	unsigned long long lim = limit_mib(), need = START_MIB + (unsigned long long)blas_threads() * BUFFER_MIB;
	if (lim == 0 || lim >= need)
		return;
	char msg[400];
	int n = snprintf(msg, sizeof(msg),
			 "softreg: the address-space limit (ulimit -v) is %llu MiB; OpenBLAS maps about %llu MiB for %ld "
			 "threads as it starts and would retry forever (OpenBLAS issue 5289): raise the limit or set "
			 "OMP_NUM_THREADS=1\n",
			 lim, need, blas_threads());
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0)
		n = 0;
	_exit(EXIT_RUNTIME);
}

__attribute__((section(".preinit_array"), used)) static void (*const preinit)(int, char **, char **) = check_at_start;

int check_blas_headroom(int threads)
{
	unsigned long long lim = limit_mib();
	if (lim == 0)
		return 0;
	unsigned long long used = used_mib(), need = (unsigned long long)threads * BUFFER_MIB;
	if (lim > used && lim - used >= need)
		return 0;
	return runtime_error("the address-space limit (ulimit -v) of %llu MiB leaves %llu MiB beside the data, and OpenBLAS "
			     "maps %llu MiB of buffers for %d threads, retrying forever when it cannot (OpenBLAS issue "
			     "5289): raise the limit or use --threads 1",
			     lim, lim > used ? lim - used : 0, need, threads);
}
