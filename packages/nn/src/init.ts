// torch.nn.init: in-place initialisers with PyTorch's fan and gain rules. All run without recording
// gradients and accept `{ generator }` for reproducible draws.

import {
  checkOptions,
  defaultGenerator,
  eye,
  fromTypedArray,
  type Generator,
  noGrad,
  type Tensor,
} from '@graft/tensor';

/** The nonlinearity names `calculateGain` knows (PyTorch's strings). */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

export interface InitOptions {
  /** Draw from this generator instead of the default one. */
  generator?: Generator;
}

const LINEAR_FNS = [
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
];

/**
 * The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, √2 for relu,
 * √(2 / (1 + slope²)) for leaky_relu (slope `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number | null): number {
  if (LINEAR_FNS.includes(nonlinearity) || nonlinearity === 'sigmoid') return 1;
  if (nonlinearity === 'tanh') return 5 / 3;
  if (nonlinearity === 'relu') return Math.sqrt(2);
  if (nonlinearity === 'leaky_relu') {
    let slope = 0.01;
    if (param !== undefined && param !== null) {
      if (typeof param !== 'number' || !Number.isFinite(param))
        throw new Error(`negative_slope ${String(param)} not a valid number`);
      slope = param;
    }
    return Math.sqrt(2 / (1 + slope ** 2));
  }
  if (nonlinearity === 'selu') return 3 / 4;
  throw new Error(`Unsupported nonlinearity ${String(nonlinearity)}`);
}

/**
 * PyTorch's fan rule: fan_in = size(1) · receptive field, fan_out = size(0) · receptive field,
 * where the receptive field is the product of dims 2 and up. Needs at least 2 dims.
 */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  if (tensor.ndim < 2) {
    throw new Error(
      `Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape [${tensor.shape.join(', ')}])`,
    );
  }
  const receptive = tensor.shape.slice(2).reduce((a, b) => a * b, 1);
  return [tensor.shape[1] * receptive, tensor.shape[0] * receptive];
}

function correctFan(tensor: Tensor, mode: FanMode): number {
  const m = String(mode).toLowerCase();
  if (m !== 'fan_in' && m !== 'fan_out')
    throw new Error(`Mode ${String(mode)} not supported, please use one of fan_in, fan_out`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return m === 'fan_in' ? fanIn : fanOut;
}

/** Options of `uniform_` when given as one object (PyTorch's keywords). */
export interface UniformOptions extends InitOptions {
  a?: number;
  b?: number;
}

/** Options of `normal_` when given as one object (PyTorch's keywords). */
export interface NormalOptions extends InitOptions {
  mean?: number;
  std?: number;
}

/** Fills with U(a, b). `uniform_(w, -0.1, 0.1)` or `uniform_(w, { a: -0.1, b: 0.1 })`. */
export function uniform_(
  tensor: Tensor,
  a: number | UniformOptions = 0,
  b = 1,
  opts: InitOptions = {},
): Tensor {
  if (typeof a !== 'number') {
    checkOptions('init.uniform_', a, ['a', 'b', 'generator']);
    return uniform_(tensor, a?.a ?? 0, a?.b ?? 1, { generator: a?.generator });
  }
  checkOptions('init.uniform_', opts, ['generator']);
  return noGrad(() => tensor.uniform_(a, b, { generator: opts.generator }));
}

/** Fills with N(mean, std²). `normal_(w, 0, 0.01)` or `normal_(w, { std: 0.01 })`. */
export function normal_(
  tensor: Tensor,
  mean: number | NormalOptions = 0,
  std = 1,
  opts: InitOptions = {},
): Tensor {
  if (typeof mean !== 'number') {
    checkOptions('init.normal_', mean, ['mean', 'std', 'generator']);
    return normal_(tensor, mean?.mean ?? 0, mean?.std ?? 1, { generator: mean?.generator });
  }
  checkOptions('init.normal_', opts, ['generator']);
  return noGrad(() => tensor.normal_(mean, std, { generator: opts.generator }));
}

/** Fills with `value`. */
export function constant_(tensor: Tensor, value: number): Tensor {
  return noGrad(() => tensor.fill_(value));
}

export function ones_(tensor: Tensor): Tensor {
  return constant_(tensor, 1);
}

export function zeros_(tensor: Tensor): Tensor {
  return constant_(tensor, 0);
}

/** Fills a 2-D tensor with the identity (ones on the diagonal). */
export function eye_(tensor: Tensor): Tensor {
  if (tensor.ndim !== 2)
    throw new Error(`eye_: Only tensors with 2 dimensions are supported (got ${tensor.ndim})`);
  return noGrad(() =>
    tensor.copy_(eye(tensor.shape[0], tensor.shape[1], { dtype: tensor.dtype, device: tensor.device })),
  );
}

function gainArg(
  where: string,
  gainOrOpts: number | (InitOptions & { gain?: number }) | undefined,
  opts: InitOptions,
): [number, InitOptions] {
  checkOptions(where, opts, ['generator']);
  if (typeof gainOrOpts === 'number') return [gainOrOpts, {}];
  checkOptions(where, gainOrOpts, ['gain', 'generator']);
  return [gainOrOpts?.gain ?? 1, gainOrOpts ?? {}];
}

/** Glorot uniform: U(-a, a) with a = gain · √(6 / (fan_in + fan_out)). `xavierUniform_(w, gain)` or `(w, { gain })`. */
export function xavierUniform_(
  tensor: Tensor,
  gain?: number | (InitOptions & { gain?: number }),
  opts: InitOptions = {},
): Tensor {
  const [g, o] = gainArg('init.xavierUniform_', gain, opts);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  const a = Math.sqrt(3) * g * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(tensor, -a, a, { generator: opts.generator ?? o.generator });
}

/** Glorot normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)). */
export function xavierNormal_(
  tensor: Tensor,
  gain?: number | (InitOptions & { gain?: number }),
  opts: InitOptions = {},
): Tensor {
  const [g, o] = gainArg('init.xavierNormal_', gain, opts);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return normal_(tensor, 0, g * Math.sqrt(2 / (fanIn + fanOut)), {
    generator: opts.generator ?? o.generator,
  });
}

export interface KaimingOptions extends InitOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  /** 'fan_in' (default) keeps forward variance, 'fan_out' backward variance. */
  mode?: FanMode;
  /** Default 'leaky_relu', as in PyTorch. */
  nonlinearity?: Nonlinearity;
}

const KAIMING_OPTIONS = ['a', 'mode', 'nonlinearity', 'generator'];

function kaimingStd(tensor: Tensor, opts: KaimingOptions): number {
  const fan = correctFan(tensor, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He uniform: U(-bound, bound) with bound = gain · √(3 / fan). `kaimingUniform_(w, { a: Math.sqrt(5) })`. */
export function kaimingUniform_(tensor: Tensor, opts: KaimingOptions = {}): Tensor {
  checkOptions('init.kaimingUniform_', opts, KAIMING_OPTIONS);
  if (tensor.numel() === 0) return tensor;
  const bound = Math.sqrt(3) * kaimingStd(tensor, opts);
  return uniform_(tensor, -bound, bound, { generator: opts.generator });
}

/** He normal: N(0, std²) with std = gain / √fan. `kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' })`. */
export function kaimingNormal_(tensor: Tensor, opts: KaimingOptions = {}): Tensor {
  checkOptions('init.kaimingNormal_', opts, KAIMING_OPTIONS);
  if (tensor.numel() === 0) return tensor;
  return normal_(tensor, 0, kaimingStd(tensor, opts), { generator: opts.generator });
}

export interface TruncNormalOptions extends InitOptions {
  mean?: number;
  std?: number;
  /** Lower cutoff (default -2). */
  a?: number;
  /** Upper cutoff (default 2). */
  b?: number;
}

/**
 * N(mean, std²) truncated to [a, b], drawn by inverting the normal CDF on U(Φ(α), Φ(β)) as
 * PyTorch does. `truncNormal_(w, { std: 0.02 })`.
 */
export function truncNormal_(tensor: Tensor, opts: TruncNormalOptions = {}): Tensor {
  checkOptions('init.truncNormal_', opts, ['mean', 'std', 'a', 'b', 'generator']);
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  if (!(std > 0)) throw new Error(`truncNormal_: std must be positive, got ${std}`);
  if (!(a < b)) throw new Error(`truncNormal_: expected a < b, got a=${a}, b=${b}`);
  const g = opts.generator ?? defaultGenerator;
  const lo = 2 * normCdf((a - mean) / std) - 1;
  const hi = 2 * normCdf((b - mean) / std) - 1;
  const values = new Float64Array(tensor.numel());
  for (let i = 0; i < values.length; i++) {
    const u = lo + (hi - lo) * g.random();
    values[i] = Math.min(b, Math.max(a, mean + std * Math.SQRT2 * erfinv(u)));
  }
  return fillFrom(tensor, values);
}

/**
 * A (semi-)orthogonal matrix from the QR decomposition of a normal draw, with R's diagonal made
 * positive (so the result is uniformly distributed), times `gain`. Dims past the first are flattened.
 */
export function orthogonal_(
  tensor: Tensor,
  gain?: number | (InitOptions & { gain?: number }),
  opts: InitOptions = {},
): Tensor {
  if (tensor.ndim < 2) throw new Error('orthogonal_: Only tensors with 2 or more dimensions are supported');
  if (tensor.numel() === 0) return tensor;
  const [gn, o] = gainArg('init.orthogonal_', gain, opts);
  const g = opts.generator ?? o.generator ?? defaultGenerator;
  const rows = tensor.shape[0];
  const cols = tensor.numel() / rows;
  // Orthonormalise the columns of a tall m x n matrix (m >= n); transpose when the tensor is wide.
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  const q = new Float64Array(m * n); // column-major: column j at q[j*m ..]
  for (let i = 0; i < q.length; i++) q[i] = g.normal();
  gramSchmidt(q, m, n);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // Tall: out[r][c] = Q[r][c]; wide: out = Qᵀ, so out[r][c] = Q[c][r].
      out[r * cols + c] = gn * (rows >= cols ? q[c * m + r] : q[r * m + c]);
    }
  }
  return fillFrom(tensor, out);
}

/**
 * Modified Gram-Schmidt, run twice for orthogonality to rounding error. The result equals Q of
 * the QR decomposition with a positive diagonal of R.
 */
function gramSchmidt(q: Float64Array, m: number, n: number): void {
  for (let j = 0; j < n; j++) {
    const cj = j * m;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const ck = k * m;
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[ck + i] * q[cj + i];
        for (let i = 0; i < m; i++) q[cj + i] -= dot * q[ck + i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[cj + i] * q[cj + i];
    norm = Math.sqrt(norm);
    if (norm === 0) throw new Error('orthogonal_: degenerate random draw (zero column); try again');
    for (let i = 0; i < m; i++) q[cj + i] /= norm;
  }
}

/** Writes host values (row-major, the tensor's shape) into `tensor` in place. */
function fillFrom(tensor: Tensor, values: Float64Array): Tensor {
  return noGrad(() => {
    let src = fromTypedArray(values, tensor.shape, 'float64');
    if (tensor.device !== 'cpu') src = src.to(tensor.device);
    return tensor.copy_(src);
  });
}

// ---- special functions for truncNormal_ ----

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf to about 1e-14: Maclaurin series near 0, a continued fraction for erfc in the tails. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  const sign = x < 0 ? -1 : 1;
  if (ax < 2.5) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return sign * TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return sign;
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  return sign * (1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f));
}

/** The standard normal CDF Φ. */
export function normCdf(x: number): number {
  return (1 + erf(x / Math.SQRT2)) / 2;
}

/** Inverse of erf on (-1, 1): a rational first guess (Giles 2010) polished by Newton steps. */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return Number.NaN;
  if (y === 1) return Number.POSITIVE_INFINITY;
  if (y === -1) return Number.NEGATIVE_INFINITY;
  let w = -Math.log((1 - y) * (1 + y));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  let x = p * y;
  for (let i = 0; i < 2; i++) {
    const err = erf(x) - y;
    x -= err / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
  }
  return x;
}
