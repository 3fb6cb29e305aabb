/* SPDX-License-Identifier: MIT
 * progress.c: a one-line progress bar when stderr is a terminal (redrawn at
 * most 10 times a second), one plain line per epoch otherwise. */
#include "cli.h"

#include <time.h>
#include <unistd.h>

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(struct progress *p, bool quiet)
{
	p->quiet = quiet;
	p->tty = isatty(STDERR_FILENO);
	p->last_draw = 0;
	p->start = cli_now();
}

void progress_batch(struct progress *p, const struct softreg_epoch_info *info)
{
	if (p->quiet || !p->tty)
		return;
	double t = cli_now();
	if (t - p->last_draw < 0.1 && info->batch != info->batches)
		return;
	p->last_draw = t;
	const int width = 24;
	int fill = (int)((double)width * (double)info->batch / (double)info->batches);
	char bar[32];
	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	double rate = info->seconds > 0 ? (double)info->batch / info->seconds : 0; /* batches/s */
	double eta = rate > 0 ? (double)(info->batches - info->batch) / rate : 0;
	fprintf(stderr, "\r\033[Kepoch %u/%u [%s] %zu/%zu loss %.4f %.0f samples/s %.1fs eta %.1fs", info->epoch,
		info->epochs, bar, info->batch, info->batches, info->train_loss, rate * (double)info->batch_size,
		t - p->start, eta);
	fflush(stderr);
}

void progress_epoch(struct progress *p, const struct softreg_epoch_info *info)
{
	if (p->quiet)
		return;
	if (p->tty)
		fputs("\r\033[K", stderr);
	if (info->objective >= 0)
		fprintf(stderr, "iter %u/%u  F %.8f  |g| %.3g  step %.3g", info->epoch, info->epochs, info->objective,
			info->grad_norm, info->lr);
	else
		fprintf(stderr, "epoch %u/%u  train loss %.4f  lr %.4g", info->epoch, info->epochs, info->train_loss,
			info->lr);
	if (info->test_accuracy >= 0)
		fprintf(stderr, "  test loss %.4f  test acc %.2f%%", info->test_loss, 100 * info->test_accuracy);
	if (info->val_accuracy >= 0)
		fprintf(stderr, "  val acc %.2f%%", 100 * info->val_accuracy);
	fprintf(stderr, "  %.3fs\n", info->seconds);
}
