// Named kernel parameters: a kernel lists its fields, its WGSL reads them as `p.NAME` from a generated
// struct, and its launcher passes `{ NAME: value }`. Every field is a 32-bit integer (or an array of
// them), packed in declaration order into the parameter arena.

/** A scalar field by name, or an array field as `[name, length]`. */
export type ParamField = string | readonly [string, number];

type FieldName<F> = F extends readonly [infer N, number] ? N : F;

/** What a launcher passes for fields `F`: a number for each scalar field, an array for each array field. */
export type ParamValues<F extends readonly ParamField[]> = {
  readonly [E in F[number] as FieldName<E> & string]: E extends string ? number : readonly number[];
};

/** One compute kernel: what its WGSL depends on (the pipeline key), its parameters and its source. */
export interface Kernel<F extends readonly ParamField[]> {
  /** Everything the generated WGSL depends on: launches with equal keys share one pipeline. */
  readonly key: string;
  readonly params: F;
  /**
   * The shader after the parameter declaration (which the runtime prepends as binding 0): buffer
   * bindings from 1 on, helper functions and the entry point `main`.
   */
  readonly wgsl: () => string;
}

/** Declares a kernel; `params` keep their literal names, so launchers are checked against them. */
export function kernel<const F extends readonly ParamField[]>(
  key: string,
  params: F,
  wgsl: () => string,
): Kernel<F> {
  return { key, params, wgsl };
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Where each field of a kernel's parameters lives in the packed words, and the WGSL that declares them. */
export class ParamLayout {
  /** 32-bit words the packed parameters take. */
  readonly words: number;
  /** `struct Params { ... }` and its binding as `p` (binding 0, read-only storage). */
  readonly wgsl: string;
  private readonly fields: { name: string; length: number | null; at: number }[] = [];
  private readonly names = new Set<string>();

  constructor(
    private readonly key: string,
    params: readonly ParamField[],
  ) {
    let at = 0;
    const members: string[] = [];
    for (const f of params) {
      const [name, length] = typeof f === 'string' ? [f, null] : f;
      if (!NAME.test(name) || this.names.has(name)) {
        throw new Error(`webgpu: ${key}: parameter name '${name}' is invalid or repeated`);
      }
      if (length !== null && !(Number.isInteger(length) && length > 0)) {
        throw new Error(
          `webgpu: ${key}: parameter ${name} has length ${length}; expected a positive integer`,
        );
      }
      this.names.add(name);
      this.fields.push({ name, length, at });
      members.push(length === null ? `  ${name}: i32,` : `  ${name}: array<i32, ${length}>,`);
      at += length ?? 1;
    }
    if (at === 0) throw new Error(`webgpu: ${key}: a kernel needs at least one parameter`);
    this.words = at;
    this.wgsl = `struct Params {\n${members.join('\n')}\n}\n@group(0) @binding(0) var<storage, read> p: Params;\n`;
  }

  /** Writes `values` into `out` from word `at`; throws naming the kernel and the field when one does not fit. */
  pack(values: Readonly<Record<string, number | readonly number[]>>, out: Int32Array, at: number): void {
    for (const name in values) {
      if (!this.names.has(name)) throw new Error(`webgpu: ${this.key}: unknown parameter ${name}`);
    }
    for (const f of this.fields) {
      const v = values[f.name];
      if (f.length === null) {
        if (typeof v !== 'number')
          throw new Error(`webgpu: ${this.key}: parameter ${f.name} must be a number`);
        out[at + f.at] = this.int(f.name, v);
      } else {
        if (typeof v !== 'object' || v.length !== f.length) {
          throw new Error(`webgpu: ${this.key}: parameter ${f.name} must be an array of ${f.length} numbers`);
        }
        for (let i = 0; i < f.length; i++) out[at + f.at + i] = this.int(`${f.name}[${i}]`, v[i]);
      }
    }
  }

  private int(name: string, v: number): number {
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`webgpu: ${this.key}: parameter ${name} (${v}) does not fit a 32-bit integer`);
    }
    return v;
  }
}
