//! A cycle-level model of an `io_stream` dataflow design: processes (one per layer, a source per
//! top input, a sink per top output) connected by FIFO streams. [`run`] plays the network for a
//! number of frames (samples) and reports each process's frame start and end cycles (hence
//! latency and II) and the maximum occupancy of each stream, from which FIFO depths are set.
//! It is a pure, deterministic function that returns errors instead of panicking.
//!
//! Semantics, exactly:
//!
//! * Time is in cycles `t = 0, 1, 2, ...`. Each stream has exactly one writer port and one reader
//!   port. An item written at cycle `t` can be read from cycle `t + 1` on.
//! * The occupancy of a stream at `t`, as counted for its capacity, is `written(< t) - read(< t)`.
//!   A write at `t` is possible iff that plus one is at most the capacity (`None`: unbounded).
//!   The reported maximum occupancy is the maximum over `t` of `written(<= t) - read(< t)`, so
//!   running again with every capacity set to it never blocks a write and gives the same
//!   schedule.
//! * A process runs its [`Process::steps`] for frame 0, then frame 1, and so on. Step `n` may
//!   issue at `t` when `t >= issue(n - 1) + ii(n - 1)` (the first step: `t >= 0`; a frame's first
//!   step follows the previous frame's last step by the same rule), the process is not stalled at
//!   `t`, and every input port in `reads` holds a readable item. Issuing consumes one item from
//!   each of those streams at `t`; the step's writes (one item per port in `writes`) are due at
//!   `t + depth`.
//! * A process whose writes due at `t` cannot all be done (a target stream is full) stalls: at `t`
//!   it writes nothing and issues nothing, and its pending writes and earliest next issue all move
//!   one cycle later (the whole pipeline freezes). With `depth == 0` the writes are due at the
//!   issue itself, so a step whose outputs are full does not issue.
//! * Decisions at `t` depend only on the state before `t`, so the order in which processes are
//!   evaluated does not matter; a stream may be read and written in the same cycle.
//! * The run ends when every process has issued every step of every frame and done all its
//!   writes; [`Timing::cycles`] is the cycle after the last issue or write. When nothing can ever
//!   progress again (no issue, no write, nothing waiting only on time) the run fails with
//!   [`DataflowError::Deadlock`] naming each blocked process and the stream it waits on.
//! * A network is malformed when a port names a missing stream, a stream has not exactly one
//!   writer and one reader, a step names a missing port, a step has `ii == 0`, a process has no
//!   steps or more than 32 ports on a side, a capacity is `Some(0)`, or a stream's writer writes a
//!   different number of items per frame than its reader reads.
//!
//! Idle stretches (every process waiting on time or on a stream that cannot change) are skipped,
//! so the cost is O(processes) per cycle with an issue or a write.

use std::collections::VecDeque;

use thiserror::Error;

/// One iteration of a process's loop: which input ports it reads when it issues, which output
/// ports it writes `depth` cycles later, and the cycles until its next iteration may issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Bit `k` set: reads input port `k`.
    pub reads: u32,
    /// Bit `k` set: writes output port `k`.
    pub writes: u32,
    pub ii: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub name: String,
    /// Stream index of input port `k`.
    pub inputs: Vec<usize>,
    /// Stream index of output port `k`.
    pub outputs: Vec<usize>,
    /// Cycles from an iteration's issue to its writes.
    pub depth: u64,
    /// The iterations of one frame, in order.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub name: String,
    /// `None`: unbounded.
    pub capacity: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub streams: Vec<Stream>,
    pub processes: Vec<Process>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The cycle after the last issue or write of the run (0 when there is none).
    pub cycles: u64,
    /// Per stream: the maximum of `written(<= t) - read(< t)`.
    pub occupancy: Vec<u64>,
    /// Per process, per frame: the cycle of its last issue or write of that frame's steps.
    pub frame_end: Vec<Vec<u64>>,
    /// Per process, per frame: the cycle its first step of that frame issued.
    pub frame_start: Vec<Vec<u64>>,
}

impl Timing {
    /// Cycles from `source`'s first issue to `sink`'s last event of frame 0, inclusive; `None`
    /// without frames or with an index out of range.
    pub fn latency(&self, source: usize, sink: usize) -> Option<u64> {
        let end = *self.frame_end.get(sink)?.first()?;
        let start = *self.frame_start.get(source)?.first()?;
        end.checked_add(1)?.checked_sub(start)
    }

    /// Cycles between `sink`'s last two frame ends (0 with one frame); `None` without frames or
    /// with an index out of range.
    pub fn interval(&self, sink: usize) -> Option<u64> {
        match self.frame_end.get(sink)?.as_slice() {
            [] => None,
            [_] => Some(0),
            [.., before, last] => last.checked_sub(*before),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DataflowError {
    #[error("dataflow deadlock at cycle {cycle}: {blocked}")]
    Deadlock { cycle: u64, blocked: String },
    #[error("malformed dataflow network: {0}")]
    Malformed(String),
}

/// The port indices whose bits are set in `mask`, lowest first.
fn ports(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let k = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            k
        })
    })
}

fn port_mask(ports: usize) -> u32 {
    if ports >= 32 {
        u32::MAX
    } else {
        (1u32 << ports) - 1
    }
}

fn malformed(what: String) -> DataflowError {
    DataflowError::Malformed(what)
}

fn validate(net: &Network) -> Result<(), DataflowError> {
    let n = net.streams.len();
    let mut writers: Vec<Vec<&str>> = vec![Vec::new(); n];
    let mut readers: Vec<Vec<&str>> = vec![Vec::new(); n];
    let mut written = vec![0u64; n];
    let mut read = vec![0u64; n];
    for s in &net.streams {
        if s.capacity == Some(0) {
            return Err(malformed(format!("stream `{}` has capacity 0", s.name)));
        }
    }
    for p in &net.processes {
        if p.inputs.len() > 32 || p.outputs.len() > 32 {
            return Err(malformed(format!("process `{}` has more than 32 ports on a side", p.name)));
        }
        if p.steps.is_empty() {
            return Err(malformed(format!("process `{}` has no steps", p.name)));
        }
        for (side, list, users) in [("input", &p.inputs, &mut readers), ("output", &p.outputs, &mut writers)]
        {
            for (k, &s) in list.iter().enumerate() {
                let Some(users) = users.get_mut(s) else {
                    return Err(malformed(format!(
                        "process `{}` {side} port {k} names stream {s} of {n}",
                        p.name
                    )));
                };
                users.push(&p.name);
            }
        }
        for (i, step) in p.steps.iter().enumerate() {
            if step.ii == 0 {
                return Err(malformed(format!("process `{}` step {i} has ii 0", p.name)));
            }
            if step.reads & !port_mask(p.inputs.len()) != 0 || step.writes & !port_mask(p.outputs.len()) != 0
            {
                return Err(malformed(format!(
                    "process `{}` step {i} names a port it does not have",
                    p.name
                )));
            }
            for k in ports(step.reads) {
                read[p.inputs[k]] += 1;
            }
            for k in ports(step.writes) {
                written[p.outputs[k]] += 1;
            }
        }
    }
    for (s, stream) in net.streams.iter().enumerate() {
        for (role, users) in [("writer", &writers[s]), ("reader", &readers[s])] {
            if users.len() != 1 {
                return Err(malformed(format!(
                    "stream `{}` has {} {role} ports ({}), not one",
                    stream.name,
                    users.len(),
                    users.join(", ")
                )));
            }
        }
        if written[s] != read[s] {
            return Err(malformed(format!(
                "stream `{}`: `{}` writes {} items per frame but `{}` reads {}",
                stream.name, writers[s][0], written[s], readers[s][0], read[s]
            )));
        }
    }
    Ok(())
}

/// Writes due `depth` cycles after an issue at `issued`, plus however long the process has been
/// stalled since (`shift` now minus `shift` at the issue).
#[derive(Debug)]
struct Pending {
    issued: u64,
    shift: u64,
    writes: u32,
    frame: usize,
}

#[derive(Debug, Default)]
struct State {
    /// Steps issued so far, over all frames.
    issued: usize,
    /// Earliest cycle the next step may issue.
    next_issue: u64,
    pending: VecDeque<Pending>,
    /// Cycles stalled so far.
    shift: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Done,
    Stall,
    Go { write: bool, issue: bool },
}

fn overflow() -> DataflowError {
    malformed("cycle count overflows u64".into())
}

struct Sim<'a> {
    net: &'a Network,
    total: Vec<usize>,
    count: Vec<u64>,
    state: Vec<State>,
}

impl Sim<'_> {
    fn due(&self, p: usize, w: &Pending) -> Result<u64, DataflowError> {
        let delay = self.state[p].shift - w.shift;
        w.issued
            .checked_add(self.net.processes[p].depth)
            .and_then(|d| d.checked_add(delay))
            .ok_or_else(overflow)
    }

    fn full(&self, s: usize) -> bool {
        self.net.streams[s].capacity.is_some_and(|c| self.count[s] >= c)
    }

    /// The first output port in `mask` whose stream is full.
    fn blocked_output(&self, p: usize, mask: u32) -> Option<usize> {
        let outputs = &self.net.processes[p].outputs;
        ports(mask).map(|k| outputs[k]).find(|&s| self.full(s))
    }

    fn step(&self, p: usize) -> Step {
        let steps = &self.net.processes[p].steps;
        steps[self.state[p].issued % steps.len()]
    }

    /// Whether process `p` could issue its next step at `t`, given only streams.
    fn issuable(&self, p: usize, t: u64) -> bool {
        let (proc, st) = (&self.net.processes[p], &self.state[p]);
        if st.issued >= self.total[p] || st.next_issue > t {
            return false;
        }
        let step = self.step(p);
        ports(step.reads).all(|k| self.count[proc.inputs[k]] > 0)
            && (proc.depth > 0 || self.blocked_output(p, step.writes).is_none())
    }

    fn decide(&self, p: usize, t: u64) -> Result<Action, DataflowError> {
        let st = &self.state[p];
        if st.issued >= self.total[p] && st.pending.is_empty() {
            return Ok(Action::Done);
        }
        let write = match st.pending.front() {
            Some(w) if self.due(p, w)? == t => {
                if self.blocked_output(p, w.writes).is_some() {
                    return Ok(Action::Stall);
                }
                true
            }
            _ => false,
        };
        Ok(Action::Go { write, issue: self.issuable(p, t) })
    }

    /// The earliest cycle after `t` at which waiting process `p` may act without any stream
    /// changing.
    fn wakeup(&self, p: usize, t: u64) -> Result<Option<u64>, DataflowError> {
        let st = &self.state[p];
        let mut next = None;
        if let Some(w) = st.pending.front() {
            next = Some(self.due(p, w)?);
        }
        if st.issued < self.total[p] && st.next_issue > t {
            next = Some(next.map_or(st.next_issue, |n: u64| n.min(st.next_issue)));
        }
        Ok(next.filter(|&n| n > t))
    }

    fn blocked(&self, p: usize) -> String {
        let (proc, st) = (&self.net.processes[p], &self.state[p]);
        let name = |s: usize| &self.net.streams[s].name;
        let full = match st.pending.front() {
            Some(w) => self.blocked_output(p, w.writes),
            None => None,
        };
        if let Some(s) = full {
            return format!("`{}` waits on full output `{}`", proc.name, name(s));
        }
        let step = self.step(p);
        if let Some(k) = ports(step.reads).find(|&k| self.count[proc.inputs[k]] == 0) {
            return format!("`{}` waits on empty input `{}`", proc.name, name(proc.inputs[k]));
        }
        match self.blocked_output(p, step.writes) {
            Some(s) => format!("`{}` waits on full output `{}`", proc.name, name(s)),
            None => format!("`{}` is blocked", proc.name),
        }
    }
}

/// Plays `net` for `frames` frames under the semantics in the module header.
pub fn run(net: &Network, frames: usize) -> Result<Timing, DataflowError> {
    validate(net)?;
    let np = net.processes.len();
    let mut timing = Timing {
        cycles: 0,
        occupancy: vec![0; net.streams.len()],
        frame_end: vec![vec![0; frames]; np],
        frame_start: vec![vec![0; frames]; np],
    };
    let total = net
        .processes
        .iter()
        .map(|p| p.steps.len().checked_mul(frames))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed("steps times frames overflows usize".into()))?;
    let mut sim = Sim {
        net,
        total,
        count: vec![0; net.streams.len()],
        state: (0..np).map(|_| State::default()).collect(),
    };
    let mut actions = vec![Action::Done; np];
    let mut t = 0u64;
    let mut last_event = None;
    loop {
        for (p, action) in actions.iter_mut().enumerate() {
            *action = sim.decide(p, t)?;
        }
        if actions.iter().all(|&a| a == Action::Done) {
            break;
        }
        let mut active = false;
        // Every write of the cycle lands before any read, so the occupancy seen here is
        // `written(<= t) - read(< t)`.
        for (p, &action) in actions.iter().enumerate() {
            let Action::Go { write, issue } = action else {
                continue;
            };
            let proc = &net.processes[p];
            let mut land = |mask: u32, frame: usize, sim: &mut Sim| {
                for k in ports(mask) {
                    let s = proc.outputs[k];
                    sim.count[s] += 1;
                    timing.occupancy[s] = timing.occupancy[s].max(sim.count[s]);
                }
                let end = &mut timing.frame_end[p][frame];
                *end = (*end).max(t);
            };
            if write {
                if let Some(w) = sim.state[p].pending.pop_front() {
                    land(w.writes, w.frame, &mut sim);
                    active = true;
                }
            }
            if issue && proc.depth == 0 {
                let step = sim.step(p);
                land(step.writes, sim.state[p].issued / proc.steps.len(), &mut sim);
            }
        }
        for (p, &action) in actions.iter().enumerate() {
            let proc = &net.processes[p];
            match action {
                Action::Go { issue: true, .. } => {
                    let step = sim.step(p);
                    for k in ports(step.reads) {
                        sim.count[proc.inputs[k]] -= 1;
                    }
                    let st = &mut sim.state[p];
                    let (frame, first) =
                        (st.issued / proc.steps.len(), st.issued.is_multiple_of(proc.steps.len()));
                    if first {
                        timing.frame_start[p][frame] = t;
                    }
                    let end = &mut timing.frame_end[p][frame];
                    *end = (*end).max(t);
                    if proc.depth > 0 && step.writes != 0 {
                        st.pending.push_back(Pending {
                            issued: t,
                            shift: st.shift,
                            writes: step.writes,
                            frame,
                        });
                    }
                    st.issued += 1;
                    st.next_issue = t.checked_add(u64::from(step.ii)).ok_or_else(overflow)?;
                    active = true;
                }
                Action::Stall => {
                    let st = &mut sim.state[p];
                    st.shift += 1;
                    st.next_issue = st.next_issue.checked_add(1).ok_or_else(overflow)?;
                }
                _ => {}
            }
        }
        if active {
            last_event = Some(t);
            t = t.checked_add(1).ok_or_else(overflow)?;
            continue;
        }
        // Nothing moved, so no stream changed: the next event is the earliest wakeup on time
        // alone, and stalled processes stay stalled until then.
        let mut next: Option<u64> = None;
        for (p, &action) in actions.iter().enumerate() {
            if let Action::Go { .. } = action {
                if let Some(n) = sim.wakeup(p, t)? {
                    next = Some(next.map_or(n, |m| m.min(n)));
                }
            }
        }
        let Some(next) = next else {
            let blocked: Vec<String> =
                (0..np).filter(|&p| actions[p] != Action::Done).map(|p| sim.blocked(p)).collect();
            return Err(DataflowError::Deadlock { cycle: t, blocked: blocked.join("; ") });
        };
        let gap = next - t - 1;
        for (p, &action) in actions.iter().enumerate() {
            if action == Action::Stall {
                let st = &mut sim.state[p];
                st.shift += gap;
                st.next_issue = st.next_issue.checked_add(gap).ok_or_else(overflow)?;
            }
        }
        t = next;
    }
    timing.cycles = last_event.map_or(0, |e: u64| e + 1);
    Ok(timing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str) -> Stream {
        Stream { name: name.into(), capacity: None }
    }

    fn step(reads: u32, writes: u32, ii: u32) -> Step {
        Step { reads, writes, ii }
    }

    fn process(name: &str, inputs: &[usize], outputs: &[usize], depth: u64, steps: Vec<Step>) -> Process {
        Process { name: name.into(), inputs: inputs.to_vec(), outputs: outputs.to_vec(), depth, steps }
    }

    /// Runs `net`, then again with every capacity set to the reported occupancy, which must give
    /// the same timing.
    fn run_checked(net: &Network, frames: usize) -> Timing {
        let timing = run(net, frames).unwrap();
        let mut tight = net.clone();
        for (s, &occ) in tight.streams.iter_mut().zip(&timing.occupancy) {
            s.capacity = Some(occ.max(1));
        }
        assert_eq!(run(&tight, frames).unwrap(), timing);
        timing
    }

    #[test]
    fn source_to_sink() {
        let net = Network {
            streams: vec![stream("s")],
            processes: vec![
                process("src", &[], &[0], 0, vec![step(0, 1, 1); 4]),
                process("sink", &[0], &[], 0, vec![step(1, 0, 1); 4]),
            ],
        };
        let t = run_checked(&net, 1);
        // Writes at 0..=3, reads at 1..=4. At t = 1 the item of cycle 0 is still there (its read
        // is at 1) and the item of cycle 1 has landed: occupancy 2.
        assert_eq!(t.frame_start, vec![vec![0], vec![1]]);
        assert_eq!(t.frame_end, vec![vec![3], vec![4]]);
        assert_eq!(t.occupancy, vec![2]);
        assert_eq!(t.latency(0, 1), Some(5));
        assert_eq!(t.cycles, 5);
        assert_eq!(t.interval(1), Some(0));
    }

    #[test]
    fn pipeline_in_between() {
        let net = Network {
            streams: vec![stream("in"), stream("out")],
            processes: vec![
                process("src", &[], &[0], 0, vec![step(0, 1, 1); 4]),
                process("pipe", &[0], &[1], 3, vec![step(1, 1, 1); 4]),
                process("sink", &[1], &[], 0, vec![step(1, 0, 1); 4]),
            ],
        };
        let t = run_checked(&net, 1);
        // src writes 0..=3; pipe issues 1..=4 and writes 4..=7; sink reads 5..=8.
        assert_eq!(t.frame_start, vec![vec![0], vec![1], vec![5]]);
        assert_eq!(t.frame_end, vec![vec![3], vec![7], vec![8]]);
        assert_eq!(t.occupancy, vec![2, 2]);
        assert_eq!(t.latency(0, 2), Some(9));
    }

    #[test]
    fn window_writes_from_its_third_step() {
        let mut steps = vec![step(1, 0, 1); 2];
        steps.extend([step(1, 1, 1); 3]);
        let net = Network {
            streams: vec![stream("in"), stream("out")],
            processes: vec![
                process("src", &[], &[0], 0, vec![step(0, 1, 1); 5]),
                process("conv1d", &[0], &[1], 2, steps),
                process("sink", &[1], &[], 0, vec![step(1, 0, 1); 3]),
            ],
        };
        let t = run_checked(&net, 1);
        // conv1d issues 1..=5; its third step (issued at 3) writes first, at 3 + depth 2 = 5;
        // then 6, 7. The sink reads 6..=8, so `out` holds 2 at t = 6 (written 5, 6; none read).
        assert_eq!(t.frame_end[1], vec![7]);
        assert_eq!(t.frame_start[2], vec![6]);
        assert_eq!(t.occupancy, vec![2, 2]);
        assert_eq!(t.latency(0, 2), Some(9));
    }

    /// A producer (depth 1) writing both a slow consumer (ii 2) on `a` and a fast one on `b`.
    fn slow_and_fast(capacity_a: Option<u64>) -> Network {
        Network {
            streams: vec![Stream { name: "a".into(), capacity: capacity_a }, stream("b")],
            processes: vec![
                process("prod", &[], &[0, 1], 1, vec![step(0, 0b11, 1); 8]),
                process("slow", &[0], &[], 0, vec![step(1, 0, 2); 8]),
                process("fast", &[1], &[], 0, vec![step(1, 0, 1); 8]),
            ],
        }
    }

    #[test]
    fn slow_consumer() {
        let t = run_checked(&slow_and_fast(None), 1);
        // prod writes 1..=8; slow reads 2, 4, ..., 16. At t = 8: 8 written, 3 read (2, 4, 6).
        assert_eq!(t.occupancy, vec![5, 2]);
        assert_eq!(t.frame_end[0], vec![8]);
        assert_eq!(t.latency(0, 1), Some(17));
        assert_eq!(t.latency(0, 2), Some(10));
        assert_eq!(run(&slow_and_fast(Some(5)), 1).unwrap(), t);

        // Capacity 3: the write due at 6 finds a full (5 written, 2 read) and prod freezes a
        // cycle; again at 8 and 10. prod writes 1, 2, 3, 4, 5, 7, 9, 11, so fast reads its last
        // item at 12 instead of 9; slow still reads at 2, 4, ..., 16.
        let t3 = run_checked(&slow_and_fast(Some(3)), 1);
        assert_eq!(t3.occupancy, vec![3, 2]);
        assert_eq!(t3.frame_end, vec![vec![11], vec![16], vec![12]]);
        assert_eq!(t3.latency(0, 2), Some(13));
        assert_eq!(t3.latency(0, 1), Some(17));
    }

    #[test]
    fn fan_in_skew() {
        let net = Network {
            streams: vec![stream("a"), stream("b"), stream("c"), stream("o")],
            processes: vec![
                process("src", &[], &[0, 1], 0, vec![step(0, 0b11, 1); 10]),
                process("deep", &[1], &[2], 3, vec![step(1, 1, 1); 10]),
                process("join", &[0, 2], &[3], 0, vec![step(0b11, 1, 1); 10]),
                process("sink", &[3], &[], 0, vec![step(1, 0, 1); 10]),
            ],
        };
        let t = run_checked(&net, 1);
        // src writes 0..=9; deep reads 1..=10 and writes c at 4..=13; join reads 5..=14. An item
        // of `a` is readable at +1 but read at +5: skew 4 over the direct stream's 2, so `a` holds
        // 6 (at t = 5: 6 written, none read).
        assert_eq!(t.occupancy, vec![6, 2, 2, 2]);
        assert_eq!(t.frame_start[2], vec![5]);
        assert_eq!(t.latency(0, 3), Some(16));
    }

    /// src splits to `a` (straight to join) and `b` (through a frame buffer to join's `f`).
    fn frame_buffer(capacity_a: Option<u64>) -> Network {
        let mut buffer = vec![step(1, 0, 1); 4];
        buffer.extend([step(0, 1, 1); 4]);
        Network {
            streams: vec![
                Stream { name: "a".into(), capacity: capacity_a },
                stream("b"),
                stream("f"),
                stream("o"),
            ],
            processes: vec![
                process("src", &[], &[0, 1], 0, vec![step(0, 0b11, 1); 4]),
                process("buffer", &[1], &[2], 0, buffer),
                process("join", &[0, 2], &[3], 0, vec![step(0b11, 1, 1); 4]),
                process("sink", &[3], &[], 0, vec![step(1, 0, 1); 4]),
            ],
        }
    }

    #[test]
    fn deadlock_is_named() {
        // src writes a and b at 0; at 1 `a` is full, buffer reads b; at 2 nothing can move.
        assert_eq!(
            run(&frame_buffer(Some(1)), 1),
            Err(DataflowError::Deadlock {
                cycle: 2,
                blocked: "`src` waits on full output `a`; `buffer` waits on empty input `b`; \
                          `join` waits on empty input `f`; `sink` waits on empty input `o`"
                    .into(),
            })
        );
        // Unbounded: src writes 0..=3, buffer reads 1..=4 and writes 5..=8, join reads 6..=9, so
        // `a` holds all 4 items of the frame.
        let t = run_checked(&frame_buffer(None), 1);
        assert_eq!(t.occupancy[0], 4);
        assert_eq!(t.latency(0, 3), Some(11));
    }

    #[test]
    fn malformed_networks_are_rejected() {
        let bad = |edit: fn(&mut Network)| {
            let mut net = frame_buffer(None);
            edit(&mut net);
            matches!(run(&net, 1), Err(DataflowError::Malformed(_)))
        };
        assert!(bad(|n| n.streams[1].capacity = Some(0)));
        assert!(bad(|n| n.processes[3].inputs = vec![2]));
        assert!(bad(|n| n.processes[3].inputs = vec![9]));
        assert!(bad(|n| n.processes[3].steps[0].reads = 0b10));
        assert!(bad(|n| n.processes[3].steps[0].ii = 0));
        assert!(bad(|n| n.processes[3].steps.clear()));
        assert!(bad(|n| {
            n.processes[3].steps.pop();
        }));
        assert!(!bad(|_| {}));
    }

    #[test]
    fn multi_frame_interval_is_the_slowest_process() {
        let net = Network {
            streams: vec![stream("in"), stream("out")],
            processes: vec![
                process("src", &[], &[0], 0, vec![step(0, 1, 1); 4]),
                process("slow", &[0], &[1], 2, vec![step(1, 1, 3); 4]),
                process("sink", &[1], &[], 0, vec![step(1, 0, 1); 4]),
            ],
        };
        let t = run_checked(&net, 3);
        // slow issues at 1 + 3n (n = 0..12), writes at 3 + 3n, sink reads at 4 + 3n: frame f ends
        // at 4 + 3(4f + 3) = 13 + 12f. II = 4 steps x ii 3.
        assert_eq!(t.frame_start[1], vec![1, 13, 25]);
        assert_eq!(t.frame_end[2], vec![13, 25, 37]);
        assert_eq!(t.interval(2), Some(12));
        assert_eq!(t.latency(0, 2), Some(14));
        // At t = 10: 11 written to `in`, 3 read (1, 4, 7).
        assert_eq!(t.occupancy, vec![8, 1]);
    }

    #[test]
    fn time_gaps_are_skipped_not_deadlocks() {
        let net = Network {
            streams: vec![stream("s")],
            processes: vec![
                process("src", &[], &[0], 5, vec![step(0, 0, 1_000_000_000), step(0, 1, 1)]),
                process("sink", &[0], &[], 0, vec![step(1, 0, 1)]),
            ],
        };
        let t = run_checked(&net, 2);
        // Frame 0: delay step at 0, write step at 1e9, write at 1e9 + 5. Frame 1 starts at 1e9 + 1,
        // writes at 2e9 + 6; the sink reads at 2e9 + 7.
        assert_eq!(t.frame_end[0], vec![1_000_000_005, 2_000_000_006]);
        assert_eq!(t.frame_start[0], vec![0, 1_000_000_001]);
        assert_eq!(t.cycles, 2_000_000_008);
        assert_eq!(t.interval(1), Some(1_000_000_001));
    }

    #[test]
    fn no_frames() {
        let t = run(&frame_buffer(None), 0).unwrap();
        assert_eq!(t.cycles, 0);
        assert_eq!(t.latency(0, 3), None);
        assert_eq!(t.interval(3), None);
    }
}
