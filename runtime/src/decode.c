/*
 * decode.c: greedy decoding for encoder-decoder models (the .seq file's
 * decode block). For each batch of samples, step k = 1..max_len runs the
 * model with the decoder's input holding the start token followed by the
 * argmax of the first k - 1 predictions, and keeps prediction k. A causal
 * decoder's first k outputs depend only on its first k inputs, so this is
 * exactly step-by-step decoding; it re-runs the encoder every step, which
 * costs O(max_len^2) steps of the model but needs nothing model-specific.
 */
#include <stdlib.h>

#include "internal.h"

typedef struct {
    const seqrt_model *m;
    int64_t batch, max_len, classes, tv;
    int di, dout, datt, dim;           /* decoder input/output, its time dim */
    void *xbuf[SEQRT_DECODE_MAX_IO];
    seqrt_real *obuf[SEQRT_DECODE_MAX_IO];
    int32_t *tokens;                   /* [batch, max_len] chosen ids */
    void *ws;
    size_t ws_size;
} Decoder;

static int64_t argmax(const seqrt_real *p, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

/* The decoder's input for k steps: start, then the tokens chosen so far. */
static void fill_decoder_input(Decoder *D, int64_t bs, int64_t k)
{
    const seqrt_io *io = &D->m->inputs[D->di];
    for (int64_t b = 0; b < bs; b++)
        for (int64_t t = 0; t < k; t++) {
            int32_t tok = t == 0 ? (int32_t)D->m->decode_start : D->tokens[b * D->max_len + t - 1];
            if (io->is_int) {
                ((int32_t *)D->xbuf[D->di])[b * k + t] = tok;
            } else {
                seqrt_real *row = (seqrt_real *)D->xbuf[D->di] + (b * k + t) * D->classes;
                memset(row, 0, sizeof(seqrt_real) * (size_t)D->classes);
                row[tok] = 1;
            }
        }
}

static int alloc_buffers(Decoder *D, const seqrt_dataset *d, int64_t *dims, seqrt_error *err)
{
    const seqrt_model *m = D->m;
    dims[D->dim] = D->max_len;
    for (int i = 0; i < m->n_inputs; i++) {
        const seqrt_io *io = &m->inputs[i];
        size_t el = io->is_int ? sizeof(int32_t) : sizeof(seqrt_real);
        int64_t row = i == D->di ? D->max_len * (io->is_int ? 1 : D->classes) : d->x_row[i];
        if (!(D->xbuf[i] = malloc((size_t)(D->batch * row) * el + 1)))
            return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for input '%s'", io->name);
    }
    for (int o = 0; o < m->n_outputs; o++) {
        int64_t row = seqrt_io_row(&m->outputs[o], dims);
        if (row < 0)
            return seqrt_errorf(err, SEQRT_EINVAL, "output '%s': no input gives the length of "
                                "its time axis", m->outputs[o].name);
        if (!(D->obuf[o] = malloc((size_t)(D->batch * row) * sizeof(seqrt_real) + 1)))
            return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for output '%s'", m->outputs[o].name);
    }
    D->tokens = malloc(sizeof(int32_t) * (size_t)(D->batch * D->max_len) + 1);
    if (!D->tokens)
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    return SEQRT_OK;
}

/* Run step k for a batch of bs samples; keep its prediction and weights. */
static int step(Decoder *D, int64_t bs, int64_t k, int64_t *dims, int64_t first,
                seqrt_real *probs, seqrt_real *attn, const seqrt_real *params, seqrt_error *err)
{
    const seqrt_model *m = D->m;
    dims[D->dim] = k;
    size_t need = m->workspace_size(bs, dims);
    if (need > D->ws_size) {
        free(D->ws);
        if (!(D->ws = malloc(need + 1)))
            return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for the workspace");
        D->ws_size = need;
    }
    fill_decoder_input(D, bs, k);
    if (m->reset_states)
        m->reset_states(D->ws, bs, dims);
    m->forward(D->obuf, params, (const void *const *)D->xbuf, bs, dims, D->ws, 0);
    for (int64_t b = 0; b < bs; b++) {
        const seqrt_real *p = D->obuf[D->dout] + (b * k + k - 1) * D->classes;
        memcpy(probs + ((first + b) * D->max_len + k - 1) * D->classes, p,
               sizeof(seqrt_real) * (size_t)D->classes);
        D->tokens[b * D->max_len + k - 1] = (int32_t)argmax(p, D->classes);
        if (attn)
            memcpy(attn + ((first + b) * D->max_len + k - 1) * D->tv,
                   D->obuf[D->datt] + (b * k + k - 1) * D->tv, sizeof(seqrt_real) * (size_t)D->tv);
    }
    return SEQRT_OK;
}

int64_t seqrt_decode_attention_width(const seqrt_model *m, const seqrt_dataset *d)
{
    if (m->decode_attention < 0)
        return 0;
    const seqrt_io *io = &m->outputs[m->decode_attention];
    return seqrt_io_dim(io, 1, d->dims);
}

int seqrt_decode(const seqrt_model *m, const seqrt_dataset *d, const seqrt_real *params,
                 int64_t max_len, int64_t batch, seqrt_real *probs, seqrt_real *attn,
                 seqrt_error *err)
{
    if (m->decode_input < 0)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s has no decode block", m->name);
    if (m->n_inputs > SEQRT_DECODE_MAX_IO || m->n_outputs > SEQRT_DECODE_MAX_IO)
        return seqrt_errorf(err, SEQRT_EINVAL, "decode handles up to %d inputs and outputs",
                            SEQRT_DECODE_MAX_IO);
    const seqrt_io *out = &m->outputs[m->decode_output];
    Decoder D = {.m = m, .batch = batch < d->n_samples ? batch : d->n_samples, .max_len = max_len,
                 .classes = out->shape[out->ndim - 1], .di = m->decode_input,
                 .dout = m->decode_output, .datt = m->decode_attention,
                 .dim = m->inputs[m->decode_input].dim_index[0],
                 .tv = seqrt_decode_attention_width(m, d)};
    int64_t *dims = malloc(sizeof(int64_t) * ((size_t)m->n_dims + 1));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(D.batch + 1));
    int rc = dims && idx ? SEQRT_OK : seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    if (!rc) {
        memcpy(dims, d->dims, sizeof(int64_t) * (size_t)m->n_dims);
        rc = alloc_buffers(&D, d, dims, err);
    }
    for (int64_t first = 0; !rc && first < d->n_samples; first += D.batch) {
        int64_t bs = d->n_samples - first < D.batch ? d->n_samples - first : D.batch;
        for (int64_t b = 0; b < bs; b++)
            idx[b] = first + b;
        seqrt_dataset_gather(d, idx, bs, D.xbuf, NULL);
        for (int64_t k = 1; !rc && k <= max_len; k++)
            rc = step(&D, bs, k, dims, first, probs, attn, params, err);
    }
    for (int i = 0; i < SEQRT_DECODE_MAX_IO; i++) {
        free(D.xbuf[i]);
        free(D.obuf[i]);
    }
    free(D.tokens);
    free(D.ws);
    free(dims);
    free(idx);
    return rc;
}
