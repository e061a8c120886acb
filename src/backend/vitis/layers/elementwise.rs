//! `Elementwise` as calls from `templates/hlsgen/elementwise.h`: `elementwise` (two tensors),
//! `elementwise_constant` (a broadcast constant), or for three tensors and more `merge_first`,
//! `merge_next` per further input and `merge_last` over an accumulator array of the exact type
//! declared in the layer function; the operation as a functor type, the exact result type as
//! `exact_t`.

use super::{alias, konst, Builder, Call, Local, Operands, Plan};
use crate::backend::BackendError;
use crate::ir::{BinaryOp, Elementwise, LayerDef};

pub(super) fn plan(ops: &Operands<'_>, e: &Elementwise) -> Result<Plan, BackendError> {
    let node = &ops.node;
    let op = match e.op {
        BinaryOp::Add => "hlsgen::op_add",
        BinaryOp::Sub => "hlsgen::op_sub",
        BinaryOp::Mul => "hlsgen::op_mul",
        BinaryOp::Max => "hlsgen::op_max",
        BinaryOp::Min => "hlsgen::op_min",
    };
    let n = node.shape.elements();
    let types: Vec<_> = ops.inputs.iter().map(|i| i.ty).collect();
    let exact = e.exact_type("result", &types).map_err(|what| BackendError::layer(&node.name, what))?;
    let many = e.constant.is_none() && ops.inputs.len() > 2;
    let function = match (&e.constant, many) {
        (Some(_), _) => "elementwise_constant",
        (None, false) => "elementwise",
        (None, true) => "merge_first",
    };
    let mut bld = Builder::new(ops, function);
    bld.config.typedefs.push(alias("op", op));
    bld.typedef("exact_t", &exact, "exact_t", None);
    bld.config.constants.push(konst("n", n));
    if let Some(c) = &e.constant {
        bld.broadcast_constant("constant", c)?;
    }
    if !many {
        return Ok(bld.finish("elementwise.h"));
    }
    let config = bld.config.name.clone();
    let acc = format!("{}_acc", ops.base);
    bld.plan.locals.push(Local { cpp_type: format!("{}_exact_t", ops.base), name: acc.clone(), size: n });
    let typedef = |k: usize| ops.inputs[k].typedef.clone();
    let mut calls = vec![Call {
        function: "merge_first".into(),
        template_args: format!("{config}, {}", typedef(0)),
        args: format!("{}, {acc}", ops.inputs[0].var),
    }];
    for (k, input) in ops.inputs.iter().enumerate().skip(1) {
        calls.push(Call {
            function: "merge_next".into(),
            template_args: format!("{config}, {}", typedef(k)),
            args: format!("{acc}, {}", input.var),
        });
    }
    calls.push(Call {
        function: "merge_last".into(),
        template_args: config,
        args: format!("{acc}, {}", ops.out_var),
    });
    bld.plan.calls = calls;
    Ok(bld.finish("elementwise.h"))
}
