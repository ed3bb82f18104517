// Python's spelling of the values PyTorch prints in reprs and error messages (floats, tuples, None).

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pyFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    const sign = v < 0 ? '-' : '';
    const digits = mantissa.replace(/^-/, '').replace('.', '');
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    if (exp >= digits.length - 1) return `${sign}${digits}${'0'.repeat(exp - digits.length + 1)}.0`;
    return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** A value as Python's `str.format` shows it: bool as True/False, null as None, arrays as tuples. */
export function pyValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return pyTuple(v);
  return String(v);
}

/** A float-typed value (eps, momentum, p, ...): `1e-05`, `0.1`, `None`. */
export function pyFloatOrNone(v: number | null): string {
  return v === null ? 'None' : pyFloat(v);
}

/** Python's tuple repr: `(5, 5)`, `(10,)`, `(None, 7)`. */
export function pyTuple(items: readonly unknown[]): string {
  const parts = items.map(pyValue);
  return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(', ')})`;
}

/** `torch.Size([5, 512])`, as PyTorch shows shapes in messages. */
export function torchSize(shape: readonly number[]): string {
  return `torch.Size([${shape.join(', ')}])`;
}

/** Indents every line but the first by `spaces` (torch.nn.modules.module._addindent). */
export function addIndent(s: string, spaces: number): string {
  const lines = s.split('\n');
  if (lines.length === 1) return s;
  const pad = ' '.repeat(spaces);
  return [lines[0], ...lines.slice(1).map((l) => pad + l)].join('\n');
}

/** A short name for a value's type in error messages. */
export function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return 'Array';
  if (typeof x === 'object' || typeof x === 'function') return (x as object).constructor?.name ?? typeof x;
  return typeof x;
}
