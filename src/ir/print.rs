//! A stable, human-readable text form of a [`Graph`], used by `inspect`, `--dump-ir-after` and tests.
//!
//! Nodes are numbered `%0, %1, ...` in topological order; the same graph always prints the same
//! text.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{Graph, Layer, LayerDef, NodeId, PoolOp, ReduceOp, Weights};
use crate::fixed::FixedType;

fn ty_str(ty: &Option<FixedType>) -> String {
    ty.map(|t| t.to_string()).unwrap_or_else(|| "?".to_string())
}

fn weights_str(w: &Weights) -> String {
    let zeros = w.zeros();
    if w.values.len() == 1 {
        format!("{}:{}", w.values[0], ty_str(&w.ty))
    } else if zeros > 0 {
        format!("{}{} zeros={zeros}", ty_str(&w.ty), w.shape)
    } else {
        format!("{}{}", ty_str(&w.ty), w.shape)
    }
}

/// Prints the graph. Errors only on a cycle (printed as a note instead).
pub fn print(g: &Graph) -> String {
    let order = match g.topo_order() {
        Ok(o) => o,
        Err(e) => return format!("graph {} (invalid: {e})\n", g.name),
    };
    let num: BTreeMap<NodeId, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "graph {}", g.name);
    for &id in &order {
        let n = g.node(id);
        let args: Vec<String> = g.inputs_of(id).iter().map(|i| format!("%{}", num[i])).collect();
        let _ = write!(
            out,
            "  %{} = {}({}) {:?} -> {} {}",
            num[&id],
            n.layer.qualified_kind(),
            args.join(", "),
            n.name,
            n.shape,
            ty_str(&n.ty)
        );
        let has_rf = match &n.layer {
            Layer::Dense(d) => {
                let macs = g.work(id).macs;
                let _ = write!(out, " accum={} macs={macs}", ty_str(&d.accum));
                true
            }
            Layer::Activation(a) => {
                for (_, t) in a.held().tables {
                    let _ = write!(out, " table={}[{}] index={}", t.ty, t.len(), t.index_ty);
                }
                true
            }
            Layer::Conv(c) => {
                let macs = g.work(id).macs;
                let _ = write!(
                    out,
                    " kernel={:?} strides={:?} dilations={:?} pads={:?}/{:?} groups={} accum={} macs={macs}",
                    c.kernel(),
                    c.strides,
                    c.dilations,
                    c.pads_begin,
                    c.pads_end,
                    c.groups,
                    ty_str(&c.accum)
                );
                true
            }
            Layer::Pool(p) => {
                let _ = write!(
                    out,
                    " window={:?} strides={:?} pads={:?}/{:?}",
                    p.kernel, p.strides, p.pads_begin, p.pads_end
                );
                if p.op == PoolOp::Average {
                    let _ = write!(out, " count_pad={} reciprocal={}", p.count_pad, ty_str(&p.reciprocal));
                }
                false
            }
            Layer::Pad(p) => {
                let _ = write!(out, " begin={:?} end={:?}", p.begin, p.end);
                false
            }
            Layer::UpSample(u) => {
                let _ = write!(out, " factors={:?}", u.factors);
                false
            }
            Layer::Transpose(t) => {
                let _ = write!(out, " perm={:?}", t.perm);
                false
            }
            Layer::Reduce(r) => {
                let _ = write!(out, " axes={:?} keepdims={} n={}", r.axes, r.keepdims, r.count);
                if r.op == ReduceOp::Mean {
                    let _ = write!(out, " reciprocal={}", ty_str(&r.reciprocal));
                }
                if let Some(t) = &r.table {
                    let _ = write!(out, " table={}[{}] index={}", t.ty, t.len(), t.index_ty);
                }
                false
            }
            Layer::Softmax(s) => {
                let _ = write!(
                    out,
                    " exp={}[{}] index={} inv={}[{}] index={}",
                    s.exp_table.ty,
                    s.exp_table.len(),
                    s.exp_table.index_ty,
                    s.inv_table.ty,
                    s.inv_table.len(),
                    s.inv_table.index_ty
                );
                true
            }
            Layer::Concatenate(c) => {
                let _ = write!(out, " axis={}", c.axis);
                false
            }
            Layer::ScatterAdd(s) => {
                let _ = write!(out, " rows={} terms={}", s.rows, s.terms);
                false
            }
            Layer::GatherRows(_) => false,
            Layer::BatchNorm(_) | Layer::Elementwise(_) => true,
            Layer::Input(_) | Layer::Reshape(_) | Layer::Quantize(_) => false,
        };
        for (role, w) in n.layer.constants() {
            let _ = write!(out, " {role}={}", weights_str(w));
        }
        if has_rf {
            let _ = write!(out, " rf={} {}", n.reuse_factor, n.strategy.name());
        }
        if n.ty_from_model {
            let _ = write!(out, " (type from model)");
        }
        out.push('\n');
    }
    let outs: Vec<String> = g.outputs().iter().filter_map(|o| num.get(o)).map(|i| format!("%{i}")).collect();
    let _ = writeln!(out, "  outputs {}", outs.join(", "));
    out
}
