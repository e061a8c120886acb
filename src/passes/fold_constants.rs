//! `fold-constants`: removes layers that compute nothing before typing: linear activations,
//! reshapes to the same shape, chains of reshapes, concatenations of one tensor, and adding zero
//! or multiplying by one. Layers
//! whose type the model fixed are kept (their cast is part of the model).

use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{Activation, BinaryOp, Elementwise, Graph, Layer};

pub struct FoldConstants;

impl Pass for FoldConstants {
    fn name(&self) -> &'static str {
        "fold-constants"
    }

    fn description(&self) -> &'static str {
        "remove linear activations, no-op reshapes and identity arithmetic"
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        loop {
            let order = g.topo_order().map_err(|source| PassError::Ir { pass: self.name(), source })?;
            let victim = order.into_iter().find(|&id| {
                let n = g.node(id);
                if n.ty.is_some() || n.ty_from_model {
                    return false;
                }
                let input_shape = match g.inputs_of(id).first() {
                    Some(&i) => g.node(i).shape.clone(),
                    None => return false,
                };
                match &n.layer {
                    Layer::Activation(a) => matches!(a, Activation::Linear),
                    Layer::Reshape(_) => {
                        input_shape == n.shape
                            || g.users_of(id).iter().all(|&u| matches!(g.node(u).layer, Layer::Reshape(_)))
                                && !g.users_of(id).is_empty()
                                && !g.outputs().contains(&id)
                    }
                    Layer::Elementwise(Elementwise { op, constant: Some(c) }) if c.ty.is_none() => match op {
                        BinaryOp::Add | BinaryOp::Sub => c.values.iter().all(|&v| v == 0.0),
                        BinaryOp::Mul => c.values.iter().all(|&v| v == 1.0),
                        BinaryOp::Max | BinaryOp::Min => false,
                    },
                    Layer::Elementwise(_) => false,
                    Layer::Concatenate(_) => g.inputs_of(id).len() == 1,
                    Layer::Transpose(t) => t.perm.iter().enumerate().all(|(k, &p)| k == p),
                    Layer::Pad(p) => p.begin.iter().chain(&p.end).all(|&v| v == 0),
                    Layer::UpSample(u) => u.factors.iter().all(|&f| f == 1),
                    Layer::Reduce(_) | Layer::GatherRows(_) | Layer::ScatterAdd(_) => false,
                    Layer::Conv(_) | Layer::Pool(_) => false,
                    Layer::Input(_)
                    | Layer::Dense(_)
                    | Layer::BatchNorm(_)
                    | Layer::Softmax(_)
                    | Layer::Quantize(_) => false,
                }
            });
            let Some(id) = victim else { break };
            g.bypass(id).map_err(|source| PassError::Ir { pass: self.name(), source })?;
            report.changes += 1;
        }
        Ok(report)
    }
}
