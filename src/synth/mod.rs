//! Out-of-context logic synthesis of a project's Verilog with Yosys, for primitive counts to set
//! beside the estimate.
//!
//! # Contract
//!
//! [`run`] takes a project directory holding `rtl/*.v` and `report.json` (the layout of an RTL
//! project: `rtl/`, `verilator/`, `tb_data/`, `report.json`, `report.md`) and:
//!
//! 1. picks the top module: [`Options::top`], else the `top` key of `report.json`, else the one
//!    module of `rtl/*.v` that no other module instantiates;
//! 2. maps the part of `report.json` to a Yosys family ([`yosys_family`]);
//! 3. writes `DIR/synth/yosys.ys` ([`script`]) and runs Yosys in `DIR`, logging to
//!    `DIR/synth/yosys.log` (its standard error to `DIR/synth/yosys.stderr`); `stat -json` goes
//!    to `DIR/synth/stat.json`. A run longer than [`Options::time_limit`] (default
//!    [`DEFAULT_TIME_LIMIT`]) is stopped with [`SynthError::TimedOut`], so a design too large for
//!    Yosys never hangs the caller;
//! 4. parses the counts ([`stat`]) and writes `DIR/synth/utilization.json` ([`Utilization`]);
//! 5. after the statistics, measures the longest register-to-register path with `ltp`
//!    ([`ltp`]: flip-flops deleted, cells named by type) into `DIR/synth/ltp.txt`, counted into
//!    [`Utilization::longest_path`] and converted to ns with the timing model's cell delays
//!    ([`crate::arch::timing`]) by [`Outcome::measured_ns`]. It runs inside the same Yosys process,
//!    so within the same time limit.
//!
//! Everything else in `DIR` is left alone. Errors name the file or tool concerned; a missing
//! Yosys says how to install it.
//!
//! # Yosys options
//!
//! `synth_xilinx -family F -top TOP -flatten -noiopad -noclkbuf -run :check`:
//!
//! * `-flatten` counts the whole design as one module, with optimization across module
//!   boundaries as Vivado's default synthesis does;
//! * `-noiopad -noclkbuf` leave out the I/O and clock buffers, as Vivado's out-of-context
//!   synthesis does (Yosys 0.23 inserts them otherwise: 66 `IBUF`, 33 `OBUF` and a `BUFG` on the
//!   test design `tests/data/synth/tiny`);
//! * `-run :check` stops before the `check` label (`hierarchy -check`, `stat -tech xilinx`,
//!   `check -noinit`): its statistics are replaced by our `stat -json`, and these passes walk
//!   the whole flattened netlist once more. On the test design the counts are identical and the
//!   time is the same within noise (3.6 s CPU either way, half of it reading the cell library).
//!
//! Kept at their defaults, because they change the counts being measured: the ABC flow (`-abc9`
//! is not supported for `xcup` by Yosys 0.23, which falls back to 7-series timing; on the test
//! design it took 5.2 s instead of 3.6 s CPU and mapped 86 LUTs and an `INV` instead of 83
//! LUTs), DSP inference (`-nodsp` would turn every multiplier into LUTs), `-nosrl`,
//! `-nowidelut` and `-widemux`.

pub mod ltp;
pub mod stat;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::estimate::part::Family;
use crate::estimate::report::{self, Summary};
use crate::estimate::synth_report::ComparisonRow;
use crate::estimate::{lookup_part, EstimateError, SynthReportError};
pub use stat::Counts;

#[derive(Debug, Error)]
pub enum SynthError {
    #[error("'{}': {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] SynthReportError),
    #[error("report.json: {0}")]
    Part(#[from] EstimateError),
    #[error("'{}' holds no Verilog files (*.v)", .0.display())]
    NoRtl(PathBuf),
    #[error("top module: {0}")]
    Top(String),
    #[error("part '{part}': Yosys has no synthesis flow for its family ({family:?})")]
    Family { part: String, family: Family },
    #[error(
        "cannot run '{tool}': {source}; install Yosys (Debian/Ubuntu: `apt-get install yosys`) \
         or pass its path with --yosys"
    )]
    YosysMissing {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("yosys failed ({status}); see '{}'. Last lines:\n{tail}", log.display())]
    YosysFailed { status: String, log: PathBuf, tail: String },
    #[error("'{}': {what}", path.display())]
    Stat { path: PathBuf, what: String },
    #[error(
        "yosys did not finish within the time limit of {limit_s} s and was stopped: the design is too \
         large to synthesize in that time (raise the limit with --time-limit SECONDS, 0 for none); \
         log so far: '{}'",
        log.display()
    )]
    TimedOut { limit_s: u64, log: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io { path: path.to_path_buf(), source }
}

/// How to run the synthesis.
#[derive(Debug, Clone)]
pub struct Options {
    /// The top module; found as described in the module documentation when `None`.
    pub top: Option<String>,
    /// The Yosys executable.
    pub yosys: PathBuf,
    /// Yosys is stopped after this long ([`SynthError::TimedOut`]); `None` waits for ever.
    pub time_limit: Option<Duration>,
}

/// The default [`Options::time_limit`]: 10 minutes, beyond what the test-suite models need.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(600);

impl Default for Options {
    fn default() -> Self {
        Options { top: None, yosys: PathBuf::from("yosys"), time_limit: Some(DEFAULT_TIME_LIMIT) }
    }
}

/// Schema tag of `utilization.json`.
pub const SCHEMA: &str = "hls-gen-yosys-utilization/1";

/// `DIR/synth/utilization.json`: one object with `schema` ([`SCHEMA`]), `yosys` (the version line
/// Yosys reported), `top`, `part`, `family` (the `synth_xilinx -family` value), `script` (the
/// Yosys script, relative to the project) and the fields of [`Counts`]: `lut`, `ff`, `dsp`,
/// `carry`, `bram18` (18 Kb units), `uram`, `srl`, `lutram`, `muxf` and `cells` (every cell type
/// with its count), all non-negative integers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utilization {
    pub schema: String,
    pub yosys: Option<String>,
    pub top: String,
    pub part: String,
    pub family: String,
    pub script: String,
    #[serde(flatten)]
    pub counts: Counts,
    /// The longest register-to-register path ([`ltp`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longest_path: Option<ltp::LongestPath>,
}

/// A finished synthesis.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub utilization: Utilization,
    /// The estimate read from `report.json`.
    pub estimate: Summary,
    pub log: PathBuf,
    pub utilization_file: PathBuf,
}

impl Outcome {
    /// The estimate's totals beside the Yosys counts (stage `yosys-synth`), for the quantities
    /// both have.
    pub fn comparison(&self) -> Vec<ComparisonRow> {
        let t = &self.estimate.total;
        let c = &self.utilization.counts;
        let stage = "yosys-synth";
        vec![
            ComparisonRow::new("dsp", stage, t.dsp as f64, c.dsp as f64),
            ComparisonRow::new("lut", stage, t.lut as f64, c.lut as f64),
            ComparisonRow::new("ff", stage, t.ff as f64, c.ff as f64),
            ComparisonRow::new("bram18", stage, t.bram18 as f64, c.bram18 as f64),
        ]
    }

    /// The cell delays of the synthesized family.
    pub fn delays(&self) -> &'static crate::estimate::coeffs::CellDelays {
        use crate::estimate::coeffs::{CELL_DELAYS_SERIES7, CELL_DELAYS_ULTRASCALE_PLUS};
        if self.utilization.family == "xc7" {
            &CELL_DELAYS_SERIES7
        } else {
            &CELL_DELAYS_ULTRASCALE_PLUS
        }
    }

    /// The measured longest path in ns, with the same cell delays as the timing model.
    pub fn measured_ns(&self) -> Option<f64> {
        self.utilization.longest_path.as_ref().map(|p| p.path.delay(self.delays()))
    }
}

/// The `synth_xilinx -family` value for a part's family: from the part database, or for a part it
/// does not list, from the device name (`xc7*` 7 series; `xczu*`, `xcu*` and `xcvu*p`/`xcku*p`
/// UltraScale+; other `xcvu*`/`xcku*` UltraScale).
pub fn yosys_family(part: &str) -> Result<&'static str, SynthError> {
    let p = match lookup_part(part) {
        Ok(p) => p,
        Err(e) => {
            let name = part.to_ascii_lowercase();
            let device = name.split('-').next().unwrap_or("");
            let ultrascale = device.starts_with("xcvu") || device.starts_with("xcku");
            return if device.starts_with("xc7") {
                Ok("xc7")
            } else if device.starts_with("xczu")
                || device.starts_with("xcu")
                || (ultrascale && device.ends_with('p'))
            {
                Ok("xcup")
            } else if ultrascale {
                Ok("xcu")
            } else {
                Err(e.into())
            };
        }
    };
    match p.family {
        Family::UltraScalePlus => Ok("xcup"),
        Family::UltraScale => Ok("xcu"),
        Family::Series7 => Ok("xc7"),
        family => Err(SynthError::Family { part: part.to_string(), family }),
    }
}

/// The Yosys script: reads `sources` (paths relative to the project), synthesizes `top` for
/// `family` and writes the statistics to `stat_json` (relative to the project).
pub fn script(sources: &[String], top: &str, family: &str, stat_json: &str) -> String {
    let mut s = String::from("# Written by hls-gen synth; run from the project directory.\n");
    for src in sources {
        s += &format!("read_verilog -sv {src}\n");
    }
    s += &format!("synth_xilinx -family {family} -top {top} -flatten -noiopad -noclkbuf -run :check\n");
    s += &format!("tee -q -o {stat_json} stat -json\n");
    s += &ltp::commands(&stat_json.replace("stat.json", "ltp.txt"));
    s
}

/// The `.v` files of `dir/rtl`, sorted, as paths relative to `dir`.
fn sources(dir: &Path) -> Result<Vec<String>, SynthError> {
    let rtl = dir.join("rtl");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&rtl).map_err(io(&rtl))? {
        let name = entry.map_err(io(&rtl))?.file_name().to_string_lossy().to_string();
        if name.ends_with(".v") {
            if name.chars().any(|c| c.is_whitespace() || c == '"' || c == ';') {
                return Err(SynthError::Stat {
                    path: rtl.join(&name),
                    what: "file name unusable in a Yosys script".into(),
                });
            }
            out.push(format!("rtl/{name}"));
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(SynthError::NoRtl(rtl));
    }
    Ok(out)
}

/// Removes `//` and `/* */` comments, keeping line structure irrelevant.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |i| &r[i..]);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |i| &r[i + 2..]);
            out.push(' ');
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')).filter(|t| !t.is_empty())
}

/// The one module of `texts` that no other module names: declared modules minus every identifier
/// used anywhere except in its own `module NAME` header.
pub fn infer_top(texts: &[String]) -> Result<String, SynthError> {
    let mut declared = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for text in texts {
        let clean = strip_comments(text);
        let mut after_module = false;
        for id in identifiers(&clean) {
            if after_module {
                declared.push(id.to_string());
                after_module = false;
            } else if id == "module" || id == "macromodule" {
                after_module = true;
            } else {
                used.insert(id.to_string());
            }
        }
    }
    let roots: Vec<&String> = declared.iter().filter(|m| !used.contains(*m)).collect();
    match roots.as_slice() {
        [one] => Ok((*one).clone()),
        [] if declared.is_empty() => Err(SynthError::Top("the RTL declares no module".into())),
        [] => Err(SynthError::Top("every module is instantiated by another; pass --top".into())),
        many => Err(SynthError::Top(format!(
            "several modules are not instantiated ({}); pass --top",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn write_atomic(path: &Path, contents: &str) -> Result<(), SynthError> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, contents).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Waits for `child` at most `limit`; on expiry kills it, reaps it and returns `None`.
fn wait(
    child: &mut std::process::Child,
    limit: Option<Duration>,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let Some(limit) = limit else { return child.wait().map(Some) };
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if start.elapsed() >= limit {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Synthesizes the project in `dir` (see the module documentation).
pub fn run(dir: &Path, opts: &Options) -> Result<Outcome, SynthError> {
    let estimate = report::read_json(&dir.join("report.json"))?;
    let family = yosys_family(&estimate.part)?;
    let sources = sources(dir)?;
    let top = match opts.top.clone().or_else(|| estimate.top.clone()) {
        Some(t) => t,
        None => {
            let mut texts = Vec::new();
            for s in &sources {
                let p = dir.join(s);
                texts.push(std::fs::read_to_string(&p).map_err(io(&p))?);
            }
            infer_top(&texts)?
        }
    };
    if !is_identifier(&top) {
        return Err(SynthError::Top(format!("'{top}' is not a Verilog identifier")));
    }
    let out = dir.join("synth");
    std::fs::create_dir_all(&out).map_err(io(&out))?;
    let stat_path = out.join("stat.json");
    let log = out.join("yosys.log");
    for stale in [&stat_path, &log, &out.join("ltp.txt")] {
        match std::fs::remove_file(stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(stale)(e)),
            _ => {}
        }
    }
    let ys = out.join("yosys.ys");
    std::fs::write(&ys, script(&sources, &top, family, "synth/stat.json")).map_err(io(&ys))?;
    let stderr_path = out.join("yosys.stderr");
    let stderr = std::fs::File::create(&stderr_path).map_err(io(&stderr_path))?;
    let mut child = Command::new(&opts.yosys)
        .current_dir(dir)
        .args(["-q", "-l", "synth/yosys.log", "-s", "synth/yosys.ys"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|source| SynthError::YosysMissing { tool: opts.yosys.display().to_string(), source })?;
    let status = wait(&mut child, opts.time_limit).map_err(io(&opts.yosys))?;
    let Some(status) = status else {
        let limit_s = opts.time_limit.map_or(0, |t| t.as_secs());
        return Err(SynthError::TimedOut { limit_s, log });
    };
    if !status.success() {
        let mut tail = log_tail(&log, 20);
        if tail.is_empty() {
            tail = std::fs::read_to_string(&stderr_path).unwrap_or_default().trim().to_string();
        }
        return Err(SynthError::YosysFailed { status: status.to_string(), log, tail });
    }
    let text = std::fs::read_to_string(&stat_path).map_err(io(&stat_path))?;
    let parsed = stat::parse(&text).map_err(|what| SynthError::Stat { path: stat_path.clone(), what })?;
    let ltp_path = out.join("ltp.txt");
    let ltp_text = std::fs::read_to_string(&ltp_path).map_err(io(&ltp_path))?;
    let longest = ltp::parse(&ltp_text).map_err(|what| SynthError::Stat { path: ltp_path.clone(), what })?;
    let utilization = Utilization {
        schema: SCHEMA.to_string(),
        yosys: parsed.creator,
        top,
        part: estimate.part.clone(),
        family: family.to_string(),
        script: "synth/yosys.ys".to_string(),
        counts: parsed.counts,
        longest_path: Some(longest),
    };
    let utilization_file = out.join("utilization.json");
    let json = serde_json::to_string_pretty(&utilization)
        .map_err(|e| SynthError::Stat { path: utilization_file.clone(), what: e.to_string() })?;
    write_atomic(&utilization_file, &(json + "\n"))?;
    Ok(Outcome { utilization, estimate, log, utilization_file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_is_the_module_nobody_instantiates() {
        let a = "module leaf(input a, output b); assign b = a; endmodule\n".to_string();
        let b = "// module fake\nmodule top(input x, output y);\n  leaf u0 (.a(x), .b(y));\nendmodule\n"
            .to_string();
        assert_eq!(infer_top(&[a.clone(), b.clone()]).unwrap(), "top");
        let c = "module other(input q); endmodule".to_string();
        let err = infer_top(&[a, b, c]).unwrap_err().to_string();
        assert!(err.contains("other") && err.contains("top") && err.contains("--top"), "{err}");
        assert!(infer_top(&[String::new()]).unwrap_err().to_string().contains("no module"));
    }

    #[test]
    fn families_follow_the_part() {
        assert_eq!(yosys_family("xcvu9p").unwrap(), "xcup");
        assert_eq!(yosys_family("xcu250-figd2104-2L-e").unwrap(), "xcup");
        assert_eq!(yosys_family("xcku115").unwrap(), "xcu");
        assert_eq!(yosys_family("xc7z020clg400-1").unwrap(), "xc7");
        assert_eq!(yosys_family("xczu7ev-ffvc1156-2-e").unwrap(), "xcup");
        assert_eq!(yosys_family("xcku040-ffva1156-2-e").unwrap(), "xcu");
        assert_eq!(yosys_family("xc7a35tcpg236-1").unwrap(), "xc7");
        assert!(yosys_family("nonesuch").is_err());
        assert!(matches!(yosys_family("xcvc1902"), Err(SynthError::Family { .. })));
    }

    #[test]
    fn the_script_reads_every_source_and_writes_the_stat() {
        let s = script(&["rtl/a.v".into(), "rtl/b.v".into()], "top", "xc7", "synth/stat.json");
        assert!(s.contains("read_verilog -sv rtl/a.v\nread_verilog -sv rtl/b.v\n"));
        assert!(s.contains("synth_xilinx -family xc7 -top top -flatten -noiopad -noclkbuf"));
        assert!(s.contains("tee -q -o synth/stat.json stat -json\ndelete t:FD* t:SRL*\n"));
        assert!(s.ends_with("tee -q -o synth/ltp.txt ltp -noff\n"));
    }
}
