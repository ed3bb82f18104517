// graft convert IN OUT: .pth <-> .safetensors (model weights; a training checkpoint's `model` entry).

import { extname } from 'node:path';
import { extractStateDict, readCheckpointFile, saveStateDict } from '../checkpoint-files.js';
import { CliError } from '../errors.js';

const EXTENSIONS = ['.pth', '.pt', '.bin', '.safetensors'];

export async function convertFile(
  input: string,
  output: string,
): Promise<{ tensors: number; format: string }> {
  const ext = extname(output).toLowerCase();
  if (!EXTENSIONS.includes(ext)) {
    throw new CliError(
      `convert: cannot tell the output format of ${output} (expected one of ${EXTENSIONS.join(', ')})`,
    );
  }
  const file = await readCheckpointFile(input, 'input');
  const sd = extractStateDict(file.value, input);
  await saveStateDict(sd, output);
  return { tensors: Object.keys(sd).length, format: ext === '.safetensors' ? 'safetensors' : 'pytorch-zip' };
}
