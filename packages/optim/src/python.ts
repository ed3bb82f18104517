// Python's spelling of data: snake_case keys, and values printed as Python's str() prints them.

/** `weightDecay` -> `weight_decay` (the key PyTorch writes in state dicts and reprs). */
export function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `weight_decay` -> `weightDecay` (the key graft's group objects use). */
export function toCamelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `repr(float)`: the shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16, else `1e-05`. */
export function formatPythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, like Python's repr.
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/**
 * Group options whose PyTorch defaults are Python ints (`momentum=0`, `weight_decay=0`, ...): an integral
 * value there prints as `0`, as PyTorch prints it. Every other integral number prints as a float (`lr: 1.0`),
 * since JavaScript cannot tell `1` from `1.0`.
 */
const INT_OPTIONS = new Set([
  'momentum',
  'dampening',
  'weight_decay',
  'lr_decay',
  'initial_accumulator_value',
]);

/** A group value as `'{}'.format(value)` prints it in PyTorch's optimizer repr. */
export function formatPythonValue(value: unknown, snakeKey = ''): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    return Number.isInteger(value) && INT_OPTIONS.has(snakeKey) ? String(value) : formatPythonFloat(value);
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    // The sequence-valued options of torch.optim (betas, etas, step_sizes) are tuples.
    const items = value.map((v) => (typeof v === 'string' ? `'${v}'` : formatPythonValue(v, snakeKey)));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  return String(value);
}
