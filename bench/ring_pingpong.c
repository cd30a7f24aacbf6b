/*
 * shmex-bench-ring: the floor under every client -> engine -> client round
 * trip: two processes bounce one 64-byte message through a pair of
 * shm/shmex_ring.h rings in MAP_SHARED memory (a request ring and a
 * response ring, laid out as a session region), busy-spinning, each
 * process pinned to its own CPU. Reports the round trip from a full
 * histogram (p50, p99, p99.9, p99.99, max) and, with --json, one JSON
 * object. Closed loop: the next ping leaves when the pong is back. The
 * spin yields every 4096 pauses, so a run on a busy machine crawls
 * instead of starving the other process.
 *
 * Usage: shmex-bench-ring [--trips N] [--cpus A,B] [--json]
 */
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmex_ring.h"
#include "shmex_session.h"

#include "bench_util.h"

/* Busy-wait step: pause, and yield the CPU now and then, so that a run on a
 * shared machine (CI's 2 cores) degrades instead of starving its peer. */
static inline void spin(unsigned *n)
{
	if (++*n % 4096 == 0)
		sched_yield();
	else
		__builtin_ia32_pause();
}

struct ping {
	uint64_t seq;
	uint64_t sent; /* TSC at send, echoed back */
	uint8_t fill[48];
};
_Static_assert(sizeof(struct ping) == 64, "one line");

/* The echo side: returns each request on the response ring. */
static int pong(void *mem, const struct shmex_session_layout *lay, uint64_t trips, int cpu)
{
	struct shmex_ring in, out;
	if (bb_pin_thread(cpu) < 0 || shmex_session_ring_attach(&in, mem, &lay->request) ||
	    shmex_session_ring_attach(&out, mem, &lay->response))
		return 1;
	struct ping m;
	unsigned n = 0;
	for (uint64_t k = 0; k < trips;) {
		int rc = shmex_ring_pop(&in, &m, sizeof m);
		if (rc < 0)
			return 1;
		if (rc == 0) {
			spin(&n);
			continue;
		}
		while ((rc = shmex_ring_push(&out, &m, sizeof m)) == 0)
			spin(&n);
		if (rc < 0)
			return 1;
		k++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t trips = 2000000;
	int cpu_a = 0, cpu_b = 1, json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--trips") && i + 1 < argc)
			trips = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--cpus") && i + 1 < argc &&
			 sscanf(argv[i + 1], "%d,%d", &cpu_a, &cpu_b) == 2)
			i++;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else {
			fprintf(stderr, "usage: shmex-bench-ring [--trips N] [--cpus A,B] [--json]\n");
			return 2;
		}
	}
	if (trips == 0)
		return 2;
	struct shmex_session_layout lay;
	if (shmex_session_layout_make(64, 64, 64, 64, &lay) != 0)
		return 1;
	void *mem = mmap(NULL, lay.region_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	if (mem == MAP_FAILED || shmex_session_region_init(mem, &lay) != 0) {
		perror("shmex-bench-ring: region");
		return 1;
	}
	bb_timer_init();
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0)
		_exit(pong(mem, &lay, trips + 1000, cpu_b));

	struct shmex_ring out, in;
	int pinned = bb_pin_thread(cpu_a);
	if (shmex_session_ring_attach(&out, mem, &lay.request) ||
	    shmex_session_ring_attach(&in, mem, &lay.response)) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return 1;
	}
	static struct bb_hist hist;
	bb_hist_reset(&hist);
	struct ping m;
	memset(&m, 0, sizeof m);
	int bad = 0;
	unsigned n = 0;
	/* 1000 warm-up trips, then the measured ones. */
	for (uint64_t k = 0; k < trips + 1000 && !bad; k++) {
		m.seq = k;
		m.sent = bb_tick_begin();
		int rc;
		while ((rc = shmex_ring_push(&out, &m, sizeof m)) == 0)
			spin(&n);
		struct ping back;
		while ((rc = shmex_ring_pop(&in, &back, sizeof back)) == 0)
			spin(&n);
		const uint64_t now = bb_tick_end();
		if (rc < 0 || back.seq != k || back.sent != m.sent)
			bad = 1;
		else if (k >= 1000)
			bb_hist_add(&hist, (uint64_t)bb_ticks_to_ns(now - m.sent));
	}
	int status = 0;
	waitpid(child, &status, 0);
	if (bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "shmex-bench-ring: a message came back wrong or the echo failed\n");
		return 1;
	}
	struct bb_machine mach;
	bb_machine_read(&mach);
	const double q[] = { 0.5, 0.99, 0.999, 0.9999 };
	uint64_t v[4];
	for (int i = 0; i < 4; i++)
		v[i] = bb_hist_quantile(&hist, q[i]);
	if (json) {
		printf("{\"bench\": \"shmex-bench-ring\", \"cpu_model\": \"%s\", \"cpu_signature\": "
		       "\"%s\", \"cpus\": [%d, %d], \"trips\": %" PRIu64 ", \"p50_ns\": %" PRIu64
		       ", \"p99_ns\": %" PRIu64 ", \"p999_ns\": %" PRIu64 ", \"p9999_ns\": %" PRIu64
		       ", \"max_ns\": %" PRIu64 ", \"mean_ns\": %.1f}\n",
		       mach.model, mach.signature, cpu_a, cpu_b, trips, v[0], v[1], v[2], v[3],
		       hist.max, hist.sum / (double)hist.count);
	} else {
		printf("shmex-bench-ring: one 64-byte message there and back through two "
		       "shm/shmex_ring.h rings, two processes, busy-spin\n");
		printf("machine : %s (%s), %ld CPUs, %s, load %.2f\n", mach.model, mach.signature,
		       mach.cpus, mach.kernel, mach.load[0]);
		printf("pinned  : %d (ping, %s) and %d (echo)\n", cpu_a, pinned >= 0 ? "ok" : "failed",
		       cpu_b);
		printf("round trip, %" PRIu64 " trips: p50 %" PRIu64 " ns, p99 %" PRIu64
		       " ns, p99.9 %" PRIu64 " ns, p99.99 %" PRIu64 " ns, max %" PRIu64
		       " ns, mean %.1f ns\n",
		       trips, v[0], v[1], v[2], v[3], hist.max, hist.sum / (double)hist.count);
	}
	munmap(mem, lay.region_size);
	return 0;
}
