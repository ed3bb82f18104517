// Seeded random numbers: one Generator type behind every random function, so manualSeed makes runs repeat.

/** A seeded xoshiro128** generator with Box-Muller normals. Not PyTorch's stream: same seed, same graft run. */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Reseeds the generator (any integer, like torch.manual_seed). */
  manualSeed(seed: number): this {
    // splitmix32 expands the seed into the four state words.
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
    this.spare = null;
    return this;
  }

  /** Next 32 random bits. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [low, high). */
  randint(low: number, high: number): number {
    if (!(high > low)) throw new Error(`randint: expected low < high, got low=${low}, high=${high}`);
    return low + Math.floor(this.random() * (high - low));
  }

  /** Standard normal sample. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills `out` with `a + (b - a) * random()`, draw by draw: the values and the state afterwards are
   * exactly those of calling `random()` out.length times, with the state kept in locals meanwhile.
   */
  fillUniform(out: Float32Array | Float64Array, a: number, b: number): void {
    const st = this.s;
    let s0 = st[0] | 0;
    let s1 = st[1] | 0;
    let s2 = st[2] | 0;
    let s3 = st[3] | 0;
    // Two 32-bit draws make one value, as in random(): the first gives the high bits, the second the low.
    let hi = 0;
    for (let k = 0, draws = 2 * out.length; k < draws; k++) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      if ((k & 1) === 0) hi = r >>> 5;
      else out[k >> 1] = a + (b - a) * ((hi * 67108864 + (r >>> 6)) / 9007199254740992);
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }

  /**
   * Fills `out` with `mean + std * normal()`, exactly as that many `normal()` calls would (the spare
   * Box-Muller value included). The uniforms come in chunks from `fillUniform`; a pair that meets an
   * exact 0 (which `normal()` redraws) takes one more, from the chunk or, past its end, from `random()`.
   */
  fillNormal(out: Float32Array | Float64Array, mean: number, std: number): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = mean + std * this.spare;
      this.spare = null;
    }
    const scratch = new Float64Array(Math.min(4096, 2 * Math.ceil((n - i) / 2)));
    while (i < n) {
      const pairs = Math.min(scratch.length / 2, Math.ceil((n - i) / 2));
      const need = 2 * pairs;
      this.fillUniform(scratch.subarray(0, need), 0, 1);
      let p = 0;
      for (let k = 0; k < pairs; k++, i += 2) {
        let u = p < need ? scratch[p++] : this.random();
        while (u === 0) u = p < need ? scratch[p++] : this.random();
        const v = p < need ? scratch[p++] : this.random();
        const r = Math.sqrt(-2 * Math.log(u));
        const second = r * Math.sin(2 * Math.PI * v);
        out[i] = mean + std * (r * Math.cos(2 * Math.PI * v));
        if (i + 1 < n) out[i + 1] = mean + std * second;
        else this.spare = second;
      }
    }
  }

  /** The generator's state as plain numbers (for checkpoints). */
  getState(): number[] {
    return [...this.s, this.spare === null ? Number.NaN : this.spare];
  }

  setState(state: readonly number[]): this {
    if (state.length !== 5) throw new Error(`Generator.setState: expected 5 numbers, got ${state.length}`);
    for (let i = 0; i < 4; i++) this.s[i] = state[i] >>> 0;
    this.spare = Number.isNaN(state[4]) ? null : state[4];
    return this;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator random functions use when none is given. */
export const defaultGenerator = new Generator(0x5eed);

/** Seeds the default generator, like torch.manual_seed. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
