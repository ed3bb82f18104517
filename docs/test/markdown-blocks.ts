// Pulls the ```ts code blocks out of the guides, with the test directives written above them.
//
// A block runs in Node unless an HTML comment on the line before its fence says otherwise:
//   <!-- docs-test: browser -->   needs a browser (run by the browser test instead)
//   <!-- docs-test: output -->    on a ```text block: the previous ts block must print exactly this

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export type BlockMode = 'node' | 'browser';

export interface CodeBlock {
  /** The page, relative to docs/ (`guide/freezing.md`). */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  mode: BlockMode;
  /** What the block must print (from a following `<!-- docs-test: output -->` text block), if anything. */
  expectedOutput: string | null;
}

const DIRECTIVE = /^<!--\s*docs-test:\s*([a-z-]+)\s*-->\s*$/;
const FENCE = /^(`{3,})\s*([A-Za-z]*)(.*)$/;

/** Every ts/typescript block of one markdown text, in order. */
export function extractBlocks(markdown: string, page: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let directive: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const d = DIRECTIVE.exec(line.trim());
    if (d) {
      directive = d[1];
      continue;
    }
    const f = FENCE.exec(line);
    if (!f) {
      if (line.trim() !== '') directive = null;
      continue;
    }
    const [, ticks, lang] = f;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith(ticks); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`${page}:${start + 1}: code block is never closed`);
    const code = `${body.join('\n')}\n`;
    if (lang === 'ts' || lang === 'typescript') {
      if (directive !== null && directive !== 'browser') {
        throw new Error(`${page}:${start}: unknown directive '${directive}' before a ts block`);
      }
      blocks.push({
        page,
        line: start + 1,
        code,
        mode: directive === 'browser' ? 'browser' : 'node',
        expectedOutput: null,
      });
    } else if (directive === 'output') {
      const previous = blocks[blocks.length - 1];
      if (!previous) throw new Error(`${page}:${start + 1}: an output block with no ts block before it`);
      previous.expectedOutput = code;
    } else if (directive !== null) {
      throw new Error(`${page}:${start}: directive '${directive}' on a ${lang || 'plain'} block`);
    }
    directive = null;
  }
  return blocks;
}

/** The markdown pages that hold runnable guides: docs/index.md and docs/guide/*.md. */
export function guidePages(docsDir: string): string[] {
  const guideDir = join(docsDir, 'guide');
  const pages = readdirSync(guideDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(guideDir, f));
  return [join(docsDir, 'index.md'), ...pages].map((p) => relative(docsDir, p));
}

/** All blocks of all guide pages. */
export function allBlocks(docsDir: string): CodeBlock[] {
  return guidePages(docsDir).flatMap((page) =>
    extractBlocks(readFileSync(join(docsDir, page), 'utf8'), page),
  );
}
