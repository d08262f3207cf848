/*
 * plot.c: a training run's curves as one self-contained SVG (--plot): a
 * panel for the loss and one per metric, each with the training curve
 * (solid) and the validation curve (dashed) against the epoch, axes with
 * round-number ticks, grid lines, a legend and a title. A panel whose
 * values span more than a factor of 30 (and are positive) uses a log
 * scale. Written atomically, so a browser never sees half a file.
 */
#include <stdlib.h>

#include "internal.h"

enum { PANEL_W = 480, PANEL_H = 320, LEFT = 70, RIGHT = 20, TOP = 40, BOTTOM = 50, PER_ROW = 2 };

static const char *const TRAIN_COLOR = "#1f77b4", *const VAL_COLOR = "#d62728";

typedef struct {
    double lo, hi;
    int log;
} Axis;

/* 1, 2 or 5 times a power of ten, near range / 5. */
static double nice_step(double range)
{
    if (!(range > 0)) return 1;
    double raw = range / 5, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static double axis_pos(const Axis *a, double v)
{
    double lo = a->log ? log10(a->lo) : a->lo, hi = a->log ? log10(a->hi) : a->hi;
    double x = a->log ? log10(v) : v;
    return hi > lo ? (x - lo) / (hi - lo) : 0.5;
}

/* The y range of columns c0 and c1 (c1 may be -1), padded to ticks. */
static Axis y_axis(const seqrt_history *h, int c0, int c1)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t r = 0; r < h->n_rows; r++)
        for (int k = 0; k < 2; k++) {
            double v = (k ? c1 : c0) >= 0 ? seqrt_history_value(h, r, k ? c1 : c0) : NAN;
            if (isfinite(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    Axis a = {0, 1, 0};
    if (!(lo <= hi)) return a;
    if (lo > 0 && hi / lo > 30) {
        a.log = 1;
        a.lo = pow(10, floor(log10(lo)));
        a.hi = pow(10, ceil(log10(hi)));
        return a;
    }
    if (hi == lo) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
        lo -= d;
        hi += d;
    }
    double step = nice_step(hi - lo);
    a.lo = floor(lo / step) * step;
    a.hi = ceil(hi / step) * step;
    return a;
}

static void text(seqrt_strbuf *b, double x, double y, const char *anchor, int size, const char *s)
{
    seqrt_strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">", x, y,
                        anchor, size);
    for (; *s; s++) {
        if (*s == '<') seqrt_strbuf_printf(b, "&lt;");
        else if (*s == '>') seqrt_strbuf_printf(b, "&gt;");
        else if (*s == '&') seqrt_strbuf_printf(b, "&amp;");
        else if (*s == '"') seqrt_strbuf_printf(b, "&quot;");
        else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) seqrt_strbuf_add(b, s, 1);
        else seqrt_strbuf_printf(b, "?");
    }
    seqrt_strbuf_printf(b, "</text>\n");
}

static void tick_label(char *buf, size_t n, double v)
{
    if (v == 0) snprintf(buf, n, "0");
    else if (fabs(v) >= 1e5 || fabs(v) < 1e-3) snprintf(buf, n, "%.0e", v);
    else snprintf(buf, n, "%.4g", v);
}

/* Axes, grid and ticks of one panel with its plot area at (x0, y0, w, h). */
static void frame(seqrt_strbuf *b, const Axis *xa, const Axis *ya, double x0, double y0, double w,
                  double h, const char *ylabel)
{
    char lab[32];
    seqrt_strbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
                        "stroke=\"#333\"/>\n", x0, y0, w, h);
    double ys = ya->log ? 10 : nice_step(ya->hi - ya->lo);
    for (double v = ya->lo; v <= ya->hi * (1 + 1e-9) + (ya->log ? 0 : ys * 1e-9); v = ya->log ? v * ys : v + ys) {
        double y = y0 + h - axis_pos(ya, v) * h;
        seqrt_strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                            x0, y, x0 + w, y);
        tick_label(lab, sizeof lab, fabs(v) < ys * 1e-9 ? 0 : v);
        text(b, x0 - 6, y + 4, "end", 11, lab);
    }
    double xs = nice_step(xa->hi - xa->lo);
    xs = xs < 1 ? 1 : xs;
    for (double v = ceil(xa->lo / xs) * xs; v <= xa->hi + 1e-9; v += xs) {
        double x = x0 + axis_pos(xa, v) * w;
        seqrt_strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                            x, y0, x, y0 + h);
        snprintf(lab, sizeof lab, "%.0f", v);
        text(b, x, y0 + h + 16, "middle", 11, lab);
    }
    text(b, x0 + w / 2, y0 + h + 36, "middle", 12, "epoch");
    seqrt_strbuf_printf(b, "<g transform=\"translate(%.1f %.1f) rotate(-90)\">\n", x0 - 52, y0 + h / 2);
    text(b, 0, 0, "middle", 12, ylabel);
    seqrt_strbuf_printf(b, "</g>\n");
}

static void curve(seqrt_strbuf *b, const seqrt_history *h, int col, const Axis *xa, const Axis *ya,
                  double x0, double y0, double w, double ht, const char *color, int dashed,
                  const char *name)
{
    seqrt_strbuf_printf(b, "<polyline class=\"curve\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" "
                        "stroke-width=\"2\"%s points=\"", name, color,
                        dashed ? " stroke-dasharray=\"6 4\"" : "");
    for (int64_t r = 0; r < h->n_rows; r++) {
        double v = seqrt_history_value(h, r, col);
        if (!isfinite(v) || (ya->log && v <= 0)) continue;
        seqrt_strbuf_printf(b, "%.1f,%.1f ", x0 + axis_pos(xa, (double)h->epoch[r]) * w,
                            y0 + ht - axis_pos(ya, v) * ht);
    }
    seqrt_strbuf_printf(b, "\"/>\n");
    if (h->n_rows > 40) return;
    for (int64_t r = 0; r < h->n_rows; r++) {
        double v = seqrt_history_value(h, r, col);
        if (!isfinite(v) || (ya->log && v <= 0)) continue;
        seqrt_strbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                            x0 + axis_pos(xa, (double)h->epoch[r]) * w, y0 + ht - axis_pos(ya, v) * ht, color);
    }
}

static void legend(seqrt_strbuf *b, double x, double y, const char *tname, const char *vname)
{
    int rows = vname ? 2 : 1;
    seqrt_strbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"130\" height=\"%d\" fill=\"white\" "
                        "fill-opacity=\"0.85\" stroke=\"#999\"/>\n", x - 136, y + 6, rows * 18 + 6);
    for (int i = 0; i < rows; i++) {
        double ly = y + 20 + i * 18;
        seqrt_strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                            "stroke-width=\"2\"%s/>\n", x - 130, ly - 4, x - 104, ly - 4,
                            i ? VAL_COLOR : TRAIN_COLOR, i ? " stroke-dasharray=\"6 4\"" : "");
        text(b, x - 98, ly, "start", 11, i ? vname : tname);
    }
}

/* One panel: column `name` and, if present, `val_<name>`. */
static void panel(seqrt_strbuf *b, const seqrt_history *h, int c, int index, const Axis *xa)
{
    char vname[80];
    snprintf(vname, sizeof vname, "val_%s", h->cols[c]);
    int v = seqrt_history_column(h, vname);
    Axis ya = y_axis(h, c, v);
    double px = (index % PER_ROW) * PANEL_W, py = 30 + (index / PER_ROW) * PANEL_H;
    double x0 = px + LEFT, y0 = py + TOP, w = PANEL_W - LEFT - RIGHT, ht = PANEL_H - TOP - BOTTOM;
    char title[120];
    snprintf(title, sizeof title, "%s%s", h->cols[c], ya.log ? " (log scale)" : "");
    text(b, x0 + w / 2, py + 26, "middle", 14, title);
    frame(b, xa, &ya, x0, y0, w, ht, h->cols[c]);
    curve(b, h, c, xa, &ya, x0, y0, w, ht, TRAIN_COLOR, 0, h->cols[c]);
    if (v >= 0) curve(b, h, v, xa, &ya, x0, y0, w, ht, VAL_COLOR, 1, vname);
    legend(b, x0 + w, y0, h->cols[c], v >= 0 ? vname : NULL);
}

/* Columns to draw: the training values (not val_*, lr or seconds). */
static int panel_columns(const seqrt_history *h, int *cols)
{
    int n = 0;
    for (int c = 0; c < h->n_cols; c++)
        if (strncmp(h->cols[c], "val_", 4) && strcmp(h->cols[c], "lr") && strcmp(h->cols[c], "seconds"))
            cols[n++] = c;
    return n;
}

int seqrt_plot_svg(const seqrt_history *h, const char *path, const char *title, seqrt_error *err)
{
    int cols[SEQRT_HISTORY_MAX_COLS], n = panel_columns(h, cols);
    if (n == 0 || h->n_rows == 0) return seqrt_errorf(err, SEQRT_EINVAL, "%s: nothing to plot yet", path);
    int wide = n < PER_ROW ? n : PER_ROW, rows = (n + PER_ROW - 1) / PER_ROW;
    Axis xa = {(double)h->epoch[0], (double)h->epoch[h->n_rows - 1], 0};
    if (xa.hi <= xa.lo) xa.hi = xa.lo + 1;
    seqrt_strbuf b = {0};
    seqrt_strbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
                        wide * PANEL_W, 30 + rows * PANEL_H, wide * PANEL_W, 30 + rows * PANEL_H);
    seqrt_strbuf_printf(&b, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\"/>\n");
    char head[300];
    snprintf(head, sizeof head, "%s: %lld epochs", title ? title : "training", (long long)h->n_rows);
    text(&b, wide * PANEL_W / 2.0, 22, "middle", 16, head);
    for (int i = 0; i < n; i++) panel(&b, h, cols[i], i, &xa);
    seqrt_strbuf_printf(&b, "</svg>\n");
    if (b.failed) {
        free(b.s);
        return seqrt_errorf(err, SEQRT_ENOMEM, "%s: out of memory", path);
    }
    int rc = seqrt_atomic_save(path, b.s, b.len, err);
    free(b.s);
    return rc;
}
