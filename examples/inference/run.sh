#!/bin/sh
# run.sh: train the goodbye model, turn it into an inference library with its
# weights compiled in, and build and run next_letter.c with it.
#   examples/inference/run.sh [BUILD_DIR] [WORK_DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
work=${2:-$build/inference-example}
mkdir -p "$work"
"$build/compiler/seqc" build "$top/examples/goodbye.seq" -o "$work/goodbye"
python3 "$top/examples/data/letters.py" goodbye! "$work/data"
"$work/goodbye" train --x "$work/data/x.npy" --y "$work/data/y.npy" --epochs 300 --quiet \
    --save "$work/goodbye.safetensors"
"$build/compiler/seqc" emit --inference "$top/examples/goodbye.seq" -o "$work"
python3 "$top/tools/weights_to_c.py" "$work/goodbye.safetensors" goodbye "$work/goodbye_weights.c"
cc -std=c11 -O2 -Wall -Wextra -I"$work" "$top/examples/inference/next_letter.c" \
    "$work/goodbye_infer.c" "$work/goodbye_weights.c" -lm -o "$work/next_letter"
"$work/next_letter" goodbye
