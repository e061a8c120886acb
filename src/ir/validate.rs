//! Structural and type checks of a [`Graph`], and the validated-graph types the stages take.
//!
//! [`validate`] with [`Stage::Imported`] checks what a frontend must guarantee: at least one input
//! and one output, arities, every node's shape equal to its layer's `output_shape` of its inputs,
//! finite constants, sizes. [`Stage::Lowered`] adds what the simulator, backends and estimator
//! rely on: every tensor, constant, accumulator and table is typed, constants are exactly
//! representable in their types, tables are filled, reuse factors are legal for the layer's work.
//!
//! [`ImportedGraph`] and [`LoweredGraph`] can only be made by validating, so a stage that takes one
//! relies on these checks without repeating them.

use std::ops::Deref;

use super::{Graph, IrError, Shape, Table, Weights, MAX_ELEMENTS};
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
    if g.inputs().is_empty() {
        return Err(IrError::NoInput);
    }
    if g.outputs().is_empty() || g.outputs().iter().any(|&o| !g.contains(o)) {
        return Err(IrError::NoOutput);
    }
    for id in order {
        let node = g.node(id);
        let name = node.name.as_str();
        let inputs = g.inputs_of(id);
        let arity = node.layer.arity();
        if !arity.accepts(inputs.len()) {
            return Err(IrError::invalid(name, format!("expects {arity} inputs, has {}", inputs.len())));
        }
        let shapes: Vec<&Shape> = inputs.iter().map(|&i| &g.node(i).shape).collect();
        let shape = node.layer.output_shape(&shapes).map_err(|what| IrError::invalid(name, what))?;
        if shape != node.shape {
            return Err(IrError::invalid(
                name,
                format!("its shape is {} but the layer computes {shape}", node.shape),
            ));
        }
        check_shape(name, &node.shape)?;
        for (role, w) in node.layer.constants() {
            check_weights(name, role, w, stage)?;
        }
        if node.reuse_factor == 0 {
            return Err(IrError::invalid(name, "reuse factor must be at least 1"));
        }
        if stage == Stage::Lowered {
            check_type(name, "output", &node.out_ty()?)?;
            for (role, ty) in node.layer.internal_types() {
                let ty = ty.ok_or_else(|| IrError::invalid(name, format!("{role} type is unknown")))?;
                check_type(name, role, &ty)?;
            }
            node.layer
                .def()
                .work(&shapes)
                .check_reuse_factor(node.reuse_factor)
                .map_err(|what| IrError::invalid(name, what))?;
            for (role, t) in node.layer.tables() {
                check_table(name, role, t)?;
            }
        }
    }
    Ok(())
}

/// A graph that passed `validate(.., Stage::Imported)`: what frontends give and the `f64`
/// reference simulation takes.
#[derive(Debug, Clone)]
pub struct ImportedGraph(Graph);

/// A graph that passed `validate(.., Stage::Lowered)`: every type known and legal. The simulator,
/// the backends and the estimator take only this.
#[derive(Debug, Clone)]
pub struct LoweredGraph(Graph);

impl ImportedGraph {
    pub fn new(g: Graph) -> Result<Self, IrError> {
        validate(&g, Stage::Imported)?;
        Ok(ImportedGraph(g))
    }

    pub fn into_graph(self) -> Graph {
        self.0
    }
}

impl LoweredGraph {
    pub fn new(g: Graph) -> Result<Self, IrError> {
        validate(&g, Stage::Lowered)?;
        Ok(LoweredGraph(g))
    }

    pub fn into_graph(self) -> Graph {
        self.0
    }

    /// The same graph at the imported stage, which every lowered graph also satisfies.
    pub fn into_imported(self) -> ImportedGraph {
        ImportedGraph(self.0)
    }
}

impl Deref for ImportedGraph {
    type Target = Graph;

    fn deref(&self) -> &Graph {
        &self.0
    }
}

impl Deref for LoweredGraph {
    type Target = Graph;

    fn deref(&self) -> &Graph {
        &self.0
    }
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
        let exact = Representable::new(&ty);
        if let Some(pos) = w.values.iter().position(|&v| !exact.holds(v)) {
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
    let exact = Representable::new(&t.ty);
    if let Some(pos) = t.values.iter().position(|&v| !exact.holds(v)) {
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
    Representable::new(ty).holds(v)
}

/// [`representable`] for many values of one type: the type's scale and range computed once.
#[derive(Debug, Clone, Copy)]
pub struct Representable {
    scale: f64,
    lo: f64,
    hi: f64,
}

impl Representable {
    pub fn new(ty: &FixedType) -> Self {
        let w = ty.width as i32;
        let (lo, hi) =
            if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
        Representable { scale: 2f64.powi(ty.frac_bits()), lo, hi }
    }

    /// Whether `v` scaled to the type's LSB is a finite integer in the type's range.
    #[inline]
    pub fn holds(&self, v: f64) -> bool {
        const INTEGRAL: f64 = (1u64 << 52) as f64;
        let raw = v * self.scale;
        // Every double of magnitude 2^52 or more is an integer; below, truncation tells.
        raw.is_finite()
            && (raw.abs() >= INTEGRAL || raw as i64 as f64 == raw)
            && raw >= self.lo
            && raw <= self.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: scaled by the LSB, an integer (no fractional part) within the raw range.
    fn by_definition(v: f64, ty: &FixedType) -> bool {
        let raw = v * 2f64.powi(ty.frac_bits());
        let w = ty.width as i32;
        let (lo, hi) =
            if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
        raw.is_finite() && raw.fract() == 0.0 && raw >= lo && raw <= hi
    }

    #[test]
    fn representable_agrees_with_the_definition() {
        let mut next = crate::test_rng::below(0x5851_f42d_4c95_7f2du64);
        let specials =
            [0.0, -0.0, f64::NAN, f64::INFINITY, -f64::INFINITY, f64::MAX, f64::MIN_POSITIVE, 1e-310];
        for _ in 0..100_000 {
            let width = 1 + next(53) as u32;
            let ty = FixedType::new(width, next(2 * u64::from(width) + 80) as i32 - 40, next(2) == 0);
            let raw = next(1 << (width + 1)) as f64 - 2f64.powi(width as i32 - 1) * 1.5;
            let lsb = 2f64.powi(-ty.frac_bits());
            let v = match next(6) {
                0 => raw * lsb + lsb / 2f64.powi(1 + next(60) as i32),
                1 => raw * 2f64.powi(next(2100) as i32 - 1050),
                2 => specials[next(specials.len() as u64) as usize],
                _ => raw * lsb,
            };
            assert_eq!(Representable::new(&ty).holds(v), by_definition(v, &ty), "{v} in {ty}");
        }
    }
}
