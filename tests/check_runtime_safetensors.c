/*
 * check_runtime_safetensors.c: checkpoints (runtime/src/safetensors.c and
 * the JSON reader in json.c). Core: round trips with metadata, a file laid
 * out like the reference library's (tests/data/runtime). Limits: atomic
 * saves leave no temp file and keep the old file when a save fails.
 * Hostile: every malformed header or offset is an error with a reason;
 * truncations and byte flips never crash. Built for seqrt and seqrt_f64.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_util.h"
#include "seqrt_train.h"

static char tmpdir[64];

static const char *tmp(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Files in tmpdir whose name contains ".tmp.": leftovers of a save. */
static int count_temps(void)
{
    int n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d))) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

/* 8-byte length, header text, then data bytes. */
static const char *raw_st(const char *name, const char *header, const void *data, size_t n)
{
    const char *path = tmp(name);
    FILE *f = fopen(path, "wb");
    unsigned char len8[8];
    size_t hl = strlen(header);
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(header, 1, hl, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

static const seqrt_real K[6] = {0.5f, -1, 2, 3.25f, 0, -0.125f};
static const seqrt_real Bv[3] = {1, 2, 3};
static const int64_t KS[2] = {2, 3}, BS[1] = {3};

static int save_two(const char *path, seqrt_error *err)
{
    seqrt_st_tensor t[] = {{"dense.kernel", K, 2, KS}, {"dense.bias", Bv, 1, BS}};
    const char *meta[] = {"model", "goodbye", "note", "quote \" backslash \\ newline \n tab \t é"};
    return seqrt_st_save(path, t, 2, meta, 2, err);
}

/* ---- Core ---- */

START_TEST(round_trip_with_metadata)
{
    seqrt_error err = {0};
    ck_assert_msg(save_two(tmp("m.safetensors"), &err) == SEQRT_OK, "%s", err.msg);
    seqrt_st_file f;
    ck_assert_msg(seqrt_st_load(&f, tmp("m.safetensors"), &err) == SEQRT_OK, "%s", err.msg);
    ck_assert_int_eq(f.n, 2);
    ck_assert_str_eq(f.entries[0].name, "dense.kernel");   /* saved order = offset order */
    const seqrt_st_entry *k = seqrt_st_find(&f, "dense.kernel"), *b = seqrt_st_find(&f, "dense.bias");
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(k->ndim, 2);
    ck_assert_int_eq(k->shape[1], 3);
    ck_assert_mem_eq(k->data, K, sizeof K);
    ck_assert_mem_eq(b->data, Bv, sizeof Bv);
    ck_assert_ptr_null(seqrt_st_find(&f, "nope"));
    ck_assert_str_eq(seqrt_st_meta(&f, "model"), "goodbye");
    ck_assert_str_eq(seqrt_st_meta(&f, "note"), "quote \" backslash \\ newline \n tab \t é");
    ck_assert_ptr_null(seqrt_st_meta(&f, "epoch"));
    seqrt_st_free(&f);
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(layout_and_dtype)
{
    ck_assert_int_eq(save_two(tmp("l.safetensors"), NULL), SEQRT_OK);
    FILE *fp = fopen(tmp("l.safetensors"), "rb");
    unsigned char buf[1024];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | buf[i];
    ck_assert_uint_eq(hl % 8, 0);
    ck_assert_uint_eq(n, 8 + hl + 9 * sizeof(seqrt_real));
    buf[8 + hl] = 0;
    ck_assert_ptr_nonnull(strstr((char *)buf + 8, sizeof(seqrt_real) == 4 ? "\"F32\"" : "\"F64\""));
    ck_assert_int_eq(buf[8], '{');
}
END_TEST

START_TEST(reads_reference_layout)
{
    seqrt_st_file f;
    seqrt_error err = {0};
    ck_assert_msg(seqrt_st_load(&f, SEQRT_TEST_DATA "/st_ref.safetensors", &err) == SEQRT_OK, "%s", err.msg);
    ck_assert_int_eq(f.n, 3);
    const seqrt_st_entry *k = seqrt_st_find(&f, "dense.kernel"), *b = seqrt_st_find(&f, "dense.bias");
    ck_assert_double_eq(k->data[5], (seqrt_real)1.25);   /* arange(6)/4, F32 */
    ck_assert_double_eq(b->data[0], (seqrt_real)-1.5);   /* F64 converted */
    ck_assert_double_eq(b->data[2], (seqrt_real)0.125);
    ck_assert_int_eq(seqrt_st_find(&f, "lstm.empty")->count, 0);
    ck_assert_str_eq(seqrt_st_meta(&f, "epoch"), "12");
    seqrt_st_free(&f);
}
END_TEST

START_TEST(no_tensors_no_metadata)
{
    ck_assert_int_eq(seqrt_st_save(tmp("empty.safetensors"), NULL, 0, NULL, 0, NULL), SEQRT_OK);
    seqrt_st_file f;
    ck_assert_int_eq(seqrt_st_load(&f, tmp("empty.safetensors"), NULL), SEQRT_OK);
    ck_assert_int_eq(f.n, 0);
    ck_assert_int_eq(f.n_meta, 0);
    seqrt_st_free(&f);
}
END_TEST

/* ---- Limits: atomic saves ---- */

START_TEST(overwrite_replaces_atomically)
{
    const char *p = tmp("ow.safetensors");
    ck_assert_int_eq(save_two(p, NULL), SEQRT_OK);
    seqrt_st_tensor t[] = {{"only", Bv, 1, BS}};
    ck_assert_int_eq(seqrt_st_save(p, t, 1, NULL, 0, NULL), SEQRT_OK);
    seqrt_st_file f;
    ck_assert_int_eq(seqrt_st_load(&f, p, NULL), SEQRT_OK);
    ck_assert_int_eq(f.n, 1);
    seqrt_st_free(&f);
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

/* A write that fails half way (file size limit): error, old file intact,
 * temp file removed. Works as root too, unlike a read-only directory. */
START_TEST(failed_write_keeps_old_file)
{
    const char *p = tmp("keep.safetensors");
    ck_assert_int_eq(save_two(p, NULL), SEQRT_OK);
    long before = file_size(p);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, rl;
    getrlimit(RLIMIT_FSIZE, &old);
    rl = old;
    rl.rlim_cur = 4096;   /* soft limit only, so it can be raised back */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    enum { n = 100000 };
    seqrt_real *big = calloc(n, sizeof *big);
    int64_t shape[1] = {n};
    seqrt_st_tensor t[] = {{"big", big, 1, shape}};
    seqrt_error err = {0};
    int rc = seqrt_st_save(p, t, 1, NULL, 0, &err);
    setrlimit(RLIMIT_FSIZE, &old);   /* for CK_FORK=no runs */
    ck_assert_int_eq(rc, SEQRT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, p));
    ck_assert_int_eq(file_size(p), before);
    ck_assert_int_eq(count_temps(), 0);
    seqrt_st_file f;
    ck_assert_int_eq(seqrt_st_load(&f, p, NULL), SEQRT_OK);
    ck_assert_int_eq(f.n, 2);
    seqrt_st_free(&f);
    free(big);
}
END_TEST

START_TEST(unwritable_targets)
{
    seqrt_error err = {0};
    /* the target is a directory: rename fails, nothing left behind */
    const char *d = tmp("adir");
    mkdir(d, 0755);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", d);
    ck_assert_int_eq(save_two(dir, &err), SEQRT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "adir"));
    ck_assert_int_eq(count_temps(), 0);
    rmdir(dir);
    /* a missing directory */
    ck_assert_int_eq(save_two(tmp("missing/x.safetensors"), &err), SEQRT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing/x.safetensors"));
    /* a read-only directory (root ignores permissions: skip then) */
    if (geteuid() != 0) {
        char ro[512], file[600];
        snprintf(ro, sizeof ro, "%s", tmp("ro"));
        mkdir(ro, 0755);
        snprintf(file, sizeof file, "%s/m.safetensors", ro);
        ck_assert_int_eq(save_two(file, NULL), SEQRT_OK);
        long before = file_size(file);
        chmod(ro, 0555);
        ck_assert_int_eq(save_two(file, &err), SEQRT_EIO);
        ck_assert_int_eq(file_size(file), before);
        chmod(ro, 0755);
        unlink(file);
        rmdir(ro);
    }
}
END_TEST

START_TEST(bad_tensors_on_save)
{
    seqrt_error err;
    int64_t neg[1] = {-1};
    seqrt_st_tensor dup[] = {{"a", Bv, 1, BS}, {"a", Bv, 1, BS}};
    ck_assert_int_eq(seqrt_st_save(tmp("bad.safetensors"), dup, 2, NULL, 0, &err), SEQRT_EINVAL);
    seqrt_st_tensor res[] = {{"__metadata__", Bv, 1, BS}};
    ck_assert_int_eq(seqrt_st_save(tmp("bad.safetensors"), res, 1, NULL, 0, &err), SEQRT_EINVAL);
    seqrt_st_tensor ng[] = {{"n", Bv, 1, neg}};
    ck_assert_int_eq(seqrt_st_save(tmp("bad.safetensors"), ng, 1, NULL, 0, &err), SEQRT_EINVAL);
    ck_assert_int_eq(file_size(tmp("bad.safetensors")), -1);
    ck_assert_int_eq(count_temps(), 0);
}
END_TEST

/* ---- Hostile ---- */

static void expect_error(const char *path, const char *why)
{
    seqrt_st_file f;
    seqrt_error err = {0};
    int rc = seqrt_st_load(&f, path, &err);
    ck_assert_msg(rc != SEQRT_OK, "%s loaded; wanted error '%s'", path, why);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, why), "message '%s' lacks '%s'", err.msg, why);
    ck_assert_int_eq(f.n, 0);
    ck_assert_ptr_null(f.entries);
}

#define T1(extra) "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}" extra "}"

START_TEST(hostile_lengths)
{
    unsigned char d[16] = {0};
    const char *p = tmp("short.st");
    FILE *f = fopen(p, "wb");
    fwrite("\x10\x00\x00", 1, 3, f);
    fclose(f);
    expect_error(p, "truncated");
    p = tmp("hl.st");
    f = fopen(p, "wb");
    fwrite("\x00\x01\x00\x00\x00\x00\x00\x00{}", 1, 10, f);   /* claims 256 bytes */
    fclose(f);
    expect_error(p, "larger than the file");
    p = tmp("huge.st");
    f = fopen(p, "wb");
    fwrite("\x00\x00\x00\x10\x00\x00\x00\x00{}", 1, 10, f);   /* 256 MB */
    fclose(f);
    expect_error(p, "100 MB");
    p = tmp("max.st");
    f = fopen(p, "wb");
    fwrite("\xff\xff\xff\xff\xff\xff\xff\xff{}", 1, 10, f);
    fclose(f);
    expect_error(p, "100 MB");
    expect_error(raw_st("oob.st", T1(""), d, 4), "past the data section");
    expect_error(raw_st("size.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", d, 16),
                 "need 12");
    expect_error(raw_st("rev.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", d, 16),
                 "data_offsets");
    expect_error(raw_st("ovl.st", T1(",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}"), d, 16),
                 "overlap");
    expect_error(raw_st("prod.st", "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                        "\"data_offsets\":[0,8]}}", d, 8), "overflows");
    expect_error(tmp("nonexistent.st"), "cannot open");
}
END_TEST

START_TEST(hostile_entries)
{
    unsigned char d[16] = {0};
    expect_error(raw_st("dup.st", T1(",\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}"), d, 16),
                 "duplicate tensor name 'a'");
    expect_error(raw_st("q7.st", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", d, 8),
                 "unknown dtype 'Q7'");
    expect_error(raw_st("i32.st", "{\"a\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", d, 8),
                 "unsupported dtype 'I32'");
    expect_error(raw_st("nooff.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", d, 8), "data_offsets");
    expect_error(raw_st("extra.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}",
                        d, 8), "unexpected or repeated key 'x'");
    expect_error(raw_st("negs.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", d, 8),
                 "shape dimension");
    expect_error(raw_st("frac.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", d, 8),
                 "shape dimension");
    expect_error(raw_st("dims.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],"
                        "\"data_offsets\":[0,8]}}", d, 8), "shape");
    expect_error(raw_st("offs.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", d, 8),
                 "data_offsets");
    expect_error(raw_st("negoff.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", d, 8),
                 "bad data offset");
    expect_error(raw_st("notobj.st", "{\"a\":[1,2]}", d, 8), "not an object");
    expect_error(raw_st("arr.st", "[1,2]", d, 8), "not a JSON object");
    expect_error(raw_st("meta.st", "{\"__metadata__\":{\"k\":1}}", d, 0), "not a string");
    expect_error(raw_st("meta2.st", "{\"__metadata__\":[]}", d, 0), "__metadata__");
    expect_error(raw_st("nul.st", "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                        d, 8), "NUL");
}
END_TEST

START_TEST(hostile_json)
{
    const char *bad[][2] = {
        {"{", "expected a string key"},
        {"{\"a\":1,}", "expected a string key"},
        {"{\"a\" 1}", "expected ':'"},
        {"{\"a\":1 \"b\":2}", "expected ','"},
        {"{\"a\":\"abc}", "unterminated string"},
        {"{\"a\":\"\\q\"}", "bad escape"},
        {"{\"a\":\"\\u12G4\"}", "bad hex digit"},
        {"{\"a\":\"\\ud800\"}", "lone surrogate"},
        {"{\"a\":\"\\udc00\"}", "lone surrogate"},
        {"{\"a\":\"x\ty\"}", "control character"},
        {"{\"a\":01}", "leading zero"},
        {"{\"a\":1.}", "bad fraction"},
        {"{\"a\":1e}", "bad exponent"},
        {"{\"a\":-}", "bad number"},
        {"{\"a\":tru}", "unexpected character"},
        {"{} {}", "trailing characters"},
        {"", "unexpected end"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "json%zu.st", i);
        char path[512];
        snprintf(path, sizeof path, "%s", raw_st(name, bad[i][0], NULL, 0));
        expect_error(path, bad[i][1]);
    }
    /* nesting deeper than the limit */
    char deep[300] = "{\"__metadata__\":";
    size_t n = strlen(deep);
    for (int i = 0; i < 100; i++) deep[n++] = '[';
    for (int i = 0; i < 100; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    expect_error(raw_st("deep.st", deep, NULL, 0), "nesting too deep");
    /* valid JSON we accept: escapes, surrogate pairs, whitespace, null metadata */
    seqrt_st_file f;
    const char *ok = " {\"__metadata__\":{\"k\\u00e9\\ud83d\\ude00\":\"v\\\"\\/\\n\"}, \"__x\": "
                     "{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}   ";
    unsigned char one[4] = {0, 0, 0x80, 0x3F};
    seqrt_error err = {0};
    ck_assert_msg(seqrt_st_load(&f, raw_st("ok.st", ok, one, 4), &err) == SEQRT_OK, "%s", err.msg);
    ck_assert_str_eq(seqrt_st_meta(&f, "k\xc3\xa9\xf0\x9f\x98\x80"), "v\"/\n");
    ck_assert_double_eq(seqrt_st_find(&f, "__x")->data[0], 1);
    ck_assert_int_eq(seqrt_st_find(&f, "__x")->ndim, 0);
    seqrt_st_free(&f);
}
END_TEST

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = malloc(4096);
    *n = fread(buf, 1, 4096, fp);
    fclose(fp);
    return buf;
}

/* Every prefix of a valid file is an error; random byte flips never crash. */
START_TEST(truncations_and_flips)
{
    ck_assert_int_eq(save_two(tmp("v.safetensors"), NULL), SEQRT_OK);
    size_t n;
    unsigned char *buf = read_all(tmp("v.safetensors"), &n);
    for (size_t cut = 0; cut < n; cut++) {
        const char *p = tmp("cut.st");
        FILE *f = fopen(p, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        seqrt_st_file sf;
        seqrt_error err;
        ck_assert_int_ne(seqrt_st_load(&sf, p, &err), SEQRT_OK);
    }
    seqrt_rng r;
    seqrt_rng_seed(&r, 2024);
    unsigned char *m = malloc(n);
    for (int trial = 0; trial < 2000; trial++) {
        memcpy(m, buf, n);
        int flips = 1 + (int)seqrt_rng_below(&r, 4);
        for (int k = 0; k < flips; k++)
            m[seqrt_rng_below(&r, n)] ^= (unsigned char)(1u << seqrt_rng_below(&r, 8));
        const char *p = tmp("flip.st");
        FILE *f = fopen(p, "wb");
        fwrite(m, 1, n, f);
        fclose(f);
        seqrt_st_file sf;
        if (seqrt_st_load(&sf, p, NULL) == SEQRT_OK) seqrt_st_free(&sf);
    }
    free(m);
    free(buf);
}
END_TEST

static Suite *make_safetensors_suite(void)
{
    Suite *s = suite_create("runtime_safetensors");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, round_trip_with_metadata);
    tcase_add_test(core, layout_and_dtype);
    tcase_add_test(core, reads_reference_layout);
    tcase_add_test(core, no_tensors_no_metadata);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, overwrite_replaces_atomically);
    tcase_add_test(limits, failed_write_keeps_old_file);
    tcase_add_test(limits, unwritable_targets);
    tcase_add_test(limits, bad_tensors_on_save);
    suite_add_tcase(s, limits);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, hostile_lengths);
    tcase_add_test(hostile, hostile_entries);
    tcase_add_test(hostile, hostile_json);
    tcase_add_test(hostile, truncations_and_flips);
    suite_add_tcase(s, hostile);
    return s;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(tmp(e->d_name));
    if (d) closedir(d);
    rmdir(tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_runtime_st.XXXXXX");
    if (!mkdtemp(tmpdir)) return EXIT_FAILURE;
    SRunner *sr = srunner_create(make_safetensors_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tmpdir();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
