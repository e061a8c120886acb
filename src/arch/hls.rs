//! The Vitis HLS `io_parallel` design of a lowered graph, decided once: the HLS emitter builds it
//! and the estimator costs it. Each decision below rests on a documented behaviour of Vitis HLS
//! (UG1399, "Vitis High-Level Synthesis User Guide"; UG1448, "Vitis HLS Messaging"):
//!
//! * **Schedule.** When every layer takes one cycle per sample (reuse factor 1, no convolution)
//!   the top function is one pipeline
//!   ([`Schedule::Pipeline`]: `PIPELINE II=1` on the top, every layer function inlined). UG1399
//!   "Function Pipelining": a pipelined function unrolls every loop in its hierarchy, so the whole
//!   network is one unrolled datapath accepting a sample per cycle. A layer with reuse factor
//!   `R > 1`, or a convolution (its positions one after the other), needs a loop that stays rolled, which a pipelined function cannot contain, so then the
//!   top is a dataflow region ([`Schedule::Dataflow`]: `DATAFLOW`, one process per layer,
//!   `ap_ctrl_chain`): UG1448 200-786 "Top-Level Dataflow" (successive calls overlap only with
//!   `ap_ctrl_chain`), UG1448 214-169 "Dataflow Canonical Rules" (each channel has one writer and
//!   one reader, hence the [`Design::splits`] copy processes for tensors read twice or also
//!   output). The region's interval is the largest process interval.
//! * **Kernels.** A dense layer at `R = 1` is unrolled ([`Kernel::Unrolled`]). At `R > 1` it is
//!   [`Kernel::Multiplexed`]: a loop of `R` iterations pipelined with `II=1 rewind` (UG1399
//!   "Rewinding Pipelined Loops for Performance": successive calls overlap when the loop is the
//!   outermost construct of a dataflow process; UG1448 200-950/200-954: no code before the loop,
//!   one loop), each iteration multiplying `K = n_in / R` inputs by the weights of every output:
//!   `n_out · K` multipliers, each tied at compile time to one output and one input lane, reading
//!   input `q·R + r` through an `R`:1 multiplexer. That reorders the accumulation, so it is only
//!   built when [`Dense::order_free`](crate::ir::Dense::order_free) holds; otherwise
//!   [`design`] names the layer.
//! * **Storage** ([`rom_storage`]): a ROM read with a variable address is LUTRAM up to
//!   [`LUTRAM_MAX_BITS`], block RAM above that when the block RAMs it takes are at least half
//!   full ([`BRAM_MIN_FILL`]), LUTRAM otherwise. The Latency strategy keeps multiplexed weights as
//!   completely partitioned constants ([`Storage::Constants`]); the Resource strategy reshapes
//!   them into `R` words of `n_out · K` weights (`ARRAY_RESHAPE dim=2`) bound with `BIND_STORAGE`
//!   to the storage of that rule. Tables are bound the same way, `rom_np` when read more than
//!   twice per cycle (UG1399 "pragma HLS bind_storage").

use std::collections::BTreeMap;

use super::ArchError;
use crate::ir::{Layer, LayerDef, LoweredGraph, NodeId, Strategy};

/// Largest ROM, in bits, kept in LUTs whatever its shape.
pub const LUTRAM_MAX_BITS: u64 = 1024;
/// Smallest fraction of the block RAM bits a ROM must fill to be put in block RAM.
pub const BRAM_MIN_FILL: f64 = 0.5;
/// Bits in one 18 Kb block RAM.
pub const BRAM18_BITS: u64 = 18 * 1024;

/// Block RAM aspect ratios of one RAMB18 (depth x width): UG473 (7 series) and UG573
/// (UltraScale) list the same 18 Kb configurations.
const BRAM18_SHAPES: [(u64, u64); 6] = [(16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)];

/// RAMB18 blocks for one memory of `depth` words of `width` bits with one or two ports.
pub fn bram18_for(depth: u64, width: u64) -> u64 {
    BRAM18_SHAPES.iter().map(|&(d, w)| depth.div_ceil(d) * width.div_ceil(w)).min().unwrap_or(0)
}

/// How the top function runs its layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// One pipeline, `II=1`, every layer inlined.
    Pipeline,
    /// A dataflow region, one process per layer.
    Dataflow,
}

/// How a layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Every operation its own operator; the process (or the top pipeline) accepts a sample per
    /// cycle.
    Unrolled,
    /// A dense layer in `reuse` steps of `per_cycle` inputs each; a sample every `reuse` cycles.
    Multiplexed { reuse: usize, per_cycle: usize },
    /// A convolution: one output position after the other, each a dot product of the window
    /// with every filter in `reuse` steps of `per_cycle` window inputs (all of them at reuse
    /// factor 1); a sample every `positions * reuse` cycles.
    Sliding { positions: usize, reuse: usize, per_cycle: usize },
}

/// Where a constant array lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Completely partitioned: constants folded into the logic (read at constant addresses) or
    /// constant multiplexers (read at the step number).
    Constants,
    /// LUTs as ROM (`impl=lutram`).
    Lutram,
    /// Block RAM (`impl=bram`).
    Bram,
}

impl Storage {
    /// The `impl=` value of `BIND_STORAGE`, for the ROM kinds.
    pub fn bind_impl(self) -> Option<&'static str> {
        match self {
            Storage::Constants => None,
            Storage::Lutram => Some("lutram"),
            Storage::Bram => Some("bram"),
        }
    }
}

/// A constant array read at a variable address.
#[derive(Debug, Clone, PartialEq)]
pub struct Rom {
    /// The constant's role in its layer (`weights`, `table`, `exp_table`, ...).
    pub role: &'static str,
    pub depth: u64,
    /// Bits per word.
    pub width: u64,
    /// Reads per cycle.
    pub readers: u64,
    pub storage: Storage,
}

impl Rom {
    /// The `type=` value of `BIND_STORAGE`: one, two or many read ports.
    pub fn bind_type(&self) -> &'static str {
        match self.readers {
            0 | 1 => "rom_1p",
            2 => "rom_2p",
            _ => "rom_np",
        }
    }

    /// Block RAMs: block RAM has two read ports, so a ROM read by `n` lookups per cycle is
    /// replicated `ceil(n / 2)` times.
    pub fn bram18(&self) -> u64 {
        match self.storage {
            Storage::Bram => self.readers.max(1).div_ceil(2) * bram18_for(self.depth, self.width),
            Storage::Constants | Storage::Lutram => 0,
        }
    }
}

/// The storage of a ROM of `depth` words of `width` bits.
pub fn rom_storage(depth: u64, width: u64) -> Storage {
    let bits = depth * width;
    if bits <= LUTRAM_MAX_BITS {
        return Storage::Lutram;
    }
    let fill = bits as f64 / (bram18_for(depth, width) * BRAM18_BITS) as f64;
    if fill >= BRAM_MIN_FILL {
        Storage::Bram
    } else {
        Storage::Lutram
    }
}

/// One layer's part of the design.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerDesign {
    pub kernel: Kernel,
    /// Its constants read at variable addresses, with their storage.
    pub roms: Vec<Rom>,
}

impl LayerDesign {
    /// The ROM of constant `role`, if it is one.
    pub fn rom(&self, role: &str) -> Option<&Rom> {
        self.roms.iter().find(|r| r.role == role)
    }

    /// Cycles between two samples.
    pub fn ii(&self) -> usize {
        match self.kernel {
            Kernel::Unrolled => 1,
            Kernel::Multiplexed { reuse, .. } => reuse,
            Kernel::Sliding { positions, reuse, .. } => positions * reuse,
        }
    }
}

/// The whole design.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub schedule: Schedule,
    /// Cycles between two samples: the largest layer interval.
    pub ii: usize,
    /// Every node but the inputs.
    pub layers: BTreeMap<NodeId, LayerDesign>,
    /// Dataflow only: tensors read by several processes or ports, each copied by a split process
    /// into one channel per read (value: the number of copies), in the order of [`reads`].
    pub splits: BTreeMap<NodeId, usize>,
}

/// What reads a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Read {
    /// Input `port` of node `node`.
    Layer { node: NodeId, port: usize },
    /// Output port `k` of the top.
    Output(usize),
}

/// Every read of tensor `id`: layer inputs in node order, then output ports in order.
pub fn reads(g: &LoweredGraph, id: NodeId) -> Vec<Read> {
    let mut out = Vec::new();
    let mut users = g.users_of(id);
    users.dedup();
    for u in users {
        for (port, i) in g.inputs_of(u).into_iter().enumerate() {
            if i == id {
                out.push(Read::Layer { node: u, port });
            }
        }
    }
    out.extend(g.outputs().iter().enumerate().filter(|(_, &o)| o == id).map(|(k, _)| Read::Output(k)));
    out
}

/// Decides the design of `g`. Errors name every layer the design cannot build.
pub fn design(g: &LoweredGraph) -> Result<Design, ArchError> {
    let order = g.topo_order()?;
    let inputs = g.inputs();
    let mut layers = BTreeMap::new();
    let mut bad = Vec::new();
    for &id in &order {
        if inputs.contains(&id) {
            continue;
        }
        let x = g.inputs_of(id).first().map(|&i| g.node(i).out_ty()).transpose()?;
        layers.insert(id, layer_design(g.node(id), x, &mut bad)?);
    }
    if !bad.is_empty() {
        return Err(ArchError::Unsupported {
            backend: "Vitis HLS",
            what: format!("layer {}", bad.join("; layer ")),
        });
    }
    let ii = layers.values().map(LayerDesign::ii).max().unwrap_or(1);
    let schedule = if ii > 1 { Schedule::Dataflow } else { Schedule::Pipeline };
    let mut splits = BTreeMap::new();
    if schedule == Schedule::Dataflow {
        for &id in &order {
            let r = reads(g, id);
            let input_out = inputs.contains(&id) && r.iter().any(|x| matches!(x, Read::Output(_)));
            if r.len() >= 2 || input_out {
                splits.insert(id, r.len());
            }
        }
    }
    Ok(Design { schedule, ii, layers, splits })
}

/// The kernel and ROMs of one layer `node` whose first input has type `x`, as the io_parallel
/// design builds it (the io_stream design builds its per-pixel layers the same way). A reuse
/// factor that cannot be built goes to `bad`, naming the layer.
pub fn layer_design(
    node: &crate::ir::Node,
    x: Option<crate::fixed::FixedType>,
    bad: &mut Vec<String>,
) -> Result<LayerDesign, ArchError> {
    let rf = node.reuse_factor.max(1);
    let mut kernel = Kernel::Unrolled;
    let mut roms = Vec::new();
    let order_free = |free: Result<bool, String>| {
        free.map_err(|e| ArchError::Unsupported {
            backend: "Vitis HLS",
            what: format!("layer '{}': {e}", node.name),
        })
    };
    match &node.layer {
        Layer::Dense(d) => {
            let free = match (rf > 1, x) {
                (true, Some(x)) => order_free(d.order_free(&x))?,
                _ => true,
            };
            let weight_bits = d.weights.ty.map_or(0, |t| t.width);
            let rows = node.shape.elements() / d.n_out().max(1);
            if rf > 1 && rows > 1 {
                bad.push(format!(
                    "'{}' (reuse factor {rf}): a row-wise dense layer ({rows} rows) is built at reuse factor 1",
                    node.name
                ));
            } else if let Some(per_cycle) =
                steps(node, d.n_in(), d.n_out(), weight_bits, free, &mut roms, bad)
            {
                kernel = Kernel::Multiplexed { reuse: rf, per_cycle };
            }
        }
        Layer::Conv(c) => {
            let free = match (rf > 1, x) {
                (true, Some(x)) => order_free(c.order_free(&x))?,
                _ => true,
            };
            let weight_bits = c.weights.ty.map_or(0, |t| t.width);
            let positions = node.shape.elements() / node.shape.channels().max(1);
            let per_cycle = steps(node, c.window(), c.filters(), weight_bits, free, &mut roms, bad);
            kernel = Kernel::Sliding { positions, reuse: rf, per_cycle: per_cycle.unwrap_or(c.window()) };
        }
        Layer::Activation(a) => {
            for (role, t) in a.held().tables {
                roms.push(table_rom(role, t, node.shape.elements() as u64));
            }
        }
        Layer::Softmax(s) => {
            let n = node.shape.channels().max(1) as u64;
            let rows = node.shape.elements() as u64 / n;
            roms.push(table_rom("exp_table", &s.exp_table, rows * n));
            roms.push(table_rom("inv_table", &s.inv_table, rows));
        }
        Layer::Input(_)
        | Layer::BatchNorm(_)
        | Layer::Elementwise(_)
        | Layer::Concatenate(_)
        | Layer::Reshape(_)
        | Layer::Quantize(_)
        | Layer::Pool(_)
        | Layer::Pad(_)
        | Layer::UpSample(_)
        | Layer::Transpose(_)
        | Layer::GatherRows(_)
        | Layer::ScatterAdd(_) => {}
        Layer::Reduce(r) => {
            if let Some(t) = &r.table {
                roms.push(table_rom("table", t, node.shape.elements() as u64));
            }
        }
    }
    Ok(LayerDesign { kernel, roms })
}

/// The steps of a dot-product layer (`n_in` inputs, `n_out` outputs) at its reuse factor `R`:
/// `Some(n_in / R)` inputs per step when `R > 1` can be built (its accumulation is order-free and
/// `R` divides `n_in`; otherwise the reason goes to `bad`), `None` at `R = 1`. The Resource
/// strategy's weight ROM (`R` words of `n_out * n_in / R` weights) goes to `roms`.
fn steps(
    node: &crate::ir::Node,
    n_in: usize,
    n_out: usize,
    weight_bits: u32,
    order_free: bool,
    roms: &mut Vec<Rom>,
    bad: &mut Vec<String>,
) -> Option<usize> {
    let rf = node.reuse_factor.max(1);
    if rf == 1 {
        return None;
    }
    if !order_free {
        bad.push(format!(
            "'{}' (reuse factor {rf}): its accumulator neither holds every partial sum nor wraps with \
             AP_TRN, AP_RND or AP_RND_MIN_INF, so accumulating in {rf} steps would change its bits \
             (give it reuse factor 1 or such an accumulator)",
            node.name
        ));
        return None;
    }
    if !n_in.is_multiple_of(rf) {
        bad.push(format!("'{}': reuse factor {rf} does not divide its {n_in} inputs", node.name));
        return None;
    }
    let per_cycle = n_in / rf;
    if node.strategy == Strategy::Resource {
        let width = (n_out * per_cycle) as u64 * u64::from(weight_bits);
        roms.push(Rom {
            role: "weights",
            depth: rf as u64,
            width,
            readers: 1,
            storage: rom_storage(rf as u64, width),
        });
    }
    Some(per_cycle)
}

fn table_rom(role: &'static str, t: &crate::ir::Table, readers: u64) -> Rom {
    let (depth, width) = (t.values.len() as u64, u64::from(t.ty.width));
    Rom { role, depth, width, readers, storage: rom_storage(depth, width) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_from_depth_and_width() {
        // Shallow and wide: the weights of a 16x64 layer at reuse factor 4, 16-bit.
        assert_eq!(rom_storage(4, 64 * 4 * 16), Storage::Lutram);
        assert_eq!(rom_storage(64, 16), Storage::Lutram);
        // 1024 x 18: one full RAMB18.
        assert_eq!(rom_storage(1024, 18), Storage::Bram);
        // 1024 x 8 fills 44 % of its RAMB18 (2048 x 9 would hold it).
        assert_eq!(rom_storage(1024, 8), Storage::Lutram);
        assert_eq!(rom_storage(512, 36), Storage::Bram);
        assert_eq!(rom_storage(128, 72), Storage::Lutram);
        assert_eq!(bram18_for(1024, 18), 1);
        assert_eq!(bram18_for(1024, 36), 2);
        assert_eq!(bram18_for(2, 1000), 28);
        // 64 reads per cycle of a 1024 x 18 table: 32 dual-port copies.
        let rom = Rom { role: "table", depth: 1024, width: 18, readers: 64, storage: Storage::Bram };
        assert_eq!((rom.bram18(), rom.bind_type()), (32, "rom_np"));
        let rom = Rom { readers: 2, storage: Storage::Lutram, ..rom };
        assert_eq!((rom.bram18(), rom.bind_type()), (0, "rom_2p"));
    }
}
