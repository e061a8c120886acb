//! Cost of [`ir::Layer::Reshape`](crate::ir::Layer::Reshape): the arrays keep their order, so only
//! the cast to the output type remains, as for [`super::quantize`].

use super::{Ctx, LayerCost};
use crate::fixed::FixedType;
use crate::ir::Shape;

pub(super) fn cost(x: &FixedType, out: &FixedType, shape: &Shape, cx: &Ctx) -> LayerCost {
    super::quantize::cost(x, out, shape, cx)
}
