/* SPDX-License-Identifier: MIT
 * sysinfo.c: what `softreg info` and the bench report about the machine. */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* the value of "key : value" lines of /proc/cpuinfo's first processor */
static bool cpuinfo_value(const char *key, char *out, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	char line[512];
	bool found = false;
	size_t n = strlen(key);
	while (!found && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');
		if (strncmp(line, key, n) != 0 || !v || (line[n] != ' ' && line[n] != '\t' && line[n] != ':'))
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, size, "%s", v);
		found = true;
	}
	fclose(f);
	return found;
}

void softreg_cpu_model(char *buf, size_t size)
{
	char name[256], family[32], model[32];
	if (!cpuinfo_value("model name", name, sizeof(name)))
		snprintf(name, sizeof(name), "unknown");
	/* the family and model numbers tell apart what one marketing name covers
	 * (an "AMD EPYC" VM may be a Zen 3, 4 or 5) */
	if (cpuinfo_value("cpu family", family, sizeof(family)) && cpuinfo_value("model", model, sizeof(model)))
		snprintf(buf, size, "%s (family %s, model %s)", name, family, model);
	else
		snprintf(buf, size, "%s", name);
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
