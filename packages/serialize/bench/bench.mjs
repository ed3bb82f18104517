// Load time and peak memory for a ResNet-18-sized checkpoint (~45 MB) that graft writes itself.
// Usage: pnpm bench (after build). Each measurement runs in a fresh Node process so that
// generating the file does not pollute the memory numbers.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** torchvision's resnet18 state dict layout: [name, shape, dtype]. */
function resnet18Layout() {
  const out = [];
  const conv = (name, o, i, k) => out.push([`${name}.weight`, [o, i, k, k], 'float32']);
  const bn = (name, c) => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var'])
      out.push([`${name}.${p}`, [c], 'float32']);
    out.push([`${name}.num_batches_tracked`, [], 'int64']);
  };
  conv('conv1', 64, 3, 7);
  bn('bn1', 64);
  let inC = 64;
  [64, 128, 256, 512].forEach((c, layer) => {
    for (let b = 0; b < 2; b++) {
      const p = `layer${layer + 1}.${b}`;
      conv(`${p}.conv1`, c, b === 0 ? inC : c, 3);
      bn(`${p}.bn1`, c);
      conv(`${p}.conv2`, c, c, 3);
      bn(`${p}.bn2`, c);
      if (b === 0 && inC !== c) {
        conv(`${p}.downsample.0`, c, inC, 1);
        bn(`${p}.downsample.1`, c);
      }
    }
    inC = c;
  });
  out.push(['fc.weight', [1000, 512], 'float32'], ['fc.bias', [1000], 'float32']);
  return out;
}

async function generate(dir) {
  const { fromTypedArray, storageArrayFor } = await import('@graft/tensor');
  const { save } = await import('../dist/node.js');
  let seed = 1;
  const sd = {};
  for (const [name, shape, dtype] of resnet18Layout()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = storageArrayFor(dtype, n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      data[i] = dtype === 'int64' ? 100 : seed / 2 ** 32 - 0.5;
    }
    sd[name] = fromTypedArray(data, shape, dtype);
  }
  const t0 = performance.now();
  await save(sd, join(dir, 'resnet18.pth'));
  const zipMs = performance.now() - t0;
  const t1 = performance.now();
  await save(sd, join(dir, 'resnet18.safetensors'));
  const stMs = performance.now() - t1;
  return { zipMs, stMs };
}

async function measure(path) {
  const { load } = await import('../dist/node.js');
  globalThis.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const sd = await load(path);
  const firstMs = performance.now() - t0;
  const after = process.memoryUsage();
  // Peak over the first load only (maxRSS is a lifetime high-water mark, so read it before the repeats).
  const peakRss = process.resourceUsage().maxRSS * 1024;
  let checksum = 0;
  for (const t of Object.values(sd)) checksum += t.readSync()[0];
  const times = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    await load(path);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({
      firstMs,
      medianMs: times[2],
      rssDelta: after.rss - before.rss,
      arrayBuffersDelta: after.arrayBuffers - before.arrayBuffers,
      peakRssDelta: peakRss - before.rss,
      tensors: Object.keys(sd).length,
      checksum,
    }),
  );
}

if (process.argv[2] === '--measure') {
  await measure(process.argv[3]);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'graft-serialize-bench-'));
  try {
    const { zipMs, stMs } = await generate(dir);
    console.log(`@graft/serialize bench (node ${process.version})`);
    console.log(`save resnet18.pth: ${zipMs.toFixed(0)} ms, resnet18.safetensors: ${stMs.toFixed(0)} ms`);
    for (const file of ['resnet18.pth', 'resnet18.safetensors']) {
      const path = join(dir, file);
      const size = statSync(path).size;
      const r = JSON.parse(
        execFileSync(process.execPath, ['--expose-gc', self, '--measure', path], { encoding: 'utf8' }),
      );
      console.log(
        `load ${file} (${mb(size)}, ${r.tensors} tensors): first ${r.firstMs.toFixed(0)} ms, median of 5 ${r.medianMs.toFixed(0)} ms; ` +
          `arrayBuffers +${mb(r.arrayBuffersDelta)} (${(r.arrayBuffersDelta / size).toFixed(2)}x the file), ` +
          `rss +${mb(r.rssDelta)}, peak rss +${mb(r.peakRssDelta)} (${(r.peakRssDelta / size).toFixed(2)}x)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
