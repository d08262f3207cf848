/*
 * dist.c: data-parallel training across processes with MPI (Open MPI).
 *
 * Built into the `seqrt_mpi` library with SEQRT_MPI defined; in the other
 * libraries every function is the single-process case, so a model built
 * without --mpi needs no MPI at all. The trainer (train.c) shards each
 * global batch across ranks, sums the gradients once per step with one
 * in-place MPI_Allreduce over the flat buffer, and applies the same
 * optimizer step on every rank; rank 0 alone prints and writes files.
 * MPI's default error handler ends the whole job when a rank dies, so a
 * lost rank never leaves the others waiting.
 */
#include <limits.h>

#include "internal.h"

#ifdef SEQRT_MPI
#include <mpi.h>

static int started;

int seqrt_dist_init(int *argc, char ***argv)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(argc, argv) != MPI_SUCCESS)
        return -1;
    started = !inited;
    return 0;
}

void seqrt_dist_finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (started && !done)
        MPI_Finalize();
}

int seqrt_dist_rank(void)
{
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int seqrt_dist_size(void)
{
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

void seqrt_dist_sum(double *v, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void seqrt_dist_sum_real(seqrt_real *v, size_t n)
{
    MPI_Datatype type = sizeof(seqrt_real) == sizeof(double) ? MPI_DOUBLE : MPI_FLOAT;
    for (size_t at = 0; at < n; at += INT_MAX) { /* MPI counts are ints */
        size_t k = n - at < (size_t)INT_MAX ? n - at : (size_t)INT_MAX;
        MPI_Allreduce(MPI_IN_PLACE, v + at, (int)k, type, MPI_SUM, MPI_COMM_WORLD);
    }
}

int seqrt_dist_same(uint64_t v)
{
    unsigned long long lo = v, hi = v;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

int seqrt_dist_any(int flag)
{
    MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return flag;
}

#else /* one process */

int seqrt_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

void seqrt_dist_finalize(void) {}
int seqrt_dist_rank(void) { return 0; }
int seqrt_dist_size(void) { return 1; }
void seqrt_dist_sum(double *v, int n) { (void)v, (void)n; }
void seqrt_dist_sum_real(seqrt_real *v, size_t n) { (void)v, (void)n; }
int seqrt_dist_same(uint64_t v) { (void)v; return 1; }
int seqrt_dist_any(int flag) { return flag; }

#endif
