/* SPDX-License-Identifier: MIT
 * args.c: what the commands share besides the option tables: the one-line
 * error printers, the environment, JSON strings. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_env_check(const char *cmd)
{
	const char *e = getenv("SOFTREG_MAX_BYTES");
	uint64_t x;
	if (!e || (opts_parse_u64(e, &x) && x > 0))
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
	return e && opts_parse_u64(e, &x) ? x : 0;
}

/* the length of the valid UTF-8 sequence at 's' (1 to 4), or 0 */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (n == 0 || (s[0] >= 0x80 && s[0] < 0xc2))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	uint32_t cp = n == 2 ? (s[0] & 0x1fu) << 6 | (s[1] & 0x3fu)
		      : n == 3 ? (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu)
			       : (s[0] & 0x07u) << 18 | (s[1] & 0x3fu) << 12 | (s[2] & 0x3fu) << 6 | (s[3] & 0x3fu);
	bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
	return overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : n;
}

/* a JSON string; bytes that are not UTF-8 (a file name is any bytes) become
 * U+FFFD, so the output is always valid JSON */
void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc(c, f);
			p++;
		} else {
			size_t n = utf8_len(p);
			if (n) {
				fwrite(p, 1, n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);
				p++;
			}
		}
	}
	fputc('"', f);
}
