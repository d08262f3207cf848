// lib.js: what the TensorFlow.js cross-checks share: a seeded random
// generator, .npy and safetensors I/O, running seqc and a training program,
// and the error measure with its report.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

// Error measure (the same as the PyTorch cross-checks, tests/crosscheck/
// common.py): per tensor, max|seqc - tfjs| / scale, where scale is the tfjs
// tensor's max|.|, but at least 1e-3 times the largest scale in the same
// group (outputs, gradients, weights, ...), so that float32 round-off in a
// tensor that is ~0 does not give a huge relative figure. So it is a
// relative error against the tensor's magnitude, with an absolute floor of
// 1e-3 x the group's magnitude. TOL = 1e-5.
const TOL = 1e-5;

// mulberry32: a small, well-mixed 32-bit generator; the same seed gives the
// same weights and data on every machine.
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const size = (shape) => shape.reduce((n, d) => n * d, 1);
  return {
    next,
    uniform(shape, lo, hi) {
      const d = new Float32Array(size(shape));
      for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * next();
      return { data: d, shape, dtype: 'float32' };
    },
    normal(shape, scale = 1) {
      const d = new Float32Array(size(shape));
      for (let i = 0; i < d.length; i++) {
        const u = 1 - next(), v = next();
        d[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      }
      return { data: d, shape, dtype: 'float32' };
    },
    ints(shape, lo, hi) {           // uniform in [lo, hi)
      const d = new Int32Array(size(shape));
      for (let i = 0; i < d.length; i++) d[i] = lo + Math.floor((hi - lo) * next());
      return { data: d, shape, dtype: 'int32' };
    },
    oneHot(shape) {                 // [..., C], one 1 per row
      const c = shape[shape.length - 1];
      const d = new Float32Array(size(shape));
      for (let i = 0; i < d.length; i += c) d[i + Math.floor(c * next())] = 1;
      return { data: d, shape, dtype: 'float32' };
    },
  };
}

// ---- .npy (version 1.0, C order, little-endian) --------------------------
const NPY_DESCR = { float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8' };

function writeNpy(file, a) {
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let h = `{'descr': '${NPY_DESCR[a.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(h.length, 8);
  const body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(h, 'latin1'), body]));
  return file;
}

function typed(buf, dtype) {
  const b = Uint8Array.from(buf).buffer;   // aligned copy
  switch (dtype) {
    case '<f4': case 'F32': return Float64Array.from(new Float32Array(b));
    case '<f8': case 'F64': return new Float64Array(b);
    case '<i4': case 'I32': return Float64Array.from(new Int32Array(b));
    case '<i8': case 'I64': return Float64Array.from(new BigInt64Array(b), Number);
    default: throw new Error(`unsupported dtype ${dtype}`);
  }
}

function readNpy(file) {
  const raw = fs.readFileSync(file);
  const major = raw[6];
  const hl = major === 1 ? raw.readUInt16LE(8) : raw.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const h = raw.slice(off, off + hl).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(h)[1];
  if (/'fortran_order':\s*True/.test(h)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',').map((s) => s.trim())
    .filter((s) => s).map(Number);
  return { data: typed(raw.slice(off + hl), descr), shape };
}

// ---- safetensors -----------------------------------------------------------
function readSafetensors(file) {
  const raw = fs.readFileSync(file);
  const n = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.slice(8, 8 + n).toString('utf8'));
  delete header.__metadata__;
  const out = {};
  for (const [name, e] of Object.entries(header)) {
    const [b, end] = e.data_offsets;
    out[name] = { data: typed(raw.slice(8 + n + b, 8 + n + end), e.dtype), shape: e.shape };
  }
  return out;
}

// Float32 tensors {name: {data, shape}}; no checksum (a seqc binary checks
// one only when present).
function writeSafetensors(file, tensors) {
  const header = { __metadata__: { format: 'seqc-1' } };
  const chunks = [];
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const f = Float32Array.from(t.data);
    const b = Buffer.from(f.buffer);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + b.length] };
    chunks.push(b);
    off += b.length;
  }
  let h = JSON.stringify(header);
  h += ' '.repeat((8 - (h.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(h)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(h, 'utf8'), ...chunks]));
  return file;
}

// ---- programs --------------------------------------------------------------
function run(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const msg = `${[cmd, ...args].join(' ')} exited ${e.status}:\n${e.stdout || ''}${e.stderr || ''}`;
    throw new Error(msg);
  }
}

// A seqc training program driven with arrays ({name: {data, shape, dtype}}).
class Program {
  constructor(seqc, seqFile, dir) {
    fs.mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.bin = path.join(dir, 'model');
    run(seqc, ['build', seqFile, '-o', this.bin]);
  }

  specs(flag, tag, arrays) {
    const out = [];
    for (const [name, a] of Object.entries(arrays)) {
      out.push(flag, `${name}=${writeNpy(path.join(this.dir, `${tag}_${name}.npy`), a)}`);
    }
    return out;
  }

  predict(weights, x, outputs, n) {
    const files = Object.fromEntries(outputs.map((o) => [o, path.join(this.dir, `out_${o}.npy`)]));
    const outs = outputs.length === 1 ? ['--out', files[outputs[0]]]
      : outputs.flatMap((o) => ['--out', `${o}=${files[o]}`]);
    run(this.bin, ['predict', '--weights', weights, ...this.specs('--x', 'x', x), ...outs,
      '--batch-size', String(n)]);
    return Object.fromEntries(outputs.map((o) => [o, readNpy(files[o])]));
  }

  grad(weights, x, y) {
    const out = path.join(this.dir, 'grad.safetensors');
    run(this.bin, ['grad', '--weights', weights, ...this.specs('--x', 'x', x),
      ...this.specs('--y', 'y', y), '--out', out]);
    const g = readSafetensors(out);
    const loss = g.loss.data[0];
    delete g.loss;
    return { loss, grads: g };
  }

  train(weights, x, y, { epochs, batchSize, lr }) {
    const out = path.join(this.dir, 'trained.safetensors');
    run(this.bin, ['train', '--load', weights, '--save', out, '--epochs', String(epochs),
      '--batch-size', String(batchSize), '--lr', String(lr), '--seed', '1', '--quiet',
      '--no-shuffle', ...this.specs('--x', 'x', x), ...this.specs('--y', 'y', y)]);
    return readSafetensors(out);
  }
}

// ---- report ----------------------------------------------------------------
class Report {
  constructor(name) { this.name = name; this.failed = []; this.worst = 0; }

  // pairs: {name: [got {data, shape}, want {data, shape}]}; `keep`, when
  // given, is a 0/1 array over the elements: only those with 1 are compared.
  group(what, pairs, tol = TOL) {
    const maxAbs = (d) => d.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const scales = Object.fromEntries(Object.entries(pairs).map(([k, [, w]]) => [k, maxAbs(w.data)]));
    const floor = 1e-3 * Math.max(0, ...Object.values(scales));
    for (const [k, [got, want, keep]] of Object.entries(pairs)) {
      if (got.shape.join() !== want.shape.join()) {
        this.line(what, k, Infinity, tol, `shape [${got.shape}], tfjs [${want.shape}]`);
        continue;
      }
      let err = 0;
      for (let i = 0; i < want.data.length; i++) {
        if (!keep || keep[i]) err = Math.max(err, Math.abs(got.data[i] - want.data[i]));
        if (Number.isNaN(got.data[i])) err = NaN;
      }
      const scale = Math.max(scales[k], floor) || 1;
      this.line(what, k, err / scale, tol, `scale ${scales[k].toPrecision(3)}` +
        `${floor > scales[k] ? `, floor ${floor.toPrecision(3)} used` : ''}` +
        `${keep ? ', valid steps only' : ''}`);
    }
  }

  line(what, name, err, tol, note) {
    const ok = err <= tol;   // NaN fails
    if (!ok) this.failed.push(`${what} ${name}`);
    this.worst = Number.isNaN(err) ? Infinity : Math.max(this.worst, err);
    console.log(`  ${what.padEnd(8)} ${name.padEnd(44)} max rel err ${err.toExponential(2)}` +
      `  (${note})${ok ? '' : '  FAILED'}`);
  }

  fail(msg) { console.log(`  FAILED: ${msg}`); this.failed.push(msg); }

  exit() {
    if (this.failed.length) {
      console.log(`tfjs ${this.name}: FAILED (${this.failed.length}): ${this.failed.join(', ')}`);
      process.exit(1);
    }
    console.log(`tfjs ${this.name}: OK, worst ${this.worst.toExponential(2)}`);
    process.exit(0);
  }
}

module.exports = { TOL, rng, writeNpy, readNpy, readSafetensors, writeSafetensors, run, Program, Report };
