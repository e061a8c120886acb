//! Vitis HLS backend: emits a complete, self-checking HLS project from a lowered graph.
//!
//! [`emit`] builds the project in memory (write it with [`crate::backend::Project::write`]):
//!
//! | path | contents |
//! |---|---|
//! | `firmware/NAME.cpp`, `firmware/NAME.h` | top function `NAME` and one function per layer (`io_parallel.rs`), built as [`crate::arch::hls`] decides |
//! | `firmware/defines.h` | one typedef per tensor type and per layer constant, accumulator and table type |
//! | `firmware/parameters.h` | one configuration struct per layer |
//! | `firmware/weights/<layer>_<role>.h` | constants as exact decimal initializers in their own types, included by the layer function that reads them |
//! | `firmware/hlsgen/*.h` | our HLS layer library (`templates/hlsgen`); each layer's call is planned in `layers/<kind>.rs` |
//! | `NAME_test.cpp`, `tb_data/inputs.txt`, `tb_data/expected.txt` | C simulation testbench and vectors |
//! | `build_prj.tcl`, `build_opt.tcl`, `vivado_synth.tcl` | Vitis HLS and Vivado flows (`xilinx_flows`); `build_opt.tcl` selects the steps |
//! | `hls_config.yml`, `README.md` | effective per-layer configuration; how to build |
//!
//! Test vectors are those of [`crate::backend::testbench`]. Every identifier comes from one
//! [`Namer`] ([`TopInterface`]), so model names never reach code or paths unsanitized. The same
//! graph, options and data always give byte-identical files.

pub mod csim;
mod io_parallel;
mod io_rows;
mod io_stream;
mod layers;
mod render;
mod test_bench;
mod types;

use std::collections::BTreeSet;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::arch;
use crate::arch::hls::Schedule;
use crate::backend::namer::{describe, Namer};
use crate::backend::testbench::{add_tb_data, TestbenchData};
use crate::backend::top::TopInterface;
use crate::backend::verilator;
use crate::backend::{BackendError, Project};
use crate::ir::{Layer, LoweredGraph, NodeId, Strategy};
use layers::{Config, Operands, Plan, TypeDef};
use render::{Renderer, LIBRARY};

pub use csim::{run_csim, CppStd, CsimOutcome};

/// How tensors cross the top function's interface.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IoType {
    /// Completely partitioned arrays, all values in one cycle (`io_parallel.rs`).
    #[default]
    Parallel,
    /// Streams of pixels (`io_stream.rs`): the depth of every channel of
    /// [`crate::arch::stream::Design::channels`] (ports' entries unused) and the design's interval,
    /// both from the dataflow model.
    Stream { fifo_depths: Vec<u64>, interval: u64 },
    /// The resource-optimized form of a graph model (`io_rows.rs`, [`crate::arch::rows`]): row
    /// tensors move `parallelism` rows per cycle between dataflow processes.
    Rows { parallelism: usize },
}

impl IoType {
    /// The name hls4ml's configuration gives it.
    pub fn name(&self) -> &'static str {
        match self {
            IoType::Parallel => "io_parallel",
            IoType::Stream { .. } => "io_stream",
            IoType::Rows { .. } => "io_parallel",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VitisOptions {
    /// Name of the project and its top function; sanitized into a C++ identifier.
    pub project_name: String,
    /// Full part name, e.g. `xcvu13p-flga2577-2-e`.
    pub part: String,
    pub clock_period_ns: f64,
    pub io_type: IoType,
}

/// The project's top function name for a requested project name.
pub fn project_identifier(project_name: &str) -> String {
    Namer::new().name(project_name)
}

/// The include guard of one of the project's headers.
fn guard(name: &str, what: &str) -> String {
    format!("HLSGEN_{}_{}_H", name.to_ascii_uppercase(), what)
}

#[derive(Serialize)]
struct TypedefGroup<'a> {
    comment: String,
    typedefs: &'a [TypeDef],
}

#[derive(Serialize)]
struct DefinesContext<'a> {
    name: &'a str,
    guard: String,
    /// Library headers the typedefs need.
    includes: Vec<&'static str>,
    groups: Vec<TypedefGroup<'a>>,
}

#[derive(Serialize)]
struct ParametersContext<'a> {
    name: &'a str,
    guard: String,
    headers: Vec<&'static str>,
    configs: Vec<&'a Config>,
}

#[derive(Serialize)]
struct FlowContext<'a> {
    name: &'a str,
    io_type: &'static str,
    model: &'a str,
    part: &'a str,
    clock_period: String,
    schedule: &'static str,
    ii: usize,
    samples: usize,
    /// Whether the project has the Verilator testbench (`verilator/`).
    verilator: bool,
}

/// A map serialized in the order of its entries.
struct Ordered<T>(Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ModelYaml {
    project_name: String,
    model: String,
    part: String,
    clock_period: f64,
    #[serde(rename = "IOType")]
    io_type: &'static str,
    reuse_factor: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LayerYaml {
    name: String,
    layer_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation: Option<&'static str>,
    precision: Ordered<String>,
    reuse_factor: usize,
    strategy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    table_size: Option<Ordered<usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonzero_weights: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_weights: Option<usize>,
}

#[derive(Serialize)]
struct HlsConfigYaml {
    #[serde(rename = "Model")]
    model: ModelYaml,
    #[serde(rename = "LayerName")]
    layers: Ordered<LayerYaml>,
}

fn check_options(opts: &VitisOptions) -> Result<(), BackendError> {
    let part_ok = !opts.part.is_empty()
        && opts.part.len() <= 64
        && opts.part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !part_ok {
        return Err(BackendError::Option {
            option: "part",
            what: format!("{:?} is not a part name (letters, digits, '-', '_', '.')", opts.part),
        });
    }
    if !(opts.clock_period_ns.is_finite() && opts.clock_period_ns > 0.0) {
        return Err(BackendError::Option {
            option: "clock period",
            what: format!("{} ns is not a positive duration", opts.clock_period_ns),
        });
    }
    Ok(())
}

/// Every node's plan, in topological order.
type Plans = Vec<(NodeId, Plan)>;

/// Inputs have no layer function: their plan is the typedef of their port.
fn input_plan(g: &LoweredGraph, top: &TopInterface, id: NodeId) -> Result<Plan, BackendError> {
    let port = arch::hls::LayerDesign { kernel: arch::hls::Kernel::Unrolled, roms: Vec::new() };
    let ops =
        Operands { node: g.node(id), base: &top.base[&id], design: &port, out_var: "y", inputs: Vec::new() };
    layers::plan(&ops)
}

/// The io_parallel top and testbench (`io_parallel.rs`) with the Verilator testbench of the RTL
/// Vitis HLS writes; every node's plan, the schedule's name and the II.
fn parallel(
    g: &LoweredGraph,
    top: &TopInterface,
    model: &str,
    renderer: &Renderer,
    project: &mut Project,
) -> Result<(Plans, &'static str, usize), BackendError> {
    let design = arch::hls::design(g)?;
    let layout = io_parallel::Layout::new(g, top, &design);
    let mut plans = Vec::new();
    let mut layers = Vec::new();
    for &id in &top.order {
        let Some(layer_design) = design.layers.get(&id) else {
            plans.push((id, input_plan(g, top, id)?));
            continue;
        };
        let ops = Operands {
            node: g.node(id),
            base: &top.base[&id],
            design: layer_design,
            out_var: "y",
            inputs: layout.inputs_of(g, top, id)?,
        };
        let plan = layers::plan(&ops)?;
        let (process, statement) = layout.layer(g, top, layer_design.kernel, id, &ops.inputs, &plan);
        layers.push((id, process, statement));
        plans.push((id, plan));
    }
    layout.write(project, renderer, top, model, layers)?;
    let control = verilator::Control { chain: design.schedule == Schedule::Dataflow, interval: design.ii };
    verilator::add_testbench(project, top, verilator::RtlLocation::VitisSynth, control)?;
    let schedule = match design.schedule {
        Schedule::Pipeline => "one pipeline",
        Schedule::Dataflow => "dataflow",
    };
    Ok((plans, schedule, design.ii))
}

/// The io_stream top and testbench (`io_stream.rs`) with FIFO depths `fifo_depths`; every node's
/// plan (its pixel typedef added); the library headers only the process bodies call go to `used`.
fn stream(
    g: &LoweredGraph,
    top: &TopInterface,
    model: &str,
    renderer: &Renderer,
    project: &mut Project,
    fifo_depths: &[u64],
    used: &mut BTreeSet<&'static str>,
) -> Result<Plans, BackendError> {
    let design = arch::stream::design(g)?;
    let mut layout = io_stream::Layout::new(g, top, &design, fifo_depths)?;
    let mut pixels = io_stream::pixel_typedefs(&design, top);
    let mut plans = Vec::new();
    for &id in &top.order {
        let mut plan = match design.layers.get(&id) {
            None => input_plan(g, top, id)?,
            Some(l) => {
                let ops = Operands {
                    node: &l.node,
                    base: &top.base[&id],
                    design: &l.design,
                    out_var: layout.out_var(id),
                    inputs: layout.inputs_of(g, top, id)?,
                };
                let plan = io_stream::plan(&design, id, &ops)?;
                layout.layer(g, top, id, &plan);
                if matches!(l.form, arch::stream::Form::Frame) {
                    used.insert("frame.h");
                }
                plan
            }
        };
        layout.split(g, top, id);
        plan.typedefs.extend(pixels.remove(&id));
        plans.push((id, plan));
    }
    layout.write(project, renderer, top, model)?;
    Ok(plans)
}

/// Emits the Vitis HLS project of a lowered graph.
pub fn emit(g: &LoweredGraph, opts: &VitisOptions, tb: &TestbenchData) -> Result<Project, BackendError> {
    check_options(opts)?;
    let top = TopInterface::of(g, &opts.project_name)?;
    let name = top.name.clone();
    let model = describe(&g.name);
    let renderer = Renderer::new()?;
    let mut project = Project::new();
    let mut used: BTreeSet<&'static str> = BTreeSet::new();
    let (mut plans, schedule, ii) = match &opts.io_type {
        IoType::Parallel => parallel(g, &top, &model, &renderer, &mut project)?,
        IoType::Stream { fifo_depths, interval } => {
            let plans = stream(g, &top, &model, &renderer, &mut project, fifo_depths, &mut used)?;
            (plans, "dataflow, pixel streams", *interval as usize)
        }
        IoType::Rows { parallelism } => {
            let design = arch::rows::design(g, *parallelism)?;
            let plans = io_rows::emit(g, &top, &design, &model, &renderer, &mut project)?;
            used.extend(["rows.h", "stream.h"]);
            (plans, "dataflow, chunks of rows", design.ii)
        }
    };
    let includes = match opts.io_type {
        IoType::Parallel | IoType::Rows { .. } => Vec::new(),
        IoType::Stream { .. } => vec!["stream.h"],
    };

    let groups = plans
        .iter()
        .map(|(id, p)| {
            let n = g.node(*id);
            TypedefGroup {
                comment: format!("{} {}", n.layer.kind(), describe(&n.name)),
                typedefs: &p.typedefs,
            }
        })
        .collect();
    let defines = DefinesContext { name: &name, guard: guard(&name, "DEFINES"), includes, groups };
    project.add("firmware/defines.h", renderer.render("defines.h", &defines)?)?;

    used.extend(plans.iter().filter_map(|(_, p)| p.header));
    let headers: Vec<&'static str> = LIBRARY.iter().map(|(h, _)| *h).filter(|h| used.contains(h)).collect();
    let parameters = ParametersContext {
        name: &name,
        guard: guard(&name, "PARAMETERS"),
        headers,
        configs: plans.iter().filter_map(|(_, p)| p.config.as_ref()).collect(),
    };
    project.add("firmware/parameters.h", renderer.render("parameters.h", &parameters)?)?;
    // Each header's text replaces its plan's, which is freed as soon as it is written.
    for file in plans.iter_mut().flat_map(|(_, p)| std::mem::take(&mut p.files)) {
        project.add(format!("firmware/{}", file.path), file.header(&name))?;
    }
    for (header, source) in LIBRARY {
        project.add(format!("firmware/hlsgen/{header}"), *source)?;
    }

    add_tb_data(&mut project, &top, tb)?;

    let flow = FlowContext {
        name: &name,
        model: &model,
        part: &opts.part,
        io_type: opts.io_type.name(),
        clock_period: format!("{}", opts.clock_period_ns),
        schedule,
        ii,
        samples: tb.samples(),
        verilator: opts.io_type == IoType::Parallel,
    };
    project.add("build_prj.tcl", renderer.render("build_prj.tcl", &flow)?)?;
    project.add("build_opt.tcl", renderer.render("build_opt.tcl", &flow)?)?;
    project.add("vivado_synth.tcl", renderer.render("vivado_synth.tcl", &flow)?)?;
    project.add("README.md", renderer.render("README.md", &flow)?)?;

    let yaml = HlsConfigYaml {
        model: ModelYaml {
            project_name: name.clone(),
            model: g.name.clone(),
            part: opts.part.clone(),
            clock_period: opts.clock_period_ns,
            io_type: opts.io_type.name(),
            reuse_factor: ii,
        },
        layers: Ordered(
            plans
                .iter()
                .map(|(id, p)| {
                    let n = g.node(*id);
                    let entry = LayerYaml {
                        name: n.name.clone(),
                        layer_type: n.layer.kind().to_string(),
                        activation: match &n.layer {
                            Layer::Activation(a) => Some(a.name()),
                            Layer::Input(_)
                            | Layer::Dense(_)
                            | Layer::BatchNorm(_)
                            | Layer::Softmax(_)
                            | Layer::Elementwise(_)
                            | Layer::Concatenate(_)
                            | Layer::Reshape(_)
                            | Layer::Quantize(_)
                            | Layer::Conv(_)
                            | Layer::Pool(_)
                            | Layer::Pad(_)
                            | Layer::UpSample(_)
                            | Layer::Transpose(_)
                            | Layer::Reduce(_)
                            | Layer::GatherRows(_)
                            | Layer::ScatterAdd(_) => None,
                        },
                        precision: Ordered(
                            p.precision.iter().map(|q| (q.role.clone(), q.ty.clone())).collect(),
                        ),
                        reuse_factor: n.reuse_factor,
                        strategy: match n.strategy {
                            Strategy::Latency => "Latency",
                            Strategy::Resource => "Resource",
                        },
                        table_size: (!p.table_sizes.is_empty()).then(|| Ordered(p.table_sizes.clone())),
                        nonzero_weights: p.nonzero.map(|(nz, _)| nz),
                        total_weights: p.nonzero.map(|(_, t)| t),
                    };
                    (top.base[id].clone(), entry)
                })
                .collect(),
        ),
    };
    let text = serde_yaml_ng::to_string(&yaml)
        .map_err(|e| BackendError::Template { template: "hls_config.yml".into(), message: e.to_string() })?;
    project.add(
        "hls_config.yml",
        format!("# Effective configuration of {name}, generated by hls-gen.\n{text}"),
    )?;
    Ok(project)
}
