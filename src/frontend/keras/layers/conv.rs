//! Convolutions become `Layer::Conv` on channels-last tensors (`[width, channels]` for 1-D,
//! `[height, width, channels]` for 2-D), then their `activation` as its own node.
//!
//! * `Conv1D`, `Conv2D`, `QConv1D`, `QConv2D`: the kernel `[k..., c_in / groups, filters]` is the
//!   IR's layout as stored; `groups`, `strides`, `dilation_rate` carry over; `padding` is `valid`,
//!   `same` (TensorFlow's split, see [`Padding::pads`]) or, for 1-D, `causal` (`dilation * (k - 1)`
//!   zeros before). Without `use_bias` the bias is zero.
//! * `DepthwiseConv1D/2D`, `QDepthwiseConv2D`: the kernel `[k..., c_in, m]` (`m` the
//!   `depth_multiplier`) is the IR convolution with `groups = c_in` and `c_in * m` filters, filter
//!   `c * m + j` reading channel `c`: the same values in the same order under the shape
//!   `[k..., 1, c_in * m]`.
//! * `SeparableConv1D/2D`, `QSeparableConv1D/2D`: a depthwise `Conv` named `<layer>_depthwise`
//!   (strides, dilations and padding of the layer, zero bias), then a 1x1 `Conv` named `<layer>`
//!   with the pointwise kernel `[1..., c_in * m, filters]` and the bias.
//! * QKeras kernels (the depthwise and pointwise ones too) and biases are quantized by their
//!   quantizers on the tensors as stored (so per-channel scales are per last axis, as in QKeras);
//!   kernel quantizers with no `alpha` get QKeras' `auto_po2` (`_set_trainable_parameter`).
//! * `QConv2DBatchnorm` (QKeras `qconv2d_batchnorm.py`, inference: `training=False`, where both
//!   folding modes use the moving statistics) folds its batch norm as QKeras does, in float32:
//!   `inv = gamma * (1 / sqrt(moving_variance + epsilon))` (no `gamma` without `scale`), folded
//!   kernel `inv[f] * kernel[..., f]`, folded bias `inv * (bias - moving_mean) + beta` (`bias` 0
//!   without `use_bias`); then its kernel quantizer quantizes the folded kernel and its bias
//!   quantizer the folded bias. TensorFlow's vectorized `rsqrt` may differ from `1 / sqrt` in the
//!   last bit of `inv`; only a folded value within that bit of a quantization step would differ.
//!
//! `data_format: "channels_first"` is refused.

use super::activation::{keras_activation, qkeras_activation, Act};
use super::{Builder, Cfg, Padding, Plan as LayerPlan};
use crate::frontend::keras::config::{Generation, LayerSpec};
use crate::frontend::keras::hdf5::Tensor;
use crate::frontend::keras::quantizers::Quantizer;
use crate::frontend::keras::weights::Named;
use crate::frontend::keras::KerasError;
use crate::ir::{Conv, Layer, NodeId, Shape, Weights};

#[derive(Debug, Clone, PartialEq)]
enum Form {
    Full { filters: usize, groups: usize },
    Depthwise { multiplier: usize },
    Separable { filters: usize, multiplier: usize },
}

/// The batch norm `QConv2DBatchnorm` folds into its kernel and bias.
#[derive(Debug, Clone, PartialEq)]
struct Fold {
    epsilon: f64,
    scale: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(in crate::frontend::keras) struct Plan {
    spatial: usize,
    form: Form,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    padding: Padding,
    use_bias: bool,
    /// Quantizers of the kernel (the depthwise kernel of depthwise and separable convolutions),
    /// of the pointwise kernel and of the bias.
    kernel_q: Option<Quantizer>,
    pointwise_q: Option<Quantizer>,
    bias_q: Option<Quantizer>,
    fold: Option<Fold>,
    act: Act,
}

fn positive(c: &Cfg, key: &str, default: Option<usize>) -> Result<usize, String> {
    match c.int(key)? {
        Some(n) if n > 0 => usize::try_from(n).map_err(|_| format!("{key}={n} is too large")),
        Some(n) => Err(format!("{key}={n} is not positive")),
        None => default.ok_or_else(|| format!("no {key}")),
    }
}

fn full(c: &Cfg) -> Result<Form, String> {
    Ok(Form::Full { filters: positive(c, "filters", None)?, groups: positive(c, "groups", Some(1))? })
}

fn depthwise(c: &Cfg) -> Result<Form, String> {
    Ok(Form::Depthwise { multiplier: positive(c, "depth_multiplier", Some(1))? })
}

fn separable(c: &Cfg) -> Result<Form, String> {
    Ok(Form::Separable {
        filters: positive(c, "filters", None)?,
        multiplier: positive(c, "depth_multiplier", Some(1))?,
    })
}

/// The options every convolution class shares.
fn read(c: &Cfg, spatial: usize, form: Form, act: Act) -> Result<Plan, String> {
    c.channels_last()?;
    Ok(Plan {
        spatial,
        form,
        kernel: c.sizes("kernel_size", spatial, None)?,
        strides: c.sizes("strides", spatial, Some(1))?,
        dilations: c.sizes("dilation_rate", spatial, Some(1))?,
        padding: Padding::read(c, spatial == 1)?,
        use_bias: c.bool_or("use_bias", true)?,
        kernel_q: None,
        pointwise_q: None,
        bias_q: None,
        fold: None,
        act,
    })
}

fn keras(c: &Cfg, g: Generation, spatial: usize, form: Form) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Conv(Box::new(read(c, spatial, form, keras_activation(c.get("activation"), g)?)?)))
}

/// A QKeras convolution whose kernel quantizers are under `kernel_keys` (kernel or depthwise,
/// then pointwise).
fn qkeras(c: &Cfg, g: Generation, spatial: usize, form: Form, kernel_keys: &[&str]) -> Result<Plan, String> {
    let mut p = read(c, spatial, form, qkeras_activation(c.get("activation"), g)?)?;
    let trainable = |key: &str| c.quantizer(key).map(|q| q.map(Quantizer::trainable));
    p.kernel_q = trainable(kernel_keys[0])?;
    if let Some(key) = kernel_keys.get(1) {
        p.pointwise_q = trainable(key)?;
    }
    p.bias_q = c.quantizer("bias_quantizer")?;
    Ok(p)
}

pub(super) fn plan_conv1d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    keras(c, g, 1, full(c)?)
}

pub(super) fn plan_conv2d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    keras(c, g, 2, full(c)?)
}

pub(super) fn plan_depthwise1d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    keras(c, g, 1, depthwise(c)?)
}

pub(super) fn plan_depthwise2d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    keras(c, g, 2, depthwise(c)?)
}

pub(super) fn plan_separable1d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    keras(c, g, 1, separable(c)?)
}

pub(super) fn plan_separable2d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    keras(c, g, 2, separable(c)?)
}

pub(super) fn plan_qconv1d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Conv(Box::new(qkeras(c, g, 1, full(c)?, &["kernel_quantizer"])?)))
}

pub(super) fn plan_qconv2d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Conv(Box::new(qkeras(c, g, 2, full(c)?, &["kernel_quantizer"])?)))
}

pub(super) fn plan_qdepthwise2d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    Ok(LayerPlan::Conv(Box::new(qkeras(c, g, 2, depthwise(c)?, &["depthwise_quantizer"])?)))
}

pub(super) fn plan_qseparable1d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    let keys = ["depthwise_quantizer", "pointwise_quantizer"];
    Ok(LayerPlan::Conv(Box::new(qkeras(c, g, 1, separable(c)?, &keys)?)))
}

pub(super) fn plan_qseparable2d(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    let keys = ["depthwise_quantizer", "pointwise_quantizer"];
    Ok(LayerPlan::Conv(Box::new(qkeras(c, g, 2, separable(c)?, &keys)?)))
}

pub(super) fn plan_qconv2d_batchnorm(c: &Cfg, g: Generation) -> Result<LayerPlan, String> {
    let mut p = qkeras(c, g, 2, full(c)?, &["kernel_quantizer"])?;
    let axis = c.axis("axis")?;
    if axis != -1 && axis != 3 {
        return Err(format!("batch norm axis {axis} is not the channel axis"));
    }
    match c.string("folding_mode")? {
        None | Some("ema_stats_folding") | Some("batch_stats_folding") => {}
        Some(other) => return Err(format!("folding_mode='{other}' is not understood")),
    }
    if !c.bool_or("center", true)? {
        return Err("center=False is not supported (QKeras adds beta to the folded bias)".into());
    }
    let epsilon = c.f64_opt("epsilon")?.unwrap_or(1e-3);
    if epsilon < 0.0 {
        return Err(format!("epsilon={epsilon} is negative"));
    }
    p.fold = Some(Fold { epsilon, scale: c.bool_or("scale", true)? });
    Ok(LayerPlan::Conv(Box::new(p)))
}

impl Plan {
    /// The stored tensors in QKeras' order.
    fn roles(&self) -> Vec<&'static str> {
        let mut roles = match self.form {
            Form::Full { .. } => vec!["kernel"],
            Form::Depthwise { .. } => vec!["depthwise_kernel"],
            Form::Separable { .. } => vec!["depthwise_kernel", "pointwise_kernel"],
        };
        if self.use_bias {
            roles.push("bias");
        }
        if let Some(f) = &self.fold {
            if f.scale {
                roles.push("gamma");
            }
            roles.extend(["beta", "iteration", "moving_mean", "moving_variance"]);
        }
        roles
    }
}

/// Reads the tensors of a layer in the order of [`Plan::roles`], checking their shapes.
struct Stored<'p> {
    tensors: std::vec::IntoIter<Tensor>,
    roles: std::slice::Iter<'p, &'static str>,
}

impl Stored<'_> {
    fn next(&mut self, b: &Builder, layer: &LayerSpec, shape: &[usize]) -> Result<Vec<f64>, KerasError> {
        let (Some(t), Some(role)) = (self.tensors.next(), self.roles.next()) else {
            return Err(b.weights_err(layer, "fewer weight tensors than the layer takes"));
        };
        if t.shape != shape {
            return Err(b.weights_err(
                layer,
                format!("{role} has shape {:?}, the architecture needs {shape:?}", t.shape),
            ));
        }
        Ok(t.values)
    }
}

/// QKeras' float32 folding (see the module documentation): the folded kernel (filters on the last
/// axis) and bias.
fn fold(
    kernel: &[f64],
    bias: Option<&[f64]>,
    gamma: Option<&[f64]>,
    beta: &[f64],
    mean: &[f64],
    variance: &[f64],
    epsilon: f64,
) -> (Vec<f64>, Vec<f64>) {
    let filters = beta.len();
    let inv: Vec<f32> = (0..filters)
        .map(|f| {
            let inv = 1.0f32 / (variance[f] as f32 + epsilon as f32).sqrt();
            match gamma {
                Some(g) => inv * g[f] as f32,
                None => inv,
            }
        })
        .collect();
    let kernel = kernel.iter().enumerate().map(|(i, &w)| (inv[i % filters] * w as f32) as f64).collect();
    let bias = (0..filters)
        .map(|f| {
            let b = bias.map_or(0.0, |b| b[f] as f32);
            (inv[f] * (b - mean[f] as f32) + beta[f] as f32) as f64
        })
        .collect();
    (kernel, bias)
}

/// What every convolution node of one Keras layer shares: its input and its window.
struct Site<'a> {
    p: &'a Plan,
    layer: &'a LayerSpec,
    inputs: &'a [NodeId],
    c_in: usize,
    pads_begin: Vec<usize>,
    pads_end: Vec<usize>,
}

impl Site<'_> {
    /// A convolution with the layer's strides, dilations and padding.
    fn conv(&self, weights: Weights, bias: Weights, groups: usize) -> Layer {
        Layer::Conv(Conv {
            weights,
            bias,
            strides: self.p.strides.clone(),
            dilations: self.p.dilations.clone(),
            pads_begin: self.pads_begin.clone(),
            pads_end: self.pads_end.clone(),
            groups,
            accum: None,
        })
    }

    /// Shape `[k..., a, b]`.
    fn kernel_shape(&self, a: usize, b: usize) -> Vec<usize> {
        self.p.kernel.iter().copied().chain([a, b]).collect()
    }
}

pub(super) fn build(
    b: &mut Builder,
    layer: &LayerSpec,
    p: &Plan,
    stored: Vec<Named>,
    inputs: &[NodeId],
) -> Result<NodeId, KerasError> {
    let x = b.shape(inputs[0]);
    let s = p.spatial;
    if x.rank() != s + 1 {
        return Err(b.layer_err(layer, format!("expects a {s}-D input with channels, gets {x}")));
    }
    let span: Vec<usize> =
        (0..s).map(|d| p.dilations[d].saturating_mul(p.kernel[d] - 1).saturating_add(1)).collect();
    let (pads_begin, pads_end) = p.padding.pads(&x.dims()[..s], &span, &p.strides);
    let site = Site { p, layer, inputs, c_in: x.channels(), pads_begin, pads_end };
    let roles = p.roles();
    let mut t = Stored { tensors: b.take(layer, stored, &roles)?.into_iter(), roles: roles.iter() };
    let id = match p.form {
        Form::Full { filters, groups } => build_full(b, &site, &mut t, filters, groups)?,
        Form::Depthwise { multiplier } => build_depthwise(b, &site, &mut t, multiplier)?,
        Form::Separable { filters, multiplier } => build_separable(b, &site, &mut t, filters, multiplier)?,
    };
    b.then_activation(layer, &p.act, id)
}

fn build_full(
    b: &mut Builder,
    site: &Site,
    t: &mut Stored,
    filters: usize,
    groups: usize,
) -> Result<NodeId, KerasError> {
    let (p, layer, c_in) = (site.p, site.layer, site.c_in);
    if c_in % groups != 0 {
        return Err(b.layer_err(layer, format!("{c_in} input channels do not split into {groups} groups")));
    }
    let shape = site.kernel_shape(c_in / groups, filters);
    let kernel = t.next(b, layer, &shape)?;
    let bias = if p.use_bias { Some(t.next(b, layer, &[filters])?) } else { None };
    let (kernel, bias) = match &p.fold {
        None => (kernel, bias),
        Some(f) => {
            let gamma = if f.scale { Some(t.next(b, layer, &[filters])?) } else { None };
            let beta = t.next(b, layer, &[filters])?;
            t.next(b, layer, &[])?;
            let mean = t.next(b, layer, &[filters])?;
            let var = t.next(b, layer, &[filters])?;
            let (k, bi) = fold(&kernel, bias.as_deref(), gamma.as_deref(), &beta, &mean, &var, f.epsilon);
            if let Some(i) = k.iter().chain(&bi).position(|v| !v.is_finite()) {
                return Err(b.weights_err(
                    layer,
                    format!(
                        "folding the batch norm gives a non-finite value in filter {} \
                         (moving_variance + epsilon <= 0?)",
                        i % filters
                    ),
                ));
            }
            (k, Some(bi))
        }
    };
    let mut w = Weights::new(Shape::new(shape), kernel);
    if let Some(q) = &p.kernel_q {
        b.quantize(layer, q, &mut w)?;
    }
    let node = site.conv(w, bias_weights(b, layer, p, filters, bias)?, groups);
    b.add(layer, layer.name.clone(), node, site.inputs)
}

fn build_depthwise(
    b: &mut Builder,
    site: &Site,
    t: &mut Stored,
    multiplier: usize,
) -> Result<NodeId, KerasError> {
    let (p, layer, c_in) = (site.p, site.layer, site.c_in);
    let w = depthwise_kernel(b, site, t, multiplier)?;
    let filters = c_in * multiplier;
    let bias = if p.use_bias { Some(t.next(b, layer, &[filters])?) } else { None };
    let node = site.conv(w, bias_weights(b, layer, p, filters, bias)?, c_in);
    b.add(layer, layer.name.clone(), node, site.inputs)
}

fn build_separable(
    b: &mut Builder,
    site: &Site,
    t: &mut Stored,
    filters: usize,
    multiplier: usize,
) -> Result<NodeId, KerasError> {
    let (p, layer, c_in) = (site.p, site.layer, site.c_in);
    let s = p.spatial;
    let depthwise = depthwise_kernel(b, site, t, multiplier)?;
    let mid = c_in * multiplier;
    let shape: Vec<usize> = vec![1; s].into_iter().chain([mid, filters]).collect();
    let mut pointwise = Weights::new(Shape::new(shape.clone()), t.next(b, layer, &shape)?);
    if let Some(q) = &p.pointwise_q {
        b.quantize(layer, q, &mut pointwise)?;
    }
    let bias = if p.use_bias { Some(t.next(b, layer, &[filters])?) } else { None };
    let bias = bias_weights(b, layer, p, filters, bias)?;
    let dw = site.conv(depthwise, Weights::new(Shape::new([mid]), vec![0.0; mid]), c_in);
    let dw_name = b.fresh(&format!("{}_depthwise", layer.name));
    let dw = b.add(layer, dw_name, dw, site.inputs)?;
    let pw = Layer::Conv(Conv {
        weights: pointwise,
        bias,
        strides: vec![1; s],
        dilations: vec![1; s],
        pads_begin: vec![0; s],
        pads_end: vec![0; s],
        groups: 1,
        accum: None,
    });
    b.add(layer, layer.name.clone(), pw, &[dw])
}

/// The depthwise kernel `[k..., c_in, m]`, quantized as stored, as IR weights `[k..., 1, c_in * m]`
/// (the stored tensor bounds `c_in * m`).
fn depthwise_kernel(
    b: &Builder,
    site: &Site,
    t: &mut Stored,
    multiplier: usize,
) -> Result<Weights, KerasError> {
    let stored = site.kernel_shape(site.c_in, multiplier);
    let mut w = Weights::new(Shape::new(stored.clone()), t.next(b, site.layer, &stored)?);
    if let Some(q) = &site.p.kernel_q {
        b.quantize(site.layer, q, &mut w)?;
    }
    w.shape = Shape::new(site.kernel_shape(1, site.c_in * multiplier));
    Ok(w)
}

/// The bias `[filters]`, quantized by the bias quantizer when the layer has one (zero without).
fn bias_weights(
    b: &Builder,
    layer: &LayerSpec,
    p: &Plan,
    filters: usize,
    bias: Option<Vec<f64>>,
) -> Result<Weights, KerasError> {
    match bias {
        Some(values) => {
            let mut w = Weights::new(Shape::new([filters]), values);
            if let Some(q) = &p.bias_q {
                b.quantize(layer, q, &mut w)?;
            }
            Ok(w)
        }
        None => Ok(Weights::new(Shape::new([filters]), vec![0.0; filters])),
    }
}
