/*
 * cli_infer.c: the commands that use trained weights: predict (arrays or a
 * CSV series), decode, forecast and generate.
 */
#include <stdlib.h>

#include "cli_internal.h"

/* predict's --out: one bare path for one output, else NAME=PATH each. */
static int write_outputs(Cli *c, const seqrt_dataset *d, seqrt_real *const *outs,
                         const char *const *paths, seqrt_error *err)
{
    const seqrt_model *m = c->m;
    for (int i = 0; i < m->n_outputs; i++) {
        if (!paths[i]) continue;
        const seqrt_io *io = &m->outputs[i];
        int64_t shape[4] = {d->n_samples};
        for (int k = 0; k < io->ndim; k++)
            shape[k + 1] = seqrt_io_dim(io, k, d->dims);
        int rc = seqrt_npy_write(paths[i], outs[i], io->ndim + 1, shape, err);
        if (rc) return rc;
    }
    return SEQRT_OK;
}

/* predict --csv: every window's forecast of the next K values, in the
 * series' units, as [windows, K]. */
static int predict_series(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    if (!o->given[OPT_COLUMN] || !o->value[OPT_OUT] || !o->value[OPT_WEIGHTS])
        return seqrt_cli_bad_usage(m, c->prog, "predict --csv needs --column NAME, --weights W and --out OUT.npy");
    seqrt_error err = {0};
    seqrt_series s;
    seqrt_dataset d;
    double *v = NULL, *pred = NULL;
    int64_t n = 0;
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1), *out = NULL;
    int rc = w ? seqrt_series_load(&s, m, o->value[OPT_WEIGHTS], &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_checkpoint_load(o->value[OPT_WEIGHTS], m, w, NULL, NULL, &err);
    if (!rc) rc = seqrt_csv_column(o->value[OPT_CSV], o->value[OPT_COLUMN], &v, &n, &err);
    if (!rc) rc = seqrt_series_dataset(&d, &s, m, v, n, 0, 0, 0, o->value[OPT_CSV], &err);
    if (!rc) {
        pred = malloc((size_t)(s.n_windows * s.horizon) * sizeof *pred + 1);
        out = malloc((size_t)(s.n_windows * s.horizon) * sizeof *out + 1);
        rc = pred && out ? seqrt_series_predict(m, &d, &s, w, pred, &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
        for (int64_t i = 0; !rc && i < s.n_windows * s.horizon; i++) out[i] = (seqrt_real)pred[i];
        int64_t shape[2] = {s.n_windows, s.horizon};
        if (!rc) rc = seqrt_npy_write(o->value[OPT_OUT], out, 2, shape, &err);
        seqrt_dataset_free(&d);
    }
    free(v);
    free(w);
    free(pred);
    free(out);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}

/* forecast: --steps values after the end of the series, each round's
 * forecast appended to the window for the next. */
int seqrt_cli_forecast(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    int64_t steps, n = 0;
    int rc = seqrt_cli_i64(o, OPT_STEPS, 0, &steps, m, c->prog);
    if (!rc && (!o->given[OPT_STEPS] || !o->value[OPT_WEIGHTS] || !o->value[OPT_CSV] || !o->given[OPT_COLUMN]))
        rc = seqrt_cli_bad_usage(m, c->prog, "forecast needs --weights W --csv FILE --column NAME --steps N");
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_series s;
    double *v = NULL, *out = malloc((size_t)steps * sizeof *out + 1);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    rc = w && out ? seqrt_series_load(&s, m, o->value[OPT_WEIGHTS], &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_checkpoint_load(o->value[OPT_WEIGHTS], m, w, NULL, NULL, &err);
    if (!rc) rc = seqrt_csv_column(o->value[OPT_CSV], o->value[OPT_COLUMN], &v, &n, &err);
    if (!rc) rc = seqrt_series_forecast(m, &s, w, v, n, steps, out, &err);
    if (!rc) {
        seqrt_strbuf b = {0};
        seqrt_strbuf_printf(&b, "step,%s\n", o->value[OPT_COLUMN]);
        for (int64_t i = 0; i < steps; i++) seqrt_strbuf_printf(&b, "%lld,%.6g\n", (long long)i + 1, out[i]);
        if (b.failed) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
        if (!rc && o->value[OPT_OUT]) rc = seqrt_atomic_save(o->value[OPT_OUT], b.s, b.len, &err);
        if (!rc && !o->value[OPT_OUT]) fputs(b.s, stdout);
        if (!rc && o->value[OPT_OUT])
            printf("%lld forecasts after the %lld values of '%s' written to %s\n", (long long)steps,
                   (long long)n, o->value[OPT_COLUMN], o->value[OPT_OUT]);
        free(b.s);
    }
    free(v);
    free(w);
    free(out);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}

/* generate: --length bytes after --prime, from a model trained with --text. */
int seqrt_cli_generate(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    int64_t length, top_k;
    double temperature;
    uint64_t seed;
    int rc = seqrt_cli_i64(o, OPT_LENGTH, 200, &length, m, c->prog);
    if (!rc) rc = seqrt_cli_i64(o, OPT_TOP_K, 0, &top_k, m, c->prog);
    if (!rc) rc = seqrt_cli_double(o, OPT_TEMPERATURE, 1.0, &temperature, m, c->prog);
    if (!rc) rc = seqrt_cli_seed(o, &seed, m, c->prog);
    if (!rc && !o->value[OPT_WEIGHTS]) rc = seqrt_cli_bad_usage(m, c->prog, "generate needs --weights W");
    if (rc) return rc;
    const char *prime = o->value[OPT_PRIME] ? o->value[OPT_PRIME] : "\n";
    seqrt_error err = {0};
    seqrt_text t;
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    unsigned char *out = malloc((size_t)length + 1);
    rc = w && out ? seqrt_text_load(&t, m, o->value[OPT_WEIGHTS], &err) : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_checkpoint_load(o->value[OPT_WEIGHTS], m, w, NULL, NULL, &err);
    if (!rc) rc = seqrt_text_generate(m, w, &t, (const unsigned char *)prime, (int64_t)strlen(prime), length,
                                      temperature, top_k, seed, out, &err);
    if (!rc) {
        fputs(prime, stdout);
        fwrite(out, 1, (size_t)length, stdout);
        printf("\n");
    }
    free(w);
    free(out);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}

int seqrt_cli_predict(Cli *c)
{
    const seqrt_model *m = c->m;
    const char *op[MAX_SPECS];
    int64_t batch;
    if (c->o.given[OPT_CSV]) return predict_series(c);
    int rc = seqrt_cli_data_paths(c, 0);
    if (!rc) rc = seqrt_cli_resolve(c->o.out, c->o.nout, m->outputs, m->n_outputs, "--out", "output", op, m, c->prog);
    if (!rc && c->o.nout == 0) rc = seqrt_cli_bad_usage(m, c->prog, "predict needs --out");
    if (!rc) rc = seqrt_cli_i64(&c->o, OPT_BATCH, m->batch_size > 0 ? m->batch_size : 32, &batch, m, c->prog);
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_dataset d;
    if (seqrt_dataset_load(&d, m, c->xp, NULL, &err)) return seqrt_cli_error_exit(&err);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1), *outs[MAX_SPECS] = {0};
    if (!w) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_cli_weights(c, w, 0, 0, &err);
    for (int i = 0; !rc && i < m->n_outputs; i++) {
        int64_t row = seqrt_io_row(&m->outputs[i], d.dims);
        if (op[i] && row < 0)
            rc = seqrt_errorf(&err, SEQRT_EINVAL, "output '%s': no input gives the length of its "
                              "time axis", m->outputs[i].name);
        else if (op[i] && !(outs[i] = malloc((size_t)(d.n_samples * row) * sizeof(seqrt_real) + 1)))
            rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory for output '%s'", m->outputs[i].name);
    }
    if (!rc) rc = seqrt_predict(m, &d, w, batch, outs, &err);
    if (!rc) rc = write_outputs(c, &d, outs, op, &err);
    for (int i = 0; i < MAX_SPECS; i++) free(outs[i]);
    free(w);
    seqrt_dataset_free(&d);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}

/* Greedy decoding: every input but the decoder's from --x; the decoder's
 * input is built step by step from the model's own predictions. */
int seqrt_cli_decode(Cli *c)
{
    const seqrt_model *m = c->m;
    if (m->decode_input < 0)
        return seqrt_cli_bad_usage(m, c->prog, "model %s has no decode block in its .seq file", m->name);
    int64_t max_len, batch;
    int rc = seqrt_cli_resolve(c->o.x, c->o.nx, m->inputs, m->n_inputs, "--x", "input", c->xp, m, c->prog);
    if (!rc && c->xp[m->decode_input])
        rc = seqrt_cli_bad_usage(m, c->prog, "decode builds input '%s' itself; do not give it",
                                 m->inputs[m->decode_input].name);
    for (int i = 0; !rc && i < m->n_inputs; i++)
        if (i != m->decode_input && !c->xp[i])
            rc = seqrt_cli_bad_usage(m, c->prog, "decode needs --x %s=PATH", m->inputs[i].name);
    if (!rc && !c->o.value[OPT_OUT]) rc = seqrt_cli_bad_usage(m, c->prog, "decode needs --out OUT.npy");
    if (!rc) rc = seqrt_cli_i64(&c->o, OPT_MAX_LEN, 0, &max_len, m, c->prog);
    if (!rc && !c->o.given[OPT_MAX_LEN]) rc = seqrt_cli_bad_usage(m, c->prog, "decode needs --max-len N");
    if (!rc) rc = seqrt_cli_i64(&c->o, OPT_BATCH, m->batch_size > 0 ? m->batch_size : 32, &batch, m, c->prog);
    if (!rc && c->o.value[OPT_ATTENTION_OUT] && m->decode_attention < 0)
        rc = seqrt_cli_bad_usage(m, c->prog, "the decode block names no attention weights");
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_dataset d;
    if (seqrt_dataset_load(&d, m, c->xp, NULL, &err)) return seqrt_cli_error_exit(&err);
    const seqrt_io *out = &m->outputs[m->decode_output];
    int64_t classes = out->shape[out->ndim - 1], width = seqrt_decode_attention_width(m, &d);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    seqrt_real *probs = malloc((size_t)(d.n_samples * max_len * classes) * sizeof(seqrt_real) + 1);
    seqrt_real *attn = c->o.value[OPT_ATTENTION_OUT]
                           ? malloc((size_t)(d.n_samples * max_len * width) * sizeof(seqrt_real) + 1)
                           : NULL;
    if (!w || !probs || (c->o.value[OPT_ATTENTION_OUT] && !attn))
        rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_cli_weights(c, w, 0, 0, &err);
    if (!rc) rc = seqrt_decode(m, &d, w, max_len, batch, probs, attn, &err);
    int64_t shape[3] = {d.n_samples, max_len, classes};
    if (!rc) rc = seqrt_npy_write(c->o.value[OPT_OUT], probs, 3, shape, &err);
    shape[2] = width;
    if (!rc && attn) rc = seqrt_npy_write(c->o.value[OPT_ATTENTION_OUT], attn, 3, shape, &err);
    free(w);
    free(probs);
    free(attn);
    seqrt_dataset_free(&d);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}

