//! Reading the synthesis reports of a project built by Vivado HLS / Vitis HLS, and pairing them
//! with an [`Estimate`].
//!
//! Supported inputs:
//!
//! * `csynth.xml` (Vitis HLS 2020.2-2024.x, `<solution>/syn/report/csynth.xml`) and
//!   `<top>_csynth.xml` (Vivado HLS 2018.x-2020.1 and Vitis): `UserAssignments` (part, target
//!   clock, uncertainty), `PerformanceEstimates/SummaryOfOverallLatency` (`Best-caseLatency`,
//!   `Worst-caseLatency`, `Interval-min`, `Interval-max`; `undef` reads as unknown) and
//!   `AreaEstimates/Resources` (`BRAM_18K`, `DSP48E` in Vivado HLS or `DSP` in Vitis HLS, `FF`,
//!   `LUT`, `URAM`);
//! * `<top>_csynth.rpt` text reports of the same tools: the `ap_clk` timing row, the first row of
//!   the latency summary (`min | max | abs min | abs max | II min | II max | type`) and the
//!   `Total` row of the utilization summary, whose columns are read from its header;
//! * Vivado `report_utilization` output (`vivado_synth.rpt`): `Slice LUTs`/`CLB LUTs`,
//!   `Slice Registers`/`CLB Registers`, `Block RAM Tile` (36 Kb tiles, reported here as 18 Kb
//!   halves), `DSPs` and `URAM`, first occurrence of each (later per-SLR tables repeat them).
//!
//! Every failure is a [`SynthReportError`] naming the file and what is missing.

use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use super::xml;
use super::{AfterSynthesis, Estimate, Totals};

#[derive(Debug, Error)]
pub enum SynthReportError {
    #[error("{path}: cannot read: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {what}")]
    Malformed { path: String, what: String },
    #[error("{path}: no csynth report (csynth.xml, <top>_csynth.xml or <top>_csynth.rpt) found")]
    NotFound { path: String },
    #[error(
        "{path}: no csynth report: neither <top>_prj/solution1/syn/report/ nor any *_csynth file; \
         run `vitis_hls -f build_prj.tcl -tclargs synth=1` in it first"
    )]
    NotBuilt { path: String },
    #[error(
        "{path}: an RTL backend project has no HLS synthesis report: `hls-gen synth {path}` synthesizes its \
         Verilog with Yosys and compares the counts with its estimate"
    )]
    RtlProject { path: String },
}

fn malformed(path: &str, what: impl Into<String>) -> SynthReportError {
    SynthReportError::Malformed { path: path.to_string(), what: what.into() }
}

/// Resource counts of one report (block RAM in 18 Kb units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Resources {
    pub dsp: Option<u64>,
    pub lut: Option<u64>,
    pub ff: Option<u64>,
    pub bram18: Option<u64>,
    pub uram: Option<u64>,
}

/// What a project's reports say.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct SynthReport {
    /// The csynth report read.
    pub csynth_file: String,
    /// `Vivado HLS 2020.1`, `Vitis HLS 2023.2`, ... when the report says.
    pub tool: Option<String>,
    pub part: Option<String>,
    pub clock_ns: Option<f64>,
    pub clock_uncertainty_ns: Option<f64>,
    pub estimated_clock_ns: Option<f64>,
    pub latency_best: Option<u64>,
    pub latency_worst: Option<u64>,
    pub ii_min: Option<u64>,
    pub ii_max: Option<u64>,
    /// The HLS estimate.
    pub csynth: Resources,
    /// Vivado post-synthesis utilization, when `vivado_synth.rpt` is present.
    pub vivado_synth_file: Option<String>,
    pub vivado_synth: Option<Resources>,
}

fn read(path: &Path) -> Result<String, SynthReportError> {
    std::fs::read_to_string(path)
        .map_err(|e| SynthReportError::Io { path: path.display().to_string(), source: e })
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.trim().trim_end_matches("ns").trim().parse().ok()
}

/// Parses a csynth XML report; `path` names it in errors.
pub fn parse_csynth_xml(text: &str, path: &str) -> Result<SynthReport, SynthReportError> {
    let root = xml::parse(text).map_err(|e| malformed(path, format!("not well-formed XML: {e}")))?;
    if root.name != "profile" {
        return Err(malformed(path, format!("root element is <{}>, expected <profile>", root.name)));
    }
    let need = |names: &[&str]| {
        root.path(names).ok_or_else(|| malformed(path, format!("missing element <{}>", names.join("/"))))
    };
    let lat = need(&["PerformanceEstimates", "SummaryOfOverallLatency"])?;
    let res = need(&["AreaEstimates", "Resources"])?;
    let field = |e: &xml::Element, n: &str| e.child(n).and_then(|c| num::<u64>(&c.text));
    let latency_worst = lat.child("Worst-caseLatency").ok_or_else(|| {
        malformed(path, "missing element <PerformanceEstimates/SummaryOfOverallLatency/Worst-caseLatency>")
    })?;
    let dsp = res.child("DSP48E").or_else(|| res.child("DSP")).and_then(|c| num(&c.text));
    let lut =
        res.child("LUT").ok_or_else(|| malformed(path, "missing element <AreaEstimates/Resources/LUT>"))?;
    let ua = root.child("UserAssignments");
    let ua_text = |n: &str| ua.and_then(|u| u.child(n)).map(|c| c.text.clone());
    let version = root.path(&["ReportVersion", "Version"]).map(|v| v.text.clone());
    Ok(SynthReport {
        csynth_file: path.to_string(),
        tool: version.map(|v| format!("{} {v}", tool_from_version(&v))),
        part: ua_text("Part"),
        clock_ns: ua_text("TargetClockPeriod").and_then(|t| num(&t)),
        clock_uncertainty_ns: ua_text("ClockUncertainty").and_then(|t| num(&t)),
        estimated_clock_ns: root
            .path(&["PerformanceEstimates", "SummaryOfTimingAnalysis", "EstimatedClockPeriod"])
            .and_then(|c| num(&c.text)),
        latency_best: field(lat, "Best-caseLatency"),
        latency_worst: num(&latency_worst.text),
        ii_min: field(lat, "Interval-min"),
        ii_max: field(lat, "Interval-max"),
        csynth: Resources {
            dsp,
            lut: num(&lut.text),
            ff: field(res, "FF"),
            bram18: field(res, "BRAM_18K"),
            uram: field(res, "URAM"),
        },
        ..Default::default()
    })
}

/// Vitis HLS took over from Vivado HLS with 2020.2.
fn tool_from_version(v: &str) -> &'static str {
    let mut it = v.split('.').map(|p| p.trim().parse::<u32>().unwrap_or(0));
    match (it.next().unwrap_or(0), it.next().unwrap_or(0)) {
        (y, m) if y > 2020 || (y == 2020 && m >= 2) => "Vitis HLS",
        _ => "Vivado HLS",
    }
}

fn cells(line: &str) -> Vec<&str> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(str::trim).collect()
}

/// Parses a `<top>_csynth.rpt` text report; `path` names it in errors.
pub fn parse_csynth_rpt(text: &str, path: &str) -> Result<SynthReport, SynthReportError> {
    let lines: Vec<&str> = text.lines().collect();
    let after =
        |key: &str| lines.iter().find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()));
    if !lines.iter().any(|l| l.contains("HLS Report for")) {
        return Err(malformed(path, "no 'HLS Report for' header; not a csynth report"));
    }
    let mut rep = SynthReport { csynth_file: path.to_string(), ..Default::default() };
    let version = after("* Version:").and_then(|v| v.split_whitespace().next().map(str::to_string));
    rep.tool = version.map(|v| format!("{} {v}", tool_from_version(&v)));
    rep.part = after("* Target device:");
    if let Some(row) = lines.iter().find(|l| l.trim_start().starts_with("|ap_clk")) {
        let c = cells(row);
        rep.clock_ns = c.get(1).and_then(|v| num(v));
        rep.estimated_clock_ns = c.get(2).and_then(|v| num(v));
        rep.clock_uncertainty_ns = c.get(3).and_then(|v| num(v));
    }
    let lat_start = lines
        .iter()
        .position(|l| l.trim_start().starts_with("+ Latency"))
        .ok_or_else(|| malformed(path, "missing the '+ Latency' section"))?;
    let row = lines[lat_start..]
        .iter()
        .take_while(|l| !l.contains("+ Detail") && !l.starts_with("=="))
        .map(|l| cells(l))
        .find(|c| c.len() >= 6 && (num::<u64>(c[0]).is_some() || c[0] == "?"))
        .ok_or_else(|| {
            malformed(path, "missing the latency summary row (min | max | ... | II min | II max)")
        })?;
    rep.latency_best = num(row[0]);
    rep.latency_worst = num(row[1]);
    rep.ii_min = num(row[4]);
    rep.ii_max = num(row[5]);

    let util = lines
        .iter()
        .position(|l| l.starts_with("== Utilization Estimates"))
        .ok_or_else(|| malformed(path, "missing the '== Utilization Estimates' section"))?;
    let header = lines[util..]
        .iter()
        .map(|l| cells(l))
        .find(|c| c.contains(&"BRAM_18K"))
        .ok_or_else(|| malformed(path, "missing the utilization header row (Name | BRAM_18K | ...)"))?;
    let total = lines[util..]
        .iter()
        .map(|l| cells(l))
        .find(|c| c.first() == Some(&"Total"))
        .ok_or_else(|| malformed(path, "missing the utilization 'Total' row"))?;
    let col = |names: &[&str]| {
        header.iter().position(|h| names.contains(h)).and_then(|i| total.get(i)).and_then(|v| num::<u64>(v))
    };
    rep.csynth = Resources {
        dsp: col(&["DSP48E", "DSP", "DSP48"]),
        lut: col(&["LUT"]),
        ff: col(&["FF"]),
        bram18: col(&["BRAM_18K"]),
        uram: col(&["URAM"]),
    };
    if rep.csynth.lut.is_none() {
        return Err(malformed(path, "the utilization 'Total' row has no LUT count"));
    }
    Ok(rep)
}

/// Parses Vivado `report_utilization` text; `path` names it in errors.
pub fn parse_vivado_synth(text: &str, path: &str) -> Result<Resources, SynthReportError> {
    let used = |labels: &[&str]| -> Option<f64> {
        text.lines()
            .map(cells)
            .find(|c| c.first().is_some_and(|f| labels.contains(f)))
            .and_then(|c| num(c.get(1)?))
    };
    let lut = used(&["Slice LUTs*", "Slice LUTs", "CLB LUTs*", "CLB LUTs"])
        .ok_or_else(|| malformed(path, "missing the 'Slice LUTs'/'CLB LUTs' row"))?;
    let ff = used(&["Slice Registers", "CLB Registers"])
        .ok_or_else(|| malformed(path, "missing the 'Slice Registers'/'CLB Registers' row"))?;
    let tiles =
        used(&["Block RAM Tile"]).ok_or_else(|| malformed(path, "missing the 'Block RAM Tile' row"))?;
    let dsp = used(&["DSPs"]).ok_or_else(|| malformed(path, "missing the 'DSPs' row"))?;
    Ok(Resources {
        dsp: Some(dsp as u64),
        lut: Some(lut as u64),
        ff: Some(ff as u64),
        bram18: Some((tiles * 2.0).round() as u64),
        uram: used(&["URAM"]).map(|u| u as u64),
    })
}

/// Reads one csynth report file (`.xml` or `.rpt`).
pub fn read_csynth(path: &Path) -> Result<SynthReport, SynthReportError> {
    let text = read(path)?;
    let name = path.display().to_string();
    if path.extension().is_some_and(|e| e == "xml") {
        parse_csynth_xml(&text, &name)
    } else {
        parse_csynth_rpt(&text, &name)
    }
}

/// Reads the reports of a project: `path` is a report file or a directory searched (to depth 6)
/// for the top-level csynth report and an optional `vivado_synth.rpt`.
pub fn read_report(path: &Path) -> Result<SynthReport, SynthReportError> {
    if path.is_file() {
        return read_csynth(path);
    }
    let mut files = Vec::new();
    walk(path, 0, &mut files)?;
    files.sort();
    let file_name = |p: &PathBuf| p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut rep = None;
    if let Some(p) = files.iter().find(|p| file_name(p) == "csynth.xml") {
        rep = Some(read_csynth(p)?);
    }
    for ext in ["_csynth.xml", "_csynth.rpt"] {
        if rep.is_some() {
            break;
        }
        let candidates: Vec<&PathBuf> = files.iter().filter(|p| file_name(p).ends_with(ext)).collect();
        let mut reports = Vec::new();
        for p in candidates {
            reports.push(read_csynth(p)?);
        }
        // Module reports sit beside the top's; the top's is the one with the longest latency.
        rep = reports.into_iter().max_by_key(|r| (r.latency_worst, r.csynth.lut));
    }
    let mut rep = rep.ok_or_else(|| SynthReportError::NotFound { path: path.display().to_string() })?;
    if let Some(p) = files.iter().find(|p| file_name(p) == "vivado_synth.rpt") {
        let name = p.display().to_string();
        rep.vivado_synth = Some(parse_vivado_synth(&read(p)?, &name)?);
        rep.vivado_synth_file = Some(name);
    }
    Ok(rep)
}

/// Reads the reports of a project that `compile` wrote and Vitis HLS built in place: the csynth
/// report of the single `<top>_prj` directory in `dir`, taken from
/// `<top>_prj/<solution>/syn/report/` (`solution1` first, then other solutions by name; in each,
/// `csynth.xml`, then `<top>_csynth.xml`, then `<top>_csynth.rpt`), and Vivado's
/// `vivado_synth.rpt` from `dir` (where `vivado_synth.tcl` writes it) or the solution directory.
/// A directory without `*_prj` is searched as [`read_report`] does, which also accepts hls4ml's
/// report copies.
pub fn read_project(dir: &Path) -> Result<SynthReport, SynthReportError> {
    let io = |e| SynthReportError::Io { path: dir.display().to_string(), source: e };
    let mut prjs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if let Some(top) = name.strip_suffix("_prj").filter(|t| !t.is_empty() && p.is_dir()) {
            prjs.push((top.to_string(), p));
        }
    }
    prjs.sort();
    let (top, prj) = match prjs.as_slice() {
        [] => {
            return read_report(dir).map_err(|e| match e {
                SynthReportError::NotFound { path } if dir.join("rtl").is_dir() => {
                    SynthReportError::RtlProject { path }
                }
                SynthReportError::NotFound { path } => SynthReportError::NotBuilt { path },
                e => e,
            })
        }
        [one] => one.clone(),
        many => {
            let names: Vec<String> = many.iter().map(|(_, p)| p.display().to_string()).collect();
            return Err(malformed(
                &dir.display().to_string(),
                format!("holds several HLS projects ({}); expected one", names.join(", ")),
            ));
        }
    };
    let mut solutions = Vec::new();
    for entry in std::fs::read_dir(&prj)
        .map_err(|e| SynthReportError::Io { path: prj.display().to_string(), source: e })?
    {
        let p =
            entry.map_err(|e| SynthReportError::Io { path: prj.display().to_string(), source: e })?.path();
        if p.join("syn").join("report").is_dir() {
            solutions.push(p);
        }
    }
    solutions.sort_by_key(|p| (!p.ends_with("solution1"), p.clone()));
    let names = ["csynth.xml".to_string(), format!("{top}_csynth.xml"), format!("{top}_csynth.rpt")];
    let found = solutions.iter().find_map(|sol| {
        let report = sol.join("syn").join("report");
        names.iter().map(|n| report.join(n)).find(|p| p.is_file()).map(|p| (sol.clone(), p))
    });
    let (solution, csynth) = found.ok_or_else(|| SynthReportError::NotFound {
        path: prj.join("solution1").join("syn").join("report").display().to_string(),
    })?;
    let mut rep = read_csynth(&csynth)?;
    let vivado =
        [dir.join("vivado_synth.rpt"), solution.join("vivado_synth.rpt")].into_iter().find(|p| p.is_file());
    if let Some(p) = vivado {
        let name = p.display().to_string();
        rep.vivado_synth = Some(parse_vivado_synth(&read(&p)?, &name)?);
        rep.vivado_synth_file = Some(name);
    }
    Ok(rep)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), SynthReportError> {
    let io = |e| SynthReportError::Io { path: dir.display().to_string(), source: e };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if p.is_dir() && depth < 6 {
            walk(&p, depth + 1, out)?;
        } else if p.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// One quantity of an estimate next to a report's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonRow {
    pub quantity: &'static str,
    /// `hls-csynth` or `vivado-synth`.
    pub stage: &'static str,
    pub estimate: f64,
    pub reference: f64,
    /// `(estimate - reference) / reference`; `None` when the reference is zero.
    pub rel_error: Option<f64>,
}

/// An estimate paired with a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub rows: Vec<ComparisonRow>,
}

/// Pairs every quantity known to both: the csynth totals with the csynth report, and with a
/// Vivado synthesis report the estimate's `after logic synthesis` DSPs and LUTs where it has them
/// ([`AfterSynthesis`]), its csynth figures otherwise (those rows for information).
pub fn compare(est: &Estimate, rep: &SynthReport) -> Comparison {
    compare_totals(&est.total, est.after_synthesis.as_ref(), rep)
}

impl ComparisonRow {
    /// A row with its relative error.
    pub fn new(quantity: &'static str, stage: &'static str, estimate: f64, reference: f64) -> Self {
        let rel_error = if reference == 0.0 { None } else { Some((estimate - reference) / reference) };
        ComparisonRow { quantity, stage, estimate, reference, rel_error }
    }
}

/// [`compare`] for totals read back from a `report.json`.
pub fn compare_totals(t: &Totals, after: Option<&AfterSynthesis>, rep: &SynthReport) -> Comparison {
    let mut rows = Vec::new();
    let mut push = |quantity, stage, e: u64, r: Option<u64>| {
        if let Some(r) = r {
            rows.push(ComparisonRow::new(quantity, stage, e as f64, r as f64));
        }
    };
    push("latency_cycles", "hls-csynth", t.latency_cycles, rep.latency_worst);
    push("ii", "hls-csynth", t.ii, rep.ii_max);
    for (stage, res) in [("hls-csynth", Some(rep.csynth)), ("vivado-synth", rep.vivado_synth)] {
        if let Some(res) = res {
            let (dsp, lut) = match after {
                Some(a) if stage == "vivado-synth" => (a.dsp, a.lut),
                _ => (t.dsp, t.lut),
            };
            push("dsp", stage, dsp, res.dsp);
            push("lut", stage, lut, res.lut);
            push("ff", stage, t.ff, res.ff);
            push("bram18", stage, t.bram18, res.bram18);
        }
    }
    Comparison { rows }
}
