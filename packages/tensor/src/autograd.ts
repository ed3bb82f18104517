// Reverse-mode autograd: a node per op output, a topological walk, gradients accumulated into leaves.

import type { Tensor } from './tensor.js';

let gradEnabled = true;

/** Whether ops currently record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Sets grad mode globally; prefer `noGrad(fn)` / `enableGrad(fn)`. */
export function setGradEnabled(enabled: boolean): void {
  gradEnabled = enabled;
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` without recording the graph and returns what it returns (synchronous code only). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with graph recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Computes the gradients of one op's inputs from the gradient of its output. */
export type BackwardFn = (grad: Tensor) => (Tensor | null | undefined)[];

/**
 * A recorded op: its inputs, its backward function and the tensors it saved (with their versions).
 * `next` holds each input's gradFn as it was when the op ran (PyTorch's edges): an in-place op
 * later gives the input tensor a new gradFn, and this op's gradient must still reach the old one.
 */
export class Node {
  backwardFn: BackwardFn | null;
  readonly savedVersions: number[];
  /** The node each input's gradient flows to; null for leaves (accumulated into `inputs[i].grad`). */
  readonly next: (Node | null)[];
  /** Set by `retainGrad()` on the op's output. */
  retained: Tensor | null = null;

  constructor(
    /** PyTorch's grad_fn class name, printed as `grad_fn=<name>`. */
    public name: string,
    readonly inputs: (Tensor | null)[],
    backwardFn: BackwardFn,
    readonly saved: Tensor[],
  ) {
    this.backwardFn = backwardFn;
    this.savedVersions = saved.map((t) => t._version);
    this.next = inputs.map((t) => t?.gradFn ?? null);
  }

  /** Runs the backward function after checking no saved tensor was modified in place. */
  run(grad: Tensor, retainGraph: boolean): (Tensor | null | undefined)[] {
    const fn = this.backwardFn;
    if (!fn) {
      throw new Error(
        'Trying to backward through the graph a second time (or directly access saved tensors after they have ' +
          'already been freed). Saved intermediate values of the graph are freed when you call backward(). ' +
          'Pass { retainGraph: true } to backward() if you need to backward through the graph a second time.',
      );
    }
    this.saved.forEach((t, i) => {
      if (t._version !== this.savedVersions[i]) {
        throw new Error(
          'one of the variables needed for gradient computation has been modified by an inplace operation: ' +
            `[${t.dtype} tensor of shape [${t.shape.join(', ')}]], which is output 0 of ${t.gradFn?.name ?? 'a leaf'}, ` +
            `is at version ${t._version}; expected version ${this.savedVersions[i]} instead (in ${this.name}).`,
        );
      }
    });
    const grads = fn(grad);
    // Nodes with nothing saved can run again, as in PyTorch.
    if (!retainGraph && this.saved.length > 0) this.backwardFn = null;
    return grads;
  }
}

/** Attaches a node to `out` when grad mode is on and any input requires grad. */
export function record(
  name: string,
  out: Tensor,
  inputs: (Tensor | null)[],
  backward: BackwardFn,
  saved: Tensor[] = [],
): Tensor {
  if (!gradEnabled || !inputs.some((t) => t?.requiresGrad)) return out;
  const node = new Node(
    name,
    inputs.map((t) => (t?.requiresGrad ? t : null)),
    backward,
    saved,
  );
  out._setGradFn(node);
  return out;
}

/**
 * Gives the node that produced `t` PyTorch's name for the whole op, for ops composed of smaller
 * recorded ops (so `grad_fn=<...>` prints what PyTorch prints). Only for freshly made outputs.
 */
export function relabel(t: Tensor, name: string): Tensor {
  if (t.gradFn) t.gradFn.name = name;
  return t;
}

type Accumulate = (t: Tensor, g: Tensor) => void;

/**
 * Walks the graph below `root` in reverse topological order, handing each node the sum of the
 * gradients of its uses, and accumulates into the `.grad` of leaves (and of retained non-leaves).
 */
export function runBackward(root: Tensor, grad: Tensor, retainGraph: boolean, accumulate: Accumulate): void {
  const rootNode = root.gradFn;
  if (!rootNode) {
    accumulate(root, grad);
    return;
  }
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative DFS (post-order) so deep graphs do not overflow the JS stack.
  const stack: [Node, number][] = [[rootNode, 0]];
  seen.add(rootNode);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.next.length) {
      top[1]++;
      const child = node.next[i];
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  const grads = new Map<Node, Tensor>([[rootNode, grad]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const g = grads.get(node);
    if (!g) continue;
    grads.delete(node);
    if (node.retained) accumulate(node.retained, g);
    const inputGrads = node.run(g, retainGraph);
    node.inputs.forEach((input, i) => {
      const ig = inputGrads[i];
      if (!input || !ig) return;
      const next = node.next[i];
      if (next) {
        const prev = grads.get(next);
        grads.set(next, prev ? prev.add(ig) : ig);
      } else {
        accumulate(input, ig);
      }
    });
  }
}
