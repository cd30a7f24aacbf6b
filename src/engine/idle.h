/**
 * @file idle.h
 * @brief What an agent thread does when a duty cycle found nothing to do:
 *        busy-spin, spin then yield, or spin, yield, then sleep on a futex
 *        bell (shm/shmex_bells.h has the pairing with the waker).
 */
#ifndef SX_ENGINE_IDLE_H
#define SX_ENGINE_IDLE_H

#include <stdint.h>

#include "shmex_bells.h"

/** A pause in a spin loop. */
static inline void sx_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/** Idle state of one thread. */
struct sx_idle {
	uint32_t policy;   /* enum shmex_wait_policy */
	uint32_t idle;     /* consecutive idle cycles */
	int64_t since_ns;  /* when the idle run began (read every few cycles) */
	int64_t now_ns;
};

/* Phases of an idle run, by time (a pause costs from a few to ~25 ns
 * depending on the CPU, so loop counts would mean different things on
 * different machines): spin SX_IDLE_SPIN_NS, then yield until
 * SX_IDLE_YIELD_NS (YIELD: for ever), then sleep (BLOCK). Short, because
 * on a small machine the engine may share a CPU with its clients. */
#define SX_IDLE_SPIN_NS INT64_C(10000)
#define SX_IDLE_YIELD_NS INT64_C(50000)

/** Called after a cycle that did work. */
static inline void sx_idle_reset(struct sx_idle *s)
{
	s->idle = 0;
}

/** Whether the next idle cycle should sleep on the bell. */
static inline int sx_idle_would_sleep(const struct sx_idle *s)
{
	return s->policy == 2 /* SHMEX_WAIT_BLOCK */ && s->idle != 0 &&
	       s->now_ns - s->since_ns >= SX_IDLE_YIELD_NS;
}

/** One idle step: pause or yield (the caller then sleeps with
 *  sx_bell_sleep() when sx_idle_would_sleep() says so). */
void sx_idle_step(struct sx_idle *s);

/**
 * Sleeper, first half: announces the sleep (sleeping = 1, S1) and
 * returns the bell's value, to be passed to sx_bell_sleep() after the
 * caller re-checked its rings and found nothing.
 */
uint32_t sx_bell_prepare(struct shmex_bell *b);

/** Sleeper, second half: waits until the bell moves from @p seen or
 *  @p timeout_ns pass; then clears sleeping. */
void sx_bell_sleep(struct shmex_bell *b, uint32_t seen, int64_t timeout_ns);

/** Sleeper that found work after sx_bell_prepare(): clears sleeping. */
void sx_bell_cancel(struct shmex_bell *b);

/**
 * Waker: after publishing (release) what the sleeper waits for; W1, then
 * rings the bell if its owner sleeps (one futex wake system call).
 * @return 1 if it rang.
 */
int sx_bell_ring(struct shmex_bell *b);

#endif /* SX_ENGINE_IDLE_H */
