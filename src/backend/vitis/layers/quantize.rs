//! `Quantize` as a call of `cast` (`templates/hlsgen/cast.h`): the conversion to the type the model
//! fixed.

use super::{konst, Builder, Operands, Plan};

pub(super) fn plan(ops: &Operands<'_>) -> Plan {
    let mut bld = Builder::new(ops, "cast");
    bld.config.constants.push(konst("n", ops.node.shape.elements()));
    bld.finish("cast.h")
}
