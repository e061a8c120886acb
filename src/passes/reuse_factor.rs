//! `reuse-factor`: applies the configured reuse factor and strategy to each layer. A layer whose
//! work has a reuse domain ([`crate::ir::Work`]) takes the configured reuse factor, which must be
//! legal for it (an error names the nearest legal values); every other layer has reuse factor 1.

use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::Graph;

pub struct ReuseFactor;

impl Pass for ReuseFactor {
    fn name(&self) -> &'static str {
        "reuse-factor"
    }

    fn description(&self) -> &'static str {
        "apply reuse factors and strategies, checking they are legal"
    }

    fn run(&self, g: &mut Graph, ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        for id in g.node_ids() {
            let s = ctx.config.for_node(g.node(id));
            let work = g.work(id);
            let node = g.node_mut(id);
            node.strategy = s.strategy;
            let rf = if work.reuse_domain.is_some() { s.reuse_factor } else { 1 };
            work.check_reuse_factor(rf).map_err(|e| PassError::layer(&node.name, e))?;
            if node.reuse_factor != rf {
                report.changes += 1;
            }
            node.reuse_factor = rf;
        }
        Ok(report)
    }
}
