/*
 * libshmex, the control half: queries and administration as round trips
 * on the session's socket (shmex_control.h). Each call sends one struct
 * shmex_ctl_request with a fresh ref and reads replies until the one with
 * SHMEX_CTLF_END; replies with another ref (left over from a call that
 * timed out) are skipped. Every reply's size is checked against its type
 * and its list count before a byte of it is used, and text from the daemon
 * is NUL-terminated here, whatever it sent.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "client_internal.h"

/* A received packet, aligned for the fixed-size reply types. */
union sx_ctl_buf {
	struct shmex_ctl_header h;
	struct shmex_ctl_reply reply;
	struct shmex_ctl_status_info status;
	uint8_t raw[SHMEX_CTL_MAX];
};

struct sx_ctl_call;
/* Takes one list item (@p p: unaligned bytes of the item's wire struct). */
typedef void (*sx_ctl_item_fn)(struct sx_ctl_call *k, const uint8_t *p);

/* What one call expects and where its answer goes. */
struct sx_ctl_call {
	uint16_t list_type;  /* item reply type taken (0: none) */
	uint16_t skip_type;  /* item reply type accepted and ignored (0: none) */
	sx_ctl_item_fn item;
	void *out;           /* the caller's array */
	uint32_t max, n;     /* its capacity, items written */
	uint32_t items;      /* items received in all */
	uint32_t total;      /* the largest `total` announced */
	const char *code;    /* find: the code looked for */
	uint32_t found;      /* find: its id (0: not yet) */
	struct shmex_ctl_status_info *status; /* STATUS: where STATUS_INFO goes */
	int got_status, got_reply;
	int rc;              /* the first error status */
	uint64_t id, value;  /* from the last REPLY */
	char text[sizeof(((struct shmex_ctl_reply *)0)->text)];
};

static size_t sx_item_size(uint16_t type)
{
	switch (type) {
	case SHMEX_CTL_SESSION_INFO:
		return sizeof(struct shmex_ctl_session_item);
	case SHMEX_CTL_SYMBOL_INFO:
		return sizeof(struct shmex_ctl_symbol_item);
	case SHMEX_CTL_BALANCE_ITEMS:
		return sizeof(struct shmex_ctl_balance_item);
	case SHMEX_CTL_ORDER_ITEMS:
		return sizeof(struct shmex_order_state);
	case SHMEX_CTL_LEVEL_ITEMS:
		return sizeof(struct shmex_ctl_level_item);
	case SHMEX_CTL_ASSET_ITEMS:
		return sizeof(struct shmex_ctl_asset_item);
	default:
		return 0;
	}
}

/* ---- packets -------------------------------------------------------------- */

static int sx_ctl_reply(struct sx_ctl_call *k, const union sx_ctl_buf *b, size_t len)
{
	if (len != sizeof b->reply)
		return SHMEX_E_PROTOCOL;
	k->got_reply = 1;
	k->id = b->reply.id;
	k->value = b->reply.value;
	memcpy(k->text, b->reply.text, sizeof k->text);
	k->text[sizeof k->text - 1] = '\0';
	return 0;
}

static int sx_ctl_status_info(struct sx_ctl_call *k, const union sx_ctl_buf *b, size_t len)
{
	if (k->status == NULL || k->got_status || len != sizeof b->status)
		return SHMEX_E_PROTOCOL;
	*k->status = b->status;
	k->got_status = 1;
	return 0;
}

static int sx_ctl_list(struct sx_ctl_call *k, const union sx_ctl_buf *b, size_t len)
{
	const size_t item = sx_item_size(b->h.type);
	struct shmex_ctl_list head;
	if (len < sizeof head || (b->h.type != k->list_type && b->h.type != k->skip_type))
		return SHMEX_E_PROTOCOL;
	memcpy(&head, b->raw, sizeof head);
	if (head.count > (SHMEX_CTL_MAX - sizeof head) / item ||
	    len != sizeof head + (size_t)head.count * item)
		return SHMEX_E_PROTOCOL;
	if (b->h.type != k->list_type)
		return 0;
	if (head.total > k->total)
		k->total = head.total;
	for (uint32_t i = 0; i < head.count; i++) {
		k->item(k, b->raw + sizeof head + (size_t)i * item);
		k->items++;
	}
	return 0;
}

/* One packet of this call's ref. */
static int sx_ctl_packet(struct sx_ctl_call *k, const union sx_ctl_buf *b, size_t len)
{
	if (b->h.magic != SHMEX_CTL_MAGIC || b->h.len != len || b->h.status > 0)
		return SHMEX_E_PROTOCOL;
	int rc;
	switch (b->h.type) {
	case SHMEX_CTL_REPLY:
		rc = sx_ctl_reply(k, b, len);
		break;
	case SHMEX_CTL_STATUS_INFO:
		rc = sx_ctl_status_info(k, b, len);
		break;
	default:
		rc = sx_item_size(b->h.type) != 0 ? sx_ctl_list(k, b, len) : SHMEX_E_PROTOCOL;
		break;
	}
	if (rc == 0 && b->h.status < 0 && k->rc == 0)
		k->rc = b->h.status;
	return rc;
}

/* ---- the round trip --------------------------------------------------------- */

static int sx_ctl_send(struct shmex_client *c, struct shmex_ctl_request *rq)
{
	shmex_ctl_header_set(&rq->h, rq->h.type, 0, sizeof *rq, 0, ++c->ctl_ref);
	const ssize_t n = send(c->fd, rq, sizeof *rq, MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof *rq)
		return 0;
	int err = n >= 0 ? EPROTO : errno;
	if (err == EAGAIN)
		err = ETIMEDOUT; /* SO_SNDTIMEO: the daemon does not read */
	if (err == EPIPE)
		err = ECONNRESET; /* as a receive would say */
	sx_client_set_error("sending a control request: %s", strerror(err));
	return -err;
}

/* Receives the next packet: its length, or a negative code. */
static int sx_ctl_recv(struct shmex_client *c, union sx_ctl_buf *b, int64_t deadline)
{
	for (;;) {
		int rc = sx_client_wait_readable(c->fd, deadline);
		if (rc != 0) {
			sx_client_set_error("waiting for shmexd's reply: %s", strerror(-rc));
			return rc;
		}
		/* MSG_TRUNC: the packet's real length, even when longer than b. */
		const ssize_t n = recv(c->fd, b->raw, sizeof b->raw, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			const int err = n == 0 ? ECONNRESET : errno;
			sx_client_set_error("shmexd closed the session");
			return -err;
		}
		if ((size_t)n < sizeof b->h || (size_t)n > sizeof b->raw) {
			sx_client_set_error("control reply of %zd bytes", n);
			return SHMEX_E_PROTOCOL;
		}
		return (int)n;
	}
}

/* Sends @p rq and takes every reply to it into @p k: 0 or the first error. */
static int sx_ctl_call(struct shmex_client *c, struct shmex_ctl_request *rq,
		       struct sx_ctl_call *k)
{
	union sx_ctl_buf b;
	sx_client_set_error("%s", "");
	int rc = sx_ctl_send(c, rq);
	const int64_t deadline = sx_client_now_ns() + c->timeout_ns;
	while (rc == 0) {
		const int len = sx_ctl_recv(c, &b, deadline);
		if (len < 0)
			return len;
		if (b.h.ref != rq->h.ref)
			continue; /* a late reply to an earlier call */
		rc = sx_ctl_packet(k, &b, (size_t)len);
		if (rc != 0) {
			sx_client_set_error("malformed control reply (type %u, %d bytes)",
					    (unsigned)b.h.type, len);
			return rc;
		}
		if (b.h.flags & SHMEX_CTLF_END)
			break;
	}
	if (rc == 0 && k->rc != 0) {
		sx_client_set_error("%s", k->text[0] ? k->text : shmex_strerror(k->rc));
		rc = k->rc;
	}
	return rc;
}

static void sx_ctl_request_init(struct shmex_ctl_request *rq, uint16_t type)
{
	memset(rq, 0, sizeof *rq);
	rq->h.type = type;
}

static uint32_t sx_clamp_max(uint32_t max)
{
	return max > INT_MAX ? INT_MAX : max;
}

/* Sends a request answered by one plain REPLY; *id receives its id. */
static int sx_ctl_simple(struct shmex_client *c, struct shmex_ctl_request *rq, uint64_t *id)
{
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	int rc = sx_ctl_call(c, rq, &k);
	if (rc == 0 && !k.got_reply) {
		sx_client_set_error("shmexd ended its answer without a reply");
		rc = SHMEX_E_PROTOCOL;
	}
	if (rc == 0 && id != NULL)
		*id = k.id;
	return rc;
}

/* ---- item sinks -------------------------------------------------------------- */

/* The next free slot of the caller's array, or NULL when it is full. */
static void *sx_slot(struct sx_ctl_call *k, size_t size)
{
	return k->n < k->max ? (uint8_t *)k->out + (size_t)k->n++ * size : NULL;
}

static void sx_item_balance(struct sx_ctl_call *k, const uint8_t *p)
{
	struct shmex_ctl_balance_item it;
	struct shmex_client_balance *o = sx_slot(k, sizeof *o);
	if (o == NULL)
		return;
	memcpy(&it, p, sizeof it);
	o->asset = it.asset;
	o->decimals = it.decimals;
	memcpy(o->code, it.code, sizeof o->code);
	o->code[sizeof o->code - 1] = '\0';
	o->available = it.available;
	o->locked = it.locked;
}

static void sx_item_order(struct sx_ctl_call *k, const uint8_t *p)
{
	void *o = sx_slot(k, sizeof(struct shmex_order_state));
	if (o != NULL)
		memcpy(o, p, sizeof(struct shmex_order_state));
}

static void sx_item_level(struct sx_ctl_call *k, const uint8_t *p)
{
	void *o = sx_slot(k, sizeof(struct shmex_ctl_level_item));
	if (o != NULL)
		memcpy(o, p, sizeof(struct shmex_ctl_level_item));
}

static void sx_item_symbol(struct sx_ctl_call *k, const uint8_t *p)
{
	struct shmex_ctl_symbol_item *o = sx_slot(k, sizeof *o);
	if (o == NULL)
		return;
	memcpy(o, p, sizeof *o);
	o->code[sizeof o->code - 1] = '\0';
}

static void sx_item_asset(struct sx_ctl_call *k, const uint8_t *p)
{
	struct shmex_ctl_asset_item *o = sx_slot(k, sizeof *o);
	if (o == NULL)
		return;
	memcpy(o, p, sizeof *o);
	o->code[sizeof o->code - 1] = '\0';
}

static void sx_item_session(struct sx_ctl_call *k, const uint8_t *p)
{
	struct shmex_ctl_session_item *o = sx_slot(k, sizeof *o);
	if (o == NULL)
		return;
	memcpy(o, p, sizeof *o);
	o->name[sizeof o->name - 1] = '\0';
}

/* find: notes @p id if its @p code (not terminated yet) is the one looked for. */
static void sx_item_find(struct sx_ctl_call *k, uint32_t id, const char code[SHMEX_CODE_LEN])
{
	char c[SHMEX_CODE_LEN + 1];
	memcpy(c, code, SHMEX_CODE_LEN);
	c[SHMEX_CODE_LEN] = '\0';
	if (k->found == 0 && id != 0 && strcmp(c, k->code) == 0)
		k->found = id;
}

static void sx_item_find_symbol(struct sx_ctl_call *k, const uint8_t *p)
{
	struct shmex_ctl_symbol_item it;
	memcpy(&it, p, sizeof it);
	sx_item_find(k, it.symbol, it.code);
}

static void sx_item_find_asset(struct sx_ctl_call *k, const uint8_t *p)
{
	struct shmex_ctl_asset_item it;
	memcpy(&it, p, sizeof it);
	sx_item_find(k, it.asset, it.code);
}

/* A list query: @p type of items into @p out (capacity @p max). */
static int sx_ctl_list_call(struct shmex_client *c, struct shmex_ctl_request *rq,
			    struct sx_ctl_call *k, uint16_t type, sx_ctl_item_fn fn, void *out,
			    uint32_t max)
{
	k->list_type = type;
	k->item = fn;
	k->out = out;
	k->max = out != NULL ? sx_clamp_max(max) : 0;
	const int rc = sx_ctl_call(c, rq, k);
	return rc != 0 ? rc : (int)k->n;
}

/* ---- queries ------------------------------------------------------------------ */

int shmex_client_balances(struct shmex_client *c, uint32_t user,
			  struct shmex_client_balance *out, uint32_t max)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_BALANCES);
	rq.user = user;
	return sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_BALANCE_ITEMS, sx_item_balance, out, max);
}

int shmex_client_open_orders(struct shmex_client *c, uint32_t user, uint32_t symbol,
			     struct shmex_order_state *out, uint32_t max, uint32_t *total)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_ORDERS);
	rq.user = user;
	rq.symbol = symbol;
	const int rc = sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_ORDER_ITEMS, sx_item_order, out,
					max);
	if (rc >= 0 && total != NULL)
		*total = k.total > k.items ? k.total : k.items;
	return rc;
}

int shmex_client_order(struct shmex_client *c, uint64_t order_id, struct shmex_order_state *out)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_ORDER);
	rq.order_id = order_id;
	const int rc = sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_ORDER_ITEMS, sx_item_order, out, 1);
	if (rc < 0)
		return rc;
	if (k.items != 1) {
		sx_client_set_error("ORDER answered with %u orders", k.items);
		return SHMEX_E_PROTOCOL;
	}
	return 0;
}

int shmex_client_book(struct shmex_client *c, uint32_t symbol, uint32_t depth,
		      struct shmex_ctl_level_item *out, uint32_t max)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_BOOK);
	rq.symbol = symbol;
	rq.depth = depth;
	return sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_LEVEL_ITEMS, sx_item_level, out, max);
}

int shmex_client_symbols(struct shmex_client *c, struct shmex_ctl_symbol_item *out, uint32_t max)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_SYMBOLS);
	return sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_SYMBOL_INFO, sx_item_symbol, out, max);
}

int shmex_client_assets(struct shmex_client *c, struct shmex_ctl_asset_item *out, uint32_t max)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_ASSETS);
	return sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_ASSET_ITEMS, sx_item_asset, out, max);
}

static int sx_find(struct shmex_client *c, uint16_t query, uint16_t type, sx_ctl_item_fn fn,
		   const char *code, uint32_t *id, int unknown)
{
	if (code == NULL || id == NULL)
		return SHMEX_E_INVAL;
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, query);
	k.code = code;
	const int rc = sx_ctl_list_call(c, &rq, &k, type, fn, NULL, 0);
	if (rc < 0)
		return rc;
	if (k.found == 0) {
		sx_client_set_error("no %s with the code '%.40s'",
				    query == SHMEX_CTL_SYMBOLS ? "symbol" : "asset", code);
		return unknown;
	}
	*id = k.found;
	return 0;
}

int shmex_client_find_symbol(struct shmex_client *c, const char *code, uint32_t *symbol)
{
	return sx_find(c, SHMEX_CTL_SYMBOLS, SHMEX_CTL_SYMBOL_INFO, sx_item_find_symbol, code,
		       symbol, SHMEX_E_UNKNOWN_SYMBOL);
}

int shmex_client_find_asset(struct shmex_client *c, const char *code, uint32_t *asset)
{
	return sx_find(c, SHMEX_CTL_ASSETS, SHMEX_CTL_ASSET_ITEMS, sx_item_find_asset, code,
		       asset, SHMEX_E_UNKNOWN_ASSET);
}

int shmex_client_status(struct shmex_client *c, struct shmex_ctl_status_info *status,
			struct shmex_ctl_session_item *sessions, uint32_t max)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	struct shmex_ctl_status_info local;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_STATUS);
	k.status = status != NULL ? status : &local;
	k.skip_type = SHMEX_CTL_SYMBOL_INFO; /* shmex_client_symbols() has them */
	const int rc = sx_ctl_list_call(c, &rq, &k, SHMEX_CTL_SESSION_INFO, sx_item_session,
					sessions, max);
	if (rc >= 0 && !k.got_status) {
		sx_client_set_error("STATUS answered without STATUS_INFO");
		return SHMEX_E_PROTOCOL;
	}
	return rc;
}

int shmex_client_check(struct shmex_client *c, char *msg, size_t cap)
{
	struct shmex_ctl_request rq;
	struct sx_ctl_call k;
	memset(&k, 0, sizeof k);
	sx_ctl_request_init(&rq, SHMEX_CTL_CHECK);
	int rc = sx_ctl_call(c, &rq, &k);
	if (rc == 0 && !k.got_reply) {
		sx_client_set_error("CHECK answered without a reply");
		rc = SHMEX_E_PROTOCOL;
	}
	if (msg != NULL && cap > 0)
		snprintf(msg, cap, "%s", rc == SHMEX_E_INVARIANT ? k.text : "");
	return rc;
}

/* ---- administration ----------------------------------------------------------- */

/* Sends an ADD_* request and takes the new id from its reply. */
static int sx_ctl_add(struct shmex_client *c, struct shmex_ctl_request *rq, uint32_t *out)
{
	uint64_t id = 0;
	const int rc = sx_ctl_simple(c, rq, &id);
	if (rc != 0)
		return rc;
	if (id == 0 || id > UINT32_MAX) {
		sx_client_set_error("shmexd answered the new id %llu", (unsigned long long)id);
		return SHMEX_E_PROTOCOL;
	}
	if (out != NULL)
		*out = (uint32_t)id;
	return 0;
}

int shmex_client_add_asset(struct shmex_client *c, const struct shmex_asset_params *p,
			   uint32_t *id)
{
	if (p == NULL)
		return SHMEX_E_INVAL;
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, SHMEX_CTL_ADD_ASSET);
	rq.params.asset = *p;
	return sx_ctl_add(c, &rq, id);
}

int shmex_client_add_symbol(struct shmex_client *c, const struct shmex_symbol_params *p,
			    uint32_t *id)
{
	if (p == NULL)
		return SHMEX_E_INVAL;
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, SHMEX_CTL_ADD_SYMBOL);
	rq.params.symbol = *p;
	return sx_ctl_add(c, &rq, id);
}

int shmex_client_add_user(struct shmex_client *c, const struct shmex_user_params *p,
			  uint32_t *id)
{
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, SHMEX_CTL_ADD_USER);
	if (p != NULL)
		rq.params.user = *p;
	return sx_ctl_add(c, &rq, id);
}

int shmex_client_grant(struct shmex_client *c, uint32_t uid, uint32_t user, uint32_t roles)
{
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, SHMEX_CTL_GRANT);
	rq.uid = uid;
	rq.user = user;
	rq.roles = roles;
	return sx_ctl_simple(c, &rq, NULL);
}

static int sx_funds(struct shmex_client *c, uint16_t type, uint32_t user, uint32_t asset,
		    int64_t amount, uint64_t tag, uint64_t *seq)
{
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, type);
	rq.user = user;
	rq.asset = asset;
	rq.amount = amount;
	rq.tag = tag;
	return sx_ctl_simple(c, &rq, seq);
}

int shmex_client_deposit(struct shmex_client *c, uint32_t user, uint32_t asset, int64_t amount,
			 uint64_t tag, uint64_t *seq)
{
	return sx_funds(c, SHMEX_CTL_DEPOSIT, user, asset, amount, tag, seq);
}

int shmex_client_withdraw(struct shmex_client *c, uint32_t user, uint32_t asset, int64_t amount,
			  uint64_t tag, uint64_t *seq)
{
	return sx_funds(c, SHMEX_CTL_WITHDRAW, user, asset, amount, tag, seq);
}

int shmex_client_set_status(struct shmex_client *c, uint32_t symbol, uint32_t status)
{
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, SHMEX_CTL_SET_STATUS);
	rq.symbol = symbol;
	rq.status = status;
	return sx_ctl_simple(c, &rq, NULL);
}

int shmex_client_set_reference(struct shmex_client *c, uint32_t symbol, int64_t price)
{
	struct shmex_ctl_request rq;
	sx_ctl_request_init(&rq, SHMEX_CTL_SET_REFERENCE);
	rq.symbol = symbol;
	rq.amount = price;
	return sx_ctl_simple(c, &rq, NULL);
}

int shmex_client_admin_mass_cancel(struct shmex_client *c, uint32_t user, uint32_t symbol,
				   uint32_t *count)
{
	struct shmex_ctl_request rq;
	uint64_t v = 0;
	sx_ctl_request_init(&rq, SHMEX_CTL_MASS_CANCEL);
	rq.user = user;
	rq.symbol = symbol;
	const int rc = sx_ctl_simple(c, &rq, &v);
	if (rc == 0 && count != NULL)
		*count = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return rc;
}
