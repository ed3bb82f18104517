// Plain JavaScript, as a user runs it: a checkpoint that is in neither cache and cannot be downloaded
// fails with the URL, the file name and both folders graft reads; a download first says what it fetches
// and where it goes (torch.hub's `Downloading: "<url>" to <path>`), unless told to be quiet.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResNet18Weights, resnet18 } from '@graft/models';
import {
  DownloadError,
  ensureCheckpoint,
  graftCheckpointDir,
  torchHubCheckpointDir,
} from '@graft/models/node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../test-utils/http-server.ts';
import { useTempHomes } from '../test-utils/temp-homes.ts';

const bytes = new Uint8Array(4096).map((_, i) => (i * 31) % 256);
const hashedName = `blob-${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}.bin`;

let homes;
beforeEach(async () => {
  homes = await useTempHomes();
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  await homes.restore();
});

/** A URL on 127.0.0.1 where nothing listens any more: a real refused connection. */
async function closedPortUrl(fileName) {
  const server = await startServer();
  const origin = server.origin;
  await server.close();
  return `${origin}/models/${fileName}`;
}

/** What the error must tell an offline user: what failed, the file, and both folders with their variables. */
function expectOfflineAdvice(message, url, fileName) {
  const lines = message.split('\n');
  expect(lines[0]).toMatch(new RegExp(`^download: ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed: `));
  expect(message).toContain(`graft looks for ${fileName} in these folders, in order, before downloading it:`);
  expect(lines).toContain(
    `  ${join(homes.graftHome, 'checkpoints')}  (graft's cache: $GRAFT_HOME/checkpoints, default ~/.cache/graft/checkpoints)`,
  );
  expect(lines).toContain(
    `  ${join(homes.torchHome, 'hub', 'checkpoints')}  (PyTorch's cache: $TORCH_HOME/hub/checkpoints, default ~/.cache/torch/hub/checkpoints)`,
  );
  expect(message).toContain(`copy ${fileName} into either folder`);
}

describe('a download that cannot be made', () => {
  it('names the URL, the file name and both cache folders (connection refused)', async () => {
    const url = await closedPortUrl('resnet18-f37072fd.pth');
    const err = await ensureCheckpoint(url, { progress: false }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.url).toBe(url);
    expect(err.fileName).toBe('resnet18-f37072fd.pth');
    expect(err.message.split('\n')[0]).toMatch(/failed: fetch failed \(.*ECONNREFUSED/);
    expectOfflineAdvice(err.message, url, 'resnet18-f37072fd.pth');
  });

  it("offline with empty caches, resnet18({ weights: 'IMAGENET1K_V1' }) names torchvision's URL and file", async () => {
    const cause = Object.assign(new Error('getaddrinfo ENOTFOUND download.pytorch.org'), {
      code: 'ENOTFOUND',
    });
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('fetch failed', { cause });
      }),
    );
    const err = await resnet18({ weights: 'IMAGENET1K_V1', progress: false }).catch((e) => e);
    expect(err.message.split('\n')[0]).toBe(
      'download: https://download.pytorch.org/models/resnet18-f37072fd.pth failed: fetch failed (getaddrinfo ENOTFOUND download.pytorch.org)',
    );
    expectOfflineAdvice(err.message, ResNet18Weights.IMAGENET1K_V1.url, 'resnet18-f37072fd.pth');
    // The error fetch threw stays reachable, with undici's reason under it.
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(err.cause.cause).toBe(cause);
  });

  it('says the same for an HTTP error', async () => {
    const server = await startServer();
    try {
      const url = `${server.origin}/gone/${hashedName}`;
      const err = await ensureCheckpoint(url, { progress: false }).catch((e) => e);
      expect(err.message.split('\n')[0]).toBe(`download: ${url} failed: HTTP 404 Not Found`);
      expectOfflineAdvice(err.message, url, hashedName);
    } finally {
      await server.close();
    }
  });

  it('the file put where the message says is then found without a request', async () => {
    const url = await closedPortUrl(hashedName);
    const err = await ensureCheckpoint(url, { progress: false }).catch((e) => e);
    expect(err.message).toContain(torchHubCheckpointDir());
    await mkdir(torchHubCheckpointDir(), { recursive: true });
    await writeFile(join(torchHubCheckpointDir(), hashedName), bytes);
    expect(await ensureCheckpoint(url, { progress: false })).toEqual({
      path: join(torchHubCheckpointDir(), hashedName),
      origin: 'torch-cache',
    });
  });
});

describe('announcing a download', () => {
  it('writes `Downloading: "<url>" to <path>` to stderr first, and reports 0 bytes with the destination', async () => {
    const server = await startServer();
    try {
      server.routes.set(`/m/${hashedName}`, bytes);
      const url = `${server.origin}/m/${hashedName}`;
      const writes = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
        writes.push(String(chunk));
        return true;
      });
      const events = [];
      const got = await ensureCheckpoint(url, { onProgress: (p) => events.push(p) });
      const destination = join(graftCheckpointDir(), hashedName);
      expect(got).toEqual({ path: destination, origin: 'download' });
      expect(writes[0]).toBe(`Downloading: "${url}" to ${destination}\n`);
      expect(events[0]).toEqual({
        url,
        fileName: hashedName,
        destination,
        receivedBytes: 0,
        totalBytes: null,
        done: false,
      });
      expect(events[events.length - 1]).toMatchObject({
        done: true,
        receivedBytes: bytes.byteLength,
        destination,
      });
    } finally {
      await server.close();
    }
  });

  it('stays quiet with progress: false', async () => {
    const server = await startServer();
    try {
      server.routes.set(`/q/${hashedName}`, bytes);
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      await ensureCheckpoint(`${server.origin}/q/${hashedName}`, { progress: false });
      expect(spy).not.toHaveBeenCalled();
    } finally {
      await server.close();
    }
  });
});
