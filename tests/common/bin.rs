//! Running the `hls-gen` binary from integration tests, as users run it.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The crate root; the binary runs from here.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `hls-gen` with `args` from the crate root.
pub fn hls_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hls-gen")).args(args).current_dir(root()).output().expect("runs")
}

/// Standard output then standard error.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
