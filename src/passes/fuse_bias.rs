//! `fuse-bias`: folds a constant added to (or subtracted from) a Dense layer's output into its bias,
//! turning ONNX `MatMul` + `Add` into one Dense layer.

use super::fuse::fold_into_dense;
use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{BinaryOp, Elementwise, Graph, Layer};

pub struct FuseBias;

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
        fold_into_dense(g, self.name(), "the bias of ", |d, user| {
            if d.bias.ty.is_some() {
                return None;
            }
            // A typed constant (a quantized bias) replaces an all-zero untyped bias whole.
            let bias_is_free = d.bias.values.iter().all(|&b| b == 0.0);
            let Layer::Elementwise(Elementwise {
                op: op @ (BinaryOp::Add | BinaryOp::Sub),
                constant: Some(c),
            }) = user
            else {
                return None;
            };
            let shape = crate::ir::Shape::new([d.n_out()]);
            if (c.ty.is_some() && !bias_is_free) || !c.shape.broadcasts_to(&shape) {
                return None;
            }
            let sign = if *op == BinaryOp::Sub { -1.0 } else { 1.0 };
            let mut fused = d.clone();
            for (j, b) in fused.bias.values.iter_mut().enumerate() {
                *b += sign * c.values[c.shape.broadcast_index(&shape, j)];
            }
            fused.bias.ty = c.ty;
            Some(fused)
        })
    }
}
