//! The profile as one self-contained HTML page (no script, no external resource; it opens
//! offline): per layer, an inline SVG of each tensor's log2-magnitude histogram against the range
//! its type holds, with a table of the numbers; the estimator's per-layer resource and latency
//! bars; the overflow table; and, after automatic precision, the chosen types and the cost before
//! and after. Numbers are printed with Rust's shortest round-trip formatting, so they parse to the
//! same `f64` as the JSON report's.

use std::fmt::Write;

use super::svg::{escape, Svg};
use super::{LayerProfile, Profile, TensorStats, HIST_MAX, HIST_MIN};

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0}\
td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:right}th{background:#f0f0f0}\
td.name,td.tensor,td.type,td.kind{text-align:left}section.layer{margin:1.5em 0;padding-top:.5em;border-top:1px solid #ddd}\
.bad{color:#b00;font-weight:bold}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}";

fn num(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v}"))
}

fn count(v: Option<u64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// The page for `p`, titled `title`.
pub fn render(p: &Profile, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", escape(title));
    let _ = write!(
        h,
        "<p id=\"summary\">Model <code>{}</code>, <span id=\"samples\">{}</span> samples.",
        escape(&p.model),
        p.samples
    );
    if let Some(a) = &p.agreement {
        if let Some(x) = a.argmax {
            let _ =
                write!(
                    h,
                    " Argmax agreement with the float reference: <span id=\"agreement\" data-value=\"{x}\">{:.2} %</span>.",
                    100.0 * x
                );
        }
        let _ = write!(h, " Largest output difference: <span id=\"max-error\">{}</span>.", a.max_abs_error);
    }
    h.push_str("</p>\n");
    if let Some(auto) = &p.auto {
        auto_section(&mut h, auto);
    }
    if p.layers.iter().any(|l| l.cost.is_some()) {
        cost_section(&mut h, p);
    }
    overflow_section(&mut h, p);
    h.push_str("<h2>Layers</h2>\n<p class=\"legend\">Each row: log2 of the magnitudes (histogram) against the range the type holds<span style=\"background:#cfe3f7\"></span>type range<span style=\"background:#555\"></span>values inside<span style=\"background:#d33\"></span>values outside</p>\n");
    for (k, l) in p.layers.iter().enumerate() {
        layer_section(&mut h, k, l);
    }
    h.push_str("</body></html>\n");
    h
}

fn auto_section(h: &mut String, a: &super::AutoReport) {
    h.push_str("<h2>Automatic precision</h2>\n<table id=\"auto\"><tr><th>layer</th><th>tensor</th><th>before</th><th>chosen</th></tr>\n");
    for c in &a.choices {
        let _ = writeln!(
            h,
            "<tr><td class=\"name\">{}</td><td class=\"tensor\">{}</td><td class=\"type\">{}</td><td class=\"type\">{}</td></tr>",
            escape(&c.layer),
            c.tensor,
            escape(c.before.as_deref().unwrap_or("")),
            escape(&c.ty)
        );
    }
    h.push_str("</table>\n");
    if let (Some(b), Some(x)) = (&a.before, &a.after) {
        h.push_str("<table id=\"auto-cost\"><tr><th></th><th>LUT</th><th>DSP</th><th>FF</th><th>BRAM18</th><th>latency (cycles)</th></tr>\n");
        for (label, c) in [("before", b), ("after", x)] {
            let cells = cost_cells(c.lut, c.dsp, c.ff, c.bram18, c.latency_cycles);
            let _ = writeln!(h, "<tr class=\"{label}\"><td class=\"name\">{label}</td>{cells}</tr>");
        }
        h.push_str("</table>\n");
    }
}

fn cost_section(h: &mut String, p: &Profile) {
    h.push_str("<h2>Estimated resources and latency per layer</h2>\n");
    let rows: Vec<&LayerProfile> = p.layers.iter().filter(|l| l.cost.is_some()).collect();
    type Metric = (&'static str, fn(&super::LayerCost) -> u64, &'static str);
    let metrics: [Metric; 4] = [
        ("LUT", |c| c.lut, "#4a7ebb"),
        ("DSP", |c| c.dsp, "#c0504d"),
        ("FF", |c| c.ff, "#9bbb59"),
        ("latency (cycles)", |c| c.latency_cycles, "#8064a2"),
    ];
    let (label_w, bar_w, row_h) = (230.0, 180.0, 18.0);
    let width = label_w + metrics.len() as f64 * (bar_w + 20.0);
    let mut svg = Svg::new("cost", width, 24.0 + row_h * rows.len() as f64);
    for (m, (name, get, color)) in metrics.iter().enumerate() {
        let x0 = label_w + m as f64 * (bar_w + 20.0);
        svg.text(x0, 14.0, "start", 12, name);
        let most = rows.iter().filter_map(|l| l.cost.as_ref().map(get)).max().unwrap_or(0).max(1) as f64;
        for (r, l) in rows.iter().enumerate() {
            let Some(c) = &l.cost else { continue };
            let v = get(c);
            let y = 20.0 + r as f64 * row_h;
            let len = (bar_w - 50.0) * v as f64 / most;
            svg.rect(x0, y + 2.0, len, row_h - 5.0, color, &format!("{}: {name} {v}", l.name));
            svg.text(x0 + len + 3.0, y + row_h - 5.0, "start", 10, &v.to_string());
        }
    }
    for (r, l) in rows.iter().enumerate() {
        svg.text(label_w - 6.0, 20.0 + r as f64 * row_h + row_h - 5.0, "end", 11, &l.name);
    }
    h.push_str(&svg.finish());
    h.push_str("\n<table id=\"cost\"><tr><th>layer</th><th>LUT</th><th>DSP</th><th>FF</th><th>BRAM18</th><th>latency (cycles)</th></tr>\n");
    for l in rows {
        if let Some(c) = &l.cost {
            let cells = cost_cells(c.lut, c.dsp, c.ff, c.bram18, c.latency_cycles);
            let _ = writeln!(h, "<tr><td class=\"name\">{}</td>{cells}</tr>", escape(&l.name));
        }
    }
    if let Some(t) = &p.cost {
        let cells = cost_cells(t.lut, t.dsp, t.ff, t.bram18, t.latency_cycles);
        let _ = writeln!(h, "<tr class=\"total\"><th>total ({})</th>{cells}</tr>", escape(&t.part));
    }
    h.push_str("</table>\n");
}

/// The cells of a cost row, each classed for the tests and styles.
fn cost_cells(lut: u64, dsp: u64, ff: u64, bram18: u64, latency: u64) -> String {
    format!(
        "<td class=\"lut\">{lut}</td><td class=\"dsp\">{dsp}</td><td class=\"ff\">{ff}</td><td class=\"bram\">{bram18}</td><td class=\"latency\">{latency}</td>"
    )
}

fn overflow_section(h: &mut String, p: &Profile) {
    let total: u64 = p.overflows.iter().map(|o| o.count).sum();
    let _ = writeln!(h, "<h2>Overflows</h2>\n<p>Casts that saturated or wrapped: <span id=\"overflow-total\">{total}</span>.</p>");
    h.push_str("<table id=\"overflows\"><tr><th>layer</th><th>cast</th><th>overflows</th><th>casts</th><th>%</th></tr>\n");
    for o in &p.overflows {
        let pct = 100.0 * o.count as f64 / o.casts.max(1) as f64;
        let _ = writeln!(
            h,
            "<tr{}><td class=\"name\">{}</td><td class=\"kind\">{}</td><td class=\"count\">{}</td><td class=\"casts\">{}</td><td>{pct:.3}</td></tr>",
            if o.count > 0 { " class=\"bad\"" } else { "" },
            escape(&o.layer),
            escape(&o.kind),
            o.count,
            o.casts
        );
    }
    h.push_str("</table>\n");
}

/// The log2 span the plot shows: the histogram's occupied bins and the types' ranges, padded.
fn span(l: &LayerProfile) -> (i32, i32) {
    let mut lo = i32::MAX;
    let mut hi = i32::MIN;
    for t in &l.tensors {
        for (k, &c) in t.histogram.bins.iter().enumerate() {
            if c > 0 {
                lo = lo.min(HIST_MIN + k as i32);
                hi = hi.max(HIST_MIN + k as i32);
            }
        }
        if let Some(ty) = &t.ty {
            lo = lo.min(-ty.frac_bits());
            hi = hi.max(ty.integer);
        }
    }
    if lo > hi {
        return (-8, 8);
    }
    ((lo - 1).max(HIST_MIN), (hi + 1).min(HIST_MAX + 1))
}

fn layer_section(h: &mut String, k: usize, l: &LayerProfile) {
    let _ = writeln!(
        h,
        "<section class=\"layer\" id=\"layer-{k}\" data-layer=\"{}\"><h3>{} <small>({}{})</small></h3>",
        escape(&l.name),
        escape(&l.name),
        escape(&l.kind),
        if l.type_from_model { ", type fixed by the model" } else { "" }
    );
    let (lo, hi) = span(l);
    let (label_w, plot_w, row_h) = (90.0, 640.0, 34.0);
    let unit = plot_w / (hi - lo + 1) as f64;
    let x = |e: f64| label_w + (e - lo as f64) * unit;
    let rows = l.tensors.len() as f64;
    let mut svg = Svg::new("ranges", label_w + plot_w + 10.0, rows * row_h + 22.0);
    for (r, t) in l.tensors.iter().enumerate() {
        let y = r as f64 * row_h + 4.0;
        svg.text(label_w - 6.0, y + row_h / 2.0 + 4.0, "end", 12, t.tensor);
        if let Some(ty) = &t.ty {
            let (a, b) = (-ty.frac_bits() as f64, ty.integer as f64 - if ty.signed { 1.0 } else { 0.0 });
            let title = format!(
                "{}: {} .. {}",
                t.type_name.as_deref().unwrap_or(""),
                num(t.type_min),
                num(t.type_max)
            );
            svg.rect(x(a), y, x(b) - x(a), row_h - 6.0, "#cfe3f7", &title);
        }
        let most = t.histogram.bins.iter().copied().max().unwrap_or(0).max(1) as f64;
        for (k, &c) in t.histogram.bins.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let e = HIST_MIN + k as i32;
            let outside =
                t.ty.is_some_and(|ty| e < -ty.frac_bits() || e >= ty.integer - if ty.signed { 1 } else { 0 });
            let bar = (row_h - 8.0) * (0.15 + 0.85 * c as f64 / most);
            let title = format!("{}: {c} values with |v| in [2^{e}, 2^{})", t.tensor, e + 1);
            svg.rect(
                x(e as f64) + 1.0,
                y + row_h - 6.0 - bar,
                unit - 2.0,
                bar,
                if outside { "#d33" } else { "#555" },
                &title,
            );
        }
    }
    let base = rows * row_h + 6.0;
    svg.line(label_w, base, label_w + plot_w, base, "#888");
    let step = ((hi - lo) / 8).max(1);
    let mut e = lo;
    while e <= hi {
        svg.text(x(e as f64), base + 13.0, "start", 10, &format!("2^{e}"));
        e += step;
    }
    h.push_str(&svg.finish());
    h.push_str("\n<table class=\"tensors\"><tr><th>tensor</th><th>type</th><th>min</th><th>max</th><th>float min</th><th>float max</th><th>overflows</th><th>casts</th><th>unused MSBs</th><th>unused LSBs</th></tr>\n");
    for t in &l.tensors {
        tensor_row(h, t);
    }
    h.push_str("</table></section>\n");
}

fn tensor_row(h: &mut String, t: &TensorStats) {
    let _ = writeln!(
        h,
        "<tr data-tensor=\"{}\"><td class=\"tensor\">{}</td><td class=\"type\">{}</td><td class=\"min\">{}</td><td class=\"max\">{}</td><td class=\"float-min\">{}</td><td class=\"float-max\">{}</td><td class=\"overflows{}\">{}</td><td class=\"casts\">{}</td><td class=\"unused-msb\">{}</td><td class=\"unused-lsb\">{}</td></tr>",
        t.tensor,
        t.tensor,
        escape(t.type_name.as_deref().unwrap_or("")),
        num(t.min),
        num(t.max),
        num(t.float_min),
        num(t.float_max),
        if t.overflows.unwrap_or(0) > 0 { " bad" } else { "" },
        count(t.overflows),
        count(t.casts),
        count(t.unused_msb.map(u64::from)),
        count(t.unused_lsb.map(u64::from))
    );
}
