/*
 * Helpers of the daemon benchmarks (shmex-bench-rtt, shmex-bench-tput):
 * start a shmexd with a configuration the bench writes (and stop it, by its
 * pid only), set up a market through the admin path, and write JSON
 * (strings, the command line, the machine, a full histogram).
 */
#ifndef SHMEX_BENCH_DAEMON_H
#define SHMEX_BENCH_DAEMON_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "bench_util.h"
#include "shmex/client.h"

/* ---- a daemon of our own ---------------------------------------------- */

/** What the bench's configuration says ([engine] keys, docs/CONFIG.md). */
struct bd_daemon_opts {
	const char *layout;    /**< "shared" or "dedicated" */
	const char *wait;      /**< "spin", "yield" or "block" */
	const char *cpus;      /**< pin list ("1", "0,1"), or NULL: no pinning */
	uint32_t gateways;     /**< 1 for shared */
	uint32_t matchers;     /**< 0 or 1: one; more: dedicated only */
	uint32_t max_orders;   /**< exchange order records (0: 1048576) */
};

struct bd_daemon {
	pid_t pid;             /**< 0: not running */
	char dir[64];          /**< temp directory: config, socket, log */
	char sock[128];
};

/**
 * Writes the configuration into a fresh temp directory and starts @p shmexd
 * on a socket there; waits (10 s at most) until it accepts sessions.
 * @return 0, or -1 with a one-line reason on stderr (the daemon's log too).
 */
int bd_daemon_start(const char *shmexd, const struct bd_daemon_opts *o, struct bd_daemon *d);

/** SIGTERM to our daemon, waits 5 s at most (then SIGKILL), removes the
 *  directory. Safe to call twice. */
void bd_daemon_stop(struct bd_daemon *d);

/* ---- a market --------------------------------------------------------- */

#define BD_MAX_USERS 64u

/** A fresh symbol (tick 1, lot 1, fees 0: price * qty quote units) on the
 *  bench's two 0-decimal assets, and funded users. */
#define BD_MAX_SYMBOLS 16u

struct bd_market {
	uint32_t symbol, base, quote;
	uint32_t nsymbols;     /**< symbols[0] == symbol, then bd_market_add_symbol()'s */
	uint32_t symbols[BD_MAX_SYMBOLS];
	uint32_t nusers;
	uint32_t users[BD_MAX_USERS];
};

/**
 * Through @p c (admin role): finds or makes assets BENCH-BASE and
 * BENCH-QUOTE, adds symbol "B<pid>-<n>", @p nusers users granted to this
 * uid, each given @p funds units of both assets.
 * @return 0, or a negative code with a reason on stderr.
 */
int bd_market_setup(struct shmex_client *c, uint32_t nusers, int64_t funds, struct bd_market *m);

/** One more symbol on the market's assets (with several matchers, symbols
 *  added one after another land on matchers in turn). */
int bd_market_add_symbol(struct shmex_client *c, struct bd_market *m);

/** Connects with the bench's options (a response ring of @p response_slots,
 *  0: the daemon's default); a reason on stderr if it fails. */
int bd_connect(const char *sock, const char *name, uint32_t response_slots,
	       struct shmex_client **out);

/**
 * Warms a fresh daemon: @p n post-only buys of 1 lot at price 1 on
 * @p symbol for @p user, each cancelled by client id, pipelined (256 in
 * flight) as fast as the engine takes them. The exchange's client-id index
 * and the daemon's order-owner index are allocated untouched and hashed at
 * random, so until most of their pages have been touched nearly every new
 * order takes a page fault (docs/BENCHMARKS.md, "Daemon (issue 8)"); this
 * touches them first. Client ids come from *next_cid.
 * @return 0, or a negative code with a reason on stderr.
 */
int bd_warm(struct shmex_client *c, uint32_t user, uint32_t symbol, uint64_t n,
	    uint64_t *next_cid);

/* ---- JSON -------------------------------------------------------------- */

/** @p s as a JSON string, quotes included. */
void bd_json_string(FILE *f, const char *s);

/** The command line, words joined by spaces, as a JSON string. */
void bd_json_cmdline(FILE *f, int argc, char **argv);

/** "cpu_model", "cpu_signature", "cpus_online", "kernel", "load" members
 *  (no braces; a trailing comma). */
void bd_json_machine(FILE *f, const struct bb_machine *m);

/** @p h as an object: count, min, max, mean, p50 ... p99.99 and
 *  "histogram": [[highest value of the bucket in ns, count], ...] over the
 *  non-empty buckets. */
void bd_json_hist(FILE *f, const struct bb_hist *h);

#endif /* SHMEX_BENCH_DAEMON_H */
