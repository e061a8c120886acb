//! `lut-tables`: fills every lookup table from its function and types.
//!
//! Entry `k` stands for the inputs that the index cast maps to the index type's value `x_k`. With
//! a truncating index (`AP_TRN`) those inputs fill `[x_k, x_k + lsb)`, so the entry is the function
//! at the bin's midpoint; with `AP_TRN_ZERO` bins extend away from zero; with rounding modes
//! `x_k` is the bin's centre. The value is rounded into the table type with its own modes.
//! Each table holds the function its [`crate::ir::TableFn`] names (`1/0` gives the table type's maximum;
//! a softmax sum is never below 1).

use super::{Pass, PassContext, PassError, PassReport};
use crate::fixed::{self, QuantMode};
use crate::ir::{Graph, Table};

pub struct LutTables;

fn fill(t: &mut Table, layer: &str) -> Result<(), PassError> {
    let ix = t.index_ty;
    let lsb = 2f64.powi(-ix.frac_bits());
    let offset: i64 = if ix.signed { 1i64 << (ix.width - 1) } else { 0 };
    let mut values = Vec::with_capacity(t.len());
    for k in 0..t.len() as i64 {
        let x = (k - offset) as f64 * lsb;
        let centre = match ix.quant {
            QuantMode::Trn => x + lsb / 2.0,
            QuantMode::TrnZero if x > 0.0 => x + lsb / 2.0,
            QuantMode::TrnZero if x < 0.0 => x - lsb / 2.0,
            _ => x,
        };
        let y = t.function.eval(centre);
        let y = if y.is_finite() { y } else { f64::MAX };
        let c = fixed::from_f64(y, &t.ty)
            .map_err(|e| PassError::layer(layer, format!("table entry {k}: {e}")))?;
        values.push(fixed::to_f64(c.raw, t.ty.frac_bits()));
    }
    t.values = values;
    Ok(())
}

impl Pass for LutTables {
    fn name(&self) -> &'static str {
        "lut-tables"
    }

    fn description(&self) -> &'static str {
        "compute the contents of every lookup table from its function and types"
    }

    fn after(&self) -> &'static [&'static str] {
        &["quantize"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        for id in g.node_ids() {
            let node = g.node_mut(id);
            let name = node.name.clone();
            let tables = node.layer.tables_mut();
            report.changes += usize::from(!tables.is_empty());
            for (_, t) in tables {
                fill(t, &name)?;
            }
        }
        Ok(report)
    }
}
