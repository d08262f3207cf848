"""SIGINT a training run after an event, never after a clock.

sigint_after_first_epoch starts `cmd`, waits for its first whole epoch line
on stdout, sends SIGINT and lets the run finish. The run cannot end before
the signal arrives: its stdout is a pipe of one page that is not read past
that line, so the trainer blocks writing its progress long before its last
epoch. `reference_out` (an uninterrupted run's stdout) must show that the
run prints more than the pipe holds; the caller fails otherwise.
"""
import fcntl
import os
import signal
import subprocess
import sys
import tempfile


def small_pipe():
    """A pipe that holds as little as the kernel allows (one page on Linux)."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    except OSError:
        pass
    return r, w, fcntl.fcntl(w, getattr(fcntl, "F_GETPIPE_SZ", 1032))


def sigint_after_first_epoch(cmd, reference_out):
    """Returns (exit status, stderr, stdout read before the signal)."""
    r, w, cap = small_pipe()
    before_last = reference_out[:reference_out.rfind("\nEpoch ")]
    # What the pipe holds, the epoch line read below, and slack for the
    # timing fields, whose width varies from run to run.
    if len(before_last.encode()) < cap + 2048:
        sys.exit(f"FAILED: the run prints {len(before_last)} bytes before its last epoch, "
                 f"not enough to fill a {cap}-byte pipe: lengthen it")
    err_file = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=w, stderr=err_file)
    os.close(w)
    seen = b""
    while not (seen.endswith(b"\n") and b" - loss: " in seen):   # a whole epoch line
        c = os.read(r, 1)   # a byte at a time: the pipe keeps the rest
        if not c:
            break
        seen += c
    p.send_signal(signal.SIGINT)
    while os.read(r, 65536):   # let it go on to its next step
        pass
    os.close(r)
    p.wait()
    err_file.seek(0)
    return p.returncode, err_file.read().decode(), seen
