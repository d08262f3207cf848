/*
 * import_keras.c: Keras model JSON -> .seq text (import_keras.h). The JSON
 * comes in two forms:
 *   tf.keras 2 (and TensorFlow.js): layers {class_name, config, name,
 *     inbound_nodes: [[[layer, node, tensor, kwargs], ...], ...]}; the
 *     first layer of a Sequential may carry batch_input_shape.
 *   Keras 3: every object is {module, class_name, config, registered_name};
 *     InputLayer has batch_shape; inbound_nodes are [{args, kwargs}] whose
 *     tensors are {class_name: "__keras_tensor__", config: {keras_history:
 *     [layer, node, tensor]}}.
 * Options map by name onto the attribute tables of compiler/ops (the
 * language uses Keras's names), and are written only where they differ
 * from the default, as a person would write them.
 */
#include "import_keras.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

const seqrt_json *seq_json_get(const seqrt_json *o, const char *key)
{
    if (!o || o->type != SEQRT_JSON_OBJECT) return NULL;
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key)) return o->items[i];
    return NULL;
}

static const char *jstr(const seqrt_json *o, const char *key)
{
    const seqrt_json *v = seq_json_get(o, key);
    return v && v->type == SEQRT_JSON_STRING ? v->str : NULL;
}

static bool is_null(const seqrt_json *v)
{
    return !v || v->type == SEQRT_JSON_NULL;
}

/* A reference to one tensor: output `idx` of call `node` of `layer`. */
typedef struct {
    int layer, node, idx;
} Ref;

enum { MAX_NODES = 16, MAX_REFS = 8 };

typedef struct {
    const char *name, *cls;
    const seqrt_json *cfg, *entry;
    const OpInfo *op;               /* NULL for InputLayer */
    int n_nodes;
    Ref in[MAX_NODES][MAX_REFS];
    int n_in[MAX_NODES];
    Ref state[MAX_NODES][MAX_REFS];
    int n_state[MAX_NODES];
    const seqrt_json *kwargs[MAX_NODES];
    bool used[MAX_NODES][MAX_REFS]; /* which outputs something reads */
    int n_out;
    bool is_int;                    /* an input read by Embedding */
    char ident[300];                /* the name in the .seq */
    char ctor[2048];                /* "LSTM(32, return_sequences=true)" */
} KLayer;

typedef struct {
    const char *source;
    bool keras3, tfjs;
    seqrt_strbuf notes;             /* substitutions, said in the .seq's header */
    KLayer *l;
    int n;
    char *msg;
    size_t msglen;
    bool failed;
    /* auto-name simulation: how many layers of each stem were built */
    const char *stems[64];
    int stem_count[64];
    int n_stems;
} Ctx;

static bool failf(Ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool failf(Ctx *x, const char *fmt, ...)
{
    if (x->failed) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, x->msglen, fmt, ap);
    va_end(ap);
    x->failed = true;
    return false;
}

static int find_layer(const Ctx *x, const char *name)
{
    for (int i = 0; i < x->n; i++)
        if (!strcmp(x->l[i].name, name)) return i;
    return -1;
}

/* A name the .seq accepts: [A-Za-z_][A-Za-z0-9_]*, not a reserved word. */
static void make_ident(char *dst, size_t cap, const char *src)
{
    static const char *const reserved[] = {"model", "input", "target", "output", "layer", "train",
                                           "decode", "true", "false", "int", "float", "None", "_"};
    size_t n = 0;
    if (!isalpha((unsigned char)src[0]) && src[0] != '_') n += (size_t)snprintf(dst, cap, "t_");
    for (const char *s = src; *s && n + 2 < cap && n < 200; s++)
        dst[n++] = isalnum((unsigned char)*s) || *s == '_' ? *s : '_';
    dst[n] = '\0';
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(dst, reserved[i]) && n + 2 < cap) {
            dst[n] = '_';
            dst[n + 1] = '\0';
        }
}

/* ---- option values ---- */

/* Keras's initializer object as one of the language's names, or NULL. */
static const char *initializer_name(const seqrt_json *v)
{
    const char *cls = v && v->type == SEQRT_JSON_STRING ? v->str : jstr(v, "class_name");
    if (!cls) return NULL;
    const seqrt_json *cfg = seq_json_get(v, "config");
    static const struct {
        const char *keras, *ours;
    } map[] = {{"GlorotUniform", "glorot_uniform"}, {"glorot_uniform", "glorot_uniform"},
               {"Orthogonal", "orthogonal"},        {"orthogonal", "orthogonal"},
               {"Zeros", "zeros"},                  {"zeros", "zeros"},
               {"Ones", "ones"},                    {"ones", "ones"},
               {"RandomUniform", "uniform"},        {"uniform", "uniform"}};
    if (!strcmp(cls, "VarianceScaling")) {   /* TensorFlow.js writes glorot_uniform so */
        const seqrt_json *sc = seq_json_get(cfg, "scale");
        const char *mode = jstr(cfg, "mode"), *dist = jstr(cfg, "distribution");
        if (sc && sc->type == SEQRT_JSON_NUMBER && sc->num == 1.0 && mode && !strcmp(mode, "fan_avg") &&
            dist && !strcmp(dist, "uniform"))
            return "glorot_uniform";
        /* glorot_normal (TensorFlow.js's default): not in the language; the
         * caller notes the substitution in the .seq */
        if (sc && sc->type == SEQRT_JSON_NUMBER && sc->num == 1.0 && mode && !strcmp(mode, "fan_avg") &&
            dist && (!strcmp(dist, "normal") || !strcmp(dist, "truncated_normal")))
            return "glorot_uniform*";
        return NULL;
    }
    if (!strcmp(cls, "GlorotNormal") || !strcmp(cls, "glorot_normal")) return "glorot_uniform*";
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        if (strcmp(cls, map[i].keras)) continue;
        if (!strcmp(map[i].ours, "orthogonal")) {
            const seqrt_json *gain = seq_json_get(cfg, "gain");
            if (gain && (gain->type != SEQRT_JSON_NUMBER || gain->num != 1.0)) return NULL;
        }
        if (!strcmp(map[i].ours, "uniform")) {
            const seqrt_json *lo = seq_json_get(cfg, "minval"), *hi = seq_json_get(cfg, "maxval");
            if ((lo && (lo->type != SEQRT_JSON_NUMBER || lo->num != -0.05)) ||
                (hi && (hi->type != SEQRT_JSON_NUMBER || hi->num != 0.05)))
                return NULL;
        }
        return map[i].ours;
    }
    return NULL;
}

static bool in_choices(const char *s, const char *const *choices)
{
    for (; choices && *choices; choices++)
        if (!strcmp(s, *choices)) return true;
    return false;
}

/* The float32 dtype, as either form writes it. */
static bool is_float32(const seqrt_json *v)
{
    if (is_null(v)) return true;
    if (v->type == SEQRT_JSON_STRING) return !strcmp(v->str, "float32");
    const char *n = jstr(seq_json_get(v, "config"), "name");
    return n && !strcmp(n, "float32");
}

/* Options with no counterpart that are harmless at these values. Returns
 * true when `key` is such an option and `v` is harmless; *known when the
 * key is one of them at all. */
static bool inert_option(const char *key, const seqrt_json *v, bool *known)
{
    *known = true;
    size_t n = strlen(key);
    if (!strcmp(key, "name") || !strcmp(key, "batch_input_shape") || !strcmp(key, "batch_shape") ||
        !strcmp(key, "input_shape") || !strcmp(key, "build_config") ||
        !strcmp(key, "shared_object_id") || !strcmp(key, "zero_output_for_mask"))
        return true;
    if (!strcmp(key, "implementation")) return true;   /* 1 and 2 compute the same function */
    if (!strcmp(key, "use_cudnn")) return true;        /* where it runs, not what */
    if (!strcmp(key, "seed")) return true;             /* random streams never match across frameworks */
    if (!strcmp(key, "trainable")) return v && v->type == SEQRT_JSON_TRUE;
    if (!strcmp(key, "dtype")) return is_float32(v);
    if ((n > 12 && !strcmp(key + n - 12, "_regularizer")) ||
        (n > 11 && !strcmp(key + n - 11, "_constraint")) || !strcmp(key, "noise_shape") ||
        !strcmp(key, "lora_rank") || !strcmp(key, "input_length") || !strcmp(key, "lora_alpha"))
        return is_null(v);
    if (!strcmp(key, "time_major") || !strcmp(key, "sparse") || !strcmp(key, "ragged") ||
        !strcmp(key, "causal") || !strcmp(key, "return_attention_scores") ||
        !strcmp(key, "use_causal_mask"))
        return !v || v->type == SEQRT_JSON_FALSE || is_null(v);
    if (!strcmp(key, "data_format")) return is_null(v) || (v->type == SEQRT_JSON_STRING && !strcmp(v->str, "channels_last"));
    *known = false;
    return false;
}

static const char *json_text(const seqrt_json *v, char *buf, size_t cap)
{
    switch (v ? v->type : SEQRT_JSON_NULL) {
    case SEQRT_JSON_NULL: return "null";
    case SEQRT_JSON_TRUE: return "true";
    case SEQRT_JSON_FALSE: return "false";
    case SEQRT_JSON_NUMBER: snprintf(buf, cap, "%.15g", v->num); return buf;
    case SEQRT_JSON_STRING: snprintf(buf, cap, "\"%.60s\"", v->str); return buf;
    case SEQRT_JSON_ARRAY: return "[...]";
    default: {
        const char *c = jstr(v, "class_name");
        snprintf(buf, cap, "%.60s", c ? c : "{...}");
        return buf;
    }
    }
}

/* The auto name the .seq would give the next layer of this op. */
static void next_auto_name(Ctx *x, const OpInfo *op, char *buf, size_t cap)
{
    int k = 0;
    while (k < x->n_stems && strcmp(x->stems[k], op->keras_name)) k++;
    if (k == x->n_stems && k < 64) {
        x->stems[k] = op->keras_name;
        x->stem_count[k] = 0;
        x->n_stems++;
    }
    int c = k < 64 ? x->stem_count[k]++ : 0;
    if (c) snprintf(buf, cap, "%s_%d", op->keras_name, c);
    else snprintf(buf, cap, "%s", op->keras_name);
}

static void append(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *dst, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(dst);
    if (n >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + n, cap - n, fmt, ap);
    va_end(ap);
}

/* A float as the shortest text that reads back the same double. */
static void float_text(char *buf, size_t cap, double f)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, f);
        if (strtod(buf, NULL) == f) break;
    }
    if (!strpbrk(buf, ".eEn")) append(buf, cap, ".0");
}

static bool emit_ctor(Ctx *x, const char *cls, const seqrt_json *cfg, const seqrt_json *kwargs,
                      const char *lname, char *out, size_t cap);

/* The .seq text of one option value, checked against the attribute's type;
 * *is_default when it equals the default. */
static bool option_value(Ctx *x, const char *lname, const char *cls, const AttrSpec *a,
                         const seqrt_json *v, char *buf, size_t cap, bool *is_default)
{
    char vt[100];
    *is_default = false;
    buf[0] = '\0';
    switch (a->type) {
    case ATTR_INT:
    case ATTR_INTS: {
        const seqrt_json *e = v;
        if (v && v->type == SEQRT_JSON_ARRAY) {
            if (v->n != 1)
                return failf(x, "layer '%s' (%s): option '%s' = %s: the language has 1-D "
                                "layers only, so one number", lname, cls, a->name, json_text(v, vt, sizeof vt));
            e = v->items[0];
        }
        if (!e || e->type != SEQRT_JSON_NUMBER || !e->is_int)
            return failf(x, "layer '%s' (%s): option '%s' = %s: expected an integer", lname, cls,
                         a->name, json_text(v, vt, sizeof vt));
        snprintf(buf, cap, "%lld", (long long)e->inum);
        *is_default = !a->required && e->inum == a->i;
        return true;
    }
    case ATTR_FLOAT:
        if (!v || v->type != SEQRT_JSON_NUMBER)
            return failf(x, "layer '%s' (%s): option '%s' = %s: expected a number", lname, cls,
                         a->name, json_text(v, vt, sizeof vt));
        float_text(buf, cap, v->num);
        *is_default = !a->required && v->num == a->f;
        return true;
    case ATTR_BOOL:
        if (is_null(v) && x->tfjs) v = NULL;   /* TensorFlow.js writes null for false */
        if (!v) {
            snprintf(buf, cap, "false");
            *is_default = a->i == 0;
            return true;
        }
        if ( (v->type != SEQRT_JSON_TRUE && v->type != SEQRT_JSON_FALSE))
            return failf(x, "layer '%s' (%s): option '%s' = %s: expected true or false", lname,
                         cls, a->name, json_text(v, vt, sizeof vt));
        snprintf(buf, cap, "%s", v->type == SEQRT_JSON_TRUE ? "true" : "false");
        *is_default = (v->type == SEQRT_JSON_TRUE) == (a->i != 0);
        return true;
    case ATTR_STR: {
        const char *s = NULL;
        if (strstr(a->name, "initializer")) {
            s = initializer_name(v);
            if (s && !strcmp(s, "glorot_uniform*")) {
                s = "glorot_uniform";
                seqrt_strbuf_printf(&x->notes, "# '%s' %s: Keras's glorot_normal is not in the language; "
                                    "glorot_uniform (the same variance) initialises it instead.\n", lname, a->name);
            }
            if (!s)
                return failf(x, "layer '%s' (%s): option '%s' = %s: the language's initializers are "
                                "glorot_uniform, orthogonal, zeros, ones and uniform (-0.05, 0.05)",
                             lname, cls, a->name, json_text(v, vt, sizeof vt));
        } else if (is_null(v)) {
            s = !strcmp(a->name, "merge_mode") ? "none" : "linear";
        } else if (v->type == SEQRT_JSON_STRING) {
            s = v->str;
        }
        if (!s || !in_choices(s, a->choices)) {
            char list[300] = "";
            for (const char *const *c = a->choices; c && *c; c++) append(list, sizeof list, "%s%s", list[0] ? ", " : "", *c);
            return failf(x, "layer '%s' (%s): option '%s' = %s: the language has %s", lname, cls,
                         a->name, json_text(v, vt, sizeof vt), list);
        }
        if (x->keras3 && !strcmp(s, "hard_sigmoid"))
            return failf(x, "layer '%s' (%s): option '%s' = \"hard_sigmoid\": Keras 3's is "
                            "clip(x/6 + 0.5, 0, 1), the language's is tf.keras 2's clip(0.2x + 0.5, 0, 1)",
                         lname, cls, a->name);
        *is_default = a->s && !strcmp(s, a->s);
        if (!strcmp(s, "none")) snprintf(buf, cap, "None");
        else snprintf(buf, cap, "%s", s);
        return true;
    }
    case ATTR_LAYER: {
        const char *icls = jstr(v, "class_name");
        const seqrt_json *icfg = seq_json_get(v, "config");
        if (!icls || !icfg)
            return failf(x, "layer '%s' (%s): option 'layer' is not a layer {class_name, config}",
                         lname, cls);
        const char *iname = jstr(icfg, "name");
        return emit_ctor(x, icls, icfg, NULL, iname ? iname : "?", buf, cap);
    }
    }
    return failf(x, "layer '%s' (%s): option '%s': unexpected type", lname, cls, a->name);
}

/* The call options the language makes layer options (Keras passes
 * return_attention_scores and use_causal_mask to Attention's call). */
static const seqrt_json *call_option(const seqrt_json *kwargs, const char *name)
{
    return seq_json_get(kwargs, name);
}

/* "Cls(required..., key=value...)" for one layer (`lname` its Keras name). */
static bool emit_ctor(Ctx *x, const char *cls, const seqrt_json *cfg, const seqrt_json *kwargs,
                      const char *lname, char *out, size_t cap)
{
    const OpInfo *op = op_find(cls);
    if (!op || op->not_keras) {
        int n;
        const OpInfo *const *all = op_all(&n);
        char list[600] = "";
        for (int i = 0; i < n; i++)
            if (!all[i]->not_keras)
                append(list, sizeof list, "%s%s", list[0] ? ", " : "", all[i]->name);
        return failf(x, "layer '%s' (%s): the language has no such layer (it has %s)", lname, cls, list);
    }
    if (cfg && cfg->type != SEQRT_JSON_OBJECT)
        return failf(x, "layer '%s' (%s): its config is not an object", lname, cls);
    char vals[IR_MAX_PARAMS * 2][300];
    bool given[IR_MAX_PARAMS * 2] = {0};
    if (op->n_attrs > IR_MAX_PARAMS * 2) return failf(x, "layer '%s': too many attributes", lname);
    for (int i = 0; cfg && i < cfg->n; i++) {
        const char *key = cfg->keys[i];
        const seqrt_json *v = cfg->items[i];
        int k = op_attr_index(op, key);
        if (k < 0 || !strcmp(key, "name")) {
            bool known;
            if (inert_option(key, v, &known)) continue;
            char vt[100];
            if (known)
                return failf(x, "layer '%s' (%s): option '%s' = %s: the language has no %s, so it "
                                "cannot keep this value", lname, cls, key, json_text(v, vt, sizeof vt), key);
            return failf(x, "layer '%s' (%s): option '%s' = %s: the language's %s has no such option",
                         lname, cls, key, json_text(v, vt, sizeof vt), op->name);
        }
        if (!strcmp(key, "input_length") && is_null(v)) continue;
        if (!strcmp(key, "seed") && is_null(v)) continue;
        bool dflt;
        if (!option_value(x, lname, cls, &op->attrs[k], v, vals[k], sizeof vals[k], &dflt)) return false;
        given[k] = !dflt;
    }
    static const char *const call_opts[] = {"return_attention_scores", "use_causal_mask"};
    for (size_t c = 0; c < sizeof call_opts / sizeof *call_opts; c++) {
        const seqrt_json *v = call_option(kwargs, call_opts[c]);
        int k = op_attr_index(op, call_opts[c]);
        if (!v || is_null(v) || k < 0) continue;
        bool dflt;
        if (!option_value(x, lname, cls, &op->attrs[k], v, vals[k], sizeof vals[k], &dflt)) return false;
        given[k] = !dflt;
    }
    snprintf(out, cap, "%s(", op->name);
    bool first = true, positional = true;
    for (int k = 0; k < op->n_attrs; k++) {
        const AttrSpec *a = &op->attrs[k];
        if (a->required) {
            bool have = false;
            for (int i = 0; cfg && i < cfg->n; i++) have |= !strcmp(cfg->keys[i], a->name);
            if (!have) return failf(x, "layer '%s' (%s): option '%s' is missing", lname, cls, a->name);
            if (positional) append(out, cap, "%s%s", first ? "" : ", ", vals[k]);
            else append(out, cap, "%s%s=%s", first ? "" : ", ", a->name, vals[k]);
            first = false;
        } else {
            positional = false;
            if (!given[k]) continue;
            append(out, cap, "%s%s=%s", first ? "" : ", ", a->name, vals[k]);
            first = false;
        }
    }
    char auto_name[300];
    next_auto_name(x, op, auto_name, sizeof auto_name);
    if (strcmp(auto_name, lname)) append(out, cap, "%sname=\"%s\"", first ? "" : ", ", lname);
    append(out, cap, ")");
    if (strlen(out) + 1 >= cap) return failf(x, "layer '%s' (%s): too many options", lname, cls);
    return true;
}

/* ---- the graph ---- */

/* Keras's naming.to_snake_case: "SimpleRNN" -> "simple_rnn", "Conv1D" -> "conv1d". */
static void snake_case(char *dst, size_t cap, const char *s)
{
    char a[300];
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len && n + 2 < sizeof a; i++) {
        /* (.)([A-Z][a-z]+) -> \1_\2 */
        if (i > 0 && isupper((unsigned char)s[i]) && i + 1 < len && islower((unsigned char)s[i + 1]) &&
            a[n - 1] != '_')
            a[n++] = '_';
        a[n++] = s[i];
    }
    a[n] = '\0';
    size_t m = 0;
    for (size_t i = 0; i < n && m + 2 < cap; i++) {
        /* ([a-z])([A-Z]) -> \1_\2 */
        if (i > 0 && islower((unsigned char)a[i - 1]) && isupper((unsigned char)a[i])) dst[m++] = '_';
        dst[m++] = (char)tolower((unsigned char)a[i]);
    }
    dst[m] = '\0';
}

/* tf.keras 2's [layer, node, tensor(, kwargs)], or Keras 3's
 * {class_name: "__keras_tensor__", config: {keras_history: [...]}}. */
static bool parse_ref(Ctx *x, const seqrt_json *v, const char *lname, Ref *r, const seqrt_json **kwargs)
{
    const seqrt_json *h = v;
    if (kwargs) *kwargs = NULL;
    if (v && v->type == SEQRT_JSON_OBJECT) h = seq_json_get(seq_json_get(v, "config"), "keras_history");
    if (!h || h->type != SEQRT_JSON_ARRAY || h->n < 3 || h->items[0]->type != SEQRT_JSON_STRING ||
        !h->items[1]->is_int || !h->items[2]->is_int)
        return failf(x, "layer '%s': an inbound tensor is not [layer, node, tensor]", lname);
    r->layer = find_layer(x, h->items[0]->str);
    if (r->layer < 0) return failf(x, "layer '%s' reads layer '%.100s', which the model does not have", lname, h->items[0]->str);
    r->node = (int)h->items[1]->inum;
    r->idx = (int)h->items[2]->inum;
    if (r->node < 0 || r->node >= MAX_NODES || r->idx < 0 || r->idx >= MAX_REFS)
        return failf(x, "layer '%s': inbound tensor [%s, %d, %d] out of range", lname, h->items[0]->str, r->node, r->idx);
    if (kwargs && h->n > 3 && h->items[3]->type == SEQRT_JSON_OBJECT) *kwargs = h->items[3];
    return true;
}

static bool is_keras_tensor(const seqrt_json *v)
{
    const char *c = jstr(v, "class_name");
    return c && !strcmp(c, "__keras_tensor__");
}

/* Keras 3 call arguments: tensors in any nesting of lists, in order. */
static bool flatten_args(Ctx *x, KLayer *l, int node, const seqrt_json *v, Ref *out, int *n, int depth)
{
    if (depth > 4) return failf(x, "layer '%s': call arguments nested too deeply", l->name);
    if (v->type == SEQRT_JSON_ARRAY) {
        for (int i = 0; i < v->n; i++)
            if (!flatten_args(x, l, node, v->items[i], out, n, depth + 1)) return false;
        return true;
    }
    if (!is_keras_tensor(v)) {
        char vt[100];
        return failf(x, "layer '%s': call argument %s is not a tensor; the language passes tensors only",
                     l->name, json_text(v, vt, sizeof vt));
    }
    if (*n >= MAX_REFS) return failf(x, "layer '%s': more than %d inputs", l->name, MAX_REFS);
    return parse_ref(x, v, l->name, &out[(*n)++], NULL);
}

/* A call's keyword arguments: initial_state becomes states; the options
 * the language makes layer options stay in kwargs; anything else is refused. */
static bool call_kwargs(Ctx *x, KLayer *l, int node, const seqrt_json *kw)
{
    for (int i = 0; kw && i < kw->n; i++) {
        const char *k = kw->keys[i];
        const seqrt_json *v = kw->items[i];
        if (!strcmp(k, "initial_state")) {
            if (v->type != SEQRT_JSON_ARRAY)
                return failf(x, "layer '%s': initial_state is not a list", l->name);
            if (!l->op->recurrent && !(l->op->wrap == OP_WRAP_BOTH_DIRECTIONS))
                return failf(x, "layer '%s' (%s): initial_state on a layer that has no state", l->name, l->cls);
            for (int s = 0; s < v->n; s++) {
                if (l->n_state[node] >= MAX_REFS) return failf(x, "layer '%s': too many states", l->name);
                if (!parse_ref(x, v->items[s], l->name, &l->state[node][l->n_state[node]++], NULL)) return false;
            }
        } else if (!strcmp(k, "training")) {
            continue;   /* training-time behaviour is the layer's own */
        } else if (!strcmp(k, "mask")) {
            if (!is_null(v))
                return failf(x, "layer '%s' (%s): call argument 'mask': the language makes masks with "
                                "an embedding's mask_zero=true or a masking layer, not passed by hand", l->name, l->cls);
        } else if (strcmp(k, "return_attention_scores") && strcmp(k, "use_causal_mask")) {
            return failf(x, "layer '%s' (%s): call argument '%s': the language has no such argument",
                         l->name, l->cls, k);
        } else if (op_attr_index(l->op, k) < 0) {
            return failf(x, "layer '%s' (%s): call argument '%s': not an option of %s", l->name, l->cls, k, l->op->name);
        }
    }
    l->kwargs[node] = kw;
    return true;
}

static bool read_nodes(Ctx *x, KLayer *l, const seqrt_json *nodes)
{
    if (!nodes || nodes->type != SEQRT_JSON_ARRAY)
        return failf(x, "layer '%s' has no inbound_nodes list", l->name);
    if (nodes->n > MAX_NODES) return failf(x, "layer '%s' is called %d times (at most %d)", l->name, nodes->n, MAX_NODES);
    l->n_nodes = nodes->n;
    for (int n = 0; n < nodes->n; n++) {
        const seqrt_json *node = nodes->items[n];
        if (node->type == SEQRT_JSON_OBJECT) {   /* Keras 3 */
            const seqrt_json *args = seq_json_get(node, "args");
            if (!args || args->type != SEQRT_JSON_ARRAY)
                return failf(x, "layer '%s': inbound node without args", l->name);
            if (!flatten_args(x, l, n, args, l->in[n], &l->n_in[n], 0)) return false;
            if (!call_kwargs(x, l, n, seq_json_get(node, "kwargs"))) return false;
        } else if (node->type == SEQRT_JSON_ARRAY) {   /* tf.keras 2 */
            const seqrt_json *kw = NULL;
            bool states = l->op->recurrent || l->op->wrap == OP_WRAP_BOTH_DIRECTIONS;
            for (int e = 0; e < node->n; e++) {
                Ref r;
                const seqrt_json *ekw;
                if (!parse_ref(x, node->items[e], l->name, &r, &ekw)) return false;
                if (ekw && ekw->n) kw = ekw;
                /* An RNN called with initial_state lists the states after its input. */
                if (states && e > 0) {
                    if (l->n_state[n] >= MAX_REFS) return failf(x, "layer '%s': too many states", l->name);
                    l->state[n][l->n_state[n]++] = r;
                } else {
                    if (l->n_in[n] >= MAX_REFS) return failf(x, "layer '%s': too many inputs", l->name);
                    l->in[n][l->n_in[n]++] = r;
                }
            }
            if (!call_kwargs(x, l, n, kw)) return false;
        } else {
            return failf(x, "layer '%s': an inbound node is neither a list nor {args, kwargs}", l->name);
        }
    }
    return true;
}

static bool cfg_true(const seqrt_json *cfg, const char *key)
{
    const seqrt_json *v = seq_json_get(cfg, key);
    return v && v->type == SEQRT_JSON_TRUE;
}

/* A layer whose input holds token ids (it bounds them: a vocabulary). */
static bool reads_tokens(const char *cls)
{
    const OpInfo *op = op_find(cls);
    return op && op->int_limit;
}

/* How many states a recurrent layer's return_state call returns. */
static int rnn_states(const OpInfo *op)
{
    return op && op->state_names ? (int)strlen(op->state_names) : 0;
}

static int count_outputs(const KLayer *l, const seqrt_json *kw)
{
    const OpInfo *op = op_find(l->cls);
    if (!op) return 1;
    if (op->state_names)
        return 1 + (cfg_true(l->cfg, "return_state") ? rnn_states(op) : 0);
    if (op->wrap == OP_WRAP_BOTH_DIRECTIONS) {
        const seqrt_json *inner = seq_json_get(l->cfg, "layer");
        const char *ic = jstr(inner, "class_name");
        const seqrt_json *mm = seq_json_get(l->cfg, "merge_mode");
        int outs = mm && mm->type == SEQRT_JSON_NULL ? 2 : 1;
        if (ic && cfg_true(seq_json_get(inner, "config"), "return_state"))
            outs += 2 * rnn_states(op_find(ic));
        return outs;
    }
    if (op->extra_output_always) return 2;
    if (op->extra_output)
        return cfg_true(kw, "return_attention_scores") || cfg_true(l->cfg, "return_attention_scores") ? 2 : 1;
    return 1;
}

static void tensor_name(const Ctx *x, Ref r, char *buf, size_t cap)
{
    const KLayer *l = &x->l[r.layer];
    snprintf(buf, cap, "%s", l->ident);
    if (l->n_nodes > 1) append(buf, cap, "_call%d", r.node);
    if (r.idx == 0) return;
    const OpInfo *op = op_find(l->cls);
    if (op && op->state_names && r.idx <= (int)strlen(op->state_names))
        append(buf, cap, "_%c", op->state_names[r.idx - 1]);
    else if (op && op->extra_output && r.idx == 1) append(buf, cap, "_%s", op->extra_output);
    else append(buf, cap, "_%d", r.idx);
}

/* The input's axes after the batch axis as ": [T, 10]" (dyn: its time name). */
static bool input_decl(Ctx *x, KLayer *l, const char *dyn, seqrt_strbuf *b, bool *batch_fixed)
{
    const seqrt_json *s = seq_json_get(l->cfg, "batch_shape");
    if (!s) s = seq_json_get(l->cfg, "batch_input_shape");
    if (!s || s->type != SEQRT_JSON_ARRAY || s->n < 2 || s->n > 3)
        return failf(x, "input '%s': its shape must be (batch, features) or (batch, time, features); got %s",
                     l->name, s && s->type == SEQRT_JSON_ARRAY ? "another rank" : "none");
    *batch_fixed = !is_null(s->items[0]);
    const char *dt = jstr(l->cfg, "dtype");
    if (dt && (!strncmp(dt, "int", 3) || !strncmp(dt, "uint", 4))) l->is_int = true;
    seqrt_strbuf_printf(b, "input %s : %s[", l->ident, l->is_int ? "int" : "");
    for (int k = 1; k < s->n; k++) {
        const seqrt_json *d = s->items[k];
        if (is_null(d)) {
            if (k != 1 || (s->n == 2 && !l->is_int))
                return failf(x, "input '%s': axis %d has no fixed size; only the time axis may be None", l->name, k);
            seqrt_strbuf_printf(b, "%s%s", k > 1 ? ", " : "", dyn);
        } else if (d->is_int && d->inum > 0) {
            seqrt_strbuf_printf(b, "%s%lld", k > 1 ? ", " : "", (long long)d->inum);
        } else {
            return failf(x, "input '%s': axis %d is not a positive integer", l->name, k);
        }
    }
    seqrt_strbuf_add(b, "]", 1);
    return true;
}

/* A fixed batch axis (stateful layers) belongs in the train block. */
static void batch_note(seqrt_strbuf *b, const KLayer *l)
{
    const seqrt_json *s = seq_json_get(l->cfg, "batch_shape");
    if (!s) s = seq_json_get(l->cfg, "batch_input_shape");
    seqrt_strbuf_printf(b, "    # Keras fixed the batch size at %lld: train { batch_size = %lld }",
                        (long long)s->items[0]->inum, (long long)s->items[0]->inum);
}

/* [[name, node, tensor], ...] or one [name, node, tensor] (Keras 3, one). */
static bool io_list(Ctx *x, const seqrt_json *v, const char *what, Ref *out, int *n)
{
    *n = 0;
    if (!v || v->type != SEQRT_JSON_ARRAY) return failf(x, "the model config has no %s list", what);
    if (v->n && v->items[0]->type == SEQRT_JSON_STRING) return parse_ref(x, v, what, &out[(*n)++], NULL);
    for (int i = 0; i < v->n; i++) {
        if (*n >= MAX_REFS) return failf(x, "more than %d %s", MAX_REFS, what);
        if (!parse_ref(x, v->items[i], what, &out[(*n)++], NULL)) return false;
    }
    return true;
}

/* Read layers[] into x->l. */
static bool read_layers(Ctx *x, const seqrt_json *layers, bool sequential)
{
    if (!layers || layers->type != SEQRT_JSON_ARRAY || layers->n == 0)
        return failf(x, "the model config has no layers");
    if (layers->n > 4096) return failf(x, "more than 4096 layers");
    x->l = calloc((size_t)layers->n + 1, sizeof *x->l);
    if (!x->l) return failf(x, "out of memory");
    for (int i = 0; i < layers->n; i++) {
        const seqrt_json *e = layers->items[i];
        KLayer *l = &x->l[x->n];
        l->cls = jstr(e, "class_name");
        l->cfg = seq_json_get(e, "config");
        l->entry = e;
        l->name = jstr(e, "name");
        if (!l->name) l->name = jstr(l->cfg, "name");
        if (!l->cls || !l->cfg || !l->name)
            return failf(x, "layer %d of the model has no class_name, config or name", i);
        for (int j = 0; j < x->n; j++)
            if (!strcmp(x->l[j].name, l->name)) return failf(x, "two layers are named '%s'", l->name);
        make_ident(l->ident, sizeof l->ident, l->name);
        if (strcmp(l->cls, "InputLayer")) {
            l->op = op_find(l->cls);
            if (!l->op || l->op->not_keras) {
                char tmp[8];
                emit_ctor(x, l->cls, l->cfg, NULL, l->name, tmp, sizeof tmp);
                return false;
            }
        }
        x->n++;
        (void)sequential;
    }
    return true;
}

static bool translate_sequential(Ctx *x, const seqrt_json *cfg, seqrt_strbuf *b)
{
    const seqrt_json *layers = cfg->type == SEQRT_JSON_ARRAY ? cfg : seq_json_get(cfg, "layers");
    if (!read_layers(x, layers, true)) return false;
    KLayer *in = NULL, tmp_in;
    int first = 0;
    if (!strcmp(x->l[0].cls, "InputLayer")) {
        in = &x->l[0];
        first = 1;
    } else {
        memset(&tmp_in, 0, sizeof tmp_in);
        tmp_in.cls = "InputLayer";
        tmp_in.cfg = x->l[0].cfg;   /* batch_input_shape of the first layer */
        char n[300];
        snprintf(n, sizeof n, "%s_input", x->l[0].name);
        make_ident(tmp_in.ident, sizeof tmp_in.ident, n);
        tmp_in.name = tmp_in.ident;
        in = &tmp_in;
    }
    if (first >= x->n) return failf(x, "the Sequential model has no layers after its input");
    for (int i = first; i < x->n; i++)
        if (!strcmp(x->l[i].cls, "InputLayer")) return failf(x, "layer '%s': a second InputLayer in a Sequential model", x->l[i].name);
    if (reads_tokens(x->l[first].cls)) in->is_int = true;
    /* Keras's automatic input names (tf.keras "<layer>_input", Keras 3
     * "input_layer") say nothing: call it x, as the language's examples do. */
    char auto1[320];
    snprintf(auto1, sizeof auto1, "%s_input", x->l[first].ident);
    if (!strcmp(in->ident, auto1) || !strncmp(in->ident, "input_layer", 11) || !strncmp(in->ident, "input_", 6))
        snprintf(in->ident, sizeof in->ident, "x");
    bool batch_fixed;
    if (!input_decl(x, in, "T", b, &batch_fixed)) return false;
    if (batch_fixed) batch_note(b, in);
    seqrt_strbuf_add(b, "\n\n", 2);
    KLayer *last = &x->l[x->n - 1];
    seqrt_strbuf_printf(b, "%s = %s", last->ident, in->ident);
    for (int i = first; i < x->n; i++) {
        KLayer *l = &x->l[i];
        l->n_nodes = 1;
        if (!emit_ctor(x, l->cls, l->cfg, NULL, l->name, l->ctor, sizeof l->ctor)) return false;
        if (count_outputs(l, NULL) != 1)
            return failf(x, "layer '%s' (%s) gives several tensors, which a Sequential model cannot pass on",
                         l->name, l->cls);
        seqrt_strbuf_printf(b, "%s-> %s", i == first ? " " : "\n    ", l->ctor);
    }
    seqrt_strbuf_printf(b, "\n\noutput %s\n", last->ident);
    return true;
}

static bool translate_functional(Ctx *x, const seqrt_json *cfg, seqrt_strbuf *b)
{
    if (!read_layers(x, seq_json_get(cfg, "layers"), false)) return false;
    Ref ins[MAX_REFS], outs[MAX_REFS];
    int n_ins, n_outs;
    if (!io_list(x, seq_json_get(cfg, "input_layers"), "input_layers", ins, &n_ins) ||
        !io_list(x, seq_json_get(cfg, "output_layers"), "output_layers", outs, &n_outs))
        return false;
    for (int i = 0; i < x->n; i++) {
        KLayer *l = &x->l[i];
        if (!l->op) continue;
        if (!read_nodes(x, l, seq_json_get(l->entry, "inbound_nodes"))) return false;
    }
    /* Which outputs are read, which inputs are token ids. */
    for (int i = 0; i < x->n; i++) {
        KLayer *l = &x->l[i];
        for (int n = 0; n < l->n_nodes; n++) {
            for (int k = 0; k < l->n_in[n] + l->n_state[n]; k++) {
                Ref r = k < l->n_in[n] ? l->in[n][k] : l->state[n][k - l->n_in[n]];
                KLayer *src = &x->l[r.layer];
                if (!src->op && r.node == 0 && r.idx == 0) {
                    if (reads_tokens(l->cls)) src->is_int = true;
                } else if (!src->op || r.node >= src->n_nodes) {
                    return failf(x, "layer '%s' reads [%s, %d, %d], which does not exist", l->name,
                                 src->name, r.node, r.idx);
                }
                src->used[r.node][r.idx] = true;
            }
        }
    }
    for (int i = 0; i < n_outs; i++) x->l[outs[i].layer].used[outs[i].node][outs[i].idx] = true;
    /* Inputs, with a time-axis name each: T alone, else T + the input's
     * first letter (Te, Td), or T1, T2, ... when those collide. */
    char dyn[MAX_REFS][16];
    int n_dyn = 0;
    for (int i = 0; i < n_ins; i++) {
        KLayer *l = &x->l[ins[i].layer];
        if (l->op) return failf(x, "input_layers names '%s', which is not an InputLayer", l->name);
        const seqrt_json *s = seq_json_get(l->cfg, "batch_shape");
        if (!s) s = seq_json_get(l->cfg, "batch_input_shape");
        if (s && s->type == SEQRT_JSON_ARRAY && s->n >= 2 && is_null(s->items[1])) n_dyn++;
    }
    bool distinct = true;
    for (int i = 0, d = 0; i < n_ins; i++) {
        KLayer *l = &x->l[ins[i].layer];
        snprintf(dyn[i], sizeof dyn[i], "T");
        if (n_dyn > 1) {
            char c = l->ident[0] == '_' && l->ident[1] ? l->ident[1] : l->ident[0];
            snprintf(dyn[i], sizeof dyn[i], "T%c", (char)tolower((unsigned char)c));
            for (int j = 0; j < i; j++) distinct &= strcmp(dyn[j], dyn[i]) != 0;
        }
        (void)d;
    }
    for (int i = 0; i < n_ins && n_dyn > 1 && !distinct; i++) snprintf(dyn[i], sizeof dyn[i], "T%d", i + 1);
    for (int i = 0; i < n_ins; i++) {
        bool batch_fixed;
        if (!input_decl(x, &x->l[ins[i].layer], dyn[i], b, &batch_fixed)) return false;
        if (batch_fixed) batch_note(b, &x->l[ins[i].layer]);
        seqrt_strbuf_add(b, "\n", 1);
    }
    seqrt_strbuf_add(b, "\n", 1);
    /* One statement per call; a layer called more than once is a shared `layer`. */
    for (int i = 0; i < x->n; i++) {
        KLayer *l = &x->l[i];
        if (!l->op) {
            bool listed = false;
            for (int k = 0; k < n_ins; k++) listed |= ins[k].layer == i;
            if (!listed) return failf(x, "InputLayer '%s' is not among the model's input_layers", l->name);
            continue;
        }
        if (l->n_nodes == 0) continue;   /* never called: not part of the model */
        if (!emit_ctor(x, l->cls, l->cfg, l->kwargs[0], l->name, l->ctor, sizeof l->ctor)) return false;
        l->n_out = count_outputs(l, l->kwargs[0]);
        if (l->n_nodes > 1) seqrt_strbuf_printf(b, "layer %s = %s\n", l->ident, l->ctor);
        for (int n = 0; n < l->n_nodes; n++) {
            if (n > 0 && count_outputs(l, l->kwargs[n]) != l->n_out)
                return failf(x, "layer '%s': its calls return different numbers of tensors", l->name);
            bool any = false;
            for (int k = 0; k < l->n_out; k++) any |= l->used[n][k];
            for (int k = 0; k < l->n_out; k++) {
                char t[400];
                tensor_name(x, (Ref){i, n, k}, t, sizeof t);
                seqrt_strbuf_printf(b, "%s%s", k ? ", " : "", l->used[n][k] || !any ? t : "_");
            }
            seqrt_strbuf_printf(b, " = %s(", l->n_nodes > 1 ? l->ident : l->ctor);
            for (int k = 0; k < l->n_in[n]; k++) {
                char t[400];
                tensor_name(x, l->in[n][k], t, sizeof t);
                seqrt_strbuf_printf(b, "%s%s", k ? ", " : "", t);
            }
            if (l->n_state[n]) {
                seqrt_strbuf_printf(b, ", initial_state=[");
                for (int k = 0; k < l->n_state[n]; k++) {
                    char t[400];
                    tensor_name(x, l->state[n][k], t, sizeof t);
                    seqrt_strbuf_printf(b, "%s%s", k ? ", " : "", t);
                }
                seqrt_strbuf_printf(b, "]");
            }
            seqrt_strbuf_printf(b, ")\n");
        }
    }
    seqrt_strbuf_printf(b, "\noutput ");
    for (int i = 0; i < n_outs; i++) {
        char t[400];
        tensor_name(x, outs[i], t, sizeof t);
        seqrt_strbuf_printf(b, "%s%s", i ? ", " : "", t);
    }
    seqrt_strbuf_add(b, "\n", 1);
    return true;
}

static bool is_keras3_json(const seqrt_json *v, int depth)
{
    if (!v || depth > 3) return false;
    if (v->type == SEQRT_JSON_OBJECT && seq_json_get(v, "module") && seq_json_get(v, "registered_name")) return true;
    if (v->type == SEQRT_JSON_ARRAY || v->type == SEQRT_JSON_OBJECT)
        for (int i = 0; i < v->n; i++)
            if (is_keras3_json(v->items[i], depth + 1)) return true;
    return false;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

bool seq_keras_translate(const seqrt_json *root, const char *source, SeqKerasModel *m, char *msg,
                         size_t msglen)
{
    memset(m, 0, sizeof *m);
    Ctx x = {.source = source, .msg = msg, .msglen = msglen};
    const seqrt_json *topo = root;
    const char *form = "tf.keras 2";
    if (seq_json_get(root, "modelTopology")) {
        topo = seq_json_get(root, "modelTopology");
        form = "TensorFlow.js";
        x.tfjs = true;
        if (seq_json_get(topo, "model_config")) topo = seq_json_get(topo, "model_config");
    }
    const char *cls = jstr(topo, "class_name");
    const seqrt_json *cfg = seq_json_get(topo, "config");
    if (!cls || !cfg) {
        snprintf(msg, msglen, "not a Keras model: no class_name and config at the top (model.to_json() "
                              "or a TensorFlow.js model.json is expected)");
        return false;
    }
    const char *kv = jstr(topo, "keras_version");
    x.keras3 = (kv && kv[0] >= '3' && kv[0] <= '9' && kv[1] == '.') || is_keras3_json(cfg, 0);
    if (x.keras3) form = "Keras 3";
    m->keras3 = x.keras3;
    const char *name = jstr(cfg, "name");
    char ident[300];
    make_ident(ident, sizeof ident, name ? name : "imported");
    seqrt_strbuf *b = &m->text;
    seqrt_strbuf_printf(b, "# %s: imported by seqc import from %s (%s, %s '%s').\n", ident,
                        base_name(source), form, cls, name ? name : "?");
    seqrt_strbuf_printf(b, "# Layer names are Keras's; the weights are in the same names and layouts.\n");
    seqrt_strbuf body = {0};
    bool ok;
    if (!strcmp(cls, "Sequential")) ok = translate_sequential(&x, cfg, &body);
    else if (!strcmp(cls, "Functional") || !strcmp(cls, "Model")) ok = translate_functional(&x, cfg, &body);
    else ok = failf(&x, "model class '%s': seqc imports Sequential and functional models (a subclassed "
                        "model has no JSON topology)", cls);
    if (x.notes.len) seqrt_strbuf_add(b, x.notes.s, x.notes.len);
    seqrt_strbuf_printf(b, "model %s\n\n", ident);
    if (body.len) seqrt_strbuf_add(b, body.s, body.len);
    free(body.s);
    free(x.notes.s);
    if (ok && (b->failed || body.failed)) ok = failf(&x, "out of memory");
    if (ok) {
        m->model_name = strdup(ident);
        m->layers = calloc((size_t)x.n + 1, sizeof *m->layers);
        int n_stem = 0;
        char stems[64][300];
        int counts[64];
        for (int i = 0; m->layers && i < x.n; i++) {
            char sc[300], path[400];
            snake_case(sc, sizeof sc, x.l[i].cls);
            int k = 0;
            while (k < n_stem && strcmp(stems[k], sc)) k++;
            if (k == n_stem && k < 64) {
                snprintf(stems[k], sizeof stems[k], "%s", sc);
                counts[k] = 0;
                n_stem++;
            }
            int c = k < 64 ? counts[k]++ : 0;
            if (c) snprintf(path, sizeof path, "layers/%s_%d", sc, c);
            else snprintf(path, sizeof path, "layers/%s", sc);
            if (!x.l[i].op) continue;
            SeqKerasLayer *kl = &m->layers[m->n_layers++];
            kl->name = strdup(x.l[i].name);
            kl->cls = strdup(x.l[i].cls);
            kl->k3_path = strdup(path);
        }
    }
    free(x.l);
    if (!ok) seq_keras_model_free(m);
    return ok;
}

void seq_keras_model_free(SeqKerasModel *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        free(m->layers[i].name);
        free(m->layers[i].cls);
        free(m->layers[i].k3_path);
    }
    free(m->layers);
    free(m->text.s);
    free(m->model_name);
    memset(m, 0, sizeof *m);
}
