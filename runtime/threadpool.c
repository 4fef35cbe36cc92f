/* The runtime's native helpers: a parallel-for thread pool and 64-byte
 * aligned allocation (see threadpool.h for the API).
 *
 * Plain C99 + pthreads + GCC/Clang __atomic builtins; no global constructors:
 * all state is statically initialized and the worker threads are created on
 * the first parallel call that needs them.
 *
 * How a call runs.  The caller publishes one job (fn, ctx, n) and a 64-bit
 * counter word holding (generation:32 | chunks:16 | next chunk:16).  The
 * caller and the workers claim chunk indices by compare-and-swap on that
 * word; because the generation and the chunk count are inside the word, a
 * successful CAS proves the job fields read just before it belong to the
 * generation claimed, so a late worker can never run a chunk of the wrong job.
 * Claiming is dynamic: if the workers are slow to wake, the caller simply
 * runs the remaining chunks itself.  The caller then waits until every
 * claimed chunk has finished.
 *
 * Waiting.  Idle workers spin (with a CPU pause) for a short time after their
 * last job, then sleep on a condition variable; so back-to-back calls a few
 * microseconds apart find them awake.  The spin time defaults to
 * TFC_DEFAULT_SPIN_US and can be set with the TFC_SPIN_US environment
 * variable (read at first use; 0 disables spinning).
 *
 * Concurrency.  One caller drives the pool at a time.  A call made while the
 * pool is busy -- from another OS thread, or re-entrantly from inside fn on
 * any thread -- runs inline on its caller as fn(ctx, 0, n); it never blocks
 * on the pool, so it cannot deadlock.
 */
#define _GNU_SOURCE
#include "threadpool.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* An exported library may build with -fvisibility=hidden -DTFC_API= to keep
   its own copy of the helpers private. */
#ifndef TFC_API
#define TFC_API __attribute__((visibility("default")))
#endif
#define TFC_MAX_THREADS 1024          /* x TFC_DYNAMIC_CHUNKS: below 1 << 16 (chunk field) */
#define TFC_DEFAULT_SPIN_US 100

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

typedef void (*tfc_fn)(void *ctx, int64_t begin, int64_t end);

static struct {
    pthread_mutex_t submit;     /* held by the one caller driving the pool */
    pthread_mutex_t wake_mu;    /* workers sleep on wake_cv */
    pthread_cond_t wake_cv;
    pthread_mutex_t done_mu;    /* the caller sleeps on done_cv */
    pthread_cond_t done_cv;
    int sleepers;               /* workers asleep on wake_cv */
    int caller_sleeping;
    int shutdown;               /* asks the workers to exit (resize) */

    uint64_t counter;           /* generation:32 | chunks:16 | next:16 */
    uint32_t gen;               /* last generation published (under submit) */
    tfc_fn fn;                  /* the current job; atomics, see above */
    void *ctx;
    int64_t n;
    int64_t done;               /* chunks of the current job finished */

    int nworkers;               /* threads besides the caller (under submit) */
    pthread_t *workers;
    int requested;              /* tfc_set_num_threads value, 0 = default */
    int default_threads;        /* set once in init_once */
    long spin_ns;
} pool = {
    .submit = PTHREAD_MUTEX_INITIALIZER,
    .wake_mu = PTHREAD_MUTEX_INITIALIZER,
    .wake_cv = PTHREAD_COND_INITIALIZER,
    .done_mu = PTHREAD_MUTEX_INITIALIZER,
    .done_cv = PTHREAD_COND_INITIALIZER,
    .default_threads = 1,
    .spin_ns = TFC_DEFAULT_SPIN_US * 1000L,
};

static pthread_once_t init_once_flag = PTHREAD_ONCE_INIT;

/* 1 on worker threads, and on a caller while it drives the pool. */
static __thread int tfc_inside;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A non-negative integer from the environment (capped at max), or -1 when
   unset or malformed. */
static long env_long(const char *name, long max) {
    const char *s = getenv(name);
    char *end;
    long v;
    if (s == NULL || *s == '\0') return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0) return -1;
    return v > max ? max : v;
}

static int cpus_available(void) {
    int n = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
    if (n < 1) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

/* In a forked child the workers are gone and a lock may have been held by a
   thread that no longer exists: start over with no workers. */
static void after_fork_child(void) {
    pthread_mutex_init(&pool.submit, NULL);
    pthread_mutex_init(&pool.wake_mu, NULL);
    pthread_cond_init(&pool.wake_cv, NULL);
    pthread_mutex_init(&pool.done_mu, NULL);
    pthread_cond_init(&pool.done_cv, NULL);
    pool.sleepers = 0;
    pool.caller_sleeping = 0;
    pool.shutdown = 0;
    pool.nworkers = 0;
    pool.workers = NULL;   /* their pthread_t values mean nothing here */
    tfc_inside = 0;
}

static void init_once(void) {
    long env = env_long("TFC_NUM_THREADS", TFC_MAX_THREADS);
    int n = env > 0 ? (int)env : cpus_available();
    long spin = env_long("TFC_SPIN_US", 10L * 1000 * 1000);
    pool.default_threads = n > TFC_MAX_THREADS ? TFC_MAX_THREADS : n;
    if (spin >= 0) pool.spin_ns = spin * 1000L;
    pthread_atfork(NULL, NULL, after_fork_child);
}

TFC_API void tfc_set_num_threads(int n) {
    /* Applied by the next parallel call, so it is safe from inside fn. */
    STORE(&pool.requested, n <= 0 ? 0 : (n > TFC_MAX_THREADS ? TFC_MAX_THREADS : n));
}

TFC_API int tfc_get_num_threads(void) {
    int r = LOAD(&pool.requested);
    if (r > 0) return r;
    pthread_once(&init_once_flag, init_once);
    return pool.default_threads;
}

/* ---- the job protocol ------------------------------------------------- */

#define GEN_OF(c) ((uint32_t)((c) >> 32))
#define CHUNKS_OF(c) ((int64_t)(((c) >> 16) & 0xffff))
#define NEXT_OF(c) ((int64_t)((c) & 0xffff))

static void finish_chunk(int64_t chunks) {
    if (__atomic_add_fetch(&pool.done, 1, __ATOMIC_SEQ_CST) == chunks &&
        LOAD(&pool.caller_sleeping)) {
        pthread_mutex_lock(&pool.done_mu);
        pthread_cond_signal(&pool.done_cv);
        pthread_mutex_unlock(&pool.done_mu);
    }
}

/* Claims and runs chunks of the job in counter value `c` until none is left. */
static void run_chunks(uint64_t c) {
    for (;;) {
        int64_t k = CHUNKS_OF(c), i = NEXT_OF(c);
        tfc_fn fn;
        void *ctx;
        int64_t n, q, r, begin;
        if (i >= k) return;
        fn = LOAD_RELAXED(&pool.fn);
        ctx = LOAD_RELAXED(&pool.ctx);
        n = LOAD_RELAXED(&pool.n);
        if (!__atomic_compare_exchange_n(&pool.counter, &c, c + 1, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;                     /* c now holds the current value */
        /* k nearly equal contiguous chunks; the first n % k are one longer */
        q = n / k;
        r = n % k;
        begin = i * q + (i < r ? i : r);
        fn(ctx, begin, begin + q + (i < r));
        finish_chunk(k);
        c = __atomic_load_n(&pool.counter, __ATOMIC_ACQUIRE);
    }
}

/* Returns once the published generation differs from `seen` (or on shutdown). */
static void worker_wait(uint32_t seen) {
    int64_t deadline = pool.spin_ns > 0 ? now_ns() + pool.spin_ns : 0;
    unsigned spins = 0;
    while (deadline) {
        if (GEN_OF(LOAD_RELAXED(&pool.counter)) != seen || LOAD_RELAXED(&pool.shutdown))
            return;
        cpu_relax();
        if ((++spins & 63) == 0 && now_ns() > deadline) break;
    }
    pthread_mutex_lock(&pool.wake_mu);
    __atomic_add_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
    while (GEN_OF(LOAD(&pool.counter)) == seen && !LOAD(&pool.shutdown))
        pthread_cond_wait(&pool.wake_cv, &pool.wake_mu);
    __atomic_sub_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&pool.wake_mu);
}

static void *worker_main(void *arg) {
    uint32_t seen = (uint32_t)(uintptr_t)arg;
    tfc_inside = 1;                       /* nested calls run inline */
    for (;;) {
        uint64_t c;
        worker_wait(seen);
        if (LOAD(&pool.shutdown)) return NULL;
        c = __atomic_load_n(&pool.counter, __ATOMIC_ACQUIRE);
        seen = GEN_OF(c);
        run_chunks(c);
    }
}

/* Caller side, under pool.submit. */
static void wait_done(int64_t chunks) {
    int64_t deadline = pool.spin_ns > 0 ? now_ns() + pool.spin_ns : 0;
    unsigned spins = 0;
    while (deadline) {
        /* acquire: the chunks' results are visible once the count is seen */
        if (__atomic_load_n(&pool.done, __ATOMIC_ACQUIRE) == chunks) return;
        cpu_relax();
        if ((++spins & 63) == 0 && now_ns() > deadline) break;
    }
    pthread_mutex_lock(&pool.done_mu);
    STORE(&pool.caller_sleeping, 1);
    while (LOAD(&pool.done) != chunks)
        pthread_cond_wait(&pool.done_cv, &pool.done_mu);
    STORE(&pool.caller_sleeping, 0);
    pthread_mutex_unlock(&pool.done_mu);
}

static void stop_workers(void) {
    int i;
    if (pool.nworkers == 0) return;
    STORE(&pool.shutdown, 1);
    pthread_mutex_lock(&pool.wake_mu);
    pthread_cond_broadcast(&pool.wake_cv);
    pthread_mutex_unlock(&pool.wake_mu);
    for (i = 0; i < pool.nworkers; i++) pthread_join(pool.workers[i], NULL);
    free(pool.workers);
    pool.workers = NULL;
    pool.nworkers = 0;
    STORE(&pool.shutdown, 0);
}

/* (Re)creates the workers so that there are `want`; returns how many exist
   (fewer if the system refuses threads: the pool then works with fewer). */
static int ensure_workers(int want) {
    sigset_t all, old;
    int i;
    if (pool.nworkers == want) return want;
    stop_workers();
    pool.workers = (pthread_t *)malloc(sizeof(pthread_t) * (size_t)want);
    if (pool.workers == NULL) return 0;
    /* workers must not take the process's signals */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < want; i++) {
        if (pthread_create(&pool.workers[i], NULL, worker_main,
                           (void *)(uintptr_t)pool.gen) != 0)
            break;
        pool.nworkers = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pool.nworkers;
}

static void wake_workers(int64_t count) {
    int s = LOAD(&pool.sleepers);
    if (s == 0) return;
    pthread_mutex_lock(&pool.wake_mu);
    if (count >= s) {
        pthread_cond_broadcast(&pool.wake_cv);
    } else {
        int64_t i;
        for (i = 0; i < count; i++) pthread_cond_signal(&pool.wake_cv);
    }
    pthread_mutex_unlock(&pool.wake_mu);
}

static void parallel_for(tfc_fn fn, void *ctx, int64_t n, int64_t grain, int per_thread) {
    int threads, workers;
    int64_t chunks;
    uint64_t c;
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (n <= grain || tfc_inside) {
        fn(ctx, 0, n);
        return;
    }
    threads = tfc_get_num_threads();
    if (threads <= 1 || pthread_mutex_trylock(&pool.submit) != 0) {
        fn(ctx, 0, n);                    /* single thread, or pool busy */
        return;
    }
    pthread_once(&init_once_flag, init_once);
    workers = ensure_workers(threads - 1);
    chunks = n / grain;                   /* so every chunk has >= grain items */
    if (chunks > (int64_t)(workers + 1) * per_thread) chunks = (int64_t)(workers + 1) * per_thread;
    if (chunks <= 1) {
        pthread_mutex_unlock(&pool.submit);
        fn(ctx, 0, n);
        return;
    }
    tfc_inside = 1;
    STORE_RELAXED(&pool.fn, fn);
    STORE_RELAXED(&pool.ctx, ctx);
    STORE_RELAXED(&pool.n, n);
    STORE_RELAXED(&pool.done, 0);
    pool.gen++;
    c = ((uint64_t)pool.gen << 32) | ((uint64_t)chunks << 16);
    STORE(&pool.counter, c);              /* publishes the fields above */
    wake_workers(chunks - 1);
    run_chunks(c);
    wait_done(chunks);
    tfc_inside = 0;
    pthread_mutex_unlock(&pool.submit);
}

TFC_API void tfc_parallel_for(tfc_fn fn, void *ctx, int64_t n, int64_t grain) {
    if (grain > 0 && (grain & TFC_GRAIN_DYNAMIC))
        parallel_for(fn, ctx, n, grain & ~TFC_GRAIN_DYNAMIC, TFC_DYNAMIC_CHUNKS);
    else
        parallel_for(fn, ctx, n, grain, 1);
}

/* ---- aligned allocation ---------------------------------------------- */

TFC_API void *tfc_aligned_alloc(int64_t bytes) {
    void *p = NULL;
    size_t size;
    if (bytes < 0 || (uint64_t)bytes > (uint64_t)(SIZE_MAX - 63)) return NULL;
    /* whole cache lines, so vector code may touch the tail; never size 0 */
    size = ((size_t)bytes + 63) & ~(size_t)63;
    if (size == 0) size = 64;
    if (posix_memalign(&p, 64, size) != 0) return NULL;
    return p;
}

TFC_API void tfc_aligned_free(void *p) {
    free(p);
}
