"""Golden fixture for `graft export-torch`: a graft run continued in PyTorch (1.13) by the generated script.

Run from the repository root, after building the CLI:  /usr/bin/python3 scripts/golden/continue_in_torch.py
Writes apps/cli/fixtures/continue-in-torch/:
  data/            a tiny IDX dataset (12 train, 6 test images of 8x8 pixels, 3 classes), seeded
  CASE/args.json   the `graft finetune` arguments of a run (the test runs the same command), for two cases:
                   sgd-warmup-step (SGD with Nesterov momentum, two parameter groups, LinearLR warm-up then
                   StepLR, replaced head, BatchNorm in train mode) and adamw-cut (AdamW, one group, no
                   schedule, cut head, frozen BatchNorm in eval mode)
  CASE/train_torch.py   what `graft export-torch run` wrote for that run
  CASE/continued.pth    3 steps taken in PyTorch from the run's last.pth on fixed batches, through the generated
                   script's own restore() and train_step(): losses, learning rates, the trainable parameters,
                   their optimizer state and BatchNorm buffers before and after, torch's optimizer and
                   scheduler state dicts (small: only 4 parameter tensors train) and the schedule's next 4 rates
The test (apps/cli/src/export-torch.test.ts) makes the same run, takes the same 3 steps in graft and compares.

Also checks, without writing anything: the generated script runs end to end under `python` and under two
DistributedDataParallel processes (gloo, CPU), and `graft finetune --resume` loads the checkpoint it writes;
and an --amp run's script (AMP = True) on the CPU trains in float32, says so, and keeps the scaler's state.
"""

import copy
import importlib.util
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'apps', 'cli', 'fixtures', 'continue-in-torch')
GRAFT = os.path.join(ROOT, 'apps', 'cli', 'bin', 'graft.js')
STEPS = 3
# 64 pixels and a batch of 8 keep train-mode BatchNorm well conditioned (at 16 pixels layer3 and layer4 see
# 1x1 maps, and float32 rounding alone moves the loss by 3e-5 relative in PyTorch itself).
BATCH = 8
IMAGE_SIZE = 64
STEPS_PER_EPOCH = 2  # 12 train images, batches of 8 and 4
FREEZE = 'conv1,bn1,layer1,layer2,layer3,layer4.0,layer4.1.conv1,layer4.1.bn1,layer4.1.conv2'
COMMON = ['finetune', '--data', 'fashion-mnist:data', '--weights', 'none', '--image-size', str(IMAGE_SIZE),
          '--batch-size', str(BATCH), '--epochs', '2', '--freeze', FREEZE, '--threads', '1', '--seed', '0',
          '--out', 'run']
CASES = {
    'sgd-warmup-step': {
        'args': COMMON + ['--warmup', '1', '--scheduler', 'step', '--step-size', '1', '--gamma', '0.5',
                          '--lr', '0.005', '--head-lr', '0.01', '--momentum', '0.9', '--nesterov',
                          '--weight-decay', '0.001', '--init', 'xavier-uniform'],
        'trainable': ['layer4.1.bn2.weight', 'layer4.1.bn2.bias', 'fc.weight', 'fc.bias'],
        'buffers': ['bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
                    'layer4.1.bn2.running_mean', 'layer4.1.bn2.running_var'],
    },
    'adamw-cut': {
        'args': COMMON + ['--head', 'cut', '--optimizer', 'adamw', '--scheduler', 'none', '--lr', '0.001',
                          '--weight-decay', '0.01', '--bn', 'eval', '--init', 'kaiming-normal'],
        'trainable': ['7.1.bn2.weight', '7.1.bn2.bias', '10.weight', '10.bias'],
        'buffers': ['1.running_mean', '1.running_var', '1.num_batches_tracked',
                    '7.1.bn2.running_mean', '7.1.bn2.running_var'],
    },
}


def write_idx(folder):
    """Random 8x8 images with labels i % 3, as uncompressed IDX files (byte-reproducible)."""
    rng = np.random.RandomState(0)
    os.makedirs(folder, exist_ok=True)
    for split, n in (('train', 12), ('t10k', 6)):
        images = rng.randint(0, 256, (n, 8, 8)).astype(np.uint8)
        labels = np.array([i % 3 for i in range(n)], dtype=np.uint8)
        with open(os.path.join(folder, f'{split}-images-idx3-ubyte'), 'wb') as f:
            f.write(struct.pack('>4i', 2051, n, 8, 8) + images.tobytes())
        with open(os.path.join(folder, f'{split}-labels-idx1-ubyte'), 'wb') as f:
            f.write(struct.pack('>2i', 2049, n) + labels.tobytes())
    with open(os.path.join(folder, 'classes.json'), 'w') as f:
        json.dump(['a', 'b', 'c'], f)


def batch(step):
    """The fixed batch of a step; the test computes the same values in float64 and rounds to float32.
    The phase (+ 1) keeps every ReLU decision of the 3 steps away from a tie: at + 0 one of them flipped
    when a convolution's output moved by 1e-6 relative (float32 rounding of another summation order),
    which moved a momentum buffer by 4e-3."""
    n = BATCH * 3 * IMAGE_SIZE * IMAGE_SIZE
    x = torch.tensor([1.5 * math.sin(0.37 * k + 1.3 * step + 1) for k in range(n)], dtype=torch.float64)
    y = torch.tensor([(i + step) % 3 for i in range(BATCH)], dtype=torch.int64)
    return x.float().reshape(BATCH, 3, IMAGE_SIZE, IMAGE_SIZE), y


def graft(args, cwd):
    subprocess.run(['node', GRAFT, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def snapshot(run, case):
    sd = run.model.state_dict()
    params = dict(run.model.named_parameters())
    state = run.optimizer.state
    return {
        'params': {n: params[n].detach().clone() for n in case['trainable']},
        'state': {n: {k: v.clone() for k, v in state[params[n]].items()} for n in case['trainable']},
        'buffers': {n: sd[n].clone() for n in case['buffers']},
    }


def continue_case(name, case, work, port):
    out = os.path.join(OUT, name)
    os.makedirs(out)
    with open(os.path.join(out, 'args.json'), 'w') as f:
        json.dump(case['args'], f, indent=2)
        f.write('\n')
    graft(case['args'], work)
    graft(['export-torch', 'run'], work)
    shutil.copy(os.path.join(work, 'run', 'train_torch.py'), os.path.join(out, 'train_torch.py'))

    # The generated script's own rebuild and step, imported as a module.
    spec = importlib.util.spec_from_file_location(f'train_torch_{port}', os.path.join(work, 'run', 'train_torch.py'))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    run = script.restore(steps_per_epoch=STEPS_PER_EPOCH)
    script.set_train_mode(run.model)
    start = snapshot(run, case)
    losses, lrs = [], []
    for step in range(STEPS):
        x, y = batch(step)
        loss, _ = script.train_step(run, x, y)
        losses.append(loss.item())
        lrs.append([g['lr'] for g in run.optimizer.param_groups])
    end = snapshot(run, case)
    optimizer = copy.deepcopy(run.optimizer.state_dict())
    scheduler = None
    next_lrs = []  # where the schedule goes from there (a StepLR decay falls in these 4 steps)
    if run.scheduler is not None:
        scheduler = copy.deepcopy({k: v for k, v in run.scheduler.state_dict().items() if k != 'anneal_func'})
    for _ in range(4):
        if run.scheduler is not None:
            run.scheduler.step()
        next_lrs.append([g['lr'] for g in run.optimizer.param_groups])
    torch.save({
        'steps': STEPS,
        'start': start,
        'end': end,
        'losses': torch.tensor(losses, dtype=torch.float64),
        'lrs': torch.tensor(lrs, dtype=torch.float64),
        'optimizer': optimizer,
        'scheduler': scheduler,
        'next_lrs': torch.tensor(next_lrs, dtype=torch.float64),
    }, os.path.join(out, 'continued.pth'))
    print(f'{name}: losses {losses}')

    # End to end: python, two DDP processes on CPU, and graft loading the result back.
    py = [sys.executable, os.path.join('run', 'train_torch.py'), '--workers', '0']
    subprocess.run([*py, '--epochs', '3', '--out', 'torch'], cwd=work, check=True)
    graft(['finetune', '--resume', os.path.join('torch', 'last.pth'), '--epochs', '4', '--threads', '1'], work)
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), WORLD_SIZE='2')
    procs = [subprocess.Popen([*py, '--epochs', '3', '--out', 'ddp'], cwd=work,
                              env=dict(env, RANK=str(r), LOCAL_RANK=str(r))) for r in range(2)]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f'{name}: the generated script failed under DistributedDataParallel')
    graft(['finetune', '--resume', os.path.join('ddp', 'last.pth'), '--epochs', '4', '--threads', '1'], work)
    print(f'{name}: end to end under python, DDP (2 processes) and graft --resume of both: ok')
    if name == 'sgd-warmup-step':
        continue_amp(work)


def continue_amp(work):
    """An --amp run's script (AMP = True) on the CPU: it trains in float32, says so, and passes the
    checkpoint's GradScaler state on unchanged; graft --resume (without --amp) then says it drops it."""
    with open(os.path.join(work, 'run', 'train_torch.py')) as f:
        text = f.read()
    if '\nAMP = False' not in text:
        raise SystemExit('the generated script has no AMP = False line')
    with open(os.path.join(work, 'run', 'train_amp.py'), 'w') as f:
        f.write(text.replace('\nAMP = False', '\nAMP = True', 1))
    ckpt = torch.load(os.path.join(work, 'run', 'last.pth'))
    scaler = {'scale': 4096.0, 'growth_factor': 2.0, 'backoff_factor': 0.5, 'growth_interval': 2000,
              '_growth_tracker': 7}
    torch.save(dict(ckpt, scaler=scaler), os.path.join(work, 'run', 'last-amp.pth'))
    r = subprocess.run([sys.executable, os.path.join('run', 'train_amp.py'), '--workers', '0', '--epochs', '3',
                        '--checkpoint', os.path.join('run', 'last-amp.pth'), '--out', 'amp'],
                       cwd=work, check=True, capture_output=True, text=True)
    if 'so this continues in float32 on cpu' not in r.stdout:
        raise SystemExit(f'AMP = True on the CPU did not say it trains in float32:\n{r.stdout}')
    if torch.load(os.path.join(work, 'amp', 'last.pth'))['scaler'] != scaler:
        raise SystemExit('AMP = True on the CPU did not pass the GradScaler state on')
    g = subprocess.run(['node', GRAFT, 'finetune', '--resume', os.path.join('amp', 'last.pth'), '--epochs', '4',
                        '--threads', '1'], cwd=work, check=True, capture_output=True, text=True)
    if 'holds the GradScaler of an --amp run (scale 4096)' not in g.stdout:
        raise SystemExit(f'graft --resume did not say it drops the scaler:\n{g.stdout}')
    print('AMP = True on the CPU: float32 with a note, scaler state passed on, graft --resume notes it: ok')


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    write_idx(os.path.join(OUT, 'data'))
    for i, (name, case) in enumerate(CASES.items()):
        work = tempfile.mkdtemp(prefix='graft-continue-')
        try:
            shutil.copytree(os.path.join(OUT, 'data'), os.path.join(work, 'data'))
            continue_case(name, case, work, 29531 + i)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
