//! Appends an anomaly score to an imported model (`--score`), so the firmware outputs one value
//! per sample that a trigger can cut on. It runs on the graph as the frontend built it, before
//! any pass, so the appended nodes are typed like the model's own (the configuration may name
//! them); they are named `score/...` and `score` (with `_1`, `_2`, ... appended to `score` when
//! the model already uses those names).
//!
//! With `x` the model's input and `y` its output, reduced over every axis of the per-sample
//! tensor (the IR shape, which has no batch axis) into one value (`keepdims` false, shape `[1]`):
//!
//! * `mse`: `score/diff = Elementwise Sub(x, y)`, `score/square = Elementwise Mul(score/diff,
//!   score/diff)` (one tensor read on both ports), `score = Reduce Mean(score/square)`: the mean
//!   of the squared differences, `1 / n` rounded as [`crate::ir::Reduce`] defines;
//! * `mae`: `score/diff = Elementwise Sub(x, y)`, `score = Reduce L1(score/diff)`: the sum of the
//!   absolute differences, `n` times the mean absolute error (no division, so no rounding
//!   beyond the types of `score/diff` and `score`);
//! * `latent-l2`: `score = Reduce SumSquare(t)` for the layer `t` named by the caller (a latent
//!   mean, say): its squared L2 norm.
//!
//! `mse` and `mae` need exactly one model input and one model output of the input's shape (and
//! layout); `latent-l2` needs neither. The graph's outputs become `[score]`; nodes that then reach
//! no output (a decoder after the scored latent) are removed, except model inputs.

use std::collections::BTreeSet;

use thiserror::Error;

use crate::ir::{BinaryOp, Elementwise, Graph, IrError, Layer, NodeId, Reduce, ReduceOp};

/// Which score to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Score {
    /// Mean of the squared differences between the input and the output.
    Mse,
    /// Sum of the absolute differences between the input and the output.
    Mae,
    /// Sum of the squares of the named layer's output.
    LatentL2 { tensor: String },
}

impl Score {
    pub fn name(&self) -> &'static str {
        match self {
            Score::Mse => "mse",
            Score::Mae => "mae",
            Score::LatentL2 { .. } => "latent-l2",
        }
    }
}

#[derive(Debug, Error)]
pub enum ScoreError {
    #[error("score {score}: the model has {count} inputs ({names}); it needs exactly one")]
    Inputs { score: &'static str, count: usize, names: String },
    #[error("score {score}: the model has {count} outputs ({names}); it needs exactly one")]
    Outputs { score: &'static str, count: usize, names: String },
    #[error("score {score}: output '{output}' has shape {output_shape}, but input '{input}' has shape {input_shape}; the reconstruction must have the input's shape")]
    Shape { score: &'static str, input: String, input_shape: String, output: String, output_shape: String },
    #[error("score {score}: output '{output}' and input '{input}' are in different model layouts")]
    Layout { score: &'static str, input: String, output: String },
    #[error("score latent-l2: the model has no layer named '{name}' (layers: {names})")]
    UnknownTensor { name: String, names: String },
    #[error("score {score}: {source}")]
    Ir { score: &'static str, source: IrError },
}

fn quoted(g: &Graph, ids: &[NodeId]) -> String {
    ids.iter().map(|&i| format!("'{}'", g.node(i).name)).collect::<Vec<_>>().join(", ")
}

/// The name of the score node: `score`, or `score_k` for the smallest `k` such that no model
/// node is named `score_k` or `score_k/...`.
fn base_name(g: &Graph) -> String {
    let taken = |base: &str| {
        g.node_ids().iter().any(|&i| {
            let n = &g.node(i).name;
            n == base || n.strip_prefix(base).is_some_and(|rest| rest.starts_with('/'))
        })
    };
    let mut base = "score".to_string();
    let mut k = 0;
    while taken(&base) {
        k += 1;
        base = format!("score_{k}");
    }
    base
}

/// The model's one input and one output, of the same shape and layout.
fn input_and_output(g: &Graph, score: &'static str) -> Result<(NodeId, NodeId), ScoreError> {
    let inputs = g.inputs();
    let &[x] = &inputs[..] else {
        return Err(ScoreError::Inputs { score, count: inputs.len(), names: quoted(g, &inputs) });
    };
    let outputs = g.outputs();
    let &[y] = outputs else {
        return Err(ScoreError::Outputs { score, count: outputs.len(), names: quoted(g, outputs) });
    };
    let (xn, yn) = (g.node(x), g.node(y));
    if xn.shape != yn.shape {
        return Err(ScoreError::Shape {
            score,
            input: xn.name.clone(),
            input_shape: xn.shape.to_string(),
            output: yn.name.clone(),
            output_shape: yn.shape.to_string(),
        });
    }
    if g.input_layout(x) != g.output_layout(0) {
        return Err(ScoreError::Layout { score, input: xn.name.clone(), output: yn.name.clone() });
    }
    Ok((x, y))
}

/// A reduction of `src` over every axis into one value.
fn reduce_all(g: &Graph, op: ReduceOp, src: NodeId) -> Layer {
    let shape = &g.node(src).shape;
    Layer::Reduce(Reduce::new(op, (0..shape.rank()).collect(), false, shape))
}

fn elementwise(op: BinaryOp) -> Layer {
    Layer::Elementwise(Elementwise { op, constant: None })
}

/// Appends `score` to `g` (see the module documentation) and returns the score node.
pub fn append(g: &mut Graph, score: &Score) -> Result<NodeId, ScoreError> {
    let name = score.name();
    let base = base_name(g);
    let ir = |source| ScoreError::Ir { score: name, source };
    let out = match score {
        Score::Mse => {
            let (x, y) = input_and_output(g, name)?;
            let d = g.add(format!("{base}/diff"), elementwise(BinaryOp::Sub), &[x, y]).map_err(ir)?;
            let q = g.add(format!("{base}/square"), elementwise(BinaryOp::Mul), &[d, d]).map_err(ir)?;
            g.add(base, reduce_all(g, ReduceOp::Mean, q), &[q]).map_err(ir)?
        }
        Score::Mae => {
            let (x, y) = input_and_output(g, name)?;
            let d = g.add(format!("{base}/diff"), elementwise(BinaryOp::Sub), &[x, y]).map_err(ir)?;
            g.add(base, reduce_all(g, ReduceOp::L1, d), &[d]).map_err(ir)?
        }
        Score::LatentL2 { tensor } => {
            let t = g.find(tensor).ok_or_else(|| ScoreError::UnknownTensor {
                name: tensor.clone(),
                names: quoted(g, &g.node_ids()),
            })?;
            g.add(base, reduce_all(g, ReduceOp::SumSquare, t), &[t]).map_err(ir)?
        }
    };
    for k in 0..g.outputs().len() {
        g.set_output_layout(k, Vec::new());
    }
    g.set_outputs(vec![out]);
    remove_dead(g, out);
    Ok(out)
}

/// Removes every node but the model inputs from which `out` cannot be reached.
fn remove_dead(g: &mut Graph, out: NodeId) {
    let mut live = BTreeSet::from([out]);
    let mut todo = vec![out];
    while let Some(n) = todo.pop() {
        for i in g.inputs_of(n) {
            if live.insert(i) {
                todo.push(i);
            }
        }
    }
    for id in g.node_ids() {
        if !live.contains(&id) && !matches!(g.node(id).layer, Layer::Input(_)) {
            g.remove(id);
        }
    }
}
