//! The longest register-to-register path of a synthesized netlist, from Yosys `ltp`.
//!
//! `hls-gen synth` deletes the flip-flops and shift registers (`delete t:FD* t:SRL*`) after the
//! statistics, so that only the combinational paths between registers (and from input ports to
//! registers) remain, names every cell after its type (`rename -enumerate -pattern lut_% t:LUT*`,
//! and likewise `carry4_`, `carry8_`, `muxf_`, `dsp_`) and runs `ltp -noff`, which prints the
//! longest topological path (the most cells, not the most ns) one cell per line:
//!
//! ```text
//! Longest topological path in top (length=3):
//!     0: \x [1]
//!     1: $n5 [0] (via lut_3)
//!     2: $s.CO [3] (via carry4_0)
//! ```
//!
//! [`parse`] counts the path's cells into an [`arch::timing::Path`](crate::arch::timing::Path):
//! LUTs, carry chains (a run of consecutive carry cells is one chain) and the carry bits
//! travelled (4 per `CARRY4`, 8 per `CARRY8`), wide multiplexers and DSP slices; other cells are
//! counted apart. Yosys 0.23 maps carries to `CARRY4` for every Xilinx family.

use serde::{Deserialize, Serialize};

use crate::arch::timing::Path;

/// The Yosys commands that write the path to `out` (relative to the project).
pub fn commands(out: &str) -> String {
    let mut s = String::from("delete t:FD* t:SRL*\n");
    for (prefix, cells) in [
        ("lut_", "t:LUT*"),
        ("carry4_", "t:CARRY4"),
        ("carry8_", "t:CARRY8"),
        ("muxf_", "t:MUXF*"),
        ("dsp_", "t:DSP*"),
    ] {
        s += &format!("rename -enumerate -pattern {prefix}% {cells}\n");
    }
    s += &format!("tee -q -o {out} ltp -noff\n");
    s
}

/// The longest path as measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongestPath {
    /// Cells on the path (`ltp`'s length).
    pub length: u32,
    pub path: Path,
    /// Cells of other types (neither LUT, carry, MUXF nor DSP).
    pub other: u32,
}

/// Parses `ltp` output (see the module documentation).
pub fn parse(text: &str) -> Result<LongestPath, String> {
    let head = text
        .lines()
        .find(|l| l.contains("Longest topological path"))
        .ok_or("no 'Longest topological path' line")?;
    let length = head
        .split("length=")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no length in '{}'", head.trim()))?;
    let mut path = Path::default();
    let mut other = 0;
    let mut in_chain = false;
    for line in text.lines() {
        let Some(cell) = line.rsplit_once("(via ").map(|(_, c)| c.trim_end().trim_end_matches(')')) else {
            continue;
        };
        let carry_bits = if cell.starts_with("carry4_") {
            4
        } else if cell.starts_with("carry8_") {
            8
        } else {
            0
        };
        if carry_bits > 0 {
            if !in_chain {
                path.carry_chains += 1;
            }
            path.carry_bits += carry_bits;
            in_chain = true;
            continue;
        }
        in_chain = false;
        if cell.starts_with("lut_") {
            path.luts += 1;
        } else if cell.starts_with("muxf_") {
            path.muxf += 1;
        } else if cell.starts_with("dsp_") {
            path.dsp += 1;
        } else {
            other += 1;
        }
    }
    Ok(LongestPath { length, path, other })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cells_and_chains() {
        let text = "\n4. Executing LTP pass (find longest path).\n\nLongest topological path in top (length=7):\n    0: \\t [16]\n    1: a [0] (via lut_63)\n    2: b.CO [3] (via carry4_7)\n    3: b.CO [7] (via carry4_8)\n    4: c [0] (via lut_2)\n    5: d.CO [3] (via carry4_9)\n    6: e [0] (via muxf_1)\n    7: f [0] (via $and$x)\n";
        let p = parse(text).unwrap();
        assert_eq!(p.length, 7);
        assert_eq!(p.path, Path { luts: 2, carry_chains: 2, carry_bits: 12, muxf: 1, dsp: 0 });
        assert_eq!(p.other, 1);
        assert!(parse("nothing").unwrap_err().contains("Longest"));
    }
}
