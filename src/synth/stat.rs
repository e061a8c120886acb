//! Parses the output of Yosys `stat -json` (Yosys 0.10 and later; checked with 0.23) into the
//! Xilinx primitive counts that [`Utilization`] reports.
//!
//! The input is the text `tee -o FILE stat -json` writes: a JSON object whose `design` member
//! holds `num_cells_by_type` for the whole (flattened) design; without `design`, a single entry
//! of `modules` is used. Text before the first `{` is ignored. Cell types are counted as:
//!
//! | field | cells |
//! |---|---|
//! | `lut` | `LUT1` .. `LUT6`, `LUT6_2` |
//! | `ff` | `FD*` (`FDRE`, `FDSE`, `FDCE`, `FDPE`, ...) |
//! | `dsp` | `DSP48*`, `DSP58` |
//! | `carry` | `CARRY4`, `CARRY8` |
//! | `bram18` | `RAMB18*` count 1, `RAMB36*` count 2 |
//! | `uram` | `URAM288*` |
//! | `srl` | `SRL16E`, `SRLC32E`, ... (`SRL*`) |
//! | `lutram` | `RAM32X1D`, `RAM64M`, ... (`RAM` followed by a digit) |
//! | `muxf` | `MUXF7`, `MUXF8`, `MUXF9` |
//!
//! Every cell type is also kept by name in `cells`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Primitive counts of one synthesized design.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub lut: u64,
    pub ff: u64,
    pub dsp: u64,
    pub carry: u64,
    pub bram18: u64,
    pub uram: u64,
    pub srl: u64,
    pub lutram: u64,
    pub muxf: u64,
    /// Every cell type with its count.
    pub cells: BTreeMap<String, u64>,
}

/// What a `stat -json` output says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// The `creator` line, e.g. `Yosys 0.23 (git sha1 7ce5011c24b)`.
    pub creator: Option<String>,
    pub counts: Counts,
}

fn is_lut(t: &str) -> bool {
    t.strip_prefix("LUT").is_some_and(|n| matches!(n, "1" | "2" | "3" | "4" | "5" | "6" | "6_2"))
}

/// Parses `stat -json` output; the error says what is missing.
pub fn parse(text: &str) -> Result<Stat, String> {
    let start = text.find('{').ok_or("no JSON object in the stat output")?;
    let v: serde_json::Value =
        serde_json::from_str(&text[start..]).map_err(|e| format!("not valid stat JSON: {e}"))?;
    let design = match v.get("design") {
        Some(d) => d,
        None => {
            let modules =
                v.get("modules").and_then(|m| m.as_object()).ok_or("no 'design' or 'modules' member")?;
            match modules.values().collect::<Vec<_>>().as_slice() {
                [one] => *one,
                m => return Err(format!("no 'design' member and {} modules; expected one", m.len())),
            }
        }
    };
    let by_type =
        design.get("num_cells_by_type").and_then(|c| c.as_object()).ok_or("no 'num_cells_by_type' member")?;
    let mut counts = Counts::default();
    for (name, n) in by_type {
        let n = n.as_u64().ok_or_else(|| format!("cell count of '{name}' is not a non-negative integer"))?;
        let t = name.trim_start_matches('\\');
        let slot = if is_lut(t) {
            Some(&mut counts.lut)
        } else if t.starts_with("FD") {
            Some(&mut counts.ff)
        } else if t.starts_with("DSP48") || t == "DSP58" {
            Some(&mut counts.dsp)
        } else if t == "CARRY4" || t == "CARRY8" {
            Some(&mut counts.carry)
        } else if t.starts_with("URAM288") {
            Some(&mut counts.uram)
        } else if t.starts_with("SRL") {
            Some(&mut counts.srl)
        } else if t.starts_with("MUXF") {
            Some(&mut counts.muxf)
        } else if t.strip_prefix("RAM").and_then(|r| r.chars().next()).is_some_and(|c| c.is_ascii_digit()) {
            Some(&mut counts.lutram)
        } else {
            None
        };
        if let Some(slot) = slot {
            *slot += n;
        } else if t.starts_with("RAMB18") {
            counts.bram18 += n;
        } else if t.starts_with("RAMB36") {
            counts.bram18 += 2 * n;
        }
        counts.cells.insert(t.to_string(), n);
    }
    let creator = v.get("creator").and_then(|c| c.as_str()).map(str::to_string);
    Ok(Stat { creator, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_kind_and_keeps_the_cells() {
        let text = r#"{ "creator": "Yosys X", "design": { "num_cells_by_type": {
            "LUT1": 1, "LUT6": 2, "LUT6_2": 5, "FDRE": 3, "FDCE": 1, "DSP48E2": 4, "CARRY8": 2,
            "RAMB36E2": 1, "RAMB18E2": 1, "SRLC32E": 2, "RAM64M": 1, "MUXF7": 3, "BUFG": 1 } } }"#;
        let s = parse(text).unwrap();
        let c = &s.counts;
        assert_eq!((c.lut, c.ff, c.dsp, c.carry, c.bram18), (8, 4, 4, 2, 3));
        assert_eq!((c.srl, c.lutram, c.muxf, c.uram), (2, 1, 3, 0));
        assert_eq!(c.cells.len(), 13);
        assert_eq!(s.creator.as_deref(), Some("Yosys X"));
    }

    #[test]
    fn refuses_what_is_not_a_stat() {
        assert!(parse("no json here").unwrap_err().contains("no JSON"));
        assert!(parse(r#"{"design": {}}"#).unwrap_err().contains("num_cells_by_type"));
        assert!(parse(r#"{"design": {"num_cells_by_type": {"LUT2": -1}}}"#).unwrap_err().contains("LUT2"));
    }
}
