//! The `io_parallel` top function: every tensor is a completely partitioned array, the function
//! is one pipeline with II = the design's ([`crate::arch::hls::design_ii`]), each layer is one or
//! more library calls on the arrays of its inputs and output.
//!
//! Each port array is completely reshaped with `ap_vld` (see [`crate::backend::top`]). A tensor
//! lives in its input port, in its output port when only that port reads it, or in a local array;
//! outputs read elsewhere too are copied to their port at the end.

use std::collections::BTreeMap;

use serde::Serialize;

use super::layers::{Call, Input};
use super::render::Renderer;
use crate::backend::top::TopInterface;
use crate::backend::{BackendError, Project};
use crate::ir::{LoweredGraph, NodeId};

/// A port of the top function as the testbench sees it.
#[derive(Serialize)]
pub(super) struct Port {
    pub name: String,
    /// The testbench's array.
    pub var: String,
    pub cpp_type: String,
    pub size: usize,
    /// Index of its first value in a test vector line.
    pub offset: usize,
    /// The index of its value `tb_i` in a test vector line, as C++.
    pub token: String,
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
struct TestContext<'a> {
    name: &'a str,
    inputs: &'a [Port],
    input_total: usize,
    outputs: &'a [Port],
    output_total: usize,
    call_args: String,
}

/// Where every tensor of the design lives.
pub(super) struct Layout {
    var: BTreeMap<NodeId, String>,
    locals: Vec<Local>,
    copies: Vec<CopyOut>,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

impl Layout {
    pub(super) fn new(g: &LoweredGraph, top: &TopInterface) -> Self {
        let typedef = |id: NodeId| format!("{}_t", top.base[&id]);
        let mut var = BTreeMap::new();
        let mut inputs = Vec::new();
        let mut offset = 0;
        for (k, port) in top.inputs.iter().enumerate() {
            var.insert(port.node, port.name.clone());
            inputs.push(Port {
                name: port.name.clone(),
                var: format!("tb_in{k}"),
                cpp_type: typedef(port.node),
                size: port.elements,
                offset,
                token: if offset == 0 { "tb_i".into() } else { format!("{offset} + tb_i") },
            });
            offset += port.elements;
        }
        let mut outputs = Vec::new();
        let mut offset = 0;
        for (k, (port, &direct)) in top.outputs.iter().zip(&top.direct).enumerate() {
            if direct {
                var.insert(port.node, port.name.clone());
            }
            outputs.push(Port {
                name: port.name.clone(),
                var: format!("tb_out{k}"),
                cpp_type: typedef(port.node),
                size: port.elements,
                offset,
                token: if offset == 0 { "tb_i".into() } else { format!("{offset} + tb_i") },
            });
            offset += port.elements;
        }
        let mut locals = Vec::new();
        for &id in &top.order {
            if let std::collections::btree_map::Entry::Vacant(slot) = var.entry(id) {
                let b = top.base[&id].clone();
                locals.push(Local {
                    name: b.clone(),
                    cpp_type: format!("{b}_t"),
                    size: g.node(id).shape.elements(),
                });
                slot.insert(b);
            }
        }
        let copies = top
            .outputs
            .iter()
            .filter(|port| var[&port.node] != port.name)
            .map(|port| CopyOut { from: var[&port.node].clone(), to: port.name.clone(), size: port.elements })
            .collect();
        Layout { var, locals, copies, inputs, outputs }
    }

    /// The array holding a tensor.
    pub(super) fn var(&self, id: NodeId) -> &str {
        &self.var[&id]
    }

    /// The inputs of node `id` as the layer plans see them.
    pub(super) fn inputs_of(
        &self,
        g: &LoweredGraph,
        top: &TopInterface,
        id: NodeId,
    ) -> Result<Vec<Input>, BackendError> {
        g.inputs_of(id)
            .into_iter()
            .map(|i| {
                let n = g.node(i);
                Ok(Input {
                    var: self.var[&i].clone(),
                    typedef: format!("{}_t", top.base[&i]),
                    shape: n.shape.clone(),
                    ty: n.out_ty()?,
                })
            })
            .collect()
    }

    /// Adds `firmware/NAME.h`, `firmware/NAME.cpp` and the C simulation testbench `NAME_test.cpp`.
    pub(super) fn write(
        self,
        project: &mut Project,
        renderer: &Renderer,
        top: &TopInterface,
        model: &str,
        ii: usize,
        calls: Vec<&Call>,
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
        pragmas.push("INTERFACE mode=ap_ctrl_hs port=return".to_string());
        pragmas.push(format!("PIPELINE II={ii}"));
        let ctx = TopContext {
            name,
            model,
            guard: super::guard(name, "TOP"),
            signature: &signature,
            ii,
            pragmas,
            locals: self.locals,
            calls,
            copies: self.copies,
        };
        project.add(format!("firmware/{name}.h"), renderer.render("top.h", &ctx)?)?;
        project.add(format!("firmware/{name}.cpp"), renderer.render("top.cpp", &ctx)?)?;
        let call_args: Vec<&str> = self.inputs.iter().chain(&self.outputs).map(|p| p.var.as_str()).collect();
        let test = TestContext {
            name,
            inputs: &self.inputs,
            input_total: top.input_elements(),
            outputs: &self.outputs,
            output_total: top.output_elements(),
            call_args: call_args.join(", "),
        };
        project.add(format!("{name}_test.cpp"), renderer.render("test.cpp", &test)?)?;
        Ok(())
    }
}
