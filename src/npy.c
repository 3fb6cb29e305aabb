/* SPDX-License-Identifier: MIT
 * npy.c: the .npy reader (NumPy's format, versions 1.0, 2.0 and 3.0). The
 * header, a Python dict literal, is parsed by a small strict grammar, never
 * evaluated, and every size is checked against the file's length before
 * anything is mapped or allocated. From a file, little-endian float32,
 * float16 and uint8 features are used in place in a read-only mapping; other
 * dtypes are converted, and labels always become int64. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* numpy's own reader stops at 10000 bytes unless told otherwise; a real
 * header is under 200 bytes, so 1 MiB only bounds what a broken file costs */
#define NPY_MAX_HEADER ((size_t)1 << 20)
#define NPY_MAX_DIMS 32 /* NPY_MAXDIMS of numpy 1.x */
#define NPY_HOST_LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

static const uint8_t npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* What a header says. 'descr' points into the header text, so it is only
 * valid while that is. */
struct npy {
	unsigned major;
	size_t off;        /* where the data starts: preamble + header */
	const char *descr; /* the dtype string, printable ASCII */
	size_t descr_len;
	char kind;         /* 'b', 'i', 'u' or 'f' once the descr is understood */
	size_t item;       /* bytes per element */
	bool big;          /* big-endian elements */
	bool fortran;
	size_t ndim, shape[NPY_MAX_DIMS];
	size_t count, bytes; /* elements and bytes of data */
};

static uint16_t get16(const uint8_t *p, bool big)
{
	return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t get32(const uint8_t *p, bool big)
{
	return big ? (uint32_t)get16(p, true) << 16 | get16(p + 2, true)
		   : (uint32_t)get16(p + 2, false) << 16 | get16(p, false);
}

static uint64_t get64(const uint8_t *p, bool big)
{
	return big ? (uint64_t)get32(p, true) << 32 | get32(p + 4, true)
		   : (uint64_t)get32(p + 4, false) << 32 | get32(p, false);
}

/* ---- the header's dict literal ---- */

/* A cursor over the header text; 'what' says what was wanted where it stopped. */
struct lex {
	const uint8_t *s;
	size_t n, i;
	const char *what;
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_ident(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void skip(struct lex *l)
{
	while (l->i < l->n && is_space(l->s[l->i]))
		l->i++;
}

/* whether the next token starts with 'c' */
static bool peek(struct lex *l, uint8_t c)
{
	skip(l);
	return l->i < l->n && l->s[l->i] == c;
}

static bool punct(struct lex *l, uint8_t c, const char *what)
{
	if (!peek(l, c)) {
		l->what = what;
		return false;
	}
	l->i++;
	return true;
}

/* A quoted string of printable ASCII without escapes: all numpy's repr()
 * writes for these keys and dtypes, and safe to quote in a one-line error. */
static bool string(struct lex *l, const char **s, size_t *len)
{
	if (!peek(l, '\'') && !peek(l, '"')) {
		l->what = "expected a quoted string";
		return false;
	}
	uint8_t q = l->s[l->i++];
	size_t start = l->i;
	for (; l->i < l->n && l->s[l->i] != q; l->i++) {
		if (l->s[l->i] < 0x20 || l->s[l->i] > 0x7e || l->s[l->i] == '\\') {
			l->what = "expected a plain string (printable ASCII, no escapes)";
			return false;
		}
	}
	if (l->i == l->n) {
		l->what = "expected the end of a string";
		return false;
	}
	*s = (const char *)l->s + start;
	*len = l->i++ - start;
	return true;
}

static bool boolean(struct lex *l, bool *v)
{
	skip(l);
	size_t start = l->i;
	while (l->i < l->n && is_ident(l->s[l->i]))
		l->i++;
	size_t len = l->i - start;
	if (len == 4 && memcmp(l->s + start, "True", 4) == 0)
		return *v = true, true;
	if (len == 5 && memcmp(l->s + start, "False", 5) == 0)
		return *v = false, true;
	l->i = start;
	l->what = "expected True or False";
	return false;
}

/* A non-negative decimal integer. Python 2's numpy wrote longs as "784L",
 * so that suffix is taken in the versions that existed then (1.0, 2.0). */
static bool number(struct lex *l, unsigned major, size_t *v)
{
	skip(l);
	size_t start = l->i;
	*v = 0;
	for (; l->i < l->n && l->s[l->i] >= '0' && l->s[l->i] <= '9'; l->i++) {
		if (l->i > start && l->s[start] == '0') {
			l->what = "a number with a leading zero";
			return false;
		}
		if (!sr_mul(*v, 10, v) || __builtin_add_overflow(*v, (size_t)(l->s[l->i] - '0'), v)) {
			l->what = "a dimension too large for this machine";
			return false;
		}
	}
	if (l->i == start) {
		l->what = "expected a non-negative integer";
		return false;
	}
	if (major < 3 && l->i < l->n && l->s[l->i] == 'L')
		l->i++;
	return true;
}

/* '(' [int (',' int)* [',']] ')', where one dimension needs its comma: "(5)"
 * is not a tuple in Python. */
static bool shape(struct lex *l, struct npy *h)
{
	if (!punct(l, '(', "expected '(' opening the shape tuple"))
		return false;
	h->ndim = 0;
	while (!peek(l, ')')) {
		if (h->ndim == NPY_MAX_DIMS) {
			l->what = "a shape of more than 32 dimensions";
			return false;
		}
		if (!number(l, h->major, &h->shape[h->ndim++]))
			return false;
		if (h->ndim == 1 && peek(l, ')')) {
			l->what = "expected ',' after the one dimension of a 1-D shape";
			return false;
		}
		if (!peek(l, ')') && !punct(l, ',', "expected ',' or ')' in the shape"))
			return false;
	}
	l->i++;
	return true;
}

/* The dict: exactly the keys 'descr', 'fortran_order' and 'shape', each once,
 * in any order, then only spaces (numpy pads with spaces and a newline). */
static enum softreg_result parse_dict(const uint8_t *s, size_t n, const char *name, struct npy *h, char *err)
{
	static const char *const keys[3] = {"descr", "fortran_order", "shape"};
	struct lex l = {s, n, 0, NULL};
	bool seen[3] = {false, false, false};
	if (!punct(&l, '{', "expected '{' opening the header dict"))
		goto bad;
	while (!peek(&l, '}')) {
		const char *k;
		size_t kn;
		if (!string(&l, &k, &kn))
			goto bad;
		int key = -1;
		for (int j = 0; j < 3; j++)
			if (kn == strlen(keys[j]) && memcmp(k, keys[j], kn) == 0)
				key = j;
		if (key < 0)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: .npy header has an unknown key '%.*s'", name,
				       (int)(kn > 40 ? 40 : kn), k);
		if (seen[key])
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: .npy header has the key '%s' twice", name,
				       keys[key]);
		seen[key] = true;
		if (!punct(&l, ':', "expected ':' after a key"))
			goto bad;
		bool ok = true;
		if (key == 0 && peek(&l, '['))
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "%s: structured dtypes (a list descr) are not supported", name);
		if (key == 0)
			ok = string(&l, &h->descr, &h->descr_len);
		else if (key == 1)
			ok = boolean(&l, &h->fortran);
		else
			ok = shape(&l, h);
		if (!ok || (!peek(&l, '}') && !punct(&l, ',', "expected ',' or '}' in the header dict")))
			goto bad;
	}
	l.i++;
	skip(&l);
	if (l.i < l.n) {
		l.what = "expected only spaces after the header dict";
		goto bad;
	}
	for (int j = 0; j < 3; j++)
		if (!seen[j])
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: .npy header lacks the key '%s'", name, keys[j]);
	return SOFTREG_OK;
bad:
	return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: malformed .npy header at byte %zu: %s", name, h->off - n + l.i,
		       l.what);
}

/* ---- what the header describes ---- */

/* '<f4' and the like: a byte order, a kind and a size in bytes. Multi-byte
 * types need an explicit order ('=' would depend on the writer's machine). */
static bool parse_descr(struct npy *h)
{
	const char *s = h->descr;
	if (h->descr_len != 3 || !strchr("<>|=", s[0]) || !strchr("biuf", s[1]) || !strchr("1248", s[2]))
		return false;
	h->kind = s[1];
	h->item = (size_t)(s[2] - '0');
	h->big = s[0] == '>';
	if (h->item == 1)
		return h->kind != 'f';
	return h->kind != 'b' && (s[0] == '<' || s[0] == '>');
}

/* The shape as Python prints it: "(5,)", "(5, 3)". */
static const char *shape_str(const struct npy *h, char *buf, size_t size)
{
	size_t at = 1;
	snprintf(buf, size, "(");
	for (size_t i = 0; i < h->ndim && at < size; i++)
		at += (size_t)snprintf(buf + at, size - at, i ? ", %zu" : "%zu", h->shape[i]);
	if (at < size)
		snprintf(buf + at, size - at, h->ndim == 1 ? ",)" : ")");
	return buf;
}

/* The dtype, order and shape against what 'labels' asks for, and the sizes. */
static enum softreg_result check_array(struct npy *h, const char *name, int labels, char *err)
{
	char sh[160];
	int dl = (int)(h->descr_len > 40 ? 40 : h->descr_len);
	bool known = parse_descr(h);
	if (labels && known && h->kind == 'f')
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: labels must be integers, found dtype '%.*s'", name, dl,
			       h->descr);
	if (labels && !known)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: dtype '%.*s' is not supported for labels (integers of 1 to 8 bytes, bool)",
			       name, dl, h->descr);
	if (!labels && (!known || (h->kind != 'f' && !(h->kind == 'u' && h->item == 1))))
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: dtype '%.*s' is not supported (uint8, float16, float32, float64)", name, dl,
			       h->descr);
	if (!labels && h->ndim != 2)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: features must be 2-D, found shape %s", name,
			       shape_str(h, sh, sizeof(sh)));
	if (labels && !(h->ndim == 1 || (h->ndim == 2 && h->shape[1] == 1)))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: labels must be 1-D, found shape %s", name,
			       shape_str(h, sh, sizeof(sh)));
	if (h->fortran)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: Fortran-order arrays are not supported; save with np.ascontiguousarray", name);
	h->count = 1;
	for (size_t i = 0; i < h->ndim; i++)
		if (!sr_mul(h->count, h->shape[i], &h->count))
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: shape %s overflows", name,
				       shape_str(h, sh, sizeof(sh)));
	if (!sr_mul(h->count, h->item, &h->bytes))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: shape %s overflows", name, shape_str(h, sh, sizeof(sh)));
	if (h->count == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: empty array of shape %s", name,
			       shape_str(h, sh, sizeof(sh)));
	if (h->shape[0] > UINT32_MAX) /* rows are indexed with uint32_t in batches */
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %zu rows, more than the limit of %u", name, h->shape[0],
			       UINT32_MAX);
	if (!labels && h->shape[1] > SOFTREG_MAX_FEATURES)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %zu features, more than the limit of %u", name,
			       h->shape[1], SOFTREG_MAX_FEATURES);
	return SOFTREG_OK;
}

/* The fixed preamble: magic, version, header length. 'have' bytes of 'buf'
 * are there, of a file of 'len' bytes. */
static enum softreg_result parse_preamble(const uint8_t *buf, size_t have, size_t len, const char *name,
					  struct npy *h, char *err)
{
	if (len == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: empty file, not an .npy file", name);
	if (memcmp(buf, npy_magic, have < 6 ? have : 6) != 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: not an .npy file (no \\x93NUMPY magic)", name);
	if (have < 8)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated .npy preamble (%zu bytes)", name, have);
	h->major = buf[6];
	if ((h->major < 1 || h->major > 3) || buf[7] != 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: .npy version %u.%u is not supported (1.0, 2.0, 3.0)", name,
			       buf[6], buf[7]);
	size_t start = h->major == 1 ? 10 : 12;
	if (have < start)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated .npy preamble (%zu bytes)", name, have);
	size_t hlen = h->major == 1 ? get16(buf + 8, false) : get32(buf + 8, false);
	if (hlen > NPY_MAX_HEADER)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: .npy header length %zu is over the limit of %zu", name,
			       hlen, NPY_MAX_HEADER);
	if (hlen > len - start)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: .npy header length %zu is beyond the end of the file (%zu bytes)", name, hlen, len);
	h->off = start + hlen;
	return SOFTREG_OK;
}

/* The whole header (in 'buf', 'have' >= its length) of a file of 'len'
 * bytes, checked down to the data's length. */
static enum softreg_result parse_header(const uint8_t *buf, size_t have, size_t len, const char *name, int labels,
					struct npy *h, char *err)
{
	memset(h, 0, sizeof(*h));
	enum softreg_result r = parse_preamble(buf, have, len, name, h, err);
	size_t start = h->major == 1 ? 10 : 12;
	if (r == SOFTREG_OK)
		r = parse_dict(buf + start, h->off - start, name, h, err);
	if (r == SOFTREG_OK)
		r = check_array(h, name, labels, err);
	if (r)
		return r;
	char sh[160];
	if (len - h->off < h->bytes)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: truncated: shape %s of '%.*s' needs %zu bytes of data, file has %zu", name,
			       shape_str(h, sh, sizeof(sh)), (int)h->descr_len, h->descr, h->bytes, len - h->off);
	if (len - h->off > h->bytes)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %zu bytes of trailing junk after the data", name,
			       len - h->off - h->bytes);
	return SOFTREG_OK;
}

/* ---- the data ---- */

static enum softreg_result load_labels(const uint8_t *p, const struct npy *h, const char *name,
				       struct softreg_dataset *ds, char *err)
{
	size_t n = h->shape[0], bytes;
	int64_t *y = sr_mul(n, sizeof(*y), &bytes) ? malloc(bytes) : NULL;
	if (!y || !sr_dataset_own(ds, y)) {
		free(y);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", name, n * sizeof(*y));
	}
	ds->labels = y;
	ds->n = n;
	unsigned bits = 8 * (unsigned)h->item;
	uint64_t sign = (uint64_t)1 << (bits - 1), mask = sign | (sign - 1);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = p + i * h->item;
		uint64_t v = h->item == 1 ? e[0] : h->item == 2 ? get16(e, h->big) : h->item == 4 ? get32(e, h->big)
											 : get64(e, h->big);
		if (h->kind == 'b' && v > 1)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: row %zu holds the bool byte 0x%02x (not 0 or 1)",
				       name, i + 1, (unsigned)v);
		if (h->kind == 'u' && v > INT64_MAX)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: row %zu holds the label %llu, beyond int64", name,
				       i + 1, (unsigned long long)v);
		/* two's complement by hand: converting a big uint64 to int64 is implementation-defined */
		y[i] = h->kind == 'i' && (v & sign) ? -(int64_t)(~v & mask) - 1 : (int64_t)v;
	}
	return SOFTREG_OK;
}

/* Elements of 'h' at 'p' into 'out' (u8, f16 bits or f32), any byte order. */
static enum softreg_result convert(const uint8_t *p, const struct npy *h, const char *name, void *out, char *err)
{
	size_t count = h->count;
	if (h->item == 1 || (h->item <= 4 && !h->big && NPY_HOST_LE)) {
		memcpy(out, p, h->bytes);
	} else if (h->item == 2) {
		uint16_t *o = out;
		for (size_t i = 0; i < count; i++)
			o[i] = get16(p + 2 * i, h->big);
	} else if (h->item == 4) {
		uint32_t *o = out; /* float bits */
		for (size_t i = 0; i < count; i++)
			o[i] = get32(p + 4 * i, h->big);
	} else {
		float *o = out;
		for (size_t i = 0; i < count; i++) {
			uint64_t bits = get64(p + 8 * i, h->big);
			double v;
			memcpy(&v, &bits, sizeof(v));
			o[i] = (float)v;
			if (isinf(o[i]) && !isinf(v)) /* NaN and infinities are left to sr_check_finite() */
				return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: row %zu holds %g, beyond float32", name,
					       i / h->shape[1] + 1, v);
		}
	}
	return SOFTREG_OK;
}

/* Features from the data at 'p': in place when 'in_place' allows it and the
 * elements are usable as they are (then ds->x.data == p), else converted. */
static enum softreg_result load_features(const uint8_t *p, const struct npy *h, const char *name, bool in_place,
					 struct softreg_dataset *ds, char *err)
{
	struct softreg_source *x = &ds->x;
	x->kind = h->kind == 'u' ? SOFTREG_SOURCE_U8 : h->item == 2 ? SOFTREG_SOURCE_F16 : SOFTREG_SOURCE_F32;
	x->n = ds->n = h->shape[0];
	x->d = ds->d = h->shape[1];
	ds->rows = 1;
	ds->cols = x->d;
	/* the element loads of the kernels need natural alignment: a header of
	 * odd length (numpy pads to 64, others may not) means a copy */
	if (in_place && h->item <= 4 && (h->item == 1 || (!h->big && NPY_HOST_LE)) &&
	    (uintptr_t)p % h->item == 0) {
		x->data = p;
	} else {
		size_t bytes = h->count * (h->item == 8 ? 4 : h->item); /* <= the data's bytes: no overflow */
		void *out = malloc(bytes);
		if (!out || !sr_dataset_own(ds, out)) {
			free(out);
			return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", name, bytes);
		}
		x->data = out;
		enum softreg_result r = convert(p, h, name, out, err);
		if (r)
			return r;
	}
	return x->kind == SOFTREG_SOURCE_U8 ? SOFTREG_OK : sr_check_finite(ds, name, err);
}

enum softreg_result softreg_npy_parse(const uint8_t *buf, size_t len, const char *name, int labels,
				      struct softreg_dataset *ds, char *err)
{
	memset(ds, 0, sizeof(*ds));
	struct npy h = {0};
	enum softreg_result r = parse_header(buf, len, len, name, labels, &h, err);
	if (r == SOFTREG_OK)
		r = labels ? load_labels(buf + h.off, &h, name, ds, err)
			   : load_features(buf + h.off, &h, name, false, ds, err);
	if (r)
		softreg_dataset_free(ds);
	return r;
}

/* Read and check the header of the open file 'f' of 'size' bytes: only the
 * header is read, whatever the data's size. */
static enum softreg_result read_header(FILE *f, const char *path, size_t size, int labels, struct npy *h, char *err)
{
	uint8_t pre[12];
	size_t have = fread(pre, 1, sizeof(pre), f);
	if (have < sizeof(pre) && ferror(f))
		return sr_fail(err, SOFTREG_ERR_IO, "%s: read error: %s", path, strerror(errno));
	enum softreg_result r = parse_preamble(pre, have, size, path, h, err);
	if (r)
		return r;
	uint8_t *buf = malloc(h->off);
	if (!buf)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", path, h->off);
	size_t got = have < h->off ? have : h->off; /* a v1 preamble is 10 bytes: 'pre' may hold header bytes */
	memcpy(buf, pre, got);
	if (fread(buf + got, 1, h->off - got, f) != h->off - got)
		r = ferror(f) ? sr_fail(err, SOFTREG_ERR_IO, "%s: read error: %s", path, strerror(errno))
			      : sr_fail(err, SOFTREG_ERR_IO, "%s: the file shrank while it was read", path);
	if (r == SOFTREG_OK)
		r = parse_header(buf, h->off, size, path, labels, h, err);
	free(buf);
	return r;
}

enum softreg_result sr_npy_read(const char *path, int labels, struct softreg_dataset *ds, char *err)
{
	memset(ds, 0, sizeof(*ds));
	FILE *f;
	size_t size;
	enum softreg_result r = sr_open_regular(path, &f, &size, err);
	if (r)
		return r;
	struct npy h = {0};
	r = read_header(f, path, size, labels, &h, err);
	/* the length was checked against the header, so the mapping holds all
	 * the data; nothing of it is read here (a file truncated by someone else
	 * meanwhile would fault on access, as with any mapping) */
	void *map = MAP_FAILED;
	if (r == SOFTREG_OK) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
		if (map == MAP_FAILED)
			r = sr_fail(err, SOFTREG_ERR_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(errno));
	}
	fclose(f);
	if (r)
		return r;
	ds->map_ = map;
	ds->map_len_ = size;
	const uint8_t *data = (const uint8_t *)map + h.off;
	r = labels ? load_labels(data, &h, path, ds, err) : load_features(data, &h, path, true, ds, err);
	if (r) {
		softreg_dataset_free(ds);
		return r;
	}
	if (ds->x.data != data) { /* converted: the mapping served its purpose */
		munmap(map, size);
		ds->map_ = NULL;
		ds->map_len_ = 0;
	}
	return SOFTREG_OK;
}
