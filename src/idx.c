/* SPDX-License-Identifier: MIT
 * idx.c: the IDX reader (LeCun's format: big-endian header, unsigned bytes),
 * raw or gzip. Every header field is checked against the file's real length
 * before anything is allocated.
 *
 * A gzip file is inflated whole by libdeflate (2.7x zlib's speed on MNIST's
 * training images: 47 against 127 ms), into a buffer that the header's size,
 * the gzip trailer and deflate's largest ratio (1032:1) all bound. When that
 * fails, the file is read again through zlib's stream, whose messages say
 * what is wrong (a CRC, a truncation, junk after the stream). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Validate the magic and dimensions in 'hdr' (at least 16 bytes, 'have' of
 * them valid); fill out->ndim, dims, nbytes and '*hdr_len'. */
static enum softreg_result parse_header(const uint8_t *hdr, size_t have, const char *name,
					uint64_t max_bytes, struct softreg_idx *out,
					size_t *hdr_len, char *err)
{
	if (have < 4)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated IDX header (%zu bytes)", name, have);
	uint32_t magic = be32(hdr);
	if (hdr[0] != 0 || hdr[1] != 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: not an IDX file (magic 0x%08x)", name, magic);
	if (hdr[2] != 0x08)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: IDX element type 0x%02x is not unsigned byte (0x08)", name, hdr[2]);
	size_t ndim = hdr[3];
	if (ndim != 1 && ndim != 3)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: IDX with %zu dimensions (expected 1 for labels or 3 for images)",
			       name, ndim);
	*hdr_len = 4 + 4 * ndim;
	if (have < *hdr_len)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated IDX header (%zu of %zu bytes)",
			       name, have, *hdr_len);
	size_t total = 1;
	for (size_t i = 0; i < ndim; i++) {
		out->dims[i] = be32(hdr + 4 + 4 * i);
		if (!sr_mul(total, out->dims[i], &total) || total > max_bytes)
			return sr_fail(err, SOFTREG_ERR_FORMAT,
				       "%s: IDX dimensions claim more than the limit of %llu bytes",
				       name, (unsigned long long)max_bytes);
	}
	if (total == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: IDX file holds no data (a zero dimension)", name);
	out->ndim = ndim;
	out->nbytes = total;
	return SOFTREG_OK;
}

enum softreg_result softreg_idx_parse(const uint8_t *buf, size_t len, const char *name,
				      uint64_t max_bytes, struct softreg_idx *out, char *err)
{
	memset(out, 0, sizeof(*out));
	if (max_bytes == 0)
		max_bytes = SOFTREG_IDX_MAX_BYTES;
	size_t hdr_len = 0;
	struct softreg_idx idx = {0};
	enum softreg_result r = parse_header(buf, len, name, max_bytes, &idx, &hdr_len, err);
	if (r)
		return r;
	if (len - hdr_len < idx.nbytes)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated: header claims %zu bytes of data, file has %zu",
			       name, idx.nbytes, len - hdr_len);
	if (len - hdr_len > idx.nbytes)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %zu bytes of trailing junk after the data", name,
			       len - hdr_len - idx.nbytes);
	idx.data = malloc(idx.nbytes);
	if (!idx.data)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", name, idx.nbytes);
	memcpy(idx.data, buf + hdr_len, idx.nbytes);
	*out = idx;
	return SOFTREG_OK;
}

/* A byte source over an open file: raw bytes, or the output of one gzip
 * stream inflated incrementally, so that nothing is allocated on the word of a
 * header or a trailer alone: memory grows with the data that really inflates. */
struct src {
	FILE *f;
	const char *path;
	bool gzip, ended; /* ended: the gzip stream's end (and its CRC) was reached */
	z_stream z;
	uint8_t in[1 << 16];
};

static enum softreg_result src_fill(struct src *s, char *err)
{
	size_t n = fread(s->in, 1, sizeof(s->in), s->f);
	if (n == 0 && ferror(s->f))
		return sr_fail(err, SOFTREG_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)n;
	return SOFTREG_OK;
}

/* Inflate up to 'n' bytes into 'buf'; '*got' is short only at the stream's end. */
static enum softreg_result gz_read(struct src *s, uint8_t *buf, size_t n, size_t *got, char *err)
{
	*got = 0;
	while (*got < n && !s->ended) {
		if (s->z.avail_in == 0) {
			enum softreg_result r = src_fill(s, err);
			if (r)
				return r;
			if (s->z.avail_in == 0)
				return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated gzip stream", s->path);
		}
		size_t want = n - *got > (1u << 30) ? (1u << 30) : n - *got;
		s->z.next_out = buf + *got;
		s->z.avail_out = (uInt)want;
		int zr = inflate(&s->z, Z_NO_FLUSH);
		*got += want - s->z.avail_out;
		if (zr == Z_STREAM_END)
			s->ended = true;
		else if (zr == Z_MEM_ERROR)
			return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory in zlib", s->path);
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: corrupt gzip stream (%s)", s->path,
				       s->z.msg ? s->z.msg : "bad data");
	}
	return SOFTREG_OK;
}

/* Read up to 'n' bytes; '*got' is short only at the end of the data. */
static enum softreg_result src_read(struct src *s, uint8_t *buf, size_t n, size_t *got, char *err)
{
	if (s->gzip)
		return gz_read(s, buf, n, got, err);
	*got = fread(buf, 1, n, s->f);
	if (*got < n && ferror(s->f))
		return sr_fail(err, SOFTREG_ERR_IO, "%s: read error: %s", s->path, strerror(errno));
	return SOFTREG_OK;
}

/* The data must end here: no byte left, and for gzip the stream complete
 * (its CRC and length checked by zlib) with nothing after it. */
static enum softreg_result src_expect_end(struct src *s, char *err)
{
	uint8_t extra;
	size_t got;
	enum softreg_result r = src_read(s, &extra, 1, &got, err);
	if (r)
		return r;
	if (got)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: trailing junk after the data", s->path);
	if (s->gzip && (s->z.avail_in > 0 || fread(&extra, 1, 1, s->f) == 1))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: trailing junk after the end of the gzip stream",
			       s->path);
	return SOFTREG_OK;
}

/* The payload of 'nbytes': a raw file's length was checked already, so it is
 * allocated at once; a gzip buffer grows with what actually inflates. */
static enum softreg_result read_payload(struct src *s, size_t nbytes, uint8_t **data_ret, char *err)
{
	size_t cap = s->gzip && nbytes > (1u << 20) ? (1u << 20) : nbytes, got = 0;
	uint8_t *data = malloc(cap);
	enum softreg_result r = data ? SOFTREG_OK
				     : sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", s->path, cap);
	while (r == SOFTREG_OK && got < nbytes) {
		if (got == cap) {
			cap = cap > nbytes / 2 ? nbytes : 2 * cap;
			uint8_t *bigger = realloc(data, cap);
			if (!bigger) {
				r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", s->path, cap);
				break;
			}
			data = bigger;
		}
		size_t n = 0;
		r = src_read(s, data + got, cap - got, &n, err);
		if (r == SOFTREG_OK && n < cap - got && got + n < nbytes)
			r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated: %zu of %zu bytes of data", s->path,
				    got + n, nbytes);
		got += n;
	}
	if (r) {
		free(data);
		return r;
	}
	*data_ret = data;
	return SOFTREG_OK;
}

/* Open 'path', learn whether it is gzip, and its real length: the file's size,
 * and for gzip the trailer's size field (ISIZE, the length mod 2^32). */
static enum softreg_result src_open(struct src *s, uint64_t *size_ret, uint32_t *isize_ret, char *err)
{
	const char *path = s->path;
	size_t fsize;
	if (sr_open_regular(path, &s->f, &fsize, err))
		return SOFTREG_ERR_IO;
	struct stat st;
	if (fstat(fileno(s->f), &st) != 0)
		return sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
	*size_ret = (uint64_t)st.st_size;
	uint8_t m[2];
	s->gzip = fread(m, 1, 2, s->f) == 2 && m[0] == 0x1f && m[1] == 0x8b;
	if (s->gzip) {
		uint8_t t[4];
		if (st.st_size < 18 || fseek(s->f, -4, SEEK_END) != 0 || fread(t, 1, 4, s->f) != 4)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated gzip file", path);
		*isize_ret = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) { /* gzip only */
			s->gzip = false;
			return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory in zlib", path);
		}
	}
	rewind(s->f);
	return SOFTREG_OK;
}

static void src_close(struct src *s)
{
	if (s->gzip)
		inflateEnd(&s->z);
	if (s->f)
		fclose(s->f);
}

/* The header's total against the real length, before anything is allocated. */
static enum softreg_result check_length(const struct src *s, uint64_t total, uint64_t size, uint32_t isize,
					char *err)
{
	if (!s->gzip && size != total)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       size < total ? "%s: truncated: header claims %llu bytes, file has %llu"
					    : "%s: trailing junk: header claims %llu bytes, file has %llu",
			       s->path, (unsigned long long)total, (unsigned long long)size);
	if (s->gzip && (uint32_t)total != isize)
		return sr_fail(err, SOFTREG_ERR_FORMAT,
			       "%s: header claims %llu bytes, gzip trailer says %u (mod 2^32): truncated, corrupt or followed by junk",
			       s->path, (unsigned long long)total, isize);
	return SOFTREG_OK;
}

/* deflate emits at least one bit per 258 bytes of output: no valid stream of
 * 'size' bytes inflates to more than this */
#define DEFLATE_MAX_RATIO 1032

/* The whole gzip file inflated at once: the payload (after 'hdr_len' header
 * bytes) at idx->data, inside the buffer *base (what to free: the payload is
 * not moved to its start, a pass over all of it saved); false, with nothing
 * allocated, when anything is amiss: the caller's streaming read then finds
 * and names the problem. The compressed file is mapped, not copied. */
static bool gzip_whole(struct src *s, uint64_t size, size_t hdr_len, struct softreg_idx *idx, uint8_t **base)
{
	size_t total = hdr_len + idx->nbytes;
	if (size == 0 || size > SIZE_MAX / DEFLATE_MAX_RATIO || total > size * DEFLATE_MAX_RATIO)
		return false;
	uint8_t *out = malloc(total ? total : 1), *in = NULL;
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(s->f), 0);
	bool ok = out != NULL;
	if (map != MAP_FAILED) {
		in = map;
	} else if (ok && (in = malloc(size)) != NULL) { /* a file that cannot be mapped: read it */
		for (size_t got = 0; ok && got < size;) {
			ssize_t n = pread(fileno(s->f), in + got, size - got, (off_t)got);
			ok = n > 0;
			got += ok ? (size_t)n : 0;
		}
	}
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	ok = ok && in && d;
	if (ok && total >= (4u << 20)) /* 2 MB pages: a tenth of the first-touch faults (MNIST: 47 MB) */
		madvise((void *)((uintptr_t)out & ~(uintptr_t)4095), total, MADV_HUGEPAGE);
	size_t in_used = 0, out_used = 0;
	ok = ok && libdeflate_gzip_decompress_ex(d, in, size, out, total, &in_used, &out_used) == LIBDEFLATE_SUCCESS &&
	     in_used == size && out_used == total;
	libdeflate_free_decompressor(d);
	if (map != MAP_FAILED)
		munmap(map, size);
	else
		free(in);
	if (!ok) {
		free(out);
		return false;
	}
	idx->data = out + hdr_len;
	*base = out;
	return true;
}

/* Open s->path and read its header into idx (no payload): the file's size
 * and the header's length; every field checked against the real length. */
static enum softreg_result read_header(struct src *s, uint64_t max_bytes, struct softreg_idx *idx, uint64_t *size,
				       size_t *hdr_len, char *err)
{
	uint32_t isize = 0;
	enum softreg_result r = src_open(s, size, &isize, err);
	uint8_t hdr[16];
	size_t have = 0;
	if (r == SOFTREG_OK)
		r = src_read(s, hdr, 4, &have, err);
	if (r == SOFTREG_OK && have == 4 && (hdr[3] == 1 || hdr[3] == 3)) {
		size_t more = 0;
		r = src_read(s, hdr + 4, 4u * hdr[3], &more, err);
		have += more;
	}
	if (r == SOFTREG_OK)
		r = parse_header(hdr, have, s->path, max_bytes, idx, hdr_len, err);
	if (r == SOFTREG_OK)
		r = check_length(s, (uint64_t)*hdr_len + idx->nbytes, *size, isize, err);
	return r;
}

/* the file into idx; *base is what to free (idx->data may point into it) */
static enum softreg_result read_idx(struct src *s, uint64_t max_bytes, struct softreg_idx *idx, uint8_t **base,
				    char *err)
{
	uint64_t size = 0;
	size_t hdr_len = 0;
	enum softreg_result r = read_header(s, max_bytes, idx, &size, &hdr_len, err);
	if (r == SOFTREG_OK && s->gzip && gzip_whole(s, size, hdr_len, idx, base))
		return SOFTREG_OK;
	if (r == SOFTREG_OK)
		r = read_payload(s, idx->nbytes, &idx->data, err);
	*base = idx->data;
	if (r == SOFTREG_OK)
		r = src_expect_end(s, err);
	return r;
}

/* what both readers begin with: 'out' cleared, the default limit, a source
 * for 'path' (NULL, with the message, when there is no memory for it) */
static struct src *src_new(const char *path, uint64_t *max_bytes, struct softreg_idx *out, char *err)
{
	memset(out, 0, sizeof(*out));
	if (*max_bytes == 0)
		*max_bytes = SOFTREG_IDX_MAX_BYTES;
	struct src *s = calloc(1, sizeof(*s));
	if (!s)
		sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	else
		s->path = path;
	return s;
}

enum softreg_result sr_idx_read(const char *path, uint64_t max_bytes, struct softreg_idx *out, uint8_t **base,
			       char *err)
{
	*base = NULL;
	struct src *s = src_new(path, &max_bytes, out, err);
	if (!s)
		return SOFTREG_ERR_NOMEM;
	struct softreg_idx idx = {0};
	enum softreg_result r = read_idx(s, max_bytes, &idx, base, err);
	src_close(s);
	free(s);
	if (r) {
		free(*base);
		*base = NULL;
		return r;
	}
	*out = idx;
	return SOFTREG_OK;
}

enum softreg_result softreg_idx_read(const char *path, uint64_t max_bytes, struct softreg_idx *out,
				     char *err)
{
	uint8_t *base;
	enum softreg_result r = sr_idx_read(path, max_bytes, out, &base, err);
	if (r == SOFTREG_OK && base != out->data) { /* the payload to the start of what softreg_idx_free() frees */
		memmove(base, out->data, out->nbytes);
		out->data = base;
	}
	return r;
}

void softreg_idx_free(struct softreg_idx *idx)
{
	if (!idx)
		return;
	free(idx->data);
	memset(idx, 0, sizeof(*idx));
}

/* ---- a range of rows (one process's share under MPI) ---- */

enum softreg_result softreg_idx_read_rows(const char *path, uint64_t max_bytes, size_t row0, size_t count,
					  struct softreg_idx *out, char *err)
{
	struct src *s = src_new(path, &max_bytes, out, err);
	if (!s)
		return SOFTREG_ERR_NOMEM;
	uint64_t size = 0;
	size_t hdr_len = 0;
	struct softreg_idx idx = {0};
	enum softreg_result r = read_header(s, max_bytes, &idx, &size, &hdr_len, err);
	size_t rows = idx.dims[0], per = rows ? idx.nbytes / rows : 0;
	if (r == SOFTREG_OK && (row0 > rows || count > rows - row0))
		r = sr_fail(err, SOFTREG_ERR_PARAM, "%s: rows %zu..%zu of %zu", path, row0, row0 + count, rows);
	bool gzip = s->gzip;
	if (r == SOFTREG_OK && count && !gzip) { /* only the bytes of the rows */
		idx.data = malloc(count * per);
		if (!idx.data)
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", path, count * per);
		for (size_t got = 0; r == SOFTREG_OK && got < count * per;) {
			ssize_t n = pread(fileno(s->f), idx.data + got, count * per - got,
					  (off_t)(hdr_len + row0 * per + got));
			if (n <= 0)
				r = sr_fail(err, SOFTREG_ERR_IO, "%s: read error: %s", path, n ? strerror(errno) : "short file");
			else
				got += (size_t)n;
		}
	}
	src_close(s);
	free(s);
	if (r == SOFTREG_OK && count && gzip) { /* a stream: inflated whole, the other rows dropped */
		struct softreg_idx whole;
		uint8_t *base;
		r = sr_idx_read(path, max_bytes, &whole, &base, err);
		if (r == SOFTREG_OK) {
			memmove(base, whole.data + row0 * per, count * per);
			uint8_t *shrunk = realloc(base, count * per);
			idx.data = shrunk ? shrunk : base;
		}
	}
	if (r) {
		free(idx.data);
		return r;
	}
	idx.nbytes = count * per;
	*out = idx;
	return SOFTREG_OK;
}
