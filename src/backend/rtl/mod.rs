//! RTL backend: emits synthesizable Verilog-2005 for a lowered graph, fully parallel (reuse
//! factor 1) and pipelined with initiation interval 1, multiplier-free (constant products are
//! shift-and-add), bit-exact with the simulator.
//!
//! [`emit`] builds the project in memory:
//!
//! | path | contents |
//! |---|---|
//! | `rtl/NAME.v` | top module `NAME`: the Vitis HLS port interface (see [`crate::backend::top`]) |
//! | `rtl/NAME__<layer>.v` | one module per layer: input bus `x`, registered output bus `y` |
//! | `verilator/` | the Verilator testbench and Makefile ([`crate::backend::verilator`]) |
//! | `tb_data/inputs.txt`, `tb_data/expected.txt` | test vectors (the C-simulation format) |
//! | `README.md` | what is where, how to simulate and synthesize |
//!
//! **Timing contract.** Each Dense layer takes `stages` cycles, every other layer one cycle,
//! except a `Reshape` to the same type (wiring, no cycle); outputs on shorter paths are delayed
//! to the longest, whose length is [`latency_cycles`] (at least 1). The top accepts a sample in
//! every cycle where `ap_start` and the input's `_ap_vld` are high (`ap_ready` says so) and
//! raises each output's `_ap_vld` and `ap_done` exactly [`latency_cycles`] cycles later.
//! `ap_idle` is high when no sample is in flight and `ap_start` is low. `ap_rst` (synchronous,
//! active high) clears only the valid pipeline; data registers are free-running.
//!
//! **Supported layers.** `Dense` (reuse factor 1; accumulators exact or wrapping without
//! rounding, see `dense.rs`), `BatchNorm`, `Activation` (all kinds), `Quantize`, `Reshape`.
//! `Softmax` and `Elementwise` are refused: [`emit`] and [`latency_cycles`] name every such layer
//! at once, and never produce a partial design.

mod activation;
mod cast;
mod dense;
mod netlist;

use std::collections::BTreeMap;

use crate::backend::top::TopInterface;
use crate::backend::vitis::TestbenchData;
use crate::backend::{verilator, BackendError, Project};
use crate::fixed::FixedType;
use crate::ir::{validate, Activation, Graph, Layer, NodeId, Stage};
use netlist::{Module, Val};

pub use cast::round;

/// Options of the RTL backend.
#[derive(Debug, Clone, PartialEq)]
pub struct RtlOptions {
    /// Name of the project and its top module; sanitized into an identifier.
    pub project_name: String,
    /// Register stages per Dense layer (at least 1; extra ones go inside the adder trees).
    pub pipeline_stages: u32,
}

/// Cycles one layer adds on its path.
pub fn layer_cycles(g: &Graph, id: NodeId, stages: u32) -> Result<u64, BackendError> {
    let node = g.node(id);
    Ok(match &node.layer {
        Layer::Input => 0,
        Layer::Dense(_) => dense::cycles(stages),
        Layer::Reshape => {
            let from = g.inputs_of(id).first().map(|&i| g.node(i).out_ty()).transpose()?;
            u64::from(from != Some(node.out_ty()?))
        }
        Layer::BatchNorm(_) | Layer::Activation(_) | Layer::Quantize => 1,
        Layer::Softmax(_) | Layer::Elementwise(_) => {
            return Err(unsupported(g, &[id]));
        }
    })
}

fn unsupported(g: &Graph, ids: &[NodeId]) -> BackendError {
    let names: Vec<String> =
        ids.iter().map(|&i| format!("'{}' ({})", g.node(i).name, g.node(i).layer.kind())).collect();
    let output_softmax =
        ids.iter().any(|&i| matches!(g.node(i).layer, Layer::Softmax(_)) && g.outputs().contains(&i));
    let hint = if output_softmax {
        "; an output softmax can be left out with --drop-output-softmax (the argmax is unchanged)"
    } else {
        ""
    };
    BackendError::Unsupported {
        backend: "rtl",
        what: format!(
            "{} layer(s) cannot be built yet: {} (supported: dense, batch_norm, activation, quantize, reshape){hint}",
            names.len(),
            names.join(", ")
        ),
    }
}

/// Checks that every layer can be built: supported kinds, reuse factor 1, `stages >= 1`.
fn check(g: &Graph, stages: u32) -> Result<(), BackendError> {
    validate(g, Stage::Lowered)?;
    if stages == 0 {
        return Err(BackendError::Option { option: "pipeline stages", what: "must be at least 1".into() });
    }
    let order = g.topo_order()?;
    let bad: Vec<NodeId> = order
        .iter()
        .copied()
        .filter(|&id| matches!(g.node(id).layer, Layer::Softmax(_) | Layer::Elementwise(_)))
        .collect();
    if !bad.is_empty() {
        return Err(unsupported(g, &bad));
    }
    let reused: Vec<String> = order
        .iter()
        .filter(|&&id| g.node(id).reuse_factor > 1)
        .map(|&id| format!("'{}' (reuse factor {})", g.node(id).name, g.node(id).reuse_factor))
        .collect();
    if !reused.is_empty() {
        return Err(BackendError::Unsupported {
            backend: "rtl",
            what: format!(
                "the RTL design is fully parallel (reuse factor 1); these layers ask for more: {}",
                reused.join(", ")
            ),
        });
    }
    Ok(())
}

/// Cycles from a sample's start to its outputs' valid: the longest path (at least 1).
pub fn latency_cycles(g: &Graph, stages: u32) -> Result<u64, BackendError> {
    check(g, stages)?;
    Ok(arrivals(g, stages)?.1)
}

/// The cycle each node's tensor is ready, and the latency of the design.
fn arrivals(g: &Graph, stages: u32) -> Result<(BTreeMap<NodeId, u64>, u64), BackendError> {
    let mut at = BTreeMap::new();
    for id in g.topo_order()? {
        let start = g.inputs_of(id).iter().map(|i| at[i]).max().unwrap_or(0);
        at.insert(id, start + layer_cycles(g, id, stages)?);
    }
    let latency = g.outputs().iter().map(|o| at[o]).max().unwrap_or(0).max(1);
    Ok((at, latency))
}

/// The range of every raw value of `ty`.
fn type_range(ty: &FixedType) -> (i128, i128) {
    (ty.min_raw(), ty.max_raw())
}

/// A tensor between layers: its bus in the top module and the range of each element.
struct Tensor {
    bus: String,
    ty: FixedType,
    ranges: Vec<(i128, i128)>,
}

fn header(name: &str, what: &str) -> String {
    format!("// {name}: {what}\n// Generated by hls-gen; do not edit.\n`default_nettype none\n")
}

/// Builds one layer's module; returns its text and the ranges of its outputs.
fn layer_module(
    g: &Graph,
    id: NodeId,
    module: &str,
    x: &Tensor,
    stages: u32,
) -> Result<(String, Vec<(i128, i128)>), BackendError> {
    let node = g.node(id);
    let name = node.name.as_str();
    let out = node.out_ty()?;
    let elements = node.shape.elements();
    let channels = node.shape.channels();
    let mut m = Module::new();
    let in_bits = x.ranges.len() as u32 * x.ty.width;
    m.track("x", in_bits);
    let xs: Vec<Val> = x
        .ranges
        .iter()
        .enumerate()
        .map(|(e, &(lo, hi))| {
            let w = x.ty.width;
            let bits = m.slice_of("x", in_bits, (e as u32 + 1) * w - 1, e as u32 * w);
            m.wire("x", lo, hi, 0, Some(w), &bits)
        })
        .collect();
    let fx = i64::from(x.ty.frac_bits());
    let ys: Vec<Val> = match &node.layer {
        Layer::Dense(d) => dense::build(&mut m, name, d, &xs, fx, &out, stages)?,
        Layer::Activation(Activation::Sigmoid(t)) | Layer::Activation(Activation::Tanh(t)) => {
            activation::rom(&mut m, name, t, &out)?;
            xs.iter()
                .map(|x| {
                    let y = activation::lookup(&mut m, t, x, fx, &out);
                    m.reg(&y)
                })
                .collect()
        }
        Layer::Activation(a) => {
            let mut ys = Vec::new();
            for (e, x) in xs.iter().enumerate() {
                let t = activation::pointwise(
                    &mut m,
                    &activation::Site { layer: name, e, channels, elements },
                    a,
                    x,
                    fx,
                )?;
                ys.push(activation::finish(&mut m, &t, &out));
            }
            ys
        }
        Layer::BatchNorm(b) => {
            let mut ys = Vec::new();
            for (e, x) in xs.iter().enumerate() {
                let t = activation::batch_norm(
                    &mut m,
                    &activation::Site { layer: name, e, channels, elements },
                    b,
                    x,
                    fx,
                )?;
                ys.push(activation::finish(&mut m, &t, &out));
            }
            ys
        }
        Layer::Quantize | Layer::Reshape => xs
            .iter()
            .map(|x| activation::finish(&mut m, &activation::Exact { val: x.clone(), frac: fx }, &out))
            .collect(),
        Layer::Input | Layer::Softmax(_) | Layer::Elementwise(_) => {
            return Err(unsupported(g, &[id]));
        }
    };
    let parts: Vec<String> = ys.iter().rev().map(|y| m.use_all(y)).collect();
    let out_bits = ys.len() as u32 * out.width;
    let mut text = header(
        module,
        &format!("{} layer {}", node.layer.kind(), crate::backend::vitis::describe_name(name)),
    );
    text.push_str(&format!(
        "module {module} (\n    input wire ap_clk,\n    input wire [{}:0] x,\n    output wire [{}:0] y\n);\n",
        in_bits - 1,
        out_bits - 1
    ));
    text.push_str(&m.body());
    text.push_str(&format!("    assign y = {{{}}};\nendmodule\n`default_nettype wire\n", parts.join(", ")));
    Ok((text, ys.iter().map(|y| y.range()).collect()))
}

/// Emits the RTL project of a lowered graph.
pub fn emit(g: &Graph, opts: &RtlOptions, tb: &TestbenchData) -> Result<Project, BackendError> {
    let stages = opts.pipeline_stages;
    check(g, stages)?;
    let top = TopInterface::of(g, &opts.project_name)?;
    let name = top.name.clone();
    let (at, latency) = arrivals(g, stages)?;
    let mut project = Project::new();
    let mut tensors: BTreeMap<NodeId, Tensor> = BTreeMap::new();
    let mut insts = String::new();
    let mut wires = String::new();
    let mut files = Vec::new();
    for &id in &top.order {
        let node = g.node(id);
        let ty = node.out_ty()?;
        let base = &top.base[&id];
        if let Layer::Input = node.layer {
            let r = type_range(&ty);
            tensors.insert(
                id,
                Tensor { bus: top.input.name.clone(), ty, ranges: vec![r; node.shape.elements()] },
            );
            continue;
        }
        let src = g.inputs_of(id)[0];
        if layer_cycles(g, id, stages)? == 0 {
            let x = &tensors[&src];
            let t = Tensor { bus: x.bus.clone(), ty, ranges: x.ranges.clone() };
            tensors.insert(id, t);
            continue;
        }
        let module = format!("{name}__{base}");
        let (text, ranges) = layer_module(g, id, &module, &tensors[&src], stages)?;
        project.add(format!("rtl/{module}.v"), text)?;
        files.push(format!("{module}.v"));
        let bus = format!("t__{base}");
        let bits = ranges.len() as u64 * u64::from(ty.width);
        wires.push_str(&format!("    wire [{}:0] {bus};\n", bits - 1));
        insts.push_str(&format!(
            "    {module} u__{base} (\n        .ap_clk(ap_clk),\n        .x({}),\n        .y({bus})\n    );\n",
            tensors[&src].bus
        ));
        tensors.insert(id, Tensor { bus, ty, ranges });
    }

    // Outputs: delayed to the common latency.
    let mut ports = String::new();
    let mut outs = String::new();
    let mut regs = String::new();
    for (k, port) in top.outputs.iter().enumerate() {
        let t = &tensors[&port.node];
        let bits = port.bits();
        ports.push_str(&format!(
            ",\n    output wire [{}:0] {},\n    output wire {}_ap_vld",
            bits - 1,
            port.name,
            port.name
        ));
        let lag = latency - at[&port.node];
        let mut src = t.bus.clone();
        for d in 0..lag {
            let r = format!("d__{k}_{d}");
            regs.push_str(&format!(
                "    reg [{}:0] {r};\n    always @(posedge ap_clk) {r} <= {src};\n",
                bits - 1
            ));
            src = r;
        }
        outs.push_str(&format!(
            "    assign {} = {src};\n    assign {}_ap_vld = vld__pipe[{}];\n",
            port.name,
            port.name,
            latency - 1
        ));
    }
    let input = &top.input;
    let shift = if latency == 1 {
        "accept__in".to_string()
    } else {
        format!("{{vld__pipe[{}:0], accept__in}}", latency - 2)
    };
    let text = format!(
        "{}module {name} (\n    input wire ap_clk,\n    input wire ap_rst,\n    input wire ap_start,\n    output wire ap_done,\n    output wire ap_idle,\n    output wire ap_ready,\n    input wire [{}:0] {},\n    input wire {}_ap_vld{ports}\n);\n    // A sample enters in every cycle where ap_start and the input's valid are high; its outputs\n    // are valid {latency} cycle(s) later.\n    wire accept__in = ap_start & {}_ap_vld;\n    reg [{}:0] vld__pipe;\n    always @(posedge ap_clk) begin\n        if (ap_rst) begin\n            vld__pipe <= {};\n        end else begin\n            vld__pipe <= {shift};\n        end\n    end\n    assign ap_ready = accept__in;\n    assign ap_done = vld__pipe[{}];\n    assign ap_idle = ~ap_start & ~(|vld__pipe);\n{wires}{insts}{regs}{outs}endmodule\n`default_nettype wire\n",
        header(&name, &format!("top of model {}, latency {latency} cycles, II 1", crate::backend::vitis::describe_name(&g.name))),
        input.bits() - 1,
        input.name,
        input.name,
        input.name,
        latency - 1,
        netlist::literal(latency as u32, 0),
        latency - 1,
    );
    project.add(format!("rtl/{name}.v"), text)?;
    files.push(format!("{name}.v"));
    files.sort();

    crate::backend::vitis::add_tb_data(&mut project, g, &top, tb)?;
    verilator::add_testbench(&mut project, g, &top, tb, verilator::RtlLocation::Rtl)?;
    project.add("README.md", readme(&name, &g.name, latency, stages, &files, tb.inputs.len()))?;
    Ok(project)
}

fn readme(name: &str, model: &str, latency: u64, stages: u32, files: &[String], samples: usize) -> String {
    let list: String = files.iter().map(|f| format!("- `rtl/{f}`\n")).collect();
    format!(
        "# {name}\n\nVerilog-2005 generated by hls-gen from model {}: fully parallel, pipelined, initiation\ninterval 1, latency {latency} cycles ({stages} register stage(s) per dense layer). Constant\nmultiplications are shift-and-add logic (no DSP); every cast is bit-exact with the simulator.\n\n{list}\nThe top module `{name}` has the ports of the Vitis HLS top function (`ap_ctrl_hs`, `ap_vld` on every\nport, completely reshaped arrays: element 0 in the least significant bits).\n\n## Simulation with Verilator\n\n    make -C verilator          # builds verilator/obj_dir/V{name} and runs it on tb_data/ ({samples} samples)\n    hls-gen rtlsim .           # the same, with a summary\n\nThe testbench streams one sample per cycle, writes `tb_data/rtl_outputs.txt`, compares every output\nbit for bit with `tb_data/expected.txt` and prints the measured latency and II.\n\n## Synthesis\n\n    yosys -p 'read_verilog rtl/*.v; synth_xilinx -family xcup -top {name}; stat'\n",
        crate::backend::vitis::describe_name(model)
    )
}
