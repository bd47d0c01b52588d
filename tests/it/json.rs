//! On valid JSON the spanned policy parser agrees with serde_json: checked over every JSON file of the corpus,
//! and every policy inside every case, each at its own span.

use iamgate::Limits;
use iamgate::internals::json::{Arena, Node, Value, parse};
use std::path::{Path, PathBuf};

fn to_serde(n: &Node<'_>) -> serde_json::Value {
    match &n.value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(t) => serde_json::from_str(t).unwrap(),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        // serde_json keeps the last of duplicate keys.
        Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .map(|m| (m.key.to_string(), to_serde(&m.value)))
                .collect(),
        ),
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn check_spans(text: &str, n: &Node<'_>) {
    // Every value's span holds exactly that value.
    let slice = &text[n.span.range()];
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(slice).unwrap(),
        to_serde(n),
        "span {slice}"
    );
    match &n.value {
        Value::Array(a) => a.iter().for_each(|c| check_spans(text, c)),
        Value::Object(m) => m.iter().for_each(|c| check_spans(text, &c.value)),
        _ => {}
    }
}

#[test]
fn parser_agrees_with_serde_json_on_the_whole_corpus() {
    let mut all = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
        &mut all,
    );
    assert!(all.len() > 100);
    for p in all {
        let text = std::fs::read_to_string(&p).unwrap();
        let arena = Arena::new();
        let ours = parse(&text, &arena, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(to_serde(&ours), theirs, "{}", p.display());
        check_spans(&text, &ours);
    }
}
