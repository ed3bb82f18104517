// Tiled GEMM shapes for skinny products, where the square tiles of gemm.ts compute mostly padding: a
// convolution over a 1x1 or 2x2 map (N of 2 to 8 columns against K in the thousands) gets tiles as
// narrow as N, and a weight gradient summed over a handful of positions (K of 2 to 8) a K step as
// short as K. Same operand snippets (GemmBody) as the square tiles, so every convolution can use it.

import type { GemmBody } from './gemm.js';
import { PRELUDE } from './math.js';

/** Threads per workgroup: TY rows by TX columns of threads, each computing RM x RN outputs. */
const THREADS = 256;

/** A skinny tile: tm = ty * rm rows and tn = tx * rn columns of C, a K step of tk. */
export interface SkinnyTile {
  ty: number;
  tx: number;
  rm: number;
  rn: number;
  tk: number;
}

const pow2 = (v: number) => 2 ** Math.ceil(Math.log2(Math.max(v, 1)));

/**
 * The skinny tile for an M x N x K product, or null where the square tiles fit (N > 8 and K >= 16).
 * Narrow N: tn = N rounded up to a power of two (2, 4 or 8), 128 rows. Short K: 128x128 (64x64 for
 * smaller products) with tk = K rounded up.
 */
export function skinnyTile(M: number, N: number, K: number): SkinnyTile | null {
  const tk = Math.min(16, pow2(K));
  if (N <= 8) {
    const tn = Math.max(2, pow2(N));
    // 256 threads as (256 / tn) x tn; each thread one column and 128 / (256 / tn) rows.
    const ty = THREADS / tn;
    return { ty, tx: tn, rm: Math.max(1, 128 / ty), rn: 1, tk };
  }
  if (K < 16 && M > 16) {
    // One short K step per tile: bigger tiles mean fewer workgroups for the same loads.
    const big = M >= 128 && N >= 128;
    return big ? { ty: 16, tx: 16, rm: 8, rn: 8, tk } : { ty: 16, tx: 16, rm: 4, rn: 4, tk };
  }
  return null;
}

/** Rows and columns of C one workgroup of `t` computes. */
export function skinnyExtent(t: SkinnyTile): { tm: number; tn: number } {
  return { tm: t.ty * t.rm, tn: t.tx * t.rn };
}

/**
 * Every tile above keeps its shared A and B tiles ((tm + tn) * tk floats) within 16 KiB, WebGPU's
 * default maxComputeWorkgroupStorageSize, which initWebGpu does not raise.
 */
const WORKGROUP_STORAGE_FLOATS = 4096;

/**
 * The tiled GEMM C[g, m, n] = sum_k A(g, m, k) * B(g, k, n) for a skinny tile, over the workgroup grid
 * [ceil(N / tn), ceil(M / tm), groups]; the kernel's parameters must include M, N and K. Each thread
 * loads a fixed row of the A tile and a fixed column of the B tile (tm and tn divide 256).
 */
export function skinnyGemmShader(t: SkinnyTile, body: GemmBody): string {
  const { tm, tn } = skinnyExtent(t);
  const { rm, rn, tk } = t;
  if ((tm + tn) * tk > WORKGROUP_STORAGE_FLOATS)
    throw new Error(`webgpu: skinny GEMM tile ${tm}x${tn}x${tk} exceeds 16 KiB of workgroup storage`);
  const aLoads = Math.ceil((tk * tm) / THREADS);
  const bLoads = Math.ceil((tk * tn) / THREADS);
  const fma: string[] = [];
  for (let i = 0; i < rm; i++) fma.push(`      let a${i} = AS[kk * ${tm} + tm + ${i}];`);
  for (let j = 0; j < rn; j++) fma.push(`      let b${j} = BS[kk * ${tn} + tn + ${j}];`);
  for (let i = 0; i < rm; i++)
    for (let j = 0; j < rn; j++) fma.push(`      acc[${i * rn + j}] += a${i} * b${j};`);
  const store: string[] = [];
  for (let i = 0; i < rm; i++)
    for (let j = 0; j < rn; j++)
      store.push(
        `  if (m0 + tm + ${i} < M && n0 + tn + ${j} < N) { storeC(g, m0 + tm + ${i}, n0 + tn + ${j}, acc[${i * rn + j}]); }`,
      );
  return `${body.bindings}
${PRELUDE}
fn storeC(g: i32, m: i32, n: i32, v: f32) { ${body.storeC} }
var<workgroup> AS: array<f32, ${tk * tm}>;
var<workgroup> BS: array<f32, ${tk * tn}>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = p.M; let N = p.N; let K = p.K;
  ${(body.locals ?? []).map((name) => `let ${name} = p.${name};`).join(' ')}
  let g = i32(wid.z);
  let m0 = i32(wid.y) * ${tm};
  let n0 = i32(wid.x) * ${tn};
  let tid = i32(lid);
  let tm = (tid / ${t.tx}) * ${rm};
  let tn = (tid % ${t.tx}) * ${rn};
  let am = tid % ${tm};
  let bn = tid % ${tn};
  let m = m0 + am;
  let n = n0 + bn;
  ${body.aHoist ?? ''}
  ${body.bHoist ?? ''}
  var acc: array<f32, ${rm * rn}>;
  for (var k0 = 0; k0 < K; k0 += ${tk}) {
    for (var l = 0; l < ${aLoads}; l++) {
      let kk = tid / ${tm} + l * ${THREADS / tm};
      if (kk < ${tk}) {
        var av = 0.0;
        if (m < M && k0 + kk < K) { let k = k0 + kk; ${body.aLoad} }
        AS[kk * ${tm} + am] = av;
      }
    }
    for (var l = 0; l < ${bLoads}; l++) {
      let kk = tid / ${tn} + l * ${THREADS / tn};
      if (kk < ${tk}) {
        var bv = 0.0;
        if (n < N && k0 + kk < K) { let k = k0 + kk; ${body.bLoad} }
        BS[kk * ${tn} + bn] = bv;
      }
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${tk}; kk++) {
${fma.join('\n')}
    }
    workgroupBarrier();
  }
${store.join('\n')}
}`;
}
