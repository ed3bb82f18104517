// Reading the golden files that scripts/golden/models.py writes into packages/models/fixtures.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a fixture file. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

/** A fixture's text. */
export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** A fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  const b = readFileSync(fixturePath(name));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A JSON fixture, typed by the caller. */
export function fixtureJson<T>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export interface ArchitectureGolden {
  state_dict: [string, number[], string][];
  parameters: [string, number[]][];
  buffers: [string, number[]][];
  modules: [string, string][];
  num_params: number;
  num_state_dict_keys: number;
}

/** Largest |a - b| over the largest |b|: the relative error measure of these tests. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-30);
}
