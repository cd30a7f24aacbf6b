/*
 * The bank differential test's engine (test_bank_diff.c): shmexd's engine
 * with several matchers built by sx_engine_create() but never started.
 * The test is the gateway: it writes commands into the gateway -> bank
 * ring and reads the bank -> gateway ring through views of its own, and it
 * runs the agents itself, on this one thread, in a seeded random order
 * (bank, each matcher, the journal), some starved for a while, each
 * sometimes seeing only part of what was published to it, so a run is
 * repeatable and explores interleavings the threads seldom produce.
 *
 * No agent ever waits here for a ring another agent drains (it would spin
 * for ever, nobody else running): before a matcher runs, its ring to the
 * bank and its journal ring must have ample room, else the bank or the
 * journal runs first; the test drains the out ring after every step.
 */
#ifndef BANK_DIFF_RIG_H
#define BANK_DIFF_RIG_H

#include <stdint.h>

#include "bank_diff_ref.h"
#include "engine.h"

struct bd_rig {
	struct sx_engine *e;
	const struct bd_world *w;
	struct shmex_ring cmd;  /* producer view: gateway 0 -> bank */
	struct shmex_ring out;  /* consumer view: bank -> gateway 0 */
	uint64_t rng;
	/* this phase's weights: bank, matchers 0..M-1, journal */
	uint32_t weight[BD_MAX_MATCHERS + 2];
	uint32_t phase_left;
	uint64_t steps, relieved, hidden;
	/* every report the engine delivered */
	void (*on_item)(void *ctx, const struct bd_item *it);
	void *ctx;
	char why[256];          /* the first thing the engine did wrong, "" */
};

/** Builds the engine for @p w (checking events) and attaches the views.
 *  @return 0, or -1 with a reason in @p err. */
int bd_rig_create(struct bd_rig *r, const struct bd_world *w, uint64_t seed, char *err,
		  size_t cap);
void bd_rig_destroy(struct bd_rig *r);

/** Writes one command for the bank. @return 1, or 0 if its ring is full. */
int bd_rig_send(struct bd_rig *r, const struct sx_cmd *c);

/** One random step of one agent, then the out ring drained.
 *  @return what the agent did (0: idle). */
int bd_rig_step(struct bd_rig *r);

/** Runs every agent in turn until @p rounds rounds in a row did nothing,
 *  at most @p max rounds. @return 0, or -1 if they never went idle. */
int bd_rig_settle(struct bd_rig *r, uint32_t rounds, uint32_t max);

/** Settles, then runs until the journal has folded every entry.
 *  @return 0 or -1 (r->why). */
int bd_rig_finish(struct bd_rig *r);

/** Entries in a ring not consumed yet (any ring of the engine). */
uint64_t bd_ring_fill(const void *mem);

#endif /* BANK_DIFF_RIG_H */
