//! A tiny builder of synthesizable Verilog-2005 modules made of exact integer arithmetic.
//!
//! Every signal is a [`Val`]: a wire (or register) whose integer value lies in a known range
//! `[lo, hi]`, held in two's complement when `lo < 0` and unsigned otherwise, in at least as many
//! bits as that range needs, and standing for `wire * 2^sh` (trailing zero bits are never built).
//! Every operation computes its result's exact range first and declares the result with the
//! minimal width of that range, so arithmetic modulo `2^width` is exact and no operation can
//! overflow. Operands are always extended or truncated to exactly the result width in the
//! expression text, which keeps `verilator --lint-only -Wall` free of width warnings; bits of a
//! signal that nothing reads are collected into one `unused_bits` wire (a name Verilator's default
//! `--unused-regexp` exempts), so the generated code needs no lint waivers.
//!
//! Identifiers the builder makes are `<prefix><n>` with the prefixes its callers pass; ports
//! are declared by the caller. Output text depends only on the sequence of calls.

use std::collections::BTreeMap;
use std::fmt::Write;

/// The minimal width of a range: unsigned when `lo >= 0`, else two's complement.
pub use crate::arch::mcm::bit_width as width;
use crate::arch::mcm::csd;

/// A signal with its exact range; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Val {
    pub name: String,
    pub w: u32,
    pub lo: i128,
    pub hi: i128,
    pub sh: u32,
}

impl Val {
    /// Whether the wire is held in two's complement.
    pub fn signed(&self) -> bool {
        self.lo < 0
    }

    /// The same signal standing for `2^k` times its value.
    pub fn shifted(&self, k: u32) -> Val {
        Val { sh: self.sh + k, ..self.clone() }
    }

    /// The range of the value it stands for, `[lo, hi] * 2^sh`.
    pub fn range(&self) -> (i128, i128) {
        (self.lo << self.sh, self.hi << self.sh)
    }
}

/// A one-bit condition: a constant or an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bit {
    Const(bool),
    Expr(String),
}

impl Bit {
    pub fn and(self, o: Bit) -> Bit {
        match (self, o) {
            (Bit::Const(false), _) | (_, Bit::Const(false)) => Bit::Const(false),
            (Bit::Const(true), b) | (b, Bit::Const(true)) => b,
            (Bit::Expr(a), Bit::Expr(b)) => Bit::Expr(format!("({a} & {b})")),
        }
    }

    pub fn or(self, o: Bit) -> Bit {
        match (self, o) {
            (Bit::Const(true), _) | (_, Bit::Const(true)) => Bit::Const(true),
            (Bit::Const(false), b) | (b, Bit::Const(false)) => b,
            (Bit::Expr(a), Bit::Expr(b)) => Bit::Expr(format!("({a} | {b})")),
        }
    }

    pub fn not(self) -> Bit {
        match self {
            Bit::Const(c) => Bit::Const(!c),
            Bit::Expr(a) => Bit::Expr(format!("~{a}")),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Bit::Const(c) => format!("1'b{}", u8::from(*c)),
            Bit::Expr(e) => e.clone(),
        }
    }
}

/// A `w`-bit literal holding the low `w` bits of `v`.
pub fn literal(w: u32, v: i128) -> String {
    let mask = if w >= 128 { u128::MAX } else { (1u128 << w) - 1 };
    format!("{w}'h{:x}", (v as u128) & mask)
}

/// One module under construction.
#[derive(Debug, Default)]
pub struct Module {
    decls: Vec<String>,
    regs: Vec<String>,
    next: usize,
    /// Width and read bits of every signal the builder may slice.
    used: BTreeMap<String, Vec<bool>>,
    order: Vec<String>,
    /// A condition every register waits for (a clock enable), or none.
    enable: Option<String>,
}

impl Module {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every register load only in cycles where `cond` (a one-bit expression) is high.
    pub fn set_enable(&mut self, cond: &str) {
        self.enable = Some(cond.to_string());
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    /// Registers a signal declared elsewhere (a port) so that reads of its bits are tracked.
    pub fn track(&mut self, name: &str, w: u32) {
        if !self.used.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.used.insert(name.to_string(), vec![false; w as usize]);
    }

    fn mark(&mut self, name: &str, msb: u32, lsb: u32) {
        if let Some(bits) = self.used.get_mut(name) {
            for b in bits.iter_mut().take(msb as usize + 1).skip(lsb as usize) {
                *b = true;
            }
        }
    }

    /// `name[msb:lsb]` of a signal (the whole name when that is all of it).
    pub fn slice_of(&mut self, name: &str, w: u32, msb: u32, lsb: u32) -> String {
        if lsb == 0 && msb + 1 == w {
            name.to_string()
        } else if msb == lsb {
            format!("{name}[{msb}]")
        } else {
            format!("{name}[{msb}:{lsb}]")
        }
    }

    pub fn slice(&mut self, v: &Val, msb: u32, lsb: u32) -> String {
        self.slice_of(&v.name, v.w, msb, lsb)
    }

    /// Bit `k` of the wire, sign- or zero-extended beyond its width.
    pub fn bit(&mut self, v: &Val, k: u32) -> Bit {
        if k < v.w {
            Bit::Expr(self.slice(v, k, k))
        } else if v.signed() {
            Bit::Expr(self.slice(v, v.w - 1, v.w - 1))
        } else {
            Bit::Const(false)
        }
    }

    /// The sign of the value (constant 0 for an unsigned wire).
    pub fn sign(&mut self, v: &Val) -> Bit {
        if v.signed() {
            self.bit(v, v.w - 1)
        } else {
            Bit::Const(false)
        }
    }

    /// Exactly `w` bits holding `v`'s value in units of `2^sh` (`sh <= v.sh`), modulo `2^w`.
    pub fn fit(&mut self, v: &Val, sh: u32, w: u32) -> String {
        let d = v.sh - sh;
        if w <= d {
            return literal(w, 0);
        }
        let m = w - d;
        let part = if m <= v.w {
            self.slice(v, m - 1, 0)
        } else {
            let all = self.slice(v, v.w - 1, 0);
            let ext = match self.sign(v) {
                Bit::Const(_) => format!("{}'d0", m - v.w),
                Bit::Expr(s) => format!("{{{}{{{s}}}}}", m - v.w),
            };
            format!("{{{ext}, {all}}}")
        };
        if d == 0 {
            part
        } else {
            format!("{{{part}, {d}'d0}}")
        }
    }

    /// Declares `wire [w-1:0] NAME = expr;` for a value in `[lo, hi]` (units `2^sh`); `expr` must
    /// be exactly `width(lo, hi)` bits unless `w` is given.
    pub fn wire(&mut self, prefix: &str, lo: i128, hi: i128, sh: u32, w: Option<u32>, expr: &str) -> Val {
        let w = w.unwrap_or_else(|| width(lo, hi));
        let name = self.fresh(prefix);
        self.decls.push(format!("    wire [{}:0] {name} = {expr};", w - 1));
        self.track(&name, w);
        Val { name, w, lo, hi, sh }
    }

    /// Declares verbatim text (a function) among the declarations.
    pub fn raw_decl(&mut self, text: String) {
        self.decls.push(text);
    }

    /// A constant value.
    pub fn constant(&mut self, v: i128) -> Val {
        let sh = if v == 0 { 0 } else { v.trailing_zeros() };
        let c = v >> sh;
        let w = width(c, c);
        self.wire("k", c, c, sh, None, &literal(w, c))
    }

    /// `a + b` (or `a - b` when `sub`). `range` overrides the interval-arithmetic range of the
    /// result (units `2^min(a.sh, b.sh)`) when the caller knows it exactly (correlated operands).
    pub fn add(&mut self, a: &Val, b: &Val, sub: bool, range: Option<(i128, i128)>) -> Val {
        let s = a.sh.min(b.sh);
        let (alo, ahi) = (a.lo << (a.sh - s), a.hi << (a.sh - s));
        let (blo, bhi) = (b.lo << (b.sh - s), b.hi << (b.sh - s));
        let (lo, hi) = range.unwrap_or(if sub { (alo - bhi, ahi - blo) } else { (alo + blo, ahi + bhi) });
        // The operand with fewer trailing zeros passes its low bits through unchanged, unless it
        // is the subtrahend.
        let (p, q, p_first) = if a.sh < b.sh { (a, b, true) } else { (b, a, false) };
        let d = q.sh - p.sh;
        if d > 0 && p.w > d && (p_first || !sub) {
            let (hlo, hhi) = (lo >> d, hi >> d);
            let high_part = self.slice(p, p.w - 1, d);
            let ph = self.wire("h", p.lo >> d, p.hi >> d, q.sh, Some(p.w - d), &high_part);
            let high = if p_first {
                self.add(&ph, q, sub, Some((hlo, hhi)))
            } else {
                self.add(q, &ph, sub, Some((hlo, hhi)))
            };
            let low = self.slice(p, d - 1, 0);
            let expr = format!("{{{}, {low}}}", high.name);
            self.mark(&high.name, high.w - 1, 0);
            return self.wire("s", lo, hi, s, Some(high.w + d), &expr);
        }
        let w = width(lo, hi);
        let x = self.fit(a, s, w);
        let y = self.fit(b, s, w);
        let op = if sub { "-" } else { "+" };
        self.wire("s", lo, hi, s, None, &format!("{x} {op} {y}"))
    }

    /// `-v`.
    pub fn neg(&mut self, v: &Val) -> Val {
        let (lo, hi) = (-v.hi, -v.lo);
        let w = width(lo, hi);
        let x = self.fit(v, v.sh, w);
        self.wire("n", lo, hi, v.sh, None, &format!("{} - {x}", literal(w, 0)))
    }

    /// `x * c` for an odd `c > 0`, as shift-and-add over the canonical signed digits of `c`.
    pub fn mul_odd(&mut self, x: &Val, c: u128) -> Val {
        let digits = csd(c);
        let Some(&(top, _)) = digits.last() else {
            return x.clone();
        };
        let mut acc = x.shifted(top);
        let mut partial: i128 = 1 << top;
        for &(p, neg) in digits.iter().rev().skip(1) {
            partial += if neg { -(1i128 << p) } else { 1i128 << p };
            let k = partial >> p;
            let range = (x.lo * k, x.hi * k);
            acc = self.add(&acc, &x.shifted(p), neg, Some(range));
        }
        acc
    }

    /// `a * b` of two signals, exact: a signed product of the operands at their own widths (a
    /// non-negative operand gains a zero sign bit), evaluated at the product's width, so Yosys
    /// sees an `A x B` multiplier it maps to one DSP48E2 up to 27 x 18 bits (see
    /// `crate::estimate::rtl`). `range` overrides the interval-arithmetic range (units
    /// `2^(a.sh + b.sh)`), e.g. for a square.
    pub fn mul(&mut self, a: &Val, b: &Val, range: Option<(i128, i128)>) -> Val {
        let corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
        let (lo, hi) = range.unwrap_or((
            corners.iter().copied().min().unwrap_or(0),
            corners.iter().copied().max().unwrap_or(0),
        ));
        let x = self.signed_operand(a);
        let y = self.signed_operand(b);
        self.wire("p", lo, hi, a.sh + b.sh, None, &format!("{x} * {y}"))
    }

    /// `$signed(v)` at `v`'s width, with a zero sign bit above a non-negative value.
    fn signed_operand(&mut self, v: &Val) -> String {
        let all = self.slice(v, v.w - 1, 0);
        if v.signed() {
            format!("$signed({all})")
        } else {
            format!("$signed({{1'b0, {all}}})")
        }
    }

    /// `a < b` of two signals, from the sign of their exact difference.
    pub fn less(&mut self, a: &Val, b: &Val) -> Bit {
        let d = self.add(a, b, true, None);
        self.sign(&d)
    }

    /// `v < c` for a constant `c` in value units (the value is `wire * 2^sh`).
    pub fn lt(&mut self, v: &Val, c: i128) -> Bit {
        let k = -((-c) >> v.sh); // ceil(c / 2^sh)
        if k <= v.lo {
            return Bit::Const(false);
        }
        if k > v.hi {
            return Bit::Const(true);
        }
        self.compare(v, "<", k)
    }

    /// `v > c` for a constant `c` in value units.
    pub fn gt(&mut self, v: &Val, c: i128) -> Bit {
        let k = c >> v.sh; // floor(c / 2^sh)
        if k >= v.hi {
            return Bit::Const(false);
        }
        if k < v.lo {
            return Bit::Const(true);
        }
        self.compare(v, ">", k)
    }

    fn compare(&mut self, v: &Val, op: &str, k: i128) -> Bit {
        let all = self.slice(v, v.w - 1, 0);
        let lit = literal(v.w, k);
        if v.signed() {
            Bit::Expr(format!("($signed({all}) {op} $signed({lit}))"))
        } else {
            Bit::Expr(format!("({all} {op} {lit})"))
        }
    }

    /// `cond ? a : b` for a result known to lie in `[lo, hi]` (value units).
    pub fn mux(&mut self, cond: &Bit, a: &Val, b: &Val, lo: i128, hi: i128) -> Val {
        match cond {
            Bit::Const(true) => return a.clone(),
            Bit::Const(false) => return b.clone(),
            Bit::Expr(_) => {}
        }
        let s = a.sh.min(b.sh);
        let (lo, hi) = (lo >> s, hi >> s);
        let w = width(lo, hi);
        let x = self.fit(a, s, w);
        let y = self.fit(b, s, w);
        self.wire("m", lo, hi, s, None, &format!("{} ? {x} : {y}", cond.text()))
    }

    /// A register stage: `r <= v` on every rising clock edge.
    pub fn reg(&mut self, v: &Val) -> Val {
        let name = self.fresh("r");
        self.decls.push(format!("    reg [{}:0] {name};", v.w - 1));
        let src = self.slice(v, v.w - 1, 0);
        self.regs.push(format!("        {name} <= {src};"));
        self.track(&name, v.w);
        Val { name, ..v.clone() }
    }

    /// The declarations, assignments, register block and the unused-bit sink, in order.
    pub fn body(&mut self) -> String {
        let texts: Vec<String> = self
            .decls
            .iter()
            .filter(|d| !d.trim_start().starts_with("function"))
            .map(|d| d.split_once('=').map(|(_, rhs)| rhs.to_string()).unwrap_or_default())
            .chain(
                self.regs
                    .iter()
                    .map(|r| r.split_once("<=").map(|(_, rhs)| rhs.to_string()).unwrap_or_default()),
            )
            .collect();
        for t in &texts {
            self.scan(t);
        }
        let mut out = String::new();
        for d in &self.decls {
            out.push_str(d);
            out.push('\n');
        }
        if !self.regs.is_empty() {
            match &self.enable {
                Some(e) => {
                    let _ = writeln!(out, "    always @(posedge ap_clk) if ({e}) begin");
                }
                None => out.push_str("    always @(posedge ap_clk) begin\n"),
            }
            for r in &self.regs {
                out.push_str(r);
                out.push('\n');
            }
            out.push_str("    end\n");
        }
        let mut unused = Vec::new();
        for name in &self.order {
            let bits = &self.used[name];
            let w = bits.len() as u32;
            let mut k = 0u32;
            while k < w {
                if bits[k as usize] {
                    k += 1;
                    continue;
                }
                let start = k;
                while k < w && !bits[k as usize] {
                    k += 1;
                }
                let msb = k - 1;
                unused.push(if start == 0 && msb + 1 == w {
                    name.clone()
                } else if start == msb {
                    format!("{name}[{msb}]")
                } else {
                    format!("{name}[{msb}:{start}]")
                });
            }
        }
        if !unused.is_empty() {
            let _ = writeln!(out, "    wire unused_bits = &{{1'b0, {}}};", unused.join(", "));
        }
        out
    }

    /// Marks every bit of `v` as read by text the caller emits outside [`Module::body`].
    pub fn use_all(&mut self, v: &Val) -> String {
        self.mark(&v.name, v.w - 1, 0);
        self.slice(v, v.w - 1, 0)
    }

    /// Marks the bits the emitted text reads: every tracked identifier on a right-hand side,
    /// whole or with its `[msb:lsb]` / `[k]` selection (tokens after a `'` are literal digits).
    fn scan(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut k = 0;
        while k < bytes.len() {
            let c = bytes[k];
            if !(c.is_ascii_alphabetic() || c == b'_') {
                k += 1;
                continue;
            }
            let start = k;
            while k < bytes.len() && (bytes[k].is_ascii_alphanumeric() || bytes[k] == b'_') {
                k += 1;
            }
            if start > 0 && bytes[start - 1] == b'\'' {
                continue;
            }
            let ident = &text[start..k];
            let Some(w) = self.used.get(ident).map(|b| b.len() as u32) else { continue };
            if bytes.get(k) == Some(&b'[') {
                let end = text[k..].find(']').map(|e| k + e).unwrap_or(k);
                let sel = &text[k + 1..end];
                let mut parts = sel.split(':').map(|p| p.trim().parse::<u32>().ok());
                match (parts.next().flatten(), parts.next().flatten()) {
                    (Some(msb), Some(lsb)) => self.mark(ident, msb, lsb),
                    (Some(bit), None) => self.mark(ident, bit, bit),
                    _ => self.mark(ident, w - 1, 0),
                }
                k = end;
            } else {
                self.mark(ident, w - 1, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(width(0, 0), 1);
        assert_eq!(width(0, 255), 8);
        assert_eq!(width(-128, 127), 8);
        assert_eq!(width(-129, 0), 9);
        assert_eq!(width(-1, 0), 1);
        assert_eq!(literal(8, -1), "8'hff");
    }
}
