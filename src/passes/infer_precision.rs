//! `infer-precision`: makes every still-unknown type exact. Dense accumulators become wide enough
//! for the largest partial sum the actual weights allow (so no accumulation can overflow), and
//! layer results left open become the exact type of their computation.

use super::typing::{exact_accum, exact_result};
use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{Graph, Layer};

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
            let x = g.inputs_of(id).first().and_then(|&i| g.node(i).ty);
            let node = g.node(id);
            if let (Layer::Dense(d), Some(x)) = (&node.layer, x) {
                if d.accum.is_none() {
                    let acc = exact_accum(&node.name, d, &x)?;
                    if let Layer::Dense(d) = &mut g.node_mut(id).layer {
                        d.accum = Some(acc);
                    }
                    report.changes += 1;
                }
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
