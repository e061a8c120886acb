//! Differential test against Xilinx's `ap_types` headers, the ground truth of the fixed-point
//! model.
//!
//! A seeded generator picks target types covering all 28 quantization × overflow mode pairs
//! (tiny, 64-bit and random shapes, signed and unsigned, integer bits negative or beyond the
//! width, LSBs near the subnormal doubles), source types around each target (finer, coarser, and
//! more than 120 bits away), and values in them (random bit patterns, ties, both ends of the target range and just past them).
//! A generated C++ program performs `ap_fixed<...> d = s;` and `ap_fixed<...> d = (double)x;` for
//! each case and prints the raw bits and `to_double()`; they must equal [`cast`], [`from_f64`] and
//! (for results in the normal double range) [`to_f64`].
//!
//! Headers come from `$HLS_GEN_AP_TYPES`, else `target/ap_types` in the package (see
//! `scripts/fetch_ap_types.sh`). Without them (or without `g++`) the test fails under `CI` and is
//! skipped with a notice otherwise. The program is built with `-DNDEBUG`: with assertions on, the
//! headers abort on a rounding cast whose source LSB lies more than `W_source` bits below the
//! target LSB (they read a bit past the MSB).

use hls_gen::fixed::{cast, from_f64, to_f64, FixedType, OverflowMode, QuantMode};
use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const SEED: u64 = 0x5eed_f1c5_d00d_2024;
const VALUES_PER_CAST: usize = 48;
const VALUES_PER_DOUBLE: usize = 40;
// Each distinct width instantiates a large class template, which dominates the compile time, so
// widths come from short lists (integer bits and modes vary freely).
const TARGET_WIDTHS: [i64; 12] = [1, 2, 3, 5, 8, 12, 16, 18, 24, 32, 33, 48];
const WIDE_SOURCE_WIDTHS: [i64; 3] = [64, 96, 127];
const NARROW_SOURCE_WIDTHS: [i64; 4] = [16, 24, 48, 64];

/// SplitMix64: small, seeded, good enough to spread test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.next() as usize % items.len()]
    }

    fn i128(&mut self) -> i128 {
        ((u128::from(self.next()) << 64) | u128::from(self.next())) as i128
    }
}

/// The C++ spelling, always as `ap_[u]fixed` with both modes (an `ap_int` target would convert
/// differently).
fn cpp_type(ty: &FixedType) -> String {
    let u = if ty.signed { "" } else { "u" };
    format!("ap_{u}fixed<{},{},{},{}>", ty.width, ty.integer, ty.quant, ty.overflow)
}

/// Keeps the low `width` bits of `raw`, sign-extended for signed types: a raw value of the type.
fn wrap_to(raw: i128, width: u32, signed: bool) -> i128 {
    let unused = 128 - width;
    if signed {
        (raw << unused) >> unused
    } else {
        ((raw as u128) << unused >> unused) as i128
    }
}

fn target_types(rng: &mut Rng) -> Vec<FixedType> {
    let mut out = Vec::new();
    for quant in QuantMode::ALL {
        for overflow in OverflowMode::ALL {
            let shapes = [
                (rng.range(1, 3), rng.range(-2, 4)),
                (64, rng.range(-12, 70)),
                (rng.pick(&TARGET_WIDTHS), rng.range(-20, 80)),
            ];
            for (width, integer) in shapes {
                let ty = FixedType::new(width as u32, integer as i32, rng.bool());
                out.push(ty.with_modes(quant, overflow));
            }
        }
    }
    // LSBs near the subnormal doubles, where the headers misread subnormal inputs.
    let subnormal_range = [
        (FixedType::new(16, -1060, true), QuantMode::Trn, OverflowMode::Wrap),
        (FixedType::new(64, -1011, true), QuantMode::RndConv, OverflowMode::SatSym),
        (FixedType::new(8, -1070, false), QuantMode::Rnd, OverflowMode::Sat),
        (FixedType::new(33, -1040, true), QuantMode::TrnZero, OverflowMode::SatZero),
    ];
    out.extend(subnormal_range.map(|(ty, quant, overflow)| ty.with_modes(quant, overflow)));
    out
}

/// Two source types for `dst`: a wider one with up to 24 more fractional bits (the usual
/// narrowing cast), and either a coarser one (the value moves left) or one whose LSB is 120 to 200
/// bits away in either direction, alternately.
fn source_types(dst: &FixedType, index: usize, rng: &mut Rng) -> [FixedType; 2] {
    let f = dst.frac_bits() as i64;
    let finer = {
        let width = rng.pick(&WIDE_SOURCE_WIDTHS);
        let frac = f + rng.range(0, (width - dst.width as i64).min(24));
        FixedType::new(width as u32, (width - frac) as i32, rng.bool())
    };
    let width = rng.pick(&NARROW_SOURCE_WIDTHS);
    let frac = if index.is_multiple_of(2) {
        f - rng.range(1, 6)
    } else {
        f + rng.range(120, 200) * if rng.bool() { 1 } else { -1 }
    };
    [finer, FixedType::new(width as u32, (width - frac) as i32, rng.bool())]
}

/// Raw values of `src` aimed at the interesting spots of `dst`.
fn cast_values(src: &FixedType, dst: &FixedType, rng: &mut Rng) -> Vec<i128> {
    let shift = src.frac_bits() as i64 - dst.frac_bits() as i64;
    let (lo, hi) = (dst.min_raw(), dst.max_raw());
    let mut out = vec![src.min_raw(), src.max_raw(), 0, 1, -1];
    while out.len() < VALUES_PER_CAST {
        let raw = match rng.range(0, 2) {
            0 => rng.i128(),
            1 => rng.range(-4, 4) as i128,
            _ => {
                let q = rng.pick(&[hi, lo, hi + 1, lo - 1, -hi, 0, 1, -1, lo + 1, 2 * hi + 2]);
                let q = q + rng.range(-1, 1) as i128;
                if shift <= 0 {
                    q >> shift.unsigned_abs().min(127)
                } else if shift < 100 {
                    let half = 1i128 << (shift - 1);
                    let random_below = rng.i128() & ((half << 1) - 1);
                    let below = rng.pick(&[0, half, half - 1, half + 1, random_below]);
                    q.wrapping_shl(shift as u32).wrapping_add(below)
                } else {
                    rng.i128()
                }
            }
        };
        out.push(raw);
    }
    out.into_iter().map(|raw| wrap_to(raw, src.width, src.signed)).collect()
}

/// `2^k`, exact for every `k` in the double range (each factor stays normal).
fn pow2(k: i64) -> f64 {
    let k = k.clamp(-1100, 1100) as i32;
    2f64.powi(k / 2) * 2f64.powi(k - k / 2)
}

/// Doubles aimed at `dst`: grid points, ties and quarter points at both ends of the range, plus
/// random bit patterns and extremes.
fn double_values(dst: &FixedType, rng: &mut Rng) -> Vec<f64> {
    let lsb = pow2(-(dst.frac_bits() as i64));
    let (lo, hi) = (dst.min_raw() as f64, dst.max_raw() as f64);
    let mut out = vec![0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e300, -1e300, f64::MAX, -f64::MAX];
    while out.len() < VALUES_PER_DOUBLE {
        let x = if rng.range(0, 3) == 0 {
            let bits = rng.next();
            // A quarter of the random patterns are subnormals.
            f64::from_bits(if bits & 3 == 0 { bits & 0x800f_ffff_ffff_ffff } else { bits })
        } else {
            let q = rng.pick(&[hi, lo, hi + 1.0, lo - 1.0, -hi, 0.0, 1.0, -1.0, 2.0 * hi + 2.0]);
            let part = rng.pick(&[0.0, 0.5, -0.5, 0.25, 0.75, 1.5, -1.5]);
            (q + part) * lsb
        };
        if x.is_finite() {
            out.push(x);
        }
    }
    out
}

struct Case {
    /// Input line for the C++ program.
    line: String,
    what: String,
    dst: FixedType,
    /// The raw value our model gives.
    want: i128,
}

fn headers_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HLS_GEN_AP_TYPES") {
        let dir = PathBuf::from(dir);
        assert!(dir.join("ap_fixed.h").is_file(), "HLS_GEN_AP_TYPES={} holds no ap_fixed.h", dir.display());
        return Some(dir);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ap_types");
    dir.join("ap_fixed.h").is_file().then_some(dir)
}

fn skip_or_fail(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{why} (required under CI)");
    eprintln!("NOTICE: skipping the ap_types differential test: {why}");
}

const PROGRAM_HEAD: &str = r#"#include <ap_fixed.h>
#include <cstdio>
#include <cstring>
typedef unsigned long long u64;

template <class T> static void put(const T& v) {
  ap_uint<T::width> bits = v.range(T::width - 1, 0);
  double d = v.to_double();
  u64 d_bits;
  std::memcpy(&d_bits, &d, sizeof d);
  std::printf("%llx %llx\n", (u64)bits.to_uint64(), d_bits);
}

template <class D, class S> static void run_cast(u64 hi, u64 lo) {
  ap_uint<128> b = hi;
  b <<= 64;
  b |= ap_uint<128>(lo);
  S s;
  s.range(S::width - 1, 0) = ap_uint<S::width>(b);
  D d = s;
  put(d);
}

template <class D> static void run_double(u64 x_bits) {
  double x;
  std::memcpy(&x, &x_bits, sizeof x);
  D d = x;
  put(d);
}

int main() {
  char kind;
  int id;
  u64 a, b;
  while (std::scanf(" %c %d %llx %llx", &kind, &id, &a, &b) == 4) {
    if (kind == 'c') {
      switch (id) {
"#;

#[test]
fn cast_and_double_conversion_match_ap_types() {
    let Some(headers) = headers_dir() else {
        return skip_or_fail("no ap_types headers (set HLS_GEN_AP_TYPES or run scripts/fetch_ap_types.sh)");
    };
    if Command::new("g++").arg("--version").output().is_err() {
        return skip_or_fail("g++ is not available");
    }

    let mut rng = Rng(SEED);
    let targets = target_types(&mut rng);
    let mut program = PROGRAM_HEAD.to_string();
    let mut cases = Vec::new();
    let mut pair_id = 0;
    for (index, dst) in targets.iter().enumerate() {
        for src in source_types(dst, index, &mut rng) {
            let _ = writeln!(
                program,
                "        case {pair_id}: run_cast<{}, {}>(a, b); break;",
                cpp_type(dst),
                cpp_type(&src)
            );
            for raw in cast_values(&src, dst, &mut rng) {
                cases.push(Case {
                    line: format!("c {pair_id} {:x} {:x}", (raw >> 64) as u64, raw as u64),
                    what: format!("{} s = raw {raw}; {} d = s;", cpp_type(&src), cpp_type(dst)),
                    dst: *dst,
                    want: cast(raw, src.frac_bits(), dst).raw,
                });
            }
            pair_id += 1;
        }
    }
    program.push_str("        default: return 2;\n      }\n    } else {\n      switch (id) {\n");
    for (target_id, dst) in targets.iter().enumerate() {
        let _ = writeln!(program, "        case {target_id}: run_double<{}>(a); break;", cpp_type(dst));
        for x in double_values(dst, &mut rng) {
            let Ok(converted) = from_f64(x, dst) else { panic!("from_f64 rejected finite {x:e}") };
            cases.push(Case {
                line: format!("d {target_id} {:x} 0", x.to_bits()),
                what: format!("{} d = {x:e} (bits {:#x});", cpp_type(dst), x.to_bits()),
                dst: *dst,
                want: converted.raw,
            });
        }
    }
    program.push_str("        default: return 2;\n      }\n    }\n  }\n  return 0;\n}\n");

    let binary = compile(&headers, &program);
    let input: String = cases.iter().map(|c| format!("{}\n", c.line)).collect();
    let output = run_with_input(&binary, &input);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), cases.len(), "the C++ program answered {} of {} cases", lines.len(), cases.len());

    let mut failures = Vec::new();
    for (case, line) in cases.iter().zip(&lines) {
        let mut fields = line.split_whitespace().map(|f| u64::from_str_radix(f, 16));
        let (Some(Ok(bits)), Some(Ok(double_bits))) = (fields.next(), fields.next()) else {
            panic!("unreadable output line `{line}` for {}", case.what);
        };
        let got = wrap_to(i128::from(bits), case.dst.width, case.dst.signed);
        if got != case.want {
            failures.push(format!("{}  ap_types: raw {got}, ours: raw {}", case.what, case.want));
        }
        let ours = to_f64(got, case.dst.frac_bits());
        // The headers' to_double() only builds normal numbers: subnormal results come out with a
        // wrapped exponent. Ours are correctly rounded there too (see fixed_props.rs).
        let comparable = ours.is_normal() || got == 0;
        if comparable && ours.to_bits() != double_bits {
            let theirs = f64::from_bits(double_bits);
            failures.push(format!(
                "to_double of raw {got} in {}: ap_types {theirs:e}, ours {ours:e}",
                cpp_type(&case.dst)
            ));
        }
    }
    eprintln!(
        "compared {} conversions ({} type pairs, {} targets) with ap_types",
        cases.len(),
        pair_id,
        targets.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches with ap_types, first ones:\n{}",
        failures.len(),
        failures.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
}

const GXX_FLAGS: [&str; 4] = ["-std=c++14", "-O0", "-DNDEBUG", "-w"];

/// Compiles the program, reusing an earlier build of the same program against the same headers
/// (cached under Cargo's per-test scratch directory; compiling takes most of the test's time).
fn compile(headers: &Path, program: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    (program, GXX_FLAGS, header_contents(headers)).hash(&mut hasher);
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let binary = cache.join(format!("fixed_vs_ap_types-{:016x}", hasher.finish()));
    if binary.is_file() {
        return binary;
    }
    let scratch = match tempfile::tempdir_in(&cache) {
        Ok(dir) => dir,
        Err(e) => panic!("cannot create a directory in {}: {e}", cache.display()),
    };
    let source = scratch.path().join("fixed_vs_ap_types.cpp");
    let built = scratch.path().join("fixed_vs_ap_types");
    if let Err(e) = std::fs::write(&source, program) {
        panic!("cannot write {}: {e}", source.display());
    }
    let started = Instant::now();
    let compiled = Command::new("g++")
        .args(GXX_FLAGS)
        .arg("-I")
        .arg(headers)
        .arg(&source)
        .arg("-o")
        .arg(&built)
        .output();
    match compiled {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("g++ failed:\n{}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("cannot run g++: {e}"),
    }
    eprintln!("compiled the ap_types program in {:.1} s", started.elapsed().as_secs_f64());
    // Renaming is atomic, so a concurrent run sees either no binary or a complete one.
    if let Err(e) = std::fs::rename(&built, &binary) {
        panic!("cannot move the program to {}: {e}", binary.display());
    }
    binary
}

/// Every header file under `dir`, sorted by path, with its content.
fn header_contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "h") {
                let content = std::fs::read(&path).unwrap_or_default();
                out.push((path, content));
            }
        }
    }
    out.sort();
    out
}

fn run_with_input(binary: &std::path::Path, input: &str) -> String {
    let child =
        Command::new(binary).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => panic!("cannot start the C++ program: {e}"),
    };
    let feed = child.stdin.take().map(|mut stdin| {
        let input = input.to_string();
        std::thread::spawn(move || stdin.write_all(input.as_bytes()))
    });
    let out = match child.wait_with_output() {
        Ok(out) => out,
        Err(e) => panic!("the C++ program failed: {e}"),
    };
    if let Some(Ok(Err(e))) = feed.map(|t| t.join()) {
        panic!("cannot feed the C++ program: {e}");
    }
    assert!(
        out.status.success(),
        "the C++ program exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
