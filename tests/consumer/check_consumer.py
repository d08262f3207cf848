#!/usr/bin/env python3
"""check_consumer.py: build a project that uses seqc, both ways README.md shows.

    check_consumer.py CMAKE SEQC_SOURCE_DIR WORKDIR [subdirectory|package ...]

subdirectory: the project in tests/consumer/subdirectory/ with this source
tree as its seqc/ (add_subdirectory). package: this tree configured,
built and installed to WORKDIR/prefix (each installed header compiled on
its own), its build tree deleted, then the project in tests/consumer/package/
with CMAKE_PREFIX_PATH=WORKDIR/prefix (find_package), and the installed
`seqc build`. Each way builds
examples/goodbye.seq with seqc_add_model(), then runs the program: summary,
three epochs of training on the "goodbye!" windows, predict. Standard
library only; the outer build's type and flags do not reach these builds.
"""
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORD = "goodbye!"
LETTERS = sorted(set(WORD))            # 7 classes, as examples/goodbye.seq
TIME = 3


def fail(msg):
    sys.exit(f"FAILED: {msg}")


def run(cmd, cwd=None, stdin=None):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, input=stdin)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr


def clean_env():
    """The environment minus what would carry the outer build's settings."""
    env = dict(os.environ)
    for k in ("CMAKE_BUILD_TYPE", "CMAKE_PREFIX_PATH", "CMAKE_GENERATOR", "CFLAGS",
              "CPPFLAGS", "LDFLAGS", "MAKEFLAGS", "MFLAGS", "DESTDIR"):
        env.pop(k, None)
    return env


ENV = clean_env()


def write_npy(path, shape, values):
    """A float32 .npy file (format 1.0), C order."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        "".join(f"{d}, " for d in shape))
    pad = 64 - (10 + len(header) + 1) % 64
    header += " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}f", *values))


def npy_shape(path):
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            fail(f"{path} is not a .npy file")
        major = f.read(2)[0]
        n = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        header = f.read(n).decode()
    shape = header.split("'shape':")[1].split(")")[0].strip(" (")
    return tuple(int(d) for d in shape.split(",") if d.strip())


def one_hot(text):
    v = []
    for ch in text:
        v += [1.0 if ch == c else 0.0 for c in LETTERS]
    return v


def make_data(d):
    """Every window of 3 letters of the cyclic word, and the letters after."""
    os.makedirs(d, exist_ok=True)
    cyc = WORD * 2
    xs, ys = [], []
    for i in range(len(WORD)):
        xs += one_hot(cyc[i:i + TIME])
        ys += one_hot(cyc[i + 1:i + 1 + TIME])
    shape = (len(WORD), TIME, len(LETTERS))
    write_npy(os.path.join(d, "x.npy"), shape, xs)
    write_npy(os.path.join(d, "y.npy"), shape, ys)
    return shape


def exercise(binary, d):
    """Summary, a short training run and predict, each checked."""
    out = run([binary, "summary"])
    if "Total params: 191" not in out:
        fail(f"{binary} summary: no 'Total params: 191' (the goodbye model)\n{out}")
    shape = make_data(d)
    weights = os.path.join(d, "goodbye.safetensors")
    pred = os.path.join(d, "pred.npy")
    run([binary, "train", "--x", os.path.join(d, "x.npy"), "--y", os.path.join(d, "y.npy"),
         "--epochs", "3", "--seed", "1", "--save", weights])
    with open(weights, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        if b"simple_rnn" not in f.read(n):
            fail(f"{weights}: no SimpleRNN weights in its header")
    run([binary, "predict", "--weights", weights, "--x", os.path.join(d, "x.npy"), "--out", pred])
    if npy_shape(pred) != shape:
        fail(f"predict wrote shape {npy_shape(pred)}, expected {shape}")


def cache_entries(build):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f
                    if "=" in line and not line.startswith(("#", "//")))


def project(way, work, src):
    """The consumer project of `way` in WORK/way: its CMakeLists.txt and the model."""
    d = os.path.join(work, way)
    os.makedirs(d)
    shutil.copy(os.path.join(HERE, way, "CMakeLists.txt"), d)
    shutil.copy(os.path.join(src, "examples", "goodbye.seq"), d)
    return d


def way_subdirectory(cmake, src, work):
    d = project("subdirectory", work, src)
    os.symlink(src, os.path.join(d, "seqc"))
    build = os.path.join(d, "build")
    run([cmake, "-S", d, "-B", build])
    run([cmake, "--build", build, "-j2"])
    # seqc's tests are not part of a consumer's build, and seqc writes
    # none of its settings into the consumer's cache.
    if os.path.exists(os.path.join(build, "seqc", "tests")):
        fail("add_subdirectory(seqc) configured seqc's tests")
    cache = cache_entries(build)
    if cache.get("CMAKE_BUILD_TYPE:STRING", ""):
        fail(f"the consumer's CMAKE_BUILD_TYPE became '{cache['CMAKE_BUILD_TYPE:STRING']}'")
    for k in cache:
        if k.startswith(("SEQC_BUILD_TESTS:", "SEQ_SANITIZE:")):
            fail(f"seqc put {k} into the consumer's cache")
    # Nor does the consumer's install carry seqc (the consumer installs nothing).
    prefix = os.path.join(work, "subdirectory-prefix")
    run([cmake, "--install", build, "--prefix", prefix])
    if os.path.exists(prefix) and any(files for _, _, files in os.walk(prefix)):
        fail(f"the consumer's cmake --install installed seqc's files into {prefix}")
    exercise(os.path.join(build, "goodbye"), os.path.join(work, "subdirectory-run"))


def way_package(cmake, src, work):
    prefix = os.path.join(work, "prefix")
    seqc_build = os.path.join(work, "seqc-build")
    run([cmake, "-S", src, "-B", seqc_build, "-DSEQC_BUILD_TESTS=OFF",
         f"-DCMAKE_INSTALL_PREFIX={prefix}"])
    run([cmake, "--build", seqc_build, "-j2"])
    run([cmake, "--install", seqc_build])
    # Nothing installed may point back into the build tree: remove it.
    shutil.rmtree(seqc_build)
    libdir = "lib64" if os.path.isdir(os.path.join(prefix, "lib64")) else "lib"
    for f in ("bin/seqc", f"{libdir}/libseqrt.a", f"{libdir}/libseqrt_f64.a",
              "include/seqrt.h", "include/seqrt_train.h", "include/seqrt_model.h",
              "include/seqrt_kernel.h",
              f"{libdir}/cmake/seqc/seqcConfig.cmake",
              f"{libdir}/cmake/seqc/seqcConfigVersion.cmake",
              f"{libdir}/cmake/seqc/seqc.cmake"):
        if not os.path.isfile(os.path.join(prefix, f)):
            fail(f"cmake --install did not install {f}")
    # Each installed header stands alone: a program includes just the one
    # for its job (seqrt.h to run a model, seqrt_train.h to train one).
    inc = os.path.join(prefix, "include")
    for h in sorted(os.listdir(inc)):
        run([os.environ.get("CC", "cc"), "-std=c11", "-Wall", "-Wextra", "-Werror",
             "-fsyntax-only", "-I", inc, "-x", "c", "-"], stdin=f'#include "{h}"\n')
    d = project("package", work, src)
    build = os.path.join(d, "build")
    run([cmake, "-S", d, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}"])
    run([cmake, "--build", build, "-j2"])
    exercise(os.path.join(build, "goodbye"), os.path.join(work, "package-run"))
    # The installed seqc builds programs against the installed runtime.
    cli = os.path.join(work, "goodbye-cli")
    run([os.path.join(prefix, "bin", "seqc"), "build", os.path.join(d, "goodbye.seq"), "-o", cli])
    exercise(cli, os.path.join(work, "cli-run"))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cmake, src, work = sys.argv[1], os.path.realpath(sys.argv[2]), os.path.abspath(sys.argv[3])
    ways = sys.argv[4:] or ["subdirectory", "package"]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for way in ways:
        {"subdirectory": way_subdirectory, "package": way_package}[way](cmake, src, work)
        print(f"ok: {way}", flush=True)


if __name__ == "__main__":
    main()
