//! Renderers of an [`Estimate`]: a text table for the terminal, `report.json` and `report.md`.
//!
//! # `report.json` schema (version 1)
//!
//! One object; numbers are JSON numbers, counts are non-negative integers, `*_ns` are floats.
//! Keys are stable: new keys may be added, none is renamed or removed within a version.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `schema` | string | `hls-gen-estimate/1` |
//! | `part` | string | full part name |
//! | `clock_ns` | float | target clock period |
//! | `clock_uncertainty_ns` | float | uncertainty the schedule kept free |
//! | `tool` | string | `vivado-hls` or `vitis-hls`: the tool whose csynth report is predicted |
//! | `stage` | string | `hls-csynth`: every quantity predicts the HLS C-synthesis estimate; `rtl-model`: the RTL backend's design (exact latency and II, modelled LUT/FF) |
//! | `dsp_kind` | string | `Dsp48E1`, `Dsp48E2` or `Dsp58` |
//! | `available` | object | the part's `dsp`, `lut`, `ff`, `bram18`, `uram` |
//! | `total` | object | `latency_cycles`, `latency_ns`, `ii`, `dsp`, `lut`, `ff`, `bram18`, `uram` |
//! | `layers` | array | one object per layer in topological order: `name`, `kind`, `shape` (output extents joined by `×`, height × width × channels), `reuse_factor`, `strategy`, the keys of `total` and, for HLS estimates, `calibrated` (`false`: no calibration point covers the layer's kind in its io type, strategy and reuse class, so its numbers come from the cost model alone; see [`super::calibrated`]) |
//! | `warnings` | array | `{resource, used, available}` for each resource exceeding the part |
//! | `stream` | object, io_stream only | `fifo_depth` (`auto`, `max` or the depth), `fifos` (one per FIFO between two processes: `name`, `width` bits per pixel, `transfers` pixels per frame, `occupancy` peak in the dataflow model, `depth`, `memory` and `max_memory`: `{storage, bits, lut, bram18}` at the chosen and at the `max` depth) and their sums `fifo_bits`, `fifo_lut`, `fifo_bram18`, `max_fifo_bits`, `max_fifo_lut`, `max_fifo_bram18` |
//! | `after_synthesis` | object, io_parallel HLS estimates for Vivado HLS or when the design asks for more DSPs than the part has | the design after Vivado logic synthesis limited to the part's DSPs: `asked` DSP products, `moved` of them built as shift-and-add logic of `lut_added` csynth LUTs (each layer giving up the same share of its DSPs), `lut_scale` synthesized LUTs per csynth LUT (1 where no pair of reports calibrates it), and the design's `dsp` and `lut` after synthesis |
//! | `assumptions` | array of strings | what the estimate assumes about the tool and the design (the schedule, shared multipliers, ROM storage), one sentence each; `report.md` lists them |
//!
//! `total.latency_cycles` is the worst-case latency from input to output (`latency_ns` at the
//! target clock), `total.ii` the largest layer interval, resources are sums; `bram18` counts
//! 18 Kb block RAMs. A layer's `kind` is its IR kind, with the activation or operation appended
//! (`activation.relu`, `elementwise.add`).
//!
//! [`read_json`] reads a `report.json` back as a [`Summary`] (schema, part, clock, totals, the
//! tool and an optional `top` key naming the top function or module), for commands that compare a written
//! project's estimate with synthesis results.

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Estimate, SynthReportError, Totals};

/// Version tag written as `schema`.
pub const SCHEMA: &str = "hls-gen-estimate/1";

#[derive(Serialize)]
struct Versioned<'a> {
    schema: &'static str,
    #[serde(flatten)]
    estimate: &'a Estimate,
}

/// `report.json`.
pub fn to_json(est: &Estimate) -> String {
    serde_json::to_string_pretty(&Versioned { schema: SCHEMA, estimate: est }).unwrap_or_default()
}

fn pct(used: u64, available: u64) -> String {
    if available == 0 {
        if used == 0 {
            "0%".into()
        } else {
            "n/a".into()
        }
    } else {
        format!("{:.1}%", 100.0 * used as f64 / available as f64)
    }
}

fn header(est: &Estimate) -> String {
    if est.stage == super::rtl::RTL_STAGE {
        return format!(
            "estimate for {} at {:.3} ns (hls-gen RTL design: exact latency and II, LUT/FF from the shift-add cost model, DSPs only for products of two signals)",
            est.part, est.clock_ns
        );
    }
    format!(
        "estimate for {} at {:.3} ns ({} csynth prediction, {:.2} ns uncertainty, {})",
        est.part,
        est.clock_ns,
        est.tool.name(),
        est.clock_uncertainty_ns,
        est.dsp_kind.name()
    )
}

type Row = [String; 10];

/// Marks the numbers of an uncalibrated layer, and the totals they enter.
const UNCALIBRATED_MARK: &str = "~";

/// The layers whose numbers no calibration point backs.
fn uncalibrated(est: &Estimate) -> Vec<&super::LayerEstimate> {
    est.layers.iter().filter(|l| l.calibrated == Some(false)).collect()
}

/// The footnote naming the uncalibrated layers, if any.
pub fn uncalibrated_note(est: &Estimate) -> Option<String> {
    let layers = uncalibrated(est);
    if layers.is_empty() {
        return None;
    }
    let names: Vec<String> = layers.iter().map(|l| format!("{} ({})", l.name, l.kind)).collect();
    Some(format!(
        "{UNCALIBRATED_MARK} uncalibrated: no calibration point covers {} in this io type, strategy and reuse factor; \
         these numbers come from the cost model alone",
        names.join(", ")
    ))
}

/// The layer rows and the footer: totals, the part's share, and the same two after logic synthesis
/// when the estimate predicts them ([`super::AfterSynthesis`]).
fn rows(est: &Estimate) -> (Vec<Row>, Vec<Row>) {
    let body = est
        .layers
        .iter()
        .map(|l| {
            let m = if l.calibrated == Some(false) { UNCALIBRATED_MARK } else { "" };
            [
                l.name.clone(),
                l.kind.clone(),
                l.shape.clone(),
                l.reuse_factor.to_string(),
                l.ii.to_string(),
                format!("{m}{}", l.latency_cycles),
                format!("{m}{}", l.dsp),
                format!("{m}{}", l.lut),
                format!("{m}{}", l.ff),
                format!("{m}{}", l.bram18),
            ]
        })
        .collect();
    let t = &est.total;
    let a = &est.available;
    let m = if uncalibrated(est).is_empty() { "" } else { UNCALIBRATED_MARK };
    let total = [
        "total".into(),
        String::new(),
        String::new(),
        String::new(),
        t.ii.to_string(),
        format!("{m}{} ({:.1} ns)", t.latency_cycles, t.latency_ns),
        format!("{m}{}", t.dsp),
        format!("{m}{}", t.lut),
        format!("{m}{}", t.ff),
        format!("{m}{}", t.bram18),
    ];
    let percent = [
        "% of part".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        pct(t.dsp, a.dsp),
        pct(t.lut, a.lut),
        pct(t.ff, a.ff),
        pct(t.bram18, a.bram18),
    ];
    let mut footer = vec![total, percent];
    if let Some(d) = &est.after_synthesis {
        let dsp_lut = |label: &str, dsp: String, lut: String| {
            let mut r = Row::default();
            (r[0], r[6], r[7]) = (label.into(), dsp, lut);
            r
        };
        footer.push(dsp_lut("after logic synthesis", format!("{m}{}", d.dsp), format!("{m}{}", d.lut)));
        footer.push(dsp_lut("% of part", pct(d.dsp, a.dsp), pct(d.lut, a.lut)));
    }
    (body, footer)
}

const TITLES: [&str; 10] = ["layer", "kind", "shape", "RF", "II", "latency", "DSP", "LUT", "FF", "BRAM18"];

/// A fixed-width text table with totals, the part's utilization and any fit warning.
pub fn to_text(est: &Estimate) -> String {
    let (body, footer) = rows(est);
    let titles: Row = TITLES.map(str::to_string);
    let mut width = [0usize; 10];
    for r in std::iter::once(&titles).chain(&body).chain(&footer) {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |r: &Row| {
        let mut s = String::new();
        for (i, (c, w)) in r.iter().zip(width).enumerate() {
            if i < 3 {
                let _ = write!(s, "{c:<w$}  ");
            } else {
                let _ = write!(s, "{c:>w$}  ");
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let rule = "-".repeat(width.iter().sum::<usize>() + 2 * (width.len() - 1)) + "\n";
    let mut out = header(est) + "\n";
    out += &line(&titles);
    out += &rule;
    for r in &body {
        out += &line(r);
    }
    out += &rule;
    for r in &footer {
        out += &line(r);
    }
    if let Some(st) = &est.stream {
        out += &fifo_summary(st);
    }
    if let Some(t) = &est.timing {
        out += &t.line();
        out += "\n";
    }
    if let Some(w) = timing_warning(est) {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(note) = uncalibrated_note(est) {
        out += &note;
        out += "\n";
    }
    for w in &est.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// When the RTL timing model's critical stage is slower than the clock the totals are given at
/// (registers placed by `--pipeline-stages`, not for a period): what the design reaches instead.
pub fn timing_warning(est: &Estimate) -> Option<String> {
    let t = est.timing.as_ref()?;
    (t.target_ns.is_none() && t.critical.delay_ns > est.clock_ns).then(|| {
        format!(
            "the RTL timing model's critical stage ('{}') takes {:.2} ns, more than the {} ns clock of the \
             totals: the design runs at up to {:.0} MHz, where its {} cycles take {:.1} ns; --clock-period {} \
             places registers for that clock inside the layers it can split (Dense and convolution layers at \
             reuse factor 1; every other layer stays one stage)",
            t.critical.layer,
            t.critical.delay_ns,
            est.clock_ns,
            t.fmax_mhz,
            t.latency_cycles,
            t.latency_ns(),
            est.clock_ns
        )
    })
}

/// One line: the io_stream FIFOs' memory at the chosen depths and at the `max` depths.
fn fifo_summary(st: &super::stream::StreamSummary) -> String {
    format!(
        "FIFOs ({} depths): {} bits, {} LUT, {} BRAM18; at max depths: {} bits, {} LUT, {} BRAM18\n",
        st.fifo_depth,
        st.fifo_bits,
        st.fifo_lut,
        st.fifo_bram18,
        st.max_fifo_bits,
        st.max_fifo_lut,
        st.max_fifo_bram18
    )
}

/// The RTL timing model's section of `report.md`: the summary and every register stage.
fn timing_markdown(t: &crate::arch::timing::TimingSummary) -> String {
    let mut out = format!("\n## Timing model\n\n{}\n\n", t.line());
    out += "| layer | stage | adder levels | widest adder | LUTs | carry chains | carry bits | MUXF | DSP | delay (ns) |\n";
    out += "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
    for s in &t.stages {
        let p = &s.path;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            s.layer.replace('|', "\\|"),
            s.stage,
            s.adder_levels,
            s.widest_adder,
            p.luts,
            p.carry_chains,
            p.carry_bits,
            p.muxf,
            p.dsp,
            s.delay_ns
        );
    }
    out
}

/// `report.md`: the same table in Markdown.
pub fn to_markdown(est: &Estimate) -> String {
    let (body, footer) = rows(est);
    let mut out = format!("# Resource and latency estimate\n\n{}\n\n", header(est));
    out += &format!("| {} |\n", TITLES.join(" | "));
    out += "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n";
    for r in body.iter().chain(&footer) {
        let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|").replace('~', "\\~")).collect();
        out += &format!("| {} |\n", cells.join(" | "));
    }
    if let Some(note) = uncalibrated_note(est) {
        out += &format!("\n{}\n", note.replace('~', "\\~"));
    }
    if let Some(t) = &est.timing {
        out += &timing_markdown(t);
    }
    if let Some(st) = &est.stream {
        out += &format!("\n## FIFOs\n\n{}\n", fifo_summary(st));
        out += "| FIFO | pixel bits | pixels per frame | peak occupancy | depth | storage | bits | LUT | BRAM18 | max-depth storage | bits | LUT | BRAM18 |\n";
        out += "|---|--:|--:|--:|--:|---|--:|--:|--:|---|--:|--:|--:|\n";
        for f in &st.fifos {
            let (m, x) = (&f.memory, &f.max_memory);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                f.name.replace('|', "\\|"),
                f.width,
                f.transfers,
                f.occupancy,
                f.depth,
                m.storage,
                m.bits,
                m.lut,
                m.bram18,
                x.storage,
                x.bits,
                x.lut,
                x.bram18
            );
        }
    }
    if !est.warnings.is_empty() {
        out += "\n## Does not fit\n\n";
        for w in &est.warnings {
            let _ = writeln!(out, "- {w}");
        }
    }
    if !est.assumptions.is_empty() {
        out += "\n## What the estimate assumes\n\n";
        for a in &est.assumptions {
            let _ = writeln!(out, "- {a}");
        }
    }
    out
}

/// The parts of a `report.json` that synthesis results are compared with.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Summary {
    pub schema: String,
    pub part: String,
    pub clock_ns: f64,
    pub total: Totals,
    /// The tool whose csynth report the estimate predicts (absent in RTL-model reports written
    /// before it was recorded).
    #[serde(default)]
    pub tool: Option<super::HlsTool>,
    /// The top function or module, when the writer recorded it.
    #[serde(default)]
    pub top: Option<String>,
    /// The RTL design's timing model, when the writer recorded it.
    #[serde(default)]
    pub timing: Option<crate::arch::timing::TimingSummary>,
    /// The design after logic synthesis, when the estimate predicted it.
    #[serde(default)]
    pub after_synthesis: Option<super::AfterSynthesis>,
}

/// Parses `report.json` text; `path` names the file in errors. Refuses other schema versions.
pub fn parse_json(text: &str, path: &str) -> Result<Summary, SynthReportError> {
    let malformed = |what: String| SynthReportError::Malformed { path: path.to_string(), what };
    let summary: Summary =
        serde_json::from_str(text).map_err(|e| malformed(format!("not a {SCHEMA} report: {e}")))?;
    if summary.schema != SCHEMA {
        return Err(malformed(format!("schema is '{}', expected '{SCHEMA}'", summary.schema)));
    }
    Ok(summary)
}

/// Reads and parses a `report.json` file.
pub fn read_json(path: &Path) -> Result<Summary, SynthReportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SynthReportError::Io { path: path.display().to_string(), source: e })?;
    parse_json(&text, &path.display().to_string())
}
