//! The comparison table shared by `report` and `synth`: one row per quantity with the estimate,
//! the measured value and the relative error `(estimate - measured) / measured` in percent
//! (`n/a` when the measured value is zero; an empty estimate cell for a quantity we do not
//! predict). [`aligned`] lays out any such table.

use std::fmt::Write;

use crate::estimate::synth_report::ComparisonRow;

/// A quantity measured without a counterpart in the estimate.
pub(super) struct Extra {
    pub quantity: &'static str,
    pub stage: &'static str,
    pub value: f64,
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
    }
}

/// Renders `rows` and `extra` as an aligned text table.
pub(super) fn comparison(rows: &[ComparisonRow], extra: &[Extra]) -> String {
    let mut cells: Vec<Vec<String>> =
        vec![["quantity", "stage", "estimate", "measured", "rel. error"].map(str::to_string).to_vec()];
    for r in rows {
        let err = r.rel_error.map_or_else(|| "n/a".to_string(), |e| format!("{:+.1}%", 100.0 * e));
        cells.push(vec![r.quantity.into(), r.stage.into(), number(r.estimate), number(r.reference), err]);
    }
    for x in extra {
        cells.push(vec![x.quantity.into(), x.stage.into(), String::new(), number(x.value), String::new()]);
    }
    aligned(&cells, 2)
}

/// Renders `cells` (the first row the header) as an aligned text table: the first `left` columns
/// left-aligned, the others right-aligned, a rule under the header.
pub(super) fn aligned(cells: &[Vec<String>], left: usize) -> String {
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0usize; columns];
    for row in cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (i, row) in cells.iter().enumerate() {
        let mut line = String::new();
        for (j, (c, &w)) in row.iter().zip(&width).enumerate() {
            if j < left {
                let _ = write!(line, "{c:<w$}  ");
            } else {
                let _ = write!(line, "{c:>w$}  ");
            }
        }
        out += line.trim_end();
        out.push('\n');
        if i == 0 {
            out += &"-".repeat(width.iter().sum::<usize>() + 2 * columns.saturating_sub(1));
            out.push('\n');
        }
    }
    out
}
