/*
 * check_parser.c: the Bison grammar (grammar/seq.y) through parse_source:
 * the AST it builds (compared through ast_dump and by structure), spans, and
 * error recovery (several syntax errors reported in one run).
 */
#include <stdbool.h>

#include "driver.h"
#include "frontend_util.h"
#include "parse.h"

typedef struct {
    Compilation c;
    char *diag;
    size_t diag_len;
    FILE *mem;
    AstNode *ast;
    char *dump;
    size_t dump_len;
} Parsed;

static void parse(Parsed *P, const char *src, size_t len)
{
    memset(P, 0, sizeof *P);
    P->mem = open_memstream(&P->diag, &P->diag_len);
    driver_load_buffer(&P->c, "t.seq", src, len, P->mem);
    P->ast = parse_source(&P->c.arena, &P->c.diag);
    fflush(P->mem);
    FILE *d = open_memstream(&P->dump, &P->dump_len);
    for (AstNode *s = P->ast; s; s = s->next)
        ast_dump(s, d);
    fclose(d);
}

#define PARSE(P, s) parse((P), (s), sizeof(s) - 1)

static void done(Parsed *P)
{
    fclose(P->mem);
    free(P->diag);
    free(P->dump);
    driver_free(&P->c);
}

static void expect_dump(Parsed *P, const char *want)
{
    ck_assert_msg(P->c.diag.errors == 0, "errors: %s", P->diag);
    ck_assert_str_eq(P->dump, want);
}

/* ---- Core ----------------------------------------------------------------- */

START_TEST(test_declarations)
{
    Parsed P;
    PARSE(&P, "model m\ninput x : [T, 10]\ninput ids : int[T]\ntarget y : float[3, 1]\n");
    expect_dump(&P, "model m\ninput x : [T, 10]\ninput ids : int[T]\ntarget y : [3, 1]\n");
    AstNode *in = P.ast->next;
    ck_assert_int_eq(in->kind, AST_INPUT);
    ck_assert_int_eq(ast_count(in->a), 2);
    ck_assert_str_eq(in->a->str, "T");
    ck_assert_int_eq(in->a->next->ival, 10);
    ck_assert(in->next->is_int);
    ck_assert(!in->next->next->is_int);
    done(&P);
}
END_TEST

/* A target's time axis shortened by valid convolutions: T-5. */
START_TEST(test_shortened_axis)
{
    Parsed P;
    PARSE(&P, "target y : [T-5, 2]\ntarget z : [Te - 1]\n");
    expect_dump(&P, "target y : [T-5, 2]\ntarget z : [Te-1]\n");
    ck_assert_str_eq(P.ast->a->str, "T");
    ck_assert_int_eq(P.ast->a->ival, -5);
    done(&P);
}
END_TEST

START_TEST(test_pipeline_ast)
{
    /* a -> b -> c nests to the left: ((x -> LSTM) -> Dense). */
    Parsed P;
    PARSE(&P, "y = x -> LSTM(64, return_sequences=true) -> Dense(1)\n");
    expect_dump(&P, "y = x -> LSTM(64, return_sequences=true) -> Dense(1)\n");
    AstNode *e = P.ast->b;
    ck_assert_int_eq(e->kind, AST_PIPE);
    ck_assert_int_eq(e->b->kind, AST_CALL);
    ck_assert_str_eq(e->b->b->str, "Dense");
    ck_assert_int_eq(e->a->kind, AST_PIPE);
    ck_assert_int_eq(e->a->a->kind, AST_NAME);
    ck_assert_str_eq(e->a->a->str, "x");
    AstNode *lstm = e->a->b;
    ck_assert_str_eq(lstm->b->str, "LSTM");
    AstNode *arg1 = lstm->a, *arg2 = arg1->next;
    ck_assert_ptr_null(arg1->str);
    ck_assert_int_eq(arg1->b->ival, 64);
    ck_assert_str_eq(arg2->str, "return_sequences");
    ck_assert_int_eq(arg2->b->kind, AST_BOOL);
    ck_assert_int_eq(arg2->b->ival, 1);
    done(&P);
}
END_TEST

START_TEST(test_call_of_call_and_names)
{
    Parsed P;
    PARSE(&P, "_, h, c = LSTM(32, return_state=true)(x, initial_state=[a, b])\n");
    expect_dump(&P, "_, h, c = LSTM(32, return_state=true)(x, initial_state=[a, b])\n");
    ck_assert_int_eq(ast_count(P.ast->a), 3);
    AstNode *call = P.ast->b;
    ck_assert_int_eq(call->kind, AST_CALL);
    ck_assert_int_eq(call->b->kind, AST_CALL); /* the layer being applied */
    AstNode *st = call->a->next;
    ck_assert_str_eq(st->str, "initial_state");
    ck_assert_int_eq(st->b->kind, AST_LIST);
    ck_assert_int_eq(ast_count(st->b->a), 2);
    done(&P);
}
END_TEST

START_TEST(test_negative_numbers)
{
    Parsed P;
    PARSE(&P, "a = Concatenate(axis=-1)(x, y)\nb = Masking(-0.5)(x)\n");
    expect_dump(&P, "a = Concatenate(axis=-1)(x, y)\nb = Masking(-0.5)(x)\n");
    ck_assert_int_eq(P.ast->b->b->a->b->kind, AST_INT);
    ck_assert_int_eq(P.ast->b->b->a->b->ival, -1);
    ck_assert_int_eq(P.ast->next->b->b->a->b->kind, AST_FLOAT);
    ck_assert_double_eq(P.ast->next->b->b->a->b->fval, -0.5);
    done(&P);
}
END_TEST

START_TEST(test_line_continuation)
{
    Parsed P;
    PARSE(&P, "y = x\n      -> LSTM(8)\n\n      # the head\n      -> Dense(1)\nz = y\n");
    expect_dump(&P, "y = x -> LSTM(8) -> Dense(1)\nz = y\n");
    done(&P);
}
END_TEST

START_TEST(test_semicolons_and_comments)
{
    Parsed P;
    PARSE(&P, "# top\na = x; b = a # trailing\n/* block\n c = nothing */ d = b\n");
    expect_dump(&P, "a = x\nb = a\nd = b\n");
    done(&P);
}
END_TEST

START_TEST(test_brackets_span_lines_and_trailing_commas)
{
    Parsed P;
    PARSE(&P, "h = Dense(\n    8,\n    activation=relu,\n)(\n  x)\nl = [a,\n b,\n]\n");
    expect_dump(&P, "h = Dense(8, activation=relu)(x)\nl = [a, b]\n");
    done(&P);
}
END_TEST

START_TEST(test_train_block)
{
    Parsed P;
    PARSE(&P, "train {\n  loss = mse(p, y)\n\n  optimizer = adam(learning_rate=0.01)\n"
              "  metrics = [accuracy] }\n");
    expect_dump(&P, "train {\n    loss = mse(p, y)\n    optimizer = adam(learning_rate=0.01)\n"
                    "    metrics = [accuracy]\n}\n");
    ck_assert_int_eq(P.ast->kind, AST_TRAIN);
    ck_assert_int_eq(ast_count(P.ast->a), 3);
    done(&P);
}
END_TEST

START_TEST(test_layer_and_output)
{
    Parsed P;
    PARSE(&P, "layer enc = LSTM(8)\noutput a, b\n");
    expect_dump(&P, "layer enc = LSTM(8)\noutput a, b\n");
    done(&P);
}
END_TEST

START_TEST(test_spans)
{
    Parsed P;
    PARSE(&P, "input x : [T, 4]\n\n  h = Dense(2)(x)\n");
    AstNode *a = P.ast->next;
    int line, col;
    diag_line_col(&P.c.diag, a->span.start, &line, &col);
    ck_assert_int_eq(line, 3);
    ck_assert_int_eq(col, 3);
    AstNode *call = a->b;
    diag_line_col(&P.c.diag, call->span.start, &line, &col);
    ck_assert_int_eq(col, 7);
    ck_assert_uint_eq(call->span.end - call->span.start, strlen("Dense(2)(x)"));
    done(&P);
}
END_TEST

/* ---- Limits --------------------------------------------------------------- */

START_TEST(test_several_errors_one_run)
{
    /* Each bad line is reported and skipped; the good lines still parse. */
    Parsed P;
    PARSE(&P, "a = x\nb = = y\nc = Dense(2)(x)\nd = )\ne = f g\nk = x\n");
    ck_assert_int_eq(P.c.diag.errors, 3);
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:2:5: error: unexpected '='"));
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:4:5: error: unexpected ')'"));
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:5:7: error: "));
    ck_assert_str_eq(P.dump, "a = x\nc = Dense(2)(x)\nk = x\n");
    done(&P);
}
END_TEST

START_TEST(test_errors_in_train_block)
{
    Parsed P;
    PARSE(&P, "train {\n  loss mse(p, y)\n  optimizer = adam\n  epochs = = 3\n}\n");
    ck_assert_int_eq(P.c.diag.errors, 2);
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:2:8: error: expected '=' before name"));
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:4:12: error: unexpected '='"));
    ck_assert_str_eq(P.dump, "train {\n    optimizer = adam\n}\n");
    done(&P);
}
END_TEST

START_TEST(test_error_cap)
{
    /* 100 bad lines: 20 errors, then one "too many errors" line. */
    char src[2000] = "";
    for (int i = 0; i < 100; i++)
        strcat(src, "= =\n");
    Parsed P;
    parse(&P, src, strlen(src));
    ck_assert_int_eq(P.c.diag.errors, 100);
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:20:1: error:"));
    ck_assert_ptr_null(strstr(P.diag, "t.seq:21:1: error:"));
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq: fatal error: too many errors (20), stopping"));
    done(&P);
}
END_TEST

START_TEST(test_line_col_cache)
{
    /* diag_line_col remembers its last answer; any order of queries must give
     * what a count from the top gives. */
    char src[4000];
    size_t n = 0;
    for (int i = 0; n < sizeof src - 40; i++)
        n += (size_t)snprintf(src + n, sizeof src - n, "%.*s\n", i % 37, "abcdefghijklmnopqrstuvwxyz0123456789xyz");
    Diag d;
    diag_init(&d, "t.seq", src, n, stderr);
    unsigned seed = 12345;
    for (int q = 0; q < 5000; q++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t off = (seed >> 8) % (uint32_t)(n + 1);
        int line = 1, col = 1;
        for (uint32_t i = 0; i < off; i++) {
            col++;
            if (src[i] == '\n') {
                line++;
                col = 1;
            }
        }
        int l2, c2;
        diag_line_col(&d, off, &l2, &c2);
        ck_assert_msg(l2 == line && c2 == col, "offset %u: %d:%d, expected %d:%d", off, l2, c2,
                      line, col);
    }
}
END_TEST

/* ---- Hostile -------------------------------------------------------------- */

START_TEST(test_nesting_too_deep)
{
    enum { N = 20000 };
    char *src = malloc(2 * N + 16);
    size_t k = (size_t)sprintf(src, "h = ");
    for (int i = 0; i < N; i++)
        src[k++] = '(';
    src[k++] = 'x';
    for (int i = 0; i < N; i++)
        src[k++] = ')';
    src[k++] = '\n';
    Parsed P;
    parse(&P, src, k);
    ck_assert_int_eq(P.c.diag.errors, 1);
    ck_assert_ptr_nonnull(strstr(P.diag, "error: nesting is too deep"));
    done(&P);
    free(src);
}
END_TEST

START_TEST(test_reserved_word_as_name)
{
    Parsed P;
    PARSE(&P, "train = Dense(2)(x)\nok = x\n");
    ck_assert_int_ge(P.c.diag.errors, 1);
    ck_assert_ptr_nonnull(strstr(P.diag, "t.seq:1:1: error:"));
    ck_assert_str_eq(P.dump, "ok = x\n");
    done(&P);
}
END_TEST

START_TEST(test_empty_and_blank)
{
    Parsed P;
    PARSE(&P, "");
    ck_assert_ptr_null(P.ast);
    ck_assert_int_eq(P.c.diag.errors, 0);
    done(&P);
    PARSE(&P, "\n\n   \n# only a comment\n;;\n");
    ck_assert_ptr_null(P.ast);
    ck_assert_int_eq(P.c.diag.errors, 0);
    done(&P);
}
END_TEST

static Suite *make_parser_suite(void)
{
    Suite *s = suite_create("parser");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, test_declarations);
    tcase_add_test(core, test_shortened_axis);
    tcase_add_test(core, test_pipeline_ast);
    tcase_add_test(core, test_call_of_call_and_names);
    tcase_add_test(core, test_negative_numbers);
    tcase_add_test(core, test_line_continuation);
    tcase_add_test(core, test_semicolons_and_comments);
    tcase_add_test(core, test_brackets_span_lines_and_trailing_commas);
    tcase_add_test(core, test_train_block);
    tcase_add_test(core, test_layer_and_output);
    tcase_add_test(core, test_spans);
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, test_several_errors_one_run);
    tcase_add_test(limits, test_errors_in_train_block);
    tcase_add_test(limits, test_error_cap);
    tcase_add_test(limits, test_line_col_cache);
    suite_add_tcase(s, limits);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, test_nesting_too_deep);
    tcase_add_test(hostile, test_reserved_word_as_name);
    tcase_add_test(hostile, test_empty_and_blank);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_parser_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
