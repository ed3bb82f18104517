// PyTorch's tensor printing (torch/_tensor_str.py semantics): precision 4, linewidth 80,
// summarisation past 1000 elements with 3 edge items, sci/int modes chosen from the values.

import { type DType, isFloating } from './dtype.js';
import { numelOf } from './shape.js';
import type { Tensor } from './tensor.js';

const PRECISION = 4;
const LINEWIDTH = 80;
const THRESHOLD = 1000;
const EDGEITEMS = 3;

/** Python's '{:.Ne}': correctly rounded, ties to even, two-digit exponent at least. */
function sci(v: number, precision = PRECISION): string {
  if (!Number.isFinite(v)) return pyNonFinite(v);
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  const a = Math.abs(v);
  // The decimal exponent of |v| itself (before rounding), from a long enough expansion.
  let e = a === 0 ? 0 : Number(a.toExponential(20).split('e')[1]);
  let mantissa: string;
  const k = a === 0 ? null : evenTieFloor(a, precision - e);
  if (k !== null) {
    const digits = k.toString();
    mantissa = `${digits[0]}.${digits.slice(1)}`;
  } else {
    const [m, ex] = a.toExponential(precision).split('e');
    mantissa = m;
    e = Number(ex);
  }
  return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function pyNonFinite(v: number): string {
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** Python's '{:.Nf}': like toFixed, except exact binary ties round to even and -0 keeps its sign. */
function fixed(v: number, precision: number): string {
  if (!Number.isFinite(v)) return pyNonFinite(v);
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  const a = Math.abs(v);
  const k = evenTieFloor(a, precision);
  if (k === null) return sign + a.toFixed(precision);
  const digits = k.toString().padStart(precision + 1, '0');
  return precision === 0
    ? sign + digits
    : `${sign}${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
}

/**
 * When a * 10^scale (a >= 0, exact binary value) is exactly k + 1/2 with k even, returns k: the
 * digits Python's round-half-even keeps where JavaScript's toFixed/toExponential round up.
 * Otherwise null (JavaScript's rounding is then already Python's).
 */
function evenTieFloor(a: number, scale: number): bigint | null {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = exp === 0 ? frac : frac | (1n << 52n);
  const e2 = exp === 0 ? -1074 : exp - 1075;
  if (mant === 0n) return null;
  // a * 10^scale = num / den exactly.
  let num = mant * (e2 >= 0 ? 1n << BigInt(e2) : 1n) * (scale >= 0 ? 10n ** BigInt(scale) : 1n);
  const den = (e2 < 0 ? 1n << BigInt(-e2) : 1n) * (scale < 0 ? 10n ** BigInt(-scale) : 1n);
  num *= 2n;
  if (num % den !== 0n) return null;
  const q = num / den; // 2 * a * 10^scale, an integer
  if (q % 2n !== 1n) return null;
  const k = (q - 1n) / 2n;
  return k % 2n === 0n ? k : null;
}

class Formatter {
  floating: boolean;
  intMode = true;
  sciMode = false;
  maxWidth = 1;

  constructor(values: number[], dtype: DType) {
    this.floating = isFloating(dtype);
    if (!this.floating) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, intStr(v, dtype).length);
      return;
    }
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (finite.length === 0) return;
    const abs = finite.map(Math.abs);
    const min = Math.min(...abs);
    const max = Math.max(...abs);
    for (const v of finite) {
      if (v !== Math.ceil(v)) {
        this.intMode = false;
        break;
      }
    }
    if (this.intMode) {
      if (max / min > 1000 || max > 1e8) {
        this.sciMode = true;
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, sci(v).length);
      } else {
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, fixed(v, 0).length + 1);
      }
    } else if (max / min > 1000 || max > 1e8 || min < 1e-4) {
      this.sciMode = true;
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, sci(v).length);
    } else {
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, fixed(v, PRECISION).length);
    }
  }

  format(v: number, dtype: DType): string {
    let s: string;
    if (this.floating) {
      if (this.sciMode) s = sci(v);
      else if (this.intMode) {
        s = fixed(v, 0);
        if (Number.isFinite(v)) s += '.';
      } else s = fixed(v, PRECISION);
    } else s = intStr(v, dtype);
    return s.padStart(this.maxWidth, ' ');
  }
}

function intStr(v: number, dtype: DType): string {
  return dtype === 'bool' ? (v ? 'True' : 'False') : String(v);
}

/** Nested values with summarisation applied ('...' markers), plus the flat list the formatter sees. */
type Cell = number | Cell[] | '...';

function summarize(
  data: ArrayLike<number>,
  shape: readonly number[],
  off: number,
  dim: number,
  summ: boolean,
  flat: number[],
): Cell {
  if (dim === shape.length) {
    flat.push(data[off]);
    return data[off];
  }
  const n = shape[dim];
  const stride = numelOf(shape.slice(dim + 1));
  const idx: (number | '...')[] =
    summ && n > 2 * EDGEITEMS
      ? [
          ...Array.from({ length: EDGEITEMS }, (_, i) => i),
          '...',
          ...Array.from({ length: EDGEITEMS }, (_, i) => n - EDGEITEMS + i),
        ]
      : Array.from({ length: n }, (_, i) => i);
  return idx.map((i) =>
    i === '...' ? '...' : summarize(data, shape, off + i * stride, dim + 1, summ, flat),
  ) as Cell[];
}

function render(cell: Cell, dim: number, ndim: number, indent: number, f: Formatter, dtype: DType): string {
  if (ndim === 0) return f.format(cell as number, dtype);
  const items = cell as Cell[];
  if (dim === ndim - 1) {
    const elementLength = f.maxWidth + 2;
    const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / elementLength));
    const strs = items.map((v) => (v === '...' ? ' ...' : f.format(v as number, dtype)));
    const lines: string[] = [];
    for (let i = 0; i < strs.length; i += perLine) lines.push(strs.slice(i, i + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
  }
  const slices = items.map((v) => (v === '...' ? '...' : render(v, dim + 1, ndim, indent + 1, f, dtype)));
  const sep = `,${'\n'.repeat(ndim - dim - 1)}${' '.repeat(indent + 1)}`;
  return `[${slices.join(sep)}]`;
}

function addSuffixes(body: string, suffixes: string[], indent: number): string {
  const parts = [body];
  let lastLineLen = body.length - body.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLineLen + s.length + 2 > LINEWIDTH) {
      parts.push(`,\n${' '.repeat(indent)}${s}`);
      lastLineLen = indent + s.length;
    } else {
      parts.push(`, ${s}`);
      lastLineLen += s.length + 2;
    }
  }
  parts.push(')');
  return parts.join('');
}

/** The body of a tensor's repr with a given prefix (`tensor(` or a Parameter's). */
export function formatTensor(t: Tensor, prefix = 'tensor('): string {
  const indent = prefix.length;
  const suffixes: string[] = [];
  if (t.device !== 'cpu') suffixes.push(`device='${t.device}'`);
  const defaultDtype = t.dtype === 'float32' || t.dtype === 'int64' || t.dtype === 'bool';
  let body: string;
  if (t.numel() === 0) {
    if (t.ndim !== 1) suffixes.push(`size=(${t.shape.join(', ')}${t.ndim === 1 ? ',' : ''})`);
    if (t.dtype !== 'float32') suffixes.push(`dtype=torch.${t.dtype}`);
    body = '[]';
  } else {
    if (!defaultDtype) suffixes.push(`dtype=torch.${t.dtype}`);
    let data: ArrayLike<number>;
    try {
      data = t.readSync();
    } catch {
      return `${prefix}<on ${t.device}: await t.read() to read>)`;
    }
    const summ = t.numel() > THRESHOLD;
    const flat: number[] = [];
    const cells = summarize(data, t.shape, 0, 0, summ, flat);
    const f = new Formatter(flat, t.dtype);
    body = render(cells, 0, t.ndim, indent, f, t.dtype);
  }
  if (t.gradFn) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(prefix + body, suffixes, indent);
}
