/*
 * team.c: the thread team (seqrt_team.h), POSIX threads.
 *
 * Why pthreads and not OpenMP: the team must live across calls (a worker
 * keeps its slice of a recurrent kernel in its own cache for a whole
 * sequence) and its barrier must be cheap and under our control (one per
 * time step); libgomp's barrier spins for up to OMP_WAIT_POLICY's time and
 * its thread pool is shared with whatever else in the process uses OpenMP.
 * Here: a sense-counting barrier that spins a bounded number of times and
 * then sleeps on a condition variable, so a worker that is not needed
 * leaves the core to OpenBLAS's threads and to other processes.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "seqrt_team.h"

/* Spin iterations before sleeping: a time step of a recurrent layer is a
 * few microseconds to a millisecond, and a sleeping wake-up costs ~5-50 us
 * (futex round trip), so waits shorter than the spin never touch the
 * kernel. Bounded so that an idle worker gives its core back quickly. */
#define SPIN 4000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

typedef struct {
    atomic_int count;     /* arrivals in this generation */
    atomic_uint gen;      /* bumped by the last arrival */
    atomic_int sleepers;  /* members waiting on cv */
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} barrier;

#define BARRIER_INIT {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER}

/* Only between jobs, when no member is inside it. */
static void barrier_reset(barrier *b, int n)
{
    atomic_store(&b->count, 0);
    b->n = n;
}

/* The last to arrive bumps gen and wakes sleepers; the others spin on gen,
 * then sleep. sleepers and gen are seq_cst on both sides, so either the
 * last arrival sees a sleeper (and broadcasts under the mutex) or the
 * sleeper sees the new gen before waiting: no wake-up is lost. */
static void barrier_wait(barrier *b)
{
    const unsigned g = atomic_load_explicit(&b->gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == b->n - 1) {
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        atomic_store(&b->gen, g + 1);
        if (atomic_load(&b->sleepers)) {
            pthread_mutex_lock(&b->mu);
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
        }
        return;
    }
    for (int i = 0; i < SPIN; i++) {
        if (atomic_load_explicit(&b->gen, memory_order_acquire) != g)
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&b->mu);
    atomic_fetch_add(&b->sleepers, 1);
    while (atomic_load(&b->gen) == g)
        pthread_cond_wait(&b->cv, &b->mu);
    atomic_fetch_sub(&b->sleepers, 1);
    pthread_mutex_unlock(&b->mu);
}

/* OpenBLAS's thread count (blas_setup.c sets it from --threads N, the
 * environment, or the model's size). */
extern int openblas_get_num_threads(void);

static struct {
    int want;             /* size asked for (0: follow BLAS), applied at the next job */
    int n;                /* members now (caller included) */
    pthread_t th[SEQRT_TEAM_MAX];
    barrier start, done, step;
    seqrt_team_fn fn;
    void *ctx;
    int quit;
} team = {.want = 0, .n = 1, .start = BARRIER_INIT, .done = BARRIER_INIT, .step = BARRIER_INIT};

static _Thread_local int job_n; /* members of the job this thread is in; 0 outside */

static void *worker(void *arg)
{
    const int tid = (int)(intptr_t)arg;
    for (;;) {
        barrier_wait(&team.start);
        if (team.quit)
            return NULL;
        job_n = team.n;
        team.fn(team.ctx, tid, team.n);
        job_n = 0;
        barrier_wait(&team.done);
    }
}

static void stop_workers(void)
{
    if (team.n <= 1)
        return;
    team.quit = 1;
    barrier_wait(&team.start);
    for (int i = 1; i < team.n; i++)
        pthread_join(team.th[i], NULL);
    team.quit = 0;
    team.n = 1;
}

/* Resize to want members; fewer when threads cannot be created. */
static void resize(int want)
{
    stop_workers();
    int n = want;
    barrier_reset(&team.start, n);
    for (int i = 1; i < n; i++)
        if (pthread_create(&team.th[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            /* the i - 1 workers started wait at start for n members: give
             * them a team of i by starting over with that size */
            n = i;
            break;
        }
    if (n != want) {
        team.n = want; /* the started workers count on the first barrier */
        team.quit = 1;
        for (int i = n; i < want; i++) /* stand in for the missing ones */
            atomic_fetch_add(&team.start.count, 1);
        barrier_wait(&team.start);
        for (int i = 1; i < n; i++)
            pthread_join(team.th[i], NULL);
        team.quit = 0;
        team.n = 1;
        if (n > 1)
            resize(n);
        return;
    }
    barrier_reset(&team.done, n);
    barrier_reset(&team.step, n);
    team.n = n;
}

static int clamp(int n) { return n < 1 ? 1 : n > SEQRT_TEAM_MAX ? SEQRT_TEAM_MAX : n; }

void seqrt_team_set_threads(int n) { team.want = n < 1 ? 0 : clamp(n); }

int seqrt_team_threads(void) { return team.want ? team.want : clamp(openblas_get_num_threads()); }

int seqrt_team_members(void) { return job_n ? 1 : seqrt_team_threads(); }

void seqrt_team_run(seqrt_team_fn fn, void *ctx)
{
    if (job_n) { /* nested: this member alone */
        const int outer = job_n;
        job_n = 1;
        fn(ctx, 0, 1);
        job_n = outer;
        return;
    }
    const int want = seqrt_team_threads();
    if (team.n != want)
        resize(want);
    if (team.n == 1) {
        job_n = 1;
        fn(ctx, 0, 1);
        job_n = 0;
        return;
    }
    team.fn = fn;
    team.ctx = ctx;
    barrier_wait(&team.start);
    job_n = team.n;
    fn(ctx, 0, team.n);
    job_n = 0;
    barrier_wait(&team.done);
}

void seqrt_team_barrier(void)
{
    if (job_n > 1)
        barrier_wait(&team.step);
}

void seqrt_team_split(int items, int tid, int n, int *lo, int *hi)
{
    const int q = items / n, r = items % n;
    *lo = tid * q + (tid < r ? tid : r);
    *hi = *lo + q + (tid < r);
}

void seqrt_team_split_chunks(size_t count, size_t chunk, int tid, int n, size_t *lo, size_t *hi)
{
    const size_t chunks = (count + chunk - 1) / chunk, q = chunks / (size_t)n,
                 r = chunks % (size_t)n, t = (size_t)tid;
    const size_t c0 = t * q + (t < r ? t : r), c1 = c0 + q + (t < r);
    *lo = c0 * chunk < count ? c0 * chunk : count;
    *hi = c1 * chunk < count ? c1 * chunk : count;
}
