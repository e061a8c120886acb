//! The flows of an emitted Vitis HLS project, run without the vendor tools:
//!
//! * the Verilator testbench on a hand-written Verilog top whose ROM loads its contents from a
//!   `.dat` file in the RTL directory (as Vitis HLS writes ROMs): it passes only when the file is
//!   found, through the library runner and through the generated Makefile;
//! * `vivado_synth.tcl` and `build_prj.tcl` under `tclsh`, with every vendor command replaced by
//!   a stub that records its call: the clock constraint is read from an XDC before synthesis,
//!   every `.dat` file is read with `read_mem`, synthesis runs in the RTL directory, the steps come
//!   from `build_opt.tcl`, cosimulation writes its own output file, and Vivado HLS is refused.
//!
//! Without `verilator` or `tclsh` on the PATH the tests print a notice and pass, except under
//! `CI`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use hls_gen::backend::verilator::run_rtlsim;
use hls_gen::backend::vitis::{emit, IoType, VitisOptions};
use hls_gen::backend::Project;
use hls_gen::ir::{Graph, Layer, Quantize};

fn have(tool: &str, arg: &str) -> bool {
    let found = Command::new(tool).arg(arg).output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is required in CI");
        eprintln!("notice: {tool} not found; skipping");
    }
    found
}

/// `romtest`: two 4-bit unsigned integers in, the same out (a quantize to the same type).
fn project() -> Project {
    let mut g = Graph::new("rom test");
    let x = input(&mut g, "x", &[2], ufx(4, 4));
    let q = add(&mut g, "q", Layer::Quantize(Quantize), &[2], ufx(4, 4), &[x]);
    g.set_outputs(vec![q]);
    let g = lowered(g);
    let tb = hls_gen::flow::testbench(&g, None, 64).unwrap();
    let opts = VitisOptions {
        project_name: "romtest".into(),
        part: "xcvu9p-flga2104-2L-e".into(),
        clock_period_ns: 4.0,
        io_type: IoType::Parallel,
    };
    emit(&g, &opts, &tb).unwrap()
}

/// The RTL of `romtest` as Vitis HLS would lay it out: each value goes through a 16-word ROM that
/// holds the identity, loaded from `./romtest_rom.dat`; the output is registered.
const TOP: &str = "module romtest (
    input wire ap_clk, input wire ap_rst, input wire ap_start,
    output wire ap_done, output wire ap_idle, output wire ap_ready,
    input wire [7:0] x, input wire x_ap_vld,
    output reg [7:0] q_out, output reg q_out_ap_vld);
  reg [3:0] rom [0:15];
  initial $readmemh(\"./romtest_rom.dat\", rom);
  assign ap_ready = ap_start;
  assign ap_idle = ~ap_start;
  assign ap_done = q_out_ap_vld;
  always @(posedge ap_clk) begin
    if (ap_rst) q_out_ap_vld <= 1'b0;
    else begin
      q_out_ap_vld <= ap_start & x_ap_vld;
      q_out <= {rom[x[7:4]], rom[x[3:0]]};
    end
  end
endmodule
";

/// Writes the project with its RTL where Vitis HLS puts it; returns the RTL directory.
fn write_with_rtl(dir: &Path, rom: Option<&str>) -> std::path::PathBuf {
    project().write(dir, true).unwrap();
    let rtl = dir.join("romtest_prj/solution1/syn/verilog");
    std::fs::create_dir_all(&rtl).unwrap();
    std::fs::write(rtl.join("romtest.v"), TOP).unwrap();
    if let Some(rom) = rom {
        std::fs::write(rtl.join("romtest_rom.dat"), rom).unwrap();
    }
    rtl
}

fn identity() -> String {
    (0..16).map(|i| format!("{i:x}\n")).collect()
}

#[test]
fn verilator_loads_rom_contents_from_dat_files_beside_the_verilog() {
    if !have("verilator", "--version") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_with_rtl(dir.path(), Some(&identity()));
    let outcome = run_rtlsim(dir.path()).unwrap();
    assert!(outcome.passed && outcome.samples == Some(64), "{}", outcome.output);
    // The generated Makefile runs the testbench in the Verilog directory too.
    let make = Command::new("make").arg("run").current_dir(dir.path().join("verilator")).output().unwrap();
    let out = String::from_utf8_lossy(&make.stdout);
    assert!(make.status.success() && out.contains("64 samples, 0 mismatches"), "{out}");

    // A ROM whose contents are wrong, or missing, fails the run.
    let wrong = tempfile::tempdir().unwrap();
    write_with_rtl(wrong.path(), Some(&"0\n".repeat(16)));
    let outcome = run_rtlsim(wrong.path()).unwrap();
    assert!(!outcome.passed && outcome.mismatches.is_some_and(|m| m > 0), "{}", outcome.output);
    let missing = tempfile::tempdir().unwrap();
    write_with_rtl(missing.path(), None);
    let outcome = run_rtlsim(missing.path()).unwrap();
    assert!(!outcome.passed, "{}", outcome.output);
}

/// Runs `script` (a file of the project in `dir`) under tclsh after `prelude`, with the vendor
/// commands `stubs` recording their calls (and the working directory) in `calls.log`. Returns the
/// exit status, stdout and the recorded calls.
fn run_tcl(dir: &Path, script: &str, prelude: &str, stubs: &[&str]) -> (i32, String, Vec<String>) {
    let log = dir.join("calls.log");
    let mut tcl = format!("set hlsgen_log [open {{{}}} w]\n", log.display());
    for stub in stubs {
        tcl.push_str(&format!(
            "proc {stub} {{args}} {{ puts $::hlsgen_log \"{stub} $args | [pwd]\"; flush $::hlsgen_log }}\n"
        ));
    }
    tcl.push_str(prelude);
    tcl.push_str(&format!("\nsource {{{}}}\n", dir.join(script).display()));
    let runner = dir.join("runner.tcl");
    std::fs::write(&runner, tcl).unwrap();
    let out = Command::new("tclsh").arg(&runner).current_dir(std::env::temp_dir()).output().unwrap();
    let calls = std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_string).collect();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        calls,
    )
}

fn position(calls: &[String], command: &str) -> usize {
    calls.iter().position(|c| c.starts_with(command)).unwrap_or_else(|| panic!("no {command} in {calls:#?}"))
}

#[test]
fn vivado_synthesis_reads_the_clock_before_synthesis_and_every_rom_file() {
    if !have("tclsh", "/dev/null") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rtl = write_with_rtl(dir.path(), Some(&identity()));
    std::fs::write(rtl.join("other_rom.dat"), "0\n").unwrap();
    let stubs = [
        "read_verilog",
        "read_mem",
        "read_xdc",
        "synth_design",
        "report_utilization",
        "report_timing_summary",
    ];
    let (code, out, calls) = run_tcl(dir.path(), "vivado_synth.tcl", "", &stubs);
    assert_eq!(code, 0, "{out}");
    let rtl_dir = rtl.canonicalize().unwrap();
    let synth = position(&calls, "synth_design");
    assert!(
        calls[synth].contains("-top romtest -part xcvu9p-flga2104-2L-e -mode out_of_context"),
        "{calls:#?}"
    );
    assert!(
        calls[synth].ends_with(&format!("| {}", rtl_dir.display())),
        "synthesis runs in the RTL directory: {calls:#?}"
    );
    let reads: Vec<&String> = calls.iter().filter(|c| c.starts_with("read_mem")).collect();
    assert_eq!(reads.len(), 2, "{calls:#?}");
    assert!(reads[0].contains("other_rom.dat") && reads[1].contains("romtest_rom.dat"), "{calls:#?}");
    assert!(position(&calls, "read_mem") < synth && position(&calls, "read_verilog") < synth);
    let xdc_call = &calls[position(&calls, "read_xdc")];
    assert!(position(&calls, "read_xdc") < synth, "{calls:#?}");
    let xdc = xdc_call.strip_prefix("read_xdc ").unwrap().split(" | ").next().unwrap();
    let constraint = std::fs::read_to_string(xdc).unwrap();
    assert_eq!(constraint, "create_clock -period 4 -name ap_clk [get_ports ap_clk]\n");

    // No RTL yet: a clear message and a failure.
    let empty = tempfile::tempdir().unwrap();
    project().write(empty.path(), true).unwrap();
    let (code, out, calls) = run_tcl(empty.path(), "vivado_synth.tcl", "", &stubs);
    assert!(code == 1 && out.contains("run build_prj.tcl with synth=1 first") && calls.is_empty(), "{out}");
}

const HLS: [&str; 10] = [
    "open_project",
    "set_top",
    "add_files",
    "open_solution",
    "set_part",
    "create_clock",
    "csim_design",
    "csynth_design",
    "cosim_design",
    "export_design",
];

#[test]
fn the_hls_flow_takes_its_steps_from_build_opt_and_refuses_vivado_hls() {
    if !have("tclsh", "/dev/null") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    project().write(dir.path(), true).unwrap();
    let commands = |calls: &[String]| -> Vec<String> {
        calls.iter().map(|c| c.split(" | ").next().unwrap().trim_end().to_string()).collect()
    };

    // vitis-run --tcl: no arguments, the defaults of build_opt.tcl (C simulation and synthesis).
    let (code, out, calls) = run_tcl(dir.path(), "build_prj.tcl", "", &HLS);
    assert_eq!(code, 0, "{out}");
    let here = dir.path().canonicalize().unwrap();
    assert!(
        calls[0].ends_with(&format!("| {}", here.display())),
        "runs in the project directory: {calls:#?}"
    );
    assert_eq!(
        commands(&calls),
        [
            "open_project -reset romtest_prj",
            "set_top romtest",
            "add_files firmware/romtest.cpp -cflags -std=c++14",
            "add_files -tb romtest_test.cpp -cflags -std=c++14",
            "add_files -tb tb_data",
            "open_solution -reset solution1 -flow_target vivado",
            "set_part xcvu9p-flga2104-2L-e",
            "create_clock -period 4 -name default",
            "csim_design",
            "csynth_design",
        ]
    );

    // The steps a user sets in build_opt.tcl; cosimulation writes its own outputs.
    let opt = dir.path().join("build_opt.tcl");
    let text = std::fs::read_to_string(&opt).unwrap();
    std::fs::write(&opt, text.replace("csim   1", "csim   0").replace("cosim  0", "cosim  1")).unwrap();
    let (code, out, calls) = run_tcl(dir.path(), "build_prj.tcl", "", &HLS);
    assert_eq!(code, 0, "{out}");
    let cmds = commands(&calls);
    assert!(!cmds.contains(&"csim_design".to_string()), "{cmds:#?}");
    assert!(cmds.contains(&"cosim_design -trace_level all -argv cosim_outputs.txt".to_string()), "{cmds:#?}");

    // Every stage, with build_opt.tcl edited as the README says.
    std::fs::write(&opt, &text).unwrap();
    let sed = Command::new("sed")
        .args([
            "-i",
            "-e",
            "s/cosim  0/cosim  1/",
            "-e",
            "s/export 0/export 1/",
            "-e",
            "s/vsynth 0/vsynth 1/",
        ])
        .arg(&opt)
        .output()
        .unwrap();
    assert!(sed.status.success());
    let mut all: Vec<&str> = HLS.to_vec();
    all.push("exec");
    let (code, out, calls) = run_tcl(dir.path(), "build_prj.tcl", "", &all);
    assert_eq!(code, 0, "{out}");
    let cmds = commands(&calls);
    assert_eq!(
        cmds[8..],
        [
            "csim_design",
            "csynth_design",
            "cosim_design -trace_level all -argv cosim_outputs.txt",
            "export_design -format ip_catalog",
            "exec vivado -mode batch -source vivado_synth.tcl >@ stdout",
        ]
    );

    std::fs::write(&opt, &text).unwrap();

    // vitis_hls -f ... -tclargs still overrides them.
    let (code, out, calls) = run_tcl(dir.path(), "build_prj.tcl", "set argv {csim=1 synth=0 cosim=0}", &HLS);
    assert_eq!(code, 0, "{out}");
    let cmds = commands(&calls);
    assert!(
        cmds.contains(&"csim_design".to_string()) && !cmds.contains(&"csynth_design".to_string()),
        "{cmds:#?}"
    );

    // Vivado HLS: open_solution has no -flow_target there; the flow stops and says why.
    let vivado_hls = "proc open_solution {args} { if {[lsearch $args -flow_target] >= 0} { error {invalid option '-flow_target'} } }";
    let stubs: Vec<&str> = HLS.iter().copied().filter(|c| *c != "open_solution").collect();
    let (code, out, calls) = run_tcl(dir.path(), "build_prj.tcl", vivado_hls, &stubs);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("needs Vitis HLS 2022.1 or later") && out.contains("-flow_target"), "{out}");
    assert!(!commands(&calls).iter().any(|c| c.starts_with("csynth_design") || c.starts_with("csim_design")));
}
