#!/usr/bin/env python3
"""check_numerics.py: `train --check-numerics` names the first layer output
that is not finite, with its sample, time step and feature.

    check_numerics.py SEQC MODEL.seq WORKDIR

MODEL maps x [T, 2] through Dense(3, relu) on a named axis T. One input
value is +Inf (sample 2, step 3 of T = 5; feature 1 of x): the Dense output
at sample 2, step 3 is the first non-finite value in graph order, at its
first feature whose kernel weight from x's feature 1 is not 0 (relu(+Inf
w) is Inf or 0, Inf * 0 is NaN). The run must stop with status 1 naming
layer, line, shape and position; the same data without the Inf trains.

Then a chain of 10 identical Dense layers, whose numerics rows are a table
walked by a loop (compiler/lower_runs.h), loaded with one NaN in
dense_5's kernel (row 1, column 2): the first non-finite value is h5's
feature 2 at sample 0, step 0.
"""
import json
import os
import re
import struct
import subprocess
import sys

import numpy as np


def run(*cmd, status=0):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}, wanted {status}): {' '.join(map(str, cmd))}\n"
                 f"{r.stdout}{r.stderr}")
    return r


def main():
    seqc, model, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    exe = f"{work}/numerics"
    run(seqc, "build", model, "-o", exe)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5, 2)).astype(np.float32)
    np.save(f"{work}/x.npy", x)
    np.save(f"{work}/y.npy", np.zeros((4, 5, 1), np.float32))
    common = ["--y", f"{work}/y.npy", "--epochs", 1, "--batch-size", 4, "--no-shuffle",
              "--check-numerics", "--quiet"]
    run(exe, "train", "--x", f"{work}/x.npy", *common)
    x[2, 3, 1] = np.inf
    np.save(f"{work}/x_inf.npy", x)
    r = run(exe, "train", "--x", f"{work}/x_inf.npy", *common, status=1)
    want = re.compile(r"'h' of layer 'dense' \(Dense, [^)]*check_numerics\.seq:9\) \(None, T, 3\): "
                      r"(Inf|NaN) at sample 2, time step 3, feature [012] at epoch 1, step 1")
    if not want.search(r.stderr):
        sys.exit(f"FAILED: no match for {want.pattern} in:\n{r.stderr}")
    print(r.stderr.strip())
    chain(seqc, work, common)


def save_safetensors(path, tensors):
    header, data = {}, b""
    for name, a in tensors:
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [len(data), len(data) + a.nbytes]}
        data += a.tobytes()
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def chain(seqc, work, common):
    layers = "".join(f"h{i} = Dense(4, activation=tanh)({'h%d' % (i - 1) if i else 'x'})\n"
                     for i in range(10))
    with open(f"{work}/chain.seq", "w") as f:
        f.write("model chain\n\ninput x : [T, 2]\ntarget y : [T, 4]\n\n" + layers +
                "\ntrain {\n    loss = mse(h9, y)\n    optimizer = sgd\n}\n")
    exe = f"{work}/chain"
    run(seqc, "build", f"{work}/chain.seq", "-o", exe)
    rng = np.random.default_rng(1)
    tensors = []
    for i in range(10):
        name = "dense" if i == 0 else f"dense_{i}"
        kernel = (rng.standard_normal((2 if i == 0 else 4, 4)) * 0.5).astype(np.float32)
        if i == 5:
            kernel[1, 2] = np.nan
        tensors += [(f"{name}.kernel", kernel), (f"{name}.bias", np.zeros(4, np.float32))]
    save_safetensors(f"{work}/nan.safetensors", tensors)
    np.save(f"{work}/y4.npy", np.zeros((4, 5, 4), np.float32))
    args = [a if a != f"{work}/y.npy" else f"{work}/y4.npy" for a in common]
    r = run(exe, "train", "--x", f"{work}/x.npy", *args, "--load", f"{work}/nan.safetensors",
            status=1)
    want = re.compile(r"'h5' of layer 'dense_5' \(Dense, [^)]*chain\.seq:11\) \(None, T, 4\): "
                      r"NaN at sample 0, time step 0, feature 2 at epoch 1, step 1")
    if not want.search(r.stderr):
        sys.exit(f"FAILED: no match for {want.pattern} in:\n{r.stderr}")
    print(r.stderr.strip())


if __name__ == "__main__":
    main()
