//! QKeras' float32 arithmetic, step by step as `qkeras/quantizers.py` (0.9.0) computes it: the
//! channel layout of a constant, the straight-through value, rounding, `quantized_bits`,
//! least-squares power-of-two scales, `quantized_relu` and the power-of-two quantizers.

use super::EPSILON;

/// How elements map to channels: the last axis for tensors of rank 2 or more; for rank 1 the
/// initial scale is shared and the least-squares scale is per element, as in QKeras.
pub(super) struct Layout {
    n: usize,
    pub(super) channels: usize,
    rank: usize,
}

impl Layout {
    pub(super) fn new(shape: &[usize], n: usize) -> Result<Layout, String> {
        if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(n) {
            return Err(format!("{n} values do not fill shape {shape:?}"));
        }
        Ok(Layout { n, channels: shape.last().copied().unwrap_or(1).max(1), rank: shape.len() })
    }

    /// The channel (last-axis index) of element `i`.
    pub(super) fn channel(&self, i: usize) -> usize {
        i % self.channels
    }

    /// The group `_get_scale` averages element `i` in.
    pub(super) fn group(&self, i: usize) -> usize {
        if self.rank >= 2 {
            self.channel(i)
        } else {
            i
        }
    }

    pub(super) fn groups(&self) -> usize {
        if self.rank >= 2 {
            self.channels
        } else {
            self.n
        }
    }
}

pub(super) fn pick(s: &[f32], channel: usize) -> f32 {
    if s.len() == 1 {
        s[0]
    } else {
        s[channel]
    }
}

/// `x + stop_gradient(-x + xq)` in float32, QKeras' forward value.
pub(super) fn ste(x: f32, xq: f32) -> f32 {
    x + (-x + xq)
}

pub(super) fn tf_sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `2^e` as float32 for an integral `e` (what `tf.pow(2.0, e)` gives).
pub(super) fn pow2(e: f32) -> f32 {
    2f64.powi(e.clamp(-1100.0, 1100.0) as i32) as f32
}

/// `log(x) / np.log(2.0)` in float32.
pub(super) fn log2_f32(x: f32) -> f32 {
    x.ln() / (std::f64::consts::LN_2 as f32)
}

/// `K.pow(2.0, tf.math.round(K.log(s + K.epsilon()) / np.log(2.0)))`.
pub(super) fn po2_round(s: f32) -> f32 {
    pow2(log2_f32(s + EPSILON).round_ties_even())
}

/// `quantized_bits.__call__` for a constant scale, before the scale: `unsigned_bits = bits -
/// keep_negative`; with `m = 2^unsigned_bits`, `m_i = 2^integer`:
/// `m_i * clip(round(x * m / m_i), keep_negative * (-m + symmetric), m - 1) / m`, or the sign
/// when no unsigned bit is left.
pub(super) fn bits_value(x: f32, ub: i32, integer: i32, keep_negative: bool, symmetric: bool) -> f32 {
    if ub > 0 {
        let m = pow2(ub as f32);
        let m_i = pow2(integer as f32);
        let p = x * m / m_i;
        let lo = if keep_negative { -m + symmetric as i32 as f32 } else { 0.0 };
        let c = p.round_ties_even().max(lo).min(m - 1.0);
        m_i * c / m
    } else {
        let s = tf_sign(x);
        let s = s + (1.0 - s.abs());
        if keep_negative {
            s
        } else {
            (s + 1.0) / 2.0
        }
    }
}

/// `_get_scale(alpha="auto_po2", x, q)`: per group `mean(x * q) / (mean(q * q) + eps)`, rounded
/// to a power of two.
pub(super) fn scale_po2(x: &[f32], q: &[f32], layout: &Layout) -> Vec<f32> {
    let g = layout.groups();
    let (mut qx, mut qq, mut count) = (vec![0f32; g], vec![0f32; g], vec![0usize; g]);
    for i in 0..x.len() {
        let k = layout.group(i);
        qx[k] += x[i] * q[i];
        qq[k] += q[i] * q[i];
        count[k] += 1;
    }
    (0..g)
        .map(|k| {
            let n = count[k].max(1) as f32;
            po2_round((qx[k] / n) / (qq[k] / n + EPSILON))
        })
        .collect()
}

/// `quantized_bits` with `alpha="auto_po2"` (QKeras 0.9.0): start from the power of two nearest to
/// `2 * max|x| / levels`, then five rounds of quantizing with the current scale and refitting the
/// least-squares power-of-two scale. The values are `scale * m_i * z`, `z` from the last round.
pub(super) fn bits_auto_po2(
    x_in: &[f32],
    layout: &Layout,
    bits: i32,
    integer: i32,
    keep_negative: bool,
) -> Vec<f32> {
    let m = pow2((bits - keep_negative as i32) as f32);
    let m_i = pow2(integer as f32);
    let x: Vec<f32> = x_in.iter().map(|&v| v / m_i).collect();
    let levels = (((1i64 << (bits - 1)) - 1) * 2) as f32;
    let half = levels / 2.0;
    // The starting scale is per channel for tensors of rank 2 or more, shared for rank 1.
    let init_groups = if layout.rank >= 2 { layout.channels } else { 1 };
    let init_group = |i: usize| if layout.rank >= 2 { layout.channel(i) } else { 0 };
    let mut max_abs = vec![0f32; init_groups];
    for (i, v) in x.iter().enumerate() {
        let g = init_group(i);
        max_abs[g] = max_abs[g].max(v.abs());
    }
    let mut scale: Vec<f32> =
        (0..x.len()).map(|i| po2_round(max_abs[init_group(i)] * 2.0 / levels)).collect();
    let mut z = vec![0f32; x.len()];
    for _ in 0..5 {
        for i in 0..x.len() {
            let v = (x[i].abs() / scale[i] + 0.5).floor();
            z[i] = tf_sign(x[i]) * if v < half { v } else { half };
        }
        let s = scale_po2(&x, &z, layout);
        for (i, sc) in scale.iter_mut().enumerate() {
            *sc = s[layout.group(i)];
        }
    }
    (0..x.len())
        .map(|i| {
            let xb = m_i * x[i];
            ste(xb, (scale[i] * m) * (m_i * z[i] / m))
        })
        .collect()
}

/// `ternary` with `alpha="auto_po2"`: start from the power of two nearest to `2/3 max|x|`, then
/// `unrolls` rounds of thresholding at half the scale and refitting the scale.
pub(super) fn ternary_auto_po2(x: &[f32], layout: &Layout, unrolls: u32) -> Vec<f32> {
    let init_groups = if layout.rank >= 2 { layout.channels } else { 1 };
    let init_group = |i: usize| if layout.rank >= 2 { layout.channel(i) } else { 0 };
    let mut max_abs = vec![0f32; init_groups];
    for (i, v) in x.iter().enumerate() {
        let g = init_group(i);
        max_abs[g] = max_abs[g].max(v.abs());
    }
    let mut scale: Vec<f32> = (0..x.len()).map(|i| po2_round(2.0 * max_abs[init_group(i)] / 3.0)).collect();
    let mut q = vec![0f32; x.len()];
    for _ in 0..unrolls {
        for i in 0..x.len() {
            let thres = scale[i] / 2.0;
            let v = scale[i] * (x[i] / scale[i]).round_ties_even();
            q[i] = if v.abs() >= thres { tf_sign(x[i]) } else { 0.0 };
        }
        let s = scale_po2(x, &q, layout);
        for (i, sc) in scale.iter_mut().enumerate() {
            *sc = s[layout.group(i)];
        }
    }
    (0..x.len()).map(|i| ste(x[i], scale[i] * q[i])).collect()
}

/// `quantized_relu.__call__` without sigmoid.
pub(super) fn relu_value(
    x: f32,
    bits: i32,
    integer: i32,
    slope: f32,
    upper: Option<f64>,
    quantized_clip: bool,
) -> f32 {
    let nsb = bits - (slope != 0.0) as i32;
    let m = pow2(nsb as f32);
    let m_i = pow2(integer as f32);
    let m_f = pow2((integer - nsb) as f32);
    let relu = |t: f32| if t > 0.0 { t } else { slope * t };
    let x_u = if quantized_clip {
        if x <= m_i - m_f {
            relu(x)
        } else {
            m_i - m_f
        }
    } else {
        match upper {
            Some(u) if x > u as f32 => u as f32,
            _ => relu(x),
        }
    };
    let p = x * m / m_i;
    let mut xq = m_i * (p.round_ties_even() / m).clamp(0.0, 1.0 - 1.0 / m);
    if slope > 0.0 {
        let neg_factor = 1.0 / (slope * m);
        xq += m_i * slope * ((p * slope).round_ties_even() * neg_factor).clamp(-1.0, 0.0);
    }
    if let (Some(u), false) = (upper, quantized_clip) {
        if u != 0.0 && xq > u as f32 {
            xq = u as f32;
        }
    }
    ste(x_u, xq)
}

/// `_get_min_max_exponents`.
pub(super) fn po2_exponents(effect_bits: i32, quadratic: bool) -> (f32, f32) {
    let e = effect_bits.clamp(0, 30);
    let min_exp = -((1i64 << e) as f32);
    let mut max_exp = ((1i64 << e) - 1) as f32;
    if quadratic {
        max_exp = 2.0 * (max_exp / 2.0).floor();
    }
    (min_exp, max_exp)
}

/// `_clip_power_of_two`: the exponent of the power of two nearest to `x_abs` (in the log domain).
pub(super) fn po2_clip(
    x_abs: f32,
    min_exp: f32,
    max_exp: f32,
    max_value: Option<f64>,
    quadratic: bool,
    floor: bool,
) -> f32 {
    if x_abs < EPSILON {
        return min_exp;
    }
    let mut x = x_abs;
    if let Some(m) = max_value {
        if x >= m as f32 {
            x = m as f32;
        }
    }
    let (factor, input) = if quadratic { (2.0, x.sqrt()) } else { (1.0, x) };
    let l = log2_f32(input);
    let l = if floor { l.floor() } else { l.round_ties_even() };
    factor * l.max(min_exp).min(max_exp)
}
