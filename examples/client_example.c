/*
 * The README's client example, built with the project so it stays true:
 * connect to a running shmexd, buy 0.010 BTC at $60,000.00 as user 1 of the
 * demo config, print every report until the request is answered, show the
 * balances, and leave (cancel-on-disconnect takes the order away).
 *
 *   build/tools/shmexd &            # the demo config
 *   build/examples/shmex-client-example [SOCKET]
 */
#include <stdio.h>

#include "shmex/client.h"

int main(int argc, char **argv)
{
	struct shmex_client_options o = {
		.socket_path = argc > 1 ? argv[1] : NULL, /* NULL: $SHMEX_SOCKET or the default */
		.name = "example",
		.flags = SHMEX_SESSION_CANCEL_ON_DISCONNECT,
	};
	struct shmex_client *c;
	int rc = shmex_client_connect(&o, &c);
	if (rc != 0) {
		fprintf(stderr, "example: %s\n", shmex_client_last_error());
		return 2;
	}
	uint32_t btc_usd;
	if (shmex_client_find_symbol(c, "BTC/USD", &btc_usd) != 0) {
		fprintf(stderr, "example: no BTC/USD symbol\n");
		shmex_client_close(c);
		return 1;
	}
	/* Prices in ticks (1 cent), quantities in lots (0.001 BTC). */
	struct shmex_order_request buy = {
		.client_id = 1, .user = 1, .symbol = btc_usd, .side = SHMEX_BUY,
		.type = SHMEX_LIMIT, .tif = SHMEX_GTC, .price = 6000000, .qty = 10,
	};
	uint64_t request_no;
	rc = shmex_client_submit(c, &buy, &request_no);
	for (int done = 0; rc == 0 && !done;) {
		struct shmex_report rep[16];
		int n = shmex_client_wait(c, rep, 16, 1000000000); /* up to 1 s */
		if (n <= 0) {
			rc = n < 0 ? n : SHMEX_E_EXPIRED;
			break;
		}
		for (int i = 0; i < n; i++) {
			printf("report: kind %u event %u status %u order %llu remaining %lld reason %s\n",
			       rep[i].kind, rep[i].what, rep[i].status,
			       (unsigned long long)rep[i].order_id, (long long)rep[i].remaining,
			       shmex_reason_name(rep[i].reason));
			done |= (rep[i].flags & SHMEX_RPTF_DONE) && rep[i].request_no == request_no;
		}
	}
	struct shmex_client_balance bal[8];
	const int nb = shmex_client_balances(c, 1, bal, 8);
	for (int i = 0; i < nb; i++)
		printf("balance %s: available %lld, locked %lld (minor units)\n", bal[i].code,
		       (long long)bal[i].available, (long long)bal[i].locked);
	shmex_client_close(c);
	if (rc != 0)
		fprintf(stderr, "example: %s\n", shmex_strerror(rc));
	return rc == 0 ? 0 : 1;
}
