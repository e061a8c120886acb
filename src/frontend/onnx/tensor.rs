//! Constant tensors: decoding ONNX `TensorProto`s and the arithmetic used to fold constants.
//!
//! Spec: <https://onnx.ai/onnx/repo-docs/IR.html#tensor-definition> (`raw_data` is little-endian;
//! FLOAT16, INT8, UINT8, INT16, UINT16, INT32 and BOOL live in `int32_data`, INT64 in `int64_data`).
//!
//! Contract: [`decode`] checks the element count against [`MAX_ELEMENTS`] before allocating, never
//! reads external data, rejects NaN, and returns a message (the caller adds file and node). Float
//! tensors hold their values widened to `f64` (exact); integer tensors hold `i64`. [`BATCH`] is the
//! marker for the symbolic batch size inside shape tensors produced by `Shape`.

use onnx_protobuf::tensor_proto::DataLocation;
use onnx_protobuf::TensorProto;

use crate::fixed::FixedType;
use crate::ir::MAX_ELEMENTS;

/// Stands for the batch size in integer shape tensors when the model leaves it symbolic.
pub(crate) const BATCH: i64 = i64::MIN;

/// The element types the importer reads (ONNX `TensorProto.DataType` codes in [`DType::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    Float,
    Double,
    Float16,
    Int8,
    Uint8,
    Int32,
    Int64,
    Bool,
}

impl DType {
    pub(crate) fn from_code(code: i32) -> Option<DType> {
        Some(match code {
            1 => DType::Float,
            2 => DType::Uint8,
            3 => DType::Int8,
            6 => DType::Int32,
            7 => DType::Int64,
            9 => DType::Bool,
            10 => DType::Float16,
            11 => DType::Double,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> i32 {
        match self {
            DType::Float => 1,
            DType::Uint8 => 2,
            DType::Int8 => 3,
            DType::Int32 => 6,
            DType::Int64 => 7,
            DType::Bool => 9,
            DType::Float16 => 10,
            DType::Double => 11,
        }
    }

    pub(crate) fn is_float(self) -> bool {
        matches!(self, DType::Float | DType::Double | DType::Float16)
    }

    /// Inclusive integer range of an integer type.
    pub(crate) fn int_range(self) -> Option<(i64, i64)> {
        match self {
            DType::Int8 => Some((-128, 127)),
            DType::Uint8 => Some((0, 255)),
            DType::Int32 => Some((i32::MIN as i64, i32::MAX as i64)),
            DType::Int64 => Some((i64::MIN, i64::MAX)),
            DType::Bool => Some((0, 1)),
            _ => None,
        }
    }

    fn size(self) -> usize {
        match self {
            DType::Int8 | DType::Uint8 | DType::Bool => 1,
            DType::Float16 => 2,
            DType::Float | DType::Int32 => 4,
            DType::Double | DType::Int64 => 8,
        }
    }
}

/// Name of an ONNX element type code, for messages.
pub(crate) fn dtype_name(code: i32) -> String {
    let name = match code {
        0 => "UNDEFINED",
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        14 => "COMPLEX64",
        15 => "COMPLEX128",
        16 => "BFLOAT16",
        _ => return format!("type #{code}"),
    };
    name.to_string()
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Data {
    Float(Vec<f64>),
    Int(Vec<i64>),
}

/// A constant known at import time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub dtype: DType,
    pub dims: Vec<usize>,
    pub data: Data,
    /// The exact fixed-point type of the values when a quantizer (Quant, DequantizeLinear, ...)
    /// produced them; kept through layout-only operations.
    pub ty: Option<FixedType>,
}

/// True when every partial product of `dims` (zeros counted as ones) stays within
/// [`MAX_ELEMENTS`], so no product over a sub-range of the axes can overflow.
pub(crate) fn dims_ok(dims: &[usize]) -> bool {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)).filter(|&n| n <= MAX_ELEMENTS)).is_some()
}

/// Product of dimensions, `None` on overflow.
pub(crate) fn elements(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

impl Tensor {
    pub(crate) fn float(dims: Vec<usize>, values: Vec<f64>) -> Tensor {
        Tensor { dtype: DType::Float, dims, data: Data::Float(values), ty: None }
    }

    pub(crate) fn int(dtype: DType, dims: Vec<usize>, values: Vec<i64>) -> Tensor {
        Tensor { dtype, dims, data: Data::Int(values), ty: None }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.data {
            Data::Float(v) => v.len(),
            Data::Int(v) => v.len(),
        }
    }

    /// The values as `f64`; errors on the batch marker.
    pub(crate) fn floats(&self) -> Result<Vec<f64>, String> {
        match &self.data {
            Data::Float(v) => Ok(v.clone()),
            Data::Int(v) => v
                .iter()
                .map(|&x| {
                    if x == BATCH {
                        Err("uses the symbolic batch size as a number".to_string())
                    } else {
                        Ok(x as f64)
                    }
                })
                .collect(),
        }
    }

    /// The values as integers; float values must be integral.
    pub(crate) fn ints(&self) -> Result<Vec<i64>, String> {
        match &self.data {
            Data::Int(v) => Ok(v.clone()),
            Data::Float(v) => v
                .iter()
                .map(|&x| {
                    if x.fract() == 0.0 && x.abs() < 9.0e15 {
                        Ok(x as i64)
                    } else {
                        Err(format!("value {x} is not an integer"))
                    }
                })
                .collect(),
        }
    }

    /// The single value of a one-element tensor.
    pub(crate) fn scalar(&self) -> Option<f64> {
        if self.len() != 1 {
            return None;
        }
        self.floats().ok().and_then(|v| v.first().copied())
    }

    /// A tensor with the same data under new dimensions (same element count).
    pub(crate) fn reshaped(&self, dims: Vec<usize>) -> Tensor {
        Tensor { dims, ..self.clone() }
    }
}

/// Decodes an initializer or a `Constant` value.
pub(crate) fn decode(t: &TensorProto) -> Result<Tensor, String> {
    if t.data_location.value() == DataLocation::EXTERNAL as i32 || !t.external_data.is_empty() {
        return Err("its data is stored in an external file, which is not supported; \
                    save the model with all tensors inside the .onnx file"
            .into());
    }
    if t.segment.is_some() {
        return Err("segmented tensors are not supported".into());
    }
    let dtype = DType::from_code(t.data_type)
        .ok_or_else(|| format!("element type {} is not supported", dtype_name(t.data_type)))?;
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| format!("dimension {d} is negative"))?;
        dims.push(d);
    }
    if !dims_ok(&dims) {
        return Err(format!("shape {dims:?} is larger than the limit of {MAX_ELEMENTS} elements"));
    }
    let n = elements(&dims).unwrap_or(0);
    let data = if !t.raw_data.is_empty() || n == 0 && typed_len(t, dtype) == 0 {
        decode_raw(&t.raw_data, dtype, n)?
    } else {
        decode_typed(t, dtype, n)?
    };
    if let Data::Float(v) = &data {
        if let Some(pos) = v.iter().position(|x| x.is_nan()) {
            return Err(format!("value #{pos} is NaN"));
        }
    }
    Ok(Tensor { dtype, dims, data, ty: None })
}

fn typed_len(t: &TensorProto, dtype: DType) -> usize {
    match dtype {
        DType::Float => t.float_data.len(),
        DType::Double => t.double_data.len(),
        DType::Int64 => t.int64_data.len(),
        _ => t.int32_data.len(),
    }
}

fn decode_raw(raw: &[u8], dtype: DType, n: usize) -> Result<Data, String> {
    let want = n.checked_mul(dtype.size()).ok_or("the tensor is too large")?;
    if raw.len() != want {
        return Err(format!("raw_data holds {} bytes, {want} expected for {n} elements", raw.len()));
    }
    let chunks = raw.chunks_exact(dtype.size());
    Ok(match dtype {
        DType::Float => {
            Data::Float(chunks.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect())
        }
        DType::Double => Data::Float(
            chunks.map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect(),
        ),
        DType::Float16 => Data::Float(chunks.map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]]))).collect()),
        DType::Int8 => Data::Int(chunks.map(|c| c[0] as i8 as i64).collect()),
        DType::Uint8 => Data::Int(chunks.map(|c| c[0] as i64).collect()),
        DType::Bool => Data::Int(chunks.map(|c| (c[0] != 0) as i64).collect()),
        DType::Int32 => {
            Data::Int(chunks.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).collect())
        }
        DType::Int64 => Data::Int(
            chunks.map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect(),
        ),
    })
}

fn decode_typed(t: &TensorProto, dtype: DType, n: usize) -> Result<Data, String> {
    let have = typed_len(t, dtype);
    if have != n {
        return Err(format!("holds {have} values for {n} elements"));
    }
    let ints32 = || t.int32_data.iter().map(|&v| v as i64);
    Ok(match dtype {
        DType::Float => Data::Float(t.float_data.iter().map(|&v| v as f64).collect()),
        DType::Double => Data::Float(t.double_data.clone()),
        DType::Float16 => Data::Float(t.int32_data.iter().map(|&v| f16_to_f64(v as u16)).collect()),
        DType::Int64 => Data::Int(t.int64_data.clone()),
        DType::Int8 | DType::Uint8 | DType::Int32 => {
            let (lo, hi) = dtype.int_range().unwrap_or((i64::MIN, i64::MAX));
            let v: Vec<i64> = ints32().collect();
            if let Some(pos) = v.iter().position(|x| *x < lo || *x > hi) {
                return Err(format!("value #{pos} ({}) is outside the range of its type", v[pos]));
            }
            Data::Int(v)
        }
        DType::Bool => Data::Int(ints32().map(|v| (v != 0) as i64).collect()),
    })
}

/// IEEE 754 binary16 to `f64` (exact).
pub(crate) fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((bits >> 10) & 0x1f) as i32;
    let man = (bits & 0x3ff) as f64;
    sign * match exp {
        0 => man * 2f64.powi(-24),
        31 if man == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + man / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// Rounds to the nearest binary16 value (ties to even), saturating to infinity like a cast.
pub(crate) fn round_f16(v: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let a = v.abs();
    let exp = (((a.to_bits() >> 52) & 0x7ff) as i32 - 1023).max(-14);
    let ulp = 2f64.powi(exp - 10);
    let r = (a / ulp).round_ties_even() * ulp;
    let r = if r > 65504.0 { f64::INFINITY } else { r };
    r.copysign(v)
}

/// Rounds a computed value to what an ONNX runtime would store in `dtype`.
pub(crate) fn round_to(dtype: DType, v: f64) -> f64 {
    match dtype {
        DType::Float => v as f32 as f64,
        DType::Float16 => round_f16(v),
        _ => v,
    }
}

/// Numpy (multidirectional) broadcast of two shapes, `None` when they do not broadcast or the
/// result is over the size limit.
pub(crate) fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], i: usize| -> usize {
        let pad = rank - s.len();
        if i < pad {
            1
        } else {
            s[i - pad]
        }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect::<Option<Vec<usize>>>()
        .filter(|d| dims_ok(d))
}

/// Row-major strides of `dims`.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

/// For every flat index of `out`, the flat index of `src` broadcast onto it (`src` must broadcast).
pub(crate) fn broadcast_indices(src: &[usize], out: &[usize]) -> Vec<usize> {
    let n = elements(out).unwrap_or(0);
    let pad = out.len().saturating_sub(src.len());
    let src_strides = strides(src);
    let out_strides = strides(out);
    (0..n)
        .map(|flat| {
            let mut idx = 0;
            for (axis, (&od, &os)) in out.iter().zip(&out_strides).enumerate() {
                if axis < pad {
                    continue;
                }
                let coord = (flat / os) % od.max(1);
                let sd = src[axis - pad];
                if sd != 1 {
                    idx += coord * src_strides[axis - pad];
                }
            }
            idx
        })
        .collect()
}

/// Permutes the axes of a constant (`perm` must be a permutation of its axes).
pub(crate) fn transpose(t: &Tensor, perm: &[usize]) -> Tensor {
    if let (&[rows, cols], [1, 0], true) = (&t.dims[..], perm, t.len() == t.dims.iter().product::<usize>()) {
        let data = match &t.data {
            Data::Float(v) => Data::Float(transpose_2d(v, rows, cols)),
            Data::Int(v) => Data::Int(transpose_2d(v, rows, cols)),
        };
        return Tensor { dtype: t.dtype, dims: vec![cols, rows], data, ty: t.ty };
    }
    let dims: Vec<usize> = perm.iter().map(|&p| t.dims[p]).collect();
    let in_strides = strides(&t.dims);
    let out_strides = strides(&dims);
    let n = t.len();
    let index: Vec<usize> = (0..n)
        .map(|flat| {
            perm.iter()
                .enumerate()
                .map(|(axis, &p)| ((flat / out_strides[axis]) % dims[axis].max(1)) * in_strides[p])
                .sum()
        })
        .collect();
    let data = match &t.data {
        Data::Float(v) => Data::Float(index.iter().map(|&i| v[i]).collect()),
        Data::Int(v) => Data::Int(index.iter().map(|&i| v[i]).collect()),
    };
    Tensor { dtype: t.dtype, dims, data, ty: t.ty }
}

/// The `[cols, rows]` transpose of row-major `[rows, cols]` data, in square tiles so that both
/// sides are read and written a cache line at a time.
fn transpose_2d<T: Copy + Default>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
    const TILE: usize = 32;
    let mut out = vec![T::default(); rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = v[r * cols + c];
                }
            }
        }
    }
    out
}

/// Selects entries along `axis` (indices already made non-negative and in range).
pub(crate) fn gather(t: &Tensor, axis: usize, indices: &[usize], index_dims: &[usize]) -> Tensor {
    let outer: usize = t.dims[..axis].iter().product();
    let inner: usize = t.dims[axis + 1..].iter().product();
    let along = t.dims[axis];
    let mut order = Vec::with_capacity(outer * indices.len() * inner);
    for o in 0..outer {
        for &i in indices {
            for k in 0..inner {
                order.push((o * along + i) * inner + k);
            }
        }
    }
    let mut dims = t.dims[..axis].to_vec();
    dims.extend_from_slice(index_dims);
    dims.extend_from_slice(&t.dims[axis + 1..]);
    let data = match &t.data {
        Data::Float(v) => Data::Float(order.iter().map(|&i| v[i]).collect()),
        Data::Int(v) => Data::Int(order.iter().map(|&i| v[i]).collect()),
    };
    Tensor { dtype: t.dtype, dims, data, ty: None }
}

/// Joins constants along `axis` (ranks, other dimensions and data kinds already checked equal).
pub(crate) fn concat(parts: &[&Tensor], axis: usize) -> Tensor {
    let first = parts[0];
    let outer: usize = first.dims[..axis].iter().product();
    let mut dims = first.dims.clone();
    dims[axis] = parts.iter().map(|p| p.dims[axis]).sum();
    let chunk = |p: &Tensor| p.dims[axis..].iter().product::<usize>();
    let data = match &first.data {
        Data::Float(_) => {
            let mut out = Vec::new();
            for o in 0..outer {
                for p in parts {
                    if let Data::Float(v) = &p.data {
                        let c = chunk(p);
                        out.extend_from_slice(&v[o * c..(o + 1) * c]);
                    }
                }
            }
            Data::Float(out)
        }
        Data::Int(_) => {
            let mut out = Vec::new();
            for o in 0..outer {
                for p in parts {
                    if let Data::Int(v) = &p.data {
                        let c = chunk(p);
                        out.extend_from_slice(&v[o * c..(o + 1) * c]);
                    }
                }
            }
            Data::Int(out)
        }
    };
    Tensor { dtype: first.dtype, dims, data, ty: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(dtype: i32, dims: &[i64]) -> TensorProto {
        let mut t = TensorProto::new();
        t.data_type = dtype;
        t.dims = dims.to_vec();
        t.name = "t".into();
        t
    }

    #[test]
    fn raw_float_and_typed_float_agree() {
        let mut a = proto(1, &[2]);
        a.raw_data = [1.5f32.to_le_bytes(), (-0.25f32).to_le_bytes()].concat();
        let mut b = proto(1, &[2]);
        b.float_data = vec![1.5, -0.25];
        assert_eq!(decode(&a).unwrap().data, Data::Float(vec![1.5, -0.25]));
        assert_eq!(decode(&a).unwrap(), decode(&b).unwrap());
    }

    #[test]
    fn every_element_type_decodes() {
        let mut d = proto(11, &[1]);
        d.double_data = vec![0.1];
        assert_eq!(decode(&d).unwrap().data, Data::Float(vec![0.1]));
        let mut h = proto(10, &[3]);
        h.int32_data = vec![0x3c00, 0xc000, 0x0001];
        assert_eq!(decode(&h).unwrap().data, Data::Float(vec![1.0, -2.0, 2f64.powi(-24)]));
        let mut hr = proto(10, &[1]);
        hr.raw_data = 0x3555u16.to_le_bytes().to_vec();
        assert_eq!(decode(&hr).unwrap().data, Data::Float(vec![0.333251953125]));
        let mut i8r = proto(3, &[2]);
        i8r.raw_data = vec![0xff, 0x7f];
        assert_eq!(decode(&i8r).unwrap().data, Data::Int(vec![-1, 127]));
        let mut u8t = proto(2, &[1]);
        u8t.int32_data = vec![200];
        assert_eq!(decode(&u8t).unwrap().data, Data::Int(vec![200]));
        let mut i32t = proto(6, &[1]);
        i32t.int32_data = vec![-7];
        assert_eq!(decode(&i32t).unwrap().data, Data::Int(vec![-7]));
        let mut i64r = proto(7, &[2]);
        i64r.raw_data = [(-1i64).to_le_bytes(), 5i64.to_le_bytes()].concat();
        assert_eq!(decode(&i64r).unwrap().data, Data::Int(vec![-1, 5]));
        let mut i64t = proto(7, &[]);
        i64t.int64_data = vec![42];
        let s = decode(&i64t).unwrap();
        assert_eq!((s.dims.clone(), s.data), (vec![], Data::Int(vec![42])));
        let mut b = proto(9, &[2]);
        b.raw_data = vec![0, 3];
        assert_eq!(decode(&b).unwrap().data, Data::Int(vec![0, 1]));
    }

    #[test]
    fn malformed_tensors_are_rejected() {
        let mut short = proto(1, &[3]);
        short.raw_data = vec![0; 8];
        assert!(decode(&short).unwrap_err().contains("8 bytes"));
        let mut count = proto(1, &[3]);
        count.float_data = vec![1.0];
        assert!(decode(&count).unwrap_err().contains("1 values for 3"));
        let huge = proto(1, &[1 << 20, 1 << 20]);
        assert!(decode(&huge).unwrap_err().contains("limit"));
        assert!(decode(&proto(1, &[1 << 40, 0, 1 << 40])).is_err());
        let overflow = proto(1, &[i64::MAX, i64::MAX]);
        assert!(decode(&overflow).is_err());
        let neg = proto(1, &[-2]);
        assert!(decode(&neg).unwrap_err().contains("negative"));
        let mut ext = proto(1, &[1]);
        ext.data_location = DataLocation::EXTERNAL.into();
        assert!(decode(&ext).unwrap_err().contains("external"));
        let mut nan = proto(1, &[2]);
        nan.float_data = vec![1.0, f32::NAN];
        assert!(decode(&nan).unwrap_err().contains("#1 is NaN"));
        let mut strings = proto(8, &[1]);
        strings.string_data = vec![b"x".to_vec()];
        assert!(decode(&strings).unwrap_err().contains("STRING"));
        let mut range = proto(3, &[1]);
        range.int32_data = vec![300];
        assert!(decode(&range).unwrap_err().contains("outside"));
        assert_eq!(decode(&proto(1, &[0, 4])).unwrap().len(), 0);
    }

    #[test]
    fn f16_rounding() {
        assert_eq!(round_f16(1.0 + 2f64.powi(-11)), 1.0);
        assert_eq!(round_f16(1.0 + 3.0 * 2f64.powi(-11)), 1.0 + 2f64.powi(-9));
        assert_eq!(round_f16(70000.0), f64::INFINITY);
        assert_eq!(round_f16(-3.0e-8), -2f64.powi(-24));
    }

    #[test]
    fn broadcasting_and_layout() {
        assert_eq!(broadcast_dims(&[2, 1], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_dims(&[2], &[3]), None);
        assert_eq!(broadcast_indices(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(broadcast_indices(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        let t = Tensor::float(vec![2, 3], vec![0., 1., 2., 3., 4., 5.]);
        let tt = transpose(&t, &[1, 0]);
        assert_eq!((tt.dims.clone(), tt.data), (vec![3, 2], Data::Float(vec![0., 3., 1., 4., 2., 5.])));
        // A matrix of more than one tile each way, against the general N-d path.
        let (rows, cols) = (45, 70);
        let m = Tensor::float(vec![rows, cols], (0..rows * cols).map(|v| v as f64).collect());
        let by_tiles = transpose(&m, &[1, 0]);
        let m3 = Tensor::float(vec![1, rows, cols], (0..rows * cols).map(|v| v as f64).collect());
        let general = transpose(&m3, &[0, 2, 1]);
        assert_eq!((by_tiles.dims, by_tiles.data), (vec![cols, rows], general.data));
        let g = gather(&t, 1, &[2, 0], &[2]);
        assert_eq!(g.data, Data::Float(vec![2., 0., 5., 3.]));
        let c = concat(&[&t, &t], 1);
        assert_eq!(c.dims, vec![2, 6]);
        assert_eq!(c.data, Data::Float(vec![0., 1., 2., 0., 1., 2., 3., 4., 5., 3., 4., 5.]));
    }
}
