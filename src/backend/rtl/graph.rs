//! The graph layers, `GatherRows` and `ScatterAdd` (`ir::layer::gather_rows`,
//! `ir::layer::scatter_add`), whose row index is an integer input of the layer, known only at run
//! time.
//!
//! Each index element `i` is decoded once: it is in range when `0 <= i < n` (`n` the rows it can
//! name), and names row `r` when it is in range and its low `ceil(log2 n)` bits equal `r`.
//! * `GatherRows`: output row `k` is input row `index[k]`, a balanced tree of 2:1 selects on the
//!   index bits, then `0` if the index is out of range; each element cast and registered.
//! * `ScatterAdd`: output row `r` is the exact sum, over every input row `k`, of row `k` masked to
//!   `0` unless `index[k]` names `r`, in a balanced adder tree; each element cast and registered.
//!
//! In range, both are the IR's arithmetic exactly. The simulator refuses an out-of-range index
//! (naming the input and position) and the testbench feeds only inputs it accepted; the RTL gives
//! zeros for it (gathered rows of zeros, rows added to no sum), never a wrapped row.

use super::netlist::{Bit, Module, Val};
use super::pointwise::{finish, Exact};
use super::reduce;
use crate::backend::BackendError;
use crate::fixed::FixedType;

/// Bits of a row number below `n`.
fn select_bits(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

/// An index element decoded against `n` rows.
struct Index {
    in_range: Bit,
    bits: Vec<Bit>,
}

impl Index {
    fn new(m: &mut Module, i: &Val, n: usize) -> Index {
        let in_range = m.lt(i, 0).not().and(m.lt(i, n as i128));
        let bits = (0..select_bits(n)).map(|b| m.bit(i, b)).collect();
        Index { in_range, bits }
    }

    /// Whether the index names row `r`.
    fn names(&self, r: usize) -> Bit {
        self.bits.iter().enumerate().fold(self.in_range.clone(), |acc, (b, bit)| {
            acc.and(if (r >> b) & 1 == 1 { bit.clone() } else { bit.clone().not() })
        })
    }
}

/// A graph layer's operands: the data rows (at `fx` fractional bits), the index and the output
/// type.
pub struct Operands<'a> {
    pub x: &'a [Val],
    pub fx: i64,
    pub index: &'a [Val],
    pub out: &'a FixedType,
}

/// Which graph layer, with the number of rows its index can name.
pub enum Op {
    /// `GatherRows` from a tensor of `rows` rows.
    Gather { rows: usize },
    /// `ScatterAdd` into `rows` rows.
    Scatter { rows: usize },
}

/// Builds the layer `op` on `o`: its registered outputs.
pub fn build(m: &mut Module, layer: &str, op: Op, o: &Operands) -> Result<Vec<Val>, BackendError> {
    let data_rows = match op {
        Op::Gather { rows } => rows,
        Op::Scatter { .. } => o.index.len(),
    };
    if data_rows == 0 || !o.x.len().is_multiple_of(data_rows) || o.index.iter().any(|i| i.sh != 0) {
        return Err(BackendError::layer(layer, "the data, index and output shapes do not fit together"));
    }
    let d = o.x.len() / data_rows;
    match op {
        Op::Gather { rows } => Ok(gather_rows(m, o, rows, d)),
        Op::Scatter { rows } => scatter_add(m, layer, o, rows, d),
    }
}

/// `GatherRows` from `rows` rows of `d` elements.
fn gather_rows(m: &mut Module, o: &Operands, rows: usize, d: usize) -> Vec<Val> {
    let mut ys = Vec::with_capacity(o.index.len() * d);
    for i in o.index {
        let idx = Index::new(m, i, rows);
        let zero = m.constant(0);
        for j in 0..d {
            let mut level: Vec<Val> = (0..rows).map(|r| o.x[r * d + j].clone()).collect();
            for bit in &idx.bits {
                level = level
                    .chunks(2)
                    .map(|p| match p {
                        [a, b] => {
                            let (lo, hi) = union(a, b);
                            m.mux(bit, b, a, lo, hi)
                        }
                        _ => p[0].clone(),
                    })
                    .collect();
            }
            let picked = level.pop().unwrap_or_else(|| zero.clone());
            let (lo, hi) = union(&picked, &zero);
            let val = m.mux(&idx.in_range, &picked, &zero, lo, hi);
            ys.push(finish(m, &Exact { val, frac: o.fx }, o.out));
        }
    }
    ys
}

/// `ScatterAdd` of rows of `d` elements into `rows` rows.
fn scatter_add(
    m: &mut Module,
    layer: &str,
    o: &Operands,
    rows: usize,
    d: usize,
) -> Result<Vec<Val>, BackendError> {
    let decoded: Vec<Index> = o.index.iter().map(|i| Index::new(m, i, rows)).collect();
    let zero = m.constant(0);
    let mut ys = Vec::with_capacity(rows * d);
    for r in 0..rows {
        let hits: Vec<Bit> = decoded.iter().map(|idx| idx.names(r)).collect();
        for j in 0..d {
            let terms = hits
                .iter()
                .enumerate()
                .map(|(k, hit)| {
                    let (lo, hi) = union(&o.x[k * d + j], &zero);
                    m.mux(hit, &o.x[k * d + j], &zero, lo, hi)
                })
                .collect();
            let val = reduce::sum(m, layer, terms)?;
            ys.push(finish(m, &Exact { val, frac: o.fx }, o.out));
        }
    }
    Ok(ys)
}

/// The smallest range holding both values' ranges.
fn union(a: &Val, b: &Val) -> (i128, i128) {
    let ((a0, a1), (b0, b1)) = (a.range(), b.range());
    (a0.min(b0), a1.max(b1))
}
