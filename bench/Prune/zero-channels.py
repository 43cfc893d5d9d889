#!/usr/bin/env python3
"""Gives every BatchNorm conv layer of a Darknet model dead channels: gamma and beta 0 on every
STEP-th channel (channels 0, STEP, 2*STEP, ...), in place. Layer shapes come from
`dotnet-neural inspect --format json` (the only place channel counts of routes are known), the
tensor order from darknet's: conv with batch_normalize: beta, gamma, mean, var, weights; without:
bias, weights. Only convolutional, route, shortcut, upsample, maxpool and yolo sections (yolov3's).
Usage: zero-channels.py CFG WEIGHTS INSPECT_JSON STEP"""
import json, re, struct, sys

cfg, weights, inspect, step = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sections = []
for line in open(cfg):
    line = line.split('#')[0].strip()
    if line.startswith('['):
        sections.append({'type': line.strip('[]')})
    elif '=' in line and sections:
        k, v = line.split('=', 1)
        sections[-1][k.strip()] = v.strip()
layers = sections[1:]
net_channels = int(sections[0].get('channels', 3))
shapes = [l['outputShape'] for l in json.load(open(inspect))['layers']]
channels = [int(re.split('x', s)[1]) for s in shapes]

data = bytearray(open(weights, 'rb').read())
major, minor = struct.unpack('<ii', data[:8])
offset = 20 if major * 10 + minor >= 2 else 16
dead = 0
for i, layer in enumerate(layers):
    if layer['type'] not in ('convolutional', 'conv'):
        if layer['type'] not in ('route', 'shortcut', 'upsample', 'maxpool', 'yolo'):
            sys.exit(f'layer {i} [{layer["type"]}]: not handled')
        continue
    filters, size, groups = int(layer.get('filters', 1)), int(layer.get('size', 1)), int(layer.get('groups', 1))
    cin = net_channels if i == 0 else channels[i - 1]
    if layer.get('batch_normalize', '0') != '0':
        for c in range(0, filters, step):
            struct.pack_into('<f', data, offset + 4 * c, 0.0)              # beta
            struct.pack_into('<f', data, offset + 4 * (filters + c), 0.0)  # gamma
            dead += 1
        offset += 4 * 4 * filters
    else:
        offset += 4 * filters
    offset += 4 * filters * (cin // groups) * size * size
if offset != len(data):
    sys.exit(f'walked {offset} bytes of {len(data)}: the layout does not match')
open(weights, 'wb').write(data)
print(f'{dead} channels zeroed')
