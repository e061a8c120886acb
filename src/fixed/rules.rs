//! Result-type rules: the types `ap_fixed_base` gives to `a + b`, `a - b`, `a * b` and `-a`, and
//! the smallest common type of two types.
//!
//! Contract: every value of the operand types, combined exactly, fits the result type without
//! overflow or loss. Results carry the default modes (`AP_TRN`, `AP_WRAP`) and may be wider than
//! [`MAX_WIDTH`](super::MAX_WIDTH) (e.g. the product of two 64-bit types has 128 bits); call
//! [`FixedType::validate`] before computing with such a type.

use super::types::FixedType;

impl FixedType {
    /// Type of `self + other` (ap_fixed `RType::plus`).
    pub fn exact_add_type(&self, other: &FixedType) -> FixedType {
        let (int, frac) = aligned_int_frac(self, other);
        build(int + 1 + frac, int + 1, self.signed || other.signed)
    }

    /// Type of `self - other` (ap_fixed `RType::minus`): always signed.
    pub fn exact_sub_type(&self, other: &FixedType) -> FixedType {
        let (int, frac) = aligned_int_frac(self, other);
        build(int + 1 + frac, int + 1, true)
    }

    /// Type of `self * other` (ap_fixed `RType::mult`): widths and integer bits add up.
    pub fn exact_mul_type(&self, other: &FixedType) -> FixedType {
        build(
            self.width as i64 + other.width as i64,
            self.integer as i64 + other.integer as i64,
            self.signed || other.signed,
        )
    }

    /// Type of `-self`: one more bit, always signed, as `ap_fixed_base::operator-()`.
    pub fn neg_type(&self) -> FixedType {
        build(self.width as i64 + 1, self.integer as i64 + 1, true)
    }

    /// The smallest type holding every value of both types (ap_fixed `RType::logic`): the finer
    /// resolution, the larger range, signed if either is. Useful for max, clip and comparisons.
    pub fn union_type(&self, other: &FixedType) -> FixedType {
        let (int, frac) = aligned_int_frac(self, other);
        build(int + frac, int, self.signed || other.signed)
    }

    /// Whether every value of `other` is a value of `self` (a finer or equal resolution and a
    /// range that contains `other`'s).
    pub fn covers(&self, other: &FixedType) -> bool {
        let u = self.union_type(other);
        (u.width, u.integer, u.signed) == (self.width, self.integer, self.signed)
    }
}

/// Integer bits needed by both operands once an unsigned one joins a signed one (it then needs a
/// sign bit), and the larger fractional part.
fn aligned_int_frac(a: &FixedType, b: &FixedType) -> (i64, i64) {
    let a_int = a.integer as i64 + i64::from(b.signed && !a.signed);
    let b_int = b.integer as i64 + i64::from(a.signed && !b.signed);
    (a_int.max(b_int), a.frac_bits_i64().max(b.frac_bits_i64()))
}

/// A default-mode type, saturating absurd widths or integer bits into the field ranges.
fn build(width: i64, integer: i64, signed: bool) -> FixedType {
    let width = width.clamp(0, u32::MAX as i64) as u32;
    let integer = integer.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
    FixedType::new(width, integer, signed)
}
