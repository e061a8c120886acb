use super::*;
use crate::ir::representable;

fn q(text: &str) -> Quantizer {
    parse_call(text).unwrap()
}

fn fixed(w: u32, i: i32, signed: bool) -> FixedType {
    FixedType::new(w, i, signed)
}

#[test]
fn string_and_dict_forms_agree() {
    let a = q("quantized_bits(6, 0, alpha=1)");
    let b = parse(&serde_json::json!({"class_name": "quantized_bits",
        "config": {"bits": 6, "integer": 0, "alpha": 1}}))
    .unwrap()
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.text, "quantized_bits(bits=6, integer=0, alpha=1)");
    assert_eq!(
        q("quantized_relu(3,1)").kind,
        Kind::Relu {
            bits: 3,
            integer: 1,
            use_sigmoid: false,
            negative_slope: 0.0,
            upper_bound: None,
            quantized_clip: true
        }
    );
    assert!(matches!(q("quantized_bits").kind, Kind::Bits { bits: 8, integer: 0, .. }));
    assert!(matches!(q("ternary(alpha='auto_po2')").kind, Kind::Ternary { alpha: Alpha::AutoPo2, .. }));
    assert!(
        matches!(q("binary(alpha=[0.5, 1.0])").kind, Kind::Binary { alpha: Alpha::Scale(ref s), .. } if s == &[0.5, 1.0])
    );
}

#[test]
fn rejected_options_name_the_quantizer() {
    for (text, needle) in [
        ("quantized_bits(4,0,use_stochastic_rounding=True)", "stochastic"),
        ("quantized_bits(4,0,qnoise_factor=0.5)", "qnoise_factor"),
        ("quantized_bits(4,0,foo=1)", "unknown argument 'foo'"),
        ("stochastic_ternary()", "random"),
        ("quantized_tanh(4)", "nonlinear"),
        ("mystery(1)", "not supported"),
        ("quantized_bits(0)", "bits=0"),
        ("quantized_relu(4,0,0,0.3)", "power of two"),
        ("quantized_bits(4,0,1,alpha=1", "parenthesis"),
    ] {
        let e = parse_call(text).unwrap_err();
        assert!(e.contains(needle), "{text}: {e}");
    }
    let auto = q("quantized_bits(4,0,alpha='auto')");
    let e = auto.quantize(&[0.1, 0.2], &[2, 1]).unwrap_err();
    assert!(e.contains("quantized_bits(") && e.contains("auto"), "{e}");
    let e = q("quantized_relu(4,0,use_sigmoid=1)").activation().unwrap_err();
    assert!(e.contains("use_sigmoid"), "{e}");
    let e = q("quantized_po2(4)").activation().unwrap_err();
    assert!(e.contains("quantized_po2("), "{e}");
}

#[test]
fn quantized_bits_ties_round_to_even_and_saturate() {
    // quantized_bits(4,0): LSB 1/8, raw range -8..7, type ap_fixed<4,1>.
    let quant = q("quantized_bits(4,0,alpha=1)");
    let x = [0.0625, 0.1875, -0.0625, -0.1875, 0.3, 2.0, -2.0, -1.0, 0.875, 0.9375];
    let r = quant.quantize(&x, &[x.len()]).unwrap();
    assert_eq!(r.values, vec![0.0, 0.25, 0.0, -0.25, 0.25, 0.875, -1.0, -1.0, 0.875, 0.875]);
    assert_eq!(r.ty, fixed(4, 1, true));
}

#[test]
fn quantized_bits_symmetric_and_unsigned() {
    let sym = q("quantized_bits(4,0,1,alpha=1)");
    let r = sym.quantize(&[-1.0, -0.99, 0.99], &[3]).unwrap();
    assert_eq!(r.values, vec![-0.875, -0.875, 0.875]);
    assert_eq!(r.ty, fixed(4, 1, true));

    let unsigned = q("quantized_bits(4,1,keep_negative=False,alpha=1)");
    // LSB 2^(1-4) = 1/8, range 0..15/8.
    let r = unsigned.quantize(&[-0.5, 0.3, 1.9, 5.0], &[4]).unwrap();
    assert_eq!(r.values, vec![0.0, 0.25, 1.875, 1.875]);
    assert_eq!(r.ty, fixed(4, 1, false));

    let int = q("quantized_bits(6,2,alpha=1)");
    assert_eq!(int.quantize(&[0.0], &[1]).unwrap().ty, fixed(6, 3, true));

    // Bias quantizer of the MNIST model: quantized_bits(2,0,1) -> {-0.5, 0, 0.5}.
    let r = q("quantized_bits(2,0,1)").quantize(&[-0.9, -0.2, 0.25, 0.3, 0.75], &[5]).unwrap();
    assert_eq!(r.values, vec![-0.5, 0.0, 0.0, 0.5, 0.5]);
    assert_eq!(r.ty, fixed(2, 1, true));
}

#[test]
fn quantized_bits_power_of_two_alpha_shifts_the_type() {
    let r = q("quantized_bits(4,0,alpha=0.5)").quantize(&[0.3, -1.0], &[2]).unwrap();
    assert_eq!(r.values, vec![0.125, -0.5]);
    assert_eq!(r.ty, fixed(4, 0, true));
    // Per-channel scales: the union type.
    let r = q("quantized_bits(4,0,alpha=[1.0, 0.25])").quantize(&[0.3, 0.3], &[1, 2]).unwrap();
    assert_eq!(r.values, vec![0.25, 0.0625]);
    assert_eq!(r.ty, fixed(6, 1, true));
}

#[test]
fn kernel_quantizers_default_to_auto_po2() {
    let k = q("quantized_bits(4,0)").trainable();
    assert!(matches!(k.kind, Kind::Bits { alpha: Alpha::AutoPo2, symmetric: true, .. }));
    let b = q("binary()").trainable();
    assert!(matches!(b.kind, Kind::Binary { alpha: Alpha::AutoPo2, .. }));
    let fixed_alpha = q("quantized_bits(4,0,alpha=1)").trainable();
    assert!(matches!(fixed_alpha.kind, Kind::Bits { alpha: Alpha::Scale(_), symmetric: false, .. }));
}

#[test]
fn auto_po2_scales_per_channel() {
    // Channel 0: [0.3, -0.1]. Start 2^round(log2(0.6/14)) = 2^-5; z = [7 (clipped), -3];
    // least squares 1.2/29 -> 2^-5 again. Values z * 2^-5.
    // Channel 1: [4.0, 1.0]. Start 2^round(log2(8/14)) = 2^-1; z = [7, 2]; mean(xz)=15,
    // mean(zz)=26.5 -> 0.566 -> 2^-1; values [3.5, 1.0].
    let quant = q("quantized_bits(4,0,alpha='auto_po2')");
    let r = quant.quantize(&[0.3, 4.0, -0.1, 1.0], &[2, 2]).unwrap();
    assert_eq!(r.values, vec![0.21875, 3.5, -0.09375, 1.0]);
    // Union of 7*2^-5, -3*2^-5, 7*2^-1, 2*2^-1: raw at 2^-5 from -3 to 112.
    assert_eq!(r.ty, fixed(8, 3, true));
}

#[test]
fn auto_po2_rank_one_is_per_element() {
    // Shared start 2^round(log2(2*0.5/2)) = 2^-1 (bits 2: levels 2); then each element fits
    // its own scale. 0.5: z = 1, scale 2^-1. 0.1: round 1 gives z = 0 and the scale collapses
    // to 2^round(log2(eps)) = 2^-23; round 2 then clips z to 1 and fits 2^round(log2 0.1) =
    // 2^-3, which holds. Values scale * z: [0.5, 0.125] (as QKeras 0.9.0 gives).
    let r = q("quantized_bits(2,0,alpha='auto_po2')").quantize(&[0.5, 0.1], &[2]).unwrap();
    assert_eq!(r.values, vec![0.5, 0.125]);
}

/// Rounds and saturates `x` into `ty` (round half to even; `AP_SAT` / `AP_SAT_SYM`).
fn reference_cast(x: f64, ty: &FixedType) -> f64 {
    assert_eq!(ty.quant, QuantMode::RndConv);
    let scale = 2f64.powi(ty.frac_bits());
    let r = (x * scale).round_ties_even();
    let w = ty.width as i32;
    let (lo, hi) =
        if ty.signed { (-(2f64.powi(w - 1)), 2f64.powi(w - 1) - 1.0) } else { (0.0, 2f64.powi(w) - 1.0) };
    let lo = if ty.signed && ty.overflow == OverflowMode::SatSym { -hi } else { lo };
    r.clamp(lo, hi) / scale
}

/// Every case of golden/ir_keras/quantizer_cases.json, which real QKeras 0.9.0 computed
/// (scripts/make_qkeras_references.py): constants must match bit for bit, and the
/// fixed-point cast chosen for activations must give QKeras' outputs.
#[test]
fn matches_qkeras_reference_cases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/ir_keras/quantizer_cases.json");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases.len() >= 40);
    let floats = |v: &Value| -> Vec<f64> {
        v.as_array().unwrap().iter().map(|b| f32::from_bits(b.as_u64().unwrap() as u32) as f64).collect()
    };
    for case in &cases {
        let text = case["quantizer"].as_str().unwrap();
        let shape: Vec<usize> =
            case["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        let (x, y) = (floats(&case["x"]), floats(&case["y"]));
        let quant = q(text);
        match case["use"].as_str().unwrap() {
            "constant" => {
                let r = quant.quantize(&x, &shape).unwrap_or_else(|e| panic!("{text}: {e}"));
                for i in 0..x.len() {
                    assert!(
                        r.values[i] == y[i],
                        "{text} {shape:?} #{i}: x={} gives {}, QKeras {}",
                        x[i],
                        r.values[i],
                        y[i]
                    );
                    assert!(representable(y[i], &r.ty), "{text}: {} not in {}", y[i], r.ty);
                }
            }
            _ => {
                let act = quant.activation().unwrap_or_else(|e| panic!("{text}: {e}"));
                for i in 0..x.len() {
                    let got = match &act {
                        ActQuant::Cast(ty) => reference_cast(x[i], ty),
                        ActQuant::Leaky { clip_min, slope, ty } => {
                            let c = x[i].max(*clip_min);
                            reference_cast(if c >= 0.0 { c } else { slope * c }, ty)
                        }
                        ActQuant::Step(step) => step.value(x[i]),
                    };
                    assert!(got == y[i], "{text} #{i}: x={} gives {got}, QKeras {}", x[i], y[i]);
                }
            }
        }
    }
}

#[test]
fn binary_and_ternary() {
    let r = q("binary()").quantize(&[0.3, -0.2, 0.0], &[3]).unwrap();
    assert_eq!(r.values, vec![1.0, -1.0, 1.0]);
    assert_eq!(r.ty, FixedType::int(2, true));
    let r = q("binary(use_01=True)").quantize(&[0.3, -0.2], &[2]).unwrap();
    assert_eq!(r.values, vec![1.0, 0.0]);
    assert_eq!(r.ty, FixedType::int(1, false));
    let r = q("binary(alpha=0.5)").quantize(&[7.0, -0.2], &[2]).unwrap();
    assert_eq!(r.values, vec![0.5, -0.5]);
    // Binary auto_po2 on one channel: mean|x| = 0.4 -> 2^-1.
    let r = q("binary(alpha='auto_po2')").quantize(&[0.5, -0.3], &[2, 1]).unwrap();
    assert_eq!(r.values, vec![0.5, -0.5]);

    let r = q("ternary()").quantize(&[0.5, 0.33, 0.32, -0.4, 0.0], &[5]).unwrap();
    assert_eq!(r.values, vec![1.0, 1.0, 0.0, -1.0, 0.0]);
    assert_eq!(r.ty, FixedType::int(2, true));
    let r = q("ternary(alpha=1, threshold=0.5)").quantize(&[0.5, 0.49, -3.0], &[3]).unwrap();
    assert_eq!(r.values, vec![1.0, 0.0, -1.0]);
    // auto_po2 on one channel [1.0, 0.1, -0.9]: start 2^round(log2(2/3)) = 1; round(x) gives
    // q = [1, 0, -1]; least squares mean(xq)=1.9/3, mean(qq)=2/3 -> 0.95 -> 1.
    let r = q("ternary(alpha='auto_po2')").quantize(&[1.0, 0.1, -0.9], &[3, 1]).unwrap();
    assert_eq!(r.values, vec![1.0, 0.0, -1.0]);
}

#[test]
fn power_of_two_quantizers() {
    // quantized_po2(4, max_value=1): exponents -8..0; zero goes to 2^-8 with a + sign.
    let quant = q("quantized_po2(4,1)");
    let r = quant.quantize(&[0.3, -0.7, 5.0, 0.0, 0.0013], &[5]).unwrap();
    assert_eq!(r.values, vec![0.25, -0.5, 1.0, 0.00390625, 0.00390625]);
    assert_eq!(r.ty, fixed(10, 2, true));
    let r = q("quantized_relu_po2(4,1)").quantize(&[0.3, -0.7], &[2]).unwrap();
    assert_eq!(r.values, vec![0.25, 2f64.powi(-16)]);
}

#[test]
fn quantized_relu_constants() {
    let r = q("quantized_relu(3,1)").quantize(&[-1.0, 0.3, 0.375, 5.0], &[4]).unwrap();
    // LSB 1/4, range 0..7/4; 0.375 is a tie between 0.25 and 0.5 -> even -> 0.5.
    assert_eq!(r.values, vec![0.0, 0.25, 0.5, 1.75]);
    assert_eq!(r.ty, fixed(3, 1, false));
}

#[test]
fn activation_casts() {
    let rnd_sat = |t: FixedType| t.with_modes(QuantMode::RndConv, OverflowMode::Sat);
    assert_eq!(q("quantized_relu(6,0)").activation().unwrap(), ActQuant::Cast(rnd_sat(fixed(6, 0, false))));
    assert_eq!(q("quantized_relu(2)").activation().unwrap(), ActQuant::Cast(rnd_sat(fixed(2, 0, false))));
    assert_eq!(q("quantized_bits(8,3)").activation().unwrap(), ActQuant::Cast(rnd_sat(fixed(8, 4, true))));
    assert_eq!(
        q("quantized_bits(8,3,1)").activation().unwrap(),
        ActQuant::Cast(fixed(8, 4, true).with_modes(QuantMode::RndConv, OverflowMode::SatSym))
    );
    assert_eq!(
        q("quantized_bits(8,3,keep_negative=False)").activation().unwrap(),
        ActQuant::Cast(rnd_sat(fixed(8, 3, false)))
    );
    assert_eq!(
        q("quantized_relu(4,1,negative_slope=0.25)").activation().unwrap(),
        ActQuant::Leaky { clip_min: -2.0, slope: 0.25, ty: rnd_sat(fixed(4, 2, true)) }
    );
    assert!(q("quantized_bits(8,3,alpha=0.5)").activation().is_err());
    let sign =
        |low: f64, high: f64| ActQuant::Step(Step::Binary { at: Threshold::new(Cmp::Ge, 0.0), low, high });
    assert_eq!(q("quantized_bits(1,0)").activation().unwrap(), sign(-1.0, 1.0));
    assert_eq!(q("quantized_bits(1,0,alpha=0.5)").activation().unwrap(), sign(-0.5, 0.5));
    assert_eq!(q("binary()").activation().unwrap(), sign(-1.0, 1.0));
    assert_eq!(q("binary(use_01=True, alpha=2)").activation().unwrap(), sign(0.0, 2.0));
    assert_eq!(q("stochastic_binary(alpha=1, temperature=3)").activation().unwrap(), sign(-1.0, 1.0));
    let ternary = |t: f64, alpha: f64| {
        ActQuant::Step(Step::Ternary {
            up: Threshold::new(Cmp::Ge, t),
            down: Threshold::new(Cmp::Le, -t),
            alpha,
        })
    };
    assert_eq!(q("ternary()").activation().unwrap(), ternary(0.33f32 as f64, 1.0));
    assert_eq!(q("ternary(alpha=0.5, threshold=0.25)").activation().unwrap(), ternary(0.25, 0.5));
    let sign_only = ActQuant::Step(Step::Ternary {
        up: Threshold::new(Cmp::Gt, 0.0),
        down: Threshold::new(Cmp::Lt, 0.0),
        alpha: 1.0,
    });
    assert_eq!(q("ternary(threshold=0)").activation().unwrap(), sign_only);
    assert!(q("binary(alpha='auto_po2')").activation().unwrap_err().contains("automatic alpha"));
    assert!(q("ternary(alpha=[1, 2])").activation().unwrap_err().contains("per-channel"));
    assert!(q("quantized_relu(2,0,negative_slope=0.125)").activation().is_err());
}

#[test]
fn huge_inputs_follow_qkeras_float32_arithmetic() {
    // QKeras returns x + (-x + xq) in float32, which loses xq once |x| dwarfs it; these are
    // the values QKeras 0.9.0 gives.
    let r = q("quantized_bits(4,0,alpha=1)").quantize(&[2097152.75, 2097153.25, 3e7, -3e7], &[4]).unwrap();
    assert_eq!(r.values, vec![0.875, 0.75, 0.0, 0.0]);
    let r = q("ternary(alpha=1)").quantize(&[1e9], &[1]).unwrap();
    assert_eq!(r.values, vec![0.0]);
    // Here QKeras gives 1.0, outside the quantizer's own range: no exact type, an error.
    let e = q("quantized_bits(4,0,alpha=1)").quantize(&[3e6], &[1]).unwrap_err();
    assert!(e.contains("not exact in") && e.contains("quantized_bits(bits=4"), "{e}");
}
