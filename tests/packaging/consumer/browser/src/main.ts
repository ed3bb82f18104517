// A browser program as a user writes it against the installed packages' main entries (no /node entry), type-checked
// with the browser tsconfig of docs/guide/typescript.md: DOM lib, @webgpu/types, skipLibCheck off. Never run.

import { Compose, DataLoader, Normalize, TensorDataset } from '@graft/data';
import { ResNet18Weights, resnet18 } from '@graft/models';
import { F, Linear } from '@graft/nn';
import { SGD } from '@graft/optim';
import { asStateDict, loadBytes, saveBytes } from '@graft/serialize';
import { initWebGpu, noGrad, randint, randn, type Tensor, type WebGpuBackend } from '@graft/tensor';

// WebGPU where the browser has it, with WebGPU's own types flowing through graft's declarations.
let backend: WebGpuBackend | null = null;
const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
if (adapter) backend = await initWebGpu({ adapter });
const gpuDevice: GPUDevice | undefined = backend?.gpuDevice;
gpuDevice?.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE }).destroy();
const device = backend ? 'webgpu' : 'cpu';

const model = await resnet18({ weights: ResNet18Weights.IMAGENET1K_V1, progress: false });
model.fc = new Linear(model.fc.inFeatures, 2);
model.requiresGrad_(false);
model.fc.requiresGrad_(true);
model.to(device);
const optimizer = new SGD(model.fc.parameters(), { lr: 0.01, momentum: 0.9 });
const normalize = new Compose([new Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]);
const images = randn(8, 3, 32, 32);
const loader = new DataLoader(new TensorDataset(images, randint(0, 2, [8])), { batchSize: 4, shuffle: true });
model.eval();
for await (const [x, y] of loader) {
  optimizer.zeroGrad();
  F.crossEntropy(model.forward(normalize.forward(x).to(device)), y.to(device)).backward();
  optimizer.step();
}
{
  // Tensors are Disposable (lib ESNext.Disposable): `using` frees GPU memory at the end of the block.
  using probs = noGrad(() => model.forward(images.to(device)).softmax(1));
  document.title = `first: ${(await probs.tolist()) as number[][]}`;
}
const bytes = await saveBytes(model.stateDict(), { format: 'safetensors' });
model.loadStateDict(asStateDict(loadBytes(bytes)));

// Compile-time checks: WebGPU's types arrive intact, and nothing here is `any`.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type IsAny<T> = 0 extends 1 & T ? true : false;
export type BrowserTypes = [
  Expect<Equals<WebGpuBackend['gpuDevice'], GPUDevice>>,
  Expect<Equals<IsAny<typeof model>, false>>,
  Expect<Equals<IsAny<Awaited<ReturnType<Tensor['read']>>>, false>>,
];
