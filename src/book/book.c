/*
 * The order book: pools, levels, matching and order commands.
 * Rules: docs/MATCHING.md. Data structures: docs/ARCHITECTURE.md.
 *
 * Everything here runs on the book's one thread. Events are emitted after
 * the book has been changed, so a sink that reads the book sees the state
 * the event describes (a sink must not call commands on the book).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "book_hint.h"
#include "sx_hash_seed.h"

#define SX_ORDER_KEYS(b) (b)->orders, sizeof(struct sx_order)
#define SX_LEVEL_KEYS(b) (b)->levels, sizeof(struct sx_level)

_Static_assert(offsetof(struct sx_order, id) == 0, "the id index reads the id at offset 0");
_Static_assert(offsetof(struct sx_level, key) == 0, "the price index reads the key at offset 0");

/* ---- memory ---------------------------------------------------------- */

/* Bytes sx_book_reserve() takes for @bytes (whole pages). */
static size_t sx_pages(size_t bytes)
{
	return (bytes + 4095) & ~(size_t)4095;
}

/* Reserves zeroed memory: anonymous pages are touched (and so cost real
 * memory) only when used. Start-up only. */
void *sx_book_reserve(struct shmex_book *b, size_t bytes)
{
	bytes = sx_pages(bytes);
	if (b->nregions == sizeof b->region / sizeof b->region[0])
		return NULL;
	const int prefault = (b->flags & SHMEX_BOOK_PREFAULT) != 0;
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (prefault ? 0 : MAP_NORESERVE), -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if ((b->flags & SHMEX_BOOK_HUGE_PAGES) && bytes >= (2u << 20))
		(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: no huge pages is fine */
	if (prefault) /* write-touch: MAP_POPULATE would map the shared zero page */
		for (size_t off = 0; off < bytes; off += 4096)
			((volatile char *)p)[off] = 0;
	b->region[b->nregions] = p;
	b->region_size[b->nregions++] = bytes;
	return p;
}

static uint32_t sx_pow2_at_least(uint64_t n)
{
	uint64_t p = 16;
	while (p < n)
		p <<= 1;
	return (uint32_t)p;
}

static uint32_t sx_log2(uint32_t p)
{
	return (uint32_t)(31 - __builtin_clz(p));
}

static int sx_itable_init(struct shmex_book *b, struct sx_itable *t, uint32_t slots, uint64_t seed)
{
	t->slots = sx_book_reserve(b, (size_t)slots * sizeof(struct sx_islot));
	t->mask = slots - 1;
	t->shift = 32 - sx_log2(slots);
	t->seed = seed;
	return t->slots ? 0 : SHMEX_E_NOMEM;
}

static uint64_t sx_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

struct sx_sizes {
	uint32_t max_orders, max_levels, id_slots, price_slots;
};

static int sx_sizes_of(const struct shmex_book_params *p, struct sx_sizes *s)
{
	if (p == NULL || p->max_orders == 0 || p->max_orders > (1u << 30) ||
	    p->max_levels > (1u << 30) ||
	    (p->ladder_ticks != 0 && (p->ladder_ticks < 64 || p->ladder_ticks > (1u << 24) ||
				      (p->ladder_ticks & (p->ladder_ticks - 1)))) ||
	    (p->flags & ~(uint32_t)(SHMEX_BOOK_ISSUE_IDS | SHMEX_BOOK_PREFAULT |
				    SHMEX_BOOK_HUGE_PAGES)))
		return SHMEX_E_INVAL;
	s->max_orders = p->max_orders;
	s->max_levels = p->max_levels ? p->max_levels : p->max_orders;
	s->id_slots = sx_pow2_at_least(2ull * s->max_orders);
	s->price_slots = sx_pow2_at_least(2ull * s->max_levels);
	return 0;
}

/* Prices in the ladder window of a book made with @p. */
static uint32_t sx_ladder_ticks(const struct shmex_book_params *p)
{
	return p->ladder_ticks ? p->ladder_ticks : SX_LADDER_DEFAULT;
}

/* Entries of the FOK check's iceberg ring (0: no match limit, no ring):
 * at most one per match and one per order, plus one. */
static uint32_t sx_fok_ring_slots(const struct shmex_book_params *p, uint32_t max_orders)
{
	if (!p->max_matches)
		return 0;
	return sx_pow2_at_least((uint64_t)(p->max_matches < max_orders ? p->max_matches
								  : max_orders) + 1);
}

size_t shmex_book_memsize(const struct shmex_book_params *params)
{
	struct sx_sizes s;
	if (sx_sizes_of(params, &s) != 0)
		return 0;
	const size_t n = s.max_orders;
	const size_t ticks = sx_ladder_ticks(params);
	const size_t words = ticks / 64, sums = (words + 63) / 64;
	size_t bytes = sizeof(struct shmex_book) + sx_pages(n * sizeof(struct sx_order)) +
		       2 * sx_pages(n * 8) /* peak, expire_at */ + sx_pages(n * 4) /* queue */ +
		       sx_pages((size_t)s.max_levels * sizeof(struct sx_level)) +
		       sx_pages((size_t)s.price_slots * sizeof(struct sx_islot)) +
		       3 * (sx_pages(n * sizeof(struct sx_heap_entry)) + sx_pages(n * 4)) +
		       2 * (sx_pages(ticks * 4) + sx_pages(words * 8) + sx_pages(sums * 8));
	if (!(params->flags & SHMEX_BOOK_ISSUE_IDS))
		bytes += sx_pages((size_t)s.id_slots * sizeof(struct sx_islot));
	bytes += sx_pages((size_t)sx_fok_ring_slots(params, s.max_orders) *
			  sizeof(struct sx_fok_entry));
	return bytes;
}

static int sx_heap_init(struct shmex_book *b, struct sx_heap *h, uint32_t cap)
{
	h->e = sx_book_reserve(b, (size_t)cap * sizeof(struct sx_heap_entry));
	h->pos = sx_book_reserve(b, (size_t)cap * 4);
	if (!h->e || !h->pos)
		return SHMEX_E_NOMEM;
	h->n = 0;
	h->cap = cap;
	return 0;
}

int shmex_book_create(const struct shmex_book_params *params, shmex_book_sink_fn sink,
		      void *sink_ctx, struct shmex_book **out)
{
	struct sx_sizes s;
	int rc = sx_sizes_of(params, &s);
	if (rc != 0 || out == NULL || sink == NULL)
		return SHMEX_E_INVAL;
	struct shmex_book *b = aligned_alloc(SX_CACHE_LINE,
					     (sizeof *b + SX_CACHE_LINE - 1) & ~(size_t)(SX_CACHE_LINE - 1));
	if (b == NULL)
		return SHMEX_E_NOMEM;
	memset(b, 0, sizeof *b);
	b->max_orders = s.max_orders;
	b->max_levels = s.max_levels;
	b->order_free = SX_NIL;
	b->level_free = SX_NIL;
	b->sink = sink;
	b->sink_ctx = sink_ctx;
	b->flags = params->flags;
	b->issue_ids = (params->flags & SHMEX_BOOK_ISSUE_IDS) != 0;
	RB_INIT(&b->tree[0]);
	RB_INIT(&b->tree[1]);

	size_t n = s.max_orders;
	uint64_t seed = sx_hash_seed(b);
	b->orders = sx_book_reserve(b, n * sizeof(struct sx_order));
	b->peak = sx_book_reserve(b, n * sizeof(int64_t));
	b->expire_at = sx_book_reserve(b, n * sizeof(int64_t));
	b->levels = sx_book_reserve(b, (size_t)s.max_levels * sizeof(struct sx_level));
	b->queue = sx_book_reserve(b, n * 4);
	b->max_matches = params->max_matches ? params->max_matches : UINT64_MAX;
	const uint32_t ring = sx_fok_ring_slots(params, s.max_orders);
	if (ring) {
		b->fok_mask = ring - 1;
		b->fok_ring = sx_book_reserve(b, (size_t)ring * sizeof(struct sx_fok_entry));
		if (!b->fok_ring)
			goto nomem;
	}
	if (!b->orders || !b->peak || !b->expire_at || !b->levels || !b->queue ||
	    sx_levels_init(b, sx_ladder_ticks(params)) ||
	    (!b->issue_ids && sx_itable_init(b, &b->ids, s.id_slots, sx_splitmix64(&seed))) ||
	    sx_itable_init(b, &b->prices, s.price_slots, sx_splitmix64(&seed)))
		goto nomem;
	if (sx_heap_init(b, &b->rising, s.max_orders) || sx_heap_init(b, &b->falling, s.max_orders) ||
	    sx_heap_init(b, &b->expiry, s.max_orders))
		goto nomem;
	*out = b;
	return 0;
nomem:
	shmex_book_destroy(b);
	return SHMEX_E_NOMEM;
}

void shmex_book_destroy(struct shmex_book *book)
{
	if (book == NULL)
		return;
	for (unsigned i = 0; i < book->nregions; i++)
		munmap(book->region[i], book->region_size[i]);
	free(book);
}

/* ---- events ---------------------------------------------------------- */

/* Every event but a trade: one builder, so all carry the same fields. */
static inline void sx_emit_fields(struct shmex_book *b, uint16_t type, uint16_t reason,
				  uint8_t side, uint64_t id, uint64_t owner, int64_t price,
				  int64_t qty, int64_t remaining)
{
	struct shmex_book_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.reason = reason;
	ev.side = side;
	ev.order_id = id;
	ev.owner = owner;
	ev.price = price;
	ev.qty = qty;
	ev.remaining = remaining;
	b->sink(b->sink_ctx, &ev);
}

static inline void sx_emit(struct shmex_book *b, uint16_t type, uint16_t reason,
			   const struct sx_order *o, int64_t price, int64_t qty, int64_t remaining)
{
	sx_emit_fields(b, type, reason, o->side, o->id, o->owner, price, qty, remaining);
}

static void sx_emit_reject(struct shmex_book *b, uint16_t reason, uint64_t id, uint8_t side,
			   uint64_t owner, int64_t price, int64_t qty)
{
	sx_emit_fields(b, SHMEX_EV_REJECTED, reason, side, id, owner, price, qty, 0);
}

/* ---- pools ----------------------------------------------------------- */

/* A free slot: the most recently freed one (likely still in cache), else
 * the next never-used one. The caller checked that one is left. */
static inline uint32_t sx_order_alloc(struct shmex_book *b)
{
	uint32_t idx = b->order_free;
	if (idx != SX_NIL)
		b->order_free = b->orders[idx].next;
	else
		idx = b->order_fresh++;
	b->live_orders++;
	return idx;
}

/* The id slot @idx gets next when the book issues ids: generation 0 for a
 * never-used slot (zeroed, and an issued id is never 0), else one more
 * than the id it had. */
static inline uint64_t sx_issued_id(const struct shmex_book *b, uint32_t idx)
{
	const uint64_t old = b->orders[idx].id;
	const uint64_t gen = old ? (old >> 32) + 1 : 0;
	return gen << 32 | ((uint64_t)idx + 1);
}

uint64_t shmex_book_next_id(const struct shmex_book *b)
{
	if (!b->issue_ids)
		return 0;
	if (b->order_free != SX_NIL)
		return sx_issued_id(b, b->order_free);
	return b->order_fresh < b->max_orders ? (uint64_t)b->order_fresh + 1 : 0;
}

/* Forgets a live order that is no longer on any level: id index, heaps,
 * then the slot goes back to the pool. */
static inline void sx_order_free(struct shmex_book *b, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	if (!b->issue_ids)
		sx_itable_erase(&b->ids, sx_itable_tag(&b->ids, o->id), idx);
	if (SX_UNLIKELY(o->tif == SHMEX_GTD))
		sx_heap_remove(&b->expiry, idx);
	if (SX_UNLIKELY(o->bits & SX_OB_PARKED)) {
		sx_heap_remove(&b->rising, idx);
		sx_heap_remove(&b->falling, idx);
	}
	o->bits = 0;
	o->next = b->order_free;
	b->order_free = idx;
	b->live_orders--;
}

static inline void sx_queue_append(struct shmex_book *b, struct sx_level *l, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	o->next = SX_NIL;
	o->prev = l->tail;
	if (l->tail != SX_NIL)
		b->orders[l->tail].next = idx;
	else
		l->head = idx;
	l->tail = idx;
}

static inline void sx_queue_unlink(struct shmex_book *b, struct sx_level *l, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	if (o->prev != SX_NIL)
		b->orders[o->prev].next = o->next;
	else
		l->head = o->next;
	if (o->next != SX_NIL)
		b->orders[o->next].prev = o->prev;
	else
		l->tail = o->prev;
}

/* Takes a resting order off its level (and the level off the book if it
 * empties). The order stays live. */
static void sx_unrest(struct shmex_book *b, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	struct sx_level *l = &b->levels[o->level];
	sx_queue_unlink(b, l, idx);
	l->displayed -= (shmex_u128)o->displayed;
	l->total -= (shmex_u128)o->remaining;
	o->level = SX_NIL;
	if (--l->count == 0)
		sx_level_remove(b, l);
}

static inline int64_t sx_display_of(const struct shmex_book *b, uint32_t idx)
{
	const struct sx_order *o = &b->orders[idx];
	if (SX_LIKELY(!(o->bits & SX_OB_ICEBERG)))
		return o->remaining;
	return b->peak[idx] < o->remaining ? b->peak[idx] : o->remaining;
}

/* Puts a live order at the back of its price's queue; 0 or -1 if no level
 * slot is free. */
static SX_ALWAYS_INLINE int sx_rest(struct shmex_book *b, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	struct sx_level *l = sx_level_get(b, o->side, o->price);
	if (SX_UNLIKELY(l == NULL))
		return -1;
	o->displayed = sx_display_of(b, idx);
	o->level = (uint32_t)(l - b->levels);
	sx_queue_append(b, l, idx);
	l->count++;
	l->displayed += (shmex_u128)o->displayed;
	l->total += (shmex_u128)o->remaining;
	return 0;
}

/* ---- matching -------------------------------------------------------- */

static inline int sx_crosses(const struct sx_order *o, int64_t level_price)
{
	if (o->type == SHMEX_MARKET)
		return 1;
	return o->side == SHMEX_BUY ? level_price <= o->price : level_price >= o->price;
}

static inline int sx_stp_active(const struct sx_order *o)
{
	return (o->bits & SX_OB_OWNER) && (o->bits & SX_OB_STP_MASK);
}

static inline int sx_same_owner(const struct sx_order *a, const struct sx_order *b)
{
	return (b->bits & SX_OB_OWNER) && a->owner == b->owner;
}

/* Whether a FOK can fill whole, walking exactly as sx_match would. */
static int sx_fok_fillable(struct shmex_book *b, const struct sx_order *o)
{
	shmex_u128 need = (shmex_u128)o->remaining, have = 0;
	int stp = sx_stp_active(o) ? (o->bits & SX_OB_STP_MASK) : SHMEX_STP_NONE;
	for (struct sx_level *l = b->best[o->side ^ 1]; l && sx_crosses(o, l->price);
	     l = sx_level_worse(b, l)) {
		if (stp == SHMEX_STP_NONE) {
			have += l->total;
		} else {
			/* Stop reading the level as soon as the answer is known: what
			 * is counted so far can no longer be taken away (under
			 * CANCEL_OLDEST nothing later subtracts; under CANCEL_NEWEST /
			 * CANCEL_BOTH the displayed quantity ahead of any own order
			 * trades whatever follows). Without this a FOK of one lot read
			 * every order of a deep level. */
			shmex_u128 whole = 0, ahead = 0;
			for (uint32_t i = l->head; i != SX_NIL; i = b->orders[i].next) {
				const struct sx_order *m = &b->orders[i];
				if (sx_same_owner(o, m)) {
					if (stp == SHMEX_STP_CANCEL_OLDEST)
						continue;
					return have + ahead >= need;
				}
				whole += (shmex_u128)m->remaining;
				ahead += (shmex_u128)m->displayed;
				if (have + (stp == SHMEX_STP_CANCEL_OLDEST ? whole : ahead) >= need)
					return 1;
			}
			have += whole;
		}
		if (have >= need)
			return 1;
	}
	return have >= need;
}

enum sx_fok_verdict { SX_FOK_FILLS, SX_FOK_SHORT, SX_FOK_LIMIT };

/* FOK under a match limit: simulates matching exactly (queue order, STP,
 * icebergs replenishing to the back of their level) without changing the
 * book, stopping at b->max_matches. Reads at most that many orders. */
static enum sx_fok_verdict sx_fok_simulate(struct shmex_book *b, const struct sx_order *o)
{
	int64_t need = o->remaining;
	const uint64_t cap = b->max_matches;
	const int stp = sx_stp_active(o) ? (o->bits & SX_OB_STP_MASK) : SHMEX_STP_NONE;
	uint64_t matches = 0;
	for (struct sx_level *l = b->best[o->side ^ 1]; l && sx_crosses(o, l->price);
	     l = sx_level_worse(b, l)) {
		uint32_t head = 0, tail = 0; /* the level's replenish FIFO */
		for (uint32_t i = l->head; i != SX_NIL; i = b->orders[i].next) {
			const struct sx_order *m = &b->orders[i];
			if (matches == cap)
				return SX_FOK_LIMIT;
			if (stp != SHMEX_STP_NONE && sx_same_owner(o, m)) {
				if (stp != SHMEX_STP_CANCEL_OLDEST)
					return SX_FOK_SHORT;
				matches++;
				continue;
			}
			matches++;
			if (need <= m->displayed)
				return SX_FOK_FILLS;
			need -= m->displayed;
			if (m->remaining > m->displayed) {
				b->fok_ring[tail & b->fok_mask] =
					(struct sx_fok_entry){i, m->remaining - m->displayed};
				tail++;
			}
		}
		while (head != tail) {
			struct sx_fok_entry e = b->fok_ring[head++ & b->fok_mask];
			if (matches == cap)
				return SX_FOK_LIMIT;
			matches++;
			const int64_t peak = b->peak[e.idx];
			const int64_t shown = peak < e.hidden ? peak : e.hidden;
			if (need <= shown)
				return SX_FOK_FILLS;
			need -= shown;
			if (e.hidden > shown) {
				b->fok_ring[tail & b->fok_mask] = (struct sx_fok_entry){e.idx, e.hidden - shown};
				tail++;
			}
		}
	}
	return SX_FOK_SHORT;
}

static inline void sx_note_trade(struct shmex_book *b, int64_t price)
{
	b->last_price = price;
	b->has_last = 1;
	if (!b->traded) {
		b->traded = 1;
		b->lo = b->hi = price;
	} else {
		if (price < b->lo)
			b->lo = price;
		if (price > b->hi)
			b->hi = price;
	}
}

enum sx_match_end { SX_M_OPEN, SX_M_ENDED, SX_M_BUDGET, SX_M_LIMIT };

/* Matches the live, unrested order @idx against the opposite side. Returns
 * SX_M_ENDED if self-trade prevention ended it (already freed), SX_M_BUDGET
 * if its notional budget ran out, SX_M_LIMIT if it made max_matches matches
 * and would make another, SX_M_OPEN otherwise. */
static SX_ALWAYS_INLINE enum sx_match_end sx_match_as(struct shmex_book *b, uint32_t idx,
						       shmex_u128 budget, const int plain)
{
	struct sx_order *o = &b->orders[idx];
	const int opp = o->side ^ 1;
	const int stp = !plain && sx_stp_active(o) ? (o->bits & SX_OB_STP_MASK) : SHMEX_STP_NONE;
	const int capped = !plain && budget != 0;
	uint64_t work_left = b->max_matches;
	struct sx_level *l;

	while (o->remaining > 0 && (l = b->best[opp]) != NULL && sx_crosses(o, l->price)) {
		const int64_t price = l->price;
		/* Take orders from the head of this level until it empties or
		 * the incoming order is done; the level's removal ends the loop. */
		for (;;) {
			uint32_t mi = l->head;
			struct sx_order *m = &b->orders[mi];
			if (SX_UNLIKELY(work_left-- == 0))
				return SX_M_LIMIT;
			if (SX_UNLIKELY(stp != SHMEX_STP_NONE && sx_same_owner(o, m))) {
				if (stp == SHMEX_STP_CANCEL_NEWEST)
					goto self_cancel;
				struct sx_order gone = *m;
				int last = l->count == 1;
				sx_unrest(b, mi);
				sx_order_free(b, mi);
				sx_emit(b, SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, &gone, price,
					gone.remaining, 0);
				if (stp == SHMEX_STP_CANCEL_BOTH)
					goto self_cancel;
				if (last)
					break;
				continue;
			}
			int64_t fill = o->remaining < m->displayed ? o->remaining : m->displayed;
			if (SX_UNLIKELY(capped)) {
				shmex_u128 afford = budget / (shmex_u128)price;
				if (afford < (shmex_u128)fill)
					fill = (int64_t)afford;
				if (fill == 0)
					return SX_M_BUDGET;
				budget -= (shmex_u128)price * (shmex_u128)fill;
			}
			o->remaining -= fill;
			m->remaining -= fill;
			m->displayed -= fill;
			l->displayed -= (shmex_u128)fill;
			l->total -= (shmex_u128)fill;
			sx_note_trade(b, price);

			struct shmex_book_event ev;
			memset(&ev, 0, sizeof ev);
			ev.type = SHMEX_EV_TRADE;
			ev.side = o->side;
			ev.order_id = o->id;
			ev.maker_id = m->id;
			ev.owner = o->owner;
			ev.maker_owner = m->owner;
			ev.price = price;
			ev.qty = fill;
			ev.remaining = o->remaining;
			int level_gone = 0;
			if (m->displayed == 0) {
				if (m->remaining == 0) {
					ev.flags = SHMEX_EVF_MAKER_DONE;
					level_gone = l->count == 1;
					sx_unrest(b, mi);
					sx_order_free(b, mi);
				} else {
					/* Iceberg: a new peak goes to the back of the queue. */
					ev.flags = SHMEX_EVF_REPLENISHED;
					m->displayed = sx_display_of(b, mi);
					l->displayed += (shmex_u128)m->displayed;
					if (l->count > 1) {
						sx_queue_unlink(b, l, mi);
						sx_queue_append(b, l, mi);
					}
				}
			}
			b->sink(b->sink_ctx, &ev);
			if (level_gone || o->remaining == 0)
				break;
		}
	}
	return SX_M_OPEN;

self_cancel:;
	int64_t q = o->remaining;
	o->remaining = 0;
	struct sx_order copy = *o;
	sx_order_free(b, idx);
	sx_emit(b, SHMEX_EV_CANCELLED, SHMEX_R_SELF_TRADE, &copy, copy.price, q, 0);
	return SX_M_ENDED;
}

/* Runs an accepted, active (not parked) order: FOK check, matching, then
 * rest or kill the remainder. */
static SX_ALWAYS_INLINE void sx_execute_as(struct shmex_book *b, uint32_t idx,
					    shmex_u128 budget, const int plain)
{
	struct sx_order *o = &b->orders[idx];
	if (!plain && SX_UNLIKELY(o->tif == SHMEX_FOK)) {
		enum sx_fok_verdict v = b->max_matches == UINT64_MAX
						? (sx_fok_fillable(b, o) ? SX_FOK_FILLS : SX_FOK_SHORT)
						: sx_fok_simulate(b, o);
		if (v != SX_FOK_FILLS) {
			struct sx_order copy = *o;
			sx_order_free(b, idx);
			sx_emit(b, SHMEX_EV_KILLED, v == SX_FOK_LIMIT ? SHMEX_R_MATCH_LIMIT : SHMEX_R_FOK,
				&copy, copy.price, copy.remaining, 0);
			return;
		}
	}
	enum sx_match_end end = sx_match_as(b, idx, budget, plain);
	if (end == SX_M_ENDED)
		return;
	if (o->remaining == 0) {
		sx_order_free(b, idx);
		return;
	}
	uint16_t reason = SHMEX_R_NONE;
	if (end == SX_M_BUDGET)
		reason = SHMEX_R_BUDGET;
	else if (end == SX_M_LIMIT)
		reason = SHMEX_R_MATCH_LIMIT;
	else if (plain ? o->tif == SHMEX_IOC
		       : (o->type == SHMEX_MARKET || o->tif == SHMEX_IOC || o->tif == SHMEX_FOK))
		reason = SHMEX_R_IOC;
	else if (sx_rest(b, idx) != 0)
		reason = SHMEX_R_BOOK_FULL;
	if (reason != SHMEX_R_NONE) {
		struct sx_order copy = *o;
		sx_order_free(b, idx);
		sx_emit(b, SHMEX_EV_KILLED, reason, &copy, copy.price, copy.remaining, 0);
		return;
	}
	if (!plain && o->tif == SHMEX_GTD && !sx_heap_has(&b->expiry, idx))
		sx_heap_push(&b->expiry, b->expire_at[idx], o->seq, idx);
	sx_emit(b, SHMEX_EV_RESTED, SHMEX_R_NONE, o, o->price, o->remaining, o->remaining);
}

/* Any order: every type, tif and option. */
static void sx_execute(struct shmex_book *b, uint32_t idx, shmex_u128 budget)
{
	sx_execute_as(b, idx, budget, 0);
}

/* A plain order (see sx_is_plain()): the same code with self-trade
 * prevention, budgets, FOK, market types and GTD compiled out. */
static SX_ALWAYS_INLINE void sx_execute_plain(struct shmex_book *b, uint32_t idx)
{
	sx_execute_as(b, idx, 0, 1);
}

/* ---- stops ----------------------------------------------------------- */

static inline int sx_is_stop(uint8_t type)
{
	return type >= SHMEX_STOP_LIMIT;
}

/* Rising-price triggers: buy stop, sell take-profit. */
static inline int sx_fires_rising(const struct sx_order *o)
{
	int stop = o->type == SHMEX_STOP_LIMIT || o->type == SHMEX_STOP_MARKET;
	return stop == (o->side == SHMEX_BUY);
}

static inline int sx_fires_at(const struct sx_order *o, int64_t price)
{
	int64_t trigger = o->displayed;
	return sx_fires_rising(o) ? trigger <= price : trigger >= price;
}

static void sx_sift_down_seq(const struct sx_order *orders, uint32_t *v, uint32_t at, uint32_t n)
{
	const uint32_t x = v[at];
	const uint64_t key = orders[x].seq;
	for (;;) {
		uint32_t c = 2 * at + 1;
		if (c >= n)
			break;
		if (c + 1 < n && orders[v[c + 1]].seq > orders[v[c]].seq)
			c++;
		if (orders[v[c]].seq <= key)
			break;
		v[at] = v[c];
		at = c;
	}
	v[at] = x;
}

/* Sorts pool indices by acceptance sequence, in place. Heapsort, not
 * qsort_r: glibc's qsort_r mallocs a buffer for more than 1 KiB of
 * elements (a batch of 257 triggered stops, a mass cancel of 257 orders),
 * and the book allocates nothing after creation. */
static void sx_sort_by_seq(const struct sx_order *orders, uint32_t *v, uint32_t n)
{
	if (n < 2)
		return;
	for (uint32_t i = n / 2; i-- > 0;)
		sx_sift_down_seq(orders, v, i, n);
	for (uint32_t end = n - 1; end > 0; end--) {
		uint32_t top = v[0];
		v[0] = v[end];
		v[end] = top;
		sx_sift_down_seq(orders, v, 0, end);
	}
}

/* Moves every parked order that the trades since the last check trigger
 * onto the back of the run queue, in acceptance order. */
static void sx_collect_triggers(struct shmex_book *b)
{
	if (!b->traded)
		return;
	b->traded = 0;
	uint32_t first = b->queue_tail;
	while (b->rising.n && b->rising.e[0].key <= b->hi) {
		uint32_t idx = b->rising.e[0].idx;
		sx_heap_remove_at(&b->rising, 0);
		b->queue[b->queue_tail++] = idx;
	}
	while (b->falling.n && b->falling.e[0].key <= -b->lo) {
		uint32_t idx = b->falling.e[0].idx;
		sx_heap_remove_at(&b->falling, 0);
		b->queue[b->queue_tail++] = idx;
	}
	sx_sort_by_seq(b->orders, &b->queue[first], b->queue_tail - first);
}

static void sx_activate(struct shmex_book *b, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	int64_t trigger = o->displayed;
	o->bits &= (uint8_t)~SX_OB_PARKED;
	o->type = (o->type == SHMEX_STOP_LIMIT || o->type == SHMEX_TAKE_PROFIT_LIMIT) ? SHMEX_LIMIT
										  : SHMEX_MARKET;
	o->displayed = 0;
	sx_emit(b, SHMEX_EV_TRIGGERED, SHMEX_R_NONE, o, trigger, o->remaining, o->remaining);
	sx_execute(b, idx, 0);
}

static __attribute__((noinline)) void sx_run_parked(struct shmex_book *b);

/* Runs triggered stops until no trade triggers any more. */
static inline void sx_run_triggers(struct shmex_book *b)
{
	if (SX_LIKELY(b->rising.n == 0 && b->falling.n == 0))
		b->traded = 0;
	else
		sx_run_parked(b);
}

/* sx_run_triggers() on a book with parked orders. */
static void sx_run_parked(struct shmex_book *b)
{
	b->queue_head = b->queue_tail = 0;
	sx_collect_triggers(b);
	while (b->queue_head < b->queue_tail) {
		sx_activate(b, b->queue[b->queue_head++]);
		sx_collect_triggers(b);
	}
}

static void sx_park(struct shmex_book *b, uint32_t idx)
{
	struct sx_order *o = &b->orders[idx];
	o->bits |= SX_OB_PARKED;
	if (sx_fires_rising(o))
		sx_heap_push(&b->rising, o->displayed, o->seq, idx);
	else
		sx_heap_push(&b->falling, -o->displayed, o->seq, idx);
	if (o->tif == SHMEX_GTD)
		sx_heap_push(&b->expiry, b->expire_at[idx], o->seq, idx);
	sx_emit(b, SHMEX_EV_PARKED, SHMEX_R_NONE, o, o->price, o->remaining, o->remaining);
}

/* ---- commands -------------------------------------------------------- */

static int sx_reason_error(uint16_t reason)
{
	switch (reason) {
	case SHMEX_R_DUPLICATE_ID: return SHMEX_E_DUPLICATE;
	case SHMEX_R_BAD_OPTION: return SHMEX_E_BAD_OPTION;
	case SHMEX_R_BAD_QTY: return SHMEX_E_BAD_QTY;
	case SHMEX_R_BAD_PRICE: return SHMEX_E_BAD_PRICE;
	case SHMEX_R_EXPIRED: return SHMEX_E_EXPIRED;
	case SHMEX_R_BOOK_FULL: return SHMEX_E_FULL;
	case SHMEX_R_POST_ONLY: return SHMEX_E_WOULD_CROSS;
	case SHMEX_R_UNKNOWN_ORDER: return SHMEX_E_UNKNOWN_ORDER;
	default: return SHMEX_E_INVAL;
	}
}

/* Whether a post-only order at @price on @side would trade now. */
static inline int sx_post_crosses(const struct shmex_book *b, int side, int64_t price)
{
	const struct sx_level *opp = b->best[side ^ 1];
	return opp && (side == SHMEX_BUY ? price >= opp->price : price <= opp->price);
}

/* Checks a new order in the documented order; SHMEX_R_NONE if acceptable.
 * @id_tag: the id's tag in the id index. */
static uint16_t sx_validate(const struct shmex_book *b, const struct shmex_order *p, uint32_t id_tag)
{
	if (!b->issue_ids && sx_itable_find(&b->ids, p->id, id_tag, SX_ORDER_KEYS(b)) != SX_NIL)
		return SHMEX_R_DUPLICATE_ID;
	if (p->side > SHMEX_SELL || p->type > SHMEX_TAKE_PROFIT_MARKET || p->tif > SHMEX_GTD ||
	    p->stp > SHMEX_STP_CANCEL_BOTH ||
	    (p->flags & ~(uint32_t)(SHMEX_OF_OWNER | SHMEX_OF_POST_ONLY)))
		return SHMEX_R_BAD_OPTION;
	const int market = p->type == SHMEX_MARKET || p->type == SHMEX_STOP_MARKET ||
			   p->type == SHMEX_TAKE_PROFIT_MARKET;
	const int immediate = p->tif == SHMEX_IOC || p->tif == SHMEX_FOK;
	if ((market && !immediate) ||
	    ((p->flags & SHMEX_OF_POST_ONLY) && (immediate || p->type != SHMEX_LIMIT)) ||
	    (p->display_qty > 0 && (immediate || market)) ||
	    (p->stp != SHMEX_STP_NONE && !(p->flags & SHMEX_OF_OWNER)) ||
	    (p->max_notional != 0 &&
	     (p->type != SHMEX_MARKET || p->tif == SHMEX_FOK || p->max_notional < 0)))
		return SHMEX_R_BAD_OPTION;
	if (p->qty <= 0 || p->display_qty < 0)
		return SHMEX_R_BAD_QTY;
	if ((!market && p->price <= 0) || (sx_is_stop(p->type) && p->trigger_price <= 0))
		return SHMEX_R_BAD_PRICE;
	if (p->tif == SHMEX_GTD && p->expire_at <= b->now)
		return SHMEX_R_EXPIRED;
	if (b->order_free == SX_NIL && b->order_fresh >= b->max_orders)
		return SHMEX_R_BOOK_FULL;
	if ((p->flags & SHMEX_OF_POST_ONLY) && sx_post_crosses(b, p->side, p->price))
		return SHMEX_R_POST_ONLY;
	return SHMEX_R_NONE;
}


/* A field of the caller's order, read with a load of its own: the caller
 * has usually just written the order field by field, and a wider load
 * that spans two of those stores (the compiler likes to pair price and
 * qty into one 16-byte load) waits until they reach the cache instead of
 * being forwarded from the store buffer: that stall was two thirds of a
 * plain submit on a big book. */
#define SX_FIELD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* The commonest orders: a GTC or IOC LIMIT without self-trade prevention
 * (an owner allowed: it only matters to STP and mass cancels), no peak, no
 * budget, a positive price and quantity and a valid side. Every
 * validation step but the id and the free slot passes for it by
 * construction (a trigger or expiry it carries means nothing to it). */
static inline int sx_is_plain(const struct shmex_order *p)
{
	const uint8_t tif = SX_FIELD(p->tif);
	return SX_FIELD(p->type) == SHMEX_LIMIT && (tif == SHMEX_GTC || tif == SHMEX_IOC) &&
	       SX_FIELD(p->side) <= SHMEX_SELL && SX_FIELD(p->stp) == SHMEX_STP_NONE &&
	       (SX_FIELD(p->flags) & ~(uint32_t)SHMEX_OF_OWNER) == 0 &&
	       SX_FIELD(p->display_qty) == 0 && SX_FIELD(p->max_notional) == 0 &&
	       SX_FIELD(p->qty) > 0 && SX_FIELD(p->price) > 0;
}

/* Takes a slot for a new order that passed validation, writes its record
 * and indexes its id: the one place an order is born (the plain and the
 * general submit both come here, then report ACCEPTED). @id is the
 * caller's (ignored when the book issues ids), @id_tag its tag. */
static SX_ALWAYS_INLINE uint32_t sx_order_new(struct shmex_book *b, uint64_t id, uint32_t id_tag,
					   uint64_t owner, int64_t price, int64_t qty,
					   uint8_t side, uint8_t type, uint8_t tif, uint8_t bits)
{
	uint32_t idx = sx_order_alloc(b);
	struct sx_order *o = &b->orders[idx];
	o->id = b->issue_ids ? sx_issued_id(b, idx) : id;
	o->owner = owner;
	o->price = price;
	o->remaining = qty;
	o->displayed = 0;
	o->seq = b->next_seq++;
	o->prev = o->next = o->level = SX_NIL;
	o->side = side;
	o->type = type;
	o->tif = tif;
	o->bits = (uint8_t)(SX_OB_LIVE | bits);
	if (!b->issue_ids)
		sx_itable_insert(&b->ids, id_tag, idx);
	return idx;
}

/* shmex_book_submit() of a plain order that has a free slot and a new id. */
static __attribute__((noinline)) int sx_submit_plain(struct shmex_book *b,
						      const struct shmex_order *p, uint32_t id_tag)
{
	const uint8_t owned = (SX_FIELD(p->flags) & SHMEX_OF_OWNER) ? SX_OB_OWNER : 0;
	uint32_t idx = sx_order_new(b, SX_FIELD(p->id), id_tag, SX_FIELD(p->owner),
				    SX_FIELD(p->price), SX_FIELD(p->qty), SX_FIELD(p->side), SHMEX_LIMIT,
				    SX_FIELD(p->tif), owned);
	const struct sx_order *o = &b->orders[idx];
	sx_emit(b, SHMEX_EV_ACCEPTED, SHMEX_R_NONE, o, o->price, o->remaining, o->remaining);
	sx_execute_plain(b, idx);
	sx_run_triggers(b);
	return 0;
}

static __attribute__((noinline)) int sx_submit_any(struct shmex_book *b,
						    const struct shmex_order *p);

int shmex_book_submit(struct shmex_book *b, const struct shmex_order *p)
{
	if (SX_LIKELY(sx_is_plain(p)) &&
	    (b->order_free != SX_NIL || b->order_fresh < b->max_orders)) {
		if (b->issue_ids)
			return sx_submit_plain(b, p, 0);
		const uint64_t id = SX_FIELD(p->id);
		const uint32_t id_tag = sx_itable_tag(&b->ids, id);
		if (sx_itable_find(&b->ids, id, id_tag, SX_ORDER_KEYS(b)) == SX_NIL)
			return sx_submit_plain(b, p, id_tag);
	}
	return sx_submit_any(b, p);
}

/* Every other order, and every refusal. */
static int sx_submit_any(struct shmex_book *b, const struct shmex_order *p)
{
	const uint32_t id_tag = b->issue_ids ? 0 : sx_itable_tag(&b->ids, p->id);
	uint16_t reason = sx_validate(b, p, id_tag);
	if (SX_UNLIKELY(reason != SHMEX_R_NONE)) {
		sx_emit_reject(b, reason, p->id, p->side, p->owner, p->price, p->qty);
		return sx_reason_error(reason);
	}
	const int market = p->type == SHMEX_MARKET || p->type == SHMEX_STOP_MARKET ||
			   p->type == SHMEX_TAKE_PROFIT_MARKET;
	uint32_t idx = sx_order_new(b, p->id, id_tag, p->owner, market ? 0 : p->price, p->qty,
				    p->side, p->type, p->tif,
				    (uint8_t)((p->stp & SX_OB_STP_MASK) |
					      ((p->flags & SHMEX_OF_OWNER) ? SX_OB_OWNER : 0) |
					      ((p->flags & SHMEX_OF_POST_ONLY) ? SX_OB_POST : 0) |
					      (p->display_qty > 0 ? SX_OB_ICEBERG : 0)));
	struct sx_order *o = &b->orders[idx];
	/* Side arrays are written only when used, so their pages stay
	 * untouched on a book of plain orders. */
	if (SX_UNLIKELY(p->display_qty > 0))
		b->peak[idx] = p->display_qty;
	if (SX_UNLIKELY(p->tif == SHMEX_GTD))
		b->expire_at[idx] = p->expire_at;
	sx_emit(b, SHMEX_EV_ACCEPTED, SHMEX_R_NONE, o, o->price, p->qty, p->qty);

	if (SX_UNLIKELY(sx_is_stop(p->type))) {
		o->displayed = p->trigger_price;
		if (!(b->has_last && sx_fires_at(o, b->last_price))) {
			sx_park(b, idx);
			return 0;
		}
		sx_activate(b, idx);
	} else {
		shmex_u128 budget = p->max_notional > 0 ? (shmex_u128)p->max_notional : 0;
		sx_execute(b, idx, budget);
	}
	sx_run_triggers(b);
	return 0;
}

/* Ends a live order (resting or parked) with @type / @reason. */
static void sx_end(struct shmex_book *b, uint32_t idx, uint16_t type, uint16_t reason)
{
	struct sx_order *o = &b->orders[idx];
	if (o->level != SX_NIL)
		sx_unrest(b, idx);
	struct sx_order copy = *o;
	sx_order_free(b, idx);
	sx_emit(b, type, reason, &copy, copy.price, copy.remaining, 0);
}

int shmex_book_cancel(struct shmex_book *b, uint64_t id)
{
	uint32_t idx = sx_lookup(b, id);
	if (idx == SX_NIL) {
		sx_emit_reject(b, SHMEX_R_UNKNOWN_ORDER, id, 0, 0, 0, 0);
		return SHMEX_E_UNKNOWN_ORDER;
	}
	sx_end(b, idx, SHMEX_EV_CANCELLED, SHMEX_R_CANCEL_REQUEST);
	return 0;
}

/* Lowers a live order's remaining by 0 < by < remaining, hidden first. */
static void sx_shrink(struct shmex_book *b, uint32_t idx, int64_t by)
{
	struct sx_order *o = &b->orders[idx];
	if (o->level != SX_NIL) {
		struct sx_level *l = &b->levels[o->level];
		int64_t hidden = o->remaining - o->displayed;
		if (by > hidden) {
			o->displayed -= by - hidden;
			l->displayed -= (shmex_u128)(by - hidden);
		}
		l->total -= (shmex_u128)by;
	}
	o->remaining -= by;
	sx_emit(b, SHMEX_EV_REDUCED, SHMEX_R_NONE, o, o->price, by, o->remaining);
}

int shmex_book_reduce(struct shmex_book *b, uint64_t id, int64_t by)
{
	if (by <= 0) {
		sx_emit_reject(b, SHMEX_R_BAD_QTY, id, 0, 0, 0, by);
		return SHMEX_E_BAD_QTY;
	}
	uint32_t idx = sx_lookup(b, id);
	if (idx == SX_NIL) {
		sx_emit_reject(b, SHMEX_R_UNKNOWN_ORDER, id, 0, 0, 0, by);
		return SHMEX_E_UNKNOWN_ORDER;
	}
	if (by >= b->orders[idx].remaining)
		sx_end(b, idx, SHMEX_EV_CANCELLED, SHMEX_R_REDUCED_TO_ZERO);
	else
		sx_shrink(b, idx, by);
	return 0;
}

int shmex_book_amend(struct shmex_book *b, uint64_t id, int64_t new_price, int64_t new_qty)
{
	uint16_t reason = SHMEX_R_NONE;
	uint32_t idx = SX_NIL;
	if (new_qty <= 0)
		reason = SHMEX_R_BAD_QTY;
	else if (new_price <= 0)
		reason = SHMEX_R_BAD_PRICE;
	else if ((idx = sx_lookup(b, id)) == SX_NIL)
		reason = SHMEX_R_UNKNOWN_ORDER;
	else if (b->orders[idx].bits & SX_OB_PARKED)
		reason = SHMEX_R_BAD_OPTION;
	else if ((b->orders[idx].bits & SX_OB_POST) && new_price != b->orders[idx].price &&
		 sx_post_crosses(b, b->orders[idx].side, new_price))
		reason = SHMEX_R_POST_ONLY;
	if (reason != SHMEX_R_NONE) {
		const struct sx_order *o = idx != SX_NIL ? &b->orders[idx] : NULL;
		sx_emit_reject(b, reason, id, o ? o->side : 0, o ? o->owner : 0, new_price, new_qty);
		return sx_reason_error(reason);
	}
	struct sx_order *o = &b->orders[idx];
	if (new_price == o->price && new_qty <= o->remaining) {
		if (new_qty < o->remaining)
			sx_shrink(b, idx, o->remaining - new_qty);
		else
			sx_emit(b, SHMEX_EV_AMENDED, SHMEX_R_NONE, o, o->price, new_qty, new_qty);
		return 0;
	}
	sx_unrest(b, idx);
	sx_heap_remove(&b->expiry, idx); /* re-queued with the new sequence */
	o->price = new_price;
	o->remaining = new_qty;
	o->displayed = 0;
	o->seq = b->next_seq++;
	sx_emit(b, SHMEX_EV_AMENDED, SHMEX_R_NONE, o, new_price, new_qty, new_qty);
	sx_execute(b, idx, 0);
	sx_run_triggers(b);
	return 0;
}

uint32_t shmex_book_cancel_owner(struct shmex_book *b, uint64_t owner)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->order_fresh; i++) {
		const struct sx_order *o = &b->orders[i];
		if ((o->bits & SX_OB_LIVE) && (o->bits & SX_OB_OWNER) && o->owner == owner)
			b->queue[n++] = i;
	}
	sx_sort_by_seq(b->orders, b->queue, n);
	for (uint32_t k = 0; k < n; k++)
		sx_end(b, b->queue[k], SHMEX_EV_CANCELLED, SHMEX_R_MASS_CANCEL);
	return n;
}

uint32_t shmex_book_advance(struct shmex_book *b, int64_t now)
{
	if (now <= b->now)
		return 0;
	b->now = now;
	uint32_t n = 0;
	while (b->expiry.n && b->expiry.e[0].key <= now) {
		sx_end(b, b->expiry.e[0].idx, SHMEX_EV_EXPIRED, SHMEX_R_EXPIRED);
		n++;
	}
	return n;
}

int64_t shmex_book_next_expiry(const struct shmex_book *b)
{
	return b->expiry.n ? b->expiry.e[0].key : INT64_MAX;
}

/* ---- batches ----------------------------------------------------------- */

/* The hint of @c for stage @stage (book_hint.h): the order a command names,
 * or the level a new order joins. */
static SX_ALWAYS_INLINE void sx_hint_cmd(const struct shmex_book *b, const struct shmex_book_cmd *c,
			       int stage)
{
	if (c->op == SHMEX_OP_SUBMIT) {
		sx_hint_level(b, c->order.side & 1, c->order.price, stage);
		if (!b->issue_ids)
			sx_hint_order(b, c->order.id, stage); /* the duplicate check */
	} else {
		sx_hint_order(b, c->id, stage);
	}
}

static int sx_run_one(struct shmex_book *b, const struct shmex_book_cmd *c)
{
	switch (c->op) {
	case SHMEX_OP_SUBMIT: return shmex_book_submit(b, &c->order);
	case SHMEX_OP_CANCEL: return shmex_book_cancel(b, c->id);
	case SHMEX_OP_REDUCE: return shmex_book_reduce(b, c->id, c->a);
	case SHMEX_OP_AMEND: return shmex_book_amend(b, c->id, c->a, c->b);
	default: return SHMEX_E_INVAL;
	}
}

/* Hint distances, in commands: stage 0 (the first line) 8 ahead, stage 1
 * (what it points to) 4 ahead, stage 2 (one more step) 2 ahead. */
enum { SX_AHEAD0 = 8, SX_AHEAD1 = 4, SX_AHEAD2 = 2 };

uint32_t shmex_book_run(struct shmex_book *b, const struct shmex_book_cmd *cmds, uint32_t n,
			uint32_t ahead, int *rc)
{
	const uint64_t seen = (uint64_t)n + ahead;
	/* The head of the batch: its first stages now (a caller that showed
	 * these commands as `ahead` last time had them hinted already). */
	for (uint32_t i = 0; i < seen && i < SX_AHEAD0; i++)
		sx_hint_cmd(b, &cmds[i], 0);
	for (uint32_t i = 0; i < n; i++) {
		if (i + SX_AHEAD0 < seen)
			sx_hint_cmd(b, &cmds[i + SX_AHEAD0], 0);
		if (i + SX_AHEAD1 < seen)
			sx_hint_cmd(b, &cmds[i + SX_AHEAD1], 1);
		if (i + SX_AHEAD2 < seen)
			sx_hint_cmd(b, &cmds[i + SX_AHEAD2], 2);
		int r = sx_run_one(b, &cmds[i]);
		if (rc)
			rc[i] = r;
	}
	return n;
}
