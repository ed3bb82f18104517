import { type Tensor, tensor } from '@graft/tensor';
import { describe, expect, it } from 'vitest';
import { F, Linear, Sequential } from './index.js';
import {
  decodeValues,
  type Encoded,
  fillPattern,
  mismatch,
  patternTensor,
  readFixture,
} from './test-utils/fixtures.js';
import { Net, resnetCut, TinyResNet } from './test-utils/models.js';

interface Networks {
  Net: {
    target: number[];
    logits: Encoded;
    loss: number;
    grad_input: Encoded;
    grads: Record<string, { full?: Encoded; step?: number; values?: Encoded; sum?: number }>;
  };
  TinyResNet: {
    target: number[];
    logits: Encoded;
    loss: number;
    grad_input: Encoded;
    grads: Record<string, Encoded>;
    buffers_after: Record<string, Encoded>;
    eval_logits: Encoded;
  };
  TinyResNet_cut: { output: Encoded };
}
const golden = readFixture<Networks>('networks.json');

function close(t: Tensor, e: Encoded, what: string, rtol = 1e-5): void {
  expect(t.shape, what).toEqual(e.shape);
  expect(mismatch(t.readSync(), decodeValues(e), rtol), what).toBeNull();
}

describe('whole networks match PyTorch (pattern weights loaded through stateDict)', () => {
  it('the seed Net: logits, loss, input and parameter gradients', () => {
    const net = new Net();
    fillPattern(net);
    const x = patternTensor([2, 3, 32, 32], 101, 2).requiresGrad_(true);
    const logits = net.call(x);
    close(logits, golden.Net.logits, 'logits');
    const loss = F.crossEntropy(logits, tensor(golden.Net.target));
    expect(Math.abs(loss.itemSync() - golden.Net.loss)).toBeLessThan(1e-5 * Math.abs(golden.Net.loss));
    loss.backward();
    close(x.grad!, golden.Net.grad_input, 'grad input');
    for (const [k, p] of net.namedParameters()) {
      const g = golden.Net.grads[k];
      if (g.full) {
        close(p.grad!, g.full, `grad ${k}`);
      } else {
        const flat = p.grad!.reshape(-1).readSync();
        const picked = Float32Array.from(
          { length: Math.ceil(flat.length / g.step!) },
          (_, i) => flat[i * g.step!],
        );
        expect(mismatch(picked, decodeValues(g.values!)), `grad ${k} (sampled)`).toBeNull();
        let sum = 0;
        for (const v of flat) sum += v;
        expect(Math.abs(sum - g.sum!)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(g.sum!)));
      }
    }
  });

  it('TinyResNet in training mode: logits, gradients, running statistics; then eval logits', () => {
    const model = new TinyResNet();
    fillPattern(model);
    const x = patternTensor([2, 3, 16, 16], 202, 2).requiresGrad_(true);
    const logits = model.call(x);
    close(logits, golden.TinyResNet.logits, 'logits');
    const loss = F.crossEntropy(logits, tensor(golden.TinyResNet.target));
    loss.backward();
    // Two batch norms in sequence amplify float32 rounding; 1e-4 relative is still far below any bug.
    close(x.grad!, golden.TinyResNet.grad_input, 'grad input', 1e-4);
    const params = Object.fromEntries(model.namedParameters());
    for (const [k, g] of Object.entries(golden.TinyResNet.grads))
      close(params[k].grad!, g, `grad ${k}`, 1e-4);
    const buffers = Object.fromEntries(model.namedBuffers());
    for (const [k, b] of Object.entries(golden.TinyResNet.buffers_after)) close(buffers[k], b, `buffer ${k}`);
    model.eval();
    close(model.call(x.detach()), golden.TinyResNet.eval_logits, 'eval logits');
  });

  it('Sequential(...children().slice(0, -1), Flatten, Linear) runs like PyTorch', () => {
    const cut = resnetCut();
    fillPattern(cut);
    cut.eval();
    close(cut.call(patternTensor([2, 3, 16, 16], 303, 2)), golden.TinyResNet_cut.output, 'output');
    expect(cut.at(-1)).toBeInstanceOf(Linear);
    expect(cut).toBeInstanceOf(Sequential);
  });
});
