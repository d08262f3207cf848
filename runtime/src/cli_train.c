/*
 * cli_train.c: the commands that train or check training: train (progress
 * bar, history files, Ctrl-C, the report after the last epoch), grad,
 * gradcheck, and summary's memory plan of one training step.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli_internal.h"

/* " 0.1234" or " 1.2345e-05": Keras's figures. */
static void value_text(char *buf, size_t n, double v)
{
    snprintf(buf, n, fabs(v) > 1e-3 || v == 0 ? " %.4f" : " %.4e", v);
}

static void per_step_text(char *buf, size_t n, double per)
{
    if (per >= 1 || per == 0) snprintf(buf, n, "%.0fs/step", per);
    else if (per >= 1e-3) snprintf(buf, n, "%.0fms/step", per * 1e3);
    else snprintf(buf, n, "%.0fus/step", per * 1e6);
}

/* Keras's epoch line: "Epoch 3/100" then "4/4 - 0s 1ms/step - loss: ...". */
static void print_epoch(const seqrt_epoch_log *log, void *ctx)
{
    char per[32], v[48];
    (void)ctx;
    per_step_text(per, sizeof per, log->steps ? log->seconds / (double)log->steps : 0);
    printf("Epoch %lld/%lld\n%lld/%lld - %.0fs %s", (long long)log->epoch, (long long)log->epochs,
           (long long)log->steps, (long long)log->steps, log->seconds, per);
    for (int i = 0; i < log->n; i++) {
        value_text(v, sizeof v, log->values[i]);
        printf(" - %s:%s", log->names[i], v);
    }
    printf("\n");
    fflush(stdout);
}

/* ---- train: progress, history files, interrupt ---- */

typedef struct {
    int tty, quiet, warned;
    int64_t shown_epoch;          /* the epoch whose header is on screen */
    double last_draw;
    const char *log_path, *plot_path;
    char title[400];
    double last_val_loss;
} Progress;

static volatile sig_atomic_t interrupt_flag;

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_flag = 1;
}

static double wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Frames (\r, ESC[K) only for a person at a terminal: not for a pipe or a
 * file, not for a dumb terminal, and never under an MPI launcher, which
 * gives each rank a pseudo-terminal even when its own output is a file. */
static int wants_frames(void)
{
    const char *term = getenv("TERM");
    if (!isatty(STDOUT_FILENO) || (term && strcmp(term, "dumb") == 0)) return 0;
    return seqrt_dist_size() <= 1 && !getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") &&
           !getenv("PMIX_RANK");
}

/* The terminal's width now, asked at every frame so that a resize takes
 * effect at the next one; $COLUMNS or 80 when it will not say. */
static int term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    int cols = env ? atoi(env) : 0;
    return cols > 0 ? cols : 80;
}

enum { BAR_MAX = 30, BAR_MIN = 4, SEG_LEN = 128 };

/* The pieces after the bar: the ETA (or the epoch's time) and " - name: value" each. */
static int bar_segments(const seqrt_epoch_log *log, int done, char (*seg)[SEG_LEN])
{
    char t[48];
    if (done) {
        per_step_text(t, sizeof t, log->steps ? log->seconds / (double)log->steps : 0);
        snprintf(seg[0], SEG_LEN, " - %.0fs %s", log->seconds, t);
    } else {
        double eta = log->step ? log->seconds / (double)log->step * (double)(log->steps - log->step) : 0;
        if (eta >= 3600) snprintf(seg[0], SEG_LEN, " - ETA: %d:%02d:%02d", (int)eta / 3600, (int)eta / 60 % 60, (int)eta % 60);
        else if (eta >= 60) snprintf(seg[0], SEG_LEN, " - ETA: %d:%02d", (int)eta / 60, (int)eta % 60);
        else snprintf(seg[0], SEG_LEN, " - ETA: %.0fs", eta);
    }
    for (int i = 0; i < log->n; i++) {
        value_text(t, sizeof t, log->values[i]);
        snprintf(seg[i + 1], SEG_LEN, " - %.60s:%s", log->names[i], t);
    }
    return log->n + 1;
}

/* Keras's terminal bar, " 37/120 [=========>....] - ETA: 4s - loss: ...",
 * fitted to the terminal: the bar shrinks (30 columns at most) to make room
 * for the running loss, and a frame keeps to one row, so \r redraws it in
 * place, dropping what does not fit. The epoch's last line (done) wraps its values onto more rows
 * instead. One column is left free: writing the last one wraps on some
 * terminals. */
static void draw_bar(const seqrt_epoch_log *log, int done)
{
    static char seg[SEQRT_LOG_MAX + 1][SEG_LEN];
    char line[1024];
    int cols = term_columns() - 1, n = bar_segments(log, done, seg);
    if (cols < 1) cols = 1;
    if (cols > (int)sizeof line - 1) cols = (int)sizeof line - 1;
    int digits = snprintf(NULL, 0, "%lld", (long long)log->steps);
    int len = snprintf(line, sizeof line, "%*lld/%lld", digits, (long long)log->step, (long long)log->steps);
    /* Room for the ETA and the running loss if the bar can keep 10 columns. */
    int width = cols - len - 3 - (int)strlen(seg[0]) - (n > 1 ? (int)strlen(seg[1]) : 0);
    if (width < 10) width = cols - len - 3 - (int)strlen(seg[0]);
    width = width > BAR_MAX ? BAR_MAX : width;
    if (width >= BAR_MIN && len + 3 + width < (int)sizeof line) {
        int fill = log->steps ? (int)(width * log->step / log->steps) : width;
        line[len++] = ' ';
        line[len++] = '[';
        for (int i = 0; i < width; i++)
            line[len++] = i < fill - 1 || (done && i < fill) ? '=' : i == fill - 1 ? '>' : '.';
        line[len++] = ']';
        line[len] = '\0';
    }
    int i = 0;
    for (; i < n && len + (int)strlen(seg[i]) <= cols; i++) len += snprintf(line + len, sizeof line - (size_t)len, "%s", seg[i]);
    line[len < cols ? len : cols] = '\0';   /* a terminal too narrow even for the count */
    printf("\r%s\033[K", line);
    /* The last line: what did not fit goes on below, "  loss: ... - mae: ...". */
    while (done && i < n) {
        len = snprintf(line, sizeof line, "  %s", seg[i++] + 3);
        for (; i < n && len + (int)strlen(seg[i]) <= cols; i++) len += snprintf(line + len, sizeof line - (size_t)len, "%s", seg[i]);
        printf("\n%s", line);
    }
    fflush(stdout);
}

static void show_epoch_header(Progress *p, const seqrt_epoch_log *log)
{
    if (p->shown_epoch == log->epoch) return;
    printf("Epoch %lld/%lld\n", (long long)log->epoch, (long long)log->epochs);
    p->shown_epoch = log->epoch;
}

static void on_step(const seqrt_epoch_log *log, void *ctx)
{
    Progress *p = ctx;
    double t = wall_time();
    show_epoch_header(p, log);
    if (log->step < log->steps && t - p->last_draw < 0.1) return;
    p->last_draw = t;
    draw_bar(log, 0);
}

/* The epoch's history as CSV and SVG; a failure is a warning, once. */
static void write_history(Progress *p, const seqrt_epoch_log *log)
{
    seqrt_error err = {0};
    int rc = 0;
    if (!log->history) return;
    if (p->log_path) rc = seqrt_history_write(log->history, p->log_path, &err);
    if (!rc && p->plot_path) rc = seqrt_plot_svg(log->history, p->plot_path, p->title, &err);
    if (rc && !p->warned) fprintf(stderr, "warning: %s\n", err.msg);
    p->warned |= rc != 0;
}

static void on_epoch(const seqrt_epoch_log *log, void *ctx)
{
    Progress *p = ctx;
    for (int i = 0; i < log->n; i++)
        if (strcmp(log->names[i], "val_loss") == 0) p->last_val_loss = log->values[i];
    write_history(p, log);
    if (p->quiet) return;
    if (p->tty) {
        show_epoch_header(p, log);
        draw_bar(log, 1);
        printf("\n");
    } else {
        print_epoch(log, NULL);
    }
    if (log->note) printf("%s\n", log->note);
    fflush(stdout);
}

/* ---- train: options ---- */

/* With --resume, an option given again must agree with the plan. */
static int plan_clash(Cli *c, OptId id, int same, const char *plan)
{
    if (!c->o.given[id] || same) return 0;
    return seqrt_cli_bad_usage(c->m, c->prog,
                               "--%s %s: the run being resumed has %s (drop the option to keep it)",
                               seqrt_cli_option_name(id), c->o.value[id] ? c->o.value[id] : "(given)", plan);
}

static int check_plan(Cli *c, const seqrt_train_options *plan, const seqrt_train_options *t)
{
    char a[96], b[96];
    seqrt_lr_format(&plan->schedule, a, sizeof a);
    seqrt_lr_format(&t->schedule, b, sizeof b);
    snprintf(b + 48, 48, "%lld", (long long)plan->batch_size);
    int rc = plan_clash(c, OPT_BATCH, t->batch_size == plan->batch_size, b + 48);
    char v[64];
    snprintf(v, sizeof v, "%llu", (unsigned long long)plan->seed);
    if (!rc) rc = plan_clash(c, OPT_SEED, t->seed == plan->seed, v);
    snprintf(v, sizeof v, "%g", plan->validation_split);
    if (!rc) rc = plan_clash(c, OPT_SPLIT, t->validation_split == plan->validation_split, v);
    snprintf(v, sizeof v, "%g", plan->learning_rate);
    if (!rc) rc = plan_clash(c, OPT_LR, t->learning_rate == plan->learning_rate, v);
    if (!rc) rc = plan_clash(c, OPT_NO_SHUFFLE, !plan->shuffle, "shuffling on");
    if (!rc) rc = plan_clash(c, OPT_LR_SCHEDULE, strcmp(a, b) == 0, a);
    snprintf(v, sizeof v, "%lld", (long long)plan->patience);
    if (!rc) rc = plan_clash(c, OPT_PATIENCE, t->patience == plan->patience, v);
    if (!rc) rc = plan_clash(c, OPT_RESTORE_BEST, plan->restore_best, "no --restore-best");
    if (!rc && c->o.given[OPT_LOAD]) rc = seqrt_cli_bad_usage(c->m, c->prog, "--load and --resume exclude each other");
    if (!rc && c->o.given[OPT_LOAD_PARTIAL])
        rc = seqrt_cli_bad_usage(c->m, c->prog, "--load-partial and --resume exclude each other");
    return rc;
}

/* "W.safetensors" -> "W.ckpt.safetensors"; without --save, "<model>.ckpt.safetensors". */
static void default_checkpoint(char *buf, size_t n, const char *save, const char *model)
{
    const char *ext = save ? strstr(save, ".safetensors") : NULL;
    if (ext && ext[12] == '\0') snprintf(buf, n, "%.*s.ckpt.safetensors", (int)(ext - save), save);
    else if (save) snprintf(buf, n, "%s.ckpt", save);
    else snprintf(buf, n, "%s.ckpt.safetensors", model && *model ? model : "model");
}

/* Every train option into t (dflt_split: the data mode's default). */
static int train_options(Cli *c, seqrt_train_options *t, double dflt_split, char *ckpt, size_t ckpt_len)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    int64_t epochs, batch, every, patience;
    seqrt_error err = {0};
    *t = seqrt_train_defaults(m);
    int rc = seqrt_cli_i64(o, OPT_EPOCHS, t->epochs, &epochs, m, c->prog);
    if (!rc) rc = seqrt_cli_i64(o, OPT_BATCH, t->batch_size, &batch, m, c->prog);
    if (!rc) rc = seqrt_cli_double(o, OPT_SPLIT, dflt_split, &t->validation_split, m, c->prog);
    if (!rc) rc = seqrt_cli_double(o, OPT_LR, 0, &t->learning_rate, m, c->prog);
    if (!rc) rc = seqrt_cli_seed(o, &t->seed, m, c->prog);
    if (!rc) rc = seqrt_cli_i64(o, OPT_PATIENCE, 0, &patience, m, c->prog);
    if (!rc) rc = seqrt_cli_i64(o, OPT_CHECKPOINT_EVERY, 0, &every, m, c->prog);
    if (!rc && seqrt_lr_parse(&t->schedule, o->value[OPT_LR_SCHEDULE], &err))
        rc = seqrt_cli_bad_usage(m, c->prog, "%s", err.msg);
    if (!rc && o->given[OPT_RESTORE_BEST] && !o->given[OPT_PATIENCE])
        rc = seqrt_cli_bad_usage(m, c->prog, "--restore-best needs --patience N (early stopping)");
    if (rc) return rc;
    t->epochs = epochs;
    t->batch_size = batch;
    t->patience = patience;
    t->restore_best = o->given[OPT_RESTORE_BEST];
    t->checkpoint_every = every;
    t->shuffle = !o->given[OPT_NO_SHUFFLE];
    t->check_numerics = o->given[OPT_CHECK_NUMERICS];
    t->save_path = o->value[OPT_SAVE];
    t->load_path = o->value[OPT_LOAD];
    if (o->given[OPT_LOAD_PARTIAL] && o->given[OPT_LOAD])
        return seqrt_cli_bad_usage(m, c->prog, "--load and --load-partial exclude each other");
    if (o->given[OPT_LOAD_PARTIAL]) t->load_path = o->value[OPT_LOAD_PARTIAL], t->load_partial = 1;
    if (o->value[OPT_CHECKPOINT]) snprintf(ckpt, ckpt_len, "%s", o->value[OPT_CHECKPOINT]);
    else default_checkpoint(ckpt, ckpt_len, t->save_path, m->name);
    t->checkpoint_path = ckpt;
    if (!o->given[OPT_RESUME]) return 0;
    seqrt_train_options plan = *t;
    if (seqrt_train_resume_options(&plan, o->value[OPT_RESUME], &err)) return seqrt_cli_error_exit(&err);
    if ((rc = check_plan(c, &plan, t))) return rc;
    if (o->given[OPT_EPOCHS]) plan.epochs = epochs;   /* the run's new total */
    if (o->given[OPT_CHECKPOINT_EVERY]) plan.checkpoint_every = every;
    *t = plan;
    return 0;
}

/* ---- train: data ---- */

typedef enum { DATA_NPY, DATA_CSV, DATA_TEXT } DataKind;

typedef struct {
    DataKind kind;
    seqrt_dataset d;
    seqrt_series series;
    seqrt_text text;
    char series_vals[SEQRT_SERIES_META][160];
    char text_vals[SEQRT_TEXT_META][520];
    const char *meta[2 * 8];
    int n_meta;
    char label[300];
} Data;

static DataKind data_kind(const Opts *o)
{
    return o->given[OPT_CSV] ? DATA_CSV : o->given[OPT_TEXT] ? DATA_TEXT : DATA_NPY;
}

/* --csv FILE --column NAME [--window N] [--horizon K]: windows, split
 * and scaling, whose parameters go into every saved file. */
static int load_series(Cli *c, Data *a, double split, seqrt_error *err)
{
    const Opts *o = &c->o;
    int64_t window, horizon, n;
    int rc = seqrt_cli_i64(o, OPT_WINDOW, 0, &window, c->m, c->prog);
    if (!rc) rc = seqrt_cli_i64(o, OPT_HORIZON, 0, &horizon, c->m, c->prog);
    if (!rc && !o->given[OPT_COLUMN]) rc = seqrt_cli_bad_usage(c->m, c->prog, "--csv needs --column NAME");
    if (rc) return -rc;
    double *v = NULL;
    rc = seqrt_series_plan(&a->series, c->m, window, horizon, err);
    snprintf(a->label, sizeof a->label, "%s (column '%s')", o->value[OPT_CSV], o->value[OPT_COLUMN]);
    if (!rc) rc = seqrt_csv_column(o->value[OPT_CSV], o->value[OPT_COLUMN], &v, &n, err);
    if (!rc) rc = seqrt_series_dataset(&a->d, &a->series, c->m, v, n, split, 1, 1, a->label, err);
    free(v);
    snprintf(a->series.column, sizeof a->series.column, "%s", o->value[OPT_COLUMN]);
    seqrt_series_meta(&a->series, a->series_vals, a->meta);
    a->n_meta = SEQRT_SERIES_META;
    return rc;
}

/* --text FILE [--bptt K]: streams of the text, vocabulary saved. */
static int load_text(Cli *c, Data *a, double split, int64_t streams, seqrt_error *err)
{
    int64_t bptt, n;
    int rc = seqrt_cli_i64(&c->o, OPT_BPTT, 64, &bptt, c->m, c->prog);
    if (rc) return -rc;
    unsigned char *s = NULL;
    snprintf(a->label, sizeof a->label, "%s", c->o.value[OPT_TEXT]);
    rc = seqrt_text_read(a->label, &s, &n, err);
    if (!rc) rc = seqrt_text_dataset(&a->d, &a->text, c->m, s, n, streams, bptt, split, a->label, err);
    free(s);
    seqrt_text_meta(&a->text, a->text_vals, a->meta);
    a->n_meta = SEQRT_TEXT_META;
    return rc;
}

/* The data of a train run; a negative return is a usage status. */
static int train_data(Cli *c, Data *a, seqrt_train_options *t, seqrt_error *err)
{
    int rc;
    switch (a->kind) {
    case DATA_CSV:
        if ((rc = load_series(c, a, t->validation_split, err))) return rc;
        t->validation_samples = a->series.n_val;
        break;
    case DATA_TEXT:
        if ((rc = load_text(c, a, t->validation_split, t->batch_size, err))) return rc;
        t->validation_samples = a->text.n_val_samples;
        t->streams = 1;
        t->shuffle = 0;
        break;
    case DATA_NPY:
        return seqrt_dataset_load(&a->d, c->m, c->xp, c->yp, err);
    }
    t->meta = a->meta;
    t->n_meta = a->n_meta;
    return 0;
}

/* ---- train: the report after the last epoch ---- */

static void report_stop(const seqrt_train_result *r)
{
    if (!r->stopped_early) return;
    printf("early stopping: %s did not improve after epoch %lld (%s %.6g); stopped after epoch %lld%s\n",
           r->monitor, (long long)r->best_epoch, r->monitor, r->best_value, (long long)r->epochs_done,
           r->restored_best ? "; restored the weights of the best epoch" : "");
}

static int report_series(Cli *c, Data *a, const seqrt_real *w, seqrt_error *err)
{
    const seqrt_series *s = &a->series;
    if (s->n_val < 1) return 0;
    seqrt_series_scores sc;
    int rc = seqrt_series_score(c->m, &a->d, s, w, s->n_windows - s->n_val, s->n_val, &sc, err);
    if (rc) return rc;
    printf("validation, %lld windows of %lld steps, %lld-step forecasts of '%s' (its units):\n"
           "  %-22s MAE %10.4f  RMSE %10.4f\n  %-22s MAE %10.4f  RMSE %10.4f\n"
           "  model / naive MAE %.3f (%s the naive forecast)\n",
           (long long)sc.windows, (long long)s->window, (long long)s->horizon, s->column, c->m->name,
           sc.mae, sc.rmse, "naive (last value)", sc.naive_mae, sc.naive_rmse, sc.mae / sc.naive_mae,
           sc.mae < sc.naive_mae ? "beats" : "does not beat");
    return 0;
}

static void report_text(const Data *a, const Progress *p, const seqrt_train_result *r)
{
    double loss = r->restored_best ? r->best_value : p->last_val_loss;
    if (a->text.n_val_samples < 1 || !isfinite(loss)) return;
    printf("validation: loss %.4f nats/char = %.3f bits per character; unigram entropy of the "
           "training text %.3f bits per character (%d symbols)\n",
           loss, loss / log(2.0), a->text.unigram_bits, a->text.n_vocab);
}

int seqrt_cli_train(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    static Data a;
    memset(&a, 0, sizeof a);
    a.kind = data_kind(o);
    if ((o->given[OPT_CSV] && o->given[OPT_TEXT]) || (a.kind != DATA_NPY && (o->nx || o->ny)))
        return seqrt_cli_bad_usage(m, c->prog, "give one kind of data: --x/--y, --csv or --text");
    seqrt_train_options t;
    char ckpt[600];
    int rc = a.kind == DATA_NPY ? seqrt_cli_data_paths(c, 1) : 0;
    if (!rc) rc = train_options(c, &t, a.kind == DATA_CSV ? 0.2 : a.kind == DATA_TEXT ? 0.1 : 0, ckpt, sizeof ckpt);
    if (rc) return rc;
    if (m->n_losses < 1) {
        fprintf(stderr, "error: model %s has no train block, so it cannot be trained\n", m->name);
        return 1;
    }
    /* Rank 0 alone prints and writes logs and plots (the weights: train.c). */
    int lead = seqrt_dist_rank() == 0;
    Progress p = {wants_frames(), o->given[OPT_QUIET] || !lead, 0, -1, 0,
                  lead ? o->value[OPT_LOG] : NULL, lead ? o->value[OPT_PLOT] : NULL, "", NAN};
    seqrt_train_result res;
    t.on_epoch = on_epoch;
    t.on_step = p.tty && !p.quiet ? on_step : NULL;
    t.ctx = &p;
    t.result = &res;
    t.interrupt = &interrupt_flag;
    seqrt_error err = {0};
    if ((rc = train_data(c, &a, &t, &err))) return rc < 0 ? -rc : seqrt_cli_error_exit(&err);
    const char *base = a.kind == DATA_NPY ? "" : strrchr(a.label, '/') ? strrchr(a.label, '/') + 1 : a.label;
    snprintf(p.title, sizeof p.title, "%s%s%s", m->name, *base ? " on " : "", base);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    if (!w) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory for %zu parameters", m->param_count);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = (int)SA_RESETHAND;   /* a second Ctrl-C ends the program at once */
    sigemptyset(&sa.sa_mask);
    interrupt_flag = 0;
    sigaction(SIGINT, &sa, &old);
    if (!rc) rc = seqrt_train(m, &a.d, &t, w, &err);
    sigaction(SIGINT, &old, NULL);
    if (!rc && !p.quiet) report_stop(&res);
    if (!rc && !p.quiet && a.kind == DATA_CSV) rc = report_series(c, &a, w, &err);
    if (!rc && !p.quiet && a.kind == DATA_TEXT) report_text(&a, &p, &res);
    free(w);
    seqrt_dataset_free(&a.d);
    if (p.tty && rc == SEQRT_EINTERRUPTED) printf("\n");
    if (rc == SEQRT_EINTERRUPTED) return fprintf(stderr, "%s\n", err.msg), EXIT_INTERRUPTED;
    if (rc) return seqrt_cli_error_exit(&err);
    if (!t.save_path && !p.quiet)
        fprintf(stderr, "note: no --save given, so the trained weights were not kept\n");
    return 0;
}

/* Gradients under the parameters' names, plus the scalar 'loss'. */
static int save_grads(const seqrt_model *m, const char *path, const seqrt_real *g, double loss,
                      seqrt_error *err)
{
    seqrt_st_tensor *t = calloc((size_t)m->n_params + 1, sizeof *t);
    if (!t) return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory");
    seqrt_real l = (seqrt_real)loss;
    for (int i = 0; i < m->n_params; i++)
        t[i] = (seqrt_st_tensor){m->params[i].name, g + m->params[i].offset, m->params[i].ndim,
                                 m->params[i].shape};
    t[m->n_params] = (seqrt_st_tensor){"loss", &l, 0, NULL};
    char lv[40];
    snprintf(lv, sizeof lv, "%.17g", loss);
    const char *meta[] = {"model", m->name ? m->name : "", "format", "seqc-1-gradients", "dtype",
                          SEQRT_REAL_NAME, "loss", lv};
    int rc = seqrt_st_save(path, t, m->n_params + 1, meta, 4, err);
    free(t);
    return rc;
}

int seqrt_cli_grad(Cli *c)
{
    const seqrt_model *m = c->m;
    int rc = seqrt_cli_data_paths(c, 1);
    if (!rc && c->o.nout != 1) rc = seqrt_cli_bad_usage(m, c->prog, "grad needs one --out G.safetensors");
    if (rc) return rc;
    seqrt_error err = {0};
    seqrt_dataset d;
    if (seqrt_dataset_load(&d, m, c->xp, c->yp, &err)) return seqrt_cli_error_exit(&err);
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1), *g = malloc(m->param_count * sizeof *g + 1);
    double loss = 0;
    if (!w || !g) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_cli_weights(c, w, 0, 0, &err);
    if (!rc) rc = seqrt_grad(m, &d, w, g, &loss, &err);
    if (!rc) rc = save_grads(m, c->o.out[0], g, loss, &err);
    free(w);
    free(g);
    seqrt_dataset_free(&d);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}

static int report_gradcheck(const seqrt_model *m, const double *worst, const int64_t *checked,
                            const int64_t *kinks, int quiet)
{
    double limit = seqrt_gradcheck_threshold(), all = 0;
    int64_t kinked = 0;
    for (int p = 0; p < m->n_params; p++) {
        int ok = worst[p] <= limit;
        if (!quiet || !ok) {
            printf("%-40s worst relative error %.3e over %lld elements  %s", m->params[p].name,
                   worst[p], (long long)(checked[p] - kinks[p]), ok ? "ok" : "FAILED");
            if (kinks[p]) printf(" (%lld at kinks)", (long long)kinks[p]);
            printf("\n");
        }
        all = worst[p] > all || isnan(worst[p]) ? worst[p] : all;
        kinked += kinks[p];
    }
    int ok = all <= limit;
    printf("gradcheck %s: worst %.3e, threshold %.0e (%s, floor %.0e): %s\n", m->name, all, limit,
           SEQRT_REAL_NAME, seqrt_gradcheck_floor(), ok ? "OK" : "FAILED");
    if (kinked)
        printf("%lld elements sit within eps of a kink (relu, a clip's edge, |x|, max): their "
               "one-sided differences disagree and backward's value lies between them; "
               "not counted\n", (long long)kinked);
    return ok ? 0 : 1;
}

int seqrt_cli_gradcheck(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    seqrt_gradcheck_options g = {0};
    int64_t samples;
    int files = o->nx > 0 || o->ny > 0;
    int rc = files ? seqrt_cli_data_paths(c, 1) : 0;
    if (!rc) rc = seqrt_cli_i64(o, OPT_SAMPLES, files ? INT64_MAX : 4, &samples, m, c->prog);
    if (!rc) rc = seqrt_cli_double(o, OPT_EPS, 0, &g.eps, m, c->prog);
    if (!rc) rc = seqrt_cli_seed(o, &g.seed, m, c->prog);
    if (rc) return rc;
    if (m->n_losses < 1) {
        fprintf(stderr, "error: model %s has no losses to check\n", m->name);
        return 1;
    }
    seqrt_error err = {0};
    seqrt_dataset d;
    /* Random data: 5 steps, or the fewest the model's layers accept. */
    int64_t T = 5, dims[16];
    for (; !files && T <= 4096; T *= 2) {
        for (int j = 0; j < 16; j++) dims[j] = T;
        if (seqrt_check_dims(m, dims, &err) == SEQRT_OK) break;
    }
    rc = files ? seqrt_dataset_load(&d, m, c->xp, c->yp, &err)
               : seqrt_dataset_random(&d, m, samples, T, 1, g.seed, &err);
    if (rc) return seqrt_cli_error_exit(&err);
    if (d.n_samples > samples) d.n_samples = samples;   /* the first N: rows stay in place */
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    double *worst = calloc((size_t)m->n_params + 1, sizeof *worst);
    int64_t *checked = calloc((size_t)m->n_params + 1, sizeof *checked);
    int64_t *kinks = calloc((size_t)m->n_params + 1, sizeof *kinks);
    if (!w || !worst || !checked || !kinks) rc = seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_cli_weights(c, w, 1, g.seed, &err);
    if (!rc) rc = seqrt_gradcheck(m, &d, w, &g, worst, checked, kinks, &err);
    int status = rc ? seqrt_cli_error_exit(&err)
                    : report_gradcheck(m, worst, checked, kinks, o->given[OPT_QUIET]);
    free(w);
    free(worst);
    free(checked);
    free(kinks);
    seqrt_dataset_free(&d);
    return status;
}

/* ---- summary: the layers, then the memory plan of one training step ---- */

static void print_bytes(const char *what, double bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (v >= 1024 && u < 4) v /= 1024, u++;
    printf("  %-44s %10.1f %s\n", what, v, unit[u]);
}

/* --dims T=50,S=20: the length of each named axis; every one must be set. */
static int parse_dims(const Cli *c, int64_t *dims)
{
    const seqrt_model *m = c->m;
    for (int i = 0; i < m->n_dims; i++) dims[i] = -1;
    const char *p = c->o.given[OPT_DIMS] ? c->o.value[OPT_DIMS] : "";
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq) return seqrt_cli_bad_usage(m, c->prog, "--dims wants NAME=LEN[,NAME=LEN...], not '%s'", p);
        int d = -1;
        for (int i = 0; i < m->n_dims; i++)
            if (strlen(m->dim_names[i]) == (size_t)(eq - p) && strncmp(p, m->dim_names[i], (size_t)(eq - p)) == 0)
                d = i;
        if (d < 0) return seqrt_cli_bad_usage(m, c->prog, "--dims: the model has no axis named '%.*s'", (int)(eq - p), p);
        const char *comma = strchr(eq + 1, ',');
        char len[32];
        snprintf(len, sizeof len, "%.*s", (int)(comma ? comma - eq - 1 : (long)strlen(eq + 1)), eq + 1);
        int rc = seqrt_cli_whole(len, 1, (double)(1LL << 40), &dims[d]);
        if (rc)
            return seqrt_cli_bad_usage(m, c->prog, "--dims: %s=%s: %s", m->dim_names[d], len,
                                       rc == 1 ? "not a whole number" : "out of range (1 to 1099511627776)");
        p = comma ? comma + 1 : eq + 1 + strlen(eq + 1);
    }
    for (int i = 0; i < m->n_dims; i++)
        if (dims[i] < 0) return seqrt_cli_bad_usage(m, c->prog, "summary: give --dims %s=LEN to size the activations", m->dim_names[i]);
    return 0;
}

/* What one row of an input, target or output holds, given the axis lengths. */
static double io_row_bytes(const seqrt_io *io, const int64_t *dims)
{
    double n = 1;
    for (int k = 0; k < io->ndim; k++) n *= (double)seqrt_io_dim(io, k, dims);
    return n * (io->is_int ? 4 : sizeof(seqrt_real));
}

/* The same allocations the trainer makes (train.c), sized without making
 * them: parameters, their gradients, the optimizer's slots, the generated
 * workspace (every activation BPTT keeps, laid out by the model), and the
 * batch buffers. The training data itself comes on top. */
int seqrt_cli_summary(Cli *c)
{
    const seqrt_model *m = c->m;
    fputs(m->summary ? m->summary : "(no summary)\n", stdout);
    int64_t B, dims[16];
    int rc = seqrt_cli_i64(&c->o, OPT_BATCH, m->batch_size, &B, m, c->prog);
    if (!rc && m->n_dims > (int)(sizeof dims / sizeof *dims)) rc = seqrt_cli_bad_usage(m, c->prog, "too many named axes");
    if (!rc && (c->o.given[OPT_DIMS] || m->n_dims == 0)) rc = parse_dims(c, dims);
    else if (!rc) {
        printf("(memory plan: give --dims");
        for (int i = 0; i < m->n_dims; i++) printf("%s%s=LEN", i ? "," : " ", m->dim_names[i]);
        printf(" and optionally --batch-size N)\n");
        return 0;
    }
    if (rc) return rc;
    seqrt_optim opt;
    seqrt_error err;
    if (seqrt_check_dims(m, dims, &err)) return fprintf(stderr, "%s: %s\n", c->prog, err.msg), 1;
    if (seqrt_optim_init(&opt, &m->optim, 1, &err)) return fprintf(stderr, "%s: %s\n", c->prog, err.msg), 1;
    const int slots = seqrt_optim_n_slots(&opt);
    seqrt_optim_free(&opt);
    const double P = (double)m->param_count * sizeof(seqrt_real);
    const double ws = (double)m->workspace_size(B, dims);
    double io = 0;
    for (int i = 0; i < m->n_inputs; i++) io += io_row_bytes(&m->inputs[i], dims);
    for (int i = 0; i < m->n_targets; i++) io += io_row_bytes(&m->targets[i], dims);
    for (int i = 0; i < m->n_outputs; i++) /* output, its gradient, its mask */
        io += io_row_bytes(&m->outputs[i], dims) * (2.0 + 1.0 / sizeof(seqrt_real));
    io *= (double)B;
    printf("\nMemory of one training step at batch size %lld", (long long)B);
    for (int i = 0; i < m->n_dims; i++) printf(", %s=%lld", m->dim_names[i], (long long)dims[i]);
    printf(" (%s):\n", SEQRT_REAL_NAME);
    print_bytes("parameters", P);
    print_bytes("gradients", P);
    char line[96];
    snprintf(line, sizeof line, "optimizer state (%d slot%s)", slots, slots == 1 ? "" : "s");
    print_bytes(line, P * slots);
    print_bytes("workspace (activations kept for BPTT)", ws);
    print_bytes("batch buffers (inputs, targets, outputs)", io);
    print_bytes("total", P * (2 + slots) + ws + io);
    printf("  plus the training data, and the program and its libraries.\n");
    return 0;
}

