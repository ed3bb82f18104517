// TensorDataset: rows of several tensors that share their first dimension.
import type { Tensor } from '@graft/tensor';
import { checkIndex, Dataset } from './dataset.js';

/** Item i is `[t0[i], t1[i], ...]`, each a view into its tensor (torch.utils.data.TensorDataset). */
export class TensorDataset<T extends Tensor[] = Tensor[]> extends Dataset<T> {
  readonly tensors: T;
  readonly length: number;

  constructor(...tensors: T) {
    super();
    if (tensors.length === 0) throw new RangeError('TensorDataset: expected at least one tensor, got none');
    tensors.forEach((t, k) => {
      if (t.dim() === 0)
        throw new RangeError(`TensorDataset: tensor ${k} is a scalar; expected a leading dimension`);
      if (t.shape[0] !== tensors[0].shape[0]) {
        throw new RangeError(
          `TensorDataset: size mismatch between tensors: tensor 0 has ${tensors[0].shape[0]} rows, ` +
            `tensor ${k} has ${t.shape[0]}`,
        );
      }
    });
    this.tensors = tensors;
    this.length = tensors[0].shape[0];
  }

  get(index: number): T {
    checkIndex('TensorDataset', index, this.length);
    return this.tensors.map((t) =>
      t.asStrided(t.shape.slice(1), t.strides.slice(1), t.offset + index * t.strides[0]),
    ) as T;
  }
}
