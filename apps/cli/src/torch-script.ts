// The Python script `graft export-torch` writes: a run's model, parameter groups, optimizer and schedule
// rebuilt in PyTorch, restored from last.pth, and a training loop for `python` or `torchrun` (DDP).

import type { FinetuneOptions } from './options.js';

/** What the script needs to know about a run; every value comes from its config.json and last.pth. */
export interface TorchScriptRecipe
  extends Pick<
    FinetuneOptions,
    | 'bn'
    | 'optimizer'
    | 'lr'
    | 'headLr'
    | 'momentum'
    | 'nesterov'
    | 'weightDecay'
    | 'scheduler'
    | 'warmup'
    | 'stepSize'
    | 'gamma'
    | 'epochs'
    | 'batchSize'
    | 'imageSize'
    | 'augment'
    | 'valSplit'
    | 'seed'
    | 'amp'
  > {
  model: string;
  head: 'replace' | 'cut';
  numClasses: number;
  classes: string[];
  /** Name prefix of the new head's parameters ('fc.' or e.g. '10.'). */
  headPrefix: string;
  /** Parameter-name prefixes that are frozen, in the model's own names. */
  frozenPrefixes: string[];
  data: string;
  /** Checkpoint file name, relative to the script's folder. */
  checkpoint: string;
  /** Parameters per optimizer group in the checkpoint, checked again when the script loads it. */
  groupSizes: number[];
}

/** A JSON-like value as a Python literal (JSON strings are valid Python strings). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`pyLiteral: cannot write ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  throw new Error(`pyLiteral: cannot write ${typeof v}`);
}

/** The script's text: deterministic for a given recipe, so it can be regenerated and compared. */
export function torchScript(r: TorchScriptRecipe): string {
  const c = (v: unknown) => pyLiteral(v);
  return `#!/usr/bin/env python3
"""Continues a graft fine-tuning run in PyTorch. Written by \`graft export-torch\`; edit freely.

  python train_torch.py                                # CPU, or the first GPU, until the run's epochs
  python train_torch.py --epochs 10 --out more         # train longer, write elsewhere
  torchrun --nproc_per_node 4 train_torch.py           # DistributedDataParallel, one process per GPU

It rebuilds the run's model (torchvision's ${r.model} with the run's new head), its parameter groups,
optimizer and learning-rate schedule, loads the weights, the optimizer state (momentum or Adam buffers)
and the scheduler state from ${r.checkpoint}, and trains on the run's data with the same transforms.
OUT/last.pth has graft's checkpoint layout: \`graft finetune --resume OUT/last.pth\` continues in graft,
\`graft evaluate --run OUT --checkpoint OUT/last.pth\` evaluates it. OUT/best.pth holds the weights of an
epoch that beats the run's best validation accuracy, once one does.

Under torchrun every process reads its share of each epoch (DistributedSampler) with a batch of
BATCH_SIZE / WORLD_SIZE, so the global batch and the steps per epoch stay the run's. BatchNorm statistics
are per process unless --sync-bn is given. Data order differs from graft's (torch's own shuffling).
"""

import argparse
import contextlib
import gzip
import json
import math
import os
import struct
import time
from collections import namedtuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))

# The run's recipe, from its config.json.
MODEL = ${c(r.model)}
HEAD = ${c(r.head)}  # 'replace': model.fc; 'cut': children()[:-1] + Flatten + Linear
NUM_CLASSES = ${c(r.numClasses)}
CLASSES = ${c(r.classes)}
HEAD_PREFIX = ${c(r.headPrefix)}
FROZEN_PREFIXES = ${c(r.frozenPrefixes)}
BN = ${c(r.bn)}  # 'eval': BatchNorm layers whose parameters are all frozen stay in eval mode
OPTIMIZER = ${c(r.optimizer)}
LR = ${c(r.lr)}
HEAD_LR = ${c(r.headLr)}  # None: one parameter group
MOMENTUM = ${c(r.momentum)}
NESTEROV = ${c(r.nesterov)}
WEIGHT_DECAY = ${c(r.weightDecay)}
SCHEDULER = ${c(r.scheduler)}
WARMUP = ${c(r.warmup)}  # epochs
STEP_SIZE = ${c(r.stepSize)}  # epochs
GAMMA = ${c(r.gamma)}
EPOCHS = ${c(r.epochs)}
BATCH_SIZE = ${c(r.batchSize)}
IMAGE_SIZE = ${c(r.imageSize)}
AUGMENT = ${c(r.augment)}
VAL_SPLIT = ${c(r.valSplit)}
SEED = ${c(r.seed)}
AMP = ${c(r.amp)}  # --amp: autocast (float16) and a GradScaler; PyTorch's float16 autocast needs CUDA
DATA = ${c(r.data)}  # a relative folder is relative to where graft ran
CHECKPOINT = os.path.join(HERE, ${c(r.checkpoint)})
GROUP_SIZES = ${c(r.groupSizes)}  # parameters per optimizer group in the checkpoint

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
FASHION_MEAN = 0.286
FASHION_STD = 0.353


def build_model():
    """torchvision's architecture with the run's new head; the weights come from the checkpoint."""
    net = getattr(torchvision.models, MODEL)(weights=None)
    head = nn.Linear(net.fc.in_features, NUM_CLASSES)
    if HEAD == 'replace':
        net.fc = head
        return net
    return nn.Sequential(*list(net.children())[:-1], nn.Flatten(), head)


def is_frozen(name):
    return any(name == p or name.startswith(p + '.') for p in FROZEN_PREFIXES)


def param_groups(model):
    """graft's groups: trainable parameters in model order; with HEAD_LR the head is a second group."""
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    head = [p for n, p in trainable if n.startswith(HEAD_PREFIX)]
    body = [p for n, p in trainable if not n.startswith(HEAD_PREFIX)]
    if HEAD_LR is None:
        return [{'params': body + head}]
    return ([{'params': body}] if body else []) + [{'params': head, 'lr': HEAD_LR}]


def build_optimizer(model):
    groups = param_groups(model)
    sizes = [len(g['params']) for g in groups]
    if sizes != GROUP_SIZES:
        raise SystemExit(f'parameter groups of {sizes} parameters, but the checkpoint has {GROUP_SIZES}')
    if OPTIMIZER == 'sgd':
        return torch.optim.SGD(groups, lr=LR, momentum=MOMENTUM, nesterov=NESTEROV, weight_decay=WEIGHT_DECAY)
    if OPTIMIZER == 'adam':
        return torch.optim.Adam(groups, lr=LR, weight_decay=WEIGHT_DECAY)
    return torch.optim.AdamW(groups, lr=LR, weight_decay=WEIGHT_DECAY)


def build_scheduler(optimizer, steps_per_epoch):
    """The per-step schedule graft built; load_state_dict then puts it where the run left it."""
    S = torch.optim.lr_scheduler
    total = EPOCHS * steps_per_epoch
    warm = min(math.floor(WARMUP * steps_per_epoch + 0.5), total - 1)
    if SCHEDULER == 'none':
        return None
    if SCHEDULER == 'onecycle':
        return S.OneCycleLR(optimizer, max_lr=[g['lr'] for g in optimizer.param_groups], total_steps=total)
    if SCHEDULER == 'step':
        main = S.StepLR(optimizer, step_size=STEP_SIZE * steps_per_epoch, gamma=GAMMA)
    else:
        main = S.CosineAnnealingLR(optimizer, T_max=max(total - warm, 1))
    if warm == 0:
        return main
    warmup = S.LinearLR(optimizer, start_factor=0.01, end_factor=1, total_iters=warm)
    return S.SequentialLR(optimizer, schedulers=[warmup, main], milestones=[warm])


Run = namedtuple('Run', 'model optimizer scheduler scaler checkpoint')


def restore(checkpoint=CHECKPOINT, steps_per_epoch=1, device='cpu'):
    """The run as graft left it: model, optimizer and scheduler with the checkpoint's state."""
    ckpt = torch.load(checkpoint, map_location='cpu')
    model = build_model()
    model.load_state_dict(ckpt['model'])
    for name, p in model.named_parameters():
        p.requires_grad = not is_frozen(name)
    model.to(device)
    optimizer = build_optimizer(model)
    scheduler = build_scheduler(optimizer, steps_per_epoch)
    # After the scheduler: building one writes the learning rates that the checkpoint restores.
    optimizer.load_state_dict(ckpt['optimizer'])
    if scheduler is not None and ckpt.get('scheduler') is not None:
        scheduler.load_state_dict(ckpt['scheduler'])
    # graft's GradScaler state has PyTorch's keys; disabled (a no-op) unless AMP and CUDA.
    scaler = torch.cuda.amp.GradScaler(enabled=AMP and torch.device(device).type == 'cuda')
    if scaler.is_enabled() and ckpt.get('scaler'):
        scaler.load_state_dict(ckpt['scaler'])
    return Run(model, optimizer, scheduler, scaler, ckpt)


def set_train_mode(model):
    model.train()
    if BN == 'eval':
        for m in model.modules():
            params = list(m.parameters(recurse=False))
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and params and not any(p.requires_grad for p in params):
                m.eval()


def autocast(device, enabled):
    """float16 autocast where AMP runs (CUDA); elsewhere nothing (CPU autocast takes bfloat16 only)."""
    return torch.autocast(device.type, dtype=torch.float16) if enabled else contextlib.nullcontext()


def train_step(run, x, y, forward=None):
    """One step as graft takes it: cross-entropy, backward, optimizer step, scheduler step (under AMP:
    forward and loss in autocast, backward and step through the GradScaler)."""
    with autocast(x.device, run.scaler.is_enabled()):
        logits = (forward or run.model)(x)
        loss = F.cross_entropy(logits, y)
    run.optimizer.zero_grad()
    run.scaler.scale(loss).backward()
    run.scaler.step(run.optimizer)
    run.scaler.update()
    if run.scheduler is not None:
        run.scheduler.step()
    return loss.detach(), logits.detach()


# ---- data: the run's source and transforms ----


def find_idx(root, name):
    for folder in (root, os.path.join(root, 'FashionMNIST', 'raw')):
        for file in (name, name + '.gz'):
            if os.path.exists(os.path.join(folder, file)):
                return os.path.join(folder, file)
    raise SystemExit(f'{name} (or {name}.gz) not found in {root}')


def read_idx(path):
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    shape = struct.unpack('>' + 'i' * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(shape)


def idx_split(root, split):
    """IDX images as graft reads them: scaled to [0, 1], padded (or resized) to IMAGE_SIZE, normalised, 3 channels."""
    x = read_idx(find_idx(root, split + '-images-idx3-ubyte')).float().div(255).unsqueeze(1)
    y = read_idx(find_idx(root, split + '-labels-idx1-ubyte')).long()
    h, w = x.shape[2], x.shape[3]
    if IMAGE_SIZE >= h and IMAGE_SIZE >= w:
        top, left = (IMAGE_SIZE - h) // 2, (IMAGE_SIZE - w) // 2
        x = F.pad(x, (left, IMAGE_SIZE - w - left, top, IMAGE_SIZE - h - top))
    else:
        x = T.functional.resize(x, [IMAGE_SIZE, IMAGE_SIZE], antialias=True)
    x = ((x - FASHION_MEAN) / FASHION_STD).expand(-1, 3, -1, -1).contiguous()
    return torch.utils.data.TensorDataset(x, y)


def datasets(data):
    """(train, val) from an ImageFolder root or 'fashion-mnist[:DIR]', as graft's --data reads them."""
    if data == 'fashion-mnist' or data.startswith('fashion-mnist:'):
        root = data.split(':', 1)[1] if ':' in data else '/usr/share/datasets/fashion-mnist'
        return idx_split(root, 'train'), idx_split(root, 't10k')
    resize = math.floor(IMAGE_SIZE * 256 / 224 + 0.5)  # JavaScript's Math.round, as graft rounds
    normalize = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    eval_t = T.Compose([T.Resize(resize), T.CenterCrop(IMAGE_SIZE), T.ToTensor(), normalize])
    train_t = eval_t
    if AUGMENT:
        train_t = T.Compose([T.RandomResizedCrop(IMAGE_SIZE), T.RandomHorizontalFlip(), T.ToTensor(), normalize])
    folder = torchvision.datasets.ImageFolder
    val_dir = next((os.path.join(data, d) for d in ('val', 'test') if os.path.isdir(os.path.join(data, d))), None)
    if os.path.isdir(os.path.join(data, 'train')) and val_dir:
        return folder(os.path.join(data, 'train'), train_t), folder(val_dir, eval_t)
    # One folder split by VAL_SPLIT: torch draws its own split, not graft's.
    n = len(folder(data))
    n_val = math.floor(n * VAL_SPLIT + 0.5)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(SEED)).tolist()
    train = torch.utils.data.Subset(folder(data, train_t), perm[n_val:])
    return train, torch.utils.data.Subset(folder(data, eval_t), perm[:n_val])


# ---- training ----


def evaluate(model, data, batch_size, device, amp=False):
    model.eval()
    loss, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(data, batch_size=batch_size):
            x, y = x.to(device), y.to(device)
            with autocast(x.device, amp):
                logits = model(x)
            loss += F.cross_entropy(logits.float(), y, reduction='sum').item()
            correct += (logits.argmax(1) == y).sum().item()
            n += y.shape[0]
    return loss / max(n, 1), correct / max(n, 1)


def save_checkpoint(path, run, epoch, config, metrics, best):
    """graft's last.pth layout, so that \`graft finetune --resume\` continues from it."""
    scheduler = None
    if run.scheduler is not None:
        scheduler = {k: v for k, v in run.scheduler.state_dict().items() if k != 'anneal_func'}
    torch.save({
        'epoch': epoch,
        'model': run.model.state_dict(),
        'optimizer': run.optimizer.state_dict(),
        'scheduler': scheduler,
        # An --amp run's scale goes on: from this scaler where it ran, else as the checkpoint had it.
        'scaler': run.scaler.state_dict() if run.scaler.is_enabled() else run.checkpoint.get('scaler'),
        'rng': run.checkpoint.get('rng'),
        'config': config,
        'metrics': metrics,
        'best': best,
    }, path + '.tmp')
    os.replace(path + '.tmp', path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split(chr(10))[0])
    parser.add_argument('--checkpoint', default=CHECKPOINT, help='graft checkpoint to continue (default: last.pth here)')
    parser.add_argument('--data', default=DATA, help="ImageFolder root or 'fashion-mnist[:DIR]' (default: the run's)")
    parser.add_argument('--epochs', type=int, default=EPOCHS, help="train until this epoch (default: the run's)")
    parser.add_argument('--steps', type=int, default=None, help='stop after this many steps (a smoke test; the epoch is saved as done)')
    parser.add_argument('--batch-size', type=int, default=None, help='per-process batch (default: BATCH_SIZE / WORLD_SIZE)')
    parser.add_argument('--out', default=os.path.join(HERE, 'torch'), help='output folder (default: ./torch here)')
    parser.add_argument('--device', default=None, help='cpu, cuda, cuda:1, ... (default: cuda if available)')
    parser.add_argument('--workers', type=int, default=2, help='DataLoader worker processes')
    parser.add_argument('--sync-bn', action='store_true', help='synchronise BatchNorm statistics across processes')
    args = parser.parse_args(argv)

    world = int(os.environ.get('WORLD_SIZE', '1'))
    distributed = world > 1
    if distributed:
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
        local = int(os.environ.get('LOCAL_RANK', '0'))
        device = torch.device('cuda', local) if torch.cuda.is_available() else torch.device('cpu')
        if device.type == 'cuda':
            torch.cuda.set_device(device)
    else:
        device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    rank = dist.get_rank() if distributed else 0
    torch.manual_seed(SEED + rank)

    train_set, val_set = datasets(args.data)
    batch_size = args.batch_size or max(1, BATCH_SIZE // world)
    sampler = torch.utils.data.DistributedSampler(train_set, shuffle=True, seed=SEED) if distributed else None
    loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=sampler is None, sampler=sampler,
                                         num_workers=args.workers, pin_memory=device.type == 'cuda')
    run = restore(args.checkpoint, len(loader), device)
    model = run.model
    if AMP and not run.scaler.is_enabled() and rank == 0:
        print(f'note: the run trained with --amp; float16 autocast needs CUDA, so this continues in float32 on {device}',
              flush=True)
    if distributed:
        if args.sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None)
    config = dict(run.checkpoint['config'], epochs=args.epochs, out=args.out, resume=None)
    metrics = list(run.checkpoint.get('metrics') or [])
    best = run.checkpoint.get('best')
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, 'config.json'), 'w') as f:
            json.dump(config, f, indent=2)
    steps = 0
    for epoch in range(run.checkpoint['epoch'] + 1, args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        set_train_mode(model)
        t0 = time.time()
        loss_sum, correct, seen = 0.0, 0, 0
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss, logits = train_step(run, x, y, forward=model)
            loss_sum += loss.item() * y.shape[0]
            correct += (logits.argmax(1) == y).sum().item()
            seen += y.shape[0]
            steps += 1
            if args.steps is not None and steps >= args.steps:
                break
        train_secs = time.time() - t0
        if distributed:
            totals = torch.tensor([loss_sum, correct, seen], dtype=torch.float64, device=device)
            dist.all_reduce(totals)
            loss_sum, correct, seen = totals.tolist()
        if rank == 0:
            val_loss, val_acc = evaluate(run.model, val_set, batch_size, device, run.scaler.is_enabled())
            row = {'epoch': epoch, 'trainLoss': loss_sum / max(seen, 1), 'trainAccuracy': correct / max(seen, 1),
                   'valLoss': val_loss, 'valAccuracy': val_acc, 'lr': [g['lr'] for g in run.optimizer.param_groups],
                   'seconds': time.time() - t0, 'imagesPerSecond': seen / max(train_secs, 1e-9)}
            metrics.append(row)
            if best is None or val_acc > best['accuracy']:
                best = {'epoch': epoch, 'accuracy': val_acc}
                torch.save(run.model.state_dict(), os.path.join(args.out, 'best.pth'))
            save_checkpoint(os.path.join(args.out, 'last.pth'), run, epoch, config, metrics, best)
            with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
                json.dump(metrics, f, indent=2)
            print(f"epoch {epoch}/{args.epochs}  train loss {row['trainLoss']:.4f} acc {100 * row['trainAccuracy']:.1f}%  "
                  f"val loss {val_loss:.4f} acc {100 * val_acc:.1f}%", flush=True)
        if distributed:
            dist.barrier()
        if args.steps is not None and steps >= args.steps:
            break
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
`;
}
