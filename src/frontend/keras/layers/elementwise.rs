//! `Add`, `Subtract` and `Multiply` of two tensors of the same shape become `Layer::Elementwise`.

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{BinaryOp, Elementwise, Layer, NodeId};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    op: BinaryOp,
}

pub(super) fn plan_add(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan { op: BinaryOp::Add }))
}

pub(super) fn plan_subtract(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan { op: BinaryOp::Sub }))
}

pub(super) fn plan_multiply(_: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Elementwise(Plan { op: BinaryOp::Mul }))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let l = Layer::Elementwise(Elementwise { op: p.op, constant: None });
    b.add(layer, layer.name.clone(), l, inputs)
}
