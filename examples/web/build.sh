#!/bin/sh
# examples/web/build.sh: train the README's character model in its LSTM
# form (examples/charlm/char_lstm.seq) on the GPL version 3 and export it for
# the page. From the repository root, after building seqc:
#
#   examples/web/build.sh [EPOCHS]     # default 12, as examples/charlm/README.md
#
# Writes build/web/char_lstm (the training program), build/web/char_lstm.safetensors
# and build/web/model/ (model.json and its weights); $SEQC and $OUT override
# build/compiler/seqc and build/web.
set -eu
SEQC=${SEQC:-build/compiler/seqc}
OUT=${OUT:-build/web}
EPOCHS=${1:-12}
mkdir -p "$OUT"
"$SEQC" build examples/charlm/char_lstm.seq -o "$OUT/char_lstm"
"$OUT/char_lstm" train --text /usr/share/common-licenses/GPL-3 --bptt 64 --batch-size 16 \
    --epochs "$EPOCHS" --seed 1 --save "$OUT/char_lstm.safetensors"
"$OUT/char_lstm" export --tfjs "$OUT/model" --weights "$OUT/char_lstm.safetensors"
