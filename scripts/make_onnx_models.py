#!/usr/bin/env python3
"""Generate the ONNX / QONNX / QDQ test models and their reference outputs.

Run from the repository root, inside a virtualenv built from
scripts/requirements-onnx.txt:

    python scripts/make_onnx_models.py

Writes
    tests/models/onnx/<model>.onnx
    tests/models/bad/*.onnx  (+ README.md)
    tests/models/onnx/bad_cnn/*.onnx  (CNNs the importer must refuse)
    golden/reference/<model>/inputs.npy          float64 [N, F]   (inputs_1.npy, ... for more graph inputs;
                                                  CNNs: [N, C, (H,) W], or [N, H, W, C] for NHWC models,
                                                  the model's own layout)
    golden/reference/<model>/expected_float.npy  float64 [N, out]  (onnxruntime; expected_float_1.npy, ...
                                                  for further graph outputs, each flattened to [N, out_k])
    golden/reference/<model>/expected_qonnx.npy  float64 [N, out]  (qonnx executor, QONNX models only)

Everything is seeded; two runs produce byte-identical files (on the same
machine: onnxruntime's float kernels may differ in the last bit on other CPUs).
"""

import os
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
ONNX_DIR = ROOT / "tests" / "models" / "onnx"
BAD_DIR = ROOT / "tests" / "models" / "bad"
GOLDEN_DIR = ROOT / "golden" / "reference"

QONNX_DOMAIN = "qonnx.custom_op.general"
PRODUCER = "hls-gen/scripts/make_onnx_models.py"
N_SAMPLES = 1000

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64

written = []
NOTES = []


# ----------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------

def f32(a):
    """Round to float32 and return as float64: every value is exactly float32-representable."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def glorot(rng, fan_in, fan_out, shape=None):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    w = rng.uniform(-limit, limit, size=shape or (fan_in, fan_out))
    return w.astype(np.float32)


def bias(rng, n, std=0.1):
    return rng.normal(0.0, std, size=n).astype(np.float32)


def on_grid(a, step):
    """Round to a multiple of step (a power of two), so float32 sums stay exact."""
    return (np.round(np.asarray(a, dtype=np.float64) / step) * step).astype(np.float32)


def po2_scale_for(maxabs, qmax, mode="ceil"):
    """Power-of-two scale s with maxabs/s ~ qmax."""
    e = np.log2(np.maximum(maxabs, 1e-12) / qmax)
    e = np.ceil(e) if mode == "ceil" else np.floor(e)
    return np.power(2.0, e).astype(np.float32)


def raw(name, arr):
    """Initializer stored in raw_data."""
    return numpy_helper.from_array(np.asarray(arr), name=name)


def typed(name, arr):
    """Initializer stored in the typed field (float_data / int64_data / int32_data)."""
    arr = np.asarray(arr)
    dt = helper.np_dtype_to_tensor_dtype(arr.dtype)
    return helper.make_tensor(name, dt, list(arr.shape), arr.flatten().tolist(), raw=False)


def scalar(name, value, dtype=np.float32, typed_field=False):
    arr = np.array(value, dtype=dtype)
    return typed(name, arr) if typed_field else raw(name, arr)


def vi(name, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def make_model(graph, opset, ir_version, extra_opsets=(), doc=""):
    opsets = [helper.make_opsetid("", opset)]
    opsets += [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name=PRODUCER,
        producer_version="1",
        doc_string=doc,
    )
    model.ir_version = ir_version
    return model


def rel(p):
    return os.path.relpath(p, ROOT)


def save_model(model, path, check=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    if check:
        onnx.checker.check_model(model)
    data = model.SerializeToString()
    path.write_bytes(data)
    written.append(path)
    return path


def save_npy(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    with open(path, "wb") as f:
        np.save(f, arr, allow_pickle=False)
    written.append(path)


def ort_session(model, optimize=False):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def run_ort(model, x, batch, optimize=False):
    """Run x [N, F] through the model in chunks of `batch` rows (batch=None: all at once).

    Graph optimizations are off by default: the reference is the node-by-node ONNX semantics.
    (With ORT_ENABLE_ALL, onnxruntime fuses QDQ MatMuls into com.microsoft QGemm, whose x86 AVX2
    u8s8 kernel saturates int16 pair sums and gives different answers; see mlp_qdq.)"""
    sess = ort_session(model, optimize)
    name = sess.get_inputs()[0].name
    xs = x.astype(np.float32)
    if batch is None:
        out = sess.run(None, {name: xs})[0]
        return out.astype(np.float64)
    outs = []
    for i in range(0, len(xs), batch):
        outs.append(sess.run(None, {name: xs[i:i + batch]})[0])
    return np.concatenate(outs, axis=0).astype(np.float64)


# ----------------------------------------------------------------------------
# reference inputs
# ----------------------------------------------------------------------------

INPUT_SEED = 42


def input_rng():
    """All models draw their inputs from the same seed, so models with the same input width get
    identical inputs.npy files (stored once by git). make_qkeras_models.py uses the same seed and
    row layout, so keras_mlp / keras_functional share these rows too."""
    return np.random.default_rng(INPUT_SEED)


def make_inputs(rng, n, f, step=2.0 ** -4, qmin=-128, qmax=127):
    """float64 [n, f], every value exactly representable in float32.

    Layout (documented in scripts/README.md):
      rows [0, n-200)        standard normal
      rows [n-200, n-140)    large magnitudes: |x| in [8, 64], random signs
                             (every other row: only half the features large)
      rows [n-140, n-20)     exact ties: odd multiples of step/2 in about [-6, 6]
                             (halfway between two grid points of a quantizer of step `step`)
      rows [n-20, n-10)      exact grid points k*step, k uniform in [qmin, qmax]
      rows [n-10, n)         specials: zeros, qmax*step, qmin*step, (qmax+0.5)*step,
                             (qmin-0.5)*step, +-64, +-8, step/2, -step/2 alternating
    """
    assert n >= 200
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

    lim = int(round(6.0 / step))
    k = rng.integers(-lim, lim, size=(120, f))
    x[n_norm + 60:n_norm + 180] = (2 * k + 1) * (step / 2.0)

    kg = rng.integers(qmin, qmax + 1, size=(10, f))
    x[n_norm + 180:n_norm + 190] = kg * step

    specials = [
        np.zeros(f),
        np.full(f, qmax * step),
        np.full(f, qmin * step),
        np.full(f, (qmax + 0.5) * step),
        np.full(f, (qmin - 0.5) * step),
        np.where(np.arange(f) % 2 == 0, 64.0, -64.0),
        np.where(np.arange(f) % 2 == 0, -8.0, 8.0),
        np.full(f, step / 2.0),
        np.full(f, -step / 2.0),
        np.where(np.arange(f) % 2 == 0, step / 2.0, -step / 2.0) * 3.0,
    ]
    x[n_norm + 190:] = np.stack(specials)
    assert np.array_equal(x, f32(x)), "inputs must be float32-exact"
    return x


# ----------------------------------------------------------------------------
# numpy references used as self-checks
# ----------------------------------------------------------------------------

def np_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def np_quant(x, scale, bits, signed, narrow=False, rounding=np.round):
    """QONNX Quant semantics: scale, clamp, then round (np.round = half to even)."""
    if signed:
        lo = -(2 ** (bits - 1)) + (1 if narrow else 0)
        hi = 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2 ** bits - 1 - (1 if narrow else 0)
    y = np.clip(np.asarray(x, np.float64) / scale, lo, hi)
    return rounding(y) * scale


def check_close(name, a, b, atol):
    err = float(np.max(np.abs(a - b)))
    if err > atol:
        raise SystemExit(f"{name}: self-check failed, max |diff| = {err} > {atol}")
    return err


# ----------------------------------------------------------------------------
# 1. mlp_float
# ----------------------------------------------------------------------------

def build_mlp_float(rng, sizes, prefix, in_name, out_name, batch_param):
    nodes, inits, params = [], [], []
    cur = in_name
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = f"{prefix}/dense" + ("" if i == 0 else f"_{i}")
        W = glorot(rng, a, b)
        B = bias(rng, b)
        params.append((W, B))
        wn, bn = f"{layer}/MatMul/ReadVariableOp:0", f"{layer}/BiasAdd/ReadVariableOp:0"
        inits += [raw(wn, W), raw(bn, B)]
        nodes.append(helper.make_node("MatMul", [cur, wn], [f"{layer}/MatMul:0"], name=f"{layer}/MatMul"))
        nodes.append(helper.make_node("Add", [f"{layer}/MatMul:0", bn], [f"{layer}/BiasAdd:0"], name=f"{layer}/BiasAdd"))
        cur = f"{layer}/BiasAdd:0"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [cur], [f"{layer}/Relu:0"], name=f"{layer}/Relu"))
            cur = f"{layer}/Relu:0"
    nodes.append(helper.make_node("Softmax", [cur], [out_name], name=f"{prefix}/dense_{len(sizes) - 2}/Softmax", axis=-1))
    graph = helper.make_graph(
        nodes, prefix, [vi(in_name, [batch_param, sizes[0]])], [vi(out_name, [batch_param, sizes[-1]])], inits
    )
    return graph, params


def np_mlp_float(x, params):
    h = x
    for i, (W, B) in enumerate(params):
        h = h @ W.astype(np.float64) + B
        if i < len(params) - 1:
            h = np.maximum(h, 0.0)
    return np_softmax(h)


def model_mlp_float():
    rng = np.random.default_rng(1001)
    graph, params = build_mlp_float(rng, [16, 64, 32, 32, 5], "sequential", "input_1", "dense_3/Softmax:0", "N")
    model = make_model(graph, 13, 7, doc="jet-tagger-shaped MLP 16-64-32-32-5, MatMul+Add, Relu, Softmax")
    x = make_inputs(input_rng(), N_SAMPLES, 16)
    y = run_ort(model, x, batch=None)
    check_close("mlp_float", y, np_mlp_float(x, params), 1e-5)
    return "mlp_float", model, x, y


def model_mlp_big():
    rng = np.random.default_rng(1007)
    graph, params = build_mlp_float(rng, [64, 256, 256, 128, 10], "sequential_2", "dense_input", "Identity:0", "batch")
    model = make_model(graph, 13, 7, doc="benchmark MLP 64-256-256-128-10, relu, softmax")
    x = make_inputs(input_rng(), 200, 64)
    y = run_ort(model, x, batch=None)
    check_close("mlp_big", y, np_mlp_float(x, params), 1e-5)
    return "mlp_big", model, x, y


def run_ort_inputs(model, xs):
    """Run the model on one array per graph input (all rows at once, batch dimension symbolic)."""
    sess = ort_session(model)
    feeds = {i.name: x.astype(np.float32) for i, x in zip(sess.get_inputs(), xs)}
    return sess.run(None, feeds)[0].astype(np.float64)


def model_merge_two_inputs():
    """Two graph inputs, two dense branches joined with the second input by one three-way Concat
    (negative axis), then a dense layer and a softmax: several model inputs and an n-ary node."""
    rng = np.random.default_rng(1010)
    nodes, inits, params = [], [], {}
    for name, (a, b) in [("jets", (16, 12)), ("tracks", (8, 6)), ("head", (26, 5))]:
        W, B = glorot(rng, a, b), bias(rng, b)
        params[name] = (W, B)
        inits += [raw(f"{name}/W", W), raw(f"{name}/B", B)]
    for name, src in [("jets", "x_jets"), ("tracks", "x_tracks")]:
        nodes.append(helper.make_node("MatMul", [src, f"{name}/W"], [f"{name}/mm"], name=f"{name}/MatMul"))
        nodes.append(helper.make_node("Add", [f"{name}/mm", f"{name}/B"], [f"{name}/lin"], name=f"{name}/BiasAdd"))
        nodes.append(helper.make_node("Relu", [f"{name}/lin"], [f"{name}/h"], name=f"{name}/Relu"))
    nodes.append(helper.make_node("Concat", ["jets/h", "tracks/h", "x_tracks"], ["joined"], name="concat", axis=-1))
    nodes.append(helper.make_node("MatMul", ["joined", "head/W"], ["head/mm"], name="head/MatMul"))
    nodes.append(helper.make_node("Add", ["head/mm", "head/B"], ["logits"], name="head/BiasAdd"))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], name="head/Softmax", axis=-1))
    graph = helper.make_graph(
        nodes, "merge", [vi("x_jets", ["N", 16]), vi("x_tracks", ["N", 8])], [vi("probs", ["N", 5])], inits
    )
    model = make_model(graph, 13, 7, doc="two inputs, two dense branches, a three-way Concat, dense, softmax")
    x_jets = make_inputs(input_rng(), N_SAMPLES, 16)
    x_tracks = make_inputs(np.random.default_rng(INPUT_SEED + 1), N_SAMPLES, 8)
    y = run_ort_inputs(model, [x_jets, x_tracks])

    def dense(x, name):
        W, B = params[name]
        return x @ W.astype(np.float64) + B

    hj = np.maximum(dense(x_jets, "jets"), 0.0)
    ht = np.maximum(dense(x_tracks, "tracks"), 0.0)
    ref = np_softmax(dense(np.concatenate([hj, ht, x_tracks], axis=-1), "head"))
    check_close("merge_two_inputs", y, ref, 1e-5)
    return "merge_two_inputs", model, [x_jets, x_tracks], y


# ----------------------------------------------------------------------------
# 2. mlp_gemm_bn (opset 11)
# ----------------------------------------------------------------------------

def model_mlp_gemm_bn():
    rng = np.random.default_rng(1002)
    nodes, inits = [], []
    ref = []  # list of numpy callables for the self-check

    def gemm(name, inp, n_in, n_out, alpha, beta, c_shape):
        W = glorot(rng, n_in, n_out, shape=(n_out, n_in)) / np.float32(alpha)  # transB=1 layout [out, in]
        C = (bias(rng, n_out) / np.float32(beta)).reshape(c_shape)
        wn, cn = f"{name}.weight", f"{name}.bias"
        inits.extend([raw(wn, W), raw(cn, C)])
        out = f"/{name}/Gemm_output_0"
        nodes.append(helper.make_node("Gemm", [inp, wn, cn], [out], name=f"/{name}/Gemm", alpha=alpha, beta=beta, transB=1))
        ref.append(lambda h, W=W, C=C: alpha * (h @ W.astype(np.float64).T) + beta * C.astype(np.float64).reshape(1, -1))
        return out

    def bn(name, inp, n):
        gamma = rng.uniform(0.5, 1.5, n).astype(np.float32)
        beta_ = rng.normal(0, 0.1, n).astype(np.float32)
        mean = rng.normal(0, 0.3, n).astype(np.float32)
        var = rng.uniform(0.5, 2.0, n).astype(np.float32)
        names = [f"{name}.weight", f"{name}.bias", f"{name}.running_mean", f"{name}.running_var"]
        inits.extend(raw(nm, a) for nm, a in zip(names, [gamma, beta_, mean, var]))
        out = f"/{name}/BatchNormalization_output_0"
        eps = 1e-3
        nodes.append(helper.make_node("BatchNormalization", [inp] + names, [out], name=f"/{name}/BatchNormalization",
                                      epsilon=eps, momentum=0.99))
        ref.append(lambda h: (h - mean) / np.sqrt(var.astype(np.float64) + np.float32(eps)) * gamma + beta_)
        return out

    def act(name, op, inp, extra_inputs=(), np_fn=None, **attrs):
        out = f"/{name}/{op}_output_0"
        nodes.append(helper.make_node(op, [inp, *extra_inputs], [out], name=f"/{name}/{op}", **attrs))
        ref.append(np_fn)
        return out

    h = "onnx::Gemm_0"
    h = gemm("fc1", h, 16, 32, alpha=0.5, beta=2.0, c_shape=(32,))
    h = bn("bn1", h, 32)
    h = act("act1", "LeakyRelu", h, alpha=0.1, np_fn=lambda v: np.where(v >= 0, v, np.float32(0.1) * v))
    h = gemm("fc2", h, 32, 32, alpha=1.25, beta=0.5, c_shape=(1, 32))
    h = bn("bn2", h, 32)
    slope = rng.uniform(0.05, 0.3, 32).astype(np.float32)
    inits.append(raw("act2.weight", slope))
    h = act("act2", "PRelu", h, ["act2.weight"], np_fn=lambda v: np.where(v >= 0, v, slope * v))
    inits.append(scalar("act2_clip.min", -1.0))
    inits.append(scalar("act2_clip.max", 4.0))
    h = act("act2_clip", "Clip", h, ["act2_clip.min", "act2_clip.max"], np_fn=lambda v: np.clip(v, -1.0, 4.0))
    h = gemm("fc3", h, 32, 32, alpha=1.0, beta=1.0, c_shape=(32,))
    h = act("act3", "Sigmoid", h, np_fn=lambda v: 1.0 / (1.0 + np.exp(-v)))
    h = gemm("fc4", h, 32, 32, alpha=2.0, beta=1.0, c_shape=(32,))
    h = act("act4", "Tanh", h, np_fn=np.tanh)
    h = gemm("fc5", h, 32, 16, alpha=1.0, beta=0.25, c_shape=(16,))
    h = act("act5", "HardSigmoid", h, alpha=0.2, beta=0.5,
            np_fn=lambda v: np.clip(np.float32(0.2) * v + 0.5, 0.0, 1.0))
    h = gemm("head", h, 16, 10, alpha=0.75, beta=1.5, c_shape=(10,))
    nodes[-1].output[0] = "output"

    graph = helper.make_graph(nodes, "torch_jit", [vi("onnx::Gemm_0", [1, 16])], [vi("output", [1, 10])], inits)
    model = make_model(graph, 11, 6, doc="Gemm(transB=1, alpha/beta != 1) + BatchNorm + mixed activations")
    x = make_inputs(input_rng(), N_SAMPLES, 16)
    y = run_ort(model, x, batch=1)
    r = x.copy()
    for fn in ref:
        r = fn(r)
    check_close("mlp_gemm_bn", y, r, 1e-4)
    return "mlp_gemm_bn", model, x, y


# ----------------------------------------------------------------------------
# 3. QONNX models
# ----------------------------------------------------------------------------

class QonnxBuilder:
    def __init__(self, prefix=""):
        self.nodes, self.inits = [], []
        self._consts = {}

    def const(self, name, value):
        if name not in self._consts:
            self.inits.append(raw(name, np.asarray(value, dtype=np.float32)))
            self._consts[name] = value
        return name

    def quant(self, name, inp, scale, bits, signed, narrow=0, scale_name=None, rounding="ROUND"):
        s = scale_name or f"{name}/scale"
        self.inits.append(raw(s, np.asarray(scale, dtype=np.float32)))
        zp = self.const("zero_point_0", 0.0)
        bw = self.const(f"bit_width_{bits}", float(bits))
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node(
            "Quant", [inp, s, zp, bw], [out], name=f"{name}/export_handler/Quant", domain=QONNX_DOMAIN,
            signed=int(signed), narrow=int(narrow), rounding_mode=rounding))
        return out

    def bipolar(self, name, inp, scale):
        s = f"{name}/scale"
        self.inits.append(raw(s, np.asarray(scale, dtype=np.float32)))
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node("BipolarQuant", [inp, s], [out], name=f"{name}/export_handler/BipolarQuant",
                                           domain=QONNX_DOMAIN))
        return out

    def trunc(self, name, inp, scale, in_bits, out_bits, rounding="FLOOR"):
        s = f"{name}/scale"
        self.inits.append(raw(s, np.asarray(scale, dtype=np.float32)))
        zp = self.const("zero_point_0", 0.0)
        ib = self.const(f"bit_width_{in_bits}", float(in_bits))
        ob = self.const(f"bit_width_{out_bits}", float(out_bits))
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node("Trunc", [inp, s, zp, ib, ob], [out], name=f"{name}/export_handler/Trunc",
                                           domain=QONNX_DOMAIN, rounding_mode=rounding))
        return out

    def op(self, op_type, name, inputs, **attrs):
        out = f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    def init(self, name, arr):
        self.inits.append(raw(name, np.asarray(arr, dtype=np.float32)))
        return name


def qonnx_prepare(model):
    """ModelWrapper with all tensor shapes inferred (needed by qonnx's executor).

    cleanup=False: qonnx's default post-transform cleanup (GiveUniqueParameterTensors) copies every
    initializer that feeds several nodes (here zero_point_0, bit_width_*) under a *random* name,
    which would make the committed model differ from run to run."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes

    return ModelWrapper(model).transform(InferShapes(), cleanup=False)


def run_qonnx(mw, x):
    from qonnx.core.onnx_exec import execute_onnx

    in_name = mw.graph.input[0].name
    out_name = mw.graph.output[0].name
    outs = []
    for row in x:
        res = execute_onnx(mw, {in_name: row.reshape(1, -1).astype(np.float32)})
        outs.append(res[out_name].reshape(-1))
    return np.stack(outs).astype(np.float64)


def strip_quantizers(model):
    """Copy of a QONNX model with every Quant / BipolarQuant / Trunc replaced by Identity (float twin)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for n in m.graph.node:
        if n.domain == QONNX_DOMAIN:
            inp, out, name = n.input[0], n.output[0], n.name
            n.Clear()
            n.op_type, n.name = "Identity", name + "/float_twin"
            n.input.append(inp)
            n.output.append(out)
    del m.opset_import[1:]
    m.graph.ClearField("value_info")
    return m


def model_mlp_qonnx():
    rng = np.random.default_rng(1003)
    b = QonnxBuilder()
    s_in = 2.0 ** -4
    x_q = b.quant("/input_quant", "global_in", s_in, 8, signed=1)

    # layer 1: 6-bit signed weights, per-tensor po2 scale, narrow=0
    W1 = glorot(rng, 16, 32)
    s_w1 = po2_scale_for(np.abs(W1).max(), 31, mode="floor")  # floor: a few weights saturate at the clamp
    W1[0, 0] = np.float32(-40.5 * s_w1)  # far outside: clamps to -32
    W1[1, 0] = np.float32(2.5 * s_w1)    # exact tie: rounds half-to-even to 2
    W1[2, 0] = np.float32(-3.5 * s_w1)   # exact tie: rounds to -4
    B1 = on_grid(bias(rng, 32), 2.0 ** -8)
    w1q = b.quant("/fc1/weight_quant", b.init("fc1.weight", W1), s_w1, 6, signed=1, narrow=0)
    h = b.op("MatMul", "/fc1/MatMul", [x_q, w1q])
    h = b.op("Add", "/fc1/Add", [h, b.init("fc1.bias", B1)])
    h = b.op("Relu", "/relu1/Relu", [h])
    s_a1 = 2.0 ** -5
    h = b.quant("/relu1/act_quant", h, s_a1, 8, signed=0)

    # layer 2: 6-bit signed weights, per-output-channel po2 scale of shape [1, 16]
    W2 = glorot(rng, 32, 16) * np.power(2.0, rng.uniform(-2.0, 1.0, size=(1, 16))).astype(np.float32)
    s_w2 = po2_scale_for(np.abs(W2).max(axis=0, keepdims=True), 31, mode="ceil")
    B2 = on_grid(bias(rng, 16), 2.0 ** -8)
    w2q = b.quant("/fc2/weight_quant", b.init("fc2.weight", W2), s_w2, 6, signed=1, narrow=0)
    h = b.op("MatMul", "/fc2/MatMul", [h, w2q])
    h = b.op("Add", "/fc2/Add", [h, b.init("fc2.bias", B2)])
    h = b.op("Relu", "/relu2/Relu", [h])
    s_a2 = 2.0 ** -4
    h = b.quant("/relu2/act_quant", h, s_a2, 8, signed=0)

    # layer 3: 6-bit per-tensor, float logits out
    W3 = glorot(rng, 16, 5)
    s_w3 = po2_scale_for(np.abs(W3).max(), 31, mode="ceil")
    B3 = on_grid(bias(rng, 5), 2.0 ** -8)
    w3q = b.quant("/fc3/weight_quant", b.init("fc3.weight", W3), s_w3, 6, signed=1, narrow=0)
    h = b.op("MatMul", "/fc3/MatMul", [h, w3q])
    b.nodes.append(helper.make_node("Add", [h, b.init("fc3.bias", B3)], ["global_out"], name="/fc3/Add"))

    graph = helper.make_graph(b.nodes, "main_graph", [vi("global_in", [1, 16])], [vi("global_out", [1, 5])], b.inits)
    model = make_model(graph, 13, 7, extra_opsets=[(QONNX_DOMAIN, 1)],
                       doc="QONNX MLP 16-32-16-5: 8b input, 6b weights (per-tensor and per-channel po2), 8b unsigned acts")
    x = make_inputs(input_rng(), N_SAMPLES, 16, step=s_in)

    # exact numpy reference
    r = np_quant(x, s_in, 8, True)
    r = np.maximum(r @ np_quant(W1, s_w1, 6, True) + B1, 0)
    r = np_quant(r, s_a1, 8, False)
    r = np.maximum(r @ np_quant(W2, s_w2, 6, True) + B2, 0)
    r = np_quant(r, s_a2, 8, False)
    r = r @ np_quant(W3, s_w3, 6, True) + B3
    float_ref = lambda x: (np.maximum(np.maximum(x @ W1 + B1, 0) @ W2 + B2, 0) @ W3 + B3)  # noqa: E731
    return "mlp_qonnx", model, x, r, float_ref


def model_mlp_qonnx_bipolar():
    rng = np.random.default_rng(1004)
    b = QonnxBuilder()
    s_in = 2.0 ** -4
    x_q = b.quant("/input_quant", "global_in", s_in, 8, signed=1)

    # layer 1: bipolar weights with po2 scale 2^-3
    W1 = glorot(rng, 16, 32)
    W1[0, 0] = 0.0  # BipolarQuant maps exactly 0 to +1
    s_w1 = np.float32(2.0 ** -3)
    B1 = on_grid(bias(rng, 32), 2.0 ** -7)
    w1q = b.bipolar("/fc1/weight_quant", b.init("fc1.weight", W1), s_w1)
    h = b.op("MatMul", "/fc1/MatMul", [x_q, w1q])
    h = b.op("Add", "/fc1/Add", [h, b.init("fc1.bias", B1)])
    h = b.op("Relu", "/relu1/Relu", [h])
    s_a1 = 2.0 ** -2
    h = b.quant("/relu1/act_quant", h, s_a1, 4, signed=0)

    # layer 2: bipolar weights with unit scale; accumulator (12b, scale 2^-2) truncated to 8b
    W2 = glorot(rng, 32, 16)
    w2q = b.bipolar("/fc2/weight_quant", b.init("fc2.weight", W2), np.float32(1.0))
    h = b.op("MatMul", "/fc2/MatMul", [h, w2q])
    h = b.trunc("/fc2/trunc", h, s_a1, 12, 8, rounding="FLOOR")
    B2 = on_grid(bias(rng, 16, std=0.5), 2.0 ** -4)
    h = b.op("Add", "/fc2/Add", [h, b.init("fc2.bias", B2)])
    h = b.op("Relu", "/relu2/Relu", [h])
    s_a2 = 2.0 ** -4
    h = b.quant("/relu2/act_quant", h, s_a2, 8, signed=0)

    # layer 3: 8-bit signed narrow weights, per-tensor
    W3 = glorot(rng, 16, 5)
    s_w3 = po2_scale_for(np.abs(W3).max(), 127, mode="ceil")
    B3 = on_grid(bias(rng, 5), 2.0 ** -8)
    w3q = b.quant("/fc3/weight_quant", b.init("fc3.weight", W3), s_w3, 8, signed=1, narrow=1)
    h = b.op("MatMul", "/fc3/MatMul", [h, w3q])
    b.nodes.append(helper.make_node("Add", [h, b.init("fc3.bias", B3)], ["global_out"], name="/fc3/Add"))

    graph = helper.make_graph(b.nodes, "main_graph", [vi("global_in", [1, 16])], [vi("global_out", [1, 5])], b.inits)
    model = make_model(graph, 13, 7, extra_opsets=[(QONNX_DOMAIN, 1)],
                       doc="QONNX MLP 16-32-16-5 with BipolarQuant weights and a Trunc (v1) on an accumulator")
    x = make_inputs(input_rng(), N_SAMPLES, 16, step=s_in)

    bip = lambda w, s: np.where(w >= 0, 1.0, -1.0) * s  # noqa: E731
    r = np_quant(x, s_in, 8, True)
    r = np.maximum(r @ bip(W1, s_w1) + B1, 0)
    r = np_quant(r, s_a1, 4, False)
    r = r @ bip(W2, 1.0)
    r = np.floor(np.round(r / s_a1) / 2.0 ** (12 - 8)) * s_a1  # Trunc v1: rescales by the *input* scale
    r = np.maximum(r + B2, 0)
    r = np_quant(r, s_a2, 8, False)
    r = r @ np_quant(W3, s_w3, 8, True, narrow=True) + B3
    float_ref = lambda x: (np.maximum(np.maximum(x @ W1 + B1, 0) @ W2 + B2, 0) @ W3 + B3)  # noqa: E731
    return "mlp_qonnx_bipolar", model, x, r, float_ref


def model_bnn_qonnx():
    """Binary MLP 16-32-16-5: BipolarQuant on activations (sign(0) = +1) and on weights."""
    rng = np.random.default_rng(1006)
    b = QonnxBuilder()
    s_in = 2.0 ** -4
    x_q = b.quant("/input_quant", "global_in", s_in, 8, signed=1)
    a0 = b.bipolar("/act0_quant", x_q, np.float32(1.0))

    # layer 1: bipolar weights (scale 1), biases on a 2^-1 grid with many zeros so that sums of
    # +-1 hit exactly 0, which BipolarQuant maps to +scale
    W1 = glorot(rng, 16, 32)
    B1 = on_grid(bias(rng, 32, std=1.0), 2.0 ** -1)
    B1[::3] = 0.0
    w1q = b.bipolar("/fc1/weight_quant", b.init("fc1.weight", W1), np.float32(1.0))
    h = b.op("MatMul", "/fc1/MatMul", [a0, w1q])
    h = b.op("Add", "/fc1/Add", [h, b.init("fc1.bias", B1)])
    a1 = b.bipolar("/act1_quant", h, np.float32(0.5))

    # layer 2: bipolar weights with scale 2^-2
    W2 = glorot(rng, 32, 16)
    B2 = np.zeros(16, dtype=np.float32)
    B2[1::2] = on_grid(bias(rng, 8, std=0.25), 2.0 ** -3)
    w2q = b.bipolar("/fc2/weight_quant", b.init("fc2.weight", W2), np.float32(0.25))
    h = b.op("MatMul", "/fc2/MatMul", [a1, w2q])
    h = b.op("Add", "/fc2/Add", [h, b.init("fc2.bias", B2)])
    a2 = b.bipolar("/act2_quant", h, np.float32(1.0))

    # layer 3: 8-bit signed weights, float logits out
    W3 = glorot(rng, 16, 5)
    s_w3 = po2_scale_for(np.abs(W3).max(), 127, mode="ceil")
    B3 = on_grid(bias(rng, 5), 2.0 ** -8)
    w3q = b.quant("/fc3/weight_quant", b.init("fc3.weight", W3), s_w3, 8, signed=1)
    h = b.op("MatMul", "/fc3/MatMul", [a2, w3q])
    b.nodes.append(helper.make_node("Add", [h, b.init("fc3.bias", B3)], ["global_out"], name="/fc3/Add"))

    graph = helper.make_graph(b.nodes, "main_graph", [vi("global_in", [1, 16])], [vi("global_out", [1, 5])], b.inits)
    model = make_model(graph, 13, 7, extra_opsets=[(QONNX_DOMAIN, 1)],
                       doc="Binary QONNX MLP 16-32-16-5: BipolarQuant activations and weights, 8b output layer")
    x = make_inputs(input_rng(), N_SAMPLES, 16, step=s_in)

    bip = lambda w, s: np.where(w >= 0, 1.0, -1.0) * s  # noqa: E731
    r = bip(np_quant(x, s_in, 8, True), 1.0)
    r = bip(r @ bip(W1, 1.0) + B1, 0.5)
    r = bip(r @ bip(W2, 0.25) + B2, 1.0)
    r = r @ np_quant(W3, s_w3, 8, True) + B3
    float_ref = lambda x: ((x @ W1 + B1) @ W2 + B2) @ W3 + B3  # noqa: E731
    return "bnn_qonnx", model, x, r, float_ref


def qonnx_via_qcdq(mw):
    """Lower Quant -> QuantizeLinear/Clip/DequantizeLinear with qonnx and return the plain ONNX model."""
    from qonnx.transformation.qonnx_to_qcdq import QuantToQCDQ

    return mw.transform(QuantToQCDQ()).model


# ----------------------------------------------------------------------------
# 4. mlp_qdq (QuantizeLinear / DequantizeLinear, opset 13)
# ----------------------------------------------------------------------------

def model_mlp_qdq():
    rng = np.random.default_rng(1005)
    nodes, inits = [], []

    def q(name, inp, scale, zp_dtype):
        sn, zn = f"{name}_scale", f"{name}_zero_point"
        inits.append(raw(sn, np.float32(scale)))
        inits.append(raw(zn, np.array(0, dtype=zp_dtype)))
        qo, do = f"{name}_QuantizeLinear_Output", f"{name}_DequantizeLinear_Output"
        nodes.append(helper.make_node("QuantizeLinear", [inp, sn, zn], [qo], name=f"{name}_QuantizeLinear"))
        nodes.append(helper.make_node("DequantizeLinear", [qo, sn, zn], [do], name=f"{name}_DequantizeLinear"))
        return do

    def dq_weight(name, wq, scale, axis, dtype):
        qn, sn, zn = f"{name}_quantized", f"{name}_scale", f"{name}_zero_point"
        inits.append(raw(qn, wq.astype(dtype)))
        inits.append(raw(sn, scale.astype(np.float32)))
        inits.append(raw(zn, np.zeros(scale.shape, dtype=dtype)))
        out = f"{name}_DequantizeLinear_Output"
        nodes.append(helper.make_node("DequantizeLinear", [qn, sn, zn], [out], name=f"{name}_DequantizeLinear", axis=axis))
        return out

    def quant_weight(W):
        s = po2_scale_for(np.abs(W).max(axis=0), 127, mode="ceil")
        return np.clip(np.round(W / s), -128, 127).astype(np.int8), s

    sizes = [16, 32, 16, 5]
    s_in = 2.0 ** -4
    act_scales = [2.0 ** -5, 2.0 ** -4]
    h = q("input_1", "input_1", s_in, np.int8)
    ref_params = []
    for i, (a, bsz) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = f"sequential/dense_{i}" if i else "sequential/dense"
        W = glorot(rng, a, bsz) * np.float32(1.5)
        wq, s_w = quant_weight(W)
        wdq = dq_weight(f"{layer}/MatMul/ReadVariableOp:0", wq, s_w, axis=1, dtype=np.int8)
        h_in_scale = s_in if i == 0 else act_scales[i - 1]
        nodes.append(helper.make_node("MatMul", [h, wdq], [f"{layer}/MatMul:0"], name=f"{layer}/MatMul_quant"))
        Bf = bias(rng, bsz)
        if i == 0:
            # int32 bias with per-axis scale in_scale * w_scale (onnxruntime quantizer style)
            bscale = (np.float32(h_in_scale) * s_w).astype(np.float32)
            bq = np.round(Bf / bscale).astype(np.int32)
            bdq = dq_weight(f"{layer}/BiasAdd/ReadVariableOp:0", bq, bscale, axis=0, dtype=np.int32)
            Beff = bq * bscale.astype(np.float64)
        else:
            Beff = on_grid(Bf, 2.0 ** -8)
            bdq = f"{layer}/BiasAdd/ReadVariableOp:0"
            inits.append(raw(bdq, Beff.astype(np.float32)))
        nodes.append(helper.make_node("Add", [f"{layer}/MatMul:0", bdq], [f"{layer}/BiasAdd:0"], name=f"{layer}/BiasAdd"))
        ref_params.append((wq.astype(np.float64) * s_w, Beff))
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [f"{layer}/BiasAdd:0"], [f"{layer}/Relu:0"], name=f"{layer}/Relu"))
            h = q(f"{layer}/Relu:0", f"{layer}/Relu:0", act_scales[i], np.uint8)
        else:
            nodes[-1].output[0] = "dense_2"

    graph = helper.make_graph(nodes, "sequential", [vi("input_1", ["batch", 16])], [vi("dense_2", ["batch", 5])], inits)
    model = make_model(graph, 13, 7, doc="QDQ MLP 16-32-16-5: int8 input, uint8 activations, per-axis int8 weights, int32 bias")
    x = make_inputs(input_rng(), N_SAMPLES, 16, step=s_in)

    def qdq(v, s, lo, hi):
        return np.clip(np.round(v / s), lo, hi) * s  # QuantizeLinear: round half to even, saturate

    r = qdq(x, s_in, -128, 127)
    for i, (Wd, Bd) in enumerate(ref_params):
        r = r @ Wd + Bd
        if i < len(ref_params) - 1:
            r = qdq(np.maximum(r, 0), act_scales[i], 0, 255)
    y = run_ort(model, x, batch=None)
    if not np.array_equal(y, r):
        raise SystemExit(f"mlp_qdq: onnxruntime differs from exact reference by {np.abs(y - r).max()}")
    y_opt = run_ort(model, x, batch=None, optimize=True)
    bad_rows = int(np.any(y_opt != r, axis=1).sum())
    NOTES.append(f"mlp_qdq: onnxruntime with ORT_ENABLE_ALL (fused QGemm) differs from the exact QDQ result on "
                 f"{bad_rows} of {len(x)} rows (max |diff| {np.abs(y_opt - r).max():.4g}); reference uses ORT_DISABLE_ALL")
    return "mlp_qdq", model, x, y


# ----------------------------------------------------------------------------
# 5. ops_zoo (opset 11 and opset 13 variants)
# ----------------------------------------------------------------------------

def model_ops_zoo(opset):
    rng = np.random.default_rng(1006)  # same weights for both variants
    F, H, O, BATCH = 16, 32, 5, 4
    nodes, inits = [], []
    P = "model"

    mean = rng.normal(0, 0.2, F).astype(np.float32)
    inv_std = rng.uniform(0.5, 2.0, F).astype(np.float32)
    W1t = glorot(rng, F, H, shape=(H, F))
    b1 = bias(rng, H)
    Wr = glorot(rng, H, H)
    br = bias(rng, H)
    Wo = glorot(rng, H, O)
    bo = bias(rng, O)

    inits += [
        raw(f"{P}/normalize/sub/y:0", mean),                   # raw_data
        typed(f"{P}/normalize/mul/y:0", inv_std),             # float_data
        scalar(f"{P}/normalize/truediv/y:0", 2.0, typed_field=True),
        raw(f"{P}/dense/kernel_transposed:0", W1t),
        typed(f"{P}/res_block/dense_r/MatMul/ReadVariableOp:0", Wr),
        raw(f"{P}/res_block/dense_r/BiasAdd/ReadVariableOp:0", br),
        scalar(f"{P}/res_block/skip_scale/mul/y:0", 0.5),
        scalar(f"{P}/res_block/rsub/x:0", 1.0, typed_field=True),
        scalar(f"{P}/res_block/add_1/y:0", 0.25),
        raw(f"{P}/dense_out/MatMul/ReadVariableOp:0", Wo),
        typed(f"{P}/dense_out/BiasAdd/ReadVariableOp:0", bo),
    ]
    shape = np.array([BATCH, -1, 8], dtype=np.int64)
    inits.append(typed(f"{P}/reshape/Reshape/shape:0", shape) if opset == 11 else raw(f"{P}/reshape/Reshape/shape:0", shape))

    def node(op, name, inputs, out=None, **attrs):
        out = out or f"{name}:0"
        nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    t = node("Identity", f"{P}/input_identity/Identity", ["x:0"])
    t = node("Sub", f"{P}/normalize/sub", [t, f"{P}/normalize/sub/y:0"])
    t = node("Mul", f"{P}/normalize/mul", [t, f"{P}/normalize/mul/y:0"])
    t = node("Div", f"{P}/normalize/truediv", [t, f"{P}/normalize/truediv/y:0"])
    t = node("Cast", f"{P}/cast/Cast", [t], to=TensorProto.FLOAT)
    t = node("Transpose", f"{P}/noop_transpose/transpose", [t], perm=[0, 1])
    w1 = node("Transpose", f"{P}/dense/MatMul/ReadVariableOp/transpose", [f"{P}/dense/kernel_transposed:0"], perm=[1, 0])
    t = node("MatMul", f"{P}/dense/MatMul", [t, w1])
    cb = node("Constant", f"{P}/dense/BiasAdd/ReadVariableOp", [],
              value=numpy_helper.from_array(b1, name=f"{P}/dense/bias:0"))
    t = node("Add", f"{P}/dense/BiasAdd", [t, cb])
    h = node("Relu", f"{P}/dense/Relu", [t])
    # residual block: two branches from h joined by Add
    r = node("MatMul", f"{P}/res_block/dense_r/MatMul", [h, f"{P}/res_block/dense_r/MatMul/ReadVariableOp:0"])
    r = node("Add", f"{P}/res_block/dense_r/BiasAdd", [r, f"{P}/res_block/dense_r/BiasAdd/ReadVariableOp:0"])
    r = node("Relu", f"{P}/res_block/dense_r/Relu", [r])
    s = node("Mul", f"{P}/res_block/skip_scale/mul", [h, f"{P}/res_block/skip_scale/mul/y:0"])
    s = node("Sub", f"{P}/res_block/rsub", [f"{P}/res_block/rsub/x:0", s])  # constant on the LEFT: 1 - 0.5*h
    t = node("Add", f"{P}/res_block/add", [r, s])
    t = node("Add", f"{P}/res_block/add_1", [t, f"{P}/res_block/add_1/y:0"])
    if opset == 11:
        t = node("Dropout", f"{P}/dropout/dropout", [t], ratio=0.2)
        t = node("Unsqueeze", f"{P}/expand_dims/ExpandDims", [t], axes=[1])
        t = node("Squeeze", f"{P}/squeeze/Squeeze", [t], axes=[1])
    else:
        inits.append(scalar(f"{P}/dropout/rate:0", 0.2))
        inits.append(raw(f"{P}/expand_dims/ExpandDims/dim:0", np.array([1], dtype=np.int64)))
        nodes.append(helper.make_node("Dropout", [t, f"{P}/dropout/rate:0"],
                                      [f"{P}/dropout/dropout:0", f"{P}/dropout/dropout:1"], name=f"{P}/dropout/dropout"))
        t = f"{P}/dropout/dropout:0"
        t = node("Unsqueeze", f"{P}/expand_dims/ExpandDims", [t, f"{P}/expand_dims/ExpandDims/dim:0"])
        t = node("Squeeze", f"{P}/squeeze/Squeeze", [t, f"{P}/expand_dims/ExpandDims/dim:0"])
    t = node("Reshape", f"{P}/reshape/Reshape", [t, f"{P}/reshape/Reshape/shape:0"])
    t = node("Flatten", f"{P}/flatten/Reshape", [t], axis=1)
    t = node("MatMul", f"{P}/dense_out/MatMul", [t, f"{P}/dense_out/MatMul/ReadVariableOp:0"])
    node("Add", f"{P}/dense_out/BiasAdd", [t, f"{P}/dense_out/BiasAdd/ReadVariableOp:0"], out="Identity:0")

    graph = helper.make_graph(nodes, "tf2onnx", [vi("x:0", [BATCH, F])], [vi("Identity:0", [BATCH, O])], inits)
    model = make_model(graph, opset, 6 if opset == 11 else 7,
                       doc=f"ops zoo, opset {opset}, fixed batch {BATCH}")
    x = make_inputs(input_rng(), N_SAMPLES, F)
    y = run_ort(model, x, batch=BATCH)
    t = (x - mean) * inv_std / 2.0
    h = np.maximum(t @ W1t.T.astype(np.float64) + b1, 0)
    t = np.maximum(h @ Wr + br, 0) + (1.0 - 0.5 * h) + 0.25
    ref = t @ Wo + bo
    check_close(f"ops_zoo_op{opset}", y, ref, 1e-4)
    return f"ops_zoo_op{opset}", model, x, y


# ----------------------------------------------------------------------------
# 6. mlp_opset7 (IR version 3)
# ----------------------------------------------------------------------------

def model_mlp_opset7():
    rng = np.random.default_rng(1008)
    nodes, inits, inputs = [], [], [vi("0", [1, 16])]

    def param(name, arr):
        inits.append(raw(name, arr))
        inputs.append(vi(name, list(arr.shape)))  # IR < 4: every initializer is also a graph input
        return name

    W1 = glorot(rng, 16, 32, shape=(32, 16))
    b1 = bias(rng, 32)
    g, bb = rng.uniform(0.5, 1.5, 32).astype(np.float32), rng.normal(0, 0.1, 32).astype(np.float32)
    mu, var = rng.normal(0, 0.3, 32).astype(np.float32), rng.uniform(0.5, 2.0, 32).astype(np.float32)
    W2 = glorot(rng, 32, 16)  # transB=0 layout [in, out]
    b2 = bias(rng, 16)
    W3 = glorot(rng, 16, 5, shape=(5, 16))
    b3 = bias(rng, 5)

    p = {n: param(n, a) for n, a in [("fc1.weight", W1), ("fc1.bias", b1), ("bn1.weight", g), ("bn1.bias", bb),
                                     ("bn1.running_mean", mu), ("bn1.running_var", var), ("fc2.weight", W2),
                                     ("fc2.bias", b2), ("fc3.weight", W3), ("fc3.bias", b3)]}
    nodes += [
        helper.make_node("Gemm", ["0", p["fc1.weight"], p["fc1.bias"]], ["11"], name="Gemm_0", transB=1),
        helper.make_node("BatchNormalization", ["11", p["bn1.weight"], p["bn1.bias"], p["bn1.running_mean"],
                                                p["bn1.running_var"]], ["12"], name="BatchNormalization_1",
                         epsilon=1e-5, momentum=0.9, spatial=1),
        helper.make_node("Relu", ["12"], ["13"], name="Relu_2"),
        helper.make_node("Identity", ["13"], ["14"]),  # unnamed node, as old exporters did
        helper.make_node("Gemm", ["14", p["fc2.weight"], p["fc2.bias"]], ["15"], name="Gemm_4", alpha=1.0, beta=1.0),
        helper.make_node("Relu", ["15"], ["16"], name="Relu_5"),
        helper.make_node("Gemm", ["16", p["fc3.weight"], p["fc3.bias"]], ["17"], name="Gemm_6", transB=1),
        helper.make_node("Identity", ["17"], ["18"]),
        helper.make_node("Softmax", ["18"], ["19"], name="Softmax_8", axis=1),
    ]
    graph = helper.make_graph(nodes, "torch-jit-export", inputs, [vi("19", [1, 5])], inits)
    model = make_model(graph, 7, 3, doc="old-style opset 7 / IR 3 model: initializers are graph inputs")
    x = make_inputs(input_rng(), N_SAMPLES, 16)
    y = run_ort(model, x, batch=1)
    h = x @ W1.T.astype(np.float64) + b1
    h = np.maximum((h - mu) / np.sqrt(var.astype(np.float64) + np.float32(1e-5)) * g + bb, 0)
    h = np.maximum(h @ W2 + b2, 0)
    check_close("mlp_opset7", y, np_softmax(h @ W3.T.astype(np.float64) + b3), 1e-5)
    return "mlp_opset7", model, x, y


# ----------------------------------------------------------------------------
# 8. bad inputs
# ----------------------------------------------------------------------------

def tiny_mlp(rng, W=None, in_shape=(1, 16), w_name="dense/MatMul/ReadVariableOp:0", produce_w=True):
    W = glorot(rng, in_shape[1], 8) if W is None else W
    b = bias(rng, 8)
    inits = [raw("dense/BiasAdd/ReadVariableOp:0", b)]
    if produce_w:
        inits.insert(0, raw(w_name, W))
    nodes = [
        helper.make_node("MatMul", ["input_1", w_name], ["dense/MatMul:0"], name="dense/MatMul"),
        helper.make_node("Add", ["dense/MatMul:0", "dense/BiasAdd/ReadVariableOp:0"], ["dense/BiasAdd:0"],
                         name="dense/BiasAdd"),
        helper.make_node("Relu", ["dense/BiasAdd:0"], ["dense/Relu:0"], name="dense/Relu"),
    ]
    graph = helper.make_graph(nodes, "sequential", [vi("input_1", list(in_shape))], [vi("dense/Relu:0", [in_shape[0], 8])],
                              inits)
    return make_model(graph, 13, 7)


def ort_accepts(model):
    try:
        ort_session(model)
        return True
    except Exception:
        return False


def make_bad():
    rng = np.random.default_rng(1009)
    notes = []

    def bad(name, model_or_bytes, note, check=None):
        path = BAD_DIR / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(model_or_bytes, bytes):
            path.write_bytes(model_or_bytes)
        else:
            if check == "valid":
                onnx.checker.check_model(model_or_bytes)
            path.write_bytes(model_or_bytes.SerializeToString())
        written.append(path)
        notes.append((name, note))

    good = tiny_mlp(rng).SerializeToString()
    bad("truncated.onnx", good[: len(good) // 2],
        f"a valid 16->8 MatMul/Add/Relu model ({len(good)} bytes) cut to its first {len(good) // 2} bytes; "
        "protobuf parsing fails")
    bad("not_onnx.onnx", b"This is not an ONNX model.\nIt is plain UTF-8 text with an .onnx extension.\n",
        "plain text, not a protobuf")

    m = tiny_mlp(rng, produce_w=False)
    bad("missing_initializer.onnx", m,
        "MatMul `dense/MatMul` reads `dense/MatMul/ReadVariableOp:0`, which is neither a graph input, an "
        "initializer nor any node's output (onnx.checker rejects it)")

    W = glorot(rng, 16, 8)
    W[3, 2] = np.nan
    W[7, 5] = np.nan
    bad("nan_weights.onnx", tiny_mlp(rng, W=W),
        "structurally valid (passes onnx.checker); the MatMul weight `dense/MatMul/ReadVariableOp:0` has NaN at [3,2] "
        "and [7,5]", check="valid")

    W = glorot(rng, 16, 8)
    W[0, 0] = np.inf
    W[9, 4] = -np.inf
    bad("inf_weights.onnx", tiny_mlp(rng, W=W),
        "structurally valid; the MatMul weight has +inf at [0,0] and -inf at [9,4]", check="valid")

    bad("shape_mismatch.onnx", tiny_mlp(rng, W=glorot(rng, 12, 8)),
        "input is [1,16] but the MatMul weight is [12,8] (inner dimensions 16 vs 12 disagree); passes the plain "
        "onnx.checker, fails strict shape inference", check="valid")

    W0 = np.zeros((0, 8), dtype=np.float32)
    bad("zero_dim.onnx", tiny_mlp(rng, W=W0, in_shape=(1, 0)),
        "input `input_1` is [1,0] (zero features) and the weight is [0,8]; formally valid ONNX whose output is "
        "just relu(bias)", check="valid")

    nodes = [helper.make_node("Reshape", ["input_1", "reshape/shape:0"], ["reshape/Reshape:0"], name="reshape/Reshape"),
             helper.make_node("Relu", ["reshape/Reshape:0"], ["output"], name="relu/Relu")]
    g = helper.make_graph(nodes, "bad_reshape", [vi("input_1", [1, 16])], [vi("output", [4, 4])],
                          [raw("reshape/shape:0", np.array([4, -4], dtype=np.int64))])
    bad("negative_dim.onnx", make_model(g, 13, 7),
        "Reshape `reshape/Reshape` to shape initializer [4, -4]: a negative dimension other than -1 (passes the "
        "plain onnx.checker, fails shape inference)", check="valid")

    nodes = [helper.make_node("Relu", ["huge_input"], ["huge_output"], name="relu/Relu")]
    g = helper.make_graph(nodes, "huge", [vi("huge_input", [100000, 100000])], [vi("huge_output", [100000, 100000])])
    bad("huge_tensor.onnx", make_model(g, 13, 7),
        "declares input `huge_input` of 100000x100000 float32 (40 GB) feeding a Relu; the file itself holds no data",
        check="valid")

    # three ops an MLP compiler does not support: LSTM, TopK, NonMaxSuppression
    H = 8
    Wl = glorot(rng, 16, 4 * H, shape=(1, 4 * H, 16))
    Rl = glorot(rng, H, 4 * H, shape=(1, 4 * H, H))
    Bl = np.zeros((1, 8 * H), dtype=np.float32)
    boxes = np.array([[[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 0.9, 1, 1.9]]], dtype=np.float32)
    inits = [
        raw("lstm/reshape_shape:0", np.array([1, 1, 16], dtype=np.int64)),
        raw("lstm/W:0", Wl), raw("lstm/R:0", Rl), raw("lstm/B:0", Bl),
        raw("lstm/out_shape:0", np.array([1, H], dtype=np.int64)),
        raw("top_k/k:0", np.array([3], dtype=np.int64)),
        raw("nms/boxes:0", boxes),
        raw("nms/scores_shape:0", np.array([1, 1, 3], dtype=np.int64)),
        raw("nms/max_output_boxes_per_class:0", np.array([2], dtype=np.int64)),
        raw("nms/iou_threshold:0", np.array([0.5], dtype=np.float32)),
    ]
    nodes = [
        helper.make_node("Reshape", ["input_1", "lstm/reshape_shape:0"], ["lstm/seq:0"], name="lstm/ExpandDims"),
        helper.make_node("LSTM", ["lstm/seq:0", "lstm/W:0", "lstm/R:0", "lstm/B:0"], ["lstm/Y:0", "lstm/Y_h:0"],
                         name="sequential/lstm/PartitionedCall/LSTM", hidden_size=H),
        helper.make_node("Reshape", ["lstm/Y_h:0", "lstm/out_shape:0"], ["lstm/flat:0"], name="lstm/Squeeze"),
        helper.make_node("TopK", ["lstm/flat:0", "top_k/k:0"], ["top_k/values:0", "top_k/indices:0"],
                         name="sequential/top_k/TopKV2", axis=-1),
        helper.make_node("Reshape", ["top_k/values:0", "nms/scores_shape:0"], ["nms/scores:0"], name="nms/Reshape"),
        helper.make_node("NonMaxSuppression", ["nms/boxes:0", "nms/scores:0", "nms/max_output_boxes_per_class:0",
                                               "nms/iou_threshold:0"], ["selected_indices"],
                         name="sequential/nms/NonMaxSuppressionV5"),
    ]
    g = helper.make_graph(nodes, "unsupported", [vi("input_1", [1, 16])],
                          [vi("top_k/values:0", [1, 3]), vi("selected_indices", ["n_sel", 3], INT64)], inits)
    m = make_model(g, 13, 7)
    assert ort_accepts(m)
    bad("unsupported_ops.onnx", m,
        "valid and runnable by onnxruntime, but contains LSTM `sequential/lstm/PartitionedCall/LSTM`, TopK "
        "`sequential/top_k/TopKV2` and NonMaxSuppression `sequential/nms/NonMaxSuppressionV5`", check="valid")

    g = helper.make_graph([], "empty", [], [])
    bad("empty_graph.onnx", make_model(g, 13, 7),
        "a ModelProto (opset 13, IR 7) whose graph has no nodes, inputs, outputs or initializers; onnx.checker "
        "accepts it, onnxruntime refuses to load it", check="valid")

    lines = ["# Malformed and unsupported ONNX inputs", "",
             "Generated by `scripts/make_onnx_models.py`; the compiler must reject each of these with a clear error",
             "(or, for `zero_dim.onnx`, handle it without crashing).", ""]
    lines += [f"- `{n}`: {t}." for n, t in notes]
    readme = BAD_DIR / "README.md"
    readme.write_text("\n".join(lines) + "\n")
    written.append(readme)


# ----------------------------------------------------------------------------
# CNNs (NCHW, float): inputs.npy holds samples in the model's layout [N, C, (H,) W]
# ----------------------------------------------------------------------------

N_CNN = 300


class Graph:
    """Nodes and float32 initializers of one hand-built graph; node outputs are named after the node."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits = [], []

    def init(self, name, arr, dtype=np.float32):
        self.inits.append(raw(name, np.asarray(arr, dtype=dtype)))
        return name

    def op(self, op_type, name, inputs, out=None, domain=None, **attrs):
        out = out or f"{name}:0"
        kw = {"domain": domain} if domain else {}
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **kw, **attrs))
        return out

    def conv(self, name, x, c_in, filters, kernel, group=1, use_bias=True, out=None, **attrs):
        kernel = list(kernel)
        fan_in = c_in // group * int(np.prod(kernel))
        w = glorot(self.rng, fan_in, filters, shape=(filters, c_in // group, *kernel))
        ins = [x, self.init(f"{name}/W", w)]
        if use_bias:
            ins.append(self.init(f"{name}/B", bias(self.rng, filters)))
        return self.op("Conv", name, ins, out=out, kernel_shape=kernel, group=group, **attrs)

    def gemm(self, name, x, n_in, n_out, out=None):
        w = glorot(self.rng, n_in, n_out, shape=(n_out, n_in))
        return self.op("Gemm", name, [x, self.init(f"{name}/W", w), self.init(f"{name}/B", bias(self.rng, n_out))],
                       out=out, transB=1)

    def batch_norm(self, name, x, c):
        scale = self.rng.uniform(0.5, 1.5, size=c)
        shift = self.rng.normal(0.0, 0.2, size=c)
        mean = self.rng.normal(0.0, 0.3, size=c)
        var = self.rng.uniform(0.5, 2.0, size=c)
        ins = [x] + [self.init(f"{name}/{k}", v) for k, v in
                     [("scale", scale), ("B", shift), ("mean", mean), ("var", var)]]
        return self.op("BatchNormalization", name, ins, epsilon=1e-3)

    def model(self, name, in_shape, out_shape, opset=13, doc="", in_name="input", out_name="output"):
        graph = helper.make_graph(self.nodes, name, [vi(in_name, ["N", *in_shape])],
                                  [vi(out_name, ["N", *out_shape])], self.inits)
        return make_model(graph, opset, 8, doc=doc)


def cnn_inputs(shape):
    x = make_inputs(input_rng(), N_CNN, int(np.prod(shape)))
    return x.reshape(N_CNN, *shape)


def cnn_reference(name, model, x):
    y = run_ort(model, x, batch=None)
    return name, model, x, y.reshape(len(x), -1)


def model_cnn2d():
    """Conv (SAME_UPPER, stride 2), ReLU, MaxPool, depthwise Conv, BatchNormalization, ReLU,
    AveragePool, Flatten, Gemm."""
    g = Graph(np.random.default_rng(2001))
    h = g.conv("conv1", "input", 2, 4, (3, 3), auto_pad="SAME_UPPER", strides=[2, 2])  # [4, 5, 5]
    h = g.op("Relu", "relu1", [h])
    h = g.op("MaxPool", "pool1", [h], kernel_shape=[2, 2], strides=[1, 1])  # [4, 4, 4]
    h = g.conv("dw", h, 4, 4, (3, 3), group=4, pads=[1, 1, 1, 1])  # depthwise, [4, 4, 4]
    h = g.batch_norm("bn", h, 4)
    h = g.op("Relu", "relu2", [h])
    h = g.op("AveragePool", "pool2", [h], kernel_shape=[2, 2], strides=[2, 2])  # [4, 2, 2]
    h = g.op("Flatten", "flatten", [h], axis=1)
    g.gemm("dense", h, 16, 5, out="output")
    model = g.model("cnn2d", [2, 10, 10], [5], doc="2-D CNN: conv same/stride, pools, depthwise conv, batchnorm")
    return cnn_reference("cnn2d", model, cnn_inputs((2, 10, 10)))


def model_cnn1d():
    """1-D: dilated Conv without bias, Elu, MaxPool, grouped Conv (2 groups, VALID), Softsign,
    AveragePool counting the padding, Flatten, Gemm."""
    g = Graph(np.random.default_rng(2002))
    h = g.conv("conv1", "input", 3, 4, (3,), use_bias=False, dilations=[2], pads=[2, 2])  # [4, 16]
    h = g.op("Elu", "elu", [h], alpha=0.5)
    h = g.op("MaxPool", "pool1", [h], kernel_shape=[2], strides=[2])  # [4, 8]
    h = g.conv("conv2", h, 4, 6, (3,), group=2, auto_pad="VALID")  # [6, 6]
    h = g.op("Softsign", "softsign", [h])
    h = g.op("AveragePool", "pool2", [h], kernel_shape=[3], strides=[1], pads=[1, 1], count_include_pad=1)  # [6, 6]
    h = g.op("Flatten", "flatten", [h], axis=1)
    g.gemm("dense", h, 36, 3, out="output")
    model = g.model("cnn1d", [3, 16], [3], doc="1-D CNN: dilation, groups, count_include_pad")
    return cnn_reference("cnn1d", model, cnn_inputs((3, 16)))


def model_cnn_merge():
    g = Graph(np.random.default_rng(2003))
    a = g.conv("conv_a", "input", 4, 4, (3, 3), pads=[1, 1, 1, 1])
    a = g.op("Relu", "relu_a", [a])
    s = g.op("Add", "skip", [a, "input"])  # [4, 8, 8]
    c = g.conv("conv_b", "input", 4, 2, (1, 1))
    slope = g.init("prelu/slope", g.rng.uniform(0.05, 0.3, size=(2, 1, 1)))
    c = g.op("PRelu", "prelu", [c, slope])  # [2, 8, 8]
    h = g.op("Concat", "concat", [s, c], axis=1)  # [6, 8, 8]
    h = g.op("HardSwish", "hswish", [h])
    h = g.op("MaxPool", "pool", [h], kernel_shape=[2, 2], strides=[2, 2])  # [6, 4, 4]
    scales = g.init("resize/scales", [1.0, 1.0, 2.0, 2.0])
    h = g.op("Resize", "resize", [h, "", scales], mode="nearest",
             coordinate_transformation_mode="asymmetric", nearest_mode="floor")  # [6, 8, 8]
    d = g.conv("conv_d", "input", 4, 6, (1, 1))  # [6, 8, 8]
    m = g.op("Mean", "mean", [h, d, h])
    x = g.op("Max", "max", [m, d])
    h = g.conv("conv_c", x, 6, 3, (3, 3), auto_pad="SAME_LOWER", strides=[2, 2], out="output")  # [3, 4, 4]
    model = g.model("cnn_merge", [4, 8, 8], [3, 4, 4], opset=14,
                    doc="skip connection, Concat on channels, Resize nearest x2, Mean/Max, feature-map output")
    return cnn_reference("cnn_merge", model, cnn_inputs((4, 8, 8)))


def model_cnn_global():
    """Conv (VALID), Clip, GlobalAveragePool and GlobalMaxPool concatenated, Flatten, Gemm, Softmax."""
    g = Graph(np.random.default_rng(2004))
    h = g.conv("conv", "input", 3, 6, (3, 3))  # [6, 6, 6]
    lo, hi = g.init("clip/min", 0.0), g.init("clip/max", 2.0)
    h = g.op("Clip", "clip", [h, lo, hi])
    a = g.op("GlobalAveragePool", "gap", [h])
    m = g.op("GlobalMaxPool", "gmp", [h])
    h = g.op("Concat", "concat", [a, m], axis=-3)  # [12, 1, 1]
    h = g.op("Flatten", "flatten", [h], axis=1)
    h = g.gemm("dense", h, 12, 4)
    g.op("Softmax", "softmax", [h], out="output", axis=-1)
    model = g.model("cnn_global", [3, 8, 8], [4], doc="global pooling")
    return cnn_reference("cnn_global", model, cnn_inputs((3, 8, 8)))


def model_cnn_pad():
    """Pad (zeros, opset-13 inputs), Conv stride 2, Softplus, Pad with negative amounts (crop),
    ThresholdedRelu, Sub of two maps, Reshape to [N, 48] (NCHW order), MatMul + Add."""
    g = Graph(np.random.default_rng(2005))
    pads = g.init("pad1/pads", [0, 0, 1, 2, 0, 0, 2, 1], dtype=np.int64)
    h = g.op("Pad", "pad1", ["input", pads], mode="constant")  # [2, 11, 11]
    h = g.conv("conv", h, 2, 3, (3, 3), strides=[2, 2])  # [3, 5, 5]
    h = g.op("Softplus", "softplus", [h])
    crop = g.init("crop/pads", [0, 0, -1, 0, 0, 0, 0, -1], dtype=np.int64)
    h = g.op("Pad", "crop", [h, crop])  # [3, 4, 4]
    t = g.op("ThresholdedRelu", "trelu", [h], alpha=0.8)
    h = g.op("Sub", "sub", [h, t])
    shape = g.init("reshape/shape", [-1, 48], dtype=np.int64)
    h = g.op("Reshape", "reshape", [h, shape])
    w = glorot(g.rng, 48, 4)
    h = g.op("MatMul", "matmul", [h, g.init("matmul/W", w)])
    g.op("Add", "add", [h, g.init("add/B", bias(g.rng, 4))], out="output")
    model = g.model("cnn_pad", [2, 8, 8], [4], doc="padding and cropping")
    return cnn_reference("cnn_pad", model, cnn_inputs((2, 8, 8)))


def model_cnn_nhwc():
    """tf2onnx style: an NHWC input transposed to NCHW for Conv/MaxPool and back to NHWC before a
    Reshape to [N, 64] and a MatMul (the flatten is in NHWC order)."""
    g = Graph(np.random.default_rng(2006))
    h = g.op("Transpose", "to_nchw", ["input"], perm=[0, 3, 1, 2])
    h = g.conv("conv", h, 2, 4, (3, 3), auto_pad="SAME_UPPER")  # [4, 8, 8]
    h = g.op("Relu", "relu", [h])
    h = g.op("MaxPool", "pool", [h], kernel_shape=[2, 2], strides=[2, 2])  # [4, 4, 4]
    h = g.op("Transpose", "to_nhwc", [h], perm=[0, 2, 3, 1])
    shape = g.init("flatten/shape", [-1, 64], dtype=np.int64)
    h = g.op("Reshape", "flatten", [h, shape])
    w = glorot(g.rng, 64, 3)
    h = g.op("MatMul", "dense/MatMul", [h, g.init("dense/W", w)])
    g.op("Add", "dense/BiasAdd", [h, g.init("dense/B", bias(g.rng, 3))], out="output")
    model = g.model("cnn_nhwc", [8, 8, 2], [3], doc="tf2onnx-style NHWC model with layout transposes")
    return cnn_reference("cnn_nhwc", model, cnn_inputs((8, 8, 2)))


def model_cnn_qonnx():
    """QONNX: 8-bit input Quant, Conv with 4-bit per-channel po2 weights, ReLU, 6-bit unsigned
    activation Quant, MaxPool, Flatten, MatMul with 6-bit weights."""
    rng = np.random.default_rng(2007)
    b = QonnxBuilder()
    s_in = 2.0 ** -4
    x_q = b.quant("/input_quant", "global_in", s_in, 8, signed=1)
    W1 = glorot(rng, 2 * 9, 3, shape=(3, 2, 3, 3))
    s_w1 = po2_scale_for(np.abs(W1).reshape(3, -1).max(axis=1).reshape(3, 1, 1, 1), 7)
    B1 = on_grid(bias(rng, 3), 2.0 ** -8)
    w1q = b.quant("/conv/weight_quant", b.init("conv.weight", W1), s_w1, 4, signed=1)
    h = b.op("Conv", "/conv/Conv", [x_q, w1q, b.init("conv.bias", B1)], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    h = b.op("Relu", "/relu/Relu", [h])
    s_a = 2.0 ** -3
    h = b.quant("/relu/act_quant", h, s_a, 6, signed=0)
    h = b.op("MaxPool", "/pool/MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])  # [3, 3, 3]
    h = b.op("Flatten", "/flatten/Flatten", [h], axis=1)
    W2 = glorot(rng, 27, 4)
    s_w2 = po2_scale_for(np.abs(W2).max(), 31)
    B2 = on_grid(bias(rng, 4), 2.0 ** -8)
    w2q = b.quant("/fc/weight_quant", b.init("fc.weight", W2), s_w2, 6, signed=1)
    h = b.op("MatMul", "/fc/MatMul", [h, w2q])
    b.nodes.append(helper.make_node("Add", [h, b.init("fc.bias", B2)], ["global_out"], name="/fc/Add"))
    graph = helper.make_graph(b.nodes, "main_graph", [vi("global_in", [1, 2, 6, 6])], [vi("global_out", [1, 4])],
                              b.inits)
    model = make_model(graph, 13, 7, extra_opsets=[(QONNX_DOMAIN, 1)],
                       doc="QONNX CNN: 8b input, 4b per-channel conv weights, 6b unsigned acts, 6b dense weights")
    x = cnn_inputs((2, 6, 6))
    return "cnn_qonnx", model, x


def run_qonnx_shaped(mw, x):
    from qonnx.core.onnx_exec import execute_onnx

    in_name = mw.graph.input[0].name
    out_name = mw.graph.output[0].name
    outs = []
    for row in x:
        res = execute_onnx(mw, {in_name: row[None].astype(np.float32)})
        outs.append(res[out_name].reshape(-1))
    return np.stack(outs).astype(np.float64)


CHANNELS_LAST_DOMAIN = "qonnx.custom_op.channels_last"


def model_cnn_channels_last():
    """qonnx's channels-last wrappers on an NHWC input: Conv (weights [M, kH, kW, C]), Relu,
    BatchNormalization, MaxPool, Flatten (NHWC order), Gemm. Reference: the qonnx executor."""
    g = Graph(np.random.default_rng(2008))
    w = glorot(g.rng, 2 * 9, 4, shape=(4, 3, 3, 2))
    h = g.op("Conv", "conv", ["input", g.init("conv/W", w), g.init("conv/B", bias(g.rng, 4))],
             domain=CHANNELS_LAST_DOMAIN, kernel_shape=[3, 3], strides=[1, 1], dilations=[1, 1],
             pads=[1, 1, 1, 1], group=1)  # [8, 8, 4]
    h = g.op("Relu", "relu", [h])
    bn = [g.init(f"bn/{k}", v) for k, v in [("scale", g.rng.uniform(0.5, 1.5, 4)), ("B", g.rng.normal(0, 0.2, 4)),
                                            ("mean", g.rng.normal(0, 0.3, 4)), ("var", g.rng.uniform(0.5, 2, 4))]]
    h = g.op("BatchNormalization", "bn", [h] + bn, domain=CHANNELS_LAST_DOMAIN, epsilon=1e-3)
    h = g.op("MaxPool", "pool", [h], domain=CHANNELS_LAST_DOMAIN, kernel_shape=[2, 2], strides=[2, 2],
             pads=[0, 0, 0, 0])  # [4, 4, 4]
    h = g.op("Flatten", "flatten", [h], axis=1)
    g.gemm("dense", h, 64, 3, out="output")
    # qonnx's shape inference of the wrappers reads their input shapes from value_info.
    shapes = [vi("conv:0", [1, 8, 8, 4]), vi("relu:0", [1, 8, 8, 4]), vi("bn:0", [1, 8, 8, 4]),
              vi("pool:0", [1, 4, 4, 4])]
    graph = helper.make_graph(g.nodes, "cnn_channels_last", [vi("input", [1, 8, 8, 2])], [vi("output", [1, 3])],
                              g.inits, value_info=shapes)
    model = make_model(graph, 13, 8, extra_opsets=[(CHANNELS_LAST_DOMAIN, 13)],
                       doc="qonnx channels-last Conv, BatchNormalization and MaxPool on an NHWC input")
    x = cnn_inputs((8, 8, 2))
    y = run_qonnx_shaped(qonnx_prepare(model), x)

    # Self-check: the same network with standard ops between layout transposes, in onnxruntime.
    std = onnx.ModelProto()
    std.CopyFrom(model)
    nodes = []
    for orig in std.graph.node:
        n = onnx.NodeProto()
        n.CopyFrom(orig)
        if n.domain == CHANNELS_LAST_DOMAIN:
            n.domain = ""
            src, dst = n.input[0], n.output[0]
            nodes.append(helper.make_node("Transpose", [src], [dst + "/in_nchw"], perm=[0, 3, 1, 2]))
            n.input[0], n.output[0] = dst + "/in_nchw", dst + "/out_nchw"
            nodes.append(n)
            nodes.append(helper.make_node("Transpose", [dst + "/out_nchw"], [dst], perm=[0, 2, 3, 1]))
        else:
            nodes.append(n)
    for init in std.graph.initializer:
        if init.name == "conv/W":
            init.CopyFrom(raw("conv/W", numpy_helper.to_array(init).transpose(0, 3, 1, 2)))
    del std.graph.node[:]
    std.graph.node.extend(nodes)
    std.graph.ClearField("value_info")
    del std.opset_import[1:]
    y_std = run_ort(std, x, batch=1)
    rel = np.abs(y - y_std) / (1.0 + np.abs(y_std).max(axis=1, keepdims=True))
    if rel.max() > 1e-5:
        raise SystemExit(f"cnn_channels_last: qonnx executor and standard ops differ by {rel.max()} (relative)")
    return "cnn_channels_last", model, x, y


def model_cnn_ops_op9():
    """Opset 9: Conv, Selu, Upsample (nearest, scales input), Sum of three maps, Min, Softplus,
    GlobalAveragePool, Flatten, Gemm."""
    g = Graph(np.random.default_rng(2009))
    a = g.conv("conv_a", "input", 2, 3, (3, 3), pads=[1, 1, 1, 1])  # [3, 6, 6]
    a = g.op("Selu", "selu", [a])
    b = g.conv("conv_b", "input", 2, 3, (2, 2), strides=[2, 2])  # [3, 3, 3]
    b = g.op("Upsample", "upsample", [b, g.init("upsample/scales", [1.0, 1.0, 2.0, 2.0])], mode="nearest")
    s = g.op("Sum", "sum", [a, b, a])
    m = g.op("Min", "min", [s, b])
    m = g.op("Softplus", "softplus", [m])
    h = g.op("GlobalAveragePool", "gap", [m])
    h = g.op("Flatten", "flatten", [h], axis=1)
    g.gemm("dense", h, 3, 2, out="output")
    model = g.model("cnn_ops_op9", [2, 6, 6], [2], opset=9, doc="opset-9 Upsample, Selu, Sum, Min")
    return cnn_reference("cnn_ops_op9", model, cnn_inputs((2, 6, 6)))


def model_cnn_ceil():
    """Pooling with ceil_mode=1 (PyTorch exports): MaxPool and AveragePool whose last windows
    hang over the input's end."""
    g = Graph(np.random.default_rng(2010))
    h = g.op("MaxPool", "max", ["input"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)  # [2, 4, 4]
    h = g.op("AveragePool", "avg", [h], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)  # [2, 2, 2]
    h = g.op("Flatten", "flatten", [h], axis=1)
    g.gemm("dense", h, 8, 3, out="output")
    model = g.model("cnn_ceil", [2, 8, 8], [3], doc="ceil_mode pooling")
    return cnn_reference("cnn_ceil", model, cnn_inputs((2, 8, 8)))


def model_jet_image_cnn():
    """A jet-image CNN of the size users bring (40x40x1, channels-first): three 3x3 Conv layers of
    8, 16 and 16 filters (padding 1) with ReLU, each followed by 2x2 MaxPool, Flatten, Gemm 32,
    ReLU, Gemm 5, Softmax. Glorot weights, untrained: it sizes the estimator and the benchmarks."""
    g = Graph(np.random.default_rng(2040))
    h, c = "input", 1
    for i, f in enumerate([8, 16, 16], 1):
        h = g.conv(f"conv{i}", h, c, f, (3, 3), pads=[1, 1, 1, 1])
        h = g.op("Relu", f"relu{i}", [h])
        h = g.op("MaxPool", f"pool{i}", [h], kernel_shape=[2, 2], strides=[2, 2])
        c = f
    h = g.op("Flatten", "flatten", [h], axis=1)  # 16 x 5 x 5
    h = g.gemm("fc1", h, 400, 32)
    h = g.op("Relu", "fc1_relu", [h])
    h = g.gemm("fc2", h, 32, 5)
    g.op("Softmax", "softmax", [h], out="output", axis=1)
    model = g.model("jet_image_cnn", [1, 40, 40], [5], doc="jet-image CNN 40x40x1: 3 conv + pool, 2 dense")
    return cnn_reference("jet_image_cnn", model, cnn_inputs((1, 40, 40))[:32])


def model_svhn_cnn():
    """An SVHN digit CNN after the hls4ml CNN paper's network (32x32x3, channels-first): three 3x3
    Conv layers of 16, 16 and 24 filters (valid padding, no pads) with ReLU, each followed by 2x2
    MaxPool stride 2 (32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2), Flatten (24 x 2 x 2 = 96), Gemm 42,
    ReLU, Gemm 10, Softmax. Glorot weights, untrained: it sizes the estimator and the benchmarks."""
    g = Graph(np.random.default_rng(2041))
    h, c = "input", 3
    for i, f in enumerate([16, 16, 24], 1):
        h = g.conv(f"conv{i}", h, c, f, (3, 3))
        h = g.op("Relu", f"relu{i}", [h])
        h = g.op("MaxPool", f"pool{i}", [h], kernel_shape=[2, 2], strides=[2, 2])
        c = f
    h = g.op("Flatten", "flatten", [h], axis=1)  # 24 x 2 x 2
    h = g.gemm("fc1", h, 96, 42)
    h = g.op("Relu", "fc1_relu", [h])
    h = g.gemm("fc2", h, 42, 10)
    g.op("Softmax", "softmax", [h], out="output", axis=1)
    model = g.model("svhn_cnn", [3, 32, 32], [10], doc="SVHN CNN 32x32x3: 3 conv + pool, 2 dense")
    return cnn_reference("svhn_cnn", model, cnn_inputs((3, 32, 32))[:32])


def cnn_models():
    for fn in [model_cnn2d, model_cnn1d, model_cnn_merge, model_cnn_global, model_cnn_pad, model_cnn_nhwc,
               model_cnn_ops_op9, model_cnn_ceil, model_jet_image_cnn,
               model_svhn_cnn]:
        name, model, x, y = fn()
        emit(name, model, x, y)
    name, model, x, y = model_cnn_channels_last()
    emit(name, model, x, y)
    name, model, x = model_cnn_qonnx()
    onnx.checker.check_model(model)
    mw = qonnx_prepare(model)
    yq = run_qonnx_shaped(mw, x)
    twin = strip_quantizers(mw.model)
    yf = run_ort(twin, x, batch=1)
    emit(name, mw.model, x, yf, yq)

    # cnn_qdq: the same CNN lowered by qonnx to QuantizeLinear / Clip / DequantizeLinear (QCDQ);
    # onnxruntime's outputs are exact and equal the qonnx executor's.
    qdq = qonnx_via_qcdq(qonnx_prepare(model))
    y_qdq = run_ort(qdq, x, batch=1)
    if not np.array_equal(y_qdq, yq):
        raise SystemExit(f"cnn_qdq: onnxruntime differs from the qonnx executor by {np.abs(y_qdq - yq).max()}")
    emit("cnn_qdq", qdq, x, y_qdq)


BAD_CNN_DIR = ONNX_DIR / "bad_cnn"


def make_bad_cnn():
    """Small CNNs the importer must refuse with an error naming the node (tests/onnx_cnn.rs)."""

    def one(file, build, in_shape=(2, 6, 6), out_shape=None, opset=13):
        g = Graph(np.random.default_rng(2100))
        out = build(g)
        graph = helper.make_graph(g.nodes, file, [vi("input", ["N", *in_shape])],
                                  [helper.make_empty_tensor_value_info(out)], g.inits)
        save_model(make_model(graph, opset, 8), BAD_CNN_DIR / f"{file}.onnx", check=False)

    one("conv_pads_length", lambda g: g.conv("conv", "input", 2, 3, (3, 3), pads=[1, 1, 1]))
    one("conv_negative_pads", lambda g: g.conv("conv", "input", 2, 3, (3, 3), pads=[-1, 0, 0, 0]))
    one("conv_bad_group", lambda g: g.op("Conv", "conv", ["input", g.init("conv/W", np.ones((4, 1, 3, 3)))],
                                         group=3))
    one("pool_ceil_count_pad", lambda g: g.op("AveragePool", "pool", ["input"], kernel_shape=[3, 3],
                                              strides=[2, 2], ceil_mode=1, count_include_pad=1))
    one("resize_linear", lambda g: g.op("Resize", "resize", ["input", "", g.init("resize/scales", [1, 1, 2, 2])],
                                        mode="linear"))

    def two_unsupported(g):
        a = g.op("MaxPool", "pool", ["input"], kernel_shape=[2, 2], dilations=[2, 2])
        b = g.op("Resize", "resize", ["input", "", g.init("resize/scales", [1, 1, 2, 2])], mode="cubic")
        return g.op("Concat", "concat", [a, b], axis=1)

    one("two_unsupported", two_unsupported)


# ----------------------------------------------------------------------------
# reductions: autoencoder / VAE anomaly scores, every Reduce op on a feature map
# ----------------------------------------------------------------------------

def ae_graph(with_score):
    """Dense autoencoder 57-32-16-32-57 (Gemm + Relu, the last layer linear); with the score, the
    mean squared reconstruction error ReduceMean((x - y)^2, axes=[1], keepdims=1): [N, 1]."""
    g = Graph(np.random.default_rng(3001))
    sizes = [57, 32, 16, 32, 57]
    names = ["enc1", "enc2", "dec1", "dec2"]
    h, params = "input", []
    for i, (name, a, b) in enumerate(zip(names, sizes[:-1], sizes[1:])):
        last = i == len(names) - 1
        h = g.gemm(name, h, a, b, out="reconstruction" if last and not with_score else None)
        params.append((g.inits[-2], g.inits[-1]))
        if not last:
            h = g.op("Relu", f"{name}/relu", [h])
    out, out_shape = "reconstruction", [57]
    if with_score:
        d = g.op("Sub", "diff", ["input", h])
        sq = g.op("Mul", "square", [d, d])
        out, out_shape = g.op("ReduceMean", "score", [sq], out="score", axes=[1], keepdims=1), [1]
    model = g.model("ae_mse" if with_score else "ae_plain", [57], out_shape, opset=13, out_name=out,
                    doc="dense autoencoder 57-32-16-32-57" + (", MSE anomaly score" if with_score else ""))
    ws = [(numpy_helper.to_array(w).astype(np.float64), numpy_helper.to_array(b).astype(np.float64))
          for w, b in params]
    return model, ws


def np_ae(x, ws, with_score):
    h = x
    for i, (W, B) in enumerate(ws):
        h = h @ W.T + B
        if i < len(ws) - 1:
            h = np.maximum(h, 0.0)
    return ((x - h) ** 2).mean(axis=1, keepdims=True) if with_score else h


def model_ae(with_score):
    name = "ae_mse" if with_score else "ae_plain"
    model, ws = ae_graph(with_score)
    x = make_inputs(input_rng(), N_SAMPLES, 57)
    y = run_ort(model, x, batch=None)
    ref = np_ae(x, ws, with_score)
    check_close(name, y, ref, 1e-5 * (1.0 + np.abs(ref).max()))
    return name, model, x, y


def model_vae_encoder(with_score):
    """VAE encoder 57-32-16 (Gemm + Relu), a mean head 'z_mean' and a log-variance head (16 -> 8
    each; the log-variance is computed by the model but not an output). With the score, the
    output is ReduceSumSquare(z_mean, axes=[1], keepdims=1) at opset 18 (axes as an input)."""
    name = "vae_encoder_l2" if with_score else "vae_encoder_plain"
    g = Graph(np.random.default_rng(3002))
    h = g.op("Relu", "enc1/relu", [g.gemm("enc1", "input", 57, 32)])
    h = g.op("Relu", "enc2/relu", [g.gemm("enc2", h, 32, 16)])
    z = g.gemm("z_mean", h, 16, 8, out="z_mean")
    g.gemm("z_log_var", h, 16, 8)
    if with_score:
        out = g.op("ReduceSumSquare", "score", [z, g.init("score/axes", [1], np.int64)], out="score", keepdims=1)
        out_shape = [1]
    else:
        out, out_shape = z, [8]
    model = g.model(name, [57], out_shape, opset=18 if with_score else 13, out_name=out,
                    doc="VAE encoder 57-32-16, z_mean / z_log_var heads" + (", |z_mean|^2 score" if with_score else ""))
    x = make_inputs(input_rng(), N_SAMPLES, 57)
    y = run_ort(model, x, batch=None)
    ws = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.inits}
    r = x
    for layer in ["enc1", "enc2"]:
        r = np.maximum(r @ ws[f"{layer}/W"].T + ws[f"{layer}/B"], 0.0)
    zm = r @ ws["z_mean/W"].T + ws["z_mean/B"]
    ref = (zm ** 2).sum(axis=1, keepdims=True) if with_score else zm
    check_close(name, y, ref, 1e-5 * (1.0 + np.abs(ref).max()))
    return name, model, x, y


# (op, name, axes, keepdims or None for the default); applied to the [N, 3, 4, 5] output of a 1x1 Conv.
REDUCE_OPS = [
    ("ReduceSum", "sum_hw", [2, 3], 1),
    ("ReduceMax", "max_c", [1], 0),
    ("ReduceMean", "mean_w", [-1], None),
    ("ReduceMin", "min_all", [1, 2, 3], 0),
    ("ReduceL1", "l1_w", [3], None),
    ("ReduceL2", "l2_c", [1], None),
    ("ReduceSumSquare", "sumsq_h", [2], None),
]

NP_REDUCE = {
    "ReduceSum": lambda a, ax, k: a.sum(axis=ax, keepdims=k),
    "ReduceMax": lambda a, ax, k: a.max(axis=ax, keepdims=k),
    "ReduceMean": lambda a, ax, k: a.mean(axis=ax, keepdims=k),
    "ReduceMin": lambda a, ax, k: a.min(axis=ax, keepdims=k),
    "ReduceL1": lambda a, ax, k: np.abs(a).sum(axis=ax, keepdims=k),
    "ReduceL2": lambda a, ax, k: np.sqrt((a * a).sum(axis=ax, keepdims=k)),
    "ReduceSumSquare": lambda a, ax, k: (a * a).sum(axis=ax, keepdims=k),
}


def model_reduce_ops(opset):
    """Every Reduce op on the channels-first [N, 3, 4, 5] output of a 1x1 Conv, each its own graph
    output. Opset 18: axes are inputs; opset 13: attributes, except ReduceSum's input."""
    name = "reduce_ops" if opset == 18 else f"reduce_ops_op{opset}"
    g = Graph(np.random.default_rng(3003))
    h = g.conv("conv", "input", 3, 3, (1, 1))
    outs = []
    for op, node, axes, keep in REDUCE_OPS:
        kw = {} if keep is None else {"keepdims": keep}
        if opset >= 18 or op == "ReduceSum":
            outs.append(g.op(op, node, [h, g.init(f"{node}/axes", axes, np.int64)], out=node, **kw))
        else:
            outs.append(g.op(op, node, [h], out=node, axes=axes, **kw))
    x = cnn_inputs((3, 4, 5))
    ws = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.inits}
    conv = np.einsum("oc,nchw->nohw", ws["conv/W"][:, :, 0, 0], x) + ws["conv/B"][None, :, None, None]
    refs = [NP_REDUCE[op](conv, tuple(axes), bool(1 if keep is None else keep)) for op, _, axes, keep in REDUCE_OPS]
    graph = helper.make_graph(g.nodes, name, [vi("input", ["N", 3, 4, 5])],
                              [vi(o, ["N", *r.shape[1:]]) for o, r in zip(outs, refs)], g.inits)
    model = make_model(graph, opset, 8, doc=f"every Reduce op on a channels-first feature map, opset {opset}")
    sess = ort_session(model)
    ys = [y.astype(np.float64) for y in sess.run(None, {"input": x.astype(np.float32)})]
    for (_, node, _, _), y, ref in zip(REDUCE_OPS, ys, refs):
        assert y.shape == ref.shape, (node, y.shape, ref.shape)
        check_close(f"{name} {node}", y, ref, 1e-5 * (1.0 + np.abs(ref).max()))
    return name, model, x, [y.reshape(len(x), -1) for y in ys]


BAD_REDUCE_DIR = ONNX_DIR / "bad_reduce"


def make_bad_reduce():
    """Reductions the importer must refuse, or (noop_empty_axes) import as nothing; each on the
    [N, 3, 4, 5] output of a 1x1 Conv (tests/onnx_reduce.rs)."""

    def one(file, op, opset=18, axes=None, axes_attr=None, computed_axes=False, **attrs):
        g = Graph(np.random.default_rng(3100))
        h = g.conv("conv", "input", 3, 3, (1, 1))
        ins = [h]
        if computed_axes:
            ins.append(h)  # an activation as the axes: computed, not constant
        elif axes is not None:
            ins.append(g.init("reduce/axes", axes, np.int64))
        if axes_attr is not None:
            attrs["axes"] = axes_attr
        out = g.op(op, "reduce", ins, **attrs)
        graph = helper.make_graph(g.nodes, file, [vi("input", ["N", 3, 4, 5])],
                                  [helper.make_empty_tensor_value_info(out)], g.inits)
        save_model(make_model(graph, opset, 8), BAD_REDUCE_DIR / f"{file}.onnx", check=False)

    one("axis_out_of_range", "ReduceMax", axes=[4])
    one("negative_axis_out_of_range", "ReduceMean", opset=13, axes_attr=[-5])
    one("repeated_axis", "ReduceSum", axes=[1, -3])
    one("batch_axis", "ReduceL2", axes=[0, 1])
    one("axes_not_constant", "ReduceSum", opset=13, computed_axes=True)
    one("empty_axes_reduce_all", "ReduceMin", axes=[])
    one("noop_empty_axes", "ReduceL1", noop_with_empty_axes=1)
    one("axes_input_before_opset_18", "ReduceMax", opset=13, axes=[1])
    one("axes_attribute_at_opset_18", "ReduceMean", axes_attr=[1])
    one("bad_keepdims", "ReduceSumSquare", axes=[1], keepdims=2)


def reduce_models():
    for with_score in (True, False):
        emit(*model_ae(with_score))
        emit(*model_vae_encoder(with_score))
    for opset in (18, 13):
        emit(*model_reduce_ops(opset))


# ----------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------

def emit(name, model, x, y_float, y_qonnx=None):
    """`x` is the input array, or a list of one array per graph input (`inputs.npy`,
    `inputs_1.npy`, ...); `y_float` likewise per graph output (`expected_float.npy`,
    `expected_float_1.npy`, ...)."""
    save_model(model, ONNX_DIR / f"{name}.onnx")
    d = GOLDEN_DIR / name
    for k, xk in enumerate(x if isinstance(x, list) else [x]):
        save_npy(d / ("inputs.npy" if k == 0 else f"inputs_{k}.npy"), xk)
    for k, yk in enumerate(y_float if isinstance(y_float, list) else [y_float]):
        save_npy(d / ("expected_float.npy" if k == 0 else f"expected_float_{k}.npy"), yk)
    if y_qonnx is not None:
        save_npy(d / "expected_qonnx.npy", y_qonnx)


def main():
    warnings.filterwarnings("ignore")
    notes = NOTES
    for fn in [model_mlp_float, model_mlp_gemm_bn, model_mlp_qdq, model_mlp_opset7, model_mlp_big, model_merge_two_inputs]:
        name, model, x, y = fn()
        emit(name, model, x, y)
    for opset in (11, 13):
        name, model, x, y = model_ops_zoo(opset)
        emit(name, model, x, y)

    for fn in [model_mlp_qonnx, model_mlp_qonnx_bipolar, model_bnn_qonnx]:
        name, model, x, ref, float_ref = fn()
        onnx.checker.check_model(model)
        mw = qonnx_prepare(model)
        yq = run_qonnx(mw, x)
        if not np.array_equal(yq, ref):
            raise SystemExit(f"{name}: qonnx executor differs from exact numpy reference by {np.abs(yq - ref).max()}")
        if name == "mlp_qonnx":
            y_qcdq = run_ort(qonnx_via_qcdq(qonnx_prepare(model)), x, batch=1)
            notes.append(f"{name}: onnxruntime on qonnx's QCDQ lowering matches the qonnx executor: "
                         f"{np.array_equal(y_qcdq, yq)} (max |diff| {np.abs(y_qcdq - yq).max():.3g})")
        twin = strip_quantizers(mw.model)
        yf = run_ort(twin, x, batch=1)
        check_close(f"{name} float twin", yf, float_ref(x), 1e-4)
        emit(name, mw.model, x, yf, yq)

    cnn_models()
    reduce_models()
    make_bad_reduce()
    make_bad_cnn()
    make_bad()
    for p in written:
        print(f"wrote {rel(p)} ({p.stat().st_size} bytes)")
    for n in notes:
        print(n)


if __name__ == "__main__":
    sys.exit(main())
