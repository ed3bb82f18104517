// State dicts as PyTorch has them: the key-to-tensor record, its `_metadata` (module versions) kept off
// the keys, and what a load reports when keys do not match.

import { Tensor } from '@graft/tensor';

/** A state dict: PyTorch's key names (`layer1.0.bn1.running_mean`) to tensors, in registration order. */
export type StateDict = Record<string, Tensor>;

/** One module's entry in a state dict's `_metadata`: PyTorch's `{'version': N}`. */
export interface ModuleMetadata {
  version?: number;
  [key: string]: unknown;
}

/**
 * A state dict's `_metadata`, as PyTorch keeps it beside the keys: module prefix (`''` for the root,
 * `'layer1.0.bn1'`) to that module's metadata, in traversal order. `stateDict()` sets it as a non-enumerable
 * `_metadata` property (read it with `stateDictMetadata(sd)`); checkpoint writers save it as torch.save does.
 */
export type StateDictMetadata = Map<string, ModuleMetadata>;

/**
 * The `_metadata` a state dict carries (from `stateDict()` or a loaded PyTorch file), or undefined. A plain
 * object in its place (prefix to metadata) is accepted too.
 */
export function stateDictMetadata(stateDict: object): StateDictMetadata | undefined {
  const meta = Object.getOwnPropertyDescriptor(stateDict, '_metadata')?.value as unknown;
  if (meta instanceof Map) return meta as StateDictMetadata;
  if (meta !== null && typeof meta === 'object' && !(meta instanceof Tensor))
    return new Map(Object.entries(meta as Record<string, ModuleMetadata>));
  return undefined;
}

/** Gives `sd` an empty `_metadata` that stays off its keys (PyTorch's `OrderedDict()._metadata`). */
export function withEmptyMetadata(sd: StateDict): StateDict {
  const metadata: StateDictMetadata = new Map();
  Object.defineProperty(sd, '_metadata', {
    value: metadata,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return sd;
}

/** What a non-strict `loadStateDict` could not match (torch's `_IncompatibleKeys`). */
export interface IncompatibleKeys {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Thrown by `loadStateDict`; the message is PyTorch's, the lists are there for programs. */
export class StateDictError extends Error {
  constructor(
    message: string,
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly errorMessages: string[],
  ) {
    super(message);
    this.name = 'StateDictError';
  }
}
