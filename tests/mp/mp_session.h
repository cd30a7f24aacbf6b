/*
 * A checked client session for the multi-process tests: every request it
 * sends is counted, and every report it takes is checked against the
 * protocol's promise (shmex_report.h): each request is answered by exactly
 * one report with SHMEX_RPTF_DONE and its number, in request order, after
 * every other report it produced for this session; reports caused by
 * others carry request_no 0 and are about this session's users; nothing
 * follows SHUTDOWN or ENDED. The first breach is kept in `why`.
 *
 * With several matchers (mp_sess_matchers()) the strict request order is
 * replaced by what shmex_report.h promises then, the session knowing each
 * request's route: a new order, its symbol's matcher (mp_sess_route()); a
 * cancel or amend by order id, the id's matcher (id >> 48: every ORDER
 * report's ids must carry its symbol's matcher, so that is the order's
 * symbol's matcher); a cancel by client id, the matcher of the latest order
 * this session sent with that client id for that user (every matcher if it
 * sent none; the daemon sends it to every matcher when it forgot, which
 * answers it later, never earlier); a ping and a mass cancel of every
 * symbol, every matcher. Then:
 *   - every request is answered by exactly one DONE report, and no report
 *     names a request after its DONE;
 *   - a report of a request routed to matcher k comes after the DONE of
 *     every earlier request routed to k, and an ORDER report must be on a
 *     symbol of k (a broadcast request's ORDER reports come after the
 *     earlier requests of their symbol's matcher);
 *   - a broadcast request's DONE comes after every earlier request's DONE;
 *   - a REJECT given before any matcher ran the request (reasons BAD_*,
 *     UNKNOWN_USER, NO_GRANT: the gateway; RATE_LIMIT: the bank) may come in
 *     matcher 0's order instead.
 * Requests on a symbol whose matcher the session was not told are only
 * checked for the first rule.
 */
#ifndef MP_SESSION_H
#define MP_SESSION_H

#include <stdint.h>

#include "shmex/client.h"

#define MP_MAX_USERS 16
#define MP_SESS_OPEN 4096u  /* several matchers: requests unanswered at most */
#define MP_SESS_HISTORY 24u /* reports printed with a breach */
#define MP_MAX_ROUTES 64u   /* symbol ids the session can route */
#define MP_ROUTE_ALL 0xffu  /* a request every matcher answers */
#define MP_ROUTE_ANY 0xfeu  /* a symbol whose matcher the session does not know */
#define MP_CID_ROUTES 8192u /* client ids whose matcher the session remembers */

/* The matcher of the latest order sent with a client id (direct-mapped:
 * a collision forgets the older one). */
struct mp_cid_route {
	uint64_t client_id;
	uint32_t user;
	uint32_t matcher;
};

struct mp_sess {
	struct shmex_client *c;
	char name[32];
	uint64_t sent, done;     /* requests sent; answered (DONE seen) */
	uint32_t users[MP_MAX_USERS]; /* ORDER reports must be about these (none: any) */
	uint32_t nusers;
	int ended;               /* SHMEX_RPT_SHUTDOWN, SHMEX_RPT_ENDED, -1 (socket closed) */
	int failed;
	char why[256];
	uint64_t reports, rejects, orders_reports;
	/* several matchers (mp_sess_matchers()); 0 or 1: strict request order */
	uint32_t matchers;
	uint64_t oldest;                     /* the oldest request without its DONE */
	uint8_t route[MP_MAX_ROUTES + 1];    /* symbol id -> matcher */
	uint8_t rt[MP_SESS_OPEN];            /* by request_no % MP_SESS_OPEN: its route */
	uint8_t answered[MP_SESS_OPEN];      /* likewise: its DONE seen */
	struct mp_cid_route cids[MP_CID_ROUTES];
	/* the last reports taken, printed with a breach */
	struct shmex_report last[MP_SESS_HISTORY];
	uint64_t nlast;
	/* optional: sees every report after it was checked */
	void (*on_report)(void *ctx, const struct shmex_report *r);
	void *ctx;
};

/** Connects (flags: enum shmex_session_flag; resp_slots 0: default).
 *  @return 0 or the client library's code (with a message on stderr). */
int mp_sess_open(struct mp_sess *s, const char *sock, const char *name, uint32_t flags,
		 uint32_t resp_slots);
void mp_sess_close(struct mp_sess *s);
/** The daemon has @p matchers matcher threads: check answers per matcher
 *  (above). Call before sending; every symbol's route starts unknown. */
void mp_sess_matchers(struct mp_sess *s, uint32_t matchers);
/** Symbol @p symbol is on matcher @p matcher. */
void mp_sess_route(struct mp_sess *s, uint32_t symbol, uint32_t matcher);

/** Records a protocol breach (the first one is kept); returns -1. */
int mp_sess_fail(struct mp_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Checks one report and counts it (mp_sess_pump() calls this). */
void mp_sess_take(struct mp_sess *s, const struct shmex_report *r);

/**
 * Waits up to @p timeout_ns for reports and takes them all.
 * @return the number taken (0: none in time), or -1 when the session has
 *         ended (s->ended) or failed.
 */
int mp_sess_pump(struct mp_sess *s, int64_t timeout_ns);

/** Pumps until every request sent is answered; -1 on failure, end, or if
 *  @p timeout_ns passes. */
int mp_sess_sync(struct mp_sess *s, int64_t timeout_ns);

/* Senders: each checks the request number the library gives (sent + 1),
 * pumps while the request ring is full (bounded), and returns 0 or -1. */
int mp_sess_submit(struct mp_sess *s, const struct shmex_order_request *r);
int mp_sess_cancel(struct mp_sess *s, uint32_t user, uint64_t order_id);
int mp_sess_cancel_cid(struct mp_sess *s, uint32_t user, uint64_t client_id);
int mp_sess_amend(struct mp_sess *s, uint32_t user, uint64_t order_id, int64_t price,
		  int64_t qty);
int mp_sess_mass_cancel(struct mp_sess *s, uint32_t user, uint32_t symbol);
int mp_sess_ping(struct mp_sess *s, uint64_t tag);
int mp_sess_raw(struct mp_sess *s, const struct shmex_request *r);

#endif /* MP_SESSION_H */
