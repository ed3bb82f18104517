// The files the playground offers for a model trained on your own classes: safetensors with the class
// names in `__metadata__`, and a PyTorch checkpoint that `torch.load` reads (weights_only too).
// No DOM here: the worker calls it, and so does a Node test.

import { saveBytes } from '@graft/serialize';
import type { Normalization } from './fine-tune';
import type { SmallNet } from './small-net';

/** What the `.pth` holds, as Python sees it: `{'state_dict': OrderedDict, 'classes': [str, ...]}`. */
export const PTH_KEYS = ['state_dict', 'classes', 'input'] as const;

/** How the network reads an image; written into both files so that a user can run it elsewhere. */
export const INPUT_DESCRIPTION = '1x28x28 grayscale, light on dark, ToTensor then Normalize(mean, std)';

/** The two files' bytes for `model`, trained on `classes` (in output order). */
export async function modelFiles(
  model: SmallNet,
  classes: readonly string[],
  norm: Normalization,
): Promise<{ safetensors: Uint8Array; pth: Uint8Array }> {
  const outputs = model.fc.outFeatures;
  if (classes.length !== outputs) {
    throw new Error(`modelFiles: expected one class name per output (${outputs}), got ${classes.length}`);
  }
  const stateDict = model.stateDict();
  const safetensors = await saveBytes(stateDict, {
    format: 'safetensors',
    metadata: {
      format: 'pt',
      classes: JSON.stringify(classes),
      input: INPUT_DESCRIPTION,
      mean: String(norm.mean),
      std: String(norm.std),
    },
  });
  // Strings only beside the tensors: torch 1.13's weights_only loader refuses Python floats.
  const pth = await saveBytes({
    state_dict: stateDict,
    classes: [...classes],
    input: `${INPUT_DESCRIPTION}; mean ${norm.mean}, std ${norm.std}`,
  });
  return { safetensors, pth };
}
