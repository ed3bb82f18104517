// The WebGPU types graft's declarations name, resolved in the program that reads them: WebGPU's own types
// where that program has them (@webgpu/types, or a lib that declares WebGPU), plain `object` where it has
// none. So a Node program without the DOM lib type-checks @graft/tensor with skipLibCheck off, and WebGPU's
// types load only where WebGPU is used. The one reference to @webgpu/types, for graft's own build (it is not
// emitted into the declarations: no preserve="true"):
/// <reference types="@webgpu/types" />

/** The instance type of WebGPU's global class `Name` where the program declares it, else `object`. */
type WebGpuClass<Name extends string> =
  typeof globalThis extends Record<Name, { prototype: infer T }> ? T : object;

export type GPU = WebGpuClass<'GPU'>;
export type GPUAdapter = WebGpuClass<'GPUAdapter'>;
export type GPUDevice = WebGpuClass<'GPUDevice'>;
export type GPUBuffer = WebGpuClass<'GPUBuffer'>;
export type GPUCommandEncoder = WebGpuClass<'GPUCommandEncoder'>;
/** WebGPU's `GPUPowerPreference`: a string union, with no global class to find it by. */
export type GPUPowerPreference = 'low-power' | 'high-performance';
