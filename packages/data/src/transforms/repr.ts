// Python-style formatting for transform reprs, so String(transform) reads like torchvision's print.

/** A number as Python's repr prints a float: 1.0, 0.485, 1e-05. */
export function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  if (x !== 0 && (Math.abs(x) < 1e-4 || Math.abs(x) >= 1e16)) {
    const [mantissa, exponent] = x.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return String(x);
}

/** A list of floats as Python prints it: [0.485, 0.456]. */
export function pyFloatList(values: readonly number[]): string {
  return `[${values.map(pyFloat).join(', ')}]`;
}

/** A tuple as Python prints it: (224, 224). */
export function pyTuple(values: readonly (number | string)[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

/** Python's None for undefined. */
export function pyOptional(value: number | undefined, format: (v: number) => string = String): string {
  return value === undefined ? 'None' : format(value);
}

/** Python's True/False. */
export function pyBool(value: boolean): string {
  return value ? 'True' : 'False';
}
