//! `hls-gen profile`: runs the fixed-point model and the `f64` reference over calibration inputs,
//! prints per-layer ranges, overflows and unused bits, and with `--auto-precision` searches
//! per-layer types and writes them as an hls4ml configuration. `--html` and `--json` write the
//! report (of the chosen types after `--auto-precision`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::sim::run_with_progress;
use super::table::aligned;
use super::{npz, print_runs, print_warnings, quiet, CliError, ModelArgs, TargetArgs};
use crate::estimate;
use crate::flow::{join_inputs, load_and_lower, load_float};
use crate::ir::LoweredGraph;
use crate::profile::auto::{self, AutoOptions, Search};
use crate::profile::{self, html, CostTotals, Profile};
use crate::sim::Simulator;

pub(super) struct ProfileArgs<'a> {
    pub input: &'a [PathBuf],
    /// `None` without `--auto-precision`.
    pub auto: Option<AutoOptions>,
    pub write_config: Option<&'a PathBuf>,
    pub html: Option<&'a PathBuf>,
    pub json: Option<&'a PathBuf>,
}

/// The part and clock to estimate with, when a part is known.
struct Costing {
    part: estimate::Part,
    target: super::Target,
}

impl Costing {
    fn estimate(&self, g: &LoweredGraph) -> Result<estimate::Estimate, CliError> {
        Ok(self.target.estimate(g, &self.part)?)
    }
}

pub(super) fn run(args: &ModelArgs, target: &TargetArgs, p: &ProfileArgs<'_>) -> Result<i32, CliError> {
    let flow = args.flow()?;
    let cfg = flow.config()?;
    let costing = if target.part.is_some() || cfg.part.is_some() {
        let t = target.resolve(&cfg)?;
        Some(Costing { part: estimate::lookup_part(&t.part)?, target: t })
    } else {
        None
    };
    let lowered = load_and_lower(&args.model, &flow)?;
    print_warnings(&cfg, &lowered.warnings);
    print_runs(&lowered.runs);
    let float = load_float(&args.model, &flow)?;
    let arrays = npz::read_all(p.input)?;
    let (inputs, n) = join_inputs(&lowered.graph, &arrays)?;
    let name = args.model.display().to_string();
    let fixed_run = run_with_progress(&Simulator::new(&lowered.graph)?, &inputs, n, true)?;
    let float_run = run_with_progress(&Simulator::new_float(&float.graph)?, &inputs, n, true)?;
    let mut before =
        profile::assemble(&name, &lowered.graph, Some(&float.graph), &fixed_run, Some(&float_run), n);
    let est_before = costing.as_ref().map(|c| c.estimate(&lowered.graph)).transpose()?;
    if let Some(e) = &est_before {
        before.set_cost(e);
    }
    println!("profile of {name} on {n} samples");
    print!("{}", summary(&before));
    if costing.is_none() && !quiet() {
        eprintln!("note: give --part (or Part in the configuration) for resource estimates");
    }
    let report = match p.auto {
        None => before,
        Some(opts) => {
            let spinner = spinner();
            let on_step = |what: &str| {
                if let Some(s) = &spinner {
                    s.set_message(what.to_string());
                    s.inc(1);
                }
            };
            let cost = |g: &LoweredGraph| {
                costing.as_ref().and_then(|c| c.estimate(g).ok()).map(|e| e.total.lut + e.total.dsp)
            };
            let search = Search {
                model: &args.model,
                flow: &flow,
                config: &cfg,
                inputs: &inputs,
                n,
                reference: &float_run,
                opts,
                on_step: &on_step,
                cost: costing.is_some().then_some(&cost as &auto::CostFn<'_>),
            };
            let found = auto::search(&search, &before, &lowered.graph);
            if let Some(s) = &spinner {
                s.finish_and_clear();
            }
            let found = found?;
            let path = p.write_config.cloned().unwrap_or_else(|| default_config_path(&args.model));
            std::fs::write(&path, &found.yaml)
                .map_err(|e| CliError::msg(format!("{}: {e}", path.display())))?;
            let chosen_run = run_with_progress(&Simulator::new(&found.last.graph)?, &inputs, n, true)?;
            let mut after = profile::assemble(
                &name,
                &found.last.graph,
                Some(&float.graph),
                &chosen_run,
                Some(&float_run),
                n,
            );
            let est_after = costing.as_ref().map(|c| c.estimate(&found.last.graph)).transpose()?;
            if let Some(e) = &est_after {
                after.set_cost(e);
            }
            let mut auto_report = found.report(&before, Some(path.display().to_string()));
            auto_report.after = after.cost.clone();
            print!("\nautomatic precision ({} candidates simulated):\n", found.evaluations);
            let mut cells = vec![["layer", "tensor", "before", "chosen"].map(str::to_string).to_vec()];
            for c in &auto_report.choices {
                cells.push(vec![
                    c.layer.clone(),
                    c.tensor.clone(),
                    c.before.clone().unwrap_or_default(),
                    c.ty.clone(),
                ]);
            }
            print!("{}", aligned(&cells, 4));
            println!(
                "overflows: {} (and {} more that the criteria leave out: table indices clamped at the table's edge and the model's own quantizers); argmax agreement: {}; largest output error: {}",
                auto_report.overflows,
                auto_report.all_overflows.saturating_sub(auto_report.overflows),
                auto_report.agreement.argmax.map_or_else(|| "n/a".into(), |a| format!("{:.2}%", 100.0 * a)),
                auto_report.agreement.max_abs_error
            );
            if let (Some(b), Some(a)) = (&auto_report.before, &auto_report.after) {
                print!("{}", cost_table(b, a));
            }
            println!(
                "wrote {}; use it with: hls-gen compile {} --config {}",
                path.display(),
                name,
                path.display()
            );
            after.auto = Some(auto_report);
            after
        }
    };
    if let Some(f) = p.json {
        std::fs::write(f, report.to_json()).map_err(|e| CliError::msg(format!("{}: {e}", f.display())))?;
    }
    if let Some(f) = p.html {
        let page = html::render(&report, &format!("hls-gen profile: {}", file_name(&args.model)));
        std::fs::write(f, page).map_err(|e| CliError::msg(format!("{}: {e}", f.display())))?;
    }
    Ok(0)
}

fn file_name(model: &Path) -> String {
    model.file_name().map_or_else(|| model.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// `<model stem>_auto.yml` in the current directory.
fn default_config_path(model: &Path) -> PathBuf {
    let stem = model.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}_auto.yml"))
}

/// A spinner naming the search's current step, unless `-q`.
fn spinner() -> Option<ProgressBar> {
    if quiet() {
        return None;
    }
    let s = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {pos} candidates: {msg}") {
        s.set_style(style);
    }
    s.enable_steady_tick(Duration::from_millis(200));
    Some(s)
}

fn cost_table(b: &CostTotals, a: &CostTotals) -> String {
    let mut cells =
        vec![["estimate", "LUT", "DSP", "LUT+DSP", "FF", "BRAM18", "latency"].map(str::to_string).to_vec()];
    for (label, c) in [("before", b), ("after", a)] {
        cells.push(vec![
            format!("{label} ({})", c.part),
            c.lut.to_string(),
            c.dsp.to_string(),
            (c.lut + c.dsp).to_string(),
            c.ff.to_string(),
            c.bram18.to_string(),
            c.latency_cycles.to_string(),
        ]);
    }
    aligned(&cells, 1)
}

/// One row per layer tensor: type, range, overflows and unused bits.
fn summary(p: &Profile) -> String {
    let header =
        ["layer", "tensor", "type", "min", "max", "float min", "float max", "overflows", "unused msb/lsb"];
    let mut cells = vec![header.map(str::to_string).to_vec()];
    let g = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.6}"));
    for l in &p.layers {
        for t in &l.tensors {
            let overflows = match (t.overflows, t.casts) {
                (Some(o), Some(c)) => format!("{o}/{c}"),
                _ => String::new(),
            };
            let unused = match (t.unused_msb, t.unused_lsb) {
                (Some(m), Some(l)) => format!("{m}/{l}"),
                _ => String::new(),
            };
            cells.push(vec![
                l.name.clone(),
                t.tensor.to_string(),
                t.type_name.clone().unwrap_or_default(),
                g(t.min),
                g(t.max),
                g(t.float_min),
                g(t.float_max),
                overflows,
                unused,
            ]);
        }
    }
    let mut out = aligned(&cells, 3);
    if let Some(a) = &p.agreement {
        if let Some(x) = a.argmax {
            out += &format!("argmax agreement with the f64 reference: {:.2}%; ", 100.0 * x);
        }
        out += &format!("largest output difference: {}\n", a.max_abs_error);
    }
    if let Some(c) = &p.cost {
        out += &format!(
            "estimate on {}: {} LUT, {} DSP, {} FF, {} BRAM18, {} cycles\n",
            c.part, c.lut, c.dsp, c.ff, c.bram18, c.latency_cycles
        );
    }
    out
}
