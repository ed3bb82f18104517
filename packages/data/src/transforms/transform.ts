// The transform protocol: an object with forward() (torchvision's nn.Module transforms) or a plain function.

/** A transform object, like torchvision's nn.Module transforms: `forward(input)` returns the transformed value. */
export interface Transform<In, Out> {
  forward(input: In): Out;
}

/** A transform object or a plain function; datasets and Compose accept either. */
export type TransformLike<In, Out> = Transform<In, Out> | ((input: In) => Out);

/** Runs a transform object or function on one input. */
export function applyTransform<In, Out>(transform: TransformLike<In, Out>, input: In): Out {
  return typeof transform === 'function' ? transform(input) : transform.forward(input);
}
