#!/usr/bin/env python3
"""Reference outputs of the trained convolution models in ../shared/models, from the real tools.

The models are not ours to commit; their outputs on seeded inputs are. Run from the repository
root with ../shared/models beside it, once in each environment:

    /path/to/onnx-venv/bin/python   scripts/make_shared_references.py onnx    # onnxruntime
    /path/to/qkeras-venv/bin/python scripts/make_shared_references.py keras   # TensorFlow
    /path/to/onnx-venv/bin/python   scripts/make_shared_references.py bnn-onnx   # qonnx executor
    /path/to/qkeras-venv/bin/python scripts/make_shared_references.py bnn-keras  # BinaryNet layers

The binary and ternary models: bnn_model_fc_1layer.onnx through qonnx's `execute_onnx`, and
KERAS_3layer_binary_smaller / KERAS_3layer_ternary_small through TensorFlow with the BinaryNet
`BinaryDense`, `TernaryDense`, `binary_tanh` and `ternary_tanh` of scripts/make_qkeras_models.py.

Writes golden/reference/shared_<model>/inputs.npy (float64, in the model's own layout: NCHW or
as onnxruntime takes it for ONNX, NHWC for Keras) and expected_float.npy (the tool's float32
outputs as float64). Inputs are standard normal from a fixed seed; two runs write identical files.
"""

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "models"
OUT = ROOT / "golden" / "reference"
SAMPLES = 100

ONNX_MODELS = ["conv1d_small_keras", "conv2d_small_keras"]
KERAS_MODELS = ["KERAS_conv1d_small", "KERAS_conv2d_model", "jetTagger_Conv2D_Small_NoBatchNorm"]


def save(name, x, y):
    d = OUT / f"shared_{name}"
    d.mkdir(parents=True, exist_ok=True)
    for file, a in [("inputs.npy", x), ("expected_float.npy", y)]:
        with open(d / file, "wb") as f:
            np.save(f, np.ascontiguousarray(a, dtype=np.float64), allow_pickle=False)
        print(f"wrote {(d / file).relative_to(ROOT)} {list(a.shape)}")


def seeded_inputs(name, shape):
    seed = sum(name.encode())
    return np.random.default_rng(seed).standard_normal((SAMPLES, *shape)).astype(np.float32)


def onnx_references():
    import onnxruntime as ort

    for name in ONNX_MODELS:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        s = ort.InferenceSession(str(SHARED / "onnx" / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"])
        inp = s.get_inputs()[0]
        x = seeded_inputs(name, [d for d in inp.shape[1:]])
        # One sample per run: some exports fix the batch dimension to 1.
        y = np.concatenate([s.run(None, {inp.name: x[i:i + 1]})[0] for i in range(SAMPLES)])
        save(name, x, y)


def keras_references():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    from tensorflow import keras

    for name in KERAS_MODELS:
        base = SHARED / "keras" / name
        model = keras.models.model_from_json((base.with_suffix(".json")).read_text())
        model.load_weights(str(base) + "_weights.h5")
        x = seeded_inputs(name, model.input_shape[1:])
        y = model.predict(x, batch_size=SAMPLES, verbose=0)
        save(name, x, y)


BNN_KERAS_MODELS = ["KERAS_3layer_binary_smaller", "KERAS_3layer_ternary_small"]


def bnn_onnx_references():
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    name = "bnn_model_fc_1layer"
    mw = ModelWrapper(onnx.load(str(SHARED / "onnx" / f"{name}.onnx"))).transform(InferShapes(), cleanup=False)
    inp, out = mw.graph.input[0].name, mw.graph.output[0].name
    x = seeded_inputs(name, [3])
    y = np.concatenate([execute_onnx(mw, {inp: x[i:i + 1]})[out] for i in range(SAMPLES)])
    save(name, x, y)


def bnn_keras_references():
    sys.argv = sys.argv[:1]
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_qkeras_models as m
    from tensorflow import keras

    for name in BNN_KERAS_MODELS:
        base = SHARED / "keras" / name
        model = keras.models.model_from_json(base.with_suffix(".json").read_text(), custom_objects=m.CUSTOM_OBJECTS)
        model.load_weights(str(base) + "_weights.h5")
        x = seeded_inputs(name, model.input_shape[1:])
        y = model.predict(x, batch_size=SAMPLES, verbose=0)
        save(name, x, y)


def main():
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent")
    which = sys.argv[1:] or ["onnx", "keras"]
    if "onnx" in which:
        onnx_references()
    if "keras" in which:
        keras_references()
    if "bnn-onnx" in which:
        bnn_onnx_references()
    if "bnn-keras" in which:
        bnn_keras_references()


if __name__ == "__main__":
    main()
