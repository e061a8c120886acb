//! `sweep collect`: every point's result gathered into one table ([`Row`], in id order) with the
//! two Pareto fronts marked, written as `results.csv`, `results.json` and `results.html`
//! (atomically). Unfinished points appear with status `not run`.
//!
//! Cost is LUT + DSP, measured by the point's synthesis when it has both counts, else estimated;
//! latency is Vitis HLS' measured worst case when synthesized with it, else the estimate's (exact
//! for the RTL backend). Quality is the argmax agreement with the float model (0 for every point
//! without accuracy inputs, so the fronts are then the cheapest points). Points that failed or did
//! not run take no part in the fronts.

use serde::Serialize;

use super::point::{Accuracy, EstimateTotals, SynthFigures};
use super::{pareto, to_json, write_atomic, AxisValues, Sweep, SweepError};

pub const RESULTS_SCHEMA: &str = "hls-gen-sweep-results/1";

/// One point in the collected results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub id: String,
    pub values: AxisValues,
    /// `ok`, `error` or `not run`.
    pub status: &'static str,
    pub estimate: Option<EstimateTotals>,
    pub accuracy: Option<Accuracy>,
    pub synth: Option<SynthFigures>,
    pub error: Option<String>,
    /// LUT + DSP (see the module documentation).
    pub cost: Option<u64>,
    pub latency_cycles: Option<u64>,
    pub pareto_cost: bool,
    pub pareto_latency: bool,
}

/// `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    pub schema: &'static str,
    pub model: String,
    pub part: String,
    pub clock_ns: f64,
    pub points: Vec<Row>,
}

/// Reads every point's result.
pub fn gather(sweep: &Sweep) -> Result<Results, SweepError> {
    let mut rows = Vec::with_capacity(sweep.ids.len());
    let planned = super::axes::points(&sweep.spec)?;
    for (k, id) in sweep.ids.iter().enumerate() {
        let values = planned.get(k).map(|p| p.values.clone()).unwrap_or_default();
        let row = match sweep.result(id)? {
            None => Row {
                id: id.clone(),
                values,
                status: "not run",
                estimate: None,
                accuracy: None,
                synth: None,
                error: None,
                cost: None,
                latency_cycles: None,
                pareto_cost: false,
                pareto_latency: false,
            },
            Some(r) => {
                let measured = r.synth.as_ref().and_then(|s| Some(s.lut? + s.dsp?));
                let estimated = r.estimate.as_ref().map(|e| e.lut + e.dsp);
                let latency = r.synth.as_ref().and_then(|s| s.latency_cycles);
                Row {
                    id: id.clone(),
                    values: r.values,
                    status: if r.error.is_some() { "error" } else { "ok" },
                    cost: measured.or(estimated),
                    latency_cycles: latency.or(r.estimate.as_ref().map(|e| e.latency_cycles)),
                    estimate: r.estimate,
                    accuracy: r.accuracy,
                    synth: r.synth,
                    error: r.error,
                    pareto_cost: false,
                    pareto_latency: false,
                }
            }
        };
        rows.push(row);
    }
    let quality = |r: &Row| r.accuracy.as_ref().and_then(|a| a.argmax).unwrap_or(0.0);
    let by = |cost: fn(&Row) -> Option<u64>| {
        let pts: Vec<Option<(f64, u64)>> = rows
            .iter()
            .map(|r| if r.status == "ok" { cost(r).map(|c| (quality(r), c)) } else { None })
            .collect();
        pareto::front(&pts)
    };
    let (fc, fl) = (by(|r| r.cost), by(|r| r.latency_cycles));
    for ((r, c), l) in rows.iter_mut().zip(fc).zip(fl) {
        r.pareto_cost = c;
        r.pareto_latency = l;
    }
    let c = &sweep.spec.common;
    Ok(Results {
        schema: RESULTS_SCHEMA,
        model: c.model.display().to_string(),
        part: c.part.clone(),
        clock_ns: c.clock_ns,
        points: rows,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

pub const CSV_HEADER: &str =
    "id,precision,reuse_factor,strategy,prune_below,status,latency_cycles,latency_ns,ii,\
lut,dsp,ff,bram18,accuracy,max_abs_error,synth_tool,synth_lut,synth_ff,synth_dsp,synth_bram18,synth_carry,\
synth_latency_cycles,cost_lut_dsp,pareto_cost,pareto_latency,error";

/// `results.csv`: one header line ([`CSV_HEADER`]) and one line per point; numbers in Rust's
/// shortest round-trip form, empty fields for what was not measured.
pub fn to_csv(r: &Results) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for p in &r.points {
        let (v, e, a, s) = (&p.values, p.estimate.as_ref(), p.accuracy.as_ref(), p.synth.as_ref());
        let tool = s.map(|s| match s.tool {
            super::SynthTool::Yosys => "yosys",
            super::SynthTool::Vitis => "vitis",
        });
        let fields = [
            p.id.clone(),
            opt(v.precision.as_deref()),
            opt(v.reuse_factor),
            opt(v.strategy.as_deref()),
            opt(v.prune_below),
            p.status.to_string(),
            opt(e.map(|e| e.latency_cycles)),
            opt(e.map(|e| e.latency_ns)),
            opt(e.map(|e| e.ii)),
            opt(e.map(|e| e.lut)),
            opt(e.map(|e| e.dsp)),
            opt(e.map(|e| e.ff)),
            opt(e.map(|e| e.bram18)),
            opt(a.and_then(|a| a.argmax)),
            opt(a.and_then(|a| a.max_abs_error)),
            opt(tool),
            opt(s.and_then(|s| s.lut)),
            opt(s.and_then(|s| s.ff)),
            opt(s.and_then(|s| s.dsp)),
            opt(s.and_then(|s| s.bram18)),
            opt(s.and_then(|s| s.carry)),
            opt(s.and_then(|s| s.latency_cycles)),
            opt(p.cost),
            p.pareto_cost.to_string(),
            p.pareto_latency.to_string(),
            opt(p.error.as_deref()),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// Gathers the results and writes `results.csv`, `results.json` and `results.html` into the
/// sweep directory.
pub fn collect(sweep: &Sweep) -> Result<Results, SweepError> {
    let r = gather(sweep)?;
    write_atomic(&sweep.dir.join("results.csv"), to_csv(&r).as_bytes())?;
    write_atomic(&sweep.dir.join("results.json"), to_json(&r).as_bytes())?;
    let title = format!("hls-gen sweep: {}", r.model.rsplit('/').next().unwrap_or(&r.model));
    write_atomic(&sweep.dir.join("results.html"), super::html::render(&r, &title).as_bytes())?;
    Ok(r)
}
