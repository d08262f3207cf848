/*
 * fuzz_text.c: the character-model data path (--text FILE): the byte
 * vocabulary and the stream cutting of seqrt_text_dataset for a char-level
 * model descriptor, with streams, --bptt and the validation split taken
 * from the first bytes; and, for inputs starting with 'V', the vocabulary
 * loader seqrt_text_load on a weights file whose data.vocab / data.bptt
 * metadata are the rest of the input.
 */
#include <string.h>

#include "fuzz_util.h"
#include "internal.h"
#include "seqrt_train.h"

/* input ids : int[T] (vocab 40), target int[T], output logits [T, 40]. */
static const seqrt_io in_x = {"ids", 1, 1, {-1, 0, 0}, {0, -1, -1}, 40, {0}, {0}, {0}};
static const seqrt_io in_y = {"next", 1, 1, {-1, 0, 0}, {0, -1, -1}, 40, {0}, {0}, {0}};
static const seqrt_io out_p = {"logits", 0, 2, {-1, 40, 0}, {0, -1, -1}, 0, {0}, {0}, {0}};
static const seqrt_loss_spec loss = {0, 0, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 1, 0, 1.0, 0};
static const char *const dim_names[] = {"T"};

static seqrt_model model(void)
{
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = "fuzz_text";
    m.n_dims = 1;
    m.dim_names = dim_names;
    m.n_inputs = m.n_targets = m.n_outputs = 1;
    m.inputs = &in_x;
    m.targets = &in_y;
    m.outputs = &out_p;
    m.n_losses = 1;
    m.losses = &loss;
    m.batch_size = 4;
    m.epochs = 1;
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seqrt_model m = model();
    seqrt_error err = {0};
    seqrt_text t;
    if (size >= 1 && data[0] == 'V') {
        /* "V<vocab hex>\n<bptt>" -> metadata of an empty weights file */
        char vocab[1024], bptt[64];
        const uint8_t *nl = memchr(data + 1, '\n', size - 1);
        size_t vl = nl ? (size_t)(nl - data - 1) : size - 1;
        size_t bl = nl ? size - 1 - vl - 1 : 0;
        if (vl >= sizeof vocab || bl >= sizeof bptt) return 0;
        memcpy(vocab, data + 1, vl);
        vocab[vl] = '\0';
        memcpy(bptt, nl ? nl + 1 : data, bl);
        bptt[bl] = '\0';
        /* the header as seqrt_st_save writes it (it cannot save into a memfd) */
        seqrt_strbuf h = {0};
        static const char head[] = "{\"__metadata__\":{\"data.kind\":\"text\",\"data.vocab\":";
        seqrt_strbuf_add(&h, head, sizeof head - 1);
        seqrt_json_write_string(&h, vocab);
        seqrt_strbuf_add(&h, ",\"data.bptt\":", sizeof ",\"data.bptt\":" - 1);
        seqrt_json_write_string(&h, bptt);
        seqrt_strbuf_add(&h, "}}", 2);
        while (!h.failed && h.len % 8) seqrt_strbuf_add(&h, " ", 1);
        if (h.failed) abort();
        uint8_t *file = malloc(8 + h.len);
        for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
        memcpy(file + 8, h.s, h.len);
        const char *path = fuzz_file(file, 8 + h.len);
        free(file);
        free(h.s);
        int rc = seqrt_text_load(&t, &m, path, &err);
        if (rc && strncmp(err.msg, "model fuzz_text: ", 17) != 0) FUZZ_CHECK_MSG(rc, err, path);
        return 0;
    }
    if (size < 3) return 0;
    int64_t streams = 1 + data[0] % 4, bptt = 1 + data[1] % 8;
    double split = data[2] % 3 == 0 ? 0 : data[2] % 3 == 1 ? 0.1 : 0.5;
    const char *path = fuzz_file(data + 3, size - 3);
    unsigned char *bytes = NULL;
    int64_t n = 0;
    int rc = seqrt_text_read(path, &bytes, &n, &err);
    FUZZ_CHECK_MSG(rc, err, path);
    if (rc) return 0;
    if (n != (int64_t)(size - 3) || memcmp(bytes, data + 3, (size_t)n) != 0) abort();
    seqrt_dataset d;
    memset(&d, 0, sizeof d);
    rc = seqrt_text_dataset(&d, &t, &m, bytes, n, streams, bptt, split, path, &err);
    /* a text the model cannot take is the model's error ("model fuzz_text: ...") */
    if (rc && strncmp(err.msg, "model fuzz_text: ", 17) != 0) FUZZ_CHECK_MSG(rc, err, path);
    if (rc == 0) {
        if (t.n_vocab < 1 || t.n_vocab > 40) abort();
        const int32_t *x = d.x[0].data, *y = d.y[0].data;
        for (int64_t i = 0; i < d.x[0].count; i++)
            if (x[i] < 0 || x[i] >= t.n_vocab || y[i] < 0 || y[i] >= t.n_vocab) abort();
        seqrt_dataset_free(&d);
    }
    free(bytes);
    return 0;
}
