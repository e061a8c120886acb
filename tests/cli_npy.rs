//! `.npy` inputs of every numeric dtype through `hls-gen sim`: each file made here byte by byte
//! must give the same outputs as the same values written as float64; integers f64 cannot hold and
//! non-numeric dtypes are refused with an error naming the file and what is wrong.

use std::path::{Path, PathBuf};

mod common;

use common::bin::{hls_gen, root, text};

/// Features per sample of tests/models/onnx/mlp_float.onnx.
const FEATURES: usize = 16;
const SAMPLES: usize = 3;

/// The bytes of a `.npy` file of format `version` (1, 2 or 3).
fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8], version: u8) -> Vec<u8> {
    npy_literal(&format!("'{descr}'"), fortran, shape, data, version)
}

/// The same with the `descr` value given as a Python literal.
fn npy_literal(descr: &str, fortran: bool, shape: &[usize], data: &[u8], version: u8) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt =
        if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let fo = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': {descr}, 'fortran_order': {fo}, 'shape': {shape_txt}, }}");
    let prefix = if version == 1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((header.len() as u16).to_le_bytes());
    } else {
        out.extend((header.len() as u32).to_le_bytes());
    }
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

/// The input values every test encodes: small integers in [-8, 7] (0..15 for unsigned types).
fn values(unsigned: bool) -> Vec<i64> {
    (0..SAMPLES * FEATURES).map(|k| (k as i64 * 7 + 3) % 16 - if unsigned { 0 } else { 8 }).collect()
}

/// Element bytes of `v` as a `size`-byte integer or float (`float`), little- or big-endian.
fn encode(v: &[i64], size: usize, float: bool, big: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for &x in v {
        let mut b: Vec<u8> = match (float, size) {
            (true, 8) => (x as f64).to_le_bytes().to_vec(),
            (true, 4) => (x as f32).to_le_bytes().to_vec(),
            (true, 2) => half(x).to_le_bytes().to_vec(),
            (false, n) => x.to_le_bytes()[..n].to_vec(),
            _ => unreachable!(),
        };
        if big {
            b.reverse();
        }
        out.extend(b);
    }
    out
}

/// binary16 of a small integer (|x| < 2048).
fn half(x: i64) -> u16 {
    if x == 0 {
        return 0;
    }
    let sign = if x < 0 { 0x8000 } else { 0 };
    let m = x.unsigned_abs();
    let e = 63 - m.leading_zeros() as u16;
    let frac = ((m << 10) >> e) as u16 & 0x3ff;
    sign | ((e + 15) << 10) | frac
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs `sim --float` on `input` and returns the output file's bytes, or the error text.
fn sim(dir: &Path, input: &Path) -> Result<Vec<u8>, String> {
    let out = dir.join(format!("{}.out.npy", input.file_name().unwrap().to_str().unwrap()));
    let model = root().join("tests/models/onnx/mlp_float.onnx");
    let o = hls_gen(&[
        "sim",
        model.to_str().unwrap(),
        "--float",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    if o.status.success() {
        Ok(std::fs::read(&out).unwrap())
    } else {
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        Err(text(&o))
    }
}

#[test]
fn every_numeric_dtype_simulates_like_float64() {
    let tmp = tempfile::tempdir().unwrap();
    let shape = [SAMPLES, FEATURES];
    let signed = values(false);
    let unsigned = values(true);
    let reference = sim(
        tmp.path(),
        &write(tmp.path(), "ref.npy", &npy_bytes("<f8", false, &shape, &encode(&signed, 8, true, false), 1)),
    )
    .unwrap();
    let reference_u = sim(
        tmp.path(),
        &write(
            tmp.path(),
            "ref_u.npy",
            &npy_bytes("<f8", false, &shape, &encode(&unsigned, 8, true, false), 1),
        ),
    )
    .unwrap();
    let native = if cfg!(target_endian = "big") { ">" } else { "<" };
    for (order, big) in [("<", false), (">", true), ("=", native == ">")] {
        for (kind, size, float) in [
            ("i", 1, false),
            ("i", 2, false),
            ("i", 4, false),
            ("i", 8, false),
            ("f", 2, true),
            ("f", 4, true),
            ("f", 8, true),
        ] {
            let descr = format!("{order}{kind}{size}");
            let f = write(
                tmp.path(),
                &format!("s{descr}.npy").replace(['<', '>', '='], "_"),
                &npy_bytes(&descr, false, &shape, &encode(&signed, size, float, big), 1),
            );
            assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&reference), "{descr}");
        }
        for size in [1, 2, 4, 8] {
            let descr = format!("{order}u{size}");
            let f = write(
                tmp.path(),
                &format!("u{descr}.npy").replace(['<', '>', '='], "_"),
                &npy_bytes(&descr, false, &shape, &encode(&unsigned, size, false, big), 1),
            );
            assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&reference_u), "{descr}");
        }
    }
    // One-byte types as numpy writes them.
    let f = write(
        tmp.path(),
        "pipe_i1.npy",
        &npy_bytes("|i1", false, &shape, &encode(&signed, 1, false, false), 1),
    );
    assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&reference));
    let f = write(
        tmp.path(),
        "pipe_u1.npy",
        &npy_bytes("|u1", false, &shape, &encode(&unsigned, 1, false, false), 1),
    );
    assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&reference_u));
    // Booleans equal 0.0 / 1.0.
    let bits: Vec<i64> = signed.iter().map(|v| i64::from(*v > 0)).collect();
    let bool_ref = sim(
        tmp.path(),
        &write(tmp.path(), "ref_b.npy", &npy_bytes("<f8", false, &shape, &encode(&bits, 8, true, false), 1)),
    )
    .unwrap();
    let f = write(tmp.path(), "b1.npy", &npy_bytes("|b1", false, &shape, &encode(&bits, 1, false, false), 1));
    assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&bool_ref));
}

#[test]
fn fortran_order_and_header_versions_read_the_same_array() {
    let tmp = tempfile::tempdir().unwrap();
    let shape = [SAMPLES, FEATURES];
    let v = values(false);
    let reference = sim(
        tmp.path(),
        &write(tmp.path(), "ref.npy", &npy_bytes("<f8", false, &shape, &encode(&v, 8, true, false), 1)),
    )
    .unwrap();
    // Column-major: the sample axis varies fastest.
    let transposed: Vec<i64> = (0..FEATURES)
        .flat_map(|j| (0..SAMPLES).map(move |i| (i, j)))
        .map(|(i, j)| v[i * FEATURES + j])
        .collect();
    let f = write(
        tmp.path(),
        "fortran.npy",
        &npy_bytes("<i4", true, &shape, &encode(&transposed, 4, false, false), 1),
    );
    assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&reference));
    for version in [2, 3] {
        let f = write(
            tmp.path(),
            &format!("v{version}.npy"),
            &npy_bytes("<i8", false, &shape, &encode(&v, 8, false, false), version),
        );
        assert_eq!(sim(tmp.path(), &f).as_ref(), Ok(&reference), "version {version}.0");
    }
}

#[test]
fn integers_beyond_2_pow_53_are_refused_with_their_index() {
    let tmp = tempfile::tempdir().unwrap();
    let shape = [SAMPLES, FEATURES];
    let mut v = values(false);
    v[5] = (1 << 53) + 1;
    let f = write(tmp.path(), "big.npy", &npy_bytes("<i8", false, &shape, &encode(&v, 8, false, false), 1));
    let e = sim(tmp.path(), &f).unwrap_err();
    assert!(e.contains("big.npy") && e.contains("element 5") && e.contains("2^53"), "{e}");
    // 2^53 itself is exact.
    v[5] = -(1 << 53);
    let f = write(tmp.path(), "edge.npy", &npy_bytes(">i8", false, &shape, &encode(&v, 8, false, true), 1));
    assert!(sim(tmp.path(), &f).is_ok());
    let mut u = values(true);
    u[7] = -1; // 2^64 - 1 as u8
    let f = write(tmp.path(), "bigu.npy", &npy_bytes("<u8", false, &shape, &encode(&u, 8, false, false), 1));
    let e = sim(tmp.path(), &f).unwrap_err();
    assert!(e.contains("bigu.npy") && e.contains("element 7") && e.contains("18446744073709551615"), "{e}");
}

#[test]
fn non_numeric_dtypes_are_refused_saying_what_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, usize); 6] = [
        ("<c16", "complex", 16),
        ("|O", "object", 8),
        ("<U3", "strings", 12),
        ("|S4", "strings", 4),
        ("<M8[s]", "unsupported dtype", 8),
        ("<i3", "size", 3),
    ];
    for (descr, why, size) in cases {
        let f = write(
            tmp.path(),
            "bad.npy",
            &npy_bytes(descr, false, &[1, FEATURES], &vec![0; size * FEATURES], 1),
        );
        let e = sim(tmp.path(), &f).unwrap_err();
        assert!(
            e.contains("bad.npy") && e.contains(descr) && e.contains(why) && e.contains("accepted: "),
            "{descr}: {e}"
        );
    }
    // A structured dtype's descr is a list.
    let bytes = npy_literal("[('a', '<f4'), ('b', '<f4')]", false, &[1, FEATURES], &[0; 8 * FEATURES], 1);
    let f = write(tmp.path(), "rec.npy", &bytes);
    let e = sim(tmp.path(), &f).unwrap_err();
    assert!(e.contains("rec.npy") && e.contains("structured") && e.contains("accepted: "), "{e}");
    // Not a .npy file, a short file, an unknown version.
    let f = write(tmp.path(), "junk.npy", b"hello");
    assert!(sim(tmp.path(), &f).unwrap_err().contains("not a .npy file"));
    let mut short = npy_bytes("<f8", false, &[SAMPLES, FEATURES], &[0; 8 * FEATURES], 1);
    short.truncate(short.len() - 3);
    let f = write(tmp.path(), "short.npy", &short);
    let e = sim(tmp.path(), &f).unwrap_err();
    assert!(e.contains("short.npy") && e.contains("bytes of data"), "{e}");
    let mut v4 = npy_bytes("<f8", false, &[1, FEATURES], &[0; 8 * FEATURES], 2);
    v4[6] = 4;
    let f = write(tmp.path(), "v4.npy", &v4);
    let e = sim(tmp.path(), &f).unwrap_err();
    assert!(e.contains("version 4.0"), "{e}");
}

/// More samples than `sim` runs at once (it simulates and writes 32,768 at a time): the output
/// file equals the in-process simulator's outputs, and a non-finite input in a later piece is an
/// error naming its sample, with no output file left.
#[test]
fn long_runs_are_written_piece_by_piece() {
    use hls_gen::flow::{load_and_lower, FlowOptions};
    use hls_gen::sim::{RunOptions, Simulator};
    let n = 70_000;
    let tmp = tempfile::tempdir().unwrap();
    let x: Vec<f64> = (0..n * FEATURES).map(|k| ((k * 7919) % 1001) as f64 / 250.0 - 2.0).collect();
    let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let input = write(tmp.path(), "x.npy", &npy_bytes("<f8", false, &[n, FEATURES], &bytes, 1));
    let model = root().join("tests/models/onnx/mlp_float.onnx");
    let out = tmp.path().join("y.npy");
    let args = |input: &Path| {
        let v = ["sim", model.to_str().unwrap(), "--input", input.to_str().unwrap(), "--output"];
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.push(out.to_string_lossy().into_owned());
        v
    };
    let run = hls_gen(&args(&input).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success(), "{}", text(&run));
    let lowered = load_and_lower(&model, &FlowOptions::default()).unwrap();
    let want = Simulator::new(&lowered.graph).unwrap().run(&x, n, &RunOptions::default()).unwrap();
    let written = std::fs::read(&out).unwrap();
    let want_bytes: Vec<u8> = want.outputs[0].values.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(&written[written.len() - want_bytes.len()..], &want_bytes[..]);
    assert_eq!(written.len() % 64, want_bytes.len() % 64, "the header is padded to 64 bytes");

    std::fs::remove_file(&out).unwrap();
    let mut bad = x;
    bad[40_000 * FEATURES + 3] = f64::NAN;
    let bytes: Vec<u8> = bad.iter().flat_map(|v| v.to_le_bytes()).collect();
    let input = write(tmp.path(), "bad.npy", &npy_bytes("<f8", false, &[n, FEATURES], &bytes, 1));
    let run = hls_gen(&args(&input).iter().map(String::as_str).collect::<Vec<_>>());
    let msg = text(&run);
    assert_eq!(run.status.code(), Some(1), "{msg}");
    assert!(msg.contains("sample 40000, index [3] is NaN"), "{msg}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!out.exists() && left.len() == 2, "{left:?}");
}
