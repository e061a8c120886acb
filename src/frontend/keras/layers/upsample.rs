//! `UpSampling1D` and `UpSampling2D` become `Layer::UpSample`: nearest-neighbour repetition of
//! each spatial position `size` times per axis (`size`: one integer, or one per axis for 2-D).
//! Other interpolations (`bilinear`, ...) are refused.

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{Layer, NodeId, UpSample};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    factors: Vec<usize>,
}

fn plan_with(c: &Cfg, spatial: usize) -> Result<LayerPlan, String> {
    c.channels_last()?;
    match c.string("interpolation")? {
        None | Some("nearest") => {}
        Some(other) => {
            return Err(format!("interpolation='{other}' is not supported (only 'nearest')"));
        }
    }
    Ok(LayerPlan::UpSample(Plan { factors: c.sizes("size", spatial, Some(2))? }))
}

pub(super) fn plan1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, 1)
}

pub(super) fn plan2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, 2)
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let x = b.shape(inputs[0]);
    if x.rank() != p.factors.len() + 1 {
        return Err(
            b.layer_err(layer, format!("expects a {}-D input with channels, gets {x}", p.factors.len()))
        );
    }
    let up = Layer::UpSample(UpSample { factors: p.factors.clone() });
    b.add(layer, layer.name.clone(), up, inputs)
}
