#!/usr/bin/python3
"""h5_check.py: `seqc import` of Keras HDF5 weights, in the three layouts
Keras writes, against known weights.

    /usr/bin/python3 tests/import/h5_check.py --seqc PATH --work DIR MODEL [--predict]

MODEL is tests/import/models/MODEL.tf2.json. The script draws seeded
float32 weights for every weight of the model and writes them with h5py
as Keras's saving code lays them out (read from its source; Keras itself
is not installed):
  tf2.weights.h5  tf.keras 2 save_weights (legacy_h5_format.py
                  save_weights_to_hdf5_group): root attributes layer_names,
                  backend, keras_version; per layer a group with attribute
                  weight_names, each dataset at <layer>/<weight name>
  model.h5        tf.keras 2 model.save: attribute model_config (the JSON)
                  and the same layout under the group model_weights
  k3.weights.h5   Keras 3 save_weights (saving_lib.py _save_state):
                  layers/<snake_case class>[_k]/<attribute path>/vars/<i>
It then imports the model with each (k3.weights.h5 with the Keras 3 JSON,
the others with the tf.keras 2 one), and checks that every safetensors
file holds exactly the drawn weights under seqc's names (bitwise), that the
three files' tensor bytes are identical, and with --predict that the built
program predicts the same outputs from each.
"""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from seqc_torch import load_safetensors  # noqa: E402


def snake(name):
    """keras.src.utils.naming.to_snake_case."""
    import re
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def run(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode:
        sys.exit("FAIL: %s exited %d:\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def params(seqc, seq):
    """seqc's parameters (name, shape) in table order, from --dump=ir."""
    out = []
    for line in run(seqc, "check", "--dump=ir", seq).splitlines():
        if line.startswith("param ") and "owned by wrapper" not in line:
            _, name, shape, _ = line.split(" ", 3) if line.count(" ") >= 3 else line.split(" ")
            dims = line[line.index("[") + 1:line.index("]")]
            out.append((name, tuple(int(d) for d in dims.split(",") if d.strip())))
    return out


CELLS = {"LSTM": "lstm_cell", "GRU": "gru_cell", "SimpleRNN": "simple_rnn_cell"}


def keras_names(cls, layer, rest):
    """(tf.keras 2 weight name, Keras 3 attribute path) of one weight."""
    if cls in CELLS:
        return "%s/%s/%s:0" % (layer, CELLS[cls], rest), "cell"
    if cls == "AttentionLayer":          # W1, W2, V: three Dense attributes
        sub, p = rest.split(".")
        dense = {"W1": "dense", "W2": "dense_1", "V": "dense_2"}[sub]
        return "%s/%s/%s:0" % (layer, dense, p), sub
    return "%s/%s:0" % (layer, rest), ""


def write_files(model, plist, work, rng):
    layers = model["config"]["layers"]
    cls_of = {l.get("name", l["config"]["name"]): l["class_name"] for l in layers}
    weights = {}
    by_layer = {}
    for name, shape in plist:
        layer, rest = name.split(".", 1)
        w = rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)
        weights[name] = w
        by_layer.setdefault(layer, []).append((rest, w))
    # tf.keras 2: save_weights and model.save
    def legacy(g):
        names = [l.get("name", l["config"]["name"]) for l in layers]
        g.attrs["layer_names"] = [n.encode("utf8") for n in names]
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0"
        for n in names:
            lg = g.create_group(n)
            wn = []
            for rest, w in by_layer.get(n, []):
                wname, _ = keras_names(cls_of[n], n, rest)
                wn.append(wname.encode("utf8"))
                lg.create_dataset(wname, data=w)
            lg.attrs["weight_names"] = wn
    with h5py.File(os.path.join(work, "tf2.weights.h5"), "w") as f:
        legacy(f)
    with h5py.File(os.path.join(work, "model.h5"), "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model)
        legacy(f.create_group("model_weights"))
    # Keras 3: paths by class name, counted over model.layers
    with h5py.File(os.path.join(work, "k3.weights.h5"), "w") as f:
        f.create_group("vars")
        seen = {}
        seq_layers = [l for l in layers if not (model["class_name"] == "Sequential" and l["class_name"] == "InputLayer")]
        for l in seq_layers:
            n = l.get("name", l["config"]["name"])
            s = snake(l["class_name"])
            k = seen.get(s, -1) + 1
            seen[s] = k
            path = "layers/%s%s" % (s, "_%d" % k if k else "")
            f.create_group(path + "/vars")
            idx = {}
            for rest, w in by_layer.get(n, []):
                _, sub = keras_names(l["class_name"], n, rest)
                g = path + ("/" + sub if sub else "")
                i = idx.get(g, 0)
                idx[g] = i + 1
                f.require_group(g + "/vars").create_dataset(str(i), data=w)
    return weights


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seqc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--predict", action="store_true")
    ap.add_argument("model")
    a = ap.parse_args()
    work = os.path.join(a.work, a.model)
    os.makedirs(work, exist_ok=True)
    js = os.path.join(HERE, "models", a.model + ".tf2.json")
    seq = os.path.join(work, a.model + ".seq")
    run(a.seqc, "import", js, "-o", seq)
    plist = params(a.seqc, seq)
    with open(js) as f:
        model = json.load(f)
    weights = write_files(model, plist, work, np.random.default_rng(7))
    outs = {}
    for src in ("tf2.weights.h5", "model.h5", "k3.weights.h5"):
        st = os.path.join(work, src + ".safetensors")
        args = [a.seqc, "import"]
        if src == "model.h5":
            args += [os.path.join(work, src)]
        elif src == "k3.weights.h5":     # Keras 3 writes the Keras 3 JSON
            args += [os.path.join(HERE, "models", a.model + ".k3.json"), os.path.join(work, src)]
        else:
            args += [js, os.path.join(work, src)]
        run(*(args + ["-o", os.path.join(work, src + ".seq"), "--weights", st]))
        got, _ = load_safetensors(st)
        if list(got) != [n for n, _ in plist]:
            sys.exit("FAIL: %s: tensors %s, want %s" % (src, list(got), [n for n, _ in plist]))
        for n, w in weights.items():
            if got[n].shape != w.shape or got[n].tobytes() != w.tobytes():
                sys.exit("FAIL: %s: tensor %s differs from the weight written" % (src, n))
        with open(st, "rb") as f:
            raw = f.read()
        hl = int.from_bytes(raw[:8], "little")
        outs[src] = raw[8 + hl:]
        print("%s: %d tensors, bitwise the weights written" % (src, len(got)))
    if len(set(outs.values())) != 1:
        sys.exit("FAIL: the three imports' tensor bytes differ")
    if a.predict:
        binary = os.path.join(work, "model")
        run(a.seqc, "build", seq, "-o", binary)
        text = open(seq).read()
        rng = np.random.default_rng(3)
        xs = []
        for line in text.splitlines():
            if line.startswith("input "):
                name, dims = line[6:].split(":")
                dims = dims.split("#")[0].strip()
                is_int = dims.startswith("int")
                dims = [int(d) if d.strip().isdigit() else 5 for d in dims[dims.index("[") + 1:dims.index("]")].split(",")]
                x = rng.integers(0, 5, size=[4] + dims).astype(np.int32) if is_int else \
                    rng.normal(size=[4] + dims).astype(np.float32)
                p = os.path.join(work, "x_%s.npy" % name.strip())
                np.save(p, x)
                xs += ["--x", "%s=%s" % (name.strip(), p)]
        preds = []
        for src in outs:
            out = os.path.join(work, "pred_%s.npy" % src)
            outputs = [o.strip() for o in text.split("\noutput ")[1].split("\n")[0].split(",")]
            res = []
            for o in outputs:
                p = out + "." + o + ".npy"
                res.append(p)
            run(binary, "predict", "--weights", os.path.join(work, src + ".safetensors"), *xs,
                *sum((["--out", "%s=%s" % (o, p)] for o, p in zip(outputs, res)), []))
            preds.append([np.load(p) for p in res])
        for p in preds[1:]:
            for u, v in zip(preds[0], p):
                if u.tobytes() != v.tobytes():
                    sys.exit("FAIL: predictions differ between the weight files")
        print("predict: the same outputs from all three (%s)" % ", ".join(str(u.shape) for u in preds[0]))
    print("PASS %s" % a.model)


if __name__ == "__main__":
    main()
