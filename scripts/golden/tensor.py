"""Golden fixtures for @graft/tensor: op values and gradients, reprs, dtypes and creation functions.

Run from anywhere with Debian's PyTorch (python3-torch, torch 1.13):

    /usr/bin/python3 scripts/golden/tensor.py

Writes packages/tensor/fixtures/{ops,format,dtype,creation}.json. Inputs come from a seeded NumPy
generator, so rerunning the script reproduces the files byte for byte.

How the op fixtures are made: every input is drawn in float64 and rounded to float32 (the stored
value is exactly what graft's float32 tensor holds). PyTorch then evaluates the op on those exact
values in float64, so the stored outputs and gradients are the true results rounded once to float32,
not PyTorch's own float32 rounding noise; the tests compare graft's float32 results against them at
1e-5 relative (see src/test-utils/fixtures.ts for the absolute floor). Output dtypes are recorded as
PyTorch reports them for float32 inputs. Each differentiable output gets a random upstream gradient,
and the gradients stored are those of sum(output * upstream) with respect to every leaf input that
requires grad. An input may be a view of its leaf (transposed, sliced, expanded): the `view` list
says how to derive it, and its gradient is the leaf's.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "tensor", "fixtures")
rng = np.random.default_rng(20240611)

DT = {
    "float32": torch.float32,
    "float64": torch.float64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
DT_NAME = {v: k for k, v in DT.items()}


# ---------------------------------------------------------------- compact JSON

def num(x):
    """Shortest text that reads back as the same value: float32 scalars as float32, floats as float64."""
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if math.isnan(x):
        return '"nan"'
    if math.isinf(x):
        return '"inf"' if x > 0 else '"-inf"'
    s = str(x) if isinstance(x, np.float32) else repr(float(x))
    if s.endswith(".0"):
        s = s[:-2]
        if s == "-0":
            s = "-0.0"
    return s


def dumps(obj):
    if isinstance(obj, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dumps(v) for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, str) or obj is None:
        return json.dumps(obj)
    return num(obj)


def flat(t, f32=None):
    """Values of a tensor as a flat list; float32 (or f32=True) values are written as float32."""
    t = t.detach()
    if t.dtype == torch.bool:
        return [bool(v) for v in t.reshape(-1).tolist()]
    if t.dtype.is_floating_point:
        if f32 is None:
            f32 = t.dtype != torch.float64
        vals = t.double().reshape(-1).tolist()
        return [np.float32(v) for v in vals] if f32 else vals
    return [int(v) for v in t.reshape(-1).tolist()]


def tdesc(t, dtype=None, f32=None):
    return {"shape": list(t.shape), "dtype": dtype or DT_NAME[t.dtype], "data": flat(t, f32)}


# ---------------------------------------------------------------- inputs

class In:
    """An input: how to draw the leaf, whether it requires grad, and the view ops applied to it."""

    def __init__(self, name, shape, gen="randn", grad=True, view=None, dtype="float32", values=None, lo=-1.0, hi=1.0,
                 axis=1):
        self.name, self.shape, self.gen, self.grad = name, list(shape), gen, grad
        self.view, self.dtype, self.values, self.lo, self.hi, self.axis = view or [], dtype, values, lo, hi, axis

    def draw(self):
        n = int(np.prod(self.shape)) if self.shape else 1
        if self.values is not None:
            v = np.asarray(self.values, dtype=np.float64).reshape(self.shape)
        elif self.gen == "randn":
            v = rng.standard_normal(self.shape)
        elif self.gen == "uniform":
            v = rng.uniform(self.lo, self.hi, self.shape)
        elif self.gen == "pos":
            v = rng.uniform(0.5, 2.0, self.shape)
        elif self.gen == "int":
            v = rng.integers(int(self.lo), int(self.hi), self.shape)
        elif self.gen == "bool":
            v = rng.random(self.shape) < 0.5
        elif self.gen == "softmax":
            z = rng.standard_normal(self.shape)
            e = np.exp(z - z.max(axis=self.axis, keepdims=True))
            v = e / e.sum(axis=self.axis, keepdims=True)
        elif self.gen == "perm":
            v = rng.permutation(n).reshape(self.shape)
        else:
            raise ValueError(self.gen)
        if self.dtype in ("float32", "float64"):
            v = np.asarray(v, dtype=np.float64).astype(np.float32)
        return v


def apply_view(t, view):
    for op in view:
        kind, args = op[0], op[1:]
        if kind == "transpose":
            t = t.transpose(args[0], args[1])
        elif kind == "permute":
            t = t.permute(*args[0])
        elif kind == "slice":
            dim, start, end, step = args
            t = t[(slice(None),) * dim + (slice(start, end, step),)]
        elif kind == "expand":
            t = t.expand(*args[0])
        elif kind == "select":
            t = t.select(args[0], args[1])
        else:
            raise ValueError(kind)
    return t


# ---------------------------------------------------------------- the ops (names shared with src/test-utils/registry.ts)

def opt(k, key, default=None):
    return k[key] if key in k else default


def bn(i, k):
    rm = i["running_mean"].detach().clone() if "running_mean" in i else None
    rv = i["running_var"].detach().clone() if "running_var" in i else None
    y = F.batch_norm(i["x"], rm, rv, i.get("weight"), i.get("bias"), training=k["training"],
                     momentum=opt(k, "momentum", 0.1), eps=opt(k, "eps", 1e-5))
    return [y] + ([rm, rv] if rm is not None else [])


def ce(i, k):
    return F.cross_entropy(i["x"], i["target"], weight=i.get("weight"), ignore_index=opt(k, "ignoreIndex", -100),
                           reduction=opt(k, "reduction", "mean"), label_smoothing=opt(k, "labelSmoothing", 0.0))


def nll(i, k):
    return F.nll_loss(i["x"], i["target"], weight=i.get("weight"), ignore_index=opt(k, "ignoreIndex", -100),
                      reduction=opt(k, "reduction", "mean"))


def bce(i, k):
    return F.binary_cross_entropy_with_logits(i["x"], i["target"], weight=i.get("weight"),
                                              pos_weight=i.get("posWeight"), reduction=opt(k, "reduction", "mean"))


def var(i, k):
    dim = opt(k, "dim")
    unbiased = opt(k, "correction", 1) == 1
    if dim is None:
        return i["x"].var(unbiased=unbiased)
    return i["x"].var(dim, unbiased=unbiased, keepdim=opt(k, "keepdim", False))


def reduce_(name):
    def f(i, k):
        dim = opt(k, "dim")
        x = i["x"]
        if dim is None:
            return getattr(x, name)()
        return getattr(x, name)(dim, keepdim=opt(k, "keepdim", False))
    return f


def pool_kw(k):
    return dict(stride=opt(k, "stride"), padding=opt(k, "padding", 0), ceil_mode=opt(k, "ceilMode", False))


OPS = {
    "add": lambda i, k: torch.add(i["a"], i["b"], alpha=opt(k, "alpha", 1)),
    "addScalar": lambda i, k: i["a"] + k["s"],
    "sub": lambda i, k: torch.sub(i["a"], i["b"], alpha=opt(k, "alpha", 1)),
    "subScalar": lambda i, k: i["a"] - k["s"],
    "mul": lambda i, k: i["a"] * i["b"],
    "mulScalar": lambda i, k: i["a"] * k["s"],
    "div": lambda i, k: i["a"] / i["b"],
    "divScalar": lambda i, k: i["a"] / k["s"],
    "pow": lambda i, k: torch.pow(i["a"], i["b"]),
    "powScalar": lambda i, k: torch.pow(i["a"], k["s"]),
    "neg": lambda i, k: -i["x"],
    "exp": lambda i, k: i["x"].exp(),
    "log": lambda i, k: i["x"].log(),
    "sqrt": lambda i, k: i["x"].sqrt(),
    "rsqrt": lambda i, k: i["x"].rsqrt(),
    "abs": lambda i, k: i["x"].abs(),
    "reciprocal": lambda i, k: i["x"].reciprocal(),
    "square": lambda i, k: i["x"].square(),
    "clamp": lambda i, k: i["x"].clamp(opt(k, "min"), opt(k, "max")),
    "maximum": lambda i, k: torch.maximum(i["a"], i["b"]),
    "minimum": lambda i, k: torch.minimum(i["a"], i["b"]),
    "where": lambda i, k: torch.where(i["cond"], i["a"], i["b"]),
    "whereScalar": lambda i, k: torch.where(i["cond"], i["a"], torch.tensor(k["s"], dtype=i["a"].dtype)),
    "relu": lambda i, k: F.relu(i["x"]),
    "sigmoid": lambda i, k: torch.sigmoid(i["x"]),
    "tanh": lambda i, k: torch.tanh(i["x"]),
    "gelu": lambda i, k: F.gelu(i["x"], approximate=opt(k, "approximate", "none")),
    "eq": lambda i, k: i["a"] == (i["b"] if "b" in i else k["s"]),
    "ne": lambda i, k: i["a"] != (i["b"] if "b" in i else k["s"]),
    "lt": lambda i, k: i["a"] < (i["b"] if "b" in i else k["s"]),
    "le": lambda i, k: i["a"] <= (i["b"] if "b" in i else k["s"]),
    "gt": lambda i, k: i["a"] > (i["b"] if "b" in i else k["s"]),
    "ge": lambda i, k: i["a"] >= (i["b"] if "b" in i else k["s"]),
    "sum": lambda i, k: i["x"].sum() if opt(k, "dim") is None else i["x"].sum(k["dim"], keepdim=opt(k, "keepdim", False)),
    "mean": lambda i, k: i["x"].mean() if opt(k, "dim") is None else i["x"].mean(k["dim"], keepdim=opt(k, "keepdim", False)),
    "var": var,
    "std": lambda i, k: i["x"].std(k["dim"], unbiased=opt(k, "correction", 1) == 1, keepdim=opt(k, "keepdim", False)),
    "max": reduce_("max"),
    "min": reduce_("min"),
    "amax": lambda i, k: i["x"].amax(k["dim"], keepdim=opt(k, "keepdim", False)),
    "amin": lambda i, k: i["x"].amin(k["dim"], keepdim=opt(k, "keepdim", False)),
    "argmax": reduce_("argmax"),
    "argmin": reduce_("argmin"),
    "logsumexp": lambda i, k: i["x"].logsumexp(k["dim"], keepdim=opt(k, "keepdim", False)),
    "matmul": lambda i, k: torch.matmul(i["a"], i["b"]),
    "mm": lambda i, k: torch.mm(i["a"], i["b"]),
    "bmm": lambda i, k: torch.bmm(i["a"], i["b"]),
    "linear": lambda i, k: F.linear(i["x"], i["weight"], i.get("bias")),
    "conv2d": lambda i, k: F.conv2d(i["x"], i["weight"], i.get("bias"), stride=opt(k, "stride", 1),
                                    padding=opt(k, "padding", 0), dilation=opt(k, "dilation", 1),
                                    groups=opt(k, "groups", 1)),
    "maxPool2d": lambda i, k: list(F.max_pool2d(i["x"], k["kernelSize"], dilation=opt(k, "dilation", 1),
                                                return_indices=True, **pool_kw(k))),
    "avgPool2d": lambda i, k: F.avg_pool2d(i["x"], k["kernelSize"], count_include_pad=opt(k, "countIncludePad", True),
                                           divisor_override=opt(k, "divisorOverride"), **pool_kw(k)),
    "adaptiveAvgPool2d": lambda i, k: F.adaptive_avg_pool2d(i["x"], k["outputSize"]),
    "batchNorm": bn,
    "layerNorm": lambda i, k: F.layer_norm(i["x"], k["normalizedShape"], i.get("weight"), i.get("bias"),
                                           eps=opt(k, "eps", 1e-5)),
    "softmax": lambda i, k: F.softmax(i["x"], k["dim"]),
    "logSoftmax": lambda i, k: F.log_softmax(i["x"], k["dim"]),
    "crossEntropy": ce,
    "nllLoss": nll,
    "mseLoss": lambda i, k: F.mse_loss(i["x"], i["target"], reduction=opt(k, "reduction", "mean")),
    "bceWithLogits": bce,
    "cat": lambda i, k: torch.cat([i[n] for n in sorted(i)], k["dim"]),
    "stack": lambda i, k: torch.stack([i[n] for n in sorted(i)], k["dim"]),
    "split": lambda i, k: list(torch.split(i["x"], k["size"], k["dim"])),
    "chunk": lambda i, k: list(torch.chunk(i["x"], k["chunks"], k["dim"])),
    "gather": lambda i, k: torch.gather(i["x"], k["dim"], i["index"]),
    "indexSelect": lambda i, k: torch.index_select(i["x"], k["dim"], i["index"]),
    "topk": lambda i, k: list(torch.topk(i["x"], k["k"], k["dim"], largest=opt(k, "largest", True))),
    "oneHot": lambda i, k: F.one_hot(i["x"], opt(k, "numClasses", -1)),
    "pad2d": lambda i, k: F.pad(i["x"], k["pad"]),
    "reshape": lambda i, k: i["x"].reshape(k["shape"]),
    "permute": lambda i, k: i["x"].permute(*k["dims"]),
    "transpose": lambda i, k: i["x"].transpose(k["dim0"], k["dim1"]),
    "expand": lambda i, k: i["x"].expand(*k["shape"]),
    "squeeze": lambda i, k: i["x"].squeeze() if opt(k, "dim") is None else i["x"].squeeze(k["dim"]),
    "unsqueeze": lambda i, k: i["x"].unsqueeze(k["dim"]),
    "flatten": lambda i, k: i["x"].flatten(k["start"], k["end"]),
    "narrow": lambda i, k: i["x"].narrow(k["dim"], k["start"], k["length"]),
    "select": lambda i, k: i["x"].select(k["dim"], k["index"]),
    "slice": lambda i, k: i["x"][(slice(None),) * k["dim"] + (slice(k["start"], k["end"], k["step"]),)],
    "asStrided": lambda i, k: i["x"].as_strided(k["shape"], k["strides"], k["offset"]),
    "unbind": lambda i, k: list(i["x"].unbind(k["dim"])),
    "clone": lambda i, k: i["x"].clone(),
    "contiguous": lambda i, k: i["x"].contiguous(),
    "prod": reduce_("prod"),
    "cumsum": lambda i, k: torch.cumsum(i["x"], k["dim"]),
    "flip": lambda i, k: torch.flip(i["x"], k["dims"]),
    "maskedFill": lambda i, k: i["x"].masked_fill(i["mask"], i["value"] if "value" in i else k["s"]),
}

# The public unary ops of graft's op table (packages/tensor/src/ops/unary.ts), graft name -> (torch name, the
# range golden inputs are drawn from). src/ops/unary.test.ts fails when the table has an op this list lacks.
UNARY = {
    "neg": ("neg", None), "abs": ("abs", None), "square": ("square", None), "exp": ("exp", None),
    "exp2": ("exp2", (-3, 3)), "expm1": ("expm1", (-2, 2)), "log": ("log", (0.1, 5)), "log2": ("log2", (0.1, 5)),
    "log1p": ("log1p", (-0.9, 3)), "sqrt": ("sqrt", (0.1, 5)), "rsqrt": ("rsqrt", (0.1, 5)),
    "reciprocal": ("reciprocal", (0.5, 2)), "sin": ("sin", (-4, 4)), "cos": ("cos", (-4, 4)), "tan": ("tan", (-1.3, 1.3)),
    "asin": ("asin", (-0.95, 0.95)), "acos": ("acos", (-0.95, 0.95)), "atan": ("atan", (-4, 4)),
    "sinh": ("sinh", (-3, 3)), "cosh": ("cosh", (-3, 3)), "tanh": ("tanh", (-4, 4)), "sigmoid": ("sigmoid", (-6, 6)),
    "relu": ("relu", None), "erf": ("erf", (-3, 3)), "sign": ("sign", None), "floor": ("floor", (-3, 3)),
    "ceil": ("ceil", (-3, 3)), "round": ("round", (-3, 3)), "logicalNot": ("logical_not", None),
    "isnan": ("isnan", None), "isfinite": ("isfinite", None),
}
for _name, (_torch, _) in UNARY.items():
    OPS.setdefault(_name, (lambda fn: lambda i, k: getattr(torch, fn)(i["x"]))(_torch))


def case(name, op, inputs, kw=None, gradcheck=True):
    """Evaluates one case in float64 and returns its fixture record."""
    kw = kw or {}
    leaves, views, specs = {}, {}, []
    for spec in inputs:
        v = spec.draw()
        float_in = spec.dtype in ("float32", "float64")
        t = torch.tensor(v, dtype=torch.float64 if float_in else DT[spec.dtype])
        if spec.grad:
            t.requires_grad_(True)
        leaves[spec.name] = t
        views[spec.name] = apply_view(t, spec.view)
        rec = {"name": spec.name, "shape": spec.shape, "dtype": spec.dtype, "data": flat(t, f32=True)}
        if spec.grad:
            rec["grad"] = True
        if spec.view:
            rec["view"] = spec.view
        specs.append(rec)
    outs = OPS[op](views, kw)
    outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
    out_recs, ups, diff_outs, diff_ups = [], [], [], []
    for o in outs:
        dtype = "float32" if o.dtype == torch.float64 else DT_NAME[o.dtype]
        out_recs.append(tdesc(o, dtype, f32=True))
        if o.requires_grad:
            up = torch.tensor(rng.standard_normal(list(o.shape)).astype(np.float32), dtype=torch.float64)
            ups.append(flat(up, f32=True))
            diff_outs.append(o)
            diff_ups.append(up)
        else:
            ups.append(None)
    rec = {"name": name, "op": op, "kw": kw, "inputs": specs, "outputs": out_recs}
    grad_leaves = [n for n in leaves if leaves[n].requires_grad]
    if diff_outs and grad_leaves:
        gs = torch.autograd.grad(diff_outs, [leaves[n] for n in grad_leaves], diff_ups, allow_unused=True)
        rec["upstream"] = ups
        rec["grads"] = {n: (None if g is None else flat(g, f32=True)) for n, g in zip(grad_leaves, gs)}
    if not gradcheck:
        rec["gradcheck"] = False
    return rec


# ---------------------------------------------------------------- the cases

def op_cases():
    C = []
    add = C.append
    T = ["transpose", 0, 1]

    # binary arithmetic: same shape, broadcast both ways, scalars, non-contiguous operands
    for op in ["add", "sub", "mul", "div"]:
        bgen = dict(gen="uniform", lo=0.5, hi=2.0) if op == "div" else {}
        add(case(f"{op}/same", op, [In("a", [3, 4]), In("b", [3, 4], **bgen)]))
        add(case(f"{op}/broadcast", op, [In("a", [3, 1, 4]), In("b", [2, 1], **bgen)]))
        add(case(f"{op}/broadcast-rank", op, [In("a", [4]), In("b", [2, 3, 4], **bgen)]))
        add(case(f"{op}/transposed", op, [In("a", [4, 3], view=[T]), In("b", [3, 4], **bgen)]))
        add(case(f"{op}/sliced", op, [In("a", [3, 8], view=[["slice", 1, 1, 8, 2]]), In("b", [3, 1], **bgen)]))
        add(case(f"{op}/scalar-tensor", op, [In("a", [2, 3]), In("b", [], **bgen)]))
        add(case(f"{op}/no-grad-b", op, [In("a", [2, 3]), In("b", [2, 3], grad=False, **bgen)]))
        s = 0.75 if op != "div" else -1.5
        add(case(f"{op}Scalar", f"{op}Scalar", [In("a", [2, 5])], {"s": s}))
    add(case("add/alpha", "add", [In("a", [2, 3]), In("b", [3])], {"alpha": -2.5}))
    add(case("sub/alpha", "sub", [In("a", [2, 3]), In("b", [2, 1])], {"alpha": 0.5}))
    add(case("add/expanded", "add", [In("a", [3, 1], view=[["expand", [3, 4]]]), In("b", [3, 4])]))
    add(case("mul/self-broadcast", "mul", [In("a", [1, 4]), In("b", [3, 1])]))
    add(case("addScalar/int", "addScalar", [In("a", [5], gen="int", lo=-5, hi=5, dtype="int64", grad=False)], {"s": 2}))
    add(case("mulScalar/int-float", "mulScalar", [In("a", [5], gen="int", lo=-5, hi=5, dtype="int64", grad=False)],
             {"s": 0.5}))
    add(case("divScalar/int", "divScalar", [In("a", [5], gen="int", lo=-5, hi=5, dtype="int64", grad=False)], {"s": 2}))
    add(case("pow/tensor", "pow", [In("a", [3, 4], gen="pos"), In("b", [3, 4], gen="uniform", lo=-2, hi=2)]))
    add(case("pow/broadcast", "pow", [In("a", [2, 3], gen="pos"), In("b", [3], gen="uniform", lo=-2, hi=2)]))
    add(case("pow/transposed", "pow", [In("a", [3, 2], gen="pos", view=[T]), In("b", [2, 1], gen="uniform", lo=0, hi=3)]))
    for s in [2, 3, 0.5, -1.5, 0, 1]:
        g = "pos" if s != int(s) else "randn"
        add(case(f"powScalar/{s}", "powScalar", [In("a", [2, 4], gen=g)], {"s": s}))

    # unary
    add(case("neg", "neg", [In("x", [3, 4])]))
    add(case("neg/transposed", "neg", [In("x", [4, 3], view=[T])]))
    add(case("exp", "exp", [In("x", [3, 4])]))
    add(case("exp/sliced", "exp", [In("x", [4, 6], view=[["slice", 1, 0, 6, 3]])]))
    add(case("log", "log", [In("x", [3, 4], gen="uniform", lo=0.1, hi=5)]))
    add(case("log/edge", "log", [In("x", [4], values=[0, 1, 2.5, float("inf")], grad=False)]))
    add(case("sqrt", "sqrt", [In("x", [3, 4], gen="uniform", lo=0.1, hi=5)]))
    add(case("sqrt/transposed", "sqrt", [In("x", [4, 3], gen="pos", view=[T])]))
    add(case("rsqrt", "rsqrt", [In("x", [3, 4], gen="uniform", lo=0.1, hi=5)]))
    add(case("abs", "abs", [In("x", [3, 4])]))
    add(case("abs/zero", "abs", [In("x", [4], values=[-2, 0, 0.5, -0.25])], gradcheck=False))
    add(case("reciprocal", "reciprocal", [In("x", [3, 4], gen="pos")]))
    add(case("square", "square", [In("x", [3, 4])]))
    add(case("relu", "relu", [In("x", [3, 4])]))
    add(case("relu/zero", "relu", [In("x", [5], values=[-1, 0, 1, -0.0, 2.5])], gradcheck=False))
    add(case("relu/transposed", "relu", [In("x", [4, 3], view=[T])]))
    add(case("sigmoid", "sigmoid", [In("x", [3, 4], gen="uniform", lo=-6, hi=6)]))
    add(case("sigmoid/extreme", "sigmoid", [In("x", [4], values=[-100, -20, 20, 100])]))
    add(case("tanh", "tanh", [In("x", [3, 4], gen="uniform", lo=-4, hi=4)]))
    add(case("tanh/sliced", "tanh", [In("x", [3, 8], view=[["slice", 1, 2, 7, 1]])]))
    xs = np.linspace(-6, 6, 97).tolist()
    add(case("gelu/erf-grid", "gelu", [In("x", [97], values=xs)]))
    add(case("gelu/erf", "gelu", [In("x", [3, 4], gen="uniform", lo=-4, hi=4)]))
    add(case("gelu/tanh-grid", "gelu", [In("x", [97], values=xs)], {"approximate": "tanh"}))
    add(case("gelu/tanh", "gelu", [In("x", [4, 3], gen="uniform", lo=-4, hi=4, view=[T])], {"approximate": "tanh"}))
    add(case("clamp/both", "clamp", [In("x", [3, 4], gen="uniform", lo=-2, hi=2)], {"min": -0.5, "max": 0.75}))
    add(case("clamp/min", "clamp", [In("x", [3, 4])], {"min": 0.1}))
    add(case("clamp/max", "clamp", [In("x", [4, 3], view=[T])], {"max": -0.2}))
    add(case("clamp/boundary", "clamp", [In("x", [6], values=[-1, -0.5, 0, 0.75, 1, 0.3])], {"min": -0.5, "max": 0.75},
             gradcheck=False))
    add(case("maximum", "maximum", [In("a", [3, 4]), In("b", [3, 4])]))
    add(case("maximum/broadcast", "maximum", [In("a", [3, 1]), In("b", [4])]))
    add(case("maximum/ties", "maximum", [In("a", [5], values=[1, 2, 3, -1, 0]), In("b", [5], values=[1, 3, 2, -1, 0.5])],
             gradcheck=False))
    add(case("minimum", "minimum", [In("a", [4, 3], view=[T]), In("b", [3, 4])]))
    add(case("minimum/ties", "minimum", [In("a", [4], values=[1, 2, 3, -1]), In("b", [4], values=[1, 3, 2, -1])],
             gradcheck=False))
    add(case("where", "where", [In("cond", [3, 4], gen="bool", dtype="bool", grad=False), In("a", [3, 4]),
                                In("b", [3, 4])]))
    add(case("where/broadcast", "where", [In("cond", [3, 1], gen="bool", dtype="bool", grad=False), In("a", [4]),
                                          In("b", [2, 1, 1])]))
    add(case("where/transposed", "where", [In("cond", [4, 3], gen="bool", dtype="bool", grad=False, view=[T]),
                                           In("a", [4, 3], view=[T]), In("b", [3, 4])]))
    add(case("whereScalar", "whereScalar", [In("cond", [2, 3], gen="bool", dtype="bool", grad=False),
                                            In("a", [2, 3])], {"s": 0.25}))

    # comparisons (ties included), against tensors, broadcasts and scalars
    cmp_a = [0.5, -1, 2, 2, 0, 3]
    cmp_b = [0.5, 1, 1, 2, -0.0, 4]
    for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
        add(case(f"{op}/ties", op, [In("a", [2, 3], values=cmp_a, grad=False), In("b", [2, 3], values=cmp_b, grad=False)]))
        add(case(f"{op}/broadcast", op, [In("a", [2, 3], values=cmp_a, grad=False),
                                         In("b", [3], values=[0.5, 2, 3], grad=False)]))
        add(case(f"{op}/scalar", op, [In("a", [2, 3], values=cmp_a, grad=False)], {"s": 2}))
        add(case(f"{op}/int", op, [In("a", [4], values=[1, 2, 3, 4], dtype="int64", grad=False)], {"s": 2.5}))

    # reductions over dims, keepdim, negative dims, non-contiguous inputs
    for op in ["sum", "mean"]:
        add(case(f"{op}/all", op, [In("x", [3, 4])]))
        add(case(f"{op}/dim0", op, [In("x", [3, 4])], {"dim": 0}))
        add(case(f"{op}/dim-1-keepdim", op, [In("x", [2, 3, 4])], {"dim": -1, "keepdim": True}))
        add(case(f"{op}/dims", op, [In("x", [2, 3, 4])], {"dim": [0, 2]}))
        add(case(f"{op}/dims-keepdim", op, [In("x", [2, 3, 4])], {"dim": [2, 0], "keepdim": True}))
        add(case(f"{op}/transposed", op, [In("x", [4, 3], view=[T])], {"dim": 1}))
    add(case("sum/int", "sum", [In("x", [2, 3], gen="int", lo=-4, hi=9, dtype="int64", grad=False)], {"dim": 1}))
    add(case("sum/bool", "sum", [In("x", [2, 3], gen="bool", dtype="bool", grad=False)]))
    add(case("var/all", "var", [In("x", [3, 4])]))
    add(case("var/dim", "var", [In("x", [3, 4])], {"dim": 1}))
    add(case("var/dim-biased-keepdim", "var", [In("x", [2, 3, 4])], {"dim": [0, 2], "correction": 0, "keepdim": True}))
    add(case("var/transposed", "var", [In("x", [5, 3], view=[T])], {"dim": -1}))
    add(case("std/dim", "std", [In("x", [3, 4])], {"dim": 0}))
    add(case("max/all", "max", [In("x", [3, 4])]))
    add(case("max/all-ties", "max", [In("x", [2, 3], values=[1, 5, 2, 5, 0, 5])], gradcheck=False))
    add(case("max/dim", "max", [In("x", [3, 4])], {"dim": 1}))
    add(case("max/dim-keepdim", "max", [In("x", [2, 3, 4])], {"dim": 0, "keepdim": True}))
    add(case("max/dim-ties", "max", [In("x", [2, 4], values=[1, 3, 3, 0, 2, 2, 2, 2])], {"dim": 1}, gradcheck=False))
    add(case("max/transposed", "max", [In("x", [4, 3], view=[T])], {"dim": -1}))
    add(case("min/all", "min", [In("x", [3, 4])]))
    add(case("min/all-ties", "min", [In("x", [4], values=[-1, 2, -1, 3])], gradcheck=False))
    add(case("min/dim", "min", [In("x", [3, 4])], {"dim": 0}))
    add(case("min/dim-keepdim", "min", [In("x", [2, 3, 4])], {"dim": -1, "keepdim": True}))
    add(case("amax/dims", "amax", [In("x", [2, 3, 4])], {"dim": [0, 2]}))
    add(case("amin/dim-keepdim", "amin", [In("x", [3, 4])], {"dim": 1, "keepdim": True}))
    add(case("argmax/all", "argmax", [In("x", [3, 4], grad=False)]))
    add(case("argmax/dim", "argmax", [In("x", [3, 4], grad=False)], {"dim": 1}))
    add(case("argmax/dim-keepdim", "argmax", [In("x", [2, 3, 4], grad=False)], {"dim": 0, "keepdim": True}))
    add(case("argmax/ties", "argmax", [In("x", [2, 4], values=[1, 3, 3, 0, 2, 2, 2, 2], grad=False)], {"dim": 1}))
    add(case("argmax/transposed", "argmax", [In("x", [4, 3], view=[T], grad=False)], {"dim": 1}))
    add(case("argmin/dim", "argmin", [In("x", [3, 4], grad=False)], {"dim": 0}))
    add(case("logsumexp/dim", "logsumexp", [In("x", [3, 4])], {"dim": 1}))
    add(case("logsumexp/dims-keepdim", "logsumexp", [In("x", [2, 3, 4])], {"dim": [0, 2], "keepdim": True}))
    add(case("logsumexp/large", "logsumexp", [In("x", [2, 3], values=[1000, 1001, 999, -1000, -1002, -999])],
             {"dim": 1}))
    add(case("logsumexp/transposed", "logsumexp", [In("x", [4, 3], view=[T])], {"dim": 0}))

    # matmul family
    add(case("matmul/1d-1d", "matmul", [In("a", [5]), In("b", [5])]))
    add(case("matmul/1d-2d", "matmul", [In("a", [4]), In("b", [4, 3])]))
    add(case("matmul/2d-1d", "matmul", [In("a", [3, 4]), In("b", [4])]))
    add(case("matmul/2d-2d", "matmul", [In("a", [3, 4]), In("b", [4, 5])]))
    add(case("matmul/transposed", "matmul", [In("a", [4, 3], view=[T]), In("b", [5, 4], view=[T])]))
    add(case("matmul/batched", "matmul", [In("a", [2, 3, 4]), In("b", [2, 4, 2])]))
    add(case("matmul/broadcast-batch", "matmul", [In("a", [2, 1, 3, 4]), In("b", [3, 4, 2])]))
    add(case("matmul/3d-2d", "matmul", [In("a", [2, 3, 4]), In("b", [4, 5])]))
    add(case("matmul/3d-1d", "matmul", [In("a", [2, 3, 4]), In("b", [4])]))
    add(case("matmul/1d-3d", "matmul", [In("a", [3]), In("b", [2, 3, 4])]))
    add(case("matmul/sliced", "matmul", [In("a", [3, 8], view=[["slice", 1, 0, 8, 2]]), In("b", [4, 2])]))
    # Big enough (>= 64^3 multiply-adds) for the CPU backend's WebAssembly kernels.
    add(case("matmul/large", "matmul", [In("a", [64, 64]), In("b", [64, 64])], gradcheck=False))
    add(case("matmul/large-transposed", "matmul", [In("a", [64, 64]), In("b", [64, 64], view=[T])], gradcheck=False))
    add(case("mm", "mm", [In("a", [2, 3]), In("b", [3, 4])]))
    add(case("bmm", "bmm", [In("a", [2, 2, 3]), In("b", [2, 3, 4])]))
    add(case("bmm/transposed", "bmm", [In("a", [2, 3, 2], view=[["transpose", 1, 2]]), In("b", [2, 3, 4])]))
    add(case("linear", "linear", [In("x", [2, 3, 4]), In("weight", [5, 4]), In("bias", [5])]))
    add(case("linear/no-bias", "linear", [In("x", [3, 4]), In("weight", [2, 4])]))

    # conv2d
    x = lambda s=(2, 3, 6, 6), **o: In("x", list(s), **o)
    w = lambda s, **o: In("weight", list(s), **o)
    b = lambda n: In("bias", [n])
    add(case("conv2d/basic", "conv2d", [x(), w([4, 3, 3, 3]), b(4)]))
    add(case("conv2d/no-bias", "conv2d", [x(), w([2, 3, 3, 3])]))
    add(case("conv2d/stride2", "conv2d", [x((1, 3, 7, 7)), w([2, 3, 3, 3]), b(2)], {"stride": 2}))
    add(case("conv2d/stride-pair", "conv2d", [x((1, 2, 7, 6)), w([3, 2, 3, 2]), b(3)], {"stride": [2, 1]}))
    add(case("conv2d/padding1", "conv2d", [x(), w([2, 3, 3, 3]), b(2)], {"padding": 1}))
    add(case("conv2d/padding-pair", "conv2d", [x((1, 2, 5, 5)), w([2, 2, 3, 3])], {"padding": [2, 1]}))
    add(case("conv2d/same-odd", "conv2d", [x((1, 2, 5, 6)), w([3, 2, 3, 5]), b(3)], {"padding": "same"}))
    add(case("conv2d/same-even", "conv2d", [x((1, 2, 5, 6)), w([2, 2, 2, 4]), b(2)], {"padding": "same"}))
    add(case("conv2d/same-dilated", "conv2d", [x((1, 2, 6, 6)), w([2, 2, 2, 3])], {"padding": "same", "dilation": 2}))
    add(case("conv2d/valid", "conv2d", [x((1, 2, 5, 5)), w([2, 2, 3, 3])], {"padding": "valid"}))
    add(case("conv2d/dilation", "conv2d", [x((1, 2, 7, 7)), w([2, 2, 3, 3]), b(2)], {"dilation": 2, "padding": 1}))
    add(case("conv2d/dilation-pair", "conv2d", [x((1, 1, 7, 8)), w([2, 1, 2, 3])], {"dilation": [1, 2]}))
    add(case("conv2d/groups2", "conv2d", [x((2, 4, 5, 5)), w([6, 2, 3, 3]), b(6)], {"groups": 2, "padding": 1}))
    add(case("conv2d/depthwise", "conv2d", [x((1, 3, 5, 5)), w([3, 1, 3, 3]), b(3)], {"groups": 3, "stride": 2}))
    add(case("conv2d/1x1", "conv2d", [x((2, 4, 3, 3)), w([5, 4, 1, 1])]))
    add(case("conv2d/all", "conv2d", [x((2, 4, 8, 7)), w([4, 2, 3, 2]), b(4)],
             {"stride": [2, 1], "padding": [1, 2], "dilation": [2, 1], "groups": 2}))
    add(case("conv2d/transposed-input", "conv2d", [x((1, 2, 6, 5), view=[["transpose", 2, 3]]), w([2, 2, 3, 3]), b(2)]))
    add(case("conv2d/sliced-input", "conv2d", [x((1, 4, 6, 6), view=[["slice", 1, 1, 4, 2]]), w([2, 2, 3, 3])]))
    add(case("conv2d/large", "conv2d", [x((1, 16, 10, 10)), w([32, 16, 3, 3]), b(32)], {"padding": 1},
             gradcheck=False))
    add(case("conv2d/unbatched", "conv2d", [x((2, 5, 5)), w([3, 2, 3, 3]), b(3)], {"padding": 1}))

    # pooling
    add(case("maxPool2d/k2", "maxPool2d", [x((2, 2, 6, 6))], {"kernelSize": 2}))
    add(case("maxPool2d/k3s2p1", "maxPool2d", [x((1, 2, 7, 7))], {"kernelSize": 3, "stride": 2, "padding": 1}))
    add(case("maxPool2d/ceil", "maxPool2d", [x((1, 2, 7, 7))], {"kernelSize": 3, "stride": 2, "ceilMode": True}))
    add(case("maxPool2d/ceil-pad", "maxPool2d", [x((1, 1, 6, 8))],
             {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True}))
    add(case("maxPool2d/dilation", "maxPool2d", [x((1, 2, 8, 8))], {"kernelSize": 2, "stride": 1, "dilation": 2}))
    add(case("maxPool2d/rect", "maxPool2d", [x((1, 2, 6, 7))], {"kernelSize": [2, 3], "stride": [2, 1]}))
    add(case("maxPool2d/overlap", "maxPool2d", [x((1, 1, 5, 5))], {"kernelSize": 3, "stride": 1}))
    add(case("maxPool2d/ties", "maxPool2d", [In("x", [1, 1, 4, 4], values=[1, 1, 2, 0, 1, 1, 2, 2, 3, 0, 0, 0, 0, 3, 0, 0])],
             {"kernelSize": 2}, gradcheck=False))
    add(case("maxPool2d/transposed", "maxPool2d", [x((1, 2, 6, 5), view=[["transpose", 2, 3]])], {"kernelSize": 2}))
    add(case("maxPool2d/unbatched", "maxPool2d", [x((2, 4, 4))], {"kernelSize": 2}))
    add(case("avgPool2d/k2", "avgPool2d", [x((2, 2, 6, 6))], {"kernelSize": 2}))
    add(case("avgPool2d/pad-include", "avgPool2d", [x((1, 2, 5, 5))], {"kernelSize": 3, "stride": 2, "padding": 1}))
    add(case("avgPool2d/pad-exclude", "avgPool2d", [x((1, 2, 5, 5))],
             {"kernelSize": 3, "stride": 2, "padding": 1, "countIncludePad": False}))
    add(case("avgPool2d/ceil", "avgPool2d", [x((1, 2, 6, 6))], {"kernelSize": 3, "stride": 2, "ceilMode": True}))
    add(case("avgPool2d/ceil-pad-include", "avgPool2d", [x((1, 1, 6, 7))],
             {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True}))
    add(case("avgPool2d/ceil-pad-exclude", "avgPool2d", [x((1, 1, 6, 7))],
             {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False}))
    add(case("avgPool2d/divisor", "avgPool2d", [x((1, 2, 4, 4))], {"kernelSize": 2, "divisorOverride": 3}))
    add(case("avgPool2d/rect", "avgPool2d", [x((1, 2, 5, 7))], {"kernelSize": [2, 3], "stride": [1, 2]}))
    add(case("avgPool2d/sliced", "avgPool2d", [x((1, 2, 8, 6), view=[["slice", 2, 0, 8, 2]])], {"kernelSize": 2}))
    add(case("adaptiveAvgPool2d/3", "adaptiveAvgPool2d", [x((1, 2, 7, 7))], {"outputSize": 3}))
    add(case("adaptiveAvgPool2d/rect", "adaptiveAvgPool2d", [x((2, 2, 5, 7))], {"outputSize": [2, 3]}))
    add(case("adaptiveAvgPool2d/upsample", "adaptiveAvgPool2d", [x((1, 1, 3, 2))], {"outputSize": [4, 5]}))
    add(case("adaptiveAvgPool2d/global", "adaptiveAvgPool2d", [x((2, 3, 4, 5))], {"outputSize": 1}))
    add(case("adaptiveAvgPool2d/none", "adaptiveAvgPool2d", [x((1, 2, 6, 5))], {"outputSize": [None, 2]}))
    add(case("adaptiveAvgPool2d/transposed", "adaptiveAvgPool2d", [x((1, 2, 6, 5), view=[["transpose", 2, 3]])],
             {"outputSize": [3, 4]}))

    # normalisation
    rs = lambda n: [In("running_mean", [n], grad=False), In("running_var", [n], gen="pos", grad=False)]
    add(case("batchNorm/train-4d", "batchNorm", [x((3, 2, 3, 3)), *rs(2), In("weight", [2]), In("bias", [2])],
             {"training": True}))
    add(case("batchNorm/train-2d-momentum", "batchNorm", [In("x", [5, 3]), *rs(3), In("weight", [3]), In("bias", [3])],
             {"training": True, "momentum": 0.3, "eps": 1e-3}))
    add(case("batchNorm/train-no-affine", "batchNorm", [x((2, 3, 2, 2)), *rs(3)], {"training": True}))
    add(case("batchNorm/train-no-stats", "batchNorm", [x((2, 2, 3, 2)), In("weight", [2]), In("bias", [2])],
             {"training": True}))
    add(case("batchNorm/eval", "batchNorm", [x((2, 3, 2, 2)), *rs(3), In("weight", [3]), In("bias", [3])],
             {"training": False}))
    add(case("batchNorm/eval-2d", "batchNorm", [In("x", [4, 3]), *rs(3)], {"training": False, "eps": 0.1}))
    add(case("batchNorm/train-transposed", "batchNorm",
             [x((2, 3, 4, 3), view=[["transpose", 2, 3]]), *rs(3), In("weight", [3]), In("bias", [3])],
             {"training": True}))
    add(case("layerNorm/last", "layerNorm", [In("x", [3, 5]), In("weight", [5]), In("bias", [5])],
             {"normalizedShape": [5]}))
    add(case("layerNorm/two-dims", "layerNorm", [In("x", [2, 3, 4]), In("weight", [3, 4]), In("bias", [3, 4])],
             {"normalizedShape": [3, 4], "eps": 1e-3}))
    add(case("layerNorm/no-affine", "layerNorm", [In("x", [4, 3], view=[T])], {"normalizedShape": [4]}))

    # softmax family
    add(case("softmax/dim1", "softmax", [In("x", [3, 5])], {"dim": 1}))
    add(case("softmax/dim0", "softmax", [In("x", [3, 5])], {"dim": 0}))
    add(case("softmax/3d-mid", "softmax", [In("x", [2, 3, 4])], {"dim": -2}))
    add(case("softmax/large", "softmax", [In("x", [2, 3], values=[1000, 1001, 999, -1000, -1002, -999])], {"dim": 1}))
    add(case("softmax/neg-inf", "softmax", [In("x", [2, 3], values=[0.5, float("-inf"), 1, 2, 1, float("-inf")])],
             {"dim": 1}, gradcheck=False))
    add(case("softmax/transposed", "softmax", [In("x", [5, 3], view=[T])], {"dim": 1}))
    add(case("logSoftmax/dim1", "logSoftmax", [In("x", [3, 5])], {"dim": 1}))
    add(case("logSoftmax/dim0", "logSoftmax", [In("x", [4, 3], view=[T])], {"dim": 0}))
    add(case("logSoftmax/large", "logSoftmax", [In("x", [2, 3], values=[1000, 1001, 999, -1000, -1002, -999])],
             {"dim": -1}))

    # losses
    X = lambda s=(4, 5), **o: In("x", list(s), **o)
    tgt = lambda s=(4,), hi=5, values=None: In("target", list(s), gen="int", lo=0, hi=hi, dtype="int64", grad=False,
                                               values=values)
    wt = lambda n=5: In("weight", [n], gen="pos", grad=False)
    for red in ["mean", "sum", "none"]:
        add(case(f"crossEntropy/{red}", "crossEntropy", [X(), tgt()], {"reduction": red}))
        add(case(f"crossEntropy/weight-{red}", "crossEntropy", [X(), tgt(), wt()], {"reduction": red}))
        add(case(f"crossEntropy/ignore-{red}", "crossEntropy", [X(), tgt(values=[1, -100, 3, 0])],
                 {"reduction": red}))
        add(case(f"crossEntropy/smooth-{red}", "crossEntropy", [X(), tgt()], {"reduction": red, "labelSmoothing": 0.1}))
        add(case(f"crossEntropy/smooth-weight-ignore-{red}", "crossEntropy",
                 [X((5, 4)), tgt((5,), values=[0, 3, 2, 2, 1]), wt(4)],
                 {"reduction": red, "labelSmoothing": 0.2, "ignoreIndex": 2}))
        add(case(f"crossEntropy/probs-{red}", "crossEntropy",
                 [X(), In("target", [4, 5], gen="softmax")], {"reduction": red}))
        add(case(f"crossEntropy/probs-smooth-weight-{red}", "crossEntropy",
                 [X(), In("target", [4, 5], gen="softmax"), wt()], {"reduction": red, "labelSmoothing": 0.15}))
        add(case(f"nllLoss/{red}", "nllLoss", [X(), tgt()], {"reduction": red}))
        add(case(f"nllLoss/weight-ignore-{red}", "nllLoss", [X(), tgt(values=[1, 4, 4, 0]), wt()],
                 {"reduction": red, "ignoreIndex": 4}))
        add(case(f"mseLoss/{red}", "mseLoss", [X((3, 4)), In("target", [3, 4])], {"reduction": red}))
        add(case(f"bceWithLogits/{red}", "bceWithLogits",
                 [X((3, 4)), In("target", [3, 4], gen="uniform", lo=0, hi=1)], {"reduction": red}))
    add(case("crossEntropy/spatial", "crossEntropy", [X((2, 3, 2, 2)), tgt((2, 2, 2), hi=3)]))
    add(case("crossEntropy/spatial-smooth-weight", "crossEntropy", [X((2, 3, 2, 2)), tgt((2, 2, 2), hi=3), wt(3)],
             {"labelSmoothing": 0.1}))
    add(case("crossEntropy/unbatched", "crossEntropy", [X((5,)), In("target", [], values=3, dtype="int64", grad=False)]))
    add(case("crossEntropy/transposed", "crossEntropy", [X((5, 4), view=[T]), tgt()]))
    add(case("crossEntropy/all-ignored", "crossEntropy", [X((2, 3)), tgt((2,), values=[-100, -100])], gradcheck=False))
    add(case("nllLoss/spatial", "nllLoss", [X((2, 3, 4)), tgt((2, 4), hi=3)]))
    add(case("mseLoss/transposed", "mseLoss", [X((4, 3), view=[T]), In("target", [3, 4])]))
    add(case("bceWithLogits/large", "bceWithLogits",
             [In("x", [6], values=[-100, -20, -1, 1, 20, 100]), In("target", [6], gen="uniform", lo=0, hi=1)]))
    add(case("bceWithLogits/weights", "bceWithLogits",
             [X((3, 4)), In("target", [3, 4], gen="uniform", lo=0, hi=1), In("weight", [4], gen="pos", grad=False),
              In("posWeight", [4], gen="pos", grad=False)]))

    # joining, splitting, indexing
    add(case("cat/dim0", "cat", [In("a", [2, 3]), In("b", [1, 3]), In("c", [3, 3])], {"dim": 0}))
    add(case("cat/dim1", "cat", [In("a", [2, 3]), In("b", [2, 1], grad=False)], {"dim": -1}))
    add(case("cat/non-contiguous", "cat", [In("a", [3, 2], view=[T]), In("b", [2, 8], view=[["slice", 1, 0, 8, 2]])],
             {"dim": 1}))
    add(case("cat/empty-1d", "cat", [In("a", [0], grad=False), In("b", [3])], {"dim": 0}))
    add(case("stack/dim0", "stack", [In("a", [2, 3]), In("b", [2, 3])], {"dim": 0}))
    add(case("stack/dim-last", "stack", [In("a", [3, 2], view=[T]), In("b", [2, 3]), In("c", [2, 3])], {"dim": 2}))
    add(case("split/uneven", "split", [In("x", [7, 2])], {"size": 3, "dim": 0}))
    add(case("split/sizes", "split", [In("x", [2, 6])], {"size": [1, 3, 2], "dim": 1}))
    add(case("split/transposed", "split", [In("x", [5, 3], view=[T])], {"size": 2, "dim": 1}))
    add(case("chunk/uneven", "chunk", [In("x", [2, 7])], {"chunks": 3, "dim": 1}))
    add(case("chunk/fewer", "chunk", [In("x", [5, 2])], {"chunks": 4, "dim": 0}))
    add(case("gather/dim1", "gather", [In("x", [3, 4]), In("index", [3, 2], values=[0, 3, 1, 1, 2, 0], dtype="int64",
                                                               grad=False)], {"dim": 1}))
    add(case("gather/dim0", "gather", [In("x", [3, 4]), In("index", [2, 4], gen="int", lo=0, hi=3, dtype="int64",
                                                               grad=False)], {"dim": 0}))
    add(case("gather/smaller", "gather", [In("x", [4, 3], view=[T]),
                                          In("index", [2, 5], gen="int", lo=0, hi=4, dtype="int64", grad=False)],
             {"dim": -1}))
    add(case("indexSelect/dim0", "indexSelect",
             [In("x", [4, 3]), In("index", [5], values=[3, 0, 3, 1, 3], dtype="int64", grad=False)], {"dim": 0}))
    add(case("indexSelect/dim1", "indexSelect",
             [In("x", [3, 4], view=[T]), In("index", [2], values=[2, 0], dtype="int64", grad=False)], {"dim": 1}))
    add(case("topk/largest", "topk", [In("x", [3, 6])], {"k": 3, "dim": 1}))
    add(case("topk/smallest-dim0", "topk", [In("x", [5, 3])], {"k": 2, "dim": 0, "largest": False}))
    add(case("topk/transposed", "topk", [In("x", [6, 3], view=[T])], {"k": 4, "dim": -1}))
    add(case("oneHot/given", "oneHot", [In("x", [4], values=[0, 2, 1, 2], dtype="int64", grad=False)],
             {"numClasses": 4}))
    add(case("oneHot/inferred", "oneHot", [In("x", [2, 3], values=[0, 4, 1, 2, 0, 1], dtype="int64", grad=False)]))
    add(case("pad2d", "pad2d", [In("x", [1, 2, 3, 3])], {"pad": [1, 2, 0, 1]}))

    # NaN propagation (forward only)
    nan = float("nan")
    nanx = [1.0, nan, 3.0, -2.0, 0.5, 4.0]
    add(case("nan/max-dim", "max", [In("x", [2, 3], values=nanx, grad=False)], {"dim": 1}))
    add(case("nan/max-all", "max", [In("x", [2, 3], values=nanx, grad=False)]))
    add(case("nan/min-dim0", "min", [In("x", [2, 3], values=nanx, grad=False)], {"dim": 0}))
    add(case("nan/argmax", "argmax", [In("x", [2, 3], values=nanx, grad=False)], {"dim": 1}))
    add(case("nan/argmin-all", "argmin", [In("x", [2, 3], values=nanx, grad=False)]))
    add(case("nan/amax", "amax", [In("x", [2, 3], values=nanx, grad=False)], {"dim": 0}))
    add(case("nan/maximum", "maximum", [In("a", [6], values=nanx, grad=False), In("b", [6], values=[nan, 0, 5, 1, 0.5, 2],
                                                                                  grad=False)]))
    add(case("nan/minimum", "minimum", [In("a", [6], values=nanx, grad=False), In("b", [6], values=[nan, 0, 5, 1, 0.5, 2],
                                                                                  grad=False)]))
    add(case("nan/clamp", "clamp", [In("x", [6], values=nanx, grad=False)], {"min": 0, "max": 2}))
    add(case("nan/relu", "relu", [In("x", [6], values=nanx, grad=False)]))
    add(case("nan/sum-mean", "mean", [In("x", [2, 3], values=nanx, grad=False)], {"dim": 1}))
    add(case("nan/softmax", "softmax", [In("x", [2, 3], values=nanx, grad=False)], {"dim": 1}))
    add(case("nan/topk", "topk", [In("x", [6], values=nanx, grad=False)], {"k": 3, "dim": 0}))
    add(case("nan/maxPool2d", "maxPool2d", [In("x", [1, 1, 2, 3], values=nanx, grad=False)], {"kernelSize": [2, 2],
                                                                                               "stride": 1}))
    add(case("nan/sign-compare", "gt", [In("a", [6], values=nanx, grad=False)], {"s": 0.5}))
    add(case("nan/eq", "eq", [In("a", [6], values=nanx, grad=False), In("b", [6], values=nanx, grad=False)]))
    add(case("inf/exp-log", "exp", [In("x", [4], values=[float("inf"), float("-inf"), 100, -100], grad=False)]))
    add(case("empty/sum", "sum", [In("x", [0, 3], grad=False)], {"dim": 0}))
    add(case("empty/mean", "mean", [In("x", [0], grad=False)]))
    add(case("empty/max-dim", "max", [In("x", [0, 3], grad=False)], {"dim": 1}))

    # views with gradients
    add(case("reshape/view", "reshape", [In("x", [2, 6])], {"shape": [3, -1]}))
    add(case("reshape/copy", "reshape", [In("x", [3, 4], view=[T])], {"shape": [6, 2]}))
    add(case("permute", "permute", [In("x", [2, 3, 4])], {"dims": [2, 0, 1]}))
    add(case("transpose", "transpose", [In("x", [2, 3, 4])], {"dim0": -1, "dim1": 0}))
    add(case("expand", "expand", [In("x", [3, 1])], {"shape": [2, 3, 4]}))
    add(case("expand/-1", "expand", [In("x", [1, 3])], {"shape": [4, -1]}))
    add(case("squeeze/all", "squeeze", [In("x", [1, 3, 1, 2])]))
    add(case("squeeze/dim", "squeeze", [In("x", [1, 3, 1, 2])], {"dim": 2}))
    add(case("unsqueeze", "unsqueeze", [In("x", [4, 3], view=[T])], {"dim": 1}))
    add(case("flatten", "flatten", [In("x", [2, 3, 2, 2])], {"start": 1, "end": 2}))
    add(case("narrow", "narrow", [In("x", [4, 5])], {"dim": 1, "start": 1, "length": 3}))
    add(case("select", "select", [In("x", [3, 4])], {"dim": 0, "index": -1}))
    add(case("slice/step", "slice", [In("x", [3, 9])], {"dim": 1, "start": 1, "end": 8, "step": 3}))
    add(case("slice/negative", "slice", [In("x", [6, 2])], {"dim": 0, "start": -4, "end": -1, "step": 1}))
    add(case("asStrided", "asStrided", [In("x", [3, 4])], {"shape": [2, 2], "strides": [1, 4], "offset": 1}))
    add(case("asStrided/overlap", "asStrided", [In("x", [6])], {"shape": [3, 3], "strides": [1, 1], "offset": 0}))
    add(case("unbind", "unbind", [In("x", [3, 2])], {"dim": 1}))
    add(case("clone", "clone", [In("x", [3, 4], view=[T])]))
    add(case("contiguous", "contiguous", [In("x", [3, 4], view=[T])]))
    C.extend(op_table_cases())
    return C


def op_table_cases():
    """Cases added with the op table (unary ops, prod, cumsum, flip, maskedFill). They draw from their own
    generator, so every case before them, and the dropout draws after, keep their bytes."""
    global rng
    saved, rng = rng, np.random.default_rng(20261204)
    try:
        return _op_table_cases()
    finally:
        rng = saved


def _op_table_cases():
    C = []
    add = C.append
    T = ["transpose", 0, 1]
    new = ["exp2", "expm1", "log2", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf"]
    for name in new:
        lo, hi = UNARY[name][1]
        add(case(f"{name}/table", name, [In("x", [3, 4], gen="uniform", lo=lo, hi=hi)]))
        add(case(f"{name}/table-transposed", name, [In("x", [4, 3], gen="uniform", lo=lo, hi=hi, view=[T])]))
    add(case("sin/int", "sin", [In("x", [5], gen="int", lo=-5, hi=5, dtype="int64", grad=False)]))
    add(case("exp2/int", "exp2", [In("x", [5], gen="int", lo=-5, hi=5, dtype="int32", grad=False)]))
    add(case("asin/edge", "asin", [In("x", [5], values=[-1, 1, 1.5, float("nan"), 0], grad=False)]))
    add(case("log2/edge", "log2", [In("x", [5], values=[0, 1, 8, float("inf"), -1], grad=False)]))
    add(case("log1p/edge", "log1p", [In("x", [4], values=[-1, 1e-10, -2, float("inf")], grad=False)]))
    add(case("expm1/small", "expm1", [In("x", [4], values=[1e-10, -1e-7, 0, 2.5])]))
    add(case("cosh/large", "cosh", [In("x", [4], values=[-20, 20, 100, -0.0])], gradcheck=False))
    for name in ["sign", "floor", "ceil", "round", "logicalNot", "isnan", "isfinite"]:
        add(case(f"{name}/table", name, [In("x", [7], values=[-2.5, -0.5, 0, 0.5, 1.5, 2.7, float("nan")],
                                             grad=False)]))
    add(case("round/int", "round", [In("x", [4], gen="int", lo=-9, hi=9, dtype="int64", grad=False)]))
    add(case("abs/int", "abs", [In("x", [4], values=[-3, 0, 2, -7], dtype="int64", grad=False)]))

    # prod: PyTorch's gradient with no zero, one zero and several zeros in a slice
    add(case("prod/all", "prod", [In("x", [3, 4], gen="uniform", lo=0.5, hi=1.5)]))
    add(case("prod/dim", "prod", [In("x", [3, 4])], {"dim": 1}))
    add(case("prod/dim-keepdim", "prod", [In("x", [2, 3, 4])], {"dim": 0, "keepdim": True}))
    add(case("prod/transposed", "prod", [In("x", [4, 3], view=[T])], {"dim": -1}))
    add(case("prod/one-zero", "prod", [In("x", [5], values=[1.5, 0, -2, 0.5, 3])]))
    add(case("prod/two-zeros", "prod", [In("x", [5], values=[1.5, 0, -2, 0, 3])]))
    add(case("prod/dim-zeros", "prod", [In("x", [3, 4], values=[1, 2, 3, 4, 0, 2, -1, 0.5, 0, 3, 0, 2])], {"dim": 1}))
    add(case("prod/dim0-zeros", "prod", [In("x", [3, 3], values=[0, 2, 0, 1, 0, 3, -2, 4, 0])], {"dim": 0}))
    add(case("prod/int", "prod", [In("x", [2, 3], gen="int", lo=-4, hi=5, dtype="int64", grad=False)], {"dim": 1}))
    add(case("prod/int32-all", "prod", [In("x", [4], values=[1, -2, 3, 2], dtype="int32", grad=False)]))

    # cumsum (odd and even lengths for the scan's rounds)
    add(case("cumsum/dim1", "cumsum", [In("x", [3, 5])], {"dim": 1}))
    add(case("cumsum/dim0", "cumsum", [In("x", [4, 2])], {"dim": 0}))
    add(case("cumsum/long", "cumsum", [In("x", [2, 11])], {"dim": -1}))
    add(case("cumsum/3d", "cumsum", [In("x", [2, 7, 3])], {"dim": 1}))
    add(case("cumsum/transposed", "cumsum", [In("x", [6, 3], view=[T])], {"dim": 1}))
    add(case("cumsum/one", "cumsum", [In("x", [3, 1])], {"dim": 1}))
    add(case("cumsum/int32", "cumsum", [In("x", [6], gen="int", lo=-9, hi=9, dtype="int32", grad=False)], {"dim": 0}))
    add(case("cumsum/bool", "cumsum", [In("x", [2, 4], gen="bool", dtype="bool", grad=False)], {"dim": 1}))

    # flip
    add(case("flip/dim0", "flip", [In("x", [3, 4])], {"dims": [0]}))
    add(case("flip/dims", "flip", [In("x", [2, 3, 4])], {"dims": [0, 2]}))
    add(case("flip/negative", "flip", [In("x", [2, 5])], {"dims": [-1]}))
    add(case("flip/transposed", "flip", [In("x", [4, 3], view=[T])], {"dims": [1, 0]}))
    add(case("flip/int", "flip", [In("x", [5], gen="int", lo=0, hi=9, dtype="int64", grad=False)], {"dims": [0]}))

    # maskedFill
    mask = lambda shape, **o: In("mask", shape, gen="bool", dtype="bool", grad=False, **o)
    add(case("maskedFill/scalar", "maskedFill", [In("x", [3, 4]), mask([3, 4])], {"s": -1.5}))
    add(case("maskedFill/broadcast-mask", "maskedFill", [In("x", [3, 4]), mask([3, 1])], {"s": 2}))
    add(case("maskedFill/widen", "maskedFill", [In("x", [4]), mask([3, 4])], {"s": 0.5}))
    add(case("maskedFill/transposed", "maskedFill", [In("x", [4, 3], view=[T]), mask([4])], {"s": 0}))
    add(case("maskedFill/tensor-value", "maskedFill", [In("x", [2, 3]), mask([2, 3]), In("value", [])]))
    add(case("maskedFill/int", "maskedFill", [In("x", [5], gen="int", lo=0, hi=9, dtype="int64", grad=False),
                                              mask([5])], {"s": 7}))
    return C


def op_table_grad_fn_names():
    """grad_fn names of the table's differentiable ops and of prod, cumsum, flip and maskedFill."""
    x = torch.rand(2, 3, dtype=torch.float64).add(0.1).requires_grad_(True)
    names = {}
    for name, (fn, _) in UNARY.items():
        y = getattr(torch, fn)(x)
        names[name] = type(y.grad_fn).__name__ if y.grad_fn is not None else None
    m = x > 0.5
    names["prod"] = type(x.prod().grad_fn).__name__
    names["prodDim"] = type(x.prod(1).grad_fn).__name__
    names["cumsum"] = type(x.cumsum(1).grad_fn).__name__
    names["flip"] = type(x.flip(0).grad_fn).__name__
    names["maskedFill"] = type(x.masked_fill(m, 1.0).grad_fn).__name__
    names["maskedFillTensor"] = type(x.masked_fill(m, torch.tensor(1.0, requires_grad=True)).grad_fn).__name__
    return names


def erf_values():
    """torch.erf in float64 on a grid across every branch of a rational erf approximation."""
    x = torch.tensor(np.concatenate([np.linspace(-7, 7, 281), [0.49999, 0.5, 0.50001, 3.99999, 4.0, 4.00001, 1e-10,
                                                               -1e-300, 30.0]]), dtype=torch.float64)
    return {"x": x.tolist(), "erf": torch.erf(x).tolist()}


def dropout_cases():
    """Dropout's masks come from PyTorch's RNG, which graft does not share: record the semantics only."""
    torch.manual_seed(0)
    x = torch.tensor(rng.standard_normal([200]).astype(np.float32), dtype=torch.float64)
    out = []
    for p in [0.0, 0.25, 0.5, 1.0]:
        y = F.dropout(x, p, training=True)
        kept = y != 0
        scale = (y[kept] / x[kept]).unique().tolist() if kept.any() else []
        out.append({"p": p, "x": flat(x, f32=True), "keptScale": scale, "evalEqualsInput": bool(torch.equal(
            F.dropout(x, p, training=False), x))})
    return out


# ---------------------------------------------------------------- printing

def fmt_cases():
    """repr() of tensors covering _tensor_str's modes. A spec is values (or an arange), shape, dtype, then ops."""
    cases = []

    def add(name, values=None, shape=None, dtype="float32", ops=(), grad=False, arange=None):
        if arange is not None:
            t = torch.arange(arange, dtype=torch.float64)
        else:
            # Through float32 first, as graft's tensor() of JS numbers rounds them.
            t = torch.tensor(values, dtype=torch.float64 if dtype == "float64" else torch.float32)
        t = t.to(DT[dtype])
        if shape is not None:
            t = t.reshape(shape)
        if grad:
            t.requires_grad_(True)
        spec = {"dtype": dtype, "shape": list(t.shape), "ops": [list(o) for o in ops]}
        for op in ops:
            t = apply_fmt_op(t, op)
        if arange is not None:
            spec["arange"] = arange
        else:
            spec["values"] = values
        if grad:
            spec["requiresGrad"] = True
        cases.append({"name": name, "spec": spec, "repr": repr(t)})

    nan, inf = float("nan"), float("inf")
    add("int-mode", [1, 2, 3])
    add("int-mode-2d", [1, -2, 30, 4], [2, 2])
    add("fixed", [0.1, 2.5, -3.25, 1 / 3])
    add("fixed-negative", [-0.5, -12.125, 7.0625])
    add("fixed-tie-even", [0.03125, 0.09375, 1.00005, 2.5])
    add("sci-small", [1e-5, 1.0, 123.5])
    add("sci-ratio", [0.5, 1500.25])
    add("sci-int-large", [1, 1e9])
    add("sci-int-ratio", [1, 2000])
    add("sci-tie-even", [1.03125, 1e-5])
    add("sci-tie-odd", [1.09375, 1e-5])
    add("sci-tie-large", [12345500000.0, 2.5])
    add("sci-negative", [-1.5e-7, 2.0, -3e5])
    add("nan-inf", [nan, inf, -inf, 1.5])
    add("nan-inf-int-mode", [1, nan, -inf, 100])
    add("all-nan", [nan, nan])
    add("zeros", [0, 0, 0])
    add("negative-zero", [-0.0, 1.5, 0.0])
    add("negative-zero-int-mode", [-0.0, 2.0])
    add("bool", [True, False, True], dtype="bool")
    add("int32", [1, -20, 300], dtype="int32")
    add("int64", [[5, -6], [70, 8]], [2, 2], dtype="int64")
    add("float64", [1.5, -2.25, 3.0], dtype="float64")
    add("float16", [0.1, 2.0, -3.5], dtype="float16")
    add("bfloat16", [0.1, 2.0, 300.0], dtype="bfloat16")
    add("uint8", [0, 255, 7], dtype="uint8")
    add("scalar", 3.5, [])
    add("scalar-int", 7, [], dtype="int64")
    add("scalar-bool", True, [], dtype="bool")
    add("empty", [], [0])
    add("empty-2d", [], [0, 3])
    add("empty-3d-int64", [], [2, 0, 1], dtype="int64")
    add("empty-requires-grad", [], [0], grad=True)
    add("3d", None, [2, 3, 4], arange=24)
    add("3d-fraction", None, [2, 2, 3], arange=12, ops=[("div", 7)])
    add("summarised-1d", None, [2000], arange=2000)
    add("summarised-2d", None, [40, 30], arange=1200, ops=[("div", 3)])
    add("summarised-3d", None, [12, 10, 10], arange=1200)
    add("summarised-rows-only", None, [1001, 1], arange=1001)
    add("wrap-linewidth", None, [30], arange=30, ops=[("div", 7)])
    add("wrap-ints", None, [40], arange=40, ops=[("mul", 1001)])
    add("wrap-2d", None, [2, 20], arange=40, ops=[("div", 9)])
    add("requires-grad", [1.0, 2.0], grad=True)
    add("requires-grad-2d", [0.5, -1.25, 3.0, 4.0], [2, 2], grad=True)
    add("grad-fn-add", [1.0, 2.0], grad=True, ops=[("add", 1)])
    add("grad-fn-mul", [1.0, 2.0], grad=True, ops=[("mul", 2)])
    add("grad-fn-sum", [1.0, 2.0], grad=True, ops=[("sum",)])
    add("grad-fn-mean", [[1.0, 2.0], [3.0, 4.0]], grad=True, ops=[("mean",)])
    add("grad-fn-relu", [-1.0, 2.0], grad=True, ops=[("relu",)])
    add("grad-fn-view", [1.0, 2.0, 3.0, 4.0], grad=True, ops=[("view", [2, 2])])
    add("grad-fn-suffix-wrap", None, [16], arange=16, grad=True, ops=[("div", 7)])
    add("double-grad-fn", [1.5, 2.5], dtype="float64", grad=True, ops=[("mul", 2)])
    add("double-requires-grad", [1.5, 2.5], dtype="float64", grad=True)
    add("empty-float64", [], [0], dtype="float64")
    add("empty-bool", [], [0, 2], dtype="bool")
    add("summarised-wide-int64", None, [2, 600], dtype="int64", arange=1200, ops=[("mul", 1001)])
    add("summarised-tall", None, [600, 2], arange=1200, ops=[("div", 4)])
    add("wrap-int64", None, [40], dtype="int64", arange=40, ops=[("mul", -1001)])
    add("wrap-bool", [True, False] * 15, dtype="bool")
    add("sci-min-boundary", [0.0001, 1.0])
    add("sci-max-boundary", [1e8, 1.5])
    add("int-mode-1e8", [1e8, 3.0])
    add("fixed-large", [12345.5, 0.25])
    add("3d-summarised-grad", None, [11, 10, 10], arange=1100, grad=True, ops=[("div", 11)])
    return cases


def apply_fmt_op(t, op):
    name, args = op[0], op[1:]
    return getattr(t, name)(*args)


def grad_fn_names():
    """grad_fn class names PyTorch gives common ops (src/test-utils/registry.ts builds the same expressions)."""
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    m = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, dtype=torch.float64, requires_grad=True)
    img = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    wconv = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    bconv = torch.randn(2, dtype=torch.float64, requires_grad=True)
    tgt = torch.tensor([0, 2])
    exprs = {
        "add": lambda: x + x,
        "addScalar": lambda: x + 1,
        "sub": lambda: x - x,
        "mul": lambda: x * x,
        "mulScalar": lambda: x * 2,
        "div": lambda: x / x,
        "divScalar": lambda: x / 2,
        "neg": lambda: -x,
        "pow": lambda: x.pow(2),
        "exp": lambda: x.exp(),
        "log": lambda: x.abs().log(),
        "sqrt": lambda: x.abs().sqrt(),
        "abs": lambda: x.abs(),
        "relu": lambda: x.relu(),
        "sigmoid": lambda: x.sigmoid(),
        "tanh": lambda: x.tanh(),
        "gelu": lambda: F.gelu(x),
        "clamp": lambda: x.clamp(-1, 1),
        "sum": lambda: x.sum(),
        "sumDim": lambda: x.sum(1),
        "mean": lambda: x.mean(),
        "meanDim": lambda: x.mean(0),
        "maxAll": lambda: x.max(),
        "maxDim": lambda: x.max(1)[0],
        "matmul2d": lambda: x @ m,
        "matmul1d": lambda: v @ v,
        "matmulMv": lambda: m @ v,
        "mm": lambda: torch.mm(x, m),
        # (reshape is left out: torch 1.13 names its node ReshapeAliasBackward0, a name only 1.11-1.13
        # used; 2.x prints ViewBackward0 again, as graft does.)
        "view": lambda: x.view(6),
        "transpose": lambda: x.transpose(0, 1),
        "t": lambda: x.t(),
        "permute": lambda: x.permute(1, 0),
        "unsqueeze": lambda: x.unsqueeze(0),
        "squeezeDim": lambda: x.unsqueeze(0).squeeze(0),
        "expand": lambda: v.expand(2, 3),
        "select": lambda: x.select(0, 1),
        "slice": lambda: x[:, 1:],
        "narrow": lambda: x.narrow(1, 0, 2),
        "clone": lambda: x.clone(),
        "cat": lambda: torch.cat([x, x]),
        "stack": lambda: torch.stack([x, x]),
        "softmax": lambda: F.softmax(x, 1),
        "logSoftmax": lambda: F.log_softmax(x, 1),
        "crossEntropy": lambda: F.cross_entropy(x, tgt),
        "nllLoss": lambda: F.nll_loss(x, tgt),
        "mseLoss": lambda: F.mse_loss(x, x.detach()),
        "conv2d": lambda: F.conv2d(img, wconv),
        "conv2dBias": lambda: F.conv2d(img, wconv, bconv),
        "maxPool2d": lambda: F.max_pool2d(img, 2),
        "avgPool2d": lambda: F.avg_pool2d(img, 2),
        "adaptiveAvgPool2d": lambda: F.adaptive_avg_pool2d(img, 1),
        "where": lambda: torch.where(x > 0, x, x * 2),
        "maximum": lambda: torch.maximum(x, x * 2),
        "gather": lambda: x.gather(1, torch.tensor([[0], [1]])),
        "indexSelect": lambda: x.index_select(1, torch.tensor([0, 2])),
        "toDouble": lambda: x.float(),
    }
    return {k: type(f().grad_fn).__name__ for k, f in exprs.items()}


# ---------------------------------------------------------------- dtypes and creation

def dtype_fixtures():
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 65504.0, 65519.99, 65520.0, 1e5, 6.1e-5, 6.0e-8, 2.9e-8, 3.0e-8, 1e-9,
            1.0009765625, 1.00048828125, 1.00146484375, 2049.0, 2051.0, 3.4e38, -2.5e-6, 123.456, float("inf"),
            float("-inf"), float("nan"), 1.00390625, 1.01171875, 1e-40, 3.3895e38]
    x = torch.tensor(vals, dtype=torch.float32)
    half = x.half()
    bf = x.bfloat16()
    fx = torch.tensor([2.7, -2.7, 0.5, -0.5, 1e3, -1e3, 0.0], dtype=torch.float32)
    ints = torch.tensor([0, 1, -1, 2 ** 31 - 1, -2 ** 31, 2 ** 53, -2 ** 53], dtype=torch.int64)
    promo = {}
    kinds = ["bool", "uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
    for a in kinds:
        for b in kinds:
            ta = torch.ones(2, dtype=DT[a])
            tb = torch.ones(2, dtype=DT[b])
            promo[f"{a},{b}"] = DT_NAME[(ta + tb).dtype]
            promo[f"{a},{b}:0d"] = DT_NAME[(ta + torch.ones((), dtype=DT[b])).dtype]
    scalar = {}
    for a in kinds:
        ta = torch.ones(2, dtype=DT[a])
        scalar[f"{a},int"] = DT_NAME[(ta + 2).dtype]
        scalar[f"{a},float"] = DT_NAME[(ta + 2.5).dtype]
        scalar[f"{a},bool"] = DT_NAME[(ta + True).dtype]
    return {
        "float32": flat(x),
        "float16Bits": [int(v) & 0xFFFF for v in half.view(torch.int16).tolist()],
        "float16Values": half.float().tolist(),
        "bfloat16Bits": [int(v) & 0xFFFF for v in bf.view(torch.int16).tolist()],
        "bfloat16Values": bf.float().tolist(),
        "casts": {
            "from": fx.tolist(),
            "int32": fx.int().tolist(),
            "int64": fx.long().tolist(),
            "bool": fx.bool().tolist(),
            "float16": fx.half().float().tolist(),
        },
        "int64": {"values": ints.tolist(), "float64": ints.double().tolist(), "float32": ints.float().tolist(),
                  "sumTimes2": (ints[:5] * 2).tolist()},
        "promotion": promo,
        "scalarPromotion": scalar,
    }


def creation_fixtures():
    out = {"arange": [], "linspace": [], "eye": []}
    for args, dt in [((5,), None), ((2, 9, 3), None), ((0, 1, 0.1), None), ((-1, 1, 0.25), None), ((1, 2.5, 0.5), None),
                     ((10, 0, -3), None), ((0, 3), "float32"), ((0.5, 4), None), ((0, 10, 0.3), "float64"),
                     ((1, -1, -0.1), None)]:
        t = torch.arange(*args, dtype=DT[dt] if dt else None)
        out["arange"].append({"args": list(args), "dtype": dt, "out": tdesc(t)})
    for args, dt in [((0, 1, 5), None), ((-1, 1, 7), None), ((0, 1, 10), None), ((3, -2, 11), None), ((0, 1, 1), None),
                     ((0, 1, 0), None), ((1.5, 1.5, 3), None), ((0.1, 0.7, 4), None), ((-3.3, 7.9, 23), None),
                     ((0, 1, 10), "float64"), ((0, 10, 5), "int64"), ((0, 100, 101), None), ((-5, 5, 64), None)]:
        t = torch.linspace(*args, dtype=DT[dt] if dt else None)
        out["linspace"].append({"args": list(args), "dtype": dt, "out": tdesc(t)})
    for args, dt in [((3,), None), ((2, 4), None), ((4, 2), "int64"), ((1,), "bool"), ((0,), None)]:
        t = torch.eye(*args, dtype=DT[dt] if dt else None)
        out["eye"].append({"args": list(args), "dtype": dt, "out": tdesc(t)})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "ops.json": {"cases": op_cases(), "dropout": dropout_cases(), "erf": erf_values(),
                     "gradFnNames": op_table_grad_fn_names()},
        "format.json": {"cases": fmt_cases(), "gradFnNames": grad_fn_names()},
        "dtype.json": dtype_fixtures(),
        "creation.json": creation_fixtures(),
    }
    total = 0
    for name, obj in files.items():
        text = dumps(obj) + "\n"
        with open(os.path.join(OUT, name), "w") as f:
            f.write(text)
        total += len(text)
        print(f"{name}: {len(text)} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
