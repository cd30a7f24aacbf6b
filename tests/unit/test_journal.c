/*
 * Unit tests of the journal agent (src/engine/journal.c) without an
 * engine: a hand-made struct sx_engine with only what the journal reads
 * (matchers, streams, capacities, one ledger ring per stream), and this
 * file playing every exchange: it pushes ledger entries and frontier marks
 * into the rings in each stream's own order and calls sx_journal_work()
 * between pushes, so that each state the merge can meet is built exactly.
 *
 * The journal's only outputs are its two counters and its log lines
 * (stderr), so each call's stderr is captured and the tests check the
 * named violation, not just a count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"

#define SX_T_USERS 4u  /* ids 1..4, and the fee account 0 */
#define SX_T_ASSETS 3u /* ids 1..3 */
#define SX_T_STREAMS 3u
#define USD 1u
#define BTC 2u
#define FEE SHMEX_FEE_ACCOUNT

struct sx_fix {
	struct sx_engine *e;
	struct sx_journal *j;
	uint32_t m, bank; /* matchers; the bank's stream (and index as a peer) */
	struct shmex_ring prod[SX_T_STREAMS];
	/* each stream's own balances, to write "balance after" as it would */
	struct shmex_balance bal[SX_T_STREAMS][SX_T_USERS + 1][SX_T_ASSETS + 1];
	char log[8192];
	size_t loglen;
	void *alias_mem; /* test_race_between_reads: rings 2 and 0 in one block */
};

static void *sx_ring_mem(void)
{
	const size_t bytes = shmex_ring_memsize(SX_LEDGER_SLOTS, sizeof(struct shmex_ledger_entry));
	void *mem = aligned_alloc(SHMEX_CACHE_LINE, (bytes + 63) & ~(size_t)63);
	if (mem && shmex_ring_init(mem, SX_LEDGER_SLOTS, sizeof(struct shmex_ledger_entry)) != 0) {
		free(mem);
		mem = NULL;
	}
	return mem;
}

/* Stream 0's ring placed so that its head word is stream 2's tail word:
 * the journal's own consume of a mark from ring 2 then publishes entries
 * in ring 0 (written there directly), exactly between the two reads of
 * ring 0 that one merge step makes (test_race_between_reads). Ring 2's
 * slots 0..2 lie on ring 0's tail and guard lines (never read by the
 * journal as ring 0's), its slot 3 on, and beyond, ring 0's slot 0, which
 * ring 2, holding two marks, never reaches. */
static int sx_alias_rings(struct sx_fix *f)
{
	const size_t lag = offsetof(struct shmex_ring_ctl, tail);
	const size_t bytes = shmex_ring_memsize(SX_LEDGER_SLOTS, sizeof(struct shmex_ledger_entry));
	uint8_t *mem = aligned_alloc(SHMEX_CACHE_LINE, lag + bytes);
	if (!mem)
		return -1;
	f->alias_mem = mem;
	f->e->ledger_mem[2] = mem;
	f->e->ledger_mem[0] = mem + lag;
	f->e->ledger_mem[1] = sx_ring_mem();
	if (!f->e->ledger_mem[1])
		return -1;
	shmex_ring_init(f->e->ledger_mem[2], SX_LEDGER_SLOTS, sizeof(struct shmex_ledger_entry));
	shmex_ring_init(f->e->ledger_mem[0], SX_LEDGER_SLOTS, sizeof(struct shmex_ledger_entry));
	return 0;
}

static int sx_setup(void **state, uint32_t m, int alias)
{
	struct sx_fix *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	/* struct sx_engine has a 64-byte aligned member: calloc's 16 is not enough */
	const size_t esize = (sizeof *f->e + 63) & ~(size_t)63;
	f->e = aligned_alloc(64, esize);
	if (!f->e) {
		free(f);
		return -1;
	}
	memset(f->e, 0, esize);
	*state = f;
	f->m = m;
	f->bank = m; /* the bank is stream (and exchange) M, when M > 1 */
	f->e->nmatchers = m;
	f->e->nstreams = m > 1 ? m + 1 : 1;
	f->e->cfg.exchange.max_users = SX_T_USERS;
	f->e->cfg.exchange.max_assets = SX_T_ASSETS;
	if (alias && sx_alias_rings(f) != 0)
		return -1;
	for (uint32_t s = 0; s < f->e->nstreams; s++) {
		if (!alias)
			f->e->ledger_mem[s] = sx_ring_mem();
		if (!f->e->ledger_mem[s] ||
		    shmex_ring_attach(&f->prod[s], f->e->ledger_mem[s], SX_LEDGER_SLOTS,
				      sizeof(struct shmex_ledger_entry)) != 0)
			return -1;
	}
	return sx_journal_create(f->e, &f->j) == 0 ? 0 : -1;
}

static int sx_setup_m1(void **state)
{
	return sx_setup(state, 1, 0);
}

static int sx_setup_m2(void **state)
{
	return sx_setup(state, 2, 0);
}

static int sx_setup_alias(void **state)
{
	return sx_setup(state, 2, 1);
}

static int sx_teardown(void **state)
{
	struct sx_fix *f = *state;
	if (!f)
		return 0;
	sx_journal_destroy(f->j);
	if (f->e && f->alias_mem) {
		free(f->alias_mem);
		free(f->e->ledger_mem[1]);
		free(f->e);
	} else if (f->e) {
		for (uint32_t s = 0; s < SX_T_STREAMS; s++)
			free(f->e->ledger_mem[s]);
		free(f->e);
	}
	free(f);
	return 0;
}

static void sx_push(struct sx_fix *f, uint32_t s, const struct shmex_ledger_entry *le)
{
	assert_int_equal(shmex_ring_push(&f->prod[s], le, sizeof *le), 1);
}

/* One balance move of stream @p s, with the balance after as that exchange
 * computes it from its own accounts. */
static void sx_move(struct sx_fix *f, uint32_t s, uint64_t seq, uint16_t cause, uint32_t user,
		    uint16_t asset, int64_t d_available, int64_t d_locked, uint64_t ref)
{
	struct shmex_balance *b = &f->bal[s][user][asset];
	b->available += d_available;
	b->locked += d_locked;
	struct shmex_ledger_entry le = {
		.seq = seq, .ref = ref, .user = user, .asset = asset, .cause = cause,
		.d_available = d_available, .d_locked = d_locked,
		.available = b->available, .locked = b->locked,
	};
	sx_push(f, s, &le);
}

/* Moves of available funds only (deposit, withdrawal, transfers, plain
 * credits of a trade). */
static void sx_avail(struct sx_fix *f, uint32_t s, uint64_t seq, uint16_t cause, uint32_t user,
		     uint16_t asset, int64_t d)
{
	sx_move(f, s, seq, cause, user, asset, d, 0, 0);
}

/* Funds leave stream @p from (numbered @p out_seq) for exchange @p to; the
 * arrival is pushed separately (sx_xfer_in) with its own, later number. */
static void sx_xfer_out(struct sx_fix *f, uint32_t from, uint64_t seq, uint32_t to, uint32_t user,
			uint16_t asset, int64_t amount)
{
	sx_move(f, from, seq, SHMEX_LC_TRANSFER_OUT, user, asset, -amount, 0, to);
}

static void sx_xfer_in(struct sx_fix *f, uint32_t to, uint64_t seq, uint32_t from, uint32_t user,
		       uint16_t asset, int64_t amount)
{
	sx_move(f, to, seq, SHMEX_LC_TRANSFER_IN, user, asset, amount, 0, from);
}

/* available -> locked for an order (negative: locked -> available). */
static void sx_lock(struct sx_fix *f, uint32_t s, uint64_t seq, uint32_t user, uint16_t asset,
		    int64_t amount)
{
	sx_move(f, s, seq, amount > 0 ? SHMEX_LC_ORDER_LOCK : SHMEX_LC_RELEASE, user, asset,
		-amount, amount, 7);
}

/* The frontier mark: everything stream @p s numbered up to @p seq is in
 * its ring already, and its later events take larger numbers. */
static void sx_mark(struct sx_fix *f, uint32_t s, uint64_t seq)
{
	struct shmex_ledger_entry le = { .seq = seq };
	sx_push(f, s, &le);
}

/* One duty cycle of the journal, its log lines appended to f->log. */
static int sx_work(struct sx_fix *f)
{
	fflush(stderr);
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	const int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	const int w = sx_journal_work(f->j);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	f->loglen += fread(f->log + f->loglen, 1, sizeof f->log - 1 - f->loglen, tmp);
	f->log[f->loglen] = '\0';
	fclose(tmp);
	return w;
}

static uint64_t sx_events(const struct sx_fix *f)
{
	return __atomic_load_n(&f->e->journal_events, __ATOMIC_RELAXED);
}

static uint64_t sx_errors(const struct sx_fix *f)
{
	return __atomic_load_n(&f->e->journal_errors, __ATOMIC_RELAXED);
}

/* The journal has taken every entry of every ring (folded, or a mark). */
static void sx_assert_drained(struct sx_fix *f)
{
	for (uint32_t s = 0; s < f->e->nstreams; s++)
		assert_int_equal(shmex_ring_room(&f->prod[s], SX_LEDGER_SLOTS), SX_LEDGER_SLOTS);
}

/* Work, then exactly @p events folded so far and no violation logged. */
static void sx_expect(struct sx_fix *f, uint64_t events)
{
	sx_work(f);
	if (sx_errors(f) != 0 || sx_events(f) != events)
		print_message("journal log:\n%s", f->log);
	assert_int_equal(sx_errors(f), 0);
	assert_int_equal(sx_events(f), events);
}

/* Work, then exactly one violation, logged as @p what. */
static void sx_expect_violation(struct sx_fix *f, const char *what)
{
	sx_work(f);
	print_message("%s", f->log);
	assert_int_equal(sx_errors(f), 1);
	assert_non_null(strstr(f->log, what));
}

/* ---- 1. several streams merged by number ---------------------------------- */

/* Two matchers and the bank, each writing its events in its own order with
 * marks, the rings filled one whole stream after another (the bank last):
 * the journal must wait for the bank before folding anything, then fold
 * the 15 events in number order. Transfers make any other order a
 * violation (funds arriving before they left, or a sequence going back). */
static void test_merge_two_matchers(void **state)
{
	struct sx_fix *f = *state;
	const uint32_t b = f->bank;
	/* matcher 0: funds from the bank, an order, a trade, a release */
	sx_xfer_in(f, 0, 5, b, 1, USD, 600);
	sx_xfer_in(f, 0, 6, b, 2, BTC, 10);
	sx_lock(f, 0, 7, 2, BTC, 5);
	sx_mark(f, 0, 7);
	sx_lock(f, 0, 10, 1, USD, 500);
	sx_mark(f, 0, 10);
	/* event 11, a trade: 4 BTC for 400 USD, 1 USD fee */
	sx_move(f, 0, 11, SHMEX_LC_TRADE, 1, USD, 0, -400, 7);
	sx_move(f, 0, 11, SHMEX_LC_TRADE, 1, BTC, 4, 0, 7);
	sx_move(f, 0, 11, SHMEX_LC_TRADE, 2, BTC, 0, -4, 8);
	sx_move(f, 0, 11, SHMEX_LC_TRADE, 2, USD, 399, 0, 8);
	sx_move(f, 0, 11, SHMEX_LC_FEE, FEE, USD, 1, 0, 8);
	sx_mark(f, 0, 11);
	sx_lock(f, 0, 12, 1, USD, -100);
	sx_mark(f, 0, 12);
	sx_mark(f, 0, 15); /* idle */
	sx_expect(f, 0);   /* the bank may still bring 1..4 */
	/* matcher 1: funds in, and back to the bank */
	sx_xfer_in(f, 1, 9, b, 1, USD, 300);
	sx_mark(f, 1, 9);
	sx_xfer_out(f, 1, 13, b, 1, USD, 300);
	sx_mark(f, 1, 13);
	sx_mark(f, 1, 15);
	sx_expect(f, 0);
	/* the bank: deposits, transfers out and in, a withdrawal */
	sx_avail(f, b, 1, SHMEX_LC_DEPOSIT, 1, USD, 1000);
	sx_avail(f, b, 2, SHMEX_LC_DEPOSIT, 2, BTC, 10);
	sx_xfer_out(f, b, 3, 0, 1, USD, 600);
	sx_xfer_out(f, b, 4, 0, 2, BTC, 10);
	sx_mark(f, b, 4);
	sx_xfer_out(f, b, 8, 1, 1, USD, 300);
	sx_mark(f, b, 8);
	sx_xfer_in(f, b, 14, 1, 1, USD, 300);
	sx_avail(f, b, 15, SHMEX_LC_WITHDRAWAL, 1, USD, -350);
	sx_mark(f, b, 15);
	sx_expect(f, 15);
	sx_assert_drained(f);
	assert_string_equal(f->log, "");
}

/* ---- 2. waiting for a stream that may still bring a smaller number --------- */

static void test_wait_for_frontier(void **state)
{
	struct sx_fix *f = *state;
	const uint32_t b = f->bank;
	sx_avail(f, b, 1, SHMEX_LC_DEPOSIT, 1, USD, 1000);
	sx_avail(f, b, 2, SHMEX_LC_DEPOSIT, 2, USD, 500);
	sx_xfer_out(f, b, 3, 1, 2, USD, 200);
	sx_mark(f, b, 3);
	sx_xfer_in(f, 1, 4, b, 2, USD, 200);
	sx_mark(f, 1, 4);
	sx_lock(f, 1, 5, 2, USD, 150);
	sx_mark(f, 1, 5);
	sx_mark(f, b, 5);  /* the bank idle: nothing of its own up to 5 */
	sx_mark(f, 1, 9);  /* matcher 1 idle later */
	sx_mark(f, 0, 5);
	sx_expect(f, 5);
	/* matcher 0 shows 7, funds the bank sent; the bank's ring is empty and
	 * its frontier 5: it may still bring 6 */
	sx_xfer_in(f, 0, 7, b, 1, USD, 300);
	sx_mark(f, 0, 7);
	sx_expect(f, 5);
	sx_expect(f, 5); /* and again: waiting is not a one-off */
	/* the bank shows 6, but not yet what follows it: 6 may not be whole */
	sx_xfer_out(f, b, 6, 0, 1, USD, 300);
	sx_expect(f, 5);
	sx_mark(f, b, 7);
	sx_expect(f, 7);
	sx_assert_drained(f);

	/* matcher 1's ring is empty but its frontier (9) is past the head:
	 * not waited for; matcher 0 (frontier 7) is, until it marks 8 */
	sx_avail(f, b, 8, SHMEX_LC_DEPOSIT, 3, BTC, 5);
	sx_mark(f, b, 8);
	sx_expect(f, 7);
	sx_mark(f, 0, 8);
	sx_expect(f, 8);
	sx_assert_drained(f);
	assert_string_equal(f->log, "");
}

/* ---- 3. an event is folded only when whole ------------------------------- */

static void test_whole_events(void **state)
{
	struct sx_fix *f = *state;
	sx_avail(f, 0, 1, SHMEX_LC_DEPOSIT, 1, USD, 1000);
	sx_mark(f, 0, 1);
	sx_avail(f, 0, 2, SHMEX_LC_DEPOSIT, 2, BTC, 10);
	sx_mark(f, 0, 2);
	sx_lock(f, 0, 3, 1, USD, 500);
	sx_mark(f, 0, 3);
	sx_lock(f, 0, 4, 2, BTC, 5);
	sx_mark(f, 0, 4);
	sx_expect(f, 4);
	/* event 5, a trade, in two parts: alone, the first part takes money
	 * out of the world (USD and BTC paid, nothing received) */
	sx_move(f, 0, 5, SHMEX_LC_TRADE, 1, USD, 0, -400, 7);
	sx_move(f, 0, 5, SHMEX_LC_TRADE, 2, BTC, 0, -4, 8);
	sx_expect(f, 4);
	sx_move(f, 0, 5, SHMEX_LC_TRADE, 1, BTC, 4, 0, 7);
	sx_move(f, 0, 5, SHMEX_LC_TRADE, 2, USD, 399, 0, 8);
	sx_move(f, 0, 5, SHMEX_LC_FEE, FEE, USD, 1, 0, 8);
	sx_expect(f, 4); /* still nothing after it: more of it may come */
	/* what follows, the next event: 5 is whole (6 is not yet) */
	sx_lock(f, 0, 6, 1, USD, -100);
	sx_expect(f, 5);
	sx_mark(f, 0, 6);
	sx_expect(f, 6);
	sx_assert_drained(f);
	assert_string_equal(f->log, "");
}

/* ---- 4. violations are counted and named ---------------------------------- */

static void test_violation_negative(void **state)
{
	struct sx_fix *f = *state;
	sx_avail(f, 0, 1, SHMEX_LC_DEPOSIT, 1, USD, 100);
	sx_mark(f, 0, 1);
	sx_expect(f, 1);
	sx_avail(f, 0, 2, SHMEX_LC_WITHDRAWAL, 1, USD, -150); /* after: -50 */
	sx_mark(f, 0, 2);
	sx_expect_violation(f, "event 2: negative balance (user 1 asset 1)");
	assert_int_equal(sx_events(f), 2);
}

static void test_violation_balance_after(void **state)
{
	struct sx_fix *f = *state;
	sx_avail(f, 0, 1, SHMEX_LC_DEPOSIT, 1, USD, 100);
	f->bal[0][1][USD].available -= 10; /* the exchange's own copy drifted */
	sx_avail(f, 0, 2, SHMEX_LC_DEPOSIT, 1, USD, 5);
	sx_mark(f, 0, 2);
	sx_expect_violation(f, "event 2: balance after differs from the fold (user 1 asset 1)");
	assert_int_equal(sx_events(f), 2);
}

static void test_violation_arrived_first(void **state)
{
	struct sx_fix *f = *state;
	const uint32_t b = f->bank;
	sx_avail(f, b, 1, SHMEX_LC_DEPOSIT, 1, USD, 100);
	sx_mark(f, b, 1);
	sx_xfer_in(f, 0, 2, b, 1, USD, 100); /* numbered before it left */
	sx_mark(f, 0, 2);
	sx_xfer_out(f, b, 3, 0, 1, USD, 100);
	sx_mark(f, b, 3);
	sx_mark(f, 0, 3);
	sx_mark(f, 1, 3);
	sx_expect_violation(f, "event 2: funds arrived before they left (user 1 asset 1)");
	assert_int_equal(sx_events(f), 3);
}

static void test_violation_conservation(void **state)
{
	struct sx_fix *f = *state;
	sx_avail(f, 0, 1, SHMEX_LC_DEPOSIT, 1, USD, 100);
	sx_avail(f, 0, 2, SHMEX_LC_TRADE, 2, USD, 50); /* received, paid by no one */
	sx_mark(f, 0, 2);
	sx_expect_violation(f, "event 2: conservation broken (user 2 asset 1)");
	assert_int_equal(sx_events(f), 2);
}

static void test_violation_seq_back(void **state)
{
	struct sx_fix *f = *state;
	sx_avail(f, 0, 5, SHMEX_LC_DEPOSIT, 1, USD, 100);
	sx_mark(f, 0, 5);
	sx_avail(f, 0, 3, SHMEX_LC_DEPOSIT, 2, USD, 100);
	sx_mark(f, 0, 5);
	sx_expect_violation(f, "event 3: sequence went back");
	assert_int_equal(sx_events(f), 2);
}

/* With one matcher there is no bank to transfer with. */
static void test_violation_no_peer(void **state)
{
	struct sx_fix *f = *state;
	sx_avail(f, 0, 1, SHMEX_LC_DEPOSIT, 1, USD, 100);
	sx_avail(f, 0, 1, SHMEX_LC_TRANSFER_OUT, 1, USD, -100);
	sx_mark(f, 0, 1);
	sx_work(f);
	assert_true(sx_errors(f) >= 1);
	assert_non_null(strstr(f->log, "event 1: transfer with no such exchange"));
}

/* ---- 5. a ring that was empty brings an event below the chosen head ------- */

/* The states around the race the merge rule is for: the journal chose head
 * h = 10 from matcher 0 while the bank's ring was empty with a low
 * frontier; the bank then brings 8 (what matcher 0's 10 received). The
 * bank's 8 must go first; 10 only once the bank's frontier reaches it
 * (at h counts) or its ring shows an event beyond it. */
static void test_race_smaller_event(void **state)
{
	struct sx_fix *f = *state;
	const uint32_t b = f->bank;
	sx_avail(f, b, 1, SHMEX_LC_DEPOSIT, 1, USD, 1000);
	sx_mark(f, b, 3);
	sx_mark(f, 1, 20); /* matcher 1 only idles */
	sx_mark(f, 0, 1);
	sx_expect(f, 1);
	sx_xfer_in(f, 0, 10, b, 1, USD, 100);
	sx_mark(f, 0, 10);
	sx_expect(f, 1); /* the bank (empty, frontier 3) may bring less than 10 */
	sx_xfer_out(f, b, 8, 0, 1, USD, 100);
	sx_mark(f, b, 9);
	sx_expect(f, 2); /* 8, and 10 still waits: the bank's frontier is 9 */
	sx_mark(f, b, 10);
	sx_expect(f, 3); /* frontier at h */
	/* and an event beyond h in the bank's ring lets h go */
	sx_lock(f, 0, 14, 1, USD, 60);
	sx_mark(f, 0, 14);
	sx_expect(f, 3);
	sx_avail(f, b, 16, SHMEX_LC_DEPOSIT, 2, USD, 5);
	sx_expect(f, 4);
	sx_mark(f, b, 16);
	sx_mark(f, 0, 16);
	sx_expect(f, 5);
	sx_assert_drained(f);
	assert_string_equal(f->log, "");
}

/* The race itself, in one step: the journal reads matcher 0's ring empty
 * (frontier 0), picks h = 10 from matcher 1, and while it takes the bank's
 * marks, matcher 0 publishes 8 and a mark (here: the journal's consume of
 * the bank's marks is that publication, sx_alias_rings). The step must
 * see 8 below h when it reads matcher 0 again and fold 8 first. */
static void test_race_between_reads(void **state)
{
	struct sx_fix *f = *state;
	const struct shmex_ledger_entry ev = {
		.seq = 8, .user = 1, .asset = USD, .cause = SHMEX_LC_DEPOSIT,
		.d_available = 100, .available = 100,
	};
	const struct shmex_ledger_entry mark = { .seq = 10 };
	uint8_t *slot0 = (uint8_t *)f->e->ledger_mem[0] + sizeof(struct shmex_ring_ctl);
	memcpy(slot0, &ev, sizeof ev);
	memcpy(slot0 + sizeof ev, &mark, sizeof mark);
	sx_avail(f, 1, 10, SHMEX_LC_DEPOSIT, 2, USD, 50);
	sx_mark(f, 1, 10);
	sx_mark(f, f->bank, 20);
	sx_mark(f, f->bank, 20); /* its tail, 2, is matcher 0's head once taken */
	sx_expect(f, 2);
	assert_int_equal(shmex_ring_room(&f->prod[1], SX_LEDGER_SLOTS), SX_LEDGER_SLOTS);
	assert_string_equal(f->log, "");
}

/* ---- 6. one matcher: one stream, a mark after each command -------------- */

static void test_one_matcher(void **state)
{
	struct sx_fix *f = *state;
	uint64_t seq = 0;
	sx_avail(f, 0, ++seq, SHMEX_LC_DEPOSIT, 1, USD, 10000);
	sx_mark(f, 0, seq);
	sx_expect(f, seq);
	sx_avail(f, 0, ++seq, SHMEX_LC_DEPOSIT, 2, BTC, 300);
	sx_mark(f, 0, seq);
	sx_expect(f, seq);
	/* 20 rounds: a resting sell, a buy that takes it (lock, trade, release) */
	for (int i = 0; i < 20; i++) {
		sx_lock(f, 0, ++seq, 2, BTC, 10);
		sx_mark(f, 0, seq);
		sx_expect(f, seq);
		sx_lock(f, 0, ++seq, 1, USD, 120);
		sx_move(f, 0, ++seq, SHMEX_LC_TRADE, 1, USD, 0, -100, 7);
		sx_move(f, 0, seq, SHMEX_LC_TRADE, 1, BTC, 10, 0, 7);
		sx_move(f, 0, seq, SHMEX_LC_TRADE, 2, BTC, 0, -10, 8);
		sx_move(f, 0, seq, SHMEX_LC_TRADE, 2, USD, 98, 0, 8);
		sx_move(f, 0, seq, SHMEX_LC_FEE, FEE, USD, 2, 0, 8);
		sx_lock(f, 0, ++seq, 1, USD, -20);
		sx_mark(f, 0, seq);
		sx_expect(f, seq);
	}
	sx_avail(f, 0, ++seq, SHMEX_LC_WITHDRAWAL, 2, USD, -1960);
	sx_mark(f, 0, seq);
	sx_expect(f, seq);
	assert_int_equal(f->bal[0][2][USD].available, 0);
	sx_assert_drained(f);
	assert_string_equal(f->log, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_two_matchers, sx_setup_m2, sx_teardown),
		cmocka_unit_test_setup_teardown(test_wait_for_frontier, sx_setup_m2, sx_teardown),
		cmocka_unit_test_setup_teardown(test_whole_events, sx_setup_m1, sx_teardown),
		cmocka_unit_test_setup_teardown(test_violation_negative, sx_setup_m1, sx_teardown),
		cmocka_unit_test_setup_teardown(test_violation_balance_after, sx_setup_m1, sx_teardown),
		cmocka_unit_test_setup_teardown(test_violation_arrived_first, sx_setup_m2, sx_teardown),
		cmocka_unit_test_setup_teardown(test_violation_conservation, sx_setup_m1, sx_teardown),
		cmocka_unit_test_setup_teardown(test_violation_seq_back, sx_setup_m1, sx_teardown),
		cmocka_unit_test_setup_teardown(test_violation_no_peer, sx_setup_m1, sx_teardown),
		cmocka_unit_test_setup_teardown(test_race_smaller_event, sx_setup_m2, sx_teardown),
		cmocka_unit_test_setup_teardown(test_race_between_reads, sx_setup_alias, sx_teardown),
		cmocka_unit_test_setup_teardown(test_one_matcher, sx_setup_m1, sx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
