#!/usr/bin/env python3
"""tasks.py: examples that must learn something checkable, end to end.

    tasks.py reverse  SEQC MODEL.seq WORKDIR [--epochs N]   seq2seq: >= 95% exact
    tasks.py longer   SEQC MODEL.seq WORKDIR [--epochs N]   attention >= plain
    tasks.py forecast SEQC MODEL.seq WORKDIR [--epochs N]   WaveNet: beats naive

reverse: make the digit-reversal data (examples/data/reverse.py), build and
train the model, greedy-decode the test set with the binary's `decode`
command and require at least 95% of sequences exactly right.
longer: on reversals of 12 digits, train seq2seq.seq and MODEL.seq (the
attention seq2seq) with the same data and budget; the attention model's
greedy decodings must be at least as accurate, symbol by symbol and as
whole sequences.
forecast: make the seasonal series (examples/data/series.py), build and
train the model, predict the validation windows and require the 10-step
forecast's MSE below half the naive last-value forecast's.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "examples", "data")


def run(*cmd):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, cmd))}\n{r.stderr}")


def reverse(a, binary, w):
    d = os.path.join(a.workdir, "data")
    run(sys.executable, os.path.join(DATA, "reverse.py"), d, "--train", "4000", "--seed", "1")
    run(binary, "train", "--x", f"encoder_inputs={d}/enc.npy", "--x", f"decoder_inputs={d}/dec.npy",
        "--y", f"{d}/target.npy", "--epochs", a.epochs or 15, "--seed", "1", "--quiet", "--save", w)
    out = os.path.join(a.workdir, "decoded.npy")
    run(binary, "decode", "--weights", w, "--x", f"encoder_inputs={d}/test_enc.npy",
        "--max-len", "5", "--out", out)
    run(sys.executable, os.path.join(DATA, "reverse.py"), "--score", out, d, "--min-accuracy", "0.95")


def accuracy(decoded, outdir):
    import numpy as np
    want = np.load(os.path.join(outdir, "test_target.npy")).argmax(-1)
    got = np.load(decoded).argmax(-1)
    return (got == want).mean(), (got == want).all(axis=1).mean()


def longer(a, binary, w):
    d = os.path.join(a.workdir, "data")
    run(sys.executable, os.path.join(DATA, "reverse.py"), d, "--len", "12", "--train", "6000",
        "--seed", "2")
    plain = os.path.join(a.workdir, "plain")
    run(a.seqc, "build", os.path.join(os.path.dirname(a.model), "seq2seq.seq"), "-o", plain)
    scores = {}
    for name, b in (("seq2seq", plain), ("attention", binary)):
        wf = os.path.join(a.workdir, name + ".safetensors")
        run(b, "train", "--x", f"encoder_inputs={d}/enc.npy", "--x", f"decoder_inputs={d}/dec.npy",
            "--y", f"{d}/target.npy", "--epochs", a.epochs or 20, "--seed", "1", "--quiet", "--save", wf)
        out = os.path.join(a.workdir, name + ".npy")
        run(b, "decode", "--weights", wf, "--x", f"encoder_inputs={d}/test_enc.npy", "--max-len", "12",
            "--out", out)
        scores[name] = accuracy(out, d)
        print(f"{name}: symbols {scores[name][0]:.4f}, exact sequences {scores[name][1]:.4f}")
    if scores["attention"][0] < scores["seq2seq"][0] or scores["attention"][1] < scores["seq2seq"][1]:
        sys.exit("FAILED: the attention seq2seq learned less than the plain one")


def forecast(a, binary, w):
    d = os.path.join(a.workdir, "data")
    run(sys.executable, os.path.join(DATA, "series.py"), d, "--windows", "1000", "--seed", "1")
    run(binary, "train", "--x", f"{d}/x.npy", "--y", f"{d}/y.npy", "--epochs", a.epochs or 20,
        "--seed", "1", "--quiet", "--save", w)
    out = os.path.join(a.workdir, "pred.npy")
    run(binary, "predict", "--weights", w, "--x", f"{d}/val_x.npy", "--out", out)
    run(sys.executable, os.path.join(DATA, "series.py"), "--score", out, d, "--max-ratio", "0.5")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["reverse", "longer", "forecast"])
    ap.add_argument("seqc")
    ap.add_argument("model")
    ap.add_argument("workdir")
    ap.add_argument("--epochs", default=None)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    binary = os.path.join(a.workdir, "model")
    run(a.seqc, "build", a.model, "-o", binary)
    w = os.path.join(a.workdir, "w.safetensors")
    {"reverse": reverse, "longer": longer, "forecast": forecast}[a.task](a, binary, w)
    print(f"{a.task} {os.path.basename(a.model)}: OK")


if __name__ == "__main__":
    main()
