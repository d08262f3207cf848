/* build.c: emit to a temporary directory, run the C compiler, clean up. */
#include "build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build_config.h"

/* Run argv, wait, and return its exit status (-1 when it could not run). */
static int run(char *const *argv)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "seqc: cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void remove_dir(Arena *a, const char *dir, const char *name)
{
    const char *files[] = {".h", ".c", "_main.c"};
    for (int i = 0; i < 3; i++)
        unlink(arena_printf(a, "%s/%s%s", dir, name, files[i]));
    rmdir(dir);
}

int build_program(const IrGraph *g, Arena *a, LowerOptions *lo, const BuildOptions *bo,
                  const char *out)
{
    const char *tmpdir = getenv("TMPDIR");
    char *dir = arena_printf(a, "%s/seqc-build-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "seqc: cannot make a temporary directory: %s\n", strerror(errno));
        return 2;
    }
    lo->out_dir = dir;
    const char *name = g->name;
    if (!lower_model(g, a, lo)) {
        remove_dir(a, dir, name);
        return 1;
    }
    /* cc -std=c11 -O2 [-DSEQRT_DOUBLE] -I runtime -I dir dir/NAME.c dir/NAME_main.c
     *    libseqrt.a <openblas> -lm -o out */
    char *argv[64];
    int k = 0;
    /* $CC, as make does (words split on spaces: "ccache clang"); else the
     * compiler seqc was configured with. */
    const char *env_cc = getenv("CC");
    const char *cc = env_cc && *env_cc ? env_cc : SEQC_CC;
    for (char *tok = strtok(arena_strdup(a, cc), " "); tok && k < 8; tok = strtok(NULL, " "))
        argv[k++] = tok;
    if (k == 0)
        argv[k++] = (char *)SEQC_CC;
    argv[k++] = "-std=c11";
    argv[k++] = "-O3"; /* -O3 vectorises the gate loops (measured: W2 868 -> 732 us/step) */
    if (bo->native)
        argv[k++] = "-march=native";
    if (bo->float64)
        argv[k++] = "-DSEQRT_DOUBLE";
    char *extra = arena_strdup(a, SEQC_EXTRA_FLAGS);
    for (char *tok = strtok(extra, " "); tok && k < 24; tok = strtok(NULL, " "))
        argv[k++] = tok;
    argv[k++] = arena_printf(a, "-I%s", SEQC_RUNTIME_INCLUDE);
    argv[k++] = arena_printf(a, "-I%s", dir);
    argv[k++] = arena_printf(a, "%s/%s.c", dir, name);
    argv[k++] = arena_printf(a, "%s/%s_main.c", dir, name);
    if (bo->mpi && !SEQC_RUNTIME_LIB_MPI[0]) {
        fprintf(stderr, "seqc: --mpi: this seqc was configured without Open MPI (install "
                "libopenmpi-dev and openmpi-bin, then configure again)\n");
        remove_dir(a, dir, name);
        return 2;
    }
    if (bo->mpi && bo->float64) {
        fprintf(stderr, "seqc: --mpi builds float32 programs only\n");
        remove_dir(a, dir, name);
        return 2;
    }
    argv[k++] = bo->mpi ? SEQC_RUNTIME_LIB_MPI : bo->float64 ? SEQC_RUNTIME_LIB_F64 : SEQC_RUNTIME_LIB;
    char *mpi = arena_strdup(a, bo->mpi ? SEQC_MPI_LIBS : "");
    for (char *tok = strtok(mpi, " "); tok && k < 50; tok = strtok(NULL, " "))
        argv[k++] = tok;
    /* OpenBLAS's link flags as pkg-config gave them, split on spaces. */
    char *blas = arena_strdup(a, SEQC_BLAS_LIBS);
    for (char *tok = strtok(blas, " "); tok && k < 60; tok = strtok(NULL, " "))
        argv[k++] = tok;
    argv[k++] = "-lm";
    argv[k++] = "-pthread"; /* libseqrt's thread team */
    argv[k++] = "-o";
    argv[k++] = (char *)out;
    argv[k] = NULL;
    int st = run(argv);
    remove_dir(a, dir, name);
    if (st != 0) {
        fprintf(stderr, "seqc: the C compiler (%s) failed%s\n", cc,
                st < 0 ? " to run" : "");
        return 1;
    }
    return 0;
}
