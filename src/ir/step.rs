//! Binary and ternary activations (step functions of one threshold or two) written as short chains
//! of existing layers, so every stage (simulator, HLS, RTL, estimator) computes them exactly with
//! no layer kind of its own. Frontends describe the function as a [`Step`] and add the nodes of
//! [`Step::nodes`]; a model's binary or ternary *constants* (±1 kernels) need nothing here, they
//! are ordinary typed weights of a `Dense`.
//!
//! The arithmetic, exact at every input type:
//!
//! * an indicator `q = [x >= t]` or `[x > t]` (0 or 1) is `h = HardSigmoid{alpha: 1, beta: 1/2 -
//!   t}(x) = clamp(x - t + 1/2, 0, 1)` (exact), then `Quantize` to `ap_ufixed<1,1>` with `AP_SAT`
//!   and `AP_RND` for `>=` (the tie `h = 1/2`, i.e. `x = t`, rounds up to 1) or `AP_RND_ZERO` for
//!   `>` (the tie rounds down to 0); every `h > 1/2` gives 1 and every `h < 1/2` gives 0.
//!   `[x <= t]` and `[x < t]` are the same of `-x` against `-t`: `HardSigmoid{alpha: -1, beta: 1/2
//!   + t}`;
//! * a binary step `x ⋈ t ? high : low` is the indicator, then `BatchNorm{scale: high - low, bias:
//!   low}` typed to hold `{low, high}` exactly (left out when `low = 0, high = 1`). The sign step
//!   `x >= 0` needs no indicator: `Quantize` to `ap_fixed<1,1>` with `AP_TRN, AP_SAT` gives `c =
//!   -[x < 0]` (-1 or 0: the sign bit), then `BatchNorm{scale: high - low, bias: high}`;
//! * a ternary step `x ⋈ t_up ? alpha : (x ⋈ t_down ? -alpha : 0)` is the two indicators, their
//!   difference by `Elementwise Sub` typed `ap_fixed<2,2>` (-1, 0 or 1), then `BatchNorm{scale:
//!   alpha, bias: 0}` typed to hold `{-alpha, 0, alpha}` (left out when `alpha = 1`). The two
//!   conditions must never hold together (`t_down < t_up`, or equal thresholds with a strict
//!   comparison), which [`Step::nodes`] checks.
//!
//! The functions frontends map here (sources in the frontends' docs): QONNX `BipolarQuant`
//! (`x >= 0 ? s : -s`), QKeras `binary`, `stochastic_binary` at inference and `quantized_bits(1)`
//! (`x >= 0`), QKeras and BinaryNet `binary_tanh` (`x > 0 ? 1 : -1`), QKeras `ternary`
//! (`|x| >= t`), BinaryNet `ternary_tanh` (`x > 1/2 ? 1 : (x <= -1/2 ? -1 : 0)`).

use crate::fixed::{FixedType, OverflowMode, QuantMode};
use crate::ir::{narrowest_type, Activation, BatchNorm, BinaryOp, Elementwise, Layer, Quantize, Weights};

/// A comparison of the input with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Ge,
    Gt,
    Le,
    Lt,
}

/// `x cmp t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub cmp: Cmp,
    pub t: f64,
}

impl Threshold {
    pub const fn new(cmp: Cmp, t: f64) -> Self {
        Threshold { cmp, t }
    }

    /// Whether `x` satisfies the comparison (the function in exact arithmetic).
    pub fn holds(&self, x: f64) -> bool {
        match self.cmp {
            Cmp::Ge => x >= self.t,
            Cmp::Gt => x > self.t,
            Cmp::Le => x <= self.t,
            Cmp::Lt => x < self.t,
        }
    }
}

/// A step function of the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `at ? high : low`.
    Binary { at: Threshold, low: f64, high: f64 },
    /// `up ? alpha : (down ? -alpha : 0)`.
    Ternary { up: Threshold, down: Threshold, alpha: f64 },
}

/// Where a chain node reads from: the step's input or an earlier node of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepInput {
    X,
    Node(usize),
}

/// One node of the chain: its name suffix, layer, inputs and, when the chain fixes it, its type.
#[derive(Debug, Clone, PartialEq)]
pub struct StepNode {
    pub suffix: &'static str,
    pub layer: Layer,
    pub inputs: Vec<StepInput>,
    pub ty: Option<FixedType>,
}

/// `ap_ufixed<1,1>`: 0 or 1.
fn indicator_type(cmp: Cmp) -> FixedType {
    let quant = match cmp {
        Cmp::Ge | Cmp::Le => QuantMode::Rnd,
        Cmp::Gt | Cmp::Lt => QuantMode::RndZero,
    };
    FixedType::new(1, 1, false).with_modes(quant, OverflowMode::Sat)
}

fn indicator(th: Threshold, name: &'static str, nodes: &mut Vec<StepNode>) -> Result<usize, String> {
    if !th.t.is_finite() {
        return Err(format!("threshold {} is not finite", th.t));
    }
    let (alpha, beta) = match th.cmp {
        Cmp::Ge | Cmp::Gt => (1.0, 0.5 - th.t),
        Cmp::Le | Cmp::Lt => (-1.0, 0.5 + th.t),
    };
    let (ramp, step) = match name {
        "up" => ("up_ramp", "up"),
        "down" => ("down_ramp", "down"),
        _ => ("ramp", "step"),
    };
    nodes.push(StepNode {
        suffix: ramp,
        layer: Layer::Activation(Activation::HardSigmoid {
            alpha: Weights::scalar(alpha),
            beta: Weights::scalar(beta),
        }),
        inputs: vec![StepInput::X],
        ty: None,
    });
    nodes.push(StepNode {
        suffix: step,
        layer: Layer::Quantize(Quantize),
        inputs: vec![StepInput::Node(nodes.len() - 1)],
        ty: Some(indicator_type(th.cmp)),
    });
    Ok(nodes.len() - 1)
}

fn levels(
    nodes: &mut Vec<StepNode>,
    from: usize,
    scale: f64,
    bias: f64,
    values: &[f64],
) -> Result<(), String> {
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(format!("level {v} is not finite"));
    }
    let ty = narrowest_type(values)?;
    nodes.push(StepNode {
        suffix: "levels",
        layer: Layer::BatchNorm(BatchNorm { scale: Weights::scalar(scale), bias: Weights::scalar(bias) }),
        inputs: vec![StepInput::Node(from)],
        ty: Some(ty),
    });
    Ok(())
}

impl Step {
    /// The value of the function at `x`, in exact arithmetic.
    pub fn value(&self, x: f64) -> f64 {
        match self {
            Step::Binary { at, low, high } => {
                if at.holds(x) {
                    *high
                } else {
                    *low
                }
            }
            Step::Ternary { up, down, alpha } => {
                if up.holds(x) {
                    *alpha
                } else if down.holds(x) {
                    -alpha
                } else {
                    0.0
                }
            }
        }
    }

    /// The chain of nodes computing the step; the last node gives its result.
    pub fn nodes(&self) -> Result<Vec<StepNode>, String> {
        let mut nodes = Vec::new();
        match self {
            Step::Binary { at, low, high } if *at == Threshold::new(Cmp::Ge, 0.0) => {
                nodes.push(StepNode {
                    suffix: "sign",
                    layer: Layer::Quantize(Quantize),
                    inputs: vec![StepInput::X],
                    ty: Some(FixedType::new(1, 1, true).with_modes(QuantMode::Trn, OverflowMode::Sat)),
                });
                levels(&mut nodes, 0, high - low, *high, &[*low, *high])?;
            }
            Step::Binary { at, low, high } => {
                let q = indicator(*at, "step", &mut nodes)?;
                if (*low, *high) != (0.0, 1.0) {
                    levels(&mut nodes, q, high - low, *low, &[*low, *high])?;
                }
            }
            Step::Ternary { up, down, alpha } => {
                let up_ok = matches!(up.cmp, Cmp::Ge | Cmp::Gt);
                let down_ok = matches!(down.cmp, Cmp::Le | Cmp::Lt);
                let strict = up.cmp == Cmp::Gt || down.cmp == Cmp::Lt;
                if !up_ok || !down_ok || !(down.t < up.t || (down.t == up.t && strict)) {
                    return Err(format!(
                        "ternary thresholds {:?} {} and {:?} {} overlap",
                        up.cmp, up.t, down.cmp, down.t
                    ));
                }
                let p = indicator(*up, "up", &mut nodes)?;
                let n = indicator(*down, "down", &mut nodes)?;
                nodes.push(StepNode {
                    suffix: "sign",
                    layer: Layer::Elementwise(Elementwise { op: BinaryOp::Sub, constant: None }),
                    inputs: vec![StepInput::Node(p), StepInput::Node(n)],
                    ty: Some(FixedType::new(2, 2, true)),
                });
                if *alpha != 1.0 {
                    let last = nodes.len() - 1;
                    levels(&mut nodes, last, *alpha, 0.0, &[-alpha, 0.0, *alpha])?;
                }
            }
        }
        Ok(nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_have_the_documented_shape() {
        let bipolar = Step::Binary { at: Threshold::new(Cmp::Ge, 0.0), low: -0.5, high: 0.5 };
        let n = bipolar.nodes().unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(
            n[0].ty.unwrap(),
            FixedType::new(1, 1, true).with_modes(QuantMode::Trn, OverflowMode::Sat)
        );
        assert_eq!(n[1].ty.unwrap(), FixedType::new(2, 1, true));
        assert_eq!(
            n[1].layer,
            Layer::BatchNorm(BatchNorm { scale: Weights::scalar(1.0), bias: Weights::scalar(0.5) })
        );
        let ge = Step::Binary { at: Threshold::new(Cmp::Ge, 0.25), low: -0.5, high: 0.5 };
        let n = ge.nodes().unwrap();
        assert_eq!(n.len(), 3);
        assert_eq!(n[1].ty.unwrap().quant, QuantMode::Rnd);
        let tanh = Step::Binary { at: Threshold::new(Cmp::Gt, 0.0), low: 0.0, high: 1.0 };
        let n = tanh.nodes().unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[1].ty.unwrap().quant, QuantMode::RndZero);
        let t = Step::Ternary {
            up: Threshold::new(Cmp::Gt, 0.5),
            down: Threshold::new(Cmp::Le, -0.5),
            alpha: 2.0,
        };
        let n = t.nodes().unwrap();
        assert_eq!(
            n.iter().map(|n| n.suffix).collect::<Vec<_>>(),
            ["up_ramp", "up", "down_ramp", "down", "sign", "levels"]
        );
        assert_eq!(n[4].inputs, [StepInput::Node(1), StepInput::Node(3)]);
        assert_eq!(t.value(0.5), 0.0);
        assert_eq!(t.value(-0.5), -2.0);
    }

    #[test]
    fn overlapping_ternary_thresholds_are_refused() {
        let t = |a, b| Step::Ternary { up: a, down: b, alpha: 1.0 };
        assert!(t(Threshold::new(Cmp::Ge, 0.0), Threshold::new(Cmp::Le, 0.0)).nodes().is_err());
        assert!(t(Threshold::new(Cmp::Gt, 0.0), Threshold::new(Cmp::Lt, 0.0)).nodes().is_ok());
        assert!(t(Threshold::new(Cmp::Ge, 0.2), Threshold::new(Cmp::Le, 0.3)).nodes().is_err());
        assert!(t(Threshold::new(Cmp::Le, 0.2), Threshold::new(Cmp::Le, -0.3)).nodes().is_err());
    }
}
