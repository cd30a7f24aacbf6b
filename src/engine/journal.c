/*
 * The journal agent: the consumer of the engine's event stream (today the
 * ledger entries; the persistence issue writes this same stream to LMDB).
 * It keeps its own copy of every balance by folding the entries in
 * sequence order from zero, and after each event (all entries with one
 * sequence number; the matcher marks the end of each command with an
 * entry of cause 0, since a ring can be empty in the middle of an event)
 * checks what every prefix of the stream must show: no
 * balance negative, each entry's "balance after" equal to the fold, and
 * per asset Σ (available + locked) = deposits - withdrawals. A failure is
 * logged and counted (shmexd --check-events makes it fatal at exit).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct sx_journal {
	struct sx_engine *e;
	uint32_t users, assets;     /* capacities (+1 for ids from 1 / the fee account) */
	struct shmex_balance *bal;  /* [users * assets] */
	int64_t *sum;               /* [assets] Σ available + locked */
	int64_t *supply;            /* [assets] deposits - withdrawals */
	uint64_t last_seq;
	uint64_t open_seq;          /* the event being folded (0: none) */
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

/* Checks the state after event open_seq is complete. */
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

static void sx_journal_fold(struct sx_journal *j, const struct shmex_ledger_entry *le)
{
	static struct shmex_ledger_entry prev;
	if (le->seq < j->last_seq) {
		sx_journal_fail(j, "sequence went back", le);
		return;
	}
	if (j->open_seq != 0 && le->seq != j->open_seq)
		sx_journal_close_event(j, &prev);
	j->open_seq = le->seq;
	j->last_seq = le->seq;
	prev = *le;
	if (le->user >= j->users || le->asset == 0 || le->asset >= j->assets) {
		sx_journal_fail(j, "user or asset out of range", le);
		return;
	}
	struct shmex_balance *b = &j->bal[(size_t)le->user * j->assets + le->asset];
	b->available += le->d_available;
	b->locked += le->d_locked;
	j->sum[le->asset] += le->d_available + le->d_locked;
	if (le->cause == SHMEX_LC_DEPOSIT)
		j->supply[le->asset] += le->d_available;
	else if (le->cause == SHMEX_LC_WITHDRAWAL)
		j->supply[le->asset] += le->d_available;
	if (b->available < 0 || b->locked < 0)
		sx_journal_fail(j, "negative balance", le);
	if (b->available != le->available || b->locked != le->locked)
		sx_journal_fail(j, "balance after differs from the fold", le);
}

int sx_journal_work(void *arg)
{
	struct sx_journal *j = arg;
	struct shmex_ring *r = &j->e->ledger_cons;
	int64_t n = shmex_ring_available(r);
	if (n <= 0)
		return 0;
	for (int64_t i = 0; i < n; i++) {
		struct shmex_ledger_entry le;
		shmex_ring_read(r, (uint32_t)i, &le, sizeof le);
		if (le.cause == 0) {
			/* The matcher's end-of-command mark: the open event is whole. */
			if (j->open_seq != 0)
				sx_journal_close_event(j, &le);
			j->open_seq = 0;
			continue;
		}
		sx_journal_fold(j, &le);
	}
	shmex_ring_consume(r, (uint32_t)n);
	return (int)n;
}

int sx_journal_create(struct sx_engine *e, struct sx_journal **out)
{
	struct sx_journal *j = calloc(1, sizeof *j);
	if (!j)
		return SHMEX_E_NOMEM;
	j->e = e;
	j->users = e->cfg.exchange.max_users + 1;
	j->assets = e->cfg.exchange.max_assets + 1;
	j->bal = calloc((size_t)j->users * j->assets, sizeof *j->bal);
	j->sum = calloc(j->assets, sizeof *j->sum);
	j->supply = calloc(j->assets, sizeof *j->supply);
	if (!j->bal || !j->sum || !j->supply) {
		sx_journal_destroy(j);
		return SHMEX_E_NOMEM;
	}
	*out = j;
	return 0;
}

void sx_journal_destroy(struct sx_journal *j)
{
	if (!j)
		return;
	free(j->bal);
	free(j->sum);
	free(j->supply);
	free(j);
}
