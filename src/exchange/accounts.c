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

/* Funds entering or leaving this exchange (deposit, withdrawal, transfer
 * from or to another exchange of one engine): checks the arguments (the
 * fee account moves only between exchanges), then the supply or the
 * balance, numbers the event and moves the balance; the asset's supply
 * follows, so Σ balances = supply always holds. Every balance is part of
 * the supply, so bounding the supply bounds every balance and every
 * amount a trade can move. */
static int sx_supply_move(struct shmex_exchange *ex, uint32_t user, uint32_t asset, int64_t amount,
			  int in, uint16_t cause, uint64_t ref, uint64_t *seq)
{
	const int fee_ok = cause == SHMEX_LC_TRANSFER_IN || cause == SHMEX_LC_TRANSFER_OUT;
	int64_t supply;

	if ((user == SHMEX_FEE_ACCOUNT && !fee_ok) || user > ex->n_users)
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
	const int rc = sx_move(ex, user, asset, in ? amount : -amount, 0, cause, ref, 0);
	if (rc != 0) {
		sx_fault(ex, "%s: balance move refused (%d)", shmex_ledger_cause_name(cause), rc);
		return rc;
	}
	ex->assets[asset].supply = supply;
	if (seq)
		*seq = ex->cur_seq;
	return 0;
}

int shmex_exchange_deposit(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			   int64_t amount, uint64_t ref, uint64_t *seq)
{
	return sx_supply_move(ex, user, asset, amount, 1, SHMEX_LC_DEPOSIT, ref, seq);
}

int shmex_exchange_withdraw(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			    int64_t amount, uint64_t ref, uint64_t *seq)
{
	return sx_supply_move(ex, user, asset, amount, 0, SHMEX_LC_WITHDRAWAL, ref, seq);
}

int shmex_exchange_transfer_in(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
			       int64_t amount, uint64_t peer, uint64_t *seq)
{
	return sx_supply_move(ex, user, asset, amount, 1, SHMEX_LC_TRANSFER_IN, peer, seq);
}

int shmex_exchange_transfer_out(struct shmex_exchange *ex, uint32_t user, uint32_t asset,
				int64_t amount, uint64_t peer, uint64_t *seq)
{
	return sx_supply_move(ex, user, asset, amount, 0, SHMEX_LC_TRANSFER_OUT, peer, seq);
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
