/* SPDX-License-Identifier: MIT
 * out.c: what the commands write besides models: built in memory, then saved
 * atomically like a model (softreg_save_file), so a full disk, a size limit
 * or a signal never leaves a half-written file; and the checks of every
 * output path before the work that makes it. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

FILE *out_begin(struct out_file *o)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	return o->f;
}

/* the signals that stop training: held back while a file is being saved, so
 * that a save always completes (they are handled right after) */
static void hold_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

void catch_stop_signals(bool on)
{
	struct sigaction sa = {0};
	sa.sa_handler = on ? on_stop_signal : SIG_DFL;
	sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int out_commit(struct out_file *o, const char *path)
{
	char err[SOFTREG_ERRLEN];
	int rc = 0;
	if (!o->f)
		return runtime_error("%s: out of memory", path);
	if (ferror(o->f) | (fclose(o->f) != 0)) /* both: the stream is closed either way */
		rc = runtime_error("%s: out of memory", path);
	o->f = NULL;
	if (!rc && save_file(path, o->buf, o->len, err))
		rc = runtime_error("%s", err);
	free(o->buf);
	o->buf = NULL;
	return rc;
}

void out_abandon(struct out_file *o)
{
	if (o->f)
		fclose(o->f);
	free(o->buf);
	o->f = NULL;
	o->buf = NULL;
}

enum softreg_result save_file(const char *path, const void *buf, size_t len, char *err)
{
	sigset_t old;
	hold_signals(&old);
	enum softreg_result r = softreg_save_file(path, buf, len, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

enum softreg_result save_model(const struct softreg_model *m, const struct softreg_train_state *s, const char *path,
			       char *err)
{
	sigset_t old;
	hold_signals(&old);
	enum softreg_result r = softreg_model_save(m, s, path, err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* the identity of an output: the file it resolves to, or its folder's and its
 * name when it does not exist yet */
static char *identity(const char *path)
{
	char *real = realpath(path, NULL);
	if (real)
		return real;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	char *rdir = dir ? realpath(dir, NULL) : NULL, *id = NULL;
	const char *name = slash ? slash + 1 : path;
	if (rdir && (id = malloc(strlen(rdir) + strlen(name) + 2)))
		sprintf(id, "%s/%s", rdir, name);
	free(dir);
	free(rdir);
	return id ? id : strdup(path);
}

int check_outputs(const char *cmd, const char *const *paths, const char *const *flags, size_t n)
{
	char err[SOFTREG_ERRLEN];
	char *ids[8] = {0};
	int rc = 0;
	for (size_t i = 0; i < n && i < 8 && !rc; i++) {
		if (!paths[i])
			continue;
		if (softreg_check_output(paths[i], err)) {
			rc = usage_error(cmd, "%s: %s", flags[i], err);
			break;
		}
		ids[i] = identity(paths[i]);
		for (size_t j = 0; j < i && !rc; j++)
			if (ids[j] && ids[i] && strcmp(ids[i], ids[j]) == 0)
				rc = usage_error(cmd, "%s and %s name the same file (%s)", flags[j], flags[i], paths[i]);
	}
	for (size_t i = 0; i < 8; i++)
		free(ids[i]);
	return rc;
}
