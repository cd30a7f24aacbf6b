/* Pregenerated flows: dump files, batch statistics, text and JSON output. */
#include "flow.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bf_dump_header {
	char magic[8];
	uint32_t version, cmd_size;
	uint64_t n, n_build, expect_msgs, expect_trades, expect_volume;
	uint32_t max_id, max_live;
	char kind[16];
	uint64_t seed;
	uint8_t zero[40];
};
_Static_assert(sizeof(struct bf_dump_header) == 128, "dump header is 128 bytes");

static const char bf_magic[8] = { 'S', 'H', 'X', 'F', 'L', 'O', 'W', '1' };

int bf_dump_write(const char *path, const struct bf_flow *f)
{
	struct bf_dump_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, bf_magic, sizeof h.magic);
	h.version = 1;
	h.cmd_size = sizeof(struct bf_cmd);
	h.n = f->n;
	h.n_build = f->n_build;
	h.expect_msgs = f->expect_msgs;
	h.expect_trades = f->expect_trades;
	h.expect_volume = f->expect_volume;
	h.max_id = f->max_id;
	h.max_live = f->max_live;
	memcpy(h.kind, f->kind, sizeof h.kind);
	h.seed = f->seed;
	FILE *out = fopen(path, "wb");
	if (!out) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	int ok = fwrite(&h, sizeof h, 1, out) == 1 &&
		 fwrite(f->cmd, sizeof f->cmd[0], f->n, out) == f->n;
	if (fclose(out) != 0)
		ok = 0;
	if (!ok) {
		fprintf(stderr, "%s: write failed\n", path);
		return -1;
	}
	return 0;
}

int bf_dump_read(const char *path, struct bf_flow *f)
{
	memset(f, 0, sizeof *f);
	FILE *in = fopen(path, "rb");
	if (!in) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	struct bf_dump_header h;
	if (fread(&h, sizeof h, 1, in) != 1 || memcmp(h.magic, bf_magic, sizeof h.magic) != 0 ||
	    h.version != 1 || h.cmd_size != sizeof(struct bf_cmd) || h.n > (UINT64_C(1) << 32)) {
		fprintf(stderr, "%s: not a version 1 flow dump\n", path);
		fclose(in);
		return -1;
	}
	f->cmd = malloc(h.n ? h.n * sizeof f->cmd[0] : 1);
	if (!f->cmd || fread(f->cmd, sizeof f->cmd[0], h.n, in) != h.n) {
		fprintf(stderr, "%s: truncated or out of memory\n", path);
		free(f->cmd);
		f->cmd = NULL;
		fclose(in);
		return -1;
	}
	fclose(in);
	f->n = h.n;
	f->n_build = h.n_build;
	f->expect_msgs = h.expect_msgs;
	f->expect_trades = h.expect_trades;
	f->expect_volume = h.expect_volume;
	f->max_id = h.max_id;
	f->max_live = h.max_live;
	memcpy(f->kind, h.kind, sizeof f->kind);
	f->kind[sizeof f->kind - 1] = 0;
	f->seed = h.seed;
	return 0;
}

void bf_flow_scan(struct bf_flow *f)
{
	uint32_t m = 0;
	for (uint64_t i = 0; i < f->n; i++)
		if (f->cmd[i].id > m)
			m = f->cmd[i].id;
	f->max_id = m;
}

/* ---- statistics --------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted @v. */
static uint64_t rank_q(const uint64_t *v, uint64_t n, double q)
{
	uint64_t r = (uint64_t)ceil(q * (double)n);
	if (r < 1)
		r = 1;
	return v[r > n ? n - 1 : r - 1];
}

void bf_stats_of(uint64_t *ticks, uint64_t nb, uint64_t msgs, struct bf_stats *s)
{
	memset(s, 0, sizeof *s);
	s->batches = nb;
	s->msgs = msgs;
	if (nb == 0)
		return;
	const uint64_t ovh = bb_timer_overhead_ticks();
	for (uint64_t i = 0; i < nb; i++)
		ticks[i] = ticks[i] > ovh ? ticks[i] - ovh : 0;
	qsort(ticks, nb, sizeof ticks[0], cmp_u64);
	double sum = 0;
	for (uint64_t i = 0; i < nb; i++)
		sum += bb_ticks_to_ns(ticks[i]);
	s->mean = sum / (double)nb;
	double sq = 0;
	for (uint64_t i = 0; i < nb; i++) {
		double d = bb_ticks_to_ns(ticks[i]) - s->mean;
		sq += d * d / (double)nb;
	}
	s->sd = sqrt(sq);
	s->score = 0.5 * (s->mean + s->sd);
	s->ns_per_msg = msgs ? sum / (double)msgs : 0;
	s->p50 = bb_ticks_to_ns(rank_q(ticks, nb, 0.50));
	s->p99 = bb_ticks_to_ns(rank_q(ticks, nb, 0.99));
	s->p999 = bb_ticks_to_ns(rank_q(ticks, nb, 0.999));
	s->max = bb_ticks_to_ns(ticks[nb - 1]);
}

/* ---- text output ---------------------------------------------------------- */

void bf_print_header(const char *title, int argc, char **argv, int cpu,
		     const struct bb_machine *m)
{
	char date[64] = "";
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
	printf("%s\ncommand : ", title);
	for (int i = 0; i < argc; i++)
		printf("%s%s", i ? " " : "", argv[i]);
	printf("\ndate    : %s\n", date);
	printf("machine : %s (%s), %ld online CPUs, %s\n", m->model, m->signature, m->cpus,
	       m->kernel);
	printf("load    : %.2f %.2f %.2f (1/5/15 min, at start)\n", m->load[0], m->load[1],
	       m->load[2]);
	if (cpu >= 0)
		printf("pinned  : CPU %d\n", cpu);
	else
		printf("pinned  : no (sched_setaffinity failed)\n");
	printf("timer   : %s, %.3f ticks/ns, empty timer pair %.1f ns (subtracted per batch)\n",
#if defined(__x86_64__)
	       "TSC (lfence;rdtsc / rdtscp;lfence)",
#else
	       "CLOCK_MONOTONIC",
#endif
	       bb_ticks_per_ns(), bb_ticks_to_ns(bb_timer_overhead_ticks()));
}

void bf_print_stats(const char *label, const struct bf_stats *s)
{
	printf("%-8s: %7.2f ns/msg | batch mean %8.1f sd %8.1f (score %.1f) p50 %7.0f p99 %7.0f "
	       "p99.9 %8.0f max %9.0f ns | %" PRIu64 " batches, %" PRIu64 " msgs\n",
	       label, s->ns_per_msg, s->mean, s->sd, s->score, s->p50, s->p99, s->p999, s->max,
	       s->batches, s->msgs);
}

/* ---- JSON output ---------------------------------------------------------- */

static void json_string(const char *v)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

void bf_json_begin(const char *bench, int argc, char **argv, int cpu, const struct bb_machine *m)
{
	printf("{\"bench\": ");
	json_string(bench);
	printf(", \"command\": \"");
	for (int i = 0; i < argc; i++) {
		if (i)
			putchar(' ');
		for (const char *p = argv[i]; *p; p++)
			if (*p == '"' || *p == '\\')
				printf("\\%c", *p);
			else if ((unsigned char)*p >= 0x20)
				putchar(*p);
	}
	printf("\", \"cpu_model\": ");
	json_string(m->model);
	printf(", \"cpu_signature\": ");
	json_string(m->signature);
	printf(", \"cpus\": %ld, \"kernel\": ", m->cpus);
	json_string(m->kernel);
	printf(", \"loadavg\": [%.2f, %.2f, %.2f], \"pinned_cpu\": %d, \"timer_overhead_ns\": %.1f",
	       m->load[0], m->load[1], m->load[2], cpu, bb_ticks_to_ns(bb_timer_overhead_ticks()));
}

void bf_json_str(const char *key, const char *v)
{
	printf(", \"%s\": ", key);
	json_string(v);
}

void bf_json_u64(const char *key, uint64_t v)
{
	printf(", \"%s\": %" PRIu64, key, v);
}

void bf_json_num(const char *key, double v)
{
	printf(", \"%s\": %.3f", key, v);
}

void bf_json_stats(const char *key, const struct bf_stats *s)
{
	printf(", \"%s\": {\"ns_per_msg\": %.3f, \"batch_mean_ns\": %.2f, \"batch_sd_ns\": %.2f, "
	       "\"score\": %.2f, \"batch_p50_ns\": %.1f, \"batch_p99_ns\": %.1f, "
	       "\"batch_p999_ns\": %.1f, \"batch_max_ns\": %.1f, \"batches\": %" PRIu64
	       ", \"msgs\": %" PRIu64 "}",
	       key, s->ns_per_msg, s->mean, s->sd, s->score, s->p50, s->p99, s->p999, s->max,
	       s->batches, s->msgs);
}

void bf_json_end(void)
{
	printf("}\n");
}

uint64_t bf_parse_u64(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	if (v == NULL || *v < '0' || *v > '9') {
		fprintf(stderr, "%s needs a number\n", opt);
		exit(2);
	}
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end) {
		fprintf(stderr, "%s: not a number: %s\n", opt, v);
		exit(2);
	}
	return x;
}
