//! `fuse-bias`: folds a constant added to (or subtracted from) a Dense layer's output into its bias,
//! turning ONNX `MatMul` + `Add` into one Dense layer.

use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{BinaryOp, Elementwise, Graph, Layer, NodeId};

pub struct FuseBias;

/// The single user of `id`, when `id` is not a graph output and has exactly one reader.
pub(super) fn sole_user(g: &Graph, id: NodeId) -> Option<NodeId> {
    match g.users_of(id)[..] {
        [u] if !g.outputs().contains(&id) => Some(u),
        _ => None,
    }
}

impl Pass for FuseBias {
    fn name(&self) -> &'static str {
        "fuse-bias"
    }

    fn description(&self) -> &'static str {
        "fold MatMul + Add into one Dense layer"
    }

    fn after(&self) -> &'static [&'static str] {
        &["fold-constants"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        let order = g.topo_order().map_err(|source| PassError::Ir { pass: self.name(), source })?;
        for id in order {
            if !g.contains(id) {
                continue;
            }
            let Layer::Dense(d) = &g.node(id).layer else { continue };
            // A typed constant (a quantized bias) replaces an all-zero untyped bias whole.
            let bias_is_free = d.bias.ty.is_none() && d.bias.values.iter().all(|&b| b == 0.0);
            if g.node(id).ty.is_some() || d.bias.ty.is_some() {
                continue;
            }
            let n_out = d.n_out();
            let Some(u) = sole_user(g, id) else { continue };
            let user = g.node(u);
            if user.ty.is_some() || user.ty_from_model {
                continue;
            }
            let Layer::Elementwise(Elementwise {
                op: op @ (BinaryOp::Add | BinaryOp::Sub),
                constant: Some(c),
            }) = &user.layer
            else {
                continue;
            };
            if (c.ty.is_some() && !bias_is_free) || !c.shape.broadcasts_to(&g.node(id).shape) {
                continue;
            }
            let c_ty = c.ty;
            let sign = if *op == BinaryOp::Sub { -1.0 } else { 1.0 };
            let shape = g.node(id).shape.clone();
            let add: Vec<f64> =
                (0..n_out).map(|j| sign * c.values[c.shape.broadcast_index(&shape, j)]).collect();
            let user_name = user.name.clone();
            if let Layer::Dense(d) = &mut g.node_mut(id).layer {
                for (b, a) in d.bias.values.iter_mut().zip(add) {
                    *b += a;
                }
                d.bias.ty = c_ty;
            }
            g.bypass(u).map_err(|source| PassError::Ir { pass: self.name(), source })?;
            report.changes += 1;
            report.notes.push(format!("fused '{user_name}' into the bias of '{}'", g.node(id).name));
        }
        Ok(report)
    }
}
