/* SPDX-License-Identifier: MIT
 * csv.c: the numeric CSV reader: dense float32 features and int64 labels
 * from one column. Fields are separated by ',' with optional blanks (spaces,
 * tabs) around them. The first non-blank line is a header when any of its
 * fields is quoted or not a number; header names may be quoted ("a, b", with
 * "" for a quote), but data fields may not: a quoted number is an error, so a
 * data row reads one way only. Strict: an empty field, a row of another width,
 * NaN or infinity, or a label that is not an integer is an error naming the
 * file and the line. Streamed in blocks like libsvm.c (numparse.h); under
 * MPI, a process reads its share of the lines as libsvm.c does. */
#include "numparse.h"

#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct csv {
	struct sr_text t; /* first: on_line() gets a pointer to it */
	struct sr_numctx num;
	const char *want;   /* the label column by name, or NULL */
	size_t label;       /* the label column, 0-based */
	size_t m, d;        /* fields per line (0 until the first line), d = m - 1 */
	bool header;
	uint64_t first;     /* the first line's number */
	const char *skip;   /* a share of the file: the header, read before */
	bool part;          /* a share of the file (MPI): no rows at all is fine */
	float *x;           /* (cap, d) */
	int64_t *labels;    /* (cap) */
	size_t n, cap;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && is_blank(*s))
		s++;
	return s;
}

/* A field of the first line at *sp, any text: [*fs, *fe) is its content
 * without the blanks around it and without its quotes. *sp ends at the ','
 * after it or at the end of the line. */
static enum softreg_result first_field(struct csv *c, const char **sp, const char *end, size_t k, const char **fs,
				       const char **fe, bool *quoted, char *err)
{
	unsigned long long line = (unsigned long long)c->t.line;
	const char *s = skip_blank(*sp, end);
	*quoted = s < end && *s == '"';
	if (*quoted) {
		*fs = ++s;
		for (;; s++) {
			if (s == end)
				return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: field %zu: no closing quote",
					       c->t.name, line, k + 1);
			if (*s == '"' && s + 1 < end && s[1] == '"')
				s++; /* "" is a quote inside the name */
			else if (*s == '"')
				break;
		}
		*fe = s;
		s = skip_blank(s + 1, end);
		if (s < end && *s != ',')
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "%s: line %llu: field %zu: text after the closing quote", c->t.name, line,
				       k + 1);
	} else {
		*fs = s;
		for (; s < end && *s != ','; s++)
			if (*s == '"')
				return sr_fail(err, SOFTREG_ERR_FORMAT,
					       "%s: line %llu: field %zu: a quote inside an unquoted field", c->t.name,
					       line, k + 1);
		*fe = s;
		while (*fe > *fs && is_blank((*fe)[-1]))
			(*fe)--;
	}
	if (*fe == *fs)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: field %zu is empty", c->t.name, line, k + 1);
	*sp = s;
	return SOFTREG_OK;
}

/* whether [s, e) is exactly one number (nan and inf count: a first row that
 * holds them is data, and is then rejected for them, not taken as a header) */
static bool is_number(struct csv *c, const char *s, const char *e)
{
	double v;
	enum sr_num st = sr_parse_double(&s, e, &c->num, &v);
	return (st == SR_NUM_OK || st == SR_NUM_NONFINITE) && s == e;
}

/* the header name [s, e) (quoted: "" is one quote) equals 'want' */
static bool same_name(const char *s, const char *e, bool quoted, const char *want)
{
	for (; s < e; s++, want++) {
		if (quoted && *s == '"')
			s++;
		if (!*want || *want != *s)
			return false;
	}
	return !*want;
}

/* The first line: its width, whether it is a header, the label column. */
static enum softreg_result first_line(struct csv *c, const char *s, const char *end, char *err)
{
	const char *fs = s, *fe = s, *p = s;
	bool quoted, header = false;
	size_t k = 0, found = SIZE_MAX;
	for (;; k++) {
		enum softreg_result r = first_field(c, &p, end, k, &fs, &fe, &quoted, err);
		if (r)
			return r;
		header |= quoted || !is_number(c, fs, fe);
		if (c->want && same_name(fs, fe, quoted, c->want)) {
			if (found != SIZE_MAX)
				return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: the header names '%s' twice "
					       "(fields %zu and %zu)", c->t.name, (unsigned long long)c->t.line,
					       c->want, found + 1, k + 1);
			found = k;
		}
		if (p == end)
			break;
		p++; /* the ',' */
	}
	c->m = k + 1;
	c->d = k;
	c->header = header;
	c->first = c->t.line;
	if (c->m < 2)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: one field; a label and a feature are needed",
			       c->t.name, (unsigned long long)c->t.line);
	if (c->d > SOFTREG_MAX_FEATURES)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: more than %u features", c->t.name,
			       (unsigned long long)c->t.line, SOFTREG_MAX_FEATURES);
	if (c->want && !header)
		return sr_fail(err, SOFTREG_ERR_PARAM,
			       "%s: the label column '%s' is a name, but line %llu is not a header (all numbers)",
			       c->t.name, c->want, (unsigned long long)c->t.line);
	if (c->want && found == SIZE_MAX)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: the header on line %llu has no column '%s'", c->t.name,
			       (unsigned long long)c->t.line, c->want);
	if (c->want)
		c->label = found;
	if (c->label >= c->m)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: label column %zu is out of range: line %llu has %zu fields",
			       c->t.name, c->label, (unsigned long long)c->t.line, c->m);
	return SOFTREG_OK;
}

/* room for one more row, doubling */
static bool grow_rows(struct csv *c)
{
	size_t cap = c->cap ? c->cap * 2 : 256, bytes;
	if (!sr_mul(cap, c->d, &bytes) || !sr_mul(bytes, sizeof(float), &bytes))
		return false;
	float *x = realloc(c->x, bytes);
	if (!x)
		return false;
	c->x = x;
	int64_t *l = realloc(c->labels, cap * sizeof(int64_t)); /* cap <= 2^33: no overflow */
	if (!l)
		return false;
	c->labels = l;
	c->cap = cap;
	return true;
}

static enum softreg_result wrong_width(struct csv *c, size_t fields, char *err)
{
	char was[64];
	if (c->header)
		snprintf(was, sizeof(was), "the header has %zu", c->m);
	else
		snprintf(was, sizeof(was), "line %llu has %zu", (unsigned long long)c->first, c->m);
	return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: %zu field%s, %s", c->t.name,
		       (unsigned long long)c->t.line, fields, fields == 1 ? "" : "s", was);
}

static enum softreg_result bad_field(struct csv *c, enum sr_num st, bool label, size_t k, const char *tok,
				     const char *end, char *err)
{
	char show[48];
	unsigned long long line = (unsigned long long)c->t.line;
	const char *why = st == SR_NUM_NONFINITE ? (label ? "is not finite" : "is not a finite float32")
			  : st == SR_NUM_NOTINT	 ? "is not an integer"
			  : st == SR_NUM_RANGE	 ? "is outside int64"
						 : "is not a number";
	if (st == SR_NUM_NOMEM)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: line %llu: out of memory", c->t.name, line);
	return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: field %zu: %s'%s' %s", c->t.name, line, k + 1,
		       label ? "the label " : "", sr_show(tok, end, ",", show), why);
}

/* A data row: m numbers, the label an integer. */
static enum softreg_result data_row(struct csv *c, const char *s, const char *end, char *err)
{
	unsigned long long line = (unsigned long long)c->t.line;
	if (c->n == UINT32_MAX)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: more than %u samples", c->t.name, line,
			       UINT32_MAX);
	if (c->n == c->cap && !grow_rows(c))
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: line %llu: out of memory for %zu rows of %zu features",
			       c->t.name, line, c->n + 1, c->d);
	float *row = c->x + c->n * c->d;
	size_t k = 0;
	for (;; k++) {
		if (k == c->m) { /* a field more than the first line: count them all for the message */
			size_t fields = k + 1;
			for (; s < end; s++)
				fields += *s == ',';
			return wrong_width(c, fields, err);
		}
		s = skip_blank(s, end);
		const char *tok = s;
		if (s == end || *s == ',')
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: field %zu is empty", c->t.name, line,
				       k + 1);
		if (*s == '"')
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "%s: line %llu: field %zu is quoted (quotes are for header names only)",
				       c->t.name, line, k + 1);
		enum sr_num st = k == c->label ? sr_parse_label(&s, end, &c->num, &c->labels[c->n])
					       : sr_parse_float(&s, end, &c->num, row++);
		if (st == SR_NUM_OK) {
			s = skip_blank(s, end);
			if (s < end && *s != ',')
				st = SR_NUM_BAD;
		}
		if (st)
			return bad_field(c, st, k == c->label, k, tok, end, err);
		if (s == end)
			break;
		s++; /* the ',' */
	}
	if (k + 1 != c->m)
		return wrong_width(c, k + 1, err);
	c->n++;
	return SOFTREG_OK;
}

static enum softreg_result parse_line(struct sr_text *t, const char *s, const char *end, char *err)
{
	struct csv *c = (struct csv *)t;
	if (skip_blank(s, end) == end || s == c->skip) /* blank lines are skipped */
		return SOFTREG_OK;
	if (c->m == 0) {
		enum softreg_result r = first_line(c, s, end, err);
		if (r || c->header)
			return r;
	}
	return data_row(c, s, end, err);
}

static enum softreg_result begin(struct csv *c, const char *name, const struct softreg_read_opts *opts,
				 struct softreg_dataset *ds, char *err)
{
	memset(ds, 0, sizeof(*ds));
	memset(c, 0, sizeof(*c));
	c->t.name = name;
	c->t.on_line = parse_line;
	const char *lc = opts ? opts->label_column : NULL;
	if (!lc)
		return SOFTREG_OK;
	if (!*lc)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: an empty label column name", name);
	const char *p = lc;
	for (; sr_is_digit(*p); p++) {
		if (c->label > SOFTREG_MAX_FEATURES) /* out of range anyway; stop before it overflows */
			return sr_fail(err, SOFTREG_ERR_PARAM, "%s: label column %s is out of range", name, lc);
		c->label = c->label * 10 + (size_t)(*p - '0');
	}
	if (*p) { /* not all digits: a name */
		c->label = 0;
		c->want = lc;
	}
	return SOFTREG_OK;
}

/* Hand the arrays to 'ds' on success (trimmed to their size), else free them. */
static enum softreg_result finish(struct csv *c, enum softreg_result r, struct softreg_dataset *ds, char *err)
{
	sr_numctx_free(&c->num);
	if (r == SOFTREG_OK && c->n == 0 && !c->part)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, c->m ? "%s: no data rows (a header alone)"
							  : "%s: no data (the file is empty or blank)",
			    c->t.name);
	if (r) {
		free(c->x);
		free(c->labels);
		return r;
	}
	if (c->n) { /* shrink to fit: doubling leaves up to half unused */
		float *x = realloc(c->x, c->n * c->d * sizeof(float));
		int64_t *l = realloc(c->labels, c->n * sizeof(int64_t));
		c->x = x ? x : c->x;
		c->labels = l ? l : c->labels;
	}
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_F32, .n = c->n, .d = c->d, .data = c->x};
	ds->n = c->n;
	ds->d = c->d;
	ds->rows = 1;
	ds->cols = c->d;
	ds->labels = c->labels;
	sr_dataset_own(ds, c->x);
	sr_dataset_own(ds, c->labels);
	return SOFTREG_OK;
}

enum softreg_result softreg_csv_parse(const char *buf, size_t len, const char *name,
				      const struct softreg_read_opts *opts, struct softreg_dataset *ds, char *err)
{
	struct csv c;
	enum softreg_result r = begin(&c, name, opts, ds, err);
	if (r)
		return r;
	size_t used;
	return finish(&c, sr_text_lines(&c.t, buf, len, true, &used, err), ds, err);
}

enum softreg_result sr_csv_read_block(const char *path, const struct softreg_read_opts *opts, size_t block,
				      struct softreg_dataset *ds, char *err)
{
	struct csv c;
	enum softreg_result r = begin(&c, path, opts, ds, err);
	if (r)
		return r;
	return finish(&c, sr_text_file(&c.t, path, block, err), ds, err);
}

enum softreg_result sr_csv_read(const char *path, const struct softreg_read_opts *opts, struct softreg_dataset *ds,
				char *err)
{
	return sr_csv_read_block(path, opts, SR_TEXT_BLOCK, ds, err);
}

/* the file's first non-blank line alone (its width, header, label column) */
static enum softreg_result head_line(struct sr_text *t, const char *s, const char *end, char *err)
{
	struct csv *c = (struct csv *)t;
	if (c->m || skip_blank(s, end) == end)
		return SOFTREG_OK;
	enum softreg_result r = first_line(c, s, end, err);
	c->skip = c->header ? s : NULL;
	return r;
}

/* The rows of the lines that start in bytes [b0, b1) of 'path', as
 * sr_libsvm_read_range() reads its lines; none is fine. Every process first
 * reads the file's first non-blank line, whichever share holds it, so the
 * width, the header and the label column are those of one process; the
 * header itself is skipped by the share that holds it. */
enum softreg_result sr_csv_read_range(const char *path, const struct softreg_read_opts *opts, uint64_t b0,
				      uint64_t b1, struct softreg_dataset *ds, char *err)
{
	char name[4200];
	snprintf(name, sizeof(name), b0 ? "%s, from byte %llu" : "%s", path, (unsigned long long)b0);
	struct csv c;
	enum softreg_result r = begin(&c, path, opts, ds, err);
	if (r)
		return r;
	c.part = true;
	c.t.on_line = head_line;
	const char *map;
	size_t size, start, end, used = 0;
	r = sr_text_map(path, b0, b1, &map, &size, &start, &end, err);
	for (size_t at = 0; r == SOFTREG_OK && !c.m && at < size; at += used) {
		const char *nl = memchr(map + at, '\n', size - at);
		r = sr_text_lines(&c.t, map + at, nl ? (size_t)(nl - map) + 1 - at : size - at, true, &used, err);
	}
	c.t.name = name;
	c.t.line = 0;
	c.t.on_line = parse_line;
	if (r == SOFTREG_OK && start < end)
		r = sr_text_lines(&c.t, map + start, end - start, true, &used, err);
	sr_text_unmap(map, size);
	return finish(&c, r, ds, err);
}
