//! The resource-optimized top function of a graph model (`--edge-parallelism N`): the design of
//! [`crate::arch::rows`], one dataflow process per node, joined by one channel per read.
//!
//! * The top is a `DATAFLOW` region (UG1399 "pragma HLS dataflow": the processes run
//!   concurrently, each channel with one writer and one reader) with `ap_ctrl_chain` (UG1448
//!   200-786: successive graphs overlap only with it). Its ports keep the throughput form's
//!   arrays, so the testbench is the same: a port read or written only in chunks is an
//!   `ap_memory` port reshaped `cyclic` by a chunk's values (UG1399 "pragma HLS array_reshape":
//!   one word per chunk, one access per cycle), any other port is completely reshaped with
//!   `ap_vld` as in the throughput form.
//! * A stream channel is `hls::stream<pixel<T, N * F>>` with `STREAM depth=` its tensor's chunks
//!   (UG1399 "pragma HLS stream"; why so deep: [`crate::arch::rows`]); an array channel is
//!   completely partitioned (UG1399 "pragma HLS array_partition").
//! * Every loop over chunks is `PIPELINE II=1` (UG1399 "pragma HLS pipeline": the loops of the
//!   library calls inside unroll, so a chunk enters every cycle). A row process applies the
//!   throughput-form plan of its layer ([`super::layers::plan`]) to a node of `N` rows: the
//!   arithmetic is the same, only the number of rows per call changes.
//! * The gather's table of data chunks is `AGGREGATE`d into one word per chunk (UG1399 "pragma HLS
//!   aggregate") and bound to `ram_1wnr` (UG1399 "pragma HLS bind_storage": one write port, one
//!   read port per gathered row, a bank each) in LUTRAM or block RAM by
//!   [`crate::arch::hls::rom_storage`]'s rule.

use std::collections::BTreeMap;

use serde::Serialize;

use super::layers::{Config, Constant, Include, Input, Operands, Plan, WeightFile};
use super::render::Renderer;
use super::test_bench;
use crate::arch::hls::{rom_storage, Read};
use crate::arch::rows::{chunk_node, chunk_shape, Mode, RowsDesign};
use crate::backend::namer::describe;
use crate::backend::top::TopInterface;
use crate::backend::{BackendError, Project};
use crate::ir::{LoweredGraph, NodeId};

/// A function of `firmware/NAME.cpp` called by the top.
#[derive(Serialize)]
struct Process {
    comment: String,
    name: String,
    params: String,
    pragmas: Vec<String>,
    files: Vec<Include>,
    body: Vec<String>,
}

#[derive(Serialize)]
struct TopContext<'a> {
    name: &'a str,
    model: &'a str,
    guard: String,
    signature: &'a str,
    summary: String,
    processes: &'a [Process],
    pragmas: Vec<String>,
    locals: &'a [String],
    statements: &'a [String],
}

/// Where one read of a tensor goes.
struct Target {
    /// The top's variable: a channel local or an output port.
    var: String,
    stream: bool,
    /// Writes an output port.
    output: bool,
}

/// Emits the top, its processes and the testbench; every node's plan, in `top.order`.
pub(super) fn emit(
    g: &LoweredGraph,
    top: &TopInterface,
    design: &RowsDesign,
    model: &str,
    renderer: &Renderer,
    project: &mut Project,
) -> Result<Vec<(NodeId, Plan)>, BackendError> {
    let n = design.parallelism;
    let mut namer = top.namer.clone();
    let mut locals = Vec::new();
    let mut targets: BTreeMap<NodeId, Vec<Target>> = BTreeMap::new();
    let mut source: BTreeMap<(NodeId, usize), String> = BTreeMap::new();
    for &id in &top.order {
        let base = &top.base[&id];
        let node = &design.nodes[&id];
        let mut list = Vec::new();
        for ch in &design.channels[&id] {
            let t = match ch.read {
                Read::Output(o) => {
                    Target { var: top.outputs[o].name.clone(), stream: ch.stream, output: true }
                }
                Read::Layer { node: reader, port } => {
                    let var = namer.name(&format!("{base}_to_{}", top.base[&reader]));
                    if ch.stream {
                        locals.push(format!(
                            "hls::stream<hlsgen::pixel<{base}_t, {}> > {var}(\"{var}\");",
                            n * node.row
                        ));
                        locals.push(format!("#pragma HLS STREAM variable={var} depth={}", ch.depth));
                    } else {
                        locals.push(format!("{base}_t {var}[{}];", g.node(id).shape.elements()));
                        locals
                            .push(format!("#pragma HLS ARRAY_PARTITION variable={var} type=complete dim=0"));
                    }
                    source.insert((reader, port), var.clone());
                    Target { var, stream: ch.stream, output: false }
                }
            };
            list.push(t);
        }
        targets.insert(id, list);
    }

    let mut plans = Vec::new();
    let mut processes = Vec::new();
    let mut statements = Vec::new();
    for &id in &top.order {
        let base = top.base[&id].clone();
        let rn = &design.nodes[&id];
        let node = g.node(id);
        let outs = &targets[&id];
        let ins = g.inputs_of(id);
        let many = ins.len() > 1;
        let var = |k: usize| if many { format!("x{k}") } else { "x".to_string() };
        let in_node = |k: usize| &design.nodes[&ins[k]];
        let elems = node.shape.elements();
        let (rows, row, chunks) = (rn.rows, rn.row, rn.chunks);
        let chunk_t = format!("hlsgen::pixel<{base}_t, {}>", n * row);
        // Output parameters: one per read of the tensor.
        let out_params: Vec<String> = outs
            .iter()
            .enumerate()
            .map(|(k, t)| {
                if t.stream && !t.output {
                    format!("hls::stream<{chunk_t}> &y{k}")
                } else {
                    format!("{base}_t y{k}[{elems}]")
                }
            })
            .collect();
        // What a process does with a chunk `y` (a local array of N rows) it computed at `c`.
        let write_chunk = |body: &mut Vec<String>, indent: &str| {
            if outs.iter().any(|t| t.stream && !t.output) {
                body.push(format!("{indent}{chunk_t} p;"));
                body.push(format!("{indent}hlsgen::pack<{base}_t, {}>(y, p);", n * row));
            }
            for (k, t) in outs.iter().enumerate() {
                match (t.stream, t.output) {
                    (true, false) => body.push(format!("{indent}y{k}.write(p);")),
                    (true, true) => body.push(format!(
                        "{indent}hlsgen::store_chunk<{base}_t, {rows}, {row}, {n}>(y, c, y{k});"
                    )),
                    (false, _) => {}
                }
            }
        };
        let loop_open = |body: &mut Vec<String>, label: &str, count: usize| {
            body.push(format!("{label}: for (unsigned c = 0; c < {count}; c++) {{"));
            body.push("#pragma HLS PIPELINE II=1".to_string());
        };
        let local_array = |body: &mut Vec<String>, ty: &str, name: &str, size: usize| {
            body.push(format!("    {ty} {name}[{size}];"));
            body.push(format!("#pragma HLS ARRAY_PARTITION variable={name} type=complete dim=0"));
        };
        let mut body = Vec::new();
        let mut files = Vec::new();
        let mut params = Vec::new();
        let unrolled = crate::arch::rows::layer_design(g, design, id)?;
        let plan = match rn.mode {
            Mode::Port => {
                let port = top.inputs.iter().find(|p| p.node == id).ok_or_else(|| {
                    BackendError::layer(&node.name, "is an input without a port of the top")
                })?;
                params.push(format!("const {base}_t x[{elems}]"));
                for (k, t) in outs.iter().enumerate() {
                    if !t.stream {
                        body.push(format!("hlsgen::copy<{elems}>(x, y{k});"));
                    }
                }
                if outs.iter().any(|t| t.stream) {
                    loop_open(&mut body, "chunks", chunks);
                    body.push(format!("    {chunk_t} p;"));
                    body.push(format!("    hlsgen::chunk_of<{base}_t, {rows}, {row}, {n}>(x, c, p);"));
                    for (k, t) in outs.iter().enumerate() {
                        if t.stream {
                            body.push(format!("    y{k}.write(p);"));
                        }
                    }
                    body.push("}".to_string());
                }
                statements.push(call(&format!("{base}_read"), std::slice::from_ref(&port.name), outs));
                super::input_plan(g, top, id)?
            }
            Mode::Array => {
                let inputs = whole_inputs(g, top, id, &var)?;
                for i in &inputs {
                    params.push(format!("const {} {}[{}]", i.typedef, i.var, i.shape.elements()));
                }
                let ops = Operands { node, base: &base, design: &unrolled, out_var: "y", inputs };
                let plan = super::layers::plan(&ops)?;
                local_array(&mut body, &format!("{base}_t"), "y", elems);
                push_calls(&mut body, &plan, "    ");
                for (k, t) in outs.iter().enumerate() {
                    if !t.stream {
                        body.push(format!("    hlsgen::copy<{elems}>(y, y{k});"));
                    }
                }
                if outs.iter().any(|t| t.stream) {
                    loop_open(&mut body, "chunks", chunks);
                    body.push(format!("    {chunk_t} p;"));
                    body.push(format!("    hlsgen::chunk_of<{base}_t, {rows}, {row}, {n}>(y, c, p);"));
                    for (k, t) in outs.iter().enumerate() {
                        if t.stream {
                            body.push(format!("    y{k}.write(p);"));
                        }
                    }
                    body.push("}".to_string());
                }
                files = plan.files.iter().map(WeightFile::include).collect();
                plan
            }
            Mode::Rows => {
                let chunk = chunk_node(node, n);
                let mut inputs = whole_inputs(g, top, id, &var)?;
                for i in &mut inputs {
                    i.shape = chunk_shape(&i.shape, n);
                }
                let ops = Operands { node: &chunk, base: &base, design: &unrolled, out_var: "y", inputs };
                let plan = super::layers::plan(&ops)?;
                loop_open(&mut body, "chunks", chunks);
                for (k, i) in ops.inputs.iter().enumerate() {
                    let size = n * in_node(k).row;
                    params.push(format!("hls::stream<hlsgen::pixel<{}, {size}> > &{}_s", i.typedef, i.var));
                    local_array(&mut body, &i.typedef, &i.var, size);
                    body.push(format!(
                        "    hlsgen::unpack<{}, {size}>({}_s.read(), {});",
                        i.typedef, i.var, i.var
                    ));
                }
                local_array(&mut body, &format!("{base}_t"), "y", n * row);
                push_calls(&mut body, &plan, "    ");
                write_chunk(&mut body, "    ");
                body.push("}".to_string());
                files = plan.files.iter().map(WeightFile::include).collect();
                plan
            }
            Mode::Gather | Mode::Scatter => {
                let inputs = whole_inputs(g, top, id, &var)?;
                let ops = Operands { node, base: &base, design: &unrolled, out_var: "y", inputs };
                let mut plan = super::layers::plan(&ops)?;
                let cfg = format!("{base}_config");
                let data = in_node(0);
                let (x_t, i_t) = (&ops.inputs[0].typedef, &ops.inputs[1].typedef);
                params.push(format!("hls::stream<hlsgen::pixel<{x_t}, {}> > &x0_s", n * data.row));
                params.push(format!("hls::stream<hlsgen::pixel<{i_t}, {n}> > &x1_s"));
                let mut extra = vec![konst("n", n)];
                if rn.mode == Mode::Gather {
                    extra.push(konst("data_chunks", data.chunks));
                    let width = (n * data.row) as u64 * u64::from(g.node(ins[0]).out_ty()?.width);
                    let storage = rom_storage(data.chunks as u64, width);
                    let imp = storage.bind_impl().unwrap_or("lutram");
                    body.push(format!("hlsgen::pixel<{x_t}, {}> table[{}];", n * data.row, data.chunks));
                    body.push("#pragma HLS AGGREGATE variable=table".to_string());
                    body.push(format!("#pragma HLS BIND_STORAGE variable=table type=ram_1wnr impl={imp}"));
                    loop_open(&mut body, "store", data.chunks);
                    body.push("    table[c] = x0_s.read();".to_string());
                    body.push("}".to_string());
                    loop_open(&mut body, "gather", chunks);
                    local_array(&mut body, i_t, "index", n);
                    body.push(format!("    hlsgen::unpack<{i_t}, {n}>(x1_s.read(), index);"));
                    local_array(&mut body, &format!("{base}_t"), "y", n * row);
                    body.push(format!("    hlsgen::gather_rows_chunk<{cfg}>(table, index, y);"));
                } else {
                    body.push(format!("{cfg}::accum_t acc[{elems}];"));
                    body.push("#pragma HLS ARRAY_PARTITION variable=acc type=complete dim=0".to_string());
                    body.push(format!("for (unsigned i = 0; i < {elems}; i++) {{"));
                    body.push("#pragma HLS UNROLL".to_string());
                    body.push("    acc[i] = 0;".to_string());
                    body.push("}".to_string());
                    loop_open(&mut body, "sum", data.chunks);
                    local_array(&mut body, x_t, "x", n * data.row);
                    body.push(format!("    hlsgen::unpack<{x_t}, {}>(x0_s.read(), x);", n * data.row));
                    local_array(&mut body, i_t, "index", n);
                    body.push(format!("    hlsgen::unpack<{i_t}, {n}>(x1_s.read(), index);"));
                    body.push(format!("    hlsgen::scatter_add_chunk<{cfg}>(x, index, c, acc);"));
                    body.push("}".to_string());
                    loop_open(&mut body, "emit", chunks);
                    local_array(&mut body, &format!("{base}_t"), "y", n * row);
                    body.push(format!("    hlsgen::scatter_add_emit<{cfg}>(acc, c, y);"));
                }
                write_chunk(&mut body, "    ");
                body.push("}".to_string());
                if let Some(Config { constants, .. }) = plan.config.as_mut() {
                    constants.extend(extra);
                }
                plan.calls.clear();
                plan
            }
        };
        if rn.mode != Mode::Port {
            let args: Vec<String> = (0..ins.len()).map(|p| source[&(id, p)].clone()).collect();
            statements.push(call(&format!("{base}_layer"), &args, outs));
        }
        params.extend(out_params);
        let (name, comment) = match rn.mode {
            Mode::Port => {
                (format!("{base}_read"), format!("input {}: to its readers' channels", describe(&node.name)))
            }
            Mode::Rows | Mode::Array | Mode::Gather | Mode::Scatter => (
                format!("{base}_layer"),
                format!(
                    "{} {}: {}",
                    node.layer.kind(),
                    describe(&node.name),
                    match rn.mode {
                        Mode::Rows => format!("{n} of its {rows} rows per cycle"),
                        Mode::Gather => format!("stores the data's chunks, then gathers {n} rows per cycle"),
                        Mode::Scatter =>
                            format!("sums {n} rows per cycle, then writes {n} node rows per cycle"),
                        Mode::Array | Mode::Port => "the whole tensor at once".to_string(),
                    }
                ),
            ),
        };
        processes.push(Process {
            comment,
            name,
            params: params.join(", "),
            pragmas: vec!["INLINE off".to_string()],
            files,
            body,
        });
        plans.push((id, plan));
    }

    let ports_in = test_bench::ports(top, &top.inputs, "tb_in", None);
    let ports_out = test_bench::ports(top, &top.outputs, "tb_out", None);
    let mut sig: Vec<String> =
        ports_in.iter().map(|p| format!("const {} {}[{}]", p.cpp_type, p.name, p.size)).collect();
    sig.extend(ports_out.iter().map(|o| format!("{} {}[{}]", o.cpp_type, o.name, o.size)));
    let mut pragmas = Vec::new();
    for (port, chunked) in top
        .inputs
        .iter()
        .map(|p| (p, design.channels[&p.node].iter().all(|c| c.stream)))
        .chain(top.outputs.iter().map(|p| (p, design.streamed(p.node))))
    {
        let row = design.nodes[&port.node].row;
        if chunked {
            pragmas.push(format!("INTERFACE mode=ap_memory port={}", port.name));
            pragmas.push(format!(
                "ARRAY_RESHAPE variable={} type=cyclic factor={} dim=1",
                port.name,
                n * row
            ));
        } else {
            pragmas.push(format!("INTERFACE mode=ap_vld port={}", port.name));
            pragmas.push(format!("ARRAY_RESHAPE variable={} type=complete dim=0", port.name));
        }
    }
    pragmas.push("INTERFACE mode=ap_ctrl_chain port=return".to_string());
    pragmas.push("DATAFLOW".to_string());
    let name = top.name.as_str();
    let signature = sig.join(", ");
    let ctx = TopContext {
        name,
        model,
        guard: super::guard(name, "TOP"),
        signature: &signature,
        summary: format!(
            "a dataflow region, {n} rows per cycle through one copy of each row-wise layer, II = {} cycles",
            design.ii
        ),
        processes: &processes,
        pragmas,
        locals: &locals,
        statements: &statements,
    };
    project.add(format!("firmware/{name}.h"), renderer.render("top.h", &ctx)?)?;
    project.add(format!("firmware/{name}.cpp"), renderer.render("top_rows.cpp", &ctx)?)?;
    test_bench::add(project, renderer, top, &ports_in, &ports_out)?;
    Ok(plans)
}

fn konst(name: &str, value: usize) -> Constant {
    Constant { cpp_type: "unsigned".into(), name: name.into(), value: value.to_string() }
}

/// The inputs of node `id` as whole tensors named by `var`.
fn whole_inputs(
    g: &LoweredGraph,
    top: &TopInterface,
    id: NodeId,
    var: &dyn Fn(usize) -> String,
) -> Result<Vec<Input>, BackendError> {
    g.inputs_of(id)
        .into_iter()
        .enumerate()
        .map(|(k, i)| {
            let n = g.node(i);
            Ok(Input {
                var: var(k),
                typedef: format!("{}_t", top.base[&i]),
                shape: n.shape.clone(),
                ty: n.out_ty()?,
            })
        })
        .collect()
}

/// The plan's locals and library calls, each line indented by `indent`.
fn push_calls(body: &mut Vec<String>, plan: &Plan, indent: &str) {
    for l in &plan.locals {
        body.push(format!("{indent}{} {}[{}];", l.cpp_type, l.name, l.size));
        body.push(format!("#pragma HLS ARRAY_PARTITION variable={} type=complete dim=0", l.name));
    }
    for c in &plan.calls {
        body.push(format!("{indent}hlsgen::{}<{}>({});", c.function, c.template_args, c.args));
    }
}

/// The top's statement calling process `name` with the channels it reads, then those it writes.
fn call(name: &str, inputs: &[String], outs: &[Target]) -> String {
    let args: Vec<&str> =
        inputs.iter().map(String::as_str).chain(outs.iter().map(|t| t.var.as_str())).collect();
    format!("{name}({});", args.join(", "))
}
