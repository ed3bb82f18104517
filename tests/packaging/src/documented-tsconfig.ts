// The tsconfig.json files that docs/guide/typescript.md tells users to write, read from the page itself, so the
// packaging test compiles its consumers with exactly what the documentation says.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './workspace.js';

export const TYPESCRIPT_GUIDE = join(ROOT, 'docs', 'guide', 'typescript.md');

/** The configurations the guide marks with `<!-- packaging-test: tsconfig-<name> -->` before a json block. */
export type DocumentedConfig = 'node' | 'browser';

/** Returns the parsed json block that follows the guide's marker for `name`; throws naming what is missing. */
export function documentedTsconfig(
  name: DocumentedConfig,
  guide = TYPESCRIPT_GUIDE,
): Record<string, unknown> {
  const markdown = readFileSync(guide, 'utf8');
  const marker = `<!-- packaging-test: tsconfig-${name} -->`;
  const at = markdown.indexOf(marker);
  if (at < 0)
    throw new Error(`${guide}: no '${marker}' line (the packaging test reads the tsconfig after it)`);
  const block = /^```jsonc?\n([\s\S]*?)^```/m.exec(markdown.slice(at + marker.length));
  if (!block || markdown.slice(at + marker.length, at + marker.length + block.index).trim() !== '') {
    throw new Error(`${guide}: '${marker}' must be followed by a \`\`\`json block`);
  }
  const { config, error } = ts.parseConfigFileTextToJson(`${name}.tsconfig.json`, block[1]);
  if (error)
    throw new Error(
      `${guide}: the ${name} tsconfig is not valid JSON: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`,
    );
  return config as Record<string, unknown>;
}
