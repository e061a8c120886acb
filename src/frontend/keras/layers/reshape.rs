//! `Flatten` and `Reshape` become `Layer::Reshape` (row-major order is kept; a channels-first
//! Flatten of a tensor of rank above one would reorder the data and is refused).

use serde_json::Value;

use super::{Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{Layer, NodeId, Reshape, Shape};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) enum Plan {
    Flatten {
        channels_first: bool,
    },
    /// Target dimensions, at most one `-1`.
    Reshape {
        target: Vec<i64>,
    },
}

pub(super) fn plan_flatten(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Reshape(Plan::Flatten {
        channels_first: c.get("data_format").and_then(Value::as_str) == Some("channels_first"),
    }))
}

pub(super) fn plan(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    let target = c.get("target_shape").and_then(Value::as_array).ok_or("no target_shape")?;
    let target = target
        .iter()
        .map(|d| {
            d.as_i64().filter(|&n| n > 0 || n == -1).ok_or_else(|| format!("target dimension {d} is invalid"))
        })
        .collect::<Result<Vec<i64>, String>>()?;
    if target.iter().filter(|&&d| d == -1).count() > 1 {
        return Err("target_shape has more than one -1".into());
    }
    Ok(LayerPlan::Reshape(Plan::Reshape { target }))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let in_shape = b.shape(inputs[0]);
    let out = match p {
        Plan::Flatten { channels_first } => {
            if *channels_first && in_shape.rank() > 1 {
                return Err(b.layer_err(layer, "channels_first flattening is not supported"));
            }
            Shape::new([in_shape.elements()])
        }
        Plan::Reshape { target } => {
            let known = target.iter().filter(|&&d| d > 0).fold(1usize, |a, &d| a.saturating_mul(d as usize));
            let total = in_shape.elements();
            if target.contains(&-1) {
                if known == 0 || !total.is_multiple_of(known) {
                    return Err(b.layer_err(layer, format!("cannot reshape {in_shape} to {target:?}")));
                }
                Shape::new(
                    target
                        .iter()
                        .map(|&d| if d == -1 { total / known } else { d as usize })
                        .collect::<Vec<_>>(),
                )
            } else {
                Shape::new(target.iter().map(|&d| d as usize).collect::<Vec<_>>())
            }
        }
    };
    b.add(layer, layer.name.clone(), Layer::Reshape(Reshape::new(out)), inputs)
}
