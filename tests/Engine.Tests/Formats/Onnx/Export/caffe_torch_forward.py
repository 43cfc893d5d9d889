"""Runs a Caffe deploy net with PyTorch's operators: an oracle independent of NeuralBuild.

Usage: caffe_torch_forward.py NET.prototxt NET.caffemodel INPUT.f32 N,C,H,W OUT_DIR BLOB[,BLOB...]

The prototxt is read by a small text-format parser and the caffemodel by a small protobuf wire
reader written here (field numbers from Caffe's caffe.proto), so nothing of NeuralBuild's readers
is involved. Layers run in prototxt order with Caffe's semantics expressed in torch.nn.functional,
in float64: ceil-mode pooling (Caffe's and torch's rule agree: the last window starts inside the
input or its left padding), average pooling dividing by the window clipped to the padded input
(count_include_pad), LRN across channels, BatchNorm with its moving-average factor, Scale, Eltwise
SUM (with coefficients) / PROD / MAX, Concat, Flatten, Permute, Reshape, Softmax along an axis,
InnerProduct and SSD's PriorBox (prior_box_layer.cpp). DetectionOutput is not run: the requested
blobs are its inputs. Each requested blob's final value (after in-place layers) is written to
OUT_DIR/<index>.f32 as little-endian float32, C order.
"""
import math
import re
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------
# Prototxt (protobuf text format), as nested dicts of lists.

TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{}<>\[\]:,;]|[^\s{}<>\[\]:,;"\'#]+')


def tokens(text):
    for m in TOKEN.finditer(text):
        t = m.group(0)
        if t[0].isspace() or t[0] == '#':
            continue
        yield t


def scalar(t):
    if t[0] in '"\'':
        return bytes(t[1:-1], 'utf-8').decode('unicode_escape')
    if t in ('true', 'True'):
        return True
    if t in ('false', 'False'):
        return False
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t  # an enum value


def parse_message(ts, end=None):
    message = {}
    while True:
        t = next(ts, None)
        if t is None or t == end:
            return message
        if t in (',', ';'):
            continue
        name = t
        t = next(ts)
        if t == ':':
            t = next(ts)
        if t in ('{', '<'):
            value = [parse_message(ts, '}' if t == '{' else '>')]
        elif t == '[':
            value = []
            while (t := next(ts)) != ']':
                if t != ',':
                    value.append(scalar(t))
        else:
            value = [scalar(t)]
        message.setdefault(name, []).extend(value)


def first(message, name, default=None):
    values = message.get(name)
    return values[0] if values else default


# ---------------------------------------------------------------------------------------------
# Caffemodel (protobuf wire format): layer name -> list of blobs (numpy float64 arrays).

def varint(data, i):
    shift = result = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def fields(data):
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            length, i = varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f'wire type {wire}')
        yield number, wire, value


def blob(data):
    dims, legacy, floats, doubles = [], {}, [], []
    for number, wire, value in fields(data):
        if number == 7:  # shape: BlobShape { repeated int64 dim = 1 }
            for n, w, v in fields(value):
                if n == 1 and w == 2:
                    j = 0
                    while j < len(v):
                        d, j = varint(v, j)
                        dims.append(d)
                elif n == 1:
                    dims.append(v)
        elif number in (1, 2, 3, 4) and wire == 0:  # num, channels, height, width
            legacy[number] = value
        elif number == 5:  # data: repeated float
            floats.append(np.frombuffer(value, dtype='<f4') if wire == 2 else np.frombuffer(value, dtype='<f4'))
        elif number == 8:  # double_data
            doubles.append(np.frombuffer(value, dtype='<f8'))
    values = np.concatenate(doubles if doubles else floats) if (doubles or floats) else np.zeros(0)
    if not dims:
        dims = [legacy.get(k, 1) for k in (1, 2, 3, 4)]
    return values.astype(np.float64).reshape(dims)


def caffemodel(path):
    with open(path, 'rb') as f:
        data = f.read()
    layers = {}
    for number, wire, value in fields(data):
        if number not in (100, 2) or wire != 2:  # layer (LayerParameter) / layers (V1LayerParameter)
            continue
        name_field, blob_field = (1, 7) if number == 100 else (4, 6)
        name, blobs = None, []
        for n, w, v in fields(value):
            if n == name_field and w == 2:
                name = v.decode('utf-8')
            elif n == blob_field and w == 2:
                blobs.append(blob(v))
        if name is not None and name not in layers:
            layers[name] = blobs
    return layers


# ---------------------------------------------------------------------------------------------
# Layers.

def pair(p, name, default):
    """kernel_size / stride / pad / dilation: repeated, or the _h / _w fields."""
    h, w = first(p, name + '_h'), first(p, name + '_w')
    if h is not None or w is not None:
        return int(h if h is not None else default), int(w if w is not None else default)
    values = p.get(name, [])
    if not values:
        return default, default
    return int(values[0]), int(values[-1])


def convolution(layer, x, blobs):
    p = first(layer, 'convolution_param', {})
    kernel = pair(p, 'kernel', None) if 'kernel_h' in p else pair(p, 'kernel_size', 1)
    stride = pair(p, 'stride', 1)
    pad = pair(p, 'pad', 0)
    dilation = pair(p, 'dilation', 1)
    group = int(first(p, 'group', 1))
    w = torch.from_numpy(blobs[0]).reshape(int(first(p, 'num_output')), x.shape[1] // group, *kernel)
    b = torch.from_numpy(blobs[1]).reshape(-1) if first(p, 'bias_term', True) and len(blobs) > 1 else None
    return F.conv2d(x, w, b, stride, pad, dilation, group)


def pooling(layer, x):
    p = first(layer, 'pooling_param', {})
    method = first(p, 'pool', 'MAX')
    if first(p, 'global_pooling', False):
        kernel, stride, pad = (x.shape[2], x.shape[3]), (1, 1), (0, 0)
    else:
        kernel = pair(p, 'kernel', None) if 'kernel_h' in p else pair(p, 'kernel_size', 1)
        stride, pad = pair(p, 'stride', 1), pair(p, 'pad', 0)
    if method in ('MAX', 0):
        return F.max_pool2d(x, kernel, stride, pad, ceil_mode=True)
    if method in ('AVE', 1):
        return F.avg_pool2d(x, kernel, stride, pad, ceil_mode=True, count_include_pad=True)
    raise ValueError(f'pool {method}')


def batch_norm(layer, x, blobs):
    p = first(layer, 'batch_norm_param', {})
    factor = blobs[2].reshape(-1)[0]
    factor = 0.0 if factor == 0 else 1.0 / factor
    mean = torch.from_numpy(blobs[0].reshape(-1) * factor)
    var = torch.from_numpy(blobs[1].reshape(-1) * factor)
    eps = float(first(p, 'eps', 1e-5))
    shape = (1, -1) + (1,) * (x.dim() - 2)
    return (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)


def scale(layer, x, blobs):
    p = first(layer, 'scale_param', {})
    shape = (1, -1) + (1,) * (x.dim() - 2)
    y = x * torch.from_numpy(blobs[0].reshape(-1)).reshape(shape)
    if first(p, 'bias_term', False):
        y = y + torch.from_numpy(blobs[1].reshape(-1)).reshape(shape)
    return y


def eltwise(layer, xs):
    p = first(layer, 'eltwise_param', {})
    op = first(p, 'operation', 'SUM')
    if op in ('PROD', 0):
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return y
    if op in ('MAX', 2):
        y = xs[0]
        for x in xs[1:]:
            y = torch.maximum(y, x)
        return y
    coeff = [float(c) for c in p.get('coeff', [])] or [1.0] * len(xs)
    y = coeff[0] * xs[0]
    for c, x in zip(coeff[1:], xs[1:]):
        y = y + c * x
    return y


def inner_product(layer, x, blobs):
    p = first(layer, 'inner_product_param', {})
    axis = int(first(p, 'axis', 1))
    x = x.reshape(*x.shape[:axis], -1)
    w = torch.from_numpy(blobs[0]).reshape(int(first(p, 'num_output')), -1) if not first(p, 'transpose', False) \
        else torch.from_numpy(blobs[0]).reshape(x.shape[-1], -1).t()
    b = torch.from_numpy(blobs[1]).reshape(-1) if first(p, 'bias_term', True) and len(blobs) > 1 else None
    return F.linear(x, w, b)


def reshape(layer, x):
    p = first(layer, 'reshape_param', {})
    dims = [int(d) for d in first(p, 'shape', {}).get('dim', [])]
    axis, num_axes = int(first(p, 'axis', 0)), int(first(p, 'num_axes', -1))
    axis = axis if axis >= 0 else x.dim() + axis + 1
    end = x.dim() if num_axes == -1 else axis + num_axes
    out = [x.shape[axis + i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(*x.shape[:axis], *out, *x.shape[end:])


def flatten(layer, x):
    p = first(layer, 'flatten_param', {})
    axis = int(first(p, 'axis', 1)) % x.dim()
    end = int(first(p, 'end_axis', -1)) % x.dim()
    return x.reshape(*x.shape[:axis], -1, *x.shape[end + 1:])


def prior_box(layer, feature, image):
    p = first(layer, 'prior_box_param', {})
    min_sizes = [float(v) for v in p.get('min_size', [])]
    max_sizes = [float(v) for v in p.get('max_size', [])]
    ratios = [1.0]
    for r in (float(v) for v in p.get('aspect_ratio', [])):
        if any(abs(r - e) < 1e-6 for e in ratios):
            continue
        ratios.append(r)
        if first(p, 'flip', True):
            ratios.append(1.0 / r)
    layer_h, layer_w = feature.shape[2], feature.shape[3]
    image_h = float(first(p, 'img_h', first(p, 'img_size', image.shape[2])))
    image_w = float(first(p, 'img_w', first(p, 'img_size', image.shape[3])))
    step_h = float(first(p, 'step_h', first(p, 'step', image_h / layer_h)))
    step_w = float(first(p, 'step_w', first(p, 'step', image_w / layer_w)))
    offset = float(first(p, 'offset', 0.5))
    boxes = []
    for h in range(layer_h):
        for w in range(layer_w):
            cx, cy = (w + offset) * step_w, (h + offset) * step_h
            for s, size in enumerate(min_sizes):
                sides = [(size, size)]
                if max_sizes:
                    side = math.sqrt(size * max_sizes[s])
                    sides.append((side, side))
                sides += [(size * math.sqrt(r), size / math.sqrt(r)) for r in ratios if abs(r - 1.0) >= 1e-6]
                for bw, bh in sides:
                    boxes += [(cx - bw / 2) / image_w, (cy - bh / 2) / image_h, (cx + bw / 2) / image_w, (cy + bh / 2) / image_h]
    boxes = np.array(boxes)
    if first(p, 'clip', False):
        boxes = np.clip(boxes, 0.0, 1.0)
    variance = [float(v) for v in p.get('variance', [])] or [0.1]
    variances = np.tile(np.array(variance if len(variance) == 4 else variance * 4), len(boxes) // 4)
    return torch.from_numpy(np.stack([boxes, variances]).reshape(1, 2, -1))


def run(net, weights, x, wanted):
    blobs = {}
    inputs = net.get('input', [])
    if inputs:
        blobs[inputs[0]] = x
    for layer in net.get('layer', []) + net.get('layers', []):
        phases = [first(r, 'phase') for r in layer.get('include', [])]
        if phases and 'TEST' not in phases:
            continue
        kind = first(layer, 'type')
        name = first(layer, 'name')
        bottoms = [blobs[b] for b in layer.get('bottom', [])]
        params = weights.get(name, [])
        if kind == 'Input':
            y = x
        elif kind == 'Convolution':
            y = convolution(layer, bottoms[0], params)
        elif kind == 'Pooling':
            y = pooling(layer, bottoms[0])
        elif kind == 'ReLU':
            slope = float(first(first(layer, 'relu_param', {}), 'negative_slope', 0.0))
            y = F.leaky_relu(bottoms[0], slope) if slope else F.relu(bottoms[0])
        elif kind == 'LRN':
            p = first(layer, 'lrn_param', {})
            y = F.local_response_norm(bottoms[0], int(first(p, 'local_size', 5)), float(first(p, 'alpha', 1.0)),
                                      float(first(p, 'beta', 0.75)), float(first(p, 'k', 1.0)))
        elif kind == 'BatchNorm':
            y = batch_norm(layer, bottoms[0], params)
        elif kind == 'Scale':
            y = scale(layer, bottoms[0], params)
        elif kind == 'Eltwise':
            y = eltwise(layer, bottoms)
        elif kind == 'Concat':
            p = first(layer, 'concat_param', {})
            y = torch.cat(bottoms, int(first(p, 'axis', first(p, 'concat_dim', 1))))
        elif kind == 'InnerProduct':
            y = inner_product(layer, bottoms[0], params)
        elif kind == 'Softmax':
            y = F.softmax(bottoms[0], int(first(first(layer, 'softmax_param', {}), 'axis', 1)))
        elif kind == 'Dropout':
            y = bottoms[0]
        elif kind == 'Flatten':
            y = flatten(layer, bottoms[0])
        elif kind == 'Permute':
            y = bottoms[0].permute(*[int(o) for o in first(layer, 'permute_param', {}).get('order', [])])
        elif kind == 'Reshape':
            y = reshape(layer, bottoms[0])
        elif kind == 'PriorBox':
            y = prior_box(layer, bottoms[0], bottoms[1])
        elif kind == 'DetectionOutput':
            continue
        else:
            raise SystemExit(f'layer {name}: type {kind} is not run by this oracle')
        blobs[first(layer, 'top')] = y
    return [blobs[w] for w in wanted]


def main():
    prototxt, weights_path, input_path, shape, out_dir, wanted = sys.argv[1:7]
    with open(prototxt) as f:
        net = parse_message(tokens(f.read()))
    shape = [int(d) for d in shape.split(',')]
    x = torch.from_numpy(np.fromfile(input_path, dtype='<f4').astype(np.float64).reshape(shape))
    with torch.no_grad():
        outputs = run(net, caffemodel(weights_path), x, wanted.split(','))
    for i, y in enumerate(outputs):
        y.numpy().astype('<f4').tofile(f'{out_dir}/{i}.f32')
        print(i, tuple(y.shape))


if __name__ == '__main__':
    main()
