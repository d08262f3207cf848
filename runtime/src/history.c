/*
 * history.c: the table of per-epoch results a training run keeps (Keras's
 * History): one row per epoch, one column per logged value (loss, metrics,
 * val_*, then lr and seconds). The CLI writes it as CSV (--log) and draws
 * it (plot.c, --plot); checkpoints carry it as CSV text so a resumed run's
 * log and plot cover the whole run.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

void seqrt_history_init(seqrt_history *h)
{
    memset(h, 0, sizeof *h);
}

void seqrt_history_free(seqrt_history *h)
{
    free(h->epoch);
    free(h->values);
    memset(h, 0, sizeof *h);
}

int seqrt_history_column(const seqrt_history *h, const char *name)
{
    for (int c = 0; c < h->n_cols; c++)
        if (strcmp(h->cols[c], name) == 0) return c;
    return -1;
}

/* Rows are stored n_cols values apart, so the columns are fixed before the
 * first row (the first epoch's log, or a CSV header). */
static double *at(const seqrt_history *h, int64_t row, int col)
{
    return &h->values[row * h->n_cols + col];
}

static int add_column(seqrt_history *h, const char *name, seqrt_error *err)
{
    if (h->n_rows > 0)
        return seqrt_errorf(err, SEQRT_EINVAL, "history: column '%s' added after the first row", name);
    if (h->n_cols >= SEQRT_HISTORY_MAX_COLS)
        return seqrt_errorf(err, SEQRT_ERANGE, "history: more than %d columns", SEQRT_HISTORY_MAX_COLS);
    snprintf(h->cols[h->n_cols++], sizeof h->cols[0], "%s", name);
    return SEQRT_OK;
}

/* Room for one more row; NaN fills the values nobody sets. */
static int add_row(seqrt_history *h, int64_t epoch, seqrt_error *err)
{
    if (h->n_rows == h->cap) {
        int64_t cap = h->cap ? 2 * h->cap : 64;
        int64_t *e = realloc(h->epoch, (size_t)cap * sizeof *e);
        if (e) h->epoch = e;
        double *v = e ? realloc(h->values, ((size_t)cap * (size_t)h->n_cols + 1) * sizeof *v) : NULL;
        if (!v) return seqrt_errorf(err, SEQRT_ENOMEM, "history: out of memory");
        h->values = v;
        h->cap = cap;
    }
    h->epoch[h->n_rows] = epoch;
    for (int c = 0; c < h->n_cols; c++) *at(h, h->n_rows, c) = NAN;
    h->n_rows++;
    return SEQRT_OK;
}

double seqrt_history_value(const seqrt_history *h, int64_t row, int col)
{
    return *at(h, row, col);
}

static void set_value(seqrt_history *h, const char *name, double v)
{
    int c = seqrt_history_column(h, name);
    if (c >= 0) *at(h, h->n_rows - 1, c) = v;
}

int seqrt_history_add(seqrt_history *h, const seqrt_epoch_log *log, seqrt_error *err)
{
    int rc = SEQRT_OK;
    if (h->n_cols == 0) {
        for (int i = 0; !rc && i < log->n; i++) rc = add_column(h, log->names[i], err);
        if (!rc) rc = add_column(h, "lr", err);
        if (!rc) rc = add_column(h, "seconds", err);
    }
    if (!rc) rc = add_row(h, log->epoch, err);
    if (rc) return rc;
    for (int i = 0; i < log->n; i++) set_value(h, log->names[i], log->values[i]);
    set_value(h, "lr", log->lr);
    set_value(h, "seconds", log->seconds);
    return SEQRT_OK;
}

char *seqrt_history_csv(const seqrt_history *h)
{
    seqrt_strbuf b = {0};
    seqrt_strbuf_printf(&b, "epoch");
    for (int c = 0; c < h->n_cols; c++) seqrt_strbuf_printf(&b, ",%s", h->cols[c]);
    seqrt_strbuf_printf(&b, "\n");
    for (int64_t r = 0; r < h->n_rows; r++) {
        seqrt_strbuf_printf(&b, "%lld", (long long)h->epoch[r]);
        for (int c = 0; c < h->n_cols; c++) {
            double v = seqrt_history_value(h, r, c);
            if (isnan(v)) seqrt_strbuf_printf(&b, ",");
            else seqrt_strbuf_printf(&b, ",%.8g", v);
        }
        seqrt_strbuf_printf(&b, "\n");
    }
    if (b.failed || !b.s) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int seqrt_history_write(const seqrt_history *h, const char *path, seqrt_error *err)
{
    char *text = seqrt_history_csv(h);
    if (!text) return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    int rc = seqrt_atomic_save(path, text, strlen(text), err);
    free(text);
    return rc;
}

/* One line of the CSV text: the header's names, or a row's numbers. */
static int parse_line(seqrt_history *h, const char *s, size_t len, int header, seqrt_error *err)
{
    char field[64];
    int col = -1, rc = SEQRT_OK;
    for (size_t i = 0; i <= len && !rc; col++) {
        size_t j = i;
        while (j < len && s[j] != ',') j++;
        if (j - i >= sizeof field) return seqrt_errorf(err, SEQRT_EFORMAT, "history: field too long");
        memcpy(field, s + i, j - i);
        field[j - i] = '\0';
        i = j + 1;
        if (header) {
            if (col >= 0) rc = add_column(h, field, err);
            else if (strcmp(field, "epoch") != 0)
                return seqrt_errorf(err, SEQRT_EFORMAT, "history: the first column is not 'epoch'");
            continue;
        }
        if (col >= h->n_cols) return seqrt_errorf(err, SEQRT_EFORMAT, "history: too many fields");
        char *end;
        errno = 0;
        double v = field[0] ? strtod(field, &end) : NAN;
        if (field[0] && (errno || *end)) return seqrt_errorf(err, SEQRT_EFORMAT, "history: bad number '%s'", field);
        if (col < 0) rc = add_row(h, (int64_t)v, err);
        else *at(h, h->n_rows - 1, col) = v;
    }
    return rc;
}

int seqrt_history_parse(seqrt_history *h, const char *text, seqrt_error *err)
{
    seqrt_history_init(h);
    int rc = SEQRT_OK;
    for (int line = 0; !rc && *text; line++) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        if (len) rc = parse_line(h, text, len, line == 0, err);
        text += len + (nl ? 1 : 0);
    }
    if (rc) seqrt_history_free(h);
    return rc;
}
