/* SPDX-License-Identifier: MIT
 * libsvm.c: the libsvm/svmlight text reader ("label index:value ... # comment")
 * into CSR features and int64 labels. Strict: every malformed token is an
 * error naming the file, the line and the reason. A file is streamed in
 * blocks (numparse.h), so the text is never held whole; a buffer in memory
 * goes through the same line parser, so both give the same result. */
#include "numparse.h"

#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lsv {
	struct sr_text t; /* first: on_line() gets a pointer to it */
	struct sr_numctx num;
	bool zero_based;
	size_t dopt;       /* opts->d, 0 when the file decides */
	uint64_t *indptr;  /* (rows_cap + 1) */
	int64_t *labels;   /* (rows_cap) */
	size_t n, rows_cap;
	uint32_t *indices; /* (nnz_cap) */
	float *values;     /* (nnz_cap) */
	size_t nnz, nnz_cap;
	uint64_t max_index; /* the largest 0-based index seen, when 'any' */
	bool any;
	size_t dropped;
	bool part;          /* a share of the file (MPI): no sample at all is fine */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* a token ends at a blank, a comment or the end of the line */
static bool ends_token(const char *s, const char *end)
{
	return s == end || is_blank(*s) || *s == '#';
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && is_blank(*s))
		s++;
	return s;
}

/* room for one more sample: labels (cap) and indptr (cap + 1), doubling */
static bool grow_rows(struct lsv *p)
{
	size_t cap = p->rows_cap ? p->rows_cap * 2 : 1024; /* n <= UINT32_MAX: no overflow */
	int64_t *l = realloc(p->labels, cap * sizeof(int64_t));
	if (!l)
		return false;
	p->labels = l;
	uint64_t *ip = realloc(p->indptr, (cap + 1) * sizeof(uint64_t));
	if (!ip)
		return false;
	p->indptr = ip;
	p->indptr[0] = 0;
	p->rows_cap = cap;
	return true;
}

/* room for one more nonzero, doubling */
static bool grow_nnz(struct lsv *p)
{
	size_t cap = p->nnz_cap ? p->nnz_cap * 2 : 4096, bytes;
	if (cap < p->nnz_cap || !sr_mul(cap, sizeof(float), &bytes))
		return false;
	uint32_t *ix = realloc(p->indices, bytes); /* sizeof(uint32_t) == sizeof(float) */
	if (!ix)
		return false;
	p->indices = ix;
	float *va = realloc(p->values, bytes);
	if (!va)
		return false;
	p->values = va;
	p->nnz_cap = cap;
	return true;
}

static enum softreg_result fail_line(struct lsv *p, char *err, enum softreg_result r, const char *what,
				     const char *tok, const char *end)
{
	char show[48];
	return sr_fail(err, r, "%s: line %llu: %s '%s'", p->t.name, (unsigned long long)p->t.line, what,
		       sr_show(tok, end, " \t#", show));
}

static enum softreg_result fail_value(struct lsv *p, char *err, enum sr_num st, uint64_t index, const char *tok,
				      const char *end)
{
	char show[48];
	if (st == SR_NUM_NOMEM)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: line %llu: out of memory", p->t.name,
			       (unsigned long long)p->t.line);
	return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: the value '%s' of index %llu %s", p->t.name,
		       (unsigned long long)p->t.line, sr_show(tok, end, " \t#", show), (unsigned long long)index,
		       st == SR_NUM_NONFINITE ? "is not a finite float32" : "is not a number");
}

static enum softreg_result parse_label(struct lsv *p, const char **sp, const char *end, int64_t *label, char *err)
{
	const char *tok = *sp;
	char show[48];
	enum sr_num st = sr_parse_label(sp, end, &p->num, label);
	if (st == SR_NUM_OK && !ends_token(*sp, end))
		st = SR_NUM_BAD;
	if (st == SR_NUM_OK)
		return SOFTREG_OK;
	if (st == SR_NUM_NOMEM)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", p->t.name);
	return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: the label '%s' %s", p->t.name,
		       (unsigned long long)p->t.line, sr_show(tok, end, " \t#", show),
		       st == SR_NUM_NONFINITE ? "is not finite"
		       : st == SR_NUM_NOTINT  ? "is not an integer"
		       : st == SR_NUM_RANGE   ? "is outside int64"
					      : "is not a number");
}

/* One line: [s, end) without its line break. */
static enum softreg_result parse_line(struct sr_text *t, const char *s, const char *end, char *err)
{
	struct lsv *p = (struct lsv *)t;
	unsigned long long line = (unsigned long long)t->line;
	s = skip_blank(s, end);
	if (s == end || *s == '#') /* blank or comment only: no sample */
		return SOFTREG_OK;
	int64_t label = 0;
	enum softreg_result r = parse_label(p, &s, end, &label, err);
	if (r)
		return r;
	if (p->n == UINT32_MAX)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: more than %u samples", t->name, line,
			       UINT32_MAX);
	if (p->n == p->rows_cap && !grow_rows(p))
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: line %llu: out of memory for %zu samples", t->name, line,
			       p->n + 1);
	uint64_t prev = UINT64_MAX; /* the previous 0-based index; none yet */
	size_t limit = p->dopt ? p->dopt : SOFTREG_MAX_FEATURES;
	for (;;) {
		s = skip_blank(s, end);
		if (s == end || *s == '#')
			break;
		const char *tok = s;
		uint64_t index = 0;
		for (; s < end && sr_is_digit(*s); s++)
			if (index <= SOFTREG_MAX_FEATURES) /* stays far below overflow; too large either way */
				index = index * 10 + (uint64_t)(*s - '0');
		if (s == tok)
			return fail_line(p, err, SOFTREG_ERR_FORMAT,
					 *s == ':' ? "an empty index:" : "expected index:value, found", tok, end);
		if (s == end || *s != ':')
			return fail_line(p, err, SOFTREG_ERR_FORMAT, "no ':' after the index:", tok, end);
		if (!p->zero_based && index == 0)
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "%s: line %llu: index 0 in a 1-based file (read it as zero-based)", t->name,
				       line);
		uint64_t j = p->zero_based ? index : index - 1;
		if (j >= SOFTREG_MAX_FEATURES)
			return fail_line(p, err, SOFTREG_ERR_FORMAT, "an index beyond 2^31 - 1 features:", tok, end);
		if (prev != UINT64_MAX && j <= prev)
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "%s: line %llu: index %llu is not greater than the previous index %llu", t->name,
				       line, (unsigned long long)index,
				       (unsigned long long)(p->zero_based ? prev : prev + 1));
		prev = j;
		const char *vtok = ++s;
		if (ends_token(s, end))
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: line %llu: an empty value for index %llu", t->name,
				       line, (unsigned long long)index);
		float v;
		enum sr_num st = sr_parse_float(&s, end, &p->num, &v);
		if (st == SR_NUM_OK && !ends_token(s, end))
			st = SR_NUM_BAD;
		if (st)
			return fail_value(p, err, st, index, vtok, end);
		if (j > p->max_index || !p->any)
			p->max_index = j;
		p->any = true;
		if (v == 0) /* explicit zeros are not stored: CSR keeps nonzeros only, and the kernels skip nothing */
			continue;
		if (j >= limit) {
			p->dropped++;
			continue;
		}
		if (p->nnz == p->nnz_cap && !grow_nnz(p))
			return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: line %llu: out of memory for %zu nonzeros", t->name,
				       line, p->nnz + 1);
		p->indices[p->nnz] = (uint32_t)j;
		p->values[p->nnz++] = v;
	}
	p->labels[p->n] = label;
	p->indptr[++p->n] = p->nnz;
	return SOFTREG_OK;
}

static enum softreg_result begin(struct lsv *p, const char *name, const struct softreg_read_opts *opts,
				 struct softreg_dataset *ds, char *err)
{
	memset(ds, 0, sizeof(*ds));
	memset(p, 0, sizeof(*p));
	p->t.name = name;
	p->t.on_line = parse_line;
	p->zero_based = opts && opts->zero_based;
	p->dopt = opts ? opts->d : 0;
	if (p->dopt > SOFTREG_MAX_FEATURES)
		return sr_fail(err, SOFTREG_ERR_PARAM, "%s: %zu features asked, more than %u", name, p->dopt,
			       SOFTREG_MAX_FEATURES);
	return SOFTREG_OK;
}

/* Hand the arrays to 'ds' on success (trimmed to their size), else free them. */
static enum softreg_result finish(struct lsv *p, enum softreg_result r, struct softreg_dataset *ds, char *err)
{
	sr_numctx_free(&p->num);
	if (r == SOFTREG_OK && p->part && !p->indptr && !(p->indptr = calloc(1, sizeof(uint64_t))))
		r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", p->t.name);
	if (r == SOFTREG_OK && p->n == 0 && !p->part)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: no samples (every line is blank or a comment)", p->t.name);
	if (r == SOFTREG_OK && !p->dopt && !p->any && !p->part)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: no features (every line holds a label alone)", p->t.name);
	if (r == SOFTREG_OK) {
		/* shrink to fit: doubling leaves up to half of each array unused */
		size_t nz = p->nnz ? p->nnz : 1;
		uint32_t *ix = realloc(p->indices, nz * sizeof(uint32_t));
		float *va = realloc(p->values, nz * sizeof(float));
		p->indices = ix ? ix : p->indices;
		p->values = va ? va : p->values;
		if (!p->indices || !p->values)
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", p->t.name);
	}
	if (r) {
		free(p->indptr);
		free(p->labels);
		free(p->indices);
		free(p->values);
		return r;
	}
	size_t d = p->dopt ? p->dopt : p->any ? (size_t)p->max_index + 1 : 0;
	ds->x = (struct softreg_source){.kind = SOFTREG_SOURCE_CSR, .n = p->n, .d = d, .indptr = p->indptr,
					.indices = p->indices, .values = p->values};
	ds->n = p->n;
	ds->d = d;
	ds->rows = 1;
	ds->cols = d;
	ds->labels = p->labels;
	ds->dropped = p->dropped;
	sr_dataset_own(ds, p->indptr);
	sr_dataset_own(ds, p->indices);
	sr_dataset_own(ds, p->values);
	sr_dataset_own(ds, p->labels);
	return SOFTREG_OK;
}

enum softreg_result softreg_libsvm_parse(const char *buf, size_t len, const char *name,
					 const struct softreg_read_opts *opts, struct softreg_dataset *ds, char *err)
{
	struct lsv p;
	enum softreg_result r = begin(&p, name, opts, ds, err);
	if (r)
		return r;
	size_t used;
	return finish(&p, sr_text_lines(&p.t, buf, len, true, &used, err), ds, err);
}

enum softreg_result sr_libsvm_read_block(const char *path, const struct softreg_read_opts *opts, size_t block,
					 struct softreg_dataset *ds, char *err)
{
	struct lsv p;
	enum softreg_result r = begin(&p, path, opts, ds, err);
	if (r)
		return r;
	return finish(&p, sr_text_file(&p.t, path, block, err), ds, err);
}

enum softreg_result sr_libsvm_read(const char *path, const struct softreg_read_opts *opts, struct softreg_dataset *ds,
				   char *err)
{
	return sr_libsvm_read_block(path, opts, SR_TEXT_BLOCK, ds, err);
}

/* The lines that start in bytes [b0, b1) of 'path' (one process's share of
 * the text under MPI; the file mapped, only its share read), each line
 * belonging to the share its first byte is in; none is fine. Messages name
 * the file and the byte the share starts at (line numbers count from there). */
enum softreg_result sr_libsvm_read_range(const char *path, const struct softreg_read_opts *opts, uint64_t b0,
					 uint64_t b1, struct softreg_dataset *ds, char *err)
{
	char name[4200];
	snprintf(name, sizeof(name), b0 ? "%s, from byte %llu" : "%s", path, (unsigned long long)b0);
	struct lsv p;
	enum softreg_result r = begin(&p, name, opts, ds, err);
	if (r)
		return r;
	p.part = true;
	const char *map;
	size_t size, start, end, used;
	r = sr_text_map(path, b0, b1, &map, &size, &start, &end, err);
	if (r == SOFTREG_OK && start < end)
		r = sr_text_lines(&p.t, map + start, end - start, true, &used, err);
	sr_text_unmap(map, size);
	return finish(&p, r, ds, err);
}
