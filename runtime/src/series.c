/*
 * series.c: time-series forecasting from one CSV column (--csv/--column):
 * the windows a forecaster trains on, the normalisation kept with its
 * weights, its scores against the naive last-value forecast, and
 * multi-step forecasts fed back on themselves.
 *
 * Window i of a series s[0..n) is the input s[i .. i + W) as [W, 1]; its
 * target is s[i + W .. i + W + K) as [K] for a model that forecasts at its
 * last step, or y[t][k] = s[i + t + 1 + k] as [W, K] for one that forecasts
 * at every step (WaveNet's sequence-to-sequence setup). The last fraction
 * of the windows validates, in time order; the mean and standard
 * deviation come from the values the training windows cover, so nothing
 * of the validation part leaks into the scaling.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "seqrt_checked.h"

int seqrt_series_plan(seqrt_series *s, const seqrt_model *m, int64_t window, int64_t horizon,
                      seqrt_error *err)
{
    memset(s, 0, sizeof *s);
    s->std = 1;
    const seqrt_io *x = &m->inputs[0], *y = &m->targets[0];
    if (m->n_inputs != 1 || x->is_int || x->ndim != 2 || x->shape[1] != 1 || m->n_targets != 1 ||
        y->is_int || (y->ndim != 1 && y->ndim != 2) || y->shape[y->ndim - 1] < 1)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: --csv needs one input [T, 1] and one target "
                            "[K] (forecast at the last step) or [T, K] (at every step)", m->name);
    if (x->shape[0] > 0 && window > 0 && window != x->shape[0])
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: input '%s' has %lld steps, not a window of %lld",
                            m->name, x->name, (long long)x->shape[0], (long long)window);
    s->window = x->shape[0] > 0 ? x->shape[0] : window;
    if (s->window < 1)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: input '%s' has a free time axis: give --window N",
                            m->name, x->name);
    s->seq2seq = y->ndim == 2;
    if (s->seq2seq && !(y->shape[0] < 0 ? y->dim_index[0] == x->dim_index[0] && !y->dim_offset[0]
                                     : y->shape[0] == s->window))
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: target '%s' [T, K] must share the input's time "
                            "axis", m->name, y->name);
    int64_t k = y->shape[y->ndim - 1];
    if (horizon > 0 && horizon != k)
        return seqrt_errorf(err, SEQRT_EINVAL, "model %s: target '%s' forecasts %lld values, not a "
                            "horizon of %lld", m->name, y->name, (long long)k, (long long)horizon);
    s->horizon = k;
    return SEQRT_OK;
}

/* Mean and standard deviation of the training part. Values near the
 * double range (1e308) make the sums overflow: refused, naming the column,
 * rather than training on NaN. */
static int fit_norm(seqrt_series *s, const double *v, int64_t n, const char *label, seqrt_error *err)
{
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) sum += v[i];
    s->mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++) sq += (v[i] - s->mean) * (v[i] - s->mean);
    s->std = sqrt(sq / (double)n);
    if (!isfinite(s->mean) || !isfinite(s->std))
        return seqrt_errorf(err, SEQRT_ERANGE, "%s: column '%s': the values' mean or standard deviation "
                            "is not finite (mean %g, std %g): values this large cannot be scaled; "
                            "rescale the column", label, s->column, s->mean, s->std);
    if (!(s->std > 0)) s->std = 1;
    return SEQRT_OK;
}

static int make_array(seqrt_array *a, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    memset(a, 0, sizeof *a);
    a->ndim = ndim;
    a->shape[0] = d0;
    a->shape[1] = d1;
    a->shape[2] = d2;
    int64_t f[3] = {d0, d1, ndim == 3 ? d2 : 1};
    size_t bytes;
    if (seqrt_prod_i64(f, 3, &a->count) || seqrt_bytes_of(a->count, sizeof(seqrt_real), &bytes))
        return 0;
    a->data = malloc(bytes + 1);
    return a->data != NULL;
}

/* Windows of z (already normalised) starting at 0 .. count - 1. */
static void fill_windows(const seqrt_series *s, const double *z, int64_t count, seqrt_real *x, seqrt_real *y)
{
    int64_t W = s->window, K = s->horizon;
    for (int64_t i = 0; i < count; i++) {
        for (int64_t t = 0; t < W; t++) x[i * W + t] = (seqrt_real)z[i + t];
        for (int64_t k = 0; y && k < K; k++) {
            if (!s->seq2seq) y[i * K + k] = (seqrt_real)z[i + W + k];
            else
                for (int64_t t = 0; t < W; t++) y[(i * W + t) * K + k] = (seqrt_real)z[i + t + 1 + k];
        }
    }
}

int seqrt_series_dataset(seqrt_dataset *d, seqrt_series *s, const seqrt_model *m, const double *v,
                         int64_t n, double val_split, int fit, int with_targets, const char *label,
                         seqrt_error *err)
{
    int64_t W = s->window, K = s->horizon, count;
    int rc;
    if (seqrt_add_i64(W, with_targets ? K : 0, &count) || (count = n - count + 1) < 2)
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: %lld values make no windows of %lld steps plus %lld "
                            "to forecast", label, (long long)n, (long long)W, (long long)K);
    s->n_windows = count;
    s->n_val = val_split > 0 ? count - (int64_t)((double)count * (1 - val_split)) : 0;
    if (val_split > 0 && (s->n_val < 1 || s->n_val >= count))
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: validation split %g of %lld windows leaves none for "
                            "training or validation", label, val_split, (long long)count);
    if (fit && (rc = fit_norm(s, v, count - s->n_val + W + K - 1, label, err))) return rc;
    double *z = malloc((size_t)n * sizeof *z + 1);
    seqrt_array x[1], y[1];
    int ok = z && make_array(&x[0], 3, count, W, 1);
    if (ok && with_targets) ok = s->seq2seq ? make_array(&y[0], 3, count, W, K) : make_array(&y[0], 2, count, K, 0);
    if (!ok) {
        free(z);
        return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory for %lld windows", label, (long long)count);
    }
    for (int64_t i = 0; i < n; i++) z[i] = (v[i] - s->mean) / s->std;
    fill_windows(s, z, count, x[0].data, with_targets ? y[0].data : NULL);
    free(z);
    return seqrt_dataset_from_arrays(d, m, x, with_targets ? y : NULL, label, err);
}

void seqrt_series_meta(const seqrt_series *s, char vals[SEQRT_SERIES_META][160], const char **meta)
{
    static const char *const keys[SEQRT_SERIES_META] = {"data.kind", "data.column", "data.window",
                                                        "data.horizon", "data.mean", "data.std"};
    snprintf(vals[0], 160, "series");
    snprintf(vals[1], 160, "%s", s->column);
    snprintf(vals[2], 160, "%lld", (long long)s->window);
    snprintf(vals[3], 160, "%lld", (long long)s->horizon);
    snprintf(vals[4], 160, "%.17g", s->mean);
    snprintf(vals[5], 160, "%.17g", s->std);
    for (int i = 0; i < SEQRT_SERIES_META; i++) {
        meta[2 * i] = keys[i];
        meta[2 * i + 1] = vals[i];
    }
}

static int meta_number(const seqrt_st_file *f, const char *path, const char *key, double *out, seqrt_error *err)
{
    const char *v = seqrt_st_meta(f, key);
    char *end;
    errno = 0;
    *out = v ? strtod(v, &end) : 0;
    if (!v || errno || *end || end == v || !isfinite(*out))
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: %s '%s' in the metadata (not trained with --csv?)",
                            path, v ? "bad" : "no", key);
    return SEQRT_OK;
}

int seqrt_series_load(seqrt_series *s, const seqrt_model *m, const char *path, seqrt_error *err)
{
    seqrt_st_file f;
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    double w = 0, k = 0, mean = 0, std = 1;
    const char *kind = seqrt_st_meta(&f, "data.kind"), *col = seqrt_st_meta(&f, "data.column");
    if (!kind || strcmp(kind, "series") != 0)
        rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: not trained on a series (train with --csv FILE "
                          "--column NAME)", path);
    if (!rc) rc = meta_number(&f, path, "data.window", &w, err);
    if (!rc) rc = meta_number(&f, path, "data.horizon", &k, err);
    if (!rc) rc = meta_number(&f, path, "data.mean", &mean, err);
    if (!rc) rc = meta_number(&f, path, "data.std", &std, err);
    /* Checked here, so that forecast and predict, which have no --window,
     * never see the plan's advice to give one. */
    if (!rc && !(w >= 1 && w <= 1e9 && w == floor(w)))
        rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: data.window is %g, not a whole number of steps from 1",
                          path, w);
    if (!rc && !(k >= 1 && k <= 1e9 && k == floor(k)))
        rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: data.horizon is %g, not a whole number of values "
                          "from 1", path, k);
    if (!rc && !(std > 0))
        rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: data.std is %g, not a positive scale", path, std);
    if (!rc) rc = seqrt_series_plan(s, m, (int64_t)w, (int64_t)k, err);
    if (!rc) {
        s->mean = mean;
        s->std = std;
        snprintf(s->column, sizeof s->column, "%s", col ? col : "");
    }
    seqrt_st_free(&f);
    return rc;
}

/* The forecast of the next K values from each window, in the series' units. */
int seqrt_series_predict(const seqrt_model *m, const seqrt_dataset *d, const seqrt_series *s,
                         const seqrt_real *w, double *out, seqrt_error *err)
{
    int64_t n = d->n_samples, K = s->horizon, row = s->seq2seq ? s->window * K : K;
    int o = m->losses ? m->losses[0].output : 0;
    seqrt_real *outs[SEQRT_DECODE_MAX_IO] = {0};
    if (m->n_outputs > SEQRT_DECODE_MAX_IO) return seqrt_errorf(err, SEQRT_EINVAL, "too many outputs");
    size_t bytes;
    if (seqrt_mul_i64(n, row, &row) || seqrt_bytes_of(row, sizeof(seqrt_real), &bytes))
        return seqrt_errorf(err, SEQRT_ERANGE, "%lld forecasts of %lld values overflow the address space",
                            (long long)n, (long long)K);
    row = s->seq2seq ? s->window * K : K;
    if (!(outs[o] = malloc(bytes + 1)))
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for %lld forecasts", (long long)n);
    int rc = seqrt_predict(m, d, w, 256, outs, err);
    for (int64_t i = 0; !rc && i < n; i++)
        for (int64_t k = 0; k < K; k++)
            out[i * K + k] = (double)outs[o][i * row + (row - K) + k] * s->std + s->mean;
    free(outs[o]);
    return rc;
}

/* The targets at each window's last step, and the last input value. */
static void truth(const seqrt_dataset *d, const seqrt_series *s, int64_t i, double *want, double *last)
{
    int64_t K = s->horizon, row = s->seq2seq ? s->window * K : K;
    const seqrt_real *y = (const seqrt_real *)d->y[0].data + i * row + (row - K);
    const seqrt_real *x = (const seqrt_real *)d->x[0].data + i * s->window;
    for (int64_t k = 0; k < K; k++) want[k] = (double)y[k] * s->std + s->mean;
    *last = (double)x[s->window - 1] * s->std + s->mean;
}

int seqrt_series_score(const seqrt_model *m, const seqrt_dataset *d, const seqrt_series *s,
                       const seqrt_real *w, int64_t first, int64_t n, seqrt_series_scores *sc,
                       seqrt_error *err)
{
    int64_t K = s->horizon, nk;
    size_t bytes;
    if (seqrt_mul_i64(d->n_samples, K, &nk) || seqrt_bytes_of(nk, sizeof(double), &bytes))
        return seqrt_errorf(err, SEQRT_ERANGE, "%lld windows of %lld values overflow the address space",
                            (long long)d->n_samples, (long long)K);
    double *pred = malloc(bytes + 1), *want = malloc((size_t)K * sizeof *want + 1);
    int rc = pred && want ? seqrt_series_predict(m, d, s, w, pred, err)
                          : seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    memset(sc, 0, sizeof *sc);
    for (int64_t i = first; !rc && i < first + n; i++) {
        double last;
        truth(d, s, i, want, &last);
        for (int64_t k = 0; k < K; k++) {
            double e = pred[i * K + k] - want[k], b = last - want[k];
            sc->mae += fabs(e);
            sc->rmse += e * e;
            sc->naive_mae += fabs(b);
            sc->naive_rmse += b * b;
        }
    }
    double cnt = (double)(n * K);
    sc->windows = n;
    sc->mae /= cnt;
    sc->naive_mae /= cnt;
    sc->rmse = sqrt(sc->rmse / cnt);
    sc->naive_rmse = sqrt(sc->naive_rmse / cnt);
    free(pred);
    free(want);
    return rc;
}

/* One window of z (normalised) as a dataset, forecast K values. */
static int forecast_once(const seqrt_model *m, const seqrt_series *s, const seqrt_real *w, const double *z,
                         double *next, seqrt_error *err)
{
    seqrt_array x[1];
    if (!make_array(&x[0], 3, 1, s->window, 1)) return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    for (int64_t t = 0; t < s->window; t++) ((seqrt_real *)x[0].data)[t] = (seqrt_real)z[t];
    seqrt_dataset d;
    int rc = seqrt_dataset_from_arrays(&d, m, x, NULL, "forecast", err);
    if (rc) return rc;
    seqrt_series unit = *s;
    unit.mean = 0;
    unit.std = 1;
    rc = seqrt_series_predict(m, &d, &unit, w, next, err);
    seqrt_dataset_free(&d);
    return rc;
}

int seqrt_series_forecast(const seqrt_model *m, const seqrt_series *s, const seqrt_real *w, const double *v,
                          int64_t n, int64_t steps, double *out, seqrt_error *err)
{
    int64_t W = s->window, K = s->horizon;
    if (n < W)
        return seqrt_errorf(err, SEQRT_EINVAL, "the series has %lld values; the model needs the last %lld",
                            (long long)n, (long long)W);
    int64_t zn;
    size_t bytes;
    if (steps < 0 || seqrt_add_i64(W, steps, &zn) || seqrt_add_i64(zn, K, &zn) ||
        seqrt_bytes_of(zn, sizeof(double), &bytes))
        return seqrt_errorf(err, SEQRT_ERANGE, "a forecast of %lld steps overflows the address space",
                            (long long)steps);
    double *z = malloc(bytes + 1), *next = malloc((size_t)K * sizeof *next + 1);
    int rc = z && next ? SEQRT_OK : seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    for (int64_t t = 0; !rc && t < W; t++) z[t] = (v[n - W + t] - s->mean) / s->std;
    for (int64_t done = 0; !rc && done < steps;) {
        rc = forecast_once(m, s, w, z + done, next, err);
        for (int64_t k = 0; !rc && k < K && done < steps; k++, done++) {
            z[W + done] = next[k];
            out[done] = next[k] * s->std + s->mean;
        }
    }
    free(z);
    free(next);
    return rc;
}
