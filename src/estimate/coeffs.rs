//! Every number of the cost model, with where it comes from.
//!
//! Three kinds of numbers live here:
//!
//! * **facts** from AMD documentation (clock uncertainty defaults, DSP operand widths are in
//!   [`super::part`], block RAM aspect ratios in [`super::arith`]);
//! * **tool behaviour** read off the calibration set (which constant multiplications Vivado HLS and
//!   Vitis HLS keep out of DSP slices);
//! * **fitted coefficients**: LUT and FF scales adjusted by hand, a few iterations, over all the used
//!   points of `golden/calibration/points.csv` at once (never per point) to lower the median
//!   relative error; `tests/estimate_calibration.rs` prints the resulting errors;
//! * **set by hand**: the delays, chosen from typical UltraScale+ operator delays and checked only
//!   against the calibration latencies.
//!
//! Ten numbers differ between the tools (uncertainty, the two constant-multiplication rules, adder
//! and comparison LUTs, ROM latency, the FF scale, io_stream output registers, stream logic and
//! block-RAM read LUTs); every other one is shared.
//!
//! Delays are in nanoseconds for an UltraScale+ -2 device; [`super::Part::speed_factor`] scales them.

use serde::{Deserialize, Serialize};

/// Which HLS compiler synthesizes the emitted project; the estimate predicts that tool's csynth
/// report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HlsTool {
    /// Vivado HLS 2018.x to 2020.1.
    VivadoHls,
    /// Vitis HLS 2020.2 and later (the tool our backend targets).
    #[default]
    VitisHls,
}

impl HlsTool {
    pub fn name(self) -> &'static str {
        match self {
            HlsTool::VivadoHls => "vivado-hls",
            HlsTool::VitisHls => "vitis-hls",
        }
    }
}

impl std::str::FromStr for HlsTool {
    type Err = String;
    /// `vivado` or `vitis` (the command line's words), or the [`HlsTool::name`]s.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "vivado" | "vivado-hls" => Ok(HlsTool::VivadoHls),
            "vitis" | "vitis-hls" => Ok(HlsTool::VitisHls),
            _ => Err(format!("'{s}' is not an HLS tool: give vivado or vitis")),
        }
    }
}

/// The coefficients used for one tool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coeffs {
    /// Default clock uncertainty as a fraction of the period. Fact: Vivado HLS uses 12.5 %
    /// (UG902, `create_clock`), Vitis HLS 27 % (UG1399, "Specifying the Clock Frequency"); the
    /// reports in the calibration set show 0.62 ns and 1.35 ns at 5 ns.
    pub clock_uncertainty: f64,
    /// A constant multiplication whose constant has at most this many significant bits (its odd
    /// part, sign excluded) becomes shift-and-add logic in LUTs, whatever the other operand's
    /// width. Read off the calibration set: Vivado HLS 2019.2 kept 16-bit x 6-bit quantized
    /// weights in DSPs (221 and 214 DSPs for ~256 nonzero first-layer weights, `tut-p4-*`) and
    /// used DSPs for 92 % of the 4,256 products of the 16-bit MLP (`tut-p1-*`), which leaves only
    /// `x * 3 = (x << 1) + x` (2 bits) in LUTs besides zeros and powers of two; Vitis HLS 2024.1
    /// moved all 16-bit x 6-bit products to LUTs (10 DSPs, `fork-p4`; "Vitis HLS has moved
    /// multiplication operations from DSPs into LUTs", hls4ml-tutorial part 4) while keeping
    /// ~94 % of the 16 x 11-bit `lecun_uniform` products of the `unit-dense64-*` points in DSPs.
    pub const_lut_max_bits: u32,
    /// Multiplications whose two operands are both at most this wide go to LUTs: the rule of
    /// thumb quoted for HLS (both operands up to about 10 bits), consistent with the 7-bit
    /// activations x 7-bit weights of the `tut-p4-*` points using no DSP.
    pub fabric_mul_max_width: u32,
    /// csynth LUTs per bit of an adder or subtracter. Fitted per tool: 1.05 on the Vivado HLS MLP
    /// points (~17 LUTs per 16-bit accumulation adder), 0.8 on the Vitis HLS ones.
    pub lut_per_add_bit: f64,
    /// csynth LUTs per partial-product bit (`a * b`, constant trimmed to its significant bits) of
    /// a generic multiplier built in fabric. Fitted to 3.0 on the two Vivado HLS `tut-p4-*` points
    /// (the only ones with such products); hls4ml issue #99 measured ~411 LUTs for an 18 x 18 LUT
    /// multiplier (1.27 per bit) in Vivado HLS 2018.2: small multipliers cost more per bit.
    pub lut_per_fabric_mul_bit: f64,
    /// True when the tool builds a constant multiplication with two narrow operands (see
    /// `fabric_mul_max_width`) as shift-and-add (cost of its adders); false when it estimates it
    /// as a generic fabric multiplier. Vivado HLS estimates such products as generic multipliers
    /// (the 7 x 7-bit products of `tut-p4-*` cost ~100 LUTs each), Vitis HLS as adders
    /// (`fork-p4`: ~20 LUTs per product including its accumulator adder).
    pub const_mul_shift_add: bool,
    /// csynth LUTs per bit of a comparison: a 16-bit ReLU (compare plus a 1-LUT-per-bit select)
    /// costs 39 csynth LUTs in Vitis HLS, hence 1.44 (its max-pooling points agree within 1 %);
    /// Vivado HLS 2020.1's max-pooling points cost 29-31 LUTs per 16-bit compare and select
    /// (`row73`-`row78`), hence 0.85, which keeps its ReLU and PReLU points within 15 %.
    pub lut_per_cmp_bit: f64,
    /// csynth LUTs per bit per extra input of a multiplexer. Fitted to 0.6 on hls4ml's
    /// reuse-factor-2 points (`tut-p2-*`, `fork-p2`: the operand multiplexers of its shared
    /// multipliers), which are no longer calibration points because hls-gen builds another design
    /// at reuse factor 2; kept as the cost of a multiplexer bit.
    pub lut_per_mux_bit: f64,
    /// csynth FFs per live bit at a register boundary the schedule places. Vitis HLS: 1 (one
    /// flip-flop per bit; its pruned and quantized MLP points `fork-p3`/`fork-p4` bracket it,
    /// -4 % and +264 %). Vivado HLS: 2.0, fitted over all Vivado HLS points: its 16-bit MLP
    /// points report twice the boundary bits (49,449 FFs where the schedule registers 24,385
    /// bits, `tut-p1-*`), its operators keeping their own output registers besides the
    /// schedule's. Fixed-latency registers (ROM reads) count one FF per bit in both tools.
    pub ff_per_bit: f64,
    /// io_stream: csynth FFs per bit of each process's output pixel. Read off the calibration
    /// set: Vitis HLS reports 2,064 FFs for a dense layer of 64 outputs and an activation
    /// (`row27`-`row29`, `row39`-`row41`: the 16-bit input and two 1,024-bit output pixels), so 1;
    /// Vivado HLS 2020.1 reports 326 for the same designs (`row62`-`row64`), so 0.
    pub ff_per_stream_out_bit: f64,
    /// io_stream: csynth LUTs per bit of every pixel a stream (FIFO or port) carries, for the
    /// read and write logic around it, besides the FIFO's own storage. Fitted on the io_stream
    /// dense-and-activation points against the same designs in io_parallel: Vivado HLS adds
    /// 2,600-2,950 LUTs over 2,064 stream bits (`row62`-`row64`), hence 1.3; Vitis HLS 180-345
    /// (`row39`-`row41`, `row27`-`row29`), hence 0.15.
    pub lut_per_stream_bit: f64,
    /// csynth LUTs per read of a block-RAM table (its address logic besides the index cast).
    /// Fitted over all points at once: the Vitis HLS sigmoid and ELU points (64 reads) report
    /// 960-9,800 LUTs more than the model without it (per read: 15 to 150, different between
    /// 2023.1 and 2024.1 for one design), hence 100; the Vivado HLS ones 24 (ELU) to 140
    /// (sigmoid) per read, where no single value lowers the median error, hence 0.
    pub lut_per_bram_read: f64,
    /// Cycles of a block-RAM ROM read, after the cycle that registers its address
    /// ([`super::pipeline::Stage::Rom`]). Read off the sigmoid points: the same 64 lookups take 2
    /// cycles in Vivado HLS 2020.1 and 3 in Vitis HLS 2023.1/2024.1, with 1,047 vs 1,689 FFs
    /// (data only vs data and address registered), i.e. a 1-cycle vs a 2-cycle ROM.
    pub rom_read_cycles: u32,
    /// Vivado post-synthesis LUTs per csynth LUT, for the estimate's `after logic synthesis`
    /// prediction ([`super::AfterSynthesis`]); `None` where no pair of reports calibrates it. Vivado
    /// HLS 2020.1: the geometric mean of the three pairs of reports of one design each (a Dense
    /// 16-5 with ReLU, 2,532 csynth vs 1,526 synthesized LUTs, 0.603; hls4ml tutorial's pruned CNN,
    /// 245,466 vs 123,948, 0.505; its quantized pruned CNN, 263,280 vs 118,931, 0.452): 0.516.
    /// Their DSPs agree within 10 % (73 vs 66, 5,414 vs 5,386, 340 vs 353); their FFs do not
    /// follow one ratio (0.30 to 0.83), so FFs are not predicted. No Vitis HLS pair exists.
    pub synth_lut_per_csynth_lut: Option<f64>,
    /// Delays, ns on UltraScale+ -2.
    pub delay: Delays,
}

/// Combinational delays used to place registers (ns on an UltraScale+ -2 device).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delays {
    /// Multiplication through one DSP slice, operands to product. Set so that the `unit-dense64-*`
    /// points fit a DSP product and a ReLU in one 3.65 ns cycle (they report 0 cycles and an
    /// estimated clock of about 3 ns).
    pub dsp_mul: f64,
    /// Fixed part of an adder or comparator delay (LUT plus routing).
    pub add_base: f64,
    /// Carry-chain delay per bit.
    pub add_per_bit: f64,
    /// A 2:1 multiplexer level (one LUT plus routing).
    pub mux: f64,
}

const DELAYS: Delays = Delays { dsp_mul: 2.1, add_base: 0.55, add_per_bit: 0.02, mux: 0.45 };

impl Coeffs {
    pub fn for_tool(tool: HlsTool) -> Coeffs {
        let shared = Coeffs {
            clock_uncertainty: 0.27,
            const_lut_max_bits: 6,
            fabric_mul_max_width: 10,
            lut_per_add_bit: 0.8,
            lut_per_fabric_mul_bit: 3.0,
            const_mul_shift_add: true,
            lut_per_cmp_bit: 1.44,
            lut_per_mux_bit: 0.6,
            ff_per_bit: 1.0,
            ff_per_stream_out_bit: 1.0,
            lut_per_stream_bit: 0.15,
            lut_per_bram_read: 100.0,
            rom_read_cycles: 2,
            synth_lut_per_csynth_lut: None,
            delay: DELAYS,
        };
        match tool {
            HlsTool::VitisHls => shared,
            HlsTool::VivadoHls => Coeffs {
                clock_uncertainty: 0.125,
                const_lut_max_bits: 2,
                const_mul_shift_add: false,
                lut_per_add_bit: 1.05,
                lut_per_cmp_bit: 0.85,
                ff_per_bit: 2.0,
                ff_per_stream_out_bit: 0.0,
                lut_per_stream_bit: 1.3,
                lut_per_bram_read: 0.0,
                rom_read_cycles: 1,
                synth_lut_per_csynth_lut: Some(0.516),
                ..shared
            },
        }
    }
}

/// Per-cell delays of the RTL backend's timing model ([`crate::arch::timing`]), ns, for one
/// device family at speed grade -2. The model and the measurement of `hls-gen synth` (the
/// composition of Yosys's longest path) both turn cell counts into ns with these numbers, so the
/// check "measured path within the model's estimate" compares like with like.
///
/// Where they come from: the parameter definitions are those of the CLB user guides (UG474 for
/// 7 series: `TILO` LUT input to output, `TOPCY` LUT input through the carry logic to `COUT`,
/// `TBYP` `CIN` to `COUT`, `TCKO` clock to `Q`, `TAS` setup; UG574 for UltraScale: a `CARRY8`
/// covers 8 bits of a carry chain, a 7-series `CARRY4` 4 bits). The values are **assumed**, at
/// the magnitude of the data sheets' switching characteristics (DS183 for Virtex-7 -2, DS923 for
/// Virtex UltraScale+ -2): DS923 revision 1.20 no longer tabulates CLB delays (it defers to the
/// Vivado timing analyzer) and the DS183 table could not be retrieved while writing this, so they
/// are not copied from either. The routing allowance `net` (one general-interconnect hop per LUT
/// input and one into the capturing flip-flop) dominates, as it does in placed designs; it is the
/// least certain number and a Vivado timing report is the way to refine it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellDelays {
    /// The family the numbers are for, as `synth_xilinx -family` spells it.
    pub family: &'static str,
    /// Flip-flop clock to output (`TCKO`).
    pub cko: f64,
    /// Flip-flop data setup (`TAS`/`TDICK`).
    pub setup: f64,
    /// One LUT, input to output (`TILO`).
    pub lut: f64,
    /// Routing allowance per general-interconnect hop.
    pub net: f64,
    /// Entering a carry chain from a LUT and leaving the first carry cell (`TOPCY` less the
    /// cascade part).
    pub carry_entry: f64,
    /// Each further carry bit along the chain (`TBYP` divided by the bits of one carry cell).
    pub carry_per_bit: f64,
    /// Bits of one carry cell in the vendor's mapping (`CARRY8` 8, `CARRY4` 4).
    pub carry_cell_bits: u32,
    /// A wide-function multiplexer (`MUXF7`/`MUXF8`).
    pub muxf: f64,
    /// A product through one DSP slice without its internal registers (the estimator's
    /// [`Delays::dsp_mul`] for UltraScale+).
    pub dsp: f64,
}

/// UltraScale+ -2 (xcvu9p and the other `xcup` parts).
pub const CELL_DELAYS_ULTRASCALE_PLUS: CellDelays = CellDelays {
    family: "xcup",
    cko: 0.09,
    setup: 0.06,
    lut: 0.10,
    net: 0.30,
    carry_entry: 0.20,
    carry_per_bit: 0.006,
    carry_cell_bits: 8,
    muxf: 0.10,
    dsp: 2.1,
};

/// 7 series -2 (Artix, Kintex, Virtex-7, Zynq-7000).
pub const CELL_DELAYS_SERIES7: CellDelays = CellDelays {
    family: "xc7",
    cko: 0.35,
    setup: 0.05,
    lut: 0.12,
    net: 0.45,
    carry_entry: 0.40,
    carry_per_bit: 0.028,
    carry_cell_bits: 4,
    muxf: 0.30,
    dsp: 3.0,
};

/// Cells the RTL timing model adds to a stage of `L >= 2` adder levels of a constant matrix:
/// [`MERGED_ADDER_LUTS`] LUTs and one `MUXF` per [`MERGED_ADDER_LEVELS_PER_MUXF`] levels. Yosys
/// merges chains of single-use additions (an output tree's adders) into multi-operand adders
/// (`alumacc`), builds them as compressor trees (`maccmap`), and ABC maps those to LUT6 with
/// `MUXF7`/`MUXF8`: the measured longest paths carry such cells besides one LUT and one carry
/// chain per level. Read off the two paths measured on 2026-12-05 at 5 ns on xcup
/// (`qkeras_3layer` `fc2`, 5 levels: 6 LUTs and 3 MUXF; `bnn_qonnx` `/fc2/MatMul`, 7 levels:
/// 7 LUTs and 3 MUXF).
pub const MERGED_ADDER_LUTS: u32 = 1;
/// See [`MERGED_ADDER_LUTS`].
pub const MERGED_ADDER_LEVELS_PER_MUXF: u32 = 2;
