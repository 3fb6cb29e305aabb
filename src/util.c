/* SPDX-License-Identifier: MIT
 * util.c: error messages, time, CRC-32, names. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

enum softreg_result sr_fail(char *err, enum softreg_result r, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, SOFTREG_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return r;
}

double sr_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint32_t sr_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) { /* zlib's crc32 takes a uInt length */
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

const char *softreg_result_name(enum softreg_result r)
{
	switch (r) {
	case SOFTREG_OK: return "ok";
	case SOFTREG_ERR_IO: return "io";
	case SOFTREG_ERR_FORMAT: return "format";
	case SOFTREG_ERR_NOMEM: return "nomem";
	case SOFTREG_ERR_PARAM: return "param";
	case SOFTREG_ERR_MISMATCH: return "mismatch";
	case SOFTREG_ERR_DIVERGED: return "diverged";
	case SOFTREG_ERR_INTERRUPTED: return "interrupted";
	}
	return "unknown";
}

enum softreg_result sr_open_regular(const char *path, FILE **f_ret, size_t *size_ret, char *err)
{
	*f_ret = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return sr_fail(err, SOFTREG_ERR_IO, "%s: not a regular file", path);
	}
	*f_ret = f;
	*size_ret = (size_t)st.st_size;
	return SOFTREG_OK;
}
