//! `fuse-bias`: folds a per-channel constant added to (or subtracted from) a Dense or Conv layer's
//! output into its bias, turning ONNX `MatMul` + `Add` into one Dense layer.

use super::fuse::fold_into_dot;
use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{BinaryOp, Elementwise, Graph, Layer, Shape};

pub struct FuseBias;

impl Pass for FuseBias {
    fn name(&self) -> &'static str {
        "fuse-bias"
    }

    fn description(&self) -> &'static str {
        "fold MatMul + Add into one Dense layer, and an added per-channel constant into a Conv's bias"
    }

    fn after(&self) -> &'static [&'static str] {
        &["fold-constants"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        fold_into_dot(g, self.name(), "the bias of ", |w, b, n_out, user| {
            if b.ty.is_some() {
                return None;
            }
            // A typed constant (a quantized bias) replaces an all-zero untyped bias whole.
            let bias_is_free = b.values.iter().all(|&v| v == 0.0);
            let Layer::Elementwise(Elementwise {
                op: op @ (BinaryOp::Add | BinaryOp::Sub),
                constant: Some(c),
            }) = user
            else {
                return None;
            };
            let channels = Shape::new([n_out]);
            let dims = c.shape.dims();
            let per_channel = dims.split_last().is_none_or(|(_, rest)| rest.iter().all(|&d| d == 1));
            if (c.ty.is_some() && !bias_is_free) || !per_channel {
                return None;
            }
            let flat = crate::ir::Weights { shape: Shape::new([c.values.len()]), ..c.clone() };
            if !flat.shape.broadcasts_to(&channels) {
                return None;
            }
            let sign = if *op == BinaryOp::Sub { -1.0 } else { 1.0 };
            let mut bias = b.clone();
            for (j, v) in bias.values.iter_mut().enumerate() {
                *v += sign * flat.values[flat.shape.broadcast_index(&channels, j)];
            }
            bias.ty = c.ty;
            Some((w.clone(), bias))
        })
    }
}
