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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from pcg64 import Generator  # noqa: E402
from seqio import Array, argmax, load_npy, save_npy  # noqa: E402

START, END, DIGITS = 6, 7, 6


def one_hot(seqs, n):
    out = [0.0] * (len(seqs) * len(seqs[0]) * n)
    at = 0
    for seq in seqs:
        for v in seq:
            out[at + v] = 1.0
            at += n
    return Array((len(seqs), len(seqs[0]), n), "<f4", out)


def make(rng, n, length):
    flat = rng.integers(0, DIGITS, (n, length))
    src = [flat[i:i + length] for i in range(0, len(flat), length)]
    ans = [s[::-1] for s in src]
    dec_in = [[START] + s[:-1] for s in ans]
    return one_hot(src, 10), one_hot(dec_in, 8), one_hot(ans, 8)


def ids(a):
    """[n, len, k] probabilities or one-hots as ids, or [n, len] ids as ints."""
    if len(a.shape) == 3:
        flat = [argmax(r) for r in a.rows()]
        return [flat[i:i + a.shape[1]] for i in range(0, len(flat), a.shape[1])]
    if len(a.shape) == 2:
        return [[int(v) for v in r] for r in a.rows()]
    sys.exit("decoded ids or probabilities must be [n, len] or [n, len, symbols], not %r"
             % (a.shape,))


def score(decoded_path, outdir):
    want = ids(load_npy(os.path.join(outdir, "test_target.npy")))
    got = [g[:len(want[0])] for g in ids(load_npy(decoded_path))]
    if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want)):
        sys.exit("%s: %d decodings of %d steps for %d test sequences of %d"
                 % (decoded_path, len(got), len(got[0]) if got else 0, len(want), len(want[0])))
    exact = sum(g == w for g, w in zip(got, want)) / len(want)
    symbols = sum(x == y for g, w in zip(got, want) for x, y in zip(g, w)) / (len(want) * len(want[0]))
    print(f"exact-sequence accuracy: {exact:.4f} on {len(want)} test sequences "
          f"(symbols: {symbols:.4f})")
    for i in range(3):
        print(f"  {_show(want[i][::-1])} -> {_show(got[i])} (want {_show(want[i])})")
    return exact


def _show(seq):
    """A row as numpy prints a small integer array: [5 0 3 1 2]."""
    return "[" + " ".join(str(v) for v in seq) + "]"


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
    rng = Generator(a.seed)
    enc, dec, tgt = make(rng, a.train, a.len)
    save_npy(os.path.join(out, "enc.npy"), enc)
    save_npy(os.path.join(out, "dec.npy"), dec)
    save_npy(os.path.join(out, "target.npy"), tgt)
    enc, _, tgt = make(rng, a.test, a.len)
    save_npy(os.path.join(out, "test_enc.npy"), enc)
    save_npy(os.path.join(out, "test_target.npy"), tgt)


if __name__ == "__main__":
    main()
