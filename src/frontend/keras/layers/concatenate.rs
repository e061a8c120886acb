//! `Concatenate` of one or more tensors becomes `Layer::Concatenate` along its `axis` (Keras counts
//! the batch axis; `-1`, the default, is the last axis). One input is passed through.

use super::{sample_axis, Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{Concatenate, Layer, NodeId};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    axis: i64,
}

pub(super) fn plan(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    let axis = c.int("axis")?.unwrap_or(-1);
    if axis == 0 {
        return Err("concatenation along the batch axis is not supported".into());
    }
    Ok(LayerPlan::Concatenate(Plan { axis }))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    if let [one] = inputs {
        return Ok(*one);
    }
    let rank = b.shape(inputs[0]).rank();
    let axis = sample_axis(p.axis, rank).map_err(|e| b.layer_err(layer, e))?;
    b.add(layer, layer.name.clone(), Layer::Concatenate(Concatenate { axis }), inputs)
}
