#!/usr/bin/env python3
"""The web example (examples/web/) in headless Chromium against `generate`.

    check_page.py --seqc PATH/seqc --work DIR [--epochs N] [--screenshot PNG]

1. examples/web/build.sh trains examples/charlm/char_lstm.seq for --epochs
   (default 3) and exports it with `export --tfjs`;
2. `char_lstm generate --prime P --length 200 --temperature 0 --seed 7`
   gives the expected text for the primes "The " and "GNU " (greedy: the
   seed changes nothing, and is given to show that);
3. examples/web/serve.js serves the page; chromedriver (Debian's
   chromium-driver, the same version as its chromium) drives headless
   Chromium over the W3C WebDriver HTTP API, with only this standard
   library: it opens the page, waits for the model to load, types the prime
   into the page as key events, and waits for the page's `generated` event
   for that prime; then clears the field and types the second prime;
4. the page's bytes must equal generate's, byte for byte, for both.

Every wait is on an event (a line a process prints, a promise or DOM event
in the page); the timeouts only stop a hung run. Fails, never skips, when
node, chromium, chromedriver or tests/tfjs/node_modules is missing.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRIMES = ["The ", "GNU "]   # the second, typed after clearing the first, starts from zero states again
LENGTH = 200  # the page's default length
HANG = 300  # seconds: a guard against a hung browser, not a measurement


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def need(prog, hint):
    path = shutil.which(prog)
    if not path:
        fail(f"{prog} is not installed ({hint})")
    return path


def first_line(proc, what, want):
    """Read proc's stdout until a line holding `want`; that line."""
    for line in proc.stdout:
        if want in line:
            return line.strip()
    fail(f"{what} exited before printing '{want}' (status {proc.wait()})")


class WebDriver:
    """The few W3C WebDriver commands this test needs."""

    def __init__(self, url):
        self.url = url
        self.sid = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=HANG) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            fail(f"WebDriver {method} {path}: {e.code} {e.read().decode()[:500]}")

    def session(self, chromium):
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1000,760", "--no-first-run", "--no-default-browser-check"]}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]
        self.call("POST", f"/session/{self.sid}/timeouts", {"script": HANG * 1000, "pageLoad": HANG * 1000})

    def s(self, path, method="POST", body=None):
        return self.call(method, f"/session/{self.sid}{path}", {} if body is None and method == "POST" else body)

    def run_async(self, script, *args):
        return self.s("/execute/async", body={"script": script, "args": list(args)})

    def close(self):
        if self.sid:
            self.call("DELETE", f"/session/{self.sid}")


WAIT_READY = """
const done = arguments[arguments.length - 1];
window.seqcPage.ready.then(() => done('ready'), (e) => done('error: ' + e.message));
"""

WAIT_GENERATED = """
const want = arguments[0], done = arguments[arguments.length - 1];
const last = window.seqcPage.last;
if (last && last.prime === want) { done(last.bytes); return; }
document.addEventListener('generated', function on(e) {
  if (e.detail.prime !== want) return;
  document.removeEventListener('generated', on);
  done(e.detail.bytes);
});
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seqc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--screenshot", help="also save the page as this PNG")
    a = ap.parse_args()
    node = need("node", "apt-get install nodejs")
    chromium = need("chromium", "apt-get install chromium")
    driver = need("chromedriver", "apt-get install chromium-driver")
    if not os.path.exists(os.path.join(ROOT, "tests/tfjs/node_modules/@tensorflow/tfjs/dist/tf.min.js")):
        fail("tests/tfjs/node_modules lacks @tensorflow/tfjs: run npm ci --prefix tests/tfjs")

    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, SEQC=os.path.abspath(a.seqc), OUT=work)
    subprocess.run([os.path.join(ROOT, "examples/web/build.sh"), str(a.epochs)], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    want = {}
    for prime in PRIMES:
        gen = subprocess.run([os.path.join(work, "char_lstm"), "generate", "--weights",
                              os.path.join(work, "char_lstm.safetensors"), "--prime", prime, "--length",
                              str(LENGTH), "--temperature", "0", "--seed", "7"],
                             check=True, stdout=subprocess.PIPE).stdout
        want[prime] = gen[:-1] if gen.endswith(b"\n") else gen   # generate ends with a newline

    procs = []
    wd = None
    try:
        server = subprocess.Popen([node, os.path.join(ROOT, "examples/web/serve.js"), "--model",
                                   os.path.join(work, "model"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        procs.append(server)
        page = first_line(server, "serve.js", "serving ").split()[-1]
        port = free_port()
        cd = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.PIPE, text=True)
        procs.append(cd)
        first_line(cd, "chromedriver", "started successfully")
        wd = WebDriver(f"http://127.0.0.1:{port}")
        wd.session(chromium)
        wd.s("/url", body={"url": page})
        state = wd.run_async(WAIT_READY)
        if state != "ready":
            fail(f"the page did not load its model: {state}")
        box = wd.s("/element", body={"using": "css selector", "value": "#prime"})
        elem = next(iter(box.values()))
        for k, prime in enumerate(PRIMES):
            if k:
                wd.s(f"/element/{elem}/clear")
            wd.s(f"/element/{elem}/value", body={"text": prime})   # key events, one per character
            got = bytes(wd.run_async(WAIT_GENERATED, prime))
            print(f"generate: {want[prime].decode('utf-8', 'replace')!r}")
            print(f"page:     {got.decode('utf-8', 'replace')!r}")
            if a.screenshot and k == 0:
                with open(a.screenshot, "wb") as f:
                    f.write(base64.b64decode(wd.s("/screenshot", method="GET")))
            w = want[prime]
            if got != w:
                n = next((i for i in range(min(len(got), len(w))) if got[i] != w[i]), min(len(got), len(w)))
                fail(f"prime {prime!r}: the page's text differs from generate's at byte {n} "
                     f"({len(got)} and {len(w)} bytes)")
        print(f"web page: OK, {LENGTH} generated bytes after each of {len(PRIMES)} primes equal generate's")
    finally:
        if wd:
            wd.close()
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait()


if __name__ == "__main__":
    main()
