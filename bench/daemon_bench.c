/* Helpers of the daemon benchmarks (daemon_bench.h). */
#define _GNU_SOURCE 1
#include "daemon_bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- a daemon of our own ---------------------------------------------- */

/* The running daemon, for the exit and signal paths (one per process). */
static struct bd_daemon *bd_running;

static void bd_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int bd_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void bd_atexit(void)
{
	if (bd_running)
		bd_daemon_stop(bd_running);
}

/* An interrupted bench must not leave a spinning daemon behind: only
 * async-signal-safe calls here. */
static void bd_on_signal(int sig)
{
	if (bd_running && bd_running->pid > 0)
		kill(bd_running->pid, SIGTERM);
	_exit(128 + sig);
}

static void bd_print_log(const struct bd_daemon *d)
{
	char path[160], line[512];
	snprintf(path, sizeof path, "%s/shmexd.log", d->dir);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		fprintf(stderr, "  shmexd: %s", line);
	if (f)
		fclose(f);
}

static int bd_write_config(const struct bd_daemon_opts *o, const struct bd_daemon *d,
			   const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"; written by a shmex benchmark (bench/daemon_bench.c)\n"
		"[engine]\n"
		"gateways = %u\n"
		"matchers = %u\n"
		"layout = %s\n"
		"wait = %s\n",
		o->gateways ? o->gateways : 1, o->matchers ? o->matchers : 1, o->layout, o->wait);
	if (o->cpus && *o->cpus)
		fprintf(f, "cpus = %s\n", o->cpus);
	fprintf(f,
		"max_sessions = 64\n"
		"max_orders = %u\n"
		"max_users = 1024\n"
		"max_symbols = 4096\n"
		"max_assets = 16\n"
		"socket = %s\n"
		"data = %s/data\n"
		"[grant]\n"
		"uid = %u\n"
		"users = *\n"
		"roles = trader,admin\n",
		o->max_orders ? o->max_orders : 1048576u, d->sock, d->dir, (unsigned)getuid());
	return fclose(f) == 0 ? 0 : -1;
}

int bd_daemon_start(const char *shmexd, const struct bd_daemon_opts *o, struct bd_daemon *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/shmex-bench-XXXXXX");
	if (!mkdtemp(d->dir)) {
		fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	char ini[160], log[160];
	snprintf(d->sock, sizeof d->sock, "%s/shmexd.sock", d->dir);
	snprintf(ini, sizeof ini, "%s/shmexd.ini", d->dir);
	snprintf(log, sizeof log, "%s/shmexd.log", d->dir);
	if (bd_write_config(o, d, ini) != 0) {
		fprintf(stderr, "bench: cannot write %s\n", ini);
		bd_daemon_stop(d);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		bd_daemon_stop(d);
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execl(shmexd, "shmexd", "--config", ini, (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	if (!bd_running) {
		bd_running = d;
		atexit(bd_atexit);
		signal(SIGINT, bd_on_signal);
		signal(SIGTERM, bd_on_signal);
	}
	for (int i = 0; i < 1000; i++) {
		struct stat st;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			fprintf(stderr, "bench: %s exited at start:\n", shmexd);
			bd_print_log(d);
			bd_daemon_stop(d);
			return -1;
		}
		if (stat(d->sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		bd_sleep_ms(10);
	}
	fprintf(stderr, "bench: %s did not listen within 10 s:\n", shmexd);
	bd_print_log(d);
	bd_daemon_stop(d);
	return -1;
}

void bd_daemon_stop(struct bd_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		int status, gone = 0;
		for (int i = 0; i < 500 && !gone; i++) {
			gone = waitpid(d->pid, &status, WNOHANG) == d->pid;
			if (!gone)
				bd_sleep_ms(10);
		}
		if (!gone) {
			fprintf(stderr, "bench: shmexd (pid %ld) ignored SIGTERM for 5 s: killed\n",
				(long)d->pid);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
		}
		d->pid = 0;
	}
	if (d->dir[0]) {
		nftw(d->dir, bd_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		d->dir[0] = 0;
	}
	if (bd_running == d)
		bd_running = NULL;
}

/* ---- a market --------------------------------------------------------- */

int bd_connect(const char *sock, const char *name, uint32_t response_slots,
	       struct shmex_client **out)
{
	struct shmex_client_options o = { .socket_path = sock, .name = name,
					  .response_slots = response_slots };
	int rc = 0;
	/* The socket file appears at bind, just before listen. */
	for (int i = 0; i < 100; i++) {
		rc = shmex_client_connect(&o, out);
		if (rc != -ECONNREFUSED)
			break;
		bd_sleep_ms(10);
	}
	if (rc != 0)
		fprintf(stderr, "bench: cannot connect to %s: %s %s\n", sock, shmex_strerror(rc),
			shmex_client_last_error());
	return rc;
}

static int bd_asset(struct shmex_client *c, const char *code, uint32_t *id)
{
	struct shmex_asset_params a;
	memset(&a, 0, sizeof a);
	snprintf(a.code, sizeof a.code, "%s", code);
	int rc = shmex_client_add_asset(c, &a, id);
	if (rc == SHMEX_E_EXISTS)
		rc = shmex_client_find_asset(c, code, id);
	if (rc != 0)
		fprintf(stderr, "bench: asset %s: %s %s\n", code, shmex_strerror(rc),
			shmex_client_last_error());
	return rc;
}

int bd_market_add_symbol(struct shmex_client *c, struct bd_market *m)
{
	static unsigned next_code; /* codes this process used */
	struct shmex_symbol_params s;
	uint32_t id = 0;
	int rc = SHMEX_E_EXISTS;
	if (m->nsymbols == BD_MAX_SYMBOLS)
		return SHMEX_E_INVAL;
	for (unsigned tries = 0; tries < 1000 && rc == SHMEX_E_EXISTS; tries++) {
		const unsigned n = next_code++;
		memset(&s, 0, sizeof s);
		char tmp[64];
		snprintf(tmp, sizeof tmp, "B%ld-%u", (long)getpid(), n);
		memcpy(s.code, tmp, strnlen(tmp, SHMEX_CODE_LEN - 1));
		s.base = m->base;
		s.quote = m->quote;
		s.tick_size = 1;
		s.lot_size = 1;
		s.min_qty = 1;
		s.status = SHMEX_SYMBOL_OPEN;
		rc = shmex_client_add_symbol(c, &s, &id);
	}
	if (rc != 0) {
		fprintf(stderr, "bench: add symbol: %s %s\n", shmex_strerror(rc),
			shmex_client_last_error());
		return rc;
	}
	if (m->nsymbols == 0)
		m->symbol = id;
	m->symbols[m->nsymbols++] = id;
	return 0;
}

int bd_market_setup(struct shmex_client *c, uint32_t nusers, int64_t funds, struct bd_market *m)
{
	memset(m, 0, sizeof *m);
	if (nusers > BD_MAX_USERS)
		return SHMEX_E_INVAL;
	int rc = bd_asset(c, "BENCH-BASE", &m->base);
	if (rc == 0)
		rc = bd_asset(c, "BENCH-QUOTE", &m->quote);
	if (rc != 0)
		return rc;
	rc = bd_market_add_symbol(c, m);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < nusers; i++) {
		uint32_t u;
		rc = shmex_client_add_user(c, NULL, &u);
		if (rc == 0)
			rc = shmex_client_grant(c, (uint32_t)getuid(), u, SHMEX_ROLE_TRADER);
		if (rc == 0)
			rc = shmex_client_deposit(c, u, m->base, funds, 0, NULL);
		if (rc == 0)
			rc = shmex_client_deposit(c, u, m->quote, funds, 0, NULL);
		if (rc != 0) {
			fprintf(stderr, "bench: user %u: %s %s\n", i, shmex_strerror(rc),
				shmex_client_last_error());
			return rc;
		}
		m->users[m->nusers++] = u;
	}
	return 0;
}

int bd_warm(struct shmex_client *c, uint32_t user, uint32_t symbol, uint64_t n,
	    uint64_t *next_cid)
{
	static struct shmex_report rep[512];
	const uint64_t total = 2 * n;
	uint64_t sent = 0, done = 0;
	while (done < total) {
		while (sent < total && sent - done < 256) {
			int rc;
			if (sent % 2 == 0) {
				struct shmex_order_request q = {
					.client_id = *next_cid, .user = user, .symbol = symbol,
					.price = 1, .qty = 1, .side = SHMEX_BUY, .type = SHMEX_LIMIT,
					.tif = SHMEX_GTC, .flags = SHMEX_OF_POST_ONLY,
				};
				rc = shmex_client_submit(c, &q, NULL);
			} else {
				rc = shmex_client_cancel_client_id(c, user, *next_cid, NULL);
			}
			if (rc == SHMEX_E_FULL)
				break;
			if (rc != 0) {
				fprintf(stderr, "bench: warm-up: %s\n", shmex_strerror(rc));
				return rc;
			}
			if (sent % 2 == 1)
				(*next_cid)++;
			sent++;
		}
		int got = shmex_client_wait(c, rep, 512, 1000000000);
		if (got < 0) {
			fprintf(stderr, "bench: warm-up: %s\n", shmex_strerror(got));
			return got;
		}
		if (got == 0) {
			fprintf(stderr, "bench: warm-up: no answer in 1 s\n");
			return SHMEX_E_PROTOCOL;
		}
		for (int i = 0; i < got; i++)
			done += (rep[i].flags & SHMEX_RPTF_DONE) != 0;
	}
	return 0;
}

/* ---- JSON -------------------------------------------------------------- */

void bd_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		const unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void bd_json_cmdline(FILE *f, int argc, char **argv)
{
	char line[2048];
	size_t n = 0;
	line[0] = 0;
	for (int i = 0; i < argc && n < sizeof line; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", i ? " " : "", argv[i]);
	bd_json_string(f, line);
}

void bd_json_machine(FILE *f, const struct bb_machine *m)
{
	fprintf(f, "\"cpu_model\": ");
	bd_json_string(f, m->model);
	fprintf(f, ", \"cpu_signature\": ");
	bd_json_string(f, m->signature);
	fprintf(f, ", \"cpus_online\": %ld, \"kernel\": ", m->cpus);
	bd_json_string(f, m->kernel);
	fprintf(f, ", \"load\": [%.2f, %.2f, %.2f], ", m->load[0], m->load[1], m->load[2]);
}

/* Highest value of histogram bucket @p idx (bench_util.c's layout: exact
 * below 512, then 256 sub-buckets per power of two). */
static uint64_t bd_bucket_top(unsigned idx)
{
	if (idx < 2 * BB_HIST_SUB)
		return idx;
	unsigned shift = idx / BB_HIST_SUB - 1u;
	uint64_t mant = idx % BB_HIST_SUB + BB_HIST_SUB;
	return ((mant + 1) << shift) - 1;
}

void bd_json_hist(FILE *f, const struct bb_hist *h)
{
	static const double q[] = { 0.5, 0.9, 0.99, 0.999, 0.9999 };
	static const char *const name[] = { "p50", "p90", "p99", "p999", "p9999" };
	fprintf(f, "{\"count\": %llu, \"min_ns\": %llu, \"max_ns\": %llu, \"mean_ns\": %.1f",
		(unsigned long long)h->count, (unsigned long long)(h->count ? h->min : 0),
		(unsigned long long)h->max, h->count ? h->sum / (double)h->count : 0.0);
	for (int i = 0; i < 5; i++)
		fprintf(f, ", \"%s_ns\": %llu", name[i],
			(unsigned long long)bb_hist_quantile(h, q[i]));
	fprintf(f, ", \"histogram\": [");
	int first = 1;
	for (unsigned i = 0; i < BB_HIST_BUCKETS; i++)
		if (h->bucket[i]) {
			fprintf(f, "%s[%llu, %llu]", first ? "" : ", ",
				(unsigned long long)bd_bucket_top(i), (unsigned long long)h->bucket[i]);
			first = 0;
		}
	fprintf(f, "]}");
}
