/*
 * seqrt_team.h: libseqrt's thread team (runtime/src/team.c).
 *
 * One team per process, started at its first use and kept: workers wait
 * for work between calls instead of being created per call. A job runs
 * fn(ctx, tid, n) on every member at once, the caller being member 0, and
 * returns when all have finished. Inside a job the members meet at
 * seqrt_team_barrier (spin first, then sleep), so a recurrent layer runs a
 * whole sequence as one job with one barrier per time step.
 *
 * Results never depend on timing: a job splits its work by (tid, n) alone,
 * so a fixed team size computes the same bits on every run.
 */
#ifndef SEQRT_TEAM_H
#define SEQRT_TEAM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEQRT_TEAM_MAX 64

/* The team's size from the next job on (1 .. SEQRT_TEAM_MAX, clamped), or
 * n < 1: follow OpenBLAS's thread count (the default), which a training
 * program's `--threads N` sets (blas_setup.c). Call it between jobs, never
 * inside one. */
void seqrt_team_set_threads(int n);
int seqrt_team_threads(void);
/* The members a job started here and now would run on: seqrt_team_threads()
 * outside a job, 1 inside one (a nested job runs on its caller alone). For
 * choosing how to share a product out, not for sizing the team. */
int seqrt_team_members(void);

/* Run fn on every member of the team and wait for all of them. A job
 * started from inside a job runs on the calling thread alone (n = 1). */
typedef void (*seqrt_team_fn)(void *ctx, int tid, int n);
void seqrt_team_run(seqrt_team_fn fn, void *ctx);

/* Inside a job: wait until every member has reached this barrier. */
void seqrt_team_barrier(void);

/* [lo, hi) of n items for member tid of n: contiguous, sizes differ by at
 * most one, the same for every run. */
void seqrt_team_split(int items, int tid, int n, int *lo, int *hi);

/* The same over count elements in whole chunks (the last may be short):
 * [lo, hi) for member tid, so that members never share a cache line
 * when chunk is a multiple of one. */
void seqrt_team_split_chunks(size_t count, size_t chunk, int tid, int n, size_t *lo, size_t *hi);

#ifdef __cplusplus
}
#endif

#endif
