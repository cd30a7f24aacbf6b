/* Cache-line size and alignment helpers, in one place. */
#ifndef SX_CACHE_H
#define SX_CACHE_H

#define SX_CACHE_LINE 64
#define SX_CACHE_ALIGNED _Alignas(SX_CACHE_LINE)

#if defined(__GNUC__)
#define SX_ALWAYS_INLINE inline __attribute__((always_inline))
#define SX_LIKELY(x) __builtin_expect(!!(x), 1)
#define SX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SX_ALWAYS_INLINE inline
#define SX_LIKELY(x) (x)
#define SX_UNLIKELY(x) (x)
#endif

#endif /* SX_CACHE_H */
