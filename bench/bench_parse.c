/* SPDX-License-Identifier: MIT
 * bench_parse.c: the throughput of the libsvm reader (sr_libsvm_read, from a
 * file, streamed). Reads FILE, or generates a ~200 MB file shaped like MNIST
 * in libsvm form (150 nonzeros a row, indices in 1..784, values with 3
 * decimals) in $TMPDIR and removes it afterwards. Prints MB/s, the best of 3
 * runs (the file is in the page cache after the first).
 *
 * usage: bench-parse [FILE] */
#include "../src/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* rows of "label i:0.ddd ..." with 150 distinct increasing indices of 784
 * (selection sampling), until 'bytes' are written */
static int generate(const char *path, size_t bytes)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint64_t s = 1;
	size_t written = 0;
	char line[4096];
	while (written < bytes) {
		int n = snprintf(line, sizeof(line), "%d", (int)(next(&s) % 10));
		size_t need = 150;
		for (size_t j = 0; j < 784 && need; j++) {
			if (next(&s) % (784 - j) >= need)
				continue;
			need--;
			int v = 1 + (int)(next(&s) % 999); /* 0.001 .. 0.999: no zeros, as a sparse file holds none */
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %zu:0.%03d", j + 1, v);
		}
		line[n++] = '\n';
		if (fwrite(line, 1, (size_t)n, f) != (size_t)n)
			break;
		written += (size_t)n;
	}
	return fclose(f) == 0 && written >= bytes ? 0 : -1;
}

int main(int argc, char **argv)
{
	char tmp[512] = "";
	const char *path = argc > 1 ? argv[1] : NULL;
	if (argc > 2 || (path && path[0] == '-')) {
		fprintf(stderr, "usage: bench_parse [FILE]   (no FILE: a generated 200 MB MNIST-like libsvm file)\n");
		return 2;
	}
	if (!path) {
		const char *dir = getenv("TMPDIR");
		snprintf(tmp, sizeof(tmp), "%s/softreg-bench-parse-%ld.svm", dir && *dir ? dir : "/tmp",
			 (long)getpid());
		printf("generating %s ...\n", tmp);
		if (generate(tmp, (size_t)200 << 20) != 0) {
			fprintf(stderr, "bench_parse: cannot write %s\n", tmp);
			unlink(tmp);
			return 1;
		}
		path = tmp;
	}
	int status = 0;
	double best = 1e300;
	size_t bytes = 0;
	for (int run = 0; run < 3; run++) {
		struct softreg_dataset ds;
		char err[SOFTREG_ERRLEN];
		FILE *f;
		if (sr_open_regular(path, &f, &bytes, err) != SOFTREG_OK) {
			fprintf(stderr, "bench_parse: %s\n", err);
			status = 1;
			goto out;
		}
		fclose(f);
		double t0 = sr_now();
		enum softreg_result r = sr_libsvm_read(path, NULL, &ds, err);
		double t = sr_now() - t0;
		if (r != SOFTREG_OK) {
			fprintf(stderr, "bench_parse: %s\n", err);
			status = 1;
			goto out;
		}
		if (run == 0)
			printf("%s: %zu rows, d %zu, %llu nonzeros\n", path, ds.n, ds.d,
			       (unsigned long long)ds.x.indptr[ds.n]);
		softreg_dataset_free(&ds);
		printf("run %d: %.3f s\n", run + 1, t);
		best = t < best ? t : best;
	}
	printf("sr_libsvm_read: %.1f MB in %.3f s: %.1f MB/s (best of 3)\n", (double)bytes / 1e6, best,
	       (double)bytes / 1e6 / best);
out:
	if (tmp[0])
		unlink(tmp);
	return status;
}
