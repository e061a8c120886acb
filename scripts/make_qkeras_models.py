#!/usr/bin/env python3
"""Generate the Keras / QKeras test models and their reference outputs.

Run from the repository root, inside a virtualenv built from
scripts/requirements-qkeras.txt:

    python scripts/make_qkeras_models.py

Writes
    tests/models/keras/<model>{.json,_weights.h5,.h5,.keras}
    golden/reference/<model>/inputs.npy           float64 [N, 16]
    golden/reference/<model>/expected_float.npy   float64 [N, 5]   model.predict (float32, widened)
    golden/reference/<model>/expected_logits.npy  float64 [N, 5]   pre-softmax output via a sub-model

The convolutional models (keras_cnn2d, keras_cnn1d, keras_cnn_functional,
keras_cnn_activations, qkeras_cnn, qkeras_separable) store their inputs as
[N, *input_shape] (channels-last, N = 200); of them only keras_cnn2d has a .keras form.

    python scripts/make_qkeras_models.py keras_cnn2d qkeras_cnn   # only these models

Each model is trained briefly (seeded, single-threaded, deterministic ops) on a
small synthetic classification task so its weights look like a trained net.
Two runs write byte-identical files on the same machine.
"""

import io
import json
import os
import sys
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402

import qkeras  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QAveragePooling2D,
    QConv1D,
    QBatchNormalization,
    QConv2D,
    QConv2DBatchnorm,
    QDense,
    QDepthwiseConv2D,
    QGlobalAveragePooling2D,
    QSeparableConv1D,
    QSeparableConv2D,
)
from qkeras.quantizers import (  # noqa: E402
    binary,
    quantized_bits,
    quantized_po2,
    stochastic_binary,
    ternary,
)
from qkeras.utils import _add_supported_quantized_objects  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KERAS_DIR = ROOT / "tests" / "models" / "keras"
GOLDEN_DIR = ROOT / "golden" / "reference"
N_SAMPLES = 1000
N_FEATURES = 16
N_CLASSES = 5
INPUT_SEED = 42  # same seed and row layout as make_onnx_models.py: identical rows for the float models
INPUT_STEP = 2.0 ** -4  # grid of quantized_bits(8, 3): 8 bits, 3 integer bits, sign

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.experimental.enable_op_determinism()

CUSTOM_OBJECTS = {}
_add_supported_quantized_objects(CUSTOM_OBJECTS)

written = []
NOTES = []


def rel(p):
    return os.path.relpath(p, ROOT)


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_inputs(rng, n, f, step=INPUT_STEP, snap=False, qmin=-128, qmax=127):
    """float64 [n, f], float32-exact; same row layout as make_onnx_models.make_inputs.

      rows [0, n-200)        standard normal (snap=True: rounded to the `step` grid)
      rows [n-200, n-140)    large magnitudes |x| in [8, 64] (snap=True: on the grid)
      rows [n-140, n-20)     exact ties: odd multiples of step/2 (never on the grid)
      rows [n-20, n-10)      exact grid points k*step, k in [qmin, qmax]
      rows [n-10, n)         specials (zeros, range ends, half steps, +-64, +-8)
    """
    x = np.empty((n, f), dtype=np.float64)
    n_norm = n - 200
    x[:n_norm] = f32(rng.standard_normal((n_norm, f)))
    big = np.empty((60, f))
    for r in range(60):
        mag = rng.uniform(8.0, 64.0, size=f)
        sgn = rng.choice([-1.0, 1.0], size=f)
        row = sgn * mag
        if r % 2 == 1:
            keep = rng.permutation(f)[: f // 2]
            row[keep] = rng.standard_normal(len(keep))
        if r % 7 == 0:
            row[r % f] = 64.0 * sgn[0]
            row[(r + 1) % f] = 8.0 * sgn[1]
        big[r] = row
    x[n_norm:n_norm + 60] = f32(big)
    if snap:
        x[:n_norm + 60] = np.round(x[:n_norm + 60] / step) * step
    lim = int(round(6.0 / step))
    k = rng.integers(-lim, lim, size=(120, f))
    x[n_norm + 60:n_norm + 180] = (2 * k + 1) * (step / 2.0)
    x[n_norm + 180:n_norm + 190] = rng.integers(qmin, qmax + 1, size=(10, f)) * step
    alt = np.where(np.arange(f) % 2 == 0, 1.0, -1.0)
    x[n_norm + 190:] = np.stack([
        np.zeros(f), np.full(f, qmax * step), np.full(f, qmin * step),
        np.full(f, (qmax + 0.5) * step), np.full(f, (qmin - 0.5) * step),
        64.0 * alt, -8.0 * alt, np.full(f, step / 2.0), np.full(f, -step / 2.0), 1.5 * step * alt,
    ])
    assert np.array_equal(x, f32(x))
    return x


def make_task(rng, n=2000, snap=False):
    """Synthetic 5-class task: labels from a fixed random two-layer teacher."""
    x = rng.standard_normal((n, N_FEATURES))
    if snap:
        x = np.clip(np.round(x / INPUT_STEP), -128, 127) * INPUT_STEP
    a = rng.standard_normal((N_FEATURES, 24)) / np.sqrt(N_FEATURES)
    b = rng.standard_normal((24, N_CLASSES))
    y = np.argmax(np.tanh(x @ a) @ b, axis=1)
    return x.astype(np.float32), y.astype(np.int64)


def train(model, seed, snap=False, epochs=8, lr=3e-3):
    keras.utils.set_random_seed(seed)
    x, y = make_task(np.random.default_rng(seed + 500), snap=snap)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    hist = model.fit(x, y, epochs=epochs, batch_size=64, shuffle=True, verbose=0)
    return hist.history["accuracy"][-1]


def inference_copy(model):
    """Uncompiled copy rebuilt from the architecture JSON (no optimizer state in the saved files)."""
    copy = keras.models.model_from_json(model.to_json(), custom_objects=CUSTOM_OBJECTS)
    copy.set_weights(model.get_weights())
    return copy


# ----------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------

def _record(path):
    written.append(path)
    return path


def save_json(model, name):
    """Architecture JSON exactly as Keras writes it (model.to_json(), one line)."""
    path = KERAS_DIR / f"{name}.json"
    path.write_text(model.to_json())
    return _record(path)


def save_weights_h5(model, name):
    path = KERAS_DIR / f"{name}_weights.h5"
    model.save_weights(str(path))
    return _record(path)


def save_full_h5(model, name):
    path = KERAS_DIR / f"{name}.h5"
    model.save(str(path), save_format="h5", include_optimizer=False)
    return _record(path)


def save_keras_archive(model, name):
    """Keras v3 `.keras` zip. Keras stamps the save time into metadata.json and the zip entries;
    both are pinned here (date_saved and entry times) so the file is reproducible."""
    path = KERAS_DIR / f"{name}.keras"
    tmp = KERAS_DIR / f".{name}.tmp.keras"
    model.save(str(tmp), save_format="keras")
    buf = io.BytesIO()
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            data = src.read(info.filename)
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = "2024-01-01@00:00:00"
                data = json.dumps(meta).encode()
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, data)
    tmp.unlink()
    path.write_bytes(buf.getvalue())
    return _record(path)


def save_npy(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr, dtype=np.float64), allow_pickle=False)
    _record(path)


def predict(model, x):
    xs = [a.astype(np.float32) for a in x] if isinstance(x, list) else x.astype(np.float32)
    return model.predict(xs, batch_size=250, verbose=0).astype(np.float64)


def check_reload(name, reference, x, paths):
    """Every saved form must reload and reproduce the in-memory predictions exactly."""
    for kind, path in paths.items():
        with keras.utils.custom_object_scope(CUSTOM_OBJECTS):
            if kind == "json+weights":
                m = keras.models.model_from_json(path[0].read_text(), custom_objects=CUSTOM_OBJECTS)
                m.load_weights(str(path[1]))
            else:
                m = keras.models.load_model(str(path), custom_objects=CUSTOM_OBJECTS, compile=False)
        y = predict(m, x)
        if not np.array_equal(y, reference):
            raise SystemExit(f"{name}: reloading {kind} changes the output by {np.abs(y - reference).max()}")


def emit(name, model, x, logits_layer, forms):
    """`x` is the input array, or a list of one array per model input (written as `inputs.npy`,
    `inputs_1.npy`, ...)."""
    KERAS_DIR.mkdir(parents=True, exist_ok=True)
    paths = {}
    if "json" in forms:
        paths["json+weights"] = (save_json(model, name), save_weights_h5(model, name))
    if "h5" in forms:
        paths["h5"] = save_full_h5(model, name)
    if "keras" in forms:
        paths["keras"] = save_keras_archive(model, name)
    y = predict(model, x)
    logits_model = keras.Model(model.inputs, model.get_layer(logits_layer).output)
    z = predict(logits_model, x)
    check_reload(name, y, x, paths)
    d = GOLDEN_DIR / name
    for k, xk in enumerate(x if isinstance(x, list) else [x]):
        save_npy(d / ("inputs.npy" if k == 0 else f"inputs_{k}.npy"), xk)
    save_npy(d / "expected_float.npy", y)
    save_npy(d / "expected_logits.npy", z)
    return y, z


# ----------------------------------------------------------------------------
# models
#
# QActivation takes its quantizer as a *string*: with QKeras 0.9.0 on TF 2.14 a QActivation
# built from a quantizer object serializes the object as a nested Keras config that
# QActivation.from_config does not turn back into a quantizer, so the JSON does not reload.
# ----------------------------------------------------------------------------

def model_keras_mlp():
    seed = 2001
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input(shape=(N_FEATURES,), name="input_1"),
        layers.Dense(32, activation="relu", name="dense"),
        layers.BatchNormalization(name="batch_normalization"),
        layers.Dropout(0.2, name="dropout"),
        layers.Dense(16, name="dense_1"),
        layers.LeakyReLU(alpha=0.1, name="leaky_re_lu"),
        layers.Dense(16, name="dense_2"),
        layers.Activation("relu", name="activation"),
        layers.ReLU(max_value=6.0, name="re_lu"),
        layers.Dense(N_CLASSES, name="dense_3"),
        layers.Softmax(name="softmax"),
    ], name="sequential")
    acc = train(model, seed)
    model = inference_copy(model)
    x = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES)
    y, z = emit("keras_mlp", model, x, "dense_3", ["json", "h5", "keras"])

    # independent numpy forward pass
    w = {l.name: [v.astype(np.float64) for v in l.get_weights()] for l in model.layers}
    h = np.maximum(x @ w["dense"][0] + w["dense"][1], 0)
    g, b, mu, var = w["batch_normalization"]
    h = (h - mu) / np.sqrt(var + 1e-3) * g + b
    h = h @ w["dense_1"][0] + w["dense_1"][1]
    h = np.where(h >= 0, h, np.float32(0.1) * h)
    h = np.clip(h @ w["dense_2"][0] + w["dense_2"][1], 0, 6)
    zz = h @ w["dense_3"][0] + w["dense_3"][1]
    err = np.abs(zz - z).max()
    assert err < 1e-4, err
    NOTES.append(f"keras_mlp: train acc {acc:.3f}; numpy forward matches logits to {err:.2g}")


def model_keras_functional():
    seed = 2004
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    inputs = keras.Input(shape=(N_FEATURES,), name="input_features")
    h = layers.Dense(32, activation="relu", name="hidden_1")(inputs)
    h = layers.Dense(16, activation="relu", name="hidden_2")(h)
    logits = layers.Dense(N_CLASSES, name="logits")(h)
    outputs = layers.Softmax(name="probabilities")(logits)
    model = keras.Model(inputs, outputs, name="functional_mlp")
    acc = train(model, seed)
    model = inference_copy(model)
    x = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES)
    emit("keras_functional", model, x, "logits", ["h5"])
    NOTES.append(f"keras_functional: train acc {acc:.3f}")


def model_keras_two_inputs():
    """Two model inputs; two dense branches and the second input joined by one Concatenate."""
    seed = 2005
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    jets = keras.Input(shape=(N_FEATURES,), name="jets")
    tracks = keras.Input(shape=(8,), name="tracks")
    h = layers.Dense(12, activation="relu", name="jets_dense")(jets)
    t = layers.Dense(6, activation="relu", name="tracks_dense")(tracks)
    joined = layers.Concatenate(name="joined")([h, t, tracks])
    logits = layers.Dense(N_CLASSES, name="logits")(joined)
    outputs = layers.Softmax(name="probabilities")(logits)
    model = keras.Model([jets, tracks], outputs, name="two_inputs")
    x, y = make_task(np.random.default_rng(seed + 500))
    extra = np.random.default_rng(seed + 501).standard_normal((len(x), 8)).astype(np.float32)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    acc = model.fit([x, extra], y, epochs=8, batch_size=64, shuffle=True, verbose=0).history["accuracy"][-1]
    model = inference_copy(model)
    xa = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES)
    xb = make_inputs(np.random.default_rng(INPUT_SEED + 1), N_SAMPLES, 8)
    y, z = emit("keras_two_inputs", model, [xa, xb], "logits", ["json", "h5"])

    w = {l.name: [v.astype(np.float64) for v in l.get_weights()] for l in model.layers}
    hh = np.maximum(xa @ w["jets_dense"][0] + w["jets_dense"][1], 0)
    tt = np.maximum(xb @ w["tracks_dense"][0] + w["tracks_dense"][1], 0)
    zz = np.concatenate([hh, tt, xb], axis=1) @ w["logits"][0] + w["logits"][1]
    err = np.abs(zz - z).max()
    assert err < 1e-4, err
    NOTES.append(f"keras_two_inputs: train acc {acc:.3f}; numpy forward matches logits to {err:.2g}")


def np_quantized_bits(w, bits, integer, symmetric=0, keep_negative=1):
    """quantized_bits(..., alpha=1) in numpy: round half to even, then clip."""
    m = 2.0 ** (bits - keep_negative)
    mi = 2.0 ** integer
    p = np.round(np.asarray(w, np.float64) * m / mi)
    return mi * np.clip(p, keep_negative * (-m + symmetric), m - 1) / m


def np_quantized_relu(x, bits, integer):
    m = 2.0 ** bits
    mi = 2.0 ** integer
    return mi * np.clip(np.round(x * m / mi) / m, 0.0, 1.0 - 1.0 / m)


def model_qkeras_mlp():
    seed = 2002
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(N_FEATURES,), name="input_1"),
        QActivation("quantized_bits(8,3)", name="input_quant"),
        QDense(32, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
               name="fc1"),
        QActivation("quantized_relu(6,0)", name="relu1"),
        QDense(16, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
               name="fc2"),
        QActivation("quantized_relu(6,0)", name="relu2"),
        keras.layers.Dense(N_CLASSES, name="output"),
        keras.layers.Activation("softmax", name="softmax"),
    ], name="qkeras_mlp")
    acc = train(model, seed, snap=True)
    model = inference_copy(model)
    x = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES, snap=True)
    y, z = emit("qkeras_mlp", model, x, "output", ["json", "h5"])

    # exact numpy model of the quantized part, float64 for the final Dense
    w = {l.name: [v.astype(np.float64) for v in l.get_weights()] for l in model.layers}
    h = np_quantized_bits(x, 8, 3)
    for layer, act in (("fc1", "relu1"), ("fc2", "relu2")):
        k, b = w[layer]
        h = np_quantized_relu(h @ np_quantized_bits(k, 6, 0) + np_quantized_bits(b, 6, 0), 6, 0)
    hidden = keras.Model(model.inputs, model.get_layer("relu2").output)
    h_tf = predict(hidden, x)
    if not np.array_equal(h, h_tf):
        raise SystemExit("qkeras_mlp: numpy model of quantized_bits(6,0,alpha=1) / quantized_relu(6,0) differs from "
                         f"QKeras by {np.abs(h - h_tf).max()}")
    err = np.abs(h @ w["output"][0] + w["output"][1] - z).max()
    assert err < 1e-4, err
    NOTES.append(f"qkeras_mlp: train acc {acc:.3f}; hidden activations match the numpy model exactly, "
                 f"logits to {err:.2g}")


def model_qkeras_quantizers():
    seed = 2003
    keras.utils.set_random_seed(seed)
    b83 = quantized_bits(8, 3, alpha=1)
    model = keras.Sequential([
        keras.Input(shape=(N_FEATURES,), name="input_1"),
        QActivation("quantized_bits(8,3,alpha=1)", name="q_input"),
        QDense(32, kernel_quantizer=quantized_bits(8, 1, alpha="auto_po2"), bias_quantizer=b83,
               name="qdense_auto_po2"),
        QBatchNormalization(name="qbn"),  # default quantizers: po2 beta/mean, relu_po2 gamma/variance
        QActivation("quantized_relu(6,2,negative_slope=0.25)", name="qrelu_leaky"),
        QDense(16, kernel_quantizer=quantized_bits(4, 0, symmetric=1, alpha=1),
               bias_quantizer=quantized_bits(6, 2, alpha=1), name="qdense_symmetric"),
        QActivation("hard_sigmoid", name="act_hard_sigmoid"),
        QDense(16, kernel_quantizer=binary(alpha=1), bias_quantizer=b83, name="qdense_binary"),
        QActivation("quantized_bits(6,2,keep_negative=0,alpha=1)", name="q_unsigned"),
        QDense(16, kernel_quantizer=ternary(alpha=1), bias_quantizer=b83, activation="tanh",
               name="qdense_ternary_tanh"),
        QDense(16, kernel_quantizer=quantized_po2(4, 1), bias_quantizer=quantized_po2(4), name="qdense_po2"),
        QActivation("quantized_relu_po2(4,4)", name="qrelu_po2"),
        QDense(8, kernel_quantizer=quantized_bits(8, 0, alpha=1), bias_quantizer=b83, activation="sigmoid",
               name="qdense_sigmoid"),
        QDense(N_CLASSES, kernel_quantizer=quantized_bits(8, 1, alpha=1), bias_quantizer=quantized_bits(8, 1, alpha=1),
               name="logits"),
        keras.layers.Activation("softmax", name="softmax"),
    ], name="qkeras_quantizers")
    acc = train(model, seed, snap=True, epochs=10)
    model = inference_copy(model)
    x = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES, snap=True)
    emit("qkeras_quantizers", model, x, "logits", ["json"])

    # record what the activation strings resolved to
    probe = np.linspace(-4, 4, 33).astype(np.float32)[None, :]
    hs = model.get_layer("act_hard_sigmoid").quantizer(tf.constant(probe)).numpy()
    slope = "0.5 (qkeras.quantizers.hard_sigmoid)" if np.allclose(hs, np.clip(0.5 * probe + 0.5, 0, 1)) else \
        "0.2 (keras hard_sigmoid)" if np.allclose(hs, np.clip(0.2 * probe + 0.5, 0, 1)) else "unknown"
    NOTES.append(f"qkeras_quantizers: train acc {acc:.3f}; QActivation('hard_sigmoid') has slope {slope}")


def model_qkeras_bnn():
    """Binary and ternary QKeras quantizers on weights and activations: binary, stochastic_binary
    (deterministic at inference), ternary (default threshold 0.33 and a given one),
    quantized_bits(1) and quantized_bits(2) as kernel and activation quantizers, binary_tanh."""
    seed = 2004
    keras.utils.set_random_seed(seed)
    b83 = quantized_bits(8, 3, alpha=1)
    model = keras.Sequential([
        keras.Input(shape=(N_FEATURES,), name="input_1"),
        QActivation("quantized_bits(8,3,alpha=1)", name="q_input"),
        QDense(32, kernel_quantizer=binary(alpha=1), bias_quantizer=b83, name="fc_binary"),
        QActivation("binary()", name="act_binary"),
        QDense(32, kernel_quantizer=ternary(alpha=1), bias_quantizer=b83, name="fc_ternary"),
        QActivation("ternary()", name="act_ternary"),
        QDense(16, kernel_quantizer=stochastic_binary(alpha=1), bias_quantizer=b83, name="fc_stochastic"),
        QActivation("binary(use_01=True)", name="act_binary01"),
        QDense(16, kernel_quantizer=quantized_bits(2, 1, alpha=1), bias_quantizer=b83, name="fc_bits2"),
        QActivation("binary_tanh", name="act_binary_tanh"),
        QDense(16, kernel_quantizer=quantized_bits(1, 0, alpha=1), bias_quantizer=b83, name="fc_bits1"),
        QActivation("quantized_bits(1,0)", name="act_bits1"),
        QDense(16, kernel_quantizer=ternary(alpha=1), bias_quantizer=b83, name="fc_ternary2"),
        QActivation("ternary(alpha=0.5,threshold=0.25)", name="act_ternary_scaled"),
        QDense(16, kernel_quantizer=binary(alpha=1), bias_quantizer=b83, name="fc_binary2"),
        QActivation("stochastic_binary()", name="act_stochastic"),
        QDense(16, kernel_quantizer=quantized_bits(2, 1, alpha=1), bias_quantizer=b83, name="fc_bits2b"),
        QActivation("quantized_bits(2,1,alpha=1)", name="act_bits2"),
        QDense(N_CLASSES, kernel_quantizer=quantized_bits(8, 1, alpha=1), bias_quantizer=quantized_bits(8, 1, alpha=1),
               name="logits"),
    ], name="qkeras_bnn")
    acc = train(model, seed, snap=True, epochs=4)
    model = inference_copy(model)
    # the inputs of act_ternary_scaled are integers plus this bias: biases of n + 1/4 and n + 3/4
    # put some of them exactly on the thresholds +-0.25
    k, b = model.get_layer("fc_ternary2").get_weights()
    b = (np.floor(b) + np.where(np.arange(b.size) % 2 == 0, 0.25, 0.75)).astype(np.float32)
    model.get_layer("fc_ternary2").set_weights([k, b])
    x = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES, snap=True)
    emit("qkeras_bnn", model, x, "logits", ["json", "h5"])

    # every binary/ternary activation takes only its documented values
    values = {"act_binary": {-1.0, 1.0}, "act_ternary": {-1.0, 0.0, 1.0}, "act_binary01": {0.0, 1.0},
              "act_binary_tanh": {-1.0, 1.0}, "act_bits1": {-1.0, 1.0}, "act_ternary_scaled": {-0.5, 0.0, 0.5},
              "act_stochastic": {-1.0, 1.0}}
    for name, allowed in values.items():
        got = set(np.unique(predict(keras.Model(model.inputs, model.get_layer(name).output), x)).tolist())
        if not got <= allowed:
            raise SystemExit(f"qkeras_bnn: {name} gives {sorted(got)}, not within {sorted(allowed)}")
    NOTES.append(f"qkeras_bnn: train acc {acc:.3f}; binary/ternary activations take only their levels")


# BinaryNet's binarized and ternarized Dense layers, rebuilt from the definitions hls4ml's binary and
# ternary test models were trained with (DingKe nn_playground binarynet/ternarynet, as used by the
# hls4ml example models): at inference the kernel is H * binary_tanh(W / H), respectively
# H * (W / H > 0.5 ? 1 : (W / H <= -0.5 ? -1 : 0)); binary_tanh(x) = 2 * round(clip(0.5x + 0.5)) - 1
# (tf.round: half to even) and ternary_tanh(x) = ternarize(clip(x, -1, 1)).

def _bnn_binary_tanh(x):
    h = tf.clip_by_value(0.5 * x + 0.5, 0.0, 1.0)
    return 2.0 * (h + tf.stop_gradient(tf.round(h) - h)) - 1.0


def _bnn_ternarize(w, h=1.0):
    v = w / h
    wt = h * tf.where(v > 0.5, tf.ones_like(v), tf.where(v <= -0.5, -tf.ones_like(v), tf.zeros_like(v)))
    return w + tf.stop_gradient(wt - w)


def binary_tanh(x):
    return _bnn_binary_tanh(x)


def ternary_tanh(x):
    return _bnn_ternarize(tf.clip_by_value(x, -1.0, 1.0))


class Clip(keras.constraints.Constraint):
    """BinaryNet's kernel constraint (training only)."""

    def __init__(self, min_value, max_value=None):
        self.min_value, self.max_value = min_value, max_value

    def __call__(self, p):
        return tf.clip_by_value(p, self.min_value, self.max_value)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value}


class _BinaryNetDense(keras.layers.Dense):
    # kernel_lr_multiplier / bias_lr_multiplier only scale training updates
    def __init__(self, units, H=1.0, kernel_lr_multiplier=None, bias_lr_multiplier=None, **kwargs):
        super().__init__(units, **kwargs)
        self.H = H

    def call(self, inputs):
        out = tf.matmul(inputs, self.transform(self.kernel))
        if self.use_bias:
            out = tf.nn.bias_add(out, self.bias)
        return self.activation(out)

    def get_config(self):
        return {**super().get_config(), "H": self.H}


class BinaryDense(_BinaryNetDense):
    def transform(self, w):
        return self.H * _bnn_binary_tanh(w / self.H)


class TernaryDense(_BinaryNetDense):
    def transform(self, w):
        return _bnn_ternarize(w, self.H)


CUSTOM_OBJECTS.update({"Clip": Clip, "BinaryDense": BinaryDense, "TernaryDense": TernaryDense, "ternary_tanh": ternary_tanh,
                       "binary_tanh": binary_tanh})


def model_keras_binarynet():
    """BinaryDense (H = 1 and H = 0.5) with binary_tanh, TernaryDense with ternary_tanh, as in hls4ml's
    KERAS_3layer_binary_smaller / KERAS_3layer_ternary_small but without their batch norms, so that
    the float model is exact on grid inputs."""
    seed = 2005
    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomUniform(-1.0, 1.0, seed=seed)
    model = keras.Sequential([
        keras.Input(shape=(N_FEATURES,), name="input_1"),
        QActivation("quantized_bits(8,3,alpha=1)", name="q_input"),
        BinaryDense(32, H=1.0, use_bias=False, kernel_initializer=init, name="fc1"),
        keras.layers.Activation(binary_tanh, name="act1"),
        TernaryDense(32, H=1.0, kernel_initializer=init, bias_initializer=init, name="fc2"),
        keras.layers.Activation(ternary_tanh, name="act2"),
        BinaryDense(16, H=0.5, kernel_initializer=init, bias_initializer=init, name="fc3"),
        keras.layers.Activation(ternary_tanh, name="act3"),
        TernaryDense(N_CLASSES, H=0.5, use_bias=False, kernel_initializer=init, name="output"),
    ], name="keras_binarynet")
    # fc2's bias in {-1/2, 1/2} puts some inputs of ternary_tanh exactly on its thresholds +-1/2;
    # fc3's on a 2^-4 grid: the float model stays exact
    w = model.get_weights()
    w[2] = np.where(w[2] >= 0, 0.5, -0.5).astype(np.float32)
    w[4] = np.round(w[4] * 16.0) / 16.0
    model.set_weights(w)
    x = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, N_FEATURES, snap=True)
    emit("keras_binarynet", model, x, "output", ["json"])
    NOTES.append("keras_binarynet: untrained (uniform kernels), BinaryNet semantics")


# ----------------------------------------------------------------------------
# convolutional models: small inputs (at most 16x16), few filters, so that their
# C-simulation stays cheap. Inputs are stored [N, *input_shape].
# ----------------------------------------------------------------------------

N_CNN_SAMPLES = 200


def cnn_inputs(rng, n, shape, snap=False):
    flat = make_inputs(rng, n, int(np.prod(shape)), snap=snap)
    return flat.reshape((n,) + tuple(shape))


def train_cnn(model, seed, shape, snap=False, epochs=4, lr=3e-3):
    """Labels from a fixed random linear teacher on the flattened input."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed + 500)
    inputs = model.inputs
    x = rng.standard_normal((1200,) + tuple(shape))
    if snap:
        x = np.clip(np.round(x / INPUT_STEP), -128, 127) * INPUT_STEP
    teacher = rng.standard_normal((int(np.prod(shape)), N_CLASSES))
    y = np.argmax(np.tanh(x.reshape(len(x), -1)) @ teacher, axis=1)
    assert len(inputs) == 1
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    hist = model.fit(x.astype(np.float32), y, epochs=epochs, batch_size=64, shuffle=True, verbose=0)
    return hist.history["accuracy"][-1]


def model_keras_cnn2d():
    """Conv2D same + stride, BatchNormalization, ReLU, MaxPooling2D, DepthwiseConv2D,
    SeparableConv2D (even kernel: uneven 'same' padding), AveragePooling2D 'same' (partial
    windows), Flatten, Dense, softmax."""
    seed = 2101
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    shape = (12, 12, 2)
    model = keras.Sequential([
        keras.Input(shape=shape, name="image"),
        layers.Conv2D(4, 3, strides=2, padding="same", name="conv1"),
        layers.BatchNormalization(name="bn1"),
        layers.ReLU(name="relu1"),
        layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu", name="dw"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.SeparableConv2D(6, 2, padding="same", activation="tanh", name="sep"),
        layers.AveragePooling2D(2, strides=1, padding="same", name="avg"),
        layers.Flatten(name="flatten"),
        layers.Dense(N_CLASSES, name="logits"),
        layers.Activation("softmax", name="softmax"),
    ], name="keras_cnn2d")
    acc = train_cnn(model, seed, shape)
    # non-trivial moving statistics for the batch norm
    bn = model.get_layer("bn1")
    rng = np.random.default_rng(seed + 1)
    g, b, m, v = bn.get_weights()
    bn.set_weights([g * rng.uniform(0.5, 1.5, g.shape), b + rng.normal(0, 0.2, b.shape),
                    m + rng.normal(0, 0.3, m.shape), v * rng.uniform(0.5, 2.0, v.shape)])
    model = inference_copy(model)
    x = cnn_inputs(np.random.default_rng(INPUT_SEED), N_CNN_SAMPLES, shape)
    emit("keras_cnn2d", model, x, "logits", ["json", "h5", "keras"])
    NOTES.append(f"keras_cnn2d: train acc {acc:.3f}")


def model_keras_cnn1d():
    """Conv1D (same, dilated valid), MaxPooling1D, ZeroPadding1D, AveragePooling1D 'same',
    UpSampling1D, Cropping1D, GlobalAveragePooling1D."""
    seed = 2102
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    shape = (16, 3)
    model = keras.Sequential([
        keras.Input(shape=shape, name="series"),
        layers.Conv1D(4, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling1D(2, name="pool1"),
        layers.ZeroPadding1D((1, 2), name="pad"),
        layers.Conv1D(6, 3, dilation_rate=2, activation="tanh", name="conv2"),
        layers.AveragePooling1D(2, padding="same", name="avg"),
        layers.UpSampling1D(2, name="up"),
        layers.Cropping1D((1, 1), name="crop"),
        layers.Conv1D(8, 2, strides=2, use_bias=False, name="conv3"),
        layers.GlobalAveragePooling1D(name="gap"),
        layers.Dense(N_CLASSES, name="logits"),
        layers.Softmax(name="softmax"),
    ], name="keras_cnn1d")
    acc = train_cnn(model, seed, shape)
    model = inference_copy(model)
    x = cnn_inputs(np.random.default_rng(INPUT_SEED), N_CNN_SAMPLES, shape)
    emit("keras_cnn1d", model, x, "logits", ["json", "h5"])
    NOTES.append(f"keras_cnn1d: train acc {acc:.3f}")


def model_keras_cnn_functional():
    """A skip connection (Add), Maximum and Average merges, Concatenate on the channel axis and
    on a spatial axis, GlobalMaxPooling2D."""
    seed = 2103
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    shape = (8, 8, 2)
    image = keras.Input(shape=shape, name="image")
    a = layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")(image)
    b = layers.Conv2D(4, 3, padding="same", name="branch")(a)
    skip = layers.Add(name="skip")([a, b])
    biggest = layers.Maximum(name="biggest")([a, b, skip])
    mean = layers.Average(name="mean")([skip, biggest])
    joined = layers.Concatenate(name="channels")([mean, a])
    top = layers.MaxPooling2D(2, name="max_pool")(joined)
    bottom = layers.AveragePooling2D(2, name="avg_pool")(joined)
    stacked = layers.Concatenate(axis=1, name="rows")([top, bottom])
    g = layers.GlobalMaxPooling2D(name="gmp")(stacked)
    logits = layers.Dense(N_CLASSES, name="logits")(g)
    outputs = layers.Softmax(name="probabilities")(logits)
    model = keras.Model(image, outputs, name="cnn_functional")
    acc = train_cnn(model, seed, shape)
    model = inference_copy(model)
    x = cnn_inputs(np.random.default_rng(INPUT_SEED), N_CNN_SAMPLES, shape)
    emit("keras_cnn_functional", model, x, "logits", ["json", "h5"])
    NOTES.append(f"keras_cnn_functional: train acc {acc:.3f}")


def model_qkeras_cnn():
    """QConv2D, QDepthwiseConv2D, QConv2DBatchnorm, QAveragePooling2D, QActivation, QDense."""
    seed = 2104
    keras.utils.set_random_seed(seed)
    shape = (10, 10, 1)
    q6 = lambda: quantized_bits(6, 0, alpha=1)  # noqa: E731
    model = keras.Sequential([
        keras.Input(shape=shape, name="image"),
        QActivation("quantized_bits(8,3)", name="input_quant"),
        QConv2D(4, 3, kernel_quantizer=q6(), bias_quantizer=q6(), name="qconv1"),
        QActivation("quantized_relu(6,2)", name="relu1"),
        QDepthwiseConv2D(3, padding="same", depthwise_quantizer=q6(), bias_quantizer=q6(), name="qdw"),
        QActivation("quantized_relu(6,2)", name="relu2"),
        QConv2DBatchnorm(6, 3, kernel_quantizer=quantized_bits(8, 2, alpha=1),
                         bias_quantizer=quantized_bits(8, 3, alpha=1), name="qconv_bn"),
        QActivation("quantized_relu(6,2)", name="relu3"),
        QAveragePooling2D(2, average_quantizer=quantized_bits(8, 0, alpha=1), name="qavg"),
        keras.layers.Flatten(name="flatten"),
        QDense(N_CLASSES, kernel_quantizer=quantized_bits(8, 1, alpha=1), bias_quantizer=quantized_bits(8, 1, alpha=1),
               name="logits"),
        keras.layers.Activation("softmax", name="softmax"),
    ], name="qkeras_cnn")
    acc = train_cnn(model, seed, shape, snap=True)
    model = inference_copy(model)
    x = cnn_inputs(np.random.default_rng(INPUT_SEED), N_CNN_SAMPLES, shape, snap=True)
    emit("qkeras_cnn", model, x, "logits", ["json", "h5"])
    NOTES.append(f"qkeras_cnn: train acc {acc:.3f}")


def model_keras_cnn_activations():
    """PReLU (per channel, shared over the width), ELU, ThresholdedReLU layers and the elu, selu,
    softplus, softsign and hard_sigmoid activations on a small 1-D CNN."""
    seed = 2105
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    shape = (8, 2)
    model = keras.Sequential([
        keras.Input(shape=shape, name="series"),
        layers.Conv1D(4, 3, padding="same", name="conv1"),
        layers.PReLU(shared_axes=[1], name="prelu"),
        layers.Conv1D(4, 3, padding="same", activation="elu", name="conv2"),
        layers.ELU(alpha=0.5, name="elu"),
        layers.Conv1D(4, 1, activation="selu", name="conv3"),
        layers.ThresholdedReLU(theta=0.3, name="thresholded"),
        layers.Conv1D(4, 1, activation="softplus", name="conv4"),
        layers.Conv1D(4, 1, activation="softsign", name="conv5"),
        layers.Activation("hard_sigmoid", name="hard_sigmoid"),
        layers.Flatten(name="flatten"),
        layers.Dense(N_CLASSES, name="logits"),
        layers.Softmax(name="softmax"),
    ], name="keras_cnn_activations")
    acc = train_cnn(model, seed, shape)
    prelu = model.get_layer("prelu")
    prelu.set_weights([np.random.default_rng(seed + 1).uniform(-0.5, 0.5, prelu.get_weights()[0].shape)])
    model = inference_copy(model)
    x = cnn_inputs(np.random.default_rng(INPUT_SEED), N_CNN_SAMPLES, shape)
    emit("keras_cnn_activations", model, x, "logits", ["json", "h5"])
    NOTES.append(f"keras_cnn_activations: train acc {acc:.3f}")


def model_qkeras_separable():
    """QSeparableConv2D, QGlobalAveragePooling2D, then (reshaped to 1-D) QConv1D with a stride,
    QSeparableConv1D and GlobalAveragePooling1D; the two branches concatenated into a QDense."""
    seed = 2106
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    shape = (8, 8, 2)
    q6 = lambda: quantized_bits(6, 0, alpha=1)  # noqa: E731
    image = keras.Input(shape=shape, name="image")
    x = QActivation("quantized_bits(8,3)", name="input_quant")(image)
    x = QSeparableConv2D(4, 3, padding="same", depth_multiplier=2, depthwise_quantizer=q6(),
                         pointwise_quantizer=q6(), bias_quantizer=q6(), name="qsep2d")(x)
    x = QActivation("quantized_relu(6,2)", name="relu1")(x)
    pooled = QGlobalAveragePooling2D(average_quantizer=quantized_bits(8, 0, alpha=1), name="qgap")(x)
    series = layers.Reshape((64, 4), name="to_series")(x)
    y = QConv1D(4, 3, strides=2, kernel_quantizer=q6(), bias_quantizer=q6(), name="qconv1d")(series)
    y = QActivation("quantized_relu(6,2)", name="relu2")(y)
    y = QSeparableConv1D(4, 3, depthwise_quantizer=q6(), pointwise_quantizer=q6(), bias_quantizer=q6(),
                         name="qsep1d")(y)
    y = QActivation("quantized_relu(6,2)", name="relu3")(y)
    y = layers.GlobalAveragePooling1D(name="gap1d")(y)
    joined = layers.Concatenate(name="joined")([pooled, y])
    logits = QDense(N_CLASSES, kernel_quantizer=quantized_bits(8, 1, alpha=1),
                    bias_quantizer=quantized_bits(8, 1, alpha=1), name="logits")(joined)
    outputs = layers.Activation("softmax", name="softmax")(logits)
    model = keras.Model(image, outputs, name="qkeras_separable")
    acc = train_cnn(model, seed, shape, snap=True)
    model = inference_copy(model)
    x = cnn_inputs(np.random.default_rng(INPUT_SEED), N_CNN_SAMPLES, shape, snap=True)
    emit("qkeras_separable", model, x, "logits", ["json", "h5"])
    NOTES.append(f"qkeras_separable: train acc {acc:.3f}")


def train_autoencoder(model, seed, features, epochs=6):
    """Reconstruction training on standard-normal rows (MSE)."""
    keras.utils.set_random_seed(seed)
    x = f32(np.random.default_rng(seed + 500).standard_normal((2000, features)))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    return model.fit(x, x, epochs=epochs, batch_size=64, shuffle=True, verbose=0).history["loss"][-1]


def model_keras_ae_score():
    """Dense autoencoder 57-32-16-32-57 with its anomaly score written as hls4ml users do in the
    functional API: Subtract(input, reconstruction), Multiply(d, d) and tf.reduce_mean over the
    features (a TFOpLambda layer, keepdims=True): [N, 1]."""
    seed = 2101
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    x = keras.Input(shape=(57,), name="features")
    h = x
    for name, units in [("enc1", 32), ("enc2", 16), ("dec1", 32)]:
        h = layers.Dense(units, activation="relu", name=name)(h)
    y = layers.Dense(57, name="dec2")(h)
    loss = train_autoencoder(keras.Model(x, y), seed, 57)
    d = layers.Subtract(name="diff")([x, y])
    sq = layers.Multiply(name="square")([d, d])
    score = tf.reduce_mean(sq, axis=-1, keepdims=True)
    model = inference_copy(keras.Model(x, score, name="ae_score"))
    xs = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, 57)
    out, _ = emit("keras_ae_score", model, xs, model.layers[-1].name, ["json", "h5"])

    w = {l.name: [v.astype(np.float64) for v in l.get_weights()] for l in model.layers}
    hh = xs
    for name in ["enc1", "enc2", "dec1"]:
        hh = np.maximum(hh @ w[name][0] + w[name][1], 0)
    rec = hh @ w["dec2"][0] + w["dec2"][1]
    ref = ((xs - rec) ** 2).mean(axis=1, keepdims=True)
    err = np.abs(ref - out).max() / max(1.0, np.abs(ref).max())
    assert err < 1e-5, err
    NOTES.append(f"keras_ae_score: reconstruction loss {loss:.3f}; numpy score matches to {err:.2g} (relative)")


def model_keras_encoder_l2():
    """An encoder 57-32-16-3 (the latent mean of a VAE) scored by the squared L2 norm of its
    latent vector, tf.reduce_sum(tf.square(z), axis=1) (two TFOpLambda layers): [N]."""
    seed = 2102
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    x = keras.Input(shape=(57,), name="features")
    h = layers.Dense(32, activation="relu", name="enc1")(x)
    h = layers.Dense(16, activation="relu", name="enc2")(h)
    z = layers.Dense(3, name="z_mean")(h)
    score = tf.reduce_sum(tf.square(z), axis=1)
    model = keras.Model(x, score, name="encoder_l2")
    model = inference_copy(model)
    xs = make_inputs(np.random.default_rng(INPUT_SEED), N_SAMPLES, 57)
    out, _ = emit("keras_encoder_l2", model, xs, model.layers[-1].name, ["json", "h5"])

    w = {l.name: [v.astype(np.float64) for v in l.get_weights()] for l in model.layers}
    hh = np.maximum(xs @ w["enc1"][0] + w["enc1"][1], 0)
    hh = np.maximum(hh @ w["enc2"][0] + w["enc2"][1], 0)
    zz = hh @ w["z_mean"][0] + w["z_mean"][1]
    ref = (zz ** 2).sum(axis=1)
    err = np.abs(ref - out.reshape(-1)).max() / max(1.0, np.abs(ref).max())
    assert err < 1e-5, err
    NOTES.append(f"keras_encoder_l2: numpy score matches to {err:.2g} (relative)")


def main():
    only = set(sys.argv[1:])
    for fn in [model_keras_mlp, model_qkeras_mlp, model_qkeras_quantizers, model_qkeras_bnn, model_keras_binarynet,
               model_keras_functional,
               model_keras_two_inputs, model_keras_cnn2d, model_keras_cnn1d, model_keras_cnn_functional,
               model_qkeras_cnn, model_keras_cnn_activations, model_qkeras_separable,
               model_keras_ae_score, model_keras_encoder_l2]:
        if only and fn.__name__.removeprefix("model_") not in only:
            continue
        fn()
    for p in written:
        print(f"wrote {rel(p)} ({p.stat().st_size} bytes)")
    for n in NOTES:
        print(n)
    import h5py
    import keras as keras_pkg

    print(f"tensorflow {tf.__version__}, keras {keras_pkg.__version__}, qkeras {qkeras.__version__}, "
          f"numpy {np.__version__}, h5py {h5py.__version__}")


if __name__ == "__main__":
    sys.exit(main())
