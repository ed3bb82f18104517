// random_split: disjoint random subsets of given lengths or fractions (torch.utils.data.random_split).
import { checkOptions, defaultGenerator, type Generator, randperm } from '@graft/tensor';
import { type Dataset, Subset } from './dataset.js';

/**
 * torch's rule for turning lengths or fractions into lengths: fractions that sum to 1 get
 * floor(n · fraction) items each, and the remainder is handed out one by one, round robin, from
 * the first split.
 */
export function splitLengths(total: number, lengths: readonly number[]): number[] {
  const sum = lengths.reduce((a, b) => a + b, 0);
  // math.isclose(sum, 1) with Python's default rel_tol=1e-9.
  const isFractions = Math.abs(sum - 1) <= 1e-9 * Math.max(Math.abs(sum), 1) && sum <= 1;
  let sizes = [...lengths];
  if (isFractions) {
    sizes = lengths.map((fraction, i) => {
      if (fraction < 0 || fraction > 1) {
        throw new RangeError(`randomSplit: fraction at index ${i} is not between 0 and 1: ${fraction}`);
      }
      return Math.floor(total * fraction);
    });
    const remainder = total - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) sizes[i % sizes.length] += 1;
  } else {
    sizes.forEach((n, i) => {
      if (!Number.isInteger(n) || n < 0) {
        const hint = Number.isInteger(n) ? '' : ` (fractions must sum to 1; these sum to ${sum})`;
        throw new RangeError(
          `randomSplit: length at index ${i} must be a non-negative integer, got ${n}${hint}`,
        );
      }
    });
  }
  const sizeSum = sizes.reduce((a, b) => a + b, 0);
  if (sizeSum !== total) {
    throw new RangeError(
      `randomSplit: sum of input lengths does not equal the length of the input dataset: ` +
        `lengths [${lengths.join(', ')}] sum to ${sizeSum}, dataset has ${total} items`,
    );
  }
  return sizes;
}

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** Source of the permutation (default: the global generator that manualSeed seeds). */
  generator?: Generator;
}

/**
 * Splits `dataset` into non-overlapping random subsets: `lengths` are item counts summing to
 * the dataset's length, or fractions summing to 1 (torch.utils.data.random_split).
 */
export function randomSplit<T>(
  dataset: Dataset<T>,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<T>[] {
  checkOptions('randomSplit', options, ['generator']);
  const sizes = splitLengths(dataset.length, lengths);
  const order = Array.from(
    randperm(dataset.length, { generator: options.generator ?? defaultGenerator }).readSync(),
  );
  let offset = 0;
  return sizes.map((n) => {
    const subset = new Subset(dataset, order.slice(offset, offset + n));
    offset += n;
    return subset;
  });
}
