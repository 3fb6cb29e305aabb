/* SPDX-License-Identifier: MIT
 * args.c: strict flag parsing shared by every command (strtol/strtod with
 * endptr, errno and range checks), and the one-line error printers. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void args_init(struct args *a, const char *cmd, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
	a->cmd = cmd;
	a->i = 1;
}

bool args_is_flag(const char *s)
{
	return s[0] == '-' && s[1] != '\0';
}

static bool parse_u64(const char *v, uint64_t *out);

/* $SOFTREG_MAX_BYTES, when set, is a positive integer; checked once the
 * flags are parsed, so that a typo is a usage error rather than a silent
 * fallback to the default limit */
static bool env_ok(struct args *a)
{
	const char *e = getenv("SOFTREG_MAX_BYTES");
	uint64_t x;
	if (!e || (parse_u64(e, &x) && x > 0))
		return true;
	usage_error(a->cmd, "$SOFTREG_MAX_BYTES must be a positive integer (bytes), got '%s'", e);
	return false;
}

const char *args_next(struct args *a)
{
	static char name[64];
	if (!a->failed && a->inline_value) { /* args_value() takes it; a flag without a value did not */
		usage_error(a->cmd, "%s takes no value", a->flag);
		a->failed = true;
	}
	if (!a->failed && a->i >= a->argc && !env_ok(a))
		a->failed = true;
	if (a->failed || a->i >= a->argc)
		return NULL;
	const char *s = a->argv[a->i++];
	a->inline_value = NULL;
	a->flag = s;
	if (s[0] == '-' && s[1] == '-') {
		const char *eq = strchr(s, '=');
		if (eq && (size_t)(eq - s) < sizeof(name)) {
			memcpy(name, s, (size_t)(eq - s));
			name[eq - s] = '\0';
			a->inline_value = eq + 1;
			a->flag = name;
			return name;
		}
	}
	return s;
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

const char *args_value(struct args *a)
{
	if (a->inline_value) {
		const char *v = a->inline_value;
		a->inline_value = NULL; /* taken */
		return v;
	}
	if (a->i >= a->argc) {
		usage_error(a->cmd, "%s needs a value", a->flag);
		a->failed = true;
		return NULL;
	}
	return a->argv[a->i++];
}

static void bad(struct args *a, const char *v, const char *what)
{
	usage_error(a->cmd, "%s must be %s, got '%s'", a->flag, what, v);
	a->failed = true;
}

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

void args_u64(struct args *a, uint64_t *out)
{
	const char *v = args_value(a);
	if (v && !parse_u64(v, out))
		bad(a, v, "a non-negative integer");
}

void args_size(struct args *a, size_t min, size_t max, size_t *out)
{
	const char *v = args_value(a);
	uint64_t x;
	char what[96];
	snprintf(what, sizeof(what), "an integer in [%zu, %zu]", min, max);
	if (v && (!parse_u64(v, &x) || x < min || x > max))
		bad(a, v, what);
	else if (v)
		*out = (size_t)x;
}

void args_u32(struct args *a, uint32_t min, uint32_t max, uint32_t *out)
{
	size_t x = *out;
	args_size(a, min, max, &x);
	*out = (uint32_t)x;
}

void args_int(struct args *a, int min, int max, int *out)
{
	size_t x = *out > 0 ? (size_t)*out : 0;
	args_size(a, min > 0 ? (size_t)min : 0, max > 0 ? (size_t)max : 0, &x); /* counts: never negative */
	*out = (int)x;
}

/* a plain decimal number: [sign] digits [. digits] [e [sign] digits]; no
 * space, no hex, no inf or nan (strtod takes all of those) */
static bool is_decimal(const char *v)
{
	if (*v == '+' || *v == '-')
		v++;
	if (!isdigit((unsigned char)*v) && !(*v == '.' && isdigit((unsigned char)v[1])))
		return false;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v) && !strchr(".eE+-", *v))
			return false;
	return true;
}

void args_double(struct args *a, double min, double max, bool min_open, double *out)
{
	const char *v = args_value(a);
	if (!v)
		return;
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	char what[96];
	snprintf(what, sizeof(what), "a number in %s%g, %g]", min_open ? "(" : "[", min, max);
	if (!is_decimal(v) || *end || errno || !isfinite(x) || x > max || (min_open ? x <= min : x < min))
		bad(a, v, what);
	else
		*out = x;
}

void args_string(struct args *a, const char **out)
{
	const char *v = args_value(a);
	if (v && !*v)
		bad(a, v, "non-empty");
	else if (v)
		*out = v;
}

void args_choice(struct args *a, const char *const *choices, int *out)
{
	const char *v = args_value(a);
	if (!v)
		return;
	char what[256] = "one of";
	for (int i = 0; choices[i]; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return;
		}
		strncat(what, i ? ", " : " ", sizeof(what) - strlen(what) - 1);
		strncat(what, choices[i], sizeof(what) - strlen(what) - 1);
	}
	bad(a, v, what);
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
