#!/usr/bin/env python3
"""Cross-checks the quantized export's measured error in torch, independently of NeuralBuild's code.

Usage: quantized_error_torch.py MODEL   (a torchvision name export_models.py exports, e.g. resnet50)

Rebuilds MODEL exactly as export_models.py does (the same seed, every model before it in
OnnxExport.Models built first, so torch's generator is in the same state), folds each BatchNorm into
its conv (torch's fuse_conv_bn_eval, as NeuralBuild folds before exporting), then stores the weights
of every conv / linear layer of at least 1,024 elements as int8 per output channel (range widened to
include 0, scale = range / 255, zero point = round(-128 - min / scale)) or as float16, and prints the
output's max and mean |a - b| / max|b| against the float model, on a seeded uniform [-1, 1) input.
"""
import copy
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_models  # noqa: E402

# The order of OnnxExport.Models (tests/Engine.Tests/Formats/Onnx/OnnxExport.cs).
MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "googlenet", "shufflenet_v2_x1_0", "densenet121"]


def fold_batchnorms(module):
    names = list(module._modules)
    for i, name in enumerate(names):
        child = module._modules[name]
        previous = module._modules[names[i - 1]] if i > 0 else None
        if isinstance(child, nn.BatchNorm2d) and isinstance(previous, nn.Conv2d):
            module._modules[names[i - 1]] = fuse_conv_bn_eval(previous, child)
            module._modules[name] = nn.Identity()
        else:
            fold_batchnorms(child)
    return module


def int8_round_trip(weight):
    w = weight.numpy().reshape(weight.shape[0], -1).astype(np.float32)
    low = np.minimum(w.min(1), 0)
    high = np.maximum(w.max(1), 0)
    scale = ((high.astype(np.float64) - low) / 255).astype(np.float32)
    scale[scale == 0] = 1
    zero_point = np.clip(np.rint(-128 - low / scale), -128, 127)
    q = np.clip(np.rint(w / scale[:, None]) + zero_point[:, None], -128, 127)
    return torch.from_numpy(((q - zero_point[:, None]) * scale[:, None]).astype(np.float32).reshape(weight.shape))


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in MODELS:
        sys.exit(__doc__)
    torch.manual_seed(0)
    for name in MODELS[: MODELS.index(sys.argv[1]) + 1]:
        model = export_models.initialise(export_models.build(name))
        torch.randn(1, 3, 224, 224)  # export_models.py's export sample
    x = torch.from_numpy(np.random.RandomState(1).uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32))
    with torch.no_grad():
        reference = model(x)
        folded = fold_batchnorms(copy.deepcopy(model))
        for encoding in ["int8", "fp16"]:
            stored = copy.deepcopy(folded)
            for layer in stored.modules():
                if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.weight.numel() >= 1024:
                    layer.weight.copy_(int8_round_trip(layer.weight) if encoding == "int8" else layer.weight.half().float())
            output = stored(x)
            error = (output - reference).abs()
            magnitude = reference.abs().max()
            print(f"{sys.argv[1]} {encoding}: max rel error {float(error.max() / magnitude):.4%}, "
                  f"mean rel error {float(error.mean() / magnitude):.4%}, top-1 kept {int(output.argmax()) == int(reference.argmax())}")


if __name__ == "__main__":
    main()
