//! The layer definitions of `src/ir/layer/{conv,pool,reduce}.rs` and the index maps of padding
//! and upsampling, evaluated naively in f64 on channels-last tensors: the float references of the
//! ONNX and Keras import tests (which check an imported graph against onnxruntime / TensorFlow).

/// The multi-index of flat row-major position `i` in `dims`.
pub fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = i % dims[d];
        i /= dims[d];
    }
    idx
}

/// The flat position of spatial position `p` (inside `dims[..s]`) and channel `c`.
pub fn flat(p: &[i64], c: usize, dims: &[usize]) -> Option<usize> {
    let s = dims.len() - 1;
    let mut at = 0;
    for d in 0..s {
        if p[d] < 0 || p[d] >= dims[d] as i64 {
            return None;
        }
        at = at * dims[d] + p[d] as usize;
    }
    Some(at * dims[s] + c)
}

/// Output position `o` copies input position `from(axis, o_axis)` on every spatial axis (zero
/// outside the input); channels unchanged.
pub fn gather(xd: &[usize], x: &[f64], yd: &[usize], from: impl Fn(usize, usize) -> i64) -> Vec<f64> {
    let s = yd.len() - 1;
    (0..yd.iter().product())
        .map(|i| {
            let o = unravel(i, yd);
            let p: Vec<i64> = (0..s).map(|d| from(d, o[d])).collect();
            flat(&p, o[s], xd).map_or(0.0, |j| x[j])
        })
        .collect()
}

/// `conv.rs`'s definition in f64.
pub fn conv(c: &hls_gen::ir::Conv, xd: &[usize], x: &[f64], yd: &[usize]) -> Vec<f64> {
    let s = c.spatial();
    let (cg, filters) = (c.group_channels(), c.filters());
    let per_group = filters / c.groups;
    let taps: usize = c.kernel().iter().product();
    (0..yd.iter().product())
        .map(|i| {
            let o = unravel(i, yd);
            let f = o[s];
            let g = f / per_group;
            let mut acc = c.bias.values[f];
            for t in 0..taps {
                let tk = unravel(t, c.kernel());
                let p: Vec<i64> = (0..s)
                    .map(|d| (o[d] * c.strides[d] + tk[d] * c.dilations[d]) as i64 - c.pads_begin[d] as i64)
                    .collect();
                for ch in 0..cg {
                    if let Some(j) = flat(&p, g * cg + ch, xd) {
                        acc += x[j] * c.weight(t, ch, f);
                    }
                }
            }
            acc
        })
        .collect()
}

/// `pool.rs`'s definition in f64 (the average's reciprocal rounded to its type when it has one).
pub fn pool(p: &hls_gen::ir::Pool, xd: &[usize], x: &[f64], yd: &[usize]) -> Vec<f64> {
    let s = p.spatial();
    (0..yd.iter().product())
        .map(|i| {
            let o = unravel(i, yd);
            let window: Vec<f64> = (0..p.window())
                .filter_map(|t| {
                    let tk = unravel(t, &p.kernel);
                    let at: Vec<i64> = (0..s)
                        .map(|d| (o[d] * p.strides[d] + tk[d]) as i64 - p.pads_begin[d] as i64)
                        .collect();
                    flat(&at, o[s], xd).map(|j| x[j])
                })
                .collect();
            match p.op {
                hls_gen::ir::PoolOp::Max => window.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                hls_gen::ir::PoolOp::Average => {
                    let n = if p.count_pad { p.window() } else { window.len() };
                    let r = match &p.reciprocal {
                        Some(ty) => {
                            hls_gen::ir::Pool::reciprocal_raw(n, ty) as f64 * 2f64.powi(-ty.frac_bits())
                        }
                        None => 1.0 / n as f64,
                    };
                    window.iter().sum::<f64>() * r
                }
            }
        })
        .collect()
}

/// A reduction of `x` (shape `xd`) over the layer's source lists, in true math.
pub fn reduce(r: &hls_gen::ir::Reduce, xd: &[usize], x: &[f64]) -> Vec<f64> {
    use hls_gen::ir::ReduceOp;
    r.sources(&hls_gen::ir::Shape::new(xd.to_vec()))
        .into_iter()
        .map(|src| {
            let v: Vec<f64> = src.into_iter().map(|i| x[i]).collect();
            let sum_sq = v.iter().map(|a| a * a).sum::<f64>();
            match r.op {
                ReduceOp::Sum => v.iter().sum(),
                ReduceOp::Mean => v.iter().sum::<f64>() / v.len() as f64,
                ReduceOp::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                ReduceOp::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
                ReduceOp::SumSquare => sum_sq,
                ReduceOp::L1 => v.iter().map(|a| a.abs()).sum(),
                ReduceOp::L2 => sum_sq.sqrt(),
            }
        })
        .collect()
}
