"""Golden fixtures for @graft/nn, generated with PyTorch (1.13, /usr/bin/python3).

Run from the repository root:  /usr/bin/python3 scripts/golden/nn.py
Writes packages/nn/fixtures/*.json. Tests read these files; they never run Python.

Float arrays are stored as base64 of little-endian float32 ({"shape", "f32"}); integer arrays as
lists ({"shape", "i64"}). Weights that must be rebuilt in TypeScript without storing them come
from `pattern()`, an integer hash both languages compute with exact IEEE arithmetic.
"""
import base64
import json
import math
import os
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'packages', 'nn', 'fixtures')
torch.manual_seed(0)


# ---------------------------------------------------------------- encoding

def enc(t):
    t = t.detach().cpu().contiguous()
    if t.dtype in (torch.int64, torch.int32):
        return {'shape': list(t.shape), 'i64': [int(v) for v in t.reshape(-1).tolist()]}
    arr = t.to(torch.float32).numpy().astype('<f4')
    return {'shape': list(t.shape), 'f32': base64.b64encode(arr.tobytes()).decode('ascii')}


def dtype_name(t):
    return str(t.dtype).replace('torch.', '')


def pattern(n, seed, scale):
    """Deterministic values in [-scale/2, scale/2): ((i * 2654435761 + seed * 97) mod 1000003) / 1000003 - 0.5, times scale, as float32."""
    i = np.arange(n, dtype=np.int64)
    v = ((i * 2654435761 + seed * 97) % 1000003).astype(np.float64) / 1000003.0 - 0.5
    return (v * scale).astype(np.float32)


def pattern_tensor(shape, seed, scale):
    n = int(np.prod(shape)) if len(shape) else 1
    return torch.from_numpy(pattern(n, seed, scale).reshape(shape))


def fill_pattern(model):
    """Overwrites every floating parameter and buffer with pattern values (seeded by position)."""
    with torch.no_grad():
        for k, (name, t) in enumerate(model.state_dict(keep_vars=True).items()):
            if not t.is_floating_point():
                continue
            if name.endswith('running_var'):
                t.copy_(pattern_tensor(list(t.shape), k, 1.0) + 1.0)
            else:
                fan = t[0].numel() if t.dim() > 1 else t.numel()
                t.copy_(pattern_tensor(list(t.shape), k, 2.0 / math.sqrt(fan)))


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write('\n')
    print(f'{path}: {os.path.getsize(path)} bytes')


# ---------------------------------------------------------------- model trees (mirrored in src/test-utils/models.ts)

class Net(nn.Module):
    """The seed article's LeNet-style network."""

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

    def initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight.data)
                if m.bias is not None:
                    nn.init.constant_(m.bias.data, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight.data, 1)
                nn.init.constant_(m.bias.data, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight.data, 0, 0.01)
                m.bias.data.zero_()


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TinyResNet(nn.Module):
    """ResNet-18's module tree at toy width: what the replaced-head example does to a real ResNet."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8))
        down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, down), BasicBlock(16, 16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class Nested(nn.Module):
    """Containers inside containers, buffers (one non-persistent), a shared module and a tied weight."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
            nn.Sequential(nn.Conv2d(4, 4, 3, bias=False), nn.ReLU()))
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.ModuleList([nn.Linear(4, 3), nn.Identity()])])
        self.branches = nn.ModuleDict({
            'left': nn.Linear(4, 4),
            'right': nn.Sequential(OrderedDict([('fc', nn.Linear(4, 4)), ('act', nn.GELU())])),
        })
        self.register_buffer('scale', torch.ones(1))
        self.register_buffer('cache', torch.zeros(2), persistent=False)
        self.shared = self.heads[0]
        self.tied = nn.Linear(4, 2, bias=False)
        self.tied.weight = self.heads[0].weight
        self.register_parameter('temperature', nn.Parameter(torch.ones(())))
        self.register_parameter('unused', None)


def resnet_head2():
    m = TinyResNet()
    m.fc = nn.Linear(m.fc.in_features, 2)
    return m


def resnet_cut():
    m = TinyResNet()
    return nn.Sequential(*list(m.children())[:-1], nn.Flatten(), nn.Linear(16, 5))


def net_cut():
    m = Net()
    return nn.Sequential(*(list(m.children())[:-1] + [nn.Flatten(), nn.Linear(84, 5)]))


def net_fc5():
    m = Net()
    m.fc3 = nn.Linear(84, 5)
    return m


def resnet_layer1_identity():
    m = TinyResNet()
    m.layer1 = nn.Identity()
    return m


MODELS = OrderedDict([
    ('Net', Net),
    ('Net_fc5', net_fc5),
    ('Net_cut', net_cut),
    ('TinyResNet', TinyResNet),
    ('TinyResNet_head2', resnet_head2),
    ('TinyResNet_cut', resnet_cut),
    ('TinyResNet_layer1_identity', resnet_layer1_identity),
    ('Nested', Nested),
])


# ---------------------------------------------------------------- reprs

def seq_examples():
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 4))
    named = nn.Sequential(OrderedDict([('conv', nn.Conv2d(1, 2, 3)), ('act', nn.ReLU()), ('head', nn.Linear(2, 2))]))
    appended = nn.Sequential(nn.Linear(2, 3))
    appended.append(nn.ReLU())
    appended.append(nn.Sequential(nn.Linear(3, 3), nn.Tanh()))
    inserted = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    inserted.insert(1, nn.ReLU())
    deleted = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    del deleted[1]
    mlist = nn.ModuleList([nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    mlist.insert(1, nn.Tanh())
    return OrderedDict([
        ('seq', seq),
        ('seq_slice_1_3', seq[1:3]),
        ('seq_slice_neg', seq[-2:]),
        ('seq_index_neg', seq[-1]),
        ('seq_named', named),
        ('seq_named_slice', named[1:]),
        ('seq_appended', appended),
        ('seq_inserted', inserted),
        ('seq_deleted', deleted),
        ('modulelist', mlist),
        ('modulelist_slice', mlist[1:]),
        ('moduledict', nn.ModuleDict(OrderedDict([('b', nn.ReLU()), ('a', nn.Linear(1, 1)), ('10', nn.Tanh())]))),
        ('empty_seq', nn.Sequential()),
        ('empty_list', nn.ModuleList()),
        ('seq_in_seq', nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU())), nn.Linear(2, 1))),
    ])


LAYER_REPRS = OrderedDict([
    ('linear', lambda: nn.Linear(512, 10)),
    ('linear_nobias', lambda: nn.Linear(3, 4, bias=False)),
    ('conv', lambda: nn.Conv2d(3, 6, 5)),
    ('conv_resnet_stem', lambda: nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)),
    ('conv_full', lambda: nn.Conv2d(4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)),
    ('conv_same', lambda: nn.Conv2d(4, 4, 3, padding='same')),
    ('conv_valid', lambda: nn.Conv2d(4, 4, 3, padding='valid')),
    ('conv_same_dilated', lambda: nn.Conv2d(4, 4, 2, padding='same', dilation=2, bias=False)),
    ('bn1d', lambda: nn.BatchNorm1d(10)),
    ('bn2d_options', lambda: nn.BatchNorm2d(64, eps=1e-3, momentum=None, affine=False, track_running_stats=False)),
    ('bn2d_momentum', lambda: nn.BatchNorm2d(8, momentum=0.01)),
    ('layernorm', lambda: nn.LayerNorm(10)),
    ('layernorm_options', lambda: nn.LayerNorm([4, 5], eps=1e-6, elementwise_affine=False)),
    ('relu', lambda: nn.ReLU()),
    ('relu_inplace', lambda: nn.ReLU(inplace=True)),
    ('leaky_relu', lambda: nn.LeakyReLU()),
    ('leaky_relu_options', lambda: nn.LeakyReLU(0.2, inplace=True)),
    ('gelu', lambda: nn.GELU()),
    ('gelu_tanh', lambda: nn.GELU(approximate='tanh')),
    ('sigmoid', lambda: nn.Sigmoid()),
    ('tanh', lambda: nn.Tanh()),
    ('softmax', lambda: nn.Softmax(dim=1)),
    ('softmax_neg', lambda: nn.Softmax(dim=-1)),
    ('softmax_none', lambda: nn.Softmax()),
    ('log_softmax', lambda: nn.LogSoftmax(dim=1)),
    ('maxpool', lambda: nn.MaxPool2d(2, 2)),
    ('maxpool_default_stride', lambda: nn.MaxPool2d(2)),
    ('maxpool_options', lambda: nn.MaxPool2d(3, stride=2, padding=1)),
    ('maxpool_tuples', lambda: nn.MaxPool2d((2, 3), stride=(1, 2), dilation=2, ceil_mode=True)),
    ('avgpool', lambda: nn.AvgPool2d(2)),
    ('avgpool_options', lambda: nn.AvgPool2d(3, stride=2, padding=1)),
    ('avgpool_tuples', lambda: nn.AvgPool2d((2, 2), stride=(1, 1))),
    ('adaptive', lambda: nn.AdaptiveAvgPool2d((1, 1))),
    ('adaptive_int', lambda: nn.AdaptiveAvgPool2d(7)),
    ('adaptive_none', lambda: nn.AdaptiveAvgPool2d((None, 3))),
    ('flatten', lambda: nn.Flatten()),
    ('flatten_options', lambda: nn.Flatten(0, 2)),
    ('unflatten', lambda: nn.Unflatten(1, (2, 5))),
    ('dropout', lambda: nn.Dropout()),
    ('dropout_options', lambda: nn.Dropout(p=0.25, inplace=True)),
    ('identity', lambda: nn.Identity()),
    ('cross_entropy', lambda: nn.CrossEntropyLoss(label_smoothing=0.1)),
    ('nll', lambda: nn.NLLLoss()),
    ('mse', lambda: nn.MSELoss()),
    ('bce_logits', lambda: nn.BCEWithLogitsLoss()),
])


def param_reprs():
    small = nn.Parameter(torch.tensor([[0., 1., 2.], [3., 4., 5.]]))
    frozen = nn.Parameter(torch.tensor([0.5, -1.25]), requires_grad=False)
    wide = nn.Parameter(pattern_tensor([3, 12], 5, 2.0))
    big = nn.Parameter(pattern_tensor([40, 30], 6, 0.2))
    return OrderedDict([('small', small), ('frozen', frozen), ('wide', wide), ('big', big)])


def gen_reprs():
    out = OrderedDict()
    out['models'] = OrderedDict((name, repr(make())) for name, make in MODELS.items())
    out['containers'] = OrderedDict((name, repr(m)) for name, m in seq_examples().items())
    out['layers'] = OrderedDict((name, repr(make())) for name, make in LAYER_REPRS.items())
    out['parameters'] = OrderedDict((name, repr(p)) for name, p in param_reprs().items())
    write('reprs.json', out)


# ---------------------------------------------------------------- structure: keys, names, counts

def structure(model):
    sd = model.state_dict()
    return OrderedDict([
        ('state_dict', [[k, list(v.shape), dtype_name(v)] for k, v in sd.items()]),
        ('named_parameters', [[k, list(p.shape)] for k, p in model.named_parameters()]),
        ('named_buffers', [k for k, _ in model.named_buffers()]),
        ('named_modules', [[k, type(m).__name__] for k, m in model.named_modules()]),
        ('named_children', [k for k, _ in model.named_children()]),
        ('num_parameters', sum(p.numel() for p in model.parameters())),
    ])


def gen_structure():
    out = OrderedDict((name, structure(make())) for name, make in MODELS.items())
    # Freezing everything but the head of the replaced-head model, then counting per top-level child.
    m = resnet_head2()
    for name, p in m.named_parameters():
        p.requires_grad = name.startswith('fc.')
    rows = []
    for name, child in m.named_children():
        total = sum(p.numel() for p in child.parameters())
        trainable = sum(p.numel() for p in child.parameters() if p.requires_grad)
        rows.append([name, type(child).__name__, total, trainable, total - trainable])
    out['frozen_summary'] = rows
    write('structure.json', out)


# ---------------------------------------------------------------- load reports

LOAD_CASES = [
    # name, target model, source model, ops
    ('exact', 'Net', 'Net', []),
    ('head_size_mismatch', 'Net_fc5', 'Net', []),
    ('missing', 'Net', 'Net', [['drop', 'fc1.bias'], ['drop', 'conv2.weight']]),
    ('unexpected', 'Net', 'Net', [['add', 'extra.weight', [3]], ['add', 'fc1.foo', [1]], ['add', 'pool.bar', [2]]]),
    ('all_three', 'Net_fc5', 'Net', [['drop', 'conv1.bias'], ['add', 'fc4.weight', [2, 2]], ['reshape', 'conv2.weight', [16, 6, 3, 3]]]),
    ('resnet_head', 'TinyResNet_head2', 'TinyResNet', []),
    ('resnet_head_dropped', 'TinyResNet_head2', 'TinyResNet', [['drop', 'fc.weight'], ['drop', 'fc.bias']]),
    ('resnet_no_num_batches', 'TinyResNet', 'TinyResNet', [['drop', 'bn1.num_batches_tracked'], ['drop', 'layer2.0.downsample.1.num_batches_tracked']]),
    ('resnet_bn_missing_stats', 'TinyResNet', 'TinyResNet', [['drop', 'layer1.1.bn2.running_var'], ['drop', 'bn1.weight']]),
    ('resnet_scalar_as_vector', 'TinyResNet', 'TinyResNet', [['reshape', 'bn1.num_batches_tracked', [1]]]),
    ('cut_from_resnet', 'TinyResNet_cut', 'TinyResNet', []),
    ('nested_nonpersistent', 'Nested', 'Nested', [['add', 'cache', [2]], ['add', 'heads.1.1.weight', [1]], ['drop', 'shared.bias']]),
]


def build_source(source, ops):
    sd = OrderedDict((k, v.clone()) for k, v in MODELS[source]().state_dict().items())
    for op in ops:
        if op[0] == 'drop':
            del sd[op[1]]
        elif op[0] == 'add':
            sd[op[1]] = torch.zeros(op[2])
        elif op[0] == 'reshape':
            sd[op[1]] = torch.zeros(op[2], dtype=sd[op[1]].dtype)
    return dict(sd)  # a plain dict: no _metadata, as a state dict built in TypeScript


def gen_load_reports():
    cases = []
    for name, target, source, ops in LOAD_CASES:
        case = OrderedDict([('name', name), ('target', target), ('source', source), ('ops', ops)])
        try:
            MODELS[target]().load_state_dict(build_source(source, ops), strict=True)
            case['strict_error'] = None
        except RuntimeError as e:
            case['strict_error'] = str(e)
        try:
            r = MODELS[target]().load_state_dict(build_source(source, ops), strict=False)
            case['nonstrict'] = OrderedDict([('missing', list(r.missing_keys)), ('unexpected', list(r.unexpected_keys))])
            case['nonstrict_error'] = None
        except RuntimeError as e:
            case['nonstrict'] = None
            case['nonstrict_error'] = str(e)
        cases.append(case)
    write('load_reports.json', cases)


# ---------------------------------------------------------------- layer forward / backward

def layer_cases():
    L = []

    def add(name, make, input_shape, mode='train', target=None, inplace=False, positive_input=False):
        L.append((name, make, input_shape, mode, target, inplace, positive_input))

    add('linear', lambda: nn.Linear(5, 3), [4, 5])
    add('linear_nobias', lambda: nn.Linear(5, 3, bias=False), [4, 5])
    add('linear_3d', lambda: nn.Linear(5, 3), [2, 3, 5])
    add('conv2d', lambda: nn.Conv2d(3, 4, 3), [2, 3, 6, 6])
    add('conv2d_stride_pad', lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), [2, 3, 7, 7])
    add('conv2d_dilation_groups', lambda: nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=2, bias=False), [2, 4, 7, 7])
    add('conv2d_same_even', lambda: nn.Conv2d(2, 3, 4, padding='same'), [1, 2, 5, 5])
    add('conv2d_same_dilated', lambda: nn.Conv2d(2, 3, 3, padding='same', dilation=2), [1, 2, 6, 5])
    add('conv2d_valid', lambda: nn.Conv2d(2, 3, 3, padding='valid'), [1, 2, 5, 5])
    add('conv2d_unbatched', lambda: nn.Conv2d(2, 3, 3, padding=1), [2, 5, 5])
    add('batchnorm1d_train', lambda: nn.BatchNorm1d(4), [6, 4])
    add('batchnorm1d_3d_train', lambda: nn.BatchNorm1d(4, momentum=0.3), [3, 4, 5])
    add('batchnorm2d_train', lambda: nn.BatchNorm2d(3), [2, 3, 4, 4])
    add('batchnorm2d_eval', lambda: nn.BatchNorm2d(3, eps=1e-3), [2, 3, 4, 4], mode='eval')
    add('batchnorm2d_notrack_eval', lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False), [2, 3, 4, 4], mode='eval')
    add('batchnorm2d_momentum_none', lambda: nn.BatchNorm2d(3, momentum=None), [2, 3, 3, 3])
    add('layernorm', lambda: nn.LayerNorm(5), [2, 3, 5])
    add('layernorm_2d', lambda: nn.LayerNorm([3, 5], eps=1e-6), [2, 3, 5])
    add('layernorm_noaffine', lambda: nn.LayerNorm(5, elementwise_affine=False), [4, 5])
    add('relu', lambda: nn.ReLU(), [3, 7])
    add('relu_inplace', lambda: nn.ReLU(inplace=True), [3, 7], inplace=True)
    add('leaky_relu', lambda: nn.LeakyReLU(0.2), [3, 7])
    add('leaky_relu_inplace', lambda: nn.LeakyReLU(inplace=True), [3, 7], inplace=True)
    add('gelu', lambda: nn.GELU(), [3, 7])
    add('gelu_tanh', lambda: nn.GELU(approximate='tanh'), [3, 7])
    add('sigmoid', lambda: nn.Sigmoid(), [3, 7])
    add('tanh', lambda: nn.Tanh(), [3, 7])
    add('softmax', lambda: nn.Softmax(dim=1), [3, 7])
    add('softmax_dim0', lambda: nn.Softmax(dim=0), [3, 7])
    add('softmax_implicit', lambda: nn.Softmax(), [2, 3, 4])
    add('log_softmax', lambda: nn.LogSoftmax(dim=-1), [3, 7])
    add('maxpool', lambda: nn.MaxPool2d(2, 2), [2, 3, 6, 6])
    add('maxpool_pad_ceil', lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), [1, 2, 8, 7])
    add('maxpool_dilation', lambda: nn.MaxPool2d(2, stride=1, dilation=2), [1, 2, 6, 6])
    add('avgpool', lambda: nn.AvgPool2d(2), [2, 3, 6, 6])
    add('avgpool_pad', lambda: nn.AvgPool2d(3, stride=2, padding=1), [1, 2, 7, 7])
    add('avgpool_pad_exclude', lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), [1, 2, 7, 7])
    add('avgpool_ceil', lambda: nn.AvgPool2d(2, ceil_mode=True), [1, 2, 5, 5])
    add('adaptive_1', lambda: nn.AdaptiveAvgPool2d((1, 1)), [2, 3, 5, 5])
    add('adaptive_uneven', lambda: nn.AdaptiveAvgPool2d((2, 3)), [1, 2, 5, 7])
    add('flatten', lambda: nn.Flatten(), [2, 3, 4])
    add('flatten_01', lambda: nn.Flatten(0, 1), [2, 3, 4])
    add('unflatten', lambda: nn.Unflatten(1, (2, 6)), [2, 12])
    add('identity', lambda: nn.Identity(), [2, 3])
    add('dropout_eval', lambda: nn.Dropout(0.5), [4, 5], mode='eval')
    add('dropout_p0', lambda: nn.Dropout(0.0), [4, 5])
    add('cross_entropy', lambda: nn.CrossEntropyLoss(), [4, 5], target=('class', [4], 5))
    add('cross_entropy_options', lambda: nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 1.0]), ignore_index=2, label_smoothing=0.1), [6, 5], target=('class', [6], 5))
    add('cross_entropy_sum', lambda: nn.CrossEntropyLoss(reduction='sum'), [4, 5], target=('class', [4], 5))
    add('cross_entropy_probs', lambda: nn.CrossEntropyLoss(), [4, 5], target=('probs', [4, 5]))
    add('cross_entropy_spatial', lambda: nn.CrossEntropyLoss(), [2, 3, 2, 2], target=('class', [2, 2, 2], 3))
    add('nll', lambda: nn.NLLLoss(), [4, 5], target=('class', [4], 5))
    add('nll_weight_none', lambda: nn.NLLLoss(weight=torch.tensor([0.2, 1.0, 3.0, 1.0, 0.5]), reduction='none'), [4, 5], target=('class', [4], 5))
    add('mse', lambda: nn.MSELoss(), [3, 4], target=('float', [3, 4]))
    add('mse_sum', lambda: nn.MSELoss(reduction='sum'), [3, 4], target=('float', [3, 4]))
    add('bce_logits', lambda: nn.BCEWithLogitsLoss(), [3, 4], target=('binary', [3, 4]))
    add('bce_logits_weights', lambda: nn.BCEWithLogitsLoss(weight=torch.tensor([1.0, 0.5, 2.0, 1.0]), pos_weight=torch.tensor([3.0, 1.0, 0.5, 2.0])), [3, 4], target=('binary', [3, 4]))
    return L


def make_target(spec):
    kind = spec[0]
    if kind == 'class':
        t = torch.randint(0, spec[2], spec[1])
        return t
    if kind == 'probs':
        return torch.softmax(torch.randn(spec[1]), dim=1)
    if kind == 'binary':
        return torch.randint(0, 2, spec[1]).float()
    return torch.randn(spec[1])


def randomize_module(m):
    """Non-trivial affine parameters and running statistics, so their gradients and uses are tested."""
    with torch.no_grad():
        for name, t in m.named_parameters():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)):
                t.copy_(torch.randn_like(t) * 0.5 + (1.0 if name == 'weight' else 0.0))
        for name, t in m.named_buffers():
            if name == 'running_mean':
                t.copy_(torch.randn_like(t) * 0.3)
            elif name == 'running_var':
                t.copy_(torch.rand_like(t) + 0.5)
            elif name == 'num_batches_tracked':
                t.fill_(3)


def gen_layers():
    cases = []
    for name, make, input_shape, mode, target_spec, inplace, _ in layer_cases():
        m = make()
        randomize_module(m)
        m.train(mode == 'train')
        state = OrderedDict((k, enc(v)) for k, v in m.state_dict().items())
        x = torch.randn(input_shape, requires_grad=True)
        target = make_target(target_spec) if target_spec else None
        h = x * 1.0 if inplace else x
        out = m(h, target) if target is not None else m(h)
        if out.numel() == 1:
            gout = torch.ones_like(out)
        else:
            gout = torch.randn_like(out)
        out.backward(gout)
        case = OrderedDict([
            ('name', name),
            ('mode', mode),
            ('state_dict', state),
            ('input', enc(x)),
            ('target', enc(target) if target is not None else None),
            ('output', enc(out)),
            ('grad_output', enc(gout)),
            ('grad_input', enc(x.grad)),
            ('grads', OrderedDict((k, enc(p.grad)) for k, p in m.named_parameters() if p.grad is not None)),
            ('buffers_after', OrderedDict((k, enc(b)) for k, b in m.state_dict().items() if k in dict(m.named_buffers()))),
        ])
        cases.append(case)
    write('layers.json', cases)


# ---------------------------------------------------------------- batch norm running statistics over several steps

def gen_batchnorm():
    cases = []
    specs = [
        ('bn2d_momentum_0.1', lambda: nn.BatchNorm2d(3), [2, 3, 4, 4], 4),
        ('bn2d_momentum_none', lambda: nn.BatchNorm2d(3, momentum=None), [2, 3, 4, 4], 4),
        ('bn1d_momentum_0.3', lambda: nn.BatchNorm1d(4, momentum=0.3), [5, 4], 3),
        ('bn2d_notrack', lambda: nn.BatchNorm2d(3, track_running_stats=False), [2, 3, 3, 3], 2),
    ]
    for name, make, shape, steps in specs:
        m = make()
        m.train()
        inputs, after = [], []
        for s in range(steps):
            x = torch.randn(shape) * (1 + s) + s * 0.5
            m(x)
            inputs.append(enc(x))
            after.append(OrderedDict((k, enc(v)) for k, v in m.state_dict().items()))
        m.eval()
        x = torch.randn(shape)
        y = m(x)
        cases.append(OrderedDict([
            ('name', name), ('inputs', inputs), ('state_after_each_step', after),
            ('eval_input', enc(x)), ('eval_output', enc(y)),
        ]))
    write('batchnorm.json', cases)


# ---------------------------------------------------------------- whole networks with pattern weights

def sampled(t, step):
    flat = t.detach().reshape(-1)
    return OrderedDict([('step', step), ('values', enc(flat[::step])), ('sum', float(flat.double().sum()))])


def gen_networks():
    out = OrderedDict()
    # Net, eval-free (no BN): logits, input gradient and parameter gradients under cross entropy.
    net = Net()
    fill_pattern(net)
    x = pattern_tensor([2, 3, 32, 32], 101, 2.0).requires_grad_(True)
    target = torch.tensor([3, 7])
    logits = net(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    grads = OrderedDict()
    for k, p in net.named_parameters():
        grads[k] = sampled(p.grad, 37) if k == 'fc1.weight' else OrderedDict([('full', enc(p.grad))])
    out['Net'] = OrderedDict([
        ('target', [3, 7]), ('logits', enc(logits)), ('loss', float(loss)),
        ('grad_input', enc(x.grad)), ('grads', grads),
    ])
    # TinyResNet in training mode (batch statistics, running stats updated), then in eval mode.
    res = TinyResNet()
    fill_pattern(res)
    x = pattern_tensor([2, 3, 16, 16], 202, 2.0).requires_grad_(True)
    target = torch.tensor([1, 8])
    logits = res(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    buffers = OrderedDict((k, enc(b)) for k, b in res.named_buffers())
    grads = OrderedDict((k, enc(p.grad)) for k, p in res.named_parameters())
    res.eval()
    with torch.no_grad():
        eval_logits = res(x)
    out['TinyResNet'] = OrderedDict([
        ('target', [1, 8]), ('logits', enc(logits)), ('loss', float(loss)), ('grad_input', enc(x.grad)),
        ('grads', grads), ('buffers_after', buffers), ('eval_logits', enc(eval_logits)),
    ])
    # The cut model (children[:-1] + Flatten + Linear) runs end to end.
    cut = resnet_cut()
    fill_pattern(cut)
    cut.eval()
    with torch.no_grad():
        y = cut(pattern_tensor([2, 3, 16, 16], 303, 2.0))
    out['TinyResNet_cut'] = OrderedDict([('output', enc(y))])
    write('networks.json', out)


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    print('torch', torch.__version__)
    gen_reprs()
    gen_structure()
    gen_load_reports()
    gen_layers()
    gen_batchnorm()
    gen_networks()
