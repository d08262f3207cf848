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

import numpy as np


def encode(alphabet, windows, seq_len):
    out = np.zeros((len(windows), seq_len, len(alphabet)), dtype=np.float32)
    for row, w in enumerate(windows):
        for k, ch in enumerate(w):
            out[row, k, alphabet.index(ch)] = 1.0
    return out


def decode(pred_path, outdir):
    with open(os.path.join(outdir, "alphabet.txt")) as fh:
        lines = fh.read().split("\n")
    alphabet, tests = lines[0], [t for t in lines[1:] if t]
    pred = np.load(pred_path)
    for text, p in zip(tests, pred):
        print(text, "->", "".join(alphabet[k] for k in p.argmax(axis=-1)))


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
    rng = np.random.default_rng(a.seed)
    words = a.word * 50
    idx = rng.integers(n, len(words) - n * 2, size=a.samples)
    alphabet = sorted(set(a.word))
    f = [words[i:i + n] for i in idx]
    t = [words[i + n:i + 2 * n] for i in idx]
    if a.word == "goodbye!":
        tests = ["goo", "bye", "!go", "ye!"]
    else:
        tests = [(a.word * 3)[i:i + n] for i in range(len(a.word))]
    os.makedirs(a.outdir, exist_ok=True)
    np.save(os.path.join(a.outdir, "x.npy"), encode(alphabet, f, n))
    np.save(os.path.join(a.outdir, "y.npy"), encode(alphabet, t, n))
    np.save(os.path.join(a.outdir, "test_x.npy"), encode(alphabet, tests, n))
    with open(os.path.join(a.outdir, "alphabet.txt"), "w") as fh:
        fh.write("".join(alphabet) + "\n")
        fh.write("\n".join(tests) + "\n")


if __name__ == "__main__":
    main()
