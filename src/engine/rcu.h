/**
 * @file rcu.h
 * @brief liburcu QSBR for the engine, with the ThreadSanitizer annotations
 *        of ../shared/STYLE.md in one place: a reader announces
 *        __tsan_release(&sx_rcu_grace) before each quiescent state and
 *        before going offline; the writer announces __tsan_acquire() right
 *        after synchronize_rcu(). Nothing in non-TSan builds.
 */
#ifndef SX_ENGINE_RCU_H
#define SX_ENGINE_RCU_H

#define _LGPL_SOURCE 1
#include <urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define SX_RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SX_RCU_TSAN 1
#endif
#endif

#ifdef SX_RCU_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char sx_rcu_grace;
#define SX_RCU_READER_DONE() __tsan_release(&sx_rcu_grace)
/* Two readers may both wake the waiting writer: urcu_qsbr_wake_up_gp()
 * reads and writes urcu_qsbr_gp.futex with volatile accesses (atomic on
 * x86, invisible to TSan). The reader's own state change is not watched;
 * the release before it orders what the reader did. */
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define SX_RCU_UNWATCHED(call) (__tsan_ignore_thread_begin(), (call), __tsan_ignore_thread_end())
#define SX_RCU_WRITER_SYNCED() __tsan_acquire(&sx_rcu_grace)
#else
#define SX_RCU_READER_DONE() ((void)0)
#define SX_RCU_UNWATCHED(call) (call)
#define SX_RCU_WRITER_SYNCED() ((void)0)
#endif

/** Reader: no registry reference is held past this point. */
static inline void sx_rcu_quiescent(void)
{
	SX_RCU_READER_DONE();
	SX_RCU_UNWATCHED(rcu_quiescent_state());
}

/** Reader: about to sleep (a writer need not wait for it). */
static inline void sx_rcu_offline(void)
{
	SX_RCU_READER_DONE();
	SX_RCU_UNWATCHED(rcu_thread_offline());
}

static inline void sx_rcu_online(void)
{
	rcu_thread_online();
}

/** Writer: waits until every reader passed a quiescent state. */
static inline void sx_rcu_synchronize(void)
{
	synchronize_rcu();
	SX_RCU_WRITER_SYNCED();
}

#endif /* SX_ENGINE_RCU_H */
