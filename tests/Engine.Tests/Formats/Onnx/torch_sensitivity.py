#!/usr/bin/env python3
"""How sensitive a seeded test model is to its weights, in torch alone (docs/compression.md).

Usage: torch_sensitivity.py MODEL   (resnet50, mobilenet_v2, ...: a name of quantized_error_torch.MODELS)

Rebuilds MODEL as export_models.py does, folds its BatchNorms (quantized_error_torch.py), and on one
seeded uniform [-1, 1) input prints the output's max and mean |a - b| / max|b| against the float model
when the weights of every conv / linear layer of at least 1,024 elements are
- int8 per output channel as NeuralBuild stores them (quantized_error_torch.int8_round_trip),
- int8 as torch's own quantizer does (PerChannelMinMaxObserver, per-channel affine qint8),
- int8 symmetric per channel (scale = max|w| / 127), or float16;
then with Gaussian noise of a fraction of each weight's RMS instead (no quantization at all), and int8
in one part of the network at a time (ResNet stages; depthwise / other convs / linear).
"""
import copy
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.ao.quantization.observer import PerChannelMinMaxObserver

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_models  # noqa: E402
import quantized_error_torch as q  # noqa: E402


def torch_int8(weight):
    observer = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_affine)
    observer(weight)
    scale, zero_point = observer.calculate_qparams()
    return torch.fake_quantize_per_channel_affine(weight, scale.float(), zero_point.int(), 0, -128, 127)


def symmetric_int8(weight):
    flat = weight.reshape(weight.shape[0], -1)
    scale = flat.abs().max(1).values / 127
    scale[scale == 0] = 1
    return (torch.clamp(torch.round(flat / scale[:, None]), -127, 127) * scale[:, None]).reshape(weight.shape)


def quantized_layers(module):
    return [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.numel() >= 1024]


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in q.MODELS:
        sys.exit(__doc__)
    name = sys.argv[1]
    torch.manual_seed(0)
    for built in q.MODELS[: q.MODELS.index(name) + 1]:
        model = export_models.initialise(export_models.build(built))
        torch.randn(1, 3, 224, 224)  # export_models.py's export sample
    x = torch.from_numpy(np.random.RandomState(1).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32))
    noise = torch.Generator().manual_seed(5)
    with torch.no_grad():
        reference = model(x)
        magnitude = reference.abs().max()
        folded = q.fold_batchnorms(copy.deepcopy(model))

        def error(store, part=None):
            changed = copy.deepcopy(folded)
            layers = quantized_layers(changed)
            for layer in layers if part is None else [m for m in quantized_layers(changed) if part(changed, m)]:
                layer.weight.copy_(store(layer.weight))
            output = changed(x)
            return (f"max rel error {float((output - reference).abs().max() / magnitude):.3%}, "
                    f"mean {float((output - reference).abs().mean() / magnitude):.3%}, top-1 kept {int(output.argmax()) == int(reference.argmax())}")

        moved = [float(((q.int8_round_trip(m.weight) - m.weight).pow(2).mean() / m.weight.pow(2).mean()).sqrt()) for m in quantized_layers(folded)]
        print(f"{name}: {len(moved)} layers quantized; int8 weight RMS error median {np.median(moved):.3%}, max {max(moved):.3%}")
        print(f"int8 (NeuralBuild's encoding): {error(q.int8_round_trip)}")
        print(f"int8 (torch's PerChannelMinMaxObserver): {error(torch_int8)}")
        print(f"int8 symmetric per channel: {error(symmetric_int8)}")
        print(f"float16: {error(lambda w: w.half().float())}")
        for level in [0.0003, 0.001, 0.003, 0.008]:
            print(f"Gaussian noise {level:.2%} of each weight's RMS: "
                  f"{error(lambda w, s=level: w + torch.randn(w.shape, generator=noise) * w.pow(2).mean().sqrt() * s)}")
        if name.startswith("resnet"):
            for stage in ["conv1", "layer1", "layer2", "layer3", "layer4", "fc"]:
                print(f"int8 in {stage} alone: {error(q.int8_round_trip, lambda m, layer, s=stage: any(layer is x for x in getattr(m, s).modules()))}")
        else:
            print(f"int8 in depthwise convs alone: {error(q.int8_round_trip, lambda m, layer: isinstance(layer, nn.Conv2d) and layer.groups > 1)}")
            print(f"int8 in other convs alone: {error(q.int8_round_trip, lambda m, layer: isinstance(layer, nn.Conv2d) and layer.groups == 1)}")
            print(f"int8 in linear layers alone: {error(q.int8_round_trip, lambda m, layer: isinstance(layer, nn.Linear))}")
        top2 = reference.topk(2, 1).values[0]
        print(f"top-1 margin: {float((top2[0] - top2[1]) / magnitude):.3%} of max|output|")


if __name__ == "__main__":
    main()
