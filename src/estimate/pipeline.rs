//! Register placement: turns the combinational delays of each layer into pipeline cycles and
//! pipeline registers, the way HLS schedules a pipelined `io_parallel` top function.
//!
//! HLS chains operations into one cycle while their summed delay fits the clock period minus its
//! uncertainty, then starts a new cycle; the values live at that point are registered. The
//! schedule runs through the graph in topological order and carries the time used in the current
//! cycle from one layer to the next (a layer that fits in what is left of a cycle adds no
//! latency, as in the csynth reports where a ReLU after a dense layer takes 0 cycles).

/// One step of a layer's datapath.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// Combinational logic of `ns` reading `bits_in` live bits (the bits registered if a cycle
    /// boundary falls just before it).
    Comb { ns: f64, bits_in: u64 },
    /// An operation of fixed latency (a time-multiplexed multiplier's steps) that registers
    /// `ff_bits` fabric bits in all.
    Fixed { cycles: u32, ff_bits: u64 },
    /// A block-RAM read of `cycles`: its address must come from a register, so a cycle that has
    /// already started ends first; registers `ff_bits` fabric bits in all.
    Rom { cycles: u32, ff_bits: u64 },
}

/// The bits a schedule registers: at the cycle boundaries it places between combinational
/// stages, and inside fixed-latency operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registers {
    pub boundary: u64,
    pub fixed: u64,
}

impl Registers {
    /// Flip-flops: boundary bits at `per_boundary_bit` each, fixed bits at one each.
    pub fn ff(&self, per_boundary_bit: f64) -> f64 {
        self.boundary as f64 * per_boundary_bit + self.fixed as f64
    }
}

/// A point in the schedule: whole cycles elapsed and nanoseconds used in the current cycle.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Time {
    pub cycle: u64,
    pub fill: f64,
}

impl Time {
    /// The later of two points.
    pub fn max(self, other: Time) -> Time {
        if (other.cycle, other.fill) > (self.cycle, self.fill) {
            other
        } else {
            self
        }
    }
}

/// Schedules `stages` from `start` with `period` usable ns per cycle (already net of the clock
/// uncertainty) and delays multiplied by `speed`. Returns the end point and the registered bits.
pub fn schedule(start: Time, stages: &[Stage], period: f64, speed: f64) -> (Time, Registers) {
    let mut t = start;
    let mut ff = 0u64;
    let mut fixed = 0u64;
    for s in stages {
        match *s {
            Stage::Comb { ns, bits_in } => {
                let ns = ns * speed;
                if ns <= 0.0 {
                    continue;
                }
                if t.fill > 0.0 && t.fill + ns > period {
                    t.cycle += 1;
                    t.fill = 0.0;
                    ff += bits_in;
                }
                if ns > period {
                    let extra = (ns / period).ceil() as u64 - 1;
                    t.cycle += extra;
                    ff += bits_in * extra;
                    t.fill = ns - extra as f64 * period;
                } else {
                    t.fill += ns;
                }
            }
            Stage::Fixed { cycles, ff_bits } => {
                if cycles > 0 {
                    t.cycle += u64::from(cycles);
                    t.fill = 0.0;
                    fixed += ff_bits;
                }
            }
            Stage::Rom { cycles, ff_bits } => {
                t.cycle += u64::from(cycles) + u64::from(t.fill > 0.0);
                t.fill = 0.0;
                fixed += ff_bits;
            }
        }
    }
    (t, Registers { boundary: ff, fixed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaining_and_registers() {
        let comb = |ns| Stage::Comb { ns, bits_in: 10 };
        let (t, ff) = schedule(Time::default(), &[comb(1.0), comb(1.0)], 3.0, 1.0);
        assert_eq!((t.cycle, ff.boundary), (0, 0));
        let (t, ff) = schedule(Time::default(), &[comb(2.0), comb(2.0)], 3.0, 1.0);
        assert_eq!((t.cycle, ff.boundary), (1, 10));
        let (t, ff) = schedule(Time::default(), &[comb(7.0)], 3.0, 1.0);
        assert_eq!((t.cycle, ff.boundary), (2, 20));
        let rom = Stage::Rom { cycles: 2, ff_bits: 5 };
        let (t, ff) = schedule(Time::default(), &[comb(1.0), rom], 3.0, 1.0);
        assert_eq!((t.cycle, t.fill, ff), (3, 0.0, Registers { boundary: 0, fixed: 5 }));
        let (t, _) = schedule(Time::default(), &[rom], 3.0, 1.0);
        assert_eq!(t.cycle, 2);
        let (t, _) =
            schedule(Time::default(), &[comb(1.0), Stage::Fixed { cycles: 2, ff_bits: 0 }], 3.0, 1.0);
        assert_eq!((t.cycle, t.fill), (2, 0.0));
        let (t, _) = schedule(Time::default(), &[comb(2.0)], 3.0, 2.0);
        assert_eq!(t.cycle, 1);
    }
}
