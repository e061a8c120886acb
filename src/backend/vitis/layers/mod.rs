//! Per-layer plans: the typedefs, configuration struct, constant arrays (with the pragmas that
//! place them) and library calls each IR layer becomes, one file per layer kind. The calls name
//! the layer's inputs and output by the parameter names of the layer function that
//! `io_parallel.rs` wraps around them. Every number and string the templates print is computed
//! here.

mod activation;
mod batch_norm;
mod concatenate;
mod conv;
mod dense;
mod elementwise;
mod gather_rows;
mod pad;
mod pool;
mod quantize;
mod reduce;
mod reshape;
mod scatter_add;
mod softmax;
pub mod stream;
mod transpose;
mod upsample;

use rayon::prelude::*;
use serde::Serialize;

use super::types::cpp_type;
use crate::arch::hls::LayerDesign;
use crate::backend::namer::describe;
use crate::backend::BackendError;
use crate::fixed::write_decimal;
use crate::fixed::FixedType;
use crate::fixed::Raws;
use crate::ir::{Layer, Node, Shape, Table, Weights};

/// Values per line in emitted initializers.
const VALUES_PER_LINE: usize = 8;
/// The indent of an initializer's lines.
const INDENT: &str = "    ";

#[derive(Debug, Clone, Serialize)]
pub struct TypeDef {
    pub name: String,
    pub cpp: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alias {
    pub alias: String,
    pub target: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Constant {
    pub cpp_type: String,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub comment: String,
    pub name: String,
    pub typedefs: Vec<Alias>,
    pub constants: Vec<Constant>,
}

#[derive(Debug, Clone)]
pub struct Array {
    pub cpp_type: String,
    pub name: String,
    pub dims: String,
    /// The initializer's lines without their indent and newline; an entry may hold several
    /// lines joined by a newline and the indent (a row of a large array, formatted as one text).
    pub lines: Vec<String>,
}

/// A header of constant definitions, included in the body of the layer function that reads
/// them, followed there by the pragmas that place them.
#[derive(Debug, Clone)]
pub struct WeightFile {
    /// Path below `firmware/`.
    pub path: String,
    pub comment: String,
    pub arrays: Vec<Array>,
    pub pragmas: Vec<String>,
}

/// What the layer function needs of a [`WeightFile`]: its `#include` and the pragmas after it.
#[derive(Debug, Clone, Serialize)]
pub struct Include {
    pub path: String,
    pub pragmas: Vec<String>,
}

impl WeightFile {
    pub fn include(&self) -> Include {
        Include { path: self.path.clone(), pragmas: self.pragmas.clone() }
    }

    /// The header's text, included by the layer function in `firmware/TOP.cpp`. Written directly
    /// into one buffer of the final size: these headers hold every constant of the model.
    pub fn header(&self, top: &str) -> String {
        let intro = [
            "// ",
            &self.comment,
            "\n// Included once, in the body of the layer function that reads it (firmware/",
            top,
            ".cpp).\n",
        ];
        let array_len = |a: &Array| {
            let decl = ["\nstatic const ", &a.cpp_type, " ", &a.name, &a.dims, " = {\n", "};\n"];
            decl.iter().map(|s| s.len()).sum::<usize>()
                + a.lines.iter().map(|l| INDENT.len() + l.len() + 1).sum::<usize>()
        };
        let size = intro.iter().map(|s| s.len()).sum::<usize>()
            + self.arrays.iter().map(array_len).sum::<usize>()
            + 1;
        let mut out = String::with_capacity(size);
        intro.iter().for_each(|s| out.push_str(s));
        for a in &self.arrays {
            for s in ["\nstatic const ", &a.cpp_type, " ", &a.name, &a.dims, " = {\n"] {
                out.push_str(s);
            }
            for l in &a.lines {
                out.push_str(INDENT);
                out.push_str(l);
                out.push('\n');
            }
            out.push_str("};\n");
        }
        out.push('\n');
        out
    }
}

/// One call of a library function: `hlsgen::function<template_args>(args)`.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub function: String,
    pub template_args: String,
    pub args: String,
}

/// One precision entry of `hls_config.yml`.
#[derive(Debug, Clone)]
pub struct Precision {
    pub role: String,
    pub ty: String,
}

/// An array declared in the layer function (fully partitioned), for calls that share a value.
#[derive(Debug, Clone, Serialize)]
pub struct Local {
    pub cpp_type: String,
    pub name: String,
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub typedefs: Vec<TypeDef>,
    pub locals: Vec<Local>,
    pub config: Option<Config>,
    pub calls: Vec<Call>,
    pub files: Vec<WeightFile>,
    pub header: Option<&'static str>,
    pub precision: Vec<Precision>,
    pub table_sizes: Vec<(String, usize)>,
    pub nonzero: Option<(usize, usize)>,
}

/// What a plan needs to know about a node's operands and result.
pub struct Operands<'a> {
    pub node: &'a Node,
    pub base: &'a str,
    pub design: &'a LayerDesign,
    /// The name the calls give the output array.
    pub out_var: &'a str,
    /// Each input, by port.
    pub inputs: Vec<Input>,
}

/// A tensor feeding a layer.
#[derive(Debug, Clone)]
pub struct Input {
    /// The name the calls give the array.
    pub var: String,
    pub typedef: String,
    pub shape: Shape,
    pub ty: FixedType,
}

pub(super) fn konst(name: &str, value: impl ToString) -> Constant {
    Constant { cpp_type: "unsigned".into(), name: name.into(), value: value.to_string() }
}

pub(super) fn alias(alias: &str, target: impl Into<String>) -> Alias {
    Alias { alias: alias.into(), target: target.into() }
}

pub(super) fn lines(values: &[String]) -> Vec<String> {
    let n = values.chunks(VALUES_PER_LINE).len();
    values
        .chunks(VALUES_PER_LINE)
        .enumerate()
        .map(|(k, chunk)| {
            let mut l = chunk.join(", ");
            if k + 1 < n {
                l.push(',');
            }
            l
        })
        .collect()
}

/// A C++ literal of exactly `v`, a value of `ty`.
pub(super) fn literal(layer: &str, role: &str, v: f64, ty: &FixedType) -> Result<String, BackendError> {
    let mut s = String::new();
    Literals::new(layer, role, ty).push(&mut s, v)?;
    Ok(s)
}

/// [`literal`]s of values of one type, appended to text.
pub(super) struct Literals<'a> {
    layer: &'a str,
    role: &'a str,
    ty: FixedType,
    raws: Raws,
}

impl<'a> Literals<'a> {
    pub(super) fn new(layer: &'a str, role: &'a str, ty: &FixedType) -> Self {
        Literals { layer, role, ty: *ty, raws: Raws::new(ty) }
    }

    /// Appends [`literal`]'s text of `v` to `out`.
    #[inline]
    pub(super) fn push(&self, out: &mut String, v: f64) -> Result<(), BackendError> {
        let raw = self.raws.exact(v).ok_or_else(|| {
            BackendError::layer(
                self.layer,
                format!("{} value {v} is not exact in {}", self.role, cpp_type(&self.ty)),
            )
        })?;
        let start = out.len();
        write_decimal(out, raw, self.ty.frac_bits());
        // Integers beyond `int` are written as double literals, which hold them exactly.
        let text = &out[start..];
        if !text.as_bytes().contains(&b'.') && text.parse::<i32>().is_err() {
            out.push_str(".0");
        }
        Ok(())
    }
}

fn literals(layer: &str, role: &str, values: &[f64], ty: &FixedType) -> Result<Vec<String>, BackendError> {
    let lits = Literals::new(layer, role, ty);
    values
        .iter()
        .map(|&v| {
            let mut s = String::new();
            lits.push(&mut s, v)?;
            Ok(s)
        })
        .collect()
}

pub(super) fn const_ty(layer: &str, role: &str, w: &Weights) -> Result<FixedType, BackendError> {
    w.ty.ok_or_else(|| BackendError::layer(layer, format!("{role} has no fixed-point type")))
}

/// Initializer lines of a 2-D array: one brace group per row, `VALUES_PER_LINE` values per line,
/// a row's lines in one entry.
pub(super) fn rows(values: &[String], row_len: usize) -> Vec<String> {
    let row_len = row_len.max(1);
    let done: Result<_, std::convert::Infallible> =
        rows_with(values.len().div_ceil(row_len), row_len, |out, r, c| {
            if let Some(v) = values.get(r * row_len + c) {
                out.push_str(v);
            }
            Ok(())
        });
    done.unwrap_or_else(|e| match e {})
}

/// [`rows`] of an `n_rows x row_len` array whose value at `(r, c)` `value` appends to a line,
/// rows formatted in parallel, each row's lines as one entry; the first failing value
/// (row-major) gives the error.
pub(super) fn rows_with<E: Send>(
    n_rows: usize,
    row_len: usize,
    value: impl Fn(&mut String, usize, usize) -> Result<(), E> + Sync,
) -> Result<Vec<String>, E> {
    let per_row = row_len.div_ceil(VALUES_PER_LINE);
    let row = |r: usize| -> Result<String, E> {
        // Room for values of up to 14 characters, their separators and the line breaks.
        let mut l = String::with_capacity(16 * row_len + 8 * per_row);
        for k in 0..per_row {
            if k > 0 {
                l.push('\n');
                l.push_str(INDENT);
            }
            l.push(if k == 0 { '{' } else { ' ' });
            for c in k * VALUES_PER_LINE..((k + 1) * VALUES_PER_LINE).min(row_len) {
                if c > k * VALUES_PER_LINE {
                    l.push_str(", ");
                }
                value(&mut l, r, c)?;
            }
            l.push_str(if k + 1 < per_row {
                ","
            } else if r + 1 < n_rows {
                "},"
            } else {
                "}"
            });
        }
        Ok(l)
    };
    let rows: Vec<Result<String, E>> = (0..n_rows).into_par_iter().map(row).collect();
    rows.into_iter().collect()
}

/// The flat row-major index of `coords` in extents `dims`.
pub(super) fn flat(coords: &[usize], dims: &[usize]) -> usize {
    coords.iter().zip(dims).fold(0, |acc, (&c, &d)| acc * d + c)
}

/// Every multi-index of extents `dims`, in row-major order.
pub(super) fn multi_indices(dims: &[usize]) -> Vec<Vec<usize>> {
    let total: usize = dims.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; dims.len()];
    for _ in 0..total {
        out.push(idx.clone());
        for k in (0..dims.len()).rev() {
            idx[k] += 1;
            if idx[k] < dims[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// The pragma that turns a constant array into constants (read at constant indices once the
/// layer's loops are unrolled, so every read folds into the logic).
pub(super) fn partition(name: &str) -> String {
    format!("ARRAY_PARTITION variable={name} type=complete dim=0")
}

/// Broadcast of a constant onto a tensor as `(inner, n, values)`: element `i` of the tensor reads
/// `values[(i / inner) % n]`. Constants that fit no such pattern are expanded to the tensor.
fn broadcast(w: &Weights, target: &Shape) -> (usize, usize, Vec<f64>) {
    let total = target.elements();
    let index = |i: usize| w.shape.broadcast_index(target, i);
    let n = w.values.len().max(1);
    let inner = (0..total).find(|&i| index(i) != 0).unwrap_or(1).max(1);
    let fits = (0..total).all(|i| index(i) == (i / inner) % n);
    if fits {
        (inner, n, w.values.clone())
    } else {
        (1, total, (0..total).map(|i| w.values[index(i)]).collect())
    }
}

/// Builds the plan of a layer that is one library call with one configuration struct.
pub(super) struct Builder<'a> {
    ops: &'a Operands<'a>,
    plan: Plan,
    config: Config,
    args: Vec<String>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(ops: &'a Operands<'a>, function: &str) -> Self {
        let base = ops.base;
        let out_t = format!("{base}_t");
        let mut config = Config {
            comment: format!("{} {}", ops.node.layer.kind(), describe(&ops.node.name)),
            name: format!("{base}_config"),
            typedefs: Vec::new(),
            constants: Vec::new(),
        };
        let mut args: Vec<String> = Vec::new();
        for (k, input) in ops.inputs.iter().enumerate() {
            let name = if k == 0 { "input_t".to_string() } else { format!("input{}_t", k + 1) };
            config.typedefs.push(alias(&name, input.typedef.clone()));
            args.push(input.var.clone());
        }
        config.typedefs.push(alias("result_t", out_t));
        args.push(ops.out_var.to_string());
        let plan = Plan {
            typedefs: Vec::new(),
            locals: Vec::new(),
            config: None,
            calls: vec![Call {
                function: function.to_string(),
                template_args: String::new(),
                args: String::new(),
            }],
            files: Vec::new(),
            header: None,
            precision: Vec::new(),
            table_sizes: Vec::new(),
            nonzero: None,
        };
        Builder { ops, plan, config, args }
    }

    pub(super) fn layer(&self) -> &str {
        &self.ops.node.name
    }

    pub(super) fn typedef(&mut self, suffix: &str, ty: &FixedType, alias_name: &str, role: Option<&str>) {
        let name = format!("{}_{suffix}", self.ops.base);
        self.plan.typedefs.push(TypeDef { name: name.clone(), cpp: cpp_type(ty) });
        self.config.typedefs.push(alias(alias_name, name));
        if let Some(role) = role {
            self.plan.precision.push(Precision { role: role.to_string(), ty: cpp_type(ty) });
        }
    }

    pub(super) fn file(&mut self, role: &str, arrays: Vec<Array>, pragmas: Vec<String>) {
        let stem = format!("{}_{role}", self.ops.base);
        self.plan.files.push(WeightFile {
            path: format!("weights/{stem}.h"),
            comment: format!("{role} of {} {}", self.ops.node.layer.kind(), describe(&self.ops.node.name)),
            arrays,
            pragmas,
        });
    }

    /// A constant array `<base>_<role>` of its own type, passed to the call.
    pub(super) fn constant_array(
        &mut self,
        role: &str,
        w: &Weights,
        values: &[f64],
    ) -> Result<(), BackendError> {
        let ty = const_ty(self.layer(), role, w)?;
        self.typedef(&format!("{role}_t"), &ty, &format!("{role}_t"), Some(role));
        let name = format!("{}_{role}", self.ops.base);
        let lits = literals(self.layer(), role, values, &ty)?;
        let array = Array {
            cpp_type: format!("{name}_t"),
            name: name.clone(),
            dims: format!("[{}]", values.len()),
            lines: lines(&lits),
        };
        self.file(role, vec![array], vec![partition(&name)]);
        self.args.push(name);
        Ok(())
    }

    /// A table of input indices `<base>_<role>` (`unsigned`, extents `dims`, row-major `values`),
    /// partitioned into constants and passed to the call.
    pub(super) fn index_table(&mut self, role: &str, dims: &[usize], values: &[usize]) {
        let name = format!("{}_{role}", self.ops.base);
        let texts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let lines = match dims {
            [_, cols] => rows(&texts, *cols),
            _ => lines(&texts),
        };
        let extents: String = dims.iter().map(|d| format!("[{d}]")).collect();
        let array = Array { cpp_type: "unsigned".into(), name: name.clone(), dims: extents, lines };
        self.file(role, vec![array], vec![partition(&name)]);
        self.args.push(name);
    }

    pub(super) fn scalar(&mut self, role: &str, w: &Weights) -> Result<(), BackendError> {
        if w.values.len() != 1 {
            return Err(BackendError::layer(self.layer(), format!("{role} must be a scalar")));
        }
        self.constant_array(role, w, &w.values.clone())
    }

    pub(super) fn broadcast_constant(&mut self, role: &str, w: &Weights) -> Result<(), BackendError> {
        let (inner, n, values) = broadcast(w, &self.ops.node.shape);
        self.config.constants.push(konst(&format!("{role}_inner"), inner));
        self.config.constants.push(konst(&format!("n_{role}"), n));
        self.constant_array(role, w, &values)
    }

    pub(super) fn table(&mut self, role: &str, t: &Table) -> Result<(), BackendError> {
        self.typedef(
            &format!("{role}_index_t"),
            &t.index_ty,
            &format!("{role}_index_t"),
            Some(&format!("{role}_index")),
        );
        self.typedef(&format!("{role}_t"), &t.ty, &format!("{role}_t"), Some(role));
        self.config.constants.push(konst(&format!("{role}_size"), t.values.len()));
        self.plan.table_sizes.push((role.to_string(), t.values.len()));
        let name = format!("{}_{role}", self.ops.base);
        let lits = literals(self.layer(), role, &t.values, &t.ty)?;
        let array = Array {
            cpp_type: format!("{name}_t"),
            name: name.clone(),
            dims: format!("[{}]", t.values.len()),
            lines: lines(&lits),
        };
        let rom = self.ops.design.rom(role).ok_or_else(|| {
            BackendError::layer(self.layer(), format!("the design has no storage for its {role}"))
        })?;
        let pragmas = match rom.storage.bind_impl() {
            Some(imp) => vec![format!("BIND_STORAGE variable={name} type={} impl={imp}", rom.bind_type())],
            None => vec![partition(&name)],
        };
        self.file(role, vec![array], pragmas);
        self.args.push(name);
        Ok(())
    }

    pub(super) fn finish(mut self, header: &'static str) -> Plan {
        for call in &mut self.plan.calls {
            if call.template_args.is_empty() {
                call.template_args = self.config.name.clone();
            }
            if call.args.is_empty() {
                call.args = self.args.join(", ");
            }
        }
        self.plan.header = Some(header);
        self.plan.config = Some(self.config);
        self.plan
    }
}

/// The plan of a data-movement layer: one `gather` (`templates/hlsgen/gather.h`) of the input
/// values at `src` (`n_x` meaning zero).
fn gather(ops: &Operands<'_>, n_x: usize, src: &[usize]) -> Plan {
    let mut bld = Builder::new(ops, "gather");
    bld.config.constants.push(konst("n_x", n_x));
    bld.config.constants.push(konst("n", src.len()));
    bld.index_table("src", &[src.len()], src);
    bld.finish("gather.h")
}

/// The plan of one node (`Input` has none: its tensor is a top-function input port).
pub fn plan(ops: &Operands<'_>) -> Result<Plan, BackendError> {
    with_result(ops, kernel(ops)?)
}

/// The plan of one node in an io_stream form with a library function of its own.
pub fn stream_plan(ops: &Operands<'_>, form: &crate::arch::stream::Form) -> Result<Plan, BackendError> {
    with_result(ops, stream::plan(ops, form)?)
}

/// `plan` with the node's output typedef and result precision first.
fn with_result(ops: &Operands<'_>, mut plan: Plan) -> Result<Plan, BackendError> {
    let out_ty = ops.node.out_ty()?;
    plan.typedefs.insert(0, TypeDef { name: format!("{}_t", ops.base), cpp: cpp_type(&out_ty) });
    plan.precision.insert(0, Precision { role: "result".into(), ty: cpp_type(&out_ty) });
    Ok(plan)
}

fn kernel(ops: &Operands<'_>) -> Result<Plan, BackendError> {
    let node = ops.node;
    Ok(match &node.layer {
        Layer::Input(_) => Plan {
            typedefs: Vec::new(),
            locals: Vec::new(),
            config: None,
            calls: Vec::new(),
            files: Vec::new(),
            header: None,
            precision: Vec::new(),
            table_sizes: Vec::new(),
            nonzero: None,
        },
        Layer::Dense(d) => dense::plan(ops, d)?,
        Layer::BatchNorm(b) => batch_norm::plan(ops, b)?,
        Layer::Activation(a) => activation::plan(ops, a)?,
        Layer::Softmax(s) => softmax::plan(ops, s)?,
        Layer::Elementwise(e) => elementwise::plan(ops, e)?,
        Layer::Concatenate(c) => concatenate::plan(ops, c)?,
        Layer::Reshape(_) => reshape::plan(ops),
        Layer::Quantize(_) => quantize::plan(ops),
        Layer::Conv(c) => conv::plan(ops, c)?,
        Layer::Pool(p) => pool::plan(ops, p)?,
        Layer::Pad(p) => pad::plan(ops, p)?,
        Layer::UpSample(u) => upsample::plan(ops, u)?,
        Layer::Transpose(t) => transpose::plan(ops, t)?,
        Layer::Reduce(r) => reduce::plan(ops, r)?,
        Layer::GatherRows(_) => gather_rows::plan(ops)?,
        Layer::ScatterAdd(s) => scatter_add::plan(ops, s)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_brace_groups() {
        let v: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(
            rows(&v, 10),
            ["{0, 1, 2, 3, 4, 5, 6, 7,\n     8, 9},", "{10, 11, 12, 13, 14, 15, 16, 17,\n     18, 19}"]
        );
        assert_eq!(rows(&v[..2], 1), ["{0},", "{1}"]);
        assert_eq!(multi_indices(&[2, 2]), [[0, 0], [0, 1], [1, 0], [1, 1]]);
        assert_eq!(flat(&[1, 2], &[3, 4]), 6);
    }

    fn w(shape: &[usize], n: usize) -> Weights {
        Weights::new(Shape::new(shape.to_vec()), (0..n).map(|v| v as f64).collect())
    }

    #[test]
    fn broadcast_patterns() {
        let t = Shape::new([2, 4]);
        assert_eq!(broadcast(&w(&[], 1), &t), (1, 1, vec![0.0]));
        assert_eq!(broadcast(&w(&[4], 4), &t).0, 1);
        assert_eq!(broadcast(&w(&[4], 4), &t).1, 4);
        assert_eq!(broadcast(&w(&[2, 1], 2), &t), (4, 2, vec![0.0, 1.0]));
        assert_eq!(broadcast(&w(&[2, 4], 8), &t).1, 8);
        // [2, 1, 3] onto [2, 2, 3] repeats rows: no (inner, n) pattern, so it is expanded.
        let t3 = Shape::new([2, 2, 3]);
        let (inner, n, values) = broadcast(&w(&[2, 1, 3], 6), &t3);
        assert_eq!((inner, n), (1, 12));
        assert_eq!(values, [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 3.0, 4.0, 5.0]);
    }
}
