//! Backends: turn a validated, lowered [`crate::ir::Graph`] into a project on disk.
//!
//! [`namer`] makes every identifier and file name, [`project`] holds a project in memory and writes
//! it atomically, [`top`] names the top-level interface every backend shares, [`testbench`] writes
//! the test vectors every project carries, [`vitis`] emits a Vitis HLS project and runs its C
//! simulation with g++, [`rtl`] emits pipelined Verilog with II 1, and [`verilator`] adds to every
//! project a Verilator testbench of its RTL and runs it. Backends read only the lowered IR and the
//! architecture decided for it ([`crate::arch`]); expected test outputs reach them as data from
//! the caller. Within `vitis` and `rtl`, each layer kind has its own file, named after it.

pub mod namer;
pub mod project;
pub mod rtl;
pub mod testbench;
pub mod top;
pub mod verilator;
pub mod vitis;

use std::path::PathBuf;
use thiserror::Error;

pub use project::Project;

/// Every error a backend reports; each names the layer, option, file or tool it concerns.
#[derive(Debug, Error)]
pub enum BackendError {
    #[error(transparent)]
    Graph(#[from] crate::ir::IrError),
    #[error(transparent)]
    Arch(#[from] crate::arch::ArchError),
    #[error("layer '{layer}': {what}")]
    Layer { layer: String, what: String },
    #[error("option {option}: {what}")]
    Option { option: &'static str, what: String },
    #[error("testbench data: {0}")]
    Testbench(String),
    #[error("template '{template}': {message}")]
    Template { template: String, message: String },
    #[error("project path '{}': {what}", path.display())]
    ProjectPath { path: PathBuf, what: String },
    #[error("'{}': {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{}' exists and is not empty; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    #[error(
        "'{}' is not a project hls-gen wrote (it holds no {} file), so --force does not replace it: \
         remove it yourself or choose another output directory",
        .0.display(),
        project::MARKER
    )]
    NotAProject(PathBuf),
    #[error("'{}' exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot run {tool}: {source}")]
    Tool {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the testbench did not compile:\n{output}")]
    Compile { output: String },
    #[error("no Verilog for top '{top}': looked in {looked}; for a Vitis HLS project run C synthesis first (vitis_hls -f build_prj.tcl)")]
    NoRtl { top: String, looked: String },
    #[error("the C simulation did not report a result:\n{output}")]
    CsimOutput { output: String },
}

/// Runs a built testbench `exe` in `dir` with `args`, appends its standard output and error to
/// `output`, and returns its exit status and standard output.
pub(crate) fn run_testbench(
    exe: &std::path::Path,
    dir: &std::path::Path,
    args: &[&std::ffi::OsStr],
    output: &mut String,
) -> Result<(std::process::ExitStatus, String), BackendError> {
    let run = std::process::Command::new(exe)
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|source| BackendError::Tool { tool: exe.display().to_string(), source })?;
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    output.push_str(&stdout);
    output.push_str(&String::from_utf8_lossy(&run.stderr));
    Ok((run.status, stdout))
}

impl BackendError {
    pub(crate) fn layer(layer: &str, what: impl Into<String>) -> Self {
        BackendError::Layer { layer: layer.to_string(), what: what.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BackendError::Io { path: path.into(), source }
    }
}
