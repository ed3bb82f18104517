// Scalar functions behind the CPU backend's elementwise kernels (the unary ones live in the op table).

import type { BinaryOp, UnaryOp } from '../backend.js';
import { assertNever } from '../dtype.js';
import { UNARY_OPS } from '../ops/unary.js';

/** Error function, Abramowitz-Stegun 7.1.26 refined to double precision via erfc series. */
export function erf(x: number): number {
  // W. J. Cody's rational approximations give full double precision.
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const p =
      (((0.185777706184603153 * t + 3.1611237438705656) * t + 113.864154151050156) * t +
        377.485237685302021) *
        t +
      3209.37758913846947;
    const q =
      (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t +
      2844.23683343917062;
    return (x * p) / q;
  }
  let r: number;
  if (ax < 4) {
    const p =
      (((((((ax * 2.15311535474403846e-8 + 0.564188496988670089) * ax + 8.88314979438837594) * ax +
        66.1191906371416295) *
        ax +
        298.635138197400131) *
        ax +
        881.95222124176909) *
        ax +
        1712.04761263407058) *
        ax +
        2051.07837782607147) *
        ax +
      1230.33935479799725;
    const q =
      (((((((ax + 15.7449261107098347) * ax + 117.693950891312499) * ax + 537.181101862009858) * ax +
        1621.38957456669019) *
        ax +
        3290.79923573345963) *
        ax +
        4362.61909014324716) *
        ax +
        3439.36767414372164) *
        ax +
      1230.33935480374942;
    r = (Math.exp(-ax * ax) * p) / q;
  } else {
    const z = 1 / (ax * ax);
    const p =
      ((((0.0163153871373020978 * z + 0.305326634961232344) * z + 0.360344899949804439) * z +
        0.125781726111229246) *
        z +
        0.0160837851487422766) *
        z +
      6.58749161529837803e-4;
    const q =
      ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 0.527905102951428412) * z +
        0.0605183413124413191) *
        z +
      0.00233520497626869185;
    r = (Math.exp(-ax * ax) / ax) * (0.564189583547755073 - (z * p) / q);
  }
  return x < 0 ? r - 1 : 1 - r;
}

/** The CPU reference kernel of a unary op: its scalar function from the op table (ops/unary.ts). */
export function unaryFn(op: UnaryOp): (x: number) => number {
  return UNARY_OPS[op].cpu;
}

export function binaryFn(op: BinaryOp, integer: boolean): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow':
      // C's pow: 1^y = 1 for any y (NaN included) and (-1)^(+-inf) = 1, where Math.pow gives NaN.
      return (a, b) =>
        a === 1 || (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY))
          ? 1
          : a ** b;
    case 'maximum':
      return (a, b) => (a !== a || b !== b ? Number.NaN : Math.max(a, b));
    case 'minimum':
      return (a, b) => (a !== a || b !== b ? Number.NaN : Math.min(a, b));
    case 'eq':
      return (a, b) => (a === b ? 1 : 0);
    case 'ne':
      return (a, b) => (a !== b ? 1 : 0);
    case 'lt':
      return (a, b) => (a < b ? 1 : 0);
    case 'le':
      return (a, b) => (a <= b ? 1 : 0);
    case 'gt':
      return (a, b) => (a > b ? 1 : 0);
    case 'ge':
      return (a, b) => (a >= b ? 1 : 0);
    case 'logicalAnd':
      return (a, b) => (a !== 0 && b !== 0 ? 1 : 0);
    case 'logicalOr':
      return (a, b) => (a !== 0 || b !== 0 ? 1 : 0);
    case 'floorDivide':
      return integer
        ? (a, b) => {
            if (b === 0) throw new Error('floorDivide: ZeroDivisionError (integer division by zero)');
            return Math.floor(a / b);
          }
        : (a, b) => Math.floor(a / b);
    case 'remainder':
      // Python semantics: the result has the sign of the divisor.
      return (a, b) => {
        if (integer && b === 0) throw new Error('remainder: ZeroDivisionError (integer division by zero)');
        const r = a % b;
        return r !== 0 && r < 0 !== b < 0 ? r + b : r;
      };
    default:
      return assertNever(op);
  }
}
