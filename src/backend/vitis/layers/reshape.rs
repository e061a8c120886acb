//! `Reshape` as a call of `cast` (`templates/hlsgen/cast.h`): arrays are flat and row-major, so
//! only the conversion to the output type remains.

use super::{konst, Builder, Operands, Plan};

pub(super) fn plan(ops: &Operands<'_>) -> Plan {
    let mut bld = Builder::new(ops, "cast");
    bld.config.constants.push(konst("n", ops.node.shape.elements()));
    bld.finish("cast.h")
}
