//! `reuse-factor`: applies the configured reuse factor and strategy to each Dense layer and checks
//! that the reuse factor is legal: it must divide the layer's `n_in * n_out` multiplications, so
//! every multiplier does the same number of them. An illegal value is an error listing the nearest
//! legal values.

use super::{Pass, PassContext, PassError, PassReport};
use crate::ir::{Graph, Layer};

pub struct ReuseFactor;

/// The legal reuse factors nearest to `rf` (at most one below and one above).
pub fn nearest_legal(work: usize, rf: usize) -> Vec<usize> {
    let below = (1..=rf.min(work)).rev().find(|d| work % d == 0);
    let above = (rf..=work).find(|d| work % d == 0);
    below
        .into_iter()
        .chain(above)
        .filter(|&d| d != rf)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

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
            let node = g.node_mut(id);
            node.strategy = s.strategy;
            let Layer::Dense(d) = &node.layer else {
                node.reuse_factor = 1;
                continue;
            };
            let work = d.n_in() * d.n_out();
            let rf = s.reuse_factor;
            if rf == 0 || work % rf != 0 {
                let legal: Vec<String> =
                    nearest_legal(work, rf.max(1)).iter().map(|v| v.to_string()).collect();
                return Err(PassError::layer(
                    &node.name,
                    format!(
                        "reuse factor {rf} is not legal: it must divide n_in*n_out = {work}; nearest legal values: {}",
                        legal.join(", ")
                    ),
                ));
            }
            if node.reuse_factor != rf {
                report.changes += 1;
            }
            node.reuse_factor = rf;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::nearest_legal;

    #[test]
    fn nearest_legal_values() {
        assert_eq!(nearest_legal(16 * 64, 3), vec![2, 4]);
        assert_eq!(nearest_legal(10, 11), vec![10]);
        assert_eq!(nearest_legal(12, 5), vec![4, 6]);
    }
}
