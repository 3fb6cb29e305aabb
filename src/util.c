/* SPDX-License-Identifier: MIT
 * util.c: error messages, time, CRC-32, names. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

/* One line, whatever the names in it: control bytes (a newline in a file
 * name) are shown as \n, \t or \xHH, and a message longer than the buffer
 * loses its middle, not its end, where the reason is. */
enum softreg_result sr_fail(char *err, enum softreg_result r, const char *fmt, ...)
{
	if (!err)
		return r;
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	char *full = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (full)
		vsnprintf(full, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (!full) {
		snprintf(err, SOFTREG_ERRLEN, "%s (and out of memory for the message)", softreg_result_name(r));
		return r;
	}
	char *clean = malloc(4 * (size_t)n + 1);
	size_t len = 0;
	for (const unsigned char *p = (const unsigned char *)full; clean && *p; p++) {
		if (*p == '\n')
			len += (size_t)sprintf(clean + len, "\\n");
		else if (*p == '\t')
			len += (size_t)sprintf(clean + len, "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			len += (size_t)sprintf(clean + len, "\\x%02x", *p);
		else
			clean[len++] = (char)*p;
	}
	const char *msg = clean ? clean : full;
	if (clean)
		clean[len] = '\0';
	else
		len = strlen(full);
	if (len < SOFTREG_ERRLEN) {
		memcpy(err, msg, len + 1);
	} else { /* keep the head (the file) and the tail (the reason) */
		size_t head = SOFTREG_ERRLEN / 3, tail = SOFTREG_ERRLEN - head - 4;
		memcpy(err, msg, head);
		memcpy(err + head, "...", 3);
		memcpy(err + head + 3, msg + len - tail, tail + 1);
	}
	free(clean);
	free(full);
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

int sr_open_fd(const char *path, size_t *size_ret, char *err)
{
	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	 * writer forever; it is refused below, and a regular file is unaffected */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, S_ISDIR(st.st_mode) ? "a folder, not a regular file" : "not a regular file");
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (size_ret)
		*size_ret = (size_t)st.st_size;
	return fd;
}

/* where the first line that starts at byte b or after starts */
static size_t line_start(const char *map, size_t size, uint64_t b)
{
	if (b == 0 || b > size)
		return b == 0 ? 0 : size;
	const char *nl = memchr(map + b - 1, '\n', size - (b - 1));
	return nl ? (size_t)(nl - map) + 1 : size;
}

enum softreg_result sr_text_map(const char *path, uint64_t b0, uint64_t b1, const char **map_ret, size_t *size_ret,
				size_t *start_ret, size_t *end_ret, char *err)
{
	size_t size = 0;
	*map_ret = NULL;
	*size_ret = *start_ret = *end_ret = 0;
	int fd = sr_open_fd(path, &size, err);
	if (fd < 0)
		return SOFTREG_ERR_IO;
	const char *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (size && map == MAP_FAILED)
		return sr_fail(err, SOFTREG_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
	size_t start = line_start(map, size, b0), end = line_start(map, size, b1);
	*map_ret = map;
	*size_ret = size;
	*start_ret = start;
	*end_ret = start < end ? end : start;
	return SOFTREG_OK;
}

void sr_text_unmap(const char *map, size_t size)
{
	if (map)
		munmap((void *)map, size);
}

enum softreg_result sr_open_regular(const char *path, FILE **f_ret, size_t *size_ret, char *err)
{
	*f_ret = NULL;
	int fd = sr_open_fd(path, size_ret, err);
	if (fd < 0)
		return SOFTREG_ERR_IO;
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return sr_fail(err, SOFTREG_ERR_NOMEM, "%s: %s", path, strerror(errno));
	}
	*f_ret = f;
	return SOFTREG_OK;
}
