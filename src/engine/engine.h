/**
 * @file engine.h
 * @brief shmexd's insides: the agents (gateway, matcher, journal, control),
 *        the messages they pass each other, and the engine that owns them.
 *
 * Data flow (docs/ARCHITECTURE.md, "The daemon"):
 *
 *   client --request ring--> gateway --cmd ring--> matcher (the exchange)
 *   client <--response ring-- gateway <--out ring-- matcher --ledger ring--> journal
 *   control thread: socket, handshake, queries and admin (executed by the
 *   matcher through the ctl rings), session hand-over to gateways.
 *
 * Every ring here is a shmex_ring (shm/shmex_ring.h) in private memory with
 * exactly one producer thread and one consumer thread; its acquire/release
 * pairs are documented there. Each agent's state has one writer, the agent.
 */
#ifndef SX_ENGINE_H
#define SX_ENGINE_H

#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "idle.h"
#include "shmex/exchange.h"
#include "shmex_bells.h"
#include "shmex_control.h"
#include "shmex_report.h"
#include "shmex_request.h"
#include "shmex_ring.h"
#include "shmex_session.h"

#define SX_NO_SESSION 0xffffu

/* ---- gateway -> matcher ------------------------------------------------- */

enum sx_cmd_op {
	SX_CMD_SUBMIT = 1,
	SX_CMD_CANCEL = 2,
	SX_CMD_AMEND = 3,
	SX_CMD_MASS_CANCEL = 4,
	SX_CMD_PING = 5,
	SX_CMD_SESSION_END = 6, /* the gateway will send nothing more for this session */
	SX_CMD_FENCE = 7,       /* answered by SX_OUT_FENCE: everything before it is done */
	SX_CMD_REJECT = 8,      /* the gateway refused a request (reason in pad): the matcher
				   answers it in its place in the session's order */
	SX_CMD_BALANCES = 9,    /* several matchers: the bank asks for u.target.user's
				   balances, in order with the commands (SX_OUT_BALANCE...) */
};

/* sx_cmd.flags for a command the bank sent to every matcher (several
 * matchers): the bank merges their answers into one (bank.c). */
#define SX_CMD_BROADCAST 0x80u

/* SX_CMD_REJECT flags: the refused request was a new order (u.submit). */
#define SX_REJECT_SUBMIT 1u

/** A decoded, checked request (or a gateway's own command). Two lines. */
struct sx_cmd {
	uint8_t op;          /* enum sx_cmd_op */
	uint8_t flags;       /* SESSION_END: SHMEX_SESSION_CANCEL_ON_DISCONNECT */
	uint16_t session;    /* global session slot */
	uint32_t pad;        /* REJECT: enum shmex_reason */
	uint64_t request_no; /* the session's request number (0 for gateway commands) */
	union {
		struct shmex_order_request submit;
		struct {
			uint32_t user, symbol;
			uint64_t order_id, client_id;
			int64_t price, qty;
		} target; /* CANCEL, AMEND, MASS_CANCEL, PING (client_id: tag) */
	} u;
	/* Several matchers: funds the bank moved to the matcher for this
	 * command (asset 0: none), credited there before it runs (bank.c). */
	uint16_t xfer_asset[2];
	uint32_t pad2;
	int64_t xfer_amount[2];
};
_Static_assert(sizeof(struct sx_cmd) <= 128, "cmd fits a 128-byte slot");
#define SX_CMD_SLOT 128u

/* ---- matcher -> gateway -------------------------------------------------- */

enum sx_out_kind {
	SX_OUT_REPORT = 1,         /* rep goes to session's response ring */
	SX_OUT_SESSION_CLOSED = 2, /* the matcher forgot the session: no more reports for it */
	SX_OUT_FENCE = 3,
	SX_OUT_TRANSFER = 4,       /* several matchers: funds a matcher gives back to the bank */
	SX_OUT_BALANCE = 5,        /* several matchers: one asset's balance of the user asked
				      (xfer_user, xfer_asset, xfer_amount: available,
				      rep.qty: locked); pad 1 on the last of the answer */
};

struct sx_out {
	uint16_t kind;    /* enum sx_out_kind */
	uint16_t session;
	uint32_t pad;
	/* SX_OUT_TRANSFER: what moved out of the matcher's exchange */
	uint32_t xfer_user, xfer_asset;
	int64_t xfer_amount;
	uint8_t pad2[40];
	struct shmex_report rep;
};
_Static_assert(sizeof(struct sx_out) == 192, "out: three lines");
#define SX_OUT_SLOT 192u

/* ---- control <-> matcher (cold path) --------------------------------------- */

/** A control request handed to the matcher, with who asked. */
struct sx_ctl_in {
	uint32_t conn;    /* control connection index, echoed */
	uint32_t uid;
	uint32_t roles;   /* roles the uid has for every user (admin) */
	uint32_t pad;
	struct shmex_ctl_request req;
};
#define SX_CTL_IN_SLOT 512u
_Static_assert(sizeof(struct sx_ctl_in) <= SX_CTL_IN_SLOT, "ctl in fits");

/** A reply packet from the matcher: conn, then the packet itself (at most
 *  SX_CTL_PKT_MAX bytes, so one fits a 4096-byte ring slot). */
#define SX_CTL_PKT_MAX 4032u
struct sx_ctl_out {
	uint32_t conn;
	uint32_t len;
	uint8_t pkt[SX_CTL_PKT_MAX];
};
#define SX_CTL_OUT_SLOT 4096u
_Static_assert(sizeof(struct sx_ctl_out) <= SX_CTL_OUT_SLOT, "ctl out fits");

/* The most items one control answer lists (orders, symbols, assets,
 * balances; the book: 256 levels a side), so that a whole answer fits the
 * matcher -> control ring: the control thread lets one request at a time
 * into the matcher, which then never waits for room (control.c). */
#define SX_CTL_ITEMS_MAX 4096u
#define SX_CTL_PACKETS(item) \
	((SX_CTL_ITEMS_MAX + (SX_CTL_PKT_MAX - 32u) / (item) - 1) / ((SX_CTL_PKT_MAX - 32u) / (item)) + 2u)

/* Ring shapes (slots). */
#define SX_CMD_SLOTS 4096u
#define SX_OUT_SLOTS 16384u
#define SX_CTL_IN_SLOTS 64u
#define SX_CTL_OUT_SLOTS 512u
#define SX_LEDGER_SLOTS 65536u

/* ---- control -> gateway ---------------------------------------------------- */

enum sx_gw_op {
	SX_GW_ATTACH = 1, /* serve this session */
	SX_GW_DETACH = 2, /* the client hung up: end it */
	SX_GW_DRAIN = 3,  /* shutting down: drain every session, say SHUTDOWN */
};

struct sx_gw_msg {
	uint32_t op;
	uint32_t session;
	uint8_t pad[56];
};
#define SX_GW_MSG_SLOT 64u

/** gateway -> control: a session is finished (or drained). */
struct sx_gw_note {
	uint32_t session;
	uint32_t what;   /* 1: ended, ring free to unmap; 2: drained (whole gateway) */
	uint32_t reason; /* enum sx_end_reason */
	uint32_t pad;
	uint8_t pad2[48];
};

enum sx_end_reason {
	SX_END_HANGUP = 1,        /* the client closed its socket or died */
	SX_END_RING_FULL = 2,     /* the client stopped reading its reports */
	SX_END_PROTOCOL = 3,      /* the client broke a ring's protocol */
	SX_END_SHUTDOWN = 4,
};

/* ---- sessions ---------------------------------------------------------------- */

/** One session slot. Fields are written by the control thread before the
 *  slot is handed to a gateway (SX_GW_ATTACH through the ring: the ring's
 *  release/acquire makes them visible) and not changed until the gateway
 *  gives it back (struct sx_gw_note through the ring). */
struct sx_session {
	uint32_t id;          /* unique per daemon run, for logs */
	uint32_t uid, pid;
	uint32_t gateway;
	uint32_t flags;       /* enum shmex_session_flag */
	uint32_t roles;       /* roles the uid has for every user */
	int fd;               /* socket, control thread only */
	int memfd;
	void *mem;            /* the region */
	size_t size;
	struct shmex_session_layout layout;
	char name[SHMEX_NAME_LEN];
	int64_t started_ns;
	/* statistics, written by the gateway, read by the matcher for STATUS
	 * (relaxed atomics: monotonic counters, no ordering needed) */
	uint64_t requests, reports, rejects;
};

struct sx_engine;

/* ---- agents ---------------------------------------------------------------- */

struct sx_gateway;
struct sx_matcher;
struct sx_bank;
struct sx_journal;

int sx_gateway_create(struct sx_engine *e, uint32_t index, struct sx_gateway **out);
void sx_gateway_destroy(struct sx_gateway *g);
/** One duty cycle: @return how much work it did (0: idle). */
int sx_gateway_work(void *g);
/** The shared layout's last step of a cycle: writes the reports the
 *  matcher just made into the sessions' rings (so they leave in the same
 *  cycle, not the next) and rings the sleeping clients. */
int sx_gateway_flush(void *g);
/** Drains the matcher's out ring only (the shared layout calls this when
 *  the matcher finds that ring full, in the same thread). */
int sx_gateway_drain_out(struct sx_gateway *g);

/** Matcher @p index. With one matcher it owns every account and talks to
 *  the gateways; with several, each owns the books of its symbols and
 *  talks to the bank (bank.c), which owns the accounts. */
int sx_matcher_create(struct sx_engine *e, uint32_t index, struct sx_matcher **out);
void sx_matcher_destroy(struct sx_matcher *m);
int sx_matcher_work(void *m);
struct shmex_exchange *sx_matcher_exchange(struct sx_matcher *m);

/** The bank (several matchers only): owns every user's free funds, sits
 *  between the gateways and the matchers, and runs control requests. */
int sx_bank_create(struct sx_engine *e, struct sx_bank **out);
void sx_bank_destroy(struct sx_bank *b);
int sx_bank_work(void *b);
/** The configuration's deposits are in: they are the engine's supply. */
void sx_bank_config_done(struct sx_bank *b);
struct shmex_exchange *sx_bank_exchange(struct sx_bank *b);

/** Who runs control requests, and where its answers go (control_cmd.c). */
struct sx_ctl_exec {
	struct sx_engine *e;
	struct shmex_exchange *ex;
	struct shmex_ring *reply;  /* producer view */
	const int64_t *supply;     /* ASSETS: each asset's supply (NULL: ex's own) */
};
/** Executes one control request against x->ex (control_cmd.c). */
void sx_ctl_execute(struct sx_ctl_exec *x, const struct sx_ctl_in *in);
/** Emits one reply packet (never waits: a whole answer fits the ring). */
void sx_ctl_exec_reply(struct sx_ctl_exec *x, uint32_t conn, const void *pkt, uint32_t len);
/** A CTLF_END REPLY packet (status, id, text) for @p in. */
void sx_ctl_exec_plain(struct sx_ctl_exec *x, const struct sx_ctl_in *in, int status, uint64_t id,
		       const char *text);

/** The matcher that owns @p symbol: the config's for the symbols it names
 *  (ids 1..n, added first, in order), else (symbol - 1) % matchers. */
uint32_t sx_engine_route(const struct sx_engine *e, uint32_t symbol);

int sx_journal_create(struct sx_engine *e, struct sx_journal **out);
void sx_journal_destroy(struct sx_journal *j);
int sx_journal_work(void *j);

/* ---- decoding (request_decode.c) --------------------------------------------- */

/**
 * Checks one request line copied out of a client's ring and turns it into
 * a command. Every field is checked against the ranges the exchange
 * accepts or is refused with a reason (enum shmex_reason); nothing here
 * trusts the client.
 * @return SHMEX_R_NONE and *out, or the reject reason.
 */
int sx_request_decode(const struct shmex_request *r, struct sx_cmd *out);

/* ---- the engine ------------------------------------------------------------- */

struct sx_thread {
	pthread_t tid;
	int started;
	uint32_t index;
	int32_t cpu;             /* -1: not pinned */
	struct sx_engine *e;
	uint32_t nagents;
	int (*work[4])(void *);
	void *ctx[4];
	struct shmex_bell *bell; /* what it sleeps on */
	int reads_registry;          /* registered with QSBR (reads registries) */
	const char *name;
};

/* Journal streams: one ledger ring per exchange (matchers 0..M-1, then
 * the bank when M > 1). */
#define SX_MAX_STREAMS (SX_CFG_MAX_THREADS + 1)

struct sx_engine {
	struct sx_config cfg;
	struct sx_registry *reg;
	uint32_t nmatchers;
	struct sx_matcher **matchers;
	struct sx_bank *bank;        /* several matchers only */
	struct sx_gateway **gateways;
	/* per gateway g: the memory of its four rings (each side attaches its
	 * own private view): cmd (g -> hub), out (hub -> g), gw_ctl
	 * (control -> g), note (g -> control). The hub is the matcher, or the
	 * bank when there are several matchers. */
	void **cmd_mem, **out_mem, **gw_ctl_mem, **note_mem;
	/* several matchers, per matcher k: bank -> k commands, k -> bank
	 * reports and transfers, and the bank <-> k control rings */
	void **mcmd_mem, **mout_mem, **mctl_in_mem, **mctl_out_mem;
	/* ledger rings, one per exchange (journal streams) */
	uint32_t nstreams;
	void *ledger_mem[SX_MAX_STREAMS];
	/* every exchange takes its event numbers here (several matchers):
	 * written only by relaxed atomic adds (sx_next_seq() says why that
	 * orders the numbers); read with relaxed loads, which by coherence
	 * return at least the reader's own last number, all that a frontier
	 * mark or a reported sequence needs; nothing else is published
	 * through it */
	_Alignas(64) uint64_t seq_counter;
	uint8_t seq_pad[56];
	/* slots of the gw_ctl and note rings: more than a gateway can ever have
	 * pending (an ATTACH and a DETACH per session, a DRAIN), so neither the
	 * control thread nor a gateway ever waits on them */
	uint32_t gw_ctl_slots;
	struct sx_journal *journal;  /* NULL unless check_events */
	struct sx_session *sessions; /* cfg.max_sessions slots */
	/* bells: a memfd shared with every client (gateways' bells), and the
	 * private bells of the matcher and journal threads */
	int bells_fd;
	struct shmex_bell *bells;
	uint64_t bells_size;
	struct shmex_bell matcher_bells[SX_CFG_MAX_THREADS];
	struct shmex_bell bank_bell, journal_bell;
	struct shmex_bell *hub_wake;  /* the bell of the hub's thread (gateways ring it) */
	/* control <-> the control executor (the matcher, or the bank) */
	struct shmex_ring ctl_in_prod;  /* control -> executor (it attaches its own view) */
	struct shmex_ring ctl_out_cons; /* executor -> control */
	void *ring_mem[2];
	int wake_fd;        /* eventfd: matcher/gateways -> control thread */
	/* run state: written by the control thread (release), read by all agents (acquire) */
	int running;
	int draining;
	int check_events;
	int rcu_registered;  /* the control thread is a QSBR reader */
	int64_t start_ns;
	uint32_t nthreads;
	struct sx_thread threads[SX_CFG_MAX_THREADS + 3];
	/* the event sequence after the hub's last duty cycle (relaxed: a
	 * figure for WELCOME, no ordering with anything) */
	uint64_t seq_now;
	/* counters for STATUS (relaxed) */
	uint64_t journal_events;
	uint64_t journal_errors;
};

/** Nanoseconds on CLOCK_MONOTONIC (vDSO: no system call). */
int64_t sx_now_ns(void);

/** Pushes @p msg into @p r, which a trusted agent drains; while it is
 *  full, rings the reader's @p bell and waits. @return 1, or 0 if the
 *  engine stops meanwhile (the reader may be gone: nothing is pushed). */
int sx_push_wait(struct sx_engine *e, struct shmex_ring *r, const void *msg, size_t len,
		 struct shmex_bell *bell);

/** Rings the eventfd of the control thread (cold path: a system call). */
void sx_engine_wake_control(struct sx_engine *e);

/** Logs one line to stderr with a timestamp ("shmexd: ..."). */
void sx_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int sx_engine_create(const struct sx_config *cfg, int check_events, struct sx_engine **out,
		     char *err, size_t cap);
int sx_engine_start(struct sx_engine *e, char *err, size_t cap);
/** Stops the agent threads and folds what the journal has left (idempotent). */
void sx_engine_stop(struct sx_engine *e);
/** Stops the agent threads and frees everything. */
void sx_engine_destroy(struct sx_engine *e);

#endif /* SX_ENGINE_H */
