//! Tensor shapes without the batch dimension.
//!
//! Layout is channels-last: a feature vector is `[n]`, a 1-D signal `[width, channels]`, an image
//! `[height, width, channels]`. Frontends convert channels-first models at import. Elementwise
//! broadcasting follows numpy rules aligned on the trailing axes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest number of elements one tensor may have (activations or weights).
pub const MAX_ELEMENTS: usize = 1 << 28;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    pub fn new(dims: impl Into<Vec<usize>>) -> Self {
        Shape(dims.into())
    }

    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements; saturates at `usize::MAX` so oversized shapes are caught by validation.
    pub fn elements(&self) -> usize {
        self.0.iter().fold(1usize, |acc, &d| acc.saturating_mul(d))
    }

    /// Size of the last (channel) axis; 1 for a scalar.
    pub fn channels(&self) -> usize {
        self.0.last().copied().unwrap_or(1)
    }

    /// True when a constant of shape `self` broadcasts onto `target` (numpy rules, trailing axes).
    pub fn broadcasts_to(&self, target: &Shape) -> bool {
        if self.rank() > target.rank() {
            return self.0[..self.rank() - target.rank()].iter().all(|&d| d == 1)
                && Shape(self.0[self.rank() - target.rank()..].to_vec()).broadcasts_to(target);
        }
        self.0.iter().rev().zip(target.0.iter().rev()).all(|(&a, &b)| a == b || a == 1)
    }

    /// Index into a constant of shape `self` broadcast onto `target`, for flat index `i` of `target`.
    pub fn broadcast_index(&self, target: &Shape, mut i: usize) -> usize {
        let (mut src, mut stride) = (0usize, 1usize);
        let skip = target.rank().saturating_sub(self.rank());
        for axis in (0..target.rank()).rev() {
            let t = target.0[axis];
            let coord = i % t;
            i /= t;
            if axis >= skip {
                let d = self.0[axis - skip + self.rank().saturating_sub(target.rank())];
                if d != 1 {
                    src += coord * stride;
                }
                stride *= d;
            }
        }
        src
    }
}

impl Shape {
    /// The extents joined by `×` (`8×8×1`: height, width, channels), as reports show them.
    pub fn extents(&self) -> String {
        self.0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting() {
        let t = Shape::new([2, 3]);
        assert!(Shape::new([3]).broadcasts_to(&t));
        assert!(Shape::new([1, 3]).broadcasts_to(&t));
        assert!(Shape::new([2, 1]).broadcasts_to(&t));
        assert!(Shape::new([1, 1, 3]).broadcasts_to(&t));
        assert!(!Shape::new([2]).broadcasts_to(&t));
        assert_eq!(Shape::new([3]).broadcast_index(&t, 4), 1);
        assert_eq!(Shape::new([2, 1]).broadcast_index(&t, 4), 1);
        assert_eq!(Shape::new([]).broadcast_index(&t, 5), 0);
        assert_eq!(Shape::new([2, 3]).broadcast_index(&t, 5), 5);
    }
}
