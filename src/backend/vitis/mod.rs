//! Vitis HLS backend: emits a complete, self-checking HLS project from a lowered graph.
//!
//! [`emit`] builds the project in memory (write it with [`crate::backend::Project::write`]):
//!
//! | path | contents |
//! |---|---|
//! | `firmware/NAME.cpp`, `firmware/NAME.h` | top function `NAME`, io_parallel, pipelined with II = the largest reuse factor |
//! | `firmware/defines.h` | one typedef per tensor type and per layer constant, accumulator and table type |
//! | `firmware/parameters.h` | one configuration struct per layer |
//! | `firmware/weights/<layer>_<role>.h` | constants as exact decimal initializers in their own types |
//! | `firmware/hlsgen/*.h` | our HLS layer library (`templates/hlsgen`) |
//! | `NAME_test.cpp`, `tb_data/inputs.txt`, `tb_data/expected.txt` | C simulation testbench and vectors |
//! | `build_prj.tcl`, `vivado_synth.tcl` | Vitis HLS and Vivado flows (`xilinx_flows`) |
//! | `hls_config.yml`, `README.md` | effective per-layer configuration; how to build |
//!
//! Test vectors hold one sample per line, values separated by single spaces, each the exact
//! decimal value of its fixed-point number; the expected line concatenates the graph outputs in
//! order. Every identifier comes from one [`Namer`] ([`TopInterface`]), so model names never reach code or paths
//! unsanitized. The same graph, options and data always give byte-identical files.

pub mod csim;
mod layers;
mod render;
mod types;

use std::collections::BTreeSet;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::backend::namer::Namer;
use crate::backend::top::TopInterface;
use crate::backend::{BackendError, Project};
use crate::fixed::FixedType;
use crate::ir::{validate, Graph, Layer, NodeId, Stage, Strategy};
use layers::{describe, Call, Config, Input, Operands, Plan, TypeDef, WeightFile};
use render::{Renderer, LIBRARY};

pub use csim::{run_csim, CppStd, CsimOutcome};
pub use layers::describe as describe_name;

/// How tensors cross the top function's interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IoType {
    /// Completely partitioned arrays, all values in one cycle.
    #[default]
    Parallel,
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

/// Test vectors for the testbench: exact decimal strings, one `Vec` per sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestbenchData {
    pub inputs: Vec<Vec<String>>,
    /// Every graph output of the sample, concatenated in output order.
    pub expected: Vec<Vec<String>>,
}

/// The project's top function name for a requested project name.
pub fn project_identifier(project_name: &str) -> String {
    Namer::new().name(project_name)
}

#[derive(Serialize)]
struct Port {
    name: String,
    var: String,
    cpp_type: String,
    size: usize,
    offset: usize,
}

#[derive(Serialize)]
struct Local {
    name: String,
    cpp_type: String,
    size: usize,
}

#[derive(Serialize)]
struct CopyOut {
    from: String,
    to: String,
    size: usize,
}

#[derive(Serialize)]
struct TopContext<'a> {
    name: &'a str,
    model: &'a str,
    guard: String,
    signature: &'a str,
    ii: usize,
    pragmas: Vec<String>,
    locals: Vec<Local>,
    calls: Vec<&'a Call>,
    copies: Vec<CopyOut>,
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
    groups: Vec<TypedefGroup<'a>>,
}

#[derive(Serialize)]
struct ParametersContext<'a> {
    name: &'a str,
    guard: String,
    headers: Vec<&'static str>,
    weight_files: Vec<&'a str>,
    configs: Vec<&'a Config>,
}

#[derive(Serialize)]
struct WeightsContext<'a> {
    file: &'a WeightFile,
}

#[derive(Serialize)]
struct TestContext<'a> {
    name: &'a str,
    input: &'a Port,
    outputs: &'a [Port],
    output_total: usize,
    call_args: String,
}

#[derive(Serialize)]
struct FlowContext<'a> {
    name: &'a str,
    model: &'a str,
    part: &'a str,
    clock_period: String,
    ii: usize,
    samples: usize,
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

fn canonical_rows(
    what: &str,
    rows: &[Vec<String>],
    types: &[FixedType],
) -> Result<Vec<String>, BackendError> {
    rows.iter()
        .enumerate()
        .map(|(s, row)| {
            if row.len() != types.len() {
                return Err(BackendError::Testbench(format!(
                    "sample {s}: {} {what} values, the graph has {}",
                    row.len(),
                    types.len()
                )));
            }
            let values = row
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (text, ty))| {
                    let raw = crate::fixed::parse_decimal(text, ty)
                        .map_err(|e| BackendError::Testbench(format!("sample {s}, {what} value {i}: {e}")))?;
                    Ok(crate::fixed::to_decimal(raw, ty.frac_bits()))
                })
                .collect::<Result<Vec<_>, BackendError>>()?;
            Ok(values.join(" ") + "\n")
        })
        .collect()
}

/// Adds `tb_data/inputs.txt` and `tb_data/expected.txt` in canonical exact decimal text, checking
/// that every value is exact in its port type.
pub(crate) fn add_tb_data(
    project: &mut Project,
    g: &Graph,
    top: &TopInterface,
    tb: &TestbenchData,
) -> Result<(), BackendError> {
    if tb.inputs.len() != tb.expected.len() {
        return Err(BackendError::Testbench(format!(
            "{} input samples but {} expected samples",
            tb.inputs.len(),
            tb.expected.len()
        )));
    }
    let in_types = vec![top.input.ty; top.input.elements];
    let mut out_types = Vec::new();
    for &o in g.outputs() {
        let n = g.node(o);
        out_types.extend(std::iter::repeat_n(n.out_ty()?, n.shape.elements()));
    }
    project.add("tb_data/inputs.txt", canonical_rows("input", &tb.inputs, &in_types)?.concat())?;
    project.add("tb_data/expected.txt", canonical_rows("expected", &tb.expected, &out_types)?.concat())?;
    Ok(())
}

/// Emits the Vitis HLS project of a lowered graph.
pub fn emit(g: &Graph, opts: &VitisOptions, tb: &TestbenchData) -> Result<Project, BackendError> {
    validate(g, Stage::Lowered)?;
    check_options(opts)?;
    let IoType::Parallel = opts.io_type;
    if tb.inputs.len() != tb.expected.len() {
        return Err(BackendError::Testbench(format!(
            "{} input samples but {} expected samples",
            tb.inputs.len(),
            tb.expected.len()
        )));
    }

    let top = TopInterface::of(g, &opts.project_name)?;
    let name = top.name.clone();
    let model = describe(&g.name);
    let order = top.order.clone();
    let input_id = top.input.node;
    let base_of = |id: NodeId| top.base[&id].clone();

    // Where each tensor lives: the input port, an output port written directly, or a local.
    let mut var = std::collections::BTreeMap::<NodeId, String>::new();
    var.insert(input_id, top.input.name.clone());
    let mut outputs: Vec<Port> = Vec::new();
    let mut offset = 0usize;
    for (k, (port, &direct)) in top.outputs.iter().zip(&top.direct).enumerate() {
        if direct {
            var.insert(port.node, port.name.clone());
        }
        outputs.push(Port {
            name: port.name.clone(),
            var: format!("tb_out{k}"),
            cpp_type: format!("{}_t", base_of(port.node)),
            size: port.elements,
            offset,
        });
        offset += port.elements;
    }
    let mut locals = Vec::new();
    for &id in &order {
        if let std::collections::btree_map::Entry::Vacant(slot) = var.entry(id) {
            let b = base_of(id);
            locals.push(Local {
                name: b.clone(),
                cpp_type: format!("{b}_t"),
                size: g.node(id).shape.elements(),
            });
            slot.insert(b);
        }
    }
    let copies: Vec<CopyOut> = g
        .outputs()
        .iter()
        .zip(&outputs)
        .filter(|(o, port)| var[o] != port.name)
        .map(|(o, port)| CopyOut { from: var[o].clone(), to: port.name.clone(), size: port.size })
        .collect();

    let mut plans: Vec<(NodeId, Plan)> = Vec::new();
    for &id in &order {
        let node = g.node(id);
        let inputs = g
            .inputs_of(id)
            .into_iter()
            .map(|i| {
                let n = g.node(i);
                Ok(Input {
                    var: var[&i].clone(),
                    typedef: format!("{}_t", base_of(i)),
                    shape: n.shape.clone(),
                    ty: n.out_ty()?,
                })
            })
            .collect::<Result<Vec<_>, crate::ir::IrError>>()?;
        let b = base_of(id);
        let ops = Operands { node, base: &b, out_var: &var[&id], inputs };
        plans.push((id, layers::plan(&ops)?));
    }

    let ii = order.iter().map(|&id| g.node(id).reuse_factor).max().unwrap_or(1).max(1);
    let input_port = Port {
        name: base_of(input_id),
        var: "tb_in".into(),
        cpp_type: format!("{}_t", base_of(input_id)),
        size: top.input.elements,
        offset: 0,
    };
    let mut params = vec![format!("const {} {}[{}]", input_port.cpp_type, input_port.name, input_port.size)];
    params.extend(outputs.iter().map(|o| format!("{} {}[{}]", o.cpp_type, o.name, o.size)));
    let signature = params.join(", ");
    let mut pragmas = Vec::new();
    for port in std::iter::once(&input_port).chain(&outputs) {
        pragmas.push(format!("INTERFACE mode=ap_vld port={}", port.name));
        pragmas.push(format!("ARRAY_RESHAPE variable={} type=complete dim=0", port.name));
    }
    pragmas.push("INTERFACE mode=ap_ctrl_hs port=return".to_string());
    pragmas.push(format!("PIPELINE II={ii}"));

    let guard = |what: &str| format!("HLSGEN_{}_{}_H", name.to_ascii_uppercase(), what);
    let renderer = Renderer::new()?;
    let mut project = Project::new();
    let calls: Vec<&Call> = plans.iter().filter_map(|(_, p)| p.call.as_ref()).collect();
    let top_ctx = TopContext {
        name: &name,
        model: &model,
        guard: guard("TOP"),
        signature: &signature,
        ii,
        pragmas,
        locals,
        calls,
        copies,
    };
    project.add(format!("firmware/{name}.h"), renderer.render("top.h", &top_ctx)?)?;
    project.add(format!("firmware/{name}.cpp"), renderer.render("top.cpp", &top_ctx)?)?;

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
    let defines = DefinesContext { name: &name, guard: guard("DEFINES"), groups };
    project.add("firmware/defines.h", renderer.render("defines.h", &defines)?)?;

    let used: BTreeSet<&'static str> = plans.iter().filter_map(|(_, p)| p.header).collect();
    let headers: Vec<&'static str> = LIBRARY.iter().map(|(h, _)| *h).filter(|h| used.contains(h)).collect();
    let files: Vec<&WeightFile> = plans.iter().flat_map(|(_, p)| &p.files).collect();
    let parameters = ParametersContext {
        name: &name,
        guard: guard("PARAMETERS"),
        headers,
        weight_files: files.iter().map(|f| f.path.as_str()).collect(),
        configs: plans.iter().filter_map(|(_, p)| p.config.as_ref()).collect(),
    };
    project.add("firmware/parameters.h", renderer.render("parameters.h", &parameters)?)?;
    for file in &files {
        project.add(
            format!("firmware/{}", file.path),
            renderer.render("weights.h", &WeightsContext { file })?,
        )?;
    }
    for (header, source) in LIBRARY {
        project.add(format!("firmware/hlsgen/{header}"), *source)?;
    }

    let mut call_args = vec!["tb_in".to_string()];
    call_args.extend(outputs.iter().map(|o| o.var.clone()));
    let test = TestContext {
        name: &name,
        input: &input_port,
        outputs: &outputs,
        output_total: offset,
        call_args: call_args.join(", "),
    };
    project.add(format!("{name}_test.cpp"), renderer.render("test.cpp", &test)?)?;

    add_tb_data(&mut project, g, &top, tb)?;
    crate::backend::verilator::add_testbench(
        &mut project,
        g,
        &top,
        tb,
        crate::backend::verilator::RtlLocation::VitisSynth,
    )?;

    let flow = FlowContext {
        name: &name,
        model: &model,
        part: &opts.part,
        clock_period: format!("{}", opts.clock_period_ns),
        ii,
        samples: tb.inputs.len(),
    };
    project.add("build_prj.tcl", renderer.render("build_prj.tcl", &flow)?)?;
    project.add("vivado_synth.tcl", renderer.render("vivado_synth.tcl", &flow)?)?;
    project.add("README.md", renderer.render("README.md", &flow)?)?;

    let yaml = HlsConfigYaml {
        model: ModelYaml {
            project_name: name.clone(),
            model: g.name.clone(),
            part: opts.part.clone(),
            clock_period: opts.clock_period_ns,
            io_type: "io_parallel",
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
                            _ => None,
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
                    (base_of(*id), entry)
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
