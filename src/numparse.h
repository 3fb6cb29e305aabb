/* SPDX-License-Identifier: MIT
 * numparse.h: what the text readers (libsvm.c, csv.c) share: a decimal number
 * parser with a fast, correctly rounded path, the integer label rule, and the
 * driver that feeds a file or a buffer to a line parser in blocks. Not
 * installed; static inline so that the hot loops inline the number parser. */
#ifndef SOFTREG_NUMPARSE_H
#define SOFTREG_NUMPARSE_H

#include "internal.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The file readers' first buffer; a longer line doubles it. */
#define SR_TEXT_BLOCK ((size_t)1 << 20)

/* What a number token turned out to be. */
enum sr_num {
	SR_NUM_OK = 0,
	SR_NUM_BAD = 1,       /* not a number of the grammar below */
	SR_NUM_NONFINITE = 2, /* nan, inf, infinity (any case), or too large for a double */
	SR_NUM_NOTINT = 3,    /* labels: a number with a fraction */
	SR_NUM_RANGE = 4,     /* labels: outside int64 */
	SR_NUM_NOMEM = 5,     /* the C locale for strtod could not be made */
};

/* Per-reader state of the slow path: strtod must see '.' as the decimal point
 * whatever the caller's locale is, so it runs under a "C" locale made on first
 * use (uselocale is per thread: no process-wide state changes). */
struct sr_numctx {
	locale_t c;
};

static inline void sr_numctx_free(struct sr_numctx *c)
{
	if (c->c != (locale_t)0)
		freelocale(c->c);
	c->c = (locale_t)0;
}

static inline bool sr_is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* 'word' (lower case) at [p, end), any case */
static inline bool sr_word(const char *p, const char *end, const char *word, size_t len)
{
	if ((size_t)(end - p) < len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((p[i] | 0x20) != word[i])
			return false;
	return true;
}

/* The longest number of the grammar at [p, end) is handed to strtod: more
 * than 19 significant digits, or an exponent beyond what is exact. */
static inline enum sr_num sr_slow_double(const char *start, const char *p, struct sr_numctx *c, double *out)
{
	char buf[256];
	size_t len = (size_t)(p - start);
	if (len >= sizeof(buf)) /* sr_parse_double() let none through */
		return SR_NUM_BAD;
	memcpy(buf, start, len);
	buf[len] = '\0';
	if (c->c == (locale_t)0 && (c->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0)) == (locale_t)0)
		return SR_NUM_NOMEM;
	locale_t old = uselocale(c->c);
	char *e;
	double v = strtod(buf, &e);
	uselocale(old);
	if (e != buf + len) /* cannot happen: the grammar is a subset of strtod's */
		return SR_NUM_BAD;
	if (!isfinite(v))
		return SR_NUM_NONFINITE;
	*out = v;
	return SR_NUM_OK;
}

/*
 * Parse a decimal number at *pp (before 'end'): [+-] digits [. digits]
 * [e [+-] digits], or [+-] . digits [...]. On SR_NUM_OK (and on
 * SR_NUM_NONFINITE for nan/inf words) *pp is past it; the caller checks that
 * the byte that follows ends the token. The value is the correctly rounded
 * double, as strtod gives: with at most 19 significant digits, a mantissa
 * m < 2^53 and a decimal exponent e in [-22, 22], m and 10^|e| are exact
 * doubles and one multiplication or division rounds once (Clinger's fast
 * path); anything else goes to strtod. A number of more than 255 characters
 * is SR_NUM_BAD.
 */
static inline enum sr_num sr_parse_double(const char **pp, const char *end, struct sr_numctx *c, double *out)
{
	static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
					 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	const char *start = *pp, *p = start;
	bool neg = false, slow = false;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	uint64_t m = 0;
	int nd = 0, frac = 0; /* significant digits in m; digits of m after the point */
	const char *d0 = p;
	for (; p < end && sr_is_digit(*p); p++) {
		if (nd < 19) {
			m = m * 10 + (uint64_t)(*p - '0');
			nd += m != 0;
		} else {
			slow = true;
		}
	}
	bool any = p > d0;
	if (p < end && *p == '.') {
		const char *f0 = ++p;
		for (; p < end && sr_is_digit(*p); p++) {
			if (nd < 19 && frac < 1000) { /* frac stays small: the length check below */
				m = m * 10 + (uint64_t)(*p - '0');
				nd += m != 0;
				frac++;
			} else {
				slow = true;
			}
		}
		any |= p > f0;
	}
	if (!any) { /* no digit: a nan or inf word (its own error), or not a number */
		size_t w = 0;
		if (p == d0 && sr_word(p, end, "nan", 3))
			w = 3;
		else if (p == d0 && sr_word(p, end, "infinity", 8))
			w = 8;
		else if (p == d0 && sr_word(p, end, "inf", 3))
			w = 3;
		if (!w)
			return SR_NUM_BAD;
		*pp = p + w;
		return SR_NUM_NONFINITE;
	}
	int e10 = 0;
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		bool eneg = false;
		if (p < end && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		const char *e0 = p;
		for (; p < end && sr_is_digit(*p); p++)
			if (e10 < 100000) /* beyond any double: strtod gives 0 or inf */
				e10 = e10 * 10 + (*p - '0');
		if (p == e0)
			return SR_NUM_BAD;
		e10 = eneg ? -e10 : e10;
	}
	if (p - start > 255) /* a number of 256 characters is not data */
		return SR_NUM_BAD;
	*pp = p;
	e10 -= frac;
	double v;
	if (m == 0 && !slow) {
		v = 0;
	} else if (!slow && m < ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
		v = e10 >= 0 ? (double)m * pow10[e10] : (double)m / pow10[-e10];
	} else {
		return sr_slow_double(start, p, c, out);
	}
	*out = neg ? -v : v;
	return SR_NUM_OK;
}

/* A feature value: the double rounded to float32, which must stay finite. The
 * same as (float)strtod(token). */
static inline enum sr_num sr_parse_float(const char **pp, const char *end, struct sr_numctx *c, float *out)
{
	double v;
	enum sr_num r = sr_parse_double(pp, end, c, &v);
	if (r)
		return r;
	*out = (float)v;
	return isfinite(*out) ? SR_NUM_OK : SR_NUM_NONFINITE;
}

/* A label: an integer within int64, written as digits (exact to the last
 * one) or as a number whose value is integral ("1.0", "2e0", "+1"). */
static inline enum sr_num sr_parse_label(const char **pp, const char *end, struct sr_numctx *c, int64_t *out)
{
	const char *p = *pp;
	bool neg = false;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	const char *d0 = p;
	uint64_t v = 0;
	bool over = false;
	for (; p < end && sr_is_digit(*p); p++) {
		over |= v > (UINT64_MAX - 9) / 10;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p > d0 && (p == end || (*p != '.' && (*p | 0x20) != 'e'))) {
		if (over || v > (uint64_t)INT64_MAX + neg)
			return SR_NUM_RANGE;
		*out = neg ? (int64_t)(0 - v) : (int64_t)v;
		*pp = p;
		return SR_NUM_OK;
	}
	double x;
	enum sr_num r = sr_parse_double(pp, end, c, &x);
	if (r)
		return r;
	if (x != floor(x))
		return SR_NUM_NOTINT;
	if (!(x >= -0x1p63 && x < 0x1p63))
		return SR_NUM_RANGE;
	*out = (int64_t)x;
	return SR_NUM_OK;
}

/* The token at s for a message: up to the first byte of 'stops' (or the line's
 * end), at most 40 bytes, control and non-ASCII bytes as '?'. */
static inline const char *sr_show(const char *s, const char *end, const char *stops, char out[48])
{
	size_t i = 0;
	for (; s < end && i < 40 && !strchr(stops, *s); s++, i++)
		out[i] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	if (s < end && i == 40 && !strchr(stops, *s))
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
	return out;
}

/* ---- lines from a buffer or a file ---- */

/* A line parser: its state starts with this struct. 'line' is the 1-based
 * number of the line handed to on_line(), which gets the line without its
 * '\n' and without one '\r' before it. */
struct sr_text {
	const char *name;
	uint64_t line;
	enum softreg_result (*on_line)(struct sr_text *t, const char *s, const char *end, char *err);
};

/* Hand the complete lines of buf[0, len) to t->on_line(); with 'final', the
 * last one too when it has no '\n'. '*used' is the bytes consumed. */
static inline enum softreg_result sr_text_lines(struct sr_text *t, const char *buf, size_t len, bool final,
						size_t *used, char *err)
{
	const char *s = buf, *end = buf + len;
	enum softreg_result r = SOFTREG_OK;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl && !final)
			break;
		const char *e = nl ? nl : end;
		t->line++;
		r = t->on_line(t, s, e > s && e[-1] == '\r' ? e - 1 : e, err);
		if (r)
			break;
		s = nl ? nl + 1 : end;
	}
	*used = (size_t)(s - buf);
	return r;
}

/* Stream 'path' through t->on_line() in blocks of 'block' bytes (at least 1),
 * carrying a partial last line over to the next block and doubling the buffer
 * for a line longer than it: memory is one block or the longest line, never
 * the whole text. */
static inline enum softreg_result sr_text_file(struct sr_text *t, const char *path, size_t block, char *err)
{
	FILE *f;
	size_t size, cap = block ? block : 1, have = 0, used;
	enum softreg_result r = sr_open_regular(path, &f, &size, err);
	if (r)
		return r;
	char *buf = malloc(cap);
	if (!buf) {
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for a %zu-byte read buffer", path, cap);
	}
	for (;;) {
		if (have == cap) { /* one line fills the buffer */
			char *nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				r = sr_fail(err, SOFTREG_ERR_NOMEM,
					    "%s: line %llu: out of memory for a line over %zu bytes", path,
					    (unsigned long long)t->line + 1, cap);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + have, 1, cap - have, f);
		if (got == 0) {
			if (ferror(f))
				r = sr_fail(err, SOFTREG_ERR_IO, "%s: read error: %s", path, strerror(errno));
			else
				r = sr_text_lines(t, buf, have, true, &used, err);
			break;
		}
		have += got;
		if ((r = sr_text_lines(t, buf, have, false, &used, err)))
			break;
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	fclose(f);
	return r;
}

/* The readers with the block size as a parameter (the public ones use
 * SR_TEXT_BLOCK); the tests and fuzz targets use tiny blocks to put every
 * byte of a line at a block boundary. */
enum softreg_result sr_libsvm_read_block(const char *path, const struct softreg_read_opts *opts, size_t block,
					 struct softreg_dataset *ds, char *err);
enum softreg_result sr_csv_read_block(const char *path, const struct softreg_read_opts *opts, size_t block,
				      struct softreg_dataset *ds, char *err);

#endif
