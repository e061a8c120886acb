//! The binarized and ternarized layers of the BinaryNet / TernaryNet Keras code that hls4ml's test
//! models (`KERAS_3layer_binary_smaller`, `KERAS_3layer_ternary_small`) were trained with (DingKe's
//! `nn_playground` `binarynet/binary_ops.py`, `ternarynet/ternary_ops.py`, and the same functions
//! in hls4ml's example-models training code), in float32 as that code computes:
//!
//! * `BinaryDense`: `K.dot(x, binarize(kernel, H))` with `binarize(W, H) = H * binary_tanh(W / H)`
//!   and `binary_tanh(x) = 2 * round_through(clip(0.5 x + 0.5, 0, 1)) - 1` (`K.round` rounds half
//!   to even, so `W = 0` gives `-H`: the kernel is `W / H > 0 ? H : -H`, up to float32 rounding
//!   of `0.5 x + 0.5`, which is reproduced);
//! * `TernaryDense`: `K.dot(x, ternarize(kernel, H))` with `ternarize(W, H) = W + (Wt - W)`,
//!   `Wt = H * (W / H > 0.5 ? 1 : (W / H <= -0.5 ? -1 : 0))`;
//! * the activation `binary_tanh` above (QKeras' `binary_tanh` is the same function), the step
//!   `x > 0 ? 1 : -1`;
//! * the activation `ternary_tanh(x) = ternarize(clip(x, -1, 1))` (H = 1), the step
//!   `x > 1/2 ? 1 : (x <= -1/2 ? -1 : 0)`.
//!
//! The activations are exact steps of the fixed-point input; TensorFlow's float32 `0.5 x + 0.5`
//! rounds an input in `(0, 2^-24]` to the tie, so inputs with more than 23 fractional bits may
//! differ from the float model there.

use super::arith::ste;
use super::Quantized;
use crate::ir::{declared_type, Cmp, Representable, Step, Threshold};

/// How a BinaryNet layer turns its stored kernel into the kernel it multiplies by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::frontend::keras) enum KernelRule {
    Binarize { h: f64 },
    Ternarize { h: f64 },
}

impl KernelRule {
    pub fn name(&self) -> &'static str {
        match self {
            KernelRule::Binarize { .. } => "binarize",
            KernelRule::Ternarize { .. } => "ternarize",
        }
    }

    /// The kernel the layer multiplies by, and the type holding `{-H, H}` or `{-H, 0, H}`.
    pub fn apply(&self, values: &[f64]) -> Result<Quantized, String> {
        let (KernelRule::Binarize { h } | KernelRule::Ternarize { h }) = *self;
        let h32 = h as f32;
        if !(h32.is_finite() && h32 > 0.0) {
            return Err(format!("{}: H={h} is not a positive number", self.name()));
        }
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(format!("{}: kernel value #{pos} is {}", self.name(), values[pos]));
        }
        let out: Vec<f64> = values
            .iter()
            .map(|&w| {
                let w = w as f32;
                let v = w / h32;
                let q = match self {
                    KernelRule::Binarize { .. } => {
                        let s = (0.5f32 * v + 0.5f32).clamp(0.0, 1.0);
                        2.0 * ste(s, s.round_ties_even()) - 1.0
                    }
                    KernelRule::Ternarize { .. } => {
                        let t = if v > 0.5 {
                            1.0
                        } else if v <= -0.5 {
                            -1.0
                        } else {
                            0.0
                        };
                        return f64::from(w + (t * h32 - w));
                    }
                };
                f64::from(h32 * q)
            })
            .collect();
        let ty = declared_type(-1, 1, 0, &[h32]).map_err(|e| format!("{}: {e}", self.name()))?;
        let exact = Representable::new(&ty);
        if let Some(pos) = out.iter().position(|&v| !exact.holds(v)) {
            return Err(format!(
                "{}: kernel value #{pos} ({}) gives {}, not a multiple of H in float32",
                self.name(),
                values[pos],
                out[pos]
            ));
        }
        Ok(Quantized { values: out, ty })
    }
}

/// BinaryNet's and QKeras' `binary_tanh` activation.
pub(in crate::frontend::keras) fn binary_tanh() -> Step {
    Step::Binary { at: Threshold::new(Cmp::Gt, 0.0), low: -1.0, high: 1.0 }
}

/// BinaryNet's `ternary_tanh` activation.
pub(in crate::frontend::keras) fn ternary_tanh() -> Step {
    Step::Ternary { up: Threshold::new(Cmp::Gt, 0.5), down: Threshold::new(Cmp::Le, -0.5), alpha: 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_follow_the_binarynet_rules() {
        let w = [0.7, -0.2, 0.0, 0.5, -0.5, 1e-9, -1.0];
        let b = KernelRule::Binarize { h: 1.0 }.apply(&w).unwrap();
        // 1e-9: 0.5 * 1e-9 + 0.5 rounds to 0.5 in float32, then to 0: -1.
        assert_eq!(b.values, [1.0, -1.0, -1.0, 1.0, -1.0, -1.0, -1.0]);
        let t = KernelRule::Ternarize { h: 1.0 }.apply(&w).unwrap();
        assert_eq!(t.values, [1.0, 0.0, 0.0, 0.0, -1.0, 0.0, -1.0]);
        let t = KernelRule::Ternarize { h: 0.5 }.apply(&[0.3, -0.25, 0.1]).unwrap();
        assert_eq!(t.values, [0.5, -0.5, 0.0]);
        assert!(KernelRule::Binarize { h: 0.0 }.apply(&w).is_err());
    }

    #[test]
    fn activations_are_the_documented_steps() {
        let b = binary_tanh();
        assert_eq!([b.value(0.0), b.value(2f64.powi(-20)), b.value(-3.0)], [-1.0, 1.0, -1.0]);
        let t = ternary_tanh();
        assert_eq!([t.value(0.5), t.value(0.5001), t.value(-0.5), t.value(-0.4999)], [0.0, 1.0, -1.0, 0.0]);
    }
}
