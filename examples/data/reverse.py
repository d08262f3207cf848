#!/usr/bin/env python3
"""reverse.py: a checkable task for examples/seq2seq.seq, reversing digits.

    python3 examples/data/reverse.py OUTDIR [--train 8000] [--test 500] [--len 5] [--seed 0]

The encoder reads a sequence of digits 0-5, one-hot over 10 features (the
seed model's encoder width); the decoder writes it reversed, one-hot over 8
symbols: the digits 0-5, START (6) and END (7). Teacher forcing: the
decoder's input is START followed by the answer shifted right by one.

Writes OUTDIR/{enc,dec,target}.npy (training) and OUTDIR/test_{enc,target}.npy.

    python3 examples/data/reverse.py --score DECODED.npy OUTDIR

compares greedy decodings (probabilities [n, len, 8] or ids [n, len]) with
the test answers and prints the exact-sequence accuracy.
"""
import argparse
import os
import sys

import numpy as np

START, END, DIGITS = 6, 7, 6


def one_hot(ids, n):
    out = np.zeros(ids.shape + (n,), dtype=np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def make(rng, n, length):
    src = rng.integers(0, DIGITS, size=(n, length))
    ans = src[:, ::-1]
    dec_in = np.concatenate([np.full((n, 1), START), ans[:, :-1]], axis=1)
    return one_hot(src, 10), one_hot(dec_in, 8), one_hot(ans, 8)


def score(decoded_path, outdir):
    want = np.load(os.path.join(outdir, "test_target.npy")).argmax(-1)
    got = np.load(decoded_path)
    if got.ndim == 3:
        got = got.argmax(-1)
    got = got[:, :want.shape[1]].astype(int)
    exact = (got == want).all(axis=1).mean()
    print(f"exact-sequence accuracy: {exact:.4f} on {len(want)} test sequences "
          f"(symbols: {(got == want).mean():.4f})")
    for i in range(3):
        print(f"  {want[i][::-1]} -> {got[i]} (want {want[i]})")
    return exact


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir_or_decoded")
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--score", action="store_true")
    ap.add_argument("--train", type=int, default=8000)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--len", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-accuracy", type=float, default=None)
    a = ap.parse_args()
    if a.score:
        acc = score(a.outdir_or_decoded, a.outdir)
        if a.min_accuracy is not None and acc < a.min_accuracy:
            print(f"below the required {a.min_accuracy}", file=sys.stderr)
            sys.exit(1)
        return
    out = a.outdir_or_decoded
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    enc, dec, tgt = make(rng, a.train, a.len)
    np.save(os.path.join(out, "enc.npy"), enc)
    np.save(os.path.join(out, "dec.npy"), dec)
    np.save(os.path.join(out, "target.npy"), tgt)
    enc, _, tgt = make(rng, a.test, a.len)
    np.save(os.path.join(out, "test_enc.npy"), enc)
    np.save(os.path.join(out, "test_target.npy"), tgt)


if __name__ == "__main__":
    main()
