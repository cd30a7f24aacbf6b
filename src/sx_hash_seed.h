/*
 * The secret key of a hash table whose keys clients choose (a book's id
 * and price indexes, an exchange's client-id index): with a key they
 * cannot know, keys they compute cannot be made to share a home slot.
 */
#ifndef SX_HASH_SEED_H
#define SX_HASH_SEED_H

#include <stdint.h>

/* SHMEX_HASH_SEED (a number) if set, like PYTHONHASHSEED, for reproducing
 * a layout; else random (getrandom(), or the clock and @p salt if that
 * fails). A system call: at creation only, never on a hot path. */
uint64_t sx_hash_seed(const void *salt);

#endif /* SX_HASH_SEED_H */
