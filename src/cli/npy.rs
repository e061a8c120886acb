//! Reading and writing `.npy` arrays for `sim` and `compile --tb-input`: any real or integer dtype
//! in, float64 out, C order only.

use std::io::{BufReader, BufWriter};

use npyz::WriterBuilder;
use std::path::Path;

use super::CliError;
use crate::flow::InputArray;

fn read_as<T: npyz::Deserialize + Into<f64>>(
    f: npyz::NpyFile<BufReader<std::fs::File>>,
) -> std::io::Result<Vec<f64>> {
    Ok(f.into_vec::<T>()?.into_iter().map(Into::into).collect())
}

/// Reads an array as the values given for one model input.
pub fn read(path: &Path) -> Result<InputArray, CliError> {
    let err = |m: String| CliError::msg(format!("{}: {m}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let npy = npyz::NpyFile::new(BufReader::new(file)).map_err(|e| err(format!("not a .npy file: {e}")))?;
    if npy.order() != npyz::Order::C {
        return Err(err("Fortran-ordered arrays are not supported; save with C order".into()));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let descr = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => return Err(err(format!("unsupported dtype {}", other.descr()))),
    };
    let data = match &descr.as_str()[1..] {
        "f8" => read_as::<f64>(npy),
        "f4" => read_as::<f32>(npy),
        "i4" => read_as::<i32>(npy),
        "i2" => read_as::<i16>(npy),
        "i1" => read_as::<i8>(npy),
        "u4" => read_as::<u32>(npy),
        "u2" => read_as::<u16>(npy),
        "u1" => read_as::<u8>(npy),
        _ => return Err(err(format!("unsupported dtype '{descr}' (use a float or int array)"))),
    }
    .map_err(|e| err(e.to_string()))?;
    if data.len() != shape.iter().product::<usize>() {
        return Err(err("the data does not match the header's shape".into()));
    }
    Ok(InputArray { source: path.display().to_string(), shape, values: data })
}

pub fn write(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), CliError> {
    let err = |e: std::io::Error| CliError::msg(format!("{}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(err)?;
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&shape)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(err)?;
    w.extend(data.iter().copied()).map_err(err)?;
    w.finish().map_err(err)
}
