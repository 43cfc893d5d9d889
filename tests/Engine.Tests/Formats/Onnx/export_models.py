#!/usr/bin/env python3
"""Exports torchvision models to ONNX (opset 13) for NeuralBuild's ONNX tests.

Usage: export_models.py OUTPUT_FOLDER MODEL [MODEL ...]

Weights are random (weights=None): nothing is downloaded. Convolution and linear weights keep
torchvision's own initialisation (He / truncated normal: activations keep their scale through the
network). Every tensor that initialisation leaves identical to another is redrawn, because the
exporter stores identical initializers once (read back through Identity nodes), which would make
the file hold fewer parameters than the network has: BN scale U(0.5, 1.5), BN shift and any bias
U(-0.1, 0.1). The BN running statistics are then measured, as training would: the network runs in
training mode on a few seeded random batches with cumulative averaging (momentum None), so each BN
normalises what actually reaches it and a whole-model run stays in a sane numeric range (outputs of
order 1, not 1e30), which is what comparing a fused model with the original needs.
BatchNormalization nodes are kept (TrainingMode.PRESERVE on a model in eval mode skips the
exporter's Conv+BN fusion), so parameter counts include each BN's scale, bias, mean and variance.
Writes OUTPUT_FOLDER/MODEL.onnx; a file that already exists is left alone (cache per test run).
Beside it, torch's own output as the oracle of lossy exports (quantized weights): MODEL.torch-inputs.f32
holds TORCH_INPUTS seeded inputs of 1x3x224x224, uniform in [-1, 1) (numpy's RandomState(1), so torch's
generator, and with it every later model's weights, is untouched), and MODEL.torch-outputs.f32 the
model's outputs on them, in order; both raw little-endian float32.
"""
import os
import sys

import numpy as np
import torch
import torchvision


def build(name):
    models = torchvision.models
    if name == "googlenet":
        return models.googlenet(weights=None, aux_logits=False, init_weights=True)
    return getattr(models, name)(weights=None)


def initialise(model):
    """The weights and measured BN statistics described above, drawn from torch's global generator; returns the model in eval mode."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
                module.reset_running_stats()
                module.momentum = None
            elif getattr(module, "bias", None) is not None:
                module.bias.uniform_(-0.1, 0.1)
        model.train()
        for _ in range(4):
            model(torch.randn(2, 3, 224, 224))
    model.eval()
    return model


TORCH_INPUTS = 4


def write_torch_outputs(model, path):
    """The oracle files described above, next to PATH (MODEL.onnx)."""
    inputs = np.random.RandomState(1).uniform(-1, 1, (TORCH_INPUTS, 1, 3, 224, 224)).astype(np.float32)
    with torch.no_grad():
        outputs = [model(torch.from_numpy(x)).numpy().astype(np.float32) for x in inputs]
    stem = path[: -len(".onnx")]
    inputs.astype("<f4").tofile(stem + ".torch-inputs.f32")
    np.stack(outputs).astype("<f4").tofile(stem + ".torch-outputs.f32")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    for name in sys.argv[2:]:
        path = os.path.join(folder, name + ".onnx")
        if os.path.exists(path):
            continue
        model = initialise(build(name))
        sample = torch.randn(1, 3, 224, 224)
        partial = path + ".partial"
        torch.onnx.export(
            model,
            sample,
            partial,
            opset_version=13,
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["output"],
        )
        write_torch_outputs(model, path)
        os.replace(partial, path)
        print(path)


if __name__ == "__main__":
    main()
