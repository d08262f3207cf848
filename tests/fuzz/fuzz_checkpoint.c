/*
 * fuzz_checkpoint.c: the resume path on checkpoints that are valid except
 * where the input says otherwise. Once per process a small model (Dense
 * 4 -> 2, Adam) trains and is interrupted mid-epoch, which writes a real
 * resumable checkpoint; every input then edits it as a list of operations
 * (a metadata value set to a hostile number or to raw bytes, a key
 * duplicated, dropped or made long, up to 2^20 keys added, a tensor's shape
 * or offsets replaced), rebuilds the file with checksum.meta recomputed
 * (unless the input keeps the stale one), and runs what `train --resume`
 * runs: seqrt_train_resume_options, then seqrt_train from the file (its
 * total capped at 3 epochs, as --epochs 3 would), and seqrt_checkpoint_load.
 * Every refusal must be a message (naming the file where the reader
 * refuses); nothing may crash, hang or read outside the file.
 */
#include <string.h>

#include "fuzz_util.h"
#include "seqrt_train.h"
#include "st_build.h"

/* ---- the model: pred = x W + b ---- */
static size_t lin_ws(int64_t B, const int64_t *dims)
{
    (void)dims;
    return (size_t)B * sizeof(seqrt_real);
}

static void lin_forward(seqrt_real *const *out, const seqrt_real *w, const void *const *in, int64_t B,
                        const int64_t *dims, void *ws, int training)
{
    (void)dims, (void)ws, (void)training;
    const seqrt_real *x = in[0];
    for (int64_t n = 0; n < B; n++)
        for (int j = 0; j < 2; j++) {
            seqrt_real s = w[8 + j];
            for (int i = 0; i < 4; i++) s += x[n * 4 + i] * w[i * 2 + j];
            out[0][n * 2 + j] = s;
        }
}

static void lin_backward(seqrt_real *g, const seqrt_real *const *dout, const seqrt_real *w,
                         const void *const *in, int64_t B, const int64_t *dims, void *ws)
{
    (void)w, (void)dims, (void)ws;
    const seqrt_real *x = in[0], *dy = dout[0];
    for (int64_t n = 0; n < B; n++)
        for (int j = 0; j < 2; j++) {
            for (int i = 0; i < 4; i++) g[i * 2 + j] += x[n * 4 + i] * dy[n * 2 + j];
            g[8 + j] += dy[n * 2 + j];
        }
}

static const seqrt_param lin_params[] = {
    {"dense.kernel", 2, {4, 2}, 0, 8, SEQRT_INIT_GLOROT_UNIFORM, 4, 2},
    {"dense.bias", 1, {2}, 8, 2, SEQRT_INIT_ZEROS, 0, 0},
};
static const seqrt_io lin_x[] = {{"x", 0, 1, {4}, {-1}, 0, {0}, {0}, {0}}};
static const seqrt_io lin_y[] = {{"y", 0, 1, {2}, {-1}, 0, {0}, {0}, {0}}};
static const seqrt_loss_spec lin_loss[] = {{0, 0, SEQRT_LOSS_MSE, 0, 0, 1.0, 0}};
static const seqrt_model lin = {
    .name = "fuzz", .source = "fuzz_checkpoint.c", .n_params = 2, .params = lin_params,
    .param_count = 10, .n_inputs = 1, .inputs = lin_x, .n_targets = 1, .targets = lin_y,
    .n_outputs = 1, .outputs = lin_y, .n_losses = 1, .losses = lin_loss,
    .optim = {SEQRT_OPT_ADAM, 0.05, 0.9, 0.999, 1e-7, 0, 0.9, 0, 0.1, 0, 0, 0, 0, 0, 0},
    .batch_size = 4, .epochs = 3, .metrics = SEQRT_METRIC_MAE, .workspace_size = lin_ws,
    .forward = lin_forward, .backward = lin_backward};

/* ---- the checkpoint every input starts from ---- */
enum { MAX_T = 16 };
static struct {
    seqrt_dataset d;
    int n_meta;
    char **meta;               /* the file's pairs, checksum.meta included */
    int n;
    char *name[MAX_T];
    char shape[MAX_T][96];     /* "[4,2]" */
    int64_t bytes[MAX_T];
    unsigned char *data;
    size_t data_len;
} tpl;

static volatile sig_atomic_t stop;

static void on_step(const seqrt_epoch_log *log, void *ctx)
{
    (void)ctx;
    if (log->epoch == 2 && log->step == 1) stop = 1;   /* mid-epoch: train.step = 1 */
}

static void die(const char *what, const seqrt_error *err)
{
    fprintf(stderr, "fuzz_checkpoint setup: %s: %s\n", what, err->msg);
    abort();
}

static void make_template(void)
{
    seqrt_error err = {0};
    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/fuzz-ckpt-%d.safetensors", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    if (seqrt_dataset_random(&tpl.d, &lin, 16, 1, 1, 7, &err)) die("data", &err);
    seqrt_real w[10];
    seqrt_train_options o = seqrt_train_defaults(&lin);
    o.validation_split = 0.25;
    o.checkpoint_path = path;
    o.on_step = on_step;
    o.interrupt = &stop;
    if (seqrt_train(&lin, &tpl.d, &o, w, &err) != SEQRT_EINTERRUPTED) die("train", &err);

    seqrt_st_file f;
    if (seqrt_st_load(&f, path, &err)) die("load", &err);
    FILE *in = fopen(path, "rb");
    unsigned char len8[8];
    if (!in || fread(len8, 1, 8, in) != 8) abort();
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)len8[i] << (8 * i);
    fseek(in, 0, SEEK_END);
    tpl.data_len = (size_t)ftell(in) - 8 - hl;
    tpl.data = malloc(tpl.data_len + 1);
    fseek(in, (long)(8 + hl), SEEK_SET);
    if (!tpl.data || fread(tpl.data, 1, tpl.data_len, in) != tpl.data_len) abort();
    fclose(in);
    remove(path);
    tpl.n_meta = f.n_meta;
    tpl.meta = f.meta;
    f.meta = NULL;
    f.n_meta = 0;
    if (f.n > MAX_T) abort();
    tpl.n = f.n;
    for (int i = 0; i < f.n; i++) {   /* entries are in offset order, contiguous */
        const seqrt_st_entry *e = &f.entries[i];
        tpl.name[i] = strdup(e->name);
        size_t k = (size_t)snprintf(tpl.shape[i], sizeof tpl.shape[i], "[");
        for (int d = 0; d < e->ndim; d++)
            k += (size_t)snprintf(tpl.shape[i] + k, sizeof tpl.shape[i] - k, "%s%lld", d ? "," : "",
                                  (long long)e->shape[d]);
        snprintf(tpl.shape[i] + k, sizeof tpl.shape[i] - k, "]");
        tpl.bytes[i] = e->count * 4;
    }
    seqrt_st_free(&f);
}

/* ---- one input's edits ---- */
typedef struct {
    int n, cap;
    const char **kv;           /* k0, v0, ... (not owned) */
    char **owned;              /* strings made for this input */
    int n_owned;
} Meta;

static void meta_push(Meta *m, const char *k, const char *v)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->kv = realloc(m->kv, (size_t)m->cap * 2 * sizeof *m->kv);
        if (!m->kv) abort();
    }
    m->kv[2 * m->n] = k;
    m->kv[2 * m->n + 1] = v;
    m->n++;
}

static const char *own(Meta *m, char *s)
{
    m->owned = realloc(m->owned, (size_t)(m->n_owned + 1) * sizeof *m->owned);
    if (!m->owned || !s) abort();
    return m->owned[m->n_owned++] = s;
}

static const char *meta_value(fz_in *in, Meta *m)
{
    if (fz_byte(in) % 4) return fz_number(in);
    char raw[64];
    return own(m, strdup(fz_raw(in, raw, sizeof raw)));
}

/* n keys "k0".."k(n-1)" whose values are all "1": the quadratic
 * duplicate search of old took minutes at 2^20. */
static void many_keys(Meta *m, long n)
{
    char *block = malloc((size_t)n * 12);
    if (!block) abort();
    own(m, block);
    for (long i = 0; i < n; i++) {
        snprintf(block + i * 12, 12, "k%ld", i);
        meta_push(m, block + i * 12, "1");
    }
}

typedef struct {
    char shape[MAX_T][160];
    char offsets[MAX_T][160];
    int stale, bad_len;
} Edits;

static void apply(fz_in *in, Meta *m, Edits *e)
{
    char tmp[160];
    while (fz_more(in)) {
        unsigned op = fz_byte(in) % 8;
        int k = m->n ? (int)(fz_byte(in) % (unsigned)m->n) : 0;
        int t = (int)(fz_byte(in) % (unsigned)tpl.n);
        switch (op) {
        case 0: case 1:                    /* a value: the common case */
            if (m->n) m->kv[2 * k + 1] = meta_value(in, m);
            break;
        case 2:                            /* the same key again */
            if (m->n) meta_push(m, m->kv[2 * k], meta_value(in, m));
            break;
        case 3:                            /* a key dropped */
            if (m->n) {
                memmove(m->kv + 2 * k, m->kv + 2 * k + 2, (size_t)(m->n - k - 1) * 2 * sizeof *m->kv);
                m->n--;
            }
            break;
        case 4: {                          /* a long key, up to 64 KiB */
            size_t len = (size_t)fz_byte(in) << 8 | fz_byte(in);
            char *s = malloc(len + 1);
            if (!s) abort();
            memset(s, 'a' + (int)(len % 26), len);
            s[len] = '\0';
            meta_push(m, own(m, s), meta_value(in, m));
            break;
        }
        case 5: {                          /* many keys; 2^20 only when asked twice */
            unsigned p = fz_byte(in) % 21;
            if (p > 12 && fz_byte(in) != 0xff) p = 12;
            many_keys(m, 1L << p);
            break;
        }
        case 6:                            /* a tensor's shape */
            snprintf(tmp, sizeof tmp, "[%s,%s]", fz_number(in), fz_number(in));
            snprintf(e->shape[t], sizeof e->shape[t], "%s", fz_byte(in) % 2 ? tmp : "[]");
            break;
        default:                           /* offsets, checksum, header length */
            snprintf(e->offsets[t], sizeof e->offsets[t], "[%s,%s]", fz_number(in), fz_number(in));
            e->stale |= fz_byte(in) == 0xff;
            e->bad_len |= fz_byte(in) == 0xff;
            break;
        }
    }
}

static void header(fz_buf *h, const Meta *m, const Edits *e)
{
    fz_adds(h, "{\"__metadata__\":{");
    for (int i = 0; i < m->n; i++) {
        if (i) fz_adds(h, ",");
        fz_json_string(h, m->kv[2 * i]);
        fz_adds(h, ":");
        fz_json_string(h, m->kv[2 * i + 1]);
    }
    fz_adds(h, "}");
    int64_t at = 0;
    for (int i = 0; i < tpl.n; i++) {
        char off[96];
        snprintf(off, sizeof off, "[%lld,%lld]", (long long)at, (long long)(at + tpl.bytes[i]));
        at += tpl.bytes[i];
        fz_adds(h, ",");
        fz_json_string(h, tpl.name[i]);
        fz_adds(h, ":{\"dtype\":\"F32\",\"shape\":");
        fz_adds(h, e->shape[i][0] ? e->shape[i] : tpl.shape[i]);
        fz_adds(h, ",\"data_offsets\":");
        fz_adds(h, e->offsets[i][0] ? e->offsets[i] : off);
        fz_adds(h, "}");
    }
    fz_adds(h, "}");
}

/* checkpoint.c's hash over every pair but checksum.meta, appended last. */
static void seal(Meta *m, int stale)
{
    const char *old = NULL;
    int w = 0;
    for (int i = 0; i < m->n; i++) {
        if (strcmp(m->kv[2 * i], "checksum.meta") == 0) {
            old = m->kv[2 * i + 1];
            continue;
        }
        m->kv[2 * w] = m->kv[2 * i], m->kv[2 * w + 1] = m->kv[2 * i + 1], w++;
    }
    m->n = w;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (int i = 0; i < m->n; i++) {
        h = fz_fnv1a(h, m->kv[2 * i], strlen(m->kv[2 * i]) + 1);
        h = fz_fnv1a(h, m->kv[2 * i + 1], strlen(m->kv[2 * i + 1]) + 1);
    }
    char *sum = malloc(32);
    snprintf(sum, 32, "fnv1a64:%016llx", (unsigned long long)h);
    const char *fresh = own(m, sum);
    meta_push(m, "checksum.meta", stale && old ? old : fresh);
}

/* untouched: the input edited nothing, so every step must succeed. */
static void resume(const char *path, int untouched)
{
    seqrt_error err = {0};
    seqrt_train_options o = seqrt_train_defaults(&lin);
    int rc = seqrt_train_resume_options(&o, path, &err);
    FUZZ_CHECK_MSG(rc, err, path);
    if (rc != 0 && untouched) fprintf(stderr, "the unedited checkpoint: %s\n", err.msg), abort();
    if (rc == 0) {
        seqrt_real w[10];
        if (o.epochs > 3) o.epochs = 3;    /* --epochs 3 */
        o.checkpoint_every = 0;
        o.checkpoint_path = NULL;
        memset(&err, 0, sizeof err);
        rc = seqrt_train(&lin, &tpl.d, &o, w, &err);
        if (rc != 0 && (err.msg[0] == '\0' || untouched)) {
            fprintf(stderr, "train --resume failed (%d): '%s'\n", rc, err.msg);
            abort();
        }
    }
    seqrt_real w[10];
    seqrt_optim opt;
    seqrt_checkpoint_info info;
    memset(&err, 0, sizeof err);
    if (seqrt_optim_init(&opt, &lin.optim, lin.param_count, &err) != 0) abort();
    rc = seqrt_checkpoint_load(path, &lin, w, &opt, &info, &err);
    FUZZ_CHECK_MSG(rc, err, path);
    if (rc != 0 && untouched) fprintf(stderr, "the unedited checkpoint: %s\n", err.msg), abort();
    seqrt_optim_free(&opt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tpl.meta) make_template();
    Meta m = {0};
    Edits *e = calloc(1, sizeof *e);
    if (!e) abort();
    for (int i = 0; i < tpl.n_meta; i++) meta_push(&m, tpl.meta[2 * i], tpl.meta[2 * i + 1]);
    fz_in in = {data, size, 0};
    apply(&in, &m, e);
    seal(&m, e->stale);
    fz_buf h = {0}, file = {0};
    header(&h, &m, e);
    fz_st_file(&file, &h, e->bad_len ? (uint64_t)h.n + 1 : UINT64_MAX, tpl.data, tpl.data_len);
    resume(fuzz_file((const uint8_t *)file.s, file.n), size == 0);
    free(h.s);
    free(file.s);
    for (int i = 0; i < m.n_owned; i++) free(m.owned[i]);
    free(m.owned);
    free(m.kv);
    free(e);
    return 0;
}
