/* Native helpers that run beside generated code: a parallel-for thread pool
 * and 64-byte aligned allocation.  Plain C99 + pthreads, so the same source
 * links into the JIT process and into an exported model library.
 *
 * The prototypes between the cdef markers are also read by
 * runtime/native.py as the cffi declarations: keep them one per line and
 * free of preprocessor directives.
 */
#ifndef TFC_THREADPOOL_H
#define TFC_THREADPOOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* tfc_parallel_for: calls fn(ctx, begin, end) over contiguous chunks covering
 *   [0, n) exactly once, each of at least `grain` items (grain < 1 counts as
 *   1), on the pool's threads and the caller; returns when all are done.
 *   With n <= grain or one thread it is fn(ctx, 0, n) on the caller.  A call
 *   made while the pool is busy (another OS thread's call, or a nested call
 *   from inside fn) runs inline on its caller as fn(ctx, 0, n).
 *   With TFC_GRAIN_DYNAMIC or'ed into grain, up to TFC_DYNAMIC_CHUNKS (4)
 *   chunks per thread instead, taken by whichever thread is free: the work
 *   balances itself when a thread is slow or descheduled (a machine shared
 *   with other processes), at the cost of a few more, smaller calls of fn.
 * tfc_set_num_threads: threads used, caller included; n <= 0 restores the
 *   default ($TFC_NUM_THREADS read at first use, else the CPUs in the
 *   process's affinity mask).  Takes effect at the next parallel call.
 * tfc_aligned_alloc: 64-byte aligned, size rounded up to whole 64-byte
 *   lines; NULL on failure or negative size.  Free with tfc_aligned_free.
 */
#define TFC_GRAIN_DYNAMIC ((int64_t)1 << 62)
#define TFC_DYNAMIC_CHUNKS 4

/* cdef-begin */
void tfc_parallel_for(void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx, int64_t n, int64_t grain);
void tfc_set_num_threads(int n);
int tfc_get_num_threads(void);
void *tfc_aligned_alloc(int64_t bytes);
void tfc_aligned_free(void *p);
/* cdef-end */

#ifdef __cplusplus
}
#endif

#endif /* TFC_THREADPOOL_H */
