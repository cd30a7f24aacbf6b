/*
 * shmex-mm's run: its options and everything its summary reports
 * (mm.c runs it, mm_report.c prints it).
 */
#ifndef SX_MM_MM_H
#define SX_MM_MM_H

#include <stdint.h>

#include "latency.h"
#include "market.h"
#include "quoter.h"
#include "sender.h"

struct sx_mm_opts {
	const char *socket;
	const char *symbols;
	uint32_t user;
	int64_t run_ms;
	int64_t interval_us;
	uint64_t seed;
	struct sx_quoter_params q; /* levels, spread, size, walk, revert */
	int quiet, json;
};

struct sx_mm {
	struct sx_mm_opts o;
	struct shmex_client *c;
	int nmarkets;
	struct sx_market markets[SX_MAX_MARKETS];
	struct sx_quoter quoters[SX_MAX_MARKETS];
	struct sx_sender sender;
	struct sx_latency latency;   /* submit -> DONE, every request */
	struct sx_balances before, after;
	int have_after;
	int64_t elapsed_ns;
	uint64_t mass_cancelled;     /* orders the closing mass cancels took */
	const char *ended;           /* why the run ended early, NULL if it did not */
};

/** Prints the summary: text, or one JSON object with o.json. */
void sx_mm_report(const struct sx_mm *mm);

#endif /* SX_MM_MM_H */
