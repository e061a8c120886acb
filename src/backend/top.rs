//! The top-level interface every backend gives a lowered graph: the top function / module name,
//! one identifier per tensor and the data ports, named as Vitis HLS names them.
//!
//! The top is `NAME(const in0_t IN0[n0], ..., out0_t OUT0[m0], ...)`, one input port per model
//! input and one output port per model output in the model's order, with `ap_ctrl_hs` block
//! control (`ap_ctrl_chain`, which adds an `ap_continue` input, for a Vitis HLS dataflow design)
//! and `ap_vld` on every data port; each port array is completely reshaped, so Vitis HLS makes it one
//! bus of `n * W` bits named like the array (element 0 in the least significant bits) with a
//! `<port>_ap_vld` strobe. The HLS backend emits that function; the RTL backend and the Verilator
//! testbench build and drive the same ports. Names come from one [`Namer`] in a fixed order
//! (project name, then every node in topological order, then output ports), so they are the same
//! in every backend and on every run.

use std::collections::BTreeMap;

use super::namer::Namer;
use super::BackendError;
use crate::fixed::FixedType;
use crate::ir::{LoweredGraph, NodeId};

/// Identifiers derived from a layer's base name; every backend's namer reserves all of them
/// for each layer, so that derived names never collide.
pub const DERIVED: &[&str] = &[
    "t",
    "accum_t",
    "config",
    "out",
    "weights",
    "weights_t",
    "bias",
    "bias_t",
    "scale",
    "scale_t",
    "alpha",
    "alpha_t",
    "beta",
    "beta_t",
    "min",
    "min_t",
    "max",
    "max_t",
    "constant",
    "constant_t",
    "table",
    "table_t",
    "table_index_t",
    "exp_table",
    "exp_table_t",
    "exp_table_index_t",
    "inv_table",
    "inv_table_t",
    "inv_table_index_t",
    "diff_t",
    "sum_t",
    "layer",
    "split",
    "src",
    "recip",
    "recip_t",
    "exact_t",
    "acc",
    "hs_t",
    "theta",
    "theta_t",
    "pixel_t",
];

/// One data port of the top.
#[derive(Debug, Clone, PartialEq)]
pub struct TopPort {
    /// Port (array, bus) name.
    pub name: String,
    /// The node whose tensor the port carries.
    pub node: NodeId,
    /// Number of values.
    pub elements: usize,
    pub ty: FixedType,
}

impl TopPort {
    /// Width of the reshaped bus in bits.
    pub fn bits(&self) -> u64 {
        self.elements as u64 * u64::from(self.ty.width)
    }
}

impl TopInterface {
    /// Values per sample of all input ports together.
    pub fn input_elements(&self) -> usize {
        self.inputs.iter().map(|p| p.elements).sum()
    }

    /// Values per sample of all output ports together.
    pub fn output_elements(&self) -> usize {
        self.outputs.iter().map(|p| p.elements).sum()
    }
}

/// The names a backend uses for a graph.
#[derive(Debug, Clone)]
pub struct TopInterface {
    /// Top function / module name (the sanitized project name).
    pub name: String,
    /// Every node's base identifier (C++ typedefs are `<base>_t`, Verilog wires `<base>_...`).
    pub base: BTreeMap<NodeId, String>,
    pub order: Vec<NodeId>,
    /// One per model input, in input order.
    pub inputs: Vec<TopPort>,
    /// One per graph output, in output order.
    pub outputs: Vec<TopPort>,
    /// Whether each output is written straight into its port (read by no layer, not the input).
    pub direct: Vec<bool>,
    /// The namer after every name above was taken, for backends that need more identifiers.
    pub namer: Namer,
}

impl TopInterface {
    /// Names the top of a lowered graph.
    pub fn of(g: &LoweredGraph, project_name: &str) -> Result<Self, BackendError> {
        let mut namer = Namer::new();
        let name = namer.name(project_name);
        let order = g.topo_order()?;
        let input_ids = g.inputs();
        let mut base = BTreeMap::new();
        for &id in &order {
            base.insert(id, namer.name_with(&g.node(id).name, DERIVED));
        }
        let port = |name: String, id: NodeId| -> Result<TopPort, BackendError> {
            let node = g.node(id);
            Ok(TopPort { name, node: id, elements: node.shape.elements(), ty: node.out_ty()? })
        };
        let inputs = input_ids.iter().map(|&i| port(base[&i].clone(), i)).collect::<Result<Vec<_>, _>>()?;
        let mut outputs = Vec::new();
        let mut direct = Vec::new();
        let mut written = std::collections::BTreeSet::new();
        for &o in g.outputs() {
            let is_direct = !input_ids.contains(&o) && !written.contains(&o) && g.users_of(o).is_empty();
            let name = if is_direct {
                written.insert(o);
                format!("{}_out", base[&o])
            } else {
                namer.name(&format!("{}_out", base[&o]))
            };
            outputs.push(port(name, o)?);
            direct.push(is_direct);
        }
        Ok(TopInterface { name, base, order, inputs, outputs, direct, namer })
    }
}
