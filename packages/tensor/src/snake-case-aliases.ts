// PyTorch's snake_case attribute names on a Tensor, as accessors to the camelCase ones.

/**
 * PyTorch's snake_case attribute names on a Tensor (and so on a Parameter) act as the camelCase ones,
 * so `p.requires_grad = false` freezes `p` instead of silently adding a property that nothing reads.
 * They are left out of the TypeScript types on purpose: there, the camelCase name is the API.
 */
const SNAKE_CASE_ALIASES: Record<string, string> = {
  requires_grad: 'requiresGrad',
  grad_fn: 'gradFn',
  is_leaf: 'isLeaf',
  requires_grad_: 'requiresGrad_',
  retain_grad: 'retainGrad',
  is_contiguous: 'isContiguous',
  is_floating_point: 'isFloatingPoint',
  view_as: 'viewAs',
  expand_as: 'expandAs',
  index_select: 'indexSelect',
  log_softmax: 'logSoftmax',
  floor_divide: 'floorDivide',
  logical_not: 'logicalNot',
  logical_and: 'logicalAnd',
  logical_or: 'logicalOr',
  masked_fill: 'maskedFill',
  masked_fill_: 'maskedFill_',
};

/** Installs SNAKE_CASE_ALIASES on the Tensor prototype (tensor.ts calls it once, after the class). */
export function installSnakeCaseAliases(proto: object): void {
  for (const [snake, camel] of Object.entries(SNAKE_CASE_ALIASES)) {
    const target = Object.getOwnPropertyDescriptor(proto, camel);
    const isMethod = target !== undefined && typeof target.value === 'function';
    Object.defineProperty(proto, snake, {
      configurable: true,
      enumerable: false,
      get(this: object) {
        const v = (this as Record<string, unknown>)[camel];
        return isMethod ? (v as (...a: unknown[]) => unknown).bind(this) : v;
      },
      set(this: object, value: unknown) {
        if (isMethod || (target && !target.set && camel !== 'gradFn')) {
          throw new Error(`Tensor.${snake} (${camel} in graft) cannot be assigned`);
        }
        if (camel === 'gradFn') {
          throw new Error(
            `Tensor.${snake}: attribute 'grad_fn' of a tensor is not writable (gradFn in graft)`,
          );
        }
        (this as Record<string, unknown>)[camel] = value;
      },
    });
  }
}
