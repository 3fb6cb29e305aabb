/* SPDX-License-Identifier: MIT
 * util.c: error messages, time, CRC-32, names. */
#include "internal.h"

#include <stdio.h>
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
