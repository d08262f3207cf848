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
import os
import sys

import numpy as np

HORIZON = 10


def series(rng, n):
    t = np.arange(n, dtype=np.float64)
    s = 0.5 * np.sin(2 * np.pi * t / 24) + 0.3 * np.sin(2 * np.pi * t / 7.3) + 0.0005 * t
    return (s + 0.05 * rng.standard_normal(n)).astype(np.float32)


def windows(s, count, steps):
    x = np.zeros((count, steps, 1), np.float32)
    y = np.zeros((count, steps, HORIZON), np.float32)
    for i in range(count):
        x[i, :, 0] = s[i:i + steps]
        for k in range(HORIZON):
            y[i, :, k] = s[i + 1 + k:i + 1 + k + steps]
    return x, y


def score(pred_path, outdir, max_ratio=None):
    x = np.load(os.path.join(outdir, "val_x.npy"))
    y = np.load(os.path.join(outdir, "val_y.npy"))
    p = np.load(pred_path)
    want, got = y[:, -1, :], p[:, -1, :]
    naive = np.repeat(x[:, -1, :], HORIZON, axis=1)
    mse, mae = ((got - want) ** 2).mean(), np.abs(got - want).mean()
    nmse, nmae = ((naive - want) ** 2).mean(), np.abs(naive - want).mean()
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
    rng = np.random.default_rng(a.seed)
    s = series(rng, a.windows + a.steps + HORIZON)
    x, y = windows(s, a.windows, a.steps)
    cut = int(a.windows * 0.8)
    np.save(os.path.join(out, "x.npy"), x[:cut])
    np.save(os.path.join(out, "y.npy"), y[:cut])
    np.save(os.path.join(out, "val_x.npy"), x[cut:])
    np.save(os.path.join(out, "val_y.npy"), y[cut:])


if __name__ == "__main__":
    main()
