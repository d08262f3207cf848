#!/usr/bin/env python3
"""series.py: a seasonal series to forecast with examples/wavenet.seq.

    python3 examples/data/series.py OUTDIR [--windows 2000] [--steps 64] [--seed 0]

The series is two seasonal sines (periods 24 and 7.3) plus a slow drift and
Gaussian noise. Each window holds `steps` values as the input [steps, 1];
its target [steps, 10] holds, at every step t, the next 10 values after t
(the seed's sequence-to-sequence forecasting setup for the WaveNet stack).
The first 80% of windows (in time order) train, the rest validate.

    python3 examples/data/series.py --score PRED.npy OUTDIR

prints the MSE and MAE of the 10-step forecasts made at each window's last
step, against the naive forecast (repeat the last value).
"""
import argparse
import array
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from pcg64 import Generator  # noqa: E402
from seqio import Array, load_npy, save_npy  # noqa: E402

HORIZON = 10


def series(rng, n):
    noise = rng.standard_normal(n)
    s = [0.5 * math.sin(2 * math.pi * t / 24) + 0.3 * math.sin(2 * math.pi * t / 7.3) + 0.0005 * t
         + 0.05 * noise[t] for t in range(n)]
    return array.array("f", s)   # float32, rounded as numpy's astype rounds


def windows(s, first, count, steps):
    """Windows first..first+count-1: inputs [count, steps, 1] and targets
    [count, steps, HORIZON] (at step t, the HORIZON values after t)."""
    x, y = array.array("f"), array.array("f")
    for i in range(first, first + count):
        x.extend(s[i:i + steps])
        for t in range(steps):
            y.extend(s[i + t + 1:i + t + 1 + HORIZON])
    return Array((count, steps, 1), "<f4", x), Array((count, steps, HORIZON), "<f4", y)


def score(pred_path, outdir, max_ratio=None):
    x = load_npy(os.path.join(outdir, "val_x.npy"))
    y = load_npy(os.path.join(outdir, "val_y.npy"))
    p = load_npy(pred_path)
    if p.shape != y.shape:
        sys.exit("%s: shape %r, want %r (the targets' shape)" % (pred_path, p.shape, y.shape))
    n, steps = y.shape[0], y.shape[1]
    err = sq = nerr = nsq = 0.0
    for i in range(n):
        at = ((i + 1) * steps - 1) * HORIZON   # window i's last step
        last = x.data[(i + 1) * steps - 1]
        for k in range(HORIZON):
            want, got = y.data[at + k], p.data[at + k]
            err, sq = err + abs(got - want), sq + (got - want) ** 2
            nerr, nsq = nerr + abs(last - want), nsq + (last - want) ** 2
    count = n * HORIZON
    mse, mae, nmse, nmae = sq / count, err / count, nsq / count, nerr / count
    print(f"10-step forecast at the last step: MSE {mse:.5f} MAE {mae:.5f}; "
          f"naive last value: MSE {nmse:.5f} MAE {nmae:.5f}; ratio {mse / nmse:.3f}")
    if max_ratio is not None and mse / nmse > max_ratio:
        print(f"not better than {max_ratio} x the naive MSE", file=sys.stderr)
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir_or_pred")
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--score", action="store_true")
    ap.add_argument("--max-ratio", type=float, default=None)
    ap.add_argument("--windows", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.score:
        score(a.outdir_or_pred, a.outdir, a.max_ratio)
        return
    out = a.outdir_or_pred
    os.makedirs(out, exist_ok=True)
    s = series(Generator(a.seed), a.windows + a.steps + HORIZON)
    cut = int(a.windows * 0.8)
    x, y = windows(s, 0, cut, a.steps)
    save_npy(os.path.join(out, "x.npy"), x)
    save_npy(os.path.join(out, "y.npy"), y)
    x, y = windows(s, cut, a.windows - cut, a.steps)
    save_npy(os.path.join(out, "val_x.npy"), x)
    save_npy(os.path.join(out, "val_y.npy"), y)


if __name__ == "__main__":
    main()
