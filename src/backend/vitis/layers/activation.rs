//! `Activation` as a call of one function of `templates/hlsgen/activation.h` (named after the
//! variant; a clip with one bound is `clip_min`/`clip_max`), with its scalar, broadcast or table
//! constants.

use super::{konst, Builder, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::Activation;

pub(super) fn plan(ops: &Operands<'_>, a: &Activation) -> Result<Plan, BackendError> {
    let n = ops.node.shape.elements();
    let function = match a {
        Activation::Clip { min: Some(_), max: None } => "clip_min",
        Activation::Clip { min: None, max: Some(_) } => "clip_max",
        Activation::Clip { min: None, max: None } => "linear",
        Activation::Clip { min: Some(_), max: Some(_) }
        | Activation::Linear
        | Activation::Relu
        | Activation::LeakyRelu { .. }
        | Activation::PRelu { .. }
        | Activation::HardSigmoid { .. }
        | Activation::Sigmoid(_)
        | Activation::Tanh(_) => a.name(),
        Activation::Softplus(_) | Activation::Softsign(_) => "table_lookup",
        Activation::Elu(_)
        | Activation::Selu { .. }
        | Activation::ThresholdedRelu { .. }
        | Activation::HardSwish { .. } => a.name(),
    };
    let mut bld = Builder::new(ops, function);
    bld.config.constants.push(konst("n", n));
    match a {
        Activation::Linear | Activation::Relu => {}
        Activation::LeakyRelu { alpha } => bld.scalar("alpha", alpha)?,
        Activation::PRelu { alpha } => bld.broadcast_constant("alpha", alpha)?,
        Activation::HardSigmoid { alpha, beta } => {
            bld.scalar("alpha", alpha)?;
            bld.scalar("beta", beta)?;
        }
        Activation::Clip { min, max } => {
            if let Some(m) = min {
                bld.scalar("min", m)?;
            }
            if let Some(m) = max {
                bld.scalar("max", m)?;
            }
        }
        Activation::Sigmoid(t) | Activation::Tanh(t) | Activation::Softplus(t) | Activation::Softsign(t) => {
            bld.table("table", t)?
        }
        Activation::Elu(t) => bld.table("table", t)?,
        Activation::Selu { scale, table } => {
            bld.scalar("scale", scale)?;
            bld.table("table", table)?;
        }
        Activation::ThresholdedRelu { theta } => bld.scalar("theta", theta)?,
        Activation::HardSwish { alpha, beta } => {
            let x = ops.inputs.first().ok_or_else(|| BackendError::layer(&ops.node.name, "has no input"))?;
            let h = Activation::hard_sigmoid_type(&x.ty, alpha, beta)
                .map_err(|what| BackendError::layer(&ops.node.name, what))?;
            bld.typedef("hs_t", &h, "hs_t", None);
            bld.scalar("alpha", alpha)?;
            bld.scalar("beta", beta)?;
        }
    }
    Ok(bld.finish("activation.h"))
}
