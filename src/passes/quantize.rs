//! `quantize`: gives every constant a type and rounds it into that type, and gives layer outputs,
//! accumulators and tables the types the configuration asks for.
//!
//! Types the model fixed (QONNX, QDQ, QKeras) are kept. Where the configuration says nothing, a
//! float model uses the default precision (`ap_fixed<16,6>`), while a model that carries its own
//! quantization keeps its arithmetic exact between its quantizers (the result is left to
//! `infer-precision`) and its float constants get the exact type of their values (up to 32 bits).
//! An input read only by a model quantizer takes that quantizer's type, so the float input is
//! rounded once, as the model does. In float models, the constants of layers that multiply by a
//! weight matrix (those with a reuse factor: Dense) default to the default precision; other
//! constants (slopes, bounds, scales) to an 18-bit type fitted to their values.

use super::typing::{const_type, quantize_weights};
use super::{Pass, PassContext, PassError, PassReport};
use crate::config::Precision;
use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{Activation, Graph, Layer, Pool, PoolOp, Reduce, ReduceOp, Table};

pub struct Quantize;

/// The integer type of an index input that node `id` only reshapes, crops or transposes (the
/// sender and receiver rows of a graph's edges): such a tensor keeps it, whatever the precision
/// settings say, since it holds row numbers, not values.
fn index_slice_type(g: &Graph, id: crate::ir::NodeId) -> Option<FixedType> {
    let node = g.node(id);
    if !matches!(node.layer, Layer::Reshape(_) | Layer::Pad(_) | Layer::Transpose(_)) {
        return None;
    }
    let [src] = g.inputs_of(id)[..] else { return None };
    let s = g.node(src);
    let integer = s.ty_from_model && s.ty.is_some_and(|t| t.frac_bits() <= 0);
    (integer && matches!(g.node(g.origin(src)).layer, Layer::Input(_))).then_some(s.ty).flatten()
}

const CONST_WIDTH: u32 = 18;
/// Probabilities in [0, 1) with 16 fractional bits (1 saturates to 1 - 2^-16).
const SOFTMAX_RESULT: FixedType = FixedType::new(16, 0, false).with_modes(QuantMode::Rnd, OverflowMode::Sat);
/// In a model that carries its own quantization, its float constants (often biases) are kept
/// exact when they fit this many bits.
const QUANTIZED_MODEL_CONST_WIDTH: u32 = 32;

fn resize_table(t: &mut Table, ty: Option<Precision>, size: Option<usize>) {
    if let Some(Precision::Fixed(ty)) = ty {
        t.ty = ty;
    }
    if let Some(size) = size {
        t.index_ty = FixedType { width: size.trailing_zeros(), ..t.index_ty };
        t.values.clear();
    }
}

fn model_is_quantized(g: &Graph) -> bool {
    g.node_ids().iter().any(|&id| {
        let n = g.node(id);
        // An index input's integer type says nothing of the model's arithmetic.
        let index = matches!(n.layer, Layer::Input(_)) && n.ty.is_some_and(|t| t.frac_bits() <= 0);
        (n.ty_from_model && !index) || n.layer.constants().iter().any(|(_, w)| w.ty.is_some())
    })
}

impl Pass for Quantize {
    fn name(&self) -> &'static str {
        "quantize"
    }

    fn description(&self) -> &'static str {
        "type and round constants; apply configured and model precisions"
    }

    fn after(&self) -> &'static [&'static str] {
        &["fuse-batch-norm", "fuse-bias"]
    }

    fn run(&self, g: &mut Graph, ctx: &PassContext) -> Result<PassReport, PassError> {
        let cfg = &ctx.config;
        let names: Vec<String> = g.node_ids().iter().map(|&i| g.node(i).name.clone()).collect();
        let mut report = PassReport::default();
        let mut skipped = Vec::new();
        for (n, s) in &cfg.layer_name {
            if names.contains(n) {
                continue;
            }
            // hls4ml names the layers it derives `<class>_<source>` (`Dense_MatMul_0`,
            // `Conv2D_Conv_0`) and writes the source's settings for them.
            let copy_of_source = g.node_ids().iter().any(|&i| {
                let x = g.node(i);
                n.ends_with(&format!("_{}", x.name)) && cfg.adds_nothing(s, x)
            });
            // hls4ml gives a layer with a linear activation its own `<layer>_linear` activation
            // layer (and removes it later); hls-gen builds none. Such an entry changes nothing
            // while its result type is `auto`: a linear activation has no table.
            let linear_of_layer = n.strip_suffix("_linear").is_some_and(|x| names.iter().any(|m| m == x))
                && matches!(s.precision.result, None | Some(crate::config::Precision::Auto));
            if !s.is_inert(&cfg.model) && !copy_of_source && !linear_of_layer {
                let near = crate::config::nearest(n, names.iter().map(String::as_str))
                    .or_else(|| names.iter().find(|m| m.starts_with(n.as_str())).map(String::as_str));
                let hint = near.map(|m| format!("; did you mean '{m}'?")).unwrap_or_default();
                return Err(PassError::layer(
                    n,
                    format!(
                        "is named in the configuration (LayerName) but the model has no such layer{hint} \
                         (`hls-gen inspect` lists the layers)"
                    ),
                ));
            }
            skipped.push(n.as_str());
        }
        if !skipped.is_empty() {
            report.notes.push(format!(
                "configuration entries for layers hls4ml creates (unset, `auto`, copies of the \
                 layer they derive from, or a linear activation's table), skipped: {}",
                skipped.join(", ")
            ));
        }
        let quantized_model = model_is_quantized(g);
        let order = g.topo_order().map_err(|source| PassError::Ir { pass: self.name(), source })?;
        for &id in &order {
            let s = cfg.for_node(g.node(id));
            let weight_matrix = g.work(id).reuse_domain.is_some();
            let model_quant_user = match g.users_of(id)[..] {
                [u] if matches!(g.node(u).layer, Layer::Quantize(_)) && g.node(u).ty_from_model => {
                    g.node(u).ty
                }
                _ => None,
            };
            let index_ty = index_slice_type(g, id);
            let node = g.node_mut(id);
            if index_ty.is_some() {
                node.ty = index_ty;
                node.ty_from_model = true;
                continue;
            }
            let name = node.name.clone();
            let mut saturated = 0;
            for (role, w) in node.layer.constants_mut() {
                if w.ty.is_some() {
                    continue;
                }
                let chosen = match role {
                    "bias" => s.bias,
                    "scale" | "alpha" => s.scale.or(s.weight),
                    _ => s.weight,
                };
                let ty = match chosen {
                    Some(Precision::Fixed(t)) => t,
                    Some(Precision::Auto) => const_type(&w.values, CONST_WIDTH),
                    None if quantized_model => const_type(&w.values, QUANTIZED_MODEL_CONST_WIDTH),
                    None if weight_matrix => cfg.default_precision,
                    None => const_type(&w.values, CONST_WIDTH),
                };
                saturated += quantize_weights(w, ty);
                report.changes += 1;
            }
            if saturated > 0 {
                report.notes.push(format!(
                    "'{name}': {saturated} constant values saturated or wrapped in their type"
                ));
            }
            for (role, t) in node.layer.tables_mut() {
                let ty = match role {
                    "exp_table" => s.exp_table.or(s.table),
                    "inv_table" => s.inv_table.or(s.table),
                    _ => s.table,
                };
                resize_table(t, ty, s.table_size);
            }
            if let Some(Precision::Fixed(t)) = s.accum {
                for (_, accum) in
                    node.layer.internal_types_mut().into_iter().filter(|(r, _)| *r == "accumulator")
                {
                    *accum = Some(t);
                }
            }
            if node.ty_from_model {
                continue;
            }
            // `auto` follows hls4ml's type inference: the default precision for an activation or a
            // softmax, what no setting gives for an input, an exact type everywhere else.
            let result = match (s.result, &node.layer) {
                (Some(Precision::Auto), Layer::Activation(_) | Layer::Softmax(_)) => {
                    Some(Precision::Fixed(cfg.default_precision))
                }
                (Some(Precision::Auto), Layer::Input(_)) => None,
                (r, _) => r,
            };
            node.ty = match result {
                Some(Precision::Fixed(t)) => Some(t),
                Some(Precision::Auto) => None,
                None => match &node.layer {
                    Layer::Input(_) => match model_quant_user {
                        Some(t) => {
                            node.ty_from_model = true;
                            Some(t)
                        }
                        None => Some(cfg.default_precision),
                    },
                    // Data movement (and the maximum of a window): the exact type of the inputs.
                    Layer::Reshape(_)
                    | Layer::Concatenate(_)
                    | Layer::Pad(_)
                    | Layer::UpSample(_)
                    | Layer::Transpose(_)
                    | Layer::GatherRows(_)
                    | Layer::Pool(Pool { op: PoolOp::Max, .. })
                    | Layer::Reduce(Reduce { op: ReduceOp::Max | ReduceOp::Min, .. }) => None,
                    Layer::Reduce(Reduce { op: ReduceOp::L2, table: Some(t), .. }) => Some(t.ty),
                    Layer::Activation(
                        Activation::Sigmoid(t)
                        | Activation::Tanh(t)
                        | Activation::Softplus(t)
                        | Activation::Softsign(t),
                    ) => Some(t.ty),
                    Layer::Softmax(_) => Some(SOFTMAX_RESULT),
                    Layer::Conv(_)
                    | Layer::Pool(_)
                    | Layer::Dense(_)
                    | Layer::BatchNorm(_)
                    | Layer::Activation(_)
                    | Layer::Elementwise(_)
                    | Layer::Reduce(_)
                    | Layer::ScatterAdd(_)
                    | Layer::Quantize(_) => (!quantized_model).then_some(cfg.default_precision),
                },
            };
            report.changes += 1;
        }
        // A model quantizer reading a value already of its type is an identity cast.
        for id in order {
            if !matches!(g.node(id).layer, Layer::Quantize(_)) {
                continue;
            }
            let src = g.inputs_of(id);
            if let [src] = src[..] {
                if g.node(src).ty.is_some() && g.node(src).ty == g.node(id).ty {
                    g.bypass(id).map_err(|source| PassError::Ir { pass: self.name(), source })?;
                }
            }
        }
        Ok(report)
    }
}
