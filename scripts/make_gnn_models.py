#!/usr/bin/env python3
"""Build the interaction network of issue 16 as ONNX, the way PyTorch Geometric users export it
(no PyTorch needed), and record onnxruntime's outputs.

Run from the repository root with the environment of scripts/requirements-onnx.txt:

    python scripts/make_gnn_models.py

Writes, for each (name, nodes, edges, aggregation):
    tests/models/onnx/<name>.onnx
    tests/data/gnn/<name>/x.npy           float64 [S, nodes, 3]   node features (r, phi, z)
    tests/data/gnn/<name>/e.npy           float64 [S, edges, 4]   edge features
    tests/data/gnn/<name>/edge_index.npy  int64   [S, 2, edges]   sender and receiver of each edge
    tests/data/gnn/<name>/expected_float.npy  float64 [S, edges, 1]  onnxruntime, one run per event
    tests/data/gnn/<name>/bad_edge_index.npy  int64 [S, 2, edges]  edge_index with receiver
                                          edges // 2 of event 0 set to nodes (out of range)

The model has no batch axis (one graph per run, as PyG exports it). Edge block: Gather the sender
and receiver rows of x, Concat with e, MLP 10 -> 8 -> 8 -> 4 (ReLU between layers); aggregation:
the messages summed into their receivers by ScatterND (indices Unsqueeze(receivers)) or
ScatterElements (indices Expand(Unsqueeze(receivers))) with reduction="add" into zeros; node block:
Concat(x, aggregated) -> MLP 7 -> 8 -> 8 -> 3; edge classifier: Gather the new node features of
sender and receiver, Concat with the messages, MLP 10 -> 8 -> 8 -> 1 and Sigmoid. Weights are
seeded glorot-uniform values rounded to float32; everything is deterministic.
"""

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "tests" / "models" / "onnx"
DATA_DIR = ROOT / "tests" / "data" / "gnn"
EVENTS = 8

# name, nodes, edges, aggregation op, events
MODELS = [
    ("gnn_in_28_56", 28, 56, "ScatterND", EVENTS),
    ("gnn_in_small_elements", 6, 10, "ScatterElements", EVENTS),
    ("gnn_in_448_896", 448, 896, "ScatterND", 2),
]


def f32(a):
    return np.asarray(a, dtype=np.float32)


class Net:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.k = 0

    def name(self, stem):
        self.k += 1
        return f"{stem}_{self.k}"

    def const(self, stem, value):
        n = self.name(stem)
        self.inits.append(numpy_helper.from_array(value, n))
        return n

    def op(self, op_type, inputs, stem, **attrs):
        out = self.name(stem)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def dense(self, x, n_in, n_out, stem, relu):
        limit = np.sqrt(6.0 / (n_in + n_out))
        w = f32(self.rng.uniform(-limit, limit, (n_in, n_out)))
        b = f32(self.rng.uniform(-0.1, 0.1, (n_out,)))
        y = self.op("MatMul", [x, self.const(f"{stem}_w", w)], f"{stem}_matmul")
        y = self.op("Add", [y, self.const(f"{stem}_b", b)], f"{stem}_add")
        return self.op("Relu", [y], f"{stem}_relu") if relu else y

    def mlp(self, x, sizes, stem):
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            x = self.dense(x, a, b, f"{stem}{i}", relu=i + 2 < len(sizes))
        return x


def build(nodes, edges, aggregation):
    net = Net(16)
    zero = net.const("zero", np.array(0, dtype=np.int64))
    one = net.const("one", np.array(1, dtype=np.int64))
    senders = net.op("Gather", ["edge_index", zero], "senders", axis=0)
    receivers = net.op("Gather", ["edge_index", one], "receivers", axis=0)
    x_s = net.op("Gather", ["x", senders], "x_sender", axis=0)
    x_r = net.op("Gather", ["x", receivers], "x_receiver", axis=0)
    m_in = net.op("Concat", [x_s, x_r, "e"], "edge_in", axis=1)
    msg = net.mlp(m_in, [10, 8, 8, 4], "edge_mlp")
    column = net.op("Unsqueeze", [receivers, net.const("axes", np.array([1], dtype=np.int64))], "receiver_column")
    zeros = net.const("zeros", np.zeros((nodes, 4), dtype=np.float32))
    if aggregation == "ScatterND":
        agg = net.op("ScatterND", [zeros, column, msg], "aggregate", reduction="add")
    else:
        shape = net.const("expand_shape", np.array([edges, 4], dtype=np.int64))
        index = net.op("Expand", [column, shape], "receiver_index")
        agg = net.op("ScatterElements", [zeros, index, msg], "aggregate", axis=0, reduction="add")
    n_in = net.op("Concat", ["x", agg], "node_in", axis=1)
    h = net.mlp(n_in, [7, 8, 8, 3], "node_mlp")
    h_s = net.op("Gather", [h, senders], "h_sender", axis=0)
    h_r = net.op("Gather", [h, receivers], "h_receiver", axis=0)
    c_in = net.op("Concat", [h_s, h_r, msg], "classifier_in", axis=1)
    logit = net.mlp(c_in, [10, 8, 8, 1], "classifier_mlp")
    net.nodes.append(helper.make_node("Sigmoid", [logit], ["score"], name="score"))
    graph = helper.make_graph(
        net.nodes,
        "interaction_network",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [nodes, 3]),
            helper.make_tensor_value_info("e", TensorProto.FLOAT, [edges, 4]),
            helper.make_tensor_value_info("edge_index", TensorProto.INT64, [2, edges]),
        ],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [edges, 1])],
        net.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)],
                              producer_name="hls-gen/scripts/make_gnn_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    for name, nodes, edges, aggregation, events in MODELS:
        model = build(nodes, edges, aggregation)
        path = MODEL_DIR / f"{name}.onnx"
        onnx.save(model, path)
        rng = np.random.default_rng(1600 + nodes)
        x = f32(rng.normal(size=(events, nodes, 3)))
        e = f32(rng.normal(size=(events, edges, 4)))
        edge_index = rng.integers(0, nodes, size=(events, 2, edges), dtype=np.int64)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        out = np.stack([
            sess.run(None, {"x": x[s], "e": e[s], "edge_index": edge_index[s]})[0] for s in range(events)
        ])
        d = DATA_DIR / name
        d.mkdir(parents=True, exist_ok=True)
        np.save(d / "x.npy", x.astype(np.float64))
        np.save(d / "e.npy", e.astype(np.float64))
        np.save(d / "edge_index.npy", edge_index)
        np.save(d / "expected_float.npy", out.astype(np.float64))
        bad = edge_index.copy()
        bad[0, 1, edges // 2] = nodes
        np.save(d / "bad_edge_index.npy", bad)
        print(f"wrote {path.relative_to(ROOT)} and {d.relative_to(ROOT)}/ ({events} events)")


if __name__ == "__main__":
    main()
