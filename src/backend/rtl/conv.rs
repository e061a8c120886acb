//! `Conv` (1-D, 2-D, 3-D, grouped and depthwise) fully parallel: every output position of every
//! group is a constant matrix times its window, built by the `Dense` builder
//! ([`dense::build_matrix`]). The window of output position `o` is the input positions of its taps
//! ([`Window`], the geometry of `ir::Conv`) in the contract's order, tap major, then the group's
//! channels; taps in the padding read zeros and add nothing, so their rows are left out of the
//! matrix. The layer takes as many cycles as `Dense` does: every position gets the same stage count
//! (see [`super::pipe`]).

use super::dense::{self, ConstMatrix};
use super::netlist::{Module, Val};
use super::pipe::{Pipe, Record};
use super::pointwise::raws;
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::window::{Window, PAD};
use crate::ir::{Conv, Shape};

/// Builds every output element of `conv` on input `x` (shape `shape`, fractional bits `fx`), in
/// row-major order.
#[allow(clippy::too_many_arguments)]
pub fn build(
    m: &mut Module,
    layer: &str,
    conv: &Conv,
    shape: &Shape,
    out_shape: &Shape,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
    pipe: &Pipe,
    rec: &mut Record,
) -> Result<Vec<Val>, BackendError> {
    let misfit = || BackendError::layer(layer, "the input, weights and output shapes do not fit together");
    let window = Window::of_conv(conv, shape, out_shape).ok_or_else(misfit)?;
    if xs.len() != shape.elements() {
        return Err(misfit());
    }
    let table = window.table().ok_or_else(misfit)?;
    let (taps, positions) = (window.taps(), window.positions());
    let (c_in, c_g, filters, groups) = (shape.channels(), conv.group_channels(), conv.filters(), conv.groups);
    if groups == 0 || filters % groups != 0 || c_in != c_g * groups || out_shape.channels() != filters {
        return Err(misfit());
    }
    let f_g = filters / groups;
    let (w, fw) = raws(layer, "weights", &conv.weights)?;
    let (b, fb) = raws(layer, "bias", &conv.bias)?;
    if w.len() != taps * c_g * filters || b.len() != filters {
        return Err(misfit());
    }
    let accum = conv.accum.ok_or_else(|| BackendError::layer(layer, "the accumulator type is unknown"))?;
    let mut ys = Vec::with_capacity(positions * filters);
    for pos in 0..positions {
        let window = &table[pos * taps..(pos + 1) * taps];
        for g in 0..groups {
            let cols = g * f_g..(g + 1) * f_g;
            let mut inputs = Vec::with_capacity(taps * c_g);
            let mut weights = Vec::with_capacity(taps * c_g * f_g);
            for (t, &i) in window.iter().enumerate() {
                if i == PAD {
                    continue;
                }
                for c in 0..c_g {
                    inputs.push(xs[i as usize * c_in + g * c_g + c].clone());
                    let row = (t * c_g + c) * filters;
                    weights.extend_from_slice(&w[row + cols.start..row + cols.end]);
                }
            }
            let matrix = ConstMatrix { layer, weights: &weights, fw, bias: &b[cols], fb, accum };
            ys.extend(dense::build_matrix(m, &matrix, &inputs, fx, out, pipe, rec)?);
        }
    }
    Ok(ys)
}
