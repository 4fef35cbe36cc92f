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
