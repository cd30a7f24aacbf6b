/*
 * The engine: builds every agent and ring from the configuration, applies
 * the configured registries (assets, symbols, users, deposits, grants),
 * and runs the agents on threads: one thread doing a gateway's and the
 * matcher's work (layout "shared", for small machines), or one thread per
 * gateway, per matcher and, with several matchers, one for the bank
 * (layout "dedicated"), each optionally pinned; the journal on its own
 * thread when events are checked.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "rcu.h"
#include "registry.h"

int64_t sx_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sx_log(const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld shmexd: ", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

int sx_push_wait(struct sx_engine *e, struct shmex_ring *r, const void *msg, size_t len,
		 struct shmex_bell *bell)
{
	while (shmex_ring_push(r, msg, len) != 1) {
		/* acquire: pairs with the control thread's release of running */
		if (!__atomic_load_n(&e->running, __ATOMIC_ACQUIRE))
			return 0;
		sx_bell_ring(bell);
		sx_cpu_relax();
	}
	return 1;
}

void sx_engine_wake_control(struct sx_engine *e)
{
	const uint64_t one = 1;
	if (write(e->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
		sx_log("wake: %s", strerror(errno));
}

static void *sx_ring_alloc(uint32_t slots, uint32_t slot_size)
{
	const size_t bytes = shmex_ring_memsize(slots, slot_size);
	void *mem = aligned_alloc(SHMEX_CACHE_LINE, (bytes + 63) & ~(size_t)63);
	if (mem && shmex_ring_init(mem, slots, slot_size) != 0) {
		free(mem);
		mem = NULL;
	}
	return mem;
}

static int sx_alloc_rings(struct sx_engine *e)
{
	const uint32_t G = e->cfg.gateways;
	e->gw_ctl_slots = 16;
	while (e->gw_ctl_slots < 2 * e->cfg.max_sessions + 8)
		e->gw_ctl_slots *= 2;
	e->cmd_mem = calloc(G, sizeof(void *));
	e->out_mem = calloc(G, sizeof(void *));
	e->gw_ctl_mem = calloc(G, sizeof(void *));
	e->note_mem = calloc(G, sizeof(void *));
	if (!e->cmd_mem || !e->out_mem || !e->gw_ctl_mem || !e->note_mem)
		return SHMEX_E_NOMEM;
	for (uint32_t g = 0; g < G; g++) {
		e->cmd_mem[g] = sx_ring_alloc(SX_CMD_SLOTS, SX_CMD_SLOT);
		e->out_mem[g] = sx_ring_alloc(SX_OUT_SLOTS, SX_OUT_SLOT);
		e->gw_ctl_mem[g] = sx_ring_alloc(e->gw_ctl_slots, SX_GW_MSG_SLOT);
		e->note_mem[g] = sx_ring_alloc(e->gw_ctl_slots, SX_GW_MSG_SLOT);
		if (!e->cmd_mem[g] || !e->out_mem[g] || !e->gw_ctl_mem[g] || !e->note_mem[g])
			return SHMEX_E_NOMEM;
	}
	e->ring_mem[0] = sx_ring_alloc(SX_CTL_IN_SLOTS, SX_CTL_IN_SLOT);
	e->ring_mem[1] = sx_ring_alloc(SX_CTL_OUT_SLOTS, SX_CTL_OUT_SLOT);
	if (!e->ring_mem[0] || !e->ring_mem[1])
		return SHMEX_E_NOMEM;
	shmex_ring_attach(&e->ctl_in_prod, e->ring_mem[0], SX_CTL_IN_SLOTS, SX_CTL_IN_SLOT);
	shmex_ring_attach(&e->ctl_out_cons, e->ring_mem[1], SX_CTL_OUT_SLOTS, SX_CTL_OUT_SLOT);
	for (uint32_t i = 0; e->check_events && i < e->nstreams; i++)
		if (!(e->ledger_mem[i] = sx_ring_alloc(SX_LEDGER_SLOTS,
						       sizeof(struct shmex_ledger_entry))))
			return SHMEX_E_NOMEM;
	const uint32_t M = e->nmatchers;
	if (M == 1)
		return 0;
	e->mcmd_mem = calloc(M, sizeof(void *));
	e->mout_mem = calloc(M, sizeof(void *));
	e->mctl_in_mem = calloc(M, sizeof(void *));
	e->mctl_out_mem = calloc(M, sizeof(void *));
	if (!e->mcmd_mem || !e->mout_mem || !e->mctl_in_mem || !e->mctl_out_mem)
		return SHMEX_E_NOMEM;
	for (uint32_t k = 0; k < M; k++) {
		e->mcmd_mem[k] = sx_ring_alloc(SX_CMD_SLOTS, SX_CMD_SLOT);
		e->mout_mem[k] = sx_ring_alloc(SX_OUT_SLOTS, SX_OUT_SLOT);
		e->mctl_in_mem[k] = sx_ring_alloc(SX_CTL_IN_SLOTS, SX_CTL_IN_SLOT);
		e->mctl_out_mem[k] = sx_ring_alloc(SX_CTL_OUT_SLOTS, SX_CTL_OUT_SLOT);
		if (!e->mcmd_mem[k] || !e->mout_mem[k] || !e->mctl_in_mem[k] || !e->mctl_out_mem[k])
			return SHMEX_E_NOMEM;
	}
	return 0;
}

uint32_t sx_engine_route(const struct sx_engine *e, uint32_t symbol)
{
	if (e->nmatchers <= 1 || symbol == 0)
		return 0;
	if (symbol <= e->cfg.nsymbols)
		return e->cfg.symbols[symbol - 1].matcher;
	return (symbol - 1) % e->nmatchers;
}

/* The gateways' bells: a sealed memfd every client maps. */
static int sx_alloc_bells(struct sx_engine *e)
{
	e->bells_size = shmex_bells_size(e->cfg.gateways);
	e->bells_fd = memfd_create("shmex-bells", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (e->bells_fd < 0 || ftruncate(e->bells_fd, (off_t)e->bells_size) != 0)
		return -errno;
	e->bells = mmap(NULL, e->bells_size, PROT_READ | PROT_WRITE, MAP_SHARED, e->bells_fd, 0);
	if (e->bells == MAP_FAILED) {
		e->bells = NULL;
		return -errno;
	}
	/* A client must not shrink it under us (SIGBUS in the engine). */
	if (fcntl(e->bells_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		return -errno;
	return 0;
}

/* Registries of the configuration, before any thread runs. */
/* The assets, symbols and users of the configuration, in one exchange:
 * matcher @p index's, or the bank's (index = matchers). A symbol gets its
 * full book only in its owner's exchange; the others never hold its
 * orders and get the smallest one (with one matcher, it owns them all). */
static int sx_apply_registries(struct sx_engine *e, struct shmex_exchange *ex, uint32_t index,
			       char *err, size_t cap)
{
	const struct sx_config *c = &e->cfg;
	uint32_t id;
	int rc;
	for (uint32_t i = 0; i < c->nassets; i++)
		if ((rc = shmex_exchange_add_asset(ex, &c->assets[i].p, &id)) != 0) {
			snprintf(err, cap, "asset %s: %s", c->assets[i].p.code, shmex_strerror(rc));
			return rc;
		}
	for (uint32_t i = 0; i < c->nsymbols; i++) {
		struct shmex_symbol_params p = c->symbols[i].p;
		if (e->nmatchers > 1 && c->symbols[i].matcher != index)
			p.book_orders = 2;
		if ((rc = shmex_exchange_add_symbol(ex, &p, &id)) != 0) {
			snprintf(err, cap, "symbol %s: %s", c->symbols[i].p.code, shmex_strerror(rc));
			return rc;
		}
		sx_registry_route(e->reg, id, c->symbols[i].matcher);
	}
	for (uint32_t i = 0; i < c->nusers; i++) {
		/* Several matchers: their users have no limits of their own
		 * (the bank keeps them, across the matchers). */
		struct shmex_user_params up = c->users[i].limits;
		if (e->nmatchers > 1 && index < e->nmatchers) {
			up.max_open_orders = 0;
			up.rate_per_sec = 0;
			up.rate_burst = 0;
		}
		if ((rc = shmex_exchange_add_user(ex, &up, &id)) != 0) {
			snprintf(err, cap, "user %s: %s", c->users[i].name, shmex_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int sx_apply_config(struct sx_engine *e, char *err, size_t cap)
{
	const struct sx_config *c = &e->cfg;
	/* Every exchange knows every asset, symbol and user, with the same
	 * ids; the funds are the one owner's: the matcher's, or the bank's. */
	struct shmex_exchange *ex = e->bank ? sx_bank_exchange(e->bank)
					    : sx_matcher_exchange(e->matchers[0]);
	int rc;
	for (uint32_t k = 0; k < e->nmatchers; k++)
		if ((rc = sx_apply_registries(e, sx_matcher_exchange(e->matchers[k]), k, err, cap)) !=
		    0)
			return rc;
	if (e->bank && (rc = sx_apply_registries(e, ex, e->nmatchers, err, cap)) != 0)
		return rc;
	for (uint32_t i = 0; i < c->nusers; i++) {
		const uint32_t id = i + 1;
		for (uint32_t f = 0; f < c->users[i].nfunds; f++) {
			const struct sx_cfg_fund *fd = &c->users[i].funds[f];
			rc = shmex_exchange_deposit(ex, id, fd->asset, fd->amount, 0, NULL);
			if (rc != 0) {
				snprintf(err, cap, "user %s deposit: %s", c->users[i].name,
					 shmex_strerror(rc));
				return rc;
			}
		}
	}
	if (e->bank)
		sx_bank_config_done(e->bank);
	for (uint32_t i = 0; i < c->ngrants; i++)
		if ((rc = sx_registry_grant(e->reg, c->grants[i].uid, c->grants[i].user,
					    c->grants[i].roles)) != 0)
			return rc;
	return 0;
}

int sx_engine_create(const struct sx_config *cfg, int check_events, struct sx_engine **out,
		     char *err, size_t cap)
{
	/* Aligned: the event counter has a cache line of its own. */
	const size_t bytes = (sizeof(struct sx_engine) + 63) & ~(size_t)63;
	struct sx_engine *e = aligned_alloc(64, bytes);
	if (!e)
		return SHMEX_E_NOMEM;
	memset(e, 0, bytes);
	e->cfg = *cfg;
	e->check_events = check_events;
	e->nmatchers = cfg->matchers;
	e->nstreams = cfg->matchers > 1 ? cfg->matchers + 1 : 1;
	e->matchers = calloc(cfg->matchers, sizeof *e->matchers);
	e->bells_fd = -1;
	e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->start_ns = sx_now_ns();
	e->sessions = calloc(cfg->max_sessions, sizeof *e->sessions);
	e->gateways = calloc(cfg->gateways, sizeof *e->gateways);
	e->reg = sx_registry_create(cfg->exchange.max_symbols);
	for (uint32_t i = 0; e->sessions && i < cfg->max_sessions; i++) {
		e->sessions[i].fd = -1;
		e->sessions[i].memfd = -1;
	}
	int rc = (e->wake_fd < 0 || !e->sessions || !e->gateways || !e->reg || !e->matchers)
			 ? SHMEX_E_NOMEM
			 : 0;
	if (rc == 0)
		rc = sx_alloc_rings(e);
	if (rc == 0)
		rc = sx_alloc_bells(e);
	e->hub_wake = cfg->layout == SX_LAYOUT_SHARED && e->bells ? &e->bells[0]
		      : e->nmatchers > 1				  ? &e->bank_bell
									  : &e->matcher_bells[0];
	for (uint32_t k = 0; rc == 0 && k < e->nmatchers; k++)
		rc = sx_matcher_create(e, k, &e->matchers[k]);
	if (rc == 0 && e->nmatchers > 1)
		rc = sx_bank_create(e, &e->bank);
	for (uint32_t g = 0; rc == 0 && g < cfg->gateways; g++)
		rc = sx_gateway_create(e, g, &e->gateways[g]);
	if (rc == 0 && check_events)
		rc = sx_journal_create(e, &e->journal);
	if (rc != 0) {
		snprintf(err, cap, "engine: %s", shmex_strerror(rc));
		sx_engine_destroy(e);
		return rc;
	}
	rcu_register_thread(); /* the control thread reads and writes registries */
	e->rcu_registered = 1;
	rc = sx_apply_config(e, err, cap);
	if (rc != 0) {
		sx_engine_destroy(e);
		return rc;
	}
	*out = e;
	return 0;
}

static void *sx_thread_main(void *arg)
{
	struct sx_thread *t = arg;
	struct sx_engine *e = t->e;
	if (t->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
			sx_log("%s: could not pin to cpu %d, running unpinned", t->name, t->cpu);
	}
	if (t->reads_registry)
		rcu_register_thread();
	struct sx_idle idle = { e->cfg.wait_policy, 0, 0, 0 };
	while (__atomic_load_n(&e->running, __ATOMIC_ACQUIRE)) {
		int w = 0;
		for (uint32_t i = 0; i < t->nagents; i++)
			w += t->work[i](t->ctx[i]);
		if (t->reads_registry)
			sx_rcu_quiescent();
		if (w) {
			sx_idle_reset(&idle);
			continue;
		}
		if (!sx_idle_would_sleep(&idle)) {
			sx_idle_step(&idle);
			continue;
		}
		const uint32_t seen = sx_bell_prepare(t->bell);
		for (uint32_t i = 0; i < t->nagents; i++)
			w += t->work[i](t->ctx[i]);
		if (w) {
			sx_bell_cancel(t->bell);
			sx_idle_reset(&idle);
			continue;
		}
		if (t->reads_registry)
			sx_rcu_offline();
		sx_bell_sleep(t->bell, seen, SHMEX_BELL_TIMEOUT_NS);
		if (t->reads_registry)
			sx_rcu_online();
	}
	if (t->reads_registry) {
		SX_RCU_READER_DONE();
		rcu_unregister_thread();
	}
	return NULL;
}

static struct sx_thread *sx_thread_add(struct sx_engine *e, const char *name,
				       struct shmex_bell *bell, int reads_registry)
{
	struct sx_thread *t = &e->threads[e->nthreads];
	memset(t, 0, sizeof *t);
	t->index = e->nthreads++;
	t->e = e;
	t->name = name;
	t->bell = bell;
	t->reads_registry = reads_registry;
	t->cpu = e->cfg.ncpus ? e->cfg.cpus[t->index % e->cfg.ncpus] : -1;
	return t;
}

static void sx_thread_agent(struct sx_thread *t, int (*work)(void *), void *ctx)
{
	t->work[t->nagents] = work;
	t->ctx[t->nagents] = ctx;
	t->nagents++;
}

int sx_engine_start(struct sx_engine *e, char *err, size_t cap)
{
	struct sx_thread *t;
	if (e->cfg.layout == SX_LAYOUT_SHARED) {
		t = sx_thread_add(e, "engine", &e->bells[0], 1);
		sx_thread_agent(t, sx_gateway_work, e->gateways[0]);
		sx_thread_agent(t, sx_matcher_work, e->matchers[0]);
		sx_thread_agent(t, sx_gateway_flush, e->gateways[0]);
	} else {
		for (uint32_t g = 0; g < e->cfg.gateways; g++) {
			t = sx_thread_add(e, "gateway", &e->bells[g], 1);
			sx_thread_agent(t, sx_gateway_work, e->gateways[g]);
		}
		if (e->bank) {
			t = sx_thread_add(e, "bank", &e->bank_bell, 0);
			sx_thread_agent(t, sx_bank_work, e->bank);
		}
		for (uint32_t k = 0; k < e->nmatchers; k++) {
			t = sx_thread_add(e, "matcher", &e->matcher_bells[k], 0);
			sx_thread_agent(t, sx_matcher_work, e->matchers[k]);
		}
	}
	if (e->journal) {
		t = sx_thread_add(e, "journal", &e->journal_bell, 0);
		t->cpu = -1;
		sx_thread_agent(t, sx_journal_work, e->journal);
	}
	__atomic_store_n(&e->running, 1, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < e->nthreads; i++) {
		t = &e->threads[i];
		int rc = pthread_create(&t->tid, NULL, sx_thread_main, t);
		if (rc != 0) {
			snprintf(err, cap, "thread %s: %s", t->name, strerror(rc));
			return -rc;
		}
		t->started = 1;
	}
	return 0;
}

void sx_engine_stop(struct sx_engine *e)
{
	__atomic_store_n(&e->running, 0, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < e->nthreads; i++) {
		struct sx_thread *t = &e->threads[i];
		if (!t->started)
			continue;
		/* relaxed: only moves the futex word; `running` (release above)
		 * is what the woken thread acquires */
		__atomic_fetch_add(&t->bell->bell, 1, __ATOMIC_RELAXED);
		sx_bell_ring(t->bell);
		pthread_join(t->tid, NULL);
		t->started = 0;
	}
	/* One last fold of what the exchanges left in the ledger rings. */
	if (e->journal)
		while (sx_journal_work(e->journal) > 0)
			;
}

void sx_engine_destroy(struct sx_engine *e)
{
	if (!e)
		return;
	sx_engine_stop(e);
	for (uint32_t i = 0; e->sessions && i < e->cfg.max_sessions; i++) {
		struct sx_session *s = &e->sessions[i];
		if (s->mem)
			munmap(s->mem, s->size);
		if (s->memfd >= 0)
			close(s->memfd);
		if (s->fd >= 0)
			close(s->fd);
	}
	for (uint32_t g = 0; e->gateways && g < e->cfg.gateways; g++)
		sx_gateway_destroy(e->gateways[g]);
	for (uint32_t k = 0; e->matchers && k < e->nmatchers; k++)
		sx_matcher_destroy(e->matchers[k]);
	sx_bank_destroy(e->bank);
	sx_journal_destroy(e->journal);
	for (uint32_t g = 0; e->cmd_mem && g < e->cfg.gateways; g++) {
		free(e->cmd_mem[g]);
		free(e->out_mem[g]);
		free(e->gw_ctl_mem[g]);
		free(e->note_mem[g]);
	}
	free(e->cmd_mem);
	free(e->out_mem);
	free(e->gw_ctl_mem);
	free(e->note_mem);
	for (int i = 0; i < 2; i++)
		free(e->ring_mem[i]);
	for (uint32_t i = 0; i < e->nstreams; i++)
		free(e->ledger_mem[i]);
	for (uint32_t k = 0; e->mcmd_mem && k < e->nmatchers; k++) {
		free(e->mcmd_mem[k]);
		free(e->mout_mem[k]);
		free(e->mctl_in_mem[k]);
		free(e->mctl_out_mem[k]);
	}
	free(e->mcmd_mem);
	free(e->mout_mem);
	free(e->mctl_in_mem);
	free(e->mctl_out_mem);
	free(e->matchers);
	if (e->bells)
		munmap(e->bells, e->bells_size);
	if (e->bells_fd >= 0)
		close(e->bells_fd);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	sx_registry_destroy(e->reg);
	if (e->rcu_registered)
		rcu_unregister_thread();
	free(e->gateways);
	free(e->sessions);
	free(e);
}
