// The ten-line example of each package README, as a TypeScript file a consumer could compile. Where an
// example uses names it does not define (a model, a loader, an optimizer), a prelude declares them.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Declarations for the free names of each README example, keyed by package name. */
const PRELUDES: Record<string, string> = {
  '@graft/optim': [
    "import type { DataLoader } from '@graft/data';",
    "import type { ResNet } from '@graft/models';",
    "import { F } from '@graft/nn';",
    "import type { Tensor } from '@graft/tensor';",
    'declare const model: ResNet;',
    'declare const loader: DataLoader<[Tensor, Tensor]>;',
  ].join('\n'),
  '@graft/serialize': [
    "import type { Module } from '@graft/nn';",
    "import type { Optimizer } from '@graft/optim';",
    'declare const model: Module;',
    'declare const opt: Optimizer;',
  ].join('\n'),
};

/** Returns the first ```ts block of the package's README with its prelude, or null without one. */
export function readmeExample(packageDir: string, packageName: string): string | null {
  const file = join(packageDir, 'README.md');
  if (!existsSync(file)) return null;
  const match = /```ts\n([\s\S]*?)```/.exec(readFileSync(file, 'utf8'));
  if (!match) return null;
  const prelude = PRELUDES[packageName] ?? '';
  return `// The README example of ${packageName}.\n${prelude}\n${match[1]}\nexport {};\n`;
}
