// The demo's pretrained ResNet-18 (apps/cli/demo), the repository's one ResNet-18 checkpoint, and the
// ImageNet-shaped file the tests build from it: its body with a deterministic 1000-class head.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type StateDict, saveBytesSync } from '@graft/serialize';
import { fromTypedArray } from '@graft/tensor';

/** Absolute path of the checkpoint `graft finetune` starts from (float16, 5-class head). */
export const demoCheckpointPath = fileURLToPath(
  new URL('../../../../apps/cli/demo/resnet18-fashion-0to4.safetensors', import.meta.url),
);

let demoBytes: Uint8Array | undefined;

/** The demo checkpoint's bytes, read once. */
export function demoCheckpointBytes(): Uint8Array {
  if (demoBytes === undefined) {
    const b = readFileSync(demoCheckpointPath);
    demoBytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  return demoBytes;
}

/** Hex sha256 of some bytes (the golden file records the demo checkpoint's). */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The demo checkpoint's tensors, in file order. */
export function demoCheckpoint(): StateDict {
  return readSafetensors(demoCheckpointBytes()).tensors;
}

/**
 * The 1000-class head of scripts/golden/models.py's `imagenet_head()`: small integers over powers of
 * two, exact in float16, so the file below and PyTorch's golden logits hold the same numbers.
 */
function imagenetHead(): StateDict {
  const rows = 1000;
  const cols = 512;
  const weight = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) weight[i * cols + j] = (((i * 37 + j * 11) % 61) - 30) / 2048;
  const bias = new Float32Array(rows);
  for (let i = 0; i < rows; i++) bias[i] = (((i * 7) % 23) - 11) / 512;
  return {
    'fc.weight': fromTypedArray(weight, [rows, cols]).half(),
    'fc.bias': fromTypedArray(bias, [rows]).half(),
  };
}

export interface ImagenetShapedCheckpoint {
  /** The state dict: the demo body, then `fc.weight` [1000, 512] and `fc.bias` [1000], all float16. */
  tensors: StateDict;
  /** The same as a safetensors file (written by graft), as torchvision's file would sit in a cache. */
  bytes: Uint8Array;
}

/**
 * A ResNet-18 checkpoint shaped like torchvision's ImageNet one, for what needs 1000 classes
 * (registry entries, `pretrained: true`, the caches): built at test time, never committed.
 */
export function imagenetShapedCheckpoint(): ImagenetShapedCheckpoint {
  const tensors: StateDict = {};
  for (const [key, value] of Object.entries(demoCheckpoint()))
    if (!key.startsWith('fc.')) tensors[key] = value;
  Object.assign(tensors, imagenetHead());
  return { tensors, bytes: saveBytesSync(tensors, { format: 'safetensors', metadata: { format: 'pt' } }) };
}
