// Checks that a strided view stays inside its storage, so no tensor built from a file can read past its data.

const MAX_DIMS = 64;

/** Returns a description of what is wrong with (shape, strides, offset) over `storageNumel` elements, or null. */
export function checkTensorGeometry(
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  storageNumel: number,
): string | null {
  if (shape.length !== strides.length)
    return `size has ${shape.length} dims but stride has ${strides.length}`;
  if (shape.length > MAX_DIMS) return `${shape.length} dims is more than ${MAX_DIMS}`;
  if (!Number.isSafeInteger(offset) || offset < 0)
    return `storage offset ${offset} must be a non-negative integer`;
  let numel = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    const n = shape[i];
    const s = strides[i];
    if (!Number.isSafeInteger(n) || n < 0)
      return `size [${shape.join(', ')}] has a negative or non-integer dim`;
    if (!Number.isSafeInteger(s) || s < 0)
      return `stride [${strides.join(', ')}] has a negative or non-integer entry`;
    numel *= n;
    if (n > 0) last += (n - 1) * s;
  }
  if (numel === 0) return null;
  if (numel > Number.MAX_SAFE_INTEGER) return `size [${shape.join(', ')}] has more than 2^53 elements`;
  if (!(last < storageNumel)) {
    return `size [${shape.join(', ')}] with stride [${strides.join(', ')}] at offset ${offset} reaches element ${last}, past the storage's ${storageNumel}`;
  }
  return null;
}

/** Row-major strides for a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}
