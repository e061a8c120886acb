//! The RTL backend's `io_stream` design: every tensor a stream of pixels (all channels of one
//! position per transfer, row-major), every layer a process ([`process`]) joined by FIFOs
//! ([`fifo`]) of the depths the dataflow model sets, all following the contract of
//! [`crate::arch::rtl_stream`] exactly, so the model's latency, II and FIFO occupancies are the
//! RTL's.
//!
//! | path | contents |
//! |---|---|
//! | `rtl/NAME.v` | top module `NAME`: per input port `P` a pixel bus `P` with `P_valid` / `P_ready` (a transfer in each cycle both are high), per output port a pixel bus with `P_valid` (one cycle per pixel; it cannot be held off) |
//! | `rtl/NAME__<layer>.v`, `rtl/NAME__split_<tensor>.v` | one module per process |
//! | `rtl/NAME__fifo.v` | the FIFO, instanced per stream between two processes |
//! | `verilator/`, `tb_data/` | the streaming testbench ([`crate::backend::verilator::add_stream_testbench`]) and its vectors |
//!
//! The testbench checks the outputs bit for bit and the measured latency, II, total cycles and
//! every FIFO's peak occupancy against the model's figures for its number of samples.

mod fifo;
mod process;

use std::collections::BTreeMap;

use crate::arch::rtl_stream::{self, Depths, Figures, Plan};
use crate::arch::stream::{channel_name, Form, Sink, Source};
use crate::backend::namer::describe;
use crate::backend::testbench::{add_tb_data, TestbenchData};
use crate::backend::top::TopInterface;
use crate::backend::verilator::{self, StreamBench, StreamFifo, StreamPort};
use crate::backend::{BackendError, Project};
use crate::ir::{Layer, LoweredGraph, NodeId};
use process::{Built, Input};

use super::RtlOptions;

/// Frames the model runs to size FIFOs (as the Vitis `io_stream` flow does).
const SIZING_FRAMES: usize = crate::estimate::stream::FRAMES;

/// Emits the streaming RTL project of `g` with FIFOs sized by `fifo`; returns it with the
/// model's figures for the testbench's samples.
pub fn emit(
    g: &LoweredGraph,
    opts: &RtlOptions,
    fifo: Depths,
    tb: &TestbenchData,
) -> Result<(Project, Plan, Figures), BackendError> {
    let stages = opts.pipeline_stages;
    let plan = rtl_stream::plan(g, stages, fifo, SIZING_FRAMES)?;
    let frames = tb.samples().max(1);
    let figures = rtl_stream::figures(g, &plan, frames)?;
    let d = &plan.design;
    let top = TopInterface::of(g, &opts.project_name)?;
    let name = top.name.clone();
    let mut project = Project::new();
    let mut files = Vec::new();

    // Per tensor, the ranges of its pixel's values.
    let mut ranges: BTreeMap<NodeId, Vec<(i128, i128)>> = BTreeMap::new();
    for p in &top.inputs {
        let t = d.tensors[&p.node];
        ranges.insert(p.node, vec![(p.ty.min_raw(), p.ty.max_raw()); t.width]);
    }

    let chan = |f: &dyn Fn(Source, Sink) -> bool| d.channels.iter().position(|c| f(c.source, c.sink));
    let mut insts = String::new();
    for id in g.topo_order()? {
        let Some(l) = d.layers.get(&id) else { continue };
        let node = g.node(id);
        let base = &top.base[&id];
        let module = format!("{name}__{base}");
        let srcs = g.inputs_of(id);
        let mut ins = Vec::with_capacity(srcs.len());
        for &i in &srcs {
            ins.push(Input { ranges: ranges_of(&ranges, g, i)?, ty: g.node(i).out_ty()? });
        }
        let depth = plan.depth[&id];
        let built: Built = match &l.form {
            Form::Map => process::map(&module, &l.node, &l.input_shapes, &ins, depth, stages)?,
            Form::Window(w) => process::window(&module, node, w, &ins[0], depth, stages)?,
            Form::Frame => {
                let t_in = d.tensors[&srcs[0]];
                let sources = match node.layer {
                    Layer::Reshape(_) => (0..node.shape.elements()).map(Some).collect(),
                    _ => super::gather::sources(g, id)?,
                };
                process::frame(&module, node, &ins[0], t_in.transfers, d.tensors[&id].width, &sources)?
            }
            Form::Pad(p) => process::pad(&module, node, p, &ins[0])?,
            Form::UpSample(u) => process::upsample(&module, node, u, &ins[0])?,
        };
        ranges.insert(id, built.ranges);
        project.add(format!("rtl/{module}.v"), built.text)?;
        files.push(format!("{module}.v"));
        let reads: Vec<usize> = (0..srcs.len())
            .map(|port| chan(&|_, s| s == Sink::Layer { node: id, port }))
            .collect::<Option<_>>()
            .ok_or_else(|| BackendError::layer(&node.name, "an input has no stream"))?;
        let writes: Vec<usize> = chan(&|s, _| s == Source::Layer(id)).into_iter().collect();
        insts.push_str(&instance(&module, &format!("u__{base}"), &reads, &writes));
    }
    for (&id, &copies) in &d.splits {
        let base = &top.base[&id];
        let module = format!("{name}__split_{base}");
        let x = Input { ranges: ranges_of(&ranges, g, id)?, ty: g.node(id).out_ty()? };
        let built = process::split(
            &module,
            &format!("split of {} into {copies} streams", describe(&g.node(id).name)),
            &x,
            copies,
        );
        project.add(format!("rtl/{module}.v"), built.text)?;
        files.push(format!("{module}.v"));
        let reads: Vec<usize> = chan(&|_, s| s == Sink::Split(id)).into_iter().collect();
        let writes: Vec<usize> = (0..copies)
            .map(|copy| chan(&|s, _| s == Source::Split { tensor: id, copy }))
            .collect::<Option<_>>()
            .ok_or_else(|| BackendError::layer(&g.node(id).name, "a copy has no stream"))?;
        insts.push_str(&instance(&module, &format!("u__split_{base}"), &reads, &writes));
    }

    // Streams: a FIFO between two processes, the top's ports otherwise.
    let fifo_module = format!("{name}__fifo");
    let mut wires = String::new();
    let mut assigns = String::new();
    let mut fifos = Vec::new();
    let mut ports = Vec::new();
    for (k, c) in d.channels.iter().enumerate() {
        let node = g.node(c.tensor);
        let bits = d.tensors[&c.tensor].width as u64 * u64::from(node.out_ty()?.width);
        wires.push_str(&format!(
            "    wire [{b1}:0] c{k}_din, c{k}_dout;\n    wire c{k}_write, c{k}_full, c{k}_valid, c{k}_read;\n",
            b1 = bits - 1
        ));
        match (c.source, c.sink, plan.capacity[k]) {
            (Source::Input(i), _, _) => {
                let p = &top.inputs[i].name;
                ports.push(format!(
                    "    input wire [{}:0] {p},\n    input wire {p}_valid,\n    output wire {p}_ready",
                    bits - 1
                ));
                assigns.push_str(&format!(
                    "    assign c{k}_dout = {p};\n    assign c{k}_valid = {p}_valid;\n    assign {p}_ready = c{k}_read;\n    assign c{k}_full = 1'b0;\n    assign c{k}_din = {p};\n    assign c{k}_write = 1'b0;\n"
                ));
            }
            (_, Sink::Output(o), _) => {
                let p = &top.outputs[o].name;
                ports.push(format!("    output wire [{}:0] {p},\n    output wire {p}_valid", bits - 1));
                assigns.push_str(&format!(
                    "    assign {p} = c{k}_din;\n    assign {p}_valid = c{k}_write;\n    assign c{k}_full = 1'b0;\n    assign c{k}_dout = c{k}_din;\n    assign c{k}_valid = 1'b0;\n    assign c{k}_read = 1'b0;\n"
                ));
            }
            (_, _, Some(cap)) => {
                insts.push_str(&fifo::instance(&fifo_module, k, bits, cap));
                fifos.push(StreamFifo {
                    id: k,
                    name: channel_name(g, c),
                    depth: cap,
                    occupancy: figures.occupancy[k],
                });
            }
            (_, _, None) => {
                return Err(BackendError::layer(&node.name, "a stream between processes has no depth"))
            }
        }
    }
    project.add(format!("rtl/{fifo_module}.v"), fifo::module(&fifo_module))?;
    files.push(format!("{fifo_module}.v"));

    let text = format!(
        "// {name}: streaming top of model {}: latency {} cycles, II {} (the dataflow model's, {frames} sample(s))\n// Generated by hls-gen; do not edit.\n`default_nettype none\nmodule {name} (\n    input wire ap_clk,\n    input wire ap_rst,\n{}\n);\n{wires}{assigns}{insts}endmodule\n`default_nettype wire\n",
        describe(&g.name),
        figures.latency,
        figures.interval,
        ports.join(",\n")
    );
    project.add(format!("rtl/{name}.v"), text)?;
    files.push(format!("{name}.v"));
    files.sort();

    add_tb_data(&mut project, &top, tb)?;
    let port = |p: &crate::backend::top::TopPort| StreamPort {
        name: p.name.clone(),
        transfers: d.tensors[&p.node].transfers,
        width: d.tensors[&p.node].width,
    };
    let bench = StreamBench {
        inputs: top.inputs.iter().map(port).collect(),
        outputs: top.outputs.iter().map(port).collect(),
        fifos: fifos.clone(),
        frames,
        latency: figures.latency,
        interval: figures.interval,
        cycles: figures.cycles,
    };
    verilator::add_stream_testbench(&mut project, &top, &bench)?;
    let reused: Vec<String> = d
        .layers
        .keys()
        .map(|&id| g.node(id))
        .filter(|n| n.reuse_factor > 1)
        .map(|n| format!("{} (R = {})", describe(&n.name), n.reuse_factor))
        .collect();
    let notes = Notes { stages, frames, reused: &reused };
    project.add("README.md", readme(&name, &g.name, &figures, &files, &fifos, &notes))?;
    Ok((project, plan, figures))
}

fn ranges_of(
    ranges: &BTreeMap<NodeId, Vec<(i128, i128)>>,
    g: &LoweredGraph,
    id: NodeId,
) -> Result<Vec<(i128, i128)>, BackendError> {
    ranges
        .get(&id)
        .cloned()
        .ok_or_else(|| BackendError::layer(&g.node(id).name, "is used before it is built"))
}

/// A process instance reading streams `reads` (by port) and writing `writes`.
fn instance(module: &str, inst: &str, reads: &[usize], writes: &[usize]) -> String {
    let mut conns = vec![".ap_clk(ap_clk)".to_string(), ".ap_rst(ap_rst)".to_string()];
    for (p, &k) in reads.iter().enumerate() {
        conns.push(format!(".x_{p}(c{k}_dout), .x_{p}_valid(c{k}_valid), .x_{p}_read(c{k}_read)"));
    }
    for (p, &k) in writes.iter().enumerate() {
        conns.push(format!(".y_{p}(c{k}_din), .y_{p}_write(c{k}_write), .y_{p}_full(c{k}_full)"));
    }
    format!("    {module} {inst} (\n        {}\n    );\n", conns.join(",\n        "))
}

/// What the project's README says of the design besides its figures and files.
struct Notes<'a> {
    stages: u32,
    frames: usize,
    /// The time-multiplexed layers, each with its reuse factor.
    reused: &'a [String],
}

fn readme(name: &str, model: &str, f: &Figures, files: &[String], fifos: &[StreamFifo], n: &Notes) -> String {
    let (stages, frames) = (n.stages, n.frames);
    let list: String = files.iter().map(|f| format!("- `rtl/{f}`\n")).collect();
    let reused = if n.reused.is_empty() {
        String::new()
    } else {
        format!(
            "\nTime-multiplexed at reuse factor R (R cycles per pixel or padded position, general\nmultipliers, exact accumulators): {}.\n",
            n.reused.join(", ")
        )
    };
    let table: String =
        fifos.iter().map(|x| format!("| {} | {} | {} |\n", x.name, x.depth, x.occupancy)).collect();
    format!(
        "# {name}\n\nStreaming Verilog-2005 generated by hls-gen from model {}: one pixel (all channels) per\ntransfer, a process per layer joined by FIFOs, {stages} register stage(s) per dense and convolution\ndatapath, shift-and-add constant products, bit-exact with the simulator. The dataflow model gives,\nfor the {frames} test sample(s) streamed back to back (an input pixel offered every cycle): latency\n{} cycles, II {} cycles, {} cycles in all.\n{reused}\n{list}\n| FIFO | depth | peak occupancy (model) |\n|---|---|---|\n{table}\n## Simulation with Verilator\n\n    make -C verilator          # builds verilator/obj_dir/V{name} and runs it on tb_data/\n    hls-gen rtlsim .           # the same, with a summary\n\nThe testbench streams the samples' pixels, compares every output bit for bit with\n`tb_data/expected.txt`, and checks the measured latency, II, cycles and every FIFO's peak\noccupancy against the model's.\n\n## Synthesis\n\n    yosys -p 'read_verilog rtl/*.v; synth_xilinx -family xcup -top {name}; stat'\n",
        describe(model),
        f.latency,
        f.interval,
        f.cycles
    )
}
