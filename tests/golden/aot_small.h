/* small.h: the C API of the model "small", compiled ahead of time by tfcompile VERSION.
 *
 * small_run(ctx, a, flag, ids, out_y, masked, best, y64)
 * takes the feeds, then the fetches, in this order; every buffer is a
 * C-contiguous (row-major) array owned by the caller, aligned as its
 * element type needs:
 *
 *   feed 0   a       a:0       float32[2,3]  const float *    24 bytes
 *   feed 1   flag    flag:0    bool[2]       const uint8_t *   2 bytes
 *   feed 2   ids     ids:0     int64[2]      const int64_t *  16 bytes
 *   fetch 0  out_y   out/y:0   float32[2,2]  float *          16 bytes
 *   fetch 1  masked  masked:0  float32[2]    float *           8 bytes
 *   fetch 2  best    best:0    int32[2]      int32_t *         8 bytes
 *   fetch 3  y64     y64:0     float64[2,2]  double *         32 bytes
 *
 * Memory:
 *   constants (frozen weights), read-only data in the library: N bytes
 *   scratch arena per context, allocated by small_create: N bytes
 *   stack per small_run, at most about: N bytes
 *   caller-owned buffers: feeds 42 bytes, fetches 64 bytes
 *
 * Target: ...
 *
 * Threads: separate contexts (small_create) may run at the same time on
 * different threads; one context must not be used by two threads at once.
 * Large loops are split across the library's own thread pool (shared by all
 * contexts; size: small_set_num_threads, else $TFC_NUM_THREADS, else the
 * CPUs the process may use). While one run drives the pool, a run from
 * another thread executes its loops on its own thread.
 *
 * Errors: small_run returns 0 on success. The compiled code itself cannot
 * fail; a non-zero return means bad arguments (a NULL context or buffer,
 * a fetch buffer overlapping another buffer), and small_error(ctx) says which.
 *
 * Build (DIR holds this header and the libraries):
 *   cc app.c -IDIR -LDIR -lsmall -Wl,-rpath,DIR         (shared)
 *   cc app.c -IDIR DIR/libsmall.a -lm -lpthread         (static)
 */
#ifndef SMALL_H_
#define SMALL_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SMALL_NUM_FEEDS 3
#define SMALL_NUM_FETCHES 4
#define SMALL_ARENA_BYTES N
#define SMALL_CONSTANT_BYTES N
#define SMALL_TARGET_TRIPLE "..."
#define SMALL_TARGET_CPU "..."

/* feed 0: a:0, float32[2,3] */
#define SMALL_FEED_A_INDEX 0
#define SMALL_FEED_A_RANK 2
#define SMALL_FEED_A_DIMS {2, 3}
#define SMALL_FEED_A_SIZE 6  /* elements */
#define SMALL_FEED_A_BYTES 24

/* feed 1: flag:0, bool[2] */
#define SMALL_FEED_FLAG_INDEX 1
#define SMALL_FEED_FLAG_RANK 1
#define SMALL_FEED_FLAG_DIMS {2}
#define SMALL_FEED_FLAG_SIZE 2  /* elements */
#define SMALL_FEED_FLAG_BYTES 2

/* feed 2: ids:0, int64[2] */
#define SMALL_FEED_IDS_INDEX 2
#define SMALL_FEED_IDS_RANK 1
#define SMALL_FEED_IDS_DIMS {2}
#define SMALL_FEED_IDS_SIZE 2  /* elements */
#define SMALL_FEED_IDS_BYTES 16

/* fetch 0: out/y:0, float32[2,2] */
#define SMALL_FETCH_OUT_Y_INDEX 0
#define SMALL_FETCH_OUT_Y_RANK 2
#define SMALL_FETCH_OUT_Y_DIMS {2, 2}
#define SMALL_FETCH_OUT_Y_SIZE 4  /* elements */
#define SMALL_FETCH_OUT_Y_BYTES 16

/* fetch 1: masked:0, float32[2] */
#define SMALL_FETCH_MASKED_INDEX 1
#define SMALL_FETCH_MASKED_RANK 1
#define SMALL_FETCH_MASKED_DIMS {2}
#define SMALL_FETCH_MASKED_SIZE 2  /* elements */
#define SMALL_FETCH_MASKED_BYTES 8

/* fetch 2: best:0, int32[2] */
#define SMALL_FETCH_BEST_INDEX 2
#define SMALL_FETCH_BEST_RANK 1
#define SMALL_FETCH_BEST_DIMS {2}
#define SMALL_FETCH_BEST_SIZE 2  /* elements */
#define SMALL_FETCH_BEST_BYTES 8

/* fetch 3: y64:0, float64[2,2] */
#define SMALL_FETCH_Y64_INDEX 3
#define SMALL_FETCH_Y64_RANK 2
#define SMALL_FETCH_Y64_DIMS {2, 2}
#define SMALL_FETCH_Y64_SIZE 4  /* elements */
#define SMALL_FETCH_Y64_BYTES 32

/* An opaque context: scratch memory, random counters, the last error. */
typedef struct small small;

/* A new context, or NULL when memory is short. */
small *small_create(void);
/* Frees a context (NULL is ignored). */
void small_destroy(small *ctx);

/* Runs the model: reads the feeds, writes the fetches. 0 on success; else
   see small_error. */
int small_run(small *ctx,
        const float *a,
        const uint8_t *flag,
        const int64_t *ids,
        float *out_y,
        float *masked,
        int32_t *best,
        double *y64);
/* The same with arrays of buffers, in signature order (for generic callers). */
int small_run_buffers(small *ctx, const void *const *feeds, void *const *fetches);
/* What went wrong in the last call on ctx ("" if it succeeded); never NULL. */
const char *small_error(const small *ctx);

/* Threads used by large loops, the caller's included; 0 restores the
   default. Applies to every context of this library. 0 on success. */
int small_set_num_threads(small *ctx, int num_threads);
int small_get_num_threads(void);

/* The signature at run time. Out-of-range indices give NULL, or -1. */
int small_num_feeds(void);
const char *small_feed_name(int i);       /* the graph tensor's name */
int small_feed_index(const char *name);   /* by tensor or C name; -1 if none */
const char *small_feed_dtype(int i);      /* "float32", "int64", ... */
int small_feed_rank(int i);
const int64_t *small_feed_dims(int i);
int64_t small_feed_size(int i);           /* elements */
int64_t small_feed_bytes(int i);
int small_num_fetches(void);
const char *small_fetch_name(int i);      /* the graph tensor's name */
int small_fetch_index(const char *name);  /* by tensor or C name; -1 if none */
const char *small_fetch_dtype(int i);     /* "float32", "int64", ... */
int small_fetch_rank(int i);
const int64_t *small_fetch_dims(int i);
int64_t small_fetch_size(int i);          /* elements */
int64_t small_fetch_bytes(int i);
int64_t small_arena_bytes(void);          /* scratch bytes per context */
int64_t small_constant_bytes(void);
const char *small_target(void);           /* "triple cpu features" */
const char *small_signature_json(void);   /* the same JSON as small.json */

#ifdef __cplusplus
}
#endif

#endif  /* SMALL_H_ */
