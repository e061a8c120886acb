//! Model layouts at the graph's boundary. The IR is channels-last; a model whose input or output
//! tensor has another axis order (NCHW ONNX models) records, per input and output, the
//! permutation `perm` with `model_tensor = transpose(ir_tensor, perm)` (numpy `transpose`, batch
//! axis excluded): see [`crate::ir::Graph::set_input_layout`]. Data given in the model's layout
//! (`sim --input`, `compile --tb-input`) is converted to the IR's order with [`from_model`], and
//! results are given back in the model's layout with [`to_model`]. The firmware's ports keep the
//! IR's channels-last order.

use super::{Shape, Transpose};

/// The model's shape of a tensor of IR shape `ir`.
pub fn model_shape(ir: &Shape, perm: &[usize]) -> Shape {
    Shape::new(perm.iter().map(|&p| ir.dims()[p]).collect::<Vec<_>>())
}

/// The model-layout coordinates of the value at `flat` in one sample of IR shape `ir` in IR order
/// (`perm` as above; `None` when the layouts agree).
pub fn model_index(ir: &Shape, perm: Option<&[usize]>, flat: usize) -> Vec<usize> {
    let mut ir_index = vec![0; ir.rank()];
    let mut rest = flat;
    for (axis, &d) in ir.dims().iter().enumerate().rev() {
        ir_index[axis] = rest % d.max(1);
        rest /= d.max(1);
    }
    match perm {
        Some(perm) => perm.iter().map(|&p| ir_index[p]).collect(),
        None => ir_index,
    }
}

/// One sample in the model's layout, from one sample of IR shape `ir` in IR order.
pub fn to_model(values: &[f64], ir: &Shape, perm: &[usize]) -> Vec<f64> {
    Transpose { perm: perm.to_vec() }.source_indices(ir).into_iter().map(|i| values[i]).collect()
}

/// One sample in IR order, from one sample of IR shape `ir` given in the model's layout.
pub fn from_model(values: &[f64], ir: &Shape, perm: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    let sources = Transpose { perm: perm.to_vec() }.source_indices(ir);
    for (m, i) in sources.into_iter().enumerate() {
        out[i] = values[m];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_a_channels_first_tensor() {
        // IR [H=2, W=2, C=3]; the model is [C, H, W]: perm [2, 0, 1].
        let ir = Shape::new([2, 2, 3]);
        let perm = [2, 0, 1];
        assert_eq!(model_shape(&ir, &perm).dims(), [3, 2, 2]);
        let x: Vec<f64> = (0..12).map(f64::from).collect();
        let m = to_model(&x, &ir, &perm);
        // Channel 0 of every pixel first.
        assert_eq!(m[..4], [0.0, 3.0, 6.0, 9.0]);
        assert_eq!(from_model(&m, &ir, &perm), x);
        // IR value 7 is pixel (1, 0), channel 1: model coordinates [1, 1, 0], which hold it.
        assert_eq!(model_index(&ir, Some(&perm), 7), [1, 1, 0]);
        assert_eq!(m[4 + 2], 7.0);
        assert_eq!(model_index(&ir, None, 7), [1, 0, 1]);
    }
}
