/*
 * check_runtime_train.c: the trainer and the training binary's command line
 * (runtime/src/train.c, cli.c, data.c, checkpoint.c), driven through
 * hand-written descriptors, so nothing here depends on the compiler:
 *
 *   lin      y = x W + b: input x [4], target y [2], mse, adam, metric mae
 *   broken   lin with a wrong bias gradient (gradcheck must fail)
 *   lin_nan  lin whose forward turns NaN after a set number of calls
 *   badgrad  lin whose backward turns the bias gradient NaN
 *   kink     y = relu(x W + b) (gradcheck must report kinks apart, and
 *            still fail kinked, whose backward is wrong at a kink)
 *   tok      logits[t] = E[tok[t]] + feat[t] P: two inputs (int [T], float
 *            [T, 2]) sharing the dynamic axis T, sparse CE from logits
 *   probe    lin recording its dropout keys and state resets, with an
 *            output mask that drops every odd sample of a batch
 *
 * Core: training lowers the loss; same seed, same bytes; resume is exact;
 * save -> load -> predict matches; gradcheck passes (and fails when it
 * should); grad writes backward's gradients. Hostile: every bad input is
 * exit 1 (usage: 2) with a message naming the file, the tensor, expected vs
 * actual. Built for seqrt_f64 and seqrt.
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "seqrt_train.h"

/* ---- the models ---- */

static size_t lin_ws(int64_t B, const int64_t *dims)
{
    (void)dims;
    return (size_t)B * 2 * sizeof(seqrt_real);
}

/* pred[n, j] = b[j] + sum_i x[n, i] W[i, j]; a copy stays in ws. */
static void lin_forward(seqrt_real *const *out, const seqrt_real *w, const void *const *in, int64_t B,
                        const int64_t *dims, void *ws, int training)
{
    (void)dims;
    (void)training;
    const seqrt_real *x = in[0], *W = w, *b = w + 8;
    seqrt_real *keep = ws;
    for (int64_t n = 0; n < B; n++)
        for (int j = 0; j < 2; j++) {
            seqrt_real s = b[j];
            for (int i = 0; i < 4; i++) s += x[n * 4 + i] * W[i * 2 + j];
            out[0][n * 2 + j] = keep[n * 2 + j] = s;
        }
}

static void lin_backward_k(seqrt_real *g, const seqrt_real *const *dout, const void *const *in,
                           int64_t B, seqrt_real bias_scale)
{
    const seqrt_real *x = in[0], *dy = dout[0];
    for (int64_t n = 0; n < B; n++)
        for (int j = 0; j < 2; j++) {
            for (int i = 0; i < 4; i++) g[i * 2 + j] += x[n * 4 + i] * dy[n * 2 + j];
            g[8 + j] += bias_scale * dy[n * 2 + j];
        }
}

static void lin_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                         const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    (void)w;
    (void)dims;
    (void)ws;
    lin_backward_k(g, dout, in, B, 1);
}

static void broken_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                            const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    (void)w;
    (void)dims;
    (void)ws;
    lin_backward_k(g, dout, in, B, 2);   /* the bug gradcheck must find */
}

static int calls, nan_after;

static void nan_forward(seqrt_real *const *out, const seqrt_real *w, const void *const *in, int64_t B,
                        const int64_t *dims, void *ws, int training)
{
    lin_forward(out, w, in, B, dims, ws, training);
    if (++calls > nan_after) out[0][0] = (seqrt_real)NAN;
}

static void badgrad_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                             const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    lin_backward(g, dout, w, in, B, dims, ws);
    if (++calls > nan_after) g[9] = (seqrt_real)NAN;
}

/* probe: what the trainer passes to the descriptor's hooks. */
enum { MAX_CALLS = 64 };
static int keys[MAX_CALLS], n_keys, resets;

static void probe_forward(seqrt_real *const *out, const seqrt_real *w, const void *const *in,
                          int64_t B, const int64_t *dims, void *ws, int training)
{
    lin_forward(out, w, in, B, dims, ws, training);
    if (n_keys < MAX_CALLS) keys[n_keys++] = training;
}

static void probe_reset(void *ws, int64_t B, const int64_t *dims)
{
    (void)ws;
    (void)B;
    (void)dims;
    resets++;
}

/* relu(x W + b): a kink where a pre-activation is 0. At the kink backward
 * gives `at_kink` dy: kink gives 0 (the left slope, as generated code does),
 * kinked gives 2 dy, neither one-sided slope, which gradcheck must call
 * wrong even there. */
static void kink_forward(seqrt_real *const *out, const seqrt_real *w, const void *const *in, int64_t B,
                         const int64_t *dims, void *ws, int training)
{
    lin_forward(out, w, in, B, dims, ws, training);
    for (int64_t i = 0; i < B * 2; i++) out[0][i] = out[0][i] > 0 ? out[0][i] : 0;
}

static void kink_backward_k(seqrt_real *g, const seqrt_real *const *dout, const void *const *in,
                            int64_t B, const seqrt_real *keep, seqrt_real at_kink)
{
    seqrt_real *dy = malloc(sizeof *dy * (size_t)B * 2);
    for (int64_t i = 0; i < B * 2; i++)
        dy[i] = keep[i] > 0 ? dout[0][i] : keep[i] == 0 ? at_kink * dout[0][i] : 0;
    const seqrt_real *const d[] = {dy};
    lin_backward_k(g, d, in, B, 1);
    free(dy);
}

static void kink_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                          const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    (void)w;
    (void)dims;
    kink_backward_k(g, dout, in, B, ws, 0);
}

static void kinked_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                            const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    (void)w;
    (void)dims;
    kink_backward_k(g, dout, in, B, ws, 2);
}

static int probe_mask(uint8_t *dst, int output, void *ws, int64_t B, const int64_t *dims)
{
    (void)output;
    (void)ws;
    (void)dims;
    for (int64_t n = 0; n < B; n++) dst[n] = n % 2 == 0;
    return 1;
}

static const seqrt_param lin_params[] = {
    {"dense.kernel", 2, {4, 2}, 0, 8, SEQRT_INIT_GLOROT_UNIFORM, 4, 2},
    {"dense.bias", 1, {2}, 8, 2, SEQRT_INIT_ZEROS, 0, 0},
};
static const seqrt_io lin_x[] = {{"x", 0, 1, {4}, {-1}, 0, {0}, {0}, {0}}};
static const seqrt_io lin_y[] = {{"y", 0, 1, {2}, {-1}, 0, {0}, {0}, {0}}};
static const seqrt_io lin_out[] = {{"pred", 0, 1, {2}, {-1}, 0, {0}, {0}, {0}}};
static const seqrt_loss_spec lin_loss[] = {{0, 0, SEQRT_LOSS_MSE, 0, 0, 1.0, 0}};
#define ADAM(lr) {SEQRT_OPT_ADAM, lr, 0.9, 0.999, 1e-7, 0, 0.9, 0, 0.1, 0, 0, 0, 0, 0, 0}

#define LIN_MODEL(NAME, FWD, BWD)                                                      \
    {.name = NAME, .source = "check_runtime_train.c", .summary = "Model: \"" NAME "\"\n", \
     .n_params = 2, .params = lin_params, .param_count = 10,                          \
     .n_inputs = 1, .inputs = lin_x, .n_targets = 1, .targets = lin_y,                \
     .n_outputs = 1, .outputs = lin_out, .n_losses = 1, .losses = lin_loss,           \
     .optim = ADAM(0.05), .batch_size = 8, .epochs = 5, .metrics = SEQRT_METRIC_MAE,  \
     .workspace_size = lin_ws, .forward = FWD, .backward = BWD}

static const seqrt_model lin = LIN_MODEL("lin", lin_forward, lin_backward);
static const seqrt_model broken = LIN_MODEL("lin", lin_forward, broken_backward);
static const seqrt_model lin_nan = LIN_MODEL("lin", nan_forward, lin_backward);
static const seqrt_model badgrad = LIN_MODEL("lin", lin_forward, badgrad_backward);
static seqrt_model probe = LIN_MODEL("probe", probe_forward, lin_backward);
static const seqrt_model kink = LIN_MODEL("kink", kink_forward, kink_backward);
static const seqrt_model kinked = LIN_MODEL("kink", kink_forward, kinked_backward);

enum { V = 5 };

static size_t tok_ws(int64_t B, const int64_t *dims)
{
    (void)B;
    (void)dims;
    return 0;
}

/* logits[n, t, c] = E[tok[n, t], c] + sum_k feat[n, t, k] P[k, c] */
static void tok_forward(seqrt_real *const *out, const seqrt_real *w, const void *const *in, int64_t B,
                        const int64_t *dims, void *ws, int training)
{
    (void)ws;
    (void)training;
    const int32_t *tok = in[0];
    const seqrt_real *feat = in[1], *E = w, *P = w + V * V;
    for (int64_t r = 0; r < B * dims[0]; r++)
        for (int c = 0; c < V; c++)
            out[0][r * V + c] = E[tok[r] * V + c] + feat[r * 2] * P[c] + feat[r * 2 + 1] * P[V + c];
}

static void tok_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                         const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    (void)w;
    (void)ws;
    const int32_t *tok = in[0];
    const seqrt_real *feat = in[1], *dl = dout[0];
    for (int64_t r = 0; r < B * dims[0]; r++)
        for (int c = 0; c < V; c++) {
            g[tok[r] * V + c] += dl[r * V + c];
            g[V * V + c] += feat[r * 2] * dl[r * V + c];
            g[V * V + V + c] += feat[r * 2 + 1] * dl[r * V + c];
        }
}

static const seqrt_param tok_params[] = {
    {"emb.embeddings", 2, {V, V}, 0, V * V, SEQRT_INIT_UNIFORM, 0, 0},
    {"proj.kernel", 2, {2, V}, V * V, 2 * V, SEQRT_INIT_GLOROT_UNIFORM, 2, V},
};
static const char *const tok_dims[] = {"T"};
static const seqrt_io tok_in[] = {{"tok", 1, 1, {-1}, {0}, V, {0}, {0}, {0}}, {"feat", 0, 2, {-1, 2}, {0, -1}, 0, {0}, {0}, {0}}};
static const seqrt_io tok_tg[] = {{"next", 1, 1, {-1}, {0}, V, {0}, {0}, {0}}};
static const seqrt_io tok_out[] = {{"logits", 0, 2, {-1, V}, {0, -1}, 0, {0}, {0}, {0}}};
static const seqrt_loss_spec tok_loss[] = {{0, 0, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, 0, 1.0, 0}};

static const seqrt_model tok = {
    .name = "tok", .n_params = 2, .params = tok_params, .param_count = V * V + 2 * V,
    .n_dims = 1, .dim_names = tok_dims, .n_inputs = 2, .inputs = tok_in, .n_targets = 1,
    .targets = tok_tg, .n_outputs = 1, .outputs = tok_out, .n_losses = 1, .losses = tok_loss,
    .optim = ADAM(0.05), .batch_size = 4, .epochs = 3, .metrics = SEQRT_METRIC_ACCURACY,
    .workspace_size = tok_ws, .forward = tok_forward, .backward = tok_backward,
};

/* ---- files and runs ---- */

static char tmpdir[64];

static const char *tmp(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/seqrt_train_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    calls = 0;
    nan_after = 1 << 30;
    n_keys = resets = 0;
    probe.reset_states = probe_reset;
    probe.output_mask = probe_mask;
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!b) {
        fclose(f);
        return NULL;
    }
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

static int same_bytes(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = read_all(a, &la), *y = read_all(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

typedef struct {
    int status;
    char *out, *err;
} Result;

static void result_free(Result *r)
{
    free(r->out);
    free(r->err);
}

/* seqrt_main on a command line split at spaces, '@' standing for the temp
 * directory + '/'; stdout and stderr captured. */
static Result run(const seqrt_model *m, const char *fmt, ...)
{
    char line[2048], full[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t n = 0;
    full[0] = '\0';
    for (const char *p = line; *p && n + 70 < sizeof full; p++)
        n += (size_t)(*p == '@' ? snprintf(full + n, sizeof full - n, "%s/", tmpdir)
                                : snprintf(full + n, sizeof full - n, "%c", *p));
    char *argv[64] = {"prog"};
    int argc = 1;
    for (char *w = strtok(full, " "); w && argc < 63; w = strtok(NULL, " ")) argv[argc++] = w;
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(tmp("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(tmp("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    Result r;
    r.status = seqrt_main(m, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    size_t len;
    r.out = read_all(tmp("stdout.txt"), &len);
    r.err = read_all(tmp("stderr.txt"), &len);
    ck_assert(r.out && r.err);
    return r;
}

#define ck_run(R, STATUS, NEEDLE)                                                          \
    do {                                                                                   \
        ck_assert_msg((R).status == (STATUS), "status %d, want %d; stderr:\n%s", (R).status, \
                      (STATUS), (R).err);                                                  \
        ck_assert_msg(strstr((R).err, NEEDLE) != NULL, "stderr lacks '%s':\n%s", NEEDLE,     \
                      (R).err);                                                            \
    } while (0)

#define ck_ok(R) \
    ck_assert_msg((R).status == 0, "status %d; stderr:\n%s", (R).status, (R).err ? (R).err : "")

static void write_real(const char *name, const seqrt_real *v, int ndim, int64_t a, int64_t b, int64_t c)
{
    int64_t shape[3] = {a, b, c};
    seqrt_error err;
    ck_assert_msg(seqrt_npy_write(tmp(name), v, ndim, shape, &err) == 0, "%s", err.msg);
}

static void write_int(const char *name, const int32_t *v, int ndim, int64_t a, int64_t b, int64_t c)
{
    int64_t shape[3] = {a, b, c};
    seqrt_error err;
    ck_assert_msg(seqrt_npy_write_i32(tmp(name), v, ndim, shape, &err) == 0, "%s", err.msg);
}

/* Noise-free regression y = x Wt + bt: x.npy [n, 4], y.npy [n, 2]. */
static void make_regression(int n, const char *xname, const char *yname)
{
    static const double Wt[8] = {0.5, -1, 1.5, 0.25, -0.75, 0.3, 1, -0.5}, bt[2] = {0.2, -0.4};
    seqrt_real *x = malloc(sizeof *x * (size_t)n * 4), *y = malloc(sizeof *y * (size_t)n * 2);
    seqrt_rng r;
    seqrt_rng_seed(&r, 7);
    for (int i = 0; i < n * 4; i++) x[i] = (seqrt_real)seqrt_rng_normal(&r);
    for (int s = 0; s < n; s++)
        for (int j = 0; j < 2; j++) {
            double v = bt[j];
            for (int i = 0; i < 4; i++) v += x[s * 4 + i] * Wt[i * 2 + j];
            y[s * 2 + j] = (seqrt_real)v;
        }
    write_real(xname, x, 2, n, 4, 0);
    write_real(yname, y, 2, n, 2, 0);
    free(x);
    free(y);
}

enum { TN = 6, TT = 5 };

/* tok.npy int [6, 5] in [0, 5), feat.npy [6, 5, 2], next.npy int [6, 5]. */
static void make_tok(void)
{
    int32_t t[TN * TT], nx[TN * TT];
    seqrt_real f[TN * TT * 2];
    seqrt_rng r;
    seqrt_rng_seed(&r, 3);
    for (int i = 0; i < TN * TT; i++) {
        t[i] = (int32_t)seqrt_rng_below(&r, V);
        nx[i] = (t[i] + 1) % V;
        f[2 * i] = (seqrt_real)seqrt_rng_normal(&r);
        f[2 * i + 1] = (seqrt_real)seqrt_rng_normal(&r);
    }
    write_int("tok.npy", t, 2, TN, TT, 0);
    write_real("feat.npy", f, 3, TN, TT, 2);
    write_int("next.npy", nx, 2, TN, TT, 0);
}

static seqrt_dataset load_lin(const char *xname, const char *yname)
{
    seqrt_dataset d;
    seqrt_error err;
    const char *x[] = {tmp(xname)}, *y[] = {tmp(yname)};
    ck_assert_msg(seqrt_dataset_load(&d, &lin, x, yname ? y : NULL, &err) == 0, "%s", err.msg);
    return d;
}

/* ---- Core ---- */

typedef struct {
    int n;
    double loss[64];
    seqrt_epoch_log last;
} Logs;

static void keep_log(const seqrt_epoch_log *log, void *ctx)
{
    Logs *l = ctx;
    if (l->n < 64) l->loss[l->n++] = log->values[0];
    l->last = *log;
}

START_TEST(test_train_reduces_loss)
{
    make_regression(64, "x.npy", "y.npy");
    seqrt_dataset d = load_lin("x.npy", "y.npy");
    seqrt_train_options o = seqrt_train_defaults(&lin);
    Logs logs = {0};
    o.epochs = 40;
    o.on_epoch = keep_log;
    o.ctx = &logs;
    seqrt_real w[10];
    seqrt_error err;
    ck_assert_msg(seqrt_train(&lin, &d, &o, w, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(logs.n, 40);
    ck_assert_str_eq(logs.last.names[0], "loss");
    ck_assert_str_eq(logs.last.names[1], "mae");
    ck_assert_int_eq(logs.last.steps, 8);
    ck_assert_msg(logs.loss[39] < 0.01 * logs.loss[0], "loss %g -> %g", logs.loss[0], logs.loss[39]);
    ck_assert(fabs(w[8] - 0.2) < 0.05 && fabs(w[9] + 0.4) < 0.05);
    seqrt_dataset_free(&d);
}
END_TEST

START_TEST(test_validation_split_and_partial_batch)
{
    make_regression(10, "x.npy", "y.npy");
    seqrt_dataset d = load_lin("x.npy", "y.npy");
    seqrt_train_options o = seqrt_train_defaults(&lin);
    Logs logs = {0};
    o.epochs = 2;
    o.batch_size = 3;
    o.validation_split = 0.2;   /* 8 train in batches 3, 3, 2; the last 2 validate */
    o.on_epoch = keep_log;
    o.ctx = &logs;
    seqrt_real w[10];
    seqrt_error err;
    ck_assert_msg(seqrt_train(&lin, &d, &o, w, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(logs.last.steps, 3);
    ck_assert_int_eq(logs.last.n, 4);
    ck_assert_str_eq(logs.last.names[2], "val_loss");
    ck_assert_str_eq(logs.last.names[3], "val_mae");
    /* val_loss is the loss of the last two samples under the final weights. */
    seqrt_real pred[20];
    seqrt_real *outs[] = {pred};
    ck_assert(seqrt_predict(&lin, &d, w, 4, outs, &err) == 0);
    double want = 0;
    const seqrt_real *y = d.y[0].data;
    for (int i = 16; i < 20; i++) want += (pred[i] - y[i]) * (pred[i] - y[i]) / 4;
    ck_assert_double_eq_tol(logs.last.values[2], want, 1e-6 * (1 + want));
    o.validation_split = 0.05;   /* int(10 * 0.95) = 9: one validates */
    ck_assert(seqrt_train(&lin, &d, &o, w, &err) == 0);
    o.validation_split = 0.01;   /* int(10 * 0.99) = 9 as well */
    ck_assert(seqrt_train(&lin, &d, &o, w, &err) == 0);
    o.validation_split = 0.95;   /* int(0.5) = 0 left to train on */
    ck_assert_int_ne(seqrt_train(&lin, &d, &o, w, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "leaves 0 for training"));
    seqrt_dataset_free(&d);
}
END_TEST

START_TEST(test_same_seed_same_bytes)
{
    make_regression(20, "x.npy", "y.npy");
    const char *cmd = "train --x @x.npy --y @y.npy --epochs 3 --batch-size 4 --seed %d --save @%s --quiet";
    Result a = run(&lin, cmd, 5, "a.safetensors"), b = run(&lin, cmd, 5, "b.safetensors"),
           c = run(&lin, cmd, 6, "c.safetensors");
    ck_assert_int_eq(a.status + b.status + c.status, 0);
    ck_assert(same_bytes(tmp("a.safetensors"), tmp("b.safetensors")));
    ck_assert(!same_bytes(tmp("a.safetensors"), tmp("c.safetensors")));
    result_free(&a);
    result_free(&b);
    result_free(&c);
}
END_TEST

START_TEST(test_resume_is_exact)
{
    make_regression(20, "x.npy", "y.npy");
    const char *cmd = "train --x @x.npy --y @y.npy --batch-size 4 --quiet --epochs %d --save @%s%s";
    Result a = run(&lin, cmd, 4, "all.safetensors", "");
    Result b = run(&lin, cmd, 2, "half.safetensors", "");
    Result c = run(&lin, cmd, 2, "half.safetensors", " --load @half.safetensors");
    ck_assert_int_eq(a.status + b.status + c.status, 0);
    /* Same weights, optimizer state, epoch and iterations: the same file. */
    ck_assert(same_bytes(tmp("all.safetensors"), tmp("half.safetensors")));
    seqrt_st_file f;
    seqrt_error err;
    ck_assert(seqrt_st_load(&f, tmp("all.safetensors"), &err) == 0);
    ck_assert_str_eq(seqrt_st_meta(&f, "model"), "lin");
    ck_assert_str_eq(seqrt_st_meta(&f, "format"), "seqc-1");
    ck_assert_str_eq(seqrt_st_meta(&f, "epoch"), "4");
    ck_assert_str_eq(seqrt_st_meta(&f, "optimizer"), "adam");
    ck_assert_str_eq(seqrt_st_meta(&f, "optimizer.iterations"), "20");
    ck_assert_ptr_nonnull(seqrt_st_find(&f, "optimizer.velocity.dense.kernel"));
    ck_assert_ptr_nonnull(strstr(seqrt_st_meta(&f, "checksum"), "fnv1a64:"));
    seqrt_st_free(&f);
    result_free(&a);
    result_free(&b);
    result_free(&c);
}
END_TEST

START_TEST(test_save_load_predict)
{
    make_regression(13, "x.npy", "y.npy");
    seqrt_dataset d = load_lin("x.npy", "y.npy");
    seqrt_train_options o = seqrt_train_defaults(&lin);
    o.save_path = tmp("w.safetensors");
    seqrt_real w[10], pred[26];
    seqrt_real *outs[] = {pred};
    seqrt_error err;
    ck_assert_msg(seqrt_train(&lin, &d, &o, w, &err) == 0, "%s", err.msg);
    ck_assert(seqrt_predict(&lin, &d, w, 5, outs, &err) == 0);
    Result r = run(&lin, "predict --weights @w.safetensors --x @x.npy --out @p.npy --batch-size 3");
    ck_ok(r);
    seqrt_array p;
    ck_assert_msg(seqrt_npy_read(&p, tmp("p.npy"), 0, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(p.ndim, 2);
    ck_assert_int_eq(p.shape[0], 13);
    ck_assert_int_eq(p.shape[1], 2);
    ck_assert_mem_eq(p.data, pred, sizeof pred);
    /* A named --out works too. */
    Result r2 = run(&lin, "predict --weights @w.safetensors --x x=@x.npy --out pred=@q.npy");
    ck_ok(r2);
    ck_assert(same_bytes(tmp("p.npy"), tmp("q.npy")));
    seqrt_array_free(&p);
    seqrt_dataset_free(&d);
    result_free(&r);
    result_free(&r2);
}
END_TEST

START_TEST(test_cli_train_prints_epochs)
{
    make_regression(16, "x.npy", "y.npy");
    Result r = run(&lin, "train --x @x.npy --y @y.npy --epochs 3 --validation-split 0.25");
    ck_run(r, 0, "note: no --save");
    ck_assert_ptr_nonnull(strstr(r.out, "Epoch 1/3\n2/2 - "));
    ck_assert_ptr_nonnull(strstr(r.out, "Epoch 3/3\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "/step - loss: "));
    ck_assert_ptr_nonnull(strstr(r.out, " - mae: "));
    ck_assert_ptr_nonnull(strstr(r.out, " - val_loss: "));
    Result q = run(&lin, "train --x=@x.npy --y=@y.npy --epochs=1 --quiet --no-shuffle --check-numerics");
    ck_ok(q);
    ck_assert_str_eq(q.out, "");
    result_free(&r);
    result_free(&q);
}
END_TEST

START_TEST(test_gradcheck_passes)
{
    Result r = run(&lin, "gradcheck");
    ck_ok(r);
    ck_assert_ptr_nonnull(strstr(r.out, "dense.kernel"));
    ck_assert_ptr_nonnull(strstr(r.out, ": OK"));
    ck_assert_ptr_nonnull(strstr(r.out, sizeof(seqrt_real) == 8 ? "threshold 1e-06" : "threshold 2e-02"));
    make_regression(7, "x.npy", "y.npy");
    Result f = run(&lin, "gradcheck --x @x.npy --y @y.npy --samples 5 --seed 9");
    ck_ok(f);
    Result t = run(&tok, "gradcheck --seed 3");
    ck_ok(t);
    ck_assert_ptr_nonnull(strstr(t.out, "emb.embeddings"));
    make_tok();
    Result tf = run(&tok, "gradcheck --x tok=@tok.npy --x feat=@feat.npy --y @next.npy");
    ck_ok(tf);
    result_free(&r);
    result_free(&f);
    result_free(&t);
    result_free(&tf);
}
END_TEST

START_TEST(test_gradcheck_fails_on_wrong_backward)
{
    Result r = run(&broken, "gradcheck");
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "dense.bias"));
    ck_assert_ptr_nonnull(strstr(r.out, "FAILED"));
    result_free(&r);
}
END_TEST

/* One sample whose first unit sits exactly at relu's kink: its bias and
 * first kernel column are kinks, reported apart; the second unit is smooth. */
static void gradcheck_at_kink(const seqrt_model *m, double *worst, int64_t *checked, int64_t *kinks)
{
    static const seqrt_real x[4] = {1, 0, 0, 0}, y[2] = {1, 1};
    write_real("kx.npy", x, 2, 1, 4, 0);
    write_real("ky.npy", y, 2, 1, 2, 0);
    seqrt_dataset d = load_lin("kx.npy", "ky.npy");
    seqrt_real w[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, (seqrt_real)0.5};
    seqrt_gradcheck_options o = {0};
    seqrt_error err;
    ck_assert(seqrt_gradcheck(m, &d, w, &o, worst, checked, kinks, &err) == 0);
    seqrt_dataset_free(&d);
}

START_TEST(test_gradcheck_kinks_apart)
{
    double worst[2];
    int64_t checked[2], kinks[2];
    gradcheck_at_kink(&kink, worst, checked, kinks);
    ck_assert_int_eq(kinks[0], 1);   /* W[0, 0] */
    ck_assert_int_eq(kinks[1], 1);   /* b[0] */
    ck_assert(worst[0] <= seqrt_gradcheck_threshold());
    ck_assert(worst[1] <= seqrt_gradcheck_threshold());
    /* Wrong at the kink: not a kink but a failure. */
    gradcheck_at_kink(&kinked, worst, checked, kinks);
    ck_assert_int_eq(kinks[1], 0);
    ck_assert(worst[1] > seqrt_gradcheck_threshold());
    /* lin is smooth: no kinks, and broken's bias still fails. */
    seqrt_dataset d;
    seqrt_error err;
    make_regression(5, "x.npy", "y.npy");
    d = load_lin("x.npy", "y.npy");
    seqrt_real w[10];
    ck_assert(seqrt_init_params(&broken, w, 1, &err) == 0);
    seqrt_gradcheck_options o = {0};
    ck_assert(seqrt_gradcheck(&broken, &d, w, &o, worst, checked, kinks, &err) == 0);
    ck_assert_int_eq(kinks[0] + kinks[1], 0);
    ck_assert(worst[1] > seqrt_gradcheck_threshold());
    seqrt_dataset_free(&d);
}
END_TEST

START_TEST(test_gradcheck_subset_is_seeded)
{
    seqrt_dataset d;
    seqrt_error err;
    ck_assert(seqrt_dataset_random(&d, &tok, 3, 4, 1, 11, &err) == 0);
    ck_assert_int_eq(d.dims[0], 4);
    ck_assert_int_eq(d.x[0].shape[1], 4);
    ck_assert_int_eq(d.x[1].shape[2], 2);
    seqrt_real w[V * V + 2 * V];
    ck_assert(seqrt_init_params(&tok, w, 1, &err) == 0);
    double worst[2], worst2[2];
    int64_t checked[2], kinks[2];
    seqrt_gradcheck_options o = {0, 7, 5};
    ck_assert(seqrt_gradcheck(&tok, &d, w, &o, worst, checked, kinks, &err) == 0);
    ck_assert_int_eq(checked[0], 7);
    ck_assert_int_eq(checked[1], 7);
    ck_assert(seqrt_gradcheck(&tok, &d, w, &o, worst2, checked, kinks, &err) == 0);
    ck_assert_mem_eq(worst, worst2, sizeof worst);
    ck_assert(worst[0] <= seqrt_gradcheck_threshold());
    seqrt_dataset_free(&d);
}
END_TEST

START_TEST(test_grad_command)
{
    make_regression(6, "x.npy", "y.npy");
    Result t = run(&lin, "train --x @x.npy --y @y.npy --epochs 1 --save @w.safetensors --quiet");
    Result g = run(&lin, "grad --weights @w.safetensors --x @x.npy --y @y.npy --out @g.safetensors");
    ck_ok(t);
    ck_ok(g);
    seqrt_dataset d = load_lin("x.npy", "y.npy");
    seqrt_real w[10], pred[12];
    seqrt_real *outs[] = {pred};
    seqrt_error err;
    ck_assert(seqrt_checkpoint_load(tmp("w.safetensors"), &lin, w, NULL, NULL, &err) == 0);
    ck_assert(seqrt_predict(&lin, &d, w, 6, outs, &err) == 0);
    /* mse over 6 x 2: L = sum e^2 / 12, dL/dpred = 2 e / 12. */
    const seqrt_real *x = d.x[0].data, *y = d.y[0].data;
    double L = 0, dW[8] = {0}, db[2] = {0};
    for (int s = 0; s < 6; s++)
        for (int j = 0; j < 2; j++) {
            double e = pred[s * 2 + j] - y[s * 2 + j];
            L += e * e / 12;
            db[j] += 2 * e / 12;
            for (int i = 0; i < 4; i++) dW[i * 2 + j] += x[s * 4 + i] * 2 * e / 12;
        }
    seqrt_st_file f;
    ck_assert(seqrt_st_load(&f, tmp("g.safetensors"), &err) == 0);
    const seqrt_st_entry *k = seqrt_st_find(&f, "dense.kernel"), *b = seqrt_st_find(&f, "dense.bias"),
                         *l = seqrt_st_find(&f, "loss");
    ck_assert(k && b && l);
    ck_assert_int_le(l->ndim, 1);
    double tol = sizeof(seqrt_real) == 8 ? 1e-12 : 1e-5;
    ck_assert_double_eq_tol(l->data[0], L, tol);
    for (int i = 0; i < 8; i++) ck_assert_double_eq_tol(k->data[i], dW[i], tol);
    for (int j = 0; j < 2; j++) ck_assert_double_eq_tol(b->data[j], db[j], tol);
    seqrt_st_free(&f);
    seqrt_dataset_free(&d);
    result_free(&t);
    result_free(&g);
}
END_TEST

START_TEST(test_two_inputs_dynamic_axis)
{
    make_tok();
    Result r = run(&tok, "train --x tok=@tok.npy --x feat=@feat.npy --y @next.npy --epochs 2 "
                         "--save @t.safetensors");
    ck_ok(r);
    ck_assert_ptr_nonnull(strstr(r.out, " - accuracy: "));
    ck_assert_ptr_nonnull(strstr(r.out, "2/2 - "));   /* 6 samples in batches of 4 */
    /* Sparse labels as [N, T, 1], and float ids that are integral. */
    int32_t nx[TN * TT];
    seqrt_real tf[TN * TT];
    for (int i = 0; i < TN * TT; i++) {
        nx[i] = i % V;
        tf[i] = (seqrt_real)(i % V);
    }
    write_int("next1.npy", nx, 3, TN, TT, 1);
    write_real("tokf.npy", tf, 2, TN, TT, 0);
    Result q = run(&tok, "train --x tok=@tokf.npy --x feat=@feat.npy --y next=@next1.npy --quiet");
    ck_ok(q);
    Result p = run(&tok, "predict --weights @t.safetensors --x feat=@feat.npy --x tok=@tok.npy "
                         "--out @l.npy");
    ck_ok(p);
    seqrt_array a;
    seqrt_error err;
    ck_assert(seqrt_npy_read(&a, tmp("l.npy"), 0, &err) == 0);
    ck_assert_int_eq(a.ndim, 3);
    ck_assert(a.shape[0] == TN && a.shape[1] == TT && a.shape[2] == V);
    seqrt_array_free(&a);
    result_free(&r);
    result_free(&q);
    result_free(&p);
}
END_TEST

START_TEST(test_summary_and_help)
{
    Result s = run(&lin, "summary");
    ck_ok(s);
    /* the layers, then the memory plan: 10 parameters, Adam's two slots */
    ck_assert_ptr_nonnull(strstr(s.out, "Model: \"lin\"\n\nMemory of one training step at batch size 8"));
    char want[128];
    ck_assert_ptr_nonnull(strstr(s.out, "optimizer state (2 slots)"));
    ck_assert_ptr_nonnull(strstr(s.out, "total"));
    /* a model with a named axis: no plan without its length, then the
     * workspace line is the model's own workspace_size */
    Result d = run(&tok, "summary");
    ck_ok(d);
    ck_assert_ptr_nonnull(strstr(d.out, "(memory plan: give --dims T=LEN"));
    Result e = run(&tok, "summary --batch-size 3 --dims T=7");
    ck_ok(e);
    ck_assert_ptr_nonnull(strstr(e.out, "batch size 3, T=7"));
    const int64_t dims[] = {7};
    double ws = (double)tok.workspace_size(3, dims);
    snprintf(want, sizeof want, "%.1f %s", ws < 1024 ? ws : ws / 1024, ws < 1024 ? "B" : "KiB");
    const char *line = strstr(e.out, "workspace (activations kept for BPTT)");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_nonnull(strstr(line, want));
    Result bad = run(&tok, "summary --dims S=3");
    ck_assert_int_eq(bad.status, 2);
    ck_assert_ptr_nonnull(strstr(bad.err, "no axis named 'S'"));
    result_free(&d);
    result_free(&e);
    result_free(&bad);
    Result h = run(&tok, "train --help");
    ck_ok(h);
    ck_assert_ptr_nonnull(strstr(h.out, "usage: prog train ("));
    ck_assert_ptr_nonnull(strstr(h.out, "[N, T] int32 in [0, 5)"));
    ck_assert_ptr_nonnull(strstr(h.out, "[N, T, 2] " SEQRT_REAL_NAME));
    result_free(&s);
    result_free(&h);
}
END_TEST

START_TEST(test_dropout_keys_and_states)
{
    make_regression(16, "x.npy", "y.npy");
    /* 12 train in batches 8 + 4, then 4 validate: 3 forwards an epoch. */
    const char *cmd = "train --x @x.npy --y @y.npy --epochs 2 --validation-split 0.25 --quiet --save @%s";
    Result a = run(&probe, cmd, "a.safetensors");
    ck_ok(a);
    ck_assert_int_eq(resets, 1);   /* once, when the workspace is made */
    ck_assert_int_eq(n_keys, 6);
    int first[6];
    memcpy(first, keys, sizeof first);
    ck_assert(first[0] != 0 && first[1] != 0 && first[0] != first[1] && first[2] == 0);
    ck_assert(first[3] != 0 && first[4] != 0 && first[3] != first[0] && first[5] == 0);
    /* Resume after 2 epochs: epoch 3 draws the keys an unbroken run draws. */
    n_keys = 0;
    Result b = run(&probe, "train --x @x.npy --y @y.npy --epochs 1 --validation-split 0.25 --quiet "
                           "--load @a.safetensors --save @b.safetensors");
    ck_ok(b);
    ck_assert_int_eq(n_keys, 3);
    int resumed[3];
    memcpy(resumed, keys, sizeof resumed);
    n_keys = 0;
    Result c = run(&probe, "train --x @x.npy --y @y.npy --epochs 3 --validation-split 0.25 --quiet "
                           "--save @c.safetensors");
    ck_ok(c);
    ck_assert_int_eq(n_keys, 9);
    ck_assert_mem_eq(keys, first, sizeof first);
    ck_assert_mem_eq(keys + 6, resumed, sizeof resumed);
    ck_assert(same_bytes(tmp("b.safetensors"), tmp("c.safetensors")));
    /* gradcheck: every forward from fresh states with one fixed key. */
    n_keys = resets = 0;
    Result g = run(&probe, "gradcheck --quiet");
    ck_ok(g);
    ck_assert_int_eq(resets, 1 + 1 + 2 * 10);   /* open, backward's forward, 2 per element */
    for (int i = 0; i < n_keys; i++) ck_assert_int_eq(keys[i], keys[0]);
    ck_assert_int_ne(keys[0], 0);
    result_free(&a);
    result_free(&b);
    result_free(&c);
    result_free(&g);
}
END_TEST

START_TEST(test_output_mask_counts_valid_positions)
{
    make_regression(6, "x.npy", "y.npy");
    seqrt_dataset d = load_lin("x.npy", "y.npy");
    seqrt_real w[10], g[10], pred[12];
    seqrt_real *outs[] = {pred};
    seqrt_error err;
    ck_assert(seqrt_init_params(&probe, w, 3, &err) == 0);
    double loss;
    ck_assert(seqrt_grad(&probe, &d, w, g, &loss, &err) == 0);
    ck_assert(seqrt_predict(&lin, &d, w, 6, outs, &err) == 0);
    /* Samples 0, 2, 4 count: 3 positions x 2 values. */
    const seqrt_real *y = d.y[0].data;
    double L = 0, db[2] = {0};
    for (int s = 0; s < 6; s += 2)
        for (int j = 0; j < 2; j++) {
            double e = pred[s * 2 + j] - y[s * 2 + j];
            L += e * e / 6;
            db[j] += 2 * e / 6;
        }
    double tol = sizeof(seqrt_real) == 8 ? 1e-12 : 1e-5;
    ck_assert_double_eq_tol(loss, L, tol);
    ck_assert_double_eq_tol(g[8], db[0], tol);
    ck_assert_double_eq_tol(g[9], db[1], tol);
    seqrt_dataset_free(&d);
}
END_TEST

/* ---- NaN ---- */

START_TEST(test_nan_loss_keeps_last_good_epoch)
{
    make_regression(16, "x.npy", "y.npy");
    /* 2 steps an epoch: forward call 5 is epoch 3, step 1. */
    nan_after = 4;
    Result r = run(&lin_nan, "train --x @x.npy --y @y.npy --epochs 5 --save @w.safetensors --quiet");
    ck_run(r, 1, "error: loss is nan at epoch 3, step 1; weights of the last good epoch kept in ");
    Result two = run(&lin, "train --x @x.npy --y @y.npy --epochs 2 --save @two.safetensors --quiet");
    ck_ok(two);
    ck_assert(same_bytes(tmp("w.safetensors"), tmp("two.safetensors")));
    result_free(&r);
    result_free(&two);
}
END_TEST

START_TEST(test_nan_data_leaves_file)
{
    make_regression(16, "x.npy", "y.npy");
    Result a = run(&lin, "train --x @x.npy --y @y.npy --epochs 2 --save @w.safetensors --quiet");
    ck_ok(a);
    size_t n0, n1;
    char *before = read_all(tmp("w.safetensors"), &n0);
    seqrt_real x[16 * 4];
    seqrt_array xa;
    seqrt_error err;
    ck_assert(seqrt_npy_read(&xa, tmp("x.npy"), 0, &err) == 0);
    memcpy(x, xa.data, sizeof x);
    seqrt_array_free(&xa);
    x[37] = (seqrt_real)NAN;
    write_real("xnan.npy", x, 2, 16, 4, 0);
    Result b = run(&lin, "train --x @xnan.npy --y @y.npy --epochs 2 --load @w.safetensors "
                         "--save @w.safetensors --quiet");
    ck_run(b, 1, "loss is nan at epoch 3, step ");
    ck_assert_ptr_nonnull(strstr(b.err, "left as it was"));
    char *after = read_all(tmp("w.safetensors"), &n1);
    ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    result_free(&a);
    result_free(&b);
}
END_TEST

START_TEST(test_nan_gradient)
{
    make_regression(16, "x.npy", "y.npy");
    nan_after = 0;
    Result a = run(&badgrad, "train --x @x.npy --y @y.npy --quiet --check-numerics");
    ck_run(a, 1, "error: the gradient of 'dense.bias' is nan at epoch 1, step 1");
    /* Without the check, the NaN reaches the weights: caught before any save. */
    Result b = run(&badgrad, "train --x @x.npy --y @y.npy --quiet --batch-size 16 --save @w.safetensors");
    ck_run(b, 1, "error: weight 'dense.bias' is nan at epoch 1, step 1; nothing saved");
    ck_assert_int_eq(access(tmp("w.safetensors"), F_OK), -1);
    result_free(&a);
    result_free(&b);
}
END_TEST

/* ---- Hostile: bad input, one table row each ---- */

/* Files every row may use: good lin and tok data plus good weights. */
static void hostile_files(void)
{
    make_regression(16, "x.npy", "y.npy");
    make_tok();
    seqrt_real w[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, z[128] = {0};
    seqrt_error err;
    ck_assert(seqrt_checkpoint_save(tmp("w.safetensors"), &lin, w, NULL, 1, &err) == 0);
    write_real("x3.npy", z, 3, 16, 4, 1);
    write_real("x5.npy", z, 2, 12, 5, 0);
    write_real("y12.npy", z, 2, 12, 2, 0);
    write_real("x0.npy", z, 2, 0, 4, 0);
    write_real("y0.npy", z, 2, 0, 2, 0);
    seqrt_real half[TN * TT];
    int32_t big[TN * TT] = {0}, sixes[TN * TT] = {0};
    for (int i = 0; i < TN * TT; i++) half[i] = (seqrt_real)0.5;
    big[17] = 7;
    sixes[3] = V;
    write_real("tokhalf.npy", half, 2, TN, TT, 0);
    write_int("tokbig.npy", big, 2, TN, TT, 0);
    write_int("nextbig.npy", sixes, 2, TN, TT, 0);
    write_real("feat6.npy", z, 3, TN, 6, 2);
    write_int("tok4.npy", (int32_t[4 * TT]){0}, 2, 4, TT, 0);
    /* Weights: a missing tensor, a transposed kernel. */
    int64_t k24[] = {2, 4}, k42[] = {4, 2};
    seqrt_st_tensor only[] = {{"dense.kernel", w, 2, k42}};
    seqrt_st_tensor wrong[] = {{"dense.kernel", w, 2, k24}, {"dense.bias", w, 1, (int64_t[]){2}}};
    ck_assert(seqrt_st_save(tmp("missing.safetensors"), only, 1, NULL, 0, &err) == 0);
    ck_assert(seqrt_st_save(tmp("shape.safetensors"), wrong, 2, NULL, 0, &err) == 0);
    /* Truncated and tampered copies of good weights. */
    size_t n;
    char *good = read_all(tmp("w.safetensors"), &n);
    FILE *f = fopen(tmp("trunc.safetensors"), "wb");
    fwrite(good, 1, n - 5, f);
    fclose(f);
    good[n - 3] ^= 0x10;   /* a low mantissa bit of dense.bias[1]: still a fine number */
    f = fopen(tmp("tamper.safetensors"), "wb");
    fwrite(good, 1, n, f);
    fclose(f);
    free(good);
}

static const struct {
    int tok;            /* the tok model, else lin */
    const char *cmd;
    int status;
    const char *msg;
} bad[] = {
    {0, "train --x @x3.npy --y @y.npy", 1,
     "x3.npy: input 'x': expected shape [N, 4] (rank 2), got [16, 4, 1] (rank 3)"},
    {0, "train --x @x5.npy --y @y12.npy", 1, "x5.npy: input 'x': expected shape [N, 4], got [12, 5]"},
    {0, "train --x @x.npy --y @y12.npy", 1, "y12.npy: target 'y' has 12 samples, but "},
    {0, "train --x @x0.npy --y @y0.npy", 1, "x0.npy: no samples"},
    {0, "train --x @nothere.npy --y @y.npy", 1, "nothere.npy: cannot open"},
    {0, "train --x @y.npy --y @y.npy", 1, "y.npy: input 'x': expected shape [N, 4], got [16, 2]"},
    {1, "train --x tok=@tokhalf.npy --x feat=@feat.npy --y @next.npy", 1,
     "tokhalf.npy: element 0 (0.5) is not an int32 value (input 'tok' holds int32 values)"},
    {1, "train --x tok=@tokbig.npy --x feat=@feat.npy --y @next.npy", 1,
     "tokbig.npy: input 'tok': value 7 at element 17 is outside [0, 5)"},
    {1, "train --x tok=@tok.npy --x feat=@feat.npy --y @nextbig.npy", 1,
     "nextbig.npy: target 'next': value 5 at element 3 is outside [0, 5)"},
    {1, "train --x tok=@tok.npy --x feat=@feat6.npy --y @next.npy", 1,
     "feat6.npy: input 'feat': axis 1 (T) has length 6, but "},
    {1, "train --x tok=@tok4.npy --x feat=@feat.npy --y @next.npy", 1, "has 6 samples, but "},
    {1, "train --x @tok.npy --x feat=@feat.npy --y @next.npy", 2, "the model has 2 inputs (tok, feat)"},
    {1, "train --x tok=@tok.npy --y @next.npy", 2, "missing --x for input 'feat'"},
    {1, "train --x tok=@tok.npy --x tok=@tok.npy --y @next.npy", 2, "input 'tok' is given twice"},
    {0, "predict --weights @missing.safetensors --x @x.npy --out @p.npy", 1,
     "missing.safetensors: missing tensor 'dense.bias' (expected shape [2])"},
    {0, "predict --weights @shape.safetensors --x @x.npy --out @p.npy", 1,
     "shape.safetensors: tensor 'dense.kernel': expected shape [4, 2], got [2, 4]"},
    {0, "predict --weights @trunc.safetensors --x @x.npy --out @p.npy", 1, "trunc.safetensors: "},
    {0, "predict --weights @tamper.safetensors --x @x.npy --out @p.npy", 1,
     "tamper.safetensors: checksum mismatch"},
    {0, "train --x @x.npy --y @y.npy --load @tamper.safetensors", 1, "checksum mismatch"},
    {0, "predict --x @x.npy --out @p.npy", 1, "predict needs --weights"},
    {0, "train --x @x.npy --y @y.npy --bogus", 2, "unknown option '--bogus'"},
    {0, "train --x @x.npy --y @y.npy --epoch 3", 2, "unknown option '--epoch'; did you mean '--epochs'?"},
    {0, "fly", 2, "unknown command 'fly'"},
    {0, "trian", 2, "unknown command 'trian'; did you mean 'train'?"},
    {0, "", 2, "no command given"},
    {0, "train --x @x.npy", 2, "missing --y for target 'y'"},
    {0, "predict --weights @w.safetensors --x @x.npy --epochs 3 --out @p.npy", 2,
     "option '--epochs' is for train, not predict"},
    {0, "train --x @x.npy --y @y.npy --epochs many", 2, "--epochs: 'many' is not a whole number"},
    {0, "train --x @x.npy --y @y.npy --epochs 5x", 2, "--epochs: '5x' is not a whole number"},
    {0, "train --x @x.npy --y @y.npy --epochs=99999999999999999999", 2,
     "--epochs: 99999999999999999999 is out of range (0 to 1000000)"},
    {0, "train --x @x.npy --y @y.npy --batch-size 0", 2, "--batch-size: 0 is out of range (1 to 1000000)"},
    {0, "train --x @x.npy --y @y.npy --validation-split 1", 2,
     "--validation-split: 1 is out of range (at least 0 and below 1)"},
    {0, "train --x @x.npy --y @y.npy --lr nan", 2, "--lr: 'nan' is not a number"},
    {0, "train --x @x.npy --y @y.npy --seed -1", 2, "--seed: -1 is out of range"},
    {0, "gradcheck --samples 4611686018427387904", 2,
     "--samples: 4611686018427387904 is out of range (1 to 1000000)"},
    {0, "train --x @x.npy --y @y.npy --save", 2, "option '--save' needs a value"},
    {0, "train --x @x.npy --y @y.npy --quiet=yes", 2, "option '--quiet' takes no value"},
    {0, "grad --weights @w.safetensors --x @x.npy --y @y.npy", 2, "grad needs one --out"},
};

START_TEST(test_bad_input)
{
    hostile_files();
    Result r = run(bad[_i].tok ? &tok : &lin, "%s", bad[_i].cmd);
    ck_assert_msg(r.status == bad[_i].status, "'%s': status %d, want %d; stderr:\n%s", bad[_i].cmd,
                  r.status, bad[_i].status, r.err);
    ck_assert_msg(strstr(r.err, bad[_i].msg) != NULL, "'%s': stderr lacks '%s':\n%s", bad[_i].cmd,
                  bad[_i].msg, r.err);
    ck_assert_msg(strchr(r.err, '\n') && !strchr(r.err, '\n')[1], "an error is one line:\n%s", r.err);
    result_free(&r);
}
END_TEST

START_TEST(test_weights_without_checksum_load)
{
    /* Weights converted from elsewhere carry no checksum: accepted. */
    make_regression(4, "x.npy", "y.npy");
    seqrt_real w[10] = {0};
    int64_t k42[] = {4, 2}, b2[] = {2};
    seqrt_st_tensor t[] = {{"dense.kernel", w, 2, k42}, {"dense.bias", w + 8, 1, b2}};
    seqrt_error err;
    ck_assert(seqrt_st_save(tmp("plain.safetensors"), t, 2, NULL, 0, &err) == 0);
    Result r = run(&lin, "predict --weights @plain.safetensors --x @x.npy --out @p.npy");
    ck_ok(r);
    result_free(&r);
}
END_TEST

static Suite *make_train_suite(void)
{
    Suite *s = suite_create("runtime_train");
    TCase *core = test_tcase("Core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_train_reduces_loss);
    tcase_add_test(core, test_validation_split_and_partial_batch);
    tcase_add_test(core, test_same_seed_same_bytes);
    tcase_add_test(core, test_resume_is_exact);
    tcase_add_test(core, test_save_load_predict);
    tcase_add_test(core, test_cli_train_prints_epochs);
    tcase_add_test(core, test_gradcheck_passes);
    tcase_add_test(core, test_gradcheck_fails_on_wrong_backward);
    tcase_add_test(core, test_gradcheck_subset_is_seeded);
    tcase_add_test(core, test_gradcheck_kinks_apart);
    tcase_add_test(core, test_grad_command);
    tcase_add_test(core, test_two_inputs_dynamic_axis);
    tcase_add_test(core, test_summary_and_help);
    tcase_add_test(core, test_weights_without_checksum_load);
    tcase_add_test(core, test_dropout_keys_and_states);
    tcase_add_test(core, test_output_mask_counts_valid_positions);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(limits, test_nan_loss_keeps_last_good_epoch);
    tcase_add_test(limits, test_nan_data_leaves_file);
    tcase_add_test(limits, test_nan_gradient);
    suite_add_tcase(s, limits);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_checked_fixture(hostile, setup, teardown);
    tcase_add_loop_test(hostile, test_bad_input, 0, (int)(sizeof bad / sizeof *bad));
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_train_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
