// The browser implementation runs on fetch and WebCrypto, both of which Node 20 has: test it here.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../test-utils/http-server.js';
import { readCheckpointBytes } from './browser.js';
import type { DownloadProgress } from './types.js';

const bytes = new Uint8Array(10_000).map((_, i) => (i * 7919) % 251);
const name = `blob-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.bin`;
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
  server.routes.set(`/${name}`, bytes);
  server.routes.set('/blob-0000000000.bin', bytes);
});
afterAll(async () => {
  await server.close();
});

describe('readCheckpointBytes (browser)', () => {
  it('fetches, reports progress and checks the hash prefix in the name', async () => {
    const events: DownloadProgress[] = [];
    const got = await readCheckpointBytes({
      source: `${server.origin}/${name}`,
      onProgress: (p) => events.push(p),
    });
    expect(got).toEqual(bytes);
    expect(events[events.length - 1]).toMatchObject({
      done: true,
      receivedBytes: 10_000,
      totalBytes: 10_000,
      fileName: name,
    });
  });

  it('refuses a hash mismatch and an HTTP error', async () => {
    await expect(readCheckpointBytes({ source: `${server.origin}/blob-0000000000.bin` })).rejects.toThrow(
      /invalid hash value/,
    );
    await expect(readCheckpointBytes({ source: `${server.origin}/nothing.bin` })).rejects.toThrow(/HTTP 404/);
  });

  it('names the file and the URL when the fetch itself fails, with what to do instead', async () => {
    const closed = await startServer();
    const url = `${closed.origin}/${name}`;
    await closed.close();
    const err = (await readCheckpointBytes({ source: url }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      new RegExp(`^weights: downloading ${name} from ${url.replace(/\./g, '\\.')} failed: fetch failed`),
    );
    expect(err.message).toContain(
      `serve ${name} from your own site and pass its URL, or pass the checkpoint's bytes`,
    );
    await expect(readCheckpointBytes({ source: `${server.origin}/nothing.bin` })).rejects.toThrow(
      `weights: downloading nothing.bin from ${server.origin}/nothing.bin failed: HTTP 404 Not Found; serve nothing.bin`,
    );
  });

  it('reports 0 bytes before the request, and refuses unknown request keys', async () => {
    const events: DownloadProgress[] = [];
    await readCheckpointBytes({ source: `${server.origin}/${name}`, onProgress: (p) => events.push(p) });
    expect(events[0]).toEqual({
      url: `${server.origin}/${name}`,
      fileName: name,
      receivedBytes: 0,
      totalBytes: null,
      done: false,
    });
    await expect(
      readCheckpointBytes({ source: `${server.origin}/${name}`, hash_prefix: null } as never),
    ).rejects.toThrow("readCheckpointBytes: unknown option 'hash_prefix'; did you mean 'hashPrefix'?");
  });

  it('explains that local paths need Node', async () => {
    await expect(readCheckpointBytes({ source: '/tmp/resnet18.pth' })).rejects.toThrow(
      /local files need Node/,
    );
  });
});

describe('the main entry is browser-safe', () => {
  // Follow static imports from src/index.ts the way a browser bundler would (the '#checkpoint-source'
  // import resolves to its default, browser, target) and look for Node built-ins.
  const srcDir = dirname(dirname(fileURLToPath(import.meta.url)));
  const pkg = JSON.parse(readFileSync(join(srcDir, '..', 'package.json'), 'utf8')) as {
    imports: Record<string, { default: string }>;
  };

  it('reaches no node: module and no src/node file', () => {
    const seen = new Set<string>();
    const offenders: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm,
      )) {
        const spec = m[1] ?? m[2];
        if (
          spec.startsWith('node:') ||
          ['fs', 'path', 'os', 'crypto', 'http', 'https', 'stream'].includes(spec)
        )
          offenders.push(`${file}: ${spec}`);
        let target: string | null = null;
        if (spec.startsWith('.')) target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        else if (spec.startsWith('#'))
          target = join(srcDir, pkg.imports[spec].default.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'));
        if (target) {
          if (target.startsWith(join(srcDir, 'node'))) offenders.push(`${file}: ${spec}`);
          visit(target);
        }
      }
    };
    visit(join(srcDir, 'index.ts'));
    expect(seen.size).toBeGreaterThan(8);
    expect(offenders).toEqual([]);
  });

  it('maps #checkpoint-source to the Node file only under the node condition', () => {
    expect(pkg.imports['#checkpoint-source']).toEqual({
      types: './dist/checkpoint-source/browser.d.ts',
      node: './dist/checkpoint-source/node.js',
      default: './dist/checkpoint-source/browser.js',
    });
    expect(readdirSync(join(srcDir, 'checkpoint-source')).sort()).toEqual([
      'browser.test.ts',
      'browser.ts',
      'node.ts',
      'types.ts',
    ]);
  });
});
