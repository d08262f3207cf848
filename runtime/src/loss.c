/*
 * loss.c: Keras's losses (KERAS-SEMANTICS 7) with their gradients, the one
 * place the trainer turns predictions into dLoss/dpred for the generated
 * backward pass. Reduction is sum_over_batch_size: per-position values are
 * averaged over valid positions (and over the class axis for mse, mae and
 * binary CE). Sums are in double whatever seqrt_real is.
 *
 * Three paths for the cross-entropies, as in Keras's TF backend:
 *   from_logits   pred = z:  L = -sum y log_softmax(z)   (stable: max shift)
 *   from_softmax  pred = p = softmax(z) and Keras used z, unclipped: we use
 *                 L = -sum y log p with log guarded, and dp = -y/p, so the
 *                 generated softmax backward p*(dp - sum dp*p) gives p - y.
 *   probability   renormalise, clip to [1e-7, 1 - 1e-7]; the clip's
 *                 gradient is zero outside the range (tf.clip_by_value).
 * Binary CE's probability path is Keras 3's (clip, no extra +eps inside the
 * logs as tf.keras adds; the difference is below 1e-6 relative). Its
 * from_softmax path returns dp = (p-y)/(p(1-p)), so sigmoid backward gives
 * p - y exactly, except where a float sigmoid saturated to exactly 0 or 1:
 * there p(1-p) = 0 and that element gets no gradient (the logits it came
 * from are not ours to see).
 */
#include <float.h>

#include "internal.h"

/* Floor for log(p) and 1/p on the from_softmax path: never inf, and big
 * enough that -y/p still fits seqrt_real; the softmax floors its outputs at
 * the same value (seqrt_kernel.h), which keeps the gradient p - y. */
#define TINY SEQRT_PROB_FLOOR

typedef struct {
    const seqrt_loss_spec *s;
    int64_t C;
    double eps, one_m_eps;  /* Keras's epsilon() clip, in seqrt_real */
    double g;               /* weight / divisor: the gradient's scale */
} Ctx;

static double max_d(double a, double b) { return a > b ? a : b; }
static int in_clip(const Ctx *c, double q) { return q >= c->eps && q <= c->one_m_eps; }

/* Smoothed target for class k of a categorical row. */
static double smooth_cat(const Ctx *c, double y)
{
    double ls = c->s->label_smoothing;
    return ls > 0 ? y * (1 - ls) + ls / (double)c->C : y;
}

/*
 * The logits paths' softmax: returns log(sum_k exp(z_k)) and, when d is
 * given, adds scale * softmax(z) to it. The exponentials are seqrt_real
 * (lse_exp in float32 builds: libm's double exp was a third of a char
 * model's step) and go through a stack buffer in chunks, so that the exp,
 * sum and update loops vectorise; partial sums in 8 lanes, the total in
 * double. Rows wider than one chunk recompute their exponentials.
 */
enum { LSE_CHUNK = 512 };

/* exp(x) for x = z_k - max <= 0 (or NaN, which it keeps): float32 builds
 * take the clamped exponential, which needs no selects for the
 * infinities, and give 0 below -87 as expf does (exp(-87) would leave
 * denormal gradients behind); float64 builds libm's. */
static inline seqrt_real lse_exp(seqrt_real x)
{
#ifdef SEQRT_DOUBLE
    return SEQRT_EXP(x);
#else
    return x < -87.0f ? 0.0f : seqrt_expf_clamped(x);
#endif
}

SEQRT_KERNEL static double softmax_lse(const seqrt_real *z, int64_t C, seqrt_real *d, double scale)
{
    /* the max in 8 lanes too: one running max was a chain of dependent
     * scalar maxes, a tenth of the function on W6's 65 classes */
    seqrt_real mx = z[0], e[LSE_CHUNK], lmx[8];
    int64_t k1 = 1;
    if (C >= 9) {
        for (int j = 0; j < 8; j++) lmx[j] = z[1 + j];
        for (k1 = 9; k1 + 8 <= C; k1 += 8)
            for (int j = 0; j < 8; j++) lmx[j] = z[k1 + j] > lmx[j] ? z[k1 + j] : lmx[j];
        for (int j = 0; j < 8; j++) mx = lmx[j] > mx ? lmx[j] : mx;
    }
    for (int64_t k = k1; k < C; k++) mx = z[k] > mx ? z[k] : mx;
    double s = 0;
    for (int64_t k0 = 0; k0 < C; k0 += LSE_CHUNK) {
        const int n = C - k0 < LSE_CHUNK ? (int)(C - k0) : LSE_CHUNK;
        for (int k = 0; k < n; k++) e[k] = lse_exp(z[k0 + k] - mx);
        seqrt_real lane[8] = {0};
        int k = 0;
        for (; k + 8 <= n; k += 8)
            for (int j = 0; j < 8; j++) lane[j] += e[k + j];
        for (; k < n; k++) s += e[k];
        for (int j = 0; j < 8; j++) s += lane[j];
    }
    if (d) {
        const seqrt_real f = (seqrt_real)(scale / s);
        for (int64_t k0 = 0; k0 < C; k0 += LSE_CHUNK) {
            const int n = C - k0 < LSE_CHUNK ? (int)(C - k0) : LSE_CHUNK;
            if (C > LSE_CHUNK)
                for (int k = 0; k < n; k++) e[k] = lse_exp(z[k0 + k] - mx);
            for (int k = 0; k < n; k++) d[k0 + k] += f * e[k];
        }
    }
    return mx + log(s);
}

static double pos_mse(const Ctx *c, seqrt_real *d, const seqrt_real *p, const seqrt_real *y)
{
    double L = 0;
    for (int64_t k = 0; k < c->C; k++) {
        double e = (double)p[k] - y[k];
        L += e * e;
        if (d) d[k] += (seqrt_real)(c->g * 2 * e);
    }
    return L;
}

static double pos_mae(const Ctx *c, seqrt_real *d, const seqrt_real *p, const seqrt_real *y)
{
    double L = 0;
    for (int64_t k = 0; k < c->C; k++) {
        double e = (double)p[k] - y[k];
        L += fabs(e);
        if (d) d[k] += (seqrt_real)(c->g * (e > 0 ? 1 : e < 0 ? -1 : 0));
    }
    return L;
}

static double pos_cce(const Ctx *c, seqrt_real *d, const seqrt_real *p, const seqrt_real *yr)
{
    int64_t C = c->C;
    double L = 0;
    if (c->s->from_logits) {
        double sy = 0;
        for (int64_t k = 0; k < C; k++) sy += smooth_cat(c, yr[k]);
        /* d += g * (sy * softmax(z) - y) */
        const double lse = softmax_lse(p, C, d, c->g * sy);
        for (int64_t k = 0; k < C; k++) {
            double y = smooth_cat(c, yr[k]);
            L += y * (lse - p[k]);
            if (d) d[k] -= (seqrt_real)(c->g * y);
        }
        return L;
    }
    if (c->s->from_softmax) {
        for (int64_t k = 0; k < C; k++) {
            double y = smooth_cat(c, yr[k]), pk = max_d(p[k], TINY);
            if (y != 0) L -= y * log(pk);
            if (d) d[k] += (seqrt_real)(c->g * (-y / pk));
        }
        return L;
    }
    /* probability path: q = p / S, r = clip(q), L = -sum y log r */
    double S = 0, dot = 0;
    for (int64_t k = 0; k < C; k++) S += p[k];
    for (int64_t k = 0; k < C; k++) {
        double y = smooth_cat(c, yr[k]), q = p[k] / S;
        double r = q < c->eps ? c->eps : q > c->one_m_eps ? c->one_m_eps : q;
        L -= y * log(r);
        if (in_clip(c, q)) dot += -y / r * q;   /* sum_k dL/dq_k * q_k */
    }
    if (d)
        for (int64_t k = 0; k < C; k++) {
            double y = smooth_cat(c, yr[k]), q = p[k] / S;
            double gq = in_clip(c, q) ? -y / q : 0;
            d[k] += (seqrt_real)(c->g * (gq - dot) / S);
        }
    return L;
}

static double pos_sparse(const Ctx *c, seqrt_real *d, const seqrt_real *p, int32_t label)
{
    int64_t C = c->C;
    if (c->s->from_logits) {
        const double lse = softmax_lse(p, C, d, c->g);
        if (d) d[label] -= (seqrt_real)c->g;
        return lse - p[label];
    }
    if (c->s->from_softmax) {
        double py = max_d(p[label], TINY);
        if (d) d[label] += (seqrt_real)(c->g * (-1 / py));
        return -log(py);
    }
    /* probability path: r = clip(p); L = -log(r_y / sum r) */
    double sr = 0;
    for (int64_t k = 0; k < C; k++)
        sr += p[k] < c->eps ? c->eps : p[k] > c->one_m_eps ? c->one_m_eps : p[k];
    double ry = p[label] < c->eps ? c->eps : p[label] > c->one_m_eps ? c->one_m_eps : p[label];
    if (d)
        for (int64_t k = 0; k < C; k++)
            if (in_clip(c, p[k]))
                d[k] += (seqrt_real)(c->g * (1 / sr - (k == label ? 1 / ry : 0)));
    return log(sr) - log(ry);
}

static double pos_bce(const Ctx *c, seqrt_real *d, const seqrt_real *p, const seqrt_real *yr)
{
    double L = 0, ls = c->s->label_smoothing;
    for (int64_t k = 0; k < c->C; k++) {
        double y = ls > 0 ? yr[k] * (1 - ls) + 0.5 * ls : yr[k], x = p[k], gk;
        if (c->s->from_logits) {
            L += max_d(x, 0) - x * y + log1p(exp(-fabs(x)));
            gk = (x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))) - y;
        } else if (c->s->from_softmax) {
            L -= y * log(max_d(x, TINY)) + (1 - y) * log(max_d(1 - x, TINY));
            gk = (x - y) / max_d(x * (1 - x), TINY);   /* sigmoid backward -> p - y */
        } else {
            double r = x < c->eps ? c->eps : x > c->one_m_eps ? c->one_m_eps : x;
            L -= y * log(r) + (1 - y) * log(1 - r);
            gk = in_clip(c, x) ? -y / r + (1 - y) / (1 - r) : 0;
        }
        if (d) d[k] += (seqrt_real)(c->g * gk);
    }
    return L;
}

int64_t seqrt_labels_check(const int32_t *labels, int64_t n, int64_t n_classes)
{
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes) return i;
    return -1;
}

double seqrt_loss_divisor(const seqrt_loss_spec *s, const uint8_t *mask, int64_t n_positions,
                          int64_t n_classes)
{
    int64_t valid = n_positions;
    if (mask) {
        valid = 0;
        for (int64_t i = 0; i < n_positions; i++) valid += mask[i] != 0;
    }
    if (valid == 0 || n_classes <= 0) return 0;
    int per_class = s->kind == SEQRT_LOSS_MSE || s->kind == SEQRT_LOSS_MAE ||
                    s->kind == SEQRT_LOSS_BINARY_CROSSENTROPY;
    return (double)valid * (per_class ? (double)n_classes : 1);
}

double seqrt_loss_sum(seqrt_real *dpred, const seqrt_loss_spec *s, const seqrt_real *pred,
                      const void *target, const uint8_t *mask, int64_t n_positions,
                      int64_t n_classes, double divisor)
{
    const seqrt_real eps = (seqrt_real)1e-7;
    Ctx c = {s, n_classes, eps, (seqrt_real)1 - eps, s->weight / divisor};
    const seqrt_real *yr = target;
    const int32_t *yi = target;
    double total = 0;
    for (int64_t i = 0; i < n_positions; i++) {
        if (mask && !mask[i]) continue;
        const seqrt_real *p = pred + i * n_classes, *y = yr + i * n_classes;
        seqrt_real *d = dpred ? dpred + i * n_classes : NULL;
        switch (s->kind) {
        case SEQRT_LOSS_MSE: total += pos_mse(&c, d, p, y); break;
        case SEQRT_LOSS_MAE: total += pos_mae(&c, d, p, y); break;
        case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY: total += pos_cce(&c, d, p, y); break;
        case SEQRT_LOSS_BINARY_CROSSENTROPY: total += pos_bce(&c, d, p, y); break;
        case SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
            if (yi[i] < 0 || yi[i] >= n_classes) return NAN;
            total += pos_sparse(&c, d, p, yi[i]);
            break;
        default: return NAN;
        }
    }
    return total;
}

double seqrt_loss(seqrt_real *dpred, const seqrt_loss_spec *s, const seqrt_real *pred,
                  const void *target, const uint8_t *mask, int64_t n_positions, int64_t n_classes)
{
    const double divisor = seqrt_loss_divisor(s, mask, n_positions, n_classes);
    if (divisor == 0) return 0;
    return seqrt_loss_sum(dpred, s, pred, target, mask, n_positions, n_classes, divisor) / divisor;
}
