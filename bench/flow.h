/*
 * Pregenerated order flows for the whole-book benchmarks (issue 7):
 * shmex-bench-quantcup (the QuantCup 2011 scoring feed) and
 * shmex-bench-flow1m (1M resting orders, then a mixed stream). The same
 * command array, written with --dump, is what bench/peer/voyager_harness.c
 * runs on another engine, so both are timed on identical input.
 *
 * Engine independent: nothing here includes a shmex header.
 */
#ifndef SHMEX_BENCH_FLOW_H
#define SHMEX_BENCH_FLOW_H

#include <stdint.h>
#include <stdio.h>

#include "bench_util.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { BF_ADD = 'A', BF_CANCEL = 'C' };

/** One command, 16 bytes: a GTC limit order (BF_ADD) or a cancel by id.
 *  Prices fit 16 bits and ids 32 bits, so engines with a flat price array
 *  and an id-indexed arena (voyager) can run the same stream. */
struct bf_cmd {
	uint32_t id;    /**< the new order's id, or the id cancelled */
	uint32_t qty;   /**< lots (BF_ADD) */
	uint16_t price; /**< ticks, 1..65535 (BF_ADD) */
	uint8_t op;     /**< BF_ADD or BF_CANCEL */
	uint8_t side;   /**< 0 buy, 1 sell (as SHMEX_BUY / SHMEX_SELL and QuantCup's t_side) */
	uint32_t pad;
};
_Static_assert(sizeof(struct bf_cmd) == 16, "dump files store struct bf_cmd as is");

/** A flow in memory, and the header of a --dump file. */
struct bf_flow {
	struct bf_cmd *cmd;
	uint64_t n;             /**< commands */
	uint64_t n_build;       /**< the first n_build commands are the build phase (0: none) */
	uint64_t expect_msgs;   /**< the expectation below holds after this many commands
				     from an empty book (0: no expectation) */
	uint64_t expect_trades; /**< fills (one per maker touched) */
	uint64_t expect_volume; /**< lots traded */
	uint64_t seed;          /**< generator seed (0 for a feed read from a file) */
	uint32_t max_id;        /**< largest id named by any command */
	uint32_t max_live;      /**< most orders resting at once (0: unknown) */
	char kind[16];          /**< "quantcup" or "flow1m" */
};

/**
 * Dump file: a 128-byte header, then n struct bf_cmd, all in host byte order
 * (x86-64: little endian). Header: "SHXFLOW1", u32 version 1, u32 16 (command
 * size), u64 n, n_build, expect_msgs, expect_trades, expect_volume, u32
 * max_id, max_live, char kind[16], u64 seed, zeros to 128.
 * @return 0, or -1 with a message on stderr.
 */
int bf_dump_write(const char *path, const struct bf_flow *f);
/** Reads a dump file into @p f (f->cmd malloc'd). @return 0, or -1 with a message. */
int bf_dump_read(const char *path, struct bf_flow *f);
/** Sets f->max_id from the commands. */
void bf_flow_scan(struct bf_flow *f);

/** Statistics of per-batch times, in ns (the timer pair overhead subtracted
 *  from each batch). mean and sd as QuantCup's score.c computes them
 *  (sd over all batches, population form), score = (mean + sd) / 2. */
struct bf_stats {
	uint64_t batches, msgs;
	double ns_per_msg; /**< sum of batch times / messages */
	double mean, sd, score;
	double p50, p99, p999, max;
};

/** Computes @p s from @p nb batch durations in ticks (sorts @p ticks). */
void bf_stats_of(uint64_t *ticks, uint64_t nb, uint64_t msgs, struct bf_stats *s);

/** Header lines of a run (title, command, date, machine, load, pin, timer). */
void bf_print_header(const char *title, int argc, char **argv, int cpu,
		     const struct bb_machine *m);
/** One line: @p label, ns/msg, batch mean/sd/p50/p99/p99.9/max. */
void bf_print_stats(const char *label, const struct bf_stats *s);

/* JSON output: bf_json_begin() opens the object with the machine fields;
 * the caller adds fields with bf_json_*(), each preceded by a comma. */
void bf_json_begin(const char *bench, int argc, char **argv, int cpu, const struct bb_machine *m);
void bf_json_str(const char *key, const char *v);
void bf_json_u64(const char *key, uint64_t v);
void bf_json_num(const char *key, double v);
void bf_json_stats(const char *key, const struct bf_stats *s);
void bf_json_end(void);

/** Parses a decimal option value; exits with a message if it is not one. */
uint64_t bf_parse_u64(const char *opt, const char *v);

#ifdef __cplusplus
}
#endif

#endif /* SHMEX_BENCH_FLOW_H */
