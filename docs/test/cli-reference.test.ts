// The command-line reference (guide/cli.md) against the real `graft` program: every command and every
// flag its --help lists is documented, and the page documents no flag the program lacks.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const docsDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(docsDir, 'node_modules', '@graft', 'cli', 'bin', 'graft.js');
const page = readFileSync(join(docsDir, 'guide', 'cli.md'), 'utf8');

function help(...command: string[]): string {
  return execFileSync(process.execPath, [bin, ...command, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

/** The long flags in the Options section of a --help text, without --help itself. */
function flags(text: string): string[] {
  const options = text.slice(
    text.indexOf('Options:'),
    text.includes('Examples:') ? text.indexOf('Examples:') : undefined,
  );
  return [...new Set([...options.matchAll(/^\s+(?:-\w, )?--([a-z][a-z-]*)/gm)].map((m) => m[1]))].filter(
    (f) => f !== 'help',
  );
}

/** The page's section for a top-level command (`## graft finetune` up to the next `## `). */
function section(command: string): string {
  const start = page.indexOf(`\n## graft ${command}\n`);
  if (start < 0) return '';
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end < 0 ? undefined : end);
}

const commands = [...help().matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]).filter((c) => c !== 'help');

test('the page has a section for every command', () => {
  expect(commands).toContain('finetune');
  for (const c of commands) expect(section(c), `## graft ${c}`).not.toBe('');
});

describe('every flag of every command is documented, and no other', () => {
  const cases: [string, string[]][] = [];
  for (const c of commands) {
    if (c === 'weights') for (const sub of ['list', 'download']) cases.push([c, [c, sub]]);
    else cases.push([c, [c]]);
  }
  for (const [name, argv] of cases) {
    test(argv.join(' '), () => {
      const real = flags(help(...argv));
      const text = section(name);
      for (const f of real)
        expect(text, `--${f} of graft ${argv.join(' ')}`).toMatch(new RegExp(`\`--${f}[\` ]`));
      if (name !== 'weights') {
        const documented = [...text.matchAll(/\| `--([a-z-]+)/g)].map((m) => m[1]);
        const allowed = name === 'finetune' ? [...real, 'config'] : real;
        for (const f of documented) expect(allowed, `documented --${f} of graft ${name}`).toContain(f);
      }
    });
  }
});
