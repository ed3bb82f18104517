"""Golden fixtures for @graft/optim, generated with real PyTorch (1.13).

Run from the repository root:  /usr/bin/python3 scripts/golden/optim.py
Writes packages/optim/fixtures/{trajectories,schedulers,reprs}.json. Tests replay them in graft and never
need Python at run time.

JSON cannot hold inf/nan, so non-finite floats are written as the strings "inf", "-inf", "nan"; tensors are
written as {"tensor": true, "dtype", "shape", "values"} (values flattened, row-major).
"""

import json
import math
import os
import warnings

import torch
from torch import nn, optim
from torch.optim import lr_scheduler as L

warnings.simplefilter('ignore')  # SequentialLR's step(0) and friends warn about the deprecated epoch argument

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'optim', 'fixtures')
STEPS = 6
MID = 3  # the step after which the state dict is saved for the resume tests


def enc(v):
    """A Python value (state dict content) as JSON-safe data."""
    if isinstance(v, torch.Tensor):
        return {'tensor': True, 'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape),
                'values': [enc(x) for x in v.detach().reshape(-1).tolist()]}
    if isinstance(v, float):
        if math.isnan(v):
            return 'nan'
        if math.isinf(v):
            return 'inf' if v > 0 else '-inf'
        return v
    if isinstance(v, dict):
        # int keys (optimizer state, Counter milestones) become strings, as graft keeps them
        return {str(k): enc(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if v is None or isinstance(v, (bool, int, str)):
        return v
    raise TypeError(f'cannot encode {type(v).__name__}')


def flat(t):
    return t.detach().reshape(-1).tolist()


# ---------------------------------------------------------------------------------------------------------
# Optimizer trajectories: Linear(4, 5) -> tanh -> Linear(5, 3), MSE against fixed targets, two groups:
#   group 0: fc1.weight, fc1.bias (frozen: requires_grad False, so its grad stays None and it is skipped)
#   group 1: fc2.weight, fc2.bias with its own lr and weight decay

OPTIMIZERS = {
    'SGD': optim.SGD, 'Adam': optim.Adam, 'AdamW': optim.AdamW, 'RMSprop': optim.RMSprop,
    'Adagrad': optim.Adagrad, 'Adadelta': optim.Adadelta,
}

# (name, optimizer, constructor options, group-1 overrides)
CONFIGS = [
    ('sgd', 'SGD', dict(lr=0.05), dict(lr=0.5, weight_decay=0.05)),
    ('sgd-momentum', 'SGD', dict(lr=0.05, momentum=0.9), dict(lr=0.5, weight_decay=0.05)),
    ('sgd-dampening', 'SGD', dict(lr=0.05, momentum=0.8, dampening=0.3), dict(lr=0.5, weight_decay=0.05)),
    ('sgd-nesterov', 'SGD', dict(lr=0.05, momentum=0.9, nesterov=True), dict(lr=0.5, weight_decay=0.05)),
    ('sgd-weight-decay', 'SGD', dict(lr=0.05, momentum=0.5, weight_decay=0.1), dict(lr=0.5)),
    ('sgd-maximize', 'SGD', dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True),
     dict(lr=0.1, weight_decay=0.05)),
    ('adam', 'Adam', dict(lr=0.01), dict(lr=0.1, weight_decay=0.05)),
    ('adam-amsgrad', 'Adam', dict(lr=0.01, amsgrad=True, betas=(0.8, 0.95)), dict(lr=0.1, weight_decay=0.05)),
    ('adam-weight-decay', 'Adam', dict(lr=0.01, weight_decay=0.1, eps=1e-6), dict(lr=0.1)),
    ('adam-maximize', 'Adam', dict(lr=0.01, maximize=True, amsgrad=True, weight_decay=0.01),
     dict(lr=0.1, weight_decay=0.05)),
    ('adamw', 'AdamW', dict(lr=0.01), dict(lr=0.1, weight_decay=0.05)),
    ('adamw-amsgrad', 'AdamW', dict(lr=0.01, amsgrad=True, weight_decay=0.2), dict(lr=0.1, weight_decay=0.05)),
    ('adamw-maximize', 'AdamW', dict(lr=0.01, maximize=True, betas=(0.5, 0.9)), dict(lr=0.1, weight_decay=0.05)),
    ('rmsprop', 'RMSprop', dict(lr=0.01), dict(lr=0.05, weight_decay=0.05)),
    ('rmsprop-centered', 'RMSprop', dict(lr=0.01, centered=True, alpha=0.9), dict(lr=0.05, weight_decay=0.05)),
    ('rmsprop-momentum', 'RMSprop', dict(lr=0.01, momentum=0.9), dict(lr=0.05, weight_decay=0.05)),
    ('rmsprop-all', 'RMSprop', dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-6),
     dict(lr=0.05)),
    ('rmsprop-maximize', 'RMSprop', dict(lr=0.01, maximize=True, momentum=0.3), dict(lr=0.05, weight_decay=0.05)),
    ('adagrad', 'Adagrad', dict(lr=0.1), dict(lr=0.5, weight_decay=0.05)),
    ('adagrad-lr-decay', 'Adagrad', dict(lr=0.1, lr_decay=0.2, initial_accumulator_value=0.5),
     dict(lr=0.5, weight_decay=0.05)),
    ('adagrad-maximize', 'Adagrad', dict(lr=0.1, maximize=True, weight_decay=0.1, eps=1e-6), dict(lr=0.5)),
    ('adadelta', 'Adadelta', dict(), dict(lr=5.0, weight_decay=0.05)),
    ('adadelta-rho', 'Adadelta', dict(lr=2.0, rho=0.5, eps=1e-4), dict(lr=5.0, weight_decay=0.05)),
    ('adadelta-maximize', 'Adadelta', dict(maximize=True, weight_decay=0.1), dict(lr=5.0)),
]
# One float32 run per optimizer (checked at 1e-5); everything else runs in float64.
FLOAT32 = ['sgd-nesterov', 'adam-amsgrad', 'adamw', 'rmsprop-all', 'adagrad-lr-decay', 'adadelta-rho']
CLOSURE = ['sgd-momentum', 'adam']  # these also drive step(closure) and record the loss it returns


def model_data(dtype):
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(8, 4, generator=g, dtype=torch.float64)
    y = torch.randn(8, 3, generator=g, dtype=torch.float64)
    w1 = torch.randn(5, 4, generator=g, dtype=torch.float64) * 0.5
    b1 = torch.randn(5, generator=g, dtype=torch.float64) * 0.1
    w2 = torch.randn(3, 5, generator=g, dtype=torch.float64) * 0.5
    b2 = torch.randn(3, generator=g, dtype=torch.float64) * 0.1
    return [t.to(dtype) for t in (x, y, w1, b1, w2, b2)]


def run_config(name, opt_name, options, head, dtype, closure_mode):
    x, y, w1, b1, w2, b2 = model_data(dtype)
    params = [nn.Parameter(t.clone()) for t in (w1, b1, w2, b2)]
    params[1].requires_grad_(False)  # frozen

    def loss_fn():
        return nn.functional.mse_loss(torch.tanh(x @ params[0].t() + params[1]) @ params[2].t() + params[3], y)

    opt = OPTIMIZERS[opt_name]([{'params': params[:2]}, dict(params=params[2:], **head)], **options)
    steps, mid_state = [], None
    for i in range(STEPS):
        if closure_mode:
            def closure():
                opt.zero_grad()
                loss = loss_fn()
                loss.backward()
                return loss
            loss = opt.step(closure).item()
        else:
            opt.zero_grad()
            loss_t = loss_fn()
            loss_t.backward()
            opt.step()
            loss = loss_t.item()
        steps.append({'loss': loss, 'params': [flat(p) for p in params]})
        if i + 1 == MID:
            mid_state = enc(opt.state_dict())
    return {
        'name': name + ('-closure' if closure_mode else '') + ('-float32' if dtype == torch.float32 else ''),
        'optimizer': opt_name, 'dtype': str(dtype).replace('torch.', ''), 'closure': closure_mode,
        'options': enc(options), 'head': enc(head),
        'x': flat(x), 'y': flat(y), 'init': [flat(t) for t in (w1, b1, w2, b2)],
        'shapes': [list(t.shape) for t in (w1, b1, w2, b2)],
        'steps': steps, 'midState': mid_state, 'finalState': enc(opt.state_dict()), 'repr': repr(opt),
    }


def trajectories():
    runs = []
    for name, opt_name, options, head in CONFIGS:
        runs.append(run_config(name, opt_name, options, head, torch.float64, False))
        if name in FLOAT32:
            runs.append(run_config(name, opt_name, options, head, torch.float32, False))
        if name in CLOSURE:
            runs.append(run_config(name, opt_name, options, head, torch.float64, True))
    return {'steps': STEPS, 'mid': MID, 'runs': runs}


# ---------------------------------------------------------------------------------------------------------
# Schedulers: two groups at lr 0.1 and 1.0 (a 1x backbone and a 10x head), 40 steps each.

SCHED_STEPS = 40
SCHED_MID = 17
LAMBDAS = {
    'pow095': lambda e: 0.95 ** e,
    'inverse': lambda e: 1.0 / (e + 1),
    'warmup10': lambda e: min(1.0, (e + 1) / 10),
}
# ReduceLROnPlateau reads this metric sequence: improvements, plateaus, small wiggles under the threshold.
METRICS = [1.0, 0.8, 0.7, 0.7, 0.69999, 0.71, 0.72, 0.6, 0.6, 0.6, 0.6, 0.6, 0.59, 0.5, 0.5, 0.5, 0.5,
           0.5, 0.5, 0.4, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3,
           0.3, 0.3, 0.3, 0.3, 0.3, 0.3]


def make_sched(kind, opt, o):
    if kind == 'StepLR':
        return L.StepLR(opt, **o)
    if kind == 'MultiStepLR':
        return L.MultiStepLR(opt, **o)
    if kind == 'ExponentialLR':
        return L.ExponentialLR(opt, **o)
    if kind == 'CosineAnnealingLR':
        return L.CosineAnnealingLR(opt, **o)
    if kind == 'LinearLR':
        return L.LinearLR(opt, **o)
    if kind == 'LambdaLR':
        fn = o['lr_lambda']
        fns = [LAMBDAS[f] for f in fn] if isinstance(fn, list) else LAMBDAS[fn]
        return L.LambdaLR(opt, fns)
    if kind == 'OneCycleLR':
        return L.OneCycleLR(opt, **o)
    if kind == 'ReduceLROnPlateau':
        return L.ReduceLROnPlateau(opt, **o)
    if kind == 'SequentialLR':
        subs = [make_sched(k, opt, so) for k, so in o['schedulers']]
        return L.SequentialLR(opt, subs, milestones=o['milestones'])
    raise ValueError(kind)


SCHEDULERS = [
    ('step', 'SGD', 'StepLR', dict(step_size=7, gamma=0.5)),
    ('multistep', 'SGD', 'MultiStepLR', dict(milestones=[5, 12, 12, 25], gamma=0.3)),
    ('exponential', 'SGD', 'ExponentialLR', dict(gamma=0.9)),
    ('cosine', 'SGD', 'CosineAnnealingLR', dict(T_max=10, eta_min=0.001)),
    ('cosine-long', 'SGD', 'CosineAnnealingLR', dict(T_max=30)),
    ('linear-warmup', 'SGD', 'LinearLR', dict(start_factor=0.25, total_iters=8)),
    ('linear-decay', 'SGD', 'LinearLR', dict(start_factor=1.0, end_factor=0.1, total_iters=20)),
    ('linear-default', 'SGD', 'LinearLR', dict()),
    ('lambda', 'SGD', 'LambdaLR', dict(lr_lambda='pow095')),
    ('lambda-per-group', 'SGD', 'LambdaLR', dict(lr_lambda=['inverse', 'warmup10'])),
    ('onecycle-cos', 'SGD', 'OneCycleLR', dict(max_lr=[0.1, 1.0], total_steps=40)),
    ('onecycle-linear', 'SGD', 'OneCycleLR',
     dict(max_lr=[0.1, 1.0], total_steps=40, anneal_strategy='linear', pct_start=0.25, div_factor=10.0,
          final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9)),
    ('onecycle-three-phase', 'SGD', 'OneCycleLR',
     dict(max_lr=0.5, epochs=4, steps_per_epoch=10, three_phase=True)),
    ('onecycle-adam', 'Adam', 'OneCycleLR', dict(max_lr=[0.01, 0.1], total_steps=45, pct_start=0.4)),
    ('onecycle-no-momentum', 'SGD', 'OneCycleLR', dict(max_lr=[0.1, 1.0], total_steps=40, cycle_momentum=False)),
    ('sequential-warmup-cosine', 'SGD', 'SequentialLR',
     dict(schedulers=[('LinearLR', dict(start_factor=0.1, total_iters=5)),
                      ('CosineAnnealingLR', dict(T_max=30))], milestones=[5])),
    ('sequential-three', 'SGD', 'SequentialLR',
     dict(schedulers=[('LinearLR', dict(start_factor=0.5, total_iters=4)),
                      ('ExponentialLR', dict(gamma=0.9)),
                      ('StepLR', dict(step_size=5, gamma=0.5))], milestones=[6, 15])),
    ('sequential-lambda', 'SGD', 'SequentialLR',
     dict(schedulers=[('LambdaLR', dict(lr_lambda='warmup10')), ('MultiStepLR', dict(milestones=[5, 10]))],
          milestones=[10])),
    ('plateau', 'SGD', 'ReduceLROnPlateau', dict(patience=2)),
    ('plateau-max-abs', 'SGD', 'ReduceLROnPlateau',
     dict(mode='max', threshold_mode='abs', threshold=0.01, factor=0.5, patience=1, cooldown=2,
          min_lr=[0.001, 0.05])),
    ('plateau-eps', 'SGD', 'ReduceLROnPlateau', dict(factor=0.5, patience=0, min_lr=0.02, eps=0.01)),
]


def sched_optimizer(opt_name):
    p0, p1 = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))
    groups = [{'params': [p0]}, {'params': [p1], 'lr': 1.0}]
    if opt_name == 'SGD':
        return optim.SGD(groups, lr=0.1, momentum=0.9)
    return optim.Adam(groups, lr=0.1)


def momenta(opt):
    return [g['betas'][0] if 'betas' in g else g['momentum'] for g in opt.param_groups]


def run_sched(name, opt_name, kind, o):
    opt = sched_optimizer(opt_name)
    sched = make_sched(kind, opt, o)
    plateau = kind == 'ReduceLROnPlateau'
    lrs = [[g['lr'] for g in opt.param_groups]]
    moms = [momenta(opt)]
    last = [] if plateau else [sched.get_last_lr()]
    mid_state, mid_groups = None, None
    for i in range(SCHED_STEPS):
        opt.step()
        if plateau:
            sched.step(METRICS[i])
        else:
            sched.step()
        lrs.append([g['lr'] for g in opt.param_groups])
        moms.append(momenta(opt))
        last.append(sched._last_lr)
        if i + 1 == SCHED_MID:
            sd = sched.state_dict()
            sd.pop('anneal_func', None)  # a bound method: not data
            mid_state = enc(sd)
            mid_groups = enc(opt.state_dict()['param_groups'])
    return {'name': name, 'optimizer': opt_name, 'scheduler': kind, 'options': enc(o), 'lrs': lrs,
            'momenta': moms, 'lastLr': last, 'midState': mid_state, 'midGroups': mid_groups, 'repr': repr(opt)}


def schedulers():
    return {'steps': SCHED_STEPS, 'mid': SCHED_MID, 'metrics': METRICS,
            'runs': [run_sched(*c) for c in SCHEDULERS]}


# ---------------------------------------------------------------------------------------------------------
# Printed reprs for optimizer/option combinations (trajectory runs carry more).

REPRS = [
    ('SGD', dict(lr=0.01, momentum=0.9), None, None),
    ('SGD', dict(lr=1e-3, momentum=0.9, weight_decay=1e-3, nesterov=True), [dict(), dict(lr=1e-2)], None),
    ('Adam', dict(), None, None),
    ('Adam', dict(lr=3e-4, betas=(0.8, 0.99), eps=1e-5, amsgrad=True), [dict(lr=1e-5, weight_decay=1e-16), dict()],
     None),
    ('AdamW', dict(), None, None),
    ('AdamW', dict(lr=1e-4, weight_decay=0.05), [dict(), dict(lr=1e-3, weight_decay=0)], None),
    ('RMSprop', dict(), None, None),
    ('RMSprop', dict(lr=1e-3, momentum=0.9, centered=True, alpha=0.9), None, None),
    ('Adagrad', dict(), None, None),
    ('Adagrad', dict(lr_decay=1e-4, initial_accumulator_value=0.1), None, None),
    ('Adadelta', dict(), None, None),
    ('Adadelta', dict(lr=0.5, rho=0.95, eps=1e-7, weight_decay=1e-6), None, None),
    ('SGD', dict(lr=0.1, momentum=0.9), [dict(), dict(lr=1.0)], ('StepLR', dict(step_size=2, gamma=0.1), 5)),
    ('Adam', dict(lr=0.1), [dict(), dict(lr=1.0)], ('OneCycleLR', dict(max_lr=[0.1, 1.0], total_steps=20), 7)),
    ('SGD', dict(lr=0.1, momentum=0.9), None, ('OneCycleLR', dict(max_lr=2.0, total_steps=20, three_phase=True), 3)),
    ('SGD', dict(lr=0.1), [dict(), dict(lr=0.2)], ('CosineAnnealingLR', dict(T_max=7), 3)),
]


def reprs():
    out = []
    for opt_name, options, groups, sched in REPRS:
        p0, p1 = nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))
        if groups is None:
            opt = OPTIMIZERS[opt_name]([p0, p1], **options)
        else:
            opt = OPTIMIZERS[opt_name]([dict(params=[p0], **groups[0]), dict(params=[p1], **groups[1])], **options)
        if sched is not None:
            kind, so, n = sched
            s = make_sched(kind, opt, so)
            for _ in range(n):
                opt.step()
                s.step()
        out.append({'optimizer': opt_name, 'options': enc(options), 'groups': enc(groups),
                    'scheduler': None if sched is None else {'kind': sched[0], 'options': enc(sched[1]),
                                                              'steps': sched[2]},
                    'repr': repr(opt)})
    return out


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'), allow_nan=False)
    print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    assert torch.__version__.startswith('1.13'), f'fixtures are from torch 1.13, this is {torch.__version__}'
    os.makedirs(OUT, exist_ok=True)
    write('trajectories.json', trajectories())
    write('schedulers.json', schedulers())
    write('reprs.json', {'torch': torch.__version__, 'cases': reprs()})
