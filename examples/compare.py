#!/usr/bin/env python3
"""compare.py: train several forecasters on the same series and tabulate them.

    python3 examples/compare.py MODEL.seq... [--csv FILE --column NAME]
            [--window 24] [--epochs 30] [--seed 1] [--seqc build/compiler/seqc]
            [--work build/compare]

Each model is built with `seqc build`, trained with the same data, split,
seed and budget (--csv, the last 20% of the windows validating), and the
table shows the final validation MAE (in the series' units, the naive
last-value forecast's beside it), the mean time per epoch and the number
of parameters. Without --csv: the sunspot numbers from python3-statsmodels.
Standard library only; used by compare_cells.sh and compare_rnn_cnn.sh.
"""
import argparse
import csv
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUNSPOTS = "/usr/lib/python3/dist-packages/statsmodels/datasets/sunspots/sunspots.csv"


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--csv", default=SUNSPOTS)
    ap.add_argument("--column", default="SUNACTIVITY")
    ap.add_argument("--window", default="24")
    ap.add_argument("--epochs", default="30")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--seqc", default=os.path.join(HERE, "..", "build", "compiler", "seqc"))
    ap.add_argument("--work", default=os.path.join(HERE, "..", "build", "compare"))
    a = ap.parse_args()
    if not os.path.exists(a.csv):
        sys.exit(f"{a.csv} is missing (apt-get install python3-statsmodels, or give --csv FILE --column NAME)")
    os.makedirs(a.work, exist_ok=True)
    rows = []
    for seq in a.models:
        name = os.path.splitext(os.path.basename(seq))[0]
        binary, log = os.path.join(a.work, name), os.path.join(a.work, name + ".csv")
        run([a.seqc, "build", seq, "-o", binary])
        params = int(re.search(r"Total params: ([\d,]+)", run([a.seqc, "summary", seq])).group(1).replace(",", ""))
        out = run([binary, "train", "--csv", a.csv, "--column", a.column, "--window", a.window,
                   "--epochs", a.epochs, "--seed", a.seed, "--log", log,
                   "--save", os.path.join(a.work, name + ".safetensors")])
        m = re.search(r"MAE\s+([\d.]+)\s+RMSE\s+([\d.]+)\n\s+naive \(last value\)\s+MAE\s+([\d.]+)", out)
        secs = [float(r["seconds"]) for r in csv.DictReader(open(log))]
        rows.append((name, float(m.group(1)), float(m.group(2)), float(m.group(3)), sum(secs) / len(secs), params))
        print(f"trained {name}", file=sys.stderr)
    print(f"{a.column} from {os.path.basename(a.csv)}, window {a.window}, {a.epochs} epochs, seed {a.seed}; "
          f"validation = the last 20% of the windows")
    print(f"{'model':<18} {'val MAE':>9} {'val RMSE':>9} {'naive MAE':>10} {'s/epoch':>8} {'params':>8}")
    for name, mae, rmse, naive, sec, params in rows:
        print(f"{name:<18} {mae:>9.3f} {rmse:>9.3f} {naive:>10.3f} {sec:>8.3f} {params:>8,}")


if __name__ == "__main__":
    main()
