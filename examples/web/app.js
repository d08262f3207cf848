// app.js: greedy text generation in the browser from a model exported with
// `char_lstm export --tfjs model/`, byte for byte as `char_lstm generate
// --temperature 0` does it (runtime/src/text.c):
//   - the prime's bytes map to ids through the vocabulary saved with the
//     weights (model.json userDefinedMetadata.seqc.text.vocab: id -> byte);
//   - a stateful model starts from zero states and reads one byte per step,
//     so here its recurrent layers are loaded as TensorFlow.js stateful
//     layers with a batch of one step, reset before each prime;
//     another model re-reads the last `bptt` bytes at every step;
//   - the next byte is the argmax of the output's last step over the
//     vocabulary (the first index on a tie, as seqc takes it).
// Every finished generation is announced with a `generated` event on
// document (detail: {prime, text, bytes}) and kept in window.seqcPage.last, so a
// test can wait for it instead of for a clock.
'use strict';

(function () {
  const page = { ready: null, last: null };
  window.seqcPage = page;
  const $ = (id) => document.getElementById(id);
  const status = (s) => { $('status').textContent = s; };

  // model.json with its recurrent layers made stateful over [1, 1] inputs
  // when the model generates one byte per step.
  async function loadModel(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const json = await res.json();
    const meta = json.userDefinedMetadata && json.userDefinedMetadata.seqc && json.userDefinedMetadata.seqc.text;
    if (!meta) throw new Error(`${url} has no vocabulary: export a model trained with --text`);
    if (meta.stateful) {
      for (const l of json.modelTopology.config.layers) {
        if (l.class_name === 'InputLayer') l.config.batch_input_shape = [1, 1];
        if (l.config && 'stateful' in l.config) l.config.stateful = true;
      }
    }
    const base = url.slice(0, url.lastIndexOf('/') + 1);
    const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths)
      .map((p) => fetch(base + p).then((r) => {
        if (!r.ok) throw new Error(`${base + p}: HTTP ${r.status}`);
        return r.arrayBuffer();
      })));
    const bytes = new Uint8Array(shards.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of shards) { bytes.set(new Uint8Array(b), at); at += b.byteLength; }
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bytes.buffer,
    }));
    return { model, meta };
  }

  // The scores of the last step after feeding ids (the whole context, or
  // one id to a stateful model).
  function scores(model, meta, ids) {
    return tf.tidy(() => {
      const out = model.predict(tf.tensor2d([ids], [1, ids.length], 'int32'));
      const y = Array.isArray(out) ? out[meta.output] : out;
      const [, T, C] = y.shape;
      return y.slice([0, T - 1, 0], [1, 1, C]).dataSync();
    });
  }

  function argmax(row, n) {
    let best = 0;
    for (let i = 1; i < n; i++) if (row[i] > row[best]) best = i;
    return best;
  }

  let generation = 0;   // a newer prime cancels the running generation

  async function generate(m, prime, length) {
    const mine = ++generation;
    const { model, meta } = m;
    const id = new Map(meta.vocab.map((b, i) => [b, i]));
    const bytes = new TextEncoder().encode(prime);
    const bad = bytes.findIndex((b) => !id.has(b));
    if (!bytes.length || bad >= 0) {
      status(bytes.length ? `byte ${bad} of the prime (0x${bytes[bad].toString(16)}) is not in the training text's vocabulary`
        : 'type a prime');
      $('out').textContent = '';
      return;
    }
    const ctx = [];
    const out = [];
    const n = meta.vocab.length, total = bytes.length + length;
    if (meta.stateful) model.resetStates();
    let row = null;
    for (let i = 0; i < total; i++) {   // the loop of seqrt_text_generate
      if (i >= bytes.length) {
        ctx.push(argmax(row, n));
        out.push(meta.vocab[ctx[i]]);
        if (out.length % 16 === 0) {
          show(prime, out);
          await new Promise((r) => setTimeout(r, 0));   // let the page repaint and take keys
          if (mine !== generation) return;
        }
      } else {
        ctx.push(id.get(bytes[i]));
      }
      if (i + 1 === total) break;
      row = meta.stateful ? scores(model, meta, [ctx[i]])
        : scores(model, meta, ctx.slice(Math.max(0, i + 1 - meta.bptt), i + 1));
    }
    if (mine !== generation) return;
    show(prime, out);
    const text = new TextDecoder().decode(new Uint8Array([...bytes, ...out]));
    status(`generated ${out.length} bytes after a prime of ${bytes.length}`);
    page.last = { prime, text, bytes: [...bytes, ...out] };
    document.dispatchEvent(new CustomEvent('generated', { detail: page.last }));
  }

  function show(prime, out) {
    const el = $('out');
    el.textContent = '';
    const b = document.createElement('b');
    b.textContent = prime;
    el.append(b, new TextDecoder().decode(new Uint8Array(out)));
  }

  page.ready = (async () => {
    await tf.setBackend('cpu');   // the same arithmetic on every machine, GPU or not
    const m = await loadModel('model/model.json');
    const run = () => generate(m, $('prime').value, Math.max(1, Math.min(2000, Number($('length').value) || 200)));
    $('prime').addEventListener('input', run);
    $('length').addEventListener('change', run);
    $('prime').disabled = false;
    $('prime').placeholder = 'The ';
    $('prime').focus();
    status(`model loaded: ${m.model.countParams()} parameters, ${m.meta.vocab.length} bytes in the vocabulary` +
      `${m.meta.stateful ? ', stateful' : ''}; type a prime`);
  })();
  page.ready.catch((e) => status(`error: ${e.message}`));
})();
