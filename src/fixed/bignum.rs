//! A minimal arbitrary-precision unsigned integer for exact decimal conversion (the crate has no
//! big-number dependency outside tests). Little-endian base-2^32 limbs, always normalized (no
//! high zero limbs); only the few operations `decimal.rs` needs, all schoolbook.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    pub(crate) fn from_u128(value: u128) -> Self {
        let mut big = BigUint {
            limbs: (0..4).map(|i| (value >> (32 * i)) as u32).collect(),
        };
        big.normalize();
        big
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    pub(crate) fn bit_len(&self) -> u64 {
        match self.limbs.last() {
            Some(top) => 32 * self.limbs.len() as u64 - u64::from(top.leading_zeros()),
            None => 0,
        }
    }

    /// Number of trailing zero bits (0 for zero).
    pub(crate) fn trailing_zeros(&self) -> u64 {
        let mut count = 0;
        for &limb in &self.limbs {
            if limb != 0 {
                return count + u64::from(limb.trailing_zeros());
            }
            count += 32;
        }
        0
    }

    pub(crate) fn to_u128(&self) -> Option<u128> {
        if self.limbs.len() > 4 {
            return None;
        }
        Some(
            self.limbs
                .iter()
                .rev()
                .fold(0u128, |acc, &limb| (acc << 32) | u128::from(limb)),
        )
    }

    /// `self = self * factor + addend`.
    pub(crate) fn mul_add_small(&mut self, factor: u32, addend: u32) {
        let mut carry = u64::from(addend);
        for limb in &mut self.limbs {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = product as u32;
            carry = product >> 32;
        }
        if carry != 0 {
            self.limbs.push(carry as u32);
        }
        self.normalize();
    }

    /// `self /= divisor` (non-zero), returning the remainder.
    pub(crate) fn div_small(&mut self, divisor: u32) -> u32 {
        let mut remainder = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let current = (remainder << 32) | u64::from(*limb);
            *limb = (current / u64::from(divisor)) as u32;
            remainder = current % u64::from(divisor);
        }
        self.normalize();
        remainder as u32
    }

    pub(crate) fn shl(&mut self, bits: u64) {
        if self.is_zero() {
            return;
        }
        let (limb_shift, bit_shift) = ((bits / 32) as usize, (bits % 32) as u32);
        if bit_shift != 0 {
            let mut carry = 0u32;
            for limb in &mut self.limbs {
                let wide = (u64::from(*limb) << bit_shift) | u64::from(carry);
                *limb = wide as u32;
                carry = (wide >> 32) as u32;
            }
            if carry != 0 {
                self.limbs.push(carry);
            }
        }
        self.limbs.splice(0..0, std::iter::repeat_n(0, limb_shift));
    }

    pub(crate) fn shr(&mut self, bits: u64) {
        let limb_shift = usize::try_from(bits / 32)
            .unwrap_or(usize::MAX)
            .min(self.limbs.len());
        self.limbs.drain(..limb_shift);
        let bit_shift = (bits % 32) as u32;
        if bit_shift != 0 {
            let mut carry = 0u32;
            for limb in self.limbs.iter_mut().rev() {
                let next_carry = *limb << (32 - bit_shift);
                *limb = (*limb >> bit_shift) | carry;
                carry = next_carry;
            }
        }
        self.normalize();
    }

    /// Decimal digits, most significant first (`"0"` for zero).
    pub(crate) fn to_decimal_digits(&self) -> String {
        const CHUNK: u32 = 1_000_000_000;
        let mut rest = self.clone();
        let mut chunks = Vec::new();
        while !rest.is_zero() {
            chunks.push(rest.div_small(CHUNK));
        }
        let mut out = match chunks.pop() {
            Some(top) => top.to_string(),
            None => return "0".to_string(),
        };
        for chunk in chunks.iter().rev() {
            out.push_str(&format!("{chunk:09}"));
        }
        out
    }

    fn normalize(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }
}
