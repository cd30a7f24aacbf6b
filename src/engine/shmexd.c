/*
 * shmexd, the engine daemon.
 *
 *   shmexd [--config FILE] [--socket PATH] [--data DIR] [--check-config]
 *          [--check-events] [--print-demo-config]
 *
 * Without --config it runs the built-in demo (docs/CONFIG.md): three
 * assets, two symbols, funded users mm1, mm2 and taker, and the uid that
 * started it granted both roles. SIGTERM or SIGINT drains and stops.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SX_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "control.h"
#include "engine.h"

static void sx_ready(void)
{
#ifdef SX_HAVE_SYSTEMD
	sd_notify(0, "READY=1");
#endif
}

static void sx_usage(FILE *f)
{
	fprintf(f, "usage: shmexd [--config FILE] [--socket PATH] [--data DIR] [--check-config]\n"
		   "              [--check-events] [--print-demo-config]\n"
		   "  --config FILE       INI configuration (docs/CONFIG.md); default: the demo\n"
		   "  --socket PATH       Unix socket to listen on (overrides the config)\n"
		   "  --data DIR          data directory (persistence; overrides the config)\n"
		   "  --check-config      validate the configuration and exit\n"
		   "  --check-events      fold the event stream in a journal thread and check\n"
		   "                      every prefix (no negative balance, conservation)\n"
		   "  --print-demo-config print the built-in demo configuration and exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "check-events", no_argument, NULL, 'e' },
		{ "print-demo-config", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sock = NULL, *data = NULL;
	int check_only = 0, check_events = 0, c;
	while ((c = getopt_long(argc, argv, "c:s:d:keph", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': sock = optarg; break;
		case 'd': data = optarg; break;
		case 'k': check_only = 1; break;
		case 'e': check_events = 1; break;
		case 'p': fputs(sx_config_demo_text(), stdout); return 0;
		case 'h': sx_usage(stdout); return 0;
		default: sx_usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		sx_usage(stderr);
		return 1;
	}
	static struct sx_config cfg; /* large: not on the stack */
	char err[512] = "";
	int rc = config ? sx_config_load(config, &cfg, err, sizeof err)
			: sx_config_demo((uint32_t)getuid(), &cfg, err, sizeof err);
	if (rc == 0 && sock)
		snprintf(cfg.socket_path, sizeof cfg.socket_path, "%s", sock);
	if (rc == 0 && data)
		snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
	if (rc == 0)
		rc = sx_config_check(&cfg, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "shmexd: %s\n", err[0] ? err : shmex_strerror(rc));
		return 1;
	}
	if (check_only) {
		printf("%s: ok (%u assets, %u symbols, %u users, %u grants, %u gateway(s), %u "
		       "matcher(s))\n",
		       config ? config : "demo", cfg.nassets, cfg.nsymbols, cfg.nusers, cfg.ngrants,
		       cfg.gateways, cfg.matchers);
		return 0;
	}
	/* Signals go to the control thread's signalfd only. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct sx_engine *e = NULL;
	rc = sx_engine_create(&cfg, check_events, &e, err, sizeof err);
	if (rc == 0)
		rc = sx_engine_start(e, err, sizeof err);
	if (rc == 0)
		rc = sx_control_run(e, sx_ready, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "shmexd: %s\n", err[0] ? err : shmex_strerror(rc));
#ifdef SX_HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
	int status = rc == 0 ? 0 : 1;
	if (e) {
		sx_engine_stop(e);
		if (check_events) {
			const uint64_t errors = __atomic_load_n(&e->journal_errors, __ATOMIC_RELAXED);
			sx_log("journal: %llu events folded, %llu violations",
			       (unsigned long long)__atomic_load_n(&e->journal_events, __ATOMIC_RELAXED),
			       (unsigned long long)errors);
			if (errors)
				status = 2;
		}
		sx_engine_destroy(e);
	}
	sx_log("stopped");
	return status;
}
