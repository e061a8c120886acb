//! [`Madd`]: the exact `i16` kernel of [`super::matmul`]. Inputs and aligned weights fit 16 bits
//! and every partial sum (bias or not) fits 32: products of input pairs are summed into `i32`
//! (`vpmaddwd` on AVX2, `vpdpwssd` where the CPU has AVX-512 VNNI; 16 products an instruction), in a
//! 4-row x 16-output register-blocked kernel.
//!
//! Input rows are narrow ([`Narrow`]): a row's live inputs as `i16`, in order, zero beyond them,
//! `stride` values a row (even), and whole groups of [`MR`] rows. A kernel packs its `i64` input
//! rows into that form, or takes them so from the `Madd` before it: that one's output cast can
//! write `i16` rows ([`Out::Narrow`]) instead of `i64` ones, so a chain of `i16` Dense layers
//! never widens its values in between. Results do not depend on the path taken: every path
//! computes the same exact integers.

use super::cast::{range, Cast64, CastOp};
use super::cast32::Cast32;
use super::matmul::{live_rows, Exact, Spec, MR};
use super::plan::Scratch;
use super::simd;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Outputs per weight panel: two 8-lane `i32` vectors.
const MW: usize = 16;
// The x86-64 kernels name the rows of a group one by one.
const _: () = assert!(MR == 4);

/// A block's input rows in the form [`Madd`] reads: row `r` at `values[r * stride..]`, its live
/// inputs first and zeros after them, for whole groups of [`MR`] rows (rows beyond the block's
/// hold any values of the input type: their results are dropped).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Narrow<'a> {
    pub(crate) values: &'a [i16],
    pub(crate) stride: usize,
}

/// Where a [`Madd`] writes its results.
pub(crate) enum Out<'a> {
    /// `n_out` values a row, the block's rows only.
    Wide(&'a mut [i64]),
    /// [`Narrow`] rows of [`Madd::narrow_stride`] values for `n` rows (grown here when short).
    Narrow(&'a mut Vec<i16>),
}

/// Which instructions run the products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Plain,
    Avx2,
    Avx512Vnni,
}

impl Isa {
    /// The best this CPU runs.
    pub(crate) fn detect() -> Isa {
        if simd::has_avx512_vnni() {
            Isa::Avx512Vnni
        } else if simd::has_avx2_fma() {
            Isa::Avx2
        } else {
            Isa::Plain
        }
    }

    /// Every set this CPU runs, for tests.
    #[cfg(test)]
    pub(crate) fn supported() -> Vec<Isa> {
        let best = Isa::detect();
        [Isa::Plain, Isa::Avx2, Isa::Avx512Vnni].into_iter().filter(|&i| i as u8 <= best as u8).collect()
    }
}

/// Exact dot products in `i32` from pairs of `i16` products, a block of rows at a time.
#[derive(Debug)]
pub(crate) struct Madd {
    n_in: usize,
    n_out: usize,
    /// Inputs with a nonzero weight, when some have none.
    live: Option<Vec<usize>>,
    /// Live input pairs (an odd last input is paired with a zero).
    pairs: usize,
    /// Panel `p`, pair `q`: `[W[2q][16p + c], W[2q + 1][16p + c]]` for `c = 0..16` (zero beyond).
    panels: Vec<[i16; 2 * MW]>,
    bias: Vec<[i32; MW]>,
    out: Cast64,
    /// `out` in 32-bit lanes, where every step of it stays in `i32`.
    out32: Option<Cast32>,
    pub(crate) isa: Isa,
}

impl Madd {
    /// Whether inputs and weights fit `i16` and every partial sum, with or without the bias, `i32`.
    pub(crate) fn applies(sh: &Spec, ex: &Exact) -> bool {
        let (xlo, xhi) = range(&sh.x_ty);
        let bias = ex.b.iter().map(|b| b.unsigned_abs()).max().unwrap_or(0);
        let bound = ex.lo.unsigned_abs().max(ex.hi.unsigned_abs()).saturating_add(bias);
        // -2^15 * -2^15 twice is the one pair sum `vpmaddwd` wraps: weights stay above -2^15.
        xlo >= -(1 << 15)
            && xhi < 1 << 15
            && ex.w.iter().all(|&w| w.unsigned_abs() < 1 << 15)
            && bound < 1 << 31
    }

    pub(crate) fn new(sh: &Spec, ex: &Exact, out: Cast64) -> Madd {
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
        Madd { n_in: sh.n_in, n_out: sh.n_out, live, pairs, panels, bias, out, out32, isa: Isa::detect() }
    }

    /// Whether [`Narrow`] rows of this kernel's inputs are the layer's inputs themselves (every
    /// input is live), so the layer before can hand them over as they are.
    pub(crate) fn reads_narrow(&self) -> bool {
        self.live.is_none()
    }

    /// The stride of the [`Narrow`] rows [`Out::Narrow`] gives, when the output cast has a
    /// 32-bit form (results then fit what the cast gives; a reader checks they fit `i16`).
    pub(crate) fn narrow_stride(&self) -> Option<usize> {
        self.out32.map(|_| self.bias.len() * MW)
    }

    /// Runs the block's `n` rows, `i64` rows of `n_in` values (`Err`) or [`Narrow`] ones (`Ok`),
    /// into `out`; appends each row's exact sums to `sums` when given. Takes `relu` (leaving it
    /// false) when its output cast applies it; [`Out::Narrow`] always does. Returns the output
    /// overflows.
    pub(crate) fn run(
        &self,
        x: Result<Narrow, &[i64]>,
        n: usize,
        out: Out,
        s: &mut Scratch,
        sums: Option<&mut Vec<i64>>,
        relu: &mut bool,
    ) -> u64 {
        let groups = n.div_ceil(MR);
        let np = self.bias.len() * MW;
        let x = match x {
            Ok(x) => x,
            Err(wide) => {
                self.pack(wide, n, &mut s.i16s);
                Narrow { values: &s.i16s, stride: 2 * self.pairs }
            }
        };
        let acc = &mut s.i32s;
        if acc.len() < groups * MR * np {
            acc.resize(groups * MR * np, 0);
        }
        let rows = &mut acc[..groups * MR * np];
        self.product(x, rows, np);
        if let Some(sums) = sums {
            for r in rows.chunks_exact(np).take(n) {
                sums.extend(r[..self.n_out].iter().map(|&v| i64::from(v)));
            }
        }
        match (out, &self.out32) {
            (Out::Narrow(dst), Some(c)) => {
                // Padding columns hold `0 + 0`, which every cast keeps without an overflow.
                if dst.len() < groups * MR * np {
                    dst.resize(groups * MR * np, 0);
                }
                let overflows = c.run_then(&rows[..n * np], &mut dst[..n * np], std::mem::take(relu));
                dst[n * np..groups * MR * np].fill(0);
                overflows
            }
            (Out::Narrow(_), None) => unreachable!("a narrow output needs the 32-bit cast"),
            (Out::Wide(out), Some(c)) => {
                let out = &mut out[..n * self.n_out];
                if np != self.n_out {
                    // Rows side by side first (row `r` moves down to `r * n_out`), then one pass.
                    for r in 1..n {
                        rows.copy_within(r * np..r * np + self.n_out, r * self.n_out);
                    }
                }
                c.run_then(&rows[..out.len()], out, std::mem::take(relu))
            }
            (Out::Wide(out), None) => {
                let mut overflows = 0;
                for (yr, ar) in out.chunks_exact_mut(self.n_out).zip(rows.chunks_exact(np)).take(n) {
                    overflows += self.out.run_map(&ar[..self.n_out], yr, i64::from);
                }
                overflows
            }
        }
    }

    /// Packs the `n` rows of `x` into [`Narrow`] rows of `2 * pairs` values in `xs` (the last
    /// group's missing rows zero).
    fn pack(&self, x: &[i64], n: usize, xs: &mut Vec<i16>) {
        let stride = 2 * self.pairs;
        let len = n.div_ceil(MR) * MR * stride;
        if xs.len() < len {
            xs.resize(len, 0);
        }
        xs[n * stride..len].fill(0);
        if self.live.is_none() && stride == self.n_in {
            // Rows without padding: one run of values.
            let (src, dst) = (&x[..n * stride], &mut xs[..n * stride]);
            #[cfg(target_arch = "x86_64")]
            if self.isa != Isa::Plain {
                // SAFETY: the ISA is not plain only when the CPU reported AVX2.
                return unsafe { narrow_avx2(src, dst) };
            }
            return narrow(src, dst);
        }
        let rows = xs.chunks_exact_mut(stride.max(1)).zip(x.chunks_exact(self.n_in.max(1))).take(n);
        match &self.live {
            None => {
                for (d, xr) in rows {
                    let (head, tail) = d.split_at_mut(xr.len());
                    narrow(xr, head);
                    tail.fill(0);
                }
            }
            Some(live) => {
                for (d, xr) in rows {
                    for (d, &i) in d.iter_mut().zip(live) {
                        *d = xr[i] as i16;
                    }
                    d[live.len()..].fill(0);
                }
            }
        }
    }

    /// The sums of every group and panel into `acc` (row-major, `np` a row).
    fn product(&self, x: Narrow, acc: &mut [i32], np: usize) {
        #[cfg(target_arch = "x86_64")]
        match self.isa {
            // SAFETY: each ISA is chosen only when the CPU reported it; `run` sized `x` and `acc`
            // to whole groups.
            Isa::Avx512Vnni => return unsafe { self.product_vnni(x, acc, np) },
            Isa::Avx2 => return unsafe { self.product_avx2(x, acc, np) },
            Isa::Plain => {}
        }
        let groups = acc.len() / (MR * np);
        for (p, b) in self.bias.iter().enumerate() {
            let panel = &self.panels[p * self.pairs..(p + 1) * self.pairs];
            for g in 0..groups {
                let mut a = [*b; MR];
                for (q, w) in panel.iter().enumerate() {
                    for (r, ar) in a.iter_mut().enumerate() {
                        let at = (g * MR + r) * x.stride + 2 * q;
                        let (x0, x1) = (i32::from(x.values[at]), i32::from(x.values[at + 1]));
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
}

#[cfg(target_arch = "x86_64")]
impl Madd {
    /// Runs `tile` on every panel and group of rows (the panel's pair weights, its bias in two
    /// vectors, the group's rows) and stores the sums it gives for the group's rows. Inlined into
    /// a kernel compiled for the vector instructions `tile` uses.
    #[inline(always)]
    unsafe fn each_tile(
        &self,
        x: Narrow,
        acc: &mut [i32],
        np: usize,
        mut tile: impl FnMut(&[[i16; 2 * MW]], [__m256i; 2], [*const i32; MR]) -> [[__m256i; 2]; MR],
    ) {
        let groups = acc.len() / (MR * np);
        assert!(x.values.len() >= groups * MR * x.stride && 2 * self.pairs <= x.stride);
        for (p, b) in self.bias.iter().enumerate() {
            let panel = &self.panels[p * self.pairs..(p + 1) * self.pairs];
            // SAFETY: every load and store is of 8 `i32` (or 16 `i16`) inside a slice; pair
            // `q < pairs` of row `r < groups * MR` is inside `x.values` (asserted).
            let bias = [_mm256_loadu_si256(b.as_ptr().cast()), _mm256_loadu_si256(b.as_ptr().add(8).cast())];
            for g in 0..groups {
                let rows =
                    std::array::from_fn(|r| x.values.as_ptr().add((g * MR + r) * x.stride).cast::<i32>());
                for (r, sums) in tile(panel, bias, rows).iter().enumerate() {
                    let dst = acc[(g * MR + r) * np + p * MW..][..MW].as_mut_ptr();
                    _mm256_storeu_si256(dst.cast(), sums[0]);
                    _mm256_storeu_si256(dst.add(8).cast(), sums[1]);
                }
            }
        }
    }

    /// [`Madd::product`] with `vpmaddwd`: per pair, two weight vectors and a broadcast of the pair
    /// per row.
    #[target_feature(enable = "avx2")]
    unsafe fn product_avx2(&self, x: Narrow, acc: &mut [i32], np: usize) {
        let step = |a, x, w| _mm256_add_epi32(a, _mm256_madd_epi16(x, w));
        self.each_tile(x, acc, np, |panel, [b0, b1], [x0, x1, x2, x3]| {
            let (mut a00, mut a01, mut a10, mut a11) = (b0, b1, b0, b1);
            let (mut a20, mut a21, mut a30, mut a31) = (b0, b1, b0, b1);
            for (q, w) in panel.iter().enumerate() {
                let w0 = _mm256_loadu_si256(w.as_ptr().cast());
                let w1 = _mm256_loadu_si256(w.as_ptr().add(16).cast());
                let x = _mm256_set1_epi32(x0.add(q).read_unaligned());
                (a00, a01) = (step(a00, x, w0), step(a01, x, w1));
                let x = _mm256_set1_epi32(x1.add(q).read_unaligned());
                (a10, a11) = (step(a10, x, w0), step(a11, x, w1));
                let x = _mm256_set1_epi32(x2.add(q).read_unaligned());
                (a20, a21) = (step(a20, x, w0), step(a21, x, w1));
                let x = _mm256_set1_epi32(x3.add(q).read_unaligned());
                (a30, a31) = (step(a30, x, w0), step(a31, x, w1));
            }
            [[a00, a01], [a10, a11], [a20, a21], [a30, a31]]
        })
    }

    /// [`Madd::product`] with AVX-512 VNNI on 256-bit vectors: two pairs at a time into two sets
    /// of accumulators (`vpdpwssd` has a latency of several cycles; 32 registers hold both).
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    unsafe fn product_vnni(&self, x: Narrow, acc: &mut [i32], np: usize) {
        let pairs = self.pairs;
        let load = |w: &[i16; 2 * MW]| {
            [_mm256_loadu_si256(w.as_ptr().cast()), _mm256_loadu_si256(w.as_ptr().add(16).cast())]
        };
        let step = |a: [__m256i; 2], x, w: [__m256i; 2]| {
            [_mm256_dpwssd_epi32(a[0], x, w[0]), _mm256_dpwssd_epi32(a[1], x, w[1])]
        };
        self.each_tile(x, acc, np, |panel, bias, xr| {
            let z = _mm256_setzero_si256();
            let (mut a, mut c) = ([bias; MR], [[z, z]; MR]);
            let mut q = 0;
            while q + 1 < pairs {
                let (wa, wb) = (load(&panel[q]), load(&panel[q + 1]));
                for r in 0..MR {
                    a[r] = step(a[r], _mm256_set1_epi32(xr[r].add(q).read_unaligned()), wa);
                    c[r] = step(c[r], _mm256_set1_epi32(xr[r].add(q + 1).read_unaligned()), wb);
                }
                q += 2;
            }
            if q < pairs {
                let w = load(&panel[q]);
                for r in 0..MR {
                    a[r] = step(a[r], _mm256_set1_epi32(xr[r].add(q).read_unaligned()), w);
                }
            }
            std::array::from_fn(|r| [_mm256_add_epi32(a[r][0], c[r][0]), _mm256_add_epi32(a[r][1], c[r][1])])
        })
    }
}

/// The values of `src` as `i16` (they fit: the input type is inside `i16`).
#[inline(always)]
fn narrow(src: &[i64], dst: &mut [i16]) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = v as i16;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn narrow_avx2(src: &[i64], dst: &mut [i16]) {
    narrow(src, dst)
}
