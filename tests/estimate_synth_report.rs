//! Reading synthesis reports: real hls4ml project reports in `tests/data/reports/` (Vivado HLS
//! 2020.1 csynth XML and text, Vivado 2020.1 utilization on 7 series and UltraScale+), reports in
//! the Vitis HLS layout, and malformed files.

use std::path::Path;

use hls_gen::estimate::synth_report::{
    parse_csynth_rpt, parse_csynth_xml, parse_vivado_synth, read_csynth, read_report, SynthReportError,
};
use hls_gen::estimate::{self, compare, lookup_part};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/reports");

#[test]
fn vivado_hls_xml_and_rpt_agree() {
    let dir = Path::new(DATA).join("hls4ml-test_report/Vivado");
    let xml = read_csynth(&dir.join("myproject_csynth.xml")).unwrap();
    let rpt = read_csynth(&dir.join("myproject_csynth.rpt")).unwrap();
    for r in [&xml, &rpt] {
        assert_eq!(r.tool.as_deref(), Some("Vivado HLS 2020.1"));
        assert_eq!(r.part.as_deref(), Some("xc7z020-clg400-1"));
        assert_eq!(
            (r.clock_ns, r.clock_uncertainty_ns, r.estimated_clock_ns),
            (Some(5.0), Some(0.62), Some(4.049))
        );
        assert_eq!(
            (r.latency_best, r.latency_worst, r.ii_min, r.ii_max),
            (Some(10), Some(10), Some(8), Some(8))
        );
        assert_eq!(r.csynth.dsp, Some(73));
        assert_eq!(r.csynth.lut, Some(2532));
        assert_eq!(r.csynth.ff, Some(7969));
        assert_eq!(r.csynth.bram18, Some(0));
        assert_eq!(r.csynth.uram, Some(0));
    }
}

#[test]
fn project_directory_with_post_synthesis_utilization() {
    let r = read_report(&Path::new(DATA).join("hls4ml-test_report")).unwrap();
    assert!(r.csynth_file.ends_with("myproject_csynth.xml"));
    let v = r.vivado_synth.unwrap();
    assert_eq!((v.dsp, v.lut, v.ff, v.bram18), (Some(66), Some(1526), Some(2428), Some(0)));

    let cnn = read_report(&Path::new(DATA).join("hls4ml-tutorial-pruned_cnn")).unwrap();
    assert_eq!(cnn.part.as_deref(), Some("xcu250-figd2104-2L-e"));
    assert_eq!((cnn.latency_worst, cnn.ii_max), (Some(1044), Some(1028)));
    assert_eq!(
        (cnn.csynth.dsp, cnn.csynth.lut, cnn.csynth.ff, cnn.csynth.bram18),
        (Some(5414), Some(245466), Some(52549), Some(100))
    );
    let v = cnn.vivado_synth.unwrap();
    assert_eq!(
        (v.dsp, v.lut, v.ff, v.bram18, v.uram),
        (Some(5386), Some(123948), Some(43435), Some(84), Some(0))
    );
}

/// A Vitis HLS 2023.2 `csynth.rpt` in the layout Vitis writes (numbers of the `relu` CI baseline).
const VITIS_RPT: &str = "\
================================================================
== Vitis HLS Report for 'myproject'
================================================================
* Date:           Mon Jan  1 00:00:00 2024

* Version:        2023.2 (Build 4023990 on Oct 11 2023)
* Project:        myproject_prj
* Solution:       solution1 (Vivado IP Flow Target)
* Product family: virtexuplus
* Target device:  xcvu13p-flga2577-2-e


================================================================
== Performance Estimates
================================================================
+ Timing: 
    * Summary: 
    +--------+---------+----------+------------+
    |  Clock |  Target | Estimated| Uncertainty|
    +--------+---------+----------+------------+
    |ap_clk  |  5.00 ns|  3.018 ns|     1.35 ns|
    +--------+---------+----------+------------+

+ Latency: 
    * Summary: 
    +---------+---------+----------+----------+-----+-----+---------+
    |  Latency (cycles) |  Latency (absolute) |  Interval | Pipeline|
    |   min   |   max   |    min   |    max   | min | max |   Type  |
    +---------+---------+----------+----------+-----+-----+---------+
    |        0|        0|      0 ns|      0 ns|    1|    1|      yes|
    +---------+---------+----------+----------+-----+-----+---------+

    + Detail: 
        * Instance: 
        N/A

================================================================
== Utilization Estimates
================================================================
* Summary: 
+---------------------+---------+------+---------+---------+-----+
|         Name        | BRAM_18K|  DSP |    FF   |   LUT   | URAM|
+---------------------+---------+------+---------+---------+-----+
|DSP                  |        -|    61|        -|        -|    -|
|Expression           |        -|     -|        0|     2822|    -|
|Register             |        -|     -|       18|        -|    -|
+---------------------+---------+------+---------+---------+-----+
|Total                |        0|    61|       18|     2840|    0|
+---------------------+---------+------+---------+---------+-----+
|Available SLR        |     1344|  3072|   864000|   432000|  320|
+---------------------+---------+------+---------+---------+-----+
";

/// The matching `csynth.xml` in the Vitis HLS layout (`<DSP>` instead of `<DSP48E>`).
const VITIS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <ReportVersion><Version>2023.2</Version></ReportVersion>
  <UserAssignments>
    <unit>ns</unit><ProductFamily>virtexuplus</ProductFamily><Part>xcvu13p-flga2577-2-e</Part>
    <TopModelName>myproject</TopModelName><TargetClockPeriod>5.00</TargetClockPeriod>
    <ClockUncertainty>1.35</ClockUncertainty><FlowTarget>vivado</FlowTarget>
  </UserAssignments>
  <PerformanceEstimates>
    <PipelineType>yes</PipelineType>
    <SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>3.018</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <unit>clock cycles</unit>
      <Best-caseLatency>0</Best-caseLatency><Average-caseLatency>0</Average-caseLatency>
      <Worst-caseLatency>0</Worst-caseLatency>
      <Interval-min>1</Interval-min><Interval-max>1</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>0</BRAM_18K><DSP>61</DSP><FF>18</FF><LUT>2840</LUT><URAM>0</URAM></Resources>
  </AreaEstimates>
</profile>
"#;

#[test]
fn vitis_layouts() {
    for r in [
        parse_csynth_rpt(VITIS_RPT, "csynth.rpt").unwrap(),
        parse_csynth_xml(VITIS_XML, "csynth.xml").unwrap(),
    ] {
        assert_eq!(r.tool.as_deref(), Some("Vitis HLS 2023.2"));
        assert_eq!(r.part.as_deref(), Some("xcvu13p-flga2577-2-e"));
        assert_eq!((r.latency_worst, r.ii_max, r.clock_uncertainty_ns), (Some(0), Some(1), Some(1.35)));
        assert_eq!(
            (r.csynth.dsp, r.csynth.lut, r.csynth.ff, r.csynth.bram18),
            (Some(61), Some(2840), Some(18), Some(0))
        );
    }
}

fn what(e: SynthReportError) -> String {
    e.to_string()
}

#[test]
fn malformed_reports_name_the_file_and_what_is_missing() {
    let e = what(parse_csynth_xml("<profile><AreaEstimates>", "bad.xml").unwrap_err());
    assert!(e.starts_with("bad.xml: not well-formed XML"), "{e}");
    let e = what(parse_csynth_xml("<profile></profile>", "empty.xml").unwrap_err());
    assert!(e.contains("empty.xml") && e.contains("PerformanceEstimates/SummaryOfOverallLatency"), "{e}");
    let no_lut = VITIS_XML.replace("<LUT>2840</LUT>", "");
    let e = what(parse_csynth_xml(&no_lut, "nolut.xml").unwrap_err());
    assert!(e.contains("nolut.xml") && e.contains("AreaEstimates/Resources/LUT"), "{e}");
    let e = what(parse_csynth_xml("<report/>", "other.xml").unwrap_err());
    assert!(e.contains("expected <profile>"), "{e}");

    let e = what(parse_csynth_rpt("hello", "x.rpt").unwrap_err());
    assert!(e.contains("x.rpt") && e.contains("not a csynth report"), "{e}");
    let cut = &VITIS_RPT[..VITIS_RPT.find("== Utilization").unwrap()];
    let e = what(parse_csynth_rpt(cut, "cut.rpt").unwrap_err());
    assert!(e.contains("cut.rpt") && e.contains("Utilization Estimates"), "{e}");
    let no_total = VITIS_RPT.replace("|Total ", "|Sum   ");
    let e = what(parse_csynth_rpt(&no_total, "t.rpt").unwrap_err());
    assert!(e.contains("'Total' row"), "{e}");
    let no_lat = VITIS_RPT.replace("+ Latency:", "+ Lat:");
    assert!(what(parse_csynth_rpt(&no_lat, "l.rpt").unwrap_err()).contains("'+ Latency' section"));

    let e = what(parse_vivado_synth("| DSPs | 3 |", "vivado_synth.rpt").unwrap_err());
    assert!(e.contains("vivado_synth.rpt") && e.contains("LUTs"), "{e}");

    let e = what(read_report(Path::new(DATA).join("nowhere").as_path()).unwrap_err());
    assert!(e.contains("nowhere") && e.contains("cannot read"), "{e}");
    let tmp = tempfile::tempdir().unwrap();
    let e = what(read_report(tmp.path()).unwrap_err());
    assert!(e.contains("no csynth report"), "{e}");
    std::fs::write(tmp.path().join("myproject_csynth.xml"), "<profile>").unwrap();
    let e = what(read_report(tmp.path()).unwrap_err());
    assert!(e.contains("myproject_csynth.xml") && e.contains("not well-formed"), "{e}");
}

/// A ReLU of `n` `ap_fixed<16,6>` inputs.
fn relu_graph(n: usize) -> hls_gen::ir::LoweredGraph {
    use hls_gen::ir::{Activation, Graph, Input, Layer, LoweredGraph, Shape};
    let fx = Some(hls_gen::fixed::FixedType::new(16, 6, true));
    let mut g = Graph::new("g");
    let i = g.add("in", Layer::Input(Input::new(Shape::new([n]))), &[]).unwrap();
    g.node_mut(i).ty = fx;
    let o = g.add("relu", Layer::Activation(Activation::Relu), &[i]).unwrap();
    g.node_mut(o).ty = fx;
    g.set_outputs(vec![o]);
    LoweredGraph::new(g).unwrap()
}

#[test]
fn estimates_pair_with_reports() {
    let r = parse_csynth_xml(VITIS_XML, "csynth.xml").unwrap();
    let g = relu_graph(4);
    let e = estimate::estimate(&g, &lookup_part("xcvu13p").unwrap(), 5.0).unwrap();
    let c = compare(&e, &r);
    let lut = c.rows.iter().find(|row| row.quantity == "lut").unwrap();
    assert_eq!(lut.reference, 2840.0);
    assert!((lut.rel_error.unwrap() - (lut.estimate - 2840.0) / 2840.0).abs() < 1e-12);
    let bram = c.rows.iter().find(|row| row.quantity == "bram18").unwrap();
    assert_eq!(bram.rel_error, None, "a zero reference has no relative error");
    assert!(c.rows.iter().all(|row| row.stage == "hls-csynth"));
}

/// The Vivado HLS estimate's `after logic synthesis` LUTs are its csynth LUTs scaled by one
/// coefficient: it predicts each committed pair of Vivado HLS 2020.1 csynth and Vivado synthesis
/// reports from its csynth LUTs within 15 %, and the comparison with a synthesis report uses it.
#[test]
fn after_synthesis_luts_follow_the_committed_report_pairs() {
    let scale = estimate::Coeffs::for_tool(estimate::HlsTool::VivadoHls).synth_lut_per_csynth_lut.unwrap();
    assert_eq!(estimate::Coeffs::for_tool(estimate::HlsTool::VitisHls).synth_lut_per_csynth_lut, None);
    for dir in ["hls4ml-test_report", "hls4ml-tutorial-pruned_cnn"] {
        let r = read_report(&Path::new(DATA).join(dir)).unwrap();
        let (csynth, synth) = (r.csynth.lut.unwrap() as f64, r.vivado_synth.unwrap().lut.unwrap() as f64);
        let err = (scale * csynth - synth) / synth;
        assert!(err.abs() < 0.15, "{dir}: {scale} x {csynth} vs {synth} ({err:+.3})");
    }

    let g = relu_graph(64);
    let part = lookup_part("xcvu13p").unwrap();
    let opts = estimate::Options { tool: estimate::HlsTool::VivadoHls, ..Default::default() };
    let e = estimate::estimate_with(&g, &part, 5.0, &opts).unwrap();
    let after = e.after_synthesis.as_ref().expect("Vivado HLS predicts synthesis");
    assert_eq!((after.moved, after.dsp), (0, e.total.dsp));
    assert_eq!(after.lut, (e.total.lut as f64 * scale).round() as u64);
    assert!(after.lut > 0);
    let vitis = estimate::estimate(&g, &part, 5.0).unwrap();
    assert_eq!(vitis.after_synthesis, None, "no Vitis HLS pair calibrates the scale");

    let rep = read_report(&Path::new(DATA).join("hls4ml-test_report")).unwrap();
    let c = compare(&e, &rep);
    let row = |stage: &str| c.rows.iter().find(|r| r.quantity == "lut" && r.stage == stage).unwrap().estimate;
    assert_eq!(row("hls-csynth"), e.total.lut as f64);
    assert_eq!(row("vivado-synth"), after.lut as f64);
}
