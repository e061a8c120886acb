//! `fuse-batch-norm`: folds a per-channel affine map (BatchNorm, or a constant Mul) that follows a
//! Dense layer into the Dense weights and bias, in floating point before quantization. Layers whose
//! weights the model already quantized keep a standalone BatchNorm, so the model's weights stay
//! exactly as trained.

use super::fuse::fold_into_dense;
use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{BatchNorm, BinaryOp, Elementwise, Graph, Layer, Shape, Weights};

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
        fold_into_dense(g, self.name(), "", |d, user| {
            if d.weights.ty.is_some() || d.bias.ty.is_some() {
                return None;
            }
            let n_out = d.n_out();
            let shape = Shape::new([n_out]);
            let per_channel = |w: &Weights| -> Option<Vec<f64>> {
                (w.ty.is_none() && w.shape.broadcasts_to(&shape))
                    .then(|| (0..n_out).map(|j| w.values[w.shape.broadcast_index(&shape, j)]).collect())
            };
            let (scale, shift) = if let Layer::BatchNorm(BatchNorm { scale, bias }) = user {
                (per_channel(scale)?, per_channel(bias)?)
            } else if let Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(c) }) = user {
                (per_channel(c)?, vec![0.0; n_out])
            } else {
                return None;
            };
            let mut fused = d.clone();
            for (k, w) in fused.weights.values.iter_mut().enumerate() {
                *w *= scale[k % n_out];
            }
            for (j, b) in fused.bias.values.iter_mut().enumerate() {
                *b = *b * scale[j] + shift[j];
            }
            Some(fused)
        })
    }
}
