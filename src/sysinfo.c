/* SPDX-License-Identifier: MIT
 * sysinfo.c: what `softreg info` and the bench report about the machine. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void softreg_cpu_model(char *buf, size_t size)
{
	snprintf(buf, size, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *v = strchr(line, ':');
			if (v) {
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				v[strcspn(v, "\n")] = '\0';
				snprintf(buf, size, "%s", v);
			}
			break;
		}
	}
	fclose(f);
}

void softreg_cpu_features(char *buf, size_t size)
{
	buf[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
	static const char *names[] = {"sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
				      "avx512dq", "avx512vnni"};
	__builtin_cpu_init();
	bool has[9] = {
		__builtin_cpu_supports("sse4.2"),   __builtin_cpu_supports("avx"),      __builtin_cpu_supports("avx2"),
		__builtin_cpu_supports("fma"),      __builtin_cpu_supports("avx512f"),  __builtin_cpu_supports("avx512bw"),
		__builtin_cpu_supports("avx512vl"), __builtin_cpu_supports("avx512dq"), __builtin_cpu_supports("avx512vnni")};
	size_t len = 0;
	for (int i = 0; i < 9; i++)
		if (has[i] && len + strlen(names[i]) + 2 < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "", names[i]);
#else
	snprintf(buf, size, "unknown");
#endif
}

const char *softreg_blas_core_note(void)
{
	static char note[256];
	const char *forced = getenv("OPENBLAS_CORETYPE");
	const char *core = softreg_blas_corename();
	if (!forced || !*forced || !core)
		return NULL;
#if defined(__x86_64__)
	__builtin_cpu_init();
	bool cpu512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	static const char *cores512[] = {"skylakex", "cooperlake", "sapphirerapids", NULL};
	bool core512 = false;
	for (int i = 0; cores512[i]; i++)
		core512 |= strcasecmp(core, cores512[i]) == 0;
	if (cpu512 && !core512) {
		snprintf(note, sizeof(note),
			 "OPENBLAS_CORETYPE=%s makes OpenBLAS use its %s kernels; this CPU offers AVX-512 "
			 "(SkylakeX/Cooperlake kernels)",
			 forced, core);
		return note;
	}
#endif
	return NULL;
}
