/* SPDX-License-Identifier: MIT
 * pgm.c: a strict reader of PGM images (netpbm P2 text and P5 binary). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PGM_MAX_PIXELS ((size_t)1 << 26)
#define PGM_MAX_FILE ((size_t)1 << 30)

struct cursor {
	const uint8_t *p, *end;
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* skip whitespace and '#' comments (to the end of the line) */
static void skip_space(struct cursor *c)
{
	while (c->p < c->end) {
		if (*c->p == '#') {
			while (c->p < c->end && *c->p != '\n')
				c->p++;
		} else if (is_space(*c->p)) {
			c->p++;
		} else {
			break;
		}
	}
}

/* a decimal number <= max; false when absent, malformed or too large */
static bool read_uint(struct cursor *c, size_t max, size_t *out)
{
	skip_space(c);
	size_t v = 0;
	const uint8_t *start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		v = v * 10 + (size_t)(*c->p - '0');
		if (v > max)
			return false;
		c->p++;
	}
	if (c->p == start)
		return false;
	*out = v;
	/* a number ends at whitespace, a comment or the end of the file */
	return c->p == c->end || is_space(*c->p) || *c->p == '#';
}

/* P5: after maxval, an optional comment, then exactly one whitespace byte,
 * then exactly npix * bpp bytes of raster */
static enum softreg_result check_raster(struct cursor *c, size_t npix, size_t bpp, const char *name, char *err)
{
	if (c->p < c->end && *c->p == '#')
		while (c->p < c->end && *c->p != '\n')
			c->p++;
	if (c->p == c->end || !is_space(*c->p))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated PGM header (no whitespace before the raster)",
			       name);
	c->p++;
	size_t need = npix * bpp, have = (size_t)(c->end - c->p);
	if (have < need)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated: %zu of %zu pixel bytes", name, have, need);
	if (have > need)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: %zu bytes of trailing junk", name, have - need);
	return SOFTREG_OK;
}

/* P2: npix numbers need at least 2 * npix - 1 bytes; checked before the
 * pixels are allocated */
static enum softreg_result check_text_room(const struct cursor *c, size_t npix, const char *name, char *err)
{
	size_t have = (size_t)(c->end - c->p);
	if (have < 2 * npix - 1) /* npix <= 2^26: no overflow */
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: truncated: %zu pixels claimed, %zu bytes left", name, npix,
			       have);
	return SOFTREG_OK;
}

enum softreg_result softreg_pgm_parse(const uint8_t *buf, size_t len, const char *name, uint8_t **pixels_ret,
				      size_t *rows_ret, size_t *cols_ret, char *err)
{
	*pixels_ret = NULL;
	struct cursor c = {buf, buf + len};
	if (len < 2 || buf[0] != 'P' || (buf[1] != '2' && buf[1] != '5'))
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: not a PGM image (P2 or P5)", name);
	bool binary = buf[1] == '5';
	c.p += 2;
	if (c.p < c.end && !is_space(*c.p) && *c.p != '#')
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: not a PGM image (P2 or P5)", name);
	size_t w, h, maxval, npix;
	if (!read_uint(&c, 65535, &w) || !read_uint(&c, 65535, &h) || w == 0 || h == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: bad PGM width or height", name);
	if (!sr_mul(w, h, &npix) || npix > PGM_MAX_PIXELS)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: PGM of %zux%zu is too large", name, w, h);
	if (!read_uint(&c, 65535, &maxval) || maxval == 0)
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: bad PGM maxval (1..65535)", name);
	enum softreg_result r = binary ? check_raster(&c, npix, maxval > 255 ? 2 : 1, name, err)
				       : check_text_room(&c, npix, name, err);
	if (r)
		return r;
	uint8_t *px = malloc(npix);
	if (!px)
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", name);
	for (size_t i = 0; i < npix; i++) {
		size_t v;
		if (binary) {
			v = maxval > 255 ? (size_t)c.p[2 * i] << 8 | c.p[2 * i + 1] : c.p[i];
		} else if (!read_uint(&c, 65535, &v)) {
			free(px);
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: bad or missing pixel %zu of %zu", name, i + 1, npix);
		}
		if (v > maxval) {
			free(px);
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: pixel %zu is %zu, above maxval %zu", name, i + 1, v,
				       maxval);
		}
		px[i] = (uint8_t)((v * 255 + maxval / 2) / maxval);
	}
	if (!binary) {
		skip_space(&c);
		if (c.p != c.end) {
			free(px);
			return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: trailing junk after %zu pixels", name, npix);
		}
	}
	*pixels_ret = px;
	*rows_ret = h;
	*cols_ret = w;
	return SOFTREG_OK;
}

enum softreg_result softreg_pgm_read(const char *path, uint8_t **pixels_ret, size_t *rows_ret, size_t *cols_ret,
				     char *err)
{
	*pixels_ret = NULL;
	FILE *f;
	size_t len;
	enum softreg_result r = sr_open_regular(path, &f, &len, err);
	if (r)
		return r;
	if (len > PGM_MAX_FILE) {
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_FORMAT, "%s: larger than the 1 GiB a PGM image may take", path);
	}
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	}
	if (fread(buf, 1, len, f) != len) {
		free(buf);
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_IO, "%s: read error", path);
	}
	fclose(f);
	r = softreg_pgm_parse(buf, len, path, pixels_ret, rows_ret, cols_ret, err);
	free(buf);
	return r;
}
