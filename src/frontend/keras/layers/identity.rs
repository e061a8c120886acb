//! Layers that do nothing at inference (`Dropout` and its variants, `GaussianNoise`,
//! `ActivityRegularization`): they produce no IR layer; their readers read their input.

use super::{Cfg, Plan};
use crate::frontend::keras::config::Generation;

pub(super) fn plan(_: &Cfg, _: Generation) -> Result<Plan, String> {
    Ok(Plan::Identity)
}
