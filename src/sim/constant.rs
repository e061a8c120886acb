//! Constants as raw integers, value ranges, and constants broadcast onto activations.

use rayon::prelude::*;

use super::cast::{add, bits, frac, mul, range, shl, Int, LIMIT_I128, LIMIT_I64};
use super::plan::Ctx;
use super::SimError;
use crate::fixed::{self, FixedType, OverflowMode, QuantMode};
use crate::ir::{Shape, Table, Weights};

/// A constant tensor as raw integers of its type.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub(crate) frac: i64,
    pub(crate) values: Vec<i128>,
    pub(crate) shape: Shape,
}

impl Raw {
    pub(crate) fn new(ctx: &Ctx, role: &str, w: &Weights) -> Result<Raw, SimError> {
        let ty = w.ty.ok_or_else(|| ctx.unsupported(format!("{role} has no fixed-point type")))?;
        let values = raws(ctx, role, &w.values, &ty)?;
        Ok(Raw { frac: frac(&ty), values, shape: w.shape.clone() })
    }

    /// The smallest and largest value.
    pub(crate) fn span(&self) -> (i128, i128) {
        let lo = self.values.iter().copied().min().unwrap_or(0);
        let hi = self.values.iter().copied().max().unwrap_or(0);
        (lo, hi)
    }
}

/// The raw integers of `values`, which validation made exact in `ty`. They are read as exact
/// values, whatever the type's modes (an `AP_SAT_SYM` assignment would not keep the most negative
/// value). Large constants are converted in parallel.
pub(crate) fn raws(ctx: &Ctx, role: &str, values: &[f64], ty: &FixedType) -> Result<Vec<i128>, SimError> {
    const SLICE: usize = 1 << 15;
    let plain = ty.with_modes(QuantMode::Trn, OverflowMode::Wrap);
    let f = frac32(ctx, frac(ty))?;
    let exact = |v: f64| match fixed::from_f64(v, &plain) {
        Ok(c) if !c.overflow && fixed::to_f64(c.raw, f) == v => Some(c.raw),
        _ => None,
    };
    let slices: Vec<Option<Vec<i128>>> =
        values.par_chunks(SLICE).map(|s| s.iter().map(|&v| exact(v)).collect()).collect();
    let mut out = Vec::with_capacity(values.len());
    for (k, slice) in slices.into_iter().enumerate() {
        match slice {
            Some(raw) => out.extend(raw),
            None => {
                // The first value that is not exact, in order, names the error.
                let bad = values[k * SLICE..].iter().position(|&v| exact(v).is_none()).unwrap_or(0);
                let (i, v) = (k * SLICE + bad, values[k * SLICE + bad]);
                return Err(ctx.unsupported(format!("{role} value #{i} ({v}) is not a value of its type")));
            }
        }
    }
    Ok(out)
}

/// A lookup table: raw entries and the index arithmetic.
#[derive(Debug, Clone)]
pub(crate) struct Lut {
    pub(crate) index_ty: FixedType,
    /// Added to the index cast's raw result: `2^(W-1)` for a signed index type.
    pub(crate) offset: i64,
    pub(crate) ty: FixedType,
    pub(crate) values: Vec<i128>,
}

impl Lut {
    pub(crate) fn new(ctx: &Ctx, role: &str, t: &Table) -> Result<Lut, SimError> {
        if t.values.len() != t.len() || t.index_ty.width > 24 {
            return Err(ctx.unsupported(format!("{role} has {} entries, needs {}", t.values.len(), t.len())));
        }
        let offset = if t.index_ty.signed { 1i64 << (t.index_ty.width - 1) } else { 0 };
        Ok(Lut { index_ty: t.index_ty, offset, ty: t.ty, values: raws(ctx, role, &t.values, &t.ty)? })
    }

    /// Every entry cast to `out` once: its raw value there and whether the cast overflowed.
    pub(crate) fn cast_entries(&self, ctx: &Ctx, out: &FixedType) -> Result<Vec<(i64, bool)>, SimError> {
        let ft = frac32(ctx, frac(&self.ty))?;
        Ok(self
            .values
            .iter()
            .map(|&v| {
                let c = fixed::cast(v, ft, out);
                (c.raw as i64, c.overflow)
            })
            .collect())
    }
}

/// Plan-time arithmetic on the values and ranges a kernel's intermediates take: every result is
/// checked to stay below `2^LIMIT_I128` (`None` otherwise), and the largest magnitude and shift
/// seen decide whether the kernel may compute in `i64`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Need(u32);

impl Need {
    pub(crate) fn see(&mut self, v: i128) -> i128 {
        self.0 = self.0.max(bits(v));
        v
    }

    pub(crate) fn span(&mut self, s: (i128, i128)) -> (i128, i128) {
        self.see(s.0);
        self.see(s.1);
        s
    }

    /// The raw range of a type.
    pub(crate) fn ty(&mut self, ty: &FixedType) -> (i128, i128) {
        self.span(range(ty))
    }

    /// A shift amount the kernel applies: shifting needs it to be below the integer's width.
    pub(crate) fn shift(&mut self, s: i64) -> Option<u32> {
        let s = u32::try_from(s).ok().filter(|&s| s < LIMIT_I128)?;
        self.0 = self.0.max(s + 1);
        Some(s)
    }

    pub(crate) fn shl(&mut self, v: i128, s: u32) -> Option<i128> {
        shl(v, s as i64).map(|r| self.see(r))
    }

    pub(crate) fn mul(&mut self, a: i128, b: i128) -> Option<i128> {
        mul(a, b).map(|r| self.see(r))
    }

    pub(crate) fn add(&mut self, a: i128, b: i128) -> Option<i128> {
        add(a, b).map(|r| self.see(r))
    }

    pub(crate) fn shl_span(&mut self, s: (i128, i128), by: u32) -> Option<(i128, i128)> {
        Some((self.shl(s.0, by)?, self.shl(s.1, by)?))
    }

    /// The range of `a * b` (corner products).
    pub(crate) fn mul_span(&mut self, a: (i128, i128), b: (i128, i128)) -> Option<(i128, i128)> {
        let c = [self.mul(a.0, b.0)?, self.mul(a.0, b.1)?, self.mul(a.1, b.0)?, self.mul(a.1, b.1)?];
        Some((c.iter().copied().min()?, c.iter().copied().max()?))
    }

    pub(crate) fn add_span(&mut self, a: (i128, i128), b: (i128, i128)) -> Option<(i128, i128)> {
        Some((self.add(a.0, b.0)?, self.add(a.1, b.1)?))
    }

    /// Whether the kernel computes in `i64`: fast paths are on, every loaded type fits an `i64`
    /// and every intermediate and shift stays below [`LIMIT_I64`] bits.
    pub(crate) fn use_i64(self, ctx: &Ctx, loads_fit: bool) -> bool {
        ctx.opts.fast_paths && loads_fit && self.0 <= LIMIT_I64
    }
}

/// The error for intermediates no `i128` holds.
pub(crate) fn too_wide(ctx: &Ctx) -> SimError {
    ctx.unsupported(format!(
        "its types need exact intermediates wider than {LIMIT_I128} bits; the simulator supports up to that"
    ))
}

/// A fractional-bit count for the `fixed` functions.
pub(crate) fn frac32(ctx: &Ctx, f: i64) -> Result<i32, SimError> {
    i32::try_from(f).map_err(|_| too_wide(ctx))
}

/// A constant broadcast onto a tensor of `elements` values per sample.
#[derive(Debug, Clone)]
pub(crate) enum Bcast<I> {
    /// Element `e` reads `values[e % values.len()]` (the constant covers the trailing axes).
    Periodic(Vec<I>),
    /// Element `e` reads `values[index[e]]`.
    Map(Vec<I>, Vec<u32>),
}

impl<I: Int> Bcast<I> {
    pub(crate) fn new(shape: &Shape, values: &[i128], target: &Shape) -> Bcast<I> {
        let vals: Vec<I> = values.iter().map(|&v| I::from_i128(v)).collect();
        let dims = shape.dims();
        let lead = dims.iter().take_while(|&&d| d == 1).count();
        let core = &dims[lead..];
        let t = target.dims();
        if core.len() <= t.len() && t[t.len() - core.len()..] == *core {
            return Bcast::Periodic(vals);
        }
        let index = (0..target.elements()).map(|e| shape.broadcast_index(target, e) as u32).collect();
        Bcast::Map(vals, index)
    }

    /// Appends `f(x_e, c_e)` for every element of the `rows` in `x` (raw values of `ty`).
    #[inline(always)]
    pub(crate) fn map(
        &self,
        x: &[i64],
        ty: &FixedType,
        elements: usize,
        t: &mut Vec<I>,
        f: impl Fn(I, I) -> I,
    ) {
        match self {
            Bcast::Periodic(v) if v.len() == 1 => {
                let c = v[0];
                t.extend(x.iter().map(|&r| f(I::load(r, ty), c)));
            }
            Bcast::Periodic(v) => {
                for chunk in x.chunks(v.len()) {
                    t.extend(chunk.iter().zip(v).map(|(&r, &c)| f(I::load(r, ty), c)));
                }
            }
            Bcast::Map(v, index) => {
                for row in x.chunks(elements) {
                    t.extend(row.iter().zip(index).map(|(&r, &k)| f(I::load(r, ty), v[k as usize])));
                }
            }
        }
    }
}
