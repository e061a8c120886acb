//! `hls-gen csim`: builds the project's testbench with g++ against the ap_types headers and runs
//! it; passes only when every output matches the simulator's bit for bit.

use std::path::{Path, PathBuf};

use super::CliError;
use crate::backend::vitis::{run_csim, CppStd};

pub(super) fn run(dir: &Path, ap_types: Option<&PathBuf>, cpp17: bool) -> Result<i32, CliError> {
    let headers = match ap_types {
        Some(p) => p.clone(),
        None => match std::env::var_os("HLS_GEN_AP_TYPES") {
            Some(p) => PathBuf::from(p),
            None => {
                return Err(CliError::msg(
                    "no ap_types headers: pass --ap-types PATH or set HLS_GEN_AP_TYPES (scripts/fetch_ap_types.sh fetches them)",
                ))
            }
        },
    };
    let std = if cpp17 { CppStd::Cpp17 } else { CppStd::Cpp14 };
    let outcome = run_csim(dir, &headers, std)?;
    if outcome.passed {
        println!(
            "csim PASSED: {} samples, outputs equal the simulator's bit for bit",
            outcome.samples.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
        );
        Ok(0)
    } else {
        eprintln!("{}", outcome.output.trim_end());
        eprintln!(
            "csim FAILED: {} mismatching values{}",
            outcome.mismatches.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
            outcome.exit_code.map(|c| format!(" (exit code {c})")).unwrap_or_default()
        );
        Ok(1)
    }
}
