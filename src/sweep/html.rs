//! `results.html`: one self-contained page (no script, no external resource) with two scatter
//! plots, accuracy against LUT + DSP and accuracy against latency, each front's points in red and
//! joined by a line, and the table of every point (front rows marked). Drawn with the profiling
//! report's SVG writer ([`crate::profile::svg`]); numbers print in Rust's shortest round-trip form,
//! as in `results.json`.

use std::fmt::Write;

use super::collect::{Results, Row};
use crate::profile::svg::{escape, Svg};

const STYLE: &str =
    "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:right}th{background:#f0f0f0}\
td.id,td.precision,td.strategy,td.status,td.error{text-align:left}tr.front{background:#fdecea}\
figure{display:inline-block;margin:0 1.5em 1em 0}";

const FRONT: &str = "#c0504d";
const OTHER: &str = "#4a7ebb";

fn label(r: &Row) -> String {
    let v = &r.values;
    let mut parts = vec![r.id.clone()];
    parts.extend(v.precision.clone());
    parts.extend(v.reuse_factor.map(|x| format!("rf {x}")));
    parts.extend(v.strategy.clone());
    parts.extend(v.prune_below.map(|x| format!("prune < {x}")));
    parts.join(" ")
}

fn accuracy(r: &Row) -> Option<f64> {
    r.accuracy.as_ref().and_then(|a| a.argmax)
}

/// A scatter plot of accuracy (y) against `cost` (x) of the finished points, `front` marked.
fn scatter(
    rows: &[Row],
    class: &str,
    x_name: &str,
    cost: fn(&Row) -> Option<u64>,
    front: fn(&Row) -> bool,
) -> String {
    let (w, h, left, bottom, top, right) = (560.0, 340.0, 60.0, 40.0, 16.0, 20.0);
    let pts: Vec<(&Row, f64, f64)> = rows
        .iter()
        .filter(|r| r.status == "ok")
        .filter_map(|r| Some((r, cost(r)? as f64, accuracy(r).unwrap_or(0.0))))
        .collect();
    let mut svg = Svg::new(class, w, h);
    let (x0, x1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (y0, y1) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.2), b.max(p.2)));
    let (x0, x1) = if pts.is_empty() { (0.0, 1.0) } else { (x0, x1) };
    let (y0, y1) = if pts.is_empty() { (0.0, 1.0) } else { (y0, y1) };
    let pad =
        |a: f64, b: f64| if b > a { (a - 0.05 * (b - a), b + 0.05 * (b - a)) } else { (a - 0.5, b + 0.5) };
    let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0, y1));
    let px = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let py = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - bottom - top);
    svg.line(left, h - bottom, w - right, h - bottom, "#888");
    svg.line(left, top, left, h - bottom, "#888");
    svg.text((left + w - right) / 2.0, h - 6.0, "middle", 12, x_name);
    svg.text(4.0, top - 4.0, "start", 12, "argmax agreement");
    for (x, anchor) in [(x0, "start"), (x1, "end")] {
        svg.text(px(x), h - bottom + 14.0, anchor, 10, &format!("{:.0}", x.max(0.0)));
    }
    for y in [y0, y1] {
        svg.text(left - 4.0, py(y) + 4.0, "end", 10, &format!("{y:.4}"));
    }
    let mut on_front: Vec<&(&Row, f64, f64)> = pts.iter().filter(|p| front(p.0)).collect();
    on_front.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.total_cmp(&b.2)));
    for pair in on_front.windows(2) {
        svg.line(px(pair[0].1), py(pair[0].2), px(pair[1].1), py(pair[1].2), FRONT);
    }
    for (r, x, y) in &pts {
        let title = format!("{}: {x_name} {x}, agreement {y}", label(r));
        let color = if front(r) { FRONT } else { OTHER };
        svg.rect(px(*x) - 4.0, py(*y) - 4.0, 8.0, 8.0, color, &title);
    }
    svg.finish()
}

fn cell(h: &mut String, class: &str, v: impl std::fmt::Display) {
    let _ = write!(h, "<td class=\"{class}\">{}</td>", escape(&v.to_string()));
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// The page for `r`, titled `title`.
pub fn render(r: &Results, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let ok = r.points.iter().filter(|p| p.status == "ok").count();
    let _ = writeln!(
        h,
        "<p id=\"summary\">Model <code>{}</code> on {} at {} ns: <span id=\"points\">{}</span> points, <span id=\"ok\">{ok}</span> finished without error. Red: Pareto-optimal (no other point is as accurate and as cheap, with one of the two strictly better).</p>",
        escape(&r.model),
        escape(&r.part),
        r.clock_ns,
        r.points.len()
    );
    h.push_str("<figure><figcaption>Accuracy against LUT + DSP</figcaption>");
    h.push_str(&scatter(&r.points, "pareto-cost", "LUT + DSP", |p| p.cost, |p| p.pareto_cost));
    h.push_str("</figure>\n<figure><figcaption>Accuracy against latency</figcaption>");
    h.push_str(&scatter(
        &r.points,
        "pareto-latency",
        "latency (cycles)",
        |p| p.latency_cycles,
        |p| p.pareto_latency,
    ));
    h.push_str("</figure>\n<table id=\"points\"><tr><th>id</th><th>precision</th><th>reuse</th><th>strategy</th><th>prune below</th><th>status</th><th>latency (cycles)</th><th>II</th><th>LUT</th><th>DSP</th><th>FF</th><th>BRAM18</th><th>synth LUT</th><th>synth DSP</th><th>synth FF</th><th>LUT + DSP</th><th>argmax agreement</th><th>max error</th><th>front (cost)</th><th>front (latency)</th><th>error</th></tr>\n");
    for p in &r.points {
        let front = p.pareto_cost || p.pareto_latency;
        let _ = write!(h, "<tr{}>", if front { " class=\"front\"" } else { "" });
        let (v, e, s) = (&p.values, p.estimate.as_ref(), p.synth.as_ref());
        cell(&mut h, "id", &p.id);
        cell(&mut h, "precision", opt(v.precision.as_deref()));
        cell(&mut h, "reuse", opt(v.reuse_factor));
        cell(&mut h, "strategy", opt(v.strategy.as_deref()));
        cell(&mut h, "prune", opt(v.prune_below));
        cell(&mut h, "status", p.status);
        cell(&mut h, "latency", opt(p.latency_cycles));
        cell(&mut h, "ii", opt(e.map(|e| e.ii)));
        cell(&mut h, "lut", opt(e.map(|e| e.lut)));
        cell(&mut h, "dsp", opt(e.map(|e| e.dsp)));
        cell(&mut h, "ff", opt(e.map(|e| e.ff)));
        cell(&mut h, "bram", opt(e.map(|e| e.bram18)));
        cell(&mut h, "synth-lut", opt(s.and_then(|s| s.lut)));
        cell(&mut h, "synth-dsp", opt(s.and_then(|s| s.dsp)));
        cell(&mut h, "synth-ff", opt(s.and_then(|s| s.ff)));
        cell(&mut h, "cost", opt(p.cost));
        cell(&mut h, "accuracy", opt(accuracy(p)));
        cell(&mut h, "max-error", opt(p.accuracy.as_ref().and_then(|a| a.max_abs_error)));
        cell(&mut h, "front-cost", if p.pareto_cost { "yes" } else { "" });
        cell(&mut h, "front-latency", if p.pareto_latency { "yes" } else { "" });
        cell(&mut h, "error", opt(p.error.as_deref()));
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body></html>\n");
    h
}
