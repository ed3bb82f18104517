// Packs every publishable @graft package with `pnpm pack`, installs the tarballs with npm in a folder outside the
// workspace, and uses them there as a user would: each package imported alone, the `graft` binary, a strict
// TypeScript consumer, and a browser bundle of each main entry.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from './browser-bundle.mjs';
import { documentedTsconfig, TYPESCRIPT_GUIDE } from './documented-tsconfig.js';
import { encodePng } from './png.js';
import { findAnyInPublicTypes } from './public-types.js';
import { readmeExample } from './readme-examples.js';
import {
  cleanEnv,
  type Manifest,
  publishablePackages,
  ROOT,
  run,
  type WorkspacePackage,
} from './workspace.js';

const HERE = dirname(new URL(import.meta.url).pathname);
const TEMPLATE = join(HERE, '..', 'consumer');
const OWN_MANIFEST = JSON.parse(readFileSync(join(HERE, '..', 'package.json'), 'utf8')) as Manifest;
const PACKAGES = publishablePackages();
const LIBRARIES = PACKAGES.filter((p) => !p.manifest.bin);
const TIMINGS: [string, number][] = [];

let work = ''; // the temp folder, outside the workspace
let consumer = ''; // the npm project the tarballs are installed into
const tarballs = new Map<string, string>(); // package name -> tarball path

function timed<T>(label: string, promise: Promise<T>): Promise<T> {
  const t0 = performance.now();
  return promise.finally(() => TIMINGS.push([label, (performance.now() - t0) / 1000]));
}

function tarList(tarball: string): Promise<string[]> {
  return run('tar', ['-tzf', tarball], { cwd: work }).then((r) => r.stdout.trim().split('\n'));
}

async function packedManifest(tarball: string): Promise<Manifest> {
  const { stdout } = await run('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: work });
  return JSON.parse(stdout) as Manifest;
}

function formatDiagnostics(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => consumer,
    getNewLine: () => '\n',
  });
}

/** An ImageFolder with train/ and val/, two classes told apart by colour, as small PNG files. */
async function writeImageFolder(root: string): Promise<void> {
  const classes = { red: [200, 30, 30], blue: [30, 30, 200] };
  for (const [split, count] of [
    ['train', 4],
    ['val', 2],
  ] as const) {
    for (const [name, [r, g, b]] of Object.entries(classes)) {
      await mkdir(join(root, split, name), { recursive: true });
      for (let i = 0; i < count; i++) {
        const size = 20;
        const rgb = new Uint8Array(size * size * 3);
        for (let p = 0; p < size * size; p++) rgb.set([(r + 7 * i + p) % 256, (g + 3 * p) % 256, b], p * 3);
        await writeFile(join(root, split, name, `${i}.png`), encodePng(size, size, rgb));
      }
    }
  }
}

beforeAll(async () => {
  for (const p of PACKAGES) {
    if (!existsSync(join(p.dir, 'dist')))
      throw new Error(`${p.manifest.name} is not built: run \`pnpm build\` first`);
  }
  work = await mkdtemp(join(tmpdir(), 'graft-packaging-'));
  consumer = join(work, 'consumer');
  await mkdir(join(work, 'tarballs'));
  const pnpm = process.env.PNPM_BIN ?? 'pnpm';
  await timed(
    'pnpm pack (all packages)',
    Promise.all(
      PACKAGES.map(async (p) => {
        const { stdout } = await run(pnpm, ['pack', '--pack-destination', join(work, 'tarballs'), '--json'], {
          cwd: p.dir,
          env: process.env,
        });
        const filename = (JSON.parse(stdout) as { filename: string }).filename;
        tarballs.set(p.manifest.name, join(work, 'tarballs', basename(filename)));
      }),
    ),
  );

  await cp(TEMPLATE, consumer, { recursive: true });
  // The consumers' tsconfig files are the ones docs/guide/typescript.md documents, copied from the page.
  for (const [name, path] of [
    ['node', join(consumer, 'tsconfig.json')],
    ['browser', join(consumer, 'browser', 'tsconfig.json')],
  ] as const) {
    await writeFile(path, `${JSON.stringify(documentedTsconfig(name), null, 2)}\n`);
  }
  await writeFile(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'graft-consumer', private: true, type: 'module' }, null, 2)}\n`,
  );
  for (const p of PACKAGES) {
    const example = readmeExample(p.dir, p.manifest.name);
    if (example) await writeFile(join(consumer, 'src', `readme-${basename(p.dir)}.ts`), example);
  }
  const typesNode = `@types/node@${OWN_MANIFEST.devDependencies?.['@types/node'] ?? '^20'}`;
  // The browser consumer types WebGPU as docs/guide/typescript.md says: with its own @webgpu/types.
  const tensorManifest = PACKAGES.find((p) => p.manifest.name === '@graft/tensor')!.manifest;
  const webgpuTypesRange =
    tensorManifest.dependencies?.['@webgpu/types'] ?? tensorManifest.devDependencies?.['@webgpu/types'];
  const webgpuTypes = `@webgpu/types@${webgpuTypesRange ?? 'latest'}`;
  await timed(
    'npm install (tarballs and their registry dependencies)',
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--no-package-lock',
        '--loglevel=error',
        ...tarballs.values(),
        typesNode,
        webgpuTypes,
      ],
      { cwd: consumer, timeoutMs: 240_000 },
    ),
  );
}, 300_000);

afterAll(async () => {
  if (TIMINGS.length) {
    console.log(
      `packaging timings:\n${TIMINGS.map(([l, s]) => `  ${s.toFixed(1).padStart(6)} s  ${l}`).join('\n')}`,
    );
  }
  if (work && !process.env.KEEP_PACKAGING_DIR) await rm(work, { recursive: true, force: true });
  else if (work) console.log(`kept ${work}`);
});

describe('manifests and tarballs', () => {
  it.each(PACKAGES.map((p) => [p.manifest.name, p] as const))(
    '%s is publishable as it is',
    (_, p: WorkspacePackage) => {
      const m = p.manifest;
      expect(m.type).toBe('module');
      expect(m.license).toBe('MIT');
      expect(m.engines?.node).toBe('>=20');
      expect(m.repository?.directory).toBe(relative(ROOT, p.dir));
      expect(m.keywords?.length).toBeGreaterThan(0);
      if (!m.bin) expect(m.sideEffects).toBe(false);
      for (const [key, target] of Object.entries(m.exports ?? {})) {
        if (key === './package.json') continue;
        expect(target, `exports['${key}'] needs types and import`).toMatchObject({
          types: expect.stringMatching(/\.d\.ts$/),
          import: expect.stringMatching(/\.js$/),
        });
      }
      for (const [dep, range] of Object.entries(m.dependencies ?? {})) {
        if (dep.startsWith('@graft/')) expect(range, `${dep} is a sibling`).toBe('workspace:*');
      }
      expect(readFileSync(join(p.dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    },
  );

  it.each(PACKAGES.map((p) => [p.manifest.name, p] as const))(
    '%s packs with real versions and only what users need',
    async (name, p: WorkspacePackage) => {
      const tarball = tarballs.get(name)!;
      const packed = await packedManifest(tarball);
      expect(JSON.stringify(packed)).not.toContain('workspace:');
      for (const [dep, range] of Object.entries(packed.dependencies ?? {})) {
        const sibling = PACKAGES.find((q) => q.manifest.name === dep);
        if (sibling) expect(range, `${name} -> ${dep}`).toBe(sibling.manifest.version);
      }
      const files = (await tarList(tarball)).map((f) => f.replace(/^package\//, ''));
      expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
      for (const target of Object.values(p.manifest.exports ?? {})) {
        for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
          expect(files, `${name} ships ${path}`).toContain(path!.replace(/^\.\//, ''));
        }
      }
      for (const bin of Object.values(p.manifest.bin ?? {}))
        expect(files).toContain(bin.replace(/^\.\//, ''));
      const allowed = /^(package\.json|README\.md|LICENSE|dist\/.*\.(js|d\.ts)|bin\/.*|demo\/.*)$/;
      expect(files.filter((f) => !allowed.test(f))).toEqual([]);
      expect(files.filter((f) => /\.test\.|test-utils|\/testing\//.test(f))).toEqual([]);
    },
  );
});

describe('installed from the tarballs, outside the workspace', () => {
  it('resolves every @graft package from the consumer, none nested or from the workspace', async () => {
    expect(relative(ROOT, consumer).startsWith('..')).toBe(true);
    const installed = readdirSync(join(consumer, 'node_modules', '@graft')).sort();
    expect(installed).toEqual(PACKAGES.map((p) => p.manifest.name.slice('@graft/'.length)).sort());
    for (const name of installed) {
      const dir = join(consumer, 'node_modules', '@graft', name);
      expect(statSync(dir).isDirectory() && !statSync(dir).isSymbolicLink()).toBe(true);
      expect(existsSync(join(dir, 'node_modules', '@graft')), `${name} has a nested @graft copy`).toBe(false);
    }
  });

  it('every import in the shipped code is a declared dependency or a Node built-in', async () => {
    const { builtinModules } = await import('node:module');
    const esbuild = await import('esbuild');
    const problems: string[] = [];
    for (const p of PACKAGES) {
      const dir = join(consumer, 'node_modules', p.manifest.name);
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const entryPoints = [
        ...p.entries.map((e) =>
          join(dir, (manifest.exports![`.${e.slice(p.manifest.name.length)}`] as { import: string }).import),
        ),
        ...Object.values(manifest.bin ?? {}).map((b) => join(dir, b)),
      ];
      const result = await esbuild.build({
        entryPoints,
        bundle: true,
        platform: 'node',
        format: 'esm',
        packages: 'external',
        write: false,
        metafile: true,
        logLevel: 'silent',
        outdir: join(work, 'deps-check'),
      });
      for (const input of Object.values(result.metafile.inputs)) {
        for (const imp of input.imports) {
          if (!imp.external) continue;
          const path = imp.path.replace(/^node:/, '');
          if (builtinModules.includes(path) || builtinModules.includes(path.split('/')[0])) continue;
          const pkg = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0];
          if (!declared.has(pkg))
            problems.push(`${p.manifest.name} imports '${imp.path}' without declaring ${pkg}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it.each(['tensor', 'nn', 'optim', 'serialize', 'models', 'data'])(
    '@graft/%s works imported alone',
    async (name) => {
      const { stdout } = await timed(
        `node smoke/${name}.mjs`,
        run(process.execPath, [join('smoke', `${name}.mjs`), work], { cwd: consumer }),
      );
      expect(stdout).toContain(`${name} ok`);
    },
    60_000,
  );

  it('`graft --help` runs from the installed bin', async () => {
    const { stdout } = await run(join(consumer, 'node_modules', '.bin', 'graft'), ['--help'], {
      cwd: consumer,
    });
    for (const command of ['finetune', 'evaluate', 'predict', 'inspect', 'convert'])
      expect(stdout).toContain(command);
  });

  it('`graft finetune` trains on a small ImageFolder of PNG files', async () => {
    await writeImageFolder(join(work, 'images'));
    const out = join(work, 'run');
    const { stdout } = await timed(
      'graft finetune (16 px, 1 epoch)',
      run(
        join(consumer, 'node_modules', '.bin', 'graft'),
        [
          'finetune',
          '--data',
          join(work, 'images'),
          '--weights',
          'none',
          '--image-size',
          '16',
          '--epochs',
          '1',
          '--batch-size',
          '4',
          '--threads',
          '1',
          '--out',
          out,
          '--json',
        ],
        { cwd: work, timeoutMs: 120_000, env: cleanEnv({ NO_COLOR: '1' }) },
      ),
    );
    const report = JSON.parse(stdout) as unknown;
    expect(report).toBeTypeOf('object');
    for (const file of ['best.safetensors', 'last.pth', 'config.json', 'metrics.json']) {
      expect(existsSync(join(out, file)), `${out}/${file}`).toBe(true);
    }
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as { imageSize?: number };
    expect(config.imageSize).toBe(16);
  }, 150_000);

  /** Parses a consumer tsconfig (`dir`/tsconfig.json) as tsc would. */
  function readTsconfig(dir: string): ts.ParsedCommandLine {
    const path = join(dir, 'tsconfig.json');
    const configFile = ts.readConfigFile(path, ts.sys.readFile);
    expect(configFile.error, path).toBeUndefined();
    // With its path, so `types` resolve from the consumer's node_modules, not from this test's folder.
    return ts.parseJsonConfigFileContent(configFile.config, ts.sys, dir, undefined, path);
  }

  /** The installed declaration file of each entry point (`@graft/data/node` -> .../dist/node.d.ts). */
  function entryDeclarations(
    specifiers: string[],
    from: string,
    options: ts.CompilerOptions,
  ): Map<string, string> {
    const files = new Map<string, string>();
    for (const specifier of specifiers) {
      const file = ts.resolveModuleName(specifier, from, options, ts.sys).resolvedModule?.resolvedFileName;
      expect(file, `types of ${specifier}`).toMatch(/\.d\.ts$/);
      files.set(specifier, file!);
    }
    return files;
  }

  const loadsWebGpuTypes = (program: ts.Program) =>
    program.getSourceFiles().some((f) => f.fileName.includes('/@webgpu/types/'));

  it("the guide's Node tsconfig (no DOM lib, skipLibCheck off) compiles every package, the DESIGN.md and README examples, with no `any` in public types", async () => {
    // docs/guide/typescript.md's Node project: lib ES2022 only, types node, strict, module nodenext, and the
    // declarations themselves checked (skipLibCheck false). Guard the settings the guide promises, so the
    // page cannot drift into a laxer config that hides a problem.
    const t0 = performance.now();
    const parsed = readTsconfig(consumer);
    expect(parsed.errors).toEqual([]);
    expect(parsed.options).toMatchObject({
      strict: true,
      skipLibCheck: false,
      module: ts.ModuleKind.NodeNext,
      types: ['node'],
      lib: ['lib.es2022.d.ts'],
    });
    const entryFiles = entryDeclarations(
      PACKAGES.flatMap((p) => p.entries),
      join(consumer, 'src', 'example.ts'),
      parsed.options,
    );
    const program = ts.createProgram({
      rootNames: [...parsed.fileNames, ...entryFiles.values()],
      options: parsed.options,
    });
    expect(formatDiagnostics(ts.getPreEmitDiagnostics(program))).toBe('');
    // WebGPU's types load only where WebGPU is used: they need the DOM lib, which a Node program lacks.
    expect(loadsWebGpuTypes(program), '@webgpu/types is in the Node program').toBe(false);
    expect(program.emit().emitSkipped).toBe(false);
    expect(
      findAnyInPublicTypes(program, entryFiles, [`${join(consumer, 'node_modules', '@graft')}/`]),
    ).toEqual([]);
    TIMINGS.push(['tsc, the Node tsconfig, and the any walk', (performance.now() - t0) / 1000]);
  }, 180_000);

  it('the Node check is live: @webgpu/types itself does not compile without the DOM lib', async () => {
    // A root file of its own: tsc reads the `types` option only for a program with root files.
    const probe = join(consumer, 'webgpu-types-probe.ts');
    await writeFile(probe, 'export {};\n');
    const options = { ...readTsconfig(consumer).options, noEmit: true, types: ['node', '@webgpu/types'] };
    const program = ts.createProgram({ rootNames: [probe], options });
    expect(loadsWebGpuTypes(program)).toBe(true);
    expect(formatDiagnostics(ts.getPreEmitDiagnostics(program))).toMatch(/Cannot find name 'BufferSource'/);
  }, 60_000);

  it("the guide's browser tsconfig (DOM lib, @webgpu/types, skipLibCheck off) compiles a browser program against every main entry", () => {
    const t0 = performance.now();
    const dir = join(consumer, 'browser');
    const parsed = readTsconfig(dir);
    expect(parsed.errors).toEqual([]);
    expect(parsed.options).toMatchObject({ strict: true, skipLibCheck: false });
    expect(parsed.options.lib).toContain('lib.dom.d.ts');
    const mainEntries = LIBRARIES.flatMap((p) => p.entries).filter((e) => !e.endsWith('/node'));
    const entryFiles = entryDeclarations(mainEntries, join(dir, 'src', 'main.ts'), parsed.options);
    const program = ts.createProgram({
      rootNames: [...parsed.fileNames, ...entryFiles.values()],
      options: parsed.options,
    });
    expect(parsed.fileNames.map((f) => relative(dir, f))).toEqual(['src/main.ts']);
    expect(formatDiagnostics(ts.getPreEmitDiagnostics(program)), TYPESCRIPT_GUIDE).toBe('');
    expect(loadsWebGpuTypes(program)).toBe(true);
    TIMINGS.push(['tsc, the browser tsconfig', (performance.now() - t0) / 1000]);
  }, 180_000);

  it('the compiled DESIGN.md example runs: cut and replace the head, freeze, two groups, save and load', async () => {
    // Pretrained weights for the example: a resnet18 state dict written as a .pth by the installed packages.
    await writeFile(
      join(consumer, 'make-weights.mjs'),
      "import { resnet18 } from '@graft/models';\nimport { save } from '@graft/serialize/node';\n" +
        'await save((await resnet18()).stateDict(), process.argv[2]);\n',
    );
    const weights = join(work, 'resnet18-pretrained.pth');
    await run(process.execPath, ['make-weights.mjs', weights], { cwd: consumer });
    const { stdout } = await timed(
      'DESIGN.md example',
      run(process.execPath, [join('dist', 'example.js'), weights, work], {
        cwd: consumer,
        timeoutMs: 120_000,
      }),
    );
    expect(stdout).toContain('example ok');
  }, 150_000);

  it.each(['tensor', 'nn'])('the README example of @graft/%s runs as written', async (name) => {
    // The other README examples read files (checkpoints, image folders) and are type-checked only.
    const { stdout } = await run(process.execPath, [join('dist', `readme-${name}.js`)], { cwd: consumer });
    expect(stdout.length).toBeGreaterThan(0);
  });

  it.each(LIBRARIES.map((p) => [p.manifest.name] as const))(
    '%s bundles for the browser with no Node built-ins',
    async (name) => {
      const { bytes, gzipBytes } = await bundleForBrowser({ specifier: name, resolveDir: consumer });
      expect(bytes).toBeGreaterThan(0);
      expect(gzipBytes).toBeLessThan(bytes);
    },
  );

  it('a tree-shaken browser bundle of a small program runs (sideEffects: false drops nothing needed)', async () => {
    const { code } = await bundleForBrowser({
      specifier: 'tree-shaken.mjs',
      resolveDir: consumer,
      contents: await readFile(join(consumer, 'tree-shaken.mjs'), 'utf8'),
      // Printed reprs use class names (Linear(...)), which plain minification renames.
      keepNames: true,
    });
    await writeFile(join(work, 'tree-shaken.bundle.mjs'), code);
    const { stdout } = await run(process.execPath, [join(work, 'tree-shaken.bundle.mjs')], { cwd: work });
    expect(stdout).toContain('tree-shaken ok');
  });

  it('the browser check is live: a ./node entry fails on its Node built-ins', async () => {
    const nodeEntry = LIBRARIES.flatMap((p) => p.entries).find((e) => e.endsWith('/node'));
    expect(nodeEntry).toBeDefined();
    await expect(bundleForBrowser({ specifier: nodeEntry!, resolveDir: consumer })).rejects.toThrow(
      /Node built-in 'node:/,
    );
  });
});
