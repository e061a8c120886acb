//! Sliding windows over the spatial axes of a channels-last tensor, as index tables: for every
//! output position and every window position (tap, row-major over the window's axes), the flat
//! spatial index of the input position it reads, or [`PAD`] when that position lies in the
//! padding. The simulator's `Conv` and `Pool` kernels gather their windows through these tables
//! (built once per plan), and the RTL backend wires each window from them.
//!
//! Output position `o` and tap `t` read input position `p_d = o_d * stride_d + t_d * dilation_d -
//! pad_begin_d` on every axis `d` (the formula of `ir::layer::conv`; `ir::layer::pool` is the
//! same with dilation 1).

use super::layer::step;
use super::{Conv, Pool, Shape};

/// A tap that falls in the padding.
pub(crate) const PAD: u32 = u32::MAX;

/// The geometry of a sliding window over `input` spatial extents.
#[derive(Debug, Clone)]
pub(crate) struct Window<'a> {
    pub(crate) input: &'a [usize],
    pub(crate) output: &'a [usize],
    pub(crate) kernel: &'a [usize],
    pub(crate) strides: &'a [usize],
    /// `None` for dilation 1 on every axis.
    pub(crate) dilations: Option<&'a [usize]>,
    pub(crate) pads_begin: &'a [usize],
}

impl<'a> Window<'a> {
    /// The window of convolution `c` from input shape `x` to output shape `y` (channels last);
    /// `None` when their ranks do not fit the kernel.
    pub(crate) fn of_conv(c: &'a Conv, x: &'a Shape, y: &'a Shape) -> Option<Self> {
        let s = c.spatial();
        (x.rank() == s + 1 && y.rank() == s + 1).then(|| Window {
            input: &x.dims()[..s],
            output: &y.dims()[..s],
            kernel: c.kernel(),
            strides: &c.strides,
            dilations: Some(&c.dilations),
            pads_begin: &c.pads_begin,
        })
    }

    /// The window of pooling `p` from input shape `x` to output shape `y` (channels last).
    pub(crate) fn of_pool(p: &'a Pool, x: &'a Shape, y: &'a Shape) -> Option<Self> {
        let s = p.spatial();
        (x.rank() == s + 1 && y.rank() == s + 1).then(|| Window {
            input: &x.dims()[..s],
            output: &y.dims()[..s],
            kernel: &p.kernel,
            strides: &p.strides,
            dilations: None,
            pads_begin: &p.pads_begin,
        })
    }

    /// Taps per window.
    pub(crate) fn taps(&self) -> usize {
        self.kernel.iter().product()
    }

    /// Output positions.
    pub(crate) fn positions(&self) -> usize {
        self.output.iter().product()
    }

    /// The index table, `positions() * taps()` entries, output position major; `None` when the
    /// axes disagree in length or an input has more positions than the table can name.
    pub(crate) fn table(&self) -> Option<Vec<u32>> {
        let s = self.input.len();
        let lens = [self.output.len(), self.kernel.len(), self.strides.len(), self.pads_begin.len()];
        if lens.iter().any(|&l| l != s) || self.dilations.is_some_and(|d| d.len() != s) {
            return None;
        }
        if self.input.iter().product::<usize>() >= PAD as usize {
            return None;
        }
        let (positions, taps) = (self.positions(), self.taps());
        let mut table = Vec::with_capacity(positions * taps);
        let mut o = vec![0usize; s];
        let mut t = vec![0usize; s];
        for _ in 0..positions {
            t.iter_mut().for_each(|v| *v = 0);
            for _ in 0..taps {
                let mut flat = 0usize;
                let mut inside = true;
                for d in 0..s {
                    let dilation = self.dilations.map_or(1, |v| v[d]);
                    let p = (o[d] * self.strides[d] + t[d] * dilation) as i64 - self.pads_begin[d] as i64;
                    if p < 0 || p >= self.input[d] as i64 {
                        inside = false;
                    }
                    flat = flat * self.input[d] + p.max(0) as usize;
                }
                table.push(if inside { flat as u32 } else { PAD });
                step(&mut t, self.kernel);
            }
            step(&mut o, self.output);
        }
        Some(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_follow_strides_dilations_and_padding() {
        // 1-D: input 5, kernel 3, stride 2, dilation 2, one position of padding before.
        let w = Window {
            input: &[5],
            output: &[2],
            kernel: &[3],
            strides: &[2],
            dilations: Some(&[2]),
            pads_begin: &[1],
        };
        // o = 0 reads -1, 1, 3; o = 1 reads 1, 3, 5 (5 is past the end).
        assert_eq!(w.table().unwrap(), [PAD, 1, 3, 1, 3, PAD]);
        // 2-D: input 2x3, kernel 2x2, stride 1, no padding: outputs 1x2.
        let w = Window {
            input: &[2, 3],
            output: &[1, 2],
            kernel: &[2, 2],
            strides: &[1, 1],
            dilations: None,
            pads_begin: &[0, 0],
        };
        assert_eq!(w.table().unwrap(), [0, 1, 3, 4, 1, 2, 4, 5]);
    }
}
