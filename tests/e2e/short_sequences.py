#!/usr/bin/env python3
"""short_sequences.py: a sequence too short for a valid convolution is an
error message, not a crash.

    short_sequences.py SEQC MODEL.seq WORKDIR

MODEL has Conv1D(kernel 3, dilation 2, valid) then Conv1D(kernel 2, valid)
on [T, 2]: it needs T >= 6. For T = 5 (the second layer would get 1 step)
and T = 3 (the first would get none), `train`, `predict` and `summary`
exit 1 naming the layer, its line, and the lengths; T = 6 trains, and
`gradcheck` picks a long enough length for its random data by itself.
"""
import subprocess
import sys

import numpy as np


def run(*cmd, status=0, want=None):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}, wanted {status}): {' '.join(map(str, cmd))}\n{r.stdout}{r.stderr}")
    if want and want not in r.stderr:
        sys.exit(f"FAILED: {' '.join(map(str, cmd))}: no '{want}' in:\n{r.stderr}")
    return r


def main():
    seqc, model, work = sys.argv[1:4]
    import os
    os.makedirs(work, exist_ok=True)
    exe = f"{work}/vconv"
    run(seqc, "build", model, "-o", exe)
    rng = np.random.default_rng(0)
    for T in (3, 5, 6):
        np.save(f"{work}/x{T}.npy", rng.standard_normal((4, T, 2)).astype(np.float32))
        np.save(f"{work}/y{T}.npy", np.zeros((4, 1), np.float32))
    want5 = "layer 'conv1d_1' (Conv1D, "
    run(exe, "train", "--x", f"{work}/x5.npy", "--y", f"{work}/y5.npy", "--epochs", 1, "--quiet",
        status=1, want="needs at least 2 time steps, but its input has 1 (T = 5)")
    r = run(exe, "train", "--x", f"{work}/x3.npy", "--y", f"{work}/y3.npy", "--epochs", 1, "--quiet",
            status=1, want="needs at least 5 time steps, but its input has 3 (T = 3)")
    print(r.stderr.strip())
    run(exe, "train", "--x", f"{work}/x6.npy", "--y", f"{work}/y6.npy", "--epochs", 1, "--quiet",
        "--save", f"{work}/w.safetensors")
    run(exe, "predict", "--weights", f"{work}/w.safetensors", "--x", f"{work}/x5.npy", "--out",
        f"{work}/p.npy", status=1, want=want5)
    run(exe, "summary", "--dims", "T=4", status=1, want="needs at least 5 time steps")
    run(exe, "summary", "--dims", "T=6")
    print(run(exe, "gradcheck", "--quiet").stdout.strip())
    print("short sequences: clear errors; T = 6 trains")


if __name__ == "__main__":
    main()
