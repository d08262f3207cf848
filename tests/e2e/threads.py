#!/usr/bin/env python3
"""threads.py: a training program's results do not depend on --threads N
beyond float rounding, and a fixed N gives the same bits on every run.

    threads.py SEQC WORKDIR

Two LSTM models, so that the thread team (runtime/src/team.c) takes both
of its ways of sharing a recurrent layer: LSTM(64) -> LSTM(32) at B=32
(small kernels: the batch's rows split between the threads, no barrier)
and LSTM(96) at B=4 (the kernel's column tiles split, one barrier per
step). Each trains 2 epochs from the same seed with --threads 1, and twice
with --threads 2: the two --threads 2 weight files must be byte-identical,
and every weight within 1e-4 x (1 + max |w|) of the --threads 1 run (the
fused steps compute each element the same way on any number of threads;
what differs is OpenBLAS's summation order in the time-batched products).
"""
import os
import subprocess
import sys

import numpy as np

MODELS = {
    "rows": ("""model rows
input  x : [20, 10]
target y : [1]
y_hat = x -> LSTM(64, return_sequences=true) -> LSTM(32) -> Dense(1)
train {
    loss = mse(y_hat, y)
    optimizer = adam
    batch_size = 32
}
""", 32),
    "cols": ("""model cols
input  x : [12, 6]
target y : [12, 3]
y_hat = x -> LSTM(96, return_sequences=true) -> Dense(3)
train {
    loss = mse(y_hat, y)
    optimizer = adam
    batch_size = 4
}
""", 4),
}


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
    for name, (src, batch) in MODELS.items():
        seq = f"{work}/{name}.seq"
        open(seq, "w").write(src)
        exe = f"{work}/{name}"
        run(seqc, "build", seq, "-o", exe)
        x_shape, y_shape = ((64, 20, 10), (64, 1)) if name == "rows" else ((16, 12, 6), (16, 12, 3))
        np.save(f"{work}/{name}_x.npy", rng.standard_normal(x_shape).astype(np.float32))
        np.save(f"{work}/{name}_y.npy", rng.standard_normal(y_shape).astype(np.float32))
        files = {}
        for tag, n in (("t1", 1), ("t2a", 2), ("t2b", 2)):
            out = f"{work}/{name}_{tag}.safetensors"
            run(exe, "train", "--x", f"{work}/{name}_x.npy", "--y", f"{work}/{name}_y.npy",
                "--batch-size", batch, "--epochs", 2, "--seed", 7, "--no-shuffle", "--quiet",
                "--threads", n, "--save", out)
            files[tag] = out
        a, b = open(files["t2a"], "rb").read(), open(files["t2b"], "rb").read()
        w1, w2 = weights(files["t1"]), weights(files["t2a"])
        diff = float(np.max(np.abs(w1.astype(np.float64) - w2)))
        tol = 1e-4 * (1 + float(np.max(np.abs(w1))))
        same = a == b
        print(f"{name}: --threads 2 twice {'identical' if same else 'DIFFERENT'}; "
              f"--threads 1 vs 2: max |dw| {diff:.3g} (tolerance {tol:.3g})")
        failed |= not same or not diff <= tol
    sys.exit("FAILED" if failed else 0)


if __name__ == "__main__":
    main()
