//! `Pool`: max or average pooling over windows of the spatial axes, channel by channel
//! (channels-last input `[i_1, ..., i_s, c]`), with strides and padding per side. Global pooling
//! is a window as large as the input (the output keeps its rank, with extent 1 on every spatial
//! axis; frontends reshape it when the model drops those axes).
//!
//! The output is `[o_1, ..., o_s, c]` with `o_d = floor((i_d + pad_begin_d + pad_end_d - k_d) /
//! stride_d) + 1`. The window of output position `o` on axis `d` covers input positions
//! `o_d * stride_d - pad_begin_d + t_d`, `t_d < k_d`; only positions inside the input take part
//! (padding must be smaller than the window, so every window holds at least one).
//!
//! * `Max`: `y = cast(max of the window's values)`.
//! * `Average`: `s` = the exact sum of the window's values; `n` = the number of values summed, or
//!   the whole window `k_1 * ... * k_s` when `count_pad` (ONNX `count_include_pad=1`); `r_n` =
//!   `1 / n` rounded to the reciprocal type with ties upward (its raw value is
//!   `floor(2^F / n + 1/2)` for `F` fractional bits, see [`Pool::reciprocal_raw`]); `y = cast(s *
//!   r_n)`, the product exact. When `n` is a power of two no larger than `2^F`, `r_n` is exact and
//!   so is the average before the cast.

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, window_extent, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::FixedType;
use crate::ir::Shape;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolOp {
    Max,
    Average,
}

impl PoolOp {
    pub fn name(self) -> &'static str {
        match self {
            PoolOp::Max => "max",
            PoolOp::Average => "average",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub op: PoolOp,
    /// Window extent per spatial axis.
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub pads_begin: Vec<usize>,
    pub pads_end: Vec<usize>,
    /// Average pooling divides by the whole window, padding included.
    pub count_pad: bool,
    /// Average pooling: the type of the reciprocals `1 / n`; `None` until precision inference.
    pub reciprocal: Option<FixedType>,
}

impl Pool {
    /// A pooling window over the whole spatial extent `input` (global pooling).
    pub fn global(op: PoolOp, input: &[usize]) -> Pool {
        let s = input.len();
        Pool {
            op,
            kernel: input.to_vec(),
            strides: vec![1; s],
            pads_begin: vec![0; s],
            pads_end: vec![0; s],
            count_pad: false,
            reciprocal: None,
        }
    }

    pub fn spatial(&self) -> usize {
        self.kernel.len()
    }

    /// Values in a whole window.
    pub fn window(&self) -> usize {
        self.kernel.iter().product()
    }

    /// The output spatial extent for input spatial extent `input`.
    pub fn output_spatial(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let s = self.spatial();
        if input.len() != s {
            return Err(format!("a {s}-D pooling needs a {s}-D input (plus channels)"));
        }
        (0..s)
            .map(|d| {
                let pads = (self.pads_begin[d], self.pads_end[d]);
                window_extent(d, input[d], pads, self.kernel[d], 1, self.strides[d])
            })
            .collect()
    }

    /// The raw value of `1 / n` in `ty` (`F` fractional bits): `floor(2^F / n + 1/2)`, clamped to
    /// the type's largest raw value.
    pub fn reciprocal_raw(n: usize, ty: &FixedType) -> i128 {
        let f = ty.frac_bits();
        let n = n.max(1) as i128;
        if !(0..=120).contains(&f) {
            return 0;
        }
        let raw = ((1i128 << f) * 2 + n) / (2 * n);
        raw.min(ty.max_raw())
    }

    /// The default reciprocal type for a window of `window` values: `ap_ufixed<W, 1>` with 18
    /// significant bits for the smallest reciprocal (`F = 18 + ceil(log2 window)`).
    pub fn default_reciprocal(window: usize) -> FixedType {
        let grow = usize::BITS - window.saturating_sub(1).leading_zeros();
        FixedType::new(19 + grow, 1, false)
    }

    /// The exact type of a window's sum for input type `x`.
    pub fn sum_type(&self, x: &FixedType) -> FixedType {
        let grow = usize::BITS - self.window().saturating_sub(1).leading_zeros();
        FixedType::new(x.width + grow, x.integer + grow as i32, x.signed)
    }
}

impl LayerDef for Pool {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        let s = self.spatial();
        if !(1..=3).contains(&s) {
            return Err(format!("pools over 1 to 3 spatial axes, not {s}"));
        }
        for (what, v) in
            [("strides", &self.strides), ("pads_begin", &self.pads_begin), ("pads_end", &self.pads_end)]
        {
            if v.len() != s {
                return Err(format!("{what} has {} values for {s} spatial axes", v.len()));
            }
        }
        if self.strides.contains(&0) || self.kernel.contains(&0) {
            return Err("strides and window sizes must be at least 1".into());
        }
        if (0..s).any(|d| self.pads_begin[d] >= self.kernel[d] || self.pads_end[d] >= self.kernel[d]) {
            return Err("padding must be smaller than the window".into());
        }
        if x.rank() != s + 1 {
            return Err(format!("expects a {s}-D input with channels ([..., channels]), gets {x}"));
        }
        let mut dims = self.output_spatial(&x.dims()[..s])?;
        dims.push(x.channels());
        Ok(Shape::new(dims))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        let x = one_ty(inputs)?;
        match (role, self.op) {
            ("result", PoolOp::Max) => exact(x),
            ("result", PoolOp::Average) => {
                let r = self.reciprocal.ok_or_else(|| "reciprocal type is unknown".to_string())?;
                exact(self.sum_type(&x).exact_mul_type(&r))
            }
            ("reciprocal", PoolOp::Average) => exact(Pool::default_reciprocal(self.window())),
            (other, _) => Err(format!("has no {other} type")),
        }
    }

    fn held(&self) -> Held<'_> {
        let types = match self.op {
            PoolOp::Max => Vec::new(),
            PoolOp::Average => vec![("reciprocal", self.reciprocal)],
        };
        Held { types, ..Held::default() }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        let types = match self.op {
            PoolOp::Max => Vec::new(),
            PoolOp::Average => vec![("reciprocal", &mut self.reciprocal)],
        };
        HeldMut { types, ..HeldMut::default() }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocals_round_half_up() {
        let t = FixedType::new(8, 1, false);
        assert_eq!(Pool::reciprocal_raw(1, &t), 128);
        assert_eq!(
            Pool::reciprocal_raw(1, &FixedType::new(7, 0, false)),
            127,
            "1 clamps to the largest value"
        );
        assert_eq!(Pool::reciprocal_raw(2, &t), 64);
        assert_eq!(Pool::reciprocal_raw(3, &t), 43, "128 / 3 = 42.67");
        assert_eq!(Pool::reciprocal_raw(256, &t), 1, "0.5 rounds up");
        assert_eq!(Pool::default_reciprocal(9), FixedType::new(23, 1, false));
        assert_eq!(Pool::default_reciprocal(4), FixedType::new(21, 1, false));
    }
}
