//! `InputLayer` becomes `Layer::Input` with its per-sample shape (the batch axis dropped).

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{Input, Layer, NodeId, Shape};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    shape: Vec<usize>,
}

pub(super) fn plan(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    let (dims, batch) = match ["batch_input_shape", "batch_shape"].iter().find_map(|k| c.get(k)) {
        Some(v) => (v, true),
        None => (c.get("shape").or_else(|| c.get("input_shape")).ok_or("no input shape")?, false),
    };
    let dims = dims.as_array().ok_or_else(|| format!("input shape {dims} is not a list"))?;
    let dims = if batch { dims.get(1..).unwrap_or(&[]) } else { &dims[..] };
    let mut shape = Vec::with_capacity(dims.len());
    for d in dims {
        match d.as_u64() {
            Some(n) if n > 0 => {
                shape.push(usize::try_from(n).map_err(|_| format!("dimension {n} is too large"))?)
            }
            _ => return Err(format!("input dimension {d} is not a fixed positive size")),
        }
    }
    if shape.is_empty() {
        return Err("the input has no dimensions besides the batch".into());
    }
    Ok(LayerPlan::Input(Plan { shape }))
}

pub(super) fn build(b: &mut Builder, layer: &LayerSpec, p: &Plan) -> Result<NodeId, KerasError> {
    b.add(layer, layer.name.clone(), Layer::Input(Input::new(Shape::new(p.shape.clone()))), &[])
}
