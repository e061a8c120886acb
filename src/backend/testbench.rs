//! Test vectors every backend writes into its project: `tb_data/inputs.txt` and
//! `tb_data/expected.txt`, one sample per line, values separated by single spaces, each the exact
//! decimal value of its fixed-point number. An input line holds every input port's values in
//! port order; an expected line every output port's.
//!
//! Vectors come as text (any caller) or as raw values of the port types
//! ([`TestbenchData::from_raw`], what `flow` builds from the simulator): raws are written straight
//! into the file's text by the decimal writer, text is parsed and rewritten in canonical form; the
//! same values give the same bytes either way.

use rayon::prelude::*;

use super::top::TopInterface;
use super::{BackendError, Project};
use crate::fixed::FixedType;

/// Test vectors: exact decimal strings, one `Vec` per sample, or raw values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestbenchData {
    /// Every model input of the sample, concatenated in input order (empty for vectors built with
    /// [`TestbenchData::from_raw`], which hold raws).
    pub inputs: Vec<Vec<String>>,
    /// Every graph output of the sample, concatenated in output order (empty likewise).
    pub expected: Vec<Vec<String>>,
    raw: Option<RawVectors>,
}

/// Row-major raw values with the type of each value of a row.
#[derive(Debug, Clone, PartialEq)]
struct RawVectors {
    samples: usize,
    in_types: Vec<FixedType>,
    inputs: Vec<i128>,
    out_types: Vec<FixedType>,
    expected: Vec<i128>,
}

impl TestbenchData {
    /// Vectors of `samples` samples as raw values: `inputs` holds `samples` rows of one raw per
    /// entry of `in_types` (the value's type), `expected` rows of `out_types`' values.
    pub fn from_raw(
        samples: usize,
        in_types: Vec<FixedType>,
        inputs: Vec<i128>,
        out_types: Vec<FixedType>,
        expected: Vec<i128>,
    ) -> Result<TestbenchData, BackendError> {
        if inputs.len() != samples * in_types.len() || expected.len() != samples * out_types.len() {
            return Err(BackendError::Testbench(format!(
                "{} input and {} expected values do not make {samples} samples of {} and {} values",
                inputs.len(),
                expected.len(),
                in_types.len(),
                out_types.len()
            )));
        }
        Ok(TestbenchData {
            inputs: Vec::new(),
            expected: Vec::new(),
            raw: Some(RawVectors { samples, in_types, inputs, out_types, expected }),
        })
    }

    /// The number of samples.
    pub fn samples(&self) -> usize {
        self.raw.as_ref().map_or(self.inputs.len(), |r| r.samples)
    }
}

/// Samples a task formats at once.
const ROWS_PER_TASK: usize = 64;

/// `n` rows of raw `values` (`types.len()` a row, each of its entry's type) as one text, a line
/// per row; rows are formatted in parallel.
fn raw_rows(n: usize, values: &[i128], types: &[FixedType]) -> String {
    if types.is_empty() {
        return "\n".repeat(n);
    }
    let chunks: Vec<String> = values
        .par_chunks(ROWS_PER_TASK * types.len())
        .map(|rows| {
            let mut text = String::with_capacity(rows.len() * 10);
            for row in rows.chunks_exact(types.len()) {
                for (i, (&raw, ty)) in row.iter().zip(types).enumerate() {
                    if i > 0 {
                        text.push(' ');
                    }
                    crate::fixed::write_decimal(&mut text, raw, ty.frac_bits());
                }
                text.push('\n');
            }
            text
        })
        .collect();
    chunks.concat()
}

/// Raw `values` rows as text rows, for ports whose types differ from the raws' (the canonical
/// rewrite then checks that each value is exact in its port's type).
fn text_rows(values: &[i128], types: &[FixedType], n: usize) -> Vec<Vec<String>> {
    if types.is_empty() {
        return vec![Vec::new(); n];
    }
    values
        .chunks_exact(types.len())
        .map(|row| {
            row.iter().zip(types).map(|(&r, ty)| crate::fixed::to_decimal(r, ty.frac_bits())).collect()
        })
        .collect()
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
    let n = tb.samples();
    let (inputs, expected) = match &tb.raw {
        None => (
            canonical_rows("input", &tb.inputs, &in_types)?,
            canonical_rows("expected", &tb.expected, &out_types)?,
        ),
        Some(r) if r.in_types == in_types && r.out_types == out_types => {
            (raw_rows(n, &r.inputs, &in_types), raw_rows(n, &r.expected, &out_types))
        }
        Some(r) => (
            canonical_rows("input", &text_rows(&r.inputs, &r.in_types, n), &in_types)?,
            canonical_rows("expected", &text_rows(&r.expected, &r.out_types, n), &out_types)?,
        ),
    };
    project.add("tb_data/inputs.txt", inputs)?;
    project.add("tb_data/expected.txt", expected)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raws written straight to text give the bytes of their decimal strings rewritten in
    /// canonical form, for types of every width and binary point.
    #[test]
    fn raw_rows_equal_the_canonical_text() {
        let mut next = crate::test_rng::below(0x9e37_79b9_7f4a_7c15u64);
        for case in 0..200 {
            let types: Vec<FixedType> = (0..1 + next(6))
                .map(|_| {
                    let width = 1 + next(64) as u32;
                    FixedType::new(
                        width,
                        next(2 * u64::from(width) + 40) as i32 - 20 - width as i32 / 2,
                        next(2) == 0,
                    )
                })
                .collect();
            let n = next(70) as usize;
            let raws: Vec<i128> = (0..n * types.len())
                .map(|k| {
                    let ty = &types[k % types.len()];
                    // Every raw of the type: [-2^(w-1), 2^(w-1)) signed, [0, 2^w) unsigned.
                    let count = 1i128 << ty.width;
                    let lo = if ty.signed { -(count / 2) } else { 0 };
                    lo + i128::from(next(u64::MAX)) % count
                })
                .collect();
            let text = canonical_rows("input", &text_rows(&raws, &types, n), &types).unwrap();
            assert_eq!(raw_rows(n, &raws, &types), text, "case {case}: {types:?}");
        }
        assert_eq!(raw_rows(3, &[], &[]), canonical_rows("input", &vec![Vec::new(); 3], &[]).unwrap());
    }
}
