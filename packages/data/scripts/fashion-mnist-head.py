# Cuts the first records of Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist) into small
# valid IDX gzip files, in Debian's file layout, plus reference values read with Python's gzip module
# (labels, pixel sums, SHA-256 of each image's bytes) for packages/data/src/idx.test.ts.
#
#   /usr/bin/python3 packages/data/scripts/fashion-mnist-head.py
#
# Byte-reproducible: gzip with mtime 0 and no stored file name.
import gzip
import hashlib
import io
import json
import os
import struct

SRC = '/usr/share/datasets/fashion-mnist'
OUT = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'fashion-mnist-head')
COUNTS = {'train': 20, 't10k': 10}


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack('>HBB', data[:4])
    assert zero == 0 and dtype == 0x08, path
    dims = list(struct.unpack('>' + 'I' * ndim, data[4 : 4 + 4 * ndim]))
    return dims, data[4 + 4 * ndim :]


def write_idx(path, dims, body):
    raw = struct.pack('>HBB', 0, 0x08, len(dims)) + struct.pack('>' + 'I' * len(dims), *dims) + body
    buf = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=buf, mtime=0, compresslevel=9) as g:
        g.write(raw)
    with open(path, 'wb') as f:
        f.write(buf.getvalue())


os.makedirs(OUT, exist_ok=True)
reference = {'source': 'Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1', 'splits': {}}
for split, n in COUNTS.items():
    (count, rows, cols), pixels = read_idx(os.path.join(SRC, f'{split}-images-idx3-ubyte.gz'))
    (label_count,), labels = read_idx(os.path.join(SRC, f'{split}-labels-idx1-ubyte.gz'))
    assert count == label_count
    size = rows * cols
    write_idx(os.path.join(OUT, f'{split}-images-idx3-ubyte.gz'), [n, rows, cols], pixels[: n * size])
    write_idx(os.path.join(OUT, f'{split}-labels-idx1-ubyte.gz'), [n], labels[:n])
    images = [pixels[i * size : (i + 1) * size] for i in range(n)]
    reference['splits'][split] = {
        'fullLength': count,
        'length': n,
        'height': rows,
        'width': cols,
        'labels': list(labels[:n]),
        'pixelSums': [sum(im) for im in images],
        'sha256': [hashlib.sha256(im).hexdigest() for im in images],
    }

with open(os.path.join(OUT, 'reference.json'), 'w') as f:
    json.dump(reference, f, indent=1)
    f.write('\n')
