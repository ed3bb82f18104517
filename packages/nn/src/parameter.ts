// Parameter: a Tensor that a Module registers as learnable; it shares its storage with the data it wraps.

import { checkOptions, formatTensor, Tensor, zeros } from '@graft/tensor';

/**
 * A tensor a `Module` treats as a parameter. `new Parameter(t)` shares `t`'s storage (no copy),
 * is a leaf, and requires grad unless `requiresGrad` is false, as torch.nn.Parameter:
 * `new Parameter(t, false)` or `new Parameter(t, { requiresGrad: false })`.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor = zeros(0), requiresGrad: boolean | { requiresGrad?: boolean } = true) {
    if (!(data instanceof Tensor)) throw new TypeError(`Parameter: expected a Tensor, got ${typeof data}`);
    let flag = requiresGrad;
    if (typeof flag !== 'boolean') {
      checkOptions('Parameter', flag, ['requiresGrad']);
      flag = flag?.requiresGrad ?? true;
    }
    super(data._ref, data.shape, data.strides, data.offset, data.dtype);
    if (flag) this.requiresGrad = true;
  }

  /** `Parameter containing:` and the tensor's repr, as PyTorch prints a parameter. */
  override toString(): string {
    return `Parameter containing:\n${formatTensor(this)}`;
  }
}
