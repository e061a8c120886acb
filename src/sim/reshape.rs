//! `Reshape`: the same values in row-major order, `cast` to the output type. Activations are
//! stored row-major per sample, so only the cast remains: a [`CastKernel`].

pub(crate) use super::cast::CastKernel as ReshapeKernel;
