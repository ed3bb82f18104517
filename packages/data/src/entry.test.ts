// The main entry must run in a browser: no module it reaches may import a Node built-in or sharp.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]);
    graph.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) visit(join(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return graph;
}

describe('entry points', () => {
  it('the main entry reaches no Node built-in and no sharp', () => {
    const external = [...importGraph(join(here, 'index.ts')).values()]
      .flat()
      .filter((s) => !s.startsWith('.'));
    expect(new Set(external)).toEqual(new Set(['@graft/tensor', 'fflate']));
  });

  it('the ./node entry is where fs, zlib and sharp come in', () => {
    const external = new Set(
      [...importGraph(join(here, 'node.ts')).values()].flat().filter((s) => !s.startsWith('.')),
    );
    expect(external.has('sharp')).toBe(true);
    expect(external.has('node:fs')).toBe(true);
  });

  it('exports what the README shows', async () => {
    const main = await import('./index.js');
    const node = await import('./node.js');
    for (const name of [
      'Dataset',
      'Subset',
      'TensorDataset',
      'randomSplit',
      'DataLoader',
      'defaultCollate',
      'transforms',
      'Compose',
      'Resize',
      'CenterCrop',
      'RandomResizedCrop',
      'RandomHorizontalFlip',
      'ToTensor',
      'Normalize',
      'Grayscale',
      'ColorJitter',
      'parseIdx',
      'decodeIdx',
      'IdxImageDataset',
      'decodeImage',
    ]) {
      expect(main, name).toHaveProperty(name);
    }
    for (const name of ['ImageFolder', 'FashionMNIST', 'MNIST', 'KMNIST', 'readIdxFile', 'decodeImageFile'])
      expect(node, name).toHaveProperty(name);
  });
});
