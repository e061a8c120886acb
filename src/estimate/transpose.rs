//! Cost of [`ir::Layer::Transpose`](crate::ir::Layer::Transpose): the values move at compile-time indices (wiring),
//! so only the cast to the output type remains, per output element, as for [`super::quantize`].

use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::Shape;

pub(super) fn cost(x: &FixedType, out: &FixedType, out_shape: &Shape, cx: &Ctx) -> LayerCost {
    super::quantize::cost(x, out, out_shape, cx)
}
