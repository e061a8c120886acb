//! `Reshape` as pointwise logic: buses hold elements in row-major order, so `t = x`, then the cast
//! to the output type and a register. A reshape that keeps the type is wiring and builds no
//! module ([`crate::arch::rtl`]).

use super::netlist::{Module, Val};
use super::pointwise::{finish, Exact};
use crate::fixed::FixedType;

pub fn build(m: &mut Module, xs: &[Val], fx: i64, out: &FixedType) -> Vec<Val> {
    xs.iter().map(|x| finish(m, &Exact { val: x.clone(), frac: fx }, out)).collect()
}
