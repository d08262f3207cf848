/*
 * cli_export.c: export --tfjs DIR --weights W: the trained model as
 * TensorFlow.js's layers-model format, which tf.loadLayersModel reads:
 *   DIR/group1-shard1of1.bin  every parameter as little-endian float32, in
 *                             the order of the manifest (the model's table);
 *   DIR/model.json            the Keras topology the compiler embedded
 *                             (seqrt_model.keras_topology) and the weights
 *                             manifest, under Keras's names ("lstm/kernel").
 * A model trained with --text also carries its vocabulary, so a page can
 * map bytes to ids the way `generate` does (userDefinedMetadata.seqc.text).
 * Each file is written atomically, the shard first, so a model.json never
 * names a shard that is not complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli_internal.h"

static const char SHARD[] = "group1-shard1of1.bin";

static char *join(const char *dir, const char *file)
{
    size_t n = strlen(dir) + strlen(file) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, file);
    return p;
}

static int write_shard(const seqrt_model *m, const seqrt_real *w, const char *path, seqrt_error *err)
{
    seqrt_atomic a;
    int rc = seqrt_atomic_open(&a, path, err);
    if (rc) return rc;
    for (size_t i = 0; i < m->param_count; i++) {
        unsigned char b[4];
        float f = (float)w[i];
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        seqrt_put_le32(b, u);
        seqrt_atomic_write(&a, b, sizeof b);
    }
    return seqrt_atomic_commit(&a, err);
}

/* The vocabulary and how `generate` feeds the model, for a --text model. */
static void text_meta(seqrt_strbuf *b, const seqrt_model *m, const char *weights)
{
    seqrt_st_file f;
    seqrt_error ignore = {0};
    if (seqrt_st_load(&f, weights, &ignore)) return;
    const char *kind = seqrt_st_meta(&f, "data.kind");
    int is_text = kind && !strcmp(kind, "text");
    seqrt_st_free(&f);
    seqrt_text t;
    if (!is_text || m->n_losses < 1 || seqrt_text_load(&t, m, weights, &ignore)) return;
    seqrt_strbuf_printf(b, ", \"text\": {\"vocab\": [");
    for (int i = 0; i < t.n_vocab; i++) seqrt_strbuf_printf(b, "%s%d", i ? ", " : "", t.vocab[i]);
    seqrt_strbuf_printf(b, "], \"bptt\": %lld, \"stateful\": %s, \"output\": %d}", (long long)t.bptt,
                        m->reset_states ? "true" : "false", m->losses[0].output);
}

static int write_model_json(const seqrt_model *m, const char *weights, const char *path, seqrt_error *err)
{
    seqrt_strbuf b = {0};
    seqrt_strbuf_printf(&b, "{\"format\": \"layers-model\", \"generatedBy\": \"seqc %s\", "
                        "\"convertedBy\": \"seqc export --tfjs\",\n\"modelTopology\": ", SEQRT_VERSION);
    seqrt_strbuf_add(&b, m->keras_topology, strlen(m->keras_topology));
    seqrt_strbuf_printf(&b, ",\n\"weightsManifest\": [{\"paths\": [\"%s\"], \"weights\": [", SHARD);
    for (int i = 0; i < m->n_params; i++) {
        const seqrt_param *p = &m->params[i];
        char name[512];
        snprintf(name, sizeof name, "%s", p->name);
        for (char *c = name; *c; c++)
            if (*c == '.') *c = '/';   /* Keras's weight names: "bidirectional/forward_lstm/kernel" */
        seqrt_strbuf_printf(&b, "%s\n  {\"name\": ", i ? "," : "");
        seqrt_json_write_string(&b, name);
        seqrt_strbuf_printf(&b, ", \"shape\": [");
        for (int k = 0; k < p->ndim; k++) seqrt_strbuf_printf(&b, "%s%lld", k ? ", " : "", (long long)p->shape[k]);
        seqrt_strbuf_printf(&b, "], \"dtype\": \"float32\"}");
    }
    seqrt_strbuf_printf(&b, "]}],\n\"userDefinedMetadata\": {\"seqc\": {\"model\": ");
    seqrt_json_write_string(&b, m->name);
    text_meta(&b, m, weights);
    seqrt_strbuf_printf(&b, "}}}\n");
    if (b.failed) {
        free(b.s);
        return seqrt_errorf(err, SEQRT_ENOMEM, "out of memory for model.json");
    }
    int rc = seqrt_atomic_save(path, b.s, b.len, err);
    free(b.s);
    return rc;
}

int seqrt_cli_export(Cli *c)
{
    const seqrt_model *m = c->m;
    const Opts *o = &c->o;
    const char *dir = o->value[OPT_TFJS];
    if (!dir || !o->value[OPT_WEIGHTS])
        return seqrt_cli_bad_usage(m, c->prog, "export needs --tfjs DIR and --weights W.safetensors");
    seqrt_error err = {0};
    if (!m->keras_topology) {
        seqrt_errorf(&err, SEQRT_EINVAL, "cannot export model '%s' to TensorFlow.js: %s", m->name,
                     m->tfjs_refusal ? m->tfjs_refusal : "it was compiled without a Keras topology");
        return seqrt_cli_error_exit(&err);
    }
    seqrt_real *w = malloc(m->param_count * sizeof *w + 1);
    char *shard = join(dir, SHARD), *json = join(dir, "model.json");
    int rc = w && shard && json ? SEQRT_OK : seqrt_errorf(&err, SEQRT_ENOMEM, "out of memory");
    if (!rc) rc = seqrt_cli_weights(c, w, 0, 0, &err);
    if (!rc && mkdir(dir, 0777) != 0 && errno != EEXIST)
        rc = seqrt_errorf(&err, SEQRT_EIO, "--tfjs: cannot create directory '%s': %s", dir, strerror(errno));
    struct stat st;
    if (!rc && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = seqrt_errorf(&err, SEQRT_EIO, "--tfjs: '%s' is not a directory", dir);
    if (!rc) rc = write_shard(m, w, shard, &err);
    if (!rc) rc = write_model_json(m, o->value[OPT_WEIGHTS], json, &err);
    if (!rc)
        printf("%s: %d tensors, %zu parameters (%zu bytes) and model.json\n", shard, m->n_params,
               m->param_count, m->param_count * 4);
    free(w);
    free(shard);
    free(json);
    return rc ? seqrt_cli_error_exit(&err) : 0;
}
