// The `any` walk on a made-up package: it must find written and unresolved `any`, and pass clean types.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, expect, it } from 'vitest';
import { findAnyInPublicTypes } from './public-types.js';

const DECLARATIONS = `
export interface Options { lr: number; extra: any }
export declare class Model {
  private secret: any;
  forward(x: number[]): Promise<number[]>;
  device(): GPUThing;
  parameters(): Generator<number>;
}
export declare function load(path: string): Promise<Record<string, any>>;
export declare function clean(values: Iterable<string>): Map<string, number[]>;
export declare const untyped: unknown;
`;

let dir = '';
afterAll(() => rm(dir, { recursive: true, force: true }));

it('reports written and unresolved `any` with their paths, and nothing else', async () => {
  dir = await mkdtemp(join(tmpdir(), 'graft-any-walk-'));
  const pkg = join(dir, 'node_modules', '@graft', 'fake');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'index.d.ts'), DECLARATIONS);
  const program = ts.createProgram({
    rootNames: [join(pkg, 'index.d.ts')],
    options: { strict: true, skipLibCheck: true, noEmit: true, lib: ['lib.es2023.d.ts'], types: [] },
  });
  const leaks = findAnyInPublicTypes(program, new Map([['@graft/fake', join(pkg, 'index.d.ts')]]), [
    `${join(dir, 'node_modules', '@graft')}/`,
  ]);
  expect(leaks.sort()).toEqual(
    ['@graft/fake.Model#device→return', '@graft/fake.Options#extra', '@graft/fake.load→return<0><1>'].sort(),
  );
});
