#!/usr/bin/env python3
"""text_resume.py: a --text run of a stateful model, Ctrl-C'd mid-epoch and
resumed, ends with the same weights as the uninterrupted run, byte for byte.

    text_resume.py SEQC CHAR_GRU_SEQ WORKDIR

The checkpoint written on SIGINT carries the streams' carried GRU states
(tensor train.states) besides the step; without them the resumed epoch
would restart its streams from zero states and drift (issue 11, item 6).

No clock is involved: SIGINT goes after an event (the first epoch's line on
stdout), and the run cannot end before it arrives, because its stdout is a
one-page pipe that the test stops reading (the uninterrupted run prints more
than the pipe holds before its last epoch; checked).
"""
import os
import random
import re
import subprocess
import sys

from interrupt import sigint_after_first_epoch


def run(*cmd, status=0):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}, wanted {status}): {' '.join(map(str, cmd))}\n"
                 f"{r.stdout[-2000:]}\n{r.stderr}")
    return r


def make_text(path):
    """Deterministic prose-like bytes over a small alphabet."""
    rng = random.Random(7)
    words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "home"]
    out = []
    while sum(len(w) + 1 for w in out) < 2600:
        out.append(rng.choice(words))
    with open(path, "w") as f:
        f.write(" ".join(out) + ".\n")


def main():
    seqc, seq, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    for f in os.listdir(work):
        if f.endswith(".safetensors"):
            os.remove(os.path.join(work, f))
    binary = os.path.join(work, "char_gru")
    run(seqc, "build", seq, "-o", binary)
    text = os.path.join(work, "text.txt")
    make_text(text)
    p = lambda x: os.path.join(work, x)
    args = ["--text", text, "--bptt", "16", "--batch-size", "4", "--epochs", "100",
            "--validation-split", "0.1", "--seed", "5", "--lr", "0.002"]

    ref = run(binary, "train", *args, "--save", p("a.safetensors")).stdout
    status, err, _ = sigint_after_first_epoch(
        [binary, "train", *args, "--save", p("b.safetensors"), "--checkpoint", p("b.ckpt.safetensors")],
        ref)
    if status != 130 or "checkpoint saved to" not in err:
        sys.exit(f"FAILED: SIGINT: status {status}, stderr {err!r}")
    m = re.search(r"interrupted at epoch (\d+), step (\d+) of (\d+)", err)
    if not m:
        sys.exit(f"FAILED: no 'interrupted at epoch E, step S of N' in {err!r}")
    epoch, step, steps = map(int, m.groups())
    print(f"SIGINT: stopped at epoch {epoch}, step {step} of {steps}")
    # The stop is at the first step boundary after the signal, which comes
    # right after epoch 1's line: a stop at an epoch's last step would not
    # exercise the carried states (it cannot happen with this many steps
    # unless the signal were lost).
    if step >= steps:
        sys.exit(f"FAILED: stopped at the end of an epoch ({step} of {steps}), not mid-epoch")

    run(binary, "train", *args, "--save", p("b.safetensors"), "--resume", p("b.ckpt.safetensors"))
    a, b = (open(p(x), "rb").read() for x in ("a.safetensors", "b.safetensors"))
    if a != b:
        sys.exit("FAILED: the resumed --text run's weights differ from the uninterrupted run's")
    print("text resume: byte-identical weights after a mid-epoch Ctrl-C")


if __name__ == "__main__":
    main()
