#!/usr/bin/python3
"""valgrind_examples.py SEQC OUTDIR MODEL.seq...: build each model's training
binary, make small random data of the shapes its --help declares, and run
one full `train --save` and one `predict` under valgrind memcheck. Fails
on any memcheck error or any definite/indirect leak.

OpenBLAS runs as one thread with the Haswell (AVX2) kernels: valgrind does
not decode AVX-512, and OPENBLAS_CORETYPE set means seqrt does not re-exec
itself (which valgrind would not follow).
"""
import os, re, subprocess, sys, time
import numpy as np

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
            "--quiet"]
# --track-origins=yes (add it by hand to find where an uninitialised value
# came from) doubles the run time and finds nothing more.
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OPENBLAS_CORETYPE="Haswell")
ROW = re.compile(r"^\s+(?:inputs|targets|outputs)?\s*(\S+)\s+\[N((?:, \w+)*)\] (int32|float32|float64)"
                 r"(?: in \[0, (\d+)\))?")


def declared(binary):
    """{'x': [...]} per section from the data block of --help."""
    text = subprocess.run([binary, "--help"], capture_output=True, text=True, env=ENV).stdout
    sec, out = None, {"inputs": [], "targets": [], "outputs": []}
    for line in text.splitlines():
        m = re.match(r"^\s+(inputs|targets|outputs)\s", line)
        if m:
            sec = m.group(1)
        elif not line.startswith("    ") or not line.strip():
            if sec and not line.strip():
                sec = None
        r = ROW.match(line)
        if sec and r:
            name, dims, dtype, limit = r.groups()
            dims = [d.strip() for d in dims.split(",") if d.strip()]
            out[sec].append((name, dims, dtype, int(limit) if limit else None))
    return out


def make(rng, dims, dtype, limit, n, axes):
    shape = [n] + [int(d) if d.isdigit() else axes.setdefault(d, 4 + len(axes)) for d in dims]
    if dtype == "int32":
        return rng.integers(0, limit or 2, size=shape).astype(np.int32)
    return rng.random(shape).astype(np.float32)


def run(cmd, what):
    t = time.time()
    p = subprocess.run(VALGRIND + cmd, capture_output=True, text=True, env=ENV)
    ok = p.returncode == 0
    print(f"  {what}: exit {p.returncode} in {time.time() - t:.1f}s", flush=True)
    if not ok:
        print(p.stdout[-2000:], p.stderr[-8000:], sep="\n")
    return ok


def main():
    seqc, outdir, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(7)
    failed = []
    for seq in models:
        name = os.path.splitext(os.path.basename(seq))[0]
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        binary = os.path.join(d, name)
        b = subprocess.run([seqc, "build", seq, "-o", binary], capture_output=True, text=True)
        if b.returncode != 0:
            print(f"{name}: does not build: {b.stderr.strip()}")
            continue
        io, axes = declared(binary), {}
        if not io["inputs"] or not io["outputs"]:
            print(f"{name}: cannot read the declared shapes from --help")
            failed.append(name)
            continue
        print(f"{name}:", flush=True)
        xs, ys = [], []
        for sec, acc in (("inputs", xs), ("targets", ys)):
            for (n, dims, dtype, limit) in io[sec]:
                p = os.path.join(d, f"{sec}_{n}.npy")
                np.save(p, make(rng, dims, dtype, limit, 6, axes))
                acc.append(f"{n}={p}")
        w = os.path.join(d, "w.safetensors")
        train = [binary, "train", "--epochs", "2", "--batch-size", "4", "--save", w, "--quiet"]
        for a in xs:
            train += ["--x", a]
        for a in ys:
            train += ["--y", a]
        outs = []
        for (n, _, _, _) in io["outputs"]:
            outs += ["--out", f"{n}={os.path.join(d, 'pred_' + n + '.npy')}"]
        predict = [binary, "predict", "--weights", w] + sum((["--x", a] for a in xs), []) + outs
        if not (run(train, "train") and run(predict, "predict")):
            failed.append(name)
    if failed:
        print("memcheck failed:", " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
