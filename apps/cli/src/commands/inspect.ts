// graft inspect FILE: keys, shapes, dtypes, parameter count and format of a checkpoint.

import { isBufferName, readCheckpointFile, walkTensors } from '../checkpoint-files.js';

export interface InspectResult {
  path: string;
  format: string;
  bytes: number;
  tensors: { name: string; shape: number[]; dtype: string; numel: number }[];
  parameters: number;
  bufferElements: number;
  topLevelKeys: string[];
}

export async function inspectFile(path: string): Promise<InspectResult> {
  const file = await readCheckpointFile(path, 'file');
  const tensors = [...walkTensors(file.value)].map(([name, t]) => ({
    name,
    shape: [...t.shape],
    dtype: t.dtype,
    numel: t.numel(),
  }));
  const isState = (name: string) => /(^|\.)state\.|momentum_buffer|exp_avg/.test(name);
  const isFloat = (dtype: string) => dtype.startsWith('float') || dtype === 'bfloat16';
  const topLevelKeys =
    typeof file.value === 'object' &&
    file.value !== null &&
    !Array.isArray(file.value) &&
    !(file.value instanceof Map)
      ? Object.keys(file.value)
      : [];
  return {
    path,
    format: file.format,
    bytes: file.bytes,
    tensors,
    parameters: tensors
      .filter((t) => isFloat(t.dtype) && !isBufferName(t.name) && !isState(t.name))
      .reduce((s, t) => s + t.numel, 0),
    bufferElements: tensors.filter((t) => isBufferName(t.name)).reduce((s, t) => s + t.numel, 0),
    topLevelKeys,
  };
}

export function formatInspect(r: InspectResult): string {
  const width = Math.max(4, ...r.tensors.map((t) => t.name.length));
  const lines = [
    `${r.path}`,
    `format: ${r.format}, ${(r.bytes / 1e6).toFixed(2)} MB, ${r.tensors.length} tensors`,
    `parameters: ${r.parameters.toLocaleString('en-US')} (buffers: ${r.bufferElements.toLocaleString('en-US')} elements)`,
    '',
    `${'name'.padEnd(width)}  ${'dtype'.padEnd(8)}  shape`,
    ...r.tensors.map((t) => `${t.name.padEnd(width)}  ${t.dtype.padEnd(8)}  [${t.shape.join(', ')}]`),
  ];
  return lines.join('\n');
}
