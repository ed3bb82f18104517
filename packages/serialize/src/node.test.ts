import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromTypedArray, hostBytes, memoryStats, type Tensor, tensor } from '@graft/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat, load, save, saveInBackground, writeFileAtomicInBackground } from './node.js';
import { fixture } from './test-utils/fixtures.js';
import { ZipArchive } from './zip-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'graft-serialize-'));
// Whether CPU tensors live in WebAssembly memory here (shared memory; see @graft/tensor's heap).
const cpuHeld = hostBytes(64).buffer instanceof SharedArrayBuffer;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node save/load', () => {
  it('chooses the format by extension when saving and by bytes when loading', async () => {
    const sd = { w: tensor([1, 2, 3]) };
    await save(sd, join(dir, 'model.safetensors'));
    await save(sd, join(dir, 'model.pth'));
    await save(sd, join(dir, 'net_params.pkl'));
    expect(detectFormat(readFileSync(join(dir, 'model.safetensors')))).toBe('safetensors');
    expect(detectFormat(readFileSync(join(dir, 'model.pth')))).toBe('pytorch-zip');
    // torch.save names the zip's folder after the file; so does save().
    expect(new ZipArchive(readFileSync(join(dir, 'net_params.pkl'))).names[0]).toBe('net_params/data.pkl');
    // A PyTorch file with a misleading extension still loads.
    writeFileSync(join(dir, 'weights.safetensors'), fixture('state_dict_legacy.pth'));
    const legacy = (await load(join(dir, 'weights.safetensors'))) as Record<string, Tensor>;
    expect(legacy['4.bias'].shape).toEqual([4]);
    for (const name of ['model.safetensors', 'model.pth', 'net_params.pkl']) {
      const back = (await load(join(dir, name))) as Record<string, Tensor>;
      expect([...back.w.readSync()], name).toEqual([1, 2, 3]);
    }
  });

  it('reads float32 tensors straight into tensor memory: one copy of the file, not two', async () => {
    const n = 1 << 18;
    const sd: Record<string, Tensor> = {};
    for (let k = 0; k < 4; k++)
      sd[`w${k}`] = fromTypedArray(
        new Float32Array(n).map((_, i) => i * k),
        [n],
      );
    sd.steps = tensor([3], { dtype: 'int64' });
    for (const name of ['big.pth', 'big.safetensors']) {
      await save(sd, join(dir, name));
      const size = statSync(join(dir, name)).size;
      const live = memoryStats().live;
      const buffers = process.memoryUsage().arrayBuffers;
      const back = (await load(join(dir, name))) as Record<string, Tensor>;
      if (cpuHeld) {
        // The file in the heap, its float32 tensors inside it, nothing in JavaScript buffers.
        expect(memoryStats().live - live, name).toBeLessThanOrEqual(size + 64);
        expect(process.memoryUsage().arrayBuffers - buffers, name).toBeLessThan(size / 4);
      }
      for (let k = 0; k < 4; k++) expect(back[`w${k}`].readSync()[n - 1], name).toBe((n - 1) * k);
      expect([...back.steps.readSync()].map(Number)).toEqual([3]);
      for (const t of Object.values(back)) t.dispose();
    }
  });

  it('replaces files atomically and leaves the old file when a save fails', async () => {
    const path = join(dir, 'ckpt.pth');
    await save({ step: 1 }, path);
    await save({ step: 2 }, path);
    expect(await load(path)).toEqual({ step: 2 });
    await expect(save({ step: 3, bad: undefined } as never, path)).rejects.toThrow(
      /cannot save a value of type undefined/,
    );
    expect(await load(path)).toEqual({ step: 2 });
    // A failing rename (the target is a directory) removes the temp file.
    mkdirSync(join(dir, 'taken.pth'));
    await expect(save({ step: 4 }, join(dir, 'taken.pth'))).rejects.toThrow(/EISDIR|EEXIST|ENOTEMPTY|EPERM/);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('saveInBackground: the file holds the values at staging, though they change before it is in place', async () => {
    const path = join(dir, 'bg.pth');
    await save({ step: 0 }, path);
    const w = fromTypedArray(new Float32Array(1 << 16).fill(1), [1 << 16]);
    const pending = await saveInBackground({ step: 1, w }, path);
    expect(pending.path).toBe(path);
    // The training loop goes on: an in-place update after staging does not reach the file.
    w.add_(1);
    await pending.done;
    const back = (await load(path)) as { step: number; w: Tensor };
    expect(back.step).toBe(1);
    expect(new Set(back.w.readSync())).toEqual(new Set([1]));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // Bytes too: the caller's array may be reused once staged.
    const bytes = new TextEncoder().encode('first');
    const text = await writeFileAtomicInBackground(join(dir, 'bg.txt'), bytes);
    bytes.fill(0);
    await text.done;
    expect(readFileSync(join(dir, 'bg.txt'), 'utf8')).toBe('first');
  });

  it('saveInBackground: a failed stage rejects at once; a failed commit rejects `done` and leaves no temp file', async () => {
    await expect(saveInBackground({ step: 1 }, join(dir, 'no-such-dir', 'x.pth'))).rejects.toThrow(/ENOENT/);
    await expect(saveInBackground({ bad: undefined } as never, join(dir, 'y.pth'))).rejects.toThrow(
      /cannot save a value of type undefined/,
    );
    mkdirSync(join(dir, 'taken-bg.pth'));
    const pending = await saveInBackground({ step: 2 }, join(dir, 'taken-bg.pth'));
    await expect(pending.done).rejects.toThrow(/EISDIR|EEXIST|ENOTEMPTY|EPERM/);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('reports a missing file', async () => {
    await expect(load(join(dir, 'missing.pth'))).rejects.toThrow(/ENOENT/);
  });
});
