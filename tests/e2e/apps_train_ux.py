#!/usr/bin/env python3
"""apps_train_ux.py: what a user expects while training, end to end.

    apps_train_ux.py SEQC EXAMPLES_DIR WORKDIR

On examples/forecast/lstm_forecast.seq and a synthetic CSV series:
- --resume is exact: a run interrupted by SIGINT (sent once it has printed
  its first epoch; exit 130, a message naming the checkpoint) and resumed
  gives byte-identical weights to an uninterrupted run, with a cosine
  schedule and early stopping that restores an epoch; so does resuming an epoch-boundary checkpoint (--checkpoint-every) with
  --epochs extended (step schedule). Changing the plan on resume is a
  usage error.
- --log writes one CSV row per epoch with loss, mae, val_*, lr, seconds;
  the lr column follows step:2:0.5 exactly.
- --plot writes an SVG that a real XML parser reads, with the training and
  validation curves of the loss and of the metric.
- --patience stops early and --restore-best says it restored the best
  epoch; plateau:P:F lowers the rate and says so.
"""
import csv
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from interrupt import sigint_after_first_epoch


def run(*cmd, status=0):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}, wanted {status}): {' '.join(map(str, cmd))}\n"
                 f"{r.stdout[-2000:]}\n{r.stderr}")
    return r


def same(a, b, what):
    if open(a, "rb").read() != open(b, "rb").read():
        sys.exit(f"FAILED: {what}: {a} and {b} differ")
    print(f"{what}: byte-identical weights")


def interrupted_run(binary, args, ckpt, save, reference_out):
    """SIGINT a run once it has printed its first epoch; resume it.

    No clock is involved: the signal goes after an event (the first epoch's
    line), and the run cannot end before it arrives, because its stdout is a
    small pipe that the test stops reading: the trainer blocks writing its
    progress long before its last epoch (the uninterrupted run printed more
    than the pipe holds; checked below)."""
    status, err, seen = sigint_after_first_epoch(
        [binary, "train", *args, "--save", save, "--checkpoint", ckpt], reference_out)
    if b" - loss: " not in seen:
        sys.exit(f"FAILED: no epoch line before the run ended: status {status}, stderr {err!r}")
    if status != 130 or f"checkpoint saved to {ckpt}" not in err:
        sys.exit(f"FAILED: SIGINT: status {status}, stderr {err!r}")
    print("SIGINT:", err.strip())
    run(binary, "train", *args, "--save", save, "--resume", ckpt)


def check_plot(svg):
    root = ET.parse(svg).getroot()
    if not root.tag.endswith("svg"):
        sys.exit("FAILED: the plot's root is not <svg>")
    names = {e.get("data-name") for e in root.iter() if e.tag.endswith("polyline")}
    for want in ("loss", "val_loss", "mae", "val_mae"):
        if want not in names:
            sys.exit(f"FAILED: the plot has no {want} curve (has {names})")
    texts = " ".join(e.text or "" for e in root.iter() if e.tag.endswith("text"))
    if "epoch" not in texts or "val_loss" not in texts:
        sys.exit("FAILED: the plot lacks axis labels or a legend")
    print(f"plot: valid SVG with curves {sorted(names)}")


def main():
    seqc, examples, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    for f in os.listdir(work):
        if f.endswith((".safetensors", ".csv", ".svg")):
            os.remove(os.path.join(work, f))
    binary = os.path.join(work, "lstm_forecast")
    run(seqc, "build", os.path.join(examples, "forecast", "lstm_forecast.seq"), "-o", binary)
    data = os.path.join(work, "series.csv")
    run(sys.executable, os.path.join(examples, "forecast", "make_series.py"), data, "--n", "800")
    base = ["--csv", data, "--column", "load", "--window", "16", "--batch-size", "4", "--seed", "3"]
    p = lambda *a: [os.path.join(work, x) for x in a]

    # Interrupted by SIGINT mid-run and resumed == uninterrupted.
    # Long enough to fill the pipe of interrupted_run: 74 epochs on a short
    # series, where early stopping ends it and restores the best epoch.
    short = os.path.join(work, "short.csv")
    run(sys.executable, os.path.join(examples, "forecast", "make_series.py"), short, "--n", "240")
    args = ["--csv", short] + base[2:] + ["--epochs", "100", "--lr-schedule", "cosine:0.0005",
                                          "--patience", "60", "--restore-best"]
    a, b, ck = p("a.safetensors", "b.safetensors", "b.ckpt.safetensors")
    r = run(binary, "train", *args, "--save", a)
    if "restored the weights of the best epoch" not in r.stdout:
        sys.exit(f"FAILED: the uninterrupted run did not stop early: {r.stdout[-600:]}")
    interrupted_run(binary, args, ck, b, r.stdout)
    same(a, b, "SIGINT + --resume")
    r = run(binary, "train", *args, "--batch-size", "8", "--resume", ck, status=2)
    if "the run being resumed has 4" not in r.stderr:
        sys.exit(f"FAILED: plan clash message: {r.stderr}")

    # An epoch-boundary checkpoint, resumed with more epochs; log, plot.
    step = base + ["--lr-schedule", "step:2:0.5"]
    c, d, ck2, log, svg = p("c.safetensors", "d.safetensors", "d.ckpt.safetensors", "h.csv", "h.svg")
    run(binary, "train", *step, "--epochs", "5", "--save", c, "--log", log, "--plot", svg)
    run(binary, "train", *step, "--epochs", "3", "--save", d, "--checkpoint", ck2, "--checkpoint-every", "3")
    run(binary, "train", *step, "--epochs", "5", "--save", d, "--resume", ck2)
    same(c, d, "--checkpoint-every + --resume --epochs")
    rows = list(csv.DictReader(open(log)))
    if len(rows) != 5 or list(rows[0])[:1] != ["epoch"]:
        sys.exit(f"FAILED: --log has {len(rows)} rows")
    for col in ("loss", "mae", "val_loss", "val_mae", "lr", "seconds"):
        if col not in rows[0]:
            sys.exit(f"FAILED: --log has no column {col}")
    lrs = [float(r["lr"]) for r in rows]
    want = [0.005, 0.005, 0.0025, 0.0025, 0.00125]
    if any(abs(x - y) > 1e-9 for x, y in zip(lrs, want)):
        sys.exit(f"FAILED: step:2:0.5 learning rates {lrs}, want {want}")
    print(f"log: {len(rows)} rows, lr {lrs}")
    check_plot(svg)

    # Early stopping, restore-best; reduce on plateau.
    r = run(binary, "train", *base, "--epochs", "40", "--lr", "0.05", "--patience", "2", "--restore-best",
            "--save", os.path.join(work, "e.safetensors"))
    if "early stopping:" not in r.stdout or "restored the weights of the best epoch" not in r.stdout:
        sys.exit(f"FAILED: early stopping did not report: {r.stdout[-600:]}")
    print([l for l in r.stdout.split("\n") if l.startswith("early stopping")][0])
    r = run(binary, "train", *base, "--epochs", "12", "--lr", "0.05", "--lr-schedule", "plateau:1:0.5")
    if "learning rate lowered to" not in r.stdout:
        sys.exit("FAILED: plateau never lowered the rate")
    print("apps_train_ux: OK")


if __name__ == "__main__":
    main()
