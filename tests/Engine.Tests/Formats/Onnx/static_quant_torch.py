#!/usr/bin/env python3
"""Static int8 quantization (int8 weights, calibrated uint8 activations) computed in torch, independently
of NeuralBuild's code: the oracle of quantize=int8-static.

Usage: static_quant_torch.py MODEL INPUTS.f32 OUTPUTS.f32

Rebuilds MODEL as export_models.py does (quantized_error_torch.py's way: the same seed, every model
before it in OnnxExport.Models built first), folds each BatchNorm into its conv, then:
- calibration: runs the float folded model on the inputs of INPUTS.f32 (raw float32, 1x3x224x224 each)
  and keeps each conv / linear layer's input and output ranges (min and max over all inputs, widened to
  include 0);
- weights: every conv / linear weight of at least 1,024 elements as int8 per output channel
  (quantized_error_torch.int8_round_trip);
- activations: each conv / linear input and output through torch.fake_quantize_per_tensor_affine with
  scale = (max - min) / 255, zero point = round(-min / scale), clamped to 0..255 (uint8). Every output:
  the export leaves float an output that a softmax, a decoder or the application reads, so this matches
  it on models whose conv outputs all go to ReLU (SqueezeNet 1.1), not on one ending in a linear layer;
and writes the outputs on the same inputs to OUTPUTS.f32 (raw float32, in order).
"""
import copy
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_models  # noqa: E402
import quantized_error_torch as weights  # noqa: E402


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in weights.MODELS:
        sys.exit(__doc__)
    name, inputs_path, outputs_path = sys.argv[1:]
    torch.manual_seed(0)
    for built in weights.MODELS[: weights.MODELS.index(name) + 1]:
        model = export_models.initialise(export_models.build(built))
        torch.randn(1, 3, 224, 224)  # export_models.py's export sample
    inputs = np.fromfile(inputs_path, dtype="<f4").reshape(-1, 1, 3, 224, 224)
    with torch.no_grad():
        folded = weights.fold_batchnorms(copy.deepcopy(model))
        layers = [m for m in folded.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        ranges = {(id(layer), side): [0.0, 0.0] for layer in layers for side in ("input", "output")}

        def widen(key, value):
            r = ranges[key]
            r[0] = min(r[0], float(value.min()))
            r[1] = max(r[1], float(value.max()))

        hooks = [layer.register_forward_pre_hook(lambda layer, args: widen((id(layer), "input"), args[0])) for layer in layers]
        hooks += [layer.register_forward_hook(lambda layer, args, output: widen((id(layer), "output"), output)) for layer in layers]
        for x in inputs:
            folded(torch.from_numpy(x))
        for hook in hooks:
            hook.remove()

        def fake_quantize(key, value):
            low, high = ranges[key]
            scale = float(np.float32((high - low) / 255)) if high > low else 1.0
            zero_point = int(np.clip(np.rint(-low / scale), 0, 255))
            return torch.fake_quantize_per_tensor_affine(value, scale, zero_point, 0, 255)

        for layer in layers:
            if layer.weight.numel() >= 1024:
                layer.weight.copy_(weights.int8_round_trip(layer.weight))
            layer.register_forward_pre_hook(lambda layer, args: (fake_quantize((id(layer), "input"), args[0]),))
            layer.register_forward_hook(lambda layer, args, output: fake_quantize((id(layer), "output"), output))
        outputs = [folded(torch.from_numpy(x)).numpy().astype(np.float32) for x in inputs]
    np.stack(outputs).astype("<f4").tofile(outputs_path)
    print(f"{name}: {len(layers)} layers quantized, {len(inputs)} inputs")


if __name__ == "__main__":
    main()
