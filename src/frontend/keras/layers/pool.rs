//! Pooling layers become `Layer::Pool` over the spatial axes of a channels-last tensor.
//!
//! * `MaxPooling1D/2D`, `AveragePooling1D/2D`: windows of `pool_size` moved by `strides` (Keras'
//!   default: the pool size), `padding` `valid` or `same` (TensorFlow's split, see
//!   [`Padding::pads`]). Padded positions take no part: a maximum ignores them and an average
//!   divides by the number of input positions in the window (`count_pad = false`), as Keras does.
//! * `GlobalMaxPooling1D/2D`, `GlobalAveragePooling1D/2D`: one window over the whole spatial
//!   extent. The IR keeps the rank (`[1, ..., 1, C]`); without `keepdims` (Keras' default drops
//!   the spatial axes) a `Reshape` to `[C]` follows, named `<layer>_reshape`.
//! * QKeras `QAveragePooling2D` / `QGlobalAveragePooling2D` with an `average_quantizer`: QKeras
//!   (`qpooling.py`) takes Keras' average, multiplies it back by the pool area `A` and then by
//!   `average_quantizer(1 / A)`, i.e. `sum * q(1 / A)` (exactly so in float32 when `A` is a power
//!   of two). The IR's reciprocal type becomes the quantizer's type, so that its `1 / A` is the
//!   quantized one; a quantizer whose `q(1 / A)` is not `1 / A` rounded in that type is refused, as
//!   is a window that `same` padding makes partial (QKeras would scale Keras' partial average by
//!   the full area). Their `activation` follows as its own node.

use super::activation::{qkeras_activation, Act};
use super::{Builder, Cfg, Padding, Plan as LayerPlan};
use crate::fixed::FixedType;
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::quantizers::Quantizer;
use crate::frontend::keras::KerasError;
use crate::ir::{Layer, NodeId, Pool, PoolOp, Reshape, Shape};

#[derive(Debug, Clone, PartialEq)]
enum Window {
    Sliding { size: Vec<usize>, strides: Vec<usize>, padding: Padding },
    Global { keepdims: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    op: PoolOp,
    spatial: usize,
    window: Window,
    /// QKeras' `average_quantizer`.
    average: Option<Quantizer>,
    act: Act,
}

fn sliding(c: &Cfg, op: PoolOp, spatial: usize) -> Result<Plan, String> {
    c.channels_last()?;
    let size = c.sizes("pool_size", spatial, Some(2))?;
    let strides = match c.get("strides") {
        None => size.clone(),
        Some(_) => c.sizes("strides", spatial, None)?,
    };
    let padding = Padding::read(c, false)?;
    Ok(Plan {
        op,
        spatial,
        window: Window::Sliding { size, strides, padding },
        average: None,
        act: Act::Linear,
    })
}

fn global(c: &Cfg, op: PoolOp, spatial: usize) -> Result<Plan, String> {
    c.channels_last()?;
    let keepdims = c.bool_or("keepdims", false)?;
    Ok(Plan { op, spatial, window: Window::Global { keepdims }, average: None, act: Act::Linear })
}

/// The QKeras parts: the average quantizer and the activation.
fn qkeras(c: &Cfg, generation: Generation, mut p: Plan) -> Result<LayerPlan, String> {
    p.average = c.quantizer("average_quantizer")?;
    p.act = qkeras_activation(c.get("activation"), generation)?;
    Ok(LayerPlan::Pool(p))
}

pub(super) fn plan_max1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    sliding(c, PoolOp::Max, 1).map(LayerPlan::Pool)
}

pub(super) fn plan_max2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    sliding(c, PoolOp::Max, 2).map(LayerPlan::Pool)
}

pub(super) fn plan_average1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    sliding(c, PoolOp::Average, 1).map(LayerPlan::Pool)
}

pub(super) fn plan_average2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    sliding(c, PoolOp::Average, 2).map(LayerPlan::Pool)
}

pub(super) fn plan_global_max1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    global(c, PoolOp::Max, 1).map(LayerPlan::Pool)
}

pub(super) fn plan_global_max2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    global(c, PoolOp::Max, 2).map(LayerPlan::Pool)
}

pub(super) fn plan_global_average1d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    global(c, PoolOp::Average, 1).map(LayerPlan::Pool)
}

pub(super) fn plan_global_average2d(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    global(c, PoolOp::Average, 2).map(LayerPlan::Pool)
}

pub(super) fn plan_qaverage2d(c: &Cfg, generation: Generation) -> Result<LayerPlan, String> {
    qkeras(c, generation, sliding(c, PoolOp::Average, 2)?)
}

pub(super) fn plan_qglobal_average2d(c: &Cfg, generation: Generation) -> Result<LayerPlan, String> {
    qkeras(c, generation, global(c, PoolOp::Average, 2)?)
}

/// The reciprocal type that gives `q(1 / area)`, QKeras' quantized `1 / area`.
fn quantized_reciprocal(
    b: &Builder,
    layer: &LayerSpec,
    q: &Quantizer,
    area: usize,
) -> Result<FixedType, KerasError> {
    let r = q.quantize(&[1.0 / area as f64], &[]).map_err(|e| b.quant_err(layer, e))?;
    let (value, ty) = (r.values[0], r.ty);
    let ours = Pool::reciprocal_raw(area, &ty) as f64 * 2f64.powi(-ty.frac_bits());
    if ours != value {
        return Err(b.quant_err(
            layer,
            format!(
                "average_quantizer {} gives 1/{area} = {value}, not 1/{area} rounded to {ty} ({ours}); \
                 such a reciprocal is not supported",
                q.text
            ),
        ));
    }
    Ok(ty)
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let x = b.shape(inputs[0]);
    if x.rank() != p.spatial + 1 {
        return Err(b.layer_err(layer, format!("expects a {}-D input with channels, gets {x}", p.spatial)));
    }
    let extent = &x.dims()[..p.spatial];
    let mut pool = match &p.window {
        Window::Sliding { size, strides, padding } => {
            let (pads_begin, pads_end) = padding.pads(extent, size, strides);
            Pool {
                op: p.op,
                kernel: size.clone(),
                strides: strides.clone(),
                pads_begin,
                pads_end,
                count_pad: false,
                reciprocal: None,
            }
        }
        Window::Global { .. } => Pool::global(p.op, extent),
    };
    if let Some(q) = &p.average {
        if pool.pads_begin.iter().chain(&pool.pads_end).any(|&n| n > 0) {
            return Err(b.layer_err(
                layer,
                "an average_quantizer with 'same' padding that pads the input is not supported \
                 (QKeras scales the partial windows' average by the full pool area)",
            ));
        }
        pool.reciprocal = Some(quantized_reciprocal(b, layer, q, pool.window())?);
    }
    let mut id = b.add(layer, layer.name.clone(), Layer::Pool(pool), inputs)?;
    if let Window::Global { keepdims: false } = p.window {
        let name = b.fresh(&format!("{}_reshape", layer.name));
        let flat = Layer::Reshape(Reshape::new(Shape::new([x.channels()])));
        id = b.add(layer, name, flat, &[id])?;
    }
    b.then_activation(layer, &p.act, id)
}
