/* Idle strategies and futex bells (idle.h, shm/shmex_bells.h). */
#include "idle.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t sx_idle_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void sx_idle_step(struct sx_idle *s)
{
	if (s->policy == 0 /* SPIN */) {
		sx_cpu_relax();
		return;
	}
	if (s->idle == 0)
		s->since_ns = s->now_ns = sx_idle_clock();
	else if (s->idle % 16 == 0 || s->now_ns - s->since_ns >= SX_IDLE_SPIN_NS)
		s->now_ns = sx_idle_clock(); /* vDSO: no system call */
	if (s->now_ns - s->since_ns < SX_IDLE_SPIN_NS)
		sx_cpu_relax();
	else
		sched_yield();
	if (s->idle < UINT32_MAX)
		s->idle++;
}

uint32_t sx_bell_prepare(struct shmex_bell *b)
{
	/* S1: pairs with the waker's W1 (shmex_bells.h). */
	return shmex_bell_prepare(b);
}

void sx_bell_sleep(struct shmex_bell *b, uint32_t seen, int64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
	/* Shared (not FUTEX_PRIVATE): clients in other processes ring it. A
	 * spurious or timed-out return is fine: the caller looks again. */
	syscall(SYS_futex, &b->bell, FUTEX_WAIT, seen, &ts, NULL, 0);
	shmex_bell_awake(b);
}

void sx_bell_cancel(struct shmex_bell *b)
{
	shmex_bell_awake(b);
}

int sx_bell_ring(struct shmex_bell *b)
{
	/* W1: pairs with the sleeper's S1 (shmex_bells.h). */
	if (!shmex_bell_should_ring(b))
		return 0;
	/* the futex word: what the sleeper waits on is ordered by W1/S1 */
	__atomic_fetch_add(&b->bell, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &b->bell, FUTEX_WAKE, 1, NULL, NULL, 0);
	return 1;
}
