/*
 * The bank's state, shared by bank.c (the data path: funds, routing,
 * merged answers), bank_ctl.c (control requests, split across the
 * matchers and merged) and bank_init.c (creation, the journal stream).
 * One writer: the bank's thread.
 */
#ifndef SX_BANK_H
#define SX_BANK_H

#include "engine.h"

#define SX_MERGES_PER_SESSION 256u /* broadcast requests a session may have unanswered
					    (more are refused RATE_LIMIT) */
#define SX_FENCES_MAX 256u
#define SX_BANK_OVERFLOW (1u << 20) /* journal entries held when its ring is full */

/* A broadcast request's answers, being merged into one. */
struct sx_merge {
	uint64_t request_no;
	uint32_t left;       /* matchers still to answer (0: done) */
	uint8_t op;          /* enum sx_cmd_op */
	uint8_t has_best;
	uint16_t pad;
	uint64_t count;      /* MASS_CANCEL: orders cancelled, summed */
	struct shmex_report best; /* the answer the session gets */
};

/* (user, client id) -> the matcher its latest order went to: a cancel by
 * client id then goes to that one matcher (else to every one). */
struct sx_clid_route {
	uint64_t client_id;
	uint32_t user;      /* 0: empty */
	uint32_t matcher;
};

struct sx_merge_fifo {
	uint32_t head, tail; /* free-running */
	struct sx_merge m[SX_MERGES_PER_SESSION];
};

/* How a control request is being answered. */
enum sx_bank_ctl_mode {
	SX_BC_IDLE = 0,
	SX_BC_PASS,    /* one matcher answers; its packets go on as they come */
	SX_BC_REPLY,   /* every matcher answers with one REPLY; merged */
	SX_BC_LIST,    /* every matcher answers with a list; merged */
	SX_BC_BALANCES, /* every matcher answers in its command stream (SX_OUT_BALANCE) */
};

struct sx_bank_ctl {
	uint32_t mode;         /* enum sx_bank_ctl_mode */
	uint32_t target;       /* PASS: the matcher */
	uint32_t left;         /* matchers still to answer */
	uint32_t phase;        /* ADD_SYMBOL: 1 its owner adds it, 2 the others */
	int32_t status;        /* REPLY: the first failure */
	uint64_t id, sum;      /* REPLY: the bank's id; MASS_CANCEL: summed counts */
	char text[256];
	struct sx_ctl_in in;   /* the request */
	uint32_t query_user;   /* BALANCES: the user (while mode is SX_BC_BALANCES) */
	uint8_t *query_open;   /* BALANCES: [M] the matcher has not answered yet */
	/* LIST, BALANCES: the merged items */
	uint8_t *items;
	uint32_t nitems, item_size, total;
};

struct sx_bank {
	struct sx_engine *e;
	struct shmex_exchange *ex;
	uint32_t M, G;
	struct shmex_ring *gcmd;     /* [G] consumer views: gateway -> bank */
	struct shmex_ring *gout;     /* [G] producer views: bank -> gateway */
	uint8_t *gout_dirty;         /* [G] */
	struct shmex_ring *mcmd;     /* [M] producer views: bank -> matcher */
	struct shmex_ring *mout;     /* [M] consumer views: matcher -> bank */
	uint8_t *mcmd_dirty;         /* [M] */
	struct shmex_ring *mctl_in;  /* [M] producer views: control requests to a matcher */
	struct shmex_ring *mctl_out; /* [M] consumer views: their answers */
	struct shmex_ring ctl_in, ctl_out; /* with the control thread */
	struct shmex_ring ledger;    /* producer view: the journal's stream M */
	struct shmex_ledger_entry *over; /* [SX_BANK_OVERFLOW] with the journal, else NULL */
	uint64_t over_head, over_tail;   /* free-running */
	uint8_t journal;
	uint32_t ledger_open;        /* entries since the last mark */
	uint8_t ledger_pushed;
	uint64_t marked_seq;
	uint32_t idle_cycles;
	struct sx_ctl_exec exec;     /* requests the bank answers alone */
	uint16_t *session_gw;        /* [max_sessions] gateway of each session */
	uint16_t *closing;           /* [max_sessions] SESSION_CLOSED still to come */
	struct sx_merge_fifo *merges; /* [max_sessions] */
	uint32_t merges_open;
	uint16_t fence_gw[SX_FENCES_MAX];
	uint64_t fence_head, fence_tail; /* free-running */
	uint64_t *fence_seen;        /* [M] fences each matcher answered */
	int64_t *supply;             /* [max_assets + 1] deposits - withdrawals, whole engine */
	/* order id -> symbol per matcher (an amend names no symbol), learnt
	 * from reports: slot id & omask of matcher k's block */
	uint32_t omask;
	uint64_t *oid;
	uint32_t *osym;
	uint8_t *ocounted;           /* [M * (omask + 1)] the slot's order counts as open */
	uint32_t *open_orders;       /* [max_users + 1] live orders per user (reports) */
	uint32_t *submits;           /* [max_users + 1] new orders sent, not answered yet */
	struct sx_clid_route *clids; /* [cmask + 1], overwritten on collision */
	uint32_t cmask;
	uint64_t clid_seed;          /* secret key of its hash (sx_hash_seed.h) */
	struct sx_bank_ctl ctl;
};

/** Control requests: takes the next from the control thread when idle,
 *  and moves the matchers' answers on (bank_ctl.c). @return work done. */
int sx_bank_control(struct sx_bank *b);
/** Marks the journal stream: after events, and now and then when idle. */
void sx_bank_ledger_flush(struct sx_bank *b, int idle);
/** Takes what matcher @p k sent (reports, funds back, ends, fences).
 *  @return messages taken. */
int sx_bank_drain_matcher(struct sx_bank *b, uint32_t k);
/** Balance query (bank_ctl.c): funds matcher @p k gave back to @p user,
 *  just credited here; or one asset of the matcher's answer. */
void sx_bank_query_credit(struct sx_bank *b, uint32_t k, uint32_t user, uint32_t asset,
			  int64_t amount);
void sx_bank_query_answer(struct sx_bank *b, uint32_t k, const struct sx_out *msg);
/** Whether matcher @p k's command ring (every one: UINT32_MAX) has room. */
int sx_bank_has_room(struct sx_bank *b, uint32_t k);
/** Sends a command to matcher @p k (room checked first). */
void sx_bank_send(struct sx_bank *b, uint32_t k, const struct sx_cmd *c);

#endif /* SX_BANK_H */
