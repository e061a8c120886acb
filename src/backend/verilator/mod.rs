//! Verilator testbench of an emitted project, for the RTL backend's Verilog and for the RTL Vitis
//! HLS generates from the HLS backend's project: both have the same top ports
//! ([`crate::backend::top`]).
//!
//! [`add_testbench`] adds `verilator/NAME_tb.cpp` and `verilator/Makefile`; the testbench reads the
//! project's `tb_data/` vectors (the C-simulation format), streams one sample per cycle through the
//! `ap_ctrl_hs`/`ap_vld` handshake, compares every output bit for bit and reports the measured
//! latency and II (see `templates/verilator/tb.cpp.tera`). [`run_rtlsim`] builds it with
//! Verilator in `verilator/obj_dir` and runs it; the project gains only that directory and
//! `tb_data/rtl_outputs.txt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use tera::{Context, Tera};

use crate::backend::top::{TopInterface, TopPort};
use crate::backend::{BackendError, Project};

const TB: &str = include_str!("../../../templates/verilator/tb.cpp.tera");
const TB_STREAM: &str = include_str!("../../../templates/verilator/tb_stream.cpp.tera");
/// The helpers both testbenches share, without this file's two comment lines.
const SUPPORT: &str = include_str!("../../../templates/verilator/tb_support.cpp");
const MAKEFILE: &str = include_str!("../../../templates/verilator/Makefile.tera");

/// Where a project's Verilog lives, relative to `verilator/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtlLocation {
    /// `../rtl`, written by the RTL backend.
    Rtl,
    /// `../NAME_prj/solution1/syn/verilog`, written by Vitis HLS C synthesis.
    VitisSynth,
}

impl RtlLocation {
    /// The directory relative to the project root.
    pub fn dir(self, name: &str) -> String {
        match self {
            RtlLocation::Rtl => "rtl".to_string(),
            RtlLocation::VitisSynth => format!("{name}_prj/solution1/syn/verilog"),
        }
    }
}

#[derive(Serialize)]
struct PortContext {
    name: String,
    elements: usize,
    width: u32,
    frac: i32,
    signed: bool,
    words: u64,
    offset: usize,
    /// The index of its value `i` in a test vector line, as C++.
    token: String,
}

/// How the top is controlled: the block protocol and the interval between samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Control {
    /// `ap_ctrl_chain` (an `ap_continue` input the testbench holds high) instead of `ap_ctrl_hs`.
    pub chain: bool,
    /// Cycles between two samples the design promises (bounds the testbench's timeout).
    pub interval: usize,
}

#[derive(Serialize)]
struct TbContext {
    name: String,
    support: &'static str,
    control: Control,
    inputs: Vec<PortContext>,
    input_total: usize,
    outputs: Vec<PortContext>,
    output_total: usize,
}

#[derive(Serialize)]
struct MakeContext {
    name: String,
    default_dir: String,
    default_what: &'static str,
    other_note: String,
}

/// Types the testbench converts exactly: `|frac| <= 60` keeps every value and its text within
/// its 128-bit arithmetic.
fn port(p: &TopPort, offset: usize) -> Result<PortContext, BackendError> {
    let frac = p.ty.frac_bits();
    if !(-60..=60).contains(&frac) {
        return Err(BackendError::Testbench(format!(
            "port '{}' has {frac} fractional bits; the Verilator testbench supports -60..=60",
            p.name
        )));
    }
    Ok(PortContext {
        name: p.name.clone(),
        elements: p.elements,
        width: p.ty.width,
        frac,
        signed: p.ty.signed,
        words: p.bits().div_ceil(32),
        offset,
        token: if offset == 0 { "i".into() } else { format!("{offset} + i") },
    })
}

fn render(name: &str, template: &str, ctx: &impl Serialize) -> Result<String, BackendError> {
    let err = |e: tera::Error| BackendError::Template { template: name.to_string(), message: e.to_string() };
    let context = Context::from_serialize(ctx).map_err(err)?;
    Tera::one_off(template, &context, false).map_err(err)
}

/// The testbench's view of a list of ports: each with its offset in a test vector line.
fn ports(list: &[TopPort]) -> Result<(Vec<PortContext>, usize), BackendError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for p in list {
        out.push(port(p, offset)?);
        offset += p.elements;
    }
    Ok((out, offset))
}

/// Adds `verilator/NAME_tb.cpp` and `verilator/Makefile` for the top `top` controlled as `control`
/// says.
pub fn add_testbench(
    project: &mut Project,
    top: &TopInterface,
    location: RtlLocation,
    control: Control,
) -> Result<(), BackendError> {
    let name = &top.name;
    let (inputs, input_total) = ports(&top.inputs)?;
    let (outputs, output_total) = ports(&top.outputs)?;
    let ctx = TbContext {
        name: name.clone(),
        support: support(),
        control,
        inputs,
        input_total,
        outputs,
        output_total,
    };
    project.add(format!("verilator/{name}_tb.cpp"), render("tb.cpp", TB, &ctx)?)?;
    let (default_what, other) = match location {
        RtlLocation::Rtl => ("written by hls-gen's RTL backend", RtlLocation::VitisSynth),
        RtlLocation::VitisSynth => {
            ("written by Vitis HLS C synthesis: vitis_hls -f build_prj.tcl", RtlLocation::Rtl)
        }
    };
    let other_note = match other {
        RtlLocation::VitisSynth => format!(
            "# For the RTL Vitis HLS makes from the HLS project: make VERILOG_DIR=../{}",
            other.dir(name)
        ),
        RtlLocation::Rtl => "# For hls-gen's RTL backend output: make VERILOG_DIR=../rtl".to_string(),
    };
    let make = MakeContext {
        name: name.clone(),
        default_dir: format!("../{}", location.dir(name)),
        default_what,
        other_note,
    };
    project.add("verilator/Makefile", render("Makefile", MAKEFILE, &make)?)?;
    Ok(())
}

/// The helpers the testbenches share, as inserted into a template.
fn support() -> &'static str {
    SUPPORT
        .split_once("\n")
        .and_then(|(_, rest)| rest.split_once("\n"))
        .map_or(SUPPORT, |(_, rest)| rest)
        .trim()
}

/// A top port of the streaming design: its pixels per sample and values per pixel.
#[derive(Debug, Clone)]
pub struct StreamPort {
    pub name: String,
    pub transfers: usize,
    pub width: usize,
}

/// A FIFO of the streaming design with the model's peak occupancy.
#[derive(Debug, Clone, Serialize)]
pub struct StreamFifo {
    pub id: usize,
    pub name: String,
    pub depth: u64,
    pub occupancy: u64,
}

/// What the streaming testbench drives and checks: the ports, the FIFOs, and the model's
/// figures for `frames` samples.
#[derive(Debug, Clone)]
pub struct StreamBench {
    pub inputs: Vec<StreamPort>,
    pub outputs: Vec<StreamPort>,
    pub fifos: Vec<StreamFifo>,
    pub frames: usize,
    pub latency: u64,
    pub interval: u64,
    pub cycles: u64,
}

#[derive(Serialize)]
struct StreamPortContext {
    name: String,
    width: u32,
    frac: i32,
    signed: bool,
    offset: usize,
    transfers: usize,
    values: usize,
    pixel_words: u64,
}

#[derive(Serialize)]
struct StreamContext {
    name: String,
    support: &'static str,
    inputs: Vec<StreamPortContext>,
    input_total: usize,
    outputs: Vec<StreamPortContext>,
    output_total: usize,
    fifos: Vec<StreamFifo>,
    frames: usize,
    latency: u64,
    interval: u64,
    cycles: u64,
}

fn stream_ports(
    list: &[TopPort],
    streams: &[StreamPort],
) -> Result<(Vec<StreamPortContext>, usize), BackendError> {
    let (plain, total) = ports(list)?;
    let out = plain
        .into_iter()
        .zip(streams)
        .map(|(p, s)| StreamPortContext {
            name: p.name,
            width: p.width,
            frac: p.frac,
            signed: p.signed,
            offset: p.offset,
            transfers: s.transfers,
            values: s.width,
            pixel_words: (s.width as u64 * u64::from(p.width)).div_ceil(32),
        })
        .collect();
    Ok((out, total))
}

/// Adds `verilator/NAME_tb.cpp` (the streaming testbench, see
/// `templates/verilator/tb_stream.cpp.tera`) and `verilator/Makefile` for the RTL backend's
/// streaming top.
pub fn add_stream_testbench(
    project: &mut Project,
    top: &TopInterface,
    bench: &StreamBench,
) -> Result<(), BackendError> {
    let name = &top.name;
    let (inputs, input_total) = stream_ports(&top.inputs, &bench.inputs)?;
    let (outputs, output_total) = stream_ports(&top.outputs, &bench.outputs)?;
    let ctx = StreamContext {
        name: name.clone(),
        support: support(),
        inputs,
        input_total,
        outputs,
        output_total,
        fifos: bench.fifos.clone(),
        frames: bench.frames,
        latency: bench.latency,
        interval: bench.interval,
        cycles: bench.cycles,
    };
    project.add(format!("verilator/{name}_tb.cpp"), render("tb_stream.cpp", TB_STREAM, &ctx)?)?;
    let make = MakeContext {
        name: name.clone(),
        default_dir: "../rtl".into(),
        default_what: "written by hls-gen's RTL backend",
        other_note: "# The streaming design has no Vitis HLS counterpart here.".into(),
    };
    project.add("verilator/Makefile", render("Makefile", MAKEFILE, &make)?)?;
    Ok(())
}

/// What a testbench run reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtlsimOutcome {
    /// True when the testbench exited with 0 after reporting zero mismatches.
    pub passed: bool,
    pub samples: Option<usize>,
    pub mismatches: Option<usize>,
    /// Largest measured latency in cycles.
    pub latency: Option<u64>,
    /// Largest measured interval between two accepted samples.
    pub ii: Option<u64>,
    pub exit_code: Option<i32>,
    /// Verilator's and the testbench's output.
    pub output: String,
}

fn summary(stdout: &str) -> Option<(usize, usize, u64, u64)> {
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("hls-gen rtlsim: "))?;
    let nums: Vec<&str> = line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect();
    match nums[..] {
        [s, m, l, ii] => Some((s.parse().ok()?, m.parse().ok()?, l.parse().ok()?, ii.parse().ok()?)),
        _ => None,
    }
}

/// The top name of the project in `dir`, from its `verilator/*_tb.cpp`.
fn top_name(dir: &Path) -> Result<String, BackendError> {
    let vdir = dir.join("verilator");
    let entries = std::fs::read_dir(&vdir).map_err(|e| BackendError::io(&vdir, e))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix("_tb.cpp").map(str::to_string))
        .collect();
    names.sort();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(BackendError::ProjectPath {
            path: vdir,
            what: format!("holds {} testbenches (*_tb.cpp); expected one", names.len()),
        }),
    }
}

/// Where the Verilog of the project in `dir` is: `rtl/` or the Vitis HLS synthesis output.
pub fn find_rtl(dir: &Path) -> Result<PathBuf, BackendError> {
    let name = top_name(dir)?;
    let candidates = [RtlLocation::Rtl, RtlLocation::VitisSynth].map(|l| dir.join(l.dir(&name)));
    for c in &candidates {
        if c.join(format!("{name}.v")).is_file() {
            return Ok(c.clone());
        }
    }
    Err(BackendError::NoRtl {
        top: name,
        looked: candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(" and "),
    })
}

/// Builds the testbench of the project in `dir` with Verilator (in `verilator/obj_dir`) and runs
/// it on `tb_data/`.
pub fn run_rtlsim(dir: &Path) -> Result<RtlsimOutcome, BackendError> {
    let dir = std::path::absolute(dir).map_err(|e| BackendError::io(dir, e))?;
    let name = top_name(&dir)?;
    let rtl = find_rtl(&dir)?;
    let vdir = dir.join("verilator");
    let build = Command::new("make")
        .current_dir(&vdir)
        .arg("build")
        .arg(format!("VERILOG_DIR={}", rtl.display()))
        .output()
        .map_err(|source| BackendError::Tool { tool: "make (verilator)".into(), source })?;
    let mut output = String::from_utf8_lossy(&build.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&build.stderr));
    if !build.status.success() {
        return Err(BackendError::Compile { output });
    }
    let exe = vdir.join("obj_dir").join(format!("V{name}"));
    // ROMs load their `.dat` contents with `$readmemh` by paths relative to the Verilog.
    let tb_data = dir.join("tb_data");
    let (status, stdout) = crate::backend::run_testbench(&exe, &rtl, &[tb_data.as_os_str()], &mut output)?;
    let s = summary(&stdout);
    Ok(RtlsimOutcome {
        passed: status.success() && s.is_some_and(|s| s.1 == 0),
        samples: s.map(|s| s.0),
        mismatches: s.map(|s| s.1),
        latency: s.map(|s| s.2),
        ii: s.map(|s| s.3),
        exit_code: status.code(),
        output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_line() {
        let out = "mismatch: x\nhls-gen rtlsim: 12 samples, 3 mismatches, latency 5, II 1\n";
        assert_eq!(summary(out), Some((12, 3, 5, 1)));
        assert_eq!(summary("error"), None);
    }
}
