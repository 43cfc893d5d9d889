#!/usr/bin/env python3
"""The work of `dotnet neural inspect` and `dotnet neural fuse` on an ONNX model, done with Python's
`onnx` package and numpy: the baseline bench/Onnx/run.sh compares NeuralBuild against.

  python_baseline.py inspect MODEL.onnx        load, onnx.checker, onnx.shape_inference, then params and
                                               MACC of Conv / ConvTranspose / Gemm / MatMul from the
                                               inferred shapes (what onnx-tool-style profilers do)
  python_baseline.py fuse MODEL.onnx OUT.onnx  load, fold every BatchNormalization that directly follows a
                                               Conv (single consumer) into it with numpy, drop the BN nodes
                                               and their initializers, onnx.checker, save

Prints the figures (params, MACC, folds) and the in-process time of each phase to stderr, so the run
shows what the interpreter start-up and `import onnx` cost apart from the work.
"""
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper, shape_inference  # noqa: E402

phases = [("import", time.perf_counter() - t0)]


def timed(name, fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    phases.append((name, time.perf_counter() - start))
    return result


def dims(value_info):
    return [d.dim_value for d in value_info.type.tensor_type.shape.dim]


def inspect(path):
    model = timed("load", onnx.load, path)
    timed("checker", onnx.checker.check_model, model)
    inferred = timed("shape inference", shape_inference.infer_shapes, model)

    def count():
        graph = inferred.graph
        shapes = {v.name: dims(v) for v in list(graph.value_info) + list(graph.output) + list(graph.input)}
        inits = {i.name: list(i.dims) for i in graph.initializer}
        params = sum(int(np.prod(d)) for d in inits.values())
        macc = 0
        for node in graph.node:
            if node.op_type in ("Conv", "ConvTranspose"):
                w = inits[node.input[1]]
                group = next((a.i for a in node.attribute if a.name == "group"), 1)
                if node.op_type == "Conv":
                    out = shapes[node.output[0]]
                    macc += int(np.prod(out)) * int(np.prod(w[1:]))
                else:
                    x = shapes[node.input[0]]
                    macc += int(np.prod(x)) * w[1] * int(np.prod(w[2:]))
                _ = group
            elif node.op_type in ("Gemm", "MatMul"):
                out = shapes[node.output[0]]
                a = shapes.get(node.input[0]) or inits[node.input[0]]
                trans_a = next((x.i for x in node.attribute if x.name == "transA"), 0)
                k = a[-2] if trans_a else a[-1]
                macc += int(np.prod(out)) * k
        return params, macc

    params, macc = timed("count", count)
    print(f"params {params} macc {macc}")


def fuse(path, out):
    model = timed("load", onnx.load, path)

    def fold():
        graph = model.graph
        inits = {i.name: i for i in graph.initializer}
        consumers = {}
        for node in graph.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
        producer = {o: n for n in graph.node for o in n.output}
        outputs = {o.name for o in graph.output}
        removed, dropped = [], set()
        for bn in [n for n in graph.node if n.op_type == "BatchNormalization"]:
            conv = producer.get(bn.input[0])
            if conv is None or conv.op_type != "Conv" or len(consumers[bn.input[0]]) != 1 or bn.input[0] in outputs:
                continue
            eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
            gamma, beta, mean, var = (numpy_helper.to_array(inits[n]).astype(np.float64) for n in bn.input[1:5])
            scale = gamma / np.sqrt(var + eps)
            w = numpy_helper.to_array(inits[conv.input[1]])
            b = numpy_helper.to_array(inits[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 else np.zeros(w.shape[0])
            folded_w = (w.astype(np.float64) * scale.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32)
            folded_b = ((b - mean) * scale + beta).astype(np.float32)
            inits[conv.input[1]].CopyFrom(numpy_helper.from_array(folded_w, conv.input[1]))
            bias_name = conv.input[2] if len(conv.input) > 2 else conv.name + "_folded_bias"
            if len(conv.input) > 2:
                inits[bias_name].CopyFrom(numpy_helper.from_array(folded_b, bias_name))
            else:
                graph.initializer.append(numpy_helper.from_array(folded_b, bias_name))
                conv.input.append(bias_name)
            conv.output[0] = bn.output[0]
            removed.append(bn)
            dropped.update(bn.input[1:5])
        for bn in removed:
            graph.node.remove(bn)
        still_used = {name for n in graph.node for name in n.input}
        keep = [i for i in graph.initializer if i.name not in dropped or i.name in still_used]
        del graph.initializer[:]
        graph.initializer.extend(keep)
        return len(removed)

    folds = timed("fold", fold)
    timed("checker", onnx.checker.check_model, model)
    timed("save", onnx.save, model, out)
    print(f"folded {folds} BatchNormalization")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("inspect", "fuse") or (sys.argv[1] == "fuse" and len(sys.argv) < 4):
        sys.exit(__doc__)
    if sys.argv[1] == "inspect":
        inspect(sys.argv[2])
    else:
        fuse(sys.argv[2], sys.argv[3])
    print("phases: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in phases), file=sys.stderr)


if __name__ == "__main__":
    main()
