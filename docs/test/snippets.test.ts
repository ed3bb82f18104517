// Runs every ```ts block of the guides in Node against the built packages, so the docs cannot rot.
//
// Each block is type-checked (strict, against the packages' declaration files) and then run as its own
// ES module in a fresh `node` process. Blocks of one page run in order in one working folder, so a
// block may read what an earlier block of the same page saved. The folder starts with the playground's
// files (fashion-cnn.safetensors, fewshot/), which the guides tell readers to download.
//
// Offline stand-in: blocks that ask for torchvision's ImageNet weights find a file of the right name in
// $TORCH_HOME/hub/checkpoints (graft reads PyTorch's cache, as torch.hub does). It holds a randomly
// initialised ResNet-18 written by graft, so the code path is the real one and only the values differ.
// The WebGPU guide's Node block needs a Vulkan driver: without a GPU, chromium's SwiftShader (see below).

import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allBlocks, type CodeBlock } from './markdown-blocks.js';

const docsDir = fileURLToPath(new URL('..', import.meta.url));
// Inside docs/node_modules so that `@graft/*` imports resolve as they do for a user's project.
const snippetDir = join(docsDir, 'node_modules', '.cache', 'snippets');
const blocks = allBlocks(docsDir);
const nodeBlocks = blocks.filter((b) => b.mode === 'node');
const pages = [...new Set(nodeBlocks.map((b) => b.page))];

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const fileOf = (b: CodeBlock) => join(snippetDir, `${b.page.replace(/[/.]/g, '_')}_L${b.line}.mts`);
const where = (b: CodeBlock) => `${b.page}:${b.line}`;

let work: string;
let torchHome: string;

beforeAll(async () => {
  rmSync(snippetDir, { recursive: true, force: true });
  mkdirSync(snippetDir, { recursive: true });
  for (const b of blocks) writeFileSync(fileOf(b), b.code);
  work = mkdtempSync(join(tmpdir(), 'graft-docs-'));
  torchHome = join(work, 'torch');
  const checkpoints = join(torchHome, 'hub', 'checkpoints');
  mkdirSync(checkpoints, { recursive: true });
  const { resnet18 } = await import('@graft/models');
  const { save } = await import('@graft/serialize/node');
  const { manualSeed } = await import('@graft/tensor');
  manualSeed(0);
  await save((await resnet18()).stateDict(), join(checkpoints, 'resnet18-f37072fd.pth'));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the guides hold code blocks, most of them runnable in Node', () => {
  expect(pages.length).toBeGreaterThanOrEqual(10);
  expect(nodeBlocks.length).toBeGreaterThan(blocks.length / 2);
});

test('every code block type-checks against the packages (strict)', () => {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    typeRoots: [join(docsDir, 'node_modules', '@types')],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    isolatedModules: true,
  };
  const files = blocks.map(fileOf);
  const program = ts.createProgram(files, options);
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(d.file.fileName))
    .map((d) => {
      const block = blocks[files.indexOf(d.file!.fileName)];
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${block.page}:${block.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  expect(problems, problems.join('\n')).toEqual([]);
}, 120_000);

function run(file: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: false,
      },
    }).outputText;
    const mjs = file.replace(/\.mts$/, '.mjs');
    writeFileSync(mjs, js);
    execFile(
      process.execPath,
      [mjs],
      {
        cwd,
        timeout: 240_000,
        maxBuffer: 16 << 20,
        env: {
          ...process.env,
          TORCH_HOME: torchHome,
          GRAFT_HOME: join(work, 'graft-home'),
          NO_COLOR: '1',
          // The WebGPU guide runs on Dawn; without a GPU, on the SwiftShader Vulkan driver Debian's chromium ships.
          ...(process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER)
            ? { VK_ICD_FILENAMES: SWIFTSHADER }
            : {}),
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && !stdout ? String(error) : stderr) });
      },
    );
  });
}

for (const page of pages) {
  describe(page, () => {
    let cwd: string;
    beforeAll(() => {
      cwd = join(work, page.replace(/[/.]/g, '_'));
      mkdirSync(cwd, { recursive: true });
      cpSync(join(docsDir, 'public', 'playground'), cwd, { recursive: true });
      const standIn = join(torchHome, 'hub', 'checkpoints', 'resnet18-f37072fd.pth');
      if (existsSync(standIn)) linkSync(standIn, join(cwd, 'resnet18-f37072fd.pth'));
    });
    for (const block of nodeBlocks.filter((b) => b.page === page)) {
      test(`block at line ${block.line} runs`, async () => {
        const r = await run(fileOf(block), cwd);
        if (process.env.DOCS_SNIPPETS_VERBOSE) console.log(`--- ${where(block)}\n${r.stdout}${r.stderr}`);
        expect(r.code, `${where(block)} failed:\n${r.stderr}\n${r.stdout}`).toBe(0);
        if (block.expectedOutput !== null) expect(r.stdout.trimEnd()).toBe(block.expectedOutput.trimEnd());
      }, 300_000);
    }
  });
}
