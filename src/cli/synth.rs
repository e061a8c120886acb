//! `hls-gen synth DIR`: synthesizes a project's RTL with Yosys ([`crate::synth`]) and prints the
//! primitive counts beside the estimate's totals with relative errors; `--json` prints
//! `DIR/synth/utilization.json` as written. After the table: the longest register-to-register
//! path Yosys measured, and the timing model's critical stage from `report.json` beside it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::table::{self, Extra};
use super::CliError;
use crate::synth::{self, Options};

pub(super) fn run(
    dir: &Path,
    top: Option<&String>,
    yosys: &Path,
    time_limit: u64,
    json: bool,
) -> Result<i32, CliError> {
    if !dir.is_dir() {
        return Err(CliError::msg(format!("{}: not a project directory", dir.display())));
    }
    let time_limit = (time_limit > 0).then(|| Duration::from_secs(time_limit));
    let opts = Options { top: top.cloned(), yosys: PathBuf::from(yosys), time_limit };
    let out = synth::run(dir, &opts)?;
    let u = &out.utilization;
    if json {
        println!("{}", serde_json::to_string_pretty(u)?);
        return Ok(0);
    }
    println!(
        "{} synthesized by {} for {} (synth_xilinx -family {}); log: {}",
        u.top,
        u.yosys.as_deref().unwrap_or("yosys"),
        u.part,
        u.family,
        out.log.display()
    );
    let c = &u.counts;
    let extra =
        [("carry", c.carry), ("srl", c.srl), ("lutram", c.lutram), ("muxf", c.muxf), ("uram", c.uram)]
            .into_iter()
            .map(|(quantity, n)| Extra { quantity, stage: "yosys-synth", value: n as f64 })
            .collect::<Vec<_>>();
    print!("{}", table::comparison(&out.comparison(), &extra));
    if let (Some(lp), Some(ns)) = (&u.longest_path, out.measured_ns()) {
        let p = &lp.path;
        println!(
            "longest register-to-register path (yosys ltp, {} cells): {} LUTs, {} carry bits in {} chains, {} MUXF, {} DSP, {} other -> {ns:.2} ns with the {} cell delays",
            lp.length, p.luts, p.carry_bits, p.carry_chains, p.muxf, p.dsp, lp.other, out.delays().family
        );
        if let Some(t) = &out.estimate.timing {
            let c = &t.critical;
            println!(
                "timing model: critical stage '{}' stage {}: {} adder levels, {} LUTs, {} carry bits in {} chains -> {:.2} ns; measured / model = {:.0} %",
                c.layer,
                c.stage,
                c.adder_levels,
                c.path.luts,
                c.path.carry_bits,
                c.path.carry_chains,
                c.delay_ns,
                100.0 * ns / c.delay_ns
            );
        }
    }
    println!("wrote {}", out.utilization_file.display());
    Ok(0)
}
