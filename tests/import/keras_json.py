#!/usr/bin/env python3
"""keras_json.py: the seed models of examples/ as Keras's model.to_json()
writes them, in both forms, for the `seqc import` tests:

    python3 tests/import/keras_json.py DIR

writes DIR/<example>.tf2.json (tf.keras 2.15: {class_name, config} objects,
InputLayer batch_input_shape, inbound_nodes [[[layer, node, tensor, {}]]])
and DIR/<example>.k3.json (Keras 3.3: {module, class_name, config,
registered_name} objects, InputLayer batch_shape, inbound_nodes
[{args, kwargs}] of __keras_tensor__). Every layer config carries all the
keys Keras's get_config() writes, at Keras's defaults unless the seed sets
them. Keras itself is not needed (nor installable here); the layouts follow
keras/src/layers/*/ get_config and keras/src/models/functional.py.
"""
import json
import os
import sys

K3 = False   # set per form by write()


def init(name, **cfg):
    if K3:
        return {"module": "keras.initializers", "class_name": name, "config": cfg,
                "registered_name": None}
    return {"class_name": name, "config": cfg}


def dtype():
    if K3:
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                "registered_name": None}
    return "float32"


def base(name):
    return {"name": name, "trainable": True, "dtype": dtype()}


def dense(name, units, activation="linear"):
    c = base(name)
    c.update(units=units, activation=activation, use_bias=True,
             kernel_initializer=init("GlorotUniform", seed=None),
             bias_initializer=init("Zeros"), kernel_regularizer=None, bias_regularizer=None,
             kernel_constraint=None, bias_constraint=None)
    if not K3:
        c["activity_regularizer"] = None
    else:
        c["lora_rank"] = None
    return "Dense", c


def rnn(cls, name, units, **kw):
    c = base(name)
    c.update(return_sequences=False, return_state=False, go_backwards=False, stateful=False,
             unroll=False)
    if not K3:
        c["time_major"] = False
    c.update(units=units, activation="tanh")
    if cls != "SimpleRNN":
        c["recurrent_activation"] = "sigmoid"
    c.update(use_bias=True, kernel_initializer=init("GlorotUniform", seed=None),
             recurrent_initializer=init("Orthogonal", gain=1.0, seed=None),
             bias_initializer=init("Zeros"))
    if cls == "LSTM":
        c["unit_forget_bias"] = True
    c.update(kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
             kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
             dropout=0.0, recurrent_dropout=0.0)
    if not K3:
        c["activity_regularizer"] = None
    if cls != "SimpleRNN" and not K3:
        c["implementation"] = 2
    if cls == "GRU":
        c["reset_after"] = True
    if K3:
        c["seed"] = None
    c.update(kw)
    return cls, c


def conv1d(name, filters, kernel_size, **kw):
    c = base(name)
    c.update(filters=filters, kernel_size=[kernel_size], strides=[1], padding="valid",
             data_format="channels_last", dilation_rate=[1], groups=1, activation="linear",
             use_bias=True, kernel_initializer=init("GlorotUniform", seed=None),
             bias_initializer=init("Zeros"), kernel_regularizer=None, bias_regularizer=None,
             activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
    for k, v in kw.items():
        c[k] = [v] if k == "dilation_rate" else v
    return "Conv1D", c


def embedding(name, input_dim, output_dim, **kw):
    c = base(name)
    c.update(input_dim=input_dim, output_dim=output_dim,
             embeddings_initializer=init("RandomUniform", minval=-0.05, maxval=0.05, seed=None),
             embeddings_regularizer=None, activity_regularizer=None, embeddings_constraint=None,
             mask_zero=False)
    if not K3:
        c["input_length"] = None
    else:
        c["lora_rank"] = None
    c.update(kw)
    return "Embedding", c


def attention(name, use_scale=False):
    c = base(name)
    c.update(use_scale=use_scale, score_mode="dot")
    if K3:
        c["dropout"] = 0.0
    return "Attention", c


def concatenate(name):
    c = base(name)
    c["axis"] = -1
    return "Concatenate", c


def attention_layer(name, units):
    # the seeds' custom layer: its get_config adds units
    c = base(name)
    c["units"] = units
    return "AttentionLayer", c


def wrap(layer, extra=None):
    cls, cfg = layer
    o = {"class_name": cls, "config": cfg}
    if K3:
        o = {"module": "keras.layers" if cls != "AttentionLayer" else None, "class_name": cls,
             "config": cfg, "registered_name": None if cls != "AttentionLayer" else "Custom>AttentionLayer"}
        if cls != "AttentionLayer":
            pass
        else:
            o["module"] = "__main__"
    if extra:
        o.update(extra)
    return o


def input_layer(name, shape, batch=None, dtype_="float32"):
    cfg = {("batch_shape" if K3 else "batch_input_shape"): [batch] + list(shape), "dtype": dtype_,
           "sparse": False, "name": name}
    if not K3:
        cfg["ragged"] = False
    return {"class_name": "InputLayer", "config": cfg}


def sequential(name, layers, input_=None):
    """input_: (name, shape[, batch]) for an explicit InputLayer; else the
    first layer carries batch_input_shape (tf.keras 2) / an InputLayer (Keras 3)."""
    ls = []
    if input_ is not None:
        ls.append(wrap_input(input_layer(*input_)))
    for i, layer in enumerate(layers):
        ls.append(wrap(layer))
    cfg = {"name": name, "layers": ls}
    if K3:
        cfg.update(trainable=True, dtype=dtype())
    return {"module": "keras", "class_name": "Sequential", "config": cfg, "registered_name": None,
            "keras_version": "3.3.3", "backend": "tensorflow"} if K3 else \
        {"class_name": "Sequential", "config": cfg, "keras_version": "2.15.0", "backend": "tensorflow"}


def wrap_input(o):
    if K3:
        return {"module": "keras.layers", "class_name": "InputLayer", "config": o["config"],
                "registered_name": None}
    return o


def tensor(ref, shape):
    layer, node, idx = ref
    if K3:
        return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32",
                "keras_history": [layer, node, idx]}}
    return [layer, node, idx, {}]


class Graph:
    """A functional model: layers in call order with their inbound nodes."""

    def __init__(self, name):
        self.name, self.layers, self.inputs, self.outputs = name, [], [], []

    def input(self, name, shape, batch=None):
        o = wrap_input(input_layer(name, shape, batch))
        o["name"] = name
        o["inbound_nodes"] = []
        self.layers.append(o)
        self.inputs.append([name, 0, 0])
        return (name, 0, 0)

    def call(self, layer, args, shape=None, state=None, kwargs=None, n_out=1, list_arg=False):
        o = wrap(layer)
        o["name"] = layer[1]["name"]
        shape = shape or [None]
        if K3:
            a = [tensor(r, shape) for r in args]
            kw = dict(kwargs or {})
            if state:
                kw["initial_state"] = [tensor(r, shape) for r in state]
            o["inbound_nodes"] = [{"args": [a] if list_arg else a, "kwargs": kw}]
        else:
            node = [tensor(r, shape) for r in args]
            if kwargs:
                node[0][3] = dict(kwargs)
            node += [tensor(r, shape) for r in (state or [])]
            o["inbound_nodes"] = [node]
        self.layers.append(o)
        return [(o["name"], 0, i) for i in range(n_out)]

    def json(self):
        cfg = {"name": self.name, "trainable": True, "layers": self.layers,
               "input_layers": self.inputs, "output_layers": self.outputs}
        if K3:
            cfg = {"name": self.name, "trainable": True, "layers": self.layers,
                   "input_layers": self.inputs if len(self.inputs) > 1 else self.inputs[0],
                   "output_layers": self.outputs if len(self.outputs) > 1 else self.outputs[0]}
            return {"module": "keras.src.models.functional", "class_name": "Functional",
                    "config": cfg, "registered_name": "Functional", "build_config": {},
                    "keras_version": "3.3.3", "backend": "tensorflow"}
        return {"class_name": "Functional", "config": cfg, "keras_version": "2.15.0",
                "backend": "tensorflow"}


def first_with_shape(layer, shape, batch=None):
    """tf.keras 2: the first layer of a Sequential built with input_shape=."""
    cls, cfg = layer
    if not K3:
        cfg = dict(cfg)
        cfg["batch_input_shape"] = [batch] + list(shape)
        items = list(cfg.items())
        cfg = dict(items[:3] + [items[-1]] + items[3:-1])   # Keras puts it after dtype
    return cls, cfg


def models():
    m = {}
    # goodbye: Sequential, SimpleRNN(8, return_sequences) -> Dense(7, softmax), input (3, 7)
    inp = None if not K3 else ("input_layer", [3, 7])
    m["goodbye"] = sequential("goodbye", [
        first_with_shape(rnn("SimpleRNN", "simple_rnn", 8, return_sequences=True), [3, 7]),
        dense("dense", 7, "softmax")], inp)
    # simple_rnn
    inp = None if not K3 else ("input_layer", [None, 10])
    m["simple_rnn"] = sequential("simple_rnn", [
        first_with_shape(rnn("SimpleRNN", "simple_rnn", 32), [None, 10]), dense("dense", 1)], inp)
    # lstm_stack
    m["lstm_stack"] = sequential("lstm_stack", [
        first_with_shape(rnn("LSTM", "lstm", 64, return_sequences=True), [None, 10]),
        rnn("LSTM", "lstm_1", 32), dense("dense", 1)], inp)
    # wavenet: an explicit InputLayer, as the seed writes it
    convs = [conv1d("conv1d" + ("_%d" % i if i else ""), 20, 2, padding="causal",
                    activation="relu", dilation_rate=r)
             for i, r in enumerate((1, 2, 4, 8) * 2)]
    m["wavenet"] = sequential("wavenet", convs + [conv1d("conv1d_8", 10, 1)],
                              ("input_1" if not K3 else "input_layer", [None, 1]))
    # char_gru: Embedding(29, 8, batch_input_shape=[1, None]), GRU(32, stateful)
    inp = None if not K3 else ("input_layer", [None], 1)
    m["char_gru"] = sequential("char_gru", [
        first_with_shape(embedding("embedding", 29, 8), [None], 1),
        rnn("GRU", "gru", 32, return_sequences=True, stateful=True), dense("dense", 29)], inp)
    # hello: functional
    g = Graph("hello")
    feat = g.input("feat", [3, 4])
    (rnn_out,) = g.call(rnn("SimpleRNN", "simple_rnn", 8, return_sequences=True), [feat], [None, 3, 4])
    (probs,) = g.call(dense("dense", 4, "softmax"), [rnn_out], [None, 3, 8])
    g.outputs = [list(probs)]
    m["hello"] = g.json()
    # seq2seq
    g = Graph("seq2seq")
    enc = g.input("encoder_inputs", [None, 10])
    dec = g.input("decoder_inputs", [None, 8])
    _, h, c = g.call(rnn("LSTM", "lstm", 32, return_state=True), [enc], [None, None, 10], n_out=3)
    seq, _, _ = g.call(rnn("LSTM", "lstm_1", 32, return_sequences=True, return_state=True), [dec],
                       [None, None, 8], state=[h, c], n_out=3)
    (out,) = g.call(dense("dense", 8, "softmax"), [seq], [None, None, 32])
    g.outputs = [list(out)]
    m["seq2seq"] = g.json()
    # seq2seq_attention
    g = Graph("seq2seq_attention")
    enc = g.input("encoder_inputs", [None, 10])
    dec = g.input("decoder_inputs", [None, 8])
    eseq, h, c = g.call(rnn("LSTM", "lstm", 32, return_sequences=True, return_state=True), [enc],
                        [None, None, 10], n_out=3)
    (dseq,) = g.call(rnn("LSTM", "lstm_1", 32, return_sequences=True), [dec], [None, None, 8],
                     state=[h, c])
    ctx, weights = g.call(attention("attention", use_scale=True), [dseq, eseq], [None, None, 32],
                          kwargs={"return_attention_scores": True}, n_out=2, list_arg=True)
    (joined,) = g.call(concatenate("concatenate"), [dseq, ctx], [None, None, 32], list_arg=True)
    (out,) = g.call(dense("dense", 8, "softmax"), [joined], [None, None, 64])
    g.outputs = [list(out), list(weights)]
    m["seq2seq_attention"] = g.json()
    # attention: the seeds' custom AttentionLayer(10)(query, values)
    g = Graph("attention")
    q = g.input("query", [1, 64])
    v = g.input("values", [10, 64])
    ctx, w = g.call(attention_layer("attention_layer", 10), [q, v], [None, 1, 64], n_out=2)
    g.outputs = [list(ctx), list(w)]
    m["attention"] = g.json()
    return m


def write(outdir):
    global K3
    os.makedirs(outdir, exist_ok=True)
    for form, k3 in (("tf2", False), ("k3", True)):
        K3 = k3
        for name, model in models().items():
            with open(os.path.join(outdir, "%s.%s.json" % (name, form)), "w") as f:
                json.dump(model, f, indent=1)
                f.write("\n")


if __name__ == "__main__":
    write(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
