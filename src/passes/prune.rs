//! `prune`: with `--prune-below X`, sets the weights of layers that multiply by a weight matrix
//! (those with a reuse factor: Dense) of magnitude below X to zero; reports for every such layer
//! how many weights are zero after quantization (those multiplications are not built).

use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::Graph;

pub struct Prune;

impl Pass for Prune {
    fn name(&self) -> &'static str {
        "prune"
    }

    fn description(&self) -> &'static str {
        "zero small weights and count the multiplications that vanish"
    }

    fn after(&self) -> &'static [&'static str] {
        &["quantize"]
    }

    fn run(&self, g: &mut Graph, ctx: &PassContext) -> Result<PassReport, PassError> {
        let mut report = PassReport::default();
        if let Some(t) = ctx.prune_below {
            if !(t.is_finite() && t >= 0.0) {
                return Err(PassError::layer(
                    "--prune-below",
                    format!("threshold {t} must be a finite non-negative number"),
                ));
            }
        }
        for id in g.node_ids() {
            if g.work(id).reuse_domain.is_none() {
                continue;
            }
            let node = g.node_mut(id);
            let name = node.name.clone();
            let Some((_, weights)) =
                node.layer.constants_mut().into_iter().find(|(role, _)| *role == "weights")
            else {
                continue;
            };
            let mut pruned = 0;
            if let Some(t) = ctx.prune_below {
                for w in &mut weights.values {
                    if *w != 0.0 && w.abs() < t {
                        *w = 0.0;
                        pruned += 1;
                    }
                }
            }
            let zeros = weights.zeros();
            let total = weights.values.len();
            report.changes += pruned;
            if pruned > 0 || zeros > 0 {
                report.notes.push(format!(
                    "'{name}': {zeros} of {total} weights are zero ({:.1}%){}",
                    100.0 * zeros as f64 / total.max(1) as f64,
                    if pruned > 0 { format!(", {pruned} pruned below the threshold") } else { String::new() }
                ));
            }
        }
        Ok(report)
    }
}
