/*
 * check_hardening_data.c: hostile and awkward data files through a training
 * binary's command line (issue 7, item 4). The readers' own suites
 * (check_runtime_npy.c, check_runtime_safetensors.c) cover the formats
 * byte by byte; here every case goes through `train --x/--y` or
 * `predict --weights` of examples/goodbye.seq and must end with exit
 * status 1 and a message naming the file and the reason: never a signal, a
 * hang, or an allocation the file does not justify. Allocation is checked
 * by running the binary under RLIMIT_AS (not in a sanitizer build: ASan
 * reserves terabytes of address space).
 */
#include <fcntl.h>

#include "hardening_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define HD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HD_ASAN 1
#endif
#endif
#ifndef HD_ASAN
#define HD_ASAN 0
#endif

enum { LIMIT = 60 };
#define GIB (UINT64_C(1) << 30)

static const char *bin;         /* goodbye's training binary */
static char xpath[1200], ypath[1200], wpath[1200];

#define DICT(descr, order, shape) \
    "{'descr': '" descr "', 'fortran_order': " order ", 'shape': " shape ", }"

static void setup(void)
{
    hd_setup();
    size_t len;
    char *src = fe_read_file(SEQ_SOURCE_DIR "/examples/goodbye.seq", &len);
    ck_assert_ptr_nonnull(src);
    bin = hd_build("goodbye", src);
    free(src);
    float d[4 * 21];
    for (int i = 0; i < 4 * 21; i++) d[i] = (float)(i % 7 == i / 21);
    snprintf(xpath, sizeof xpath, "%s", hd_npy("x.npy", DICT("<f4", "False", "(4, 3, 7)"), d, sizeof d));
    snprintf(ypath, sizeof ypath, "%s", hd_npy("y.npy", DICT("<f4", "False", "(4, 3, 7)"), d, sizeof d));
    snprintf(wpath, sizeof wpath, "%s", hd_path("w.safetensors"));
    char *argv[] = {(char *)bin, "train", "--x", xpath, "--y", ypath, "--epochs", "1", "--save", wpath,
                    "--quiet", NULL};
    RunResult r = hd_run_limited(argv, LIMIT, 0);
    ck_assert_msg(r.exited && r.status == 0, "training goodbye failed: %s", r.err);
    fe_free(&r);
}

/* train with --x `x` (and the good y): must fail naming x with `why`. */
static void train_rejects(const char *x, const char *why, uint64_t as_bytes)
{
    char *argv[] = {(char *)bin, "train", "--x", (char *)x, "--y", ypath, "--epochs", "1",
                    "--quiet", NULL};
    RunResult r = hd_run_limited(argv, LIMIT, as_bytes);
    hd_expect_error(&r, x, why);
    fe_free(&r);
}

/* predict with --weights `w`: must fail naming w with `why`. */
static void predict_rejects(const char *w, const char *why, uint64_t as_bytes)
{
    char *argv[] = {(char *)bin, "predict", "--weights", (char *)w, "--x", xpath, "--out",
                    (char *)hd_path("p.npy"), NULL};
    RunResult r = hd_run_limited(argv, LIMIT, as_bytes);
    hd_expect_error(&r, w, why);
    fe_free(&r);
}

/* ---- .npy ---------------------------------------------------------------- */

START_TEST(npy_layouts_and_dtypes)
{
    unsigned char d[4 * 21 * 16] = {0};
    train_rejects(hd_npy("be.npy", DICT(">f4", "False", "(4, 3, 7)"), d, 4 * 84), "big-endian", 0);
    train_rejects(hd_npy("fo.npy", DICT("<f4", "True", "(4, 3, 7)"), d, 4 * 84), "fortran_order", 0);
    train_rejects(hd_npy("f2.npy", DICT("<f2", "False", "(4, 3, 7)"), d, 2 * 84), "unsupported dtype", 0);
    train_rejects(hd_npy("c8.npy", DICT("<c8", "False", "(4, 3, 7)"), d, 8 * 84), "unsupported dtype", 0);
    train_rejects(hd_npy("obj.npy", DICT("|O", "False", "(4, 3, 7)"), d, 8 * 84), "unsupported dtype", 0);
    train_rejects(hd_npy("str.npy", DICT("<U3", "False", "(4, 3, 7)"), d, 12 * 84), "unsupported dtype", 0);
    train_rejects(hd_npy("rec.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4, 3, 7), }",
                         d, 4 * 84), "structured", 0);
    /* a big-endian single byte is fine (no byte order): |u1 and >u1 both read */
    char *argv[] = {(char *)bin, "train", "--x",
                    (char *)hd_npy("u1.npy", DICT(">u1", "False", "(4, 3, 7)"), d, 84), "--y", ypath,
                    "--epochs", "1", "--quiet", NULL};
    RunResult r = hd_run_limited(argv, LIMIT, 0);
    ck_assert_msg(r.exited && r.status == 0, ">u1 data: %s", r.err);
    fe_free(&r);
}
END_TEST

START_TEST(npy_lying_headers)
{
    unsigned char d[4 * 84] = {0};
    /* claims 400 samples, holds 4 */
    train_rejects(hd_npy("lie.npy", DICT("<f4", "False", "(400, 3, 7)"), d, sizeof d), "truncated data", 0);
    /* claims 2^62 elements: refused before any allocation */
    train_rejects(hd_npy("lie2.npy", DICT("<f4", "False", "(1073741824, 1073741824, 4)"), d, sizeof d),
                  "overflows", 0);
    /* header length past the end of the file */
    const char hl[] = "\x93NUMPY\x02\x00\xff\xff\xff\x00{'descr': '<f4'";
    train_rejects(hd_write("hlen.npy", hl, sizeof hl - 1), "truncated header", 0);
    /* cut in the middle of the data */
    train_rejects(hd_npy("cut.npy", DICT("<f4", "False", "(4, 3, 7)"), d, sizeof d - 3), "truncated data", 0);
    /* not .npy at all */
    train_rejects(hd_write("text.npy", "1,2,3\n4,5,6\n", 12), "bad magic", 0);
    train_rejects(hd_write("empty.npy", "", 0), "too short", 0);
}
END_TEST

START_TEST(npy_zero_length_arrays)
{
    unsigned char d[8] = {0};
    /* no samples: an error for train and for predict */
    const char *z = hd_npy("zero.npy", DICT("<f4", "False", "(0, 3, 7)"), d, 0);
    char *argv[] = {(char *)bin, "train", "--x", (char *)z, "--y", (char *)z, "--epochs", "1",
                    "--quiet", NULL};
    RunResult r = hd_run_limited(argv, LIMIT, 0);
    hd_expect_error(&r, z, "no samples");
    fe_free(&r);
    char *pargv[] = {(char *)bin, "predict", "--weights", wpath, "--x", (char *)z, "--out",
                     (char *)hd_path("pz.npy"), NULL};
    r = hd_run_limited(pargv, LIMIT, 0);
    hd_expect_error(&r, z, "no samples");
    fe_free(&r);
    /* an empty feature axis, a 0-d array */
    train_rejects(hd_npy("z2.npy", DICT("<f4", "False", "(4, 0, 7)"), d, 0), "axis 1 is 0, not 3", 0);
    train_rejects(hd_npy("s0.npy", DICT("<f4", "False", "()"), d, 4), "rank 0", 0);
}
END_TEST

START_TEST(special_files)
{
    /* a FIFO nobody writes to: refused at once, not a hang */
    const char *fifo = hd_path("fifo.npy");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    train_rejects(fifo, "not a regular file", 0);
    predict_rejects(fifo, "not a regular file", 0);
    train_rejects(hd_dir, "not a regular file", 0);
    train_rejects("/dev/zero", "not a regular file", 0);
    train_rejects(hd_path("does-not-exist.npy"), "cannot open", 0);
    predict_rejects(hd_path("does-not-exist.safetensors"), "cannot open", 0);
}
END_TEST

/* A truthful but huge array (a sparse file: 8.4 GB, no disk used) under a
 * 1 GB address-space limit: a clear "out of memory" naming the file. */
START_TEST(npy_huge_under_rlimit)
{
    if (HD_ASAN) return;
    unsigned char d[4] = {0};
    const char *p = hd_npy("huge.npy", DICT("<f4", "False", "(100000000, 3, 7)"), d, 0);
    int fd = open(p, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    off_t size = lseek(fd, 0, SEEK_END) + (off_t)100000000 * 21 * 4;
    if (ftruncate(fd, size) != 0) {   /* no sparse files here: nothing to show */
        close(fd);
        return;
    }
    close(fd);
    train_rejects(p, "out of memory", GIB);
    unlink(p);
}
END_TEST

/* ---- safetensors (weights for predict) ------------------------------------ */

START_TEST(safetensors_hostile_headers)
{
    unsigned char d[64] = {0};
    /* header length over the 100 MB limit, and larger than the file */
    const unsigned char big[] = {0, 0, 0, 0x10, 0, 0, 0, 0, '{', '}'};
    predict_rejects(hd_write("big.st", big, sizeof big), "100 MB", 0);
    const unsigned char over[] = {0, 1, 0, 0, 0, 0, 0, 0, '{', '}'};
    predict_rejects(hd_write("over.st", over, sizeof over), "larger than the file", 0);
    predict_rejects(hd_write("short.st", "\x02\x00", 2), "truncated", 0);
    predict_rejects(hd_st("json.st", "{\"a\":", NULL, 0), "bad JSON header", 0);
    predict_rejects(hd_st("json2.st", "{\"__metadata__\":{\"checksum\":\"\\ud800\"}}", NULL, 0),
                    "lone surrogate", 0);
    predict_rejects(hd_st("nul.st", "{\"simple_rnn.kernel\\u0000\":{\"dtype\":\"F32\",\"shape\":[1],"
                          "\"data_offsets\":[0,4]}}", d, 4), "NUL", 0);
    predict_rejects(hd_st("ovl.st", "{\"simple_rnn.kernel\":{\"dtype\":\"F32\",\"shape\":[7,8],"
                          "\"data_offsets\":[0,224]},\"simple_rnn.bias\":{\"dtype\":\"F32\","
                          "\"shape\":[8],\"data_offsets\":[200,232]}}", NULL, 0),
                    "past the data section", 0);
    unsigned char z[232] = {0};
    predict_rejects(hd_st("ovl2.st", "{\"simple_rnn.kernel\":{\"dtype\":\"F32\",\"shape\":[7,8],"
                          "\"data_offsets\":[0,224]},\"simple_rnn.bias\":{\"dtype\":\"F32\","
                          "\"shape\":[8],\"data_offsets\":[200,232]}}", z, sizeof z), "overlap", 0);
    predict_rejects(hd_st("oob.st", "{\"simple_rnn.bias\":{\"dtype\":\"F32\",\"shape\":[8],"
                          "\"data_offsets\":[18446744073709551584,18446744073709551616]}}", d, 32),
                    "bad data offset", 0);
    predict_rejects(hd_st("i32.st", "{\"simple_rnn.bias\":{\"dtype\":\"I32\",\"shape\":[8],"
                          "\"data_offsets\":[0,32]}}", d, 32), "unsupported dtype 'I32'", 0);
    predict_rejects(hd_st("shape.st", "{\"simple_rnn.kernel\":{\"dtype\":\"F32\",\"shape\":[8,7],"
                          "\"data_offsets\":[0,224]}}", z, 224), "expected shape [7, 8], got [8, 7]", 0);
    predict_rejects(hd_st("none.st", "{}", NULL, 0), "missing tensor", 0);
}
END_TEST

/* A header of a million tiny JSON values: parsing it would take ~100 bytes
 * per 2 bytes of input (a 100 MB header: 5 GB); the reader caps values. */
START_TEST(safetensors_json_bomb)
{
    size_t n = 20u << 20;   /* a 20 MB header: "[0,0,0,...]" */
    char *j = malloc(n + 64);
    ck_assert_ptr_nonnull(j);
    size_t k = (size_t)sprintf(j, "{\"__metadata__\":{\"a\":\"b\"},\"x\":[");
    while (k < n) { j[k++] = '0'; j[k++] = ','; }
    j[k - 1] = ']';
    j[k++] = '}';
    j[k] = '\0';
    const char *p = hd_st("bomb.st", j, NULL, 0);
    free(j);
    predict_rejects(p, "too many JSON values", HD_ASAN ? 0 : GIB);
    unlink(p);
}
END_TEST

/* A real checkpoint: cut anywhere, or one data byte flipped, is refused. */
START_TEST(safetensors_damaged_checkpoint)
{
    size_t len;
    char *buf = fe_read_file(wpath, &len);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_gt(len, 100);
    const size_t cuts[] = {0, 4, 8, 9, len / 2, len - 4, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        RunResult r;
        const char *p = hd_write("cut.st", buf, cuts[i]);
        char *argv[] = {(char *)bin, "predict", "--weights", (char *)p, "--x", xpath, "--out",
                        (char *)hd_path("p.npy"), NULL};
        r = hd_run_limited(argv, LIMIT, 0);
        hd_expect_error(&r, p, "");
        fe_free(&r);
    }
    buf[len - 5] ^= 0x10;   /* inside the last tensor */
    predict_rejects(hd_write("flip.st", buf, len), "checksum mismatch", 0);
    free(buf);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hardening_data");
    TCase *tc = test_tcase("cli");
    tcase_add_unchecked_fixture(tc, setup, hd_teardown);
    tcase_add_test(tc, npy_layouts_and_dtypes);
    tcase_add_test(tc, npy_lying_headers);
    tcase_add_test(tc, npy_zero_length_arrays);
    tcase_add_test(tc, special_files);
    tcase_add_test(tc, npy_huge_under_rlimit);
    tcase_add_test(tc, safetensors_hostile_headers);
    tcase_add_test(tc, safetensors_json_bomb);
    tcase_add_test(tc, safetensors_damaged_checkpoint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
