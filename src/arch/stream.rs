//! The Vitis HLS `io_stream` design of a lowered graph, decided once: the HLS emitter builds it,
//! the estimator costs it and [`super::dataflow`] times it.
//!
//! Every tensor `[h, w, c]` (`[w, c]`, or a flat `[n]` as one pixel of `n`) travels as a stream of
//! pixels in row-major order, one pixel (all channels) per transfer ([`Tensor`]). Every layer is a
//! dataflow process ([`Form`]):
//!
//! * [`Form::Map`]: layers that compute each pixel from the same pixel of their inputs
//!   (activations, batch norm, quantizers, element-wise merges of equal shapes, softmax and
//!   concatenation over channels, dense layers on a flat tensor, reshapes that keep the pixels):
//!   a loop over the pixels, `PIPELINE II=`[`StreamLayer::ii`], running the io_parallel kernel of
//!   the layer's **pixel node** ([`StreamLayer::node`]: the layer with its tensors cut to one
//!   pixel, per-channel constants cut to one pixel) on each.
//! * [`Form::Window`]: convolution and pooling through a line buffer, one padded input position per
//!   iteration (`conv_stream.h`, `pool_stream.h`); padding is never materialized.
//! * [`Form::Pad`], [`Form::UpSample`]: spatial padding/cropping and nearest upsampling, one
//!   position per iteration (`pad_stream.h`).
//! * [`Form::Frame`]: every other layer (transposes, reshapes that regroup pixels, merges of
//!   different shapes, constants that vary over positions): reads whole input tensors into
//!   registers, runs the io_parallel kernel of the whole layer, writes the output pixel by pixel.
//!
//! A tensor read more than once (or an input also output) passes a split process that copies
//! each pixel into one stream per read, so every stream has one writer and one reader (UG1448
//! 214-169 "Dataflow Canonical Rules"). [`Design::channels`] lists every stream; those between two
//! processes are FIFOs whose depths the dataflow model sets, the others are the top's ports.
//!
//! The cycle rules ([`steps`]) are one table per form: which iteration reads which port and
//! writes which, and its interval. They are what the library's loops do, so the RTL backend can
//! be built to the same rules. [`design_for`] decides the same network for either backend
//! ([`Target`]); they differ only in which reuse factors a layer's kernel can build.

use std::collections::BTreeMap;

use super::dataflow::{self, Step};
use super::hls::{layer_design, reads, LayerDesign, Read};
use super::ArchError;
use crate::ir::{Layer, LoweredGraph, Node, NodeId, Shape};

/// How a tensor streams: `transfers` pixels of `width` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tensor {
    pub transfers: usize,
    pub width: usize,
}

impl Tensor {
    pub fn of(shape: &Shape) -> Tensor {
        let width = if shape.rank() <= 1 { shape.elements() } else { shape.channels() };
        Tensor { transfers: shape.elements() / width.max(1), width }
    }
}

/// A 2-D grid geometry (a 1-D tensor is one row): the input's extent, its padding, the window,
/// and the output's extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub in_height: usize,
    pub in_width: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub out_height: usize,
    pub out_width: usize,
}

impl Window {
    /// Padded rows and columns: the iterations of the line-buffer loop.
    pub fn padded(&self) -> (usize, usize) {
        (self.pad_top + self.in_height + self.pad_bottom, self.pad_left + self.in_width + self.pad_right)
    }

    /// Rows and columns the window spans (dilation included).
    pub fn extent(&self) -> (usize, usize) {
        (self.dilation_h * (self.kernel_h - 1) + 1, self.dilation_w * (self.kernel_w - 1) + 1)
    }

    /// Distinct patterns of taps inside the input over the output positions: the datapaths a
    /// pooling window builds (`backend::rtl::stream`), the rows' patterns times the columns'.
    pub fn tap_patterns(&self) -> usize {
        let distinct = |outs: usize, stride: usize, kernel: usize, dil: usize, pad: usize, len: usize| {
            let masks: std::collections::BTreeSet<u64> = (0..outs)
                .map(|o| {
                    (0..kernel)
                        .filter(|&a| (pad..pad + len).contains(&(o * stride + a * dil)))
                        .fold(0u64, |m, a| m | (1 << a.min(63)))
                })
                .collect();
            masks.len().max(1)
        };
        distinct(self.out_height, self.stride_h, self.kernel_h, self.dilation_h, self.pad_top, self.in_height)
            * distinct(
                self.out_width,
                self.stride_w,
                self.kernel_w,
                self.dilation_w,
                self.pad_left,
                self.in_width,
            )
    }

    /// Whether padded position `(i, j)` holds an input pixel.
    fn inside(&self, i: usize, j: usize) -> bool {
        (self.pad_top..self.pad_top + self.in_height).contains(&i)
            && (self.pad_left..self.pad_left + self.in_width).contains(&j)
    }

    /// Whether the window completed at padded position `(i, j)` is an output position.
    fn output_at(&self, i: usize, j: usize) -> bool {
        let (eh, ew) = self.extent();
        let (Some(top), Some(left)) = ((i + 1).checked_sub(eh), (j + 1).checked_sub(ew)) else {
            return false;
        };
        top % self.stride_h == 0
            && left % self.stride_w == 0
            && top / self.stride_h < self.out_height
            && left / self.stride_w < self.out_width
    }
}

/// Padding or cropping of a 2-D grid: output `(r, c)` is input `(r - pad_top, c - pad_left)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PadGrid {
    pub in_height: usize,
    pub in_width: usize,
    pub out_height: usize,
    pub out_width: usize,
    pub pad_top: i64,
    pub pad_left: i64,
}

impl PadGrid {
    /// The iterations' rows and columns in output coordinates: the union of the output and the
    /// shifted input.
    pub fn rows(&self) -> (i64, i64) {
        (self.pad_top.min(0), (self.out_height as i64).max(self.in_height as i64 + self.pad_top))
    }

    pub fn cols(&self) -> (i64, i64) {
        (self.pad_left.min(0), (self.out_width as i64).max(self.in_width as i64 + self.pad_left))
    }
}

/// Nearest upsampling of a 2-D grid by integer factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpGrid {
    pub in_height: usize,
    pub in_width: usize,
    pub factor_h: usize,
    pub factor_w: usize,
}

/// How a layer's process runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    Map,
    Window(Window),
    Pad(PadGrid),
    UpSample(UpGrid),
    Frame,
}

/// One layer's process.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamLayer {
    pub form: Form,
    /// The node the process's kernel computes: the pixel node for [`Form::Map`], the layer itself
    /// otherwise.
    pub node: Node,
    /// Shapes of the kernel's inputs, by port (one pixel each for [`Form::Map`]).
    pub input_shapes: Vec<Shape>,
    /// The io_parallel design of [`StreamLayer::node`] (the window's dot product or reduction is
    /// unrolled).
    pub design: LayerDesign,
    /// Cycles per iteration of the process's loop: the reuse factor of a convolution or a dense
    /// layer, 1 otherwise.
    pub ii: usize,
}

/// The backend a design is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Vitis HLS: a layer at reuse factor `R > 1` builds only when its accumulation in `R` steps
    /// keeps the contract's bits ([`super::hls::layer_design`] says why not otherwise).
    Vitis,
    /// The RTL backend, which checks a layer's accumulator itself (at every reuse factor): a
    /// layer's [`StreamLayer::design`] is its kernel's at reuse factor 1, and only
    /// [`StreamLayer::ii`] carries the reuse factor.
    Rtl,
}

/// Who writes a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Top input port `k`.
    Input(usize),
    Layer(NodeId),
    /// Copy `copy` of the split process of `tensor`.
    Split {
        tensor: NodeId,
        copy: usize,
    },
}

/// Who reads a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sink {
    /// Top output port `k`.
    Output(usize),
    Layer {
        node: NodeId,
        port: usize,
    },
    /// The split process of the tensor.
    Split(NodeId),
}

/// One stream of the design: tensor `tensor` from `source` to `sink`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    pub tensor: NodeId,
    pub source: Source,
    pub sink: Sink,
}

impl Channel {
    /// A top-level port rather than a FIFO between two processes.
    pub fn is_port(&self) -> bool {
        matches!(self.source, Source::Input(_)) || matches!(self.sink, Sink::Output(_))
    }
}

/// The whole io_stream design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub layers: BTreeMap<NodeId, StreamLayer>,
    /// Per tensor (every node), how it streams.
    pub tensors: BTreeMap<NodeId, Tensor>,
    /// Tensors copied by a split process, with their number of copies.
    pub splits: BTreeMap<NodeId, usize>,
    /// Every stream: per node in topological order, the streams it writes.
    pub channels: Vec<Channel>,
}

fn unsupported(what: String) -> ArchError {
    ArchError::Unsupported { backend: "Vitis HLS io_stream", what }
}

/// The 2-D grid of a channels-last shape with `spatial` axes: `(height, width)`.
fn grid(shape: &Shape, spatial: usize) -> (usize, usize) {
    match (spatial, shape.dims()) {
        (1, [w, _]) => (1, *w),
        (2, [h, w, _]) => (*h, *w),
        _ => (1, shape.elements() / shape.channels().max(1)),
    }
}

/// A constant that varies only along the channels of `target`, as a `[channels]` constant.
fn per_channel(w: &crate::ir::Weights, target: &Shape) -> Option<crate::ir::Weights> {
    let c = target.channels().max(1);
    let index = |i: usize| w.shape.broadcast_index(target, i);
    if !(0..target.elements()).all(|i| index(i) == index(i % c)) {
        return None;
    }
    let values = (0..c).map(|i| w.values[index(i)]).collect();
    Some(crate::ir::Weights { shape: Shape::new([c]), values, ty: w.ty })
}

/// The pixel node of a per-pixel layer `node` with input shapes `inputs`, or `None` when the layer
/// does not compute pixel by pixel.
fn pixel_node(node: &Node, inputs: &[&Shape]) -> Option<Node> {
    let out = Tensor::of(&node.shape);
    if inputs.iter().any(|s| Tensor::of(s).transfers != out.transfers) {
        return None;
    }
    let mut pixel = node.clone();
    pixel.shape = Shape::new([out.width]);
    match &mut pixel.layer {
        Layer::Activation(_) | Layer::BatchNorm(_) | Layer::Elementwise(_) => {
            if inputs.iter().any(|s| *s != &node.shape) {
                return None;
            }
            for (_, w) in pixel.layer.constants_mut() {
                if w.values.len() > 1 {
                    *w = per_channel(w, &node.shape)?;
                }
            }
        }
        Layer::Quantize(_) | Layer::Softmax(_) | Layer::Dense(_) => {}
        Layer::Reduce(r) => {
            // Over the channels only: each pixel reduces to one pixel.
            if r.axes != [node.shape.rank().max(inputs[0].rank()) - 1] {
                return None;
            }
            r.axes = vec![0];
        }
        Layer::Concatenate(c) => {
            if c.axis + 1 != node.shape.rank() {
                return None;
            }
            c.axis = 0;
        }
        Layer::Reshape(_) => {
            if Tensor::of(inputs[0]) != out {
                return None;
            }
        }
        Layer::Input(_)
        | Layer::Conv(_)
        | Layer::Pool(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => return None,
    }
    Some(pixel)
}

fn window_of(
    name: &str,
    x: &Shape,
    y: &Shape,
    kernel: &[usize],
    strides: &[usize],
    dilations: &[usize],
    pads: (&[usize], &[usize]),
) -> Result<Window, ArchError> {
    let s = kernel.len();
    if !(1..=2).contains(&s) {
        return Err(unsupported(format!(
            "layer '{name}': {s}-D windows do not stream (1-D and 2-D do; use io_parallel)"
        )));
    }
    let pick = |v: &[usize], one: usize| if s == 1 { (one, v[0]) } else { (v[0], v[1]) };
    let (in_height, in_width) = grid(x, s);
    let (out_height, out_width) = grid(y, s);
    let (kernel_h, kernel_w) = pick(kernel, 1);
    let (stride_h, stride_w) = pick(strides, 1);
    let (dilation_h, dilation_w) = pick(dilations, 1);
    let (pad_top, pad_left) = pick(pads.0, 0);
    let (pad_bottom, pad_right) = pick(pads.1, 0);
    Ok(Window {
        in_height,
        in_width,
        pad_top,
        pad_bottom,
        pad_left,
        pad_right,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        out_height,
        out_width,
    })
}

/// The process of layer `node` (inputs `inputs`) for `target`.
fn layer(
    node: &Node,
    inputs: &[&Node],
    bad: &mut Vec<String>,
    target: Target,
) -> Result<StreamLayer, ArchError> {
    let shapes: Vec<&Shape> = inputs.iter().map(|n| &n.shape).collect();
    let x_ty = inputs.first().map(|n| n.out_ty()).transpose()?;
    let kernel = |n: &Node, bad: &mut Vec<String>| match target {
        Target::Vitis => layer_design(n, x_ty, bad),
        Target::Rtl => {
            let mut one = n.clone();
            one.reuse_factor = 1;
            layer_design(&one, x_ty, bad)
        }
    };
    let whole = |form: Form, bad: &mut Vec<String>| -> Result<StreamLayer, ArchError> {
        // A window's dot product or reduction is unrolled whatever its reuse factor (the loop's
        // II shares its operators), so its accumulation order is the contract's.
        let design = match form {
            Form::Window(_) => LayerDesign { kernel: super::hls::Kernel::Unrolled, roms: Vec::new() },
            _ => kernel(node, bad)?,
        };
        let ii = match form {
            Form::Window(_) if matches!(node.layer, Layer::Conv(_)) => node.reuse_factor.max(1),
            _ => 1,
        };
        let input_shapes = shapes.iter().map(|s| (*s).clone()).collect();
        Ok(StreamLayer { form, node: node.clone(), input_shapes, design, ii })
    };
    let x = shapes.first().copied();
    match (&node.layer, x) {
        (Layer::Conv(c), Some(x)) => {
            let pads = (&c.pads_begin[..], &c.pads_end[..]);
            let w = window_of(&node.name, x, &node.shape, c.kernel(), &c.strides, &c.dilations, pads)?;
            whole(Form::Window(w), bad)
        }
        (Layer::Pool(p), Some(x)) => {
            let ones = vec![1; p.spatial()];
            let pads = (&p.pads_begin[..], &p.pads_end[..]);
            let w = window_of(&node.name, x, &node.shape, &p.kernel, &p.strides, &ones, pads)?;
            whole(Form::Window(w), bad)
        }
        (Layer::Pad(p), Some(x)) if (1..=2).contains(&p.begin.len()) => {
            let s = p.begin.len();
            let (in_height, in_width) = grid(x, s);
            let (out_height, out_width) = grid(&node.shape, s);
            let (pad_top, pad_left) = if s == 1 { (0, p.begin[0]) } else { (p.begin[0], p.begin[1]) };
            let g = PadGrid { in_height, in_width, out_height, out_width, pad_top, pad_left };
            whole(Form::Pad(g), bad)
        }
        (Layer::UpSample(u), Some(x)) if (1..=2).contains(&u.factors.len()) => {
            let s = u.factors.len();
            let (in_height, in_width) = grid(x, s);
            let (factor_h, factor_w) = if s == 1 { (1, u.factors[0]) } else { (u.factors[0], u.factors[1]) };
            whole(Form::UpSample(UpGrid { in_height, in_width, factor_h, factor_w }), bad)
        }
        _ => match pixel_node(node, &shapes) {
            Some(pixel) => {
                let design = kernel(&pixel, bad)?;
                let input_shapes = shapes.iter().map(|s| Shape::new([Tensor::of(s).width])).collect();
                let ii = match (target, &pixel.layer) {
                    (Target::Rtl, Layer::Dense(_)) => pixel.reuse_factor.max(1),
                    _ => design.ii(),
                };
                Ok(StreamLayer { form: Form::Map, node: pixel, input_shapes, design, ii })
            }
            None => whole(Form::Frame, bad),
        },
    }
}

/// Decides the Vitis HLS io_stream design of `g`. Errors name every layer it cannot build.
pub fn design(g: &LoweredGraph) -> Result<Design, ArchError> {
    design_for(g, Target::Vitis)
}

/// Decides the io_stream design of `g` for `target`. Errors name every layer it cannot build.
pub fn design_for(g: &LoweredGraph, target: Target) -> Result<Design, ArchError> {
    let order = g.topo_order()?;
    let inputs = g.inputs();
    let mut layers = BTreeMap::new();
    let mut tensors = BTreeMap::new();
    let mut bad = Vec::new();
    for &id in &order {
        tensors.insert(id, Tensor::of(&g.node(id).shape));
        if inputs.contains(&id) {
            continue;
        }
        let ins: Vec<&Node> = g.inputs_of(id).into_iter().map(|i| g.node(i)).collect();
        layers.insert(id, layer(g.node(id), &ins, &mut bad, target)?);
    }
    if !bad.is_empty() {
        return Err(unsupported(format!("layer {}", bad.join("; layer "))));
    }
    let mut splits = BTreeMap::new();
    let mut channels = Vec::new();
    for &id in &order {
        let source = match inputs.iter().position(|&i| i == id) {
            Some(k) => Source::Input(k),
            None => Source::Layer(id),
        };
        let r = reads(g, id);
        let sink = |read: Read| match read {
            Read::Layer { node, port } => Sink::Layer { node, port },
            Read::Output(k) => Sink::Output(k),
        };
        let input_out = matches!(source, Source::Input(_)) && r.iter().any(|x| matches!(x, Read::Output(_)));
        if r.len() >= 2 || input_out {
            splits.insert(id, r.len());
            channels.push(Channel { tensor: id, source, sink: Sink::Split(id) });
            for (copy, &read) in r.iter().enumerate() {
                channels.push(Channel {
                    tensor: id,
                    source: Source::Split { tensor: id, copy },
                    sink: sink(read),
                });
            }
        } else if let Some(&read) = r.first() {
            channels.push(Channel { tensor: id, source, sink: sink(read) });
        }
    }
    Ok(Design { layers, tensors, splits, channels })
}

fn bit(port: usize) -> u32 {
    1 << port
}

/// The cycle rules of layer `l` with input streams `inputs` and output stream `out`: one [`Step`]
/// per iteration of its loop, for one frame. `compute` is a [`Form::Frame`] layer's datapath
/// cycles between its last read and its first write.
pub fn steps(l: &StreamLayer, inputs: &[Tensor], out: Tensor, compute: u32) -> Vec<Step> {
    let ii = l.ii.max(1) as u32;
    match &l.form {
        Form::Map => {
            let all = (0..inputs.len()).fold(0, |m, p| m | bit(p));
            vec![Step { reads: all, writes: 1, ii }; out.transfers]
        }
        Form::Window(w) => {
            let (hp, wp) = w.padded();
            let mut v = Vec::with_capacity(hp * wp);
            for i in 0..hp {
                for j in 0..wp {
                    v.push(Step {
                        reads: u32::from(w.inside(i, j)),
                        writes: u32::from(w.output_at(i, j)),
                        ii,
                    });
                }
            }
            v
        }
        Form::Pad(p) => {
            let ((r0, r1), (c0, c1)) = (p.rows(), p.cols());
            let mut v = Vec::new();
            for r in r0..r1 {
                for c in c0..c1 {
                    let (ir, ic) = (r - p.pad_top, c - p.pad_left);
                    let read = (0..p.in_height as i64).contains(&ir) && (0..p.in_width as i64).contains(&ic);
                    let write = (0..p.out_height as i64).contains(&r) && (0..p.out_width as i64).contains(&c);
                    v.push(Step { reads: u32::from(read), writes: u32::from(write), ii: 1 });
                }
            }
            v
        }
        Form::UpSample(u) => {
            let mut v = Vec::new();
            for oi in 0..u.in_height * u.factor_h {
                for oj in 0..u.in_width * u.factor_w {
                    let read = oi % u.factor_h == 0 && oj % u.factor_w == 0;
                    v.push(Step { reads: u32::from(read), writes: 1, ii: 1 });
                }
            }
            v
        }
        Form::Frame => {
            let mut v = Vec::new();
            for (p, t) in inputs.iter().enumerate() {
                v.extend(std::iter::repeat_n(Step { reads: bit(p), writes: 0, ii: 1 }, t.transfers));
            }
            v.push(Step { reads: 0, writes: 0, ii: compute.max(1) });
            v.extend(std::iter::repeat_n(Step { reads: 0, writes: 1, ii: 1 }, out.transfers));
            v
        }
    }
}

/// The dataflow network of the design: a source process per top input (a pixel per cycle), a
/// process per layer and split, a sink per top output (a pixel per cycle); one stream per
/// [`Channel`], in order, with `capacity[k]` (`None`: unbounded, the ports). `depth` gives each
/// layer's datapath cycles: the pipeline depth of its loop (from an iteration's read to its
/// write), or for a [`Form::Frame`] layer the cycles between its reads and its writes.
pub fn network(
    g: &LoweredGraph,
    d: &Design,
    depth: &BTreeMap<NodeId, u64>,
    capacity: &[Option<u64>],
) -> dataflow::Network {
    let streams = d
        .channels
        .iter()
        .zip(capacity)
        .map(|(c, &capacity)| dataflow::Stream { name: channel_name(g, c), capacity })
        .collect();
    let find = |f: &dyn Fn(&Channel) -> bool| d.channels.iter().position(f);
    let mut processes = Vec::new();
    for (k, &id) in g.inputs().iter().enumerate() {
        let t = d.tensors[&id];
        processes.push(dataflow::Process {
            name: format!("input '{}'", g.node(id).name),
            inputs: Vec::new(),
            outputs: find(&|c| c.source == Source::Input(k)).into_iter().collect(),
            depth: 0,
            steps: vec![Step { reads: 0, writes: 1, ii: 1 }; t.transfers],
        });
    }
    for (&id, l) in &d.layers {
        let ins = g.inputs_of(id);
        let inputs: Vec<usize> =
            (0..ins.len()).filter_map(|port| find(&|c| c.sink == Sink::Layer { node: id, port })).collect();
        let in_t: Vec<Tensor> = ins.iter().map(|i| d.tensors[i]).collect();
        let dp = depth.get(&id).copied().unwrap_or(1);
        let (pipe, compute) = match l.form {
            Form::Frame => (1, dp as u32),
            _ => (dp, 0),
        };
        processes.push(dataflow::Process {
            name: format!("layer '{}'", g.node(id).name),
            inputs,
            outputs: find(&|c| c.source == Source::Layer(id)).into_iter().collect(),
            depth: pipe,
            steps: steps(l, &in_t, d.tensors[&id], compute),
        });
    }
    for (&id, &copies) in &d.splits {
        processes.push(dataflow::Process {
            name: format!("split of '{}'", g.node(id).name),
            inputs: find(&|c| c.sink == Sink::Split(id)).into_iter().collect(),
            outputs: (0..copies)
                .filter_map(|copy| find(&|c| c.source == Source::Split { tensor: id, copy }))
                .collect(),
            depth: 1,
            steps: vec![Step { reads: 1, writes: (1 << copies) - 1, ii: 1 }; d.tensors[&id].transfers],
        });
    }
    for (k, &id) in g.outputs().iter().enumerate() {
        processes.push(dataflow::Process {
            name: format!("output '{}'", g.node(id).name),
            inputs: find(&|c| c.sink == Sink::Output(k)).into_iter().collect(),
            outputs: Vec::new(),
            depth: 0,
            steps: vec![Step { reads: 1, writes: 0, ii: 1 }; d.tensors[&id].transfers],
        });
    }
    dataflow::Network { streams, processes }
}

/// A channel as messages and reports name it: `a -> b`.
pub fn channel_name(g: &LoweredGraph, c: &Channel) -> String {
    let from = match c.source {
        Source::Input(_) | Source::Layer(_) => g.node(c.tensor).name.clone(),
        Source::Split { copy, .. } => format!("{} (copy {copy})", g.node(c.tensor).name),
    };
    let to = match c.sink {
        Sink::Output(k) => format!("output {k}"),
        Sink::Layer { node, .. } => g.node(node).name.clone(),
        Sink::Split(_) => "split".to_string(),
    };
    format!("{from} -> {to}")
}
