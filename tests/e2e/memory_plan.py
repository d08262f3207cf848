#!/usr/bin/env python3
"""memory_plan.py: the memory plan that `PROGRAM summary` prints is what a
training run uses, and checkpointed BPTT saves what it says it saves.

    memory_plan.py SEQC MODEL.seq WORKDIR

MODEL is bench/models/w7_long.seq (Embedding -> LSTM(512) -> Dense, time
axis T). Built twice: keeping every step, and with --bptt-checkpoint=sqrt.
For each: the plan's total for B=32, T=128; the fixed overhead (peak RSS
of the same program training T=1, B=1); the peak RSS of one epoch at B=32,
T=128, which must stay within 1.5 x plan + fixed. The checkpointed plan and
RSS must be smaller, and both programs, from the same initial weights,
must train to the same weights (to float32 summation-order noise).
Peak RSS is GNU time's %M.
"""
import os
import re
import subprocess
import sys

import numpy as np

B, T = 32, 128


def run(*cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"FAILED (status {r.returncode}): {' '.join(map(str, cmd))}\n{r.stdout[-2000:]}\n{r.stderr}")
    return r


def peak_rss(*cmd):
    r = run("/usr/bin/time", "-f", "%M", *cmd)
    return int(r.stderr.strip().splitlines()[-1]) * 1024


def main():
    seqc, model, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(1)
    for name, b, t in (("big", B, T), ("tiny", 1, 1)):
        np.save(f"{work}/{name}_x.npy", rng.integers(0, 65, (b, t)).astype(np.int32))
        np.save(f"{work}/{name}_y.npy", rng.integers(0, 65, (b, t)).astype(np.int32))
    got = {}
    for policy, flags in (("all", []), ("ck", ["--bptt-checkpoint=sqrt"])):
        exe = f"{work}/w7_{policy}"
        run(seqc, "build", *flags, model, "-o", exe)
        out = run(exe, "summary", "--batch-size", B, "--dims", f"T={T}").stdout
        m = re.search(r"\n  total\s+([\d.]+) (B|KiB|MiB|GiB)\n", out)
        if not m:
            sys.exit(f"FAILED: no total in the memory plan:\n{out}")
        plan = float(m.group(1)) * {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[m.group(2)]
        common = ["--quiet", "--no-shuffle", "--epochs", "1", "--seed", "3"]
        fixed = peak_rss(exe, "train", "--x", f"{work}/tiny_x.npy", "--y", f"{work}/tiny_y.npy",
                         "--batch-size", 1, *common)
        rss = peak_rss(exe, "train", "--x", f"{work}/big_x.npy", "--y", f"{work}/big_y.npy",
                       "--batch-size", B, "--save", f"{work}/w_{policy}.safetensors", *common)
        print(f"{policy}: plan {plan / 2**20:.1f} MiB, fixed {fixed / 2**20:.1f} MiB, "
              f"peak RSS {rss / 2**20:.1f} MiB = {rss / (plan + fixed):.2f} x (plan + fixed)")
        if rss > 1.5 * plan + fixed:
            sys.exit(f"FAILED: {policy}: peak RSS {rss} > 1.5 x plan {plan} + fixed {fixed}")
        got[policy] = (plan, rss)
    # What checkpointing should save: the gates z of all T steps but S, the
    # cell states c of all T + 1 but S + 1, less the checkpoints kept, and
    # the fused LSTM's tanh(c_t) (kept from the forward pass for the
    # backward) of all T steps but S.
    S, U = int(np.ceil(np.sqrt(T))), 512
    saved = ((T - S) * B * 4 * U + (T - S) * B * U - ((T + S - 1) // S + 1) * B * U
             + (T - S) * B * U) * 4
    d = got["all"][0] - got["ck"][0]
    print(f"checkpointing saves {d / 2**20:.1f} MiB of the plan (expected {saved / 2**20:.1f} MiB)")
    if abs(d - saved) > 0.1 * 2**20:
        sys.exit(f"FAILED: the plan shrank by {d} bytes, expected {saved}")
    if not got["ck"][1] < got["all"][1]:
        sys.exit(f"FAILED: checkpointing did not lower the peak RSS: {got['ck'][1]} vs {got['all'][1]}")
    # Same training either way: compare the saved weights tensor by tensor.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
    from seqc_torch import load_safetensors
    wa, wc = load_safetensors(f"{work}/w_all.safetensors")[0], load_safetensors(f"{work}/w_ck.safetensors")[0]
    # The optimizer's first moments are 0.1 x the gradients: compare those
    # relative to their size, as well as the weights.
    worst = 0.0
    for k in wa:
        scale = float(np.max(np.abs(wa[k]))) or 1.0
        d = float(np.max(np.abs(wa[k] - wc[k]))) / scale
        worst = max(worst, d)
        if d > 1e-4:
            sys.exit(f"FAILED: {k} differs by {d:.3g} (relative) between the two BPTT policies")
    print(f"both policies train to the same weights and gradient moments ({len(wa)} tensors, "
          f"worst relative difference {worst:.2g})")


if __name__ == "__main__":
    main()
