//! What the fusion passes share: finding each Dense layer whose result is still untyped and read
//! by exactly one layer (not a graph output) that is untyped too and not fixed by the model, and
//! folding that reader into the Dense.

use super::{PassError, PassReport};
use crate::ir::{Dense, Graph, Layer, NodeId};

/// Runs `fold` on every such (Dense, reader) pair in topological order. `fold` returns `None` to
/// leave the pair alone, or the Dense's new configuration; the reader is then bypassed and a note
/// records it ("fused 'reader' into {target}'dense'").
pub(super) fn fold_into_dense(
    g: &mut Graph,
    pass: &'static str,
    target: &str,
    mut fold: impl FnMut(&Dense, &Layer) -> Option<Dense>,
) -> Result<PassReport, PassError> {
    let mut report = PassReport::default();
    let order = g.topo_order().map_err(|source| PassError::Ir { pass, source })?;
    for id in order {
        if !g.contains(id) {
            continue;
        }
        let node = g.node(id);
        let Layer::Dense(d) = &node.layer else { continue };
        if node.ty.is_some() {
            continue;
        }
        let Some(u) = sole_user(g, id) else { continue };
        let user = g.node(u);
        if user.ty.is_some() || user.ty_from_model {
            continue;
        }
        let Some(fused) = fold(d, &user.layer) else { continue };
        let user_name = user.name.clone();
        g.node_mut(id).layer = Layer::Dense(fused);
        g.bypass(u).map_err(|source| PassError::Ir { pass, source })?;
        report.changes += 1;
        report.notes.push(format!("fused '{user_name}' into {target}'{}'", g.node(id).name));
    }
    Ok(report)
}

/// The single user of `id`, when `id` is not a graph output and has exactly one reader.
fn sole_user(g: &Graph, id: NodeId) -> Option<NodeId> {
    match g.users_of(id)[..] {
        [u] if !g.outputs().contains(&id) => Some(u),
        _ => None,
    }
}
