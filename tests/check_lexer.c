/*
 * check_lexer.c: the Flex scanner (grammar/seq.l) on its own: the token
 * stream, values and byte-offset spans for small inputs, driven through
 * seqyylex exactly as the parser drives it.
 */
#include <float.h>
#include <limits.h>
#include <stdbool.h>

#include "frontend_util.h"
#include "parse_ctx.h"
#include "seq.tab.h"
#include "seq.lex.h"

enum { MAX_TOK = 256 };

typedef struct {
    int kind[MAX_TOK];
    SEQYYSTYPE val[MAX_TOK];
    Span at[MAX_TOK];
    int n;
    int errors;
    char *diag;      /* everything the scanner reported */
    size_t diag_len;
    Arena arena;
} Lexed;

/* Scan `src` to end of file (or MAX_TOK tokens). */
static void lex(Lexed *L, const char *src, size_t len)
{
    memset(L, 0, sizeof *L);
    arena_init(&L->arena);
    FILE *mem = open_memstream(&L->diag, &L->diag_len);
    Diag d;
    diag_init(&d, "t.seq", src, len, mem);
    ParseCtx ctx = {.diag = &d, .arena = &L->arena, .at_line_start = 1};
    yyscan_t sc;
    ck_assert_int_eq(seqyylex_init_extra(&ctx, &sc), 0);
    YY_BUFFER_STATE buf = seqyy_scan_bytes(src, (int)len, sc);
    for (;;) {
        ck_assert_int_lt(L->n, MAX_TOK);
        int k = seqyylex(&L->val[L->n], &L->at[L->n], sc);
        L->kind[L->n++] = k;
        if (k == TOK_YYEOF)
            break;
    }
    seqyy_delete_buffer(buf, sc);
    seqyylex_destroy(sc);
    L->errors = d.errors;
    fclose(mem);
}

#define LEX(L, s) lex((L), (s), sizeof(s) - 1)

static void done(Lexed *L)
{
    free(L->diag);
    arena_free(&L->arena);
}

static void expect_kinds(const Lexed *L, const int *want, int n)
{
    ck_assert_msg(L->n == n, "%d tokens, expected %d", L->n, n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(L->kind[i] == want[i], "token %d is %d, expected %d", i, L->kind[i],
                      want[i]);
}

/* ---- Core ----------------------------------------------------------------- */

START_TEST(test_statement_tokens)
{
    Lexed L;
    LEX(&L, "h = x -> LSTM(32)\n");
    int want[] = {TOK_IDENT, '=', TOK_IDENT, TOK_ARROW, TOK_IDENT, '(', TOK_INTEGER, ')',
                  TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 10);
    ck_assert_str_eq(L.val[0].str, "h");
    ck_assert_str_eq(L.val[4].str, "LSTM");
    ck_assert_int_eq(L.val[6].ival, 32);
    /* byte-offset spans */
    ck_assert_uint_eq(L.at[4].start, 9);
    ck_assert_uint_eq(L.at[4].end, 13);
    ck_assert_uint_eq(L.at[6].start, 14);
    ck_assert_uint_eq(L.at[6].end, 16);
    ck_assert_int_eq(L.errors, 0);
    done(&L);
}
END_TEST

START_TEST(test_keywords_and_names)
{
    Lexed L;
    LEX(&L, "model models input target output layer train true false int float int_x");
    int want[] = {TOK_MODEL, TOK_IDENT, TOK_INPUT, TOK_TARGET, TOK_OUTPUT, TOK_LAYER, TOK_TRAIN,
                  TOK_TRUE, TOK_FALSE, TOK_KW_INT, TOK_KW_FLOAT, TOK_IDENT, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 14);
    ck_assert_str_eq(L.val[1].str, "models");
    ck_assert_str_eq(L.val[11].str, "int_x");
    done(&L);
}
END_TEST

START_TEST(test_numbers)
{
    Lexed L;
    LEX(&L, "0 7 1.5 .25 2. 1e3 3E-2 -4");
    int want[] = {TOK_INTEGER, TOK_INTEGER, TOK_FLOAT, TOK_FLOAT, TOK_FLOAT, TOK_FLOAT,
                  TOK_FLOAT, '-', TOK_INTEGER, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 11);
    ck_assert_int_eq(L.val[1].ival, 7);
    ck_assert_double_eq(L.val[2].fval, 1.5);
    ck_assert_double_eq(L.val[3].fval, 0.25);
    ck_assert_double_eq(L.val[4].fval, 2.0);
    ck_assert_double_eq(L.val[5].fval, 1000.0);
    ck_assert_double_eq_tol(L.val[6].fval, 0.03, 1e-15);
    ck_assert_int_eq(L.val[8].ival, 4);
    done(&L);
}
END_TEST

START_TEST(test_strings)
{
    Lexed L;
    LEX(&L, "\"relu\" \"a\\\"b\\\\c\\n\" \"\"");
    int want[] = {TOK_STRING, TOK_STRING, TOK_STRING, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 5);
    ck_assert_str_eq(L.val[0].str, "relu");
    ck_assert_str_eq(L.val[1].str, "a\"b\\c\n");
    ck_assert_str_eq(L.val[2].str, "");
    done(&L);
}
END_TEST

START_TEST(test_newlines_end_statements)
{
    /* Blank lines and comment lines make no empty statements; ';' ends one. */
    Lexed L;
    LEX(&L, "\n\n# c\na\n\n\n/* x\ny */\nb; c\n");
    int want[] = {TOK_IDENT, TOK_NL, TOK_IDENT, TOK_NL, TOK_IDENT, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 7);
    ck_assert_str_eq(L.val[4].str, "c");
    done(&L);
}
END_TEST

START_TEST(test_newline_inside_brackets)
{
    Lexed L;
    LEX(&L, "f(a,\n  b)\n[1,\n 2]\n");
    int want[] = {TOK_IDENT, '(', TOK_IDENT, ',', TOK_IDENT, ')', TOK_NL,
                  '[', TOK_INTEGER, ',', TOK_INTEGER, ']', TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 14);
    done(&L);
}
END_TEST

START_TEST(test_arrow_continuation)
{
    /* A line starting with -> continues the statement, across blank and
     * comment lines. */
    Lexed L;
    LEX(&L, "y = x\n   -> A\n\n  # note\n  -> B\nz\n");
    int want[] = {TOK_IDENT, '=', TOK_IDENT, TOK_ARROW, TOK_IDENT, TOK_ARROW, TOK_IDENT,
                  TOK_NL, TOK_IDENT, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 11);
    done(&L);
}
END_TEST

START_TEST(test_no_final_newline)
{
    Lexed L;
    LEX(&L, "a");
    int want[] = {TOK_IDENT, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 3);
    done(&L);
}
END_TEST

/* ---- Limits --------------------------------------------------------------- */

START_TEST(test_int_limit)
{
    Lexed L;
    LEX(&L, "2147483647 2147483648");
    ck_assert_int_eq(L.kind[0], TOK_INTEGER);
    ck_assert_int_eq(L.val[0].ival, INT_MAX);
    ck_assert_int_eq(L.kind[1], TOK_SEQYYerror);
    ck_assert_int_eq(L.errors, 1);
    ck_assert_ptr_nonnull(strstr(L.diag, "t.seq:1:12: error: integer is too large"));
    done(&L);
}
END_TEST

START_TEST(test_float_limits)
{
    /* Overflow is an error; underflow to (almost) zero is not. */
    Lexed L;
    LEX(&L, "1e308 1e999 1e-999");
    ck_assert_int_eq(L.kind[0], TOK_FLOAT);
    ck_assert_int_eq(L.kind[1], TOK_SEQYYerror);
    ck_assert_int_eq(L.kind[2], TOK_FLOAT);
    ck_assert(L.val[2].fval >= 0 && L.val[2].fval < DBL_MIN);
    ck_assert_int_eq(L.errors, 1);
    ck_assert_ptr_nonnull(strstr(L.diag, "1:7: error: number is too large"));
    done(&L);
}
END_TEST

START_TEST(test_name_length_limit)
{
    char src[600];
    memset(src, 'a', 256);
    src[256] = ' ';
    memset(src + 257, 'b', 257);
    Lexed L;
    lex(&L, src, 514);
    ck_assert_int_eq(L.kind[0], TOK_IDENT);
    ck_assert_uint_eq(strlen(L.val[0].str), 256);
    ck_assert_int_eq(L.kind[1], TOK_SEQYYerror);
    ck_assert_ptr_nonnull(strstr(L.diag, "1:258: error: name is too long (257 characters; the "
                                         "limit is 256)"));
    done(&L);
}
END_TEST

/* ---- Hostile -------------------------------------------------------------- */

START_TEST(test_stray_bytes)
{
    Lexed L;
    lex(&L, "a $ \x01 \0 b", 9);
    int want[] = {TOK_IDENT, TOK_SEQYYerror, TOK_SEQYYerror, TOK_SEQYYerror, TOK_IDENT,
                  TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 7);
    ck_assert_ptr_nonnull(strstr(L.diag, "1:3: error: unexpected character '$'"));
    ck_assert_ptr_nonnull(strstr(L.diag, "1:5: error: stray byte '\\x01' in the model"));
    ck_assert_ptr_nonnull(strstr(L.diag, "1:7: error: stray byte '\\x00' in the model"));
    done(&L);
}
END_TEST

START_TEST(test_utf8_is_one_error)
{
    Lexed L;
    LEX(&L, "a \xc3\x97 b");
    int want[] = {TOK_IDENT, TOK_SEQYYerror, TOK_IDENT, TOK_NL, TOK_YYEOF};
    expect_kinds(&L, want, 5);
    ck_assert_int_eq(L.errors, 1);
    ck_assert_uint_eq(L.at[1].end - L.at[1].start, 2);
    done(&L);
}
END_TEST

START_TEST(test_unterminated)
{
    Lexed L;
    LEX(&L, "a\n\"abc\nb /* open\n");
    ck_assert_int_eq(L.errors, 2);
    ck_assert_ptr_nonnull(strstr(L.diag, "2:1: error: missing terminating '\"' character"));
    ck_assert_ptr_nonnull(strstr(L.diag, "3:3: error: unterminated comment"));
    ck_assert_int_eq(L.kind[L.n - 1], TOK_YYEOF);
    done(&L);
}
END_TEST

START_TEST(test_unclosed_bracket_at_eof)
{
    Lexed L;
    LEX(&L, "f(a,\n [b\n");
    ck_assert_int_eq(L.errors, 1);
    ck_assert_ptr_nonnull(strstr(L.diag, "2:2: error: '[' is not closed at the end of the file"));
    ck_assert_int_eq(L.kind[L.n - 1], TOK_YYEOF);
    done(&L);
}
END_TEST

static Suite *make_lexer_suite(void)
{
    Suite *s = suite_create("lexer");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, test_statement_tokens);
    tcase_add_test(core, test_keywords_and_names);
    tcase_add_test(core, test_numbers);
    tcase_add_test(core, test_strings);
    tcase_add_test(core, test_newlines_end_statements);
    tcase_add_test(core, test_newline_inside_brackets);
    tcase_add_test(core, test_arrow_continuation);
    tcase_add_test(core, test_no_final_newline);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, test_int_limit);
    tcase_add_test(limits, test_float_limits);
    tcase_add_test(limits, test_name_length_limit);
    suite_add_tcase(s, limits);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, test_stray_bytes);
    tcase_add_test(hostile, test_utf8_is_one_error);
    tcase_add_test(hostile, test_unterminated);
    tcase_add_test(hostile, test_unclosed_bracket_at_eof);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_lexer_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
