/*
 * metrics.c: Keras's training metrics as running means over an epoch, each
 * position weighted equally (a mask gives invalid positions weight 0, as
 * Keras's sample_weight does). Accuracy comes in three flavours; plain
 * "accuracy" is resolved from shapes exactly as tf.keras compile_utils and
 * Keras 3 do: one output class -> binary, integer (sparse) targets ->
 * sparse, otherwise categorical. (Keras also calls a float target whose
 * last axis is 1 sparse; seqc always hands sparse labels over as int32.
 * Keras <= 2.2 chose from the loss; the rules agree for our losses.)
 */
#include "internal.h"

unsigned seqrt_metric_resolve(unsigned bit, int target_is_int, int64_t n_classes)
{
    if (bit != SEQRT_METRIC_ACCURACY) return bit;
    if (n_classes == 1) return SEQRT_METRIC_BINARY_ACCURACY;
    if (target_is_int) return SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    return SEQRT_METRIC_CATEGORICAL_ACCURACY;
}

const char *seqrt_metric_name(unsigned kind)
{
    switch (kind) {
    case SEQRT_METRIC_ACCURACY: return "accuracy";
    case SEQRT_METRIC_CATEGORICAL_ACCURACY: return "categorical_accuracy";
    case SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY: return "sparse_categorical_accuracy";
    case SEQRT_METRIC_BINARY_ACCURACY: return "binary_accuracy";
    case SEQRT_METRIC_MAE: return "mae";
    case SEQRT_METRIC_MSE: return "mse";
    }
    return "unknown";
}

void seqrt_metric_reset(seqrt_metric *m, unsigned kind)
{
    m->kind = kind;
    m->total = 0;
    m->count = 0;
}

/* First index of the largest value, as argmax does. */
static int64_t argmax(const seqrt_real *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t k = 1; k < n; k++)
        if (x[k] > x[best]) best = k;
    return best;
}

/* The metric's value at one position (Keras averages the class axis). */
static double position_value(unsigned kind, const seqrt_real *p, const void *target,
                             int64_t i, int64_t C)
{
    if (kind == SEQRT_METRIC_SPARSE_CATEGORICAL_ACCURACY)
        return argmax(p, C) == ((const int32_t *)target)[i];
    const seqrt_real *y = (const seqrt_real *)target + i * C;
    double s = 0;
    switch (kind) {
    case SEQRT_METRIC_CATEGORICAL_ACCURACY:
        return argmax(p, C) == argmax(y, C);
    case SEQRT_METRIC_BINARY_ACCURACY:
        for (int64_t k = 0; k < C; k++) s += (double)(p[k] > (seqrt_real)0.5) == (double)y[k];
        return s / (double)C;
    case SEQRT_METRIC_MAE:
        for (int64_t k = 0; k < C; k++) s += fabs((double)p[k] - y[k]);
        return s / (double)C;
    case SEQRT_METRIC_MSE:
        for (int64_t k = 0; k < C; k++) s += ((double)p[k] - y[k]) * ((double)p[k] - y[k]);
        return s / (double)C;
    }
    return NAN;   /* unresolved "accuracy" or an unknown bit */
}

void seqrt_metric_update(seqrt_metric *m, const seqrt_real *pred, const void *target,
                         const uint8_t *mask, int64_t n_positions, int64_t n_classes)
{
    for (int64_t i = 0; i < n_positions; i++) {
        if (mask && !mask[i]) continue;
        m->total += position_value(m->kind, pred + i * n_classes, target, i, n_classes);
        m->count += 1;
    }
}

double seqrt_metric_result(const seqrt_metric *m)
{
    return m->count > 0 ? m->total / m->count : 0;
}
