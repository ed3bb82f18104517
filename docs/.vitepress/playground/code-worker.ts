// The editor's worker: runs guide-style TypeScript against graft's packages. Sucrase strips the types and
// turns `import` into `require`, which this worker answers with the packages' browser entries. The page
// stops a run by terminating the worker, so an endless loop cannot hang the tab.

import * as data from '@graft/data';
import * as models from '@graft/models';
import * as nn from '@graft/nn';
import * as optim from '@graft/optim';
import * as serialize from '@graft/serialize';
import * as tensor from '@graft/tensor';
import { transform } from 'sucrase';

export type CodeRequest = { type: 'run'; code: string; base: string };
export type CodeEvent =
  | { type: 'log'; level: 'log' | 'info' | 'warn' | 'error'; text: string }
  | { type: 'done'; ms: number }
  | { type: 'error'; message: string };

const MODULES: Record<string, object> = {
  '@graft/tensor': tensor,
  '@graft/nn': nn,
  '@graft/optim': optim,
  '@graft/models': models,
  '@graft/data': data,
  '@graft/serialize': serialize,
};

const post = (event: CodeEvent) => (self as unknown as Worker).postMessage(event);

function requireModule(name: string): object {
  const found = MODULES[name];
  if (found) return found;
  if (/^@graft\/[a-z]+\/node$/.test(name)) {
    throw new Error(
      `${name} is Node-only (files, threads); in the browser use ${name.slice(0, -'/node'.length)}`,
    );
  }
  throw new Error(`cannot import '${name}' here: the editor provides ${Object.keys(MODULES).join(', ')}`);
}

/** Prints a value the way a reader of the guides expects: graft objects through their PyTorch-style toString. */
function format(value: unknown, depth = 0): string {
  if (typeof value === 'string') return depth === 0 ? value : JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return String(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number>);
    return `${value.constructor.name}(${items.length}) [${items.slice(0, 20).join(', ')}${items.length > 20 ? ', ...' : ''}]`;
  }
  if (Array.isArray(value))
    return depth > 3 ? '[...]' : `[ ${value.map((v) => format(v, depth + 1)).join(', ')} ]`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Map) return `Map(${value.size})`;
  const own = (value as { toString?: () => string }).toString;
  if (typeof own === 'function' && own !== Object.prototype.toString) return String(value);
  if (depth > 3) return '{...}';
  const entries = Object.entries(value).map(([k, v]) => `${k}: ${format(v, depth + 1)}`);
  return `{ ${entries.join(', ')} }`;
}

function makeConsole() {
  const emit =
    (level: 'log' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      post({ type: 'log', level, text: args.map((a) => format(a)).join(' ') });
  return {
    log: emit('log'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    debug: emit('log'),
  };
}

/** `fetch('/playground/x')` means the site's file, wherever the site is served from. */
function siteFetch(base: string): typeof fetch {
  return (input, init) =>
    fetch(typeof input === 'string' && input.startsWith('/') ? new URL(`.${input}`, base) : input, init);
}

async function run({ code, base }: CodeRequest): Promise<void> {
  const started = performance.now();
  let js: string;
  try {
    js = transform(code, { transforms: ['typescript', 'imports'], production: true }).code;
  } catch (e) {
    throw new Error(`cannot compile: ${e instanceof Error ? e.message : String(e)}`);
  }
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<unknown>;
  const body = new AsyncFunction('require', 'exports', 'module', 'console', 'fetch', js);
  const module = { exports: {} };
  await body(requireModule, module.exports, module, makeConsole(), siteFetch(base));
  post({ type: 'done', ms: performance.now() - started });
}

const message = (e: unknown) =>
  e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);

self.addEventListener('message', (event: MessageEvent<CodeRequest>) => {
  run(event.data).catch((e: unknown) => post({ type: 'error', message: message(e) }));
});
self.addEventListener('unhandledrejection', (event) =>
  post({ type: 'error', message: message(event.reason) }),
);
