//! `infer-precision`: makes every still-unknown type exact. A layer's internal types (a Dense
//! accumulator: wide enough for the largest partial sum the actual weights allow, so no
//! accumulation can overflow) and layer results left open become the exact type of their
//! computation, as each layer defines it.

use super::typing::exact_result;
use super::{Pass, PassContext, PassError, PassReport};
use crate::fixed::FixedType;
use crate::ir::Graph;

pub struct InferPrecision;

impl Pass for InferPrecision {
    fn name(&self) -> &'static str {
        "infer-precision"
    }

    fn description(&self) -> &'static str {
        "exact accumulators and exact types for results left open"
    }

    fn after(&self) -> &'static [&'static str] {
        &["quantize", "prune"]
    }

    fn run(&self, g: &mut Graph, _ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        let order = g.topo_order().map_err(|source| PassError::Ir { pass: self.name(), source })?;
        for id in order {
            let ins: Vec<FixedType> = g.inputs_of(id).iter().filter_map(|&i| g.node(i).ty).collect();
            let complete = ins.len() == g.inputs_of(id).len();
            let node = g.node_mut(id);
            let name = node.name.clone();
            let open: Vec<&'static str> = node
                .layer
                .internal_types()
                .into_iter()
                .filter(|(_, t)| t.is_none())
                .map(|(r, _)| r)
                .collect();
            for role in open {
                if !complete {
                    break;
                }
                let exact =
                    node.layer.def().exact_type(role, &ins).map_err(|e| PassError::layer(&name, e))?;
                for (r, t) in node.layer.internal_types_mut() {
                    if r == role {
                        *t = Some(exact);
                    }
                }
                report.changes += 1;
            }
            if g.node(id).ty.is_none() {
                let ty = exact_result(g, id)?;
                g.node_mut(id).ty = Some(ty);
                report.changes += 1;
            }
        }
        Ok(report)
    }
}
