//! Where a constant matrix's pipeline registers go, and what the backend records about each
//! layer's register stages for the timing report ([`crate::arch::timing`]).
//!
//! [`Pipe`] says how many stages a matrix gets: `--pipeline-stages N` spreads `N - 1` cuts evenly
//! over the adder depth ([`Mode::Even`]); `--clock-period` takes the least stage count whose
//! slowest stage meets the period ([`Mode::Period`]); a layer whose matrices (a convolution's
//! output positions) need different counts is built again with the largest count for all of them
//! ([`Mode::Fit`]: exactly that many stages, cut where the slowest stage is fastest).

use crate::arch::mcm::Plan;
use crate::arch::timing::{MatrixTiming, Path, Segment};
use crate::estimate::coeffs::CellDelays;

/// How many stages each matrix gets; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Even(u32),
    Period(f64),
    Fit(u32),
}

/// A [`Mode`] with the cell delays the stages are timed with.
#[derive(Debug, Clone, Copy)]
pub struct Pipe<'a> {
    pub mode: Mode,
    pub delays: &'a CellDelays,
}

/// One layer's register stages as built: the count, and for each stage the slowest segment over
/// the layer's matrices (one entry for a layer without matrices).
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub stages: u32,
    pub segments: Vec<Segment>,
}

impl Record {
    fn add(&mut self, segments: &[Segment], d: &CellDelays) {
        self.stages = self.stages.max(segments.len() as u32);
        for (k, s) in segments.iter().enumerate() {
            match self.segments.get_mut(k) {
                Some(have) if have.path.delay(d) >= s.path.delay(d) => {}
                Some(have) => *have = *s,
                None => self.segments.push(*s),
            }
        }
    }
}

impl Pipe<'_> {
    /// The cuts of `plan` whose outputs pass through `tail` before their register; records the
    /// stages in `rec`.
    pub fn cuts(&self, plan: &Plan, tail: Path, rec: &mut Record) -> Vec<u32> {
        let t = MatrixTiming::new(plan, tail, self.delays);
        let cuts = match self.mode {
            Mode::Even(n) => plan.even_cuts(n),
            Mode::Period(p) => t.cuts(t.stages_for(p)),
            Mode::Fit(k) => t.cuts(k),
        };
        rec.add(&t.segments(&cuts), self.delays);
        cuts
    }
}
