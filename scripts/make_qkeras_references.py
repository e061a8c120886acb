#!/usr/bin/env python3
"""Reference values from real QKeras for the Keras importer's tests.

Run from the repository root in the environment of scripts/requirements-qkeras.txt
(tensorflow-cpu 2.14.1, qkeras 0.9.0):

    python scripts/make_qkeras_references.py

Writes
    golden/ir_keras/quantizer_cases.json   quantizers applied by QKeras to float32 inputs
    golden/ir_keras/qkeras_weights.json    the quantized parameters QKeras uses at inference for
                                           the QKeras models in tests/models/keras (for
                                           QConv2DBatchnorm: the kernel and bias folded as its
                                           call() folds them with training=False, then quantized)

Every float is stored as its float32 bit pattern (an unsigned integer) so that the values read
back exactly. Inputs are seeded; two runs write identical files.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402

import qkeras  # noqa: E402
from qkeras.quantizers import get_quantizer  # noqa: E402
from qkeras.utils import _add_supported_quantized_objects  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "golden" / "ir_keras"
MODELS = ROOT / "tests" / "models" / "keras"


def bits(a):
    return np.asarray(a, dtype=np.float32).ravel().view(np.uint32).tolist()


def inputs(rng, shape, lsb):
    """Normal values at three scales, exact ties (odd multiples of lsb/2), out-of-range values,
    zeros and tiny values, in float32."""
    n = int(np.prod(shape))
    x = np.concatenate([
        rng.standard_normal(n) * rng.choice([0.1, 0.5, 2.0], size=n),
        (2 * rng.integers(-40, 40, size=n) + 1) * (lsb / 2.0),
        rng.choice([-1.0, 1.0], size=n) * rng.uniform(4.0, 300.0, size=n),
        np.zeros(n),
        rng.standard_normal(n) * 1e-8,
    ])
    x = x[rng.permutation(len(x))[:n]].astype(np.float32)
    return x.reshape(shape)


CONST = [
    # (quantizer, shapes, lsb used for the ties)
    ("quantized_bits(6,0,alpha=1)", [[40], [8, 5]], 2 ** -5),
    ("quantized_bits(4,0,1,alpha=1)", [[40]], 2 ** -3),
    ("quantized_bits(8,3,alpha=1)", [[40]], 2 ** -4),
    ("quantized_bits(4,2,keep_negative=False,alpha=1)", [[40]], 2 ** -2),
    ("quantized_bits(2,0,1)", [[40]], 0.5),
    ("quantized_bits(1,0)", [[20]], 1.0),
    ("quantized_bits(6,1,alpha=0.5)", [[40]], 2 ** -4),
    ("quantized_bits(8,1,alpha='auto_po2')", [[16, 8], [24], [3, 4, 5]], 2 ** -6),
    ("quantized_bits(4,0,alpha='auto_po2')", [[16, 8], [9]], 2 ** -3),
    ("quantized_bits(6,2,alpha='auto_po2')", [[12, 6]], 2 ** -3),
    ("binary()", [[30]], 1.0),
    ("binary(use_01=True)", [[30]], 1.0),
    ("binary(alpha=0.5)", [[30]], 1.0),
    ("binary(alpha='auto_po2')", [[10, 4], [12]], 1.0),
    ("ternary()", [[30]], 0.66),
    ("ternary(alpha=1, threshold=0.5)", [[30]], 1.0),
    ("ternary(alpha='auto_po2')", [[10, 4], [12]], 1.0),
    ("ternary(alpha='auto_po2', number_of_unrolls=2)", [[10, 4]], 1.0),
    ("quantized_po2(4,1)", [[40]], 1.0),
    ("quantized_po2(5)", [[40]], 1.0),
    ("quantized_po2(4,quadratic_approximation=True)", [[40]], 1.0),
    ("quantized_po2(4,1,log2_rounding='floor')", [[40]], 1.0),
    ("quantized_relu_po2(6,2048)", [[40]], 1.0),
    ("quantized_relu_po2(6,quadratic_approximation=True)", [[40]], 1.0),
    ("quantized_relu_po2(4,4)", [[40]], 1.0),
    ("quantized_relu_po2(4,1,negative_slope=0.25)", [[40]], 1.0),
    ("quantized_relu(6,0)", [[40]], 2 ** -6),
    ("quantized_relu(3,1)", [[40]], 2 ** -2),
    ("quantized_relu(6,2,negative_slope=0.25)", [[40]], 2 ** -3),
]

ACTIVATION = [
    ("quantized_bits(8,3)", 2 ** -4),
    ("quantized_bits(8,3,1)", 2 ** -4),
    ("quantized_bits(6,2,keep_negative=0,alpha=1)", 2 ** -4),
    ("quantized_bits(4,0)", 2 ** -3),
    ("quantized_bits(3,-1)", 2 ** -3),
    ("quantized_relu(6,0)", 2 ** -6),
    ("quantized_relu(2)", 2 ** -2),
    ("quantized_relu(3,1)", 2 ** -2),
    ("quantized_relu(6,2,negative_slope=0.25)", 2 ** -3),
    ("quantized_relu(4,1,negative_slope=0.5)", 2 ** -2),
]


def quantizer_cases():
    rng = np.random.default_rng(7)
    cases = []
    for text, shapes, lsb in CONST:
        for shape in shapes:
            q = get_quantizer(text)
            x = inputs(rng, shape, lsb)
            y = q(tf.constant(x)).numpy()
            cases.append({"quantizer": text, "use": "constant", "shape": shape, "x": bits(x), "y": bits(y)})
    for text, lsb in ACTIVATION:
        q = get_quantizer(text)
        x = inputs(rng, [200], lsb)
        try:
            y = q(tf.constant(x)).numpy()
        except Exception as e:  # noqa: BLE001  (QKeras 0.9.0 cannot take 2**negative in int32)
            print(f"skipped {text}: {type(e).__name__}")
            continue
        cases.append({"quantizer": text, "use": "activation", "shape": [200], "x": bits(x), "y": bits(y)})
    return cases


def model_weights():
    custom = {}
    _add_supported_quantized_objects(custom)
    out = {}
    for name in ["qkeras_mlp", "qkeras_quantizers", "qkeras_cnn", "qkeras_separable"]:
        model = keras.models.model_from_json((MODELS / f"{name}.json").read_text(), custom_objects=custom)
        model.load_weights(str(MODELS / f"{name}_weights.h5"))
        layers = {}
        for layer in model.layers:
            entry = {}
            if isinstance(layer, qkeras.QDense):
                k = layer.kernel
                entry["kernel"] = bits(layer.kernel_quantizer_internal(k) if layer.kernel_quantizer else k)
                if layer.use_bias:
                    b = layer.bias
                    entry["bias"] = bits(layer.bias_quantizer_internal(b) if layer.bias_quantizer else b)
            elif isinstance(layer, qkeras.QConv2DBatchnorm):
                # the folding of QConv2DBatchnorm.call at inference (moving statistics)
                bn = layer.batchnorm
                inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon)
                if bn.gamma is not None:
                    inv *= bn.gamma
                bias = layer.bias if layer.use_bias else 0
                k = inv * layer.kernel
                b = inv * (bias - bn.moving_mean) + bn.beta
                entry["kernel"] = bits(layer.kernel_quantizer_internal(k) if layer.kernel_quantizer else k)
                entry["bias"] = bits(layer.bias_quantizer_internal(b) if layer.bias_quantizer else b)
            elif isinstance(layer, (qkeras.QSeparableConv1D, qkeras.QSeparableConv2D)):
                # the importer's two nodes: <layer>_depthwise (no bias), then <layer>
                k = layer.depthwise_kernel
                q = layer.depthwise_quantizer_internal(k) if layer.depthwise_quantizer else k
                layers[layer.name + "_depthwise"] = {"kernel": bits(q)}
                k = layer.pointwise_kernel
                entry["kernel"] = bits(layer.pointwise_quantizer_internal(k) if layer.pointwise_quantizer else k)
                if layer.use_bias:
                    b = layer.bias
                    entry["bias"] = bits(layer.bias_quantizer_internal(b) if layer.bias_quantizer else b)
            elif isinstance(layer, qkeras.QDepthwiseConv2D):
                k = layer.depthwise_kernel
                entry["kernel"] = bits(layer.depthwise_quantizer_internal(k) if layer.depthwise_quantizer else k)
                if layer.use_bias:
                    b = layer.bias
                    entry["bias"] = bits(layer.bias_quantizer_internal(b) if layer.bias_quantizer else b)
            elif isinstance(layer, (qkeras.QConv1D, qkeras.QConv2D)):
                k = layer.kernel
                entry["kernel"] = bits(layer.kernel_quantizer_internal(k) if layer.kernel_quantizer else k)
                if layer.use_bias:
                    b = layer.bias
                    entry["bias"] = bits(layer.bias_quantizer_internal(b) if layer.bias_quantizer else b)
            elif isinstance(layer, qkeras.QBatchNormalization):
                entry["gamma"] = bits(layer.gamma_quantizer_internal(layer.gamma))
                entry["beta"] = bits(layer.beta_quantizer_internal(layer.beta))
                entry["moving_mean"] = bits(layer.mean_quantizer_internal(layer.moving_mean))
                entry["moving_variance"] = bits(layer.variance_quantizer_internal(layer.moving_variance))
                entry["epsilon"] = layer.epsilon
            if entry:
                layers[layer.name] = entry
        out[name] = layers
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = quantizer_cases()
    (OUT / "quantizer_cases.json").write_text(json.dumps(cases, separators=(",", ":")) + "\n")
    (OUT / "qkeras_weights.json").write_text(json.dumps(model_weights(), separators=(",", ":")) + "\n")
    print(f"{len(cases)} quantizer cases; tensorflow {tf.__version__}, qkeras {qkeras.__version__}")


if __name__ == "__main__":
    sys.exit(main())
