// The files a run leaves in OUT/: run.json (status), config.json, metrics.csv/json, plot.svg,
// best.safetensors and last.pth. Every write is atomic.

import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackgroundWrite, writeFileAtomic, writeFileAtomicInBackground } from '@graft/serialize/node';
import { CliError, messageOf } from './errors.js';
import { type EpochMetrics, metricsCsv } from './metrics.js';
import { renderPlot } from './plot.js';

export type RunStatus = 'running' | 'complete' | 'interrupted' | 'failed';

const text = (s: string) => new TextEncoder().encode(s);

/**
 * Files written in the background (their bytes staged, the sync and rename to follow), so that
 * training goes on while the disk catches up: one epoch's files are settled before the next epoch's
 * are staged, and before the run's final status.
 */
export class PendingWrites {
  private writes: BackgroundWrite[] = [];

  add(w: BackgroundWrite): void {
    this.writes.push(w);
  }

  /** Waits until every staged file is in place; throws the first failure. */
  async settle(): Promise<void> {
    const writes = this.writes;
    this.writes = [];
    for (const w of writes) await w.done;
  }
}

/** Writes `s` to `path` atomically; with `pending`, in the background (added to it). */
export async function writeText(path: string, s: string, pending?: PendingWrites): Promise<void> {
  if (pending) pending.add(await writeFileAtomicInBackground(path, text(s)));
  else await writeFileAtomic(path, text(s));
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
  pending?: PendingWrites,
): Promise<void> {
  await writeText(
    join(out, 'run.json'),
    `${JSON.stringify({ status, updated: new Date().toISOString(), ...extra }, null, 2)}\n`,
    pending,
  );
}

export async function writeMetrics(
  out: string,
  rows: readonly EpochMetrics[],
  title: string,
  pending?: PendingWrites,
): Promise<void> {
  await writeText(join(out, 'metrics.csv'), metricsCsv(rows), pending);
  await writeText(join(out, 'metrics.json'), `${JSON.stringify(rows, null, 2)}\n`, pending);
  await writeText(join(out, 'plot.svg'), await renderPlot(rows, title), pending);
}
