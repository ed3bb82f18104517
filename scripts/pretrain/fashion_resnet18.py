"""Makes the demo's pretrained checkpoint and few-shot data, reproducibly, with real PyTorch.

A torchvision ResNet-18 (5 outputs) is trained on Fashion-MNIST classes 0-4 (28x28 grayscale,
zero-padded to 32x32, replicated to 3 channels, normalised with mean 0.2860 / std 0.3530) and saved
as float16 safetensors. The few-shot split of classes 5-9 (relabelled 0-4) is written as IDX files.

Run: /usr/bin/python3 scripts/pretrain/fashion_resnet18.py   (needs python3-torch, python3-torchvision,
dataset-fashion-mnist from Debian). Output: apps/cli/demo/.
"""
import gzip, json, os, struct, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision

SRC = '/usr/share/datasets/fashion-mnist'
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'apps', 'cli', 'demo')
MEAN, STD = 0.2860, 0.3530
TRAIN_PER_CLASS, TEST_PER_CLASS = 20, 100
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']

def read_idx(name):
    with gzip.open(os.path.join(SRC, name), 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)

def write_idx(path, arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack('>I', 0x0800 | arr.ndim) + struct.pack('>' + 'I' * arr.ndim, *arr.shape)
    # mtime=0 keeps the gzip bytes reproducible
    with open(path, 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb', mtime=0) as f:
        f.write(header + arr.tobytes())

def prep(images):
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    x = F.pad(x, (2, 2, 2, 2))
    x = (x - MEAN) / STD
    return x.expand(-1, 3, -1, -1).contiguous()

def save_safetensors_f16(sd, path, metadata):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        t = v.detach().cpu()
        if t.is_floating_point():
            arr, dt = t.half().numpy(), 'F16'
        else:
            arr, dt = t.numpy().astype('<i8'), 'I64'
        b = arr.tobytes()
        header[k] = {'dtype': dt, 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for b in blobs:
            f.write(b)

def main():
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(int(os.environ.get('THREADS', '1')))
    os.makedirs(OUT, exist_ok=True)
    xtr, ytr = read_idx('train-images-idx3-ubyte.gz'), read_idx('train-labels-idx1-ubyte.gz')
    xte, yte = read_idx('t10k-images-idx3-ubyte.gz'), read_idx('t10k-labels-idx1-ubyte.gz')

    # Few-shot split of classes 5-9, relabelled 0-4.
    rng = np.random.RandomState(0)
    def pick(x, y, per):
        idx = np.concatenate([rng.permutation(np.where(y == c)[0])[:per] for c in range(5, 10)])
        idx = idx[rng.permutation(len(idx))]
        return x[idx], (y[idx] - 5).astype(np.uint8)
    fx, fy = pick(xtr, ytr, TRAIN_PER_CLASS)
    tx, ty = pick(xte, yte, TEST_PER_CLASS)
    write_idx(os.path.join(OUT, 'train-images-idx3-ubyte.gz'), fx)
    write_idx(os.path.join(OUT, 'train-labels-idx1-ubyte.gz'), fy)
    write_idx(os.path.join(OUT, 't10k-images-idx3-ubyte.gz'), tx)
    write_idx(os.path.join(OUT, 't10k-labels-idx1-ubyte.gz'), ty)
    with open(os.path.join(OUT, 'classes.json'), 'w') as f:
        json.dump(CLASSES[5:], f)

    # Pretraining on classes 0-4.
    m = ytr < 5
    X, Y = prep(xtr[m]), torch.from_numpy(ytr[m].astype(np.int64))
    mt = yte < 5
    XT, YT = prep(xte[mt]), torch.from_numpy(yte[mt].astype(np.int64))
    model = torchvision.models.resnet18(num_classes=5)
    epochs, bs = int(os.environ.get('EPOCHS', '2')), 128
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    steps = epochs * (len(X) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(X))
        for i in range(len(X) // bs):
            b = perm[i * bs:(i + 1) * bs]
            xb = X[b]
            if torch.rand(()) < 0.5:
                xb = xb.flip(3)
            loss = F.cross_entropy(model(xb), Y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if i % 50 == 0:
                print(f'epoch {ep} step {i} loss {loss.item():.4f} ({time.time() - t0:.0f}s)', flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum((model(XT[i:i + 500]).argmax(1) == YT[i:i + 500]).sum().item() for i in range(0, len(XT), 500))
    acc = correct / len(XT)
    print(f'pretraining test accuracy (classes 0-4): {acc:.4f}')
    meta = {'format': 'pt', 'arch': 'resnet18', 'num_classes': '5', 'classes': json.dumps(CLASSES[:5]),
            'input': '28x28 grayscale zero-padded to 32x32, replicated to 3 channels, (x/255 - 0.2860) / 0.3530',
            'test_accuracy': f'{acc:.4f}', 'recipe': f'SGD nesterov momentum 0.9 wd 5e-4, OneCycle max_lr 0.1, {epochs} epochs, batch {bs}, seed 0'}
    save_safetensors_f16(model.state_dict(), os.path.join(OUT, 'resnet18-fashion-0to4.safetensors'), meta)
    print('wrote', OUT)

if __name__ == '__main__':
    main()
