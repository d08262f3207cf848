/*
 * schedule.c: learning-rate schedules for the trainer (--lr-schedule), as
 * Keras defines them where Keras has one:
 *
 *   step:EVERY:FACTOR   lr0 * FACTOR^floor((epoch - 1) / EVERY), per epoch
 *                       (Keras's LearningRateScheduler with a step function)
 *   exp:DECAY           ExponentialDecay(lr0, decay_steps = steps per epoch,
 *                       decay_rate = DECAY): lr0 * DECAY^(iterations / steps)
 *   cosine[:MIN]        CosineDecay(lr0, decay_steps = every step of the run,
 *                       alpha = MIN / lr0): MIN + (lr0 - MIN) *
 *                       (1 + cos(pi * min(it, total) / total)) / 2
 *   plateau:PATIENCE:FACTOR
 *                       ReduceLROnPlateau(factor, patience, min_delta 1e-4,
 *                       cooldown 0, min_lr 0) on val_loss (else loss)
 *
 * The step, exponential and cosine rates are functions of the epoch and of
 * the optimizer's iteration count, so a resumed run recomputes them; only
 * the plateau rule has state (seqrt_plateau), which checkpoints carry.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "seqrt_checked.h"

#define PLATEAU_MIN_DELTA 1e-4
#define PI 3.14159265358979323846

/* A decimal number (no hex, no blanks, finite). */
static int parse_num(const char *s, const char **end, double *v)
{
    char *e;
    size_t span = strspn(s, "0123456789+-.eE");
    errno = 0;
    *v = strtod(s, &e);
    *end = e;
    return !errno && e != s && (size_t)(e - s) <= span && isfinite(*v);
}

/* One ":NUMBER" field, or the end of the spec if optional. */
static int field(const char **p, double *v, int optional, int *present)
{
    *present = 0;
    if (**p == '\0' && optional) return 1;
    if (**p != ':') return 0;
    const char *end;
    if (!parse_num(*p + 1, &end, v)) return 0;
    *p = end;
    *present = 1;
    return 1;
}

int seqrt_lr_parse(seqrt_lr_schedule *s, const char *spec, seqrt_error *err)
{
    memset(s, 0, sizeof *s);
    if (!spec || !*spec || strcmp(spec, "constant") == 0) return SEQRT_OK;
    const char *p = strchr(spec, ':') ? strchr(spec, ':') : spec + strlen(spec);
    size_t n = (size_t)(p - spec);
    double a = 0, b = 0;
    int ok = 1, has_a = 0, has_b = 0;
    if (n == 4 && !strncmp(spec, "step", 4)) {
        s->kind = SEQRT_LR_STEP;
        ok = field(&p, &a, 0, &has_a) && field(&p, &b, 0, &has_b) && !*p && a >= 1 && a == floor(a) &&
             a <= (double)SEQRT_MAX_COUNT && b > 0;
        s->every = ok ? (int64_t)a : 0;
        s->factor = b;
    } else if (n == 3 && !strncmp(spec, "exp", 3)) {
        s->kind = SEQRT_LR_EXP;
        ok = field(&p, &a, 0, &has_a) && !*p && a > 0;
        s->decay = a;
    } else if (n == 6 && !strncmp(spec, "cosine", 6)) {
        s->kind = SEQRT_LR_COSINE;
        ok = field(&p, &a, 1, &has_a) && !*p && a >= 0;
        s->min_lr = has_a ? a : 0;
    } else if (n == 7 && !strncmp(spec, "plateau", 7)) {
        s->kind = SEQRT_LR_PLATEAU;
        ok = field(&p, &a, 0, &has_a) && field(&p, &b, 0, &has_b) && !*p && a >= 1 && a == floor(a) &&
             a <= (double)SEQRT_MAX_COUNT && b > 0 && b < 1;
        s->every = ok ? (int64_t)a : 0;
        s->factor = b;
    } else {
        return seqrt_errorf(err, SEQRT_EINVAL, "learning-rate schedule '%s': unknown kind (step, exp, "
                            "cosine or plateau)", spec);
    }
    if (!ok)
        return seqrt_errorf(err, SEQRT_EINVAL, "learning-rate schedule '%s': expected step:EVERY:FACTOR "
                            "(EVERY a whole number of epochs, 1 to 2^53; FACTOR > 0), exp:DECAY (> 0), cosine[:MIN] "
                            "(MIN >= 0) or plateau:PATIENCE:FACTOR (PATIENCE 1 to 2^53, 0 < FACTOR < 1)", spec);
    return SEQRT_OK;
}

void seqrt_lr_format(const seqrt_lr_schedule *s, char *buf, size_t n)
{
    switch (s->kind) {
    case SEQRT_LR_CONSTANT: snprintf(buf, n, "constant"); break;
    case SEQRT_LR_STEP: snprintf(buf, n, "step:%lld:%.17g", (long long)s->every, s->factor); break;
    case SEQRT_LR_EXP: snprintf(buf, n, "exp:%.17g", s->decay); break;
    case SEQRT_LR_COSINE: snprintf(buf, n, "cosine:%.17g", s->min_lr); break;
    case SEQRT_LR_PLATEAU: snprintf(buf, n, "plateau:%lld:%.17g", (long long)s->every, s->factor); break;
    }
}

double seqrt_lr_at(const seqrt_lr_schedule *s, double lr0, int64_t epoch, int64_t iteration,
                   int64_t steps_per_epoch, int64_t total_steps)
{
    switch (s->kind) {
    case SEQRT_LR_STEP:
        return lr0 * pow(s->factor, (double)((epoch - 1) / s->every));
    case SEQRT_LR_EXP:
        return lr0 * pow(s->decay, (double)iteration / (double)(steps_per_epoch > 0 ? steps_per_epoch : 1));
    case SEQRT_LR_COSINE: {
        if (total_steps < 1) return lr0;
        double t = (double)(iteration < total_steps ? iteration : total_steps) / (double)total_steps;
        double alpha = lr0 > 0 ? s->min_lr / lr0 : 0;
        return lr0 * ((1 - alpha) * 0.5 * (1 + cos(PI * t)) + alpha);
    }
    case SEQRT_LR_CONSTANT:
    case SEQRT_LR_PLATEAU:
        break;
    }
    return lr0;
}

void seqrt_plateau_init(seqrt_plateau *p, double lr)
{
    p->best = INFINITY;
    p->wait = 0;
    p->lr = lr;
}

/* Keras's on_epoch_end with cooldown 0 and min_lr 0. Returns 1 when the
 * rate was lowered. */
int seqrt_plateau_update(seqrt_plateau *p, const seqrt_lr_schedule *s, double value)
{
    if (value < p->best - PLATEAU_MIN_DELTA) {
        p->best = value;
        p->wait = 0;
        return 0;
    }
    if (++p->wait < s->every) return 0;
    p->wait = 0;
    if (!(p->lr > 0)) return 0;
    p->lr *= s->factor;
    return 1;
}
