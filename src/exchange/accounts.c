/*
 * Accounts: one (available, locked) pair per (user, asset), user 0 being
 * the fee account. Every change goes through sx_move(), which refuses any
 * negative result and writes the ledger entry, so that the ledger is the
 * complete history of every balance.
 */
#include "exchange_internal.h"

int sx_move(struct shmex_exchange *ex, uint32_t user, uint32_t asset, int64_t d_available,
	    int64_t d_locked, uint16_t cause, uint64_t ref, uint64_t trade_id)
{
	struct sx_account *a = sx_account(ex, user, asset);
	int64_t na, nl;

	if (d_available == 0 && d_locked == 0)
		return 0;
	if (__builtin_add_overflow(a->available, d_available, &na) ||
	    __builtin_add_overflow(a->locked, d_locked, &nl))
		return SHMEX_E_OVERFLOW;
	if (na < 0 || nl < 0)
		return SHMEX_E_NOFUNDS;
	a->available = na;
	a->locked = nl;

	struct shmex_ledger_entry spare, *e = sx_ledger_slot(ex, &spare);
	e->seq = ex->cur_seq;
	e->ref = ref;
	e->trade_id = trade_id;
	e->user = user;
	e->asset = (uint16_t)asset;
	e->cause = cause;
	e->d_available = d_available;
	e->d_locked = d_locked;
	e->available = na;
	e->locked = nl;
	sx_ledger_commit(ex, e);
	return 0;
}

static int sx_funds_args(const struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			 int64_t amount)
{
	if (user == SHMEX_FEE_ACCOUNT || user > ex->n_users)
		return SHMEX_E_UNKNOWN_USER;
	if (!sx_asset_ok(ex, asset))
		return SHMEX_E_UNKNOWN_ASSET;
	if (amount <= 0)
		return SHMEX_E_INVAL;
	return 0;
}

int shmex_exchange_deposit(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			   int64_t amount, uint64_t ref, uint64_t *seq)
{
	int rc = sx_funds_args(ex, user, asset, amount);
	int64_t supply;

	if (rc != 0)
		return rc;
	/* Every balance is part of the supply, so bounding the supply bounds
	 * every balance and every amount a trade can move. */
	if (__builtin_add_overflow(ex->assets[asset].supply, amount, &supply))
		return SHMEX_E_OVERFLOW;
	sx_next_seq(ex);
	rc = sx_move(ex, user, asset, amount, 0, SHMEX_LC_DEPOSIT, ref, 0);
	if (rc != 0) {
		sx_fault(ex, "deposit: balance move refused (%d)", rc);
		return rc;
	}
	ex->assets[asset].supply = supply;
	if (seq)
		*seq = ex->cur_seq;
	return 0;
}

int shmex_exchange_withdraw(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			    int64_t amount, uint64_t ref, uint64_t *seq)
{
	int rc = sx_funds_args(ex, user, asset, amount);

	if (rc != 0)
		return rc;
	if (sx_account(ex, user, asset)->available < amount)
		return SHMEX_E_NOFUNDS;
	sx_next_seq(ex);
	rc = sx_move(ex, user, asset, -amount, 0, SHMEX_LC_WITHDRAWAL, ref, 0);
	if (rc != 0) {
		sx_fault(ex, "withdrawal: balance move refused (%d)", rc);
		return rc;
	}
	ex->assets[asset].supply -= amount;
	if (seq)
		*seq = ex->cur_seq;
	return 0;
}

/* A move between this exchange and another of the same engine: the supply
 * here follows the funds, so Σ balances = supply holds in each. */
static int sx_transfer(struct shmex_exchange *ex, uint32_t user, uint32_t asset, int64_t amount,
		       uint64_t peer, uint64_t *seq, int in)
{
	int64_t supply;

	if (user > ex->n_users)
		return SHMEX_E_UNKNOWN_USER;
	if (!sx_asset_ok(ex, asset))
		return SHMEX_E_UNKNOWN_ASSET;
	if (amount <= 0)
		return SHMEX_E_INVAL;
	if (in) {
		if (__builtin_add_overflow(ex->assets[asset].supply, amount, &supply))
			return SHMEX_E_OVERFLOW;
	} else {
		if (sx_account(ex, user, asset)->available < amount)
			return SHMEX_E_NOFUNDS;
		supply = ex->assets[asset].supply - amount;
	}
	sx_next_seq(ex);
	int rc = sx_move(ex, user, asset, in ? amount : -amount, 0,
			 in ? SHMEX_LC_TRANSFER_IN : SHMEX_LC_TRANSFER_OUT, peer, 0);
	if (rc != 0) {
		sx_fault(ex, "transfer: balance move refused (%d)", rc);
		return rc;
	}
	ex->assets[asset].supply = supply;
	if (seq)
		*seq = ex->cur_seq;
	return 0;
}

int shmex_exchange_transfer_in(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			       int64_t amount, uint64_t peer, uint64_t *seq)
{
	return sx_transfer(ex, user, asset, amount, peer, seq, 1);
}

int shmex_exchange_transfer_out(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
				int64_t amount, uint64_t peer, uint64_t *seq)
{
	return sx_transfer(ex, user, asset, amount, peer, seq, 0);
}

int shmex_exchange_balance(const struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			   struct shmex_balance *out)
{
	if (user > ex->n_users)
		return SHMEX_E_UNKNOWN_USER;
	if (!sx_asset_ok(ex, asset))
		return SHMEX_E_UNKNOWN_ASSET;
	const struct sx_account *a = &ex->accounts[(size_t)user * ex->max_assets + (asset - 1)];
	out->available = a->available;
	out->locked = a->locked;
	return 0;
}

int shmex_exchange_supply(const struct shmex_exchange *ex, uint32_t asset, int64_t *out)
{
	if (!sx_asset_ok(ex, asset))
		return SHMEX_E_UNKNOWN_ASSET;
	*out = ex->assets[asset].supply;
	return 0;
}
