/*
 * json.c: a small, strict JSON reader for file headers we do not trust
 * (safetensors). It builds a tree of malloc'd nodes, caps nesting at
 * SEQRT_JSON_MAX_DEPTH, rejects anything RFC 8259 does not allow (control
 * characters in strings, lone surrogates, leading zeros, trailing commas),
 * caps the number of values at SEQRT_JSON_MAX_NODES (memory stays within
 * ~100 MB whatever the input), and reports "reason at byte N" instead of
 * crashing. The writer half is a
 * growable string with JSON string escaping.
 *
 *   value  -> object | array | string | number | true | false | null
 *   object -> '{' [ string ':' value { ',' string ':' value } ] '}'
 *   array  -> '[' [ value { ',' value } ] ']'
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
    const char *s;
    size_t len, pos;
    char *msg;
    size_t msglen;
    int failed;
    size_t nodes;          /* values built so far (SEQRT_JSON_MAX_NODES) */
} Parser;

static void fail(Parser *p, const char *why)
{
    if (!p->failed) snprintf(p->msg, p->msglen, "%s at byte %zu", why, p->pos);
    p->failed = 1;
}

static void skip_ws(Parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static seqrt_json *new_node(Parser *p, seqrt_json_type t)
{
    /* A node costs ~100 bytes for 2 bytes of input ("0,"): without a cap, a
     * 100 MB header would take 5 GB. */
    if (++p->nodes > SEQRT_JSON_MAX_NODES) return fail(p, "too many JSON values"), NULL;
    seqrt_json *j = calloc(1, sizeof *j);
    if (!j) fail(p, "out of memory");
    else j->type = t;
    return j;
}

static int hex4(Parser *p, unsigned *out)
{
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape"), -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return fail(p, "bad hex digit in \\u escape"), -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) { d[0] = (char)cp; return 1; }
    if (cp < 0x800) { d[0] = (char)(0xC0 | cp >> 6); d[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | cp >> 12); d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | cp >> 18); d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* string -> '"' { char | escape } '"'; decoded bytes never exceed the source. */
static char *parse_string(Parser *p, size_t *out_len)
{
    p->pos++;   /* opening quote */
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] != '"') p->pos += p->s[p->pos] == '\\' ? 2 : 1;
    if (p->pos >= p->len) return fail(p, "unterminated string"), NULL;
    size_t end = p->pos;
    char *d = malloc(end - start + 1);
    if (!d) return fail(p, "out of memory"), NULL;
    size_t n = 0;
    for (p->pos = start; p->pos < end;) {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) { fail(p, "control character in string"); break; }
        if (c != '\\') { d[n++] = (char)c; continue; }
        char e = p->s[p->pos++];
        unsigned cp;
        switch (e) {
        case '"': d[n++] = '"'; break;
        case '\\': d[n++] = '\\'; break;
        case '/': d[n++] = '/'; break;
        case 'b': d[n++] = '\b'; break;
        case 'f': d[n++] = '\f'; break;
        case 'n': d[n++] = '\n'; break;
        case 'r': d[n++] = '\r'; break;
        case 't': d[n++] = '\t'; break;
        case 'u':
            if (hex4(p, &cp)) break;
            if (cp >= 0xD800 && cp < 0xDC00) {   /* high surrogate: needs a low one */
                unsigned lo;
                if (p->pos + 2 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    fail(p, "lone surrogate in \\u escape");
                    break;
                }
                p->pos += 2;
                if (hex4(p, &lo)) break;
                if (lo < 0xDC00 || lo > 0xDFFF) { fail(p, "lone surrogate in \\u escape"); break; }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, "lone surrogate in \\u escape");
                break;
            }
            n += put_utf8(d + n, cp);
            break;
        default: fail(p, "bad escape in string");
        }
        if (p->failed) break;
    }
    if (p->failed) { free(d); return NULL; }
    d[n] = '\0';
    *out_len = n;
    p->pos = end + 1;
    return d;
}

/* number -> '-'? ('0' | [1-9][0-9]*) ('.' [0-9]+)? ([eE] [+-]? [0-9]+)? */
static seqrt_json *parse_number(Parser *p)
{
    size_t start = p->pos;
    int integral = 1;
    const char *s = p->s;
    if (p->pos < p->len && s[p->pos] == '-') p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad number"), NULL;
    if (s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
            return fail(p, "leading zero in number"), NULL;
    } else {
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->len && s[p->pos] == '.') {
        integral = 0;
        p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad fraction"), NULL;
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') return fail(p, "bad exponent"), NULL;
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    size_t n = p->pos - start;
    char buf[64];
    if (n >= sizeof buf) return fail(p, "number too long"), NULL;
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    seqrt_json *j = new_node(p, SEQRT_JSON_NUMBER);
    if (!j) return NULL;
    j->num = strtod(buf, NULL);
    if (integral) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) { j->is_int = 1; j->inum = v; }
    }
    return j;
}

static seqrt_json *parse_value(Parser *p, int depth);

/* Append (key, value) to an array or object node. */
static int push(Parser *p, seqrt_json *j, char *key, size_t key_len, seqrt_json *v)
{
    if ((j->n & (j->n - 1)) == 0) {   /* grow at 0, 1, 2, 4, 8, ... */
        size_t cap = j->n ? (size_t)j->n * 2 : 1;
        seqrt_json **items = realloc(j->items, cap * sizeof *items);
        if (items) j->items = items;
        if (items && j->type == SEQRT_JSON_OBJECT) {
            char **keys = realloc(j->keys, cap * sizeof *keys);
            if (keys) j->keys = keys;
            size_t *lens = keys ? realloc(j->key_lens, cap * sizeof *lens) : NULL;
            if (lens) j->key_lens = lens;
            if (!lens) items = NULL;
        }
        if (!items) {
            fail(p, "out of memory");
            free(key);
            seqrt_json_free(v);
            return -1;
        }
    }
    if (j->type == SEQRT_JSON_OBJECT) { j->keys[j->n] = key; j->key_lens[j->n] = key_len; }
    j->items[j->n++] = v;
    return 0;
}

/* object/array -> open [ item { ',' item } ] close */
static seqrt_json *parse_container(Parser *p, int depth, int is_object)
{
    seqrt_json *j = new_node(p, is_object ? SEQRT_JSON_OBJECT : SEQRT_JSON_ARRAY);
    if (!j) return NULL;
    char close = is_object ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return j; }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        skip_ws(p);
        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') { fail(p, "expected a string key"); break; }
            if (!(key = parse_string(p, &key_len))) break;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') { free(key); fail(p, "expected ':'"); break; }
            p->pos++;
        }
        seqrt_json *v = parse_value(p, depth + 1);
        if (!v) { free(key); break; }
        if (push(p, j, key, key_len, v)) break;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return j; }
        fail(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    seqrt_json_free(j);
    return NULL;
}

static int match_word(Parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0) return 0;
    p->pos += n;
    return 1;
}

static seqrt_json *parse_value(Parser *p, int depth)
{
    if (depth > SEQRT_JSON_MAX_DEPTH) return fail(p, "nesting too deep"), NULL;
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "unexpected end of input"), NULL;
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return parse_container(p, depth, c == '{');
    if (c == '"') {
        size_t n;
        char *s = parse_string(p, &n);
        if (!s) return NULL;
        seqrt_json *j = new_node(p, SEQRT_JSON_STRING);
        if (!j) { free(s); return NULL; }
        j->str = s;
        j->len = n;
        return j;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    if (match_word(p, "true")) return new_node(p, SEQRT_JSON_TRUE);
    if (match_word(p, "false")) return new_node(p, SEQRT_JSON_FALSE);
    if (match_word(p, "null")) return new_node(p, SEQRT_JSON_NULL);
    return fail(p, "unexpected character"), NULL;
}

seqrt_json *seqrt_json_parse(const char *text, size_t len, char *msg, size_t msglen)
{
    Parser p = {text, len, 0, msg, msglen, 0, 0};
    seqrt_json *j = parse_value(&p, 0);
    if (j) {
        skip_ws(&p);
        if (p.pos != len) {
            fail(&p, "trailing characters after JSON value");
            seqrt_json_free(j);
            j = NULL;
        }
    }
    return j;
}

void seqrt_json_free(seqrt_json *j)
{
    if (!j) return;
    for (int i = 0; i < j->n; i++) {
        seqrt_json_free(j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->key_lens);
    free(j->str);
    free(j);
}

void seqrt_strbuf_add(seqrt_strbuf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) { b->failed = 1; return; }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void seqrt_strbuf_printf(seqrt_strbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) b->failed = 1;
    else seqrt_strbuf_add(b, tmp, (size_t)n);
}

void seqrt_json_write_string(seqrt_strbuf *b, const char *s)
{
    seqrt_strbuf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char buf[8];
        if (c == '"' || c == '\\') { buf[0] = '\\'; buf[1] = (char)c; seqrt_strbuf_add(b, buf, 2); }
        else if (c < 0x20) { snprintf(buf, sizeof buf, "\\u%04x", c); seqrt_strbuf_add(b, buf, 6); }
        else seqrt_strbuf_add(b, s, 1);
    }
    seqrt_strbuf_add(b, "\"", 1);
}
