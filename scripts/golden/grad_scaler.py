"""Golden fixtures for @graft/optim's GradScaler, generated with real PyTorch (1.13).

Run from the repository root:  /usr/bin/python3 scripts/golden/grad_scaler.py
Writes packages/optim/fixtures/grad_scaler.json; the tests replay it in graft and never need Python.

torch.cuda.amp.GradScaler is PyTorch's Python class; only its two device kernels have no CPU build in 1.13
(torch._amp_foreach_non_finite_check_and_unscale_ and torch._amp_update_scale_). This script runs the
real class on CPU tensors with those two kernels written out in Python, line for line from
aten/src/ATen/native/cuda/AmpKernels.cu, and with its `is_cuda` asserts relaxed. Everything else (the
per-optimizer stages, step skipping, growth and backoff bookkeeping, state_dict) is PyTorch's own code.

Non-finite floats are written as the strings "inf", "-inf", "nan".
"""

import inspect
import json
import math
import os
import types
import warnings

import torch
import torch.cuda.amp.grad_scaler as torch_grad_scaler

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'packages', 'optim', 'fixtures', 'grad_scaler.json')


def non_finite_check_and_unscale_(grads, found_inf, inv_scale):
    """AmpKernels.cu: found_inf = 1 if any element is inf/NaN; every grad *= inv_scale (in float)."""
    for g in grads:
        if not torch.isfinite(g).all():
            found_inf.fill_(1.0)
        g.mul_(inv_scale.item())


def update_scale_(current_scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval):
    """AmpKernels.cu's _amp_update_scale_cuda_kernel on one-element tensors (float32 scale, int32 tracker)."""
    if found_inf.item():
        current_scale.fill_(current_scale.item() * backoff_factor)
        growth_tracker.fill_(0)
    else:
        successful = growth_tracker.item() + 1
        if successful == growth_interval:
            new_scale = torch.tensor(current_scale.item() * growth_factor, dtype=torch.float32).item()
            if math.isfinite(new_scale):
                current_scale.fill_(new_scale)
            growth_tracker.fill_(0)
        else:
            growth_tracker.fill_(successful)
    return current_scale


def cpu_grad_scaler_class():
    """torch.cuda.amp.GradScaler's source, with its CUDA-only asserts and kernels made CPU-able."""
    src = inspect.getsource(torch_grad_scaler)
    src = src.replace('master_tensor.is_cuda or', 'True or')
    src = src.replace('outputs.is_cuda or', 'True or').replace('val.is_cuda or', 'True or')
    src = src.replace('torch._amp_foreach_non_finite_check_and_unscale_', 'non_finite_check_and_unscale_')
    src = src.replace('torch._amp_update_scale_', 'update_scale_')
    src = src.replace('from .common import', 'from torch.cuda.amp.common import')
    src = src.replace('if enabled and amp_definitely_not_available():', 'if False:')
    assert 'amp_definitely_not_available()' not in src and 'torch._amp_' not in src
    mod = types.ModuleType('cpu_grad_scaler')
    mod.__dict__['non_finite_check_and_unscale_'] = non_finite_check_and_unscale_
    mod.__dict__['update_scale_'] = update_scale_
    exec(compile(src, 'cpu_grad_scaler', 'exec'), mod.__dict__)
    return mod.GradScaler


GradScaler = cpu_grad_scaler_class()


def f(x):
    if isinstance(x, float):
        if math.isnan(x):
            return 'nan'
        if math.isinf(x):
            return 'inf' if x > 0 else '-inf'
    return x


def flat(t):
    return [f(v) for v in t.detach().reshape(-1).tolist()]


def scenario(name, scaler_kwargs, steps, unscale_first=False, momentum=0.9, load_after=None):
    """A linear model w . x trained with SGD under a GradScaler; `steps` lists (x, loss factor, new_scale)."""
    torch.manual_seed(0)
    w = torch.tensor([0.5, -1.25, 2.0], requires_grad=True)
    b = torch.tensor([0.25], requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.1, momentum=momentum)
    scaler = GradScaler(**scaler_kwargs)
    record = []
    for i, (x, factor, new_scale) in enumerate(steps):
        if load_after is not None and i == load_after:
            # Resume from a state dict into a fresh scaler, as a checkpoint would.
            sd = scaler.state_dict()
            scaler = GradScaler()
            scaler.load_state_dict(sd)
        opt.zero_grad()
        loss = ((w * torch.tensor(x)).sum() + b.sum()) ** 2 * factor
        scaled = scaler.scale(loss)
        scaled.backward()
        scaled_grads = flat(w.grad) + flat(b.grad)
        if unscale_first:
            scaler.unscale_(opt)
        scaler.step(opt)
        skipped = scaler._found_inf_per_device(opt)
        skipped = bool(sum(v.item() for v in skipped.values()))
        unscaled_grads = flat(w.grad) + flat(b.grad)
        scaler.update(new_scale)
        record.append({
            'x': x, 'factor': f(factor), 'newScale': new_scale,
            'loss': f(loss.item()), 'scaledLoss': f(scaled.item()),
            'scaledGrads': scaled_grads, 'unscaledGrads': unscaled_grads, 'skipped': skipped,
            'w': flat(w), 'b': flat(b),
            'scale': scaler.get_scale(), 'growthTracker': scaler._get_growth_tracker(),
            'stateDict': {k: f(v) for k, v in scaler.state_dict().items()},
        })
    return {'name': name, 'options': scaler_kwargs, 'unscaleFirst': unscale_first, 'momentum': momentum,
            'loadAfter': load_after, 'steps': record}


def xs(n):
    g = torch.Generator().manual_seed(1)
    return [[round(v, 4) for v in torch.randn(3, generator=g).tolist()] for _ in range(n)]


def main():
    warnings.simplefilter('ignore')
    inputs = xs(12)
    inf = float('inf')
    nan = float('nan')
    factors = [1.0, 1.0, inf, 1.0, 1.0, 1.0, nan, 1.0, 1.0, 1.0, 1.0, 1.0]
    plain = [(x, k, None) for x, k in zip(inputs, factors)]
    scenarios = [
        # Small growth interval: growth after 3 clean steps, backoff and tracker reset at inf and NaN.
        scenario('interval-3', {'init_scale': 2.0 ** 10, 'growth_interval': 3}, plain),
        # The defaults (2^16, x2 / x0.5, 2000): only backoffs show in 12 steps.
        scenario('defaults', {}, plain),
        # unscale_ before step (the gradient-clipping recipe), other factors.
        scenario('unscale-first', {'init_scale': 256.0, 'growth_factor': 4.0, 'backoff_factor': 0.25,
                                   'growth_interval': 2}, plain, unscale_first=True),
        # A scale at the float32 top: growth would overflow to inf, so the scale stays and the tracker resets.
        scenario('no-growth-past-float32', {'init_scale': 2.0 ** 127, 'growth_interval': 1},
                 [(x, 1e-30, None) for x in inputs[:4]]),
        # update(new_scale) sets the scale and leaves the tracker alone.
        scenario('new-scale', {'init_scale': 1024.0, 'growth_interval': 2},
                 [(inputs[0], 1.0, None), (inputs[1], 1.0, 8.0), (inputs[2], 1.0, None), (inputs[3], 1.0, None)]),
        # state_dict after 5 steps loaded into a fresh default scaler, then training goes on.
        scenario('resume', {'init_scale': 2.0 ** 10, 'growth_interval': 3}, plain, load_after=5),
    ]
    disabled = GradScaler(enabled=False)
    data = {
        'torch': torch.__version__,
        'scenarios': scenarios,
        'disabled': {'stateDict': disabled.state_dict(), 'scale': disabled.get_scale()},
        'fresh': GradScaler(init_scale=512.0).state_dict(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump(data, fh, indent=1)
        fh.write('\n')
    print('wrote', OUT)


if __name__ == '__main__':
    main()
