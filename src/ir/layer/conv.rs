//! `Conv`: an N-D convolution (1-D `[width, channels]`, 2-D `[height, width, channels]` inputs,
//! channels-last) with strides, dilations, zero padding per side, grouping and a bias.
//!
//! Shapes: the input is `[i_1, ..., i_s, c_in]`, the weights `[k_1, ..., k_s, c_in / groups,
//! filters]` (spatial kernel axes, then the input channels of one group, then the filters; Keras'
//! layout), the bias `[filters]`, the output `[o_1, ..., o_s, filters]` with
//! `o_d = floor((i_d + pad_begin_d + pad_end_d - dilation_d * (k_d - 1) - 1) / stride_d) + 1`.
//! Filter `f` belongs to group `g = f / (filters / groups)` and reads input channels
//! `g * c_g .. (g + 1) * c_g` (`c_g = c_in / groups`). A depthwise convolution is
//! `groups = c_in` (`filters = c_in * depth_multiplier`, filter `f` reading channel
//! `f / depth_multiplier`); a separable convolution is a depthwise one then a 1x1 one.
//!
//! Arithmetic, per output position `o` and filter `f`: `acc = cast_acc(b_f)`; then for each kernel
//! position `t` in row-major order over `(t_1, ..., t_s)`, and within it each channel `c` of the
//! group in increasing order, the input position `p_d = o_d * stride_d + t_d * dilation_d -
//! pad_begin_d`; when every `p_d` lies inside the input, `acc = cast_acc(acc + x[p, g * c_g + c] *
//! w[t, c, f])`; a position in the padding holds zero, whose product adds nothing (`acc` is already
//! an accumulator value). `y[o, f] = cast(acc)`. With an exact accumulator ([`Conv::exact_accum`],
//! the default) the order does not matter.
//!
//! Each output position is a dot product of the `k_1 * ... * k_s * c_g` window inputs with a
//! filter's weights, so a reuse factor `R` (dividing that window size) time-shares the window's
//! products exactly as for `Dense` (see `dense.rs`: the same order-free condition applies).

use serde::{Deserialize, Serialize};

use super::{
    const_ty, dot, exact_dot_accumulator, one, one_ty, order_free_accumulator, window_extent, Arity, Held,
    HeldMut, LayerDef, ReuseDomain, Work,
};
use crate::fixed::FixedType;
use crate::ir::{Shape, Weights};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conv {
    /// Shape `[k_1, ..., k_s, c_in / groups, filters]`.
    pub weights: Weights,
    /// Shape `[filters]` (zeros for a convolution without bias).
    pub bias: Weights,
    /// Per spatial axis, at least 1.
    pub strides: Vec<usize>,
    /// Per spatial axis, at least 1.
    pub dilations: Vec<usize>,
    /// Zero padding before each spatial axis.
    pub pads_begin: Vec<usize>,
    /// Zero padding after each spatial axis.
    pub pads_end: Vec<usize>,
    pub groups: usize,
    /// Accumulator type; `None` until precision inference makes it exact or the config sets it.
    pub accum: Option<FixedType>,
}

impl Conv {
    /// Number of spatial axes.
    pub fn spatial(&self) -> usize {
        self.weights.shape.rank().saturating_sub(2)
    }

    /// The kernel's spatial extent.
    pub fn kernel(&self) -> &[usize] {
        let d = self.weights.shape.dims();
        &d[..self.spatial()]
    }

    /// Input channels per group.
    pub fn group_channels(&self) -> usize {
        self.weights.shape.dims().get(self.spatial()).copied().unwrap_or(0)
    }

    pub fn filters(&self) -> usize {
        self.weights.shape.dims().get(self.spatial() + 1).copied().unwrap_or(0)
    }

    /// Inputs of one output's dot product: `k_1 * ... * k_s * c_in / groups`.
    pub fn window(&self) -> usize {
        self.kernel().iter().product::<usize>() * self.group_channels()
    }

    /// The weight of kernel position `t` (flat, row-major), group channel `c` and filter `f`.
    pub fn weight(&self, t: usize, c: usize, f: usize) -> f64 {
        self.weights.values[(t * self.group_channels() + c) * self.filters() + f]
    }

    /// The output spatial extent for input spatial extent `input`.
    pub fn output_spatial(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let s = self.spatial();
        if input.len() != s {
            return Err(format!("a {s}-D convolution needs a {s}-D input (plus channels)"));
        }
        (0..s)
            .map(|d| {
                let pads = (self.pads_begin[d], self.pads_end[d]);
                window_extent(d, input[d], pads, self.kernel()[d], self.dilations[d], self.strides[d])
            })
            .collect()
    }

    /// The exact accumulator for input type `x`: the fraction of the products (and the bias), and
    /// a range covering the largest partial sum of any filter's window, in any order.
    pub fn exact_accum(&self, x: &FixedType) -> Result<FixedType, String> {
        let wt = const_ty("weights", &self.weights)?;
        let bt = const_ty("bias", &self.bias)?;
        let taps = self.kernel().iter().product::<usize>();
        let cg = self.group_channels();
        let outputs = (0..self.filters()).map(|f| {
            let window = (0..taps).flat_map(move |t| (0..cg).map(move |c| self.weight(t, c, f)));
            (self.bias.values.get(f).copied().unwrap_or(0.0), window)
        });
        exact_dot_accumulator(x, wt, bt, outputs)
    }

    /// Whether the window's accumulation gives the same bits in every order
    /// ([`order_free_accumulator`](super::order_free_accumulator)).
    pub fn order_free(&self, x: &FixedType) -> Result<bool, String> {
        order_free_accumulator(self.accum, || self.exact_accum(x))
    }
}

impl LayerDef for Conv {
    fn arity(&self) -> Arity {
        Arity::Exactly(1)
    }

    fn output_shape(&self, inputs: &[&Shape]) -> Result<Shape, String> {
        let x = one(inputs)?;
        let s = self.spatial();
        if !(1..=3).contains(&s) {
            return Err(format!(
                "weights must be [kernel..., channels, filters] with 1 to 3 spatial axes, are {}",
                self.weights.shape
            ));
        }
        for (what, v) in [
            ("strides", &self.strides),
            ("dilations", &self.dilations),
            ("pads_begin", &self.pads_begin),
            ("pads_end", &self.pads_end),
        ] {
            if v.len() != s {
                return Err(format!("{what} has {} values for {s} spatial axes", v.len()));
            }
        }
        if self.strides.contains(&0) || self.dilations.contains(&0) || self.kernel().contains(&0) {
            return Err("strides, dilations and kernel sizes must be at least 1".into());
        }
        let (filters, cg) = (self.filters(), self.group_channels());
        if self.groups == 0 || filters == 0 || cg == 0 || filters % self.groups != 0 {
            return Err(format!("{filters} filters do not split into {} groups", self.groups));
        }
        if self.bias.shape.dims() != [filters] {
            return Err(format!("bias shape {} does not match {filters} filters", self.bias.shape));
        }
        if x.rank() != s + 1 {
            return Err(format!("expects a {s}-D input with channels ([..., channels]), gets {x}"));
        }
        if x.channels() != cg * self.groups {
            return Err(format!(
                "expects {} input channels ({} groups of {cg}), gets {}",
                cg * self.groups,
                self.groups,
                x.channels()
            ));
        }
        let mut dims = self.output_spatial(&x.dims()[..s])?;
        dims.push(filters);
        Ok(Shape::new(dims))
    }

    fn exact_type(&self, role: &str, inputs: &[FixedType]) -> Result<FixedType, String> {
        let x = one_ty(inputs)?;
        dot::exact_type(role, self.accum, || self.exact_accum(&x))
    }

    fn held(&self) -> Held<'_> {
        dot::held(&self.weights, &self.bias, self.accum)
    }

    fn held_mut(&mut self) -> HeldMut<'_> {
        dot::held_mut(&mut self.weights, &mut self.bias, &mut self.accum)
    }

    fn work(&self, inputs: &[&Shape]) -> Work {
        let positions = inputs
            .first()
            .and_then(|x| self.output_spatial(&x.dims()[..x.rank().saturating_sub(1)]).ok())
            .map_or(0, |o| o.iter().product::<usize>());
        Work {
            macs: positions * (self.weights.values.len() - self.weights.zeros()),
            reuse_domain: Some(ReuseDomain { count: self.window(), unit: "window inputs" }),
        }
    }
}
