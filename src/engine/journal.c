/*
 * The journal agent: the consumer of the engine's event stream (today the
 * ledger entries; the persistence issue writes this same stream to LMDB).
 * Each exchange (the matcher, or with several matchers each matcher and
 * the bank) writes its entries to a ring of its own, in the order it
 * numbers them, and marks in it, after each command and now and then when
 * idle, its frontier: "every event I numbered up to here is in the ring,
 * and my later ones take larger numbers". The journal merges the rings by
 * number, folding an event only when no ring can still bring a smaller one
 * (its frontier has passed it or its head is beyond it) and when the event
 * is whole (its ring shows what follows it). So what it folds is exactly
 * the prefix of the one sequence, event by event.
 *
 * It keeps its own copy of every balance (per exchange) and of the funds
 * in flight between the bank and each matcher (a transfer out numbered
 * when it leaves, its arrival later), and after each event checks what
 * every prefix must show: no balance and no flight negative, each entry's
 * "balance after" equal to the fold, and per asset Σ balances + flights =
 * deposits - withdrawals. A failure is logged and counted (shmexd
 * --check-events makes it fatal at exit).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct sx_journal {
	struct sx_engine *e;
	uint32_t nstreams, bank;    /* bank: its stream (UINT32_MAX: none) */
	uint32_t users, assets;     /* capacities (+1 for ids from 1 / the fee account) */
	struct shmex_ring r[SX_MAX_STREAMS];      /* consumer views */
	uint64_t frontier[SX_MAX_STREAMS];
	struct shmex_balance *bal;  /* [stream][user][asset] */
	int64_t *to, *from;         /* [matcher][asset]: bank -> matcher, matcher -> bank */
	int64_t *sum;               /* [assets] Σ balances + flights */
	int64_t *supply;            /* [assets] deposits - withdrawals */
	uint64_t last_seq;
	uint64_t events, errors;
};

static void sx_journal_fail(struct sx_journal *j, const char *what, const struct shmex_ledger_entry *le)
{
	j->errors++;
	__atomic_store_n(&j->e->journal_errors, j->errors, __ATOMIC_RELAXED);
	if (j->errors <= 10)
		sx_log("journal: event %llu: %s (user %u asset %u)", (unsigned long long)le->seq,
		       what, le->user, le->asset);
}

/* Funds between the bank and matcher @p k: out of one exchange (numbered
 * as they leave), into the other (numbered later). */
static void sx_journal_flight(struct sx_journal *j, uint32_t s, const struct shmex_ledger_entry *le)
{
	const int from_bank = s == j->bank;
	const uint64_t k = from_bank ? le->ref : s;
	if (j->bank == UINT32_MAX || k >= j->bank || (!from_bank && le->ref != j->bank)) {
		sx_journal_fail(j, "transfer with no such exchange", le);
		return;
	}
	const int out = le->cause == SHMEX_LC_TRANSFER_OUT;
	/* bank out / matcher in: the "to" flight; matcher out / bank in: "from" */
	int64_t *f = (from_bank == out ? j->to : j->from) + k * j->assets + le->asset;
	*f -= le->d_available; /* what left a balance is in flight until it arrives */
	j->sum[le->asset] -= le->d_available;
	if (*f < 0)
		sx_journal_fail(j, "funds arrived before they left", le);
}

static void sx_journal_fold(struct sx_journal *j, uint32_t s, const struct shmex_ledger_entry *le)
{
	if (le->user >= j->users || le->asset == 0 || le->asset >= j->assets) {
		sx_journal_fail(j, "user or asset out of range", le);
		return;
	}
	struct shmex_balance *b =
		&j->bal[((size_t)s * j->users + le->user) * j->assets + le->asset];
	b->available += le->d_available;
	b->locked += le->d_locked;
	j->sum[le->asset] += le->d_available + le->d_locked;
	if (le->cause == SHMEX_LC_DEPOSIT || le->cause == SHMEX_LC_WITHDRAWAL)
		j->supply[le->asset] += le->d_available;
	else if (le->cause == SHMEX_LC_TRANSFER_IN || le->cause == SHMEX_LC_TRANSFER_OUT)
		sx_journal_flight(j, s, le);
	if (b->available < 0 || b->locked < 0)
		sx_journal_fail(j, "negative balance", le);
	if (b->available != le->available || b->locked != le->locked)
		sx_journal_fail(j, "balance after differs from the fold", le);
}

/* Checks the state after a whole event. */
static void sx_journal_close_event(struct sx_journal *j, const struct shmex_ledger_entry *last)
{
	for (uint32_t a = 1; a < j->assets; a++)
		if (j->sum[a] != j->supply[a]) {
			sx_journal_fail(j, "conservation broken", last);
			break;
		}
	j->events++;
	__atomic_store_n(&j->e->journal_events, j->events, __ATOMIC_RELAXED);
}

/* Folds the next event of the merged stream if it can be known whole and
 * first; @return the ring entries it consumed (0: wait for more). */
static int sx_journal_step(struct sx_journal *j)
{
	int work = 0;
	uint32_t best = UINT32_MAX;
	uint64_t h = UINT64_MAX;
	for (uint32_t s = 0; s < j->nstreams; s++) {
		struct shmex_ring *r = &j->r[s];
		int64_t n = shmex_ring_available(r);
		while (n > 0) {
			const struct shmex_ledger_entry *le = shmex_ring_peek(r, 0);
			if (le->cause != 0)
				break;
			if (le->seq > j->frontier[s])
				j->frontier[s] = le->seq;
			shmex_ring_consume(r, 1);
			n--;
			work++;
		}
		if (n > 0) {
			const struct shmex_ledger_entry *le = shmex_ring_peek(r, 0);
			if (le->seq < h) {
				h = le->seq;
				best = s;
			}
		}
	}
	if (best == UINT32_MAX)
		return work;
	/* Another ring may still bring an event below h, unless its frontier
	 * is at h or beyond, or it shows an event beyond h (this reads each
	 * ring again: what came meanwhile, a smaller event or a mark, is
	 * taken by the next step). */
	for (uint32_t s = 0; s < j->nstreams; s++) {
		if (s == best || j->frontier[s] >= h)
			continue;
		if (shmex_ring_available(&j->r[s]) <= 0)
			return work;
		const struct shmex_ledger_entry *le = shmex_ring_peek(&j->r[s], 0);
		if (le->cause == 0 || le->seq < h)
			return work + 1; /* not folded: look again */
	}
	/* The event is whole once its ring shows what follows it. */
	struct shmex_ring *r = &j->r[best];
	int64_t n = shmex_ring_available(r);
	int64_t c = 0;
	for (int fresh = 0;; fresh = 1) {
		while (c < n) {
			const struct shmex_ledger_entry *le = shmex_ring_peek(r, (uint32_t)c);
			if (le->cause == 0 || le->seq != h)
				break;
			c++;
		}
		if (c < n)
			break;
		if (fresh || (n = shmex_ring_refresh(r)) <= c)
			return work; /* not whole yet */
	}
	if (h <= j->last_seq && j->events > 0) {
		const struct shmex_ledger_entry *le = shmex_ring_peek(r, 0);
		sx_journal_fail(j, "sequence went back", le);
	}
	struct shmex_ledger_entry last;
	for (int64_t i = 0; i < c; i++) {
		shmex_ring_read(r, (uint32_t)i, &last, sizeof last);
		sx_journal_fold(j, best, &last);
	}
	shmex_ring_consume(r, (uint32_t)c);
	j->last_seq = h;
	sx_journal_close_event(j, &last);
	return work + (int)c;
}

int sx_journal_work(void *arg)
{
	struct sx_journal *j = arg;
	int work = 0;
	for (int i = 0; i < 4096; i++) {
		const int w = sx_journal_step(j);
		if (w == 0)
			break;
		work += w;
	}
	return work;
}

int sx_journal_create(struct sx_engine *e, struct sx_journal **out)
{
	struct sx_journal *j = calloc(1, sizeof *j);
	if (!j)
		return SHMEX_E_NOMEM;
	j->e = e;
	j->nstreams = e->nstreams;
	j->bank = e->nmatchers > 1 ? e->nmatchers : UINT32_MAX;
	j->users = e->cfg.exchange.max_users + 1;
	j->assets = e->cfg.exchange.max_assets + 1;
	j->bal = calloc((size_t)j->nstreams * j->users * j->assets, sizeof *j->bal);
	j->to = calloc((size_t)e->nmatchers * j->assets, sizeof *j->to);
	j->from = calloc((size_t)e->nmatchers * j->assets, sizeof *j->from);
	j->sum = calloc(j->assets, sizeof *j->sum);
	j->supply = calloc(j->assets, sizeof *j->supply);
	int rc = (!j->bal || !j->to || !j->from || !j->sum || !j->supply) ? SHMEX_E_NOMEM : 0;
	for (uint32_t s = 0; rc == 0 && s < j->nstreams; s++)
		if (shmex_ring_attach(&j->r[s], e->ledger_mem[s], SX_LEDGER_SLOTS,
				      sizeof(struct shmex_ledger_entry)) != 0)
			rc = SHMEX_E_INVAL;
	if (rc != 0) {
		sx_journal_destroy(j);
		return rc;
	}
	*out = j;
	return 0;
}

void sx_journal_destroy(struct sx_journal *j)
{
	if (!j)
		return;
	free(j->bal);
	free(j->to);
	free(j->from);
	free(j->sum);
	free(j->supply);
	free(j);
}
