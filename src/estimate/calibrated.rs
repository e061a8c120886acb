//! Which layers the calibration set covers: a layer's estimate is trusted only where some point of
//! `golden/calibration/points.csv` has a layer of its kind in the same io type, strategy and reuse
//! class (1 or above), since that is where the cost model was checked against csynth reports.
//!
//! [`CALIBRATED`] is the one list of covered combinations; `tests/estimate_calibration.rs`
//! derives the same set from the used calibration points and fails when the two differ, so the
//! list follows the calibration set. Reports flag the other layers ([`LayerEstimate::calibrated`]).
//!
//! [`LayerEstimate::calibrated`]: super::LayerEstimate::calibrated

/// Every `io strategy reuse kind` combination ([`key`]) that has a calibration point.
pub const CALIBRATED: &[&str] = &[
    "io_parallel latency rf1 activation.elu",
    "io_parallel latency rf1 activation.leaky_relu",
    "io_parallel latency rf1 activation.prelu",
    "io_parallel latency rf1 activation.relu",
    "io_parallel latency rf1 activation.sigmoid",
    "io_parallel latency rf1 dense",
    "io_parallel latency rf1 input",
    "io_parallel latency rf1 pool.average",
    "io_parallel latency rf1 pool.max",
    "io_parallel latency rf1 softmax",
    "io_parallel resource rf1 conv",
    "io_stream latency rf1 activation.elu",
    "io_stream latency rf1 activation.leaky_relu",
    "io_stream latency rf1 activation.prelu",
    "io_stream latency rf1 activation.relu",
    "io_stream latency rf1 activation.sigmoid",
    "io_stream latency rf1 conv",
    "io_stream latency rf1 dense",
    "io_stream latency rf1 input",
];

/// The combination of a layer: `io` (`io_parallel`/`io_stream`), its strategy name, `rf1` or
/// `rf>1`, its qualified kind (`activation.relu`).
pub fn key(io: &str, strategy: &str, reuse_factor: u64, kind: &str) -> String {
    let reuse = if reuse_factor > 1 { "rf>1" } else { "rf1" };
    format!("{io} {strategy} {reuse} {kind}")
}

/// Whether some calibration point covers the combination.
pub fn is_calibrated(io: &str, strategy: &str, reuse_factor: u64, kind: &str) -> bool {
    CALIBRATED.contains(&key(io, strategy, reuse_factor, kind).as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_sorted_and_unique() {
        assert!(super::CALIBRATED.windows(2).all(|w| w[0] < w[1]));
    }
}
