// graft weights list|download: torchvision's registry entries and graft's checkpoint cache.

import { WEIGHTS_BY_ARCHITECTURE, type Weights } from '@graft/models';
import { ensureCheckpoint, findCachedCheckpoint } from '@graft/models/node';
import { CliError, messageOf } from '../errors.js';

function all(): Weights[] {
  const seen = new Set<Weights>();
  for (const entries of Object.values(WEIGHTS_BY_ARCHITECTURE))
    for (const w of Object.values(entries)) seen.add(w);
  return [...seen];
}

export async function runWeightsList(opts: { json?: boolean }): Promise<void> {
  const rows = await Promise.all(
    all().map(async (w) => {
      const cached = await findCachedCheckpoint(w.fileName);
      return {
        name: `${w.enumName}.${w.name}`,
        architecture: w.architecture,
        file: w.fileName,
        url: w.url,
        acc1: w.meta._metrics['ImageNet-1K']?.['acc@1'] ?? null,
        cached: cached?.path ?? null,
      };
    }),
  );
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  for (const r of rows)
    process.stdout.write(
      `${r.name.padEnd(32)} ${r.file.padEnd(26)} ${r.cached ? `cached: ${r.cached}` : 'not cached'}\n`,
    );
}

export async function runWeightsDownload(name: string): Promise<void> {
  const lower = name.toLowerCase();
  const entry = all().find(
    (w) =>
      `${w.enumName}.${w.name}`.toLowerCase() === lower ||
      (w.architecture === lower && w.name === 'IMAGENET1K_V1'),
  );
  if (!entry) {
    throw new CliError(
      `unknown weights '${name}' (known: ${all()
        .map((w) => `${w.enumName}.${w.name}`)
        .join(', ')}, or an architecture name)`,
    );
  }
  try {
    const { path, origin } = await ensureCheckpoint(entry.url, { progress: true });
    process.stdout.write(`${entry.enumName}.${entry.name}: ${path} (${origin})\n`);
  } catch (e) {
    throw new CliError(`downloading ${entry.url} failed: ${messageOf(e)}`);
  }
}
