/*
 * Hostile clients (mp_garbage.h).
 */
#include "mp_garbage.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mp_harness.h"
#include "mp_raw.h"
#include "mp_session.h"
#include "mp_world.h"

#define MP_GARBAGE_WINDOW 64
#define MP_SCRIBBLE_ROUNDS 200

static uint64_t mp_g_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void mp_g_noise(uint64_t *rng, void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i += 8) {
		const uint64_t v = mp_g_rand(rng);
		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* A line that looks like a request for user 3 on ETH/USD, with fields
 * drawn around (and past) their limits. */
static void mp_g_plausible(uint64_t *rng, struct shmex_request *r)
{
	memset(r, 0, sizeof *r);
	r->type = (uint8_t)(mp_g_rand(rng) % 7);
	r->side = (uint8_t)(mp_g_rand(rng) % 3);
	r->order_type = (uint8_t)(mp_g_rand(rng) % 8);
	r->tif = (uint8_t)(mp_g_rand(rng) % 5);
	r->stp = (uint8_t)(mp_g_rand(rng) % 5);
	r->flags = (uint8_t)(mp_g_rand(rng) % 4);
	r->pad = mp_g_rand(rng) % 16 == 0 ? 1 : 0;
	r->user = 3;
	r->symbol = mp_g_rand(rng) % 8 == 0 ? (uint32_t)mp_g_rand(rng) : MP_ETH_USD;
	r->client_id = mp_g_rand(rng) % 1000;
	r->order_id = mp_g_rand(rng) % 4 == 0 ? mp_g_rand(rng) % 3000 : 0;
	r->price = 300000 + (int64_t)(mp_g_rand(rng) % 80000) - 40000;
	if (mp_g_rand(rng) % 8 == 0)
		r->price = -r->price;
	r->qty = (int64_t)(mp_g_rand(rng) % 40) - 5;
	r->aux = mp_g_rand(rng) % 4 == 0 ? (int64_t)(mp_g_rand(rng) % 100000) - 1000 : 0;
	r->expire_at = mp_g_rand(rng) % 8 == 0 ? (int64_t)mp_g_rand(rng) : 0;
}

int mp_garbage_lines_main(void *arg)
{
	const struct mp_garbage_opts *o = arg;
	struct mp_garbage_result *res = o->result;
	uint64_t rng = o->seed * 2 + 1;
	struct mp_sess s;
	if (mp_sess_open(&s, o->sock, "garbage-lines", 0, 0) != 0)
		return 1;
	s.users[s.nusers++] = 3; /* an ORDER report about anyone else is a breach */
	int ready = 0;
	while (!s.failed && !s.ended) {
		if (s.sent % 16 == 0 && mp_pipe_eof(o->stop_fd))
			break;
		if (s.sent - s.done >= MP_GARBAGE_WINDOW) {
			if (mp_sess_pump(&s, 100 * MP_MS) < 0)
				break;
			continue;
		}
		struct shmex_request r;
		if (mp_g_rand(&rng) % 2)
			mp_g_noise(&rng, &r, sizeof r);
		else
			mp_g_plausible(&rng, &r);
		if (mp_sess_raw(&s, &r) != 0 || mp_sess_pump(&s, 0) < 0)
			break;
		if (!ready && s.done >= 100)
			ready = write(o->ready_fd, "g", 1) == 1;
	}
	if (!s.failed && !s.ended)
		mp_sess_sync(&s, 10 * MP_SEC);
	if (s.ended && !s.failed)
		mp_sess_fail(&s, "the daemon ended an honest-framed session (%d)", s.ended);
	if (!s.failed && s.rejects == 0)
		mp_sess_fail(&s, "no line was rejected");
	res->sent = s.sent;
	res->done = s.done;
	res->rejects = s.rejects;
	res->orders = s.orders_reports;
	res->ok = !s.failed;
	snprintf(res->why, sizeof res->why, "%s", s.why);
	mp_sess_close(&s);
	return res->ok ? 0 : 1;
}

/* One scribbling session: 1 if the daemon ended it, 0 if not, -1 on error. */
static int mp_scribble_once(const struct mp_garbage_opts *o, uint64_t *rng)
{
	struct mp_raw raw;
	if (mp_raw_connect(&raw, o->sock, "scribbler") != 0)
		return -1;
	/* Well-framed noise first: the gateway reads and refuses it. */
	const uint32_t lines = 1 + (uint32_t)(mp_g_rand(rng) % 64);
	for (uint32_t i = 0; i < lines; i++) {
		void *slot;
		if (shmex_ring_claim(&raw.req, &slot) != 1)
			break;
		mp_g_noise(rng, slot, raw.req.slot_size);
		shmex_ring_stage(&raw.req);
	}
	shmex_ring_publish(&raw.req);
	mp_raw_ring_gateway(&raw);
	/* The header, the response ring (slots and the consumer's index), and
	 * the shared bells: nothing the daemon trusts. */
	mp_g_noise(rng, raw.region, 64);
	mp_g_noise(rng, raw.region + raw.layout.response.offset + sizeof(struct shmex_ring_ctl),
		   raw.layout.response.slot_size * 4);
	__atomic_store_n(&mp_raw_resp_ctl(&raw)->tail, mp_g_rand(rng), __ATOMIC_RELEASE);
	struct shmex_bell *gb = mp_raw_gateway_bell(&raw);
	for (int i = 0; i < 8; i++) {
		__atomic_store_n(&gb->sleeping, (uint32_t)(mp_g_rand(rng) % 2), __ATOMIC_RELAXED);
		__atomic_store_n(&gb->bell, (uint32_t)mp_g_rand(rng), __ATOMIC_RELAXED);
	}
	/* Then an impossible head: ahead by more than the ring, or behind what
	 * the gateway has read (so it waits until the gateway has read all). */
	struct shmex_ring_ctl *rq = mp_raw_req_ctl(&raw);
	const uint64_t head = __atomic_load_n(&rq->head, __ATOMIC_RELAXED);
	const int64_t deadline = mp_now_ns() + 3 * MP_SEC;
	while (__atomic_load_n(&rq->tail, __ATOMIC_ACQUIRE) != head && mp_now_ns() < deadline)
		mp_sleep_ms(1);
	const uint64_t bad = mp_g_rand(rng) % 2 ? head + raw.layout.request.slots + 1 +
							   mp_g_rand(rng) % 1000
						: 0;
	__atomic_store_n(&rq->head, head == 0 && bad == 0 ? UINT64_MAX : bad, __ATOMIC_RELEASE);
	mp_raw_ring_gateway(&raw);
	const int closed = mp_raw_wait_closed(&raw, 3 * MP_SEC);
	mp_raw_close(&raw);
	return closed;
}

int mp_garbage_scribbler_main(void *arg)
{
	const struct mp_garbage_opts *o = arg;
	struct mp_garbage_result *res = o->result;
	uint64_t rng = o->seed * 2 + 1;
	int ok = 1;
	while (ok && res->rounds < MP_SCRIBBLE_ROUNDS && !mp_pipe_eof(o->stop_fd)) {
		const int rc = mp_scribble_once(o, &rng);
		res->rounds++;
		if (rc == 1)
			res->closed++;
		if (rc != 1) {
			snprintf(res->why, sizeof res->why, "round %llu: %s",
				 (unsigned long long)res->rounds,
				 rc < 0 ? "could not connect" : "the daemon did not end the session");
			ok = 0;
		}
		if (res->rounds == 3 && write(o->ready_fd, "s", 1) != 1)
			ok = 0;
	}
	res->ok = ok;
	return ok ? 0 : 1;
}
