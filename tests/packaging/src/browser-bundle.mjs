// Bundles a package entry for the browser with esbuild; a Node built-in anywhere in its import graph is an error.
// Shared by the packaging test (on the installed tarballs) and the size report (on the workspace builds).

import { builtinModules } from 'node:module';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** An esbuild plugin that turns every import of a Node built-in into a build error naming the importer. */
const refuseNodeBuiltins = {
  name: 'refuse-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (!args.path.startsWith('node:') && !NODE_BUILTINS.has(args.path)) return undefined;
      return {
        errors: [{ text: `Node built-in '${args.path}' imported by ${args.importer || 'the entry'}` }],
      };
    });
  },
};

/**
 * Bundles `export * from specifier` (or the module `contents`, resolved from `resolveDir`) for the browser,
 * minified, and returns the code with its size and gzip size in bytes. `external` leaves packages out (e.g.
 * `['@graft/*']` for a package alone). Throws with esbuild's messages when anything fails to resolve, a Node
 * built-in above all.
 * `keepNames` keeps class and function names through minification.
 * @param {{ specifier: string, resolveDir: string, external?: string[], contents?: string, keepNames?: boolean }} options
 * @returns {Promise<{ code: Uint8Array, bytes: number, gzipBytes: number, inputs: string[], warnings: string[] }>}
 */
export async function bundleForBrowser({
  specifier,
  resolveDir,
  external = [],
  contents,
  keepNames = false,
}) {
  let result;
  try {
    result = await esbuild.build({
      stdin: {
        contents: contents ?? `export * from '${specifier}';\n`,
        resolveDir,
        loader: 'js',
        sourcefile: 'entry.js',
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      keepNames,
      write: false,
      metafile: true,
      logLevel: 'silent',
      external,
      plugins: [refuseNodeBuiltins],
    });
  } catch (error) {
    const messages = error.errors?.map(
      (e) => `${e.text}${e.location ? ` (${e.location.file}:${e.location.line})` : ''}`,
    );
    throw new Error(`browser bundle of ${specifier} failed:\n  ${messages ? messages.join('\n  ') : error}`);
  }
  const code = result.outputFiles[0].contents;
  return {
    code,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    inputs: Object.keys(result.metafile.inputs),
    warnings: result.warnings.map((w) => w.text),
  };
}
