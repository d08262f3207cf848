#!/usr/bin/env python3
"""check_inference.py: the inference library against the training program.

    check_inference.py SEQC MODEL.seq WORKDIR

Builds the model's training program and its inference library (seqc emit
--inference), trains one epoch on random data to get weights, then runs the
same inputs through `predict` and through the library, both whole-sequence
(NAME_infer_sequence) and one step at a time (NAME_infer_step), and requires
float32 agreement (1e-5 relative to each output's scale).
"""
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import seqc_torch  # noqa: E402  (its safetensors reader)

N, T = 3, 9


def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, cmd))}\n{r.stdout}{r.stderr}")
    return r.stdout


def arrays(help_text, kind):
    """[(name, shape with N and T, is_int)] from the binary's --help."""
    out, section = [], None
    for line in help_text.splitlines():
        m = re.match(r"\s+(inputs|targets|outputs)?\s*(\w+)\s+\[N((?:, \w+)*)\] (float32|int32)", line)
        if m:
            if m.group(1):
                section = m.group(1)
            if section == kind:
                dims = [int(d) if d.isdigit() else T for d in m.group(3).split(", ")[1:]]
                out.append((m.group(2), [N] + dims, m.group(4) == "int32"))
    return out


def driver(model, ins, outs, stateful):
    """A C program: params, then each input, from raw files; outputs of the
    whole-sequence call and of the step loop to raw files."""
    a = [f"in{i}" for i in range(len(ins))]
    lines = [f'#include <stdio.h>', '#include <stdlib.h>', '#include <string.h>', f'#include "{model}_infer.h"',
             'static void *slurp(const char *p, size_t n) { void *b = malloc(n); FILE *f = fopen(p, "rb");',
             '  if (!f || fread(b, 1, n, f) != n) { perror(p); exit(1); } fclose(f); return b; }',
             'static void spill(const char *p, const void *b, size_t n) { FILE *f = fopen(p, "wb");',
             '  if (!f || fwrite(b, 1, n, f) != n) { perror(p); exit(1); } fclose(f); }',
             'int main(int argc, char **argv) {', '  (void)argc;',
             f'  float *params = slurp(argv[1], sizeof(float) * {model}_INFER_PARAMS);',
             f'  static {model}_infer s, twin;', f'  {model}_infer_init(&twin, params);']
    for i, (name, shape, is_int) in enumerate(ins):
        ty = "int32_t" if is_int else "float"
        lines.append(f'  {ty} *{a[i]} = slurp(argv[{2 + i}], sizeof({ty}) * {int(np.prod(shape))});')
    for j, (name, shape, _) in enumerate(outs):
        size = int(np.prod(shape))
        lines.append(f'  float *seq{j} = calloc({size}, sizeof(float)), *stp{j} = calloc({size}, sizeof(float));')
    lines.append(f'  {model}_infer_init(&s, params);')
    per = [int(np.prod(shape[1:])) for _, shape, _ in ins]
    per_out = [int(np.prod(shape[1:])) for _, shape, _ in outs]
    for n in range(N):
        args = ", ".join([f"{a[i]} + {n * per[i]}" for i in range(len(ins))] + [str(T)] +
                         [f"seq{j} + {n * per_out[j]}" for j in range(len(outs))])
        if not stateful:  # a stateful model carries its state from sample to sample
            lines.append(f'  {model}_infer_sequence(&s, {args});')
            lines.append(f'  {model}_infer_reset(&s);')
        lines.append(f'  for (int t = 0; t < {T}; t++) {{')
        step_args = []
        for i, (name, shape, is_int) in enumerate(ins):
            w = per[i] // T if len(shape) > 1 and shape[1] == T else per[i]
            step_args.append(f"{a[i]} + {n * per[i]} + t * {w}" if len(shape) > 1 and shape[1] == T else f"{a[i]} + {n * per[i]}")
        for j, (name, shape, _) in enumerate(outs):
            seq = len(shape) > 2 and shape[1] == T
            w = per_out[j] // T if seq else per_out[j]
            step_args.append(f"stp{j} + {n * per_out[j]}" + (f" + t * {w}" if seq else ""))
        lines.append(f'    {model}_infer_step(&s, {", ".join(step_args)});')
        if stateful:
            lines.append(f'    {model}_infer_step(&twin, {", ".join(step_args).replace("stp", "seq")});')
        lines.append('  }')
    for j, (name, shape, _) in enumerate(outs):
        size = int(np.prod(shape))
        lines.append(f'  spill(argv[{2 + len(ins) + 2 * j}], seq{j}, sizeof(float) * {size});')
        lines.append(f'  spill(argv[{3 + len(ins) + 2 * j}], stp{j}, sizeof(float) * {size});')
    lines.append('  return 0;')
    lines.append('}')
    return "\n".join(lines) + "\n"


def main():
    seqc, model_path, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    binary = os.path.join(work, "train")
    run(seqc, "build", model_path, "-o", binary)
    run(seqc, "emit", "--inference", model_path, "-o", work)
    help_text = run(binary, "--help")
    model = re.search(r"model '(\w+)'", help_text).group(1)
    global T
    ins, tgts, outs = (arrays(help_text, k) for k in ("inputs", "targets", "outputs"))
    fixed = [shape[1] for _, shape, _ in ins if len(shape) > 1 and shape[1] != T]
    if fixed:  # a model with a fixed time axis: use its length
        T = fixed[0]
        ins, tgts, outs = (arrays(help_text, k) for k in ("inputs", "targets", "outputs"))
    stateful = "stateful=true" in open(model_path).read().replace(" ", "")
    rng = np.random.default_rng(3)
    xs, ys = [], []
    for name, shape, is_int in ins:
        v = rng.integers(0, 2, shape).astype(np.int32) if is_int else rng.standard_normal(shape).astype(np.float32)
        np.save(os.path.join(work, f"x_{name}.npy"), v)
        v.tofile(os.path.join(work, f"x_{name}.raw"))
        xs += ["--x", f"{name}={work}/x_{name}.npy"]
    for name, shape, is_int in tgts:
        v = rng.integers(0, 2, shape).astype(np.int32) if is_int else rng.random(shape).astype(np.float32)
        np.save(os.path.join(work, f"y_{name}.npy"), v)
        ys += ["--y", f"{name}={work}/y_{name}.npy"]
    w = os.path.join(work, "w.safetensors")
    run(binary, "train", *xs, *ys, "--epochs", "1", "--quiet", "--save", w)
    tensors, _ = seqc_torch.load_safetensors(w)
    params = np.concatenate([v.astype(np.float32).ravel() for k, v in tensors.items()
                             if not k.startswith("optimizer.")])
    params.tofile(os.path.join(work, "params.raw"))
    outs_args = []
    for name, _, _ in outs:
        outs_args += ["--out", f"{name}={work}/pred_{name}.npy"]
    # A stateful model's rows continue each other only with batch 1, as Keras's.
    run(binary, "predict", "--weights", w, *xs, *outs_args, *(["--batch-size", "1"] if stateful else []))
    with open(os.path.join(work, "driver.c"), "w") as fh:
        fh.write(driver(model, ins, outs, stateful))
    exe = os.path.join(work, "driver")
    run("cc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", work, os.path.join(work, "driver.c"),
        os.path.join(work, f"{model}_infer.c"), "-lm", "-o", exe)
    raws = [os.path.join(work, f"x_{n}.raw") for n, _, _ in ins]
    res = []
    for name, _, _ in outs:
        res += [os.path.join(work, f"seq_{name}.raw"), os.path.join(work, f"step_{name}.raw")]
    run(exe, os.path.join(work, "params.raw"), *raws, *res)
    worst = 0.0
    for name, shape, _ in outs:
        want = np.load(os.path.join(work, f"pred_{name}.npy")).astype(np.float64)
        scale = max(np.abs(want).max(), 1e-6)
        for kind in ("seq", "step"):
            got = np.fromfile(os.path.join(work, f"{kind}_{name}.raw"), dtype=np.float32).reshape(want.shape)
            err = np.abs(got - want).max() / scale
            worst = max(worst, err)
            print(f"{model} output {name} ({kind}): max error {err:.2e} of scale {scale:.3g}")
    print(f"{model}: worst {worst:.2e} (limit 1e-5): {'OK' if worst < 1e-5 else 'FAILED'}")
    sys.exit(0 if worst < 1e-5 else 1)


if __name__ == "__main__":
    main()
