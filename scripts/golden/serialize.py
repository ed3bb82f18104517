#!/usr/bin/python3
"""Golden fixtures for @graft/serialize, written by real PyTorch (run with Debian's /usr/bin/python3).

    /usr/bin/python3 scripts/golden/serialize.py            # fixtures, then the check of what graft writes
    /usr/bin/python3 scripts/golden/serialize.py --verify   # only the check (fixtures unchanged)

1. Writes small checkpoints into packages/serialize/fixtures/ (zip and legacy state dicts, a training
   checkpoint with SGD and Adam state, every dtype, views and shared storage, a deflated zip with an
   unusual archive prefix, a Parameter, a whole pickled module that must be refused, a hand-written
   safetensors file) and expected.json describing every value as PyTorch sees it.
2. Runs packages/serialize/scripts/write-graft-fixtures.mjs (needs `pnpm --filter @graft/serialize build`),
   which makes graft read some of those files and write them back into fixtures/graft-written/.
3. Loads what graft wrote with torch.load(weights_only=True) (and plain torch.load where 1.13's
   weights_only loader cannot read floats), compares it with the originals, feeds the optimizer state
   to optimizer.load_state_dict, and records the outcome in fixtures/graft_written_check.json.
   graft's own nn/optim output is checked there too: a Sequential's stateDict() must load as an OrderedDict
   whose _metadata equals torch's, every optimizer's stateDict() must have torch's structure and load into
   torch.optim, and @graft/models' resnet18 state dict must match torchvision's keys, shapes and _metadata.
4. Writes fixtures/torch_structure.json: what torch.save writes for the same model's state dict, for
   torchvision's resnet18 (keys, dtypes, shapes and _metadata, no weights) and for each optimizer's
   state_dict() after one step (keys, order, Python types), for src/torch-structure.test.ts.
"""

import base64
import collections
import contextlib
import io
import json
import math
import os
import struct
import subprocess
import sys
import zipfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = os.path.join(ROOT, "packages", "serialize")
FIX = os.path.join(PKG, "fixtures")
GRAFT = os.path.join(FIX, "graft-written")


def number(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def tensor_values(t):
    flat = t.detach().reshape(-1)
    if t.dtype in (torch.float16, torch.bfloat16):
        flat = flat.float()
    if t.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return [number(v) for v in flat.tolist()]


class Encoder:
    """Describes a Python value as JSON, tagging what JSON cannot tell apart (int/float, list/tuple).
    With values=False a tensor is only its dtype and shape (structure, not weights)."""

    def __init__(self, values=True):
        self.storages = {}
        self.values = values

    def storage_id(self, t):
        ptr = t.storage().data_ptr()
        return self.storages.setdefault(ptr, len(self.storages))

    def __call__(self, v):
        if isinstance(v, torch.Tensor) and not self.values:
            return {"tensor": {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}}
        if isinstance(v, torch.Tensor):
            return {"tensor": {
                "dtype": str(v.dtype).replace("torch.", ""),
                "shape": list(v.shape),
                "stride": list(v.stride()),
                "offset": v.storage_offset(),
                "requires_grad": v.requires_grad,
                "parameter": isinstance(v, torch.nn.Parameter),
                "storage": self.storage_id(v),
                "values": tensor_values(v),
            }}
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return {"int": str(v)}
        if isinstance(v, float):
            return {"float": number(v)}
        if isinstance(v, bytes):
            return {"bytes": list(v)}
        if isinstance(v, tuple):
            return {"tuple": [self(x) for x in v]}
        if isinstance(v, list):
            return {"list": [self(x) for x in v]}
        if isinstance(v, dict):
            out = {
                "dict": [[self(k), self(x)] for k, x in v.items()],
                "ordered": isinstance(v, collections.OrderedDict),
            }
            if getattr(v, "_metadata", None) is not None:
                out["attributes"] = {"_metadata": self(v._metadata)}
            return out
        raise TypeError(f"cannot describe {type(v)}")


def small_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3),
        torch.nn.BatchNorm2d(3),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 4),
    )


def trained():
    model = small_model()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    x = torch.randn(2, 2, 4, 4)
    for opt in (sgd, adam):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    return model, sgd, adam


def views():
    base = torch.arange(12, dtype=torch.float32)
    m = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5
    return {
        "base": base,
        "slice": base[2:8].view(2, 3),  # shares base's storage at offset 2
        "strided": base[1::3],  # stride 3
        "transposed": m.t(),  # non-contiguous
        "expanded": torch.tensor([1.5, -2.0]).expand(3, 2),  # stride 0
    }


def dtypes():
    return {
        "float32": torch.tensor([1.5, -2.25, 3.0e-8, 1e30]),
        "float64": torch.tensor([[1.0 / 3, -0.0], [2.0 ** -1060, 1e300]], dtype=torch.float64),
        "float16": torch.tensor([1.0, -0.5, 65504.0, 6e-8, float("inf"), float("nan")], dtype=torch.float16),
        "bfloat16": torch.tensor([1.0, -3.140625, 1e38, 1e-38], dtype=torch.bfloat16),
        "int64": torch.tensor([0, -3, 2 ** 40 + 1, -(2 ** 53) + 1, 2 ** 53 - 1]),
        "int32": torch.tensor([-(2 ** 31), 2 ** 31 - 1, 7], dtype=torch.int32),
        "int16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "int8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "uint8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }


def write_safetensors(path, tensors, metadata):
    """safetensors by hand (the Python package is not installed): header JSON, 8-byte aligned."""
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
             torch.bool: "BOOL", torch.uint8: "U8", torch.float64: "F64", torch.int32: "I32",
             torch.int16: "I16", torch.int8: "I8"}
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dim() else t.reshape(1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    dt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
          "BOOL": torch.bool, "U8": torch.uint8, "F64": torch.float64, "I32": torch.int32,
          "I16": torch.int16, "I8": torch.int8}
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = bytearray(data[8 + n + b: 8 + n + e])
        t = torch.frombuffer(raw, dtype=dt[info["dtype"]]) if raw else torch.zeros(0, dtype=dt[info["dtype"]])
        out[name] = t.reshape(info["shape"])
    return out, meta


def rezip_deflated(src, dst, prefix):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = prefix + "/" + info.filename.split("/", 1)[1]
            # A fixed timestamp keeps the fixture byte-reproducible (writestr would stamp the current time).
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(entry, zin.read(info.filename))


@contextlib.contextmanager
def stable_legacy_keys():
    """Legacy torch.save names each storage str(storage._cdata), a memory address, so its files differ from run
    to run. Inside this block torch.serialization's str() turns those addresses into 0-padded numbers in the
    order storages are met, which keeps the fixtures byte-reproducible (and sorts them as torch sorts keys)."""
    ids = {}

    class StrType(type):
        def __instancecheck__(cls, obj):  # the module's isinstance(x, str) checks still see str
            return isinstance(obj, str)

    class StableStr(metaclass=StrType):
        def __new__(cls, value=""):
            if type(value) is int and value > 2 ** 16:
                return "%012d" % ids.setdefault(value, len(ids))
            return str(value)

    torch.serialization.str = StableStr
    try:
        yield
    finally:
        del torch.serialization.str


def golden():
    os.makedirs(FIX, exist_ok=True)
    model, sgd, adam = trained()
    sd = model.state_dict()
    files = {}

    def save(name, obj, **kw):
        with stable_legacy_keys():
            torch.save(obj, os.path.join(FIX, name), **kw)
        files[name] = obj

    save("state_dict_zip.pth", sd)
    save("state_dict_legacy.pth", sd, _use_new_zipfile_serialization=False)
    checkpoint = {
        "epoch": 3,
        "model": sd,
        "optimizer": sgd.state_dict(),
        "adam": adam.state_dict(),
        "best_acc": 0.75,
        "lr_float_integral": 1.0,
        "name": "run-1 \u00e9\u6f22",
        "note": None,
        "flags": [True, False],
        "pair": (1, 2.5, "x"),
        "big": 2 ** 60,
        "negative": -5,
        "int_keys": {1: "a", -2: "b"},
    }
    save("checkpoint.pth", checkpoint)
    save("views.pth", views())
    save("views_legacy.pth", views(), _use_new_zipfile_serialization=False)
    save("dtypes.pth", dtypes())
    save("dtypes_legacy.pth", dtypes(), _use_new_zipfile_serialization=False)
    small = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "n": torch.tensor(7), "meta": {"k": (1, "x")}}
    save("legacy_protocol1.pth", small, _use_new_zipfile_serialization=False, pickle_protocol=1)
    save("legacy_protocol4.pth", small, _use_new_zipfile_serialization=False, pickle_protocol=4)
    torch.manual_seed(1)
    save("parameter.pth", {"weight": torch.nn.Parameter(torch.randn(2, 2)),
                           "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False)})

    rezip_deflated(os.path.join(FIX, "state_dict_zip.pth"), os.path.join(FIX, "deflated_prefix.pth"), "my model.v2")
    files["deflated_prefix.pth"] = torch.load(os.path.join(FIX, "deflated_prefix.pth"))

    torch.save(torch.nn.Linear(2, 2), os.path.join(FIX, "whole_module.pth"))

    st = {k: v for k, v in dtypes().items() if k in ("float32", "float16", "bfloat16", "int64", "bool", "uint8", "float64")}
    st["conv"] = sd["0.weight"]
    write_safetensors(os.path.join(FIX, "model.safetensors"), st, {"format": "pt", "source": "graft golden"})
    files["model.safetensors"] = read_safetensors(os.path.join(FIX, "model.safetensors"))[0]

    expected = {}
    for name, obj in files.items():
        loaded = torch.load(os.path.join(FIX, name)) if name.endswith(".pth") else obj
        expected[name] = Encoder()(loaded)
    expected["model.safetensors.metadata"] = {"format": "pt", "source": "graft golden"}
    # weights_only in torch 1.13 cannot read BINFLOAT, so it refuses PyTorch's own checkpoints with floats too.
    try:
        torch.load(os.path.join(FIX, "checkpoint.pth"), weights_only=True)
        expected["torch_checkpoint_weights_only"] = "ok"
    except Exception as e:  # noqa: BLE001
        expected["torch_checkpoint_weights_only"] = str(e).split("WeightsUnpickler error: ")[-1]
    with open(os.path.join(FIX, "expected.json"), "w") as f:
        json.dump(expected, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    return checkpoint


def same(a, b, path="root"):
    """Exact structural equality, types included (int stays int, tuple stays tuple)."""
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor):
            return f"{path}: expected a tensor, got {type(b).__name__}"
        if a.dtype != b.dtype or a.shape != b.shape:
            return f"{path}: expected {a.dtype} {list(a.shape)}, got {b.dtype} {list(b.shape)}"
        if not torch.equal(a.nan_to_num(), b.nan_to_num()) or not torch.equal(a.isnan(), b.isnan()):
            return f"{path}: values differ"
        return None
    if type(a) is not type(b):
        return f"{path}: expected {type(a).__name__}, got {type(b).__name__}"
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            return f"{path}: keys {list(a.keys())[:8]} != {list(b.keys())[:8]}"
        for k in a:
            r = same(a[k], b[k], f"{path}[{k!r}]")
            if r:
                return r
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = same(x, y, f"{path}[{i}]")
            if r:
                return r
        return None
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


# Optimizer cases for torch_structure.json and the check of graft's optimizers: torch's class and keyword
# arguments (graft's options are their camelCase), and per-group overrides for the small model split in two
# groups (the conv and batch norm, then the linear head), as in a transfer-learning setup.
OPTIMIZER_CASES = [
    ["SGD momentum", "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4}, None],
    ["SGD plain", "SGD", {"lr": 0.1}, None],
    ["SGD two groups", "SGD", {"lr": 1e-3, "momentum": 0.9, "weight_decay": 1e-3, "nesterov": True},
     [{}, {"lr": 1e-2, "weight_decay": 0}]],
    ["Adam", "Adam", {"lr": 1e-3}, None],
    ["Adam amsgrad", "Adam", {"lr": 1e-3, "betas": [0.8, 0.99], "amsgrad": True}, None],
    ["AdamW", "AdamW", {}, None],
    ["RMSprop", "RMSprop", {}, None],
    ["RMSprop centered momentum", "RMSprop", {"momentum": 0.5, "centered": True, "weight_decay": 1e-4}, None],
    ["Adagrad", "Adagrad", {"lr_decay": 1e-3}, None],
    ["Adadelta", "Adadelta", {}, None],
]


def torch_kwargs(kw):
    return {k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()}


def make_optimizer(model, case):
    _, cls, kw, groups = case
    if groups is None:
        params = model.parameters()
    else:
        body = list(model[0].parameters()) + list(model[1].parameters())
        params = [dict(params=p, **torch_kwargs(g)) for p, g in zip([body, list(model[4].parameters())], groups)]
    return getattr(torch.optim, cls)(params, **torch_kwargs(kw))


def stepped_optimizer(case):
    """torch's optimizer for `case` on small_model() after one seeded step."""
    model = small_model()
    opt = make_optimizer(model, case)
    torch.manual_seed(1)
    model(torch.randn(2, 2, 4, 4)).square().mean().backward()
    opt.step()
    return model, opt


def resnet18_state_dict():
    import torchvision  # noqa: PLC0415 (only the structure writer and the check need it)

    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).state_dict()


def data_pkl(obj):
    """The pickle inside what torch.save writes for `obj` (tensors are storage references, so no weights)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    with zipfile.ZipFile(buf) as z:
        return z.read("archive/data.pkl")


def structures():
    """fixtures/torch_structure.json: what torch writes, as structure (no weights), for the TS golden test;
    fixtures/torch_pickles.json: torch.save's data.pkl for the same values (base64), to compare byte for byte."""
    pickles = {"small_model_state_dict": data_pkl(small_model().state_dict()),
               "resnet18_state_dict": data_pkl(resnet18_state_dict())}
    out = {
        "torch": torch.__version__,
        "small_model_state_dict": Encoder(values=False)(small_model().state_dict()),
        "resnet18_state_dict": Encoder(values=False)(resnet18_state_dict()),
        "optimizers": [],
    }
    buf = io.BytesIO()
    torch.save(small_model().state_dict(), buf)
    out["small_model_zip_names"] = zipfile.ZipFile(buf).namelist()
    for case in OPTIMIZER_CASES:
        _, opt = stepped_optimizer(case)
        pickles["optimizer " + case[0]] = data_pkl(opt.state_dict())
        # What torch.load gives back from torch.save, which is what a graft-written file must match.
        buf = io.BytesIO()
        torch.save(opt.state_dict(), buf)
        buf.seek(0)
        out["optimizers"].append({"name": case[0], "class": case[1], "kwargs": case[2], "groups": case[3],
                                  "state_dict": Encoder(values=False)(torch.load(buf))})
    with open(os.path.join(FIX, "torch_structure.json"), "w") as f:
        json.dump(out, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(FIX, "torch_pickles.json"), "w") as f:
        json.dump({k: base64.b64encode(v).decode() for k, v in pickles.items()}, f, indent=0, sort_keys=True)
        f.write("\n")


def structure_mismatch(a, b, path="root"):
    """Where two Encoder(values=False) descriptions differ (None when equal)."""
    if type(a) is not type(b):
        return f"{path}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}"
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            return f"{path}: keys {list(a.keys())} != {list(b.keys())}"
        for k in a:
            r = structure_mismatch(a[k], b[k], f"{path}.{k}")
            if r:
                return r
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = structure_mismatch(x, y, f"{path}[{i}]")
            if r:
                return r
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def weights_only_outcome(path):
    try:
        torch.load(path, weights_only=True)
        return "ok"
    except Exception as e:  # noqa: BLE001
        return str(e).split("WeightsUnpickler error: ")[-1]


def check_graft_nn(report, models_report):
    """Loads graft's own nn/optim/models output (written by write-graft-fixtures.mjs) into torch."""
    path = os.path.join(GRAFT, "nn_state_dict.pth")
    if os.path.exists(path):
        loaded = torch.load(path, weights_only=True)
        reference = small_model().state_dict()
        model = small_model()
        model.load_state_dict(loaded)
        same_structure = (type(loaded) is collections.OrderedDict and list(loaded.keys()) == list(reference.keys())
                          and loaded._metadata == reference._metadata)
        report["nn_state_dict.pth"] = {
            "weights_only": weights_only_outcome(path),
            "mismatch": None if same_structure else structure_mismatch(Encoder(values=False)(reference),
                                                                       Encoder(values=False)(loaded)),
            "type": type(loaded).__name__,
            "metadata_type": type(getattr(loaded, "_metadata", None)).__name__,
            "metadata_equal": loaded._metadata == reference._metadata,  # OrderedDict ==: order matters
            "metadata": list(loaded._metadata.items()),
            "keys_equal": list(loaded.keys()) == list(reference.keys()),
            "data_pkl_equal": zip_data_pkl(path) == data_pkl(reference),
            "load_state_dict": "ok",
            "aligned_64": zip_data_aligned(path),
        }
    path = os.path.join(GRAFT, "nn_optimizers.pth")
    if os.path.exists(path):
        loaded = torch.load(path)
        entry = {"weights_only": weights_only_outcome(path), "aligned_64": zip_data_aligned(path), "mismatch": None,
                 "optimizers": {}}
        for case in OPTIMIZER_CASES:
            mine = loaded[case[0]]
            model, reference = stepped_optimizer(case)
            fresh = make_optimizer(small_model(), case)
            fresh.load_state_dict(mine)
            mismatch = structure_mismatch(Encoder(values=False)(reference.state_dict()), Encoder(values=False)(mine))
            entry["optimizers"][case[0]] = {
                "load_state_dict": "ok",
                "structure_mismatch": mismatch,
                "reloaded_structure_mismatch": structure_mismatch(Encoder(values=False)(reference.state_dict()),
                                                                  Encoder(values=False)(fresh.state_dict())),
            }
            entry["mismatch"] = entry["mismatch"] or (mismatch and f"{case[0]}: {mismatch}")
        report["nn_optimizers.pth"] = entry
    models = os.path.join(ROOT, "packages", "models")
    if os.path.exists(os.path.join(models, "dist", "index.js")):
        import tempfile  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "resnet18.pth")
            script = ("import { resnet18 } from '@graft/models'; import { save } from '@graft/serialize/node';"
                      f"await save((await resnet18()).stateDict(), {json.dumps(out)});")
            try:
                subprocess.run(["node", "--input-type=module", "-e", script], check=True, cwd=models)
            except (subprocess.CalledProcessError, FileNotFoundError) as e:
                models_report["resnet18"] = {"error": str(e)}
                return
            loaded = torch.load(out, weights_only=True)
            reference = resnet18_state_dict()
            import torchvision  # noqa: PLC0415

            torchvision.models.resnet18(weights=None).load_state_dict(loaded)
            models_report["resnet18"] = {
                "type": type(loaded).__name__,
                "metadata_equal": loaded._metadata == reference._metadata,
                "data_pkl_equal": zip_data_pkl(out) == data_pkl(reference),
                "structure_mismatch": structure_mismatch(Encoder(values=False)(reference), Encoder(values=False)(loaded)),
                "load_state_dict": "ok",
            }


def zip_data_pkl(path):
    with zipfile.ZipFile(path) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))


def zip_data_aligned(path):
    data = open(path, "rb").read()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            at = info.header_offset
            name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
            if (at + 30 + name_len + extra_len) % 64:
                return False
    return True


def check_graft(checkpoint):
    script = os.path.join(PKG, "scripts", "write-graft-fixtures.mjs")
    try:
        subprocess.run(["node", script], check=True, cwd=ROOT)
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        print(f"skipping the graft-written check: {e} (build @graft/serialize first)", file=sys.stderr)
        return
    originals = {
        "state_dict.pth": torch.load(os.path.join(FIX, "state_dict_zip.pth")),
        "from_legacy.pth": torch.load(os.path.join(FIX, "state_dict_legacy.pth")),
        "checkpoint.pth": torch.load(os.path.join(FIX, "checkpoint.pth")),
        "views.pth": torch.load(os.path.join(FIX, "views.pth")),
        "dtypes.pth": torch.load(os.path.join(FIX, "dtypes.pth")),
        "parameter.pth": torch.load(os.path.join(FIX, "parameter.pth")),
        "parameter_class.pth": {
            "weight": torch.nn.Parameter(torch.tensor([[1.0, 2.0], [3.0, 4.0]])),
            "frozen": torch.nn.Parameter(torch.tensor([5.0, 6.0]), requires_grad=False),
        },
    }
    report = {}
    for name in sorted(os.listdir(GRAFT)):
        if name.startswith("nn_"):
            continue  # graft's own nn/optim output: check_graft_nn
        path = os.path.join(GRAFT, name)
        entry = {}
        if name.endswith(".safetensors"):
            loaded, meta = read_safetensors(path)
            original = read_safetensors(os.path.join(FIX, "model.safetensors"))[0]
            if name == "state_dict.safetensors":
                original = {k: v for k, v in originals["state_dict.pth"].items()}
            entry["parsed"] = True
            entry["header_aligned_8"] = struct.unpack("<Q", open(path, "rb").read(8))[0] % 8 == 0
            entry["metadata"] = meta
            entry["mismatch"] = same(dict(sorted(original.items())), dict(sorted(loaded.items())))
            report[name] = entry
            continue
        try:
            loaded = torch.load(path, weights_only=True)
            entry["weights_only"] = "ok"
        except Exception as e:  # noqa: BLE001
            entry["weights_only"] = str(e).split("WeightsUnpickler error: ")[-1]
            loaded = torch.load(path)
        entry["plain_load"] = "ok"
        entry["mismatch"] = same(originals[name], loaded)
        for key, original in ([(None, originals[name])] + list(originals[name].items())):
            if getattr(original, "_metadata", None) is not None:
                # OrderedDict equality: the module versions, in torch's order.
                mine = loaded if key is None else loaded[key]
                entry.setdefault("metadata_equal", {})[key or ""] = getattr(mine, "_metadata", None) == original._metadata
        if name == "checkpoint.pth":
            model, sgd, adam = trained()
            model.load_state_dict(loaded["model"])
            sgd.load_state_dict(loaded["optimizer"])
            adam.load_state_dict(loaded["adam"])
            entry["optimizer_state_keys"] = [type(k).__name__ for k in loaded["optimizer"]["state"]]
            entry["adam_state_keys"] = [type(k).__name__ for k in loaded["adam"]["state"]]
            entry["load_state_dict"] = "ok"
            entry["momentum_buffers_match"] = all(
                torch.equal(sgd.state[p]["momentum_buffer"], originals[name]["optimizer"]["state"][i]["momentum_buffer"])
                for i, p in enumerate(model.parameters())
            ) and all(
                torch.equal(adam.state[p]["exp_avg"], originals[name]["adam"]["state"][i]["exp_avg"])
                for i, p in enumerate(model.parameters())
            )
        if name in ("parameter.pth", "parameter_class.pth"):
            entry["requires_grad"] = {k: v.requires_grad for k, v in loaded.items()}
            entry["is_parameter"] = {k: isinstance(v, torch.nn.Parameter) for k, v in loaded.items()}
        entry["aligned_64"] = zip_data_aligned(path)
        if name == "views.pth":
            entry["slice_shares_base"] = loaded["slice"].storage().data_ptr() == loaded["base"].storage().data_ptr()
            entry["transposed_stride"] = list(loaded["transposed"].stride())
        report[name] = entry
    models_report = {}
    check_graft_nn(report, models_report)
    with open(os.path.join(FIX, "graft_written_check.json"), "w") as f:
        json.dump({"torch": torch.__version__, "files": report, "models": models_report}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(report, indent=1, sort_keys=True))


if __name__ == "__main__":
    if "--verify" in sys.argv[1:]:
        check_graft(None)
    else:
        cp = golden()
        structures()
        check_graft(cp)
