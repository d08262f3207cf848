/* allreduce.c: the time of one in-place MPI_Allreduce (sum) of N floats, the
 * gradient exchange of one data-parallel step. mpirun -np 2 ./allreduce N */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    long n = argc > 1 ? atol(argv[1]) : 1219201;
    float *v = calloc((size_t)n, sizeof *v);
    int rank, reps = 50;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm up */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; i++)
        MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    double dt = (MPI_Wtime() - t0) / reps;
    if (rank == 0)
        printf("allreduce of %ld floats (%.2f MB): %.3f ms\n", n, n * 4 / 1e6, dt * 1e3);
    free(v);
    MPI_Finalize();
    return 0;
}
