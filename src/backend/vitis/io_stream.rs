//! The `io_stream` top function ([`crate::arch::stream`]): a `DATAFLOW` region with
//! `ap_ctrl_chain` whose ports are `hls::stream`s of pixels (`<base>_pixel_t`: one pixel, all
//! channels, per transfer, channels-last) and whose processes are one function per layer
//! (`<base>_layer`, `INLINE off`) and per split (`<base>_split`), connected by
//! `hls::stream` FIFOs of the depths the dataflow model chose (`#pragma HLS STREAM depth=`,
//! UG1399 "pragma HLS stream").
//!
//! Process bodies, by form:
//! * Map: a loop over the pixels, `PIPELINE II=` the layer's interval, reading one pixel of each
//!   input, running the pixel node's library calls on the pixels' `data` arrays, writing one
//!   pixel (without the loop when the tensor is one pixel);
//! * Window, Pad, UpSample: one library call on the streams (`conv_stream.h`, `pool_stream.h`,
//!   `pad_stream.h`);
//! * Frame: `read_frame` of every input into a completely partitioned array, the layer's
//!   io_parallel calls, `write_frame` (`frame.h`);
//! * split: a loop over the pixels, `PIPELINE II=1`, reading one pixel and writing it to every
//!   copy.

use std::collections::BTreeMap;

use serde::Serialize;

use super::layers::{self, Include, Input, Operands, Plan, WeightFile};
use super::render::Renderer;
use super::test_bench;
use crate::arch::stream::{Channel, Design, Form, Sink, Source, Tensor};
use crate::backend::namer::describe;
use crate::backend::top::TopInterface;
use crate::backend::{BackendError, Project};
use crate::ir::{LoweredGraph, NodeId};

#[derive(Serialize)]
pub(super) struct Process {
    comment: String,
    name: String,
    params: String,
    pragmas: Vec<String>,
    files: Vec<Include>,
    body: Vec<String>,
}

#[derive(Serialize)]
struct Fifo {
    name: String,
    cpp_type: String,
    depth: u64,
    comment: String,
}

#[derive(Serialize)]
struct TopContext<'a> {
    name: &'a str,
    model: &'a str,
    guard: String,
    signature: &'a str,
    processes: &'a [Process],
    pragmas: Vec<String>,
    fifos: &'a [Fifo],
    statements: &'a [String],
}

/// The streams of the design with their C++ names, and the processes built so far.
pub(super) struct Layout<'d> {
    design: &'d Design,
    /// Per channel (in [`Design::channels`] order), its variable: a port or a local FIFO.
    vars: Vec<String>,
    fifos: Vec<Fifo>,
    processes: Vec<Process>,
    statements: Vec<String>,
}

fn pixel_type(top: &TopInterface, id: NodeId) -> String {
    format!("{}_pixel_t", top.base[&id])
}

impl<'d> Layout<'d> {
    /// `depths` holds one depth per channel; the ports' entries are ignored.
    pub(super) fn new(
        g: &LoweredGraph,
        top: &TopInterface,
        design: &'d Design,
        depths: &[u64],
    ) -> Result<Self, BackendError> {
        if depths.len() != design.channels.len() {
            return Err(BackendError::Option {
                option: "fifo depths",
                what: format!("{} depths for {} streams", depths.len(), design.channels.len()),
            });
        }
        let mut namer = top.namer.clone();
        let mut vars = Vec::new();
        let mut fifos = Vec::new();
        for (c, &depth) in design.channels.iter().zip(depths) {
            let var = match (c.source, c.sink) {
                (Source::Input(k), _) => top.inputs[k].name.clone(),
                (_, Sink::Output(k)) => top.outputs[k].name.clone(),
                (Source::Split { copy, .. }, _) => namer.name(&format!("{}_s{copy}", top.base[&c.tensor])),
                _ => namer.name(&format!("{}_s", top.base[&c.tensor])),
            };
            if !c.is_port() {
                fifos.push(Fifo {
                    name: var.clone(),
                    cpp_type: pixel_type(top, c.tensor),
                    depth: depth.max(1),
                    comment: describe(&crate::arch::stream::channel_name(g, c)),
                });
            }
            vars.push(var);
        }
        Ok(Layout { design, vars, fifos, processes: Vec::new(), statements: Vec::new() })
    }

    fn var(&self, f: impl Fn(&Channel) -> bool) -> Option<&str> {
        self.design.channels.iter().position(f).map(|k| self.vars[k].as_str())
    }

    /// The inputs of node `id` as its kernel sees them: the pixel's `data` (Map), the frame
    /// array (Frame) or the stream (the other forms).
    pub(super) fn inputs_of(
        &self,
        g: &LoweredGraph,
        top: &TopInterface,
        id: NodeId,
    ) -> Result<Vec<Input>, BackendError> {
        let l = &self.design.layers[&id];
        let sources = g.inputs_of(id);
        let many = sources.len() > 1;
        sources
            .into_iter()
            .enumerate()
            .map(|(k, i)| {
                let x = if many { format!("x{k}") } else { "x".to_string() };
                Ok(Input {
                    var: match l.form {
                        Form::Map => format!("{x}p.data"),
                        Form::Frame => format!("{x}a"),
                        Form::Window(_) | Form::Pad(_) | Form::UpSample(_) => x,
                    },
                    typedef: format!("{}_t", top.base[&i]),
                    shape: l.input_shapes[k].clone(),
                    ty: g.node(i).out_ty()?,
                })
            })
            .collect()
    }

    /// The output variable of node `id`'s kernel.
    pub(super) fn out_var(&self, id: NodeId) -> &'static str {
        match self.design.layers[&id].form {
            Form::Map => "yp.data",
            Form::Frame => "ya",
            Form::Window(_) | Form::Pad(_) | Form::UpSample(_) => "y",
        }
    }

    /// Adds the process of layer `id` (its kernel's plan `plan`) and its call, then its split.
    pub(super) fn layer(&mut self, g: &LoweredGraph, top: &TopInterface, id: NodeId, plan: &Plan) {
        let node = g.node(id);
        let l = &self.design.layers[&id];
        let base = &top.base[&id];
        let ins = g.inputs_of(id);
        let many = ins.len() > 1;
        let x = |k: usize| if many { format!("x{k}") } else { "x".to_string() };
        let mut params: Vec<String> = ins
            .iter()
            .enumerate()
            .map(|(k, &i)| format!("hls::stream<{}> &{}", pixel_type(top, i), x(k)))
            .collect();
        params.push(format!("hls::stream<{}> &y", pixel_type(top, id)));
        let calls: Vec<String> = plan
            .calls
            .iter()
            .map(|c| format!("hlsgen::{}<{}>({});", c.function, c.template_args, c.args))
            .collect();
        let locals: Vec<String> = plan
            .locals
            .iter()
            .flat_map(|l| {
                [
                    format!("{} {}[{}];", l.cpp_type, l.name, l.size),
                    format!("#pragma HLS ARRAY_PARTITION variable={} type=complete dim=0", l.name),
                ]
            })
            .collect();
        let out = self.design.tensors[&id];
        let mut pragmas = vec!["INLINE off".to_string()];
        let mut body = Vec::new();
        match l.form {
            Form::Map => {
                let step: Vec<String> = ins
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| format!("const {} {}p = {}.read();", pixel_type(top, i), x(k), x(k)))
                    .chain([format!("{} yp;", pixel_type(top, id))])
                    .chain(locals)
                    .chain(calls)
                    .chain(["y.write(yp);".to_string()])
                    .collect();
                let pipelined = matches!(l.design.kernel, crate::arch::hls::Kernel::Unrolled);
                if out.transfers == 1 {
                    if pipelined {
                        pragmas.push("PIPELINE II=1".into());
                    }
                    body = step;
                } else {
                    body.push(format!("for (unsigned p = 0; p < {}; p++) {{", out.transfers));
                    body.push(format!("#pragma HLS PIPELINE II={}", l.ii.max(1)));
                    body.extend(step.into_iter().map(|s| indent(&s)));
                    body.push("}".into());
                }
            }
            Form::Window(_) | Form::Pad(_) | Form::UpSample(_) => body = calls,
            Form::Frame => {
                for (k, &i) in ins.iter().enumerate() {
                    let t = self.design.tensors[&i];
                    let n = t.transfers * t.width;
                    body.push(format!("{}_t {}a[{n}];", top.base[&i], x(k)));
                    body.push(format!("#pragma HLS ARRAY_PARTITION variable={}a type=complete dim=0", x(k)));
                    body.push(format!(
                        "hlsgen::read_frame<{}, {}>({}, {}a);",
                        t.transfers,
                        t.width,
                        x(k),
                        x(k)
                    ));
                }
                body.push(format!("{base}_t ya[{}];", out.transfers * out.width));
                body.push("#pragma HLS ARRAY_PARTITION variable=ya type=complete dim=0".into());
                body.extend(locals);
                body.extend(calls);
                body.push(format!("hlsgen::write_frame<{}, {}>(ya, y);", out.transfers, out.width));
            }
        }
        let form = match l.form {
            Form::Map if out.transfers > 1 => "pixel by pixel",
            Form::Map => "one transfer",
            Form::Window(_) => "line buffer",
            Form::Pad(_) | Form::UpSample(_) => "position by position",
            Form::Frame => "whole frame",
        };
        let name = format!("{base}_layer");
        let mut args: Vec<&str> = (0..ins.len())
            .filter_map(|port| self.var(|c| c.sink == Sink::Layer { node: id, port }))
            .collect();
        let y = self.var(|c| c.source == Source::Layer(id)).unwrap_or_default();
        args.push(y);
        let statement = format!("{name}({});", args.join(", "));
        self.statements.push(statement);
        self.processes.push(Process {
            comment: format!(
                "{} {} ({form}; reuse factor {}, {} strategy)",
                node.layer.kind(),
                describe(&node.name),
                node.reuse_factor,
                node.strategy.name()
            ),
            name,
            params: params.join(", "),
            pragmas,
            files: plan.files.iter().map(WeightFile::include).collect(),
            body,
        });
    }

    /// Adds the split process of tensor `id`, if it has one.
    pub(super) fn split(&mut self, g: &LoweredGraph, top: &TopInterface, id: NodeId) {
        let Some(&copies) = self.design.splits.get(&id) else { return };
        let t: Tensor = self.design.tensors[&id];
        let pixel = pixel_type(top, id);
        let mut params = vec![format!("hls::stream<{pixel}> &x")];
        let mut body = vec![format!("for (unsigned p = 0; p < {}; p++) {{", t.transfers)];
        body.push("#pragma HLS PIPELINE II=1".into());
        body.push(indent(&format!("const {pixel} v = x.read();")));
        let mut args = vec![self.var(|c| c.sink == Sink::Split(id)).unwrap_or_default().to_string()];
        for copy in 0..copies {
            params.push(format!("hls::stream<{pixel}> &y{copy}"));
            body.push(indent(&format!("y{copy}.write(v);")));
            let var = self.var(|c| c.source == Source::Split { tensor: id, copy }).unwrap_or_default();
            args.push(var.to_string());
        }
        body.push("}".into());
        let name = format!("{}_split", top.base[&id]);
        self.statements.push(format!("{name}({});", args.join(", ")));
        self.processes.push(Process {
            comment: format!("one stream per read of {}", describe(&g.node(id).name)),
            name,
            params: params.join(", "),
            pragmas: vec!["INLINE off".into()],
            files: Vec::new(),
            body,
        });
    }

    /// Adds `firmware/NAME.h`, `firmware/NAME.cpp` and the C simulation testbench `NAME_test.cpp`.
    pub(super) fn write(
        self,
        project: &mut Project,
        renderer: &Renderer,
        top: &TopInterface,
        model: &str,
    ) -> Result<(), BackendError> {
        let name = top.name.as_str();
        let inputs = test_bench::ports(top, &top.inputs, "tb_in", Some(self.design));
        let outputs = test_bench::ports(top, &top.outputs, "tb_out", Some(self.design));
        let signature = top
            .inputs
            .iter()
            .chain(&top.outputs)
            .map(|p| format!("hls::stream<{}> &{}", pixel_type(top, p.node), p.name))
            .collect::<Vec<_>>()
            .join(", ");
        let mut pragmas: Vec<String> = inputs
            .iter()
            .chain(&outputs)
            .map(|p| format!("INTERFACE mode=ap_fifo port={}", p.name))
            .collect();
        pragmas.push("INTERFACE mode=ap_ctrl_chain port=return".into());
        pragmas.push("DATAFLOW".into());
        let ctx = TopContext {
            name,
            model,
            guard: super::guard(name, "TOP"),
            signature: &signature,
            processes: &self.processes,
            pragmas,
            fifos: &self.fifos,
            statements: &self.statements,
        };
        project.add(format!("firmware/{name}.h"), renderer.render("top.h", &ctx)?)?;
        project.add(format!("firmware/{name}.cpp"), renderer.render("top_stream.cpp", &ctx)?)?;
        test_bench::add(project, renderer, top, &inputs, &outputs)?;
        Ok(())
    }
}

fn indent(line: &str) -> String {
    if line.starts_with('#') {
        line.to_string()
    } else {
        format!("    {line}")
    }
}

/// The plan of layer `ops` in the io_stream design: the form's library call, or the io_parallel
/// plan of its kernel's node.
pub(super) fn plan(design: &Design, id: NodeId, ops: &Operands<'_>) -> Result<Plan, BackendError> {
    match &design.layers[&id].form {
        form @ (Form::Window(_) | Form::Pad(_) | Form::UpSample(_)) => layers::stream_plan(ops, form),
        Form::Map | Form::Frame => layers::plan(ops),
    }
}

/// Per node, its pixel typedef `hlsgen::pixel<<base>_t, width>`.
pub(super) fn pixel_typedefs(design: &Design, top: &TopInterface) -> BTreeMap<NodeId, layers::TypeDef> {
    design
        .tensors
        .iter()
        .map(|(&id, t)| {
            let base = &top.base[&id];
            (
                id,
                layers::TypeDef {
                    name: format!("{base}_pixel_t"),
                    cpp: format!("hlsgen::pixel<{base}_t, {}>", t.width),
                },
            )
        })
        .collect()
}
