#!/bin/sh
# no_numpy.sh: the README's first command (its steps after the build) and
# examples/inference/run.sh, run with a python3 that cannot import numpy
# (/usr/bin/python3 -I -S: no site-packages), as on a machine whose python3
# is not Debian's. The data files must be the ones numpy wrote (digests of
# the numpy-made files below) and the trained model must name the letters.
#   no_numpy.sh BUILD_DIR WORK_DIR
set -eu
build=$1
work=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAILED: $*"; exit 1; }

rm -rf "$work"
mkdir -p "$work/bin" "$work/top/build/compiler"
printf '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n' > "$work/bin/python3"
chmod +x "$work/bin/python3"
PATH="$work/bin:$PATH"
export PATH
if python3 -c 'import numpy' 2>/dev/null; then
    fail "this python3 imports numpy, so the test would prove nothing"
fi

# The README's first command, from the README itself, minus apt-get and the build.
cmd=$(grep -m1 '^apt-get update && apt-get install' "$top/README.md") ||
    fail "README.md has no first command starting 'apt-get update && apt-get install'"
steps=${cmd#*cmake --build build -j2 && }
[ "$steps" != "$cmd" ] || fail "the README's first command no longer builds with 'cmake --build build -j2'"
ln -s "$top/examples" "$top/tools" "$work/top/"
ln -s "$build/compiler/seqc" "$work/top/build/compiler/seqc"
out=$(cd "$work/top" && sh -c "set -e; $steps" 2>&1) || fail "the README's steps: $out"
want='goo -> dby
bye -> !go
!go -> odb
ye! -> goo'
[ "$(printf '%s\n' "$out" | tail -n 4)" = "$want" ] || fail "decoded letters: $out"

# Digests (first 16 hex digits of sha256) of the files numpy's versions wrote.
check() { # FILE DIGEST
    got=$(sha256sum "$1" | cut -c1-16)
    [ "$got" = "$2" ] || fail "$1: sha256 $got, want $2 (the file numpy wrote)"
}
d=$work/top/build/goodbye-data
check "$d/alphabet.txt" 13908366d22e604b
check "$d/x.npy" de5a8d532c5ca7f7
check "$d/y.npy" dff63ce1feaa45e5
check "$d/test_x.npy" ea059b9c586d3d8e
python3 "$top/examples/data/reverse.py" "$work/rev" --train 2000 --test 100
check "$work/rev/enc.npy" 71c6e095d277c1eb
check "$work/rev/dec.npy" c41b64c8b0159ad8
check "$work/rev/target.npy" 85e0f3bb0f28d416
check "$work/rev/test_enc.npy" 96c811b8a8b7663b
check "$work/rev/test_target.npy" 4f0304732066f301
python3 "$top/examples/data/series.py" "$work/ser" --windows 500
check "$work/ser/x.npy" 434716a09775c10d
check "$work/ser/y.npy" 14f98f6af616b568
check "$work/ser/val_x.npy" 06d442113f7f54ed
check "$work/ser/val_y.npy" 69f44a05d607a1a8

# The inference example: letters.py and weights_to_c.py with this python3.
out=$("$top/examples/inference/run.sh" "$build" "$work/inference" 2>&1) || fail "run.sh: $out"
want='g -> d
o -> b
o -> y
d -> e
b -> !
y -> g
e -> o'
[ "$(printf '%s\n' "$out" | cut -c1-6)" = "$want" ] || fail "next_letter: $out"
echo "no_numpy: OK (README steps, data files as numpy wrote them, inference example)"
