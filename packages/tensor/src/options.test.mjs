// Plain JavaScript, as a user without a compiler writes it: option slips in creation functions throw.
import {
  arange,
  checkOptions,
  didYouMean,
  eye,
  full,
  linspace,
  ones,
  rand,
  randint,
  randn,
  randperm,
  tensor,
  unknownOptionMessage,
  zeros,
  zerosLike,
} from '@graft/tensor';
import { describe, expect, it } from 'vitest';

describe('didYouMean', () => {
  const known = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'tMax', 'etaMin'];

  it('maps snake_case to the camelCase name first', () => {
    expect(didYouMean('weight_decay', known)).toBe('weightDecay');
    expect(didYouMean('eta_min', known)).toBe('etaMin');
  });

  it('ignores case and underscores (PyTorch writes T_max)', () => {
    expect(didYouMean('T_max', known)).toBe('tMax');
    expect(didYouMean('weightdecay', known)).toBe('weightDecay');
  });

  it('suggests the nearest name within one edit per three characters', () => {
    expect(didYouMean('nesterow', known)).toBe('nesterov');
    expect(didYouMean('momentun', known)).toBe('momentum');
    expect(didYouMean('mometnum', known)).toBe('momentum'); // a swap counts as one edit
    expect(didYouMean('lrr', known)).toBe('lr');
    expect(didYouMean('damp', known)).toBe('dampening'); // the start of a name
    expect(didYouMean('mo', known)).toBeUndefined(); // too short to stand for a name
    expect(didYouMean('foo', known)).toBeUndefined();
    expect(didYouMean('learningRate', known)).toBeUndefined();
  });
});

describe('checkOptions', () => {
  it('passes known keys and no options', () => {
    expect(() => checkOptions('f', { a: 1, b: undefined }, ['a', 'b'])).not.toThrow();
    expect(() => checkOptions('f', undefined, ['a'])).not.toThrow();
    expect(() => checkOptions('f', null, ['a'])).not.toThrow();
  });

  it('names the thing, the key and the suggestion', () => {
    expect(() => checkOptions('SGD', { weight_decay: 0.1 }, ['lr', 'weightDecay'])).toThrow(
      new TypeError("SGD: unknown option 'weight_decay'; did you mean 'weightDecay'?"),
    );
  });

  it('lists the valid options when nothing is close', () => {
    expect(() => checkOptions('SGD', { foo: 1 }, ['lr', 'weightDecay'])).toThrow(
      "SGD: unknown option 'foo'; valid options are lr, weightDecay",
    );
    expect(unknownOptionMessage('Sigmoid', 'inplace', [])).toBe(
      "Sigmoid: unknown option 'inplace'; it takes no options",
    );
  });

  it('refuses something that is not an options object', () => {
    expect(() => checkOptions('f', 3, ['a'])).toThrow('f: expected an options object, got number');
    expect(() => checkOptions('f', [1], ['a'])).toThrow('f: expected an options object, got an array');
  });

  it('checks a key even when its value is undefined', () => {
    expect(() => checkOptions('f', { requires_grad: undefined }, ['requiresGrad'])).toThrow(
      "f: unknown option 'requires_grad'; did you mean 'requiresGrad'?",
    );
  });
});

describe('creation functions refuse unknown options', () => {
  it('tensor(data, { requires_grad }) names requiresGrad (torch.tensor(..., requires_grad=True))', () => {
    expect(() => tensor([1, 2], { requires_grad: true })).toThrow(
      "tensor: unknown option 'requires_grad'; did you mean 'requiresGrad'?",
    );
    expect(tensor([1, 2], { requiresGrad: true, dtype: 'float32' }).requiresGrad).toBe(true);
  });

  it('every creation function checks its options', () => {
    const slip = { dtyp: 'float64' };
    const message = (where) => `${where}: unknown option 'dtyp'; did you mean 'dtype'?`;
    expect(() => zeros(2, 3, slip)).toThrow(message('zeros'));
    expect(() => zeros([2, 3], slip)).toThrow(message('zeros'));
    expect(() => ones(2, slip)).toThrow(message('ones'));
    expect(() => full([2], 1, slip)).toThrow(message('full'));
    expect(() => zerosLike(zeros(2), slip)).toThrow(message('zerosLike'));
    expect(() => arange(0, 4, slip)).toThrow(message('arange'));
    expect(() => linspace(0, 1, 3, slip)).toThrow(message('linspace'));
    expect(() => eye(2, slip)).toThrow(message('eye'));
    expect(() => rand(2, slip)).toThrow(message('rand'));
    expect(() => randn(2, slip)).toThrow(message('randn'));
    expect(() => randint(0, 4, [2], slip)).toThrow(message('randint'));
    expect(() => randperm(4, slip)).toThrow(message('randperm'));
  });

  it('random functions take a generator; the others do not', () => {
    expect(() => zeros(2, { generator: null })).toThrow(
      "zeros: unknown option 'generator'; valid options are dtype, device, requiresGrad",
    );
    expect(randn(2, { generator: undefined, dtype: 'float64' }).dtype).toBe('float64');
  });
});

describe('backward options', () => {
  const graph = () => {
    const x = tensor([1, 2, 3], { dtype: 'float32' }).requiresGrad_();
    return { x, y: x.mul(x).sum() };
  };

  it('backward({ retainGraph: true }) alone is PyTorch’s backward(retain_graph=True)', () => {
    const { x, y } = graph();
    y.backward({ retainGraph: true });
    y.backward();
    expect(Array.from(x.grad.readSync())).toEqual([4, 8, 12]); // 2 * (2x)
  });

  it('a snake_case or unknown option throws and names the camelCase one', () => {
    const { y } = graph();
    expect(() => y.backward({ retain_graph: true })).toThrow(/retain_graph.*retainGraph/);
    expect(() => y.backward(undefined, { retainGrpah: true })).toThrow(/retainGrpah.*retainGraph/);
  });

  it('a gradient that is not a tensor throws and says what to pass', () => {
    const { y } = graph();
    expect(() => y.backward([1])).toThrow(/expected the gradient to be a Tensor.*got Array/);
    expect(() => y.backward(1)).toThrow(/got number/);
  });
});
