#!/usr/bin/env python3
"""make_series.py: a synthetic seasonal series as a CSV file, for --csv.

    python3 examples/forecast/make_series.py OUT.csv [--n 1500] [--seed 0]

Two seasonal sines (periods 24 and 7.3), a slow drift and Gaussian noise,
one value per "hour", written with a quoted header and CRLF line ends (as
spreadsheets write them): columns "hour" and "load". Standard library only.
"""
import argparse
import math
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with open(a.out, "w", newline="") as fh:
        fh.write('"hour","load"\r\n')
        for t in range(a.n):
            v = (10 + 5 * math.sin(2 * math.pi * t / 24) + 3 * math.sin(2 * math.pi * t / 7.3)
                 + 0.005 * t + 0.5 * rng.gauss(0, 1))
            fh.write(f"{t},{v:.4f}\r\n")


if __name__ == "__main__":
    main()
