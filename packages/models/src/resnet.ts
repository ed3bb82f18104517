// ResNet as torchvision 0.14 builds it: same module tree, names, default init and printing.
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  bnAct,
  Conv2d,
  canFuse,
  canFuseEval,
  convBnEval,
  Identity,
  init,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
} from '@graft/nn';
import { checkOptions, isGradEnabled, markTemporary, noGrad, type Tensor } from '@graft/tensor';

/** 3x3 convolution with padding, no bias (torchvision's conv3x3). */
export function conv3x3(inPlanes: number, outPlanes: number, stride = 1, groups = 1, dilation = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { stride, padding: dilation, groups, bias: false, dilation });
}

/** 1x1 convolution, no bias (torchvision's conv1x1). */
export function conv1x1(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });
}

/** Options every residual block takes. */
export interface BlockOptions {
  stride?: number;
  /** Projection of the identity path when its shape changes: Sequential(conv1x1, BatchNorm2d). */
  downsample?: Sequential | null;
  groups?: number;
  baseWidth?: number;
  dilation?: number;
}

const BLOCK_OPTION_KEYS: readonly (keyof BlockOptions)[] = [
  'stride',
  'downsample',
  'groups',
  'baseWidth',
  'dilation',
];

/** The projection shortcut in eval: fused when it is the usual Sequential(Conv2d, BatchNorm2d). */
function fusedDownsample(ds: Module, x: Tensor): Tensor {
  const [conv, bn] = ds instanceof Sequential ? [...ds.children()] : [];
  if (conv instanceof Conv2d && bn instanceof BatchNorm2d && [...ds.children()].length === 2)
    return convBnEval(conv, bn, x);
  return ds.call(x) as Tensor;
}

// Temporaries. When nothing observes a forward (no hooks anywhere, only modules of known classes), the
// tensors it passes between its own layers are held by nothing else, and PyTorch's reference counting
// would free each one when its last use is done. Here: without a graph, the forward frees each one as
// soon as the next layer has consumed it (a synchronous inference loop reuses the same heap blocks
// instead of growing memory until the garbage collector runs); with a graph, it marks them temporary,
// and the backward pass frees each once its last node has used it. A module of another class (a
// user's replacement layer might keep its input or output) stops this.

/** Modules known to keep neither their input nor their output. */
const KEEPS_NOTHING = new Set<unknown>([
  MaxPool2d,
  AdaptiveAvgPool2d,
  Linear,
  Identity,
  Conv2d,
  BatchNorm2d,
  ReLU,
]);

function keepsNothing(m: Module | null): boolean {
  if (!m) return true;
  const c: unknown = m.constructor;
  if (c === BasicBlock || c === Bottleneck || KEEPS_NOTHING.has(c)) return true;
  return c === Sequential && [...m.children()].every(keepsNothing);
}

/** Runs `m` on `h`, then lets `h` go (see `release`) unless it is the forward's input. */
function consume(m: Module, h: Tensor, input: Tensor): Tensor {
  if ((m.constructor as unknown) === Sequential) {
    for (const child of m.children()) h = consume(child, h, input);
    return h;
  }
  const y = m.call(h) as Tensor;
  release(h, input, y);
  return y;
}

/**
 * Lets a temporary go: freed now without a graph, marked for the backward pass to free with one.
 * Tensors sharing storage with one of `keep` are left alone.
 */
function release(t: Tensor, ...keep: Tensor[]): void {
  if (keep.some((k) => k._ref.storage === t._ref.storage)) return;
  if (isGradEnabled()) markTemporary(t);
  else t.dispose();
}

/**
 * A block's residual branch in training: `x` itself, or the downsample's output. Where the block keeps
 * nothing (`own`), the downsample's own intermediate (its conv's output) is let go as the block's are.
 */
function shortcut(downsample: Sequential | null, x: Tensor, own: boolean): Tensor {
  if (!downsample) return x;
  return own ? consume(downsample, x, x) : (downsample.call(x) as Tensor);
}

/** What ResNet needs to know about a block class to stack it. */
export interface BlockClass {
  /** Output channels = planes * expansion. */
  readonly expansion: number;
  new (inPlanes: number, planes: number, options?: BlockOptions): BasicBlock | Bottleneck;
}

/** Two 3x3 convolutions with a residual connection (ResNet-18/34). */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  declare conv2: Conv2d;
  declare bn2: BatchNorm2d;
  declare downsample: Sequential | null;
  readonly stride: number;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super();
    checkOptions('BasicBlock', options, BLOCK_OPTION_KEYS);
    const { stride = 1, downsample = null, groups = 1, baseWidth = 64, dilation = 1 } = options;
    if (groups !== 1 || baseWidth !== 64)
      throw new Error('BasicBlock only supports groups=1 and base_width=64');
    if (dilation > 1) throw new Error('Dilation > 1 not supported in BasicBlock');
    this.conv1 = conv3x3(inPlanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU({ inplace: true });
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
    this.stride = stride;
  }

  override forward(x: Tensor): Tensor {
    if (canFuseEval(x, ...this.children())) {
      // Eval mode, nothing observing: each conv runs with its BatchNorm, residual and ReLU fused.
      const out = convBnEval(this.conv1, this.bn1, x, { relu: true });
      const identity = this.downsample ? fusedDownsample(this.downsample, x) : x;
      const y = convBnEval(this.conv2, this.bn2, out, { residual: identity, relu: true });
      release(out, x, y);
      if (keepsNothing(this.downsample)) release(identity, x, y);
      return y;
    }
    if (canFuse(...this.modules())) {
      // BatchNorm, residual add and ReLU as one node each (training included).
      const own = [...this.children()].every(keepsNothing); // downsample is a child when set
      const c1 = this.conv1.call(x);
      const out = bnAct(this.bn1, c1, { relu: true });
      const identity = shortcut(this.downsample, x, own);
      const c2 = this.conv2.call(out);
      const y = bnAct(this.bn2, c2, { residual: identity, relu: true });
      if (own) for (const t of [c1, out, c2, identity]) release(t, x, y);
      return y;
    }
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.bn2.call(this.conv2.call(out));
    const identity = this.downsample ? (this.downsample.call(x) as Tensor) : x;
    return this.relu.call(out.add(identity));
  }
}

/**
 * 1x1 reduce, 3x3, 1x1 expand with a residual connection (ResNet-50). The stride sits on the 3x3
 * convolution (ResNet V1.5), as in torchvision.
 */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare conv2: Conv2d;
  declare bn2: BatchNorm2d;
  declare conv3: Conv2d;
  declare bn3: BatchNorm2d;
  declare relu: ReLU;
  declare downsample: Sequential | null;
  readonly stride: number;

  constructor(inPlanes: number, planes: number, options: BlockOptions = {}) {
    super();
    checkOptions('Bottleneck', options, BLOCK_OPTION_KEYS);
    const { stride = 1, downsample = null, groups = 1, baseWidth = 64, dilation = 1 } = options;
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = conv1x1(inPlanes, width);
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = conv3x3(width, width, stride, groups, dilation);
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = conv1x1(width, planes * Bottleneck.expansion);
    this.bn3 = new BatchNorm2d(planes * Bottleneck.expansion);
    this.relu = new ReLU({ inplace: true });
    this.downsample = downsample;
    this.stride = stride;
  }

  override forward(x: Tensor): Tensor {
    if (canFuseEval(x, ...this.children())) {
      const out1 = convBnEval(this.conv1, this.bn1, x, { relu: true });
      const out2 = convBnEval(this.conv2, this.bn2, out1, { relu: true });
      release(out1, x, out2);
      const identity = this.downsample ? fusedDownsample(this.downsample, x) : x;
      const y = convBnEval(this.conv3, this.bn3, out2, { residual: identity, relu: true });
      release(out2, x, y);
      if (keepsNothing(this.downsample)) release(identity, x, y);
      return y;
    }
    if (canFuse(...this.modules())) {
      const own = [...this.children()].every(keepsNothing); // downsample is a child when set
      const c1 = this.conv1.call(x);
      const out1 = bnAct(this.bn1, c1, { relu: true });
      const c2 = this.conv2.call(out1);
      const out2 = bnAct(this.bn2, c2, { relu: true });
      const identity = shortcut(this.downsample, x, own);
      const c3 = this.conv3.call(out2);
      const y = bnAct(this.bn3, c3, { residual: identity, relu: true });
      if (own) for (const t of [c1, out1, c2, out2, identity, c3]) release(t, x, y);
      return y;
    }
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.relu.call(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    const identity = this.downsample ? (this.downsample.call(x) as Tensor) : x;
    return this.relu.call(out.add(identity));
  }
}

/** Options of the ResNet constructor (torchvision's keyword arguments, camelCased). */
export interface ResNetOptions {
  /** Size of the classifier's output (default 1000). */
  numClasses?: number;
  /** Start each residual branch's last BatchNorm at zero, so every block begins as the identity. */
  zeroInitResidual?: boolean;
  groups?: number;
  widthPerGroup?: number;
  /** For layer2..layer4: replace the stride-2 downsampling by dilation. */
  replaceStrideWithDilation?: [boolean, boolean, boolean];
}

/** The keys of ResNetOptions, for checking options objects. */
export const RESNET_OPTION_KEYS: readonly (keyof ResNetOptions)[] = [
  'numClasses',
  'zeroInitResidual',
  'groups',
  'widthPerGroup',
  'replaceStrideWithDilation',
];

/**
 * A residual network as torchvision's `ResNet`: `conv1, bn1, relu, maxpool, layer1..layer4, avgpool,
 * fc`, with kaiming-normal (fan_out, relu) convolutions and BatchNorm at ones/zeros.
 */
export class ResNet extends Module {
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  declare maxpool: MaxPool2d;
  declare layer1: Sequential;
  declare layer2: Sequential;
  declare layer3: Sequential;
  declare layer4: Sequential;
  declare avgpool: AdaptiveAvgPool2d;
  /** The classifier; replace it to graft a new head: `model.fc = new Linear(model.fc.inFeatures, 2)`. */
  declare fc: Linear;
  #inPlanes = 64;
  #dilation = 1;
  readonly #groups: number;
  readonly #baseWidth: number;

  constructor(
    block: BlockClass,
    layers: readonly [number, number, number, number],
    options: ResNetOptions = {},
  ) {
    super();
    checkOptions('ResNet', options, RESNET_OPTION_KEYS);
    const numClasses = options.numClasses ?? 1000;
    const dilate = options.replaceStrideWithDilation ?? [false, false, false];
    if (dilate.length !== 3) {
      throw new Error(
        `replace_stride_with_dilation should be None or a 3-element tuple, got ${JSON.stringify(dilate)}`,
      );
    }
    this.#groups = options.groups ?? 1;
    this.#baseWidth = options.widthPerGroup ?? 64;
    this.conv1 = new Conv2d(3, this.#inPlanes, 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(this.#inPlanes);
    this.relu = new ReLU({ inplace: true });
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    this.layer1 = this.#makeLayer(block, 64, layers[0]);
    this.layer2 = this.#makeLayer(block, 128, layers[1], 2, dilate[0]);
    this.layer3 = this.#makeLayer(block, 256, layers[2], 2, dilate[1]);
    this.layer4 = this.#makeLayer(block, 512, layers[3], 2, dilate[2]);
    this.avgpool = new AdaptiveAvgPool2d([1, 1]);
    this.fc = new Linear(512 * block.expansion, numClasses);

    noGrad(() => {
      for (const m of this.modules()) {
        if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
        else if (m instanceof BatchNorm2d) {
          if (m.weight) init.constant_(m.weight, 1);
          if (m.bias) init.constant_(m.bias, 0);
        }
      }
      if (options.zeroInitResidual) {
        for (const m of this.modules()) {
          if (m instanceof Bottleneck && m.bn3.weight) init.constant_(m.bn3.weight, 0);
          else if (m instanceof BasicBlock && m.bn2.weight) init.constant_(m.bn2.weight, 0);
        }
      }
    });
  }

  #makeLayer(block: BlockClass, planes: number, blocks: number, stride = 1, dilate = false): Sequential {
    let downsample: Sequential | null = null;
    const previousDilation = this.#dilation;
    if (dilate) {
      this.#dilation *= stride;
      stride = 1;
    }
    if (stride !== 1 || this.#inPlanes !== planes * block.expansion) {
      downsample = new Sequential(
        conv1x1(this.#inPlanes, planes * block.expansion, stride),
        new BatchNorm2d(planes * block.expansion),
      );
    }
    const common = { groups: this.#groups, baseWidth: this.#baseWidth };
    const blocksList: Module[] = [
      new block(this.#inPlanes, planes, { ...common, stride, downsample, dilation: previousDilation }),
    ];
    this.#inPlanes = planes * block.expansion;
    for (let i = 1; i < blocks; i++)
      blocksList.push(new block(this.#inPlanes, planes, { ...common, dilation: this.#dilation }));
    return new Sequential(...blocksList);
  }

  /** Logits [N, numClasses] for images [N, 3, H, W]. */
  override forward(x: Tensor): Tensor {
    const chain = [this.maxpool, this.layer1, this.layer2, this.layer3, this.layer4, this.avgpool];
    const evalFused = canFuseEval(x, ...this.children());
    if ((evalFused || canFuse(...this.modules())) && [...this.children()].every(keepsNothing)) {
      // Nothing observes the forward: each temporary is let go once consumed (see `consume`).
      let h: Tensor;
      if (evalFused) h = convBnEval(this.conv1, this.bn1, x, { relu: true });
      else {
        const c1 = this.conv1.call(x);
        h = bnAct(this.bn1, c1, { relu: true });
        release(c1, x, h);
      }
      for (const m of chain) h = consume(m, h, x);
      const y = this.fc.call(h.flatten(1)) as Tensor;
      release(h, x, y);
      return y;
    }
    const stem = canFuseEval(x, this.conv1, this.bn1, this.relu)
      ? convBnEval(this.conv1, this.bn1, x, { relu: true })
      : canFuse(this.bn1, this.relu)
        ? bnAct(this.bn1, this.conv1.call(x), { relu: true })
        : this.relu.call(this.bn1.call(this.conv1.call(x)));
    x = this.maxpool.call(stem);
    x = this.layer1.call(x) as Tensor;
    x = this.layer2.call(x) as Tensor;
    x = this.layer3.call(x) as Tensor;
    x = this.layer4.call(x) as Tensor;
    x = this.avgpool.call(x).flatten(1);
    return this.fc.call(x);
  }
}
