//! Multiple-constant multiplication of a constant matrix: `y_j = b_j + sum_i c_ij x_i` for
//! integer `c_ij`, `b_j` and integer inputs `x_i` in known ranges, planned as a graph of two-input
//! adders with no multiplier. Backends build the graph node by node; the estimator counts it.
//!
//! # Plan
//!
//! 1. Every `c_ij` is split into its canonical signed digits: `y_j` is a sum of signed, shifted
//!    inputs (digit terms).
//! 2. Common sub-expressions: the pair of terms `a + ±b * 2^s` (up to a common shift and sign)
//!    that occurs in the most outputs (among those, the one whose operands overlap on the most
//!    bits: it saves the widest adders) becomes a new node, replacing the pair wherever it occurs;
//!    repeated while some pair occurs at least twice. This shares a weight's odd multiples of an
//!    input (`x + x * 2^s`), shift-add terms across weights and partial sums across outputs.
//! 3. Each output adds its positive terms in one tree and its negative terms in another, which
//!    then subtract: sums of non-negative values need no sign extension. A signed node enters a
//!    tree, or a shared node, as its [`Node::Flip`] (sign bit inverted, `+2^(w-1)`), and each
//!    output's bias, on the side of its sign, takes back the constants so added. Each
//!    tree combines its two narrowest terms first (the least adder bits; the least adder depth
//!    among terms of one width).
//!
//! # Contract
//!
//! Every node's value is an exact integer linear form of the inputs; [`Plan::ranges`] holds the
//! exact range of each node (every input independently anywhere in its range), so a builder can
//! give every intermediate the least width that holds it. [`Plan::depth`] is each node's adder
//! depth. Output `j` equals `±node * 2^shift` of [`Plan::outputs`]`[j]`. The plan depends only on
//! the arguments (no hash-map order reaches it).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

/// A node's value times `±2^shift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operand {
    pub node: usize,
    pub shift: u32,
    pub neg: bool,
}

/// One node of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// Input `i` (node `i`).
    Input(usize),
    /// A constant.
    Const(i128),
    /// `a * 2^a.shift + b * 2^b.shift`, or minus the second when `sub` (operands' `neg` unset).
    Add { a: Operand, b: Operand, sub: bool },
    /// A signed node plus `2^(w-1)`, `w` the [`bit_width`] of its range: its sign bit inverted,
    /// an unsigned value of the same width (no logic).
    Flip(usize),
}

/// The adder graph of a constant matrix; see the module documentation.
#[derive(Debug, Clone)]
pub struct Plan {
    pub nodes: Vec<Node>,
    pub ranges: Vec<(i128, i128)>,
    pub depth: Vec<u32>,
    pub outputs: Vec<Operand>,
    /// Nodes made by sub-expression sharing (step 2), as opposed to the output trees.
    pub shared: usize,
}

/// An exact linear form over the inputs plus a constant.
#[derive(Debug, Clone, Default)]
struct Form {
    coef: BTreeMap<usize, i128>,
    constant: i128,
}

impl Form {
    fn add(&self, sa: u32, other: &Form, sb: u32, sign: i128) -> Form {
        let mut coef: BTreeMap<usize, i128> = self.coef.iter().map(|(&i, &c)| (i, c << sa)).collect();
        for (&i, &c) in &other.coef {
            *coef.entry(i).or_insert(0) += sign * (c << sb);
        }
        coef.retain(|_, c| *c != 0);
        Form { coef, constant: (self.constant << sa) + sign * (other.constant << sb) }
    }

    fn range(&self, inputs: &[(i128, i128)]) -> (i128, i128) {
        let (mut lo, mut hi) = (self.constant, self.constant);
        for (&i, &c) in &self.coef {
            let (a, b) = (c * inputs[i].0, c * inputs[i].1);
            lo += a.min(b);
            hi += a.max(b);
        }
        (lo, hi)
    }
}

/// The exact range of `b + sum_i c_i x_i` for inputs in `inputs`.
pub fn range_of(coefs: &[i128], bias: i128, inputs: &[(i128, i128)]) -> (i128, i128) {
    let coef = coefs.iter().enumerate().filter(|(_, &c)| c != 0).map(|(i, &c)| (i, c)).collect();
    Form { coef, constant: bias }.range(inputs)
}

/// The biases for inputs stored with an offset, `x_i = u_i - offsets[i]`:
/// `b_j - sum_i c_ij offsets[i]`, so that the plan over the `u_i` gives the same outputs.
pub fn offset_bias(coefs: &[i128], bias: &[i128], offsets: &[i128]) -> Vec<i128> {
    let n_out = bias.len();
    (0..n_out)
        .map(|j| bias[j] - offsets.iter().enumerate().map(|(i, &o)| coefs[i * n_out + j] * o).sum::<i128>())
        .collect()
}

/// Canonical signed digits of `c > 0`: `(position, negative)` from the least significant.
pub fn csd(mut c: u128) -> Vec<(u32, bool)> {
    let mut out = Vec::new();
    let mut p = 0;
    while c != 0 {
        if c & 1 == 1 {
            if c & 2 == 2 {
                out.push((p, true));
                c += 1;
            } else {
                out.push((p, false));
                c -= 1;
            }
        }
        c >>= 1;
        p += 1;
    }
    out
}

/// A pair pattern: first node, second node, the second's extra shift, opposite signs.
type Key = (usize, usize, u32, bool);

/// The pattern of two terms of one output, `None` for a node paired with itself at one shift.
fn key(t: &Operand, u: &Operand) -> Option<Key> {
    let (f, s) = match (t.shift, t.node).cmp(&(u.shift, u.node)) {
        std::cmp::Ordering::Less => (t, u),
        std::cmp::Ordering::Greater => (u, t),
        std::cmp::Ordering::Equal => return None,
    };
    Some((f.node, s.node, s.shift - f.shift, f.neg != s.neg))
}

/// Pair counts over all outputs, with a lazily updated max-heap of the most frequent pairs,
/// among equally frequent ones those whose operands overlap on the most bits.
struct Pairs {
    counts: HashMap<Key, i64>,
    heap: BinaryHeap<(i64, u32, Reverse<u32>, Reverse<Key>)>,
    /// Each node's width.
    widths: Vec<u32>,
}

impl Pairs {
    /// The bits on which the two operands of pattern `k` overlap: those an adder of the pair
    /// adds (the first operand's bits below the shift pass beside it), so sharing a pair that
    /// occurs `c` times saves `c - 1` adders of about this many bits each.
    fn overlap(&self, (n1, n2, s, _): Key) -> u32 {
        self.widths[n1].min(self.widths[n2] + s).saturating_sub(s)
    }

    fn bump(&mut self, k: Key, by: i64) {
        let c = self.counts.entry(k).or_insert(0);
        *c += by;
        if by > 0 && *c >= 2 {
            let c = *c;
            self.heap.push((c, self.overlap(k), Reverse(k.2), Reverse(k)));
        }
    }

    fn term(&mut self, terms: &[Operand], t: &Operand, by: i64) {
        for u in terms {
            if let Some(k) = key(t, u) {
                self.bump(k, by);
            }
        }
    }

    /// The most frequent pattern occurring at least twice (the widest overlap among equals).
    fn best(&mut self) -> Option<Key> {
        while let Some((c, _, _, Reverse(k))) = self.heap.pop() {
            if self.counts.get(&k) == Some(&c) {
                return Some(k);
            }
        }
        None
    }
}

/// Plans `y_j = bias[j] + sum_i coefs[i * n_out + j] * x_i` for `x_i` in `inputs[i]`.
pub fn plan(coefs: &[i128], bias: &[i128], inputs: &[(i128, i128)]) -> Plan {
    let n_in = inputs.len();
    let n_out = bias.len();
    let mut nodes: Vec<Node> = (0..n_in).map(Node::Input).collect();
    let mut forms: Vec<Form> =
        (0..n_in).map(|i| Form { coef: BTreeMap::from([(i, 1)]), constant: 0 }).collect();
    let mut depth = vec![0u32; n_in];

    let mut terms: Vec<Vec<Operand>> = vec![Vec::new(); n_out];
    for i in 0..n_in {
        for (j, t) in terms.iter_mut().enumerate() {
            let c = coefs[i * n_out + j];
            if c != 0 {
                for (p, neg) in csd(c.unsigned_abs()) {
                    t.push(Operand { node: i, shift: p, neg: neg != (c < 0) });
                }
            }
        }
    }

    let width_of = |f: &Form| {
        let (lo, hi) = f.range(inputs);
        bit_width(lo, hi)
    };
    let mut pairs = Pairs {
        counts: HashMap::new(),
        heap: BinaryHeap::new(),
        widths: forms.iter().map(width_of).collect(),
    };
    for t in &terms {
        for (a, x) in t.iter().enumerate() {
            pairs.term(&t[a + 1..], x, 1);
        }
    }
    let mut flips = Flips { of: BTreeMap::new(), inputs };
    while let Some(k @ (n1, n2, s, opposite)) = pairs.best() {
        let (f1, f2) = (
            flips.unsigned(&mut nodes, &mut forms, &mut depth, n1),
            flips.unsigned(&mut nodes, &mut forms, &mut depth, n2),
        );
        let id = nodes.len();
        let b = Operand { node: f2, shift: s, neg: false };
        nodes.push(Node::Add { a: Operand { node: f1, shift: 0, neg: false }, b, sub: opposite });
        forms.push(forms[f1].add(0, &forms[f2], s, if opposite { -1 } else { 1 }));
        depth.push(1 + depth[f1].max(depth[f2]));
        pairs.widths.resize(nodes.len(), 0);
        pairs.widths[id] = width_of(&forms[id]);
        for t in terms.iter_mut() {
            while let Some((x, y)) = find(t, k) {
                let (tx, ty) = (t[x], t[y]);
                pairs.term(t, &tx, -1);
                pairs.term(t, &ty, -1);
                if let Some(k) = key(&tx, &ty) {
                    pairs.bump(k, 1);
                }
                t.swap_remove(x.max(y));
                t.swap_remove(x.min(y));
                let new = Operand { node: id, shift: tx.shift, neg: tx.neg };
                pairs.term(t, &new, 1);
                t.push(new);
            }
        }
    }
    let shared = nodes.len() - n_in;

    let mut outputs = Vec::with_capacity(n_out);
    for (j, mut t) in terms.into_iter().enumerate() {
        // Signed terms enter unsigned (their sign bit inverted); the bias takes back the
        // constants of the terms' forms, so that both trees sum unsigned values.
        let mut b = bias[j];
        for x in t.iter_mut() {
            x.node = flips.unsigned(&mut nodes, &mut forms, &mut depth, x.node);
            let c = forms[x.node].constant << x.shift;
            b -= if x.neg { -c } else { c };
        }
        if b != 0 || t.is_empty() {
            let sh = if b == 0 { 0 } else { b.trailing_zeros() };
            let c = b.abs() >> sh;
            nodes.push(Node::Const(c));
            forms.push(Form { coef: BTreeMap::new(), constant: c });
            depth.push(0);
            t.push(Operand { node: nodes.len() - 1, shift: sh, neg: b < 0 });
        }
        // Positive and negative terms are summed apart (sums of unsigned terms need no sign
        // extension), each by combining its two narrowest terms (of least depth among equals);
        // then the two sums are subtracted.
        let mut sums = Vec::with_capacity(2);
        for neg in [false, true] {
            let mut heap: BinaryHeap<Reverse<(u32, u32, usize)>> = BinaryHeap::new();
            let mut slots: Vec<Operand> = Vec::new();
            for x in t.iter().filter(|x| x.neg == neg) {
                let (lo, hi) = forms[x.node].range(inputs);
                heap.push(Reverse((bit_width(lo, hi) + x.shift, depth[x.node], slots.len())));
                slots.push(*x);
            }
            while heap.len() > 1 {
                let (Some(Reverse((_, _, i))), Some(Reverse((_, _, k)))) = (heap.pop(), heap.pop()) else {
                    break;
                };
                let new = combine(&mut nodes, &mut forms, &mut depth, slots[i], slots[k]);
                let (lo, hi) = forms[new.node].range(inputs);
                heap.push(Reverse((bit_width(lo, hi) + new.shift, depth[new.node], slots.len())));
                slots.push(new);
            }
            if let Some(Reverse((_, _, last))) = heap.pop() {
                sums.push(slots[last]);
            }
        }
        let last = match sums[..] {
            [x, y] => combine(&mut nodes, &mut forms, &mut depth, x, y),
            [x] => x,
            _ => unreachable!("every output has at least one term"),
        };
        outputs.push(last);
    }
    let ranges = forms.iter().map(|f| f.range(inputs)).collect();
    Plan { nodes, ranges, depth, outputs, shared }
}

/// The unsigned stand-in of each signed node ([`Node::Flip`]), made once.
struct Flips<'a> {
    of: BTreeMap<usize, usize>,
    inputs: &'a [(i128, i128)],
}

impl Flips<'_> {
    /// `node` itself when its range is non-negative, else its [`Node::Flip`].
    fn unsigned(
        &mut self,
        nodes: &mut Vec<Node>,
        forms: &mut Vec<Form>,
        depth: &mut Vec<u32>,
        node: usize,
    ) -> usize {
        if let Some(&f) = self.of.get(&node) {
            return f;
        }
        let (lo, hi) = forms[node].range(self.inputs);
        if lo >= 0 {
            return node;
        }
        let half = 1i128 << (bit_width(lo, hi) - 1);
        let mut form = forms[node].clone();
        form.constant += half;
        nodes.push(Node::Flip(node));
        forms.push(form);
        depth.push(depth[node]);
        self.of.insert(node, nodes.len() - 1);
        nodes.len() - 1
    }
}

/// Adds two terms as a new node: `x + y` with the signs folded into a subtraction where they
/// differ, at the smaller of their shifts.
fn combine(
    nodes: &mut Vec<Node>,
    forms: &mut Vec<Form>,
    depth: &mut Vec<u32>,
    x: Operand,
    y: Operand,
) -> Operand {
    let base = x.shift.min(y.shift);
    let (p, q, sub, neg) = match (x.neg, y.neg) {
        (false, true) => (x, y, true, false),
        (true, false) => (y, x, true, false),
        (n, _) => (x, y, false, n),
    };
    let a = Operand { node: p.node, shift: p.shift - base, neg: false };
    let b = Operand { node: q.node, shift: q.shift - base, neg: false };
    nodes.push(Node::Add { a, b, sub });
    let form = forms[a.node].add(a.shift, &forms[b.node], b.shift, if sub { -1 } else { 1 });
    forms.push(form);
    depth.push(1 + depth[a.node].max(depth[b.node]));
    Operand { node: nodes.len() - 1, shift: base, neg }
}

/// Positions of two terms of `t` forming pattern `k`: the first of least shift whose partner
/// is present.
fn find(t: &[Operand], (n1, n2, s, opposite): Key) -> Option<(usize, usize)> {
    let mut firsts: Vec<usize> = (0..t.len()).filter(|&x| t[x].node == n1).collect();
    firsts.sort_by_key(|&x| t[x].shift);
    for x in firsts {
        let f = t[x];
        let y = (0..t.len()).find(|&y| {
            y != x && t[y].node == n2 && t[y].shift == f.shift + s && t[y].neg == (f.neg != opposite)
        });
        if let Some(y) = y {
            return Some((x, y));
        }
    }
    None
}

impl Plan {
    /// Adder depth of the deepest output.
    pub fn max_depth(&self) -> u32 {
        self.outputs.iter().map(|o| self.depth[o.node]).max().unwrap_or(0)
    }

    /// `stages - 1` cuts spread evenly over the adder depth, for `stages` cycles in all when
    /// the outputs are registered once more.
    pub fn even_cuts(&self, stages: u32) -> Vec<u32> {
        let depth = self.max_depth();
        (1..stages).map(|k| k * depth / stages).collect()
    }

    /// Number of two-input adders.
    pub fn adders(&self) -> usize {
        self.nodes.iter().filter(|n| matches!(n, Node::Add { .. })).count()
    }

    /// Bits of each adder that add (the result's width less the low bits of the operand with
    /// the smaller shift, which pass beside the adder), summed over the plan.
    pub fn adder_bits(&self) -> u64 {
        let mut bits = 0;
        for (id, n) in self.nodes.iter().enumerate() {
            if let Node::Add { a, b, .. } = n {
                let (lo, hi) = self.ranges[id];
                let w = bit_width(lo, hi);
                bits += u64::from(w.saturating_sub(a.shift.abs_diff(b.shift)).max(1));
            }
        }
        bits
    }

    /// Bits registered by cuts at the adder depths `cuts` (see `backend::rtl::matrix`): at each
    /// cut, every non-constant node of depth at most the cut read at a greater depth or by an
    /// output.
    pub fn cut_bits(&self, cuts: &[u32]) -> u64 {
        let mut read_at = vec![0u32; self.nodes.len()];
        for (id, n) in self.nodes.iter().enumerate() {
            if let Node::Add { a, b, .. } = n {
                read_at[a.node] = read_at[a.node].max(self.depth[id]);
                read_at[b.node] = read_at[b.node].max(self.depth[id]);
            }
        }
        for o in &self.outputs {
            read_at[o.node] = u32::MAX;
        }
        let mut bits = 0;
        for &c in cuts {
            for (id, n) in self.nodes.iter().enumerate() {
                if !matches!(n, Node::Const(_)) && self.depth[id] <= c && read_at[id] > c {
                    let (lo, hi) = self.ranges[id];
                    bits += u64::from(bit_width(lo, hi));
                }
            }
        }
        bits
    }
}

/// Least bits of a range: unsigned when `lo >= 0`, else two's complement.
pub fn bit_width(lo: i128, hi: i128) -> u32 {
    let ubits = |v: i128| 128 - v.leading_zeros();
    let sbits = |v: i128| if v >= 0 { ubits(v) + 1 } else { ubits(!v) + 1 };
    if lo >= 0 {
        ubits(hi).max(1)
    } else {
        sbits(lo).max(sbits(hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates the plan on one input vector.
    fn eval(p: &Plan, x: &[i128]) -> Vec<i128> {
        let mut v: Vec<i128> = Vec::with_capacity(p.nodes.len());
        for n in &p.nodes {
            v.push(match *n {
                Node::Input(i) => x[i],
                Node::Const(c) => c,
                Node::Flip(n) => {
                    let (lo, hi) = p.ranges[n];
                    v[n] + (1i128 << (bit_width(lo, hi) - 1))
                }
                Node::Add { a, b, sub } => {
                    let (a, b) = (v[a.node] << a.shift, v[b.node] << b.shift);
                    if sub {
                        a - b
                    } else {
                        a + b
                    }
                }
            });
        }
        for (k, r) in v.iter().zip(&p.ranges) {
            assert!(r.0 <= *k && *k <= r.1, "value {k} outside {r:?}");
        }
        p.outputs.iter().map(|o| if o.neg { -(v[o.node] << o.shift) } else { v[o.node] << o.shift }).collect()
    }

    #[test]
    fn csd_digits_reconstruct() {
        for c in 1u128..2000 {
            let d = csd(c);
            let v: i128 = d.iter().map(|&(p, n)| if n { -(1i128 << p) } else { 1i128 << p }).sum();
            assert_eq!(v, c as i128);
            assert!(d.windows(2).all(|w| w[1].0 > w[0].0 + 1), "{c}: adjacent digits");
        }
    }

    #[test]
    fn plans_compute_the_matrix_product_and_share() {
        // A pseudo-random 12 x 7 matrix with repeated weights, signed and unsigned inputs.
        let (n_in, n_out) = (12, 7);
        let mut s = 12345u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 33) as i128
        };
        let coefs: Vec<i128> = (0..n_in * n_out).map(|_| next() % 64 - 32).collect();
        let bias: Vec<i128> = (0..n_out).map(|j| if j == 2 { 0 } else { next() % 1000 - 500 }).collect();
        let inputs: Vec<(i128, i128)> =
            (0..n_in).map(|i| if i % 2 == 0 { (-32, 31) } else { (0, 63) }).collect();
        let p = plan(&coefs, &bias, &inputs);
        let digits: usize = coefs.iter().map(|c| csd(c.unsigned_abs()).len()).sum();
        assert!(p.adders() + n_out < digits, "{} adders for {digits} digits", p.adders());
        assert!(p.shared > 0);
        // Every adder sums unsigned operands (signed nodes enter as their flips).
        for n in &p.nodes {
            if let Node::Add { a, b, .. } = n {
                assert!(p.ranges[a.node].0 >= 0 && p.ranges[b.node].0 >= 0, "{n:?}");
            }
        }
        assert!(p.nodes.iter().any(|n| matches!(n, Node::Flip(_))));
        for _ in 0..200 {
            let x: Vec<i128> = inputs.iter().map(|&(lo, hi)| lo + next() % (hi - lo + 1)).collect();
            let want: Vec<i128> = (0..n_out)
                .map(|j| bias[j] + (0..n_in).map(|i| coefs[i * n_out + j] * x[i]).sum::<i128>())
                .collect();
            assert_eq!(eval(&p, &x), want);
        }
        // Corners reach the exact ranges of the outputs.
        for (j, o) in p.outputs.iter().enumerate() {
            let col: Vec<i128> = (0..n_in).map(|i| coefs[i * n_out + j]).collect();
            let (lo, hi) = range_of(&col, bias[j], &inputs);
            let r = p.ranges[o.node];
            let r =
                if o.neg { (-(r.1 << o.shift), -(r.0 << o.shift)) } else { (r.0 << o.shift, r.1 << o.shift) };
            assert_eq!(r, (lo, hi), "output {j}");
        }
    }

    #[test]
    fn zero_columns_and_single_terms() {
        let p = plan(&[0, 4, 0, -3], &[0, 0], &[(-8, 7), (0, 15)]);
        assert_eq!(eval(&p, &[-8, 15]), vec![0, -32 - 45]);
        assert_eq!(eval(&p, &[7, 0]), vec![0, 28]);
    }
}
