#!/usr/bin/env python3
"""Every layer kind in the compiler's op table has the tests and docs
docs/internals.md asks of it, or says in its OpInfo why it cannot.

For each kind the ``seq_op_table`` program lists (compiler/ops/ops.c):
  doc section     a "### " heading of docs/language.md naming it
  gradient check  a model of the gradient checks (gradcheck_*: the codegen
                  examples and tests/models/*.seq, given by CMake) calls it
  mask rule       a padded-batch case of tests/crosscheck/padding_equivalence.py
                  calls it, or OpInfo.mask_note says why none can
  streaming       it has a step hook and a model of the inference tests
                  (inference_*: tests/infer/streaming.seq and the examples,
                  given by CMake) calls it; or it has no step hook and
                  OpInfo.step_note says why it cannot stream
A kind with a step hook and a step_note, or with neither, fails too.

usage: op_table_coverage.py OP_TABLE SOURCE_DIR GRADCHECK_MODELS STREAMING_MODELS
(the model lists ';'-separated, as CMake writes them)
"""
import os
import re
import sys


def op_table(lines):
    """[{name, rule, mask_note, step, step_note}] from seq_op_table's output."""
    ops = []
    for line in lines:
        name, rule, mask_note, step, step_note = line.split("\t")
        ops.append({"name": name, "rule": rule, "mask_note": mask_note,
                    "step": step == "step", "step_note": step_note})
    return ops


def doc_headings(text):
    return [line for line in text.splitlines() if line.startswith("### ")]


def padded_cases(src):
    """The model files of padding_equivalence.py's CASES."""
    with open(os.path.join(src, "tests", "crosscheck", "padding_equivalence.py")) as f:
        names = re.findall(r'"seq":\s*"([\w.]+)"', f.read())
    return [os.path.join(src, "tests", "crosscheck", "models", n) for n in names]


def calls(name, texts):
    """The files among texts ({path: text}) that call the layer kind."""
    pat = re.compile(r"\b%s\(" % re.escape(name))
    return sorted(os.path.basename(p) for p, t in texts.items()
                  if pat.search("\n".join(l.split("#")[0] for l in t.splitlines())))


def check(ops, headings, grad, padded, stream):
    """(name, what is missing) for each gap."""
    gaps = []
    for op in ops:
        n = op["name"]
        if not any(re.search(r"\b%s\b" % re.escape(n), h) for h in headings):
            gaps.append((n, "no section in docs/language.md (a '### ' heading naming it)"))
        if not calls(n, grad):
            gaps.append((n, "no gradient-check model (examples or tests/models/*.seq) calls it"))
        if not calls(n, padded) and not op["mask_note"]:
            gaps.append((n, "no padded-batch case (padding_equivalence.py) and no "
                            "OpInfo.mask_note saying why"))
        if op["step"] and op["step_note"]:
            gaps.append((n, "has a step hook and an OpInfo.step_note saying it cannot stream"))
        elif op["step"] and not calls(n, stream):
            gaps.append((n, "streams (OpInfo.step) but no inference test model calls it"))
        elif not op["step"] and not op["step_note"]:
            gaps.append((n, "no step hook and no OpInfo.step_note saying why it cannot stream"))
    return gaps


def self_test():
    """The check must catch each gap it is for, and pass a complete kind."""
    good = {"name": "Good", "rule": "propagate", "mask_note": "", "step": True, "step_note": ""}
    bare = {"name": "Bare", "rule": "propagate", "mask_note": "", "step": False, "step_note": ""}
    both = dict(good, name="Both", step_note="cannot")
    model = {"m.seq": "y = Good(3)(x)\ny = Both(3)(x)\n# Bare(2) in a comment only\n"}
    gaps = check([good, bare, both], ["### Good, Both"], model, model, model)
    want = {("Bare", "docs"), ("Bare", "gradient"), ("Bare", "padded"), ("Bare", "no step"),
            ("Both", "has a step")}
    got = {(n, w) for n, msg in gaps for (m, w) in want if m == n and w in msg}
    assert got == want and len(gaps) == len(want), gaps


def read_all(paths):
    texts = {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            texts[p] = f.read()
    return texts


def main():
    import subprocess
    table, src, grad_list, stream_list = sys.argv[1:5]
    self_test()
    out = subprocess.run([table], capture_output=True, text=True, check=True).stdout
    ops = op_table(out.splitlines())
    with open(os.path.join(src, "docs", "language.md"), encoding="utf-8") as f:
        headings = doc_headings(f.read())
    grad = read_all(p for p in grad_list.split(";") if p)
    padded = read_all(padded_cases(src))
    stream = read_all(p for p in stream_list.split(";") if p)
    for op in ops:
        n = op["name"]
        print("%-18s grad: %-22s mask: %-22s stream: %s" % (
            n, ",".join(calls(n, grad)[:2]) or "-",
            ",".join(calls(n, padded)[:2]) or "note: " + op["mask_note"][:20],
            ",".join(calls(n, stream)[:2]) if op["step"] else "note: " + op["step_note"]))
    gaps = check(ops, headings, grad, padded, stream)
    for n, msg in gaps:
        print("%s: %s" % (n, msg))
    if not gaps:
        print("%d layer kinds: each has its doc section, gradient check, mask rule case "
              "(or note) and streaming test (or note)" % len(ops))
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
