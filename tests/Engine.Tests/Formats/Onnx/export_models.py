#!/usr/bin/env python3
"""Exports torchvision models to ONNX (opset 13) for NeuralBuild's ONNX tests.

Usage: export_models.py OUTPUT_FOLDER MODEL [MODEL ...]

Weights are random (weights=None): nothing is downloaded, and the tests only look at shapes and
counts. Every parameter and BN statistic is then redrawn at random: torchvision's initialisation
leaves many tensors identical (BN scale 1, shift 0, mean 0, variance 1; zero biases), and the
exporter stores identical initializers once (read back through Identity nodes), which would make
the file hold fewer parameters than the network has. BatchNormalization nodes are kept (TrainingMode.PRESERVE on a model in eval mode skips the
exporter's Conv+BN fusion), so parameter counts include each BN's scale, bias, mean and variance.
Writes OUTPUT_FOLDER/MODEL.onnx; a file that already exists is left alone (cache per test run).
"""
import os
import sys

import torch
import torchvision


def build(name):
    models = torchvision.models
    if name == "googlenet":
        return models.googlenet(weights=None, aux_logits=False, init_weights=True)
    return getattr(models, name)(weights=None)


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
        model = build(name).eval()
        with torch.no_grad():
            for tensor in list(model.parameters()) + list(model.buffers()):
                if tensor.is_floating_point():
                    tensor.uniform_(0.5, 1.5)
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
        os.replace(partial, path)
        print(path)


if __name__ == "__main__":
    main()
