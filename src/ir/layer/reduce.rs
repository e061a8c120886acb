//! `Reduce`: a reduction over some axes of the per-sample tensor (ONNX `ReduceSum`, `ReduceMean`,
//! `ReduceMax`, `ReduceMin`, `ReduceSumSquare`, `ReduceL1`, `ReduceL2`).
//!
//! Shapes: the input `[d_0, ..., d_{r-1}]`; `axes` (sorted, distinct, each `< r`) are reduced;
//! the output keeps every other axis in order and, with `keepdims`, each reduced axis with extent
//! 1 (a reduction of every axis without `keepdims` gives `[1]`: one value). `n` is the product
//! of the reduced extents.
//!
//! Arithmetic, per output position `o` (the kept coordinates), over its `n` input values `v_k` in
//! row-major order of the reduced coordinates, every sum exact (no rounding, no overflow):
//!
//! * `Sum`: `y = cast(Σ v_k)`;
//! * `SumSquare`: `y = cast(Σ v_k · v_k)`;
//! * `L1`: `y = cast(Σ |v_k|)`;
//! * `Mean`: `s = Σ v_k`; `r_n` = `1 / n` rounded to the reciprocal type with ties upward (its raw
//!   value is `floor(2^F / n + 1/2)` for `F` fractional bits, exactly as average pooling's,
//!   [`super::Pool::reciprocal_raw`]); `y = cast(s · r_n)`, the product exact;
//! * `Max`, `Min`: `y = cast(max_k v_k)`, `cast(min_k v_k)`;
//! * `L2`: `s = Σ v_k · v_k`; `y = cast(table[index(s)])` with the table holding `sqrt`
//!   (indexed as every [`Table`]: `s` cast to the table's index type).

use serde::{Deserialize, Serialize};

use super::{exact, one, one_ty, Arity, Held, HeldMut, LayerDef, Work};
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{Shape, Table, TableFn};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReduceOp {
    Sum,
    Mean,
    Max,
    Min,
    SumSquare,
    L1,
    L2,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::SumSquare => "sum_square",
            ReduceOp::L1 => "l1",
            ReduceOp::L2 => "l2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reduce {
    pub op: ReduceOp,
    /// Reduced axes of the per-sample shape, sorted and distinct.
    pub axes: Vec<usize>,
    pub keepdims: bool,
    /// `n`: values reduced into each output (the product of the reduced extents, checked
    /// against the input shape), which the exact types depend on.
    pub count: usize,
    /// `Mean`: the type of the reciprocal `1 / n`; `None` until precision inference.
    pub reciprocal: Option<FixedType>,
    /// `L2`: the square-root table.
    pub table: Option<Table>,
}

impl Reduce {
    /// A reduction `op` over `axes` of an input of shape `x`, with the defaults of its internal
    /// values (an L2's table: [`Reduce::sqrt_default`]).
    pub fn new(op: ReduceOp, axes: Vec<usize>, keepdims: bool, x: &Shape) -> Self {
        let table = (op == ReduceOp::L2).then(Reduce::sqrt_default);
        let count = axes.iter().filter_map(|&a| x.dims().get(a)).product();
        Reduce { op, axes, keepdims, count, reciprocal: None, table }
    }

    /// The square-root table of `L2`: 1024 entries over sums of squares in [0, 64), 18-bit
    /// unsigned entries in [0, 8).
    pub fn sqrt_default() -> Table {
        Table::new(
            TableFn::Sqrt,
            FixedType::new(10, 6, false).with_modes(QuantMode::Trn, OverflowMode::Sat),
            FixedType::new(18, 3, false).with_modes(QuantMode::Rnd, OverflowMode::Sat),
        )
    }

    /// The exact type of `Σ v_k` over `n` values of type `v`.
    pub fn sum_type(v: &FixedType, n: usize) -> FixedType {
        let grow = usize::BITS - n.saturating_sub(1).leading_zeros();
        FixedType::new(v.width + grow, v.integer + grow as i32, v.signed)
    }

    /// The exact type of `|v|` for `v` of type `x`.
    pub fn abs_type(x: &FixedType) -> FixedType {
        FixedType::new(x.width, x.integer, false)
    }

    /// The exact type of the sum the reduction forms for input type `x` (of the values
    /// themselves for `Max`/`Min`).
    pub fn accumulated_type(&self, x: &FixedType) -> FixedType {
        let n = self.count;
        match self.op {
            ReduceOp::Sum | ReduceOp::Mean => Reduce::sum_type(x, n),
            ReduceOp::L1 => Reduce::sum_type(&Reduce::abs_type(x), n),
            ReduceOp::SumSquare | ReduceOp::L2 => Reduce::sum_type(&x.exact_mul_type(x), n),
            ReduceOp::Max | ReduceOp::Min => *x,
        }
    }

    /// For input shape `x`: per output position (row-major over the kept axes), the flat indices
    /// of the input values it reduces, in row-major order of the reduced coordinates: the order
    /// of the contract, which every stage follows.
    pub fn sources(&self, x: &Shape) -> Vec<Vec<usize>> {
        let dims = x.dims();
        let mut strides = vec![1usize; dims.len()];
        for a in (0..dims.len().saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * dims[a + 1];
        }
        // Offsets of every combination of the picked axes' coordinates, row-major.
        let offsets = |pick: &dyn Fn(usize) -> bool| {
            let mut offs = vec![0usize];
            for (a, &d) in dims.iter().enumerate().filter(|&(a, _)| pick(a)) {
                let st = strides[a];
                offs = offs.iter().flat_map(|&o| (0..d).map(move |i| o + i * st)).collect();
            }
            offs
        };
        let reduced = offsets(&|a| self.axes.contains(&a));
        offsets(&|a| !self.axes.contains(&a))
            .into_iter()
            .map(|b| reduced.iter().map(|&r| b + r).collect())
            .collect()
    }

    /// The default reciprocal type for `n` values (as average pooling's).
    pub fn default_reciprocal(n: usize) -> FixedType {
        super::Pool::default_reciprocal(n)
    }
}

impl LayerDef for Reduce {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        if self.axes.is_empty() {
            return Err("reduces no axis".into());
        }
        if self.axes.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!("axes {:?} must be sorted and distinct", self.axes));
        }
        if let Some(&a) = self.axes.iter().find(|&&a| a >= x.rank()) {
            return Err(format!("axis {a} does not exist in a {x} input"));
        }
        let n: usize = self.axes.iter().map(|&a| x.dims()[a]).product();
        if n != self.count {
            return Err(format!("reduces {n} values of a {x} input, but its count says {}", self.count));
        }
        if (self.op == ReduceOp::L2) != self.table.is_some() {
            return Err("an L2 reduction, and only it, holds a square-root table".into());
        }
        let mut dims = Vec::with_capacity(x.rank());
        for (a, &d) in x.dims().iter().enumerate() {
            if !self.axes.contains(&a) {
                dims.push(d);
            } else if self.keepdims {
                dims.push(1);
            }
        }
        if dims.is_empty() {
            dims.push(1);
        }
        Ok(Shape::new(dims))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        let x = one_ty(inputs)?;
        match (role, self.op) {
            ("result", ReduceOp::Mean) => {
                let r = self.reciprocal.ok_or_else(|| "reciprocal type is unknown".to_string())?;
                exact(self.accumulated_type(&x).exact_mul_type(&r))
            }
            ("result", ReduceOp::L2) => {
                let t = self.table.as_ref().ok_or_else(|| "has no square-root table".to_string())?;
                exact(t.ty)
            }
            ("result", _) => exact(self.accumulated_type(&x)),
            ("reciprocal", ReduceOp::Mean) => exact(Reduce::default_reciprocal(self.count)),
            (other, _) => Err(format!("has no {other} type")),
        }
    }

    fn held(&self) -> Held<'_> {
        match self.op {
            ReduceOp::Mean => Held { types: vec![("reciprocal", self.reciprocal)], ..Held::default() },
            ReduceOp::L2 => {
                Held { tables: self.table.iter().map(|t| ("table", t)).collect(), ..Held::default() }
            }
            _ => Held::default(),
        }
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        match self.op {
            ReduceOp::Mean => {
                HeldMut { types: vec![("reciprocal", &mut self.reciprocal)], ..HeldMut::default() }
            }
            ReduceOp::L2 => HeldMut {
                tables: self.table.iter_mut().map(|t| ("table", t)).collect(),
                ..HeldMut::default()
            },
            _ => HeldMut::default(),
        }
    }

    fn work(&self, _: &[&Shape]) -> Work {
        Work::default()
    }
}
