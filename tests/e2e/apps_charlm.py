#!/usr/bin/env python3
"""apps_charlm.py: a character-level language model from a text, end to end.

    apps_charlm.py SEQC MODEL.seq WORKDIR [TEXT]

Builds the model (examples/charlm/char_gru.seq), trains it with --text on
a license text Debian ships (stateful streams, truncated BPTT), and
requires the validation bits per character to fall at least 1 bit below
the unigram entropy of the text, and text generated at low temperature to
consist mostly (>= 70%) of words of the training text. Generation with a
seed repeats exactly; a prime byte outside the vocabulary is an error.
"""
import os
import re
import subprocess
import sys

TEXT = "/usr/share/common-licenses/GPL-3"


def run(*cmd, status=0):
    r = subprocess.run([str(c) for c in cmd], capture_output=True)
    out = r.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}): {' '.join(map(str, cmd))}\n{r.stderr.decode()}")
    return out, r.stderr.decode("utf-8", "replace")


def main():
    seqc, model, work = sys.argv[1:4]
    text = sys.argv[4] if len(sys.argv) > 4 else TEXT
    os.makedirs(work, exist_ok=True)
    binary, w = os.path.join(work, "charlm"), os.path.join(work, "charlm.safetensors")
    run(seqc, "build", model, "-o", binary)
    out, _ = run(binary, "train", "--text", text, "--bptt", "64", "--batch-size", "16", "--epochs", "12",
                 "--seed", "1", "--save", w, "--log", os.path.join(work, "history.csv"))
    m = re.search(r"= ([\d.]+) bits per character; unigram entropy of the training text ([\d.]+)", out)
    if not m:
        sys.exit("FAILED: no bits-per-character report")
    bpc, unigram = float(m.group(1)), float(m.group(2))
    print(f"validation {bpc} bits/char vs unigram entropy {unigram}")
    if not bpc < unigram - 1.0:
        sys.exit("FAILED: bits per character not well below the unigram entropy")
    gen, _ = run(binary, "generate", "--weights", w, "--prime", "The ", "--length", "400",
                 "--temperature", "0.3", "--seed", "7")
    again, _ = run(binary, "generate", "--weights", w, "--prime", "The ", "--length", "400",
                   "--temperature", "0.3", "--seed", "7")
    if gen != again:
        sys.exit("FAILED: the same seed generated different text")
    vocab = set(re.findall(r"[a-z]+", open(text, encoding="utf-8", errors="replace").read().lower()))
    words = re.findall(r"[a-z]+", gen.lower())
    known = sum(x in vocab for x in words) / max(len(words), 1)
    print(f"{len(words)} generated words, {100 * known:.0f}% of them words of the text")
    if len(words) < 20 or known < 0.7:
        sys.exit("FAILED: generated text is not mostly words of the training text")
    run(binary, "generate", "--weights", w, "--prime", "Th\u00e9", "--length", "5", status=1)
    print("apps_charlm: OK")


if __name__ == "__main__":
    main()
