// torch.optim.lr_scheduler for graft (exported as `lrScheduler`): the same recursive formulas as PyTorch 1.13,
// so schedules match it step for step, and the same state_dict keys, so a resumed run continues exactly.

export {
  LRScheduler,
  type Scheduler,
  type SchedulerBaseOptions,
  type SchedulerStateDict,
  type SchedulerStateValue,
} from './base.js';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine.js';
export { LambdaLR, type LambdaLROptions, type LrLambda } from './lambda.js';
export { LinearLR, type LinearLROptions } from './linear.js';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './plateau.js';
export { SequentialLR, type SequentialLROptions } from './sequential.js';
export {
  ExponentialLR,
  type ExponentialLROptions,
  MultiStepLR,
  type MultiStepLROptions,
  StepLR,
  type StepLROptions,
} from './step.js';
