/* SPDX-License-Identifier: MIT
 * opts.c: strict, table-driven flag parsing (strtoull/strtod with endptr,
 * errno and range checks) and the --help text made from the same table. */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *cmd, const char *fmt, ...)
{
	/* a command of softreg ("train"), or a program of its own ("softreg-bench") */
	bool program = strncmp(cmd, "softreg-", 8) == 0;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, program ? "%s: " : "softreg: %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, program ? " (see %s --help)\n" : " (see softreg %s --help)\n", cmd);
	va_end(ap);
	return OPTS_USAGE;
}

bool opts_parse_u64(const char *v, uint64_t *out)
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

/* a value for a printable message: at most 60 bytes, control bytes as '?' */
static const char *shown(const char *v, char *buf, size_t size)
{
	size_t i = 0;
	for (; v[i] && i + 4 < size && i < 60; i++)
		buf[i] = (unsigned char)v[i] < 0x20 ? '?' : v[i];
	strcpy(buf + i, v[i] ? "..." : "");
	return buf;
}

/* the flag as the user typed it (an alias, say), for messages */
static const char *typed;

static int bad(const char *cmd, const struct opt *o, const char *v, const char *what)
{
	char buf[80];
	return fail(cmd, "%s must be %s, got '%s'", typed ? typed : o->name, what, shown(v, buf, sizeof(buf)));
}

static int set_value(const char *cmd, const struct opt *o, const char *v, void *out)
{
	char *dst = (char *)out + o->offset, what[160]; /* the message is made only on failure */
	uint64_t x;
	switch (o->kind) {
	case OPT_SIZE:
	case OPT_U32:
	case OPT_INT:
		if (!opts_parse_u64(v, &x) || (double)x < o->min || (double)x > o->max) {
			snprintf(what, sizeof(what), "an integer in [%llu, %llu]", (unsigned long long)o->min,
				 (unsigned long long)o->max);
			return bad(cmd, o, v, what);
		}
		if (o->kind == OPT_SIZE)
			*(size_t *)(void *)dst = (size_t)x;
		else if (o->kind == OPT_U32)
			*(uint32_t *)(void *)dst = (uint32_t)x;
		else
			*(int *)(void *)dst = (int)x;
		return OPTS_OK;
	case OPT_U64:
		if (!opts_parse_u64(v, &x))
			return bad(cmd, o, v, "a non-negative integer");
		*(uint64_t *)(void *)dst = x;
		return OPTS_OK;
	case OPT_DOUBLE: {
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (!is_decimal(v) || *end || errno || !isfinite(d) || d > o->max || (o->min_open ? d <= o->min : d < o->min)) {
			snprintf(what, sizeof(what), "a number in %s%g, %g]", o->min_open ? "(" : "[", o->min, o->max);
			return bad(cmd, o, v, what);
		}
		*(double *)(void *)dst = d;
		return OPTS_OK;
	}
	case OPT_STRING:
		if (!*v)
			return bad(cmd, o, v, "non-empty");
		*(const char **)(void *)dst = v;
		return OPTS_OK;
	case OPT_CHOICE: {
		size_t len = strlen("one of");
		strcpy(what, "one of");
		for (int i = 0; o->choices[i]; i++) {
			if (strcmp(v, o->choices[i]) == 0) {
				*(int *)(void *)dst = i;
				return OPTS_OK;
			}
			len += (size_t)snprintf(what + len, len < sizeof(what) ? sizeof(what) - len : 0, "%s%s", i ? ", " : " ",
						o->choices[i]);
		}
		return bad(cmd, o, v, what);
	}
	default:
		return OPTS_OK;
	}
}

static const struct opt *find(const struct opt *table, const char *name, size_t len, size_t *index)
{
	for (size_t i = 0; table[i].kind != OPT_END; i++) {
		const struct opt *o = &table[i];
		if (o->kind == OPT_SECTION)
			continue;
		if ((strlen(o->name) == len && strncmp(o->name, name, len) == 0) ||
		    (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0)) {
			*index = i;
			return o;
		}
	}
	return NULL;
}

int opts_parse(const char *cmd, const char *usage, const struct opt *table, void *out, int argc, char **argv,
	       struct opt_seen *seen)
{
	seen->npos = 0;
	memset(seen->given, 0, sizeof(seen->given));
	char buf[80];
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			fputs(usage, stdout);
			opts_help(stdout, table);
			return OPTS_HELP;
		}
		if (s[0] != '-' || s[1] == '\0') {
			if (!seen->pos)
				return fail(cmd, "unexpected argument '%s'", shown(s, buf, sizeof(buf)));
			seen->pos[seen->npos++] = s;
			continue;
		}
		const char *eq = s[1] == '-' ? strchr(s, '=') : NULL;
		size_t len = eq ? (size_t)(eq - s) : strlen(s), index;
		const struct opt *o = find(table, s, len, &index);
		char name[64];
		size_t nl = len < 60 ? len : 60;
		memcpy(name, s, nl);
		name[nl] = '\0';
		if (!o)
			return fail(cmd, "unknown option '%s'", shown(name, buf, sizeof(buf)));
		seen->given[index] = true;
		if (o->kind == OPT_FLAG) {
			if (eq)
				return fail(cmd, "%s takes no value", o->name);
			*(bool *)(void *)((char *)out + o->offset) = true;
			continue;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (!v) {
			if (i + 1 >= argc)
				return fail(cmd, "%s needs a value", o->name);
			v = argv[++i];
		}
		typed = name;
		int r = set_value(cmd, o, v, out);
		typed = NULL;
		if (r)
			return r;
	}
	return OPTS_OK;
}

bool opts_given(const struct opt *table, const struct opt_seen *seen, const char *name)
{
	size_t index;
	return find(table, name, strlen(name), &index) && seen->given[index];
}

void opts_help(FILE *f, const struct opt *table)
{
	for (size_t i = 0; table[i].kind != OPT_END; i++) {
		const struct opt *o = &table[i];
		if (o->kind == OPT_SECTION) {
			fprintf(f, "%s:\n", o->name);
			continue;
		}
		char left[64];
		int n = snprintf(left, sizeof(left), "%s%s%s%s%s", o->name, o->alias ? ", " : "", o->alias ? o->alias : "",
				 o->meta ? " " : "", o->meta ? o->meta : "");
		if (n > 22)
			fprintf(f, "  %s\n  %-22s %s\n", left, "", o->help);
		else
			fprintf(f, "  %-22s %s\n", left, o->help);
	}
}
