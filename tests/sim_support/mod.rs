//! Helpers shared by the simulator tests and benchmark: a seeded generator, table filling (what
//! the `lut-tables` pass does, reimplemented here), and hand-built MLPs.

#![allow(dead_code)]

use hls_gen::fixed::{self, FixedType, OverflowMode, QuantMode};
use hls_gen::ir::{Activation, Dense, Graph, Input, Layer, NodeId, Reshape, Shape, Softmax, Table, Weights};

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (sum of uniforms).
    pub fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize].clone()
    }
}

/// The value of raw `raw` of `ty` (exact for types of at most 53 bits).
pub fn value(raw: i128, ty: &FixedType) -> f64 {
    fixed::to_f64(raw, ty.frac_bits())
}

/// `x` as a value of `ty`: rounded and saturated, infinities to the ends of the range.
pub fn quantize(x: f64, ty: &FixedType) -> f64 {
    let sat = ty.with_modes(QuantMode::Rnd, OverflowMode::Sat);
    let raw = if x.is_nan() {
        0
    } else if x == f64::INFINITY {
        ty.max_raw()
    } else if x == f64::NEG_INFINITY {
        ty.min_raw()
    } else {
        fixed::from_f64(x, &sat).map(|c| c.raw).unwrap_or(0)
    };
    value(raw, ty)
}

/// Fills a table: entry `k` is `f` at the index type's value for `k`, quantized to the table type.
pub fn fill_table(t: &mut Table, f: impl Fn(f64) -> f64) {
    let w = t.index_ty.width;
    let offset = if t.index_ty.signed { 1i128 << (w - 1) } else { 0 };
    t.values = (0..t.len() as i128).map(|k| quantize(f(value(k - offset, &t.index_ty)), &t.ty)).collect();
}

/// Fills every empty table of the graph with its function (sigmoid, tanh, `exp(-d)`, `1/s`).
pub fn fill_tables(g: &mut Graph) {
    for id in g.node_ids() {
        for (_, t) in g.node_mut(id).layer.tables_mut() {
            if t.values.is_empty() {
                let f = t.function;
                fill_table(t, |x| f.eval(x));
            }
        }
    }
}

/// Adds a node of type `ty` computing `layer` on `inputs`.
pub fn add(g: &mut Graph, name: impl Into<String>, layer: Layer, ty: FixedType, inputs: &[NodeId]) -> NodeId {
    let id = g.add(name, layer, inputs).expect("the layer fits its inputs");
    g.node_mut(id).ty = Some(ty);
    id
}

/// Random weights of `ty`, normal with standard deviation `scale`, quantized.
pub fn weights(rng: &mut Rng, shape: &[usize], ty: FixedType, scale: f64) -> Weights {
    let n: usize = shape.iter().product();
    let mut w = Weights::new(
        Shape::new(shape.to_vec()),
        (0..n).map(|_| quantize(rng.normal() * scale, &ty)).collect(),
    );
    w.ty = Some(ty);
    w
}

/// The exact accumulator type of `n_in` products of `x` and `w` plus a bias of type `w`.
pub fn exact_accum(x: &FixedType, w: &FixedType, n_in: usize) -> FixedType {
    let p = x.exact_mul_type(w);
    let growth = usize::BITS - n_in.leading_zeros();
    FixedType::new(p.width + growth, p.integer + growth as i32, true)
}

/// A `sizes[0] - ... - sizes[last]` MLP: Dense+ReLU layers, then Dense and Softmax, everything of
/// type `ty`, exact accumulators, random seeded weights, tables filled.
pub fn mlp(sizes: &[usize], ty: FixedType, seed: u64) -> Graph {
    let mut rng = Rng(seed);
    let mut g = Graph::new("mlp");
    let mut prev = add(&mut g, "input", Layer::Input(Input::new(Shape::new([sizes[0]]))), ty, &[]);
    let layers = sizes.len() - 1;
    for (k, pair) in sizes.windows(2).enumerate() {
        let (n_in, n_out) = (pair[0], pair[1]);
        let dense = Dense {
            weights: weights(&mut rng, &[n_in, n_out], ty, 1.0 / (n_in as f64).sqrt()),
            bias: weights(&mut rng, &[n_out], ty, 0.1),
            accum: Some(exact_accum(&ty, &ty, n_in)),
        };
        prev = add(&mut g, format!("dense_{k}"), Layer::Dense(dense), ty, &[prev]);
        let layer = if k + 1 < layers {
            Layer::Activation(Activation::Relu)
        } else {
            Layer::Softmax(Softmax::default_for(n_out))
        };
        prev = add(&mut g, format!("act_{k}"), layer, ty, &[prev]);
    }
    g.set_outputs(vec![prev]);
    fill_tables(&mut g);
    g
}

/// A jet-image CNN on a `40 x 40 x 1` input, every value of `ty` and every accumulator exact:
/// three `3 x 3` convolutions (8, 16 and 16 filters, ReLU) each followed by a `2 x 2` max
/// pooling, a flatten, then Dense 32 with ReLU, Dense 5 and softmax.
pub fn jet_cnn(ty: FixedType, seed: u64) -> Graph {
    use hls_gen::ir::{Conv, Pool, PoolOp, Reshape};
    let mut rng = Rng(seed);
    let mut g = Graph::new("jet_cnn");
    let mut prev = add(&mut g, "input", Layer::Input(Input::new(Shape::new([40, 40, 1]))), ty, &[]);
    let mut channels = 1;
    for (k, filters) in [8usize, 16, 16].into_iter().enumerate() {
        let mut conv = Conv {
            weights: weights(&mut rng, &[3, 3, channels, filters], ty, 1.0 / (9.0 * channels as f64).sqrt()),
            bias: weights(&mut rng, &[filters], ty, 0.1),
            strides: vec![1, 1],
            dilations: vec![1, 1],
            pads_begin: vec![0, 0],
            pads_end: vec![0, 0],
            groups: 1,
            accum: None,
        };
        conv.accum = Some(conv.exact_accum(&ty).expect("typed weights"));
        prev = add(&mut g, format!("conv_{k}"), Layer::Conv(conv), ty, &[prev]);
        prev = add(&mut g, format!("relu_{k}"), Layer::Activation(Activation::Relu), ty, &[prev]);
        let mut pool = Pool::global(PoolOp::Max, &[2, 2]);
        pool.strides = vec![2, 2];
        prev = add(&mut g, format!("pool_{k}"), Layer::Pool(pool), ty, &[prev]);
        channels = filters;
    }
    let flat = g.node(prev).shape.elements();
    prev = add(&mut g, "flatten", Layer::Reshape(Reshape { shape: Shape::new([flat]) }), ty, &[prev]);
    for (k, (n_in, n_out)) in [(flat, 32), (32, 5)].into_iter().enumerate() {
        let dense = Dense {
            weights: weights(&mut rng, &[n_in, n_out], ty, 1.0 / (n_in as f64).sqrt()),
            bias: weights(&mut rng, &[n_out], ty, 0.1),
            accum: Some(exact_accum(&ty, &ty, n_in)),
        };
        prev = add(&mut g, format!("dense_{k}"), Layer::Dense(dense), ty, &[prev]);
        let layer = if k == 0 {
            Layer::Activation(Activation::Relu)
        } else {
            Layer::Softmax(Softmax::default_for(n_out))
        };
        prev = add(&mut g, format!("dense_act_{k}"), layer, ty, &[prev]);
    }
    g.set_outputs(vec![prev]);
    fill_tables(&mut g);
    g
}

/// Inputs for `n` samples of `per_sample` values, normal with standard deviation `scale`.
pub fn inputs(rng: &mut Rng, n: usize, per_sample: usize, scale: f64) -> Vec<f64> {
    (0..n * per_sample).map(|_| rng.normal() * scale).collect()
}

/// A random type: mostly narrow (so that rounding, saturation and wrapping all happen), any
/// signedness, any quantization and overflow mode.
pub fn random_type(rng: &mut Rng, max_width: u32) -> FixedType {
    let width =
        if rng.chance(0.2) { 1 + rng.below(4) as u32 } else { 2 + rng.below(max_width as u64 - 1) as u32 };
    let integer = rng.range(-3, width as i64 + 3) as i32;
    FixedType::new(width, integer, rng.chance(0.7))
        .with_modes(rng.pick(&QuantMode::ALL), rng.pick(&OverflowMode::ALL))
}

/// A random constant of `ty`; each value is zero with probability `zeros`.
pub fn random_const(rng: &mut Rng, shape: &[usize], ty: FixedType, zeros: f64) -> Weights {
    let n: usize = shape.iter().product();
    let (lo, hi) = (ty.min_raw() as i64, ty.max_raw() as i64);
    let values =
        (0..n).map(|_| if rng.chance(zeros) { 0.0 } else { value(rng.range(lo, hi) as i128, &ty) }).collect();
    let mut w = Weights::new(Shape::new(shape.to_vec()), values);
    w.ty = Some(ty);
    w
}

/// A random constant of a random type of at most `max_width` bits.
pub fn rconst(rng: &mut Rng, shape: &[usize], max_width: u32, zeros: f64) -> Weights {
    let ty = random_type(rng, max_width);
    random_const(rng, shape, ty, zeros)
}

/// A table with random types and entries (or the function's default types when `default`).
pub fn random_table(rng: &mut Rng, default: Table) -> Table {
    if rng.chance(0.5) {
        return default;
    }
    let mut index_ty = random_type(rng, 10);
    index_ty.width = index_ty.width.min(10);
    let ty = random_type(rng, 20);
    let mut t = Table::new(default.function, index_ty, ty);
    let (lo, hi) = (ty.min_raw() as i64, ty.max_raw() as i64);
    t.values = (0..t.len()).map(|_| value(rng.range(lo, hi) as i128, &ty)).collect();
    t
}

/// Whether the simulator takes `g`. The one refusal random graphs meet is the limit on exact
/// intermediates (a product of several wide operands beyond 126 bits), and it must say so.
pub fn within_simulator_limits(g: &Graph) -> bool {
    let lowered = hls_gen::ir::LoweredGraph::new(g.clone()).expect("a valid graph");
    match hls_gen::sim::Simulator::new(&lowered) {
        Ok(_) => true,
        Err(e) => {
            assert!(e.to_string().contains("wider than 126 bits"), "{e}");
            false
        }
    }
}

/// A random valid graph over every layer kind: a chain from one input (a vector, a 1-D signal
/// `[width, channels]` or an image `[height, width, channels]`) with side branches (elementwise
/// merges of two to four tensors of the same shape, which makes skip connections, and
/// concatenations with earlier tensors), sometimes a second model input, and one to three
/// outputs. Convolutions (1-D and 2-D, random kernels, strides, dilations, padding and groups,
/// depthwise included), pooling (max, average with and without `count_pad`, global), padding and
/// cropping, upsampling and transposition act on the spatial tensors.
pub fn random_graph(rng: &mut Rng, max_width: u32) -> Graph {
    use hls_gen::ir::{BatchNorm, BinaryOp, Concatenate, Elementwise};
    let mut g = Graph::new("random");
    let input = |rng: &mut Rng| {
        let dims = match rng.below(4) {
            0 | 1 => vec![rng.range(1, 6) as usize],
            2 => vec![rng.range(2, 7) as usize, rng.range(1, 3) as usize],
            _ => vec![rng.range(2, 5) as usize, rng.range(2, 5) as usize, rng.range(1, 3) as usize],
        };
        Layer::Input(Input::new(Shape::new(dims)))
    };
    let layer = input(rng);
    let ty = random_type(rng, max_width);
    let mut cur = add(&mut g, "input", layer, ty, &[]);
    let mut all: Vec<NodeId> = vec![cur];
    let second_input = rng.chance(0.3).then(|| {
        let layer = input(rng);
        let ty = random_type(rng, max_width);
        add(&mut g, "input_b", layer, ty, &[])
    });
    all.extend(second_input);
    let steps = rng.range(2, 7);
    for k in 0..steps {
        let shape = g.node(cur).shape.clone();
        let n = shape.elements();
        let c = shape.channels();
        let x_ty = g.node(cur).ty.unwrap();
        let mut others: Vec<NodeId> = Vec::new();
        let spatial = shape.rank() >= 2 && rng.chance(0.5);
        let choice = rng.below(13);
        let layer = match choice {
            _ if spatial => spatial_layer(rng, &shape, &x_ty),
            0 | 1 if shape.rank() == 1 => {
                let n_out = rng.range(1, 7) as usize;
                let w_ty = random_type(rng, 16);
                let zeros = rng.pick(&[0.0, 0.5, 0.95]);
                let exact = exact_accum(&x_ty, &w_ty, n);
                let accum = if rng.chance(0.5) && exact.width <= 64 {
                    exact.with_modes(rng.pick(&QuantMode::ALL), rng.pick(&OverflowMode::ALL))
                } else {
                    random_type(rng, 24)
                };
                let dense = Dense {
                    weights: random_const(rng, &[n, n_out], w_ty, zeros),
                    bias: rconst(rng, &[n_out], 16, 0.3),
                    accum: Some(accum),
                };
                Layer::Dense(dense)
            }
            2 => {
                let dims: Vec<usize> = if rng.chance(0.5) { vec![c] } else { vec![] };
                let bn = BatchNorm { scale: rconst(rng, &dims, 12, 0.1), bias: rconst(rng, &dims, 12, 0.1) };
                Layer::BatchNorm(bn)
            }
            3 | 4 => Layer::Activation(random_activation(rng, &shape)),
            5 => {
                let d = Softmax::default_for(c);
                let s = Softmax {
                    exp_table: random_table(rng, d.exp_table),
                    inv_table: random_table(rng, d.inv_table),
                };
                Layer::Softmax(s)
            }
            6 | 7 => {
                let op =
                    rng.pick(&[BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Max, BinaryOp::Min]);
                let same: Vec<NodeId> = all.iter().copied().filter(|&i| g.node(i).shape == shape).collect();
                let constant = if rng.chance(0.6) {
                    let partners = if op == BinaryOp::Sub { 1 } else { rng.range(1, 3) };
                    for _ in 0..partners {
                        others.push(rng.pick(&same));
                    }
                    None
                } else {
                    let mut options = vec![vec![], vec![c], shape.dims().to_vec()];
                    if shape.rank() == 2 {
                        options.push(vec![shape.dims()[0], 1]);
                    }
                    let dims = rng.pick(&options);
                    Some(rconst(rng, &dims, 12, 0.1))
                };
                Layer::Elementwise(Elementwise { op, constant })
            }
            8 => {
                let dims = if shape.rank() > 1 {
                    vec![n]
                } else if let Some(a) = (2..n).find(|a| n.is_multiple_of(*a)) {
                    vec![a, n / a]
                } else {
                    rng.pick(&[vec![n, 1], vec![1, n]])
                };
                Layer::Reshape(Reshape::new(Shape::new(dims)))
            }
            9 => {
                let axis = rng.below(shape.rank() as u64) as usize;
                let fits = |s: &Shape| {
                    s.rank() == shape.rank()
                        && s.dims()
                            .iter()
                            .zip(shape.dims())
                            .enumerate()
                            .all(|(a, (x, y))| a == axis || x == y)
                };
                let partners: Vec<NodeId> = all.iter().copied().filter(|&i| fits(&g.node(i).shape)).collect();
                for _ in 0..rng.range(1, 2) {
                    others.push(rng.pick(&partners));
                }
                Layer::Concatenate(Concatenate { axis })
            }
            10 => Layer::Transpose(random_transpose(rng, shape.rank())),
            11 => Layer::Reduce(random_reduce(rng, &shape)),
            _ => Layer::Quantize(hls_gen::ir::Quantize),
        };
        let keep = matches!(
            layer,
            Layer::Reshape(_)
                | Layer::Quantize(_)
                | Layer::Concatenate(_)
                | Layer::Pad(_)
                | Layer::UpSample(_)
                | Layer::Transpose(_)
                | Layer::Pool(_)
        ) && rng.chance(0.3);
        let from_model = matches!(layer, Layer::Quantize(_));
        let name = format!("{}_{k}", layer.kind());
        let ty = if keep { x_ty } else { random_type(rng, max_width) };
        let mut inputs = vec![cur];
        inputs.extend(others);
        cur = add(&mut g, name, layer, ty, &inputs);
        g.node_mut(cur).ty_from_model = from_model;
        all.push(cur);
    }
    let mut outputs = vec![cur];
    for _ in 0..rng.below(3) {
        let o = rng.pick(&all);
        if !outputs.contains(&o) {
            outputs.push(o);
        }
    }
    if let Some(b) = second_input {
        if g.users_of(b).is_empty() && !outputs.contains(&b) {
            outputs.push(b);
        }
    }
    g.set_outputs(outputs);
    fill_tables(&mut g);
    g
}

/// A random reduction: any op over a non-empty set of axes, `keepdims` or not, the mean's
/// reciprocal of a random or the default type, the L2 table random or default.
pub fn random_reduce(rng: &mut Rng, shape: &Shape) -> hls_gen::ir::Reduce {
    use hls_gen::ir::{Reduce, ReduceOp};
    let op = rng.pick(&[
        ReduceOp::Sum,
        ReduceOp::Mean,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::SumSquare,
        ReduceOp::L1,
        ReduceOp::L2,
    ]);
    let mut axes: Vec<usize> = (0..shape.rank()).filter(|_| rng.chance(0.5)).collect();
    if axes.is_empty() {
        axes.push(rng.below(shape.rank() as u64) as usize);
    }
    let mut r = Reduce::new(op, axes, rng.chance(0.5), shape);
    if op == ReduceOp::Mean {
        r.reciprocal = Some(if rng.chance(0.5) {
            Reduce::default_reciprocal(r.count)
        } else {
            // Reciprocals below 1 need no negative fractional bits.
            let mut t = random_type(rng, 16);
            t.integer = t.integer.min(t.width as i32);
            t
        });
    }
    if let Some(t) = r.table.take() {
        r.table = Some(random_table(rng, t));
    }
    r
}

/// A random activation of every variant, constants of random types, tables random or default.
pub fn random_activation(rng: &mut Rng, shape: &Shape) -> Activation {
    let c = shape.channels();
    match rng.below(14) {
        0 => Activation::Linear,
        1 => Activation::Relu,
        2 => Activation::LeakyRelu { alpha: rconst(rng, &[], 10, 0.1) },
        3 => {
            let dims = rng.pick(&[vec![], vec![c], shape.dims().to_vec()]);
            Activation::PRelu { alpha: rconst(rng, &dims, 10, 0.1) }
        }
        4 => Activation::HardSigmoid { alpha: rconst(rng, &[], 10, 0.0), beta: rconst(rng, &[], 10, 0.1) },
        5 => Activation::Clip {
            min: rng.chance(0.7).then(|| rconst(rng, &[], 10, 0.1)),
            max: rng.chance(0.7).then(|| rconst(rng, &[], 10, 0.1)),
        },
        6 => Activation::Sigmoid(random_table(rng, Table::sigmoid_default())),
        7 => Activation::Tanh(random_table(rng, Table::tanh_default())),
        8 => Activation::Softplus(random_table(rng, Table::softplus_default())),
        9 => Activation::Softsign(random_table(rng, Table::softsign_default())),
        10 => {
            let alpha = rng.pick(&[1.0, 0.5, 2.5]);
            Activation::Elu(random_table(rng, Table::elu_default(alpha)))
        }
        11 => Activation::Selu {
            scale: rconst(rng, &[], 12, 0.0),
            table: random_table(rng, Table::selu_default()),
        },
        12 => Activation::ThresholdedRelu { theta: rconst(rng, &[], 10, 0.2) },
        _ => Activation::HardSwish { alpha: rconst(rng, &[], 10, 0.0), beta: rconst(rng, &[], 10, 0.1) },
    }
}

/// A random permutation of `rank` axes.
pub fn random_transpose(rng: &mut Rng, rank: usize) -> hls_gen::ir::Transpose {
    let mut perm: Vec<usize> = (0..rank).collect();
    for i in (1..rank).rev() {
        perm.swap(i, rng.below(i as u64 + 1) as usize);
    }
    hls_gen::ir::Transpose { perm }
}

/// A random layer over the spatial axes of a channels-last tensor of `shape` (rank 2 or 3).
pub fn spatial_layer(rng: &mut Rng, shape: &Shape, x_ty: &FixedType) -> Layer {
    use hls_gen::ir::{Conv, Pad, Pool, PoolOp, UpSample};
    let s = shape.rank() - 1;
    let dims = &shape.dims()[..s];
    let c = shape.channels();
    let positions: usize = dims.iter().product();
    match rng.below(9) {
        0..=2 => {
            let mut kernel = Vec::new();
            let (mut strides, mut dilations, mut pads_begin, mut pads_end) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for &i in dims {
                let (pb, pe) =
                    if positions > 40 { (0, 0) } else { (rng.below(3) as usize, rng.below(3) as usize) };
                let padded = i + pb + pe;
                let mut k = rng.range(1, 3) as usize;
                let mut d = rng.range(1, 2) as usize;
                while d * (k - 1) + 1 > padded {
                    if d > 1 {
                        d -= 1;
                    } else {
                        k -= 1;
                    }
                }
                kernel.push(k);
                dilations.push(d);
                strides.push(rng.range(1, 2) as usize);
                pads_begin.push(pb);
                pads_end.push(pe);
            }
            let divisors: Vec<usize> = (1..=c).filter(|g| c.is_multiple_of(*g)).collect();
            let groups = match rng.below(3) {
                0 => c,
                1 => rng.pick(&divisors),
                _ => 1,
            };
            let filters = groups * rng.range(1, 3) as usize;
            let mut wdims = kernel.clone();
            wdims.extend([c / groups, filters]);
            let w_ty = random_type(rng, 14);
            let zeros = rng.pick(&[0.0, 0.3, 0.9]);
            let mut conv = Conv {
                weights: random_const(rng, &wdims, w_ty, zeros),
                bias: rconst(rng, &[filters], 14, 0.3),
                strides,
                dilations,
                pads_begin,
                pads_end,
                groups,
                accum: None,
            };
            let exact = conv.exact_accum(x_ty).ok().filter(|t| t.width <= 64);
            conv.accum = Some(match exact {
                Some(t) if rng.chance(0.5) => {
                    if rng.chance(0.5) {
                        t
                    } else {
                        t.with_modes(rng.pick(&QuantMode::ALL), rng.pick(&OverflowMode::ALL))
                    }
                }
                _ => random_type(rng, 24),
            });
            Layer::Conv(conv)
        }
        3 | 4 => {
            let op = rng.pick(&[PoolOp::Max, PoolOp::Average]);
            let mut pool = if rng.chance(0.25) {
                Pool::global(op, dims)
            } else {
                let mut p = Pool::global(op, dims);
                for (d, &i) in dims.iter().enumerate() {
                    let k = rng.range(1, 3.min(i as i64)) as usize;
                    p.kernel[d] = k;
                    p.strides[d] = rng.range(1, 2) as usize;
                    p.pads_begin[d] = rng.below(k as u64) as usize;
                    p.pads_end[d] = rng.below(k as u64) as usize;
                }
                p
            };
            pool.count_pad = rng.chance(0.5);
            if op == PoolOp::Average {
                pool.reciprocal = Some(if rng.chance(0.5) {
                    Pool::default_reciprocal(pool.window())
                } else {
                    // Reciprocals below 1 need no negative fractional bits.
                    let mut r = random_type(rng, 16);
                    r.integer = r.integer.min(r.width as i32);
                    r
                });
            }
            Layer::Pool(pool)
        }
        5 | 6 => {
            let grow = positions <= 40;
            let (mut begin, mut end) = (Vec::new(), Vec::new());
            for &i in dims {
                let i = i as i64;
                loop {
                    let lo = if grow { -2 } else { -1 };
                    let (b, e) = (rng.range(lo, 2), rng.range(lo, 2));
                    if !grow && (b > 0 || e > 0) && b + e > 0 {
                        continue;
                    }
                    if i + b + e >= 1 && b > -i && e > -i {
                        begin.push(b);
                        end.push(e);
                        break;
                    }
                }
            }
            Layer::Pad(Pad { begin, end })
        }
        7 if positions <= 30 => {
            let factors =
                dims.iter().map(|_| rng.range(1, if positions <= 12 { 3 } else { 2 }) as usize).collect();
            Layer::UpSample(UpSample { factors })
        }
        _ => Layer::Transpose(random_transpose(rng, shape.rank())),
    }
}

/// Rows of `n` samples for every model input of `g` (each input's values from
/// [`random_inputs`] for its type, in input order).
pub fn random_rows(rng: &mut Rng, g: &Graph, n: usize) -> Vec<f64> {
    let parts: Vec<(usize, Vec<f64>)> = g
        .inputs()
        .iter()
        .map(|&i| {
            let node = g.node(i);
            let e = node.shape.elements();
            (e, random_inputs(rng, &node.ty.unwrap(), n * e))
        })
        .collect();
    let mut rows = Vec::new();
    for s in 0..n {
        for (e, values) in &parts {
            rows.extend_from_slice(&values[s * e..(s + 1) * e]);
        }
    }
    rows
}

/// Inputs that exercise a type: in range, beyond it, exactly on rounding ties, zeros.
pub fn random_inputs(rng: &mut Rng, ty: &FixedType, n: usize) -> Vec<f64> {
    let lsb = value(1, ty);
    let top = value(ty.max_raw(), ty).max(lsb);
    (0..n)
        .map(|_| match rng.below(6) {
            0 => 0.0,
            1 => (rng.range(-(1 << 12), 1 << 12) as f64 + 0.5) * lsb,
            2 => rng.normal() * top * 4.0,
            3 => (rng.unit() * 2.0 - 1.0) * top * 1.5,
            _ => rng.normal() * top * 0.5,
        })
        .collect()
}
