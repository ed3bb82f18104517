// The tiled GEMM body that matmul and the three convolutions (implicit GEMM, conv.ts) share, and the
// batched matmul launcher.

import type { Storage, View } from '../../backend.js';
import type { DType } from '../../dtype.js';
import type { GpuRuntime } from '../runtime/device.js';
import { gpuClass } from '../runtime/dtype.js';
import { kernel } from '../runtime/params.js';
import { PRELUDE } from './math.js';
import { loadAs, storeAs } from './wgsl.js';

/** Rows and columns of C one 16x16 workgroup computes; each thread holds a (TM/16)x(TN/16) block. */
export interface GemmTile {
  tm: number;
  tn: number;
}

const TK = 16;

/**
 * The tile for an M x N product: 64x64 in general, narrow tiles when one side is small (a 3-channel
 * input gradient, a 1x1 spatial map), where a square tile would compute mostly padding.
 */
export function gemmTile(M: number, N: number): GemmTile {
  if (M <= 16 && N <= 16) return { tm: 16, tn: 16 };
  if (M <= 16) return { tm: 16, tn: 64 };
  if (N <= 16) return { tm: 64, tn: 16 };
  return { tm: 64, tn: 64 };
}

/** The operand loads and the store of one GEMM, as WGSL snippets (parameters are `p.*`). */
export interface GemmBody {
  /** Buffer bindings from 1 on. */
  bindings: string;
  /**
   * Parameters the snippets use by bare name: copied into locals once per thread (`let KW = p.KW;`),
   * so the K loop reads registers rather than the parameter buffer.
   */
  locals?: readonly string[];
  /** Runs once per thread for its fixed row `m` (all tile sizes divide 256), before the K loop. */
  aHoist?: string;
  /** Assigns `av` = A(g, m, k); runs only for in-range m and k. */
  aLoad: string;
  /** Runs once per thread for its fixed column `n`, before the K loop. */
  bHoist?: string;
  /** Assigns `bv` = B(g, k, n); runs only for in-range n and k. */
  bLoad: string;
  /** Body of fn storeC(g: i32, m: i32, n: i32, v: f32). */
  storeC: string;
}

/**
 * A tiled GEMM C[g, m, n] = sum_k A(g, m, k) * B(g, k, n) over the workgroup grid
 * [ceil(N / tn), ceil(M / tm), groups]; the kernel's parameters must include M, N and K.
 */
export function gemmShader(tile: GemmTile, body: GemmBody): string {
  const { tm, tn } = tile;
  const rm = tm / 16;
  const rn = tn / 16;
  const fma: string[] = [];
  for (let i = 0; i < rm; i++) fma.push(`      let a${i} = AS[kk * ${tm} + tm + ${i}];`);
  for (let j = 0; j < rn; j++) fma.push(`      let b${j} = BS[kk * ${tn} + tn + ${j}];`);
  for (let i = 0; i < rm; i++)
    for (let j = 0; j < rn; j++) fma.push(`      acc[${i * rn + j}] += a${i} * b${j};`);
  return `${body.bindings}
${PRELUDE}
fn storeC(g: i32, m: i32, n: i32, v: f32) { ${body.storeC} }
var<workgroup> AS: array<f32, ${TK * tm}>;
var<workgroup> BS: array<f32, ${TK * tn}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p.M; let N = p.N; let K = p.K;
  ${(body.locals ?? []).map((name) => `let ${name} = p.${name};`).join(' ')}
  let g = i32(wid.z);
  let m0 = i32(wid.y) * ${tm};
  let n0 = i32(wid.x) * ${tn};
  let tid = i32(lid.y * 16u + lid.x);
  let tm = i32(lid.y) * ${rm};
  let tn = i32(lid.x) * ${rn};
  let am = tid % ${tm};
  let bn = tid % ${tn};
  let m = m0 + am;
  let n = n0 + bn;
  ${body.aHoist ?? ''}
  ${body.bHoist ?? ''}
  var acc: array<f32, ${rm * rn}>;
  for (var q = 0; q < ${rm * rn}; q++) { acc[q] = 0.0; }
  for (var k0 = 0; k0 < K; k0 += ${TK}) {
    for (var l = 0; l < ${(TK * tm) / 256}; l++) {
      let kk = tid / ${tm} + l * ${256 / tm};
      var av = 0.0;
      if (m < M && k0 + kk < K) { let k = k0 + kk; ${body.aLoad} }
      AS[kk * ${tm} + am] = av;
    }
    for (var l = 0; l < ${(TK * tn) / 256}; l++) {
      let kk = tid / ${tn} + l * ${256 / tn};
      var bv = 0.0;
      if (n < N && k0 + kk < K) { let k = k0 + kk; ${body.bLoad} }
      BS[kk * ${tn} + bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TK}; kk++) {
${fma.join('\n')}
    }
    workgroupBarrier();
  }
  for (var i = 0; i < ${rm}; i++) {
    for (var j = 0; j < ${rn}; j++) {
      let mi = m0 + tm + i;
      let ni = n0 + tn + j;
      if (mi < M && ni < N) { storeC(g, mi, ni, acc[i * ${rn} + j]); }
    }
  }
}`;
}

/** [B, M, K] x [B, K, N] -> [B, M, N] over any strides. */
export function matmul(rt: GpuRuntime, a: View, b: View, outDtype: DType): Storage {
  rt.check();
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  const out = rt.newStorage(B * M * N, outDtype);
  if (B * M * N === 0) return out;
  const ac = gpuClass(a.dtype);
  const bc = gpuClass(b.dtype);
  const tile = gemmTile(M, N);
  const k = kernel(
    `matmul:${ac}:${bc}:${outDtype}:${tile.tm}x${tile.tn}`,
    ['M', 'N', 'K', 'AO', ['SA', 3], 'BO', ['SB', 3]],
    () =>
      gemmShader(tile, {
        bindings: `@group(0) @binding(1) var<storage, read_write> C: array<${gpuClass(outDtype)}>;
@group(0) @binding(2) var<storage, read> A: array<${ac}>;
@group(0) @binding(3) var<storage, read> BM: array<${bc}>;`,
        aHoist: 'let aRow = p.AO + g * p.SA[0] + m * p.SA[1]; let aStep = p.SA[2];',
        aLoad: `av = ${loadAs(ac, 'f32', 'A[u32(aRow + k * aStep)]')};`,
        bHoist: 'let bCol = p.BO + g * p.SB[0] + n * p.SB[2]; let bStep = p.SB[1];',
        bLoad: `bv = ${loadAs(bc, 'f32', 'BM[u32(bCol + k * bStep)]')};`,
        storeC: `C[u32((g * p.M + m) * p.N + n)] = ${storeAs(outDtype, 'f32', 'v')};`,
      }),
  );
  rt.launch(
    k,
    { M, N, K, AO: a.offset, SA: a.strides, BO: b.offset, SB: b.strides },
    [out._buffer!, rt.buffer(a, 'matmul'), rt.buffer(b, 'matmul')],
    [Math.ceil(N / tile.tn), Math.ceil(M / tile.tm), B],
  );
  return out;
}
