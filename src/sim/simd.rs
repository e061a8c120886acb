//! CPU feature detection and exact integer/double conversions for the vectorised kernels.
//!
//! The crate is built for the baseline x86-64 target (SSE2). Hot loops are written once as
//! `#[inline(always)]` bodies and instantiated twice: as they are, and inside a function compiled
//! with AVX2 and FMA enabled, which runs when [`has_avx2_fma`] says the CPU has them. Every kernel
//! computes exact integers, so results never depend on which version runs.

/// Whether the CPU supports AVX2 and FMA.
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU supports AVX2 and AVX-512 VNNI on 256-bit vectors (`vpdpwssd`).
pub(crate) fn has_avx512_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        has!("avx2") && has!("avx512f") && has!("avx512vl") && has!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `1.5 * 2^52`: adding it to an integer-valued double below `2^51` in magnitude puts the integer
/// in the low mantissa bits, which makes conversions to and from `i64` two vector operations.
const MAGIC: f64 = 6_755_399_441_055_744.0;
const MAGIC_BITS: i64 = 0x4338_0000_0000_0000;

/// Largest magnitude (exclusive) [`to_f64`] and [`to_i64`] convert exactly.
pub(crate) const MAGIC_LIMIT: i128 = 1 << 51;

/// `x as f64` for `|x| < 2^51`.
#[inline(always)]
pub(crate) fn to_f64(x: i64) -> f64 {
    f64::from_bits(x.wrapping_add(MAGIC_BITS) as u64) - MAGIC
}

/// `a as i64` for an integer-valued `|a| < 2^51`.
#[inline(always)]
pub(crate) fn to_i64(a: f64) -> i64 {
    ((a + MAGIC).to_bits() as i64).wrapping_sub(MAGIC_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_conversions_are_exact_below_the_limit() {
        let limit = MAGIC_LIMIT as i64;
        for x in [0, 1, -1, 2, -3, 12345, -98765, limit - 1, -(limit - 1), 1 << 40, -(1 << 47) - 5] {
            assert_eq!(to_f64(x), x as f64);
            assert_eq!(to_i64(x as f64), x);
        }
        assert_eq!(to_i64(-0.0), 0);
    }
}
