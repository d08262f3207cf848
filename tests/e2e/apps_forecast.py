#!/usr/bin/env python3
"""apps_forecast.py: time-series forecasting from CSV, end to end.

    apps_forecast.py SEQC EXAMPLES_DIR WORKDIR

Builds examples/forecast/lstm_forecast.seq and examples/wavenet.seq, trains
the LSTM on the sunspot numbers that python3-statsmodels ships (a real
series; never downloaded) and the WaveNet stack on a synthetic seasonal
series, and requires each to beat the naive last-value forecast's
validation MAE on a short budget. Also: forecast and predict --csv on the
trained weights, and the CSV reader's errors (a missing value names line
and column; an unknown column lists the header).
"""
import os
import re
import subprocess
import sys

SUNSPOTS = "/usr/lib/python3/dist-packages/statsmodels/datasets/sunspots/sunspots.csv"
CO2 = "/usr/lib/python3/dist-packages/statsmodels/datasets/co2/co2.csv"


def run(*cmd, status=0):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != status:
        sys.exit(f"FAILED (status {r.returncode}, wanted {status}): {' '.join(map(str, cmd))}\n{r.stderr}")
    return r


def scores(out):
    m = re.search(r"^\s+\S+\s+MAE\s+([\d.]+)\s+RMSE\s+([\d.]+)\n\s+naive \(last value\)\s+MAE\s+([\d.]+)",
                  out, re.M)
    if not m:
        sys.exit("FAILED: no validation table in train's output")
    return float(m.group(1)), float(m.group(3))


def main():
    seqc, examples, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    if not os.path.exists(SUNSPOTS):
        sys.exit(f"FAILED: {SUNSPOTS} is missing: apt-get install python3-statsmodels")
    lstm, wavenet = os.path.join(work, "lstm_forecast"), os.path.join(work, "wavenet")
    run(seqc, "build", os.path.join(examples, "forecast", "lstm_forecast.seq"), "-o", lstm)
    run(seqc, "build", os.path.join(examples, "wavenet.seq"), "-o", wavenet)

    # The real series: the LSTM beats the naive forecast.
    w = os.path.join(work, "sun.safetensors")
    r = run(lstm, "train", "--csv", SUNSPOTS, "--column", "SUNACTIVITY", "--window", "24",
            "--epochs", "25", "--seed", "1", "--save", w)
    mae, naive = scores(r.stdout)
    print(f"sunspots, LSTM: validation MAE {mae} vs naive {naive}")
    if not mae < naive:
        sys.exit("FAILED: the LSTM does not beat the naive forecast on the sunspots")
    r = run(lstm, "forecast", "--weights", w, "--csv", SUNSPOTS, "--column", "SUNACTIVITY", "--steps", "11")
    lines = r.stdout.strip().split("\n")
    if lines[0] != "step,SUNACTIVITY" or len(lines) != 12:
        sys.exit("FAILED: forecast output")
    vals = [float(x.split(",")[1]) for x in lines[1:]]
    if not all(-50 < v < 300 for v in vals):
        sys.exit(f"FAILED: implausible forecasts {vals}")
    run(lstm, "predict", "--weights", w, "--csv", SUNSPOTS, "--column", "SUNACTIVITY",
        "--out", os.path.join(work, "pred.npy"))

    # The synthetic seasonal series (quoted header, CRLF): WaveNet, 10 steps ahead.
    csv = os.path.join(work, "load.csv")
    run(sys.executable, os.path.join(examples, "forecast", "make_series.py"), csv, "--n", "1200")
    r = run(wavenet, "train", "--csv", csv, "--column", "load", "--window", "64", "--epochs", "15",
            "--seed", "1", "--save", os.path.join(work, "wn.safetensors"))
    mae, naive = scores(r.stdout)
    print(f"seasonal series, WaveNet 10-step: validation MAE {mae} vs naive {naive}")
    if not mae < 0.8 * naive:
        sys.exit("FAILED: WaveNet does not clearly beat the naive forecast")

    # Errors that name the place.
    if os.path.exists(CO2):
        r = run(lstm, "train", "--csv", CO2, "--column", "co2", "--window", "8", status=1)
        if "co2.csv:8: column 'co2': missing value" not in r.stderr:
            sys.exit(f"FAILED: missing-value message: {r.stderr}")
    r = run(lstm, "train", "--csv", SUNSPOTS, "--column", "spots", "--window", "8", status=1)
    if "no column 'spots'" not in r.stderr or "'SUNACTIVITY'" not in r.stderr:
        sys.exit(f"FAILED: unknown-column message: {r.stderr}")
    print("apps_forecast: OK")


if __name__ == "__main__":
    main()
