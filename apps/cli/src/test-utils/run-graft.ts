// What the command-line tests share: the built `graft` command run as a subprocess, and learnable PNGs.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'graft.js');

export interface GraftRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `graft args` with GRAFT_HOME at `home`; `onStdout` sees the output so far as it grows and may
 * signal the process.
 */
export function runGraft(
  home: string,
  args: string[],
  opts: { onStdout?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {},
): Promise<GraftRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, GRAFT_HOME: home } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(stdout, (sig) => child.kill(sig));
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A small PNG whose colour depends on its class (0 red, 1 blue), so the task is learnable. */
export async function classPng(path: string, cls: number, i: number): Promise<void> {
  const w = 20;
  const px = Buffer.alloc(w * w * 3);
  for (let k = 0; k < w * w; k++) {
    const noise = ((k * 31 + i * 17) % 40) - 20;
    px[k * 3] = cls === 0 ? 200 + noise / 2 : 30 + noise;
    px[k * 3 + 1] = 60 + noise;
    px[k * 3 + 2] = cls === 1 ? 200 + noise / 2 : 40 + noise;
  }
  mkdirSync(dirname(path), { recursive: true });
  await sharp(px, { raw: { width: w, height: w, channels: 3 } })
    .png()
    .toFile(path);
}
