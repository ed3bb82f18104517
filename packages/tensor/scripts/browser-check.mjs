// Runs graft inside headless Chromium and checks it against Node:
// - the CPU backend's Web Worker pool: the page is served cross-origin isolated (COOP/COEP), so
//   setNumThreads(2) starts a worker over shared WebAssembly memory; a convolution with its gradients and
//   a matmul must run partly on the worker and equal the one-thread results bit for bit;
// - a short training loop on the WebGPU backend (--enable-unsafe-webgpu, SwiftShader adapter), whose
//   losses must match the same loop on the CPU backend in Node.
//
//   pnpm build && node scripts/browser-check.mjs      (needs Debian's chromium: apt-get install chromium)
//
// The page is served from 127.0.0.1 on a free port; Chromium is started and stopped by this script.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
if (!existsSync(join(dist, 'index.js'))) {
  console.error('browser-check: build first (pnpm build)');
  process.exit(1);
}
const browser = process.env.CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : 'chromium');

// The loop, written once: run in the page on 'webgpu' and here on 'cpu'.
const loop = `async (T, device) => {
  T.manualSeed(3);
  const x = T.randn(16, 12).to(device);
  const y = T.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]).to(device);
  const w1 = T.randn(8, 12).mul(0.3).to(device).requiresGrad_();
  const w2 = T.randn(4, 8).mul(0.3).to(device).requiresGrad_();
  const losses = [];
  for (let i = 0; i < 8; i++) {
    const h = T.linear(x, w1).relu();
    const loss = T.crossEntropy(T.linear(h, w2), y);
    loss.backward();
    T.noGrad(() => { for (const w of [w1, w2]) { w.sub_(w.grad.mul(0.3)); w.grad = null; } });
    losses.push(await loss.item());
  }
  return losses;
}`;

// CPU threads in the page: the same work on 2 threads and on 1, compared bit for bit.
const cpuThreads = `async (T) => {
  const work = () => {
    T.manualSeed(7);
    const x = T.randn([4, 16, 34, 30], { requiresGrad: true });
    const w = T.randn([32, 16, 3, 3], { requiresGrad: true });
    const y = T.conv2d(x, w, null, { padding: 1 });
    y.square().sum().backward();
    const m = T.randn(200, 300).matmul(T.randn(300, 700));
    return [y, x.grad, w.grad, m].map((t) => Array.from(t.readSync()));
  };
  const threads = T.setNumThreads(2);
  // Web Workers start once the page yields to its event loop.
  for (let i = 0; i < 100 && T.threadPoolStats().workersReady < 1; i++) await new Promise((r) => setTimeout(r, 20));
  const two = work();
  const stats = T.threadPoolStats();
  T.setNumThreads(1);
  const one = work();
  const differ = two.reduce((n, a, k) => n + a.filter((v, i) => v !== one[k][i]).length, 0);
  return { isolated: self.crossOriginIsolated, threads, stats, differ, values: one.reduce((n, a) => n + a.length, 0) };
}`;

const page = `<!doctype html><meta charset="utf-8"><pre id="out">running</pre><script type="module">
import * as T from '/dist/index.js';
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
try {
  const cpu = await (${cpuThreads})(T);
  const backend = await T.initWebGpu();
  const losses = await (${loop})(T, 'webgpu');
  await report({ cpu, adapter: backend.adapterInfo, losses });
} catch (e) { await report({ error: String(e && e.message || e) }); }
</script>`;

/** Cross-origin isolation, so the page gets SharedArrayBuffer (and with it the worker pool). */
const ISOLATED = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

let resolveResult;
const result = new Promise((r) => {
  resolveResult = r;
});
const server = http.createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0];
  if (url === '/result') {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      res.end('ok');
      resolveResult(JSON.parse(body));
    });
    return;
  }
  if (url === '/' || url === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html', ...ISOLATED });
    res.end(page);
    return;
  }
  const file = normalize(join(dist, url.replace(/^\/dist\//, '')));
  if (!url.startsWith('/dist/') || !file.startsWith(dist) || !existsSync(file)) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/javascript', ...ISOLATED });
  res.end(readFileSync(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const profile = mkdtempSync(join(tmpdir(), 'graft-chromium-'));
const chrome = spawn(
  browser,
  [
    '--headless=new',
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-angle=swiftshader',
    '--use-webgpu-adapter=swiftshader',
    `--user-data-dir=${profile}`,
    `http://127.0.0.1:${port}/`,
  ],
  { stdio: 'ignore' },
);
const timeout = setTimeout(() => resolveResult({ error: 'no result from the page within 120 s' }), 120_000);
const got = await result;
clearTimeout(timeout);
const exited = new Promise((r) => chrome.once('exit', r));
chrome.kill('SIGTERM');
await exited;
server.close();
try {
  rmSync(profile, { recursive: true, force: true });
} catch {
  // a profile file still being written is left in the temp dir
}

if (got.error) {
  console.error(`browser-check: the page failed: ${got.error}`);
  process.exit(1);
}
const { cpu: threads } = got;
console.log(
  `cpu threads (chromium): isolated=${threads.isolated}, ${threads.threads} threads, ${threads.stats.workerTasks} tasks on the worker, ${threads.differ} of ${threads.values} values differ from 1 thread`,
);
if (!threads.isolated || threads.threads !== 2 || !(threads.stats.workerTasks > 0) || threads.differ !== 0) {
  console.error('browser-check: the CPU worker pool did not run, or its results differ from one thread');
  process.exit(1);
}
const T = await import(join(dist, 'index.js'));
// The loop is this script's own source text, shared with the page; Function builds it here too.
const cpu = await new Function(`return ${loop}`)()(T, 'cpu');
const bad = got.losses.map((l, i) => Math.abs(l - cpu[i]) / Math.abs(cpu[i])).findIndex((r) => !(r <= 1e-4));
console.log(`adapter: ${JSON.stringify(got.adapter)}`);
console.log(`webgpu (chromium) losses: ${got.losses.map((l) => l.toFixed(6)).join(' ')}`);
console.log(`cpu (node) losses:        ${cpu.map((l) => l.toFixed(6)).join(' ')}`);
if (bad >= 0) {
  console.error(`browser-check: step ${bad} differs by more than 1e-4 relative`);
  process.exit(1);
}
console.log('browser-check: losses match to 1e-4 relative');
process.exit(0);
