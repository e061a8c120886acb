//! What the `hls-gen` binary says at each verbosity: `-v` prints every pass note, the default one
//! line counting them, `-q` none; the data a command exists to print stays; each fit warning is
//! printed once in every mode; usage errors such as `--reuse-factor 0` are clear and never leave an
//! empty list of suggestions.

mod common;

use common::bin::{hls_gen, root, text};

fn model(name: &str) -> String {
    root().join("tests/models/onnx").join(name).display().to_string()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn notes(s: &str) -> usize {
    s.lines().filter(|l| l.starts_with("note: ")).count()
}

#[test]
fn notes_follow_quiet_default_and_verbose() {
    let m = model("mlp_float.onnx");
    for cmd in ["inspect", "estimate"] {
        let mut args = vec![cmd, m.as_str()];
        if cmd == "estimate" {
            args.extend(["--part", "xcvu9p"]);
        }
        let run = |flag: Option<&str>| {
            let mut a = args.clone();
            a.extend(flag);
            let o = hls_gen(&a);
            assert!(o.status.success(), "{}", text(&o));
            o
        };
        let (q, d, v) = (run(Some("-q")), run(None), run(Some("--verbose")));
        let per_pass = notes(&stderr(&v));
        assert!(per_pass >= 5, "{cmd} -v: {}", stderr(&v));
        assert!(stderr(&v).contains("note: prune: "), "{}", stderr(&v));
        assert_eq!(stderr(&d).lines().count(), 1, "{cmd}: {}", stderr(&d));
        assert!(stderr(&d).contains(&format!("note: {per_pass} note(s) from ")), "{}", stderr(&d));
        assert!(stderr(&d).contains("-v shows them"), "{}", stderr(&d));
        assert_eq!(stderr(&q).lines().count(), 0, "{cmd} -q: {}", stderr(&q));
        // The table is the command's data: the same in every mode.
        assert!(!stdout(&q).is_empty());
        assert_eq!(stdout(&q), stdout(&d), "{cmd}");
        assert_eq!(stdout(&v), stdout(&d), "{cmd}");
    }
    // The flags are global: before the subcommand as well.
    let o = hls_gen(&["-q", "inspect", &m]);
    assert!(o.status.success() && stderr(&o).is_empty(), "{}", text(&o));
    let o = hls_gen(&["inspect", &m, "-q", "-v"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn compile_prints_each_fit_warning_once_in_every_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let m = model("mlp_big.onnx");
    let mut notes_by_mode = Vec::new();
    for (k, flag) in ["-q", "", "-v"].into_iter().enumerate() {
        let dir = tmp.path().join(format!("p{k}"));
        let mut args =
            vec!["compile", &m, "--part", "xc7z020", "--tb-samples", "5", "-o", dir.to_str().unwrap()];
        if !flag.is_empty() {
            args.push(flag);
        }
        let o = hls_gen(&args);
        assert!(o.status.success(), "{}", text(&o));
        let all = text(&o);
        for res in ["DSP", "LUT", "FF"] {
            let n = all
                .lines()
                .filter(|l| l.starts_with(&format!("warning: {res} ")) && l.contains("exceeds"))
                .count();
            assert_eq!(n, 1, "{flag}: {res}: {all}");
        }
        if flag == "-q" {
            // Only the warnings: no table, no summary, no notes.
            assert!(stdout(&o).is_empty(), "{}", stdout(&o));
            assert_eq!(stderr(&o).lines().count(), 3, "{}", stderr(&o));
        } else {
            assert!(stdout(&o).contains("wrote "), "{all}");
        }
        notes_by_mode.push(notes(&stderr(&o)));
    }
    // Notes on stderr: none, one counting line, one per pass note.
    assert!(notes_by_mode[0] == 0 && notes_by_mode[1] == 1 && notes_by_mode[2] > 1, "{notes_by_mode:?}");
}

#[test]
fn sim_quiet_prints_nothing_without_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("x.npy");
    let out = tmp.path().join("y.npy");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 16), }".to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    bytes.extend((h.len() as u16).to_le_bytes());
    bytes.extend(h.as_bytes());
    bytes.extend((0..32).flat_map(|k| (f64::from(k) / 32.0).to_le_bytes()));
    std::fs::write(&input, bytes).unwrap();
    let m = model("mlp_float.onnx");
    let args = ["sim", &m, "--input", input.to_str().unwrap(), "--output", out.to_str().unwrap()];
    let o = hls_gen(&[&args[..], &["-q"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o), "", "sim -q");
    let o = hls_gen(&args);
    assert!(stdout(&o).contains("simulated 2 samples"), "{}", text(&o));
}

#[test]
fn reuse_factor_zero_is_a_usage_error() {
    let m = model("mlp_float.onnx");
    for rf in ["0", "2,0"] {
        let o = hls_gen(&["estimate", &m, "--part", "xcvu9p", "--reuse-factor", rf]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(stderr(&o).contains("reuse factor must be at least 1"), "{}", stderr(&o));
    }
    // An illegal factor names its nearest legal values, never an empty list.
    for rf in ["7", "100000", "3"] {
        let o = hls_gen(&["estimate", &m, "--part", "xcvu9p", "--reuse-factor", rf]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let e = stderr(&o);
        let list = e.split("nearest legal values: ").nth(1).unwrap_or("");
        assert!(list.trim().chars().next().is_some_and(|c| c.is_ascii_digit()), "{e}");
    }
}
