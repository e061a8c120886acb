//! `ZeroPadding1D/2D` and `Cropping1D/2D` become `Layer::Pad` on the spatial axes of a
//! channels-last tensor; cropping is negative padding.
//!
//! Amounts (`padding` / `cropping`): 1-D, one integer for both ends or `[begin, end]`; 2-D, one
//! integer for every end, `[rows, cols]` (each for both ends of its axis), or `[[top, bottom],
//! [left, right]]`.

use serde_json::Value;

use super::{Builder, Cfg, Plan as LayerPlan, MAX_WINDOW};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{Layer, NodeId, Pad};

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    begin: Vec<i64>,
    end: Vec<i64>,
}

fn amount(key: &str, v: &Value) -> Result<i64, String> {
    match v.as_i64() {
        Some(n) if n > MAX_WINDOW as i64 => Err(format!("{key}: {v} is larger than {MAX_WINDOW}")),
        Some(n) if n >= 0 => Ok(n),
        _ => Err(format!("{key}: {v} is not a non-negative integer")),
    }
}

/// The amounts before and after each of `spatial` axes.
fn amounts(c: &Cfg, key: &str, spatial: usize, default: i64) -> Result<(Vec<i64>, Vec<i64>), String> {
    let Some(v) = c.get(key) else { return Ok((vec![default; spatial], vec![default; spatial])) };
    let pair = |v: &Value| -> Result<(i64, i64), String> {
        match v {
            Value::Array(a) if a.len() == 2 => Ok((amount(key, &a[0])?, amount(key, &a[1])?)),
            Value::Array(_) => Err(format!("{key}: {v} is not a pair")),
            other => {
                let n = amount(key, other)?;
                Ok((n, n))
            }
        }
    };
    let per_axis: Vec<(i64, i64)> = match (v, spatial) {
        (Value::Array(a), 1) if a.len() == 2 => vec![(amount(key, &a[0])?, amount(key, &a[1])?)],
        (Value::Array(a), s) if s > 1 && a.len() == s => a.iter().map(pair).collect::<Result<_, _>>()?,
        (Value::Array(_), _) => return Err(format!("{key}={v} does not fit {spatial} spatial axes")),
        (other, s) => vec![pair(other)?; s],
    };
    Ok(per_axis.into_iter().unzip())
}

fn plan_with(c: &Cfg, key: &str, spatial: usize, default: i64, sign: i64) -> Result<LayerPlan, String> {
    c.channels_last()?;
    let (begin, end) = amounts(c, key, spatial, default)?;
    let flip = |v: Vec<i64>| v.into_iter().map(|n| sign * n).collect();
    Ok(LayerPlan::Pad(Plan { begin: flip(begin), end: flip(end) }))
}

pub(super) fn plan_zero_padding1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, "padding", 1, 1, 1)
}

pub(super) fn plan_zero_padding2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, "padding", 2, 1, 1)
}

pub(super) fn plan_cropping1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, "cropping", 1, 1, -1)
}

pub(super) fn plan_cropping2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    plan_with(c, "cropping", 2, 0, -1)
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let x = b.shape(inputs[0]);
    if x.rank() != p.begin.len() + 1 {
        return Err(
            b.layer_err(layer, format!("expects a {}-D input with channels, gets {x}", p.begin.len()))
        );
    }
    let pad = Layer::Pad(Pad { begin: p.begin.clone(), end: p.end.clone() });
    b.add(layer, layer.name.clone(), pad, inputs)
}
