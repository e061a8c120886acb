//! `hls-gen rtlsim`: builds the project's Verilator testbench (in `verilator/obj_dir`) and runs it
//! on the project's RTL; passes only when every output matches the simulator's bit for bit.

use std::path::Path;

use super::CliError;
use crate::backend::verilator::run_rtlsim;

pub(super) fn run(dir: &Path) -> Result<i32, CliError> {
    let outcome = run_rtlsim(dir)?;
    let num = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
    if outcome.passed {
        // A streaming design's testbench reports its figures against the dataflow model's.
        for line in outcome.output.lines().filter(|l| l.starts_with("stream ")) {
            println!("{line}");
        }
        println!(
            "rtlsim PASSED: {} samples, outputs equal the simulator's bit for bit; latency {} cycles, II {}",
            num(outcome.samples.map(|n| n as u64)),
            num(outcome.latency),
            num(outcome.ii)
        );
        Ok(0)
    } else {
        eprintln!("{}", outcome.output.trim_end());
        eprintln!(
            "rtlsim FAILED: {} mismatching values{}; latency {} cycles, II {}",
            num(outcome.mismatches.map(|n| n as u64)),
            outcome.exit_code.map(|c| format!(" (exit code {c})")).unwrap_or_default(),
            num(outcome.latency),
            num(outcome.ii)
        );
        Ok(1)
    }
}
