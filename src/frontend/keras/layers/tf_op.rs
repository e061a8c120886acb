//! `TFOpLambda`: the layer Keras 2 records when a TensorFlow function is applied to a Keras tensor
//! in the functional API (`tf.reduce_mean(sq, axis=-1)`). Its config names the function and its
//! call's keyword arguments carry the options, so unlike `Lambda` (pickled bytecode) it can be read.
//!
//! | function | IR |
//! |---|---|
//! | `math.reduce_sum`, `math.reduce_mean`, `math.reduce_max`, `math.reduce_min` | `Reduce` (sum, mean, max, min) |
//! | `math.reduce_euclidean_norm` | `Reduce` (L2) |
//! | `math.square` | `Elementwise` `Mul` of the input by itself |
//!
//! A reduction needs `axis` (an integer or a list, negative from the end; never the batch axis:
//! TensorFlow's default `axis=None` also reduces over the batch) and takes `keepdims` (default
//! false). Any other function is refused with its name.

use super::{sample_axis, Builder, Cfg, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::KerasError;
use crate::ir::{BinaryOp, Elementwise, Layer, NodeId, Reduce, ReduceOp};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) enum Plan {
    /// Axes as Keras gives them (batch axis 0, negative from the end).
    Reduce {
        op: ReduceOp,
        axes: Vec<i64>,
        keepdims: bool,
    },
    Square,
}

pub(super) fn plan(c: &Cfg, _: Generation) -> Result<LayerPlan, String> {
    let function = c.string("function")?.ok_or("no function")?;
    let op = match function {
        "math.reduce_sum" => ReduceOp::Sum,
        "math.reduce_mean" => ReduceOp::Mean,
        "math.reduce_max" => ReduceOp::Max,
        "math.reduce_min" => ReduceOp::Min,
        "math.reduce_euclidean_norm" => ReduceOp::L2,
        "math.square" => return Ok(LayerPlan::TfOp(Plan::Square)),
        other => {
            return Err(format!(
                "TensorFlow function '{other}' is not supported (supported: math.reduce_sum, \
                 math.reduce_mean, math.reduce_max, math.reduce_min, math.reduce_euclidean_norm, math.square)"
            ))
        }
    };
    let call = c.call();
    let axes = match call.get("axis") {
        None => {
            return Err(format!(
                "{function} without axis reduces over the batch axis too; give the feature axes"
            ))
        }
        Some(Value::Array(a)) if a.is_empty() => return Err(format!("{function} over no axis")),
        Some(Value::Array(a)) => {
            a.iter().map(|v| v.as_i64().ok_or_else(|| format!("axis={v} is not an integer"))).collect()
        }
        Some(v) => Ok(vec![v.as_i64().ok_or_else(|| format!("axis={v} is not an integer"))?]),
    }?;
    let keepdims = call.bool_or("keepdims", false)?;
    Ok(LayerPlan::TfOp(Plan::Reduce { op, axes, keepdims }))
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    match p {
        Plan::Square => {
            let l = Layer::Elementwise(Elementwise { op: BinaryOp::Mul, constant: None });
            b.add(layer, layer.name.clone(), l, &[inputs[0], inputs[0]])
        }
        Plan::Reduce { op, axes, keepdims } => {
            let x = b.shape(inputs[0]);
            let mut sample = Vec::with_capacity(axes.len());
            for &a in axes {
                let s = sample_axis(a, x.rank()).map_err(|e| b.layer_err(layer, e))?;
                if sample.contains(&s) {
                    return Err(b.layer_err(layer, format!("axis {a} is given twice")));
                }
                sample.push(s);
            }
            sample.sort_unstable();
            let l = Layer::Reduce(Reduce::new(*op, sample, *keepdims, &x));
            b.add(layer, layer.name.clone(), l, inputs)
        }
    }
}
