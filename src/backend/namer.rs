//! Makes every C++ identifier and file name the backends emit from model names.
//!
//! [`Namer::name`] turns any string (`dense/MatMul:0`, `1`, `class`, `../../x`, unicode, 300
//! characters) into a lowercase identifier of ASCII letters, digits and single underscores that
//! starts with a letter, is at most [`MAX_BASE_LEN`] characters before its uniquing suffix, and is
//! never a C++ or Verilog keyword, a lowercase macro of the C/C++ headers we include, a Windows device name,
//! nor one of our own library names. Each name is registered together with the derived identifiers
//! the caller will form from it (`base_t`, `base_config`, ...), so no derived identifier of one name
//! can equal another name or its derived identifiers. Because every identifier is lowercase and
//! unique, file names formed from them are unique on case-insensitive file systems too.
//!
//! Results depend only on the sequence of calls, never on hashing.

use std::collections::BTreeSet;

/// Longest base identifier before a uniquing suffix `_<n>` is appended.
pub const MAX_BASE_LEN: usize = 48;

/// C++20 keywords, alternative tokens and identifiers with special meaning.
const CPP_KEYWORDS: &[&str] = &[
    "alignas",
    "alignof",
    "and",
    "and_eq",
    "asm",
    "atomic_cancel",
    "atomic_commit",
    "atomic_noexcept",
    "auto",
    "bitand",
    "bitor",
    "bool",
    "break",
    "case",
    "catch",
    "char",
    "char8_t",
    "char16_t",
    "char32_t",
    "class",
    "compl",
    "concept",
    "const",
    "consteval",
    "constexpr",
    "constinit",
    "const_cast",
    "continue",
    "co_await",
    "co_return",
    "co_yield",
    "decltype",
    "default",
    "delete",
    "do",
    "double",
    "dynamic_cast",
    "else",
    "enum",
    "explicit",
    "export",
    "extern",
    "false",
    "final",
    "float",
    "for",
    "friend",
    "goto",
    "if",
    "import",
    "inline",
    "int",
    "long",
    "module",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "not",
    "not_eq",
    "nullptr",
    "operator",
    "or",
    "or_eq",
    "override",
    "private",
    "protected",
    "public",
    "reflexpr",
    "register",
    "reinterpret_cast",
    "requires",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "static_assert",
    "static_cast",
    "struct",
    "switch",
    "synchronized",
    "template",
    "this",
    "thread_local",
    "throw",
    "true",
    "try",
    "typedef",
    "typeid",
    "typename",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "wchar_t",
    "while",
    "xor",
    "xor_eq",
];

/// Global names of the C/C++ headers the emitted code includes that a derived identifier could
/// hit: lowercase macros, `main`, `std`, and `_t` types of libc and POSIX threads.
const HEADER_NAMES: &[&str] = &[
    "assert",
    "errno",
    "stdin",
    "stdout",
    "stderr",
    "offsetof",
    "setjmp",
    "va_arg",
    "va_copy",
    "va_end",
    "va_start",
    "va_list",
    "unix",
    "linux",
    "i386",
    "major",
    "minor",
    "makedev",
    "main",
    "std",
    "size_t",
    "ssize_t",
    "ptrdiff_t",
    "intptr_t",
    "uintptr_t",
    "intmax_t",
    "uintmax_t",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "max_align_t",
    "nullptr_t",
    "off_t",
    "off64_t",
    "loff_t",
    "time_t",
    "clock_t",
    "clockid_t",
    "timer_t",
    "suseconds_t",
    "useconds_t",
    "pid_t",
    "uid_t",
    "gid_t",
    "id_t",
    "mode_t",
    "dev_t",
    "ino_t",
    "nlink_t",
    "blksize_t",
    "blkcnt_t",
    "fsblkcnt_t",
    "fsfilcnt_t",
    "key_t",
    "caddr_t",
    "daddr_t",
    "register_t",
    "sigset_t",
    "locale_t",
    "wint_t",
    "wctype_t",
    "wctrans_t",
    "mbstate_t",
    "fpos_t",
    "div_t",
    "ldiv_t",
    "lldiv_t",
    "float_t",
    "double_t",
    "fenv_t",
    "fexcept_t",
    "u_char",
    "u_short",
    "u_int",
    "u_long",
    "quad_t",
    "u_quad_t",
    "fd_set",
    "pthread_t",
    "pthread_attr_t",
    "pthread_mutex_t",
    "pthread_mutexattr_t",
    "pthread_cond_t",
    "pthread_condattr_t",
    "pthread_key_t",
    "pthread_once_t",
    "pthread_rwlock_t",
    "pthread_rwlockattr_t",
    "pthread_spinlock_t",
    "pthread_barrier_t",
    "pthread_barrierattr_t",
    "sig_atomic_t",
    "sigval_t",
    "cpu_set_t",
    "file",
];

/// Verilog-2005 and SystemVerilog keywords (Verilator reads `.v` files as SystemVerilog), which
/// the RTL backend and the RTL Vitis HLS generates use as port names.
const VERILOG_KEYWORDS: &[&str] = &[
    "always",
    "always_comb",
    "always_ff",
    "always_latch",
    "assign",
    "assert",
    "assume",
    "automatic",
    "begin",
    "bit",
    "buf",
    "byte",
    "case",
    "casex",
    "casez",
    "cell",
    "chandle",
    "checker",
    "cmos",
    "config",
    "cover",
    "deassign",
    "defparam",
    "design",
    "disable",
    "edge",
    "end",
    "endcase",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endprimitive",
    "endspecify",
    "endtable",
    "endtask",
    "event",
    "final",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "highz0",
    "highz1",
    "ifnone",
    "initial",
    "inout",
    "input",
    "integer",
    "interface",
    "join",
    "large",
    "liblist",
    "library",
    "localparam",
    "logic",
    "longint",
    "macromodule",
    "medium",
    "modport",
    "module",
    "nand",
    "negedge",
    "nmos",
    "nor",
    "noshowcancelled",
    "notif0",
    "notif1",
    "output",
    "package",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "priority",
    "program",
    "property",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_ondetect",
    "pulsestyle_onevent",
    "rcmos",
    "real",
    "realtime",
    "reg",
    "release",
    "repeat",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "scalared",
    "sequence",
    "shortint",
    "shortreal",
    "showcancelled",
    "small",
    "specify",
    "specparam",
    "string",
    "strong0",
    "strong1",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "unique",
    "use",
    "uwire",
    "vectored",
    "wait",
    "wand",
    "weak0",
    "weak1",
    "wire",
    "wor",
    "xnor",
];

/// Windows device names, which cannot be file stems.
const DEVICE_NAMES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
    "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Prefixes owned by the Xilinx headers (`ap_int`, `ap_fixed_base`, ...) and by our library (the
/// `hlsgen` namespace, its header guards and the testbench's `tb_` locals).
const RESERVED_PREFIXES: &[&str] = &["ap_", "hlsgen", "hls_", "ssdm", "tb_"];

/// Prepended to names that start with a digit or a reserved prefix.
const ESCAPE_PREFIX: &str = "n_";

/// Hands out unique, legal identifiers.
#[derive(Debug, Clone)]
pub struct Namer {
    used: BTreeSet<String>,
}

impl Default for Namer {
    fn default() -> Self {
        Self::new()
    }
}

impl Namer {
    pub fn new() -> Self {
        let used = CPP_KEYWORDS
            .iter()
            .chain(VERILOG_KEYWORDS)
            .chain(HEADER_NAMES)
            .chain(DEVICE_NAMES)
            .map(|s| s.to_string())
            .collect();
        Namer { used }
    }

    /// A new unique identifier for `name`.
    pub fn name(&mut self, name: &str) -> String {
        self.name_with(name, &[])
    }

    /// A new unique identifier `base` for `name` such that `base` and every `base_<suffix>` are
    /// unused; all of them are registered.
    pub fn name_with(&mut self, name: &str, suffixes: &[&str]) -> String {
        let base = sanitize(name);
        let mut n = 0usize;
        loop {
            let candidate = if n == 0 { base.clone() } else { format!("{base}_{n}") };
            let derived: Vec<String> = std::iter::once(candidate.clone())
                .chain(suffixes.iter().map(|s| format!("{candidate}_{s}")))
                .collect();
            if derived.iter().all(|d| !self.used.contains(d)) {
                self.used.extend(derived);
                return candidate;
            }
            n += 1;
        }
    }

    /// True when `ident` has been handed out or is reserved.
    pub fn is_taken(&self, ident: &str) -> bool {
        self.used.contains(ident)
    }
}

/// The legal lowercase identifier a name maps to before uniquing.
pub fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            out.push_str(&format!("_u{:04x}_", c as u32));
        } else {
            out.push('_');
        }
    }
    let mut collapsed = String::with_capacity(out.len());
    for c in out.chars() {
        if !(c == '_' && collapsed.ends_with('_')) {
            collapsed.push(c);
        }
    }
    let mut s = collapsed.trim_matches('_').to_string();
    if s.is_empty() {
        s = "unnamed".to_string();
    }
    let starts_digit = s.starts_with(|c: char| c.is_ascii_digit());
    if starts_digit || RESERVED_PREFIXES.iter().any(|p| s.starts_with(p)) {
        s = format!("{ESCAPE_PREFIX}{s}");
    }
    s.truncate(MAX_BASE_LEN);
    s.trim_end_matches('_').to_string()
}

/// A `//` comment that cannot end early, continue onto the next line or form a trigraph.
pub fn describe(name: &str) -> String {
    let mut s = String::from("\"");
    for c in name.chars() {
        match c {
            '\\' | '"' | '?' => s.push_str(&format!("\\x{:02x}", c as u32)),
            ' '..='~' => s.push(c),
            _ => s.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legal(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !s.contains("__")
            && !s.ends_with('_')
    }

    #[test]
    fn sanitizes_model_names() {
        assert_eq!(sanitize("dense/MatMul:0"), "dense_matmul_0");
        assert_eq!(sanitize("1"), "n_1");
        assert_eq!(sanitize("../../x"), "x");
        assert_eq!(sanitize("__init"), "init");
        assert_eq!(sanitize("_X"), "x");
        assert_eq!(sanitize("a__b"), "a_b");
        assert_eq!(sanitize(""), "unnamed");
        assert_eq!(sanitize("///"), "unnamed");
        assert_eq!(sanitize("Couche_é"), "couche_u00e9");
        assert_eq!(sanitize("层"), "u5c42");
        assert_eq!(sanitize("ap_fixed"), "n_ap_fixed");
        assert_eq!(sanitize("hlsgen"), "n_hlsgen");
        assert_eq!(sanitize("tb_in"), "n_tb_in");
        assert_eq!(sanitize("AP_WRAP"), "n_ap_wrap");
    }

    #[test]
    fn keywords_and_reserved_names_get_suffixes() {
        let mut n = Namer::new();
        assert_eq!(n.name("class"), "class_1");
        assert_eq!(n.name("int"), "int_1");
        assert_eq!(n.name("main"), "main_1");
        assert_eq!(n.name("CON"), "con_1");
        assert_eq!(n.name("errno"), "errno_1");
        assert_eq!(n.name("input"), "input_1");
        assert_eq!(n.name("wire"), "wire_1");
    }

    #[test]
    fn derived_identifiers_never_collide() {
        let mut n = Namer::new();
        // `size_t` is a libc type; `size` would derive it.
        assert_eq!(n.name_with("size", &["t", "config"]), "size_1");
        let a = n.name_with("x_exp", &["table", "exp_table"]);
        let b = n.name_with("x", &["table", "exp_table"]);
        assert_eq!(a, "x_exp");
        assert_eq!(b, "x_1");
        assert!(!n.is_taken("x_exp_table_1"));
    }

    #[test]
    fn names_are_unique_case_insensitively() {
        let mut n = Namer::new();
        assert_eq!(n.name("Dense"), "dense");
        assert_eq!(n.name("dense"), "dense_1");
        assert_eq!(n.name("dense:"), "dense_2");
        assert_eq!(n.name("dense_1"), "dense_1_1");
    }

    #[test]
    fn long_names_are_truncated_and_stay_unique() {
        let long = "a".repeat(300);
        let mut n = Namer::new();
        let first = n.name(&long);
        let second = n.name(&format!("{long}b"));
        assert_eq!(first.len(), MAX_BASE_LEN);
        assert!(second.len() <= MAX_BASE_LEN + 2);
        assert_ne!(first, second);
    }

    #[test]
    fn every_output_is_legal_and_deterministic() {
        let names = [
            "dense/MatMul:0",
            "1",
            "class",
            "int",
            "../../x",
            "Ünïcødé",
            "名前",
            "_X",
            "__y",
            "a b c",
            "con",
            "ap_int",
            "hlsgen",
            "x_t",
            "x",
            "-",
            "0x1f",
            "dense",
            "DENSE",
            "e\u{301}",
        ];
        let run = || {
            let mut n = Namer::new();
            names.iter().map(|s| n.name_with(s, &["t", "config", "weights"])).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        for s in &a {
            assert!(legal(s), "{s}");
        }
        let unique: BTreeSet<&String> = a.iter().collect();
        assert_eq!(unique.len(), a.len());
    }
}
