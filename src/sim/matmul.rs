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
use super::constant::{frac32, too_wide, Need, Raw};
use super::madd::{Madd, Narrow, Out};
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
pub(super) const MR: usize = 4;
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

    /// Whether the kernel takes its input rows [`Narrow`] as they are ([`Madd::reads_narrow`]).
    pub(crate) fn reads_narrow(&self) -> bool {
        matches!(&self.imp, Imp::Madd(k) if k.reads_narrow())
    }

    /// The stride of the [`Narrow`] rows the kernel can write ([`Madd::narrow_stride`]).
    pub(crate) fn narrow_stride(&self) -> Option<usize> {
        match &self.imp {
            Imp::Madd(k) => k.narrow_stride(),
            _ => None,
        }
    }

    /// [`MatMul::run_summed`] of the rows of `values` results, with input rows [`Narrow`] (`Ok`)
    /// when the kernel [`MatMul::reads_narrow`] and output rows [`Out::Narrow`] when it has a
    /// [`MatMul::narrow_stride`] (it then always applies `relu`).
    pub(crate) fn run_rows(
        &self,
        x: Result<Narrow, &[i64]>,
        values: usize,
        out: Out,
        s: &mut Scratch,
        sums: Option<&mut Vec<i64>>,
        relu: bool,
    ) -> (u64, u64) {
        let (x, out) = match (x, out) {
            (Err(x), Out::Wide(out)) => return self.run_summed(x, &mut out[..values], s, sums, relu),
            narrow => narrow,
        };
        let Imp::Madd(k) = &self.imp else { unreachable!("only the i16 kernel runs narrow rows") };
        let n = values / self.n_out.max(1);
        let mut relu_left = relu;
        let y = k.run(x.map_err(|x| &x[..n * self.n_in]), n, out, s, sums, &mut relu_left);
        debug_assert!(!relu_left, "a narrow run has a 32-bit output cast, which applies the ReLU");
        (self.bias_overflows * n as u64, y)
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
            Imp::Madd(k) => (0, k.run(Err(x), n, Out::Wide(out), s, sums, &mut relu_left)),
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
pub(super) struct Spec {
    pub(super) n_in: usize,
    pub(super) n_out: usize,
    pub(super) x_ty: FixedType,
    pub(super) acc_ty: FixedType,
    pub(super) out_ty: FixedType,
}

/// An exact dot product: weights and bias aligned to `f` fractional bits, and the range of every
/// partial sum.
pub(super) struct Exact {
    pub(super) f: i64,
    pub(super) w: Vec<i128>,
    pub(super) b: Vec<i128>,
    pub(super) lo: i128,
    pub(super) hi: i128,
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
pub(super) fn live_rows(w: &[i128], n_out: usize) -> Vec<usize> {
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
    use crate::fixed::QuantMode;
    use crate::sim::madd::Isa;

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
        for isa in Isa::supported() {
            let mut k = Madd::new(&sh, &ex, out.clone());
            k.isa = isa;
            let wide =
                |x: &[i64], n: usize, s: &mut Scratch, sums: Option<&mut Vec<i64>>, relu: &mut bool| {
                    let mut y = vec![0; n * n_out];
                    let o = k.run(Err(&x[..n * n_in]), n, Out::Wide(&mut y), s, sums, relu);
                    (o, y)
                };
            let mut sums = Vec::new();
            let mut s = Scratch::default();
            assert_eq!(
                wide(&x, n, &mut s, Some(&mut sums), &mut false),
                (0, expected.clone()),
                "{isa:?}, {case}"
            );
            assert_eq!(sums, expected, "madd sums, {isa:?}, {case}");
            // Fewer rows than a whole group of four, in the scratch of the larger block.
            let (o, y) = wide(&x, n - 1, &mut s, None, &mut false);
            assert_eq!((o, y), (0, expected[..(n - 1) * n_out].to_vec()), "a partial group, {isa:?}, {case}");
            // The ReLU of a following layer, in the output cast.
            let mut relu = true;
            let (_, y) = wide(&x, n, &mut s, None, &mut relu);
            assert!(!relu, "the 32-bit output cast applies the ReLU");
            let relu: Vec<i64> = expected.iter().map(|&v| v.max(0)).collect();
            assert_eq!(y, relu, "madd, ReLU, {isa:?}, {case}");
            if dead {
                continue;
            }
            // Narrow rows in, of a wider stride, with rows of any values after the block's.
            let stride = 2 * n_in.div_ceil(2) + 6;
            let mut rows = vec![0i16; n.div_ceil(4) * 4 * stride];
            for (r, row) in rows.chunks_exact_mut(stride).enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = match (x.get(r * n_in + c), c < n_in) {
                        (Some(&v), true) if r < n => v as i16,
                        _ if r >= n => next(1 << 15) as i16,
                        _ => 0,
                    };
                }
            }
            let narrow = Narrow { values: &rows, stride };
            let mut y = vec![0; n * n_out];
            assert_eq!(k.run(Ok(narrow), n, Out::Wide(&mut y), &mut s, None, &mut false), 0);
            assert_eq!(y, expected, "narrow rows in, {isa:?}, {case}");
            // Narrow rows out, through a saturating 16-bit cast: the wide results after a ReLU, as
            // `i16`, zero in the padding, with the same overflow count.
            let out16 = FixedType::new(16, 4, true).with_modes(QuantMode::Trn, OverflowMode::Sat);
            let mut k16 = Madd::new(&sh, &ex, Cast64::new(20, ex.lo, ex.hi, &out16).unwrap());
            k16.isa = isa;
            let stride = k16.narrow_stride().expect("a 32-bit cast");
            let mut y = vec![0; n * n_out];
            let wide_overflows = k16.run(Err(&x), n, Out::Wide(&mut y), &mut s, None, &mut true);
            assert!(wide_overflows > 0, "some sums saturate");
            let mut y16 = vec![7; 3];
            let o = k16.run(Err(&x), n, Out::Narrow(&mut y16), &mut s, None, &mut true);
            assert_eq!(o, wide_overflows, "narrow rows out, {isa:?}, {case}");
            assert_eq!(y16.len(), n.div_ceil(4) * 4 * stride);
            for (r, row) in y16.chunks_exact(stride).enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    let want = if r < n && c < n_out { y[r * n_out + c] } else { 0 };
                    assert_eq!(i64::from(v), want, "narrow rows out, row {r} column {c}, {isa:?}, {case}");
                }
            }
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
            let k = Sparse { avx2, ..Sparse::new(&sh, &ex, out.clone()) };
            let (mut y, mut sums) = (vec![0; n * n_out], Vec::new());
            assert_eq!(k.run(&x, &mut y, &mut Scratch::default(), Some(&mut sums)), 0);
            assert_eq!(y, expected, "sparse, avx2: {avx2}");
            assert_eq!(sums, expected, "sparse sums, avx2: {avx2}");
        }
    }
}
