"""Golden fixtures for @graft/models: torchvision's ResNets, their weights metadata and numerics.

Run from the repository root with Debian's PyTorch (torch 1.13, torchvision 0.14):

    /usr/bin/python3 scripts/golden/models.py

No internet is needed: the architecture fixtures are built with weights=None and a seeded random
init; the numerics use the demo's pretrained checkpoint, apps/cli/demo/resnet18-fashion-0to4.safetensors
(a float16 ResNet-18 with a 5-class head, made by scripts/pretrain/fashion_resnet18.py), and the first
images of the demo's few-shot data, so the repository holds one ResNet-18 checkpoint, not two.

Writes
  packages/models/fixtures/repr_{resnet18,resnet34,resnet50,resnet18_fc2}.txt  str(model)
  packages/models/fixtures/architectures.json   state_dict keys/shapes/dtypes, parameter and
                                                buffer names, module tree, parameter counts
  packages/models/fixtures/weights_meta.json    the weights enums' url, meta and transforms repr
  packages/models/fixtures/resnet18_numerics.safetensors   inputs (float32) and the new head
  packages/models/fixtures/resnet18_numerics.json          the demo checkpoint's sha256, expected eval
      logits (its own 5-class head, and a deterministic 1000-class head on its body that the tests
      rebuild for ImageNet-shaped loads) and three SGD steps
  packages/models/src/imagenet-categories.ts               the 1000 ImageNet class names

The expected numbers are computed in float64 from the float16 weights (which are exact in float32
and float64), so they are the exact answer that a float32 implementation approximates; the float32
PyTorch result's distance to it is recorded too, as a yardstick for tolerances.
"""

import gzip
import hashlib
import json
import os
import struct

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models import (
    ResNet18_Weights,
    ResNet34_Weights,
    ResNet50_Weights,
    resnet18,
    resnet34,
    resnet50,
)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PKG = os.path.join(ROOT, "packages", "models")
OUT = os.path.join(PKG, "fixtures")

ST_DTYPES = {torch.float16: "F16", torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer (the pip package is not installed here): header JSON padded
    with spaces to a multiple of 8 bytes, then the tensors' little-endian bytes in order."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes() if t.dim() > 0 else t.reshape(1).numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def architecture(model):
    sd = model.state_dict()
    return {
        "state_dict": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()],
        "parameters": [[k, list(p.shape)] for k, p in model.named_parameters()],
        "buffers": [[k, list(b.shape)] for k, b in model.named_buffers()],
        "modules": [[k, type(m).__name__] for k, m in model.named_modules()],
        "num_params": sum(p.numel() for p in model.parameters()),
        "num_state_dict_keys": len(sd),
    }


def compact_json(value, indent=""):
    """JSON with one line per list item (state_dict rows stay one line each): small, and diffs well."""
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {compact_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        items = [inner + json.dumps(v, separators=(",", ":")) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    return json.dumps(value, separators=(",", ":"))


def weights_meta(entry):
    meta = entry.meta
    preset = entry.transforms()
    return {
        "url": entry.url,
        "file_name": entry.url.rsplit("/", 1)[-1],
        "num_params": meta["num_params"],
        "min_size": list(meta["min_size"]),
        "recipe": meta["recipe"],
        "docs": meta["_docs"],
        "metrics": meta["_metrics"],
        "num_categories": len(meta["categories"]),
        "transforms_repr": repr(preset),
        "crop_size": preset.crop_size,
        "resize_size": preset.resize_size,
        "mean": preset.mean,
        "std": preset.std,
        "interpolation": preset.interpolation.value,
    }


DEMO_DIR = os.path.join(ROOT, "apps", "cli", "demo")
DEMO_WEIGHTS = "apps/cli/demo/resnet18-fashion-0to4.safetensors"
# The demo's input pipeline (scripts/pretrain/fashion_resnet18.py): 28x28 grayscale zero-padded to 32x32,
# replicated to 3 channels, normalised.
FASHION_MEAN, FASHION_STD = 0.2860, 0.3530
ST_TORCH = {name: dtype for dtype, name in ST_DTYPES.items()}


def read_safetensors(path):
    """The tensors of a safetensors file, in file order (the reader twin of write_safetensors)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        start, stop = info["data_offsets"]
        flat = torch.frombuffer(bytearray(body[start:stop]), dtype=ST_TORCH[info["dtype"]])
        out[name] = flat.reshape(info["shape"]).clone()
    return out


def read_idx_gz(name):
    with gzip.open(os.path.join(DEMO_DIR, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def demo_images(images):
    x = images.to(torch.float32).div(255).unsqueeze(1)
    x = F.pad(x, (2, 2, 2, 2))
    x = (x - FASHION_MEAN) / FASHION_STD
    return x.expand(-1, 3, -1, -1).contiguous()


def imagenet_head():
    """The deterministic 1000-class head that the tests put on the demo body to get an ImageNet-shaped
    ResNet-18 (packages/models/src/test-utils/demo-checkpoint.ts builds the same): small integers over
    powers of two, exact in float16."""
    i = torch.arange(1000, dtype=torch.int64).reshape(-1, 1)
    j = torch.arange(512, dtype=torch.int64).reshape(1, -1)
    weight = ((i * 37 + j * 11) % 61 - 30).to(torch.float64) / 2048
    bias = ((torch.arange(1000, dtype=torch.int64) * 7) % 23 - 11).to(torch.float64) / 512
    return weight, bias


def max_rel(a, b):
    a = a.double()
    b = b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def train_three_steps(model, head_w, head_b, x, y, dtype):
    model = model.to(dtype)
    model.fc = nn.Linear(512, head_w.shape[0])
    with torch.no_grad():
        model.fc.weight.copy_(head_w)
        model.fc.bias.copy_(head_b)
    model = model.to(dtype)
    model.train()
    body = [p for n, p in model.named_parameters() if not n.startswith("fc.")]
    opt = torch.optim.SGD(
        [{"params": body}, {"params": model.fc.parameters(), "lr": 0.001}],
        lr=0.0001,
        momentum=0.9,
        nesterov=True,
        weight_decay=1e-4,
    )
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x.to(dtype)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        eval_logits = model(x.to(dtype))
    return model, losses, eval_logits


# Parameter and buffer slices checked after the three steps: [key, python slice as [start, stop] on the flat tensor or None for all].
TRACKED = [
    "fc.weight",
    "fc.bias",
    "conv1.weight",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "bn1.num_batches_tracked",
    "layer1.0.conv1.weight",
    "layer1.0.bn2.running_var",
    "layer2.0.downsample.0.weight",
    "layer2.0.downsample.1.running_mean",
    "layer3.1.bn1.weight",
    "layer4.1.conv2.weight",
    "layer4.1.bn2.weight",
    "layer4.1.bn2.bias",
    "layer4.1.bn2.running_mean",
    "layer4.1.bn2.running_var",
]
SLICE = 256  # first elements of each flattened tensor (all of it when smaller)


def preset_example():
    """ResNet50_Weights.IMAGENET1K_V2's preset steps at a small size (resize 20, crop 16) on a uint8
    image tensor, with antialias=True: torchvision 0.14's preset antialiases PIL images (PIL always
    does) but not tensors; graft follows the PIL behaviour, computed as torchvision's tensor path."""
    from torchvision.transforms import functional as TF

    y, x = torch.meshgrid(torch.arange(29), torch.arange(37), indexing="ij")
    planes = [((x * (7 + 5 * k) + y * (11 - 3 * k)) % 256) * 0.6 + ((x // 2 + y + k) % 2) * 90 for k in range(3)]
    image = (torch.stack(planes) % 256).to(torch.uint8)
    preset = ResNet50_Weights.IMAGENET1K_V2.transforms()
    out = TF.resize(image, [20], interpolation=preset.interpolation, antialias=True)
    out = TF.center_crop(out, [16])
    out = TF.convert_image_dtype(out, torch.float)
    out = TF.normalize(out, mean=preset.mean, std=preset.std)
    return image, out


def numerics():
    demo = read_safetensors(os.path.join(ROOT, DEMO_WEIGHTS))
    with open(os.path.join(ROOT, DEMO_WEIGHTS), "rb") as f:
        demo_sha256 = hashlib.sha256(f.read()).hexdigest()
    # float16 values are exact in float32 and float64.
    weights = {k: (v.float() if v.is_floating_point() else v) for k, v in demo.items()}
    num_classes = weights["fc.weight"].shape[0]

    def fresh():
        m = resnet18(num_classes=num_classes)
        m.load_state_dict(weights)
        return m

    # Real inputs as the demo feeds them: the first images of its few-shot test and train splits
    # (Fashion-MNIST classes 5-9, relabelled 0-4), so training starts where `graft finetune` does.
    eval_input = demo_images(read_idx_gz("t10k-images-idx3-ubyte.gz")[:2])
    train_input = demo_images(read_idx_gz("train-images-idx3-ubyte.gz")[:8])
    train_labels = read_idx_gz("train-labels-idx1-ubyte.gz")[:8].to(torch.int64)
    torch.manual_seed(3)
    head = nn.Linear(512, 5)
    head_w = head.weight.detach().clone()
    head_b = head.bias.detach().clone()

    preset_in, preset_out = preset_example()

    m64 = fresh().double().eval()
    m32 = fresh().eval()
    with torch.no_grad():
        logits64 = m64(eval_input.double())
        logits32 = m32(eval_input)
        in_w, in_b = imagenet_head()
        m64.fc = nn.Linear(512, 1000).double()
        m64.fc.weight.copy_(in_w)
        m64.fc.bias.copy_(in_b)
        imagenet_logits64 = m64(eval_input.double())

    t64, losses64, after_eval64 = train_three_steps(fresh(), head_w, head_b, train_input, train_labels, torch.float64)
    t32, losses32, after_eval32 = train_three_steps(fresh(), head_w, head_b, train_input, train_labels, torch.float32)
    sd64 = t64.state_dict()
    sd32 = t32.state_dict()

    write_safetensors(
        os.path.join(OUT, "resnet18_numerics.safetensors"),
        {
            "eval_input": eval_input,
            "train_input": train_input,
            "train_labels": train_labels,
            "head.weight": head_w,
            "head.bias": head_b,
            "preset_input": preset_in,
            "preset_output_resize20_crop16": preset_out,
        },
        {"format": "pt"},
    )

    tracked = {}
    torch32_rel = {}
    for key in TRACKED:
        v = sd64[key]
        flat = v.reshape(-1)[:SLICE]
        tracked[key] = {"shape": list(v.shape), "first": flat.tolist()}
        if v.is_floating_point():
            torch32_rel[key] = max_rel(sd32[key].reshape(-1)[:SLICE], flat)

    result = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "weights_file": DEMO_WEIGHTS,
        "weights_sha256": demo_sha256,
        "inputs_file": "resnet18_numerics.safetensors",
        "eval": {
            "input": "eval_input",
            "logits": logits64.tolist(),
            "torch_float32_max_rel": max_rel(logits32, logits64),
            "imagenet_head": {
                "weight": "((i * 37 + j * 11) % 61 - 30) / 2048 for row i, column j",
                "bias": "((i * 7) % 23 - 11) / 512",
            },
            "imagenet_head_logits": imagenet_logits64.tolist(),
        },
        "train": {
            "input": "train_input",
            "labels": "train_labels",
            "head": {"in_features": 512, "out_features": 5, "weight": "head.weight", "bias": "head.bias"},
            "optimizer": {
                "type": "SGD",
                "groups": ["all parameters not starting with fc.", "fc parameters, lr 0.001"],
                "lr": 0.0001,
                "head_lr": 0.001,
                "momentum": 0.9,
                "nesterov": True,
                "weight_decay": 1e-4,
            },
            "steps": 3,
            "losses": losses64,
            "torch_float32_losses": losses32,
            "slice_length": SLICE,
            "after": tracked,
            "torch_float32_max_rel_after": torch32_rel,
            "eval_logits_after": after_eval64.tolist(),
            "torch_float32_eval_logits_after_max_rel": max_rel(after_eval32, after_eval64),
        },
    }
    with open(os.path.join(OUT, "resnet18_numerics.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    models = {"resnet18": resnet18(), "resnet34": resnet34(), "resnet50": resnet50()}
    fc2 = resnet18()
    fc2.fc = nn.Linear(512, 2)
    models["resnet18_fc2"] = fc2
    models["resnet18_classes10"] = resnet18(num_classes=10)
    models["resnet50_zero_init_residual"] = resnet50(zero_init_residual=True)
    models["resnet50_dilated"] = resnet50(replace_stride_with_dilation=[False, True, True])
    models["resnet50_32x4d"] = resnet50(groups=32, width_per_group=4)

    for name in ["resnet18", "resnet34", "resnet50", "resnet18_fc2", "resnet50_dilated", "resnet50_32x4d"]:
        with open(os.path.join(OUT, f"repr_{name}.txt"), "w") as f:
            f.write(str(models[name]))

    arch = {name: architecture(m) for name, m in models.items()}
    with open(os.path.join(OUT, "architectures.json"), "w") as f:
        f.write(compact_json({"torch": torch.__version__, "torchvision": torchvision.__version__, "models": arch}))

    enums = {"ResNet18_Weights": ResNet18_Weights, "ResNet34_Weights": ResNet34_Weights, "ResNet50_Weights": ResNet50_Weights}
    meta = {}
    for enum_name, enum in enums.items():
        meta[enum_name] = {member.name: weights_meta(member.value) for member in enum}
        meta[enum_name]["DEFAULT"] = enum.DEFAULT.name
    categories = ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    for enum in enums.values():
        for member in enum:
            assert member.meta["categories"] == categories
    with open(os.path.join(OUT, "weights_meta.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, "weights": meta, "categories_first_last": [categories[0], categories[-1]],
                   "categories_sha256": hashlib.sha256("\n".join(categories).encode("utf-8")).hexdigest()}, f, indent=1)
        f.write("\n")

    with open(os.path.join(PKG, "src", "imagenet-categories.ts"), "w") as f:
        f.write("// The 1000 ImageNet-1K class names in torchvision's order; generated by scripts/golden/models.py.\n\n")
        f.write("/** ImageNet-1K category names, index = class id (torchvision's `weights.meta['categories']`). */\n")
        f.write("export const IMAGENET_CATEGORIES: readonly string[] = Object.freeze([\n")
        for c in categories:
            # Single quotes unless the name holds one: the repository's formatter (biome) style.
            f.write(f"  {json.dumps(c) if chr(39) in c else chr(39) + c + chr(39)},\n")
        f.write("]);\n")

    numerics()


if __name__ == "__main__":
    main()
