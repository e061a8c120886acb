//! Per-layer plans: the typedefs, configuration struct, constant arrays and library call each
//! IR layer becomes. Every number and string the templates print is computed here.

use serde::Serialize;

use super::types::{cpp_type, difference_type, index_type, raw_of, sum_type};
use crate::backend::BackendError;
use crate::fixed::to_decimal;
use crate::fixed::FixedType;
use crate::ir::{Activation, BinaryOp, Dense, Layer, Node, Shape, Strategy, Table, Weights};

/// Values per line in emitted initializers.
const VALUES_PER_LINE: usize = 8;

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

#[derive(Debug, Clone, Serialize)]
pub struct Array {
    pub cpp_type: String,
    pub name: String,
    pub dims: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeightFile {
    /// Path below `firmware/`.
    pub path: String,
    pub guard: String,
    pub comment: String,
    pub arrays: Vec<Array>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub comment: String,
    pub function: String,
    pub config: String,
    pub args: String,
}

/// One precision entry of `hls_config.yml`.
#[derive(Debug, Clone)]
pub struct Precision {
    pub role: String,
    pub ty: String,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub typedefs: Vec<TypeDef>,
    pub config: Option<Config>,
    pub call: Option<Call>,
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
    pub out_var: &'a str,
    /// Each input, by port.
    pub inputs: Vec<Input>,
}

/// A tensor feeding a layer.
#[derive(Debug, Clone)]
pub struct Input {
    pub var: String,
    pub typedef: String,
    pub shape: Shape,
    pub ty: FixedType,
}

/// A `//` comment that cannot end early, continue onto the next line or form a trigraph.
pub fn describe(name: &str) -> String {
    let mut s = String::from("\"");
    for c in name.chars() {
        match c {
            '\\' | '"' | '?' => s.push_str(&format!("\\x{:02x}", c as u32)),
            ' '..='~' => s.push(c),
            _ => s.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    s.push('"');
    s
}

fn konst(name: &str, value: impl ToString) -> Constant {
    Constant { cpp_type: "unsigned".into(), name: name.into(), value: value.to_string() }
}

fn alias(alias: &str, target: impl Into<String>) -> Alias {
    Alias { alias: alias.into(), target: target.into() }
}

fn lines(values: &[String]) -> Vec<String> {
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
fn literal(layer: &str, role: &str, v: f64, ty: &FixedType) -> Result<String, BackendError> {
    let raw = raw_of(v, ty).ok_or_else(|| {
        BackendError::layer(layer, format!("{role} value {v} is not exact in {}", cpp_type(ty)))
    })?;
    let mut s = to_decimal(raw, ty.frac_bits());
    // Integers beyond `int` are written as double literals, which hold them exactly.
    if !s.contains('.') && s.parse::<i32>().is_err() {
        s.push_str(".0");
    }
    Ok(s)
}

fn literals(layer: &str, role: &str, values: &[f64], ty: &FixedType) -> Result<Vec<String>, BackendError> {
    values.iter().map(|&v| literal(layer, role, v, ty)).collect()
}

fn const_ty(layer: &str, role: &str, w: &Weights) -> Result<FixedType, BackendError> {
    w.ty.ok_or_else(|| BackendError::layer(layer, format!("{role} has no fixed-point type")))
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

struct Builder<'a> {
    ops: &'a Operands<'a>,
    plan: Plan,
    config: Config,
    args: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(ops: &'a Operands<'a>, function: &str) -> Self {
        let base = ops.base;
        let out_t = format!("{base}_t");
        let mut config = Config {
            comment: format!("{} {}", ops.node.layer.kind(), describe(&ops.node.name)),
            name: format!("{base}_config"),
            typedefs: Vec::new(),
            constants: Vec::new(),
        };
        let mut args: Vec<String> = Vec::new();
        for (input, name) in ops.inputs.iter().zip(["input_t", "input2_t"]) {
            config.typedefs.push(alias(name, input.typedef.clone()));
            args.push(input.var.clone());
        }
        config.typedefs.push(alias("result_t", out_t));
        args.push(ops.out_var.to_string());
        let plan = Plan {
            typedefs: Vec::new(),
            config: None,
            call: Some(Call {
                comment: config.comment.clone(),
                function: function.to_string(),
                config: String::new(),
                args: String::new(),
            }),
            files: Vec::new(),
            header: None,
            precision: Vec::new(),
            table_sizes: Vec::new(),
            nonzero: None,
        };
        Builder { ops, plan, config, args }
    }

    fn layer(&self) -> &str {
        &self.ops.node.name
    }

    fn typedef(&mut self, suffix: &str, ty: &FixedType, alias_name: &str, role: Option<&str>) {
        let name = format!("{}_{suffix}", self.ops.base);
        self.plan.typedefs.push(TypeDef { name: name.clone(), cpp: cpp_type(ty) });
        self.config.typedefs.push(alias(alias_name, name));
        if let Some(role) = role {
            self.plan.precision.push(Precision { role: role.to_string(), ty: cpp_type(ty) });
        }
    }

    fn file(&mut self, role: &str, arrays: Vec<Array>) {
        let stem = format!("{}_{role}", self.ops.base);
        self.plan.files.push(WeightFile {
            path: format!("weights/{stem}.h"),
            guard: format!("HLSGEN_WEIGHTS_{}_H", stem.to_ascii_uppercase()),
            comment: format!("{role} of {} {}", self.ops.node.layer.kind(), describe(&self.ops.node.name)),
            arrays,
        });
    }

    /// A constant array `<base>_<role>` of its own type, passed to the call.
    fn constant_array(&mut self, role: &str, w: &Weights, values: &[f64]) -> Result<(), BackendError> {
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
        self.file(role, vec![array]);
        self.args.push(name);
        Ok(())
    }

    fn scalar(&mut self, role: &str, w: &Weights) -> Result<(), BackendError> {
        if w.values.len() != 1 {
            return Err(BackendError::layer(self.layer(), format!("{role} must be a scalar")));
        }
        self.constant_array(role, w, &w.values.clone())
    }

    fn broadcast_constant(&mut self, role: &str, w: &Weights) -> Result<(), BackendError> {
        let (inner, n, values) = broadcast(w, &self.ops.node.shape);
        self.config.constants.push(konst(&format!("{role}_inner"), inner));
        self.config.constants.push(konst(&format!("n_{role}"), n));
        self.constant_array(role, w, &values)
    }

    fn table(&mut self, role: &str, t: &Table) -> Result<(), BackendError> {
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
        self.file(role, vec![array]);
        self.args.push(name);
        Ok(())
    }

    fn finish(mut self, header: &'static str) -> Plan {
        self.config.constants.push(konst("reuse_factor", self.ops.node.reuse_factor));
        if let Some(call) = &mut self.plan.call {
            call.config = self.config.name.clone();
            call.args = self.args.join(", ");
        }
        self.plan.header = Some(header);
        self.plan.config = Some(self.config);
        self.plan
    }
}

/// The plan of one node (`Input` has none: its tensor is the top function's input port).
pub fn plan(ops: &Operands<'_>) -> Result<Plan, BackendError> {
    let node = ops.node;
    let out_ty = node.out_ty()?;
    let out_typedef = TypeDef { name: format!("{}_t", ops.base), cpp: cpp_type(&out_ty) };
    let result = Precision { role: "result".into(), ty: cpp_type(&out_ty) };
    let n = node.shape.elements();
    let mut plan = match &node.layer {
        Layer::Input => Plan {
            typedefs: Vec::new(),
            config: None,
            call: None,
            files: Vec::new(),
            header: None,
            precision: Vec::new(),
            table_sizes: Vec::new(),
            nonzero: None,
        },
        Layer::Dense(d) => dense(ops, d)?,
        Layer::BatchNorm(b) => {
            let mut bld = Builder::new(ops, "batch_norm");
            bld.config.constants.push(konst("n", n));
            bld.broadcast_constant("scale", &b.scale)?;
            bld.broadcast_constant("bias", &b.bias)?;
            bld.finish("batch_norm.h")
        }
        Layer::Activation(a) => activation(ops, a, n)?,
        Layer::Softmax(s) => {
            let mut bld = Builder::new(ops, "softmax");
            let input = ops.inputs.first().ok_or_else(|| missing_input(node))?;
            let channels = input.shape.channels();
            bld.config.constants.push(konst("n", channels));
            bld.config.constants.push(konst("n_rows", n / channels.max(1)));
            bld.typedef("diff_t", &difference_type(&input.ty), "diff_t", None);
            bld.typedef("sum_t", &sum_type(&s.exp_table.ty, channels), "sum_t", None);
            bld.table("exp_table", &s.exp_table)?;
            bld.table("inv_table", &s.inv_table)?;
            bld.finish("softmax.h")
        }
        Layer::Elementwise(e) => {
            let op = match e.op {
                BinaryOp::Add => "hlsgen::op_add",
                BinaryOp::Sub => "hlsgen::op_sub",
                BinaryOp::Mul => "hlsgen::op_mul",
            };
            let function = if e.constant.is_some() { "elementwise_constant" } else { "elementwise" };
            let mut bld = Builder::new(ops, function);
            bld.config.typedefs.push(alias("op", op));
            bld.config.constants.push(konst("n", n));
            if let Some(c) = &e.constant {
                bld.broadcast_constant("constant", c)?;
            }
            bld.finish("elementwise.h")
        }
        Layer::Reshape => {
            let mut bld = Builder::new(ops, "reshape");
            bld.config.constants.push(konst("n", n));
            bld.finish("reshape.h")
        }
        Layer::Quantize => {
            let mut bld = Builder::new(ops, "quantize");
            bld.config.constants.push(konst("n", n));
            bld.finish("quantize.h")
        }
    };
    plan.typedefs.insert(0, out_typedef);
    plan.precision.insert(0, result);
    Ok(plan)
}

fn missing_input(node: &Node) -> BackendError {
    BackendError::layer(&node.name, "has no input")
}

fn activation(ops: &Operands<'_>, a: &Activation, n: usize) -> Result<Plan, BackendError> {
    let function = match a {
        Activation::Clip { min: Some(_), max: None } => "clip_min",
        Activation::Clip { min: None, max: Some(_) } => "clip_max",
        Activation::Clip { min: None, max: None } => "linear",
        other => other.name(),
    };
    let mut bld = Builder::new(ops, function);
    bld.config.constants.push(konst("n", n));
    match a {
        Activation::Linear | Activation::Relu => {}
        Activation::LeakyRelu { alpha } => bld.scalar("alpha", alpha)?,
        Activation::PRelu { alpha } => bld.broadcast_constant("alpha", alpha)?,
        Activation::HardSigmoid { alpha, beta } => {
            bld.scalar("alpha", alpha)?;
            bld.scalar("beta", beta)?;
        }
        Activation::Clip { min, max } => {
            if let Some(m) = min {
                bld.scalar("min", m)?;
            }
            if let Some(m) = max {
                bld.scalar("max", m)?;
            }
        }
        Activation::Sigmoid(t) | Activation::Tanh(t) => bld.table("table", t)?,
    }
    Ok(bld.finish("activation.h"))
}

/// Nonzero weights as (weight, input index, output index), ordered by input then output index.
fn entries(d: &Dense) -> Vec<(f64, usize, usize)> {
    let (n_in, n_out) = (d.n_in(), d.n_out());
    let mut out = Vec::new();
    for i in 0..n_in {
        for j in 0..n_out {
            let w = d.weights.values[i * n_out + j];
            if w != 0.0 {
                out.push((w, i, j));
            }
        }
    }
    out
}

fn dense(ops: &Operands<'_>, d: &Dense) -> Result<Plan, BackendError> {
    let node = ops.node;
    let layer = node.name.as_str();
    let (n_in, n_out) = (d.n_in(), d.n_out());
    if d.weights.values.len() != n_in * n_out {
        return Err(BackendError::layer(layer, "weights do not match their shape"));
    }
    let rf = node.reuse_factor.max(1);
    let mut list = entries(d);
    let nonzero = list.len();
    let (function, rows, block) = match node.strategy {
        Strategy::Latency => ("dense_latency", 1, list.len().max(1)),
        Strategy::Resource => ("dense_resource", rf, list.len().div_ceil(rf).max(1)),
    };
    // Padding entries multiply x[0] by 0 into output 0: exact no-ops.
    list.resize(rows * block, (0.0, 0, 0));
    let mut bld = Builder::new(ops, function);
    let accum = d.accum.ok_or_else(|| BackendError::layer(layer, "accumulator type is unknown"))?;
    bld.typedef("accum_t", &accum, "accum_t", Some("accum"));
    let wty = const_ty(layer, "weights", &d.weights)?;
    bld.typedef("weights_t", &wty, "weight_t", Some("weight"));
    let base = ops.base;
    bld.plan
        .typedefs
        .push(TypeDef { name: format!("{base}_in_index_t"), cpp: index_type(n_in.saturating_sub(1)) });
    bld.plan
        .typedefs
        .push(TypeDef { name: format!("{base}_out_index_t"), cpp: index_type(n_out.saturating_sub(1)) });
    bld.config.typedefs.push(alias("in_index_t", format!("{base}_in_index_t")));
    bld.config.typedefs.push(alias("out_index_t", format!("{base}_out_index_t")));
    bld.config.constants.push(konst("n_in", n_in));
    bld.config.constants.push(konst("n_out", n_out));
    match node.strategy {
        Strategy::Latency => {
            bld.config.constants.push(konst("n_entries", block));
            bld.config.constants.push(konst("multiplier_limit", block.div_ceil(rf)));
        }
        Strategy::Resource => bld.config.constants.push(konst("block", block)),
    }
    let wl: Vec<String> =
        list.iter().map(|e| literal(layer, "weights", e.0, &wty)).collect::<Result<_, _>>()?;
    let il: Vec<String> = list.iter().map(|e| e.1.to_string()).collect();
    let ol: Vec<String> = list.iter().map(|e| e.2.to_string()).collect();
    let shaped = |values: Vec<String>| -> (String, Vec<String>) {
        match node.strategy {
            Strategy::Latency => (format!("[{block}]"), lines(&values)),
            Strategy::Resource => {
                let rows_text: Vec<String> = values
                    .chunks(block)
                    .enumerate()
                    .map(|(r, row)| format!("{{{}}}{}", row.join(", "), if r + 1 < rows { "," } else { "" }))
                    .collect();
                (format!("[{rows}][{block}]"), rows_text)
            }
        }
    };
    let mut arrays = Vec::new();
    for (suffix, values) in [("weights", wl), ("in_index", il), ("out_index", ol)] {
        let (dims, text) = shaped(values);
        let ty_suffix = if suffix == "weights" { "weights_t" } else { &format!("{suffix}_t") };
        arrays.push(Array {
            cpp_type: format!("{base}_{ty_suffix}"),
            name: format!("{base}_{suffix}"),
            dims,
            lines: text,
        });
    }
    bld.file("weights", arrays);
    bld.args.extend([format!("{base}_weights"), format!("{base}_in_index"), format!("{base}_out_index")]);
    let bias_values = d.bias.values.clone();
    bld.constant_array("bias", &d.bias, &bias_values)?;
    bld.plan.nonzero = Some((nonzero, n_in * n_out));
    Ok(bld.finish("dense.h"))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn comments_cannot_escape() {
        assert_eq!(describe("a/b:0"), "\"a/b:0\"");
        assert_eq!(describe("x\\\n*/??/"), "\"x\\x5c\\u{a}*/\\x3f\\x3f/\"");
    }
}
