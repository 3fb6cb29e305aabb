/* SPDX-License-Identifier: MIT
 * idx.c: the IDX reader (LeCun's format: big-endian header, unsigned bytes),
 * raw or gzip through zlib. Every header field is checked against the file's
 * real length before anything is allocated. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Read exactly 'n' bytes from a gzFile; 'why' is set on failure. */
static enum softreg_result gz_read_all(gzFile gz, uint8_t *buf, size_t n, const char *name,
				       size_t *got_ret, char *err)
{
	size_t got = 0;
	while (got < n) {
		unsigned int want = n - got > (1u << 30) ? (1u << 30) : (unsigned int)(n - got);
		int r = gzread(gz, buf + got, want);
		if (r < 0) {
			int errnum;
			const char *msg = gzerror(gz, &errnum);
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: corrupt gzip stream (%s)", name,
				       errnum == Z_ERRNO ? strerror(errno) : msg);
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*got_ret = got;
	if (got < n) {
		int errnum;
		const char *msg = gzerror(gz, &errnum);
		if (errnum != Z_OK && errnum != Z_BUF_ERROR)
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: corrupt gzip stream (%s)", name, msg);
	}
	return SOFTREG_OK;
}

enum softreg_result softreg_idx_read(const char *path, uint64_t max_bytes, struct softreg_idx *out,
				     char *err)
{
	memset(out, 0, sizeof(*out));
	if (max_bytes == 0)
		max_bytes = SOFTREG_IDX_MAX_BYTES;

	/* Learn the real length first: the file's size, and for gzip the size
	 * field (ISIZE, the length mod 2^32) of its trailer. */
	FILE *f = fopen(path, "rb");
	if (!f)
		return sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_IO, "%s: not a regular file", path);
	}
	uint8_t magic2[2] = {0, 0};
	size_t nmagic = fread(magic2, 1, 2, f);
	bool gzip = nmagic == 2 && magic2[0] == 0x1f && magic2[1] == 0x8b;
	uint32_t isize = 0;
	if (gzip) {
		uint8_t t[4];
		if (st.st_size < 18 || fseek(f, -4, SEEK_END) != 0 || fread(t, 1, 4, f) != 4) {
			fclose(f);
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated gzip file", path);
		}
		isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
	}
	fclose(f);

	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, errno ? strerror(errno) : "cannot open");
	gzbuffer(gz, 1u << 18);

	enum softreg_result r;
	uint8_t hdr[16];
	size_t have = 0, hdr_len = 0;
	struct softreg_idx idx = {0};
	r = gz_read_all(gz, hdr, 4, path, &have, err);
	if (r == SOFTREG_OK && have == 4 && (hdr[3] == 1 || hdr[3] == 3)) {
		size_t more = 0;
		r = gz_read_all(gz, hdr + 4, 4u * hdr[3], path, &more, err);
		have += more;
	}
	if (r == SOFTREG_OK)
		r = parse_header(hdr, have, path, max_bytes, &idx, &hdr_len, err);
	if (r == SOFTREG_OK) {
		uint64_t total = (uint64_t)hdr_len + idx.nbytes;
		if (!gzip && (uint64_t)st.st_size != total)
			r = sr_fail(err, SOFTREG_ERR_FORMAT,
				    (uint64_t)st.st_size < total
					    ? "%s: truncated: header claims %llu bytes, file has %llu"
					    : "%s: trailing junk: header claims %llu bytes, file has %llu",
				    path, (unsigned long long)total, (unsigned long long)st.st_size);
		else if (gzip && (uint32_t)total != isize)
			r = sr_fail(err, SOFTREG_ERR_FORMAT,
				    "%s: header claims %llu bytes, gzip trailer says %u (mod 2^32): truncated or corrupt",
				    path, (unsigned long long)total, isize);
	}
	if (r == SOFTREG_OK) {
		idx.data = malloc(idx.nbytes);
		if (!idx.data)
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory for %zu bytes", path, idx.nbytes);
	}
	if (r == SOFTREG_OK) {
		size_t got = 0;
		r = gz_read_all(gz, idx.data, idx.nbytes, path, &got, err);
		if (r == SOFTREG_OK && got < idx.nbytes)
			r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated: %zu of %zu bytes of data", path, got,
				    idx.nbytes);
	}
	if (r == SOFTREG_OK) {
		uint8_t extra;
		size_t got = 0;
		r = gz_read_all(gz, &extra, 1, path, &got, err);
		if (r == SOFTREG_OK && got != 0)
			r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: trailing junk after the data", path);
	}
	int zr = gzclose(gz);
	if (r == SOFTREG_OK && zr != Z_OK)
		r = sr_fail(err, SOFTREG_ERR_FORMAT, "%s: corrupt gzip stream (error %d at close)", path, zr);
	if (r) {
		free(idx.data);
		return r;
	}
	*out = idx;
	return SOFTREG_OK;
}

void softreg_idx_free(struct softreg_idx *idx)
{
	if (!idx)
		return;
	free(idx->data);
	memset(idx, 0, sizeof(*idx));
}
