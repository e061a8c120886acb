//! Test vectors every backend writes into its project: `tb_data/inputs.txt` and
//! `tb_data/expected.txt`, one sample per line, values separated by single spaces, each the exact
//! decimal value of its fixed-point number. An input line holds every input port's values in
//! port order; an expected line every output port's.

use rayon::prelude::*;

use super::top::TopInterface;
use super::{BackendError, Project};
use crate::fixed::FixedType;

/// Test vectors: exact decimal strings, one `Vec` per sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestbenchData {
    /// Every model input of the sample, concatenated in input order.
    pub inputs: Vec<Vec<String>>,
    /// Every graph output of the sample, concatenated in output order.
    pub expected: Vec<Vec<String>>,
}

/// The rows as one text, a line per sample, each value re-written in canonical form; rows are
/// formatted in parallel, and the first bad value (in sample order) gives the error.
fn canonical_rows(what: &str, rows: &[Vec<String>], types: &[FixedType]) -> Result<String, BackendError> {
    let line = |(s, row): (usize, &Vec<String>)| -> Result<String, BackendError> {
        if row.len() != types.len() {
            return Err(BackendError::Testbench(format!(
                "sample {s}: {} {what} values, the graph has {}",
                row.len(),
                types.len()
            )));
        }
        let mut l = String::with_capacity(12 * row.len() + 1);
        for (i, (text, ty)) in row.iter().zip(types).enumerate() {
            let raw = crate::fixed::parse_decimal(text, ty)
                .map_err(|e| BackendError::Testbench(format!("sample {s}, {what} value {i}: {e}")))?;
            if i > 0 {
                l.push(' ');
            }
            crate::fixed::write_decimal(&mut l, raw, ty.frac_bits());
        }
        l.push('\n');
        Ok(l)
    };
    let lines: Vec<Result<String, BackendError>> = rows.par_iter().enumerate().map(line).collect();
    let mut text = String::with_capacity(lines.iter().map(|l| l.as_ref().map_or(0, String::len)).sum());
    for l in lines {
        text.push_str(&l?);
    }
    Ok(text)
}

/// Adds `tb_data/inputs.txt` and `tb_data/expected.txt` in canonical exact decimal text, checking
/// that every value is exact in its port type.
pub(crate) fn add_tb_data(
    project: &mut Project,
    top: &TopInterface,
    tb: &TestbenchData,
) -> Result<(), BackendError> {
    if tb.inputs.len() != tb.expected.len() {
        return Err(BackendError::Testbench(format!(
            "{} input samples but {} expected samples",
            tb.inputs.len(),
            tb.expected.len()
        )));
    }
    let types = |ports: &[super::top::TopPort]| -> Vec<FixedType> {
        ports.iter().flat_map(|p| std::iter::repeat_n(p.ty, p.elements)).collect()
    };
    let (in_types, out_types) = (types(&top.inputs), types(&top.outputs));
    project.add("tb_data/inputs.txt", canonical_rows("input", &tb.inputs, &in_types)?)?;
    project.add("tb_data/expected.txt", canonical_rows("expected", &tb.expected, &out_types)?)?;
    Ok(())
}
