/*
 * Replay line parser. A field that is a number but out of range (0, too
 * large, negative) makes the command INVALID; a field that is not a number,
 * a wrong field count, an unknown command or an unknown option makes the
 * line unreadable.
 */
#include <string.h>

#include "replay.h"
#include "shmex/fixed.h"

#define REPLAY_MAX_FIELDS 16

/* A positive int64 field. Returns 0 ok, 1 for a number out of range, -1 if
 * not a number at all. */
static int parse_positive(const char *s, size_t len, int64_t *out)
{
	int neg = len > 0 && s[0] == '-';
	uint64_t v;
	int rc = shmex_u64_parse(s + neg, len - (size_t)neg, &v);
	if (rc == SHMEX_E_PARSE)
		return -1;
	if (rc != 0 || neg || v == 0 || v > (uint64_t)INT64_MAX)
		return 1;
	*out = (int64_t)v;
	return 0;
}

static int field_is(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len == n && memcmp(s, word, n) == 0;
}

/* Applies options fields[first..n) to cmd->order. */
static int parse_options(struct replay_cmd *cmd, int market, const char *const *f,
			 const size_t *flen, int first, int n, const char **why)
{
	struct shmex_order *o = &cmd->order;
	int have_tif = 0, have_ice = 0, have_user = 0, have_stp = 0, repeated = 0;
	for (int i = first; i < n; i++) {
		const char *s = f[i];
		size_t len = flen[i];
		int is_tif = 1;
		if (field_is(s, len, "GTC"))
			o->tif = SHMEX_GTC;
		else if (field_is(s, len, "IOC"))
			o->tif = SHMEX_IOC;
		else if (field_is(s, len, "FOK"))
			o->tif = SHMEX_FOK;
		else if (field_is(s, len, "POST")) {
			o->tif = SHMEX_GTC;
			o->flags |= SHMEX_OF_POST_ONLY;
		} else
			is_tif = 0;
		if (is_tif) {
			repeated |= have_tif++;
			continue;
		}
		if (len > 4 && memcmp(s, "ICE=", 4) == 0) {
			int rc = parse_positive(s + 4, len - 4, &o->display_qty);
			if (rc < 0)
				return *why = "ICE= needs a number", -1;
			if (rc > 0)
				cmd->invalid = 1;
			repeated |= have_ice++;
		} else if (len > 2 && memcmp(s, "U=", 2) == 0) {
			if (shmex_u64_parse(s + 2, len - 2, &o->owner) != 0)
				return *why = "U= needs an unsigned 64-bit number", -1;
			o->flags |= SHMEX_OF_OWNER;
			repeated |= have_user++;
		} else if (len > 4 && memcmp(s, "STP=", 4) == 0) {
			if (field_is(s + 4, len - 4, "CN"))
				o->stp = SHMEX_STP_CANCEL_NEWEST;
			else if (field_is(s + 4, len - 4, "CO"))
				o->stp = SHMEX_STP_CANCEL_OLDEST;
			else if (field_is(s + 4, len - 4, "CB"))
				o->stp = SHMEX_STP_CANCEL_BOTH;
			else
				return *why = "STP= takes CN, CO or CB", -1;
			repeated |= have_stp++;
		} else {
			return *why = "unknown option", -1;
		}
	}
	/* Options that do not apply make the order INVALID. */
	if (repeated || (market && (have_tif || have_ice)) ||
	    (have_ice && (o->tif == SHMEX_IOC || o->tif == SHMEX_FOK)) || (have_stp && !have_user))
		cmd->invalid = 1;
	if (market)
		o->tif = SHMEX_IOC;
	return 0;
}

int replay_parse_line(const char *line, size_t len, struct replay_cmd *cmd, const char **why)
{
	memset(cmd, 0, sizeof *cmd);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || line[0] == '#') {
		cmd->op = REPLAY_SKIP;
		return 0;
	}
	const char *f[REPLAY_MAX_FIELDS];
	size_t flen[REPLAY_MAX_FIELDS];
	int n = 0;
	for (size_t start = 0;;) {
		if (n == REPLAY_MAX_FIELDS)
			return *why = "too many fields", -1;
		const char *comma = memchr(line + start, ',', len - start);
		size_t end = comma ? (size_t)(comma - line) : len;
		f[n] = line + start;
		flen[n++] = end - start;
		if (!comma)
			break;
		start = end + 1;
	}
	if (flen[0] != 1)
		return *why = "unknown command", -1;
	const char op = f[0][0];
	int rc;
	switch (op) {
	case 'P':
		if (n != 1)
			return *why = "P takes no fields", -1;
		cmd->op = REPLAY_PRINT;
		return 0;
	case 'C':
	case 'R':
		if (n != (op == 'C' ? 2 : 3))
			return *why = op == 'C' ? "C needs C,<id>" : "R needs R,<id>,<qty>", -1;
		if (shmex_u64_parse(f[1], flen[1], &cmd->id) != 0)
			return *why = "id is not an unsigned 64-bit number", -1;
		cmd->op = op == 'C' ? REPLAY_CANCEL : REPLAY_REDUCE;
		if (op == 'R') {
			rc = parse_positive(f[2], flen[2], &cmd->qty);
			if (rc < 0)
				return *why = "quantity is not a number", -1;
			cmd->invalid = rc > 0;
		}
		return 0;
	case 'A':
	case 'M': {
		const int market = op == 'M';
		const int fixed_fields = market ? 4 : 5;
		if (n < fixed_fields)
			return *why = market ? "M needs M,<id>,<B|S>,<qty>" : "A needs A,<id>,<B|S>,<price>,<qty>", -1;
		if (shmex_u64_parse(f[1], flen[1], &cmd->id) != 0)
			return *why = "id is not an unsigned 64-bit number", -1;
		struct shmex_order *o = &cmd->order;
		o->id = cmd->id;
		if (field_is(f[2], flen[2], "B"))
			o->side = SHMEX_BUY;
		else if (field_is(f[2], flen[2], "S"))
			o->side = SHMEX_SELL;
		else
			return *why = "side must be B or S", -1;
		o->type = market ? SHMEX_MARKET : SHMEX_LIMIT;
		if (!market) {
			rc = parse_positive(f[3], flen[3], &o->price);
			if (rc < 0)
				return *why = "price is not a number", -1;
			cmd->invalid |= rc > 0;
		}
		rc = parse_positive(f[fixed_fields - 1], flen[fixed_fields - 1], &o->qty);
		if (rc < 0)
			return *why = "quantity is not a number", -1;
		cmd->invalid |= rc > 0;
		if (parse_options(cmd, market, f, flen, fixed_fields, n, why) != 0)
			return -1;
		cmd->op = REPLAY_ADD;
		return 0;
	}
	default:
		return *why = "unknown command", -1;
	}
}
