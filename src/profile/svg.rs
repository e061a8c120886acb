//! A tiny inline-SVG writer for the report's plots: rectangles, lines and text with escaped
//! content, in a fixed-size canvas. Output is a pure function of the calls made.

use std::fmt::Write;

/// Escapes text for HTML/SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub struct Svg {
    body: String,
    width: f64,
    height: f64,
    class: String,
}

impl Svg {
    pub fn new(class: &str, width: f64, height: f64) -> Self {
        Svg { body: String::new(), width, height, class: class.to_string() }
    }

    /// A rectangle with a tooltip (`title`, when not empty).
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, title: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.2}" y="{y:.2}" width="{:.2}" height="{:.2}" fill="{fill}">"#,
            w.max(0.0),
            h.max(0.0)
        );
        if !title.is_empty() {
            let _ = write!(self.body, "<title>{}</title>", escape(title));
        }
        self.body.push_str("</rect>");
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{stroke}" stroke-width="1.5"/>"#
        );
    }

    /// Text anchored at `anchor` (`start`, `middle` or `end`).
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, size: u32, s: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.2}" y="{y:.2}" text-anchor="{anchor}" font-size="{size}">{}</text>"#,
            escape(s)
        );
    }

    pub fn finish(self) -> String {
        format!(
            r#"<svg class="{}" xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{:.0}" viewBox="0 0 {:.0} {:.0}" font-family="sans-serif">{}</svg>"#,
            escape(&self.class),
            self.width,
            self.height,
            self.width,
            self.height,
            self.body
        )
    }
}
