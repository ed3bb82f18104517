// The files a run leaves in OUT/: run.json (status), config.json, metrics.csv/json, plot.svg,
// best.safetensors and last.pth. Every write is atomic.

import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@graft/serialize/node';
import { CliError, messageOf } from './errors.js';
import { type EpochMetrics, metricsCsv } from './metrics.js';
import { renderPlot } from './plot.js';

export type RunStatus = 'running' | 'complete' | 'interrupted' | 'failed';

const text = (s: string) => new TextEncoder().encode(s);

export async function writeText(path: string, s: string): Promise<void> {
  await writeFileAtomic(path, text(s));
}

/** Creates OUT (or checks it) and proves it is writable before any training starts. */
export async function prepareOut(out: string, resuming: boolean): Promise<void> {
  try {
    await mkdir(out, { recursive: true });
    await access(out, constants.W_OK);
  } catch (e) {
    throw new CliError(`--out ${out} is not writable: ${messageOf(e)}`);
  }
  if (!resuming) {
    const status = await readStatus(out);
    if (status === 'complete' || status === 'interrupted' || status === 'running') {
      throw new CliError(
        `--out ${out} already holds a run (status: ${status}); choose another --out or --resume ${join(out, 'last.pth')}`,
      );
    }
  }
  try {
    await writeText(join(out, '.write-test'), 'ok');
    const { unlink } = await import('node:fs/promises');
    await unlink(join(out, '.write-test'));
  } catch (e) {
    throw new CliError(`--out ${out} is not writable: ${messageOf(e)}`);
  }
}

export async function readStatus(out: string): Promise<RunStatus | null> {
  try {
    return (JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { status: RunStatus }).status;
  } catch {
    return null;
  }
}

export async function writeStatus(
  out: string,
  status: RunStatus,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await writeText(
    join(out, 'run.json'),
    `${JSON.stringify({ status, updated: new Date().toISOString(), ...extra }, null, 2)}\n`,
  );
}

export async function writeMetrics(out: string, rows: readonly EpochMetrics[], title: string): Promise<void> {
  await writeText(join(out, 'metrics.csv'), metricsCsv(rows));
  await writeText(join(out, 'metrics.json'), `${JSON.stringify(rows, null, 2)}\n`);
  await writeText(join(out, 'plot.svg'), await renderPlot(rows, title));
}
