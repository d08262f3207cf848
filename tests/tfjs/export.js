#!/usr/bin/env node
// export.js: a model trained by seqc, exported with `export --tfjs`, run by
// TensorFlow.js (tfjs-layers 4.22.0, pure-JavaScript CPU backend).
//
//   node tests/tfjs/export.js --seqc PATH/seqc --work DIR MODEL.seq
//   node tests/tfjs/export.js --seqc PATH/seqc --work DIR MODEL.seq --refuses TEXT
//
// For a model tfjs can run: build its training program, train it for two
// epochs on seeded random data (shapes and token ranges from the program's
// own `predict --help`), export it, load model.json and its shard with
// tf.loadLayersModel through a file handler (tfjs-node is not installed,
// and it would be a native add-on), and compare
//   - every output of tfjs's predict with the program's `predict` on the
//     same inputs, within 1e-5 (lib.js states the measure), and
//   - tfjs's parameter count with the program's summary (Keras's count).
// With --refuses: the export must fail (status 1), its message must hold
// TEXT (the layer and option tfjs lacks), and no model.json may be written.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const lib = require('./lib');

function args() {
  const a = process.argv.slice(2);
  const get = (flag, optional) => {
    const i = a.indexOf(flag);
    if (i < 0 || i + 1 >= a.length) {
      if (optional) return null;
      usage(`missing ${flag}`);
    }
    const v = a[i + 1];
    a.splice(i, 2);
    return v;
  };
  const seqc = get('--seqc'), work = get('--work'), refuses = get('--refuses', true);
  if (a.length !== 1) usage('one .seq file expected');
  return { seqc: path.resolve(seqc), work: path.resolve(work), seq: path.resolve(a[0]), refuses };
}

function usage(msg) {
  console.error(`export.js: ${msg}\nusage: node export.js --seqc PATH --work DIR MODEL.seq [--refuses TEXT]`);
  process.exit(2);
}

function loadTf() {
  try {
    return require('@tensorflow/tfjs');
  } catch (e) {
    console.error(`FAIL: the tfjs export checks need @tensorflow/tfjs in ${path.join(__dirname, 'node_modules')}` +
      ` (${e.code || e.message}).\n      run: npm ci --prefix tests/tfjs`);
    process.exit(1);
  }
}

// The inputs, targets and outputs as the program describes them in its
// help: "  inputs   chars   [N, T] int32 in [0, 96)".
function describe(bin) {
  const help = lib.run(bin, ['predict', '--help']);
  const io = { inputs: [], targets: [], outputs: [] };
  let section = null;
  for (const line of help.split('\n')) {
    const m = /^ {2}(inputs|targets|outputs)? +(\S+) +\[N((?:, [^\]]+)*)\] (int32|float32)(?: in \[0, (\d+)\))?$/.exec(line);
    if (!m) continue;
    section = m[1] || section;
    const shape = m[3] ? m[3].slice(2).split(', ').map((d) => (/^\d+$/.test(d) ? Number(d) : d)) : [];
    io[section].push({ name: m[2], shape, isInt: m[4] === 'int32', limit: m[5] ? Number(m[5]) : 0 });
  }
  if (!io.inputs.length || !io.outputs.length) throw new Error(`cannot read the data shapes from ${bin} predict --help`);
  return io;
}

const N = 5;        // samples
const T = 7;        // the length of every named axis

// Seeded data for one input or target. Inputs are sequences with every
// sample but the first right-padded (token id 0, or all-zero steps), so
// the padding masks of Embedding(mask_zero) and Masking take part; token
// ids are otherwise in [1, limit). Targets: ids in [0, limit) or U(0, 1).
function draw(r, d, target) {
  // A named axis is T long, or T-k after valid convolutions ("T-5").
  const len = (x) => (typeof x === 'number' ? x : T - Number((/-(\d+)$/.exec(x) || [0, 0])[1]));
  const shape = [N, ...d.shape.map(len)];
  if (target) return d.isInt ? r.ints(shape, 0, Math.max(1, d.limit)) : r.uniform(shape, 0, 1);
  const a = d.isInt ? r.ints(shape, 1, Math.max(2, d.limit)) : r.normal(shape);
  if (shape.length >= 2) {
    const row = a.data.length / (N * shape[1]);
    for (let i = 1; i < N; i++) {
      const len = 1 + Math.floor(r.next() * shape[1]);
      a.data.fill(0, (i * shape[1] + len) * row, (i + 1) * shape[1] * row);
    }
  }
  return a;
}

// A model without a train block cannot be trained: seeded weights in
// [-0.5, 0.5] under the names and shapes of the parameter table seqc
// prints (`check --dump=ir`; a wrapper's inner layer owns none).
function drawnWeights(a, dir, r) {
  const w = {};
  for (const m of lib.run(a.seqc, ['check', '--dump=ir', a.seq]).matchAll(/^param (\S+) \[([\d, ]*)\] \d+$/gm)) {
    w[m[1]] = r.uniform(m[2].split(',').filter((d) => d.trim()).map(Number), -0.5, 0.5);
  }
  if (!Object.keys(w).length) throw new Error(`seqc check --dump=ir ${a.seq} lists no parameter`);
  return lib.writeSafetensors(path.join(dir, 'drawn.safetensors'), w);
}

// tf.loadLayersModel's IOHandler for a directory on disk: model.json and
// the shards its manifest names, concatenated in manifest order.
function fileHandler(dir) {
  return {
    async load() {
      const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      const shards = j.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const all = Buffer.concat(shards);
      return {
        modelTopology: j.modelTopology, format: j.format, generatedBy: j.generatedBy,
        convertedBy: j.convertedBy, userDefinedMetadata: j.userDefinedMetadata,
        weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

function summaryParams(bin) {
  const m = /^Total params: ([\d,]+)/m.exec(lib.run(bin, ['summary']));
  if (!m) throw new Error(`${bin} summary prints no "Total params"`);
  return Number(m[1].replace(/,/g, ''));
}

// Run the program expecting failure; {status, stderr}.
function runFailing(cmd, argv) {
  try {
    execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stderr: '' };
  } catch (e) {
    return { status: e.status, stderr: e.stderr || '' };
  }
}

async function checkRefusal(a, prog, rep) {
  const w = drawnWeights(a, prog.dir, lib.rng(1));   // valid weights: only the model is refused
  const out = path.join(prog.dir, 'tfjs');
  fs.rmSync(out, { recursive: true, force: true });
  const res = runFailing(prog.bin, ['export', '--tfjs', out, '--weights', w]);
  console.log(`  export: status ${res.status}: ${res.stderr.trim()}`);
  if (res.status !== 1) rep.fail(`export exited ${res.status}, want 1`);
  if (!res.stderr.includes(a.refuses)) rep.fail(`the message lacks "${a.refuses}"`);
  if (res.stderr.trim().split('\n').length !== 1) rep.fail('the message is not one line');
  if (fs.existsSync(path.join(out, 'model.json'))) rep.fail('a model.json was written');
}

// a: {seqc, seq}. With `load` (a weights file), training starts from it
// instead of the program's initializers; `tag` keeps the files of several
// checks of one program apart.
async function checkExport(tf, a, prog, rep, { load = null, tag = '' } = {}) {
  const io = describe(prog.bin);
  const r = lib.rng(1);
  const x = Object.fromEntries(io.inputs.map((d) => [d.name, draw(r, d, false)]));
  const y = Object.fromEntries(io.targets.map((d) => [d.name, draw(r, d, true)]));
  let w = path.join(prog.dir, `${tag}trained.safetensors`);
  if (/^\s*train\s*\{/m.test(fs.readFileSync(a.seq, 'utf8'))) {
    lib.run(prog.bin, ['train', '--epochs', '2', '--batch-size', '2', '--seed', '1', '--quiet', '--save', w,
      ...(load ? ['--load', load] : []), ...prog.specs('--x', 'x', x), ...prog.specs('--y', 'y', y)]);
  } else {
    w = drawnWeights(a, prog.dir, r);
  }
  const out = path.join(prog.dir, `${tag}tfjs`);
  fs.rmSync(out, { recursive: true, force: true });
  // bad usage first: no --tfjs (status 2), a --tfjs that is a file (status 1)
  const usage = runFailing(prog.bin, ['export', '--weights', w]);
  if (usage.status !== 2 || !usage.stderr.includes('export needs --tfjs DIR')) {
    rep.fail(`export without --tfjs: status ${usage.status}, ${usage.stderr.trim()}`);
  }
  const notDir = runFailing(prog.bin, ['export', '--tfjs', w, '--weights', w]);
  if (notDir.status !== 1 || !notDir.stderr.includes('is not a directory')) {
    rep.fail(`export --tfjs FILE: status ${notDir.status}, ${notDir.stderr.trim()}`);
  }
  lib.run(prog.bin, ['export', '--tfjs', out, '--weights', w]);

  const model = await tf.loadLayersModel(fileHandler(out));
  const names = io.outputs.map((o) => o.name);
  const got = prog.predict(w, x, names, N);
  const feed = model.inputNames.map((n) => {
    const d = x[n];
    if (!d) throw new Error(`tfjs input '${n}' is no input of the program`);
    return tf.tensor(d.data, d.shape, d.dtype);
  });
  let want = model.predict(feed.length === 1 ? feed[0] : feed);
  want = Array.isArray(want) ? want : [want];
  if (want.length !== names.length) rep.fail(`tfjs gives ${want.length} outputs, the program ${names.length}`);
  const host = (t) => ({ data: Float64Array.from(t.dataSync()), shape: t.shape });
  rep.group('predict', Object.fromEntries(names.map((n, i) => [n, [got[n], host(want[i])]])));

  const ours = summaryParams(prog.bin), theirs = model.countParams();
  console.log(`  params   seqc summary ${ours}, tfjs countParams ${theirs}${ours === theirs ? '' : '  FAILED'}`);
  if (ours !== theirs) rep.fail(`parameter count: seqc ${ours}, tfjs ${theirs}`);
  return w;
}

async function main() {
  const a = args();
  const name = path.basename(a.seq, '.seq');
  const rep = new lib.Report(`export ${name}`);
  console.log(`== export ${name}: ${path.relative(path.join(__dirname, '../..'), a.seq)}`);
  const tf = loadTf();
  await tf.setBackend('cpu');
  try {
    // a directory per file: tests/models/merge.seq and tests/tfjs/models/merge.seq
    const where = path.relative(path.join(__dirname, '../..'), a.seq).replace(/\.seq$/, '').replace(/[/\\]/g, '_');
    const prog = new lib.Program(a.seqc, a.seq, path.join(a.work, `export_${where}`));
    await (a.refuses ? checkRefusal(a, prog, rep) : checkExport(tf, a, prog, rep));
  } catch (e) {
    rep.fail(process.env.SEQ_TFJS_DEBUG ? e.stack : e.message);
  }
  rep.exit();
}

if (require.main === module) main();

module.exports = { loadTf, fileHandler, checkExport };
