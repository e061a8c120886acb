//! `hls-gen inspect`: the lowered, typed graph as a table.

use super::{print_runs, print_warnings, CliError, ModelArgs};
use crate::flow::load_and_lower;
use crate::ir::{Layer, NodeId};

pub(super) fn run(args: &ModelArgs) -> Result<i32, CliError> {
    let lowered = load_and_lower(&args.model, &args.flow()?)?;
    print_warnings(&lowered.config, &lowered.warnings);
    print_runs(&lowered.runs);
    let g = &lowered.graph;
    println!("model {} ({})", g.name, args.model.display());
    let order = g.topo_order()?;
    let mut rows = vec![[
        "layer".to_string(),
        "kind".into(),
        "inputs".into(),
        "shape".into(),
        "type".into(),
        "weights".into(),
        "accum".into(),
        "rf".into(),
        "strategy".into(),
        "MACs".into(),
    ]];
    let mut total_macs = 0;
    for &id in &order {
        let n = g.node(id);
        let kind = n.layer.variant().unwrap_or(n.layer.kind()).to_string();
        let inputs: Vec<String> = g.inputs_of(id).iter().map(|&i: &NodeId| g.node(i).name.clone()).collect();
        let weights: Vec<String> = n
            .layer
            .constants()
            .iter()
            .map(|(role, w)| format!("{role}:{}", w.ty.map(|t| t.to_string()).unwrap_or_else(|| "?".into())))
            .collect();
        let accum = match &n.layer {
            Layer::Dense(d) => d.accum.map(|t| t.to_string()).unwrap_or_default(),
            Layer::Conv(c) => c.accum.map(|t| t.to_string()).unwrap_or_default(),
            Layer::Pool(p) => p.reciprocal.map(|t| format!("1/n:{t}")).unwrap_or_default(),
            Layer::Reduce(r) => r.reciprocal.map(|t| format!("1/n:{t}")).unwrap_or_default(),
            Layer::Pad(_)
            | Layer::UpSample(_)
            | Layer::Transpose(_)
            | Layer::GatherRows(_)
            | Layer::ScatterAdd(_) => String::new(),
            Layer::Input(_)
            | Layer::BatchNorm(_)
            | Layer::Activation(_)
            | Layer::Softmax(_)
            | Layer::Elementwise(_)
            | Layer::Concatenate(_)
            | Layer::Reshape(_)
            | Layer::Quantize(_) => String::new(),
        };
        let macs = g.work(id).macs;
        total_macs += macs;
        rows.push([
            n.name.clone(),
            kind,
            inputs.join(","),
            n.shape.extents(),
            n.ty.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
            weights.join(" "),
            accum,
            n.reuse_factor.to_string(),
            n.strategy.name().to_string(),
            if macs > 0 { macs.to_string() } else { String::new() },
        ]);
    }
    let widths: Vec<usize> =
        (0..10).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for r in &rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        println!("{}", line.join("  ").trim_end());
    }
    let outputs: Vec<&str> = g.outputs().iter().map(|&o| g.node(o).name.as_str()).collect();
    println!("outputs: {}; total MACs (nonzero weights): {total_macs}", outputs.join(", "));
    Ok(0)
}
