//! The merge layers become `Layer::Elementwise` over tensors of one shape: `Add`, `Multiply`,
//! `Maximum` and `Minimum` of two or more inputs (one n-ary node), `Subtract` of two. `Average`
//! of `n` inputs is an `Add` (node `<layer>_sum`) then a `Mul` by the constant `1 / n` (node
//! `<layer>`); Keras divides the sum by `n`, which the constant reproduces exactly when `n` is a
//! power of two.

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{BinaryOp, Elementwise, Layer, NodeId, Weights};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) enum Plan {
    Op(BinaryOp),
    Average,
}

pub(super) fn plan_add(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan::Op(BinaryOp::Add)))
}

pub(super) fn plan_subtract(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan::Op(BinaryOp::Sub)))
}

pub(super) fn plan_multiply(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan::Op(BinaryOp::Mul)))
}

pub(super) fn plan_maximum(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan::Op(BinaryOp::Max)))
}

pub(super) fn plan_minimum(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan::Op(BinaryOp::Min)))
}

pub(super) fn plan_average(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan::Average))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    match p {
        Plan::Op(op) => {
            let l = Layer::Elementwise(Elementwise { op: *op, constant: None });
            b.add(layer, layer.name.clone(), l, inputs)
        }
        Plan::Average => {
            let sum_name = b.fresh(&format!("{}_sum", layer.name));
            let sum = Layer::Elementwise(Elementwise { op: BinaryOp::Add, constant: None });
            let sum = b.add(layer, sum_name, sum, inputs)?;
            let inverse = Weights::scalar(1.0 / inputs.len() as f64);
            let mean = Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: Some(inverse) });
            b.add(layer, layer.name.clone(), mean, &[sum])
        }
    }
}
