// markTemporary: a forward's own intermediates are freed during backward once their last graph node has
// run, and the gradients equal those of the same graph without marks (the reference).

import { describe, expect, it } from 'vitest';
import { markTemporary } from './autograd.js';
import { randn } from './creation.js';
import { memoryStats } from './memory.js';
import { relu } from './ops/functions.js';
import { conv2d } from './ops/nn.js';
import { manualSeed } from './random.js';
import type { Tensor } from './tensor.js';

const MB = 1024 * 1024;

/** A small conv net whose intermediates (1 MiB each) are marked when `mark` is set. */
function forward(x: Tensor, w: Tensor[], mark: boolean): Tensor {
  let h = x;
  for (const wi of w) {
    const c = conv2d(h, wi, null, { padding: 1 });
    const r = relu(c);
    if (mark) {
      markTemporary(c);
      if (h !== x) markTemporary(h);
    }
    h = r;
  }
  return h.mean();
}

function params(): { x: Tensor; w: Tensor[] } {
  manualSeed(7);
  const x = randn(4, 16, 64, 64);
  const w = [0, 1, 2, 3].map(() => randn(16, 16, 3, 3).mul(0.1).requiresGrad_());
  return { x, w };
}

describe('markTemporary', () => {
  it('frees marked intermediates during backward; gradients equal the unmarked graph', () => {
    const freedBy = (mark: boolean) => {
      const { x, w } = params();
      const loss = forward(x, w, mark);
      const before = memoryStats('cpu').live;
      loss.backward();
      return { freed: before - memoryStats('cpu').live, w };
    };
    const ref = freedBy(false);
    const marked = freedBy(true);
    // 7 marked tensors of 1 MiB each (4 conv outputs, 3 ReLU outputs) go back during backward.
    expect(marked.freed - ref.freed).toBe(7 * MB);
    for (let i = 0; i < marked.w.length; i++) {
      expect(Array.from(marked.w[i].grad!.readSync())).toEqual(Array.from(ref.w[i].grad!.readSync()));
    }
  });

  it('without marks nothing is freed before the garbage collector runs', () => {
    const { x, w } = params();
    const loss = forward(x, w, false);
    const before = memoryStats('cpu').live;
    loss.backward();
    // The saved activations stay until collected: less than one 1 MiB tensor's worth is returned.
    expect(before - memoryStats('cpu').live).toBeLessThan(MB);
  });

  it('retainGraph keeps marked tensors: a second backward gives the same gradients again', () => {
    const { x, w } = params();
    const loss = forward(x, w, true);
    loss.backward({ retainGraph: true });
    const first = w.map((p) => Array.from(p.grad!.readSync()));
    for (const p of w) p.grad = null;
    loss.backward();
    w.forEach((p, i) => {
      expect(Array.from(p.grad!.readSync())).toEqual(first[i]);
    });
  });

  it('a second backward without retainGraph throws instead of reading freed memory', () => {
    const { x, w } = params();
    const loss = forward(x, w, true);
    loss.backward();
    expect(() => loss.backward()).toThrow(/backward through the graph a second time/);
  });

  it('is a no-op without a graph (nothing records, nothing is freed)', () => {
    const { x } = params();
    const t = x.mul(2);
    markTemporary(t);
    expect(t.readSync()[0]).toBe(x.readSync()[0] * 2);
  });
});
