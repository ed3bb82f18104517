// Compose: transforms applied one after another.
import { applyTransform, type Transform, type TransformLike } from './transform.js';

type AnyTransform = TransformLike<never, unknown>;

/** Input type of a transform object or function. */
export type TransformInput<T> = T extends (input: infer I) => unknown
  ? I
  : T extends { forward(input: infer I): unknown }
    ? I
    : never;

/** Output type of a transform object or function. */
export type TransformOutput<T> = T extends (input: never) => infer O
  ? O
  : T extends { forward(input: never): infer O }
    ? O
    : never;

type First<L extends readonly unknown[]> = L extends readonly [infer F, ...unknown[]] ? F : L[number];
type Last<L extends readonly unknown[]> = L extends readonly [...unknown[], infer X] ? X : L[number];

/**
 * Applies its transforms in order (torchvision's Compose). Its input type is the first
 * transform's and its output type the last one's.
 */
export class Compose<const L extends readonly AnyTransform[]>
  implements Transform<TransformInput<First<L>>, TransformOutput<Last<L>>>
{
  readonly transforms: L;

  constructor(transforms: L) {
    if (!Array.isArray(transforms)) {
      throw new TypeError(
        'Compose: expected a list of transforms, as in new Compose([new Resize(256), new ToTensor()])',
      );
    }
    this.transforms = transforms;
  }

  forward(input: TransformInput<First<L>>): TransformOutput<Last<L>> {
    let value: unknown = input;
    for (const t of this.transforms) value = applyTransform(t as TransformLike<unknown, unknown>, value);
    return value as TransformOutput<Last<L>>;
  }

  toString(): string {
    const lines = this.transforms.map(
      (t) => `    ${typeof t === 'function' ? `<function ${t.name || 'anonymous'}>` : String(t)}`,
    );
    return `Compose(\n${lines.join('\n')}\n)`;
  }
}
