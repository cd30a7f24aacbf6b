/*
 * Replay line parser. A field that is a number but out of range (0 where a
 * positive number is needed, beyond int64 for a price or quantity, beyond
 * uint64 for a user, negative) makes the command INVALID; a field that is
 * not a number at all (empty, a sign other than a leading '-', any other
 * character), a wrong field count, an unknown command or an unknown option
 * makes the line unreadable. Ids are the exception: an id outside uint64
 * makes the line unreadable, since there would be no id to report it with.
 * Choices where ../shared/formats/replay.md is silent: docs/MATCHING.md,
 * "Replay notes".
 */
#include <string.h>

#include "replay.h"
#include "shmex/fixed.h"

/* Comma-separated fields of a line, read one at a time (no field limit). */
struct fields {
	const char *s;
	size_t len, pos;
	int done;
};

static int next_field(struct fields *t, const char **f, size_t *flen)
{
	if (t->done)
		return 0;
	const char *comma = memchr(t->s + t->pos, ',', t->len - t->pos);
	size_t end = comma ? (size_t)(comma - t->s) : t->len;
	*f = t->s + t->pos;
	*flen = end - t->pos;
	if (comma)
		t->pos = end + 1;
	else
		t->done = 1;
	return 1;
}

/* An unsigned field, optionally negative. Returns 0 ok, 1 for a number out
 * of range (negative, beyond uint64), -1 if not a number at all. */
static int parse_u64_field(const char *s, size_t len, uint64_t *out)
{
	int neg = len > 0 && s[0] == '-';
	uint64_t v;
	int rc = shmex_u64_parse(s + neg, len - (size_t)neg, &v);
	if (rc == SHMEX_E_PARSE)
		return -1;
	if (rc != 0 || neg)
		return 1;
	*out = v;
	return 0;
}

/* A positive int64 field: 0 ok, 1 out of range (0, negative, too large),
 * -1 not a number. */
static int parse_positive(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	int rc = parse_u64_field(s, len, &v);
	if (rc != 0)
		return rc;
	if (v == 0 || v > (uint64_t)INT64_MAX)
		return 1;
	*out = (int64_t)v;
	return 0;
}

static int field_is(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len == n && memcmp(s, word, n) == 0;
}

/* Applies the remaining fields of @t, the options, to cmd->order. */
static int parse_options(struct replay_cmd *cmd, int market, struct fields *t, const char **why)
{
	struct shmex_order *o = &cmd->order;
	int have_tif = 0, have_ice = 0, have_user = 0, have_stp = 0, repeated = 0;
	const char *s;
	size_t len;
	while (next_field(t, &s, &len)) {
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
			int rc = parse_u64_field(s + 2, len - 2, &o->owner);
			if (rc < 0)
				return *why = "U= needs a number", -1;
			if (rc > 0)
				cmd->invalid = 1;
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

/* A line of only spaces and tabs is blank (POSIX's "blank line"). */
static int is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return 0;
	return 1;
}

int replay_parse_line(const char *line, size_t len, struct replay_cmd *cmd, const char **why)
{
	memset(cmd, 0, sizeof *cmd);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || line[0] == '#' || ((line[0] == ' ' || line[0] == '\t') && is_blank(line, len))) {
		cmd->op = REPLAY_SKIP;
		return 0;
	}
	struct fields t = { .s = line, .len = len, .pos = 0, .done = 0 };
	const char *f;
	size_t flen;
	next_field(&t, &f, &flen);
	if (flen != 1)
		return *why = "unknown command", -1;
	const char op = f[0];
	int rc;
	switch (op) {
	case 'P':
		if (!t.done)
			return *why = "P takes no fields", -1;
		cmd->op = REPLAY_PRINT;
		return 0;
	case 'C':
	case 'R': {
		const char *fid, *fqty = NULL;
		size_t lid, lqty = 0;
		int n = next_field(&t, &fid, &lid);
		if (op == 'R')
			n += next_field(&t, &fqty, &lqty);
		if (n != (op == 'C' ? 1 : 2) || !t.done)
			return *why = op == 'C' ? "C needs C,<id>" : "R needs R,<id>,<qty>", -1;
		if (shmex_u64_parse(fid, lid, &cmd->id) != 0)
			return *why = "id is not an unsigned 64-bit number", -1;
		cmd->op = op == 'C' ? REPLAY_CANCEL : REPLAY_REDUCE;
		if (op == 'R') {
			rc = parse_positive(fqty, lqty, &cmd->qty);
			if (rc < 0)
				return *why = "quantity is not a number", -1;
			cmd->invalid = rc > 0;
		}
		return 0;
	}
	case 'A':
	case 'M': {
		const int market = op == 'M';
		const int fixed = market ? 3 : 4; /* fields after the command */
		const char *ff[4];
		size_t fl[4];
		int n = 0;
		while (n < fixed && next_field(&t, &ff[n], &fl[n]))
			n++;
		if (n < fixed)
			return *why = market ? "M needs M,<id>,<B|S>,<qty>" : "A needs A,<id>,<B|S>,<price>,<qty>", -1;
		if (shmex_u64_parse(ff[0], fl[0], &cmd->id) != 0)
			return *why = "id is not an unsigned 64-bit number", -1;
		struct shmex_order *o = &cmd->order;
		o->id = cmd->id;
		if (field_is(ff[1], fl[1], "B"))
			o->side = SHMEX_BUY;
		else if (field_is(ff[1], fl[1], "S"))
			o->side = SHMEX_SELL;
		else
			return *why = "side must be B or S", -1;
		o->type = market ? SHMEX_MARKET : SHMEX_LIMIT;
		if (!market) {
			rc = parse_positive(ff[2], fl[2], &o->price);
			if (rc < 0)
				return *why = "price is not a number", -1;
			cmd->invalid |= rc > 0;
		}
		rc = parse_positive(ff[fixed - 1], fl[fixed - 1], &o->qty);
		if (rc < 0)
			return *why = "quantity is not a number", -1;
		cmd->invalid |= rc > 0;
		if (parse_options(cmd, market, &t, why) != 0)
			return -1;
		cmd->op = REPLAY_ADD;
		return 0;
	}
	default:
		return *why = "unknown command", -1;
	}
}
