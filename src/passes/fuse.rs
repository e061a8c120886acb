//! What the fusion passes share: finding each dot-product layer (`Dense`, `Conv`: weights whose
//! last axis is the output channel, a bias per output channel) whose result is still untyped and
//! read by exactly one layer (not a graph output) that is untyped too and not fixed by the model,
//! and folding that reader into the layer's weights and bias.

use super::{PassError, PassReport};
use crate::ir::{Graph, Layer, NodeId, Weights};

/// The weights and bias of a dot-product layer.
fn parts(layer: &Layer) -> Option<(&Weights, &Weights)> {
    match layer {
        Layer::Dense(d) => Some((&d.weights, &d.bias)),
        Layer::Conv(c) => Some((&c.weights, &c.bias)),
        Layer::Input(_)
        | Layer::BatchNorm(_)
        | Layer::Activation(_)
        | Layer::Softmax(_)
        | Layer::Elementwise(_)
        | Layer::Concatenate(_)
        | Layer::Reshape(_)
        | Layer::Quantize(_)
        | Layer::Pool(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_)
        | Layer::Reduce(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => None,
    }
}

/// The values of a constant that is the same at every position of a tensor with `n_out` channels
/// (every axis but the last of extent 1, the last 1 or `n_out`), one per channel.
pub(super) fn per_channel(w: &Weights, n_out: usize) -> Option<Vec<f64>> {
    let dims = w.shape.dims();
    let (last, rest) = dims.split_last().map_or((1, &[][..]), |(l, r)| (*l, r));
    if w.ty.is_some() || rest.iter().any(|&d| d != 1) || (last != 1 && last != n_out) {
        return None;
    }
    Some((0..n_out).map(|j| w.values[if last == 1 { 0 } else { j }]).collect())
}

/// Runs `fold` on every such (layer, reader) pair in topological order. `fold` gets the layer's
/// weights, bias and number of output channels and returns `None` to leave the pair alone, or the
/// new weights and bias; the reader is then bypassed and a note records it ("fused 'reader' into
/// {target}'layer'").
pub(super) fn fold_into_dot(
    g: &mut Graph,
    pass: &'static str,
    target: &str,
    mut fold: impl FnMut(&Weights, &Weights, usize, &Layer) -> Option<(Weights, Weights)>,
) -> Result<PassReport, PassError> {
    let mut report = PassReport::default();
    let order = g.topo_order().map_err(|source| PassError::Ir { pass, source })?;
    for id in order {
        if !g.contains(id) {
            continue;
        }
        let node = g.node(id);
        let Some((w, b)) = parts(&node.layer) else { continue };
        if node.ty.is_some() {
            continue;
        }
        let Some(u) = sole_user(g, id) else { continue };
        let user = g.node(u);
        if user.ty.is_some() || user.ty_from_model {
            continue;
        }
        let n_out = w.shape.dims().last().copied().unwrap_or(0);
        let Some((weights, bias)) = fold(w, b, n_out, &user.layer) else { continue };
        let user_name = user.name.clone();
        match &mut g.node_mut(id).layer {
            Layer::Dense(d) => (d.weights, d.bias) = (weights, bias),
            Layer::Conv(c) => (c.weights, c.bias) = (weights, bias),
            Layer::Input(_)
            | Layer::BatchNorm(_)
            | Layer::Activation(_)
            | Layer::Softmax(_)
            | Layer::Elementwise(_)
            | Layer::Concatenate(_)
            | Layer::Reshape(_)
            | Layer::Quantize(_)
            | Layer::Pool(_)
            | Layer::Pad(_)
            | Layer::UpSample(_)
            | Layer::Transpose(_)
            | Layer::Reduce(_)
            | Layer::GatherRows(_)
            | Layer::ScatterAdd(_) => continue,
        }
        g.bypass(u).map_err(|source| PassError::Ir { pass, source })?;
        report.changes += 1;
        report.notes.push(format!("fused '{user_name}' into {target}'{}'", g.node(id).name));
    }
    Ok(report)
}

/// The single user of `id`, when `id` is not a graph output and has exactly one reader.
fn sole_user(g: &Graph, id: NodeId) -> Option<NodeId> {
    match g.users_of(id)[..] {
        [u] if !g.outputs().contains(&id) => Some(u),
        _ => None,
    }
}
