#!/usr/bin/env python3
"""letters.py: the seed notebook's next-letter data set, as .npy files.

    python3 examples/data/letters.py goodbye! OUTDIR [--seed N] [--samples 100]

Writes OUTDIR/x.npy and OUTDIR/y.npy (float32, [samples, 3, letters],
one-hot): 100 random windows of 3 letters from the word repeated 50 times,
and the 3 letters after each window, exactly as the seed's make_dataset
does. The alphabet is the sorted set of the word's letters (the seed's
list(set(word)) order changes between Python runs; sorting fixes it).
Also writes OUTDIR/test_x.npy with the seed's test inputs ('goo', 'bye',
'!go', 'ye!' for goodbye!, or every window of the word otherwise) and
OUTDIR/alphabet.txt.

    python3 examples/data/letters.py --decode PRED.npy OUTDIR

prints each test input with the letters a model predicted for it
(PRED.npy holds probabilities [samples, 3, letters]).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from pcg64 import Generator  # noqa: E402
from seqio import Array, argmax, load_npy, save_npy  # noqa: E402


def encode(alphabet, windows, seq_len):
    n = len(alphabet)
    out = [0.0] * (len(windows) * seq_len * n)
    for row, w in enumerate(windows):
        for k, ch in enumerate(w):
            out[(row * seq_len + k) * n + alphabet.index(ch)] = 1.0
    return Array((len(windows), seq_len, n), "<f4", out)


def decode(pred_path, outdir):
    with open(os.path.join(outdir, "alphabet.txt")) as fh:
        lines = fh.read().split("\n")
    alphabet, tests = lines[0], [t for t in lines[1:] if t]
    pred = load_npy(pred_path)
    steps = pred.shape[1] if len(pred.shape) == 3 else 1
    rows = pred.rows()
    for i, text in enumerate(tests[:pred.shape[0]]):
        print(text, "->", "".join(alphabet[argmax(p)] for p in rows[i * steps:(i + 1) * steps]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("word", help="the word, or with --decode the predictions .npy")
    ap.add_argument("outdir")
    ap.add_argument("--decode", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--seq-len", type=int, default=3)
    a = ap.parse_args()
    if a.decode:
        decode(a.word, a.outdir)
        return
    n = a.seq_len
    words = a.word * 50
    idx = Generator(a.seed).integers(n, len(words) - n * 2, a.samples)
    alphabet = sorted(set(a.word))
    f = [words[i:i + n] for i in idx]
    t = [words[i + n:i + 2 * n] for i in idx]
    if a.word == "goodbye!":
        tests = ["goo", "bye", "!go", "ye!"]
    else:
        tests = [(a.word * 3)[i:i + n] for i in range(len(a.word))]
    os.makedirs(a.outdir, exist_ok=True)
    save_npy(os.path.join(a.outdir, "x.npy"), encode(alphabet, f, n))
    save_npy(os.path.join(a.outdir, "y.npy"), encode(alphabet, t, n))
    save_npy(os.path.join(a.outdir, "test_x.npy"), encode(alphabet, tests, n))
    with open(os.path.join(a.outdir, "alphabet.txt"), "w") as fh:
        fh.write("".join(alphabet) + "\n")
        fh.write("\n".join(tests) + "\n")


if __name__ == "__main__":
    main()
