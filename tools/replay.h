/* shmex-replay: one line of the replay format (../shared/formats/replay.md),
 * parsed into a book command. */
#ifndef SHMEX_TOOLS_REPLAY_H
#define SHMEX_TOOLS_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shmex/book.h"

enum replay_op {
	REPLAY_SKIP = 0, /* blank line or comment */
	REPLAY_ADD,      /* A or M: order is set */
	REPLAY_CANCEL,   /* C: id */
	REPLAY_REDUCE,   /* R: id, qty */
	REPLAY_PRINT,    /* P */
};

struct replay_cmd {
	enum replay_op op;
	uint64_t id;
	int64_t qty;
	int invalid; /* readable, but refused as INVALID (X,<id>,INVALID) */
	struct shmex_order order;
};

/**
 * Parses one line (without its newline). Returns 0 and fills @p cmd, or -1
 * for a line that cannot be read, with a static reason in *why.
 */
int replay_parse_line(const char *line, size_t len, struct replay_cmd *cmd, const char **why);

/**
 * Runs the replay read from @p in through the shmexd listening on
 * @p socket_path, as one session (tools/replay_connect.c), printing what
 * the in-process run prints. @p progress: 1 always, 0 never, -1 when
 * standard error is a terminal. Returns the exit status.
 */
int replay_connect_run(const char *socket_path, FILE *in, const char *path, int progress);

#endif /* SHMEX_TOOLS_REPLAY_H */
