#!/usr/bin/env node
// serve.js: the page's static server (node's standard library only).
//
//   node examples/web/serve.js --model DIR [--port N]
//
// Serves index.html and app.js from this directory, the exported model
// from DIR under /model/, and TensorFlow.js's browser bundle under /tfjs/
// from the project's pinned copy (tests/tfjs/node_modules, installed by
// `npm ci --prefix tests/tfjs`): nothing comes from the network. Listens
// on 127.0.0.1 only; --port 0 takes any free port. Prints the page's URL
// once it listens.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

function args() {
  const a = process.argv.slice(2);
  const o = { port: 8000, model: null };
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] === '--model' && i + 1 < a.length) o.model = path.resolve(a[i + 1]);
    else if (a[i] === '--port' && i + 1 < a.length && /^\d+$/.test(a[i + 1])) o.port = Number(a[i + 1]);
    else fail(`unexpected argument '${a[i]}'`);
  }
  if (!o.model) fail('--model DIR is required (the directory of export --tfjs)');
  if (!fs.existsSync(path.join(o.model, 'model.json'))) fail(`${o.model}/model.json does not exist`);
  return o;
}

function fail(msg) {
  console.error(`serve.js: ${msg}\nusage: node examples/web/serve.js --model DIR [--port N]`);
  process.exit(2);
}

const TFJS = path.join(__dirname, '..', '..', 'tests', 'tfjs', 'node_modules', '@tensorflow', 'tfjs', 'dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png' };

// URL path -> file, or null: only these three roots, no '..' escapes.
function resolve(o, url) {
  const p = decodeURIComponent(url.split('?')[0]);
  const roots = [['/model/', o.model], ['/tfjs/', TFJS], ['/', __dirname]];
  for (const [prefix, dir] of roots) {
    if (!p.startsWith(prefix)) continue;
    const rel = p.slice(prefix.length) || 'index.html';
    const file = path.resolve(dir, rel);
    return file.startsWith(dir + path.sep) ? file : null;
  }
  return null;
}

function main() {
  const o = args();
  if (!fs.existsSync(path.join(TFJS, 'tf.min.js'))) fail(`no ${TFJS}/tf.min.js: run npm ci --prefix tests/tfjs`);
  const server = http.createServer((req, res) => {
    const file = resolve(o, req.url);
    fs.readFile(file || '', (err, data) => {
      if (!file || err) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
        'Cache-Control': 'no-store' });
      res.end(data);
    });
  });
  server.listen(o.port, '127.0.0.1', () => {
    console.log(`serving http://127.0.0.1:${server.address().port}/`);
  });
}

main();
