//! `fuse-batch-norm`: folds a per-channel affine map (BatchNorm, or a constant Mul) that follows a
//! Dense layer into the Dense weights and bias, in floating point before quantization. Layers whose
//! weights the model already quantized keep a standalone BatchNorm, so the model's weights stay
//! exactly as trained.

use super::fuse_bias::sole_user;
use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{BatchNorm, BinaryOp, Elementwise, Graph, Layer, Shape};

pub struct FuseBatchNorm;

impl Pass for FuseBatchNorm {
    fn name(&self) -> &'static str {
        "fuse-batch-norm"
    }

    fn description(&self) -> &'static str {
        "fold BatchNorm and constant scaling into the preceding Dense layer"
    }

    fn after(&self) -> &'static [&'static str] {
        &["fuse-bias"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        let order = g.topo_order().map_err(|source| PassError::Ir { pass: self.name(), source })?;
        for id in order {
            if !g.contains(id) {
                continue;
            }
            let node = g.node(id);
            let Layer::Dense(d) = &node.layer else { continue };
            if node.ty.is_some() || d.weights.ty.is_some() || d.bias.ty.is_some() {
                continue;
            }
            let Some(u) = sole_user(g, id) else { continue };
            let user = g.node(u);
            if user.ty.is_some() || user.ty_from_model {
                continue;
            }
            let n_out = d.n_out();
            let shape = Shape::new([n_out]);
            let per_channel = |w: &crate::ir::Weights| -> Option<Vec<f64>> {
                (w.ty.is_none() && w.shape.broadcasts_to(&shape))
                    .then(|| (0..n_out).map(|j| w.values[w.shape.broadcast_index(&shape, j)]).collect())
            };
            let (scale, shift) = match &user.layer {
                Layer::BatchNorm(BatchNorm { scale, bias }) => {
                    match (per_channel(scale), per_channel(bias)) {
                        (Some(s), Some(b)) => (s, b),
                        _ => continue,
                    }
                }
                Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(c) }) => {
                    match per_channel(c) {
                        Some(s) => (s, vec![0.0; n_out]),
                        None => continue,
                    }
                }
                _ => continue,
            };
            let user_name = user.name.clone();
            if let Layer::Dense(d) = &mut g.node_mut(id).layer {
                for (k, w) in d.weights.values.iter_mut().enumerate() {
                    *w *= scale[k % n_out];
                }
                for (j, b) in d.bias.values.iter_mut().enumerate() {
                    *b = *b * scale[j] + shift[j];
                }
            }
            g.bypass(u).map_err(|source| PassError::Ir { pass: self.name(), source })?;
            report.changes += 1;
            report.notes.push(format!("fused '{user_name}' into '{}'", g.node(id).name));
        }
        Ok(report)
    }
}
