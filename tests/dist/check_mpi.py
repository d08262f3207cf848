#!/usr/bin/env python3
"""check_mpi.py: data-parallel training under mpirun (Open MPI), on one machine.

    check_mpi.py SEQC WORKDIR

- 2 ranks with per-rank batch B/2 give the same weights after 2 epochs as
  1 rank with batch B (float32 reduction order: within 1e-5 relative).
- A checkpoint written by a 2-rank run continues on 1 rank, and a 1-rank
  one on 2 ranks, to the same weights as an uninterrupted run.
- Ranks given different data stop with a clear message, not a hang.
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(TOP, "tools"))
import seqc_torch  # noqa: E402

MPIRUN = ["mpirun", "--oversubscribe", "-np"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1", OMPI_MCA_rmaps_base_oversubscribe="1")


def run(cmd, expect_ok=True, timeout=1800):
    """cmd's result; the timeout only turns a hang (ranks waiting on each
    other) into a failure, so it is sized for a sanitizer build under load."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
    if expect_ok and r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r


def weights(path):
    t, _ = seqc_torch.load_safetensors(path)
    return {k: v for k, v in t.items() if not k.startswith("optimizer.")}


def compare(a, b, what):
    wa, wb = weights(a), weights(b)
    err = max(float(np.abs(wa[k] - wb[k]).max() / (np.abs(wa[k]).max() + 1e-12)) for k in wa)
    print(f"{what}: max relative difference {err:.2e}")
    if err > 1e-5:
        sys.exit(f"FAILED: {what}")


def main():
    seqc, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    binary = os.path.join(work, "lstm")
    run([seqc, "build", "--mpi", os.path.join(TOP, "examples", "lstm_stack.seq"), "-o", binary])
    rng = np.random.default_rng(0)
    x, y = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    np.save(x, rng.standard_normal((70, 12, 10)).astype(np.float32))  # a partial last step
    np.save(y, rng.standard_normal((70, 1)).astype(np.float32))
    train = [binary, "train", "--x", x, "--y", y, "--seed", "5", "--quiet"]

    def w(name):
        return os.path.join(work, name + ".safetensors")

    run(train + ["--epochs", "2", "--batch-size", "16", "--save", w("one")])
    run(MPIRUN + ["2"] + train + ["--epochs", "2", "--batch-size", "8", "--save", w("two")])
    compare(w("one"), w("two"), "1 rank x batch 16 vs 2 ranks x batch 8, 2 epochs")

    run(MPIRUN + ["2"] + train + ["--epochs", "1", "--batch-size", "8", "--save", w("half2")])
    run(train + ["--epochs", "1", "--batch-size", "16", "--load", w("half2"), "--save", w("then1")])
    compare(w("one"), w("then1"), "epoch 1 on 2 ranks, epoch 2 on 1 rank")
    run(train + ["--epochs", "1", "--batch-size", "16", "--save", w("half1")])
    run(MPIRUN + ["2"] + train + ["--epochs", "1", "--batch-size", "8", "--load", w("half1"),
                                  "--save", w("then2")])
    compare(w("one"), w("then2"), "epoch 1 on 1 rank, epoch 2 on 2 ranks")

    other = os.path.join(work, "x_other.npy")
    np.save(other, rng.standard_normal((70, 12, 10)).astype(np.float32))
    bad = run(["mpirun", "--oversubscribe", "-np", "1"] + train + ["--epochs", "1"] +
              [":", "-np", "1", binary, "train", "--x", other, "--y", y, "--seed", "5", "--quiet",
               "--epochs", "1"], expect_ok=False, timeout=600)
    said = bad.stdout + bad.stderr
    if bad.returncode == 0 or "ranks disagree" not in said:
        sys.exit(f"FAILED: ranks with different data: exit {bad.returncode}\n{said}")
    print("ranks with different data: stopped with \"ranks disagree\"")
    print("mpi: OK")


if __name__ == "__main__":
    main()
