//! Exact matrix products of fixed-point rows: `y_j = cast(acc_j)` with, per row,
//! `acc = cast_acc(b_j)`, then `acc = cast_acc(acc + x_i * w_ij)` for `i = 0..n_in` in order: the
//! arithmetic of `Dense` (and of any layer that is a Dense over gathered rows). A block of rows
//! (samples, or positions of samples) runs at once.
//!
//! The literal computation is [`Sequential`]: one accumulator per output, each step's exact sum at
//! `F = max(F_acc, F_x + F_w)` cast back to the accumulator type. Two facts let it skip work
//! without changing any result: a zero product leaves `acc` unchanged (it is already a value of
//! the accumulator type), so zero inputs and all-zero weight rows are skipped.
//!
//! When [`MatMul::build`] proves from the weights and the input type's range that no accumulator
//! cast can ever round or overflow (the accumulator is at least as fine as every product and the
//! bias, and every partial sum, in any order, stays in its range), the product is exact followed
//! by one cast, computed at the finest fractional-bit count `F` the nonzero constants need:
//!
//! * [`Gemm`]: when every partial sum stays below `2^51`, integer-valued `f64` arithmetic is exact
//!   (and converts to and from `i64` in two vector operations); weights are pre-shifted to `F` and
//!   packed in panels of 8 outputs, and a 4-row x 8-output register-blocked kernel (AVX2/FMA
//!   when the CPU has it) multiplies a block of rows by them;
//! * [`Madd`]: when the inputs and the aligned weights fit 16 bits and every partial sum (bias or
//!   not) fits 32, `i16 x i16` products summed in pairs into `i32` (`vpmaddwd` on AVX2; 16
//!   products an instruction) in a 4-row x 16-output register-blocked kernel;
//! * [`Sparse`]: the same arithmetic when at most a quarter of the weights are nonzero, over the
//!   nonzero weights only, vectorised across the rows of a block;
//! * [`Axpy`]: otherwise, when partial sums stay below `2^62`, dense rows in `i64`.
//!
//! The `f64` and `i16` kernels can also hand over each row's exact sums before the cast
//! ([`MatMul::run_summed`]): the profile's accumulator statistics without a second product.

use rayon::prelude::*;

use super::cast::{fits_i64, frac, range, Cast64, CastOp, Int};
use super::cast32::Cast32;
use super::constant::{frac32, too_wide, Need, Raw};
use super::plan::{Ctx, Scratch};
use super::simd;
use super::SimError;
use crate::fixed::{self, FixedType, OverflowMode};

/// A matrix product `[n_in] x [n_in, n_out] + [n_out]` with its types, ready to run on rows.
#[derive(Debug)]
pub(crate) struct MatMul {
    n_in: usize,
    n_out: usize,
    imp: Imp,
    /// Accumulator overflows of the bias casts, the same for every row.
    bias_overflows: u64,
    /// The fractional bits of the exact sums [`MatMul::run_summed`] gives, when it gives them.
    sums_frac: Option<i32>,
}

#[derive(Debug)]
enum Imp {
    Madd(Madd),
    Gemm(Gemm),
    Sparse(Sparse),
    Axpy(Axpy),
    Seq64(Sequential<i64>),
    Seq128(Sequential<i128>),
}

/// Outputs per weight panel of [`Gemm`] and rows per register block.
const NR: usize = 8;
const MR: usize = 4;
/// [`Sparse`] runs products with at most one nonzero weight in `SPARSE`.
const SPARSE: usize = 4;

/// The types of a product: input rows, accumulator, result.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Types {
    pub(crate) x: FixedType,
    pub(crate) acc: FixedType,
    pub(crate) out: FixedType,
}

impl MatMul {
    /// Builds the product of raw weights `w` (`[n_in, n_out]`, row-major) and bias `b` (`[n_out]`).
    pub(crate) fn build(
        ctx: &Ctx,
        n_in: usize,
        n_out: usize,
        ty: Types,
        w: &Raw,
        b: &Raw,
    ) -> Result<Self, SimError> {
        if w.values.len() != n_in * n_out || b.values.len() != n_out {
            return Err(ctx.unsupported("weight or bias sizes do not match the layer"));
        }
        let fb = frac32(ctx, b.frac)?;
        let acc0: Vec<(i128, bool)> = b
            .values
            .iter()
            .map(|&v| {
                let c = fixed::cast(v, fb, &ty.acc);
                (super::cast::load(c.raw as i64, &ty.acc), c.overflow)
            })
            .collect();
        let bias_overflows = acc0.iter().filter(|a| a.1).count() as u64;
        let spec = Spec { n_in, n_out, x_ty: ty.x, acc_ty: ty.acc, out_ty: ty.out };
        let imp = match ctx.opts.fast_paths.then(|| exact(&spec, w, b)).flatten() {
            Some(ex) => {
                let f = ex.f;
                fast_exact(&spec, ex).map(|imp| (imp, f))
            }
            None => None,
        };
        let (imp, sums_frac) = match imp {
            Some((imp @ (Imp::Madd(_) | Imp::Gemm(_) | Imp::Sparse(_)), f)) => (imp, i32::try_from(f).ok()),
            Some((imp, _)) => (imp, None),
            None => (sequential(ctx, &spec, w, &acc0)?, None),
        };
        Ok(MatMul { n_in, n_out, imp, bias_overflows, sums_frac })
    }

    pub(crate) fn describe(&self) -> &'static str {
        match &self.imp {
            Imp::Madd(_) => "exact i16 madd",
            Imp::Gemm(_) => "exact f64 gemm",
            Imp::Sparse(_) => "exact sparse f64",
            Imp::Axpy(_) => "exact i64",
            Imp::Seq64(_) => "sequential i64",
            Imp::Seq128(_) => "sequential i128",
        }
    }

    /// Multiplies the rows of `x` (`n_in` values each, at least as many rows as `out` has) into
    /// `out` (`n_out` values a row). Returns the accumulator overflows (bias casts included) and
    /// the output overflows.
    pub(crate) fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch) -> (u64, u64) {
        self.run_summed(x, out, s, None, false)
    }

    /// The fractional bits of the sums [`MatMul::run_summed`] appends: `Some` when the kernel
    /// computes every row's exact `bias + x·W` before its one cast and every partial sum is below
    /// `2^51` in magnitude (so each sum, scaled, is an exact `f64`).
    pub(crate) fn sums_frac(&self) -> Option<i32> {
        self.sums_frac
    }

    /// [`MatMul::run`], appending each row's exact sums `bias + x·W` (`n_out` a row, raw at
    /// [`MatMul::sums_frac`] fractional bits) to `sums` when the kernel has them; with `relu`,
    /// each result then becomes `max(y, 0)` (the overflow counts are the cast's alone).
    pub(crate) fn run_summed(
        &self,
        x: &[i64],
        out: &mut [i64],
        s: &mut Scratch,
        sums: Option<&mut Vec<i64>>,
        relu: bool,
    ) -> (u64, u64) {
        let n = out.len() / self.n_out.max(1);
        let x = &x[..n * self.n_in];
        let mut relu_left = relu;
        let (acc, y) = match &self.imp {
            Imp::Madd(k) => (0, k.run(x, out, s, sums, &mut relu_left)),
            Imp::Gemm(k) => (0, k.run(x, out, s, sums)),
            Imp::Sparse(k) => (0, k.run(x, out, s, sums)),
            Imp::Axpy(k) => (0, k.run(x, out, s)),
            Imp::Seq64(k) => k.run(x, out, s),
            Imp::Seq128(k) => k.run(x, out, s),
        };
        if relu_left {
            for v in out.iter_mut() {
                *v = (*v).max(0);
            }
        }
        (acc + self.bias_overflows * n as u64, y)
    }
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    n_in: usize,
    n_out: usize,
    x_ty: FixedType,
    acc_ty: FixedType,
    out_ty: FixedType,
}

/// An exact dot product: weights and bias aligned to `f` fractional bits, and the range of every
/// partial sum.
struct Exact {
    f: i64,
    w: Vec<i128>,
    b: Vec<i128>,
    lo: i128,
    hi: i128,
}

/// Fractional bits the nonzero values of `r` need (`None` when all are zero).
fn needed_frac(r: &Raw) -> Option<i64> {
    let tz = r.values.iter().filter(|&&v| v != 0).map(|v| v.trailing_zeros()).min()?;
    Some(r.frac - tz as i64)
}

/// `v * 2^e`, for `e < 0` only when the dropped bits are zero.
fn align(v: i128, e: i64) -> Option<i128> {
    if e >= 0 {
        super::cast::shl(v, e)
    } else if v == 0 {
        Some(0)
    } else {
        let s = u32::try_from(-e).ok().filter(|&s| s < 127 && v.trailing_zeros() >= s)?;
        Some(v >> s)
    }
}

/// Proves the accumulator exact for these weights and input type, or gives up.
fn exact(sh: &Spec, w: &Raw, b: &Raw) -> Option<Exact> {
    let fx = frac(&sh.x_ty);
    let fa = frac(&sh.acc_ty);
    let f = match (needed_frac(w).map(|fw| fx + fw), needed_frac(b)) {
        (Some(p), Some(q)) => p.max(q),
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => fa,
    };
    if fa < f {
        return None;
    }
    let w: Vec<i128> = w.values.par_iter().map(|&v| align(v, f - fx - w.frac)).collect::<Option<_>>()?;
    let bias: Vec<i128> = b.values.iter().map(|&v| align(v, f - b.frac)).collect::<Option<_>>()?;
    let (xlo, xhi) = range(&sh.x_ty);
    // Per output, the sums of the negative and of the positive products' extremes, over slices
    // of rows in parallel (the totals are the same in any order; an overflow, in whichever
    // order, only leaves the product to the sequential kernel).
    let n_out = sh.n_out.max(1);
    let rows = ((1 << 14) / n_out).max(1);
    let slices: Vec<Option<(Vec<i128>, Vec<i128>)>> = w
        .par_chunks(rows * n_out)
        .map(|slice| {
            let (mut lo, mut hi) = (vec![0i128; n_out], vec![0i128; n_out]);
            for row in slice.chunks(n_out) {
                for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                    if v == 0 {
                        continue;
                    }
                    let (a, c) = (xlo.checked_mul(v)?, xhi.checked_mul(v)?);
                    *l = l.checked_add(a.min(c).min(0))?;
                    *h = h.checked_add(a.max(c).max(0))?;
                }
            }
            Some((lo, hi))
        })
        .collect();
    let mut lo = bias.clone();
    let mut hi = bias.clone();
    for slice in slices {
        let (slo, shi) = slice?;
        for ((l, h), (a, c)) in lo.iter_mut().zip(hi.iter_mut()).zip(slo.into_iter().zip(shi)) {
            *l = l.checked_add(a)?;
            *h = h.checked_add(c)?;
        }
    }
    let (lo, hi) = (lo.into_iter().min().unwrap_or(0), hi.into_iter().max().unwrap_or(0));
    let (amin, amax) = range(&sh.acc_ty);
    let sym = sh.acc_ty.overflow == OverflowMode::SatSym && sh.acc_ty.signed && sh.acc_ty.width > 1;
    let amin = if sym { -amax } else { amin };
    let scaled = |v: i128| align(v, fa - f);
    (scaled(lo)? >= amin && scaled(hi)? <= amax).then_some(Exact { f, w, b: bias, lo, hi })
}

/// The fastest exact kernel that applies.
fn fast_exact(sh: &Spec, ex: Exact) -> Option<Imp> {
    if !fits_i64(&sh.x_ty) {
        return None;
    }
    let bound = ex.lo.unsigned_abs().max(ex.hi.unsigned_abs());
    if bound >= 1 << 62 {
        return None;
    }
    let out = Cast64::new(i32::try_from(ex.f).ok()?, ex.lo, ex.hi, &sh.out_ty)?;
    let nnz = ex.w.iter().filter(|&&v| v != 0).count();
    let (xlo, xhi) = range(&sh.x_ty);
    let in_f64 = bound < simd::MAGIC_LIMIT as u128 && xlo > -simd::MAGIC_LIMIT && xhi < simd::MAGIC_LIMIT;
    Some(if !in_f64 {
        Imp::Axpy(Axpy::new(sh, &ex, out))
    } else if nnz * SPARSE <= sh.n_in * sh.n_out {
        Imp::Sparse(Sparse::new(sh, &ex, out))
    } else if Madd::applies(sh, &ex) {
        Imp::Madd(Madd::new(sh, &ex, out))
    } else {
        Imp::Gemm(Gemm::new(sh, &ex, out))
    })
}

/// Indices of the inputs with at least one nonzero weight.
fn live_rows(w: &[i128], n_out: usize) -> Vec<usize> {
    w.chunks(n_out.max(1)).enumerate().filter(|(_, r)| r.iter().any(|&v| v != 0)).map(|(i, _)| i).collect()
}

/// Exact dot products in integer-valued `f64`, a block of samples at a time.
#[derive(Debug)]
struct Gemm {
    n_in: usize,
    n_out: usize,
    /// Inputs with a nonzero weight, when some have none.
    live: Option<Vec<usize>>,
    /// Panel `p` holds the live rows of outputs `8p..8p+8` (zero beyond `n_out`), row major.
    panels: Vec<[f64; NR]>,
    bias: Vec<[f64; NR]>,
    out: Cast64,
    avx2: bool,
}

impl Gemm {
    fn new(sh: &Spec, ex: &Exact, out: Cast64) -> Gemm {
        let rows = live_rows(&ex.w, sh.n_out);
        let n_panels = sh.n_out.div_ceil(NR);
        let at = |v: &[i128], k: usize| v.get(k).map_or(0.0, |&x| x as f64);
        let mut panels = Vec::with_capacity(n_panels * rows.len());
        let mut bias = Vec::with_capacity(n_panels);
        for p in 0..n_panels {
            let cols = p * NR..(p * NR + NR).min(sh.n_out);
            let mut b = [0.0; NR];
            for (c, j) in cols.clone().enumerate() {
                b[c] = at(&ex.b, j);
            }
            bias.push(b);
            for &i in &rows {
                let mut w = [0.0; NR];
                for (c, j) in cols.clone().enumerate() {
                    w[c] = at(&ex.w, i * sh.n_out + j);
                }
                panels.push(w);
            }
        }
        let live = (rows.len() < sh.n_in).then_some(rows);
        Gemm { n_in: sh.n_in, n_out: sh.n_out, live, panels, bias, out, avx2: simd::has_avx2_fma() }
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, sums: Option<&mut Vec<i64>>) -> u64 {
        let k = self.live.as_ref().map_or(self.n_in, Vec::len);
        let n = out.len() / self.n_out;
        let groups = n.div_ceil(MR);
        let np = self.bias.len() * NR;
        let [xs, acc] = &mut s.f64s;
        // Rows past `n` in the last group keep stale finite values; their results are unused.
        if xs.len() < groups * k * MR {
            xs.resize(groups * k * MR, 0.0);
        }
        if acc.len() < groups * MR * np {
            acc.resize(groups * MR * np, 0.0);
        }
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            return unsafe { self.run_avx2(x, out, xs, acc, k, sums) };
        }
        self.run_body::<false>(x, out, xs, acc, k, sums)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(
        &self,
        x: &[i64],
        out: &mut [i64],
        xs: &mut [f64],
        acc: &mut [f64],
        k: usize,
        sums: Option<&mut Vec<i64>>,
    ) -> u64 {
        self.run_body::<true>(x, out, xs, acc, k, sums)
    }

    /// Packs the block (sample groups of [`MR`], input major), multiplies, casts the sums.
    #[inline(always)]
    fn run_body<const FMA: bool>(
        &self,
        x: &[i64],
        out: &mut [i64],
        xs: &mut [f64],
        acc: &mut [f64],
        k: usize,
        sums: Option<&mut Vec<i64>>,
    ) -> u64 {
        for (si, xr) in x.chunks_exact(self.n_in).enumerate() {
            let group = &mut xs[(si / MR) * k * MR..][..k * MR];
            let lane = si % MR;
            match &self.live {
                None => {
                    for (d, &v) in group.chunks_exact_mut(MR).zip(xr) {
                        d[lane] = simd::to_f64(v);
                    }
                }
                Some(live) => {
                    for (d, &i) in group.chunks_exact_mut(MR).zip(live) {
                        d[lane] = simd::to_f64(xr[i]);
                    }
                }
            }
        }
        let np = self.bias.len() * NR;
        for (p, b) in self.bias.iter().enumerate() {
            let panel = &self.panels[p * k..(p + 1) * k];
            for (g, xg) in xs.chunks_exact(k * MR).take(out.len().div_ceil(self.n_out * MR)).enumerate() {
                let mut a = [*b; MR];
                for (w, xv) in panel.iter().zip(xg.chunks_exact(MR)) {
                    for r in 0..MR {
                        for c in 0..NR {
                            a[r][c] = madd::<FMA>(xv[r], w[c], a[r][c]);
                        }
                    }
                }
                for (r, ar) in a.iter().enumerate() {
                    acc[(g * MR + r) * np + p * NR..][..NR].copy_from_slice(ar);
                }
            }
        }
        if let Some(sums) = sums {
            for ar in acc.chunks_exact(np).take(out.len() / self.n_out) {
                sums.extend(ar[..self.n_out].iter().map(|&v| simd::to_i64(v)));
            }
        }
        let mut overflows = 0;
        for (yr, ar) in out.chunks_exact_mut(self.n_out).zip(acc.chunks_exact(np)) {
            overflows += self.out.run_mapped(&ar[..self.n_out], yr, simd::to_i64);
        }
        overflows
    }
}

/// Outputs per weight panel of [`Madd`]: two 8-lane `i32` vectors.
const MW: usize = 16;

/// Exact dot products in `i32` from pairs of `i16` products, a block of samples at a time.
#[derive(Debug)]
struct Madd {
    n_in: usize,
    n_out: usize,
    live: Option<Vec<usize>>,
    /// Live input pairs (an odd last input is paired with a zero).
    pairs: usize,
    /// Panel `p`, pair `q`: `[W[2q][16p + c], W[2q + 1][16p + c]]` for `c = 0..16` (zero beyond).
    panels: Vec<[i16; 2 * MW]>,
    bias: Vec<[i32; MW]>,
    out: Cast64,
    /// `out` in 32-bit lanes, where every step of it stays in `i32`.
    out32: Option<Cast32>,
    avx2: bool,
}

impl Madd {
    /// Whether inputs and weights fit `i16` and every partial sum, with or without the bias, `i32`.
    fn applies(sh: &Spec, ex: &Exact) -> bool {
        let (xlo, xhi) = range(&sh.x_ty);
        let bias = ex.b.iter().map(|b| b.unsigned_abs()).max().unwrap_or(0);
        let bound = ex.lo.unsigned_abs().max(ex.hi.unsigned_abs()).saturating_add(bias);
        // -2^15 * -2^15 twice is the one pair sum `vpmaddwd` wraps: weights stay above -2^15.
        xlo >= -(1 << 15)
            && xhi < 1 << 15
            && ex.w.iter().all(|&w| w.unsigned_abs() < 1 << 15)
            && bound < 1 << 31
    }

    fn new(sh: &Spec, ex: &Exact, out: Cast64) -> Madd {
        let rows = live_rows(&ex.w, sh.n_out);
        let pairs = rows.len().div_ceil(2);
        let n_panels = sh.n_out.div_ceil(MW);
        let weight = |k: usize, j: usize| -> i16 {
            match rows.get(k) {
                Some(&i) if j < sh.n_out => ex.w[i * sh.n_out + j] as i16,
                _ => 0,
            }
        };
        let mut panels = Vec::with_capacity(n_panels * pairs);
        let mut bias = Vec::with_capacity(n_panels);
        for p in 0..n_panels {
            let mut b = [0; MW];
            for (c, v) in b.iter_mut().enumerate() {
                *v = ex.b.get(p * MW + c).map_or(0, |&v| v as i32);
            }
            bias.push(b);
            for q in 0..pairs {
                let mut w = [0; 2 * MW];
                for c in 0..MW {
                    w[2 * c] = weight(2 * q, p * MW + c);
                    w[2 * c + 1] = weight(2 * q + 1, p * MW + c);
                }
                panels.push(w);
            }
        }
        let live = (rows.len() < sh.n_in).then_some(rows);
        let out32 = Cast32::new(&out, ex.lo, ex.hi);
        Madd {
            n_in: sh.n_in,
            n_out: sh.n_out,
            live,
            pairs,
            panels,
            bias,
            out,
            out32,
            avx2: simd::has_avx2_fma(),
        }
    }

    /// Takes `relu` (leaving it false) when its output cast applies it.
    fn run(
        &self,
        x: &[i64],
        out: &mut [i64],
        s: &mut Scratch,
        sums: Option<&mut Vec<i64>>,
        relu: &mut bool,
    ) -> u64 {
        let n = out.len() / self.n_out;
        let groups = n.div_ceil(MR);
        let np = self.bias.len() * MW;
        let [xs, acc] = &mut s.i32s;
        // Every lane of a full group is packed; a partial last group's missing rows are zeros.
        let stride = self.pairs * MR;
        xs.resize(groups * stride, 0);
        if n % MR != 0 {
            xs[(groups - 1) * stride..groups * stride].fill(0);
        }
        if acc.len() < groups * MR * np {
            acc.resize(groups * MR * np, 0);
        }
        self.pack(x, &mut xs[..groups * stride]);
        let rows = &mut acc[..groups * MR * np];
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is true only when the CPU reported AVX2.
            unsafe { self.product_avx2(xs, rows, np) };
        } else {
            self.product(xs, rows, np);
        }
        #[cfg(not(target_arch = "x86_64"))]
        self.product(xs, rows, np);
        if let Some(sums) = sums {
            for r in rows.chunks_exact(np).take(n) {
                sums.extend(r[..self.n_out].iter().map(|&v| i64::from(v)));
            }
        }
        match &self.out32 {
            Some(c) if np == self.n_out => c.run_then(&rows[..out.len()], out, std::mem::take(relu)),
            Some(c) => {
                // Rows side by side first (row `r` moves down to `r * n_out`), then one pass.
                for r in 1..n {
                    rows.copy_within(r * np..r * np + self.n_out, r * self.n_out);
                }
                c.run_then(&rows[..out.len()], out, std::mem::take(relu))
            }
            None => {
                let mut overflows = 0;
                for (yr, ar) in out.chunks_exact_mut(self.n_out).zip(rows.chunks_exact(np)) {
                    overflows += self.out.run_map(&ar[..self.n_out], yr, i64::from);
                }
                overflows
            }
        }
    }

    /// Packs the rows of `x` into `xs`: group `g`, pair `q`, row `r` at `(g * pairs + q) * MR + r`
    /// holds the row's live inputs `2q` and `2q + 1` as two `i16` halves (an odd last one with 0).
    fn pack(&self, x: &[i64], xs: &mut [i32]) {
        let half = |v: i64| u32::from(v as i16 as u16);
        let pack = |a: i64, b: i64| (half(a) | half(b) << 16) as i32;
        let n_in = self.n_in;
        let stride = self.pairs * MR;
        for (rows, group) in x.chunks((MR * n_in).max(1)).zip(xs.chunks_exact_mut(stride)) {
            if let (None, true) = (&self.live, rows.len() == MR * n_in) {
                // A full group: four rows' pairs side by side, without index checks.
                let mut done = 0;
                #[cfg(target_arch = "x86_64")]
                if self.avx2 {
                    // SAFETY: `avx2` is true only when the CPU reported AVX2; the rows hold
                    // `MR * n_in` values and the group `MR * pairs`.
                    done = unsafe { pack_group_avx2(rows, n_in, group) };
                }
                let (r01, r23) = rows.split_at(2 * n_in);
                let ((r0, r1), (r2, r3)) = (r01.split_at(n_in), r23.split_at(n_in));
                let quads = r0
                    .chunks_exact(2)
                    .zip(r1.chunks_exact(2))
                    .zip(r2.chunks_exact(2).zip(r3.chunks_exact(2)));
                for (d, ((a, b), (c, e))) in group.chunks_exact_mut(MR).zip(quads).skip(done) {
                    d[0] = pack(a[0], a[1]);
                    d[1] = pack(b[0], b[1]);
                    d[2] = pack(c[0], c[1]);
                    d[3] = pack(e[0], e[1]);
                }
                if n_in % 2 == 1 {
                    let d = &mut group[(self.pairs - 1) * MR..];
                    for (r, d) in d.iter_mut().enumerate() {
                        *d = pack(rows[r * n_in + n_in - 1], 0);
                    }
                }
                continue;
            }
            for (r, xr) in rows.chunks_exact(n_in).enumerate() {
                let lanes = group[r..].iter_mut().step_by(MR);
                match &self.live {
                    None => {
                        let (full, rest) = xr.split_at(n_in & !1);
                        for (d, p) in lanes.zip(full.chunks_exact(2)) {
                            *d = pack(p[0], p[1]);
                        }
                        if let Some(&last) = rest.first() {
                            group[(self.pairs - 1) * MR + r] = pack(last, 0);
                        }
                    }
                    Some(live) => {
                        for (d, p) in lanes.zip(live.chunks(2)) {
                            *d = pack(xr[p[0]], p.get(1).map_or(0, |&i| xr[i]));
                        }
                    }
                }
            }
        }
    }

    /// The sums of every group and panel into `acc` (row-major, `np` a row), in plain `i32`.
    fn product(&self, xs: &[i32], acc: &mut [i32], np: usize) {
        for (p, b) in self.bias.iter().enumerate() {
            let panel = &self.panels[p * self.pairs..(p + 1) * self.pairs];
            for (g, xg) in xs.chunks_exact(self.pairs * MR).enumerate() {
                let mut a = [*b; MR];
                for (w, xv) in panel.iter().zip(xg.chunks_exact(MR)) {
                    for (ar, &xp) in a.iter_mut().zip(xv) {
                        let (x0, x1) = (i32::from(xp as i16), xp >> 16);
                        for (c, v) in ar.iter_mut().enumerate() {
                            *v = v.wrapping_add(x0 * i32::from(w[2 * c]) + x1 * i32::from(w[2 * c + 1]));
                        }
                    }
                }
                for (r, ar) in a.iter().enumerate() {
                    acc[(g * MR + r) * np + p * MW..][..MW].copy_from_slice(ar);
                }
            }
        }
    }

    /// [`Madd::product`] with `vpmaddwd`: per pair, two weight vectors and a broadcast per row.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn product_avx2(&self, xs: &[i32], acc: &mut [i32], np: usize) {
        use std::arch::x86_64::*;
        for (p, b) in self.bias.iter().enumerate() {
            let panel = &self.panels[p * self.pairs..(p + 1) * self.pairs];
            // SAFETY: every load and store is of 8 `i32` (or 16 `i16`) inside a slice.
            let (b0, b1) =
                (_mm256_loadu_si256(b.as_ptr().cast()), _mm256_loadu_si256(b.as_ptr().add(8).cast()));
            for (g, xg) in xs.chunks_exact(self.pairs * MR).enumerate() {
                let mut a = [[b0, b1]; MR];
                for (w, xv) in panel.iter().zip(xg.chunks_exact(MR)) {
                    let w0 = _mm256_loadu_si256(w.as_ptr().cast());
                    let w1 = _mm256_loadu_si256(w.as_ptr().add(16).cast());
                    for (ar, &xp) in a.iter_mut().zip(xv) {
                        let x = _mm256_set1_epi32(xp);
                        ar[0] = _mm256_add_epi32(ar[0], _mm256_madd_epi16(x, w0));
                        ar[1] = _mm256_add_epi32(ar[1], _mm256_madd_epi16(x, w1));
                    }
                }
                for (r, ar) in a.iter().enumerate() {
                    let dst = acc[(g * MR + r) * np + p * MW..][..MW].as_mut_ptr();
                    _mm256_storeu_si256(dst.cast(), ar[0]);
                    _mm256_storeu_si256(dst.add(8).cast(), ar[1]);
                }
            }
        }
    }
}

/// The byte shuffles of [`pack_group_avx2`]: in each 128-bit half (inputs `2q` and `2q + 1` as
/// two `i64`), row `r`'s moves bytes 0, 1 (the low 16 bits of the first) and 8, 9 (of the
/// second) to its 32-bit lane `r`, and zeroes the rest (index -128).
const PACK_MASKS: [[i8; 32]; MR] = {
    let mut masks = [[-128i8; 32]; MR];
    let mut r = 0;
    while r < MR {
        let mut b = 0;
        while b < 4 {
            masks[r][4 * r + b] = [0, 1, 8, 9][b];
            masks[r][16 + 4 * r + b] = [0, 1, 8, 9][b];
            b += 1;
        }
        r += 1;
    }
    masks
};

/// Packs the first `2 * (n_in / 4)` pairs of a full group as [`Madd::pack`] does (`rows` holds
/// its `MR` rows of `n_in` values, `group` receives pair `q` of row `r` at `q * MR + r`) and
/// returns their number: per row, four inputs (two pairs) a load, each pair's two low 16-bit
/// halves shuffled into the row's 32-bit lane of both halves of the vector.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pack_group_avx2(rows: &[i64], n_in: usize, group: &mut [i32]) -> usize {
    use std::arch::x86_64::*;
    let quads = n_in / 4;
    if rows.len() < MR * n_in || group.len() < 2 * quads * MR {
        return 0;
    }
    let masks: [__m256i; MR] = std::array::from_fn(|r| _mm256_loadu_si256(PACK_MASKS[r].as_ptr().cast()));
    for k in 0..quads {
        let mut packed = _mm256_setzero_si256();
        for (r, mask) in masks.iter().enumerate() {
            // SAFETY: `r * n_in + 4k + 4 <= (r + 1) * n_in <= rows.len()`.
            let v = _mm256_loadu_si256(rows.as_ptr().add(r * n_in + 4 * k).cast());
            packed = _mm256_or_si256(packed, _mm256_shuffle_epi8(v, *mask));
        }
        // SAFETY: `8k + 8 <= 8 * quads <= group.len()`.
        _mm256_storeu_si256(group.as_mut_ptr().add(8 * k).cast(), packed);
    }
    2 * quads
}

#[inline(always)]
fn madd<const FMA: bool>(x: f64, w: f64, a: f64) -> f64 {
    if FMA {
        x.mul_add(w, a)
    } else {
        a + x * w
    }
}

/// Exact dot products over the nonzero weights in integer-valued `f64`, vectorised across the
/// samples of a block: inputs and sums are held input-major and output-major, and each output's
/// nonzero weights update [`CH`] samples at a time in registers.
#[derive(Debug)]
struct Sparse {
    n_in: usize,
    n_out: usize,
    /// Inputs with a nonzero weight.
    live: Vec<usize>,
    /// For output `j`, its nonzero weights are `at[j]..at[j + 1]` of `rows`/`vals`.
    at: Vec<usize>,
    /// Index into `live` of each nonzero weight, and its value.
    rows: Vec<usize>,
    vals: Vec<f64>,
    bias: Vec<f64>,
    out: Cast64,
    avx2: bool,
}

/// Samples per register block of [`Sparse`].
const CH: usize = 16;

impl Sparse {
    fn new(sh: &Spec, ex: &Exact, out: Cast64) -> Sparse {
        let live = live_rows(&ex.w, sh.n_out);
        let (mut at, mut rows, mut vals) = (vec![0], Vec::new(), Vec::new());
        for j in 0..sh.n_out {
            for (kk, &i) in live.iter().enumerate() {
                let w = ex.w[i * sh.n_out + j];
                if w != 0 {
                    rows.push(kk);
                    vals.push(w as f64);
                }
            }
            at.push(rows.len());
        }
        let bias = ex.b.iter().map(|&v| v as f64).collect();
        Sparse { n_in: sh.n_in, n_out: sh.n_out, live, at, rows, vals, bias, out, avx2: simd::has_avx2_fma() }
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch, sums: Option<&mut Vec<i64>>) -> u64 {
        let n = out.len() / self.n_out;
        let stride = n.div_ceil(CH) * CH;
        let [xs, acc] = &mut s.f64s;
        // Samples past `n` keep stale finite values; their results are unused.
        if xs.len() < self.live.len() * stride {
            xs.resize(self.live.len() * stride, 0.0);
        }
        if acc.len() < self.n_out * stride {
            acc.resize(self.n_out * stride, 0.0);
        }
        let tmp = &mut s.i64s[0];
        let overflows = 'run: {
            if self.avx2 {
                // SAFETY: `avx2` is true only when the CPU reported AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                break 'run unsafe { self.run_avx2(x, out, xs, acc, tmp, stride) };
            }
            self.run_body::<false>(x, out, xs, acc, tmp, stride)
        };
        if let Some(sums) = sums {
            for si in 0..n {
                sums.extend(acc.chunks_exact(stride).take(self.n_out).map(|aj| simd::to_i64(aj[si])));
            }
        }
        overflows
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(
        &self,
        x: &[i64],
        out: &mut [i64],
        xs: &mut [f64],
        acc: &mut [f64],
        tmp: &mut Vec<i64>,
        stride: usize,
    ) -> u64 {
        self.run_body::<true>(x, out, xs, acc, tmp, stride)
    }

    #[inline(always)]
    fn run_body<const FMA: bool>(
        &self,
        x: &[i64],
        out: &mut [i64],
        xs: &mut [f64],
        acc: &mut [f64],
        tmp: &mut Vec<i64>,
        stride: usize,
    ) -> u64 {
        for (si, xr) in x.chunks_exact(self.n_in).enumerate() {
            for (kk, &i) in self.live.iter().enumerate() {
                xs[kk * stride + si] = simd::to_f64(xr[i]);
            }
        }
        for (j, aj) in acc.chunks_exact_mut(stride).take(self.n_out).enumerate() {
            let (rows, vals) =
                (&self.rows[self.at[j]..self.at[j + 1]], &self.vals[self.at[j]..self.at[j + 1]]);
            for (c, ac) in aj.chunks_exact_mut(CH).enumerate() {
                let mut a = [self.bias[j]; CH];
                for (&kk, &w) in rows.iter().zip(vals) {
                    let xv = &xs[kk * stride + c * CH..][..CH];
                    for t in 0..CH {
                        a[t] = madd::<FMA>(xv[t], w, a[t]);
                    }
                }
                ac.copy_from_slice(&a);
            }
        }
        tmp.resize(self.n_out, 0);
        let mut overflows = 0;
        for (si, yr) in out.chunks_exact_mut(self.n_out).enumerate() {
            for (t, aj) in tmp.iter_mut().zip(acc.chunks_exact(stride)) {
                *t = simd::to_i64(aj[si]);
            }
            overflows += self.out.run_mapped(tmp, yr, |v| v);
        }
        overflows
    }
}

/// Exact dot products over dense rows in `i64`.
#[derive(Debug)]
struct Axpy {
    n_in: usize,
    n_out: usize,
    live: Vec<usize>,
    w: Vec<i64>,
    bias: Vec<i64>,
    out: Cast64,
}

impl Axpy {
    fn new(sh: &Spec, ex: &Exact, out: Cast64) -> Axpy {
        let live = live_rows(&ex.w, sh.n_out);
        let w = live
            .iter()
            .flat_map(|&i| ex.w[i * sh.n_out..(i + 1) * sh.n_out].iter().map(|&v| v as i64))
            .collect();
        let bias = ex.b.iter().map(|&v| v as i64).collect();
        Axpy { n_in: sh.n_in, n_out: sh.n_out, live, w, bias, out }
    }

    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch) -> u64 {
        let acc = &mut s.i64s[0];
        let mut overflows = 0;
        for (xr, yr) in x.chunks(self.n_in).zip(out.chunks_mut(self.n_out)) {
            acc.clear();
            acc.extend_from_slice(&self.bias);
            for (&i, row) in self.live.iter().zip(self.w.chunks(self.n_out)) {
                let xi = xr[i];
                if xi == 0 {
                    continue;
                }
                for (a, &w) in acc.iter_mut().zip(row) {
                    *a += xi * w;
                }
            }
            overflows += self.out.run(acc, yr);
        }
        overflows
    }
}

/// The literal accumulation, one cast per step.
#[derive(Debug)]
struct Sequential<I: Int> {
    n_in: usize,
    n_out: usize,
    x_ty: FixedType,
    acc_ty: FixedType,
    live: Vec<usize>,
    /// Rows `live[k]` of the raw weights.
    w: Vec<I>,
    /// `cast_acc(b_j)`.
    acc0: Vec<I>,
    /// Shifts aligning the accumulator and the product at the step's fractional bits.
    sa: u32,
    sp: u32,
    step: I::Cast,
    out: I::Cast,
}

fn sequential(ctx: &Ctx, sh: &Spec, w: &Raw, acc0: &[(i128, bool)]) -> Result<Imp, SimError> {
    let fx = frac(&sh.x_ty);
    let fa = frac(&sh.acc_ty);
    let fp = fx + w.frac;
    let f = fa.max(fp);
    let mut need = Need::default();
    let x = need.ty(&sh.x_ty);
    let acc = need.ty(&sh.acc_ty);
    let bounds = (|| {
        let (sa, sp) = (need.shift(f - fa)?, need.shift(f - fp)?);
        let p = need.mul_span(x, w.span())?;
        let (a, p) = (need.shl_span(acc, sa)?, need.shl_span(p, sp)?);
        let t = need.add_span(a, p)?;
        Some((sa, sp, t))
    })();
    let (sa, sp, t) = bounds.ok_or_else(|| too_wide(ctx))?;
    let parts = SeqParts {
        live: live_rows(&w.values, sh.n_out),
        sa,
        sp,
        t,
        acc,
        from_step: frac32(ctx, f)?,
        from_acc: frac32(ctx, fa)?,
    };
    let fast = need.use_i64(ctx, fits_i64(&sh.x_ty) && fits_i64(&sh.acc_ty));
    let imp = match fast.then(|| Sequential::<i64>::new(sh, w, acc0, &parts)).flatten() {
        Some(k) => Some(Imp::Seq64(k)),
        None => Sequential::<i128>::new(sh, w, acc0, &parts).map(Imp::Seq128),
    };
    imp.ok_or_else(|| too_wide(ctx))
}

/// What the plan decided for a [`Sequential`] kernel, before choosing the integer width.
struct SeqParts {
    live: Vec<usize>,
    sa: u32,
    sp: u32,
    /// Range of the step's exact sums and of the accumulator.
    t: (i128, i128),
    acc: (i128, i128),
    from_step: i32,
    from_acc: i32,
}

impl<I: Int> Sequential<I> {
    fn new(sh: &Spec, w: &Raw, acc0: &[(i128, bool)], p: &SeqParts) -> Option<Self> {
        let rows = p.live.iter().map(|&i| &w.values[i * sh.n_out..(i + 1) * sh.n_out]);
        Some(Sequential {
            n_in: sh.n_in,
            n_out: sh.n_out,
            x_ty: sh.x_ty,
            acc_ty: sh.acc_ty,
            live: p.live.clone(),
            w: rows.flat_map(|r| r.iter().map(|&v| I::from_i128(v))).collect(),
            acc0: acc0.iter().map(|a| I::from_i128(a.0)).collect(),
            sa: p.sa,
            sp: p.sp,
            step: I::cast(p.from_step, p.t.0, p.t.1, &sh.acc_ty)?,
            out: I::cast(p.from_acc, p.acc.0, p.acc.1, &sh.out_ty)?,
        })
    }

    /// Returns the accumulator and output overflows.
    fn run(&self, x: &[i64], out: &mut [i64], s: &mut Scratch) -> (u64, u64) {
        let (acc, t, raw) = I::scratch(s);
        raw.resize(self.n_out, 0);
        let (mut acc_over, mut out_over) = (0, 0);
        let (sa, sp) = (self.sa, self.sp);
        for (xr, yr) in x.chunks(self.n_in).zip(out.chunks_mut(self.n_out)) {
            acc.clear();
            acc.extend_from_slice(&self.acc0);
            for (&i, row) in self.live.iter().zip(self.w.chunks(self.n_out)) {
                let xi = I::load(xr[i], &self.x_ty);
                if xi == I::ZERO {
                    continue;
                }
                t.clear();
                t.extend(acc.iter().zip(row).map(|(&a, &w)| (a << sa) + ((xi * w) << sp)));
                acc_over += self.step.run(t, raw);
                acc.clear();
                acc.extend(raw.iter().map(|&r| I::load(r, &self.acc_ty)));
            }
            out_over += self.out.run(acc, yr);
        }
        (acc_over, out_over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seeded generator of integers uniform in `[-m, m]`.
    fn uniform(mut seed: u64) -> impl FnMut(i64) -> i64 {
        move |m| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as i64 % (2 * m + 1)) - m
        }
    }

    /// `b + x w` for every row of `x`, exactly.
    fn dot(x: &[i64], w: &[i128], b: &[i128]) -> Vec<i64> {
        let (n_in, n_out) = (w.len() / b.len(), b.len());
        x.chunks(n_in)
            .flat_map(|xr| {
                (0..n_out).map(|j| {
                    (b[j] + (0..n_in).map(|i| xr[i] as i128 * w[i * n_out + j]).sum::<i128>()) as i64
                })
            })
            .collect()
    }

    /// The plain and AVX2 builds of the `i16` kernel agree with a plain dot product: an odd number
    /// of live inputs (one all-zero row), outputs and rows that fill no whole panel or group,
    /// inputs at both ends of `i16`.
    #[test]
    fn madd_agrees_with_a_dot_product() {
        // Inputs with an all-zero weight row (packed by index), or all live in an even or odd
        // number, or fewer than one vector load (packed whole groups at a time).
        for (n_in, dead) in [(38, true), (38, false), (39, false), (3, false)] {
            madd_case(n_in, dead);
        }
    }

    fn madd_case(n_in: usize, dead: bool) {
        let (n_out, n) = (21, 11);
        let ty = FixedType::new(16, 6, true);
        let acc = FixedType::new(32, 12, true);
        let sh = Spec { n_in, n_out, x_ty: ty, acc_ty: acc, out_ty: acc };
        let mut next = uniform(7);
        let w: Vec<i128> =
            (0..n_in * n_out).map(|k| if dead && k / n_out == 5 { 0 } else { next(255) as i128 }).collect();
        let b: Vec<i128> = (0..n_out).map(|_| next(1 << 20) as i128).collect();
        let mut x: Vec<i64> = (0..n * n_in).map(|_| next(1 << 15)).collect();
        x[0] = -(1 << 15);
        x[1] = (1 << 15) - 1;
        let expected = dot(&x, &w, &b);
        let bound = (n_in as i128) * (1 << 15) * 255 + (1 << 20);
        let ex = Exact { f: 20, w, b, lo: -bound, hi: bound };
        assert!(Madd::applies(&sh, &ex));
        let out = Cast64::new(20, ex.lo, ex.hi, &sh.out_ty).unwrap();
        let case = format!("{n_in} inputs, a dead one: {dead}");
        for avx2 in [false, simd::has_avx2_fma()] {
            let k = Madd { avx2, ..Madd::new(&sh, &ex, out.clone()) };
            let (mut y, mut sums) = (vec![0; n * n_out], Vec::new());
            let mut s = Scratch::default();
            assert_eq!(k.run(&x, &mut y, &mut s, Some(&mut sums), &mut false), 0);
            assert_eq!(y, expected, "madd, avx2: {avx2}, {case}");
            assert_eq!(sums, expected, "madd sums, avx2: {avx2}, {case}");
            // Fewer rows than a whole group of four, in the scratch of the larger block.
            let mut y = vec![0; (n - 1) * n_out];
            assert_eq!(k.run(&x, &mut y, &mut s, None, &mut false), 0);
            assert_eq!(y, expected[..(n - 1) * n_out], "madd, a partial group, avx2: {avx2}, {case}");
            // The ReLU of a following layer, in the output cast.
            let (mut y, mut relu) = (vec![0; n * n_out], true);
            assert_eq!(k.run(&x, &mut y, &mut s, None, &mut relu), 0);
            assert!(!relu, "the 32-bit output cast applies the ReLU");
            let relu: Vec<i64> = expected.iter().map(|&v| v.max(0)).collect();
            assert_eq!(y, relu, "madd, ReLU, avx2: {avx2}, {case}");
        }
        let mut w = ex.w.clone();
        w[0] = -(1 << 15);
        let wide = Exact { w, ..ex };
        assert!(!Madd::applies(&sh, &wide), "a weight of -2^15 is refused");
    }

    /// The baseline and AVX2 builds of the `f64` kernels agree with a plain dot product.
    #[test]
    fn gemm_builds_agree_with_a_dot_product() {
        let (n_in, n_out, n) = (37, 21, 11);
        let ty = FixedType::new(16, 6, true);
        let sh = Spec {
            n_in,
            n_out,
            x_ty: ty,
            acc_ty: FixedType::new(40, 20, true),
            out_ty: FixedType::new(40, 20, true),
        };
        let mut next = uniform(1);
        let w: Vec<i128> =
            (0..n_in * n_out).map(|k| if k % 3 == 0 { 0 } else { next(1 << 15) as i128 }).collect();
        let b: Vec<i128> = (0..n_out).map(|_| next(1 << 20) as i128).collect();
        let x: Vec<i64> = (0..n * n_in).map(|_| next(1 << 15)).collect();
        let expected = dot(&x, &w, &b);
        let ex = Exact { f: 20, w, b, lo: -(1 << 40), hi: 1 << 40 };
        let out = Cast64::new(20, ex.lo, ex.hi, &sh.out_ty).unwrap();
        for avx2 in [false, simd::has_avx2_fma()] {
            let g = Gemm { avx2, ..Gemm::new(&sh, &ex, out.clone()) };
            let (mut y, mut sums) = (vec![0; n * n_out], Vec::new());
            assert_eq!(g.run(&x, &mut y, &mut Scratch::default(), Some(&mut sums)), 0);
            assert_eq!(y, expected, "gemm, avx2: {avx2}");
            assert_eq!(sums, expected, "gemm sums, avx2: {avx2}");
            if Madd::applies(&sh, &ex) {
                let k = Madd { avx2, ..Madd::new(&sh, &ex, out.clone()) };
                let mut y = vec![0; n * n_out];
                assert_eq!(k.run(&x, &mut y, &mut Scratch::default(), None, &mut false), 0);
                assert_eq!(y, expected, "madd, avx2: {avx2}");
            }
            let k = Sparse { avx2, ..Sparse::new(&sh, &ex, out.clone()) };
            let (mut y, mut sums) = (vec![0; n * n_out], Vec::new());
            assert_eq!(k.run(&x, &mut y, &mut Scratch::default(), Some(&mut sums)), 0);
            assert_eq!(y, expected, "sparse, avx2: {avx2}");
            assert_eq!(sums, expected, "sparse sums, avx2: {avx2}");
        }
    }
}
