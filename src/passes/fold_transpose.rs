//! `fold-transpose`: removes a `Transpose` whose only reader flattens it for a `Dense` layer
//! (`Transpose -> Reshape to one axis -> Dense`, the pattern of a channels-first model flattening a
//! convolution's output), by flattening the untransposed tensor and permuting the Dense's weight
//! rows instead: `flatten(transpose(x))[m] = flatten(x)[src[m]]`, so row `m` of the weights moves to
//! row `src[m]`. The Dense then sums the same products in another order, which is exact in floating
//! point up to rounding and bit-exact for the order-free accumulators precision inference gives
//! (an accumulator the configuration fixes keeps the pattern unfolded).

use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{Graph, Layer, NodeId, Shape};

pub struct FoldTranspose;

impl Pass for FoldTranspose {
    fn name(&self) -> &'static str {
        "fold-transpose"
    }

    fn description(&self) -> &'static str {
        "fold a Transpose before a flattening Reshape into the next Dense layer's weight rows"
    }

    fn after(&self) -> &'static [&'static str] {
        &["fold-constants"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        let order = g.topo_order().map_err(|source| PassError::Ir { pass: self.name(), source })?;
        for t in order {
            let Some((reshape, dense)) = pattern(g, t) else { continue };
            let Layer::Transpose(tr) = &g.node(t).layer else { continue };
            let src = g.inputs_of(t)[0];
            let sources = tr.source_indices(&g.node(src).shape);
            let name = g.node(t).name.clone();
            if let Layer::Dense(d) = &mut g.node_mut(dense).layer {
                let n_out = d.n_out();
                let mut rows = d.weights.values.clone();
                for (m, &s) in sources.iter().enumerate() {
                    rows[s * n_out..(s + 1) * n_out]
                        .copy_from_slice(&d.weights.values[m * n_out..(m + 1) * n_out]);
                }
                d.weights.values = rows;
            }
            let flat = Shape::new([sources.len()]);
            g.node_mut(reshape).layer = Layer::Reshape(crate::ir::Reshape::new(flat));
            g.bypass(t).map_err(|source| PassError::Ir { pass: self.name(), source })?;
            report.changes += 1;
            report.notes.push(format!("folded '{name}' into the weight rows of '{}'", g.node(dense).name));
        }
        Ok(report)
    }
}

/// `(reshape, dense)` when `t` is an untyped Transpose read only by an untyped flattening Reshape
/// read only by a Dense with untyped weights and accumulator, none of them a graph output.
fn pattern(g: &Graph, t: NodeId) -> Option<(NodeId, NodeId)> {
    let free = |id: NodeId| {
        let n = g.node(id);
        n.ty.is_none() && !n.ty_from_model && !g.outputs().contains(&id)
    };
    if !matches!(g.node(t).layer, Layer::Transpose(_)) || !free(t) {
        return None;
    }
    let [reshape] = g.users_of(t)[..] else { return None };
    let Layer::Reshape(r) = &g.node(reshape).layer else { return None };
    if r.shape.rank() != 1 || !free(reshape) {
        return None;
    }
    let [dense] = g.users_of(reshape)[..] else { return None };
    match &g.node(dense).layer {
        Layer::Dense(d) if d.weights.ty.is_none() && d.accum.is_none() => Some((reshape, dense)),
        _ => None,
    }
}
