/* The public prefetch hints (book.h); the stages are in book_hint.h. */
#include "book_hint.h"

void shmex_book_prefetch_order(const struct shmex_book *b, uint64_t id, int stage)
{
	sx_hint_order(b, id, stage);
}

void shmex_book_prefetch_level(const struct shmex_book *b, int side, int64_t price, int stage)
{
	sx_hint_level(b, side, price, stage);
}
