import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSafetensors, saveBytesSync } from '@graft/serialize';
import { arange } from '@graft/tensor';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readCheckpointBytes } from '../checkpoint-source/node.js';
import type { DownloadProgress } from '../checkpoint-source/types.js';
import { type Route, startServer, type TestServer } from '../test-utils/http-server.js';
import { type TempHomes, useTempHomes } from '../test-utils/temp-homes.js';
import { graftCheckpointDir, graftHome, torchHome, torchHubCheckpointDir } from './cache-dirs.js';
import { downloadCheckpoint, ensureCheckpoint } from './download.js';
import { formatProgressLine, stderrProgressBar } from './progress.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

// A small real checkpoint (safetensors of one tensor) and its torchvision-style hashed name.
const checkpoint = saveBytesSync(
  { 'fc.weight': arange(12).reshape(3, 4).float() },
  { format: 'safetensors' },
);
const goodName = `tiny-${sha256(checkpoint).slice(0, 10)}.safetensors`;

let server: TestServer;
let homes: TempHomes;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  homes = await useTempHomes();
  server.routes.clear();
  server.requests.clear();
});
afterEach(async () => {
  await homes.restore();
});

/** A route that sends `bytes` in `pieces` writes a few milliseconds apart, so the client sees several chunks. */
function inPieces(bytes: Uint8Array, pieces: number): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': bytes.byteLength });
    const step = Math.ceil(bytes.byteLength / pieces);
    let offset = 0;
    const next = () => {
      const end = Math.min(bytes.byteLength, offset + step);
      res.write(bytes.subarray(offset, end));
      offset = end;
      if (offset < bytes.byteLength) setTimeout(next, 5);
      else res.end();
    };
    next();
  };
}

async function leftovers(dir: string): Promise<string[]> {
  return existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.partial')) : [];
}

describe('cache folders', () => {
  it('follow GRAFT_HOME and TORCH_HOME', () => {
    expect(graftHome()).toBe(homes.graftHome);
    expect(graftCheckpointDir()).toBe(join(homes.graftHome, 'checkpoints'));
    expect(torchHome()).toBe(homes.torchHome);
    expect(torchHubCheckpointDir()).toBe(join(homes.torchHome, 'hub', 'checkpoints'));
  });

  it('default to XDG_CACHE_HOME/graft and XDG_CACHE_HOME/torch, as torch.hub does', () => {
    delete process.env.GRAFT_HOME;
    delete process.env.TORCH_HOME;
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(homes.root, 'xdg');
    try {
      expect(graftCheckpointDir()).toBe(join(homes.root, 'xdg', 'graft', 'checkpoints'));
      expect(torchHubCheckpointDir()).toBe(join(homes.root, 'xdg', 'torch', 'hub', 'checkpoints'));
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});

describe('ensureCheckpoint', () => {
  it('downloads into the graft cache with progress, checks the hash, and keeps no temp file', async () => {
    server.routes.set(`/models/${goodName}`, inPieces(checkpoint, 4));
    const events: DownloadProgress[] = [];
    const got = await ensureCheckpoint(`${server.origin}/models/${goodName}`, {
      progress: false,
      onProgress: (p) => events.push(p),
    });
    expect(got).toEqual({ path: join(homes.graftHome, 'checkpoints', goodName), origin: 'download' });
    expect(new Uint8Array(await readFile(got.path))).toEqual(checkpoint);
    expect(await leftovers(graftCheckpointDir())).toEqual([]);

    expect(events.length).toBeGreaterThanOrEqual(2);
    const last = events[events.length - 1];
    expect(last).toMatchObject({
      done: true,
      receivedBytes: checkpoint.byteLength,
      totalBytes: checkpoint.byteLength,
      fileName: goodName,
    });
    for (let i = 1; i < events.length; i++)
      expect(events[i].receivedBytes).toBeGreaterThanOrEqual(events[i - 1].receivedBytes);
    expect(events.filter((e) => !e.done).length).toBeGreaterThanOrEqual(2);

    // The downloaded file is a checkpoint that reads back.
    expect(Object.keys(readSafetensors(new Uint8Array(await readFile(got.path))).tensors)).toEqual([
      'fc.weight',
    ]);
  });

  it('uses the graft cache on the second call without a request', async () => {
    server.routes.set(`/models/${goodName}`, checkpoint);
    const url = `${server.origin}/models/${goodName}`;
    await ensureCheckpoint(url, { progress: false });
    const again = await ensureCheckpoint(url, { progress: false });
    expect(again.origin).toBe('graft-cache');
    expect(server.requests.get(`/models/${goodName}`)).toBe(1);
  });

  it("uses PyTorch's cache ($TORCH_HOME/hub/checkpoints) before downloading", async () => {
    await mkdir(torchHubCheckpointDir(), { recursive: true });
    await writeFile(join(torchHubCheckpointDir(), goodName), checkpoint);
    const got = await ensureCheckpoint(`${server.origin}/models/${goodName}`, { progress: false });
    expect(got).toEqual({
      path: join(homes.torchHome, 'hub', 'checkpoints', goodName),
      origin: 'torch-cache',
    });
    expect(server.requests.size).toBe(0);
    expect(existsSync(join(graftCheckpointDir(), goodName))).toBe(false);
  });

  it("prefers graft's cache over PyTorch's", async () => {
    for (const dir of [graftCheckpointDir(), torchHubCheckpointDir()]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, goodName), checkpoint);
    }
    expect((await ensureCheckpoint(`${server.origin}/x/${goodName}`, { progress: false })).origin).toBe(
      'graft-cache',
    );
  });

  it('refuses a file whose sha256 does not match the prefix in its name, and removes the temp file', async () => {
    const badName = `tiny-${'0'.repeat(10)}.safetensors`;
    server.routes.set(`/models/${badName}`, checkpoint);
    await expect(ensureCheckpoint(`${server.origin}/models/${badName}`, { progress: false })).rejects.toThrow(
      `invalid hash value for ${server.origin}/models/${badName}: expected sha256 starting with "0000000000", got "${sha256(checkpoint)}"`,
    );
    expect(existsSync(join(graftCheckpointDir(), badName))).toBe(false);
    expect(await leftovers(graftCheckpointDir())).toEqual([]);
  });

  it('downloads without a check when the name carries no hash, or when told hashPrefix: null', async () => {
    server.routes.set('/plain.safetensors', checkpoint);
    server.routes.set('/named-0000000000.safetensors', checkpoint);
    expect((await ensureCheckpoint(`${server.origin}/plain.safetensors`, { progress: false })).origin).toBe(
      'download',
    );
    const forced = await ensureCheckpoint(`${server.origin}/named-0000000000.safetensors`, {
      progress: false,
      hashPrefix: null,
    });
    expect(forced.origin).toBe('download');
  });

  it('checks an explicit hash prefix and caches under an explicit file name', async () => {
    server.routes.set('/blob', checkpoint);
    await expect(
      ensureCheckpoint(`${server.origin}/blob`, {
        progress: false,
        fileName: 'mine.safetensors',
        hashPrefix: 'ffffffff',
      }),
    ).rejects.toThrow(/invalid hash value/);
    const got = await ensureCheckpoint(`${server.origin}/blob`, {
      progress: false,
      fileName: 'mine.safetensors',
      hashPrefix: sha256(checkpoint).slice(0, 8),
    });
    expect(got.path).toBe(join(graftCheckpointDir(), 'mine.safetensors'));
  });

  it('reports an HTTP error and leaves nothing behind', async () => {
    await expect(
      ensureCheckpoint(`${server.origin}/missing-12345678.pth`, { progress: false }),
    ).rejects.toThrow(`download: ${server.origin}/missing-12345678.pth failed: HTTP 404 Not Found`);
    expect(await leftovers(graftCheckpointDir())).toEqual([]);
    expect(existsSync(join(graftCheckpointDir(), 'missing-12345678.pth'))).toBe(false);
  });

  it('refuses a truncated download', async () => {
    server.routes.set(`/cut/${goodName}`, (_req, res) => {
      res.writeHead(200, { 'content-length': checkpoint.byteLength });
      res.write(checkpoint.subarray(0, 10));
      setTimeout(() => res.destroy(), 20);
    });
    await expect(ensureCheckpoint(`${server.origin}/cut/${goodName}`, { progress: false })).rejects.toThrow();
    expect(existsSync(join(graftCheckpointDir(), goodName))).toBe(false);
    expect(await leftovers(graftCheckpointDir())).toEqual([]);
  });
});

describe('downloadCheckpoint', () => {
  it('writes atomically: nothing at the destination until the whole file is checked', async () => {
    let release: () => void = () => {};
    const halfSent = new Promise<void>((resolveHalf) => {
      server.routes.set(`/slow/${goodName}`, (_req, res) => {
        res.writeHead(200, { 'content-length': checkpoint.byteLength });
        res.write(checkpoint.subarray(0, 16));
        resolveHalf();
        release = () => res.end(checkpoint.subarray(16));
      });
    });
    const dest = join(homes.root, 'out', goodName);
    const done = downloadCheckpoint(`${server.origin}/slow/${goodName}`, dest, { progress: false });
    await halfSent;
    // Give the client time to write the first bytes to its temp file.
    for (let i = 0; i < 50 && (await leftovers(join(homes.root, 'out'))).length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(dest)).toBe(false);
    expect((await leftovers(join(homes.root, 'out'))).length).toBe(1);
    release();
    await done;
    expect(new Uint8Array(await readFile(dest))).toEqual(checkpoint);
    expect(await leftovers(join(homes.root, 'out'))).toEqual([]);
  });
});

describe('readCheckpointBytes (Node)', () => {
  it('reads paths, file URLs and http URLs (through the cache)', async () => {
    const path = join(homes.root, 'local.safetensors');
    await writeFile(path, checkpoint);
    expect(await readCheckpointBytes({ source: path })).toEqual(checkpoint);
    expect(await readCheckpointBytes({ source: pathToFileURL(path).href })).toEqual(checkpoint);
    server.routes.set(`/m/${goodName}`, checkpoint);
    expect(await readCheckpointBytes({ source: `${server.origin}/m/${goodName}`, progress: false })).toEqual(
      checkpoint,
    );
    expect(existsSync(join(graftCheckpointDir(), goodName))).toBe(true);
  });

  it('names a missing file', async () => {
    const path = join(homes.root, 'nope.pth');
    await expect(readCheckpointBytes({ source: path })).rejects.toThrow(
      `weights: no checkpoint file at ${path}`,
    );
  });
});

describe('progress bar', () => {
  it('formats name, percentage, bar, sizes', () => {
    const line = formatProgressLine(
      {
        url: 'u',
        fileName: 'resnet18-f37072fd.pth',
        receivedBytes: 23 * 1048576,
        totalBytes: 46 * 1048576,
        done: false,
      },
      2,
      10,
    );
    expect(line).toBe('resnet18-f37072fd.pth:  50% [#####.....] 23.0 MB/46.0 MB 11.5 MB/s');
    expect(
      formatProgressLine(
        { url: 'u', fileName: 'f', receivedBytes: 1048576, totalBytes: null, done: false },
        0,
      ),
    ).toBe('f: 1.0 MB');
  });

  it('draws only on a terminal', () => {
    const writes: string[] = [];
    const fake = (isTTY: boolean) =>
      ({ isTTY, write: (s: string) => writes.push(s) }) as unknown as NodeJS.WriteStream;
    const event: DownloadProgress = { url: 'u', fileName: 'f', receivedBytes: 1, totalBytes: 2, done: true };
    stderrProgressBar(fake(false))(event);
    expect(writes).toEqual([]);
    stderrProgressBar(fake(true))(event);
    expect(writes.length).toBe(1);
    expect(writes[0]).toMatch(/^\rf:\s+50% \[#+\.+\] 0\.0 MB\/0\.0 MB/);
    expect(writes[0].endsWith('\n')).toBe(true);
  });
});
