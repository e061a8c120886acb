//! `Pad`, `UpSample` and `Transpose`: each output element is `cast(x[source])`, or `cast(0) = 0`
//! where it has no source (padding), the sources from the layer's element map in the IR
//! ([`sources`]). When the output type is the input's, the layer is wiring and builds no module
//! ([`crate::arch::rtl`]): the top rearranges the bus. Otherwise each element is cast and
//! registered ([`build`]).

use super::netlist::{Module, Val};
use super::pointwise::{finish, Exact};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::{Layer, LoweredGraph, NodeId};

/// The input element of each output element of node `id` (row-major), `None` for a zero.
pub fn sources(g: &LoweredGraph, id: NodeId) -> Result<Vec<Option<usize>>, BackendError> {
    let node = g.node(id);
    let x = g
        .inputs_of(id)
        .first()
        .map(|&i| g.node(i).shape.clone())
        .ok_or_else(|| BackendError::layer(&node.name, "has no input"))?;
    let map: Vec<Option<usize>> = match &node.layer {
        Layer::Pad(p) => p.source_indices(&x),
        Layer::UpSample(u) => u.source_indices(&x).into_iter().map(Some).collect(),
        Layer::Transpose(t) => t.source_indices(&x).into_iter().map(Some).collect(),
        Layer::Input(_)
        | Layer::Dense(_)
        | Layer::BatchNorm(_)
        | Layer::Activation(_)
        | Layer::Softmax(_)
        | Layer::Elementwise(_)
        | Layer::Quantize(_)
        | Layer::Conv(_)
        | Layer::Pool(_)
        | Layer::Reduce(_)
        | Layer::Reshape(_)
        | Layer::Concatenate(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => {
            return Err(BackendError::layer(
                &node.name,
                format!("{} layers do not move elements", node.layer.kind()),
            ))
        }
    };
    if map.len() != node.shape.elements() || map.iter().flatten().any(|&i| i >= x.elements()) {
        return Err(BackendError::layer(
            &node.name,
            "the element map does not fit the input and output shapes",
        ));
    }
    Ok(map)
}

/// Each output element cast from its source in `xs` (at `fx` fractional bits) and registered.
pub fn build(m: &mut Module, map: &[Option<usize>], xs: &[Val], fx: i64, out: &FixedType) -> Vec<Val> {
    map.iter()
        .map(|s| {
            let val = match s {
                Some(i) => xs[*i].clone(),
                None => m.constant(0),
            };
            finish(m, &Exact { val, frac: fx }, out)
        })
        .collect()
}
