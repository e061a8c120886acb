//! Structural and type checks of a [`Graph`].
//!
//! [`validate`] with [`Stage::Imported`] checks what a frontend must guarantee (one input, arities,
//! shapes, finite constants, sizes). [`Stage::Lowered`] adds what the simulator, backends and
//! estimator rely on: every tensor, constant, accumulator and table is typed, constants are exactly
//! representable in their types, tables are filled, reuse factors divide the layer's work.

use super::{Activation, Graph, IrError, Layer, Shape, Table, Weights, MAX_ELEMENTS};
use crate::fixed::{FixedType, MAX_WIDTH};

/// Widest type a constant may have: constants are stored as `f64`.
pub const MAX_CONST_WIDTH: u32 = 53;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Imported,
    Lowered,
}

pub fn validate(g: &Graph, stage: Stage) -> Result<(), IrError> {
    let order = g.topo_order()?;
    match g.inputs().len() {
        0 => return Err(IrError::NoInput),
        1 => {}
        n => return Err(IrError::ManyInputs(n)),
    }
    if g.outputs().is_empty() {
        return Err(IrError::NoOutput);
    }
    for &o in g.outputs() {
        if !g.contains(o) {
            return Err(IrError::NoOutput);
        }
    }
    for id in order {
        let node = g.node(id);
        let name = node.name.as_str();
        let inputs = g.inputs_of(id);
        if inputs.len() != node.layer.arity() {
            return Err(IrError::invalid(
                name,
                format!("expects {} inputs, has {}", node.layer.arity(), inputs.len()),
            ));
        }
        check_shape(name, &node.shape)?;
        let in_shape = inputs.first().map(|&i| g.node(i).shape.clone());
        check_layer(name, &node.layer, in_shape.as_ref(), &node.shape)?;
        if let Layer::Elementwise(_) = node.layer {
            if let [a, b] = inputs[..] {
                if g.node(a).shape != g.node(b).shape {
                    return Err(IrError::invalid(
                        name,
                        format!("operand shapes differ: {} and {}", g.node(a).shape, g.node(b).shape),
                    ));
                }
            }
        }
        for (role, w) in node.layer.weights() {
            check_weights(name, role, w, stage)?;
        }
        if node.reuse_factor == 0 {
            return Err(IrError::invalid(name, "reuse factor must be at least 1"));
        }
        if stage == Stage::Lowered {
            check_type(name, "output", &node.out_ty()?)?;
            if let Layer::Dense(d) = &node.layer {
                let acc = d.accum.ok_or_else(|| IrError::invalid(name, "accumulator type is unknown"))?;
                check_type(name, "accumulator", &acc)?;
                let work = d.n_in() * d.n_out();
                if work % node.reuse_factor != 0 {
                    return Err(IrError::invalid(
                        name,
                        format!("reuse factor {} does not divide n_in*n_out = {work}", node.reuse_factor),
                    ));
                }
            }
            for (role, t) in node.layer.tables() {
                check_table(name, role, t)?;
            }
        }
    }
    Ok(())
}

fn check_shape(name: &str, shape: &Shape) -> Result<(), IrError> {
    if shape.dims().contains(&0) {
        return Err(IrError::invalid(name, format!("shape {shape} has a zero dimension")));
    }
    if shape.elements() > MAX_ELEMENTS {
        return Err(IrError::invalid(
            name,
            format!("shape {shape} has {} elements, more than the limit of {MAX_ELEMENTS}", shape.elements()),
        ));
    }
    Ok(())
}

fn check_layer(name: &str, layer: &Layer, input: Option<&Shape>, out: &Shape) -> Result<(), IrError> {
    let same = |what: &str| -> Result<(), IrError> {
        match input {
            Some(i) if i != out => Err(IrError::invalid(name, format!("{what} changes shape {i} to {out}"))),
            _ => Ok(()),
        }
    };
    match layer {
        Layer::Input => Ok(()),
        Layer::Dense(d) => {
            let dims = d.weights.shape.dims();
            if dims.len() != 2 {
                return Err(IrError::invalid(name, format!("weights must be 2-D, are {}", d.weights.shape)));
            }
            if d.bias.shape.dims() != [d.n_out()] {
                return Err(IrError::invalid(
                    name,
                    format!("bias shape {} does not match {} outputs", d.bias.shape, d.n_out()),
                ));
            }
            if input.map(|i| i.dims()) != Some(&[d.n_in()][..]) {
                let got = input.map(|i| i.to_string()).unwrap_or_default();
                return Err(IrError::invalid(
                    name,
                    format!("expects a flat input of {} features, gets {got}", d.n_in()),
                ));
            }
            if out.dims() != [d.n_out()] {
                return Err(IrError::invalid(
                    name,
                    format!("output shape {out} does not match {} outputs", d.n_out()),
                ));
            }
            Ok(())
        }
        Layer::BatchNorm(b) => {
            for (role, w) in [("scale", &b.scale), ("bias", &b.bias)] {
                let n = w.shape.elements();
                if n != 1 && n != out.channels() {
                    return Err(IrError::invalid(
                        name,
                        format!("{role} has {n} values for {} channels", out.channels()),
                    ));
                }
            }
            same("batch normalization")
        }
        Layer::Activation(a) => {
            if let Activation::PRelu { alpha } = a {
                if !alpha.shape.broadcasts_to(out) {
                    return Err(IrError::invalid(
                        name,
                        format!("slope shape {} does not broadcast to {out}", alpha.shape),
                    ));
                }
            }
            for (role, w) in layer.weights() {
                if !matches!(a, Activation::PRelu { .. }) && w.values.len() != 1 {
                    return Err(IrError::invalid(name, format!("{role} must be a scalar")));
                }
            }
            same("an activation")
        }
        Layer::Softmax(_) => same("softmax"),
        Layer::Quantize => same("quantization"),
        Layer::Elementwise(e) => {
            if let Some(c) = &e.constant {
                if !c.shape.broadcasts_to(out) {
                    return Err(IrError::invalid(
                        name,
                        format!("constant shape {} does not broadcast to {out}", c.shape),
                    ));
                }
            }
            same("an elementwise operation")
        }
        Layer::Reshape => match input {
            Some(i) if i.elements() != out.elements() => {
                Err(IrError::invalid(name, format!("reshape from {i} to {out} changes the element count")))
            }
            _ => Ok(()),
        },
    }
}

fn check_weights(name: &str, role: &str, w: &Weights, stage: Stage) -> Result<(), IrError> {
    if w.values.len() != w.shape.elements() {
        return Err(IrError::invalid(
            name,
            format!("{role} holds {} values for shape {}", w.values.len(), w.shape),
        ));
    }
    if let Some(pos) = w.values.iter().position(|v| !v.is_finite()) {
        return Err(IrError::invalid(name, format!("{role} value #{pos} is {}", w.values[pos])));
    }
    if stage == Stage::Lowered {
        let ty = w.ty.ok_or_else(|| IrError::invalid(name, format!("{role} has no fixed-point type")))?;
        check_const_type(name, role, &ty)?;
        if let Some(pos) = w.values.iter().position(|&v| !representable(v, &ty)) {
            return Err(IrError::invalid(
                name,
                format!("{role} value #{pos} ({}) is not exact in {ty}", w.values[pos]),
            ));
        }
    }
    Ok(())
}

fn check_table(name: &str, role: &str, t: &Table) -> Result<(), IrError> {
    check_type(name, role, &t.index_ty)?;
    if t.index_ty.width > 16 {
        return Err(IrError::invalid(
            name,
            format!("{role} index type {} is wider than 16 bits", t.index_ty),
        ));
    }
    check_const_type(name, role, &t.ty)?;
    if t.values.len() != t.len() {
        return Err(IrError::invalid(
            name,
            format!("{role} has {} entries, needs {}", t.values.len(), t.len()),
        ));
    }
    if let Some(pos) = t.values.iter().position(|&v| !representable(v, &t.ty)) {
        return Err(IrError::invalid(name, format!("{role} entry #{pos} is not exact in {}", t.ty)));
    }
    Ok(())
}

fn check_type(name: &str, role: &str, ty: &FixedType) -> Result<(), IrError> {
    if ty.width == 0 || ty.width > MAX_WIDTH {
        return Err(IrError::invalid(name, format!("{role} type {ty:?} must be 1 to {MAX_WIDTH} bits wide")));
    }
    Ok(())
}

fn check_const_type(name: &str, role: &str, ty: &FixedType) -> Result<(), IrError> {
    check_type(name, role, ty)?;
    if ty.width > MAX_CONST_WIDTH {
        return Err(IrError::invalid(
            name,
            format!("{role} type is {} bits wide; constants may have at most {MAX_CONST_WIDTH}", ty.width),
        ));
    }
    Ok(())
}

/// True when `v` is exactly a value of `ty` (for types of at most 53 bits).
pub fn representable(v: f64, ty: &FixedType) -> bool {
    let raw = v * 2f64.powi(ty.frac_bits());
    if !raw.is_finite() || raw.fract() != 0.0 {
        return false;
    }
    let w = ty.width as i32;
    let (lo, hi) =
        if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
    raw >= lo && raw <= hi
}
