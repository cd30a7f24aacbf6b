/* Requests out, stamped and remembered (sender.h). */
#include "sender.h"

#include "common.h"

void sx_sender_init(struct sx_sender *s, struct shmex_client *c)
{
	*s = (struct sx_sender){ .c = c };
	sx_pending_init(&s->pending);
}

/* What every send does after the library call @p rc. */
static int sx_sent(struct sx_sender *s, struct sx_pending_entry *e, int rc)
{
	if (rc == SHMEX_E_FULL) {
		s->deferred++;
		return 1;
	}
	if (rc != 0) {
		s->error = rc;
		return rc;
	}
	s->sent[e->kind]++;
	if (sx_pending_add(&s->pending, e) != 0)
		s->untracked++;
	return 0;
}

/* Whether a request may go now; counts it as put off if not. */
static int sx_may_send(struct sx_sender *s)
{
	if (s->error != 0)
		return s->error;
	if (!sx_pending_room(&s->pending)) {
		s->deferred++;
		return 1;
	}
	return 0;
}

int sx_sender_new(struct sx_sender *s, struct sx_pending_entry *e,
		  const struct shmex_order_request *order)
{
	int rc = sx_may_send(s);
	if (rc != 0)
		return rc;
	e->sent_ns = sx_now_ns();
	return sx_sent(s, e, shmex_client_submit(s->c, order, &e->request_no));
}

int sx_sender_amend(struct sx_sender *s, struct sx_pending_entry *e, uint32_t user,
		    uint64_t order_id, int64_t price, int64_t qty)
{
	int rc = sx_may_send(s);
	if (rc != 0)
		return rc;
	e->sent_ns = sx_now_ns();
	return sx_sent(s, e, shmex_client_amend(s->c, user, order_id, price, qty, &e->request_no));
}

int sx_sender_cancel(struct sx_sender *s, struct sx_pending_entry *e, uint32_t user,
		     uint64_t order_id)
{
	int rc = sx_may_send(s);
	if (rc != 0)
		return rc;
	e->sent_ns = sx_now_ns();
	return sx_sent(s, e, shmex_client_cancel(s->c, user, order_id, &e->request_no));
}

int sx_sender_mass_cancel(struct sx_sender *s, struct sx_pending_entry *e, uint32_t user,
			  uint32_t symbol)
{
	int rc = sx_may_send(s);
	if (rc != 0)
		return rc;
	e->sent_ns = sx_now_ns();
	return sx_sent(s, e, shmex_client_mass_cancel(s->c, user, symbol, &e->request_no));
}
