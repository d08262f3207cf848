#!/usr/bin/env python3
"""threads.py: a training program's results do not depend on --threads N
beyond float rounding, and a fixed N gives the same bits on every run.

    threads.py SEQC WORKDIR

Four models, so that the thread team (runtime/src/team.c) takes each of
its ways of sharing a step:
  split   LSTM(64) -> LSTM(32) at B=32 on 75 samples: the whole step in
          row slices (train_split.c), the last batch of 11 split 6 + 5;
  masked  Embedding(mask_zero) -> GRU -> Dense, padded sequences: the
          slices' losses divide by the whole batch's valid positions;
  rows    the same LSTMs with dropout (masks drawn by position in the
          batch: the step runs whole) at B=32: each recurrent layer's rows
          split between the threads, no barrier;
  cols    LSTM(96) at B=4 (too few rows to split): the kernel's column
          tiles split, one barrier per step.
Each trains 2 epochs from the same seed with --threads 1, twice with
--threads 2, and with 3 and 9 (more members than the split's slices of
at least 4 rows: the rest only sum the gradient): the two --threads 2
weight files must be byte-identical, and each run's every weight within
1e-4 x (1 + max |w|) of the --threads 1 run, every
epoch's loss within 1e-5 relative of its (each
output element is computed the same way on any number of threads; what
differs is the order of sums: OpenBLAS's in the time-batched products, and
the gradient's, summed per slice).
"""
import os
import subprocess
import sys

import numpy as np

MODELS = {
    "split": ("""model split
input  x : [20, 10]
target y : [1]
y_hat = x -> LSTM(64, return_sequences=true) -> LSTM(32) -> Dense(1)
train {
    loss = mse(y_hat, y)
    optimizer = adam
    batch_size = 32
}
""", 32, (75, 20, 10), (75, 1)),
    "masked": ("""model masked
input  tokens : int[15]
target y : int[15]
h = tokens -> Embedding(20, 8, mask_zero=true) -> GRU(16, return_sequences=true)
y_hat = Dense(5)(h)
train {
    loss = sparse_categorical_crossentropy(y_hat, y, from_logits=true)
    optimizer = adam
    batch_size = 16
}
""", 16, (40, 15), (40, 15)),
    "rows": ("""model rows
input  x : [20, 10]
target y : [1]
y_hat = x -> LSTM(64, return_sequences=true, dropout=0.2) -> LSTM(32) -> Dense(1)
train {
    loss = mse(y_hat, y)
    optimizer = adam
    batch_size = 32
}
""", 32, (64, 20, 10), (64, 1)),
    "cols": ("""model cols
input  x : [12, 6]
target y : [12, 3]
y_hat = x -> LSTM(96, return_sequences=true) -> Dense(3)
train {
    loss = mse(y_hat, y)
    optimizer = adam
    batch_size = 4
}
""", 4, (16, 12, 6), (16, 12, 3)),
}


def data(name, x_shape, y_shape, rng):
    if name != "masked":
        return (rng.standard_normal(x_shape).astype(np.float32),
                rng.standard_normal(y_shape).astype(np.float32))
    # tokens 1..19 then zero padding, a different length per sequence
    x = rng.integers(1, 20, size=x_shape).astype(np.int32)
    for i, n in enumerate(rng.integers(3, x_shape[1] + 1, size=x_shape[0])):
        x[i, n:] = 0
    return x, rng.integers(0, 5, size=y_shape).astype(np.int32)


def run(*cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"FAILED (status {r.returncode}): {' '.join(map(str, cmd))}\n{r.stdout[-2000:]}\n{r.stderr}")
    return r


def weights(path):
    """The float32 data of a safetensors file (after its JSON header)."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    return np.frombuffer(raw[8 + n:], dtype=np.float32)


def main():
    seqc, work = sys.argv[1:3]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(5)
    failed = False
    for name, (src, batch, x_shape, y_shape) in MODELS.items():
        seq = f"{work}/{name}.seq"
        open(seq, "w").write(src)
        exe = f"{work}/{name}"
        run(seqc, "build", seq, "-o", exe)
        x, y = data(name, x_shape, y_shape, rng)
        np.save(f"{work}/{name}_x.npy", x)
        np.save(f"{work}/{name}_y.npy", y)
        files, losses = {}, {}
        for tag, n in (("t1", 1), ("t2a", 2), ("t2b", 2), ("t3", 3), ("t9", 9)):
            out = f"{work}/{name}_{tag}.safetensors"
            log = f"{work}/{name}_{tag}.csv"
            run(exe, "train", "--x", f"{work}/{name}_x.npy", "--y", f"{work}/{name}_y.npy",
                "--batch-size", batch, "--epochs", 2, "--seed", 7, "--no-shuffle", "--quiet",
                "--threads", n, "--save", out, "--log", log)
            files[tag] = out
            losses[tag] = np.loadtxt(log, delimiter=",", skiprows=1, usecols=1)
        a, b = open(files["t2a"], "rb").read(), open(files["t2b"], "rb").read()
        w1 = weights(files["t1"])
        tol = 1e-4 * (1 + float(np.max(np.abs(w1))))
        same = a == b
        print(f"{name}: --threads 2 twice {'identical' if same else 'DIFFERENT'}")
        failed |= not same
        for tag in ("t2a", "t3", "t9"):
            w = weights(files[tag])
            diff = float(np.max(np.abs(w1.astype(np.float64) - w)))
            dl = float(np.max(np.abs(losses["t1"] - losses[tag]) / np.abs(losses["t1"])))
            print(f"  --threads 1 vs {tag[1]}: max |dw| {diff:.3g} (tolerance {tol:.3g}), "
                  f"loss relative {dl:.3g} (tolerance 1e-05)")
            failed |= not diff <= tol or not dl <= 1e-5
    sys.exit("FAILED" if failed else 0)


if __name__ == "__main__":
    main()
