/*
 * check_emit.c: how seqc prints generated C: numbers with the fewest digits
 * that read back to the same double (util.h seq_num), and lines folded to
 * 100 columns by the printer (emit.h, wrap.h) at commas, operators,
 * comments and string literals, never inside a literal's escape.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frontend_util.h"
#include "emit.h"
#include "util.h"
#include "wrap.h"

START_TEST(test_num_shortest)
{
    ck_assert_str_eq(SEQ_NUM(0.9), "0.9");
    ck_assert_str_eq(SEQ_NUM(0.001), "0.001");
    ck_assert_str_eq(SEQ_NUM(1e-7), "1e-07");
    ck_assert_str_eq(SEQ_NUM(1.0), "1");
    ck_assert_str_eq(SEQ_NUM(0.0), "0");
    ck_assert_str_eq(SEQ_NUM(1.0 / 3.0), "0.3333333333333333");
    ck_assert_str_eq(SEQ_NUM(0.1 + 0.2), "0.30000000000000004");
}
END_TEST

/* Every double it prints reads back exactly, however many digits it needs. */
START_TEST(test_num_round_trips)
{
    double v[] = {1.0 / 0.9, 3.4028234663852886e38, 5e-324, -2.5e-300, 123456789.123456789,
                  1.0 / (1.0 - 0.3), 0.999, 1e22};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const char *s = SEQ_NUM(v[i]);
        ck_assert_msg(strtod(s, NULL) == v[i], "%s does not read back as %.17g", s, v[i]);
        char shorter[320];
        int digits = 0;
        bool leading = true; /* zeros before the first other digit do not count */
        for (const char *c = s; *c && *c != 'e'; c++) {
            leading = leading && (*c < '1' || *c > '9');
            digits += !leading && *c >= '0' && *c <= '9';
        }
        snprintf(shorter, sizeof shorter, "%.*g", digits > 1 ? digits - 1 : 1, v[i]);
        ck_assert_msg(digits == 1 || strtod(shorter, NULL) != v[i], "%s is not the shortest", s);
    }
}
END_TEST

/* Each line of `text` within the width; returns the number of lines. */
static int check_width(const char *text)
{
    int lines = 0;
    for (const char *l = text; *l; lines++) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        ck_assert_msg(n <= SEQ_WRAP_COLUMNS, "line of %zu columns: %.*s", n, (int)n, l);
        l = nl ? nl + 1 : l + n;
    }
    return lines;
}

START_TEST(test_short_line_untouched)
{
    ck_assert_ptr_null(seq_wrap_c_line("    f(a, b);", 12));
    char line[SEQ_WRAP_COLUMNS + 1];
    memset(line, 'x', SEQ_WRAP_COLUMNS);
    line[SEQ_WRAP_COLUMNS] = '\0';
    ck_assert_ptr_null(seq_wrap_c_line(line, SEQ_WRAP_COLUMNS));
}
END_TEST

START_TEST(test_arguments_align)
{
    const char *in = "    some_layer_forward(w.v_first_output, in_feat, params + P_layer_kernel, "
                     "params + P_layer_recurrent_kernel, w.s_scratch, B, 3);";
    char *out = seq_wrap_c_line(in, strlen(in));
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(check_width(out), 2);
    ck_assert_str_eq(out, "    some_layer_forward(w.v_first_output, in_feat, params + P_layer_kernel,\n"
                          "                       params + P_layer_recurrent_kernel, w.s_scratch, B, "
                          "3);");
    free(out);
}
END_TEST

START_TEST(test_trailing_comment_moves_above)
{
    const char *in = "    seqrt_real *s_a_rather_long_buffer_name_for_a_layer; /* [(T + 1) * B * 8], "
                     "what the backward pass reads */";
    char *out = seq_wrap_c_line(in, strlen(in));
    ck_assert_ptr_nonnull(out);
    check_width(out);
    ck_assert_str_eq(out, "    /* [(T + 1) * B * 8], what the backward pass reads */\n"
                          "    seqrt_real *s_a_rather_long_buffer_name_for_a_layer;");
    free(out);
}
END_TEST

START_TEST(test_comment_splits_into_comments)
{
    char in[400] = "/* ";
    for (int i = 0; i < 30; i++)
        strcat(in, "word ");
    strcat(in, "end */");
    char *out = seq_wrap_c_line(in, strlen(in));
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(check_width(out), 2);
    for (const char *l = out; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t n = strchr(l, '\n') ? (size_t)(strchr(l, '\n') - l) : strlen(l);
        ck_assert(n > 6 && !strncmp(l, "/* ", 3) && !strncmp(l + n - 3, " */", 3));
    }
    free(out);
}
END_TEST

/* A literal splits into adjacent literals (C joins them back), after a
 * space when it has one, and never inside an escape sequence. */
START_TEST(test_string_literal_splits)
{
    char in[300] = "        \"";
    for (int i = 0; i < 120; i++)
        strcat(in, i % 3 == 2 ? "\\101" : "_");
    strcat(in, "\\n\"");
    char *out = seq_wrap_c_line(in, strlen(in));
    ck_assert_ptr_nonnull(out);
    check_width(out);
    /* joined back: the same characters between the quotes */
    char joined[300] = "", *j = joined;
    for (const char *c = out; *c; c++) {
        if (*c == '"') { /* skip to the matching quote, copying the body */
            for (c++; *c && *c != '"'; c++) {
                if (*c == '\\')
                    *j++ = *c++;
                *j++ = *c;
            }
        }
    }
    *j = '\0';
    const char *body = strchr(in, '"') + 1;
    ck_assert_int_eq((int)strlen(joined), (int)strlen(body) - 1);
    ck_assert(!strncmp(joined, body, strlen(joined)));
    /* no piece ends inside "\101": a piece's closing quote never follows
     * "\", "\1" or "\10" */
    for (const char *c = out; (c = strstr(c, "\"\n")) != NULL; c++) {
        bool cut = c[-1] == '\\' || (c[-1] == '1' && c[-2] == '\\') ||
                   (c[-1] == '0' && c[-2] == '1' && c[-3] == '\\');
        ck_assert_msg(!cut, "split inside an escape: %s", out);
    }
    free(out);
}
END_TEST

START_TEST(test_preprocessor_untouched)
{
    char in[200] = "#define LONG_MACRO(a, b) ";
    for (int i = 0; i < 20; i++)
        strcat(in, "(a), ");
    char *out = seq_wrap_c_line(in, strlen(in));
    ck_assert_ptr_null(out);
}
END_TEST

/* The printer folds each line as it completes it, through emit_line and
 * raw text alike, so what it holds is what the file will be. */
START_TEST(test_printer_folds_lines)
{
    Printer p;
    emit_init(&p);
    p.indent = 1;
    emit_line(&p, "f(%s, %s, %s, %s);", "an_argument_with_a_long_name_one",
              "an_argument_with_a_long_name_two", "an_argument_with_a_long_name_three",
              "an_argument_with_a_long_name_four");
    emit_raw(&p, "g(an_argument_with_a_long_name_one, an_argument_with_a_long_name_two, ");
    emit_raw(&p, "an_argument_with_a_long_name_three);\nshort();\n");
    ck_assert_int_eq(check_width(p.buf), 5);
    ck_assert(strstr(p.buf, "\ng(an_argument") && strstr(p.buf, "\nshort();\n"));
    emit_free(&p);
}
END_TEST

static Suite *make_emit_suite(void)
{
    Suite *s = suite_create("emit");
    TCase *num = test_tcase("Numbers");
    tcase_add_test(num, test_num_shortest);
    tcase_add_test(num, test_num_round_trips);
    suite_add_tcase(s, num);
    TCase *wrap = test_tcase("Width");
    tcase_add_test(wrap, test_short_line_untouched);
    tcase_add_test(wrap, test_arguments_align);
    tcase_add_test(wrap, test_trailing_comment_moves_above);
    tcase_add_test(wrap, test_comment_splits_into_comments);
    tcase_add_test(wrap, test_string_literal_splits);
    tcase_add_test(wrap, test_preprocessor_untouched);
    tcase_add_test(wrap, test_printer_folds_lines);
    suite_add_tcase(s, wrap);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_emit_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
