/*
 * The bank differential test's engine (bank_diff_rig.h).
 */
#include "bank_diff_rig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room an agent must find before it runs (see the header). One duty cycle
 * of a matcher runs at most 64 commands: far fewer out messages and
 * ledger entries than these margins, in this test's market. */
#define BD_OUT_HIGH (SX_OUT_SLOTS / 8u)
#define BD_LEDGER_HIGH (SX_LEDGER_SLOTS / 4u)

uint64_t bd_ring_fill(const void *mem)
{
	const struct shmex_ring_ctl *c = mem;
	const uint64_t head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
	return head - __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
}

static void bd_rig_fail(struct bd_rig *r, const char *what, unsigned long long v)
{
	if (r->why[0] == 0)
		snprintf(r->why, sizeof r->why, "%s (%llu)", what, v);
}

int bd_rig_create(struct bd_rig *r, const struct bd_world *w, uint64_t seed, char *err,
		  size_t cap)
{
	memset(r, 0, sizeof *r);
	r->w = w;
	r->rng = seed ? seed : 1;
	char ini[8192];
	struct sx_config *cfg = malloc(sizeof *cfg);
	if (!cfg || bd_world_ini(w, ini, sizeof ini) != 0) {
		snprintf(err, cap, "no room for the configuration");
		free(cfg);
		return -1;
	}
	int rc = sx_config_parse(ini, "bank_diff", cfg, err, cap);
	if (rc == 0)
		rc = sx_engine_create(cfg, 1, &r->e, err, cap);
	free(cfg);
	if (rc != 0)
		return -1;
	if (shmex_ring_attach(&r->cmd, r->e->cmd_mem[0], SX_CMD_SLOTS, SX_CMD_SLOT) != 0 ||
	    shmex_ring_attach(&r->out, r->e->out_mem[0], SX_OUT_SLOTS, SX_OUT_SLOT) != 0) {
		snprintf(err, cap, "cannot attach to the gateway's rings");
		return -1;
	}
	/* As started (sx_engine_start): agents wait for room rather than drop
	 * what they send; the guards below see that they never have to. */
	__atomic_store_n(&r->e->running, 1, __ATOMIC_RELEASE);
	return 0;
}

void bd_rig_destroy(struct bd_rig *r)
{
	sx_engine_destroy(r->e); /* stops nothing (no thread), folds the journal's rest */
	r->e = NULL;
}

int bd_rig_send(struct bd_rig *r, const struct sx_cmd *c)
{
	return shmex_ring_push(&r->cmd, c, sizeof *c) == 1;
}

static uint32_t bd_rig_below(struct bd_rig *r, uint32_t n)
{
	return (uint32_t)(bd_rand(&r->rng) % n);
}

/* Hands every report in the out ring to the test. */
static void bd_drain(struct bd_rig *r)
{
	struct sx_out msg;
	int rc;
	while ((rc = shmex_ring_pop(&r->out, &msg, sizeof msg)) == 1) {
		if (msg.kind != SX_OUT_REPORT) {
			bd_rig_fail(r, "the bank sent the gateway a message of kind", msg.kind);
			continue;
		}
		struct bd_item it;
		memset(&it, 0, sizeof it);
		it.session = msg.session;
		it.lane = bd_lane(r->w, &msg.rep);
		it.rep = msg.rep;
		if (r->on_item)
			r->on_item(r->ctx, &it);
	}
	if (rc < 0)
		bd_rig_fail(r, "the out ring's indices broke", (unsigned long long)-rc);
}

/* The journal runs until no ledger ring is above half the mark; when it
 * cannot fold (another stream's frontier is behind), the others run idle
 * cycles, which mark their frontiers. */
static void bd_relieve(struct bd_rig *r)
{
	struct sx_engine *e = r->e;
	for (uint32_t round = 0; round < 100000; round++) {
		uint64_t high = 0;
		for (uint32_t s = 0; s < e->nstreams; s++)
			if (bd_ring_fill(e->ledger_mem[s]) > high)
				high = bd_ring_fill(e->ledger_mem[s]);
		if (high <= BD_LEDGER_HIGH / 2)
			return;
		r->relieved++;
		if (sx_journal_work(e->journal) > 0)
			continue;
		sx_bank_work(e->bank);
		bd_drain(r);
		for (uint32_t k = 0; k < e->nmatchers; k++)
			if (bd_ring_fill(e->mout_mem[k]) <= BD_OUT_HIGH &&
			    bd_ring_fill(e->ledger_mem[k]) < SX_LEDGER_SLOTS / 2)
				sx_matcher_work(e->matchers[k]);
	}
	bd_rig_fail(r, "the journal's rings stay full", 0);
}

/* Rings whose published head the consumer about to run sees lowered. */
struct bd_hidden {
	uint32_t n;
	struct shmex_ring_ctl *ctl[BD_MAX_MATCHERS + 1];
	uint64_t head[BD_MAX_MATCHERS + 1];
};

/* Half the time, lets the consumer of the ring at @p mem see only a
 * random prefix of what is published in it: a producer on another thread
 * publishes message by message, so a consumer may find any prefix (say a
 * command's reports without the funds behind them). Consumers re-read a
 * head only once they have taken all they saw, and what they see is
 * real, so only the order of events changes. */
static void bd_hide(struct bd_rig *r, struct bd_hidden *h, void *mem)
{
	struct shmex_ring_ctl *c = mem;
	const uint64_t head = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
	const uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
	if (head <= tail || bd_rig_below(r, 2) != 0)
		return;
	const uint64_t seen = tail + bd_rand(&r->rng) % (head - tail + 1);
	__atomic_store_n(&c->head, seen, __ATOMIC_RELEASE);
	h->ctl[h->n] = c;
	h->head[h->n++] = head;
	r->hidden++;
}

static void bd_unhide(struct bd_hidden *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		__atomic_store_n(&h->ctl[i]->head, h->head[i], __ATOMIC_RELEASE);
	h->n = 0;
}

/* Runs agent @p a (0: the bank, 1..M: a matcher, M + 1: the journal),
 * or first whoever must make room for it; @p partial: it may see only
 * part of what its producers published. */
static int bd_agent(struct bd_rig *r, uint32_t a, int partial)
{
	struct sx_engine *e = r->e;
	const uint32_t M = e->nmatchers;
	struct bd_hidden h = { 0 };
	int work;
	for (uint32_t s = 0; s < e->nstreams; s++)
		if (bd_ring_fill(e->ledger_mem[s]) > BD_LEDGER_HIGH)
			bd_relieve(r);
	if (a >= 1 && a <= M && bd_ring_fill(e->mout_mem[a - 1]) > BD_OUT_HIGH)
		a = 0; /* the bank drains that matcher's ring */
	if (a == 0) {
		for (uint32_t k = 0; partial && k < M; k++)
			bd_hide(r, &h, e->mout_mem[k]);
		work = sx_bank_work(e->bank);
	} else if (a <= M) {
		if (partial)
			bd_hide(r, &h, e->mcmd_mem[a - 1]);
		work = sx_matcher_work(e->matchers[a - 1]);
	} else {
		for (uint32_t s = 0; partial && s < e->nstreams; s++)
			bd_hide(r, &h, e->ledger_mem[s]);
		sx_journal_work(e->journal);
		work = 0; /* not the engine's progress */
	}
	bd_unhide(&h);
	r->steps++;
	bd_drain(r);
	return work;
}

int bd_rig_step(struct bd_rig *r)
{
	const uint32_t M = r->e->nmatchers, n = M + 2;
	if (r->phase_left == 0) {
		/* A new phase: each agent's share of the steps, some starved. */
		uint32_t sum = 0;
		for (uint32_t a = 0; a < n; a++) {
			r->weight[a] = bd_rig_below(r, 4) == 0 ? 0 : bd_rig_below(r, 16);
			sum += a <= M ? r->weight[a] : 0;
		}
		if (sum == 0)
			r->weight[0] = 1;
		r->phase_left = 16 + bd_rig_below(r, 400);
	}
	r->phase_left--;
	uint32_t total = 0;
	for (uint32_t a = 0; a < n; a++)
		total += r->weight[a];
	uint32_t x = bd_rig_below(r, total), a = 0;
	while (x >= r->weight[a])
		x -= r->weight[a++];
	int work = 0;
	for (uint32_t burst = 1 + bd_rig_below(r, 3); burst > 0; burst--)
		work += bd_agent(r, a, 1);
	return work;
}

/* Whether any ring between the test, the bank and the matchers holds
 * something. */
static int bd_in_flight(const struct bd_rig *r)
{
	const struct sx_engine *e = r->e;
	if (bd_ring_fill(e->cmd_mem[0]) || bd_ring_fill(e->out_mem[0]))
		return 1;
	for (uint32_t k = 0; k < e->nmatchers; k++)
		if (bd_ring_fill(e->mcmd_mem[k]) || bd_ring_fill(e->mout_mem[k]))
			return 1;
	return 0;
}

int bd_rig_settle(struct bd_rig *r, uint32_t rounds, uint32_t max)
{
	const uint32_t M = r->e->nmatchers;
	uint32_t quiet = 0;
	for (uint32_t i = 0; i < max; i++) {
		int work = 0;
		for (uint32_t a = 0; a <= M + 1; a++)
			work += bd_agent(r, a, 0);
		quiet = work == 0 && !bd_in_flight(r) ? quiet + 1 : 0;
		if (quiet >= rounds)
			return 0;
	}
	bd_rig_fail(r, "the agents never went idle: rounds", max);
	return -1;
}

int bd_rig_finish(struct bd_rig *r)
{
	struct sx_engine *e = r->e;
	if (bd_rig_settle(r, 4, 100000) != 0)
		return -1;
	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t left = 0;
		for (uint32_t s = 0; s < e->nstreams; s++)
			left += bd_ring_fill(e->ledger_mem[s]);
		if (left == 0)
			return 0;
		for (uint32_t a = 0; a <= e->nmatchers + 1; a++)
			bd_agent(r, a, 0);
	}
	bd_rig_fail(r, "the journal never folded everything: rounds", 1000);
	return -1;
}
