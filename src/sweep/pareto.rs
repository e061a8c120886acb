//! Pareto fronts of a sweep: the points no other point beats on both counts, higher quality
//! (argmax agreement) and lower cost (LUT + DSP, or latency). A point is on the front when no
//! other point has quality at least as high and cost at least as low with one of the two strictly
//! better; equal points are all on it.

/// For each `(quality, cost)` (`None`: the point takes no part), whether it is on the front.
pub fn front(points: &[Option<(f64, u64)>]) -> Vec<bool> {
    points
        .iter()
        .map(|p| {
            let Some((q, c)) = *p else { return false };
            !points.iter().flatten().any(|&(q2, c2)| q2 >= q && c2 <= c && (q2 > q || c2 < c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominated_points_leave_the_front() {
        let p =
            [Some((0.9, 100)), Some((0.95, 200)), Some((0.9, 150)), None, Some((0.95, 200)), Some((0.8, 50))];
        assert_eq!(front(&p), [true, true, false, false, true, true]);
        assert_eq!(front(&[Some((0.5, 10)), Some((0.6, 10))]), [false, true]);
    }
}
