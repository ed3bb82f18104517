// Records kernel launches into one command buffer: pipelines cached by key, named parameters packed
// into one arena buffer that is written just before the submit, at most MAX_BATCH dispatches a submit.

import type { GPUBuffer, GPUCommandEncoder, GPUDevice } from '../gpu-types.js';
import { F16_HELPERS, usesF16 } from './dtype.js';
import { type Kernel, type ParamField, ParamLayout, type ParamValues } from './params.js';
import { USAGE } from './pool.js';

const ARENA_BYTES = 1 << 18;
const MAX_BATCH = 512;

/** Invocations per workgroup of the one-thread-per-element kernels. */
export const WORKGROUP = 256;

export type Grid = [number, number, number];

export class Launcher {
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: ParamLayout }>();
  private readonly arena: GPUBuffer;
  private readonly arenaData = new Int32Array(ARENA_BYTES / 4);
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batched = 0;
  /** Kernel dispatches recorded since creation (for profiling). */
  dispatches = 0;
  /** Command buffers submitted to the queue since creation (for profiling). */
  submits = 0;
  private readonly align: number;
  private readonly maxGroups: number;

  constructor(
    private readonly device: GPUDevice,
    /** Receives a kernel's compile error once the GPU reports it. */
    private readonly fail: (message: string) => void,
  ) {
    this.align = device.limits.minStorageBufferOffsetAlignment;
    this.maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    this.arena = device.createBuffer({ size: ARENA_BYTES, usage: USAGE.STORAGE | USAGE.COPY_DST });
  }

  /** The batch's encoder outside any compute pass, for copies. */
  commandEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Submits the batched work (parameters first: the queue runs writes and submits in order). */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.arenaUsed > 0)
      this.device.queue.writeBuffer(this.arena, 0, this.arenaData, 0, this.arenaUsed / 4);
    this.device.queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.arenaUsed = 0;
    this.batched = 0;
  }

  private compiled(k: Kernel<readonly ParamField[]>) {
    let c = this.pipelines.get(k.key);
    if (!c) {
      const layout = new ParamLayout(k.key, k.params);
      const d = this.device;
      d.pushErrorScope('validation');
      let code = layout.wgsl + k.wgsl();
      if (usesF16(code)) code = `enable f16;\n${code}\n${F16_HELPERS}`;
      const module = d.createShaderModule({ code, label: k.key });
      const pipeline = d.createComputePipeline({
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
        label: k.key,
      });
      d.popErrorScope().then(
        (err) => {
          if (err) this.fail(`kernel ${k.key} failed to compile: ${err.message}`);
        },
        () => {},
      );
      c = { pipeline, layout };
      this.pipelines.set(k.key, c);
    }
    return c;
  }

  /** Records one dispatch of `k` with `params`; `buffers` bind in order from binding 1. */
  launch<F extends readonly ParamField[]>(
    k: Kernel<F>,
    params: ParamValues<F>,
    buffers: readonly GPUBuffer[],
    grid: Grid,
  ): void {
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    for (const g of grid) {
      if (g > this.maxGroups)
        throw new Error(
          `webgpu: ${k.key}: dispatch of ${grid.join('x')} workgroups exceeds the device limit ${this.maxGroups}`,
        );
    }
    const { pipeline, layout } = this.compiled(k);
    const bytes = layout.words * 4;
    if (this.arenaUsed + bytes > ARENA_BYTES) this.flush();
    const offset = this.arenaUsed;
    layout.pack(params as Readonly<Record<string, number | readonly number[]>>, this.arenaData, offset / 4);
    this.arenaUsed = Math.ceil((offset + bytes) / this.align) * this.align;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.arena, offset, size: bytes } },
    ];
    buffers.forEach((buffer, i) => {
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (!this.pass) this.pass = (this.encoder ??= this.device.createCommandEncoder()).beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.dispatches++;
    if (++this.batched >= MAX_BATCH) this.flush();
  }

  /** Workgroups for one thread per element, folded into 2-D when there are more than the limit. */
  grid1(n: number): Grid {
    return this.gridGroups(Math.ceil(n / WORKGROUP));
  }

  /** `n` workgroups, folded into 2-D when there are more than the limit. */
  gridGroups(n: number): Grid {
    if (n <= this.maxGroups) return [n, 1, 1];
    return [this.maxGroups, Math.ceil(n / this.maxGroups), 1];
  }
}
