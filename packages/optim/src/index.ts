// @graft/optim: torch.optim for graft. Optimizers with PyTorch's parameter groups and state dicts, and
// learning-rate schedulers under `lrScheduler`.

export { Adadelta, type AdadeltaOptions, type AdadeltaParamGroup } from './adadelta.js';
export { Adagrad, type AdagradOptions, type AdagradParamGroup } from './adagrad.js';
export { Adam, type AdamOnlyOptions, type AdamOptions, type AdamParamGroup, AdamW } from './adam.js';
export { GradScaler, type GradScalerOptions, type GradScalerStateDict } from './grad-scaler.js';
export * as lrScheduler from './lr-scheduler/index.js';
export {
  Optimizer,
  type OptimizerStateDict,
  type OptimizerStateDictInput,
  type OptionValue,
  type ParamGroup,
  type ParamGroupData,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
  REQUIRED,
  type StateValue,
  type ZeroGradOptions,
} from './optimizer.js';
export { formatPythonFloat } from './python.js';
export { RMSprop, type RMSpropOptions, type RMSpropParamGroup } from './rmsprop.js';
export { SGD, type SGDOptions, type SGDParamGroup } from './sgd.js';
