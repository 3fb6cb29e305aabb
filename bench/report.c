/* SPDX-License-Identifier: MIT
 * report.c: what softreg-bench prints (a table on stdout) and saves (JSON,
 * for scripts/bench-compare). */
#include "bench.h"
#include "bench_git.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void machine_describe(struct machine *m)
{
	softreg_cpu_model(m->cpu, sizeof(m->cpu));
	softreg_cpu_features(m->simd, sizeof(m->simd));
	m->cores = omp_get_num_procs();
	m->blas_config = softreg_blas_config();
	m->blas_core = softreg_blas_corename();
	m->blas_parallel = softreg_blas_parallel();
	m->core_note = softreg_blas_core_note();
	m->coretype_env = getenv("OPENBLAS_CORETYPE");
	m->l2_env = getenv("OPENBLAS_L2_SIZE");
	if (getloadavg(&m->loadavg, 1) != 1)
		m->loadavg = -1;
}

static const char *or_unset(const char *s)
{
	return s ? s : "(unset)";
}

/* "47.0 MB" */
static const char *megabytes(size_t bytes, char *buf, size_t size)
{
	snprintf(buf, size, "%.1f MB", (double)bytes / 1e6);
	return buf;
}

static void print_data(FILE *f, const struct run *r)
{
	const struct bench_data *d = &r->data;
	const struct softreg_dataset *ds = &d->base;
	switch (d->origin) {
	case DATA_MNIST:
		fprintf(f, "data     %s, MNIST's training set: %zu images of %zux%zu, %zu classes\n", d->where, ds->n,
			ds->rows, ds->cols, d->k);
		break;
	case DATA_SYNTHETIC:
		fprintf(f, "data     %s, random pixels and labels of MNIST's shape: %zu images of %zux%zu, %zu classes\n",
			d->where, ds->n, ds->rows, ds->cols, d->k);
		break;
	case DATA_SHAPE:
		fprintf(f, "data     %s: %zu rows of %zu Gaussian float32 features (unit expected norm), %zu classes "
			   "(labels %lld, %lld, ..., %lld)\n",
			d->where, ds->n, ds->d, d->k, (long long)d->classes[0], (long long)d->classes[1],
			(long long)d->classes[d->k - 1]);
		break;
	}
	fputs("sources ", f);
	for (int s = 0, first = 1; s < BENCH_SOURCES; s++) {
		char mb[32];
		if (!d->have[s])
			continue;
		fprintf(f, "%s %s (", first ? "" : ",", source_tags[s]);
		if (s == SOFTREG_SOURCE_CSR)
			fprintf(f, "%s, %.2fM nonzeros: %.1f%% of the entries)", megabytes(d->bytes[s], mb, sizeof(mb)),
				(double)d->nnz / 1e6, 100.0 * (double)d->nnz / ((double)ds->n * (double)ds->d));
		else
			fprintf(f, "%s, %s)", softreg_source_name((enum softreg_source_kind)s),
				megabytes(d->bytes[s], mb, sizeof(mb)));
		first = 0;
	}
	fputc('\n', f);
}

void print_header(FILE *f, const struct run *r)
{
	const struct machine *m = &r->machine;
	fprintf(f, "softreg-bench %s (git %s), %s\n", SOFTREG_VERSION_STRING, BENCH_GIT, r->date);
	fprintf(f, "cpu      %s, %d cores; simd %s\n", m->cpu, m->cores, m->simd);
	fprintf(f, "blas     %s\n", m->blas_config);
	fprintf(f, "         core %s, %s threading\n", m->blas_core, m->blas_parallel);
	fprintf(f, "env      OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s SOFTREG_DISABLE_CPU_FEATURES=%s\n",
		or_unset(m->coretype_env), or_unset(m->l2_env), or_unset(getenv("SOFTREG_DISABLE_CPU_FEATURES")));
	fprintf(f, "sparse   %s loops\n", softreg_sparse_path());
	if (m->core_note)
		fprintf(f, "warning  %s\n", m->core_note);
	print_data(f, r);
	for (int i = 0; i < r->nnotes; i++)
		fprintf(f, "note     %s\n", r->notes[i]);
}

void print_bounds(FILE *f, const struct bound *b, int n, const char *when)
{
	fprintf(f, "\nroofline %s  threads  read GB/s  sgemm GFLOP/s (n = %zu)  scatter G/s (8 floats += v g, L1)"
		   "  (16 floats, AVX-512)\n",
		when, n ? b[0].sgemm_n : (size_t)0);
	for (int i = 0; i < n; i++) {
		fprintf(f, "          %7d  %9.1f  %13.1f  %21.2f", b[i].threads, b[i].read_gbps, b[i].sgemm_gflops,
			b[i].scatter_gups);
		if (b[i].scatter16_gups > 0)
			fprintf(f, "  %20.2f", b[i].scatter16_gups);
		fputc('\n', f);
	}
}

void print_gate(FILE *f, const struct run *r)
{
	const struct bench_opts *o = r->o;
	fprintf(f, "\ncorrectness gate: every fast kernel against naive (the oracle) on the same rows of each source;\n"
		   "pass when |kernel - naive| <= atol + rtol |naive| for every entry (loss and gradient as means),\n"
		   "and the kernel gives the same bits at every thread count\n  tolerance");
	for (int i = 0; i < 4; i++)
		fprintf(f, "  %s %.0e + %.0e|r|", gate_tol[i].what, gate_tol[i].atol, gate_tol[i].rtol);
	fprintf(f, "\n  %7s %-6s %-6s %9s %9s %9s %9s %9s %9s %10s %7s  threads", "batch", "source", "kernel",
		"loss abs", "loss rel", "dW abs", "dW rel", "db abs", "db rel", "logits abs", "worst");
	for (int t = 0; t < o->nthreads; t++)
		fprintf(f, "%s%d", t ? "," : " ", o->threads[t]);
	fputc('\n', f);
	for (size_t i = 0; i < r->ngates; i++) {
		const struct gate_result *g = &r->gates[i];
		double worst = fmax(fmax(g->loss.worst, g->dW.worst), fmax(g->db.worst, g->logits.worst));
		fprintf(f, "  %7zu %-6s %-6s %9.2e %9.2e %9.2e %9.2e %9.2e %9.2e %10.2e %7.3f  %-9s  %s\n", g->batch,
			source_tags[g->source], g->kernel->name, g->loss.abs, g->loss.rel, g->dW.abs, g->dW.rel, g->db.abs,
			g->db.rel, g->logits.abs, worst, g->same_bits ? "same bits" : "DIFFER", g->passed ? "ok" : "FAILED");
	}
}

#define NAME_WIDTH 32

void print_case_header(FILE *f)
{
	fprintf(f, "\n%-*s %6s %11s %11s %8s %7s %10s %6s %-7s %8s\n", NAME_WIDTH, "case", "reps", "min us",
		"median us", "GFLOP/s", "GB/s", "bound us", "%bound", "limit", "vs naive");
}

void print_case(FILE *f, const struct case_result *c)
{
	char speedup[32] = "";
	if (c->speedup > 0)
		snprintf(speedup, sizeof(speedup), "%.1fx", c->speedup);
	fprintf(f, "%-*s %6zu %11.2f %11.2f %8.2f %7.2f %10.2f %5.1f%% %-7s %8s\n", NAME_WIDTH, c->name, c->reps,
		c->ns_min / 1e3, c->ns_median / 1e3, c->gflops, c->gbps, c->bound_ns / 1e3, c->pct_of_bound,
		c->limit ? c->limit : "", speedup);
	fflush(f);
}

void print_epoch_summary(FILE *f, const struct run *r)
{
	bool any = false;
	for (size_t i = 0; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		if (c->op != OP_EPOCH || c->reps == 0)
			continue;
		const struct bound *b = bound_for(r->bounds, r->nbounds, c->threads);
		if (!any)
			fprintf(f, "\nepoch floor: the largest of flops / sgemm peak, feature bytes / read bandwidth and "
				   "(CSR) the gradient's scatters / scatter rate\n");
		any = true;
		fprintf(f, "  %-*s %8.2f ms   floor %6.2f ms = max(%.3f GFLOP / %.0f GFLOP/s, %.1f MB / %.1f GB/s",
			NAME_WIDTH, c->name, c->ns_min / 1e6, c->bound_ns / 1e6, c->flops / 1e9, b ? b->sgemm_gflops : 0,
			c->bytes / 1e6, b ? b->read_gbps : 0);
		if (b && b->scatter16_gups > 0 && c->scatters16 > 0 &&
		    c->scatters16 / b->scatter16_gups < c->scatters / b->scatter_gups)
			fprintf(f, ", %.1f M / %.2f G/s (16 floats)", c->scatters16 / 1e6, b->scatter16_gups);
		else if (c->scatters > 0)
			fprintf(f, ", %.1f M / %.2f G/s", c->scatters / 1e6, b ? b->scatter_gups : 0);
		fprintf(f, ")   ratio %.2f\n", c->ns_min / c->bound_ns);
	}
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* JSON has no inf or NaN: they become null */
static void json_number(FILE *f, double x)
{
	if (isfinite(x))
		fprintf(f, "%.9g", x);
	else
		fputs("null", f);
}

static void json_diff(FILE *f, const char *name, const struct diff *d)
{
	fprintf(f, "\"%s\": {\"max_abs\": ", name);
	json_number(f, d->abs);
	fputs(", \"max_rel\": ", f);
	json_number(f, d->rel);
	fputs(", \"worst\": ", f);
	json_number(f, d->worst);
	fputc('}', f);
}

static void json_gate(FILE *f, const struct gate_result *g)
{
	fprintf(f, "{\"batch\": %zu, \"source\": \"%s\", \"kernel\": \"%s\", ", g->batch, source_tags[g->source],
		g->kernel->name);
	json_diff(f, "loss", &g->loss);
	fputs(", ", f);
	json_diff(f, "dW", &g->dW);
	fputs(", ", f);
	json_diff(f, "db", &g->db);
	fputs(", ", f);
	json_diff(f, "logits", &g->logits);
	fprintf(f, ", \"same_bits_all_threads\": %s, \"passed\": %s}", g->same_bits ? "true" : "false",
		g->passed ? "true" : "false");
}

static void json_machine(FILE *f, const struct run *r)
{
	const struct machine *m = &r->machine;
	fputs("{\"cpu\": ", f);
	json_string(f, m->cpu);
	fprintf(f, ", \"cores\": %d, \"simd\": ", m->cores);
	json_string(f, m->simd);
	fputs(", \"blas_config\": ", f);
	json_string(f, m->blas_config);
	fputs(", \"blas_core\": ", f);
	json_string(f, m->blas_core);
	fputs(", \"blas_parallel\": ", f);
	json_string(f, m->blas_parallel);
	fputs(", \"blas_core_note\": ", f);
	json_string(f, m->core_note ? m->core_note : "");
	fputs(", \"OPENBLAS_CORETYPE\": ", f);
	json_string(f, m->coretype_env ? m->coretype_env : "");
	fputs(", \"OPENBLAS_L2_SIZE\": ", f);
	json_string(f, m->l2_env ? m->l2_env : "");
	fputs(", \"SOFTREG_DISABLE_CPU_FEATURES\": ", f);
	json_string(f, getenv("SOFTREG_DISABLE_CPU_FEATURES") ? getenv("SOFTREG_DISABLE_CPU_FEATURES") : "");
	fprintf(f, ", \"sparse_path\": \"%s\"", softreg_sparse_path());
	fputs(", \"loadavg\": ", f);
	json_number(f, m->loadavg);
	fputs(", \"threads\": [", f);
	for (int t = 0; t < r->o->nthreads; t++)
		fprintf(f, "%s%d", t ? ", " : "", r->o->threads[t]);
	fputs("]}", f);
}

static void json_case(FILE *f, const struct case_result *c)
{
	fputs("{\"name\": ", f);
	json_string(f, c->name);
	fprintf(f, ", \"kernel\": \"%s\", \"source\": \"%s\", \"op\": \"%s\", \"batch\": %zu, \"threads\": %d, "
		   "\"reps\": %zu, \"inner\": %zu",
		c->kernel, source_tags[c->source], c->op_name, c->batch, c->threads, c->reps, c->inner);
	fputs(", \"ns_min\": ", f);
	json_number(f, c->ns_min);
	fputs(", \"ns_median\": ", f);
	json_number(f, c->ns_median);
	fputs(", \"flops\": ", f);
	json_number(f, c->flops);
	fputs(", \"bytes\": ", f);
	json_number(f, c->bytes);
	fputs(", \"gflops\": ", f);
	json_number(f, c->gflops);
	fputs(", \"gbps\": ", f);
	json_number(f, c->gbps);
	fputs(", \"bound_ns\": ", f);
	json_number(f, c->bound_ns);
	fprintf(f, ", \"limit\": \"%s\", \"pct_of_bound\": ", c->limit ? c->limit : "");
	json_number(f, c->pct_of_bound);
	if (c->op == OP_EPOCH) {
		fputs(", \"ratio_to_bound\": ", f);
		json_number(f, c->ns_min / c->bound_ns);
	}
	if (c->speedup > 0) {
		fputs(", \"speedup_vs_naive\": ", f);
		json_number(f, c->speedup);
	}
	if (c->gate) {
		fputs(", \"correctness\": ", f);
		json_gate(f, c->gate);
	}
	fputc('}', f);
}

static void json_bounds(FILE *f, const struct bound *b, int n)
{
	fputc('[', f);
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s{\"threads\": %d, \"read_gbps\": ", i ? ", " : "", b[i].threads);
		json_number(f, b[i].read_gbps);
		fputs(", \"sgemm_gflops\": ", f);
		json_number(f, b[i].sgemm_gflops);
		fputs(", \"scatter_gups\": ", f);
		json_number(f, b[i].scatter_gups);
		fputs(", \"scatter16_gups\": ", f);
		json_number(f, b[i].scatter16_gups);
		fprintf(f, ", \"sgemm_n\": %zu}", b[i].sgemm_n);
	}
	fputc(']', f);
}

static void json_data(FILE *f, const struct bench_data *d)
{
	static const char *const origins[] = {"mnist", "synthetic", "shape"};
	fprintf(f, ",\n \"data\": {\"synthetic\": %s, \"origin\": \"%s\", \"source\": ",
		d->origin == DATA_MNIST ? "false" : "true", origins[d->origin]);
	json_string(f, d->where);
	fprintf(f, ", \"n\": %zu, \"d\": %zu, \"k\": %zu, \"sources\": [", d->base.n, d->base.d, d->k);
	for (int s = 0, first = 1; s < BENCH_SOURCES; s++) {
		if (!d->have[s])
			continue;
		fprintf(f, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"bytes\": %zu", first ? "" : ", ", source_tags[s],
			softreg_source_name((enum softreg_source_kind)s), d->bytes[s]);
		if (s == SOFTREG_SOURCE_CSR)
			fprintf(f, ", \"nnz\": %llu", (unsigned long long)d->nnz);
		fputc('}', f);
		first = 0;
	}
	fputs("]}", f);
}

static void json_body(FILE *f, const struct run *r)
{
	const struct bench_opts *o = r->o;
	fprintf(f, "{\"tool\": \"softreg-bench\", \"version\": \"%s\", \"git\": ", SOFTREG_VERSION_STRING);
	json_string(f, BENCH_GIT);
	fprintf(f, ",\n \"date\": \"%s\",\n \"machine\": ", r->date);
	json_machine(f, r);
	json_data(f, &r->data);
	fprintf(f, ",\n \"settings\": {\"reps\": %zu, \"min_seconds\": ", o->reps);
	json_number(f, o->min_seconds);
	fputs(", \"filter\": ", f);
	json_string(f, o->filter ? o->filter : "");
	fprintf(f, ", \"naive_max\": %zu", o->naive_max);
	fputs("},\n \"notes\": [", f);
	for (int i = 0; i < r->nnotes; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, r->notes[i]);
	}
	fputs("],\n \"bounds\": ", f);
	json_bounds(f, r->bounds, r->nbounds);
	fputs(",\n \"bounds_end\": ", f);
	json_bounds(f, r->bounds_end, r->nbounds);
	fputs(",\n \"tolerance\": {", f);
	for (int i = 0; i < 4; i++) {
		fprintf(f, "%s\"%s\": {\"atol\": ", i ? ", " : "", gate_tol[i].what);
		json_number(f, gate_tol[i].atol);
		fputs(", \"rtol\": ", f);
		json_number(f, gate_tol[i].rtol);
		fputc('}', f);
	}
	fputs("},\n \"gate\": [", f);
	for (size_t i = 0; i < r->ngates; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_gate(f, &r->gates[i]);
	}
	fputs("],\n \"cases\": [", f);
	for (size_t i = 0, shown = 0; i < r->ncases; i++) {
		if (r->cases[i].reps == 0)
			continue; /* not run */
		fputs(shown++ ? ",\n  " : "\n  ", f);
		json_case(f, &r->cases[i]);
	}
	fputs("]}\n", f);
}

int write_json(FILE *f, const char *path, const struct run *r, char *err)
{
	json_body(f, r);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		snprintf(err, SOFTREG_ERRLEN, "%s: write error", path);
		return BENCH_FAIL;
	}
	return BENCH_OK;
}
