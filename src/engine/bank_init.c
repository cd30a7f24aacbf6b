/*
 * The bank's creation and its journal stream (bank.h). Its exchange holds
 * every asset, symbol and user the matchers' exchanges hold, with the same
 * ids (the engine adds the config's to all; bank_ctl.c adds later ones to
 * all), never an order, and every user's free funds.
 */
#include <stdlib.h>
#include <string.h>

#include "bank.h"
#include "sx_hash_seed.h"

/* Pushes what waits in the overflow, in order; @return 1 if it is empty. */
static int sx_bank_overflow_drain(struct sx_bank *b)
{
	while (b->over_head != b->over_tail) {
		const struct shmex_ledger_entry *le = &b->over[b->over_head & (SX_BANK_OVERFLOW - 1)];
		if (shmex_ring_push(&b->ledger, le, sizeof *le) != 1)
			return 0;
		b->over_head++;
		b->ledger_pushed = 1;
	}
	return 1;
}

/* The bank never waits for the journal: the journal may be waiting for a
 * matcher's event to end, and that matcher for the bank to read its ring.
 * What does not fit the ring waits here, in order (journal.c). */
static void sx_bank_on_ledger(void *ctx, const struct shmex_ledger_entry *le)
{
	struct sx_bank *b = ctx;
	b->ledger_open++;
	b->ledger_pushed = 1;
	if (sx_bank_overflow_drain(b) && shmex_ring_push(&b->ledger, le, sizeof *le) == 1)
		return;
	while (b->over_tail - b->over_head == SX_BANK_OVERFLOW) {
		/* Full too: the journal is far behind (it is a checker); wait. */
		if (!__atomic_load_n(&b->e->running, __ATOMIC_ACQUIRE))
			return;
		sx_bell_ring(&b->e->journal_bell);
		sx_cpu_relax();
		sx_bank_overflow_drain(b);
	}
	b->over[b->over_tail++ & (SX_BANK_OVERFLOW - 1)] = *le;
}

/* The frontier mark (journal.c): every event numbered here so far is in
 * the ring, and later ones take numbers above the counter's value now. */
static void sx_bank_mark(struct sx_bank *b)
{
	struct shmex_ledger_entry mark;
	memset(&mark, 0, sizeof mark);
	/* relaxed: at least this thread's last number, by coherence (engine.h) */
	mark.seq = __atomic_load_n(&b->e->seq_counter, __ATOMIC_RELAXED);
	sx_bank_on_ledger(b, &mark);
	b->marked_seq = mark.seq;
}

void sx_bank_ledger_flush(struct sx_bank *b, int idle)
{
	if (!b->journal)
		return;
	sx_bank_overflow_drain(b);
	/* After events, and every busy cycle (or every 16th idle one) while
	 * others number theirs: the journal's frontier for this stream. */
	if (b->ledger_open ||
	    ((!idle || (++b->idle_cycles & 15) == 0) &&
	     __atomic_load_n(&b->e->seq_counter, __ATOMIC_RELAXED) != b->marked_seq)) {
		sx_bank_mark(b);
		b->ledger_open = 0;
	}
	if (b->ledger_pushed) {
		b->ledger_pushed = 0;
		sx_bell_ring(&b->e->journal_bell);
	}
}

int sx_bank_create(struct sx_engine *e, struct sx_bank **out)
{
	struct sx_bank *b = calloc(1, sizeof *b);
	if (!b)
		return SHMEX_E_NOMEM;
	const uint32_t M = e->nmatchers, G = e->cfg.gateways, S = e->cfg.max_sessions;
	b->e = e;
	b->M = M;
	b->G = G;
	b->journal = e->check_events != 0;
	b->gcmd = calloc(G, sizeof *b->gcmd);
	b->gout = calloc(G, sizeof *b->gout);
	b->gout_dirty = calloc(G, 1);
	b->mcmd = calloc(M, sizeof *b->mcmd);
	b->mout = calloc(M, sizeof *b->mout);
	b->mcmd_dirty = calloc(M, 1);
	b->mctl_in = calloc(M, sizeof *b->mctl_in);
	b->mctl_out = calloc(M, sizeof *b->mctl_out);
	b->session_gw = malloc(S * sizeof *b->session_gw);
	b->closing = calloc(S, sizeof *b->closing);
	b->merges = calloc(S, sizeof *b->merges);
	b->fence_seen = calloc(M, sizeof *b->fence_seen);
	b->supply = calloc((size_t)e->cfg.exchange.max_assets + 1, sizeof *b->supply);
	b->ctl.items = malloc((size_t)SX_CTL_ITEMS_MAX * sizeof(struct shmex_order_state));
	b->ctl.query_open = calloc(M, 1);
	/* Reserved now, touched only if the journal falls behind (64 MiB of
	 * address space; no allocation on the bank's path). */
	if (b->journal)
		b->over = malloc(SX_BANK_OVERFLOW * sizeof *b->over);
	struct shmex_exchange_config xc = e->cfg.exchange;
	/* No orders here: the smallest order table. */
	xc.max_orders = 2;
	xc.book_orders = 2;
	xc.shared_seq = &e->seq_counter;
	xc.id_base = (uint64_t)M << 48;
	xc.ledger_sink = b->journal ? sx_bank_on_ledger : NULL;
	xc.ledger_ctx = b;
	int rc = (!b->gcmd || !b->gout || !b->gout_dirty || !b->mcmd || !b->mout ||
		  !b->mcmd_dirty || !b->mctl_in || !b->mctl_out || !b->session_gw || !b->closing ||
		  !b->merges || !b->fence_seen || !b->supply || !b->ctl.items ||
		  !b->ctl.query_open || (b->journal && !b->over))
			 ? SHMEX_E_NOMEM
			 : shmex_exchange_create(&xc, &b->ex);
	/* Order id -> symbol, one block per matcher, as many slots as a
	 * matcher has order records (live ids are distinct modulo that). */
	const uint32_t slots = e->cfg.exchange.max_orders <= 2 ? 2 : e->cfg.exchange.max_orders;
	uint32_t cap = 1;
	while (cap < slots)
		cap <<= 1;
	b->omask = cap - 1;
	b->cmask = 2 * cap - 1;
	b->clid_seed = sx_hash_seed(b);
	if (rc == 0) {
		b->oid = calloc((size_t)M * cap, sizeof *b->oid);
		b->osym = calloc((size_t)M * cap, sizeof *b->osym);
		b->clids = calloc((size_t)b->cmask + 1, sizeof *b->clids);
		b->ocounted = calloc((size_t)M * cap, 1);
		b->open_orders = calloc((size_t)e->cfg.exchange.max_users + 1, sizeof *b->open_orders);
		b->submits = calloc((size_t)e->cfg.exchange.max_users + 1, sizeof *b->submits);
		if (!b->oid || !b->osym || !b->clids || !b->ocounted || !b->open_orders || !b->submits)
			rc = SHMEX_E_NOMEM;
	}
	for (uint32_t g = 0; rc == 0 && g < G; g++)
		if (shmex_ring_attach(&b->gcmd[g], e->cmd_mem[g], SX_CMD_SLOTS, SX_CMD_SLOT) != 0 ||
		    shmex_ring_attach(&b->gout[g], e->out_mem[g], SX_OUT_SLOTS, SX_OUT_SLOT) != 0)
			rc = SHMEX_E_INVAL;
	for (uint32_t k = 0; rc == 0 && k < M; k++)
		if (shmex_ring_attach(&b->mcmd[k], e->mcmd_mem[k], SX_CMD_SLOTS, SX_CMD_SLOT) != 0 ||
		    shmex_ring_attach(&b->mout[k], e->mout_mem[k], SX_OUT_SLOTS, SX_OUT_SLOT) != 0 ||
		    shmex_ring_attach(&b->mctl_in[k], e->mctl_in_mem[k], SX_CTL_IN_SLOTS,
				      SX_CTL_IN_SLOT) != 0 ||
		    shmex_ring_attach(&b->mctl_out[k], e->mctl_out_mem[k], SX_CTL_OUT_SLOTS,
				      SX_CTL_OUT_SLOT) != 0)
			rc = SHMEX_E_INVAL;
	if (rc == 0 &&
	    (shmex_ring_attach(&b->ctl_in, e->ring_mem[0], SX_CTL_IN_SLOTS, SX_CTL_IN_SLOT) != 0 ||
	     shmex_ring_attach(&b->ctl_out, e->ring_mem[1], SX_CTL_OUT_SLOTS, SX_CTL_OUT_SLOT) != 0 ||
	     (b->journal && shmex_ring_attach(&b->ledger, e->ledger_mem[M], SX_LEDGER_SLOTS,
					      sizeof(struct shmex_ledger_entry)) != 0)))
		rc = SHMEX_E_INVAL;
	if (rc != 0) {
		sx_bank_destroy(b);
		return rc;
	}
	memset(b->session_gw, 0xff, S * sizeof *b->session_gw);
	b->exec.e = e;
	b->exec.ex = b->ex;
	b->exec.reply = &b->ctl_out;
	b->exec.supply = b->supply;
	*out = b;
	return 0;
}

void sx_bank_destroy(struct sx_bank *b)
{
	if (!b)
		return;
	shmex_exchange_destroy(b->ex);
	free(b->gcmd);
	free(b->gout);
	free(b->gout_dirty);
	free(b->mcmd);
	free(b->mout);
	free(b->mcmd_dirty);
	free(b->mctl_in);
	free(b->mctl_out);
	free(b->session_gw);
	free(b->closing);
	free(b->merges);
	free(b->fence_seen);
	free(b->supply);
	free(b->ctl.items);
	free(b->ctl.query_open);
	free(b->oid);
	free(b->osym);
	free(b->clids);
	free(b->ocounted);
	free(b->open_orders);
	free(b->submits);
	free(b->over);
	free(b);
}

void sx_bank_config_done(struct sx_bank *b)
{
	uint32_t nassets = 0;
	shmex_exchange_counts(b->ex, &nassets, NULL, NULL);
	for (uint32_t a = 1; a <= nassets; a++)
		shmex_exchange_supply(b->ex, a, &b->supply[a]);
}
