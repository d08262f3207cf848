/*
 * train_state.c: what a resumable checkpoint holds besides the weights and
 * the optimizer: the "train.*" metadata (epoch, step, schedule, early
 * stopping, history, the data's hash), the best weights and the streams'
 * carried states; written by seqrt_train, read back by --resume.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "train_internal.h"
#include "seqrt_checked.h"

/* ---- resumable state: "train.*" metadata ---- */

/* What a resumed run must see again: every array's bytes. */
uint64_t seqrt_train_data_hash(const seqrt_dataset *d)
{
    uint64_t h = SEQRT_FNV_OFFSET;
    for (int i = 0; i < d->n_x + d->n_y; i++) {
        const seqrt_array *a = i < d->n_x ? &d->x[i] : &d->y[i - d->n_x];
        if (a->data)
            h = seqrt_fnv1a(h, a->data, (size_t)a->count * (a->is_int ? sizeof(int32_t) : sizeof(seqrt_real)));
    }
    return h;
}

enum { N_STATE = 24 };

/* The keys and values of one checkpoint, with the storage they need. */
typedef struct {
    const char *meta[2 * (N_STATE + 64)];
    int n;
    char num[N_STATE][64];
    int n_num;
    seqrt_strbuf acc;
    char *history;
    seqrt_st_tensor *best;       /* best.<param> tensors, then train.states */
    int n_tensors;
    char **best_names;
    int64_t states_shape[1];
} State;

static void put(State *s, const char *key, const char *value)
{
    s->meta[2 * s->n] = key;
    s->meta[2 * s->n + 1] = value ? value : "";
    s->n++;
}

static void put_num(State *s, const char *key, const char *fmt, ...) SEQRT_PRINTF(3, 4);
static void put_num(State *s, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->num[s->n_num], sizeof s->num[0], fmt, ap);
    va_end(ap);
    put(s, key, s->num[s->n_num++]);
}

static void state_free(State *s, int n_params)
{
    free(s->acc.s);
    free(s->history);
    for (int i = 0; s->best_names && i < n_params; i++) free(s->best_names[i]);
    free(s->best_names);
    free(s->best);
}

/* The epoch's running sums: loss totals, then each metric's total, count. */
static void state_acc(State *s, const Run *r)
{
    seqrt_strbuf_printf(&s->acc, "%.17g %.17g", r->sum_total, r->sum_n);
    for (int i = 0; i < r->m->n_losses; i++) seqrt_strbuf_printf(&s->acc, " %.17g", r->sum_loss[i]);
    for (int k = 0; k < r->n_met; k++)
        seqrt_strbuf_printf(&s->acc, " %.17g %.17g", r->met[k].total, r->met[k].count);
}

static int state_best(State *s, const Train *t)
{
    const seqrt_model *m = t->m;
    s->best = calloc((size_t)m->n_params + 2, sizeof *s->best);
    s->best_names = calloc((size_t)m->n_params + 1, sizeof *s->best_names);
    if (!s->best || !s->best_names) return SEQRT_ENOMEM;
    for (int i = 0; i < m->n_params; i++) {
        size_t n = strlen(m->params[i].name) + 6;
        if (!(s->best_names[i] = malloc(n))) return SEQRT_ENOMEM;
        snprintf(s->best_names[i], n, "best.%s", m->params[i].name);
        s->best[i] = (seqrt_st_tensor){s->best_names[i], t->best + m->params[i].offset,
                                       m->params[i].ndim, m->params[i].shape};
    }
    s->n_tensors = m->n_params;
    return SEQRT_OK;
}

/* Mid-epoch with streams: the stateful layers' states, so the resumed run
 * continues each stream where it stopped (bit-identical to no stop). */
static int state_streams(State *s, const Train *t, int64_t step)
{
    if (!t->state_bytes || step == 0) return SEQRT_OK;
    if (!s->best && !(s->best = calloc(2, sizeof *s->best))) return SEQRT_ENOMEM;
    s->states_shape[0] = (int64_t)(t->state_bytes / sizeof(seqrt_real));
    s->best[s->n_tensors++] = (seqrt_st_tensor){"train.states", (const seqrt_real *)t->run.ws, 1,
                                                s->states_shape};
    return SEQRT_OK;
}

static int state_build(State *s, const Train *t, int64_t done, int64_t step)
{
    const seqrt_train_options *o = &t->o;
    char sched[96];
    seqrt_lr_format(&o->schedule, sched, sizeof sched);
    for (int i = 0; i < o->n_meta && s->n < 64; i++) put(s, o->meta[2 * i], o->meta[2 * i + 1]);
    put_num(s, "train.epochs_total", "%lld", (long long)t->end_epoch);
    put_num(s, "train.epoch", "%lld", (long long)done);
    put_num(s, "train.step", "%lld", (long long)step);
    put_num(s, "train.batch_size", "%lld", (long long)o->batch_size);
    put_num(s, "train.seed", "%llu", (unsigned long long)o->seed);
    put_num(s, "train.validation_split", "%.17g", o->validation_split);
    put_num(s, "train.validation_samples", "%lld", (long long)o->validation_samples);
    put_num(s, "train.shuffle", "%d", o->shuffle);
    put_num(s, "train.streams", "%d", o->streams);
    put_num(s, "train.lr0", "%.17g", t->lr0);
    put_num(s, "train.lr", "%.17g", t->opt.learning_rate);
    put_num(s, "train.schedule", "%s", sched);
    put_num(s, "train.patience", "%lld", (long long)o->patience);
    put_num(s, "train.restore_best", "%d", o->restore_best);
    put_num(s, "train.checkpoint_every", "%lld", (long long)o->checkpoint_every);
    put_num(s, "train.n_samples", "%lld", (long long)t->d->n_samples);
    put_num(s, "train.data_hash", "%016llx", (unsigned long long)t->data_hash);
    put_num(s, "train.plateau", "%.17g %lld %.17g", t->plateau.best, (long long)t->plateau.wait, t->plateau.lr);
    put_num(s, "train.early_stopping", "%.17g %lld %lld", t->es.best, (long long)t->es.wait,
            (long long)t->es.best_epoch);
    state_acc(s, &t->run);
    put(s, "train.acc", s->acc.s);
    s->history = seqrt_history_csv(&t->hist);
    put(s, "train.history", s->history);
    if (s->acc.failed || !s->history) return SEQRT_ENOMEM;
    int rc = t->best && t->es.best_epoch > 0 ? state_best(s, t) : SEQRT_OK;
    return rc ? rc : state_streams(s, t, step);
}

/* Weights, optimizer state and everything a resumed run needs, after
 * `done` epochs and `step` steps of the next. */
int seqrt_train_save_state(const Train *t, const char *path, int64_t done, int64_t step, seqrt_error *err)
{
    State s;
    memset(&s, 0, sizeof s);
    int rc = state_build(&s, t, done, step);
    if (rc) {
        state_free(&s, t->m->n_params);
        return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    }
    seqrt_checkpoint_extra x = {s.n, s.meta, s.n_tensors, s.best};
    rc = seqrt_checkpoint_save_extra(path, t->m, t->params, &t->opt, done, &x, err);
    state_free(&s, t->m->n_params);
    return rc;
}

/* The --save file: weights, optimizer state and the caller's metadata
 * (the same bytes for the same run, however it was interrupted). */
int seqrt_train_save_weights(const Train *t, const char *path, int64_t done, seqrt_error *err)
{
    seqrt_checkpoint_extra x = {t->o.n_meta, t->o.meta, 0, NULL};
    return seqrt_checkpoint_save_extra(path, t->m, t->params, &t->opt, done, &x, err);
}

/* ---- reading the state back ---- */

/* Every number of the resume state is range-checked as strictly as the
 * tensors: a count from a file never wraps, loops for ever or indexes out
 * of bounds. */
static int meta_i64(const seqrt_st_file *f, const char *path, const char *key, int64_t lo, int64_t hi,
                    int64_t *out, seqrt_error *err)
{
    return seqrt_meta_count(seqrt_st_meta(f, key), path, key, lo, hi, out, err);
}

/* out[i] within [lo, hi]; infinities allowed only where inf_ok (an early
 * stopping or plateau "best" that nothing has beaten yet). */
static int meta_range(const char *path, const char *key, const double *v, int n, double lo, double hi,
                      int inf_ok, seqrt_error *err)
{
    for (int i = 0; i < n; i++)
        if (isnan(v[i]) || (!inf_ok && isinf(v[i])) || (isfinite(v[i]) && (v[i] < lo || v[i] > hi)))
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata '%s': %g is not in [%g, %g]", path, key,
                                v[i], lo, hi);
    return SEQRT_OK;
}

/* A whole number in [0, SEQRT_MAX_COUNT] held as a double. */
static int meta_whole(const char *path, const char *key, double v, seqrt_error *err)
{
    if (!(v >= 0 && v <= (double)SEQRT_MAX_COUNT && v == floor(v)))
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata '%s': %g is not a whole count", path, key, v);
    return SEQRT_OK;
}

static int meta_u64(const seqrt_st_file *f, const char *path, const char *key, uint64_t *out,
                    int base, seqrt_error *err)
{
    const char *v = seqrt_st_meta(f, key);
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, base) : 0;
    if (!v || errno || *end || end == v)
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: %s '%s' in the metadata", path,
                            v ? "bad" : "no", key);
    *out = x;
    return SEQRT_OK;
}

/* n numbers separated by spaces. */
static int meta_doubles(const seqrt_st_file *f, const char *path, const char *key, double *out, int n,
                        seqrt_error *err)
{
    const char *v = seqrt_st_meta(f, key);
    if (!v) return seqrt_errorf(err, SEQRT_EFORMAT, "%s: no '%s' in the metadata", path, key);
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        while (*v == ' ') v++;
        if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))   /* strtod's hexadecimal */
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: '%s' holds a hexadecimal number", path, key);
        out[i] = strtod(v, &end);
        if (errno == EINVAL || end == v)
            return seqrt_errorf(err, SEQRT_EFORMAT, "%s: '%s' holds fewer than %d numbers", path, key, n);
        v = end;
    }
    while (*v == ' ') v++;
    if (*v) return seqrt_errorf(err, SEQRT_EFORMAT, "%s: '%s' holds more than %d numbers", path, key, n);
    return SEQRT_OK;
}

int seqrt_train_resume_options(seqrt_train_options *o, const char *path, seqrt_error *err)
{
    seqrt_st_file f;
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    if (!seqrt_st_meta(&f, "train.epochs_total")) {
        seqrt_st_free(&f);
        return seqrt_errorf(err, SEQRT_EINVAL, "%s: not a resumable checkpoint (no training state; "
                            "--load starts a new run from its weights)", path);
    }
    int64_t shuffle = 1, streams = 0, best = 0;
    double split[1] = {0}, lr0[1] = {0};
    const int64_t MAX = SEQRT_MAX_COUNT;
    rc = meta_i64(&f, path, "train.epochs_total", 0, MAX, &o->epochs, err);
    if (!rc) rc = meta_i64(&f, path, "train.batch_size", 1, INT32_MAX, &o->batch_size, err);
    if (!rc) rc = meta_u64(&f, path, "train.seed", &o->seed, 10, err);
    if (!rc) rc = meta_doubles(&f, path, "train.validation_split", split, 1, err);
    if (!rc) rc = meta_range(path, "train.validation_split", split, 1, 0, 0.999999, 0, err);
    if (!rc) rc = meta_i64(&f, path, "train.validation_samples", 0, MAX, &o->validation_samples, err);
    if (!rc) rc = meta_i64(&f, path, "train.shuffle", 0, 1, &shuffle, err);
    if (!rc) rc = meta_i64(&f, path, "train.streams", 0, 1, &streams, err);
    if (!rc) rc = meta_doubles(&f, path, "train.lr0", lr0, 1, err);
    if (!rc) rc = meta_range(path, "train.lr0", lr0, 1, 1e-300, 1e300, 0, err);
    if (!rc && !(lr0[0] > 0))
        rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata 'train.lr0' must be positive", path);
    seqrt_error lr_err = {0};   /* the parser's message, with the file and key */
    if (!rc && (rc = seqrt_lr_parse(&o->schedule, seqrt_st_meta(&f, "train.schedule"), &lr_err)))
        rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata 'train.schedule': %s", path, lr_err.msg);
    if (!rc) rc = meta_i64(&f, path, "train.patience", 0, MAX, &o->patience, err);
    if (!rc) rc = meta_i64(&f, path, "train.restore_best", 0, 1, &best, err);
    if (!rc) rc = meta_i64(&f, path, "train.checkpoint_every", 0, MAX, &o->checkpoint_every, err);
    seqrt_st_free(&f);
    o->validation_split = split[0];
    o->learning_rate = lr0[0];
    o->shuffle = (int)shuffle;
    o->streams = (int)streams;
    o->restore_best = (int)best;
    o->resume_path = path;
    return rc;
}

/* The streams' carried states at the resumed step (train.states), kept
 * until the resumed epoch has zeroed them. A checkpoint of an earlier
 * version has none: the epoch then continues from zero states. */
static int load_streams(Train *t, const seqrt_st_file *f, const char *path, seqrt_error *err)
{
    const seqrt_st_entry *e = seqrt_st_find(f, "train.states");
    if (!e) return SEQRT_OK;
    if (!t->state_bytes || t->resume_step == 0 || e->ndim != 1 ||
        e->count != (int64_t)(t->state_bytes / sizeof(seqrt_real)))
        return seqrt_errorf(err, SEQRT_EFORMAT, "%s: tensor 'train.states' holds %lld values; this model's "
                            "streams carry %lld at step %lld", path, (long long)e->count,
                            (long long)(t->state_bytes / sizeof(seqrt_real)), (long long)t->resume_step);
    if (!(t->resume_states = malloc(t->state_bytes)))
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    memcpy(t->resume_states, e->data, t->state_bytes);
    return SEQRT_OK;
}

/* The run's counters, schedule and early-stopping state, history, running
 * sums and best weights, after weights and optimizer state are in. */
int seqrt_train_load_state(Train *t, const char *path, seqrt_error *err)
{
    seqrt_st_file f;
    int rc = seqrt_st_load(&f, path, err);
    if (rc) return rc;
    int64_t n_samples = 0;
    uint64_t hash = 0;
    double pl[3], es[3], lr[1];
    Run *r = &t->run;
    int n_acc = 2 + t->m->n_losses + 2 * r->n_met;
    double *acc = calloc((size_t)n_acc, sizeof *acc);
    if (!acc) rc = seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = meta_i64(&f, path, "train.epoch", 0, t->o.epochs, &t->start_epoch, err);
    if (!rc) rc = meta_i64(&f, path, "train.step", 0, t->steps, &t->resume_step, err);
    if (!rc) rc = meta_i64(&f, path, "train.n_samples", 0, SEQRT_MAX_COUNT, &n_samples, err);
    if (!rc) rc = meta_u64(&f, path, "train.data_hash", &hash, 16, err);
    if (!rc && (n_samples != t->d->n_samples || hash != t->data_hash))
        rc = seqrt_errorf(err, SEQRT_EINVAL, "%s: the run was trained on other data (%lld samples, "
                          "hash %016llx; these are %lld samples, hash %016llx): give the same data",
                          path, (long long)n_samples, (unsigned long long)hash,
                          (long long)t->d->n_samples, (unsigned long long)t->data_hash);
    if (!rc) rc = meta_doubles(&f, path, "train.lr", lr, 1, err);
    if (!rc) rc = meta_doubles(&f, path, "train.plateau", pl, 3, err);
    if (!rc) rc = meta_doubles(&f, path, "train.early_stopping", es, 3, err);
    if (!rc) rc = meta_doubles(&f, path, "train.acc", acc, n_acc, err);
    if (!rc) rc = meta_range(path, "train.lr", lr, 1, 0, 1e300, 0, err);
    if (!rc) rc = meta_range(path, "train.plateau", pl, 3, -1e300, 1e300, 1, err);
    if (!rc) rc = meta_range(path, "train.early_stopping", es, 3, -1e300, 1e300, 1, err);
    if (!rc) rc = meta_range(path, "train.acc", acc, n_acc, -1e300, 1e300, 0, err);
    if (!rc) rc = meta_whole(path, "train.plateau", pl[1], err);
    if (!rc) rc = meta_whole(path, "train.early_stopping", es[1], err);
    if (!rc) rc = meta_whole(path, "train.early_stopping", es[2], err);
    if (!rc && !(pl[2] > 0 && isfinite(pl[2])))
        rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: metadata 'train.plateau': rate %g is not positive", path, pl[2]);
    if (!rc) rc = load_streams(t, &f, path, err);
    if (!rc && seqrt_st_meta(&f, "train.history"))
        rc = seqrt_history_parse(&t->hist, seqrt_st_meta(&f, "train.history"), err);
    if (!rc) {
        t->opt.learning_rate = lr[0];
        t->plateau = (seqrt_plateau){pl[0], (int64_t)pl[1], pl[2]};
        t->es = (EarlyStop){es[0], (int64_t)es[1], (int64_t)es[2]};
        r->sum_total = acc[0];
        r->sum_n = acc[1];
        for (int i = 0; i < t->m->n_losses; i++) r->sum_loss[i] = acc[2 + i];
        for (int k = 0; k < r->n_met; k++) {
            r->met[k].total = acc[2 + t->m->n_losses + 2 * k];
            r->met[k].count = acc[3 + t->m->n_losses + 2 * k];
        }
    }
    for (int i = 0; !rc && t->best && t->es.best_epoch > 0 && i < t->m->n_params; i++) {
        char name[300];
        snprintf(name, sizeof name, "best.%s", t->m->params[i].name);
        const seqrt_st_entry *e = seqrt_st_find(&f, name);
        if (!e || e->count != (int64_t)t->m->params[i].size)
            rc = seqrt_errorf(err, SEQRT_EFORMAT, "%s: missing or misshapen tensor '%s'", path, name);
        else memcpy(t->best + t->m->params[i].offset, e->data, t->m->params[i].size * sizeof *t->best);
    }
    free(acc);
    seqrt_st_free(&f);
    return rc;
}
