//! The `Softmax` layer becomes `Layer::Softmax` over the last axis with the default tables.

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{Layer, NodeId, Softmax};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    axis: i64,
}

pub(super) fn plan(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Softmax(Plan { axis: c.axis("axis")? }))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let shape = b.shape(inputs[0]);
    let rank = shape.rank() as i64;
    if p.axis != -1 && p.axis != rank {
        return Err(
            b.layer_err(layer, format!("softmax over axis {} (not the last) is not supported", p.axis))
        );
    }
    b.add(layer, layer.name.clone(), Layer::Softmax(Softmax::default_for(shape.channels())), inputs)
}
