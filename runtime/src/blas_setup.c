/*
 * blas_setup.c: make OpenBLAS fast before the first BLAS call, and pick its
 * thread count. Called first thing in seqrt_main (cli.c), so like cli.c it
 * may print (one warning line at most; --blas-info on request).
 *
 * 1. The kernel. Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know
 *    recent Xeons (family 6 model 207, Sapphire/Emerald Rapids) and falls
 *    back to its generic SSE3 "Prescott" kernel: sgemm ~4.8x slower than the
 *    SkylakeX kernel the CPU can run (30 vs 147 GFLOP/s on one core). The
 *    choice is made when the library loads, from OPENBLAS_CORETYPE. So when
 *    openblas_get_corename() names a weaker kernel than cpuid says the CPU
 *    supports (AVX-512 F/BW/DQ/VL -> SkylakeX, AVX2+FMA -> Haswell) and the
 *    user has not set OPENBLAS_CORETYPE, we re-execute the program
 *    (/proc/self/exe, same argv) with OPENBLAS_CORETYPE set. The marker
 *    SEQRT_BLAS_REEXEC guards against a loop (and tells --blas-info that the
 *    re-exec happened); the child removes it from its environment. A re-exec
 *    costs ~1 ms. We only re-exec when argv is the process's own command line
 *    (/proc/self/cmdline): seqrt_main called from inside another program (a
 *    test) must not restart that program, and stays silent. When the exec
 *    fails (or did not help), one warning line on stderr says how to fix it.
 *
 * 2. Threads. Precedence: --threads N (stripped from argv here), then
 *    OPENBLAS_NUM_THREADS / GOTO_NUM_THREADS / OMP_NUM_THREADS (OpenBLAS
 *    reads them itself), then the automatic policy: one thread for models
 *    with fewer than SEQRT_BLAS_SMALL_PARAMS parameters, OpenBLAS's default
 *    (all cores) otherwise. The per-step GEMMs of small recurrent models are
 *    tiny ([32, 8] x [8, 8]); OpenBLAS runs GEMMs below M*N*K = 262144 on one
 *    thread anyway, but a second thread still costs: bench/RESULTS.md
 *    ("Thread policy") has the measurement behind the threshold.
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"
#include "seqrt_team.h"

/* Debian's cblas.h declares these; declared here so the file does not
 * depend on which cblas.h the include path finds first. */
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);
extern void openblas_set_num_threads(int num_threads);

/* Models below this many parameters train on one BLAS thread unless told
 * otherwise. Measured on a 2-core Xeon (bench/RESULTS.md, "Thread policy";
 * bench/run and bench/thread_sweep): W1-W6 (191 to 31,649 parameters) and
 * W7's shape with LSTM(64/128/256) (41k-350k) are no faster on two threads,
 * most are slower (W4: 2.3x slower, W3: 1.5x); W7 (1.2M parameters, GEMMs
 * of 64x512x2048) is faster on two (its sgemm shapes: 214 vs 119 GFLOP/s).
 * The threshold sits between the largest "no gain" (350k) and W7. */
#define SEQRT_BLAS_SMALL_PARAMS 500000

#define REEXEC_MARKER "SEQRT_BLAS_REEXEC"

static struct {
    int reexeced;          /* this process is the re-executed one */
    int warned;
    const char *threads_from; /* "--threads", "environment", "auto (...)" */
    char threads_why[96];
} state;

/* 3: AVX-512 kernels, 2: AVX2/FMA kernels, 0: anything else. */
int seqrt_blas_core_rank(const char *core)
{
    static const char *const avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
    static const char *const avx2[] = {"haswell", "zen"};
    if (!core) return 0;
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++)
        if (strcasecmp(core, avx512[i]) == 0) return 3;
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++)
        if (strcasecmp(core, avx2[i]) == 0) return 2;
    return 0;
}

const char *seqrt_blas_wanted_core(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* Is argv[0..argc) exactly this process's command line? */
static int argv_is_cmdline(int argc, char **argv)
{
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!f) return 0;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    int complete = feof(f);
    fclose(f);
    if (!complete) return 0;
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]) + 1;
        if (at + len > n || memcmp(buf + at, argv[i], len) != 0) return 0;
        at += len;
    }
    return at == n;
}

static void warn_kernel(const char *core, const char *want, const char *why)
{
    if (state.warned) return;
    state.warned = 1;
    fprintf(stderr,
            "seqrt: warning: OpenBLAS uses its slow '%s' kernel on a CPU that runs '%s' "
            "(sgemm ~5x slower; %s); fix: run with OPENBLAS_CORETYPE=%s in the environment, "
            "e.g. `export OPENBLAS_CORETYPE=%s`\n",
            core, want, why, want, want);
    fflush(stderr);
}

static void fix_kernel(int argc, char **argv)
{
    if (env_set(REEXEC_MARKER)) {
        state.reexeced = 1;
        unsetenv(REEXEC_MARKER);
    }
    const char *want = seqrt_blas_wanted_core();
    const char *core = openblas_get_corename();
    if (!want || seqrt_blas_core_rank(core) >= seqrt_blas_core_rank(want)) return;
    if (env_set("OPENBLAS_CORETYPE")) return; /* the user's choice stands */
    if (state.reexeced) {
        warn_kernel(core, want, "re-executing with OPENBLAS_CORETYPE set did not help");
        return;
    }
    /* seqrt_main called from inside another program (a test harness) with an
     * argv of its own: restarting that program would be wrong, and a warning
     * would change the stderr its caller checks. Stay silent; --blas-info
     * still shows the weak kernel. */
    if (argc < 1 || !argv || argv[argc] != NULL || !argv_is_cmdline(argc, argv)) return;
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0 || setenv(REEXEC_MARKER, "1", 1) != 0) {
        warn_kernel(core, want, "cannot set the environment");
        return;
    }
    fflush(stdout);
    fflush(stderr);
    execv("/proc/self/exe", argv);
    int e = errno; /* still here: the exec failed */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(REEXEC_MARKER);
    char why[128];
    snprintf(why, sizeof why, "re-executing /proc/self/exe failed: %s", strerror(e));
    warn_kernel(core, want, why);
}

/* Remove argv[i] and argv[i+1 .. i+k) from argv; returns the new argc. */
static int drop_args(int argc, char **argv, int i, int k)
{
    for (int j = i; j + k <= argc; j++) argv[j] = argv[j + k];
    return argc - k;
}

static int parse_threads(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1024) return -1;
    *out = (int)v;
    return 0;
}

int seqrt_blas_setup(const seqrt_model *m, int argc, char **argv)
{
    if (argc > 0 && argv) fix_kernel(argc, argv);
    else fix_kernel(0, NULL);

    int threads = 0;
    for (int i = 1; argv && i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--threads") == 0 || strncmp(a, "--threads=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[i + 1] : NULL);
            if (!v || parse_threads(v, &threads) != 0) {
                fprintf(stderr, "error: --threads needs a whole number from 1 to 1024, got '%s'\n",
                        v ? v : "");
                return -1;
            }
            argc = drop_args(argc, argv, i, a[9] == '=' ? 1 : 2);
            i--;
        }
    }
    if (threads > 0) {
        state.threads_from = "--threads";
    } else if (env_set("OPENBLAS_NUM_THREADS") || env_set("GOTO_NUM_THREADS") ||
               env_set("OMP_NUM_THREADS")) {
        threads = openblas_get_num_threads(); /* OpenBLAS read them when it loaded */
        state.threads_from = "environment";
    } else if (m && m->param_count < SEQRT_BLAS_SMALL_PARAMS) {
        threads = 1;
        snprintf(state.threads_why, sizeof state.threads_why,
                 "auto: %zu parameters < %d, one thread", m->param_count, SEQRT_BLAS_SMALL_PARAMS);
        state.threads_from = state.threads_why;
    } else {
        threads = openblas_get_num_threads();
        snprintf(state.threads_why, sizeof state.threads_why,
                 "auto: OpenBLAS default (%s)", m ? "a large model" : "no model");
        state.threads_from = state.threads_why;
    }
    /* One set of threads: seqrt's team runs the recurrent steps and shares
     * out every large product (blas.c), each member calling OpenBLAS on one
     * thread. */
    seqrt_team_set_threads(threads);
    openblas_set_num_threads(1);
    return argc;
}

void seqrt_blas_info(FILE *out, const seqrt_model *m)
{
    const char *core = openblas_get_corename();
    const char *want = seqrt_blas_wanted_core();
    const char *ct = getenv("OPENBLAS_CORETYPE");
    fprintf(out, "OpenBLAS config: %s\n", openblas_get_config());
    fprintf(out, "core in use:     %s", core);
    if (state.reexeced)
        fprintf(out, " (seqrt re-executed the program with OPENBLAS_CORETYPE=%s)\n", ct ? ct : "?");
    else if (ct && *ct)
        fprintf(out, " (OPENBLAS_CORETYPE=%s from the environment)\n", ct);
    else
        fprintf(out, " (OpenBLAS's own choice)\n");
    fprintf(out, "CPU features:   ");
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    static const char *const feats[] = {"sse3", "avx", "fma", "avx2", "avx512f",
                                        "avx512bw", "avx512dq", "avx512vl"};
    __builtin_cpu_init();
    for (size_t i = 0; i < sizeof feats / sizeof *feats; i++) {
        int has = 0;
        switch (i) { /* __builtin_cpu_supports needs a string literal */
        case 0: has = __builtin_cpu_supports("sse3"); break;
        case 1: has = __builtin_cpu_supports("avx"); break;
        case 2: has = __builtin_cpu_supports("fma"); break;
        case 3: has = __builtin_cpu_supports("avx2"); break;
        case 4: has = __builtin_cpu_supports("avx512f"); break;
        case 5: has = __builtin_cpu_supports("avx512bw"); break;
        case 6: has = __builtin_cpu_supports("avx512dq"); break;
        case 7: has = __builtin_cpu_supports("avx512vl"); break;
        }
        if (has) fprintf(out, " %s", feats[i]);
    }
#endif
    fprintf(out, "\nbest core:       %s%s\n", want ? want : "(none known)",
            want && seqrt_blas_core_rank(core) < seqrt_blas_core_rank(want)
                ? "  <- NOT in use: sgemm is several times slower" : "");
    fprintf(out, "threads:         %d (%s)\n", seqrt_team_threads(),
            state.threads_from ? state.threads_from : "not set up");
    fprintf(out, "seqrt_real:      %s\n", SEQRT_REAL_NAME);
    if (m) fprintf(out, "model:           %s, %zu parameters\n", m->name, m->param_count);
}
