/*
 * A bijection between two numberings of the same things (the differential
 * tests: a reference exchange's order and trade ids and an engine's, which
 * numbers them its own way), learnt from first sight and checked on every
 * later sight. Two open-addressing tables that grow; test code.
 */
#ifndef TX_ID_BIJECTION_H
#define TX_ID_BIJECTION_H

#include <stddef.h>
#include <stdint.h>

struct tx_idmap {
	uint64_t *key, *val;
	uint32_t mask, n;
};

struct tx_bijection {
	struct tx_idmap fwd, back; /* reference id -> other id, and back */
};

/** @return 0, or -1 (out of memory). */
int tx_bijection_init(struct tx_bijection *b);
void tx_bijection_free(struct tx_bijection *b);

/** The other id of reference id @p w (0: not seen yet, or w is 0). */
uint64_t tx_bijection_get(const struct tx_bijection *b, uint64_t w);

/**
 * Pairs reference id @p w with the other id @p g: both 0 is nothing; both
 * new is learnt; else each must be the other's partner already.
 * @return 0, or -1 with why (@p what names the ids: "order", "trade"...).
 */
int tx_bijection_pair(struct tx_bijection *b, const char *what, uint64_t w, uint64_t g,
		      char *why, size_t cap);

#endif /* TX_ID_BIJECTION_H */
