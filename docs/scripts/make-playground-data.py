"""Makes the playground's pretrained network and few-shot image set, reproducibly, with real PyTorch.

A narrow CNN (three 3x3 conv + BatchNorm + ReLU stages, global average pooling, a Linear head: about
24k parameters) is pretrained on Fashion-MNIST classes 0-4 (T-shirt/top, Trouser, Pullover, Dress,
Coat) and saved as float32 safetensors, and with torch.save as .pth (zip) and in the legacy format
(.pkl; its storage keys vary from run to run, the rest is byte-identical). A few dozen images of the other five classes (Sandal, Shirt,
Sneaker, Bag, Ankle boot) are written as 28x28 grayscale PNGs in ImageFolder layout, for the page to
fine-tune on. Everything lands in docs/public/playground/ (well under 1 MB).

Run: /usr/bin/python3 docs/scripts/make-playground-data.py   (needs Debian's python3-torch,
python3-numpy and dataset-fashion-mnist). Same seed, same files, on the same torch build.
"""
import gzip, json, os, struct, sys, time, zlib
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

SRC = '/usr/share/datasets/fashion-mnist'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'public', 'playground')
MEAN, STD = 0.2860, 0.3530
TRAIN_PER_CLASS, VAL_PER_CLASS = 8, 20
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
# Folder names of the few-shot classes; ImageFolder numbers classes in sorted folder order.
FOLDERS = {5: 'sandal', 6: 'shirt', 7: 'sneaker', 8: 'bag', 9: 'ankle-boot'}


class SmallNet(nn.Module):
    """The playground's network; docs/.vitepress/playground/small-net.ts builds the same in graft."""

    def __init__(self, num_classes=5):
        super().__init__()
        def stage(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*stage(1, 16), nn.MaxPool2d(2), *stage(16, 32), nn.MaxPool2d(2), *stage(32, 64))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def read_idx(name):
    with gzip.open(os.path.join(SRC, name), 'rb') as f:
        data = f.read()
    ndim = struct.unpack('>I', data[:4])[0] & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def write_png(path, img):
    """An 8-bit grayscale PNG, written by hand so that no image library (and its version) is involved."""
    h, w = img.shape
    raw = b''.join(b'\x00' + img[y].tobytes() for y in range(h))
    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff)
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0))
    png += chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


def save_safetensors(sd, path, metadata):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        t = v.detach().cpu().contiguous()
        arr, dt = (t.float().numpy(), 'F32') if t.is_floating_point() else (t.numpy().astype('<i8'), 'I64')
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


def prep(images):
    return ((torch.from_numpy(images.astype(np.float32) / 255.0) - MEAN) / STD).unsqueeze(1)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get('THREADS', '2')))
    xtr, ytr = read_idx('train-images-idx3-ubyte.gz'), read_idx('train-labels-idx1-ubyte.gz')
    xte, yte = read_idx('t10k-images-idx3-ubyte.gz'), read_idx('t10k-labels-idx1-ubyte.gz')

    # The few-shot set: classes 5-9 from the test split (never seen in pretraining), as PNG folders.
    rng = np.random.RandomState(0)
    index = {'classes': [], 'train': [], 'val': [], 'mean': MEAN, 'std': STD, 'size': 28}
    folders = sorted(FOLDERS.items(), key=lambda kv: kv[1])
    index['classes'] = [CLASSES[c] for c, _ in folders]
    for label, (c, folder) in enumerate(folders):
        idx = rng.permutation(np.where(yte == c)[0])[:TRAIN_PER_CLASS + VAL_PER_CLASS]
        for split, part in (('train', idx[:TRAIN_PER_CLASS]), ('val', idx[TRAIN_PER_CLASS:])):
            d = os.path.join(OUT, 'fewshot', split, folder)
            os.makedirs(d, exist_ok=True)
            for i in part:
                name = f'{i:05d}.png'
                write_png(os.path.join(d, name), xte[i])
                index[split].append([f'fewshot/{split}/{folder}/{name}', label])

    # Pretraining on classes 0-4 of the training split.
    m = ytr < 5
    X, Y = prep(xtr[m]), torch.from_numpy(ytr[m].astype(np.int64))
    mt = yte < 5
    XT, YT = prep(xte[mt]), torch.from_numpy(yte[mt].astype(np.int64))
    model = SmallNet(5)
    epochs, bs = int(os.environ.get('EPOCHS', '3')), 128
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    steps = epochs * (len(X) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(X))
        for i in range(len(X) // bs):
            b = perm[i * bs:(i + 1) * bs]
            loss = F.cross_entropy(model(X[b]), Y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if i % 100 == 0:
                print(f'epoch {ep} step {i} loss {loss.item():.4f} ({time.time() - t0:.0f}s)', flush=True)
    model.eval()
    with torch.no_grad():
        acc = (model(XT).argmax(1) == YT).float().mean().item()
    print(f'pretraining test accuracy (classes 0-4): {acc:.4f}')
    meta = {'format': 'pt', 'arch': 'SmallNet (docs/scripts/make-playground-data.py)', 'num_classes': '5',
            'classes': json.dumps(CLASSES[:5]), 'input': '28x28 grayscale, (x/255 - 0.2860) / 0.3530',
            'test_accuracy': f'{acc:.4f}',
            'recipe': f'SGD nesterov momentum 0.9 wd 5e-4, OneCycle max_lr 0.1, {epochs} epochs, batch {bs}, seed 0'}
    save_safetensors(model.state_dict(), os.path.join(OUT, 'fashion-cnn.safetensors'), meta)
    # The same weights as PyTorch writes them, for the guides that read PyTorch's files: the zip format of
    # torch.save, and the legacy format older PyTorch wrote (and old scripts still save, any extension).
    torch.save(model.state_dict(), os.path.join(OUT, 'fashion-cnn.pth'))
    torch.save(model.state_dict(), os.path.join(OUT, 'fashion-cnn-legacy.pkl'), _use_new_zipfile_serialization=False)
    # A reference for graft: the pretrained network's logits (eval mode) on the first validation images.
    first = [path for path, _ in index['val'][:4]]
    ids = [int(os.path.basename(p)[:-4]) for p in first]
    with torch.no_grad():
        logits = model(prep(xte[ids])).tolist()
    index['pretrained'] = {'file': 'fashion-cnn.safetensors', 'classes': CLASSES[:5], 'test_accuracy': round(acc, 4),
                           'check': {'images': first, 'logits': [[round(v, 5) for v in row] for row in logits]}}
    with open(os.path.join(OUT, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    print('wrote', os.path.normpath(OUT))


if __name__ == '__main__':
    main()
