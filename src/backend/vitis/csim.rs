//! C simulation of an emitted project with g++: compile the testbench against Xilinx's ap_types
//! headers and run it from the project directory.
//!
//! Flags: `-std=c++14|17 -O2 -Wall -Wextra -Wno-unknown-pragmas` (g++ does not know `#pragma
//! HLS`), ap_types included with `-isystem`, and [`NO_ACCESS_WARNINGS`]. The testbench and the
//! top function compile at the same time, as two g++ processes, then link. The executable is
//! built in a temporary directory; the project gains only the testbench's
//! `tb_data/csim_outputs.txt`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::backend::BackendError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CppStd {
    Cpp14,
    Cpp17,
}

impl CppStd {
    pub fn flag(self) -> &'static str {
        match self {
            CppStd::Cpp14 => "-std=c++14",
            CppStd::Cpp17 => "-std=c++17",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsimOutcome {
    /// True when the testbench exited with 0 after reporting zero mismatches.
    pub passed: bool,
    /// From the testbench's summary line; `None` when it stopped before printing it.
    pub samples: Option<usize>,
    pub mismatches: Option<usize>,
    pub exit_code: Option<i32>,
    /// The compiler's diagnostics, then the testbench's standard output and error.
    pub output: String,
}

/// Turns off GCC 12's pointer-access warnings (`-Wfree-nonheap-object` and its kin, some on by
/// default), whose analysis pass (`-ftime-report`: "access analysis") spends most of a
/// firmware's compile time in the initializers of its constant weight arrays: 17.0 to 8.2 s for
/// the 16-64-32-32-5 MLP's top function at `-O2`. The code they check is ap_types' and the
/// static arrays'; nothing there frees or reallocates memory.
pub const NO_ACCESS_WARNINGS: [&str; 9] = [
    "-Wno-free-nonheap-object",
    "-Wno-mismatched-new-delete",
    "-Wno-mismatched-dealloc",
    "-Wno-stringop-overflow",
    "-Wno-stringop-overread",
    "-Wno-dangling-pointer",
    "-Wno-use-after-free",
    "-Wno-array-bounds",
    "-Wno-nonnull",
];

/// The `NAME` of the single `NAME_test.cpp` in `dir`.
fn project_name(dir: &Path) -> Result<String, BackendError> {
    let entries = std::fs::read_dir(dir).map_err(|e| BackendError::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| BackendError::io(dir, e))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix("_test.cpp") {
            names.push(stem.to_string());
        }
    }
    names.sort();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] if dir.join("rtl").is_dir() => Err(BackendError::ProjectPath {
            path: dir.to_path_buf(),
            what: "is an RTL backend project, which has no C testbench: run `hls-gen rtlsim` on it".into(),
        }),
        _ => Err(BackendError::ProjectPath {
            path: dir.to_path_buf(),
            what: format!("holds {} testbenches (*_test.cpp); expected one", names.len()),
        }),
    }
}

/// Waits for a g++ process, appends its diagnostics to `output` and says whether it succeeded.
fn collect(child: std::process::Child, output: &mut String) -> Result<bool, BackendError> {
    let done =
        child.wait_with_output().map_err(|source| BackendError::Tool { tool: "g++".into(), source })?;
    output.push_str(&String::from_utf8_lossy(&done.stderr));
    output.push_str(&String::from_utf8_lossy(&done.stdout));
    Ok(done.status.success())
}

fn summary(stdout: &str) -> Option<(usize, usize)> {
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("hls-gen csim: "))?;
    let mut words = line.split_whitespace();
    let samples = words.next()?.parse().ok()?;
    let _ = words.next();
    let mismatches = words.next()?.parse().ok()?;
    Some((samples, mismatches))
}

/// Compiles and runs the testbench of the project in `dir`.
pub fn run_csim(dir: &Path, ap_types: &Path, std: CppStd) -> Result<CsimOutcome, BackendError> {
    let name = project_name(dir)?;
    let ap_types: PathBuf = std::path::absolute(ap_types).map_err(|e| BackendError::io(ap_types, e))?;
    if !ap_types.join("ap_fixed.h").is_file() {
        return Err(BackendError::Option {
            option: "--ap-types (or HLS_GEN_AP_TYPES)",
            what: format!(
                "'{}' holds no ap_fixed.h: give the directory of the ap_types headers (scripts/fetch_ap_types.sh \
                 fetches them)",
                ap_types.display()
            ),
        });
    }
    let build =
        tempfile::Builder::new().prefix("hls-gen-csim-").tempdir().map_err(|e| BackendError::io(dir, e))?;
    let exe = build.path().join("csim");
    let gxx = |args: &[&std::ffi::OsStr]| {
        Command::new("g++")
            .current_dir(dir)
            .args([std.flag(), "-O2", "-Wall", "-Wextra", "-Wno-unknown-pragmas"])
            .args(NO_ACCESS_WARNINGS)
            .arg("-isystem")
            .arg(&ap_types)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| BackendError::Tool { tool: "g++".into(), source })
    };
    let sources = [format!("{name}_test.cpp"), format!("firmware/{name}.cpp")];
    let objects = [build.path().join("test.o"), build.path().join("top.o")];
    let mut output = String::new();
    let mut failed = false;
    let running = sources
        .iter()
        .zip(&objects)
        .map(|(src, obj)| gxx(&["-c".as_ref(), src.as_ref(), "-o".as_ref(), obj.as_os_str()]))
        .collect::<Result<Vec<_>, _>>()?;
    for child in running {
        failed |= !collect(child, &mut output)?;
    }
    if !failed {
        let link = gxx(&[objects[0].as_os_str(), objects[1].as_os_str(), "-o".as_ref(), exe.as_os_str()])?;
        failed = !collect(link, &mut output)?;
    }
    if failed {
        return Err(BackendError::Compile { output });
    }
    let (status, stdout) = crate::backend::run_testbench(&exe, dir, &[], &mut output)?;
    let counts = summary(&stdout);
    Ok(CsimOutcome {
        passed: status.success() && counts.is_some_and(|(_, m)| m == 0),
        samples: counts.map(|c| c.0),
        mismatches: counts.map(|c| c.1),
        exit_code: status.code(),
        output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_line() {
        assert_eq!(summary("mismatch: ...\nhls-gen csim: 12 samples, 3 mismatches\n"), Some((12, 3)));
        assert_eq!(summary("error: x\n"), None);
    }
}
