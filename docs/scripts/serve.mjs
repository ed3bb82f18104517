// A small static server for the built site (docs/dist) on 127.0.0.1: used by the browser test and by
// `pnpm docs:preview`. Only GET and HEAD, only files under the root, nothing else.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

async function fileFor(root, pathname) {
  const clean = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  const target = resolve(root, clean);
  if (target !== root && !target.startsWith(root + sep)) return null;
  // VitePress pages: /guide/x -> guide/x.html, /guide/ -> guide/index.html
  for (const candidate of [target, `${target}.html`, join(target, 'index.html')]) {
    const s = await stat(candidate).catch(() => null);
    if (s?.isFile()) return { path: candidate, size: s.size };
  }
  return null;
}

/** Serves `root` on 127.0.0.1 at a free port (or `port`); resolves to the server and its base URL. */
export function serve(root, { port = 0, log = false } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const file = await fileFor(base, url.pathname);
      if (log) console.log(req.method, url.pathname, file ? 200 : 404);
      if (!file) {
        const notFound = await fileFor(base, '404.html');
        res.writeHead(404, { 'content-type': TYPES['.html'] });
        if (notFound && req.method === 'GET') createReadStream(notFound.path).pipe(res);
        else res.end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(file.path)] ?? 'application/octet-stream',
        'content-length': file.size,
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file.path).pipe(res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolvePromise({ server, url: `http://127.0.0.1:${address.port}/` });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../dist/', import.meta.url));
  const { url } = await serve(root, { port: Number(process.env.PORT ?? 4173), log: true });
  console.log(`serving ${root} at ${url}`);
}
