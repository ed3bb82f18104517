// The publishable packages of the workspace, read from their manifests, and helpers to run commands.

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  type?: string;
  sideEffects?: boolean;
  license?: string;
  engines?: Record<string, string>;
  keywords?: string[];
  repository?: { type: string; url: string; directory?: string };
  bin?: Record<string, string>;
  files?: string[];
  exports?: Record<string, string | { types?: string; import?: string }>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
  /** Export subpaths other than ./package.json, as specifiers: '@graft/data', '@graft/data/node'. */
  entries: string[];
}

/** Every package under packages/ and apps/ that is not private: what a release publishes. */
export function publishablePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(ROOT, group)).sort()) {
      const dir = join(ROOT, group, name);
      let manifest: Manifest;
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
      } catch {
        continue;
      }
      if (manifest.private) continue;
      const entries = Object.keys(manifest.exports ?? {})
        .filter((k) => k !== './package.json')
        .map((k) => (k === '.' ? manifest.name : `${manifest.name}/${k.slice(2)}`));
      found.push({ dir, manifest, entries });
    }
  }
  return found;
}

/**
 * The environment for child processes as a user's shell has it: without what pnpm and vitest add for scripts
 * (npm_lifecycle_*, npm_package_*, the user agent, VITEST*, NODE_ENV=test). The user's own npm settings, such
 * as npm_config_registry or npm_config_cache, stay.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const added =
    /^(npm_lifecycle_|npm_package_|npm_config_user_agent$|npm_execpath$|npm_node_execpath$|pnpm_|vitest)/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (added.test(k) || ['NODE_PATH', 'NODE_OPTIONS', 'NODE_ENV', 'TEST'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface RunResult {
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command; a non-zero exit throws with the command, its exit code and the tail of its output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? cleanEnv(),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const seconds = (performance.now() - t0) / 1000;
        if (error) {
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-40).join('\n');
          reject(
            new Error(`${command} ${args.join(' ')} (in ${options.cwd}) failed: ${error.message}\n${tail}`),
          );
        } else {
          resolvePromise({ stdout, stderr, seconds });
        }
      },
    );
  });
}
