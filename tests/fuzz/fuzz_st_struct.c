/*
 * fuzz_st_struct.c: safetensors files that are well-formed JSON with
 * hostile values, built from the input: up to 8 tensors whose names (the
 * model's, optimizer slots, empty, duplicated, long), dtypes, shapes (0 to
 * 5 axes) and data_offsets each come from the input, a __metadata__ map
 * (given twice, or as a non-string, on request) with up to 2^20 keys, the
 * header length right or wrong, and up to 64 KiB of data. Each file then
 * goes through everything fuzz_safetensors checks (seqrt_st_load,
 * seqrt_checkpoint_load, the JSON reader). Raw-byte fuzzing rarely gets
 * past the JSON; this reaches the value checks behind it at every size.
 */
#define LLVMFuzzerTestOneInput fuzz_safetensors_bytes
#include "fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput

#include "st_build.h"

static const char *const names[] = {
    "dense.kernel", "dense.bias", "optimizer.m.dense.kernel", "optimizer.v.dense.bias",
    "best.dense.kernel", "train.states", "", "__metadata__", "dense.kernel\n\x1b[2J", "\xff\xfe",
};
static const char *const dtypes[] = {"F32", "F64", "BF16", "F16", "I32", "I64", "U8", "BOOL", "F8_E4M3", "f32", ""};
static const char *const meta_keys[] = {
    "format", "model", "dtype", "epoch", "checksum", "checksum.meta", "model.structure", "optimizer",
    "optimizer.iterations",
};

static void add_name(fz_buf *h, fz_in *in)
{
    unsigned c = fz_byte(in);
    if (c < 0xf0) {
        fz_json_string(h, names[c % (sizeof names / sizeof *names)]);
        return;
    }
    size_t len = (size_t)fz_byte(in) << 8 | fz_byte(in);   /* a long name */
    char *s = malloc(len + 1);
    if (!s) abort();
    memset(s, 'n', len);
    s[len] = '\0';
    fz_json_string(h, s);
    free(s);
}

/* A number where the format wants one, or now and then something else. */
static void add_number(fz_buf *h, fz_in *in, int64_t sane)
{
    unsigned c = fz_byte(in);
    if (c < 0x80) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)(sane + (int64_t)(c % 3) - 1));
        fz_adds(h, b);
    } else if (c < 0xf8) {
        const char *v = fz_number(in);
        int plain = v[0] && strspn(v, "0123456789+-.eE") == strlen(v);
        if (plain) fz_adds(h, v);
        else fz_json_string(h, v);
    } else {
        fz_adds(h, c == 0xf8 ? "null" : c == 0xf9 ? "[]" : c == 0xfa ? "{}" : "true");
    }
}

static void add_tensor(fz_buf *h, fz_in *in, int64_t *at)
{
    add_name(h, in);
    fz_adds(h, ":{\"dtype\":");
    fz_json_string(h, dtypes[fz_byte(in) % (sizeof dtypes / sizeof *dtypes)]);
    fz_adds(h, ",\"shape\":[");
    int nd = (int)(fz_byte(in) % 6);
    int64_t count = 1;
    for (int d = 0; d < nd; d++) {
        int64_t len = 1 + fz_byte(in) % 4;
        count *= len;
        if (d) fz_adds(h, ",");
        add_number(h, in, len);
    }
    fz_adds(h, "],\"data_offsets\":[");
    add_number(h, in, *at);
    fz_adds(h, ",");
    *at += count * 4;
    add_number(h, in, *at);
    fz_adds(h, "]}");
}

static void add_metadata(fz_buf *h, fz_in *in)
{
    fz_adds(h, "\"__metadata__\":");
    if (fz_byte(in) == 0xff) {
        fz_adds(h, "[1,2]");
        return;
    }
    fz_adds(h, "{");
    int n = (int)(fz_byte(in) % 6);
    for (int i = 0; i < n; i++) {
        if (i) fz_adds(h, ",");
        fz_json_string(h, meta_keys[fz_byte(in) % (sizeof meta_keys / sizeof *meta_keys)]);
        fz_adds(h, ":");
        fz_json_string(h, fz_number(in));
    }
    unsigned p = fz_byte(in) % 21;   /* 2^p more keys; above 2^12 only when asked twice */
    if (p > 12 && fz_byte(in) != 0xff) p = 12;
    long more = fz_byte(in) % 2 ? 1L << p : 0;
    for (long i = 0; i < more; i++) {
        char k[32];
        snprintf(k, sizeof k, "%s\"k%ld\":\"1\"", n || i ? "," : "", i);
        fz_adds(h, k);
    }
    fz_adds(h, "}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    fz_buf h = {0}, file = {0};
    unsigned flags = fz_byte(&in);
    int n = (int)(fz_byte(&in) % 9);
    int64_t at = 0;
    fz_adds(&h, "{");
    int items = 0;
    if (flags & 1) add_metadata(&h, &in), items++;
    for (int i = 0; i < n; i++) {
        if (items++) fz_adds(&h, ",");
        add_tensor(&h, &in, &at);
    }
    if (flags & 2) {   /* the metadata again, after the tensors */
        if (items++) fz_adds(&h, ",");
        add_metadata(&h, &in);
    }
    fz_adds(&h, "}");
    if (flags & 4) fz_adds(&h, "        ");   /* padding, as the format allows */
    /* The data: as long as the offsets say, or shorter or longer. */
    size_t len = at < 0 ? 0 : (size_t)at;
    if (flags & 8) len = fz_byte(&in) % 64 < len ? fz_byte(&in) % 64 : len + fz_byte(&in);
    if (len > 65536) len = 65536;
    unsigned char *bytes = calloc(len + 1, 1);
    if (!bytes) abort();
    for (size_t i = 0; i < len; i++) bytes[i] = (unsigned char)(i * 37);   /* finite floats mostly */
    uint64_t hl = UINT64_MAX;
    if (flags & 16) {   /* a header length that lies */
        unsigned c = fz_byte(&in);
        hl = c < 0x40 ? h.n + 1 : c < 0x80 ? (h.n ? h.n - 1 : 0) : c < 0xc0 ? UINT64_C(1) << 62 : UINT64_MAX - 1;
    }
    fz_st_file(&file, &h, hl, bytes, len);
    fuzz_safetensors_bytes((const uint8_t *)file.s, file.n);
    free(bytes);
    free(h.s);
    free(file.s);
    return 0;
}
