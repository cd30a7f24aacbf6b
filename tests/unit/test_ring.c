/*
 * The shared-memory SPSC ring (shm/shmex_ring.h) and the session region
 * layout (shm/shmex_session.h): order, full and empty, wrap-around, staged
 * batches, hostile indices and headers from the peer, and real concurrency
 * (two threads, and two processes over a MAP_SHARED mapping).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmex_ring.h"
#include "shmex_session.h"

struct msg {
	uint64_t seq;
	uint64_t check;
	uint8_t fill[48];
};
_Static_assert(sizeof(struct msg) == 64, "one line");

static uint64_t check_of(uint64_t seq)
{
	return seq * UINT64_C(0x9E3779B97F4A7C15) ^ UINT64_C(0xabcdef);
}

static void *ring_mem(uint32_t slots, uint32_t slot_size)
{
	void *m = aligned_alloc(SHMEX_CACHE_LINE, shmex_ring_memsize(slots, slot_size));
	assert_non_null(m);
	assert_int_equal(shmex_ring_init(m, slots, slot_size), 0);
	return m;
}

static void test_shapes(void **state)
{
	(void)state;
	assert_int_equal(shmex_ring_memsize(8, 64), 6 * 64 + 8 * 64);
	const uint32_t bad[][2] = { { 0, 64 }, { 1, 64 }, { 3, 64 }, { 8, 0 }, { 8, 63 },
				    { 8, 100 }, { 8, 4160 }, { (1u << 24) * 2, 64 } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(shmex_ring_memsize(bad[i][0], bad[i][1]), 0);
	void *m = ring_mem(8, 64);
	struct shmex_ring r;
	assert_int_equal(shmex_ring_attach(&r, m, 8, 100), SHMEX_E_INVAL);
	assert_int_equal(shmex_ring_attach(&r, (uint8_t *)m + 8, 8, 64), SHMEX_E_INVAL);
	assert_int_equal(shmex_ring_init((uint8_t *)m + 8, 8, 64), SHMEX_E_INVAL);
	assert_int_equal(shmex_ring_attach(&r, m, 8, 64), 0);
	free(m);
}

static void test_order_full_empty_wrap(void **state)
{
	(void)state;
	void *m = ring_mem(4, 64);
	struct shmex_ring p, c;
	assert_int_equal(shmex_ring_attach(&p, m, 4, 64), 0);
	assert_int_equal(shmex_ring_attach(&c, m, 4, 64), 0);
	struct msg in, out;
	uint64_t next_in = 0, next_out = 0;
	assert_int_equal(shmex_ring_pop(&c, &out, sizeof out), 0); /* empty */
	for (int round = 0; round < 10; round++) {
		/* Fill to the brim: 4 go in, the 5th finds it full. */
		for (int k = 0; k < 4; k++) {
			in.seq = next_in;
			in.check = check_of(next_in);
			assert_int_equal(shmex_ring_push(&p, &in, sizeof in), 1);
			next_in++;
		}
		assert_int_equal(shmex_ring_push(&p, &in, sizeof in), 0);
		/* Take 3 (wrapping around the slots), leave one. */
		for (int k = 0; k < 3; k++) {
			assert_int_equal(shmex_ring_pop(&c, &out, sizeof out), 1);
			assert_int_equal(out.seq, next_out);
			assert_int_equal(out.check, check_of(next_out));
			next_out++;
		}
		assert_int_equal(shmex_ring_available(&c), 1);
		assert_int_equal(shmex_ring_pop(&c, &out, sizeof out), 1);
		assert_int_equal(out.seq, next_out++);
		assert_int_equal(shmex_ring_pop(&c, &out, sizeof out), 0);
	}
	/* A short message leaves the rest of its slot zeroed. */
	uint8_t small[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(shmex_ring_push(&p, small, sizeof small), 1);
	uint8_t big[65] = { 0 };
	assert_int_equal(shmex_ring_push(&p, big, sizeof big), SHMEX_E_INVAL);
	assert_int_equal(shmex_ring_pop(&c, &out, sizeof out), 1);
	assert_memory_equal(&out, small, sizeof small);
	for (size_t i = sizeof small; i < sizeof out; i++)
		assert_int_equal(((uint8_t *)&out)[i], 0);
	free(m);
}

/* The producer's room: counts free slots, sees the consumer's progress
 * when it asks for more than it knows of, and refuses an impossible tail. */
static void test_room(void **state)
{
	(void)state;
	void *m = ring_mem(4, 64);
	struct shmex_ring p, c;
	assert_int_equal(shmex_ring_attach(&p, m, 4, 64), 0);
	assert_int_equal(shmex_ring_attach(&c, m, 4, 64), 0);
	struct msg in, out;
	memset(&in, 0, sizeof in);
	assert_int_equal(shmex_ring_push(&p, &in, sizeof in), 1);
	assert_int_equal(shmex_ring_room(&p, 1), 3);
	for (int k = 0; k < 2; k++)
		assert_int_equal(shmex_ring_push(&p, &in, sizeof in), 1);
	assert_int_equal(shmex_ring_room(&p, 1), 1);
	assert_int_equal(shmex_ring_pop(&c, &out, sizeof out), 1);
	/* Known room 1 is enough for want 1: the tail is not read again. */
	assert_int_equal(shmex_ring_room(&p, 1), 1);
	/* Asking for 2 reads it: the pop made room. */
	assert_int_equal(shmex_ring_room(&p, 2), 2);
	assert_int_equal(shmex_ring_push(&p, &in, sizeof in), 1);
	assert_int_equal(shmex_ring_push(&p, &in, sizeof in), 1);
	assert_int_equal(shmex_ring_room(&p, 1), 0);
	/* A consumer claiming to be past what was published. */
	struct shmex_ring_ctl *ctl = m;
	const uint64_t good = __atomic_load_n(&ctl->tail, __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->tail, good + 100, __ATOMIC_RELEASE);
	assert_int_equal(shmex_ring_room(&p, 1), SHMEX_E_PROTOCOL);
	free(m);
}

static void test_staged_batch_is_invisible_until_published(void **state)
{
	(void)state;
	void *m = ring_mem(8, 64);
	struct shmex_ring p, c;
	assert_int_equal(shmex_ring_attach(&p, m, 8, 64), 0);
	assert_int_equal(shmex_ring_attach(&c, m, 8, 64), 0);
	for (uint64_t k = 0; k < 5; k++) {
		void *slot = NULL;
		assert_int_equal(shmex_ring_claim(&p, &slot), 1);
		((struct msg *)slot)->seq = k;
		shmex_ring_stage(&p);
	}
	assert_int_equal(shmex_ring_available(&c), 0);
	assert_int_equal(shmex_ring_publish(&p), 5);
	assert_int_equal(shmex_ring_publish(&p), 0);
	assert_int_equal(shmex_ring_available(&c), 5);
	for (uint32_t k = 0; k < 5; k++)
		assert_int_equal(((const struct msg *)shmex_ring_peek(&c, k))->seq, k);
	shmex_ring_consume(&c, 5);
	assert_int_equal(shmex_ring_available(&c), 0);
	free(m);
}

/* Every impossible index a hostile peer can write is refused, and a
 * refusal never moves the victim's own index. */
static void test_hostile_indices(void **state)
{
	(void)state;
	void *m = ring_mem(8, 64);
	struct shmex_ring_ctl *ctl = m;
	struct shmex_ring p, c;
	assert_int_equal(shmex_ring_attach(&p, m, 8, 64), 0);
	assert_int_equal(shmex_ring_attach(&c, m, 8, 64), 0);
	struct msg x = { 1, 2, { 0 } };
	for (int k = 0; k < 3; k++)
		assert_int_equal(shmex_ring_push(&p, &x, sizeof x), 1);
	assert_int_equal(shmex_ring_pop(&c, &x, sizeof x), 1); /* consumer at 1 */

	/* A producer's head more than a ring ahead, or behind the consumer. */
	const uint64_t bad_heads[] = { 1 + 8 + 1, UINT64_MAX, 0, 1u << 31, 1 + 9 };
	for (size_t i = 0; i < sizeof bad_heads / sizeof bad_heads[0]; i++) {
		__atomic_store_n(&ctl->head, bad_heads[i], __ATOMIC_RELEASE);
		struct shmex_ring v = c;
		v.peer = v.index; /* force a re-read */
		assert_int_equal(shmex_ring_available(&v), SHMEX_E_PROTOCOL);
		assert_int_equal(v.index, 1);
	}
	/* Exactly a ring ahead is legal (a full ring). */
	__atomic_store_n(&ctl->head, 1 + 8, __ATOMIC_RELEASE);
	struct shmex_ring v = c;
	v.peer = v.index;
	assert_int_equal(shmex_ring_available(&v), 8);

	/* A consumer's tail ahead of what was published, or a ring behind. */
	__atomic_store_n(&ctl->head, 3, __ATOMIC_RELEASE);
	for (int k = 0; k < 5; k++) /* producer now full at 8 published, index 8 */
		assert_int_equal(shmex_ring_push(&p, &x, sizeof x), 1);
	const uint64_t bad_tails[] = { 9, UINT64_MAX, 1u << 20 };
	for (size_t i = 0; i < sizeof bad_tails / sizeof bad_tails[0]; i++) {
		__atomic_store_n(&ctl->tail, bad_tails[i], __ATOMIC_RELEASE);
		struct shmex_ring w = p;
		void *slot = NULL;
		assert_int_equal(shmex_ring_claim(&w, &slot), SHMEX_E_PROTOCOL);
		assert_int_equal(w.index, 8);
	}
	/* Tail 0 with 8 published is a full ring, not a violation. */
	__atomic_store_n(&ctl->tail, 0, __ATOMIC_RELEASE);
	p.peer = 0;
	void *slot = NULL;
	assert_int_equal(shmex_ring_claim(&p, &slot), 0);
	free(m);
}

/* ---- concurrency ----------------------------------------------------- */

#define STRESS_MSGS 2000000u

struct stress {
	void *mem;
	uint32_t slots;
	uint64_t bad;
};

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	struct shmex_ring c;
	if (shmex_ring_attach(&c, s->mem, s->slots, 64) != 0) {
		s->bad++;
		return NULL;
	}
	uint64_t next = 0;
	while (next < STRESS_MSGS) {
		int64_t n = shmex_ring_available(&c);
		if (n < 0) {
			s->bad++;
			break;
		}
		if (n == 0) {
			sched_yield(); /* 2 cores: never spin against the producer */
			continue;
		}
		for (int64_t i = 0; i < n; i++) {
			struct msg m;
			shmex_ring_read(&c, (uint32_t)i, &m, sizeof m);
			if (m.seq != next || m.check != check_of(next))
				s->bad++;
			next++;
		}
		shmex_ring_consume(&c, (uint32_t)n);
	}
	return NULL;
}

static uint64_t stress_produce(void *mem, uint32_t slots)
{
	struct shmex_ring p;
	if (shmex_ring_attach(&p, mem, slots, 64) != 0)
		return 1;
	uint64_t bad = 0;
	for (uint64_t seq = 0; seq < STRESS_MSGS;) {
		void *slot = NULL;
		int rc = shmex_ring_claim(&p, &slot);
		if (rc < 0) {
			bad++;
			break;
		}
		if (rc == 0) {
			shmex_ring_publish(&p);
			sched_yield();
			continue;
		}
		struct msg *m = slot;
		m->seq = seq;
		m->check = check_of(seq);
		shmex_ring_stage(&p);
		if (++seq % 16 == 0)
			shmex_ring_publish(&p); /* batches of 16 */
	}
	shmex_ring_publish(&p);
	return bad;
}

static void test_two_threads(void **state)
{
	(void)state;
	struct stress s = { ring_mem(256, 64), 256, 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stress_consumer, &s), 0);
	uint64_t bad = stress_produce(s.mem, s.slots);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(s.bad, 0);
	free(s.mem);
}

/* Producer in a child process, consumer here, over MAP_SHARED memory laid
 * out as a session region and checked as a client would. */
static void test_two_processes(void **state)
{
	(void)state;
	struct shmex_session_layout lay;
	assert_int_equal(shmex_session_layout_make(1024, 64, 64, 64, &lay), 0);
	void *mem = mmap(NULL, lay.region_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(shmex_session_region_init(mem, &lay), 0);
	struct shmex_session_layout seen = { 0, { 0, 0, 0 }, { 0, 0, 0 } };
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &seen), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct shmex_session_layout mine = { 0, { 0, 0, 0 }, { 0, 0, 0 } };
		if (shmex_session_layout_check(mem, lay.region_size, &mine) != 0)
			_exit(2);
		_exit(stress_produce((uint8_t *)mem + mine.request.offset, mine.request.slots) ? 1
											: 0);
	}
	struct stress s = { (uint8_t *)mem + seen.request.offset, seen.request.slots, 0 };
	stress_consumer(&s);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(s.bad, 0);
	munmap(mem, lay.region_size);
}

/* ---- the session header ------------------------------------------------ */

static void test_session_layout(void **state)
{
	(void)state;
	struct shmex_session_layout lay, got = { 0, { 0, 0, 0 }, { 0, 0, 0 } };
	assert_int_equal(shmex_session_layout_make(3, 64, 8, 64, &lay), SHMEX_E_INVAL);
	assert_int_equal(shmex_session_layout_make(16, 128, 8, 64, &lay), 0);
	assert_int_equal(lay.request.offset, 128);
	assert_int_equal(lay.response.offset, 128 + 6 * 64 + 16 * 128);
	assert_int_equal(lay.region_size, lay.response.offset + 6 * 64 + 8 * 64);
	uint8_t *mem = aligned_alloc(64, lay.region_size);
	assert_non_null(mem);
	memset(mem, 0, lay.region_size);
	/* Before magic is written the region is refused. */
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), SHMEX_E_VERSION);
	assert_int_equal(shmex_session_region_init(mem, &lay), 0);
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), 0);
	assert_memory_equal(&got, &lay, sizeof got);
	/* A mapping smaller than the region claims is refused. */
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size - 1, &got),
			 SHMEX_E_PROTOCOL);
	struct shmex_session_header *h = (struct shmex_session_header *)mem;
	const struct shmex_session_header good = *h;
	/* Another build: version, header size, layout hash, magic. */
	h->version = SHMEX_SESSION_VERSION + 1;
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), SHMEX_E_VERSION);
	*h = good;
	h->layout_hash ^= 1;
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), SHMEX_E_VERSION);
	*h = good;
	h->header_size = 128;
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), SHMEX_E_VERSION);
	/* Offsets and shapes out of the mapping, misaligned or overlapping. */
	struct shmex_ring_place bad[] = {
		{ 0, 16, 128 },                     /* over the header */
		{ 64, 16, 128 },                    /* over the client's bell */
		{ 65, 16, 128 },                    /* misaligned */
		{ lay.region_size, 16, 128 },       /* past the end */
		{ UINT64_MAX - 63, 16, 128 },       /* offset + size wraps */
		{ 128, 17, 128 },                   /* not a power of two */
		{ 128, 16, 100 },                   /* slot size */
		{ 128, 1u << 24, 4096 },            /* far larger than the region */
		{ lay.response.offset, 8, 64 },     /* request on top of response */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		*h = good;
		h->request = bad[i];
		assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got),
				 SHMEX_E_PROTOCOL);
	}
	*h = good;
	h->response.offset = 128 + 64; /* inside the request ring */
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), SHMEX_E_PROTOCOL);
	*h = good;
	h->region_size = lay.region_size + 64;
	assert_int_equal(shmex_session_layout_check(mem, lay.region_size, &got), SHMEX_E_PROTOCOL);
	/* Random headers never pass unless they equal a valid layout, and
	 * never make the check read outside the mapping (ASan watches). */
	uint64_t x = 88172645463325252ull;
	for (int round = 0; round < 200000; round++) {
		*h = good;
		uint8_t *bytes = (uint8_t *)h;
		for (int k = 0; k < 3; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			bytes[16 + x % 48] = (uint8_t)(x >> 32);
		}
		int rc = shmex_session_layout_check(mem, lay.region_size, &got);
		if (rc == 0) {
			assert_true(got.request.offset + shmex_ring_memsize(got.request.slots,
									got.request.slot_size) <=
				    got.response.offset);
			assert_true(got.response.offset + shmex_ring_memsize(got.response.slots,
									 got.response.slot_size) <=
				    lay.region_size);
		} else {
			assert_true(rc == SHMEX_E_PROTOCOL || rc == SHMEX_E_VERSION);
		}
	}
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_order_full_empty_wrap),
		cmocka_unit_test(test_room),
		cmocka_unit_test(test_staged_batch_is_invisible_until_published),
		cmocka_unit_test(test_hostile_indices),
		cmocka_unit_test(test_session_layout),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_two_processes),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
