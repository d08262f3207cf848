#!/usr/bin/env python3
"""letters.py: the seed's next-letter task, end to end, as a user runs it.

    letters.py SEQC MODEL.seq WORD WORKDIR [--seeds 5] [--epochs 300]

For each seed: make the seed's data (100 random windows of 3 letters, the
data script seeded too), `seqc build` the model, train it with the seed's
settings (adam, learning rate 0.001, batch 32) for --epochs, predict the
test windows and check every letter whose answer the inputs seen so far
determine (the RNN reads left to right: at step t it has seen letters
0..t only). Also checks that training twice with one seed writes
byte-identical weights. Exits 1 unless every seed passes.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "examples", "data", "letters.py")


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def determined(word, window, t):
    """The letter 3 after window[t], if the prefix window[:t+1] fixes it."""
    n, text = len(word), word * 4
    answers = {text[i + t + 3] for i in range(n) if text[i:i + t + 1] == window[:t + 1]}
    return answers.pop() if len(answers) == 1 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("seqc")
    ap.add_argument("model")
    ap.add_argument("word")
    ap.add_argument("workdir")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=300)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    binary = os.path.join(a.workdir, "model")
    run(a.seqc, "build", a.model, "-o", binary)
    passed = 0
    for seed in range(1, a.seeds + 1):
        d = os.path.join(a.workdir, f"seed{seed}")
        run(sys.executable, DATA, a.word, d, "--seed", str(seed))
        w = os.path.join(d, "w.safetensors")
        run(binary, "train", "--x", f"{d}/x.npy", "--y", f"{d}/y.npy", "--epochs", str(a.epochs),
            "--seed", str(seed), "--quiet", "--save", w)
        run(binary, "predict", "--weights", w, "--x", f"{d}/test_x.npy", "--out", f"{d}/p.npy")
        lines = open(f"{d}/alphabet.txt").read().split("\n")
        alphabet, tests = lines[0], [t for t in lines[1:] if t]
        pred = np.load(f"{d}/p.npy").argmax(-1)
        ok, checked, shown = True, 0, []
        for window, p in zip(tests, pred):
            got = "".join(alphabet[k] for k in p)
            shown.append(f"{window}->{got}")
            for t in range(3):
                want = determined(a.word, window, t)
                if want is not None:
                    checked += 1
                    ok &= got[t] == want
        print(f"seed {seed}: {' '.join(shown)} ({checked} determined letters) {'OK' if ok else 'WRONG'}")
        passed += ok
    # Same seed, same data: the same bytes.
    d = os.path.join(a.workdir, "seed1")
    again = os.path.join(d, "again.safetensors")
    run(binary, "train", "--x", f"{d}/x.npy", "--y", f"{d}/y.npy", "--epochs", str(a.epochs),
        "--seed", "1", "--quiet", "--save", again)
    same = open(again, "rb").read() == open(os.path.join(d, "w.safetensors"), "rb").read()
    print(f"{a.word}: {passed} of {a.seeds} seeds correct; repeat run bit-identical: {same}")
    sys.exit(0 if passed == a.seeds and same else 1)


if __name__ == "__main__":
    main()
