#!/usr/bin/python3
"""kill_train.py SEQC WORKDIR [KILLS]: crash-safe training, shown by force.

Builds tests/crash/crashbig.seq (337k parameters; a 4 MB weights file with
Adam's state, so a save takes measurable time against a short epoch) and
runs `train --save W --epochs <many>` KILLS times (default 50), continuing
each run from the last with `--load W`, and SIGKILLs it:
  - odd runs at a random moment (0 to 1 s after start: loading, training
    or saving),
  - even runs while a checkpoint is being written: the test waits until the
    writer's temporary file (W.tmp.XXXXXX) exists, then kills at once, or
    after 0-5 ms, or after 0-100 ms (a 4 MB save with fsync takes 10-250 ms).
    The first run is first allowed to finish one save.
After every kill the file on disk must be absent (only before the first
save ever finished) or complete: its safetensors header parses, the file is
exactly as long as the header says, and `predict --weights W` loads it,
which verifies the fnv1a64 checksum in its metadata against the data. Its
epoch must never go backwards. A kill that left a temporary file behind
was a kill during a write: the test counts those (and removes the litter).
Finally one run with --load W trains 2 more epochs to completion: the file
must then hold epoch E + 2.
"""
import glob, json, os, random, signal, struct, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")


def header(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    h = json.loads(raw[8:8 + n])
    end = max([v["data_offsets"][1] for k, v in h.items() if k != "__metadata__"] + [0])
    if len(raw) != 8 + n + end:
        raise AssertionError(f"{path}: {len(raw)} bytes, header says {8 + n + end}")
    return h["__metadata__"]


def main():
    seqc, work = sys.argv[1], sys.argv[2]
    kills = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    rng = random.Random(int(os.environ.get("SEQ_CRASH_SEED", "7")))
    os.makedirs(work, exist_ok=True)
    binary = os.path.join(work, "crashbig")
    subprocess.run([seqc, "build", os.path.join(HERE, "crashbig.seq"), "-o", binary], check=True)
    import numpy as np
    r = np.random.default_rng(0)
    x, y = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    np.save(x, r.random((16, 16, 64), dtype=np.float32))
    np.save(y, r.random((16, 16, 32), dtype=np.float32))
    w = os.path.join(work, "w.safetensors")
    for old in glob.glob(w + "*"):
        os.remove(old)
    pred = os.path.join(work, "pred.npy")

    last_epoch, ever_saved, in_write, random_kills, litter = 0, False, 0, 0, 0
    t0 = time.time()
    for i in range(kills):
        cmd = [binary, "train", "--x", x, "--y", y, "--epochs", "1000000", "--save", w, "--quiet"]
        if os.path.exists(w):
            cmd += ["--load", w]
        p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # The waits below are for events (a file appears; the run cannot end
        # by itself), so they need no deadline however slow the machine is.
        if i == 0:   # the first run initialises (slow: orthogonal init): let it save once
            while not os.path.exists(w) and p.poll() is None:
                time.sleep(0.001)
        if i % 2 == 0:
            while not glob.glob(w + ".tmp.*") and p.poll() is None:
                time.sleep(0.0002)
            time.sleep(rng.choice([0, rng.uniform(0, 0.005), rng.uniform(0, 0.1)]))
        else:
            time.sleep(rng.uniform(0, 1.0))
            random_kills += 1
        if p.poll() is not None:
            raise AssertionError(f"run {i}: training ended by itself ({p.returncode}): "
                                 f"{p.stderr.read().decode()[-2000:]}")
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stderr.close()
        tmps = glob.glob(w + ".tmp.*")
        if tmps:
            in_write += 1
            litter += len(tmps)
            for t in tmps:
                os.remove(t)
        if not os.path.exists(w):
            if ever_saved:
                raise AssertionError(f"run {i}: {w} vanished after a kill")
            continue
        meta = header(w)
        ever_saved = True
        epoch = int(meta["epoch"])
        if epoch < last_epoch:
            raise AssertionError(f"run {i}: epoch went back from {last_epoch} to {epoch}")
        if not meta.get("checksum", "").startswith("fnv1a64:"):
            raise AssertionError(f"run {i}: no checksum in the metadata: {meta}")
        q = subprocess.run([binary, "predict", "--weights", w, "--x", x, "--out", pred], env=ENV,
                           capture_output=True, text=True)
        if q.returncode != 0:
            raise AssertionError(f"run {i}: predict on the file left by the kill failed: {q.stderr}")
        last_epoch = epoch
    if not ever_saved:
        raise AssertionError("no run lived long enough to save once")
    # --load continues: two more epochs on top of the file's.
    q = subprocess.run([binary, "train", "--x", x, "--y", y, "--epochs", "2", "--save", w,
                        "--load", w, "--quiet"], env=ENV, capture_output=True, text=True)
    if q.returncode != 0:
        raise AssertionError(f"final --load run failed: {q.stderr}")
    final = int(header(w)["epoch"])
    left = [f for f in os.listdir(os.path.dirname(w) or ".")
            if f.startswith(os.path.basename(w) + ".tmp.")]
    if left:
        raise AssertionError(f"temporary files of killed saves remain after a good save: {left}")
    if final != last_epoch + 2:
        raise AssertionError(f"--load from epoch {last_epoch} + 2 epochs saved epoch {final}")
    print(f"{kills} kills ({kills - random_kills} aimed at saves, {random_kills} at random moments) "
          f"in {time.time() - t0:.0f}s: {in_write} landed inside a checkpoint write "
          f"(temporary file left behind: {litter}); after every kill the weights file was absent "
          f"(before the first save) or complete with a valid checksum; epochs 0 -> {last_epoch}, "
          f"then --load trained on to epoch {final}, and its save removed the killed saves' "
          f"temporary files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
