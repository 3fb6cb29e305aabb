/* SPDX-License-Identifier: MIT
 * replay.c: a main() for a fuzz target without libFuzzer: runs
 * LLVMFuzzerTestOneInput() once on every file named (folders: every file in
 * them), so that meson's suites (and their sanitizer build) replay the seed
 * corpus through each target with the usual compiler. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		return 1;
	}
	long n = ftell(f);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	rewind(f);
	if (n < 0 || !buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int run_path(const char *path, int *count)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return ++*count, run_file(path);
	DIR *d = opendir(path);
	if (!d)
		return 1;
	int bad = 0;
	char sub[4096];
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		bad |= run_path(sub, count);
	}
	closedir(d);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0, count = 0;
	for (int i = 1; i < argc; i++)
		bad |= run_path(argv[i], &count);
	printf("replay: %d inputs%s\n", count, bad ? ", some unreadable" : "");
	return bad || count == 0;
}
