/*
 * The id bijection of the differential tests (id_bijection.h).
 */
#include "id_bijection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TX_IDMAP_SLOTS (1u << 14) /* at first; twice as many when half full */

static int tx_idmap_init(struct tx_idmap *t, uint32_t slots)
{
	t->mask = slots - 1;
	t->n = 0;
	t->key = calloc(slots, sizeof *t->key);
	t->val = calloc(slots, sizeof *t->val);
	return t->key && t->val ? 0 : -1;
}

static void tx_idmap_free(struct tx_idmap *t)
{
	free(t->key);
	free(t->val);
	memset(t, 0, sizeof *t);
}

static uint32_t tx_idmap_slot(const struct tx_idmap *t, uint64_t key)
{
	uint32_t i = (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 40) & t->mask;
	while (t->key[i] != 0 && t->key[i] != key)
		i = (i + 1) & t->mask;
	return i;
}

static uint64_t tx_idmap_get(const struct tx_idmap *t, uint64_t key)
{
	const uint32_t i = tx_idmap_slot(t, key);
	return t->key[i] == key ? t->val[i] : 0;
}

static int tx_idmap_put(struct tx_idmap *t, uint64_t key, uint64_t val)
{
	if (t->n >= t->mask / 2) { /* half full: twice the slots */
		struct tx_idmap g;
		if (tx_idmap_init(&g, 2 * (t->mask + 1)) != 0) {
			tx_idmap_free(&g);
			return -1;
		}
		for (uint32_t i = 0; i <= t->mask; i++)
			if (t->key[i] != 0) {
				const uint32_t j = tx_idmap_slot(&g, t->key[i]);
				g.key[j] = t->key[i];
				g.val[j] = t->val[i];
				g.n++;
			}
		tx_idmap_free(t);
		*t = g;
	}
	const uint32_t i = tx_idmap_slot(t, key);
	t->key[i] = key;
	t->val[i] = val;
	t->n++;
	return 0;
}

int tx_bijection_init(struct tx_bijection *b)
{
	memset(b, 0, sizeof *b);
	if (tx_idmap_init(&b->fwd, TX_IDMAP_SLOTS) || tx_idmap_init(&b->back, TX_IDMAP_SLOTS)) {
		tx_bijection_free(b);
		return -1;
	}
	return 0;
}

void tx_bijection_free(struct tx_bijection *b)
{
	tx_idmap_free(&b->fwd);
	tx_idmap_free(&b->back);
}

uint64_t tx_bijection_get(const struct tx_bijection *b, uint64_t w)
{
	return w ? tx_idmap_get(&b->fwd, w) : 0;
}

int tx_bijection_pair(struct tx_bijection *b, const char *what, uint64_t w, uint64_t g,
		      char *why, size_t cap)
{
	if (w == 0 && g == 0)
		return 0;
	const uint64_t gw = w ? tx_idmap_get(&b->fwd, w) : 0, wg = g ? tx_idmap_get(&b->back, g) : 0;
	if (w != 0 && g != 0 && gw == 0 && wg == 0) {
		if (tx_idmap_put(&b->fwd, w, g) || tx_idmap_put(&b->back, g, w)) {
			snprintf(why, cap, "out of memory for %s ids", what);
			return -1;
		}
		return 0;
	}
	if (gw == g && wg == w)
		return 0;
	snprintf(why, cap,
		 "%s id %#llx in the reference, %#llx in the engine, but %#llx <-> %#llx and "
		 "%#llx <-> %#llx before",
		 what, (unsigned long long)w, (unsigned long long)g, (unsigned long long)w,
		 (unsigned long long)gw, (unsigned long long)wg, (unsigned long long)g);
	return -1;
}
