//! Convolutional layers with random weights for the backend tests, and `rtl_cnn`, a tiny network
//! with every layer kind the RTL backend added for CNNs.

use super::*;
use hls_gen::fixed::{OverflowMode::*, QuantMode::*};
use hls_gen::ir::{Conv, Dense, Layer, Pad, Pool, PoolOp, Reshape, Softmax, Transpose, UpSample};

/// A convolution with random `ap_fixed<6,1>` weights (15 % zeros) and `ap_fixed<6,2>` biases.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    rng: &mut Rng,
    kernel: &[usize],
    group_channels: usize,
    filters: usize,
    strides: &[usize],
    dilations: &[usize],
    pads: (&[usize], &[usize]),
    groups: usize,
    accum: FixedType,
) -> Conv {
    let mut shape = kernel.to_vec();
    shape.extend([group_channels, filters]);
    Conv {
        weights: random_weights(rng, &shape, fx(6, 1), 15),
        bias: random_weights(rng, &[filters], fx(6, 2), 0),
        strides: strides.to_vec(),
        dilations: dilations.to_vec(),
        pads_begin: pads.0.to_vec(),
        pads_end: pads.1.to_vec(),
        groups,
        accum: Some(accum),
    }
}

/// A pooling layer; average pooling gets the default reciprocal type.
pub fn pool(
    op: PoolOp,
    kernel: &[usize],
    strides: &[usize],
    pads: (&[usize], &[usize]),
    count_pad: bool,
) -> Pool {
    Pool {
        op,
        kernel: kernel.to_vec(),
        strides: strides.to_vec(),
        pads_begin: pads.0.to_vec(),
        pads_end: pads.1.to_vec(),
        count_pad,
        reciprocal: (op == PoolOp::Average).then(|| Pool::default_reciprocal(kernel.iter().product())),
    }
}

/// [4, 4, 2] -> conv 3x3 (padding 1) -> relu -> max pool 2x2 -> depthwise 2x2 (multiplier 2,
/// padding after) -> average pool 2x2 (padding after, not counted) -> pad/crop (wiring) ->
/// upsample (a cast) -> transpose (wiring) -> reshape to [12, 4] -> dilated strided 1-D conv ->
/// global max pool -> dense 4 -> softmax (small tables); a second output, the global average of
/// the 1-D conv. Exact accumulators, as the RTL backend needs.
pub fn rtl_cnn() -> Graph {
    let mut rng = Rng::new(31);
    let acc = fx(24, 12);
    let mut g = Graph::new("rtl cnn");
    let x = input(&mut g, "x", &[4, 4, 2], modes(fx(8, 3), Rnd, Sat));
    let c1 = conv(&mut rng, &[3, 3], 2, 2, &[1, 1], &[1, 1], (&[1, 1], &[1, 1]), 1, acc);
    let c1 = add(&mut g, "conv1", Layer::Conv(c1), &[4, 4, 2], modes(fx(10, 4), Rnd, Sat), &[x]);
    let r =
        add(&mut g, "relu", Layer::Activation(hls_gen::ir::Activation::Relu), &[4, 4, 2], ufx(8, 3), &[c1]);
    let m = pool(PoolOp::Max, &[2, 2], &[2, 2], (&[0, 0], &[0, 0]), false);
    let m = add(&mut g, "max", Layer::Pool(m), &[2, 2, 2], ufx(8, 3), &[r]);
    let dw = conv(&mut rng, &[2, 2], 1, 4, &[1, 1], &[1, 1], (&[0, 0], &[1, 1]), 2, acc);
    let dw = add(&mut g, "depthwise", Layer::Conv(dw), &[2, 2, 4], fx(10, 4), &[m]);
    let a = pool(PoolOp::Average, &[2, 2], &[1, 1], (&[0, 0], &[1, 1]), false);
    let a = add(&mut g, "avg", Layer::Pool(a), &[2, 2, 4], modes(fx(9, 3), Rnd, Sat), &[dw]);
    let pad = Layer::Pad(Pad { begin: vec![1, -1], end: vec![0, 1] });
    let pad = add(&mut g, "pad", pad, &[3, 2, 4], modes(fx(9, 3), Rnd, Sat), &[a]);
    let up = Layer::UpSample(UpSample { factors: vec![1, 2] });
    let up = add(&mut g, "up", up, &[3, 4, 4], modes(fx(8, 2), Rnd, Sat), &[pad]);
    let t = Layer::Transpose(Transpose { perm: vec![1, 0, 2] });
    let t = add(&mut g, "swap", t, &[4, 3, 4], modes(fx(8, 2), Rnd, Sat), &[up]);
    let series = Layer::Reshape(Reshape::new(Shape::new([12, 4])));
    let series = add(&mut g, "series", series, &[12, 4], modes(fx(8, 2), Rnd, Sat), &[t]);
    let c2 = conv(&mut rng, &[3], 4, 3, &[2], &[2], (&[2], &[1]), 1, acc);
    let c2 = add(&mut g, "conv1d", Layer::Conv(c2), &[6, 3], fx(10, 4), &[series]);
    let gmp = Layer::Pool(Pool::global(PoolOp::Max, &[6]));
    let gmp = add(&mut g, "gmp", gmp, &[1, 3], fx(10, 4), &[c2]);
    let mut gap = Pool::global(PoolOp::Average, &[6]);
    gap.reciprocal = Some(Pool::default_reciprocal(6));
    let gap = add(&mut g, "gap", Layer::Pool(gap), &[1, 3], modes(fx(12, 5), Rnd, Sat), &[c2]);
    let flat = add(&mut g, "flat", Layer::Reshape(Reshape::new(Shape::new([3]))), &[3], fx(10, 4), &[gmp]);
    let d = Layer::Dense(Dense {
        weights: random_weights(&mut rng, &[3, 4], fx(6, 1), 0),
        bias: random_weights(&mut rng, &[4], fx(6, 2), 0),
        accum: Some(acc),
    });
    let d = add(&mut g, "logits", d, &[4], modes(fx(10, 4), Rnd, Sat), &[flat]);
    let sm = Softmax {
        exp_table: fill_table(
            Table::new(hls_gen::ir::TableFn::ExpNeg, modes(ufx(7, 3), Rnd, Sat), modes(ufx(10, 1), Rnd, Sat)),
            |d| (-d).exp(),
        ),
        inv_table: fill_table(
            Table::new(
                hls_gen::ir::TableFn::Reciprocal,
                modes(ufx(6, 2), Rnd, Sat),
                modes(ufx(10, 1), Rnd, Sat),
            ),
            |s| 1.0 / s,
        ),
    };
    let sm = add(&mut g, "probs", Layer::Softmax(sm), &[4], modes(ufx(12, 0), Rnd, Sat), &[d]);
    g.set_outputs(vec![sm, gap]);
    g
}
