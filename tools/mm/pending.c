/* Requests in flight, by request number (pending.h). */
#include "pending.h"

#include <string.h>

void sx_pending_init(struct sx_pending *p)
{
	memset(p, 0, sizeof *p);
}

int sx_pending_room(const struct sx_pending *p)
{
	return p->in_flight < SX_PENDING_MAX / 4;
}

int sx_pending_add(struct sx_pending *p, const struct sx_pending_entry *e)
{
	struct sx_pending_entry *slot = &p->e[e->request_no & (SX_PENDING_MAX - 1)];
	if (slot->request_no != 0)
		return -1;
	*slot = *e;
	p->in_flight++;
	return 0;
}

struct sx_pending_entry *sx_pending_find(struct sx_pending *p, uint64_t request_no)
{
	struct sx_pending_entry *slot = &p->e[request_no & (SX_PENDING_MAX - 1)];
	return request_no != 0 && slot->request_no == request_no ? slot : NULL;
}

void sx_pending_remove(struct sx_pending *p, struct sx_pending_entry *e)
{
	e->request_no = 0;
	p->in_flight--;
}
