//! Cost of [`ir::Layer::Pad`](crate::ir::Layer::Pad): zero padding and cropping move the values at compile-time indices (a zero where padded) (wiring),
//! so only the cast to the output type remains, per output element, as for [`super::quantize`].

use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::Shape;

pub(super) fn cost(x: &FixedType, out: &FixedType, out_shape: &Shape, cx: &Ctx) -> LayerCost {
    super::quantize::cost(x, out, out_shape, cx)
}
