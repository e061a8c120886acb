//! The FPGA part database: resource counts, DSP slice kind and a timing class per device.
//!
//! A part is named by its full Xilinx/AMD name (`xcvu9p-flga2104-2L-e`) or by its device name alone
//! (`xcvu9p`), which resolves to the default full name listed here. A full name with another
//! package or speed grade of a known device is accepted: the resources are those of the die and the
//! speed grade is read from the name. Anything else is an [`EstimateError::UnknownPart`] that lists
//! the known devices.
//!
//! Resource counts are the device totals from the AMD product tables: DS890 (UltraScale
//! architecture overview: Kintex UltraScale, Virtex UltraScale+), DS891 (Zynq UltraScale+ MPSoC),
//! DS190 (Zynq-7000), DS180 (7 series), DS962 (Alveo U250), DS989 (Alveo U55C) and DS950 (Versal
//! AI Core). The xcu250 and xc7z020 rows agree with the `Available` rows of the Vivado HLS reports
//! in `tests/data/reports/`. Block RAM is counted in 18 Kb halves (`bram18 = 2 x` RAMB36 tiles),
//! which is the unit HLS reports use.

use serde::Serialize;

use super::EstimateError;

/// The hard multiplier of a part's DSP slice, with its signed operand widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DspKind {
    /// 7 series DSP48E1: 25 x 18 two's-complement multiplier (UG479).
    Dsp48E1,
    /// UltraScale/UltraScale+ DSP48E2: 27 x 18 multiplier (UG579).
    Dsp48E2,
    /// Versal DSP58: 27 x 24 multiplier in its fixed-point mode (AM004).
    Dsp58,
}

impl DspKind {
    /// Signed operand widths `(a, b)` of one multiplier, `a >= b`.
    pub fn operand_widths(self) -> (u32, u32) {
        match self {
            DspKind::Dsp48E1 => (25, 18),
            DspKind::Dsp48E2 => (27, 18),
            DspKind::Dsp58 => (27, 24),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DspKind::Dsp48E1 => "DSP48E1",
            DspKind::Dsp48E2 => "DSP48E2",
            DspKind::Dsp58 => "DSP58",
        }
    }
}

/// Device family, which sets the fabric speed relative to UltraScale+.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Family {
    Series7,
    UltraScale,
    UltraScalePlus,
    Versal,
}

/// One device with the resources the estimate is compared against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// Full part name as given (or the default full name when a short name was given).
    pub name: String,
    /// Device name, e.g. `xcvu9p`.
    pub device: &'static str,
    pub family: Family,
    /// Speed grade digit and suffix as written in the name, e.g. `2L`, `1`.
    pub speed_grade: String,
    pub dsp_kind: DspKind,
    pub dsp: u64,
    pub lut: u64,
    pub ff: u64,
    /// Block RAM in 18 Kb units.
    pub bram18: u64,
    pub uram: u64,
}

struct Device {
    device: &'static str,
    default_name: &'static str,
    family: Family,
    dsp_kind: DspKind,
    dsp: u64,
    lut: u64,
    ff: u64,
    bram18: u64,
    uram: u64,
}

/// The known devices, sorted by device name.
const DEVICES: &[Device] = &[
    Device {
        device: "xc7vx690t",
        default_name: "xc7vx690tffg1761-2",
        family: Family::Series7,
        dsp_kind: DspKind::Dsp48E1,
        dsp: 3600,
        lut: 433_200,
        ff: 866_400,
        bram18: 2940,
        uram: 0,
    },
    Device {
        device: "xc7z020",
        default_name: "xc7z020clg400-1",
        family: Family::Series7,
        dsp_kind: DspKind::Dsp48E1,
        dsp: 220,
        lut: 53_200,
        ff: 106_400,
        bram18: 280,
        uram: 0,
    },
    Device {
        device: "xcku115",
        default_name: "xcku115-flvb2104-2-i",
        family: Family::UltraScale,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 5520,
        lut: 663_360,
        ff: 1_326_720,
        bram18: 4320,
        uram: 0,
    },
    Device {
        device: "xcu250",
        default_name: "xcu250-figd2104-2L-e",
        family: Family::UltraScalePlus,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 12_288,
        lut: 1_728_000,
        ff: 3_456_000,
        bram18: 5376,
        uram: 1280,
    },
    Device {
        device: "xcu55c",
        default_name: "xcu55c-fsvh2892-2L-e",
        family: Family::UltraScalePlus,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 9024,
        lut: 1_303_680,
        ff: 2_607_360,
        bram18: 4032,
        uram: 960,
    },
    Device {
        device: "xcvc1902",
        default_name: "xcvc1902-vsva2197-2MP-e-S",
        family: Family::Versal,
        dsp_kind: DspKind::Dsp58,
        dsp: 1968,
        lut: 899_840,
        ff: 1_799_680,
        bram18: 1934,
        uram: 463,
    },
    Device {
        device: "xcvu13p",
        default_name: "xcvu13p-flga2577-2-e",
        family: Family::UltraScalePlus,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 12_288,
        lut: 1_728_000,
        ff: 3_456_000,
        bram18: 5376,
        uram: 1280,
    },
    Device {
        device: "xcvu9p",
        default_name: "xcvu9p-flga2104-2L-e",
        family: Family::UltraScalePlus,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 6840,
        lut: 1_182_240,
        ff: 2_364_480,
        bram18: 4320,
        uram: 960,
    },
    Device {
        device: "xczu3eg",
        default_name: "xczu3eg-sbva484-1-e",
        family: Family::UltraScalePlus,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 360,
        lut: 70_560,
        ff: 141_120,
        bram18: 432,
        uram: 0,
    },
    Device {
        device: "xczu9eg",
        default_name: "xczu9eg-ffvb1156-2-e",
        family: Family::UltraScalePlus,
        dsp_kind: DspKind::Dsp48E2,
        dsp: 2520,
        lut: 274_080,
        ff: 548_160,
        bram18: 1824,
        uram: 0,
    },
];

/// The device names of every known part, sorted.
pub fn known_devices() -> Vec<&'static str> {
    DEVICES.iter().map(|d| d.device).collect()
}

/// The default full names of every known part, sorted by device name.
pub fn known_parts() -> Vec<&'static str> {
    DEVICES.iter().map(|d| d.default_name).collect()
}

/// Resolves a short or full part name (case-insensitive).
pub fn lookup(name: &str) -> Result<Part, EstimateError> {
    let lower = name.trim().to_ascii_lowercase();
    let unknown = || EstimateError::UnknownPart { name: name.to_string(), known: known_parts().join(", ") };
    // Longest device name first so that `xcvu13p` is not read as a package of a shorter device.
    let mut by_len: Vec<&Device> = DEVICES.iter().collect();
    by_len.sort_by_key(|d| std::cmp::Reverse(d.device.len()));
    let dev = by_len.into_iter().find(|d| lower.starts_with(d.device)).ok_or_else(unknown)?;
    let rest = &lower[dev.device.len()..];
    let full = if rest.is_empty() { dev.default_name.to_string() } else { name.trim().to_string() };
    if !rest.is_empty() && !rest.starts_with('-') && !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(unknown());
    }
    let speed_grade = speed_grade(&full).ok_or_else(unknown)?;
    Ok(Part {
        name: full,
        device: dev.device,
        family: dev.family,
        speed_grade,
        dsp_kind: dev.dsp_kind,
        dsp: dev.dsp,
        lut: dev.lut,
        ff: dev.ff,
        bram18: dev.bram18,
        uram: dev.uram,
    })
}

/// The first `-`-separated field after the device that starts with a digit (`-2L-e` gives `2L`).
fn speed_grade(full: &str) -> Option<String> {
    full.split('-').skip(1).find(|f| f.starts_with(|c: char| c.is_ascii_digit())).map(|f| f.to_string())
}

impl Part {
    /// Delay multiplier relative to an UltraScale+ -2 device (1.0).
    ///
    /// The family factors follow the ratio of the DSP slice and carry-chain maximum frequencies
    /// between families in the AC/DC data sheets (7 series about 1.4x slower than UltraScale+,
    /// UltraScale about 1.1x, Versal about 0.9x); each speed grade step is taken as 12 %.
    /// These are coarse and were not fitted: the calibration set holds two devices per family at
    /// most.
    pub fn speed_factor(&self) -> f64 {
        let family = match self.family {
            Family::Series7 => 1.4,
            Family::UltraScale => 1.1,
            Family::UltraScalePlus => 1.0,
            Family::Versal => 0.9,
        };
        let grade = match self.speed_grade.chars().next() {
            Some('1') => 1.12,
            Some('3') => 0.88,
            _ => 1.0,
        };
        family * grade
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_resolve_to_default_full_names() {
        let p = lookup("xcvu9p").unwrap();
        assert_eq!(p.name, "xcvu9p-flga2104-2L-e");
        assert_eq!(p.speed_grade, "2L");
        assert_eq!(p.dsp_kind, DspKind::Dsp48E2);
        assert_eq!(p.dsp, 6840);
        assert_eq!(lookup("XCZU3EG").unwrap().name, "xczu3eg-sbva484-1-e");
        assert_eq!(lookup("xc7z020").unwrap().dsp_kind, DspKind::Dsp48E1);
        assert_eq!(lookup("xcvc1902").unwrap().dsp_kind, DspKind::Dsp58);
    }

    #[test]
    fn full_names_keep_their_package_and_grade() {
        let p = lookup("xcku115-flvb2104-2-i").unwrap();
        assert_eq!((p.device, p.speed_grade.as_str(), p.bram18), ("xcku115", "2", 4320));
        let p = lookup("xc7z020clg400-1").unwrap();
        assert_eq!((p.device, p.speed_grade.as_str(), p.lut), ("xc7z020", "1", 53_200));
        let p = lookup("xcvu13p-flga2577-3-e").unwrap();
        assert_eq!((p.device, p.speed_grade.as_str()), ("xcvu13p", "3"));
        assert!(p.speed_factor() < lookup("xcvu13p").unwrap().speed_factor());
    }

    #[test]
    fn every_required_part_is_known() {
        for d in
            ["xcvu9p", "xcvu13p", "xcku115", "xczu3eg", "xczu9eg", "xc7z020", "xc7vx690t", "xcu250", "xcu55c"]
        {
            let p = lookup(d).unwrap();
            assert!(p.dsp > 0 && p.lut > 0 && p.ff == 2 * p.lut && p.bram18 > 0, "{d}");
        }
    }

    #[test]
    fn unknown_parts_list_the_known_ones() {
        let err = lookup("xc9z999").unwrap_err().to_string();
        assert!(
            err.contains("xc9z999")
                && err.contains("xcvu9p-flga2104-2L-e")
                && err.contains("xc7z020clg400-1")
        );
        assert!(lookup("xcvu9p9").is_err());
        assert!(lookup("").is_err());
    }
}
