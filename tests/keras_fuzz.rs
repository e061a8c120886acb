//! Fuzzes the Keras importer with mutations of the shipped architecture JSONs: replaced numbers,
//! strings and class names, removed keys, wrong nesting, all against the real weights files.
//! Whatever the importer accepts must then lower and simulate one sample; every step may fail with
//! an error but none may panic.

use std::path::{Path, PathBuf};

use hls_gen::frontend::keras;
use proptest::prelude::*;

mod common;
use serde_json::Value;

const MODELS: [&str; 9] = [
    "keras_mlp",
    "qkeras_mlp",
    "qkeras_quantizers",
    "keras_cnn2d",
    "keras_cnn1d",
    "keras_cnn_functional",
    "qkeras_cnn",
    "keras_cnn_activations",
    "qkeras_separable",
];
const STRINGS: [&str; 17] = [
    "relu",
    "softmax",
    "quantized_bits(4,0,1)",
    "quantized_bits(0,9)",
    "quantized_relu(3,7)",
    "binary",
    "Conv2D",
    "QDense",
    "Conv1D",
    "SeparableConv2D",
    "DepthwiseConv1D",
    "same",
    "causal",
    "channels_first",
    "bilinear",
    "",
    "no_such_layer",
];

#[derive(Debug, Clone)]
enum Mutation {
    Number { at: usize, value: f64 },
    Text { at: usize, text: usize },
    Remove { at: usize },
    Nullify { at: usize },
    ListToObject { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let number = prop_oneof![Just(0.0), Just(-1.0), Just(1e12), Just(f64::MAX), -4.0..70.0];
    prop_oneof![
        (any::<usize>(), number).prop_map(|(at, value)| Mutation::Number { at, value }),
        (any::<usize>(), 0usize..STRINGS.len()).prop_map(|(at, text)| Mutation::Text { at, text }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        any::<usize>().prop_map(|at| Mutation::Nullify { at }),
        any::<usize>().prop_map(|at| Mutation::ListToObject { at }),
    ]
}

/// Pre-order walk handing `f` every value; stops when `f` returns true.
fn visit(v: &mut Value, f: &mut dyn FnMut(&mut Value) -> bool) -> bool {
    if f(v) {
        return true;
    }
    match v {
        Value::Array(items) => items.iter_mut().any(|x| visit(x, f)),
        Value::Object(map) => map.values_mut().any(|x| visit(x, f)),
        _ => false,
    }
}

fn count(v: &mut Value, pred: fn(&Value) -> bool) -> usize {
    let mut n = 0;
    visit(v, &mut |x| {
        n += usize::from(pred(x));
        false
    });
    n
}

/// Applies `change` to the `at % n`-th of the `n` values satisfying `pred`.
fn at_nth(v: &mut Value, at: usize, pred: fn(&Value) -> bool, change: &mut dyn FnMut(&mut Value)) {
    let n = count(v, pred);
    if n == 0 {
        return;
    }
    let mut target = at % n;
    visit(v, &mut |x| {
        if !pred(x) {
            return false;
        }
        if target == 0 {
            change(x);
            return true;
        }
        target -= 1;
        false
    });
}

fn apply(v: &mut Value, m: &Mutation) {
    match *m {
        Mutation::Number { at, value } => at_nth(v, at, Value::is_number, &mut |x| {
            *x = serde_json::Number::from_f64(value).map(Value::Number).unwrap_or(Value::Null)
        }),
        Mutation::Text { at, text } => {
            at_nth(v, at, Value::is_string, &mut |x| *x = Value::String(STRINGS[text].into()))
        }
        Mutation::Remove { at } => at_nth(v, at, Value::is_object, &mut |x| {
            if let Value::Object(map) = x {
                if let Some(k) = map.keys().nth(at % map.len().max(1)).cloned() {
                    map.remove(&k);
                }
            }
        }),
        Mutation::Nullify { at } => {
            at_nth(v, at, |x| x.is_object() || x.is_array() || x.is_number(), &mut |x| *x = Value::Null)
        }
        Mutation::ListToObject { at } => at_nth(v, at, Value::is_array, &mut |x| *x = serde_json::json!({})),
    }
}

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/keras")
}

/// Imports, then lowers and simulates what the importer accepts.
fn exercise(json: &Path, weights: &Path) {
    if let Ok(g) = keras::load(json, Some(weights)) {
        common::lower_and_simulate(g);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn mutated_architectures_never_panic(model in 0usize..MODELS.len(), mutations in prop::collection::vec(mutation(), 1..4)) {
        let name = MODELS[model];
        let dir = model_dir();
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture reads");
        let mut v: Value = serde_json::from_str(&text).expect("fixture parses");
        for m in &mutations {
            apply(&mut v, m);
        }
        let tmp = tempfile::tempdir().expect("temp dir");
        let json = tmp.path().join(format!("{name}.json"));
        std::fs::write(&json, serde_json::to_string(&v).expect("serializes")).expect("writes");
        exercise(&json, &dir.join(format!("{name}_weights.h5")));
    }
}
