/*
 * text.c: character-level language models from a text file (--text): the
 * vocabulary, the streams a stateful model trains on, and sampling.
 *
 * The runtime works on BYTES: the vocabulary is the sorted set of byte
 * values in the file, so any file is accepted (invalid UTF-8 included) and
 * a multi-byte UTF-8 character is several symbols, generated one byte at a
 * time. The vocabulary is saved with the weights (data.vocab, hex).
 *
 * Streams, as Keras's stateful examples cut a text: the training part is
 * split into B contiguous streams (B = the batch size); batch k holds, in
 * row b, characters [b L + k K, b L + (k + 1) K) of stream b and the same
 * shifted by one as targets (K = --bptt, L = stream length), so row b of
 * batch k + 1 continues row b of batch k and a stateful layer carries its
 * state across (truncated backpropagation through time every K steps).
 * The last fraction of the text is cut the same way for validation.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

#define STREAM_SAMPLE UINT64_C(0x73616d7000000000)   /* "samp" */

int seqrt_text_read(const char *path, unsigned char **bytes, int64_t *n, seqrt_error *err)
{
    size_t len = 0;
    int rc = seqrt_read_whole(path, (char **)bytes, &len, err);
    *n = (int64_t)len;
    return rc;
}

static void vocab_from(seqrt_text *t, const unsigned char *seen)
{
    t->n_vocab = 0;
    for (int c = 0; c < 256; c++) {
        t->id[c] = seen[c] ? t->n_vocab : -1;
        if (seen[c]) t->vocab[t->n_vocab++] = (unsigned char)c;
    }
}

/* The classes of the scored output ([T, C]). */
static int64_t classes(const seqrt_model *m)
{
    const seqrt_io *o = &m->outputs[m->losses[0].output];
    return o->shape[o->ndim - 1];
}

/* One int input [T], one int target [T], and room for the vocabulary of
 * `where` (the text or the weights file it came from). */
static int check_model(const seqrt_text *t, const seqrt_model *m, int64_t bptt, const char *where,
                       seqrt_error *err)
{
    const seqrt_io *x = &m->inputs[0];
    if (m->n_inputs != 1 || !x->is_int || x->ndim != 1 || m->n_losses < 1 ||
        m->losses[0].kind != SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY || m->outputs[m->losses[0].output].ndim != 2)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: --text needs one int input [T] and a target "
                            "int[T] scored by sparse_categorical_crossentropy on an output [T, C]", m->name);
    if (x->shape[0] > 0 && bptt > 0 && x->shape[0] != bptt)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: input '%s' has %lld steps, not --bptt %lld",
                            m->name, x->name, (long long)x->shape[0], (long long)bptt);
    int64_t limit = x->int_limit > 0 && x->int_limit < classes(m) ? x->int_limit : classes(m);
    if (t->n_vocab > limit)
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: the vocabulary has %d distinct bytes, but model %s "
                            "takes %lld symbols (make its Embedding and output at least %d wide)",
                            where, t->n_vocab, m->name, (long long)limit, t->n_vocab);
    return SEQRT_OK;
}

/* Entropy of the byte distribution, bits per character. */
static double unigram_bits(const unsigned char *s, int64_t n)
{
    double count[256] = {0}, h = 0;
    for (int64_t i = 0; i < n; i++) count[s[i]]++;
    for (int c = 0; c < 256; c++)
        if (count[c] > 0) h -= count[c] / (double)n * log2(count[c] / (double)n);
    return h;
}

/* Rows of `streams` streams of base[0..n) cut in K-step pieces; returns
 * the number of batches, filling x and y from sample row0 on. */
static int64_t cut(const seqrt_text *t, const unsigned char *base, int64_t n, int64_t B, int64_t K,
                   int32_t *x, int32_t *y)
{
    int64_t L = (n - 1) / B, batches = L / K;
    for (int64_t k = 0; x && k < batches; k++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < K; j++) {
                int64_t at = b * L + k * K + j, row = (k * B + b) * K + j;
                x[row] = t->id[base[at]];
                y[row] = t->id[base[at + 1]];
            }
    return batches;
}

int seqrt_text_dataset(seqrt_dataset *d, seqrt_text *t, const seqrt_model *m, const unsigned char *s,
                       int64_t n, int64_t streams, int64_t bptt, double val_split, const char *label,
                       seqrt_error *err)
{
    unsigned char seen[256] = {0};
    memset(t, 0, sizeof *t);
    for (int64_t i = 0; i < n; i++) seen[s[i]] = 1;
    vocab_from(t, seen);
    if (bptt < 1 && m->inputs[0].ndim == 1 && m->inputs[0].shape[0] > 0) bptt = m->inputs[0].shape[0];
    int rc = check_model(t, m, bptt, label, err);
    if (rc) return rc;
    t->streams = streams;
    t->bptt = bptt;
    t->n_val_chars = (int64_t)((double)n * val_split);
    t->n_train_chars = n - t->n_val_chars;
    t->unigram_bits = unigram_bits(s, t->n_train_chars);
    int64_t kt = cut(t, s, t->n_train_chars, streams, bptt, NULL, NULL);
    int64_t kv = val_split > 0 ? cut(t, s + t->n_train_chars, t->n_val_chars, streams, bptt, NULL, NULL) : 0;
    if (kt < 1 || (val_split > 0 && kv < 1))
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: %lld training and %lld validation bytes are too few "
                            "for %lld streams of at least %lld + 1 bytes each (lower --batch-size or --bptt)",
                            label, (long long)t->n_train_chars, (long long)t->n_val_chars,
                            (long long)streams, (long long)bptt);
    t->n_val_samples = kv * streams;
    int64_t N = (kt + kv) * streams;
    seqrt_array x[1], y[1];
    memset(x, 0, sizeof x);
    memset(y, 0, sizeof y);
    x[0] = (seqrt_array){2, {N, bptt}, N * bptt, 1, malloc((size_t)(N * bptt) * 4 + 1)};
    y[0] = (seqrt_array){2, {N, bptt}, N * bptt, 1, malloc((size_t)(N * bptt) * 4 + 1)};
    if (!x[0].data || !y[0].data) {
        free(x[0].data);
        free(y[0].data);
        return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", label);
    }
    int32_t *xi = x[0].data, *yi = y[0].data;
    cut(t, s, t->n_train_chars, streams, bptt, xi, yi);
    if (kv) cut(t, s + t->n_train_chars, t->n_val_chars, streams, bptt, xi + kt * streams * bptt,
                yi + kt * streams * bptt);
    return seqrt_dataset_from_arrays(d, m, x, y, label, err);
}

void seqrt_text_meta(const seqrt_text *t, char vals[SEQRT_TEXT_META][520], const char **meta)
{
    static const char *const keys[SEQRT_TEXT_META] = {"data.kind", "data.vocab", "data.bptt", "data.streams"};
    snprintf(vals[0], 520, "text");
    for (int i = 0; i < t->n_vocab; i++) snprintf(vals[1] + 2 * i, 3, "%02x", t->vocab[i]);
    vals[1][2 * t->n_vocab] = '\0';
    snprintf(vals[2], 520, "%lld", (long long)t->bptt);
    snprintf(vals[3], 520, "%lld", (long long)t->streams);
    for (int i = 0; i < SEQRT_TEXT_META; i++) {
        meta[2 * i] = keys[i];
        meta[2 * i + 1] = vals[i];
    }
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int seqrt_text_load(seqrt_text *t, const seqrt_model *m, const char *path, seqrt_error *err)
{
    seqrt_st_file f;
    memset(t, 0, sizeof *t);
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    const char *kind = seqrt_st_meta(&f, "data.kind"), *hex = seqrt_st_meta(&f, "data.vocab");
    const char *bptt = seqrt_st_meta(&f, "data.bptt");
    unsigned char seen[256] = {0};
    int last = -1;
    if (!kind || strcmp(kind, "text") || !hex || !bptt || strlen(hex) % 2 || !*hex)
        rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: no vocabulary in the metadata (train with --text FILE)", path);
    for (size_t i = 0; !rc && hex[i]; i += 2) {
        int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]), c = hi * 16 + lo;
        if (hi < 0 || lo < 0 || c <= last)
            rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: data.vocab: byte %zu is not part of increasing "
                              "two-digit lower-case hex byte values", path, i);
        else seen[last = c] = 1;
    }
    if (!rc) {
        char *end;
        errno = 0;
        long long k = strtoll(bptt, &end, 10);
        if (errno || *end || end == bptt || k < 1 || k > 1000000000)
            rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: data.bptt must be a whole number of steps from 1 "
                              "to 1e9", path);
        t->bptt = k;
    }
    if (!rc) {
        vocab_from(t, seen);
        rc = check_model(t, m, 0, path, err);
    }
    seqrt_st_free(&f);
    return rc;
}

/* Sample an id from the model's scores for the last step. */
static int sample(const seqrt_real *row, int n, int is_logits, double temperature, int64_t top_k,
                  seqrt_rng *rng)
{
    double z[256], mx = -INFINITY, sum = 0;
    int best = 0;
    for (int i = 0; i < n; i++) {
        z[i] = is_logits ? (double)row[i] : log(fmax((double)row[i], 1e-30));
        if (z[i] > z[best]) best = i;
    }
    if (temperature <= 0) return best;
    if (top_k > 0 && top_k < n) {
        double keep[256];
        memcpy(keep, z, (size_t)n * sizeof *z);
        for (int64_t k = 0; k < top_k; k++) {   /* the k-th largest as the floor */
            int at = 0;
            for (int i = 1; i < n; i++) at = keep[i] > keep[at] ? i : at;
            mx = keep[at];
            keep[at] = -INFINITY;
        }
        for (int i = 0; i < n; i++) z[i] = z[i] >= mx ? z[i] : -INFINITY;
    }
    mx = z[best];
    for (int i = 0; i < n; i++) sum += z[i] > -INFINITY ? exp((z[i] - mx) / temperature) : 0;
    double u = seqrt_rng_double(rng) * sum;
    for (int i = 0; i < n; i++) {
        double p = z[i] > -INFINITY ? exp((z[i] - mx) / temperature) : 0;
        if (u < p && p > 0) return i;
        u -= p;
    }
    return best;
}

typedef struct {
    const seqrt_model *m;
    const seqrt_real *w;
    int64_t dims[8];
    void *ws;
    int32_t *ctx;              /* the ids fed (all of them, or a window) */
    seqrt_real *outs[SEQRT_DECODE_MAX_IO];
} Gen;

/* The model's scores after the context ctx[0..T) (stateful: one new id at
 * a time, T = 1, the state carrying the rest). */
static const seqrt_real *gen_step(Gen *g, int64_t T, int64_t C)
{
    for (int j = 0; j < g->m->n_dims && j < 8; j++) g->dims[j] = T;
    const void *in[1] = {g->ctx};
    g->m->forward(g->outs, g->w, in, 1, g->dims, g->ws, 0);
    return g->outs[g->m->losses[0].output] + (T - 1) * C;
}

int seqrt_text_generate(const seqrt_model *m, const seqrt_real *w, const seqrt_text *t,
                        const unsigned char *prime, int64_t n_prime, int64_t length, double temperature,
                        int64_t top_k, uint64_t seed, unsigned char *out, seqrt_error *err)
{
    int stateful = m->reset_states != NULL;
    int64_t C = classes(m), T = stateful ? 1 : t->bptt, total = n_prime + length;
    for (int64_t i = 0; i < n_prime; i++)
        if (t->id[prime[i]] < 0)
            return seqrt_errorf(err, SEQRT_EINVAL, "--prime: byte 0x%02x ('%c') at %lld is not in the "
                                "training text's vocabulary", prime[i], prime[i] >= 32 && prime[i] < 127 ? prime[i] : '?',
                                (long long)i);
    if (n_prime < 1) return seqrt_errorf(err, SEQRT_EINVAL, "--prime must not be empty");
    int64_t shortest[8] = {1, 1, 1, 1, 1, 1, 1, 1}; /* contexts grow from one step */
    int rc0 = seqrt_check_dims(m, shortest, err);
    if (rc0) return rc0;
    Gen g = {m, w, {0}, NULL, NULL, {0}};
    for (int j = 0; j < 8; j++) g.dims[j] = T;
    g.ws = calloc(m->workspace_size(1, g.dims) + 64, 1);
    g.ctx = malloc((size_t)total * sizeof *g.ctx + 4);
    int rc = g.ws && g.ctx ? SEQRT_OK : SEQRT_ENOMEM;
    for (int o = 0; !rc && o < m->n_outputs && o < SEQRT_DECODE_MAX_IO; o++) {
        int64_t row = seqrt_io_row(&m->outputs[o], g.dims);
        if (!(g.outs[o] = malloc((size_t)(row > 0 ? row : 1) * sizeof(seqrt_real) + 8))) rc = SEQRT_ENOMEM;
    }
    if (rc) rc = seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for generation");
    seqrt_rng rng;
    seqrt_rng_seed_stream(&rng, seed, STREAM_SAMPLE);
    if (!rc && stateful) m->reset_states(g.ws, 1, g.dims);
    int is_logits = m->losses[0].from_logits;
    const seqrt_real *scores = NULL;
    for (int64_t i = 0; !rc && i < total; i++) {
        if (i >= n_prime) {
            int id = sample(scores, t->n_vocab < C ? t->n_vocab : (int)C, is_logits, temperature, top_k, &rng);
            out[i - n_prime] = t->vocab[id];
            g.ctx[i] = id;
        } else {
            g.ctx[i] = t->id[prime[i]];
        }
        if (i + 1 == total) break;
        int64_t len = i + 1 < T ? i + 1 : T;
        if (stateful) {
            Gen one = g;
            one.ctx = g.ctx + i;
            scores = gen_step(&one, 1, C);
        } else {
            Gen win = g;
            win.ctx = g.ctx + i + 1 - len;
            scores = gen_step(&win, len, C);
        }
    }
    for (int o = 0; o < SEQRT_DECODE_MAX_IO; o++) free(g.outs[o]);
    free(g.ws);
    free(g.ctx);
    return rc;
}
