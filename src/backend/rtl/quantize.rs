//! `Quantize` as pointwise logic: `t = x`, then the cast to the model's type and a register.

use super::netlist::{Module, Val};
use super::pointwise::{finish, Exact};
use crate::fixed::FixedType;

pub fn build(m: &mut Module, xs: &[Val], fx: i64, out: &FixedType) -> Vec<Val> {
    xs.iter().map(|x| finish(m, &Exact { val: x.clone(), frac: fx }, out)).collect()
}
