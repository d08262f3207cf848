/*
 * check_runtime_npy.c: .npy reading and writing (runtime/src/npy.c).
 * Core: every dtype from hand-built bytes, round trips through our writer,
 * and files numpy itself wrote (tests/data/runtime, see make_npy.py).
 * Hostile: each malformed file is an error naming the path and the reason.
 * Built for both seqrt and seqrt_f64.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_util.h"
#include "seqrt.h"

static char tmpdir[64];

static const char *tmp(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* magic, version, header length, header text (hl bytes), then data bytes. */
static const char *raw_npy_n(const char *name, int major, const char *header, size_t hl,
                             const void *data, size_t n)
{
    const char *path = tmp(name);
    FILE *f = fopen(path, "wb");
    unsigned char pre[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', (unsigned char)major, 0};
    size_t pn = 8;
    pre[pn++] = (unsigned char)(hl & 0xFF);
    pre[pn++] = (unsigned char)(hl >> 8);
    if (major != 1) { pre[pn++] = 0; pre[pn++] = 0; }
    fwrite(pre, 1, pn, f);
    fwrite(header, 1, hl, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
    return path;
}

static const char *raw_npy(const char *name, int major, const char *header, const void *data,
                           size_t n)
{
    return raw_npy_n(name, major, header, strlen(header), data, n);
}

static const char *data_file(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", SEQRT_TEST_DATA, name);
    return path;
}

#define HDR(descr, shape) "{'descr': '" descr "', 'fortran_order': False, 'shape': " shape ", }\n"

/* ---- Core ---- */

START_TEST(every_dtype_from_bytes)
{
    struct { const char *descr; unsigned char bytes[16]; size_t n; double want[2]; } cases[] = {
        {"<f4", {0, 0, 0, 0x40, 0, 0, 0x20, 0xC1}, 8, {2, -10}},
        {"<f8", {0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0x24, 0xC0}, 16, {2, -10}},
        {"|i1", {0xFE, 0x7F}, 2, {-2, 127}},
        {"|u1", {0xFE, 0x7F}, 2, {254, 127}},
        {"<i2", {0xFE, 0xFF, 0x00, 0x80}, 4, {-2, -32768}},
        {"<u2", {0xFE, 0xFF, 0x00, 0x80}, 4, {65534, 32768}},
        {"<i4", {0xFE, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x80}, 8, {-2, -2147483648.0}},
        {"<u4", {0x05, 0, 0, 0, 0x00, 0x00, 0x01, 0}, 8, {5, 65536}},
        {"<i8", {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 3}, 16, {-2, 3}},
        {"<u8", {9, 0, 0, 0, 0, 0, 0, 0, 3}, 16, {9, 3}},
        {"|b1", {1, 0}, 2, {1, 0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char header[128];
        snprintf(header, sizeof header, HDR("%s", "(2,)"), cases[c].descr);
        const char *path = raw_npy("dt.npy", 1, header, cases[c].bytes, cases[c].n);
        seqrt_array a;
        seqrt_error err = {0};
        ck_assert_msg(seqrt_npy_read(&a, path, 0, &err) == SEQRT_OK, "%s: %s", cases[c].descr, err.msg);
        ck_assert_int_eq(a.ndim, 1);
        ck_assert_int_eq(a.shape[0], 2);
        for (int i = 0; i < 2; i++)
            ck_assert_double_eq(((seqrt_real *)a.data)[i], (seqrt_real)cases[c].want[i]);
        seqrt_array_free(&a);
        ck_assert_int_eq(seqrt_npy_read(&a, path, 1, &err), SEQRT_OK);   /* all integral */
        ck_assert_int_eq(((int32_t *)a.data)[0], (int32_t)cases[c].want[0]);
        seqrt_array_free(&a);
    }
}
END_TEST

START_TEST(write_read_round_trip)
{
    seqrt_real x[24];
    for (int i = 0; i < 24; i++) x[i] = (seqrt_real)(i * 0.37 - 4);
    int64_t shape[3] = {2, 3, 4};
    seqrt_error err;
    ck_assert_int_eq(seqrt_npy_write(tmp("rt.npy"), x, 3, shape, &err), SEQRT_OK);
    seqrt_array a;
    ck_assert_int_eq(seqrt_npy_read(&a, tmp("rt.npy"), 0, &err), SEQRT_OK);
    ck_assert_int_eq(a.ndim, 3);
    ck_assert_int_eq(a.count, 24);
    ck_assert_mem_eq(a.data, x, sizeof x);
    seqrt_array_free(&a);

    int32_t ids[3] = {-5, 0, 2147483647};
    int64_t s1[1] = {3};
    ck_assert_int_eq(seqrt_npy_write_i32(tmp("ids.npy"), ids, 1, s1, &err), SEQRT_OK);
    ck_assert_int_eq(seqrt_npy_read(&a, tmp("ids.npy"), 1, &err), SEQRT_OK);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_mem_eq(a.data, ids, sizeof ids);
    seqrt_array_free(&a);

    /* 0-d and empty arrays */
    ck_assert_int_eq(seqrt_npy_write(tmp("s.npy"), x, 0, NULL, &err), SEQRT_OK);
    ck_assert_int_eq(seqrt_npy_read(&a, tmp("s.npy"), 0, &err), SEQRT_OK);
    ck_assert_int_eq(a.ndim, 0);
    ck_assert_int_eq(a.count, 1);
    seqrt_array_free(&a);
    int64_t s0[2] = {0, 5};
    ck_assert_int_eq(seqrt_npy_write(tmp("e.npy"), x, 2, s0, &err), SEQRT_OK);
    ck_assert_int_eq(seqrt_npy_read(&a, tmp("e.npy"), 0, &err), SEQRT_OK);
    ck_assert_int_eq(a.count, 0);
    seqrt_array_free(&a);
}
END_TEST

/* Our header is what numpy writes: 64-byte aligned, "(3,)" for 1-d. */
START_TEST(written_header_layout)
{
    seqrt_real x[3] = {1, 2, 3};
    int64_t s1[1] = {3};
    ck_assert_int_eq(seqrt_npy_write(tmp("h.npy"), x, 1, s1, NULL), SEQRT_OK);
    FILE *f = fopen(tmp("h.npy"), "rb");
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t hl = buf[8] | buf[9] << 8;
    ck_assert_uint_eq((10 + hl) % 64, 0);
    ck_assert_uint_eq(n, 10 + hl + 3 * sizeof(seqrt_real));
    ck_assert_int_eq(buf[10 + hl - 1], '\n');
    ck_assert_ptr_nonnull(strstr((char *)buf + 10, "'shape': (3,)"));
}
END_TEST

START_TEST(numpy_written_files)
{
    seqrt_array a;
    seqrt_error err = {0};
    ck_assert_msg(seqrt_npy_read(&a, data_file("np_f32.npy"), 0, &err) == SEQRT_OK, "%s", err.msg);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[1], 3);
    ck_assert_double_eq(((seqrt_real *)a.data)[5], 6.25);
    seqrt_array_free(&a);
    ck_assert_int_eq(seqrt_npy_read(&a, data_file("np_f64_v1.npy"), 0, &err), SEQRT_OK);
    ck_assert_int_eq(a.count, 5);
    ck_assert_double_eq(((seqrt_real *)a.data)[3], (seqrt_real)(3 * 0.1));
    seqrt_array_free(&a);
    ck_assert_int_eq(seqrt_npy_read(&a, data_file("np_i64_v1.npy"), 1, &err), SEQRT_OK);
    ck_assert_int_eq(((int32_t *)a.data)[1], -2);
    ck_assert_int_eq(((int32_t *)a.data)[3], 2147483647);
    seqrt_array_free(&a);
    ck_assert_int_eq(seqrt_npy_read(&a, data_file("np_i32_v2.npy"), 1, &err), SEQRT_OK);
    ck_assert_int_eq(((int32_t *)a.data)[1], -8);
    seqrt_array_free(&a);
    ck_assert_int_eq(seqrt_npy_read(&a, data_file("np_u8_v3.npy"), 0, &err), SEQRT_OK);
    ck_assert_double_eq(((seqrt_real *)a.data)[1], 255);
    seqrt_array_free(&a);
    ck_assert_int_eq(seqrt_npy_read(&a, data_file("np_scalar.npy"), 0, &err), SEQRT_OK);
    ck_assert_int_eq(a.ndim, 0);
    ck_assert_double_eq(((seqrt_real *)a.data)[0], 2.5);
    seqrt_array_free(&a);
    ck_assert_int_eq(seqrt_npy_read(&a, data_file("np_i64_big.npy"), 0, &err), SEQRT_OK);
    ck_assert_double_eq(((seqrt_real *)a.data)[1], (seqrt_real)1099511627776.0);
    seqrt_array_free(&a);
}
END_TEST

START_TEST(trailing_garbage_is_ok)
{
    unsigned char d[12] = {0, 0, 0x80, 0x3F, 0xDE, 0xAD, 0xBE, 0xEF};
    seqrt_array a;
    ck_assert_int_eq(seqrt_npy_read(&a, raw_npy("tg.npy", 1, HDR("<f4", "(1,)"), d, 12), 0, NULL),
                     SEQRT_OK);
    ck_assert_double_eq(((seqrt_real *)a.data)[0], 1);
    seqrt_array_free(&a);
}
END_TEST

/* ---- Hostile ---- */

/* The read fails with code, and the message names the path and says why. */
static void expect_error(const char *path, int as_int, int code, const char *why)
{
    seqrt_array a;
    seqrt_error err = {0};
    int rc = seqrt_npy_read(&a, path, as_int, &err);
    ck_assert_msg(rc == code, "%s: got %d (%s), want %d", path, rc, err.msg, code);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, why), "message '%s' lacks '%s'", err.msg, why);
    ck_assert_ptr_null(a.data);
}

START_TEST(hostile_headers)
{
    unsigned char d[8] = {0};
    const char *p = tmp("short.npy");
    FILE *f = fopen(p, "wb");
    fwrite("\x93NUM", 1, 4, f);
    fclose(f);
    expect_error(p, 0, SEQRT_EFORMAT, "too short");
    p = tmp("magic.npy");
    f = fopen(p, "wb");
    fwrite("PK\x03\x04 not numpy at all", 1, 22, f);
    fclose(f);
    expect_error(p, 0, SEQRT_EFORMAT, "bad magic");
    expect_error(raw_npy("ver.npy", 9, HDR("<f4", "(1,)"), d, 4), 0, SEQRT_EUNSUPPORTED, "version 9");
    expect_error(raw_npy("dict.npy", 1, "{'descr': '<f4', 'fortran_order': Nope, 'shape': (1,)}", d, 4),
                 0, SEQRT_EFORMAT, "fortran_order");
    expect_error(raw_npy("nodict.npy", 1, "hello", d, 4), 0, SEQRT_EFORMAT, "unparsable");
    expect_error(raw_npy("unterm.npy", 1, "{'descr: '<f4'", d, 4), 0, SEQRT_EFORMAT, "unparsable");
    expect_error(raw_npy("missing.npy", 1, "{'descr': '<f4', 'shape': (1,)}", d, 4), 0, SEQRT_EFORMAT,
                 "missing");
    expect_error(raw_npy("extra.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
                         "'x': 1}", d, 4), 0, SEQRT_EFORMAT, "unexpected");
    expect_error(raw_npy("neg.npy", 1, HDR("<f4", "(-1,)"), d, 4), 0, SEQRT_EFORMAT, "non-negative");
    expect_error(raw_npy("be.npy", 1, HDR(">f4", "(1,)"), d, 4), 0, SEQRT_EUNSUPPORTED, "big-endian");
    expect_error(raw_npy("c8.npy", 1, HDR("<c8", "(1,)"), d, 8), 0, SEQRT_EUNSUPPORTED, "dtype '<c8'");
    expect_error(raw_npy("str.npy", 1, HDR("<U4", "(1,)"), d, 8), 0, SEQRT_EUNSUPPORTED, "dtype");
    expect_error(raw_npy("obj.npy", 1, HDR("|O", "(1,)"), d, 8), 0, SEQRT_EUNSUPPORTED, "dtype");
    expect_error(raw_npy("rec.npy", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
                         d, 4), 0, SEQRT_EUNSUPPORTED, "structured");
    expect_error(raw_npy("fo.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", d, 8),
                 0, SEQRT_EUNSUPPORTED, "fortran_order");
    expect_error(raw_npy("dims.npy", 1, HDR("<f4", "(1,1,1,1,1,1,1,1,1)"), d, 4), 0, SEQRT_EUNSUPPORTED,
                 "dimensions");
    expect_error(raw_npy("huge.npy", 1, HDR("<f4", "(99999999999999999999,)"), d, 4), 0, SEQRT_ERANGE,
                 "overflows");
    /* a NUL (or any control byte) inside descr: '<f4\0junk' is not '<f4' */
    static const char nul[] = "{'descr': '<f4\0junk', 'fortran_order': False, 'shape': (1,), }\n";
    expect_error(raw_npy_n("nul.npy", 1, nul, sizeof nul - 1, d, 4), 0, SEQRT_EFORMAT, "control byte");
    static const char nul_end[] = "{'descr': '<f4\0', 'fortran_order': False, 'shape': (1,), }\n";
    expect_error(raw_npy_n("nul_end.npy", 1, nul_end, sizeof nul_end - 1, d, 4), 0, SEQRT_EFORMAT,
                 "control byte");
    expect_error(raw_npy("esc.npy", 1, HDR("<f4\x1b[2J", "(1,)"), d, 4), 0, SEQRT_EFORMAT, "control byte");
    expect_error(data_file("np_fortran.npy"), 0, SEQRT_EUNSUPPORTED, "fortran_order");
    expect_error(data_file("np_big_endian.npy"), 0, SEQRT_EUNSUPPORTED, "big-endian");
}
END_TEST

START_TEST(hostile_sizes)
{
    unsigned char d[8] = {0};
    /* shape product overflows int64 */
    expect_error(raw_npy("prod.npy", 1, HDR("<f8", "(4294967296, 4294967296, 4294967296)"), d, 8), 0,
                 SEQRT_ERANGE, "overflows");
    /* the count fits int64, its bytes do not */
    expect_error(raw_npy("bytes.npy", 1, HDR("<f8", "(2305843009213693952,)"), d, 8), 0, SEQRT_ERANGE,
                 "overflows");
    expect_error(raw_npy("bytes2.npy", 1, HDR("<i2", "(4611686018427387904, 2)"), d, 8), 0, SEQRT_ERANGE,
                 "overflows");
    /* claims 8000 bytes, holds 8: refused before allocating */
    expect_error(raw_npy("trunc.npy", 1, HDR("<f8", "(1000,)"), d, 8), 0, SEQRT_EFORMAT, "truncated data");
    expect_error(raw_npy("big.npy", 1, HDR("<f4", "(1000000, 1000000)"), d, 8), 0, SEQRT_EFORMAT,
                 "truncated data");
    /* header length past the end of the file */
    const char *p = tmp("hlen.npy");
    FILE *f = fopen(p, "wb");
    fwrite("\x93NUMPY\x02\x00\xFF\xFF\xFF\x00{'descr'", 1, 20, f);
    fclose(f);
    expect_error(p, 0, SEQRT_EFORMAT, "truncated header");
    p = tmp("hlen1.npy");
    f = fopen(p, "wb");
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fclose(f);
    expect_error(p, 0, SEQRT_EFORMAT, "header length");
}
END_TEST

START_TEST(hostile_values_and_paths)
{
    expect_error(data_file("np_i64_big.npy"), 1, SEQRT_ERANGE, "int32 range");
    unsigned char half[4] = {0, 0, 0, 0x3F};   /* 0.5f */
    expect_error(raw_npy("frac.npy", 1, HDR("<f4", "(1,)"), half, 4), 1, SEQRT_ERANGE, "not an int32");
    unsigned char nan[4] = {0, 0, 0xC0, 0x7F};
    expect_error(raw_npy("nan.npy", 1, HDR("<f4", "(1,)"), nan, 4), 1, SEQRT_ERANGE, "not an int32");
    unsigned char big[8] = {0, 0, 0, 0, 0, 0, 0, 0x80};   /* uint64 2^63 */
    expect_error(raw_npy("u8big.npy", 1, HDR("<u8", "(1,)"), big, 8), 1, SEQRT_ERANGE, "int32 range");
    expect_error(tmp("does-not-exist.npy"), 0, SEQRT_EIO, "cannot open");
    expect_error(tmpdir, 0, SEQRT_EIO, "not a regular file");
    seqrt_error err;
    int64_t s[1] = {1};
    seqrt_real x[1] = {0};
    ck_assert_int_eq(seqrt_npy_write(tmp("no/such/dir/x.npy"), x, 1, s, &err), SEQRT_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "no/such/dir/x.npy"));
}
END_TEST

/* Cut a valid file at every length: each prefix is an error, never a crash. */
START_TEST(every_truncation)
{
    FILE *f = fopen(data_file("np_i64_v1.npy"), "rb");
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t cut = 0; cut < n; cut++) {
        const char *p = tmp("cut.npy");
        f = fopen(p, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        seqrt_array a;
        seqrt_error err;
        ck_assert_int_ne(seqrt_npy_read(&a, p, 0, &err), SEQRT_OK);
        ck_assert_ptr_nonnull(strstr(err.msg, p));
    }
}
END_TEST

static Suite *make_npy_suite(void)
{
    Suite *s = suite_create("runtime_npy");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, every_dtype_from_bytes);
    tcase_add_test(core, write_read_round_trip);
    tcase_add_test(core, written_header_layout);
    tcase_add_test(core, numpy_written_files);
    tcase_add_test(core, trailing_garbage_is_ok);
    suite_add_tcase(s, core);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, hostile_headers);
    tcase_add_test(hostile, hostile_sizes);
    tcase_add_test(hostile, hostile_values_and_paths);
    tcase_add_test(hostile, every_truncation);
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
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_runtime_npy.XXXXXX");
    if (!mkdtemp(tmpdir)) return EXIT_FAILURE;
    SRunner *sr = srunner_create(make_npy_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tmpdir();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
