// Reverse-mode autograd: a node per op output, a topological walk, gradients accumulated into leaves.

import type { Storage } from './backend.js';
import { nextStorageSerial } from './serial.js';
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
  /** The node each input's gradient flows to; null for leaves (accumulated into `leaves[i].grad`). */
  readonly next: (Node | null)[];
  /** Which inputs take a gradient. */
  readonly needsGrad: boolean[];
  /**
   * The inputs that are leaves (their `.grad` accumulates), null elsewhere: a node keeps no reference
   * to intermediate tensors, so a graph reachable from its output does not keep activations alive.
   */
  readonly leaves: (Tensor | null)[];
  /** Set by `retainGrad()` on the op's output. */
  retained: Tensor | null = null;
  /** Storages of temporaries (see `markTemporary`) this node's backward may read. */
  temps: Storage[] = [];

  constructor(
    /** PyTorch's grad_fn class name, printed as `grad_fn=<name>`. */
    public name: string,
    inputs: (Tensor | null)[],
    backwardFn: BackwardFn,
    public saved: Tensor[],
  ) {
    this.backwardFn = backwardFn;
    this.savedVersions = saved.map((t) => t._version);
    this.next = inputs.map((t) => t?.gradFn ?? null);
    this.needsGrad = inputs.map((t) => t !== null);
    this.leaves = inputs.map((t, i) => (this.next[i] ? null : t));
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
    // Nodes with nothing saved can run again, as in PyTorch. Otherwise the saved tensors are let go, as
    // PyTorch frees saved variables, so a graph the caller still reaches (through `loss.gradFn`) does
    // not keep a whole step's activations alive.
    if (!retainGraph && (this.saved.length > 0 || this.temps.length > 0)) {
      this.backwardFn = null;
      this.saved = [];
      for (const s of this.temps) letGo(s);
      this.temps = [];
    }
    return grads;
  }
}

// Temporaries. A model's forward knows which tensors it passes only between its own layers (no hooks,
// nothing returned): `markTemporary` records that promise. From then on every graph node that reads the
// tensor's storage (its producer, each op taking it or a view of it) holds it, and when the last holder
// has run its backward the storage is freed at once, as PyTorch frees saved activations during
// backward, instead of waiting for the garbage collector after the whole step.

/** Graph nodes still holding each temporary's storage. */
const tempHolders = new WeakMap<Storage, number>();

function hold(node: Node, s: Storage): void {
  const n = tempHolders.get(s);
  if (n === undefined) return;
  tempHolders.set(s, n + 1);
  node.temps.push(s);
}

function letGo(s: Storage): void {
  const n = (tempHolders.get(s) ?? 1) - 1;
  if (n > 0) {
    tempHolders.set(s, n);
    return;
  }
  tempHolders.delete(s);
  s.dispose();
}

/**
 * For model authors: declares that nothing outside the autograd graph will read `t` (a tensor a forward
 * passes between its own layers and never hands out, with no hooks that could see it), so its storage
 * is freed as soon as the backward pass has used it for the last time. A no-op when `t` records no graph.
 * Marking a tensor that user code can still reach (returned, stored, seen by a hook) frees memory that
 * tensor still uses: mark only what your own forward creates and consumes.
 */
export function markTemporary(t: Tensor): Tensor {
  const producer = t.gradFn;
  const s = t._ref.storage;
  if (!gradEnabled || !producer || tempHolders.has(s)) return t;
  tempHolders.set(s, 0);
  hold(producer, s);
  return t;
}

/**
 * For ops: `t` is a tensor the op made for its own backward and never hands out (max pooling's
 * indices when only the values are returned). Its storage is freed as soon as the backward of the
 * node that produced `out` has run without `retainGraph`, as PyTorch frees saved variables, instead
 * of waiting for the garbage collector. A no-op when `out` records no graph.
 */
export function freeAfterBackward(out: Tensor, t: Tensor): void {
  const node = out.gradFn;
  const s = t._ref.storage;
  if (!node || tempHolders.has(s)) return;
  tempHolders.set(s, 0);
  hold(node, s);
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
  for (const t of inputs) if (t) hold(node, t._ref.storage);
  hold(node, out._ref.storage);
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

/**
 * Adds gradient `g` into `t.grad`. `owned`: `g` was made by this backward pass, owns its whole storage
 * and nothing else will read it, so `t.grad` may take it without a copy; returns whether it did.
 */
type Accumulate = (t: Tensor, g: Tensor, owned: boolean) => boolean;

/**
 * Walks the graph below `root` in reverse topological order, handing each node the sum of the
 * gradients of its uses, and accumulates into the `.grad` of leaves (and of retained non-leaves).
 */
export function runBackward(root: Tensor, grad: Tensor, retainGraph: boolean, accumulate: Accumulate): void {
  const rootNode = root.gradFn;
  if (!rootNode) {
    accumulate(root, grad, false);
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
  // Gradients flowing between nodes are made here and dropped here: the walk returns their memory as
  // soon as nothing pending needs it, as PyTorch's reference counts do, instead of leaving a whole
  // step's gradients to the garbage collector. Only storages this walk created are freed (never a
  // forward tensor or the caller's gradient), and a storage is counted by every pending gradient that
  // views it, so aliased gradients (a view, one tensor handed to two inputs) stay until the last use.
  const made = nextStorageSerial();
  const pending = new Map<Storage, number>();
  const hold = (t: Tensor) => pending.set(t._ref.storage, (pending.get(t._ref.storage) ?? 0) + 1);
  const drop = (t: Tensor) => pending.set(t._ref.storage, (pending.get(t._ref.storage) ?? 1) - 1);
  // Storages a leaf's .grad took over (PyTorch's AccumulateGrad steals an unshared gradient too).
  const kept = new Set<Storage>();
  const release = (candidates: Tensor[]) => {
    for (const t of candidates) {
      const s = t._ref.storage;
      if ((s.serial ?? 0) > made && !pending.get(s) && !kept.has(s)) s.dispose();
    }
  };
  const grads = new Map<Node, Tensor>([[rootNode, grad]]);
  hold(grad);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const g = grads.get(node);
    if (!g) continue;
    grads.delete(node);
    drop(g);
    if (node.retained) accumulate(node.retained, g, false);
    const inputGrads = node.run(g, retainGraph);
    const done: Tensor[] = [g];
    // How many of this node's outputs use each storage: a gradient shared with another is not owned.
    const uses = new Map<Storage, number>();
    node.needsGrad.forEach((needs, i) => {
      const s = inputGrads[i]?._ref.storage;
      if (needs && s) uses.set(s, (uses.get(s) ?? 0) + 1);
    });
    const owned = (t: Tensor) => {
      const s = t._ref.storage;
      return (
        (s.serial ?? 0) > made &&
        !pending.get(s) &&
        uses.get(s) === 1 &&
        t.offset === 0 &&
        t.isContiguous() &&
        t.numel() === s.length
      );
    };
    node.needsGrad.forEach((needs, i) => {
      const ig = inputGrads[i];
      if (!needs || !ig) return;
      const next = node.next[i];
      if (next) {
        const prev = grads.get(next);
        const sum = prev ? prev.add(ig) : ig;
        if (prev) {
          drop(prev);
          done.push(prev, ig);
        }
        grads.set(next, sum);
        hold(sum);
      } else if (accumulate(node.leaves[i] as Tensor, ig, owned(ig))) {
        kept.add(ig._ref.storage);
      } else {
        done.push(ig);
      }
    });
    release(done);
  }
}
