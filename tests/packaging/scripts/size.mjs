// Reports each package's browser bundle of its main entry, minified and gzipped (level 9), built from the
// workspace's dist/ by esbuild: with its dependencies, and alone (other @graft packages left external).
// `pnpm size` at the root; also part of `pnpm bench`. `--json` prints the numbers as JSON.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../src/browser-bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const packages = readdirSync(join(root, 'packages'))
  .sort()
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => !manifest.private && manifest.exports?.['.']);

const rows = [];
for (const { dir, manifest } of packages) {
  const full = await bundleForBrowser({ specifier: manifest.name, resolveDir: join(here, '..') });
  // Its own entry file by path, so that only the sibling packages it imports are left external.
  const entry = join(dir, manifest.exports['.'].import);
  const alone = await bundleForBrowser({ specifier: entry, resolveDir: dir, external: ['@graft/*'] });
  rows.push({
    name: manifest.name,
    minBytes: full.bytes,
    gzipBytes: full.gzipBytes,
    aloneGzipBytes: alone.gzipBytes,
  });
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  const table = [
    ['package', 'min', 'min+gzip', 'alone min+gzip'],
    ...rows.map((r) => [r.name, kb(r.minBytes), kb(r.gzipBytes), kb(r.aloneGzipBytes)]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log('browser bundles of each main entry (esbuild, platform browser, minified; gzip -9)');
  for (const row of table)
    console.log(
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '),
    );
  console.log(
    "'alone' leaves the other @graft packages out: what the package adds to an app that has them already.",
  );
}
