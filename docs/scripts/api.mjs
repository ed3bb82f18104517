// Generates docs/api/ (the API reference) from the TSDoc of every package's public exports with TypeDoc.
//
// TypeDoc reads the built declaration files (dist/*.d.ts), so a type used by two packages is one symbol
// and links across packages resolve. Each public entry gets a tiny wrapper module named after its import
// path (`@graft/nn`, `@graft/data/node`); a `./node` entry lists only the names the main entry lacks.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application } from 'typedoc';

const docsDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(docsDir, 'node_modules', '.cache', 'graft-api');
const out = join(docsDir, 'api');

/** The public entries, in the order the reference lists them. */
export const ENTRIES = [
  '@graft/tensor',
  '@graft/nn',
  '@graft/optim',
  '@graft/models',
  '@graft/models/node',
  '@graft/data',
  '@graft/data/node',
  '@graft/serialize',
  '@graft/serialize/node',
];

const fileStem = (entry) => entry.replace(/^@/, '').replace(/\//g, '-');

async function wrapperSource(entry) {
  const header = `/**\n * The public exports of \`${entry}\`.\n * @module ${entry}\n */\n`;
  if (!entry.endsWith('/node')) return `${header}export * from '${entry}';\n`;
  // A ./node entry re-exports the main entry; document only what it adds.
  const main = entry.slice(0, -'/node'.length);
  const [nodeExports, mainExports] = await Promise.all([import(entry), import(main)]);
  const added = Object.keys(nodeExports).filter((name) => !(name in mainExports));
  // Types have no run-time trace; pick them up from the declaration file's export list.
  const declarations = (specifier) => fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');
  const text = await readFile(declarations(entry), 'utf8');
  const mainDts = await readFile(declarations(main), 'utf8');
  const typeNames = [...text.matchAll(/\btype\s+([A-Za-z_$][\w$]*)/g)]
    .map((m) => m[1])
    .filter((name) => !added.includes(name) && !new RegExp(`\\b${name}\\b`).test(mainDts));
  const names = [...added, ...[...new Set(typeNames)].map((n) => `type ${n}`)];
  return `${header}export { ${names.join(', ')} } from '${entry}';\n`;
}

export async function generateApi() {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const entryPoints = [];
  for (const entry of ENTRIES) {
    const file = join(work, `${fileStem(entry)}.ts`);
    await writeFile(file, await wrapperSource(entry));
    entryPoints.push(file);
  }
  await writeFile(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(docsDir, 'node_modules', '@types')],
      },
      include: ['*.ts'],
    }),
  );

  const app = await Application.bootstrapWithPlugins({
    entryPoints,
    tsconfig: join(work, 'tsconfig.json'),
    plugin: ['typedoc-plugin-markdown'],
    out,
    readme: 'none',
    name: 'graft API',
    excludeInternal: true,
    excludePrivate: true,
    excludeProtected: false,
    excludeExternals: false,
    disableSources: true,
    hideGenerator: true,
    githubPages: false,
    validation: { notExported: false, invalidLink: true, rewrittenLink: true },
    logLevel: 'Warn',
    // typedoc-plugin-markdown: one page per module and per class/interface, tables for parameters.
    outputFileStrategy: 'members',
    entryFileName: 'index',
    excludeScopesInPaths: true,
    hidePageHeader: true,
    hideBreadcrumbs: true,
    useCodeBlocks: true,
    parametersFormat: 'table',
    interfacePropertiesFormat: 'table',
    classPropertiesFormat: 'table',
    typeDeclarationFormat: 'table',
    sanitizeComments: true,
    // Headings get explicit ids, so links to members (`#requiresgrad_`) match what VitePress renders.
    useHTMLAnchors: true,
  });
  const project = await app.convert();
  if (!project) throw new Error('api: TypeDoc could not convert the packages (see the messages above)');
  await rm(out, { recursive: true, force: true });
  await app.generateOutputs(project);
  if (app.logger.hasErrors()) throw new Error('api: TypeDoc reported errors');
  console.log(`api: wrote the reference for ${ENTRIES.length} entries to ${out}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await generateApi();
}
