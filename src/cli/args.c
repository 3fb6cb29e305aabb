/* SPDX-License-Identifier: MIT
 * args.c: what the commands share besides the option tables: the one-line
 * error printers, the environment, JSON strings. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* decimal digits only: no sign, no space, no base prefix */
static bool parse_u64(const char *v, uint64_t *out)
{
	if (!isdigit((unsigned char)*v))
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

int cli_env_check(const char *cmd)
{
	const char *e = getenv("SOFTREG_MAX_BYTES");
	uint64_t x;
	if (!e || (parse_u64(e, &x) && x > 0))
		return 0;
	return usage_error(cmd, "$SOFTREG_MAX_BYTES must be a positive integer (bytes), got '%s'", e);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "softreg: %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see softreg %s --help)\n", cmd);
	va_end(ap);
	return EXIT_USAGE;
}

int runtime_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "softreg: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_RUNTIME;
}

const char *default_data_dir(void)
{
	const char *e = getenv("SOFTREG_DATA");
	return e && *e ? e : "data/mnist";
}

uint64_t max_bytes_from_env(void)
{
	const char *e = getenv("SOFTREG_MAX_BYTES");
	uint64_t x;
	return e && parse_u64(e, &x) ? x : 0;
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
