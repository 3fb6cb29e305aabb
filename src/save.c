/* SPDX-License-Identifier: MIT
 * save.c: files written atomically, and checked before the work that makes
 * them. A file is written to an unnamed temporary file in the target's folder
 * (O_TMPFILE; a short random name where the filesystem has no O_TMPFILE),
 * synced, named, renamed over the target, and the folder synced. So the
 * target holds the old bytes or the new ones, a killed process leaves no
 * named temporary file behind (with O_TMPFILE), the temporary name fits
 * NAME_MAX whatever the target's name, and the new file gets the target's
 * mode, or 0666 less the umask for a new file.
 *
 * What the target may be: a regular file or nothing (replaced or created), a
 * symbolic link (followed: the file it names is written, the link stays), or
 * a character device such as /dev/null or /dev/stdout (written through, in
 * place: there is nothing to rename over). A folder, a FIFO, a socket or a
 * block device is refused: replacing it would destroy it, and writing into
 * it would block or scribble over a disk. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the file a path names, links followed (malloc'd), or NULL when it does not
 * exist (errno ENOENT) or cannot be resolved */
static char *resolve(const char *path)
{
	char *real = realpath(path, NULL);
	if (real || errno != ENOENT)
		return real;
	/* not there: a dangling link names where the file will be */
	char link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = '\0';
	if (link[0] == '/')
		return strdup(link);
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
	char *joined = malloc(dlen + (size_t)n + 1);
	if (joined) {
		memcpy(joined, path, dlen);
		memcpy(joined + dlen, link, (size_t)n + 1);
	}
	return joined;
}

/* the folder part of 'path' ("." when there is none), malloc'd */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* what kind of target 'path' is: 0 absent or regular, 1 a character device
 * (write through), -1 refused (err filled) */
static int target_kind(const char *path, mode_t *mode_ret, bool *exists_ret, char *err)
{
	struct stat st;
	*exists_ret = false;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	*exists_ret = true;
	*mode_ret = st.st_mode & 07777;
	if (S_ISREG(st.st_mode))
		return 0;
	if (S_ISCHR(st.st_mode))
		return 1;
	sr_fail(err, SOFTREG_ERR_IO, "%s: is %s, not a regular file: not replaced", path,
		S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket"
										     : "a device");
	return -1;
}

enum softreg_result softreg_check_output(const char *path, char *err)
{
	if (!path || !*path)
		return sr_fail(err, SOFTREG_ERR_PARAM, "an empty output path");
	char *target = resolve(path);
	const char *t = target ? target : path;
	mode_t mode;
	bool exists;
	int kind = target_kind(t, &mode, &exists, err);
	enum softreg_result r = kind < 0 ? SOFTREG_ERR_IO : SOFTREG_OK;
	const char *base = strrchr(t, '/') ? strrchr(t, '/') + 1 : t;
	if (r == SOFTREG_OK && kind == 0 && strlen(base) > NAME_MAX)
		r = sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(ENAMETOOLONG));
	if (r == SOFTREG_OK && kind == 0) {
		char *dir = folder_of(t);
		struct stat st;
		if (!dir)
			r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
		else if (stat(dir, &st) != 0)
			r = sr_fail(err, SOFTREG_ERR_IO, "%s: folder %s: %s", path, dir, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			r = sr_fail(err, SOFTREG_ERR_IO, "%s: %s is not a folder", path, dir);
		else if (access(dir, W_OK | X_OK) != 0)
			r = sr_fail(err, SOFTREG_ERR_IO, "%s: cannot write in folder %s: %s", path, dir, strerror(errno));
		else if (exists && access(t, W_OK) != 0 && errno == EROFS)
			r = sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
		free(dir);
	} else if (r == SOFTREG_OK && access(t, W_OK) != 0) {
		r = sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
	}
	free(target);
	return r;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* the process's umask, read without changing it (Linux 4.7+); 022 when unknown */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned mask = 022;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &mask) == 1)
			break;
	if (f)
		fclose(f);
	return (mode_t)mask;
}

/* a new temporary file in 'dir'; its name (when it has one) in 'name' */
static int temp_file(const char *dir, char *name, size_t size, bool *named)
{
	*named = false;
#ifdef O_TMPFILE
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666); /* the umask applies */
	if (fd >= 0)
		return fd;
#endif
	snprintf(name, size, "%s/.softreg-XXXXXX", dir);
	int t = mkstemp(name);
	if (t >= 0) {
		*named = true;
		fchmod(t, 0666 & ~current_umask());
	}
	return t;
}

/* give the unnamed file 'fd' the name 'name' in 'dir' */
static int name_temp(int fd, const char *dir, char *name, size_t size)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int attempt = 0; attempt < 16; attempt++) {
		snprintf(name, size, "%s/.softreg-%08lx", dir, (unsigned long)(random() ^ (long)getpid() << 8));
		if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* write through a character device: no temporary file, no rename */
static enum softreg_result write_device(const char *path, const void *buf, size_t len, char *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return sr_fail(err, SOFTREG_ERR_IO, "%s: %s", path, strerror(errno));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int bad = write_all(fd, buf, len);
	int e = errno;
	if (close(fd) != 0 && !bad)
		bad = -1, e = errno;
	return bad ? sr_fail(err, SOFTREG_ERR_IO, "%s: write failed: %s", path, strerror(e)) : SOFTREG_OK;
}

enum softreg_result softreg_save_file(const char *path, const void *buf, size_t len, char *err)
{
	char *target = resolve(path), *dir = NULL, name[PATH_MAX + 32] = "";
	const char *t = target ? target : path;
	mode_t mode = 0;
	bool exists, named = false;
	int kind = target_kind(t, &mode, &exists, err), fd = -1, e = 0;
	enum softreg_result r = kind < 0 ? SOFTREG_ERR_IO : SOFTREG_OK;
	if (r == SOFTREG_OK && kind == 1) {
		r = write_device(t, buf, len, err);
		goto out;
	}
	if (r == SOFTREG_OK && !(dir = folder_of(t)))
		r = sr_fail(err, SOFTREG_ERR_NOMEM, "%s: out of memory", path);
	if (r == SOFTREG_OK && (fd = temp_file(dir, name, sizeof(name), &named)) < 0)
		r = sr_fail(err, SOFTREG_ERR_IO, "%s: cannot create a file in %s: %s", path, dir, strerror(errno));
	if (r == SOFTREG_OK && ((exists && fchmod(fd, mode) != 0) || write_all(fd, buf, len) != 0 || fsync(fd) != 0)) {
		e = errno;
		r = sr_fail(err, SOFTREG_ERR_IO, "%s: write failed: %s", path, strerror(e));
	}
	if (r == SOFTREG_OK && !named) {
		if (name_temp(fd, dir, name, sizeof(name)) != 0)
			r = sr_fail(err, SOFTREG_ERR_IO, "%s: cannot name the new file in %s: %s", path, dir, strerror(errno));
		else
			named = true;
	}
	if (fd >= 0 && close(fd) != 0 && r == SOFTREG_OK)
		r = sr_fail(err, SOFTREG_ERR_IO, "%s: write failed: %s", path, strerror(errno));
	if (r == SOFTREG_OK && rename(name, t) != 0)
		r = sr_fail(err, SOFTREG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
	if (r != SOFTREG_OK && named)
		unlink(name);
	if (r == SOFTREG_OK) { /* the rename is durable only once the folder is on disk */
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	free(target);
	free(dir);
	return r;
}
