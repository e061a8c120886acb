//! `fuse-batch-norm`: folds a per-channel affine map (BatchNorm, or a constant Mul) that follows a
//! Dense or Conv layer into its weights and bias, in floating point before quantization. Layers
//! whose weights the model already quantized keep a standalone BatchNorm, so the model's weights
//! stay exactly as trained.

use super::fuse::{fold_into_dot, per_channel};
use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{BatchNorm, BinaryOp, Elementwise, Graph, Layer};

pub struct FuseBatchNorm;

impl Pass for FuseBatchNorm {
    fn name(&self) -> &'static str {
        "fuse-batch-norm"
    }

    fn description(&self) -> &'static str {
        "fold BatchNorm and constant scaling into the preceding Dense or Conv layer"
    }

    fn after(&self) -> &'static [&'static str] {
        &["fuse-bias"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        fold_into_dot(g, self.name(), "", |w, b, n_out, user| {
            if w.ty.is_some() || b.ty.is_some() {
                return None;
            }
            let (scale, shift) = if let Layer::BatchNorm(BatchNorm { scale, bias }) = user {
                (per_channel(scale, n_out)?, per_channel(bias, n_out)?)
            } else if let Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(c) }) = user {
                (per_channel(c, n_out)?, vec![0.0; n_out])
            } else {
                return None;
            };
            let (mut weights, mut bias) = (w.clone(), b.clone());
            for (k, v) in weights.values.iter_mut().enumerate() {
                *v *= scale[k % n_out];
            }
            for (j, v) in bias.values.iter_mut().enumerate() {
                *v = *v * scale[j] + shift[j];
            }
            Some((weights, bias))
        })
    }
}
