//! C++ spellings of fixed-point types.

use crate::fixed::FixedType;

/// The C++ spelling of a type: always `ap_[u]fixed<..>` (an `ap_int<W>` target converts by
/// truncating toward zero, unlike the IR's `ap_fixed<W,W>` semantics).
pub fn cpp_type(ty: &FixedType) -> String {
    ty.ap_fixed_spelling()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{OverflowMode, QuantMode};

    #[test]
    fn spells_types() {
        assert_eq!(cpp_type(&FixedType::new(16, 6, true)), "ap_fixed<16,6>");
        let t = FixedType::new(18, 1, false).with_modes(QuantMode::Rnd, OverflowMode::Sat);
        assert_eq!(cpp_type(&t), "ap_ufixed<18,1,AP_RND,AP_SAT>");
        let t = FixedType::new(8, -2, true).with_modes(QuantMode::RndConv, OverflowMode::Wrap);
        assert_eq!(cpp_type(&t), "ap_fixed<8,-2,AP_RND_CONV,AP_WRAP>");
        assert_eq!(cpp_type(&FixedType::int(8, true)), "ap_fixed<8,8>");
        assert_eq!(cpp_type(&FixedType::int(3, false)), "ap_ufixed<3,3>");
        let t = FixedType::int(8, true).with_modes(QuantMode::Trn, OverflowMode::Sat);
        assert_eq!(cpp_type(&t), "ap_fixed<8,8,AP_TRN,AP_SAT>");
    }
}
