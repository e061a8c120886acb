//! `Softmax` over the last axis, the five table-based steps of `ir::Softmax` (the simulator's
//! and the HLS library's arithmetic), per row of the last axis:
//!
//! 1. `m` = a tree of exact selections over the row; `d_i = m - x_i`, exact and non-negative;
//! 2. `e_i` = the exp table at `d_i` cast to the table's index type (ROM `lut_exp`, entries of
//!    the table's own type);
//! 3. `s` = the exact sum of the `e_i` in a balanced adder tree;
//! 4. `r` = the reciprocal table at `s` cast to its index type (ROM `lut_inv`);
//! 5. `y_i = cast(e_i * r)`: an exact product of two signals, the output cast and a register.
//!
//! All of it is one combinational stage before the register: one cycle ([`crate::arch::rtl`]).

use super::activation::{lookup, rom};
use super::elementwise::product;
use super::netlist::{Module, Val};
use super::pointwise::{finish, Exact};
use super::reduce::{extreme, sum};
use crate::backend::BackendError;
use crate::fixed::FixedType;
use crate::ir::Softmax;

/// Builds every output element of a softmax over rows of `row` elements of `xs` (at `fx`
/// fractional bits).
pub fn build(
    m: &mut Module,
    layer: &str,
    sm: &Softmax,
    row: usize,
    xs: &[Val],
    fx: i64,
    out: &FixedType,
) -> Result<Vec<Val>, BackendError> {
    if row == 0 || !xs.len().is_multiple_of(row) {
        return Err(BackendError::layer(layer, "input size is not a whole number of rows"));
    }
    let (exp, inv) = (&sm.exp_table, &sm.inv_table);
    let exp_rom = rom(m, layer, "lut_exp", exp, &exp.ty)?;
    let inv_rom = rom(m, layer, "lut_inv", inv, &inv.ty)?;
    let (fe, fr) = (i64::from(exp.ty.frac_bits()), i64::from(inv.ty.frac_bits()));
    let mut ys = Vec::with_capacity(xs.len());
    for values in xs.chunks(row) {
        let top = extreme(m, values.to_vec(), false)
            .ok_or_else(|| BackendError::layer(layer, "has an empty row"))?;
        let lo = values.iter().map(|v| v.range().0).min().unwrap_or(0);
        let hi = values.iter().map(|v| v.range().1).max().unwrap_or(0);
        let es: Vec<Val> = values
            .iter()
            .map(|x| {
                let unit = top.sh.min(x.sh);
                let d = m.add(&top, x, true, Some((0, (hi - lo) >> unit)));
                lookup(m, &exp_rom, exp, &d, fx, &exp.ty)
            })
            .collect();
        let s = sum(m, layer, es.clone())?;
        let r = lookup(m, &inv_rom, inv, &s, fe, &inv.ty);
        for e in &es {
            let p = product(m, layer, e, &r, None)?;
            ys.push(finish(m, &Exact { val: p, frac: fe + fr }, out));
        }
    }
    Ok(ys)
}
