/*
 * fuzz_safetensors.c: the safetensors reader on arbitrary bytes, three
 * ways: seqrt_st_load (header length, JSON, dtypes, shapes, offsets),
 * seqrt_checkpoint_load into a small model with Adam state (metadata,
 * checksum, names, shapes, optimizer slots), and the JSON reader alone on
 * the bytes after the 8-byte length. Every failure must be an error naming
 * the file; every success must hold consistent entries.
 */
#include <string.h>

#include "fuzz_util.h"
#include "internal.h"
#include "seqrt_train.h"

/* dense.kernel [2, 3], dense.bias [3]: the names and shapes a seqc model has. */
static const seqrt_param params[] = {
    {"dense.kernel", 2, {2, 3}, 0, 6, SEQRT_INIT_GLOROT_UNIFORM, 2, 3},
    {"dense.bias", 1, {3}, 6, 3, SEQRT_INIT_ZEROS, 0, 0},
};

static seqrt_model model(void)
{
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = "fuzz";
    m.n_params = 2;
    m.params = params;
    m.param_count = 9;
    m.optim.kind = SEQRT_OPT_ADAM;
    m.optim.learning_rate = 1e-3;
    m.optim.beta_1 = 0.9;
    m.optim.beta_2 = 0.999;
    m.optim.epsilon = 1e-7;
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    seqrt_st_file f;
    seqrt_error err = {0};
    int rc = seqrt_st_load(&f, path, &err);
    FUZZ_CHECK_MSG(rc, err, path);
    if (rc == 0) {
        for (int i = 0; i < f.n; i++) {
            const seqrt_st_entry *e = &f.entries[i];
            int64_t count = 1;
            for (int d = 0; d < e->ndim; d++) count *= e->shape[d];
            if (!e->name || count != e->count || !e->data) abort();
            if (seqrt_st_find(&f, e->name) == NULL) abort();
        }
        for (int i = 0; i < f.n_meta; i++)
            if (!f.meta[2 * i] || !f.meta[2 * i + 1]) abort();
        seqrt_st_free(&f);
    }

    seqrt_model m = model();
    seqrt_real w[9];
    seqrt_optim opt;
    seqrt_checkpoint_info info;
    memset(&err, 0, sizeof err);
    if (seqrt_optim_init(&opt, &m.optim, m.param_count, &err) != 0) abort();
    rc = seqrt_checkpoint_load(path, &m, w, &opt, &info, &err);
    FUZZ_CHECK_MSG(rc, err, path);
    seqrt_optim_free(&opt);

    if (size >= 8) {
        char why[128];
        seqrt_json *j = seqrt_json_parse((const char *)data + 8, size - 8, why, sizeof why);
        seqrt_json_free(j);
    }
    return 0;
}
