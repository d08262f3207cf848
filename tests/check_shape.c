/*
 * check_shape.c: the IR, shape rules and parameter counts (sema.c and
 * compiler/ops/). Each layer kind is built on small inputs and its output
 * shapes and parameter count are compared with the Keras formulas of
 * KERAS-SEMANTICS.md; every example must give the Keras total through
 * `seqc summary`.
 */
#include <stdbool.h>

#include "driver.h"
#include "frontend_util.h"
#include "ops.h"

typedef struct {
    Compilation c;
    char *diag;
    size_t diag_len;
    FILE *mem;
    bool ok;
} Built;

static void build(Built *B, const char *src)
{
    memset(B, 0, sizeof *B);
    B->mem = open_memstream(&B->diag, &B->diag_len);
    driver_load_buffer(&B->c, "t.seq", src, strlen(src), B->mem);
    B->ok = driver_front(&B->c);
    fflush(B->mem);
}

static void done(Built *B)
{
    fclose(B->mem);
    free(B->diag);
    driver_free(&B->c);
}

/* Build a model that must be valid. */
static void build_ok(Built *B, const char *src)
{
    build(B, src);
    ck_assert_msg(B->ok, "unexpected errors:\n%s\nin:\n%s", B->diag, src);
}

static const IrTensor *tensor(const Built *B, const char *name)
{
    const IrGraph *g = B->c.ir;
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i]->name && !strcmp(g->tensors[i]->name, name))
            return g->tensors[i];
    ck_abort_msg("no tensor '%s'", name);
    return NULL;
}

static const IrLayer *layer(const Built *B, const char *name)
{
    const IrGraph *g = B->c.ir;
    for (int i = 0; i < g->n_layers; i++)
        if (!strcmp(g->layers[i]->name, name))
            return g->layers[i];
    ck_abort_msg("no layer '%s'", name);
    return NULL;
}

#define ASSERT_SHAPE(B, name, want)                                                          \
    do {                                                                                     \
        char sb_[128];                                                                       \
        ck_assert_str_eq(shape_str(&tensor((B), (name))->shape, sb_, sizeof sb_), (want));   \
    } while (0)

#define ASSERT_PARAMS(B, lname, want) ck_assert_int_eq(layer((B), (lname))->n_weights, (want))

/* A model around one statement: input x, the statement, an output y. */
static void one(Built *B, const char *input, const char *stmt)
{
    char src[1024];
    snprintf(src, sizeof src, "input x : %s\n%s\noutput y\n", input, stmt);
    build_ok(B, src);
}

/* ---- Core: each layer kind ------------------------------------------------ */

START_TEST(test_simple_rnn)
{
    /* u(D + u + 1) */
    Built B;
    one(&B, "[T, 3]", "y = SimpleRNN(5, return_sequences=true)(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 5)");
    ASSERT_PARAMS(&B, "simple_rnn", 5 * (3 + 5 + 1));
    done(&B);
    one(&B, "[7, 10]", "y = SimpleRNN(32)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 32)");
    ASSERT_PARAMS(&B, "simple_rnn", 1376);
    done(&B);
    one(&B, "[T, 3]", "y, h = SimpleRNN(4, return_state=true, use_bias=false)(x)");
    ASSERT_SHAPE(&B, "h", "(None, 4)");
    ASSERT_PARAMS(&B, "simple_rnn", 4 * (3 + 4));
    done(&B);
}
END_TEST

START_TEST(test_lstm)
{
    /* 4u(D + u + 1); return_state gives h and c */
    Built B;
    one(&B, "[T, 10]", "y = LSTM(64, return_sequences=true)(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 64)");
    ASSERT_PARAMS(&B, "lstm", 19200);
    done(&B);
    one(&B, "[T, 3]", "y, h, c = LSTM(7, return_state=true)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 7)");
    ASSERT_SHAPE(&B, "h", "(None, 7)");
    ASSERT_SHAPE(&B, "c", "(None, 7)");
    ASSERT_PARAMS(&B, "lstm", 4 * 7 * (3 + 7 + 1));
    done(&B);
}
END_TEST

START_TEST(test_gru)
{
    /* reset_after=true: 3u(D + u + 2); false: 3u(D + u + 1) */
    Built B;
    one(&B, "[T, 8]", "y = GRU(32, return_sequences=true)(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 32)");
    ASSERT_PARAMS(&B, "gru", 4032);
    done(&B);
    one(&B, "[T, 4]", "y = GRU(6, reset_after=false)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 6)");
    ASSERT_PARAMS(&B, "gru", 3 * 6 * (4 + 6 + 1));
    done(&B);
    one(&B, "[T, 8]", "y = GRU(32, reset_after=false)(x)");
    ASSERT_PARAMS(&B, "gru", 3936);
    done(&B);
}
END_TEST

START_TEST(test_embedding)
{
    /* V * D; int [T] -> [T, D] */
    Built B;
    one(&B, "int[T]", "y = Embedding(29, 8)(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 8)");
    ASSERT_PARAMS(&B, "embedding", 232);
    done(&B);
    one(&B, "int[12]", "y = Embedding(input_dim=1000, output_dim=16, mask_zero=true)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 12, 16)");
    ASSERT_PARAMS(&B, "embedding", 16000);
    ck_assert(tensor(&B, "y")->masked);
    done(&B);
}
END_TEST

/* Conv1D on [L, Cin]: output length and K*Cin*F + F. */
static const struct {
    const char *in, *args, *shape;
    long long params;
} conv_cases[] = {
    {"[10, 2]", "4, 3", "(None, 8, 4)", 3 * 2 * 4 + 4},
    {"[10, 2]", "4, 3, padding=same", "(None, 10, 4)", 28},
    {"[10, 2]", "4, 3, padding=causal", "(None, 10, 4)", 28},
    {"[10, 2]", "4, 3, dilation_rate=2", "(None, 6, 4)", 28},
    {"[10, 2]", "4, 3, strides=2", "(None, 4, 4)", 28},
    {"[10, 2]", "4, 3, strides=2, padding=same", "(None, 5, 4)", 28},
    {"[10, 2]", "4, 3, strides=3, padding=same", "(None, 4, 4)", 28},
    {"[11, 2]", "4, 2, strides=3", "(None, 4, 4)", 2 * 2 * 4 + 4},
    {"[T, 1]", "20, 2, padding=causal, dilation_rate=8", "(None, T, 20)", 60},
    {"[T, 20]", "10, 1", "(None, T, 10)", 210},
    {"[T, 3]", "5, 3", "(None, T-2, 5)", 50},
    {"[T, 3]", "5, 3, dilation_rate=2, use_bias=false", "(None, T-4, 5)", 45},
    {"[5, 3]", "5, 5", "(None, 1, 5)", 80},
    {"[T, 3]", "5, 3, strides=2", "(None, (T-3)/2+1, 5)", 50},
    {"[T, 3]", "5, 3, strides=2, padding=same", "(None, (T+1)/2, 5)", 50},
    {"[T, 3]", "5, 2, strides=2, padding=causal", "(None, (T+1)/2, 5)", 35},
};

START_TEST(test_conv1d)
{
    Built B;
    char stmt[256];
    snprintf(stmt, sizeof stmt, "y = Conv1D(%s)(x)", conv_cases[_i].args);
    one(&B, conv_cases[_i].in, stmt);
    ASSERT_SHAPE(&B, "y", conv_cases[_i].shape);
    ASSERT_PARAMS(&B, "conv1d", conv_cases[_i].params);
    done(&B);
}
END_TEST

/* Lengths through a chain: a valid convolution's T-1, then strides:
 * floor((T-1-3)/2)+1 = (T-4)/2+1, then ceil(that/3) = (T+2)/6. */
START_TEST(test_conv1d_chain)
{
    Built B;
    build_ok(&B, "input x : [T, 3]\na = Conv1D(4, 2)(x)\nb = Conv1D(3, 3, strides=2)(a)\n"
                 "y = Conv1D(2, 2, strides=3, padding=same)(b)\nz = Conv1D(2, 1)(y)\n"
                 "output b, z\n");
    ASSERT_SHAPE(&B, "a", "(None, T-1, 4)");
    ASSERT_SHAPE(&B, "b", "(None, (T-4)/2+1, 3)");
    ASSERT_SHAPE(&B, "y", "(None, (T+2)/6, 2)");
    ASSERT_SHAPE(&B, "z", "(None, (T+2)/6, 2)");
    done(&B);
    /* one function, two spellings: (T-4)/6+1 = (T+2)/6; not (T+3)/6 */
    Dim u = {.sym = "T", .n = 1, .div = 6, .add = -4}, v = {.sym = "T", .div = 6, .add = 2};
    ck_assert(dim_eq(u, v));
    v.add = 3;
    ck_assert(!dim_eq(u, v));
}
END_TEST

START_TEST(test_attention_layer)
{
    /* (Hq*U + U) + (Hv*U + U) + (U + 1) = 1311 for Hq = Hv = 64, U = 10 */
    Built B;
    build_ok(&B, "input q : [1, 64]\ninput v : [10, 64]\n"
                 "ctx, w = AttentionLayer(10)(q, v)\noutput ctx, w\n");
    ASSERT_SHAPE(&B, "ctx", "(None, 64)");
    ASSERT_SHAPE(&B, "w", "(None, 10, 1)");
    ASSERT_PARAMS(&B, "attention_layer", 1311);
    ck_assert_int_eq(ir_param_count(B.c.ir), 1311);
    done(&B);
    build_ok(&B, "input q : [32]\ninput v : [Tv, 16]\n"
                 "ctx, w = AttentionLayer(4)(q, v)\noutput ctx, w\n");
    ASSERT_SHAPE(&B, "ctx", "(None, 16)");
    ASSERT_SHAPE(&B, "w", "(None, Tv, 1)");
    ASSERT_PARAMS(&B, "attention_layer", (32 * 4 + 4) + (16 * 4 + 4) + (4 + 1));
    done(&B);
}
END_TEST

START_TEST(test_dense)
{
    /* F*u + u, on the last axis of 2D and 3D tensors */
    Built B;
    one(&B, "[4]", "y = Dense(3)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 3)");
    ASSERT_PARAMS(&B, "dense", 15);
    done(&B);
    one(&B, "[T, 4]", "y = Dense(3, activation=softmax)(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 3)");
    ASSERT_PARAMS(&B, "dense", 15);
    ck_assert(tensor(&B, "y")->from_softmax);
    done(&B);
    one(&B, "[6, 32]", "y = Dense(29, use_bias=false)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 6, 29)");
    ASSERT_PARAMS(&B, "dense", 32 * 29);
    done(&B);
}
END_TEST

START_TEST(test_bidirectional)
{
    /* 2x the params; concat gives 2u, sum gives u */
    Built B;
    one(&B, "[T, 4]", "y = Bidirectional(LSTM(8, return_sequences=true))(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 16)");
    ASSERT_PARAMS(&B, "bidirectional", 2 * 4 * 8 * (4 + 8 + 1));
    ck_assert_int_eq(ir_param_count(B.c.ir), 2 * 4 * 8 * (4 + 8 + 1));
    done(&B);
    one(&B, "[T, 4]", "y = Bidirectional(GRU(5), merge_mode=sum)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 5)");
    ASSERT_PARAMS(&B, "bidirectional", 2 * 3 * 5 * (4 + 5 + 2));
    done(&B);
    one(&B, "[T, 4]", "y, hf, hb = Bidirectional(SimpleRNN(3, return_state=true))(x)");
    ASSERT_SHAPE(&B, "y", "(None, 6)");
    ASSERT_SHAPE(&B, "hf", "(None, 3)");
    ASSERT_SHAPE(&B, "hb", "(None, 3)");
    done(&B);
}
END_TEST

START_TEST(test_time_distributed)
{
    Built B;
    one(&B, "[T, 4]", "y = TimeDistributed(Dense(3))(x)");
    ASSERT_SHAPE(&B, "y", "(None, T, 3)");
    ASSERT_PARAMS(&B, "time_distributed", 15);
    ck_assert_int_eq(ir_param_count(B.c.ir), 15);
    done(&B);
}
END_TEST

START_TEST(test_merges_and_reshapes)
{
    Built B;
    build_ok(&B, "input a : [T, 4]\ninput b : [T, 6]\ny = Concatenate()(a, b)\noutput y\n");
    ASSERT_SHAPE(&B, "y", "(None, T, 10)");
    ck_assert_int_eq(ir_param_count(B.c.ir), 0);
    done(&B);
    build_ok(&B, "input a : [3, 4]\ninput b : [5, 4]\ny = Concatenate(axis=1)(a, b)\noutput y\n");
    ASSERT_SHAPE(&B, "y", "(None, 8, 4)");
    done(&B);
    build_ok(&B, "input a : [T, 4]\ny = Add()(a, a, a)\noutput y\n");
    ASSERT_SHAPE(&B, "y", "(None, T, 4)");
    done(&B);
    one(&B, "[8]", "y = RepeatVector(5)(x)");
    ASSERT_SHAPE(&B, "y", "(None, 5, 8)");
    done(&B);
    one(&B, "[T, 8]", "y = LastStep()(x)");
    ASSERT_SHAPE(&B, "y", "(None, 8)");
    done(&B);
    one(&B, "[3, 7]", "y = Flatten()(x)");
    ASSERT_SHAPE(&B, "y", "(None, 21)");
    done(&B);
    one(&B, "[T, 7]", "y = x -> Masking() -> Dropout(0.5) -> Activation(tanh)");
    ASSERT_SHAPE(&B, "y", "(None, T, 7)");
    ck_assert(tensor(&B, "y")->masked);
    done(&B);
}
END_TEST

START_TEST(test_named_time_axes_distinct)
{
    /* Te and Td are different axes: the encoder's states may seed the
     * decoder, but the encoder's sequence cannot be added to the decoder's. */
    Built B;
    build_ok(&B, "input e : [Te, 10]\ninput d : [Td, 8]\n"
                 "_, h, c = LSTM(32, return_state=true)(e)\n"
                 "s = LSTM(32, return_sequences=true)(d, initial_state=[h, c])\noutput s\n");
    ASSERT_SHAPE(&B, "s", "(None, Td, 32)");
    ck_assert_int_eq(B.c.ir->n_dims, 2);
    ck_assert_str_eq(B.c.ir->dims[0], "Te");
    ck_assert_str_eq(B.c.ir->dims[1], "Td");
    done(&B);
    build(&B, "input e : [Te, 8]\ninput d : [Td, 8]\ny = Add()(e, d)\noutput y\n");
    ck_assert(!B.ok);
    ck_assert_ptr_nonnull(strstr(B.diag, "Add needs equal shapes, but got (None, Te, 8) and "
                                         "(None, Td, 8)"));
    done(&B);
}
END_TEST

START_TEST(test_shared_layer)
{
    /* One layer, two calls: one set of params, two nodes. */
    Built B;
    build_ok(&B, "input a : [T, 4]\ninput b : [U, 4]\nlayer enc = LSTM(8)\n"
                 "ha = enc(a)\nhb = b -> enc\ny = Concatenate()(ha, hb)\noutput y\n");
    ck_assert_int_eq(B.c.ir->n_layers, 2);
    ck_assert_int_eq(layer(&B, "lstm")->n_calls, 2);
    ck_assert_int_eq(ir_param_count(B.c.ir), 4 * 8 * (4 + 8 + 1));
    ASSERT_SHAPE(&B, "y", "(None, 16)");
    int lstm_nodes = 0;
    for (int i = 0; i < B.c.ir->n_nodes; i++)
        lstm_nodes += B.c.ir->nodes[i]->layer == layer(&B, "lstm");
    ck_assert_int_eq(lstm_nodes, 2);
    done(&B);
}
END_TEST

START_TEST(test_keras_names)
{
    /* lstm, lstm_1, ...; a name="..." is kept and skipped by the counter */
    Built B;
    build_ok(&B, "input x : [T, 4]\na = LSTM(4, return_sequences=true)(x)\n"
                 "b = LSTM(4, return_sequences=true, name=\"lstm_1\")(a)\n"
                 "y = LSTM(4)(b)\noutput y\n");
    ck_assert_str_eq(B.c.ir->layers[0]->name, "lstm");
    ck_assert_str_eq(B.c.ir->layers[1]->name, "lstm_1");
    ck_assert_str_eq(B.c.ir->layers[2]->name, "lstm_2");
    ck_assert_str_eq(B.c.ir->layers[0]->params[0].name, "lstm.kernel");
    done(&B);
}
END_TEST

START_TEST(test_topological_order)
{
    /* Statements in any order; nodes come out after their inputs. */
    Built B;
    build_ok(&B, "input x : [T, 4]\ny = Dense(2)(h)\nh = Dense(3)(g)\ng = Dense(4)(x)\noutput y\n");
    const IrGraph *g = B.c.ir;
    ck_assert_int_eq(g->n_nodes, 3);
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i]->n_in; k++) {
            const IrNode *p = g->nodes[i]->in[k]->producer;
            ck_assert(!p || p->id < g->nodes[i]->id);
        }
    ASSERT_SHAPE(&B, "y", "(None, T, 2)");
    done(&B);
}
END_TEST

START_TEST(test_train_block_read)
{
    Built B;
    build_ok(&B, "input x : [T, 4]\ntarget y : int[T]\np = Dense(5)(x)\ntrain {\n"
                 "  loss = sparse_categorical_crossentropy(p, y, from_logits=true)\n"
                 "  optimizer = sgd(learning_rate=0.1, momentum=0.9, nesterov=true)\n"
                 "  batch_size = 8\n  epochs = 3\n  metrics = [accuracy]\n}\n");
    const IrTrain *t = &B.c.ir->train;
    ck_assert(t->present);
    ck_assert_int_eq(t->n_losses, 1);
    ck_assert_int_eq(t->losses[0].kind, LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    ck_assert(t->losses[0].from_logits);
    ck_assert_int_eq(t->optim.kind, OPT_SGD);
    ck_assert_double_eq(t->optim.learning_rate, 0.1);
    ck_assert_double_eq(t->optim.momentum, 0.9);
    ck_assert(t->optim.nesterov);
    ck_assert_int_eq(t->batch_size, 8);
    ck_assert_int_eq(t->epochs, 3);
    ck_assert_uint_eq(t->metrics, METRIC_ACCURACY);
    ck_assert_int_eq(B.c.ir->n_outputs, 1);
    done(&B);
    /* Keras defaults: rmsprop, batch 32, 1 epoch; adam's epsilon 1e-7 */
    build_ok(&B, "input x : [T, 4]\ntarget y : [T, 2]\np = Dense(2)(x)\n"
                 "train {\n  loss = mse(p, y)\n}\n");
    ck_assert_int_eq(B.c.ir->train.optim.kind, OPT_RMSPROP);
    ck_assert_double_eq(B.c.ir->train.optim.rho, 0.9);
    ck_assert_int_eq(B.c.ir->train.batch_size, 32);
    ck_assert_int_eq(B.c.ir->train.epochs, 1);
    done(&B);
}
END_TEST

/* ---- Core: the examples, through the binary -------------------------------- */

static const struct {
    const char *name;
    long long total;
} examples[] = {
    {"goodbye", 191},  {"hello", 140},     {"simple_rnn", 1409}, {"lstm_stack", 31649},
    {"seq2seq", 11016}, {"wavenet", 6010}, {"attention", 1311},  {"char_gru", 5221},
};

START_TEST(test_example_total)
{
    char path[1024], want[64];
    snprintf(path, sizeof path, "%s/%s.seq", SEQ_EXAMPLES_DIR, examples[_i].name);
    RunResult r = fe_seqc("check", path, 60);
    ck_assert_msg(r.exited && r.status == 0, "seqc check %s: %d\n%s", path, r.status, r.err);
    ck_assert_uint_eq(r.err_len, 0);
    fe_free(&r);
    r = fe_seqc("summary", path, 60);
    ck_assert_msg(r.exited && r.status == 0, "seqc summary %s: %d\n%s", path, r.status, r.err);
    snprintf(want, sizeof want, "Total params: %lld\n", examples[_i].total);
    ck_assert_msg(strstr(r.out, want), "%s: no '%s' in:\n%s", path, want, r.out);
    fe_free(&r);
}
END_TEST

/* ---- Limits and Hostile --------------------------------------------------- */

START_TEST(test_large_counts)
{
    /* Parameter counts are 64-bit: an LSTM with 2^31+ weights. */
    Built B;
    one(&B, "[T, 30000]", "y = LSTM(20000)(x)");
    ASSERT_PARAMS(&B, "lstm", 4LL * 20000 * (30000 + 20000 + 1));
    done(&B);
}
END_TEST

START_TEST(test_errors_do_not_cascade)
{
    /* A failed definition poisons its names: one error, not three. */
    Built B;
    build(&B, "input x : [T, 4]\nh = LSTN(8)(x)\ng = Dense(2)(h)\nk = Dense(2)(g)\noutput k\n");
    ck_assert(!B.ok);
    ck_assert_int_eq(B.c.diag.errors, 1);
    done(&B);
}
END_TEST

START_TEST(test_forward_reference_depth)
{
    /* 2,000 definitions written in reverse order: a chain of forward
     * references deeper than sema's limit is an error, not a stack overflow. */
    size_t cap = 2000 * 40 + 100, k = 0;
    char *src = malloc(cap);
    k += (size_t)snprintf(src + k, cap - k, "input x : [T, 4]\noutput h0\n");
    for (int i = 0; i < 1999; i++)
        k += (size_t)snprintf(src + k, cap - k, "h%d = Dense(4)(h%d)\n", i, i + 1);
    snprintf(src + k, cap - k, "h1999 = Dense(4)(x)\n");
    Built B;
    build(&B, src);
    ck_assert(!B.ok);
    ck_assert_ptr_nonnull(strstr(B.diag, "nested too deep"));
    done(&B);
    free(src);
}
END_TEST

static Suite *make_shape_suite(void)
{
    Suite *s = suite_create("shape");
    TCase *core = test_tcase("Core");
    tcase_add_test(core, test_simple_rnn);
    tcase_add_test(core, test_lstm);
    tcase_add_test(core, test_gru);
    tcase_add_test(core, test_embedding);
    tcase_add_loop_test(core, test_conv1d, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_test(core, test_conv1d_chain);
    tcase_add_test(core, test_attention_layer);
    tcase_add_test(core, test_dense);
    tcase_add_test(core, test_bidirectional);
    tcase_add_test(core, test_time_distributed);
    tcase_add_test(core, test_merges_and_reshapes);
    tcase_add_test(core, test_named_time_axes_distinct);
    tcase_add_test(core, test_shared_layer);
    tcase_add_test(core, test_keras_names);
    tcase_add_test(core, test_topological_order);
    tcase_add_test(core, test_train_block_read);
    tcase_add_loop_test(core, test_example_total, 0, (int)(sizeof examples / sizeof examples[0]));
    suite_add_tcase(s, core);
    TCase *limits = test_tcase("Limits");
    tcase_add_test(limits, test_large_counts);
    suite_add_tcase(s, limits);
    TCase *hostile = test_tcase("Hostile");
    tcase_add_test(hostile, test_errors_do_not_cascade);
    tcase_add_test(hostile, test_forward_reference_depth);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(make_shape_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
