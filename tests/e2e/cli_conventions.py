#!/usr/bin/env python3
"""cli_conventions.py: seqc and a training program follow GNU habits.

    cli_conventions.py SEQC EXAMPLES_DIR WORKDIR

- seqc: --opt VALUE and --opt=VALUE, -o PATH and -oPATH give the same
  files; seqc COMMAND --help is that command's help; unknown commands and
  options are one line with a did-you-mean, exit 2; an option of another
  command is refused by name; --version exits 0.
- A training program (examples/forecast/lstm_forecast.seq): the same for
  its commands; every number is range-checked with the flag named (the
  --steps and --samples values that once crashed it are usage errors);
  forecast never suggests --window, which it does not have.
- Progress: through a pipe, no carriage returns or escape sequences and one
  epoch line per epoch; on a pseudo-terminal of 60 columns, frames that
  never reach the last column; at 100 columns a wider bar; under an MPI
  launcher's environment no frames even on a terminal.
"""
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios


def run(*cmd, status=0, env=None):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}, wanted {status}): {' '.join(map(str, cmd))}\n"
                 f"{r.stdout[-2000:]}\n{r.stderr}")
    return r


def usage_error(cmd, *want, absent=()):
    """cmd exits 2 with exactly one line on stderr holding every `want`."""
    r = run(*cmd, status=2)
    lines = r.stderr.splitlines()
    if len(lines) != 1:
        sys.exit(f"FAILED: {' '.join(map(str, cmd[1:]))}: {len(lines)} lines of stderr, wanted 1:\n{r.stderr}")
    for w in want:
        if w not in r.stderr:
            sys.exit(f"FAILED: {' '.join(map(str, cmd[1:]))}: stderr lacks {w!r}: {r.stderr}")
    for a in absent:
        if a in r.stderr:
            sys.exit(f"FAILED: {' '.join(map(str, cmd[1:]))}: stderr mentions {a!r}: {r.stderr}")
    print("ok:", r.stderr.strip())


def tree(d):
    return {f: open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))}


def check_seqc(seqc, examples, work):
    model = os.path.join(examples, "forecast", "lstm_forecast.seq")
    a, b = os.path.join(work, "emit_a"), os.path.join(work, "emit_b")
    run(seqc, "emit", model, "-o", a, "--bptt-checkpoint", "4")
    run(seqc, "emit", "--bptt-checkpoint=4", f"-o{b}", model)
    if tree(a) != tree(b) or not tree(a):
        sys.exit("FAILED: '-o DIR --bptt-checkpoint 4' and '-oDIR --bptt-checkpoint=4' differ")
    print("ok: seqc -o DIR == -oDIR, --opt VALUE == --opt=VALUE")
    h = run(seqc, "build", "--help").stdout
    if not h.startswith("usage: seqc build") or "--float64" not in h or "--inference" in h:
        sys.exit(f"FAILED: seqc build --help is not build's help:\n{h}")
    if "--inference" not in run(seqc, "emit", "--help").stdout:
        sys.exit("FAILED: seqc emit --help lacks --inference")
    print("ok: seqc COMMAND --help")
    if not run(seqc, "--version").stdout.startswith("seqc "):
        sys.exit("FAILED: seqc --version")
    usage_error([seqc, "biuld", model], "unknown command 'biuld'; did you mean 'build'?")
    usage_error([seqc, "build", model, "-o", "x", "--floa64"], "unknown option '--floa64'; did you mean '--float64'?")
    usage_error([seqc, "build", model, "-o", "x", "--inference"], "'--inference' is for emit, not build")
    usage_error([seqc, "emit", model, "-o", "x", "--bptt-checkpoint", "0"],
                "--bptt-checkpoint: 0 is out of range (1 to 1073741824)")
    usage_error([seqc, "check", model, "--mpi"], "'--mpi' is for build, not check")


def check_binary(binary, data, work):
    name = os.path.basename(binary)
    v = run(binary, "--version").stdout
    if "lstm_forecast" not in v or "libseqrt" not in v:
        sys.exit(f"FAILED: --version: {v!r}")
    h = run(binary, "forecast", "--help").stdout
    if not h.startswith(f"usage: {name} forecast") or "--steps N" not in h or "1 to 1000000" not in h:
        sys.exit(f"FAILED: forecast --help:\n{h}")
    if "--window" in h:
        sys.exit(f"FAILED: forecast --help mentions --window:\n{h}")
    if not run(binary, "help", "train").stdout.startswith(f"usage: {name} train"):
        sys.exit("FAILED: help train")
    print("ok: --version, COMMAND --help, help COMMAND")
    usage_error([binary, "trian"], "unknown command 'trian'; did you mean 'train'?")
    usage_error([binary, "train", "--csv", data, "--epoch", "3"], "unknown option '--epoch'; did you mean '--epochs'?")
    usage_error([binary, "forecast", "--window", "5"], "option '--window' is for train, not forecast")
    usage_error([binary, "forecast", "--windw", "5"], "unknown option '--windw'", absent=("--window",))
    usage_error([binary, "train", "--csv", data, "--column", "load", "--epochs", "2x"],
                "--epochs: '2x' is not a whole number")
    usage_error([binary, "train", "--csv", data, "--column", "load", "--lr=inf"], "--lr: 'inf' is not a number")
    usage_error([binary, "train", "--csv", data, "--column", "load", "--validation-split", "1.5"],
                "--validation-split: 1.5 is out of range")
    w = os.path.join(work, "w.safetensors")
    # Both forms of a valued option, and a model to forecast with.
    run(binary, "train", "--csv", data, "--column=load", "--window", "16", "--epochs=1", "--batch-size", "8",
        "--quiet", "--save", w)
    usage_error([binary, "forecast", "--weights", w, "--csv", data, "--column", "load", "--steps",
                 "2305843009213693952"], "--steps: 2305843009213693952 is out of range (1 to 1000000)")
    usage_error([binary, "gradcheck", "--samples", "4611686018427387904"],
                "--samples: 4611686018427387904 is out of range (1 to 1000000)")
    r = run(binary, "forecast", "--weights", w, "--csv", data, "--column", "load", "--steps", "3")
    if len(r.stdout.splitlines()) != 4:
        sys.exit(f"FAILED: forecast --steps 3: {r.stdout}")
    # Weights whose window is 0: refused, without advice to give --window.
    bad = os.path.join(work, "window0.safetensors")
    blob = open(w, "rb").read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    header["__metadata__"]["data.window"] = "0"
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    open(bad, "wb").write(len(text).to_bytes(8, "little") + text + blob[8 + n:])
    r = run(binary, "forecast", "--weights", bad, "--csv", data, "--column", "load", "--steps", "3", status=1)
    if "--window" in r.stderr or len(r.stderr.splitlines()) != 1:
        sys.exit(f"FAILED: forecast with data.window 0: {r.stderr}")
    print("ok:", r.stderr.strip())


def pty_run(cmd, cols, env=None):
    """cmd's stdout through a pseudo-terminal `cols` wide: all it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    p = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    while True:   # no deadline: a slow machine is not a failure (ctest catches hangs)
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the program has closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    err = p.stderr.read().decode()
    if p.wait() != 0:
        sys.exit(f"FAILED (status {p.returncode}): {cmd}\n{err}")
    return out.decode()


def rows(text):
    """What each redraw leaves: the text between carriage returns and newlines."""
    text = text.replace("\r\n", "\n").replace("\x1b[K", "")
    return [seg for line in text.split("\n") for seg in line.split("\r")]


def check_progress(binary, data, work):
    train = [binary, "train", "--csv", data, "--column", "load", "--window", "16", "--epochs", "3",
             "--batch-size", "4", "--validation-split", "0.25"]
    piped = run(*train).stdout
    if "\r" in piped or "\x1b" in piped:
        sys.exit(f"FAILED: frames through a pipe: {piped[:300]!r}")
    if piped.count("Epoch ") != 3:
        sys.exit(f"FAILED: wanted one epoch line per epoch through a pipe:\n{piped}")
    print("ok: a pipe gets plain lines, one per epoch")

    out = pty_run(train, 60)
    if "\r" not in out.replace("\r\n", "") or "\x1b[K" not in out:
        sys.exit(f"FAILED: no frames on a terminal: {out[:300]!r}")
    # The epochs' part (the report after training is plain lines, free to wrap).
    progress = out[:out.index("validation, ")]
    long = [r for r in rows(progress) if len(r) >= 60]
    if long:
        sys.exit(f"FAILED: rows of 60 columns or more on a 60-column terminal: {long}")
    bars = [r for r in rows(out) if "[" in r and "]" in r]
    if not bars or out.count("Epoch ") != 3 or "val_loss" not in out:
        sys.exit(f"FAILED: 60 columns: no bar, or epochs or values lost:\n{out!r}")
    narrow = max(r.index("]") - r.index("[") - 1 for r in bars)
    wide_bars = [r for r in rows(pty_run(train, 100)) if "[" in r and "]" in r]
    wide = max(r.index("]") - r.index("[") - 1 for r in wide_bars)
    if not narrow < wide <= 30:
        sys.exit(f"FAILED: the bar does not follow the width: {narrow} at 60 columns, {wide} at 100")
    print(f"ok: a 60-column terminal gets frames within 59 columns (bar {narrow}); 100 columns, bar {wide}")

    env = dict(os.environ, OMPI_COMM_WORLD_SIZE="2", OMPI_COMM_WORLD_RANK="0")
    mpi = pty_run(train, 60, env=env)
    if "\x1b" in mpi or "\r" in mpi.replace("\r\n", ""):
        sys.exit(f"FAILED: frames under an MPI launcher: {mpi[:300]!r}")
    print("ok: under mpirun, plain lines even on a terminal")


def main():
    seqc, examples, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    check_seqc(seqc, examples, work)
    binary = os.path.join(work, "lstm_forecast")
    run(seqc, "build", os.path.join(examples, "forecast", "lstm_forecast.seq"), f"-o{binary}")
    data = os.path.join(work, "series.csv")
    run(sys.executable, os.path.join(examples, "forecast", "make_series.py"), data, "--n", "200")
    check_binary(binary, data, work)
    check_progress(binary, data, work)
    print("cli_conventions: OK")


if __name__ == "__main__":
    main()
