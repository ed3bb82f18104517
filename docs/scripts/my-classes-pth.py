"""PyTorch's view of the playground's "your own classes" checkpoint, and a check of graft's downloads.

The playground downloads a model trained on your classes as `my-classes.pth`:
`{'state_dict': OrderedDict, 'classes': [str, ...], 'input': str}`. This script

  (no arguments)   writes docs/test/fixtures/my-classes-torch.json: what torch.load(weights_only=True)
                   returns for such a checkpoint that torch.save wrote (top-level keys and types, the state
                   dict's keys, shapes and dtypes in order, its _metadata versions, the classes), for a
                   SmallNet of three classes. test/playground.test.ts compares graft's file against it.
  --verify PTH [SAFETENSORS]
                   loads a file graft wrote (the browser test keeps its downloads in docs/test-results/)
                   with torch.load(weights_only=True), checks it against the same description, loads the
                   state dict strictly into the PyTorch SmallNet and runs it; with the safetensors file
                   too, checks that both hold the same numbers and the same class names.

Run: /usr/bin/python3 docs/scripts/my-classes-pth.py [--verify docs/test-results/my-classes.pth
     docs/test-results/my-classes.safetensors]   (needs Debian's python3-torch)
"""
import collections, importlib.util, io, json, os, struct, sys
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, '..', 'test', 'fixtures', 'my-classes-torch.json')
CLASSES = ['thumbs up', 'thumbs down', 'neither']


def small_net(num_classes):
    spec = importlib.util.spec_from_file_location('playground_data', os.path.join(HERE, 'make-playground-data.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SmallNet(num_classes)


def describe(ckpt):
    """The checkpoint's structure as torch.load returned it, with the class count factored out of shapes."""
    sd, classes = ckpt['state_dict'], ckpt['classes']
    n = len(classes)
    return {
        'keys': list(ckpt.keys()),
        'types': {k: type(v).__name__ for k, v in ckpt.items()},
        'classes_item_types': sorted({type(c).__name__ for c in classes}),
        'state_dict': [[k, ['classes' if (k.startswith('fc.') and i == 0 and d == n) else d
                            for i, d in enumerate(v.shape)], str(v.dtype).replace('torch.', '')]
                       for k, v in sd.items()],
        'metadata': {k: dict(v) for k, v in getattr(sd, '_metadata', {}).items()},
    }


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    dtypes = {'F32': torch.float32, 'I64': torch.int64}
    tensors = {}
    for k, e in header.items():
        a, b = e['data_offsets']
        raw = bytearray(data[8 + n + a:8 + n + b])
        tensors[k] = torch.frombuffer(raw, dtype=dtypes[e['dtype']]).reshape(e['shape']) if raw else \
            torch.zeros(e['shape'], dtype=dtypes[e['dtype']])
    return tensors, meta


def generate():
    torch.manual_seed(0)
    model = small_net(len(CLASSES))
    buf = io.BytesIO()
    torch.save({'state_dict': model.state_dict(), 'classes': CLASSES, 'input': 'a description'}, buf)
    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)
    out = {'torch': torch.__version__, 'classes': ckpt['classes'], **describe(ckpt)}
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print('wrote', os.path.normpath(FIXTURE))


def verify(pth, safetensors=None):
    with open(FIXTURE) as f:
        expected = json.load(f)
    ckpt = torch.load(pth, weights_only=True)
    got = describe(ckpt)
    for key in ('keys', 'types', 'classes_item_types', 'state_dict', 'metadata'):
        if got[key] != expected[key]:
            sys.exit(f'{pth}: {key}: expected {expected[key]}, got {got[key]}')
    if not isinstance(ckpt['state_dict'], collections.OrderedDict):
        sys.exit(f'{pth}: state_dict: expected an OrderedDict, got {type(ckpt["state_dict"]).__name__}')
    classes = ckpt['classes']
    model = small_net(len(classes))
    model.load_state_dict(ckpt['state_dict'], strict=True)
    model.eval()
    with torch.no_grad():
        probs = model(torch.zeros(1, 1, 28, 28)).softmax(1)
    print(f'{pth}: torch {torch.__version__} loads it (weights_only=True); classes {classes}; '
          f'{len(ckpt["state_dict"])} tensors; strict load_state_dict OK; probabilities on a blank image {probs.tolist()}')
    if safetensors:
        tensors, meta = read_safetensors(safetensors)
        if json.loads(meta.get('classes', 'null')) != classes:
            sys.exit(f'{safetensors}: classes: expected {classes}, got {meta.get("classes")}')
        if sorted(tensors) != sorted(ckpt['state_dict']):
            sys.exit(f'{safetensors}: keys: expected {sorted(ckpt["state_dict"])}, got {sorted(tensors)}')
        for k, v in ckpt['state_dict'].items():
            if not torch.equal(tensors[k], v):
                sys.exit(f'{safetensors}: {k}: the numbers differ from {pth}')
        print(f'{safetensors}: same class names and the same {len(tensors)} tensors, bit for bit')


if __name__ == '__main__':
    args = sys.argv[1:]
    if not args:
        generate()
    elif args[0] == '--verify' and 2 <= len(args) <= 3:
        verify(*args[1:])
    else:
        sys.exit(__doc__)
