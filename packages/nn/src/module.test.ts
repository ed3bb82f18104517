import { ones, randn, type Tensor, tensor, zeros } from '@graft/tensor';
import { describe, expect, it, vi } from 'vitest';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Identity,
  init,
  Linear,
  Module,
  ModuleDict,
  ModuleList,
  Parameter,
  ReLU,
  Sequential,
} from './index.js';
import { Net, TinyResNet } from './test-utils/models.js';

describe('Parameter', () => {
  it('shares storage with the tensor it wraps, is a leaf and requires grad by default', () => {
    const t = zeros(2, 2);
    const p = new Parameter(t);
    expect(p.requiresGrad).toBe(true);
    expect(p.isLeaf).toBe(true);
    t.fill_(3);
    expect([...p.readSync()]).toEqual([3, 3, 3, 3]);
    expect(new Parameter(t, false).requiresGrad).toBe(false);
    expect(p.detach()).not.toBeInstanceOf(Parameter);
  });
});

describe('registration by assignment', () => {
  class Two extends Module {
    a = new Linear(2, 2);
    b = new Linear(2, 2);
    c = new ReLU();
  }

  it('registers children and parameters in assignment order', () => {
    class M extends Module {
      declare w: Parameter;
      declare conv1: Conv2d;
      constructor() {
        super();
        this.conv1 = new Conv2d(3, 6, 5);
        this.w = new Parameter(ones(3));
        this.plain = 5;
        this.t = zeros(1);
      }
      plain: number;
      t: Tensor;
    }
    const m = new M();
    expect([...m.namedChildren()].map(([k]) => k)).toEqual(['conv1']);
    expect([...m.namedParameters()].map(([k]) => k)).toEqual(['w', 'conv1.weight', 'conv1.bias']);
    expect(m.plain).toBe(5);
    expect(Object.keys(m.stateDict())).toEqual(['w', 'conv1.weight', 'conv1.bias']);
  });

  it('replacing a child keeps its position; deleting and re-adding moves it to the end', () => {
    const m = new Two();
    m.a = new Linear(2, 3);
    expect([...m.namedChildren()].map(([k]) => k)).toEqual(['a', 'b', 'c']);
    expect((m.a as Linear).outFeatures).toBe(3);
    delete (m as Partial<Two>).a;
    expect('a' in m).toBe(false);
    m.a = new Linear(2, 2);
    expect([...m.namedChildren()].map(([k]) => k)).toEqual(['b', 'c', 'a']);
  });

  it('a subclass field re-declaration does not wipe a member the parent registered', () => {
    class Base extends Module {
      fc = new Linear(2, 2);
      head = new ReLU();
    }
    const d = new Base();
    // What a plain-JS subclass's `fc;` field declaration does after super() returns:
    Object.defineProperty(d, 'fc', {
      value: undefined,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(d.fc).toBeInstanceOf(Linear);
    expect([...d.namedChildren()].map(([k]) => k)).toEqual(['fc', 'head']);
    expect(Object.keys(d)).toContain('fc');
  });

  it('assigning a tensor to a buffer name replaces the buffer in place; kinds follow PyTorch rules', () => {
    const bn = new BatchNorm2d(2);
    bn.running_mean = ones(2);
    expect(Object.keys(bn.stateDict())).toEqual([
      'weight',
      'bias',
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    expect([...bn.stateDict().running_mean.readSync()]).toEqual([1, 1]);
    const lin = new Linear(2, 2) as Linear & Record<string, unknown>;
    expect(() => {
      lin.weight = zeros(2, 2) as Parameter;
    }).toThrow("cannot assign 'Tensor' as parameter 'weight' (Parameter or null expected)");
    lin.bias = null;
    expect(Object.keys(lin.stateDict())).toEqual(['weight']);
    expect(String(lin)).toBe('Linear(in_features=2, out_features=2, bias=False)');
    const net = new Net() as unknown as Record<string, unknown>;
    expect(() => {
      net.fc1 = 3;
    }).toThrow("cannot assign 'number' as child module 'fc1' (Module or null expected)");
    expect(() => {
      (new Sequential(new ReLU()) as unknown as Record<string, unknown>)['0'] = 3;
    }).toThrow('setitem: expected a Module, got number');
  });

  it('registerBuffer / registerParameter / registerModule validate names like PyTorch', () => {
    const m = new Linear(1, 1);
    expect(() => m.registerBuffer('a.b', zeros(1))).toThrow('buffer name can\'t contain ".", got: a.b');
    expect(() => m.registerBuffer('', zeros(1))).toThrow('buffer name can\'t be empty string ""');
    expect(() => m.registerBuffer('weight', zeros(1))).toThrow("attribute 'weight' already exists");
    expect(() => m.registerParameter('forward', null)).toThrow("attribute 'forward' already exists");
    expect(() => m.registerModule('x', 3 as unknown as Module)).toThrow('number is not a Module subclass');
    expect(() => m.registerBuffer('b2', [1] as unknown as Tensor)).toThrow(
      "cannot assign 'Array' object to buffer 'b2'",
    );
    expect(() => {
      (m as unknown as Record<string, unknown>)._modules = new Map();
    }).toThrow("cannot assign to '_modules': it is internal to Module");
  });

  it('de-duplicates shared modules and parameters in traversals, not in the state dict', () => {
    const shared = new Linear(2, 2);
    const seq = new Sequential(shared, new ReLU(), shared);
    expect([...seq.namedParameters()].map(([k]) => k)).toEqual(['0.weight', '0.bias']);
    expect([...seq.namedModules()].map(([k]) => k)).toEqual(['', '0', '1']);
    expect([...seq.children()].length).toBe(2);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect([...seq.namedParameters({ removeDuplicate: false })].map(([k]) => k)).toEqual([
      '0.weight',
      '0.bias',
      '2.weight',
      '2.bias',
    ]);
    expect([...seq.namedParameters({ prefix: 'body' })][0][0]).toBe('body.0.weight');
    expect([...new TinyResNet().parameters(false)]).toEqual([]);
  });

  it('getSubmodule / getParameter follow dotted paths', () => {
    const m = new TinyResNet();
    expect(m.getSubmodule('layer2.0.downsample.1')).toBeInstanceOf(BatchNorm2d);
    expect(m.getParameter('layer1.1.conv2.weight').shape).toEqual([8, 8, 3, 3]);
    expect(() => m.getSubmodule('layer9')).toThrow('TinyResNet has no attribute `layer9`');
  });
});

describe('modes and bulk operations', () => {
  it('train / eval propagate to every descendant', () => {
    const m = new TinyResNet();
    expect(m.training).toBe(true);
    expect(m.eval()).toBe(m);
    expect([...m.modules()].every((x) => !x.training)).toBe(true);
    m.train();
    expect([...m.modules()].every((x) => x.training)).toBe(true);
  });

  it('requiresGrad_(false) freezes; zeroGrad clears or zeroes grads', () => {
    const net = new Net();
    net.requiresGrad_(false);
    expect([...net.parameters()].some((p) => p.requiresGrad)).toBe(false);
    net.fc3.requiresGrad_();
    net
      .call(randn(1, 3, 32, 32))
      .sum()
      .backward();
    expect(net.fc3.weight.grad).not.toBeNull();
    expect(net.fc1.weight.grad).toBeNull();
    const g = net.fc3.weight.grad!;
    net.zeroGrad({ setToNone: false });
    expect(net.fc3.weight.grad).toBe(g);
    expect([...g.readSync()].every((v) => v === 0)).toBe(true);
    net.zeroGrad();
    expect(net.fc3.weight.grad).toBeNull();
  });

  it('zeroGrad frees gradients nobody read at once, and leaves one read through .grad valid', () => {
    const net = new Net();
    net
      .call(randn(2, 3, 32, 32))
      .sum()
      .backward();
    const w = net.fc3.weight;
    const b = net.fc3.bias!;
    const freed = vi.spyOn(w._peekGrad()!._ref.storage, 'dispose');
    const held = b.grad!;
    const left = vi.spyOn(held._ref.storage, 'dispose');
    net.zeroGrad();
    expect(freed).toHaveBeenCalledTimes(1);
    expect(left).not.toHaveBeenCalled();
    expect(held.readSync().length).toBe(held.numel());
  });

  it('apply visits children before the parent (the seed initialize_weights loop works)', () => {
    const order: string[] = [];
    new Sequential(new Linear(1, 1), new Sequential(new ReLU())).apply((m) => order.push(m._getName()));
    expect(order).toEqual(['Linear', 'ReLU', 'Sequential', 'Sequential']);
    const net = new Net();
    net.initializeWeights();
    expect([...net.fc1.bias!.readSync()].every((v) => v === 0)).toBe(true);
    expect([...net.conv1.bias!.readSync()].every((v) => v === 0)).toBe(true);
    const std = net.fc1.weight.std().itemSync();
    expect(std).toBeGreaterThan(0.0095);
    expect(std).toBeLessThan(0.0105);
    // kaiming_normal_ default: leaky_relu gain with a=0 (√2), fan_in = 3·5·5.
    const convStd = net.conv2.weight.std().itemSync();
    expect(Math.abs(convStd - Math.sqrt(2 / 150)) / Math.sqrt(2 / 150)).toBeLessThan(0.05);
  });

  it('to(cpu) is a no-op; an unknown device fails before anything changes', () => {
    const m = new Linear(2, 2);
    const w = m.weight;
    expect(m.to('cpu')).toBe(m);
    expect(m.weight).toBe(w);
    expect(() => m.to('webgpu')).toThrow(/no backend registered for device 'webgpu'/);
    expect(m.weight).toBe(w);
  });

  it('Dropout is active in training and the identity in eval', () => {
    const d = new Dropout(0.5);
    const x = ones(1000);
    const y = d.call(x).readSync();
    const zeros_ = y.filter((v) => v === 0).length;
    expect(zeros_).toBeGreaterThan(400);
    expect(zeros_).toBeLessThan(600);
    expect(y.every((v) => v === 0 || v === 2)).toBe(true);
    d.eval();
    expect(d.call(x)).toBe(x);
  });
});

describe('forward hooks', () => {
  it('pull features out of a backbone and can be removed', () => {
    const model = new TinyResNet().eval();
    const features: Tensor[] = [];
    const handle = model.avgpool.registerForwardHook((_m, _inputs, output) => {
      features.push(output as Tensor);
    });
    model.call(randn(2, 3, 16, 16));
    expect(features[0].shape).toEqual([2, 16, 1, 1]);
    handle.remove();
    model.call(randn(2, 3, 16, 16));
    expect(features.length).toBe(1);
  });

  it('pre-hooks may replace the input and hooks may replace the output; forward() skips hooks', () => {
    const id = new Identity();
    id.registerForwardPreHook((_m, [x]) => (x as Tensor).mul(2));
    const h = id.registerForwardHook((_m, _inputs, out) => (out as Tensor).add(1));
    expect(id.call(tensor([1, 2], { dtype: 'float32' })).tolistSync()).toEqual([3, 5]);
    expect(id.forward(tensor([1, 2], { dtype: 'float32' })).tolistSync()).toEqual([1, 2]);
    h.remove();
    expect(id.call(tensor([1], { dtype: 'float32' })).tolistSync()).toEqual([2]);
  });

  it('Sequential runs its children through call, so their hooks fire', () => {
    const relu = new ReLU();
    let seen = 0;
    relu.registerForwardHook(() => {
      seen++;
    });
    new Sequential(new Linear(2, 2), relu).call(randn(1, 2));
    expect(seen).toBe(1);
  });

  it('a module without forward says so', () => {
    expect(() => new ModuleList([new ReLU()]).call(zeros(1))).toThrow(
      'Module [ModuleList] is missing the required "forward" function',
    );
  });
});

describe('containers', () => {
  it('Sequential: positional and negative indexing, slicing, length, iteration, pop', () => {
    const a = new Linear(2, 2);
    const b = new ReLU();
    const c = new Linear(2, 1);
    const seq = new Sequential(a, b, c);
    expect(seq[0]).toBe(a);
    expect(seq[-1]).toBe(c);
    expect(seq.at(-2)).toBe(b);
    expect(seq.length).toBe(3);
    expect([...seq]).toEqual([a, b, c]);
    expect(() => seq[3]).toThrow('index 3 is out of range');
    const tail = seq.slice(1);
    expect([...tail.namedChildren()].map(([k]) => k)).toEqual(['1', '2']);
    expect(tail[0]).toBe(b);
    seq[1] = new Identity();
    expect(seq[1]).toBeInstanceOf(Identity);
    expect(seq.pop(0)).toBe(a);
    expect([...seq.namedChildren()].map(([k]) => k)).toEqual(['0', '1']);
    expect(seq.call(randn(3, 2)).shape).toEqual([3, 1]);
  });

  it('Sequential from named modules keeps the names; positional indexing still works', () => {
    const seq = new Sequential({ conv: new Conv2d(1, 2, 3), act: new ReLU() });
    expect(seq[1]).toBeInstanceOf(ReLU);
    expect((seq as unknown as { conv: Conv2d }).conv).toBeInstanceOf(Conv2d);
    expect(Object.keys(seq.stateDict())).toEqual(['conv.weight', 'conv.bias']);
  });

  it('ModuleList: append, extend, insert, pop, slice renumbers', () => {
    const list = new ModuleList();
    list.append(new ReLU()).extend([new Linear(1, 1), new Identity()]);
    list.insert(0, new Linear(2, 2));
    expect([...list].map((m) => m._getName())).toEqual(['Linear', 'ReLU', 'Linear', 'Identity']);
    expect(list.pop(-1)).toBeInstanceOf(Identity);
    expect(list.slice(1).length).toBe(2);
    expect([...list.slice(1).namedChildren()].map(([k]) => k)).toEqual(['0', '1']);
    expect(Object.keys(list.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('ModuleDict: get, set, has, pop, keys in insertion order (numeric keys too)', () => {
    const d = new ModuleDict({ b: new ReLU() });
    d.set('10', new Linear(1, 1)).set('a', new Identity());
    expect(d.keys()).toEqual(['b', '10', 'a']);
    expect([...d]).toEqual(['b', '10', 'a']);
    expect(d.get('b')).toBeInstanceOf(ReLU);
    expect(d.has('a')).toBe(true);
    expect(d.pop('a')).toBeInstanceOf(Identity);
    expect(d.length).toBe(2);
    expect(() => d.get('zz')).toThrow("ModuleDict has no key 'zz'");
    expect(() => d.set('keys', new ReLU())).toThrow("attribute 'keys' already exists");
  });

  it('the seed recipe: new Sequential(...model.children().slice(0, -1), ...)', () => {
    const net = new Net();
    const body = new Sequential(...[...net.children()].slice(0, -1));
    expect(body.length).toBe(5);
    expect(body[0]).toBe(net.conv1);
    init.xavierUniform_(net.fc3.weight);
  });
});
