//! `Concatenate` as pointwise logic: the output elements in concatenation order, each cast from
//! its input's type to the output type and registered. A concatenation of inputs that already
//! have the output type is wiring and builds no module ([`crate::arch::rtl`]): the top joins the
//! buses ([`order`]).

use super::netlist::{Module, Val};
use super::pointwise::{finish, Exact};
use crate::fixed::FixedType;
use crate::ir::{Concatenate, Shape};

/// For each output element, in order: which input and which of its elements it is.
pub fn order(c: &Concatenate, shapes: &[&Shape]) -> Vec<(usize, usize)> {
    let (outer, lens) = c.blocks(shapes);
    let mut out = Vec::new();
    for o in 0..outer {
        for (k, &len) in lens.iter().enumerate() {
            out.extend((0..len).map(|i| (k, o * len + i)));
        }
    }
    out
}

/// `xs[k]` are input `k`'s elements at `fx[k]` fractional bits.
pub fn build(
    m: &mut Module,
    c: &Concatenate,
    shapes: &[&Shape],
    xs: &[Vec<Val>],
    fx: &[i64],
    out: &FixedType,
) -> Vec<Val> {
    order(c, shapes)
        .into_iter()
        .map(|(k, e)| finish(m, &Exact { val: xs[k][e].clone(), frac: fx[k] }, out))
        .collect()
}
