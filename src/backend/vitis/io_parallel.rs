//! The `io_parallel` top function: every tensor is a completely partitioned array and every layer
//! is a function of its own (`<base>_layer`) around its library calls, holding its constants.
//! The design ([`crate::arch::hls::Design`]) decides how the top runs them:
//!
//! * [`Schedule::Pipeline`]: the top is `PIPELINE II=1` with `ap_ctrl_hs`, every layer function
//!   is inlined; outputs that are read elsewhere too are copied to their port at the end.
//! * [`Schedule::Dataflow`]: the top is a `DATAFLOW` region with `ap_ctrl_chain`; every layer
//!   function is a process (`INLINE off`; `PIPELINE II=1` unless its kernel pipelines its own step
//!   loop), and a tensor read more than once (or also an output) is copied by a split process
//!   (`<base>_split`) into one channel per read, so every channel has one writer and one reader.
//!
//! Each port array is completely reshaped with `ap_vld` (see [`crate::backend::top`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::layers::{Call, Include, Input, Plan, WeightFile};
use super::render::Renderer;
use super::test_bench::{self, Port};
use crate::arch::hls::{reads, Design, Kernel, Read, Schedule};
use crate::backend::namer::describe;
use crate::backend::top::TopInterface;
use crate::backend::{BackendError, Project};
use crate::ir::{LoweredGraph, NodeId};

#[derive(Serialize)]
struct Local {
    name: String,
    cpp_type: String,
    size: usize,
}

/// A function of `firmware/NAME.cpp` called by the top: a layer or a split.
#[derive(Serialize)]
pub(super) struct Process {
    comment: String,
    name: String,
    params: String,
    pragmas: Vec<String>,
    files: Vec<Include>,
    locals: Vec<super::layers::Local>,
    calls: Vec<Call>,
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
    locals: &'a [Local],
    statements: &'a [String],
}

/// The arrays of the design: what each node writes and what each layer input reads.
pub(super) struct Layout {
    schedule: Schedule,
    ii: usize,
    writes: BTreeMap<NodeId, String>,
    read_from: BTreeMap<(NodeId, usize), String>,
    locals: Vec<Local>,
    /// Statements of the top body after the layer calls of their node, by node.
    after: BTreeMap<NodeId, Vec<String>>,
    /// Split processes, by node.
    splits: BTreeMap<NodeId, Process>,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

impl Layout {
    pub(super) fn new(g: &LoweredGraph, top: &TopInterface, design: &Design) -> Self {
        let typedef = |id: NodeId| format!("{}_t", top.base[&id]);
        let mut namer = top.namer.clone();
        let mut writes = BTreeMap::new();
        for port in &top.inputs {
            writes.insert(port.node, port.name.clone());
        }
        for (port, &direct) in top.outputs.iter().zip(&top.direct) {
            if direct && !design.splits.contains_key(&port.node) {
                writes.insert(port.node, port.name.clone());
            }
        }
        let mut locals = Vec::new();
        let local = |name: String, id: NodeId, locals: &mut Vec<Local>| {
            locals.push(Local {
                name: name.clone(),
                cpp_type: typedef(id),
                size: g.node(id).shape.elements(),
            });
            name
        };
        for &id in &top.order {
            if let std::collections::btree_map::Entry::Vacant(slot) = writes.entry(id) {
                slot.insert(local(top.base[&id].clone(), id, &mut locals));
            }
        }
        let mut read_from = BTreeMap::new();
        let mut after: BTreeMap<NodeId, Vec<String>> = BTreeMap::new();
        let mut splits = BTreeMap::new();
        for &id in &top.order {
            let size = g.node(id).shape.elements();
            let source = writes[&id].clone();
            if design.splits.contains_key(&id) {
                let base = &top.base[&id];
                let mut params = vec![format!("const {} x[{size}]", typedef(id))];
                let mut calls = Vec::new();
                let mut args = vec![source.clone()];
                for (k, read) in reads(g, id).into_iter().enumerate() {
                    let target = match read {
                        Read::Layer { node, port } => {
                            let name = local(namer.name(&format!("{base}_{k}")), id, &mut locals);
                            read_from.insert((node, port), name.clone());
                            name
                        }
                        Read::Output(o) => top.outputs[o].name.clone(),
                    };
                    params.push(format!("{} y{k}[{size}]", typedef(id)));
                    calls.push(copy_call(size, "x", &format!("y{k}")));
                    args.push(target);
                }
                let name = format!("{base}_split");
                after.entry(id).or_default().push(format!("{name}({});", args.join(", ")));
                splits.insert(
                    id,
                    Process {
                        comment: format!("one channel per read of {}", describe(&g.node(id).name)),
                        name,
                        params: params.join(", "),
                        pragmas: vec!["INLINE off".into(), "PIPELINE II=1".into()],
                        files: Vec::new(),
                        locals: Vec::new(),
                        calls,
                    },
                );
                continue;
            }
            for read in reads(g, id) {
                match read {
                    Read::Layer { node, port } => {
                        read_from.insert((node, port), source.clone());
                    }
                    Read::Output(o) => {
                        let port = &top.outputs[o].name;
                        if *port != source {
                            after
                                .entry(id)
                                .or_default()
                                .push(format!("hlsgen::copy<{size}>({source}, {port});"));
                        }
                    }
                }
            }
        }
        Layout {
            schedule: design.schedule,
            ii: design.ii,
            writes,
            read_from,
            locals,
            after,
            splits,
            inputs: test_bench::ports(top, &top.inputs, "tb_in", None),
            outputs: test_bench::ports(top, &top.outputs, "tb_out", None),
        }
    }

    /// The inputs of node `id` as its layer function sees them (parameters `x`, or `x0`, `x1`, ...).
    pub(super) fn inputs_of(
        &self,
        g: &LoweredGraph,
        top: &TopInterface,
        id: NodeId,
    ) -> Result<Vec<Input>, BackendError> {
        let sources = g.inputs_of(id);
        let many = sources.len() > 1;
        sources
            .into_iter()
            .enumerate()
            .map(|(k, i)| {
                let n = g.node(i);
                Ok(Input {
                    var: if many { format!("x{k}") } else { "x".to_string() },
                    typedef: format!("{}_t", top.base[&i]),
                    shape: n.shape.clone(),
                    ty: n.out_ty()?,
                })
            })
            .collect()
    }

    /// The layer function of node `id` around the calls of its plan, and the statement of the top
    /// calling it.
    pub(super) fn layer(
        &self,
        g: &LoweredGraph,
        top: &TopInterface,
        kernel: Kernel,
        id: NodeId,
        inputs: &[Input],
        plan: &Plan,
    ) -> (Process, String) {
        let node = g.node(id);
        let base = &top.base[&id];
        let mut params: Vec<String> =
            inputs.iter().map(|i| format!("const {} {}[{}]", i.typedef, i.var, i.shape.elements())).collect();
        params.push(format!("{base}_t y[{}]", node.shape.elements()));
        let pragmas = match (self.schedule, kernel) {
            (Schedule::Pipeline, _) => vec!["INLINE".to_string()],
            (Schedule::Dataflow, Kernel::Unrolled) => {
                vec!["INLINE off".to_string(), "PIPELINE II=1".to_string()]
            }
            (Schedule::Dataflow, Kernel::Multiplexed { .. } | Kernel::Sliding { .. }) => {
                vec!["INLINE off".to_string()]
            }
        };
        let mut args: Vec<String> = (0..inputs.len()).map(|p| self.read_from[&(id, p)].clone()).collect();
        args.push(self.writes[&id].clone());
        let name = format!("{base}_layer");
        let statement = format!("{name}({});", args.join(", "));
        let comment = format!(
            "{} {} (reuse factor {}, {} strategy)",
            node.layer.kind(),
            describe(&node.name),
            node.reuse_factor,
            node.strategy.name()
        );
        let process = Process {
            comment,
            name,
            params: params.join(", "),
            pragmas,
            files: plan.files.iter().map(WeightFile::include).collect(),
            locals: plan.locals.clone(),
            calls: plan.calls.clone(),
        };
        (process, statement)
    }

    /// Adds `firmware/NAME.h`, `firmware/NAME.cpp` and the C simulation testbench `NAME_test.cpp`;
    /// `layers` holds every layer function and its call, in topological order.
    pub(super) fn write(
        self,
        project: &mut Project,
        renderer: &Renderer,
        top: &TopInterface,
        model: &str,
        layers: Vec<(NodeId, Process, String)>,
    ) -> Result<(), BackendError> {
        let name = top.name.as_str();
        let mut params: Vec<String> =
            self.inputs.iter().map(|p| format!("const {} {}[{}]", p.cpp_type, p.name, p.size)).collect();
        params.extend(self.outputs.iter().map(|o| format!("{} {}[{}]", o.cpp_type, o.name, o.size)));
        let signature = params.join(", ");
        let mut pragmas = Vec::new();
        for port in self.inputs.iter().chain(&self.outputs) {
            pragmas.push(format!("INTERFACE mode=ap_vld port={}", port.name));
            pragmas.push(format!("ARRAY_RESHAPE variable={} type=complete dim=0", port.name));
        }
        let summary = match self.schedule {
            Schedule::Pipeline => {
                pragmas.push("INTERFACE mode=ap_ctrl_hs port=return".to_string());
                pragmas.push("PIPELINE II=1".to_string());
                "one pipeline with II = 1 (every layer has reuse factor 1); the layer functions are inlined"
                    .to_string()
            }
            Schedule::Dataflow => {
                pragmas.push("INTERFACE mode=ap_ctrl_chain port=return".to_string());
                pragmas.push("DATAFLOW".to_string());
                format!(
                    "a dataflow region, one process per layer function, II = {} (the largest reuse factor)",
                    self.ii
                )
            }
        };
        let mut layers: BTreeMap<NodeId, (Process, String)> =
            layers.into_iter().map(|(id, p, s)| (id, (p, s))).collect();
        let (mut splits, mut after) = (self.splits, self.after);
        let mut processes = Vec::new();
        let mut statements = Vec::new();
        for &id in &top.order {
            if let Some((process, statement)) = layers.remove(&id) {
                processes.push(process);
                statements.push(statement);
            }
            processes.extend(splits.remove(&id));
            statements.extend(after.remove(&id).unwrap_or_default());
        }
        let ctx = TopContext {
            name,
            model,
            guard: super::guard(name, "TOP"),
            signature: &signature,
            summary,
            processes: &processes,
            pragmas,
            locals: &self.locals,
            statements: &statements,
        };
        project.add(format!("firmware/{name}.h"), renderer.render("top.h", &ctx)?)?;
        project.add(format!("firmware/{name}.cpp"), renderer.render("top.cpp", &ctx)?)?;
        test_bench::add(project, renderer, top, &self.inputs, &self.outputs)?;
        Ok(())
    }
}

fn copy_call(size: usize, from: &str, to: &str) -> Call {
    Call { function: "copy".into(), template_args: size.to_string(), args: format!("{from}, {to}") }
}
