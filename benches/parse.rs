//! Parse throughput: `Policy::parse` (spanned JSON, then the policy grammar with spans and diagnostics) next to
//! `serde_json::from_str::<Value>` on the same text, and the spanned JSON layer alone
//! (`iamgate::internals::json::parse`, with the `internals` feature). Target: at least serde_json's throughput, spans
//! included.

mod common;

use common::{BUNDLE_FILES, bench_file, case_texts, check, cidr_policy, random_cidrs};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iamgate::internals::json::{self, Node, Value};
use iamgate::{Limits, Policy};
use std::hint::black_box;

fn group(c: &mut Criterion, name: &str, texts: &[String]) {
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("iamgate_policy_parse", |b| {
        b.iter(|| {
            for t in texts {
                let _ = black_box(Policy::parse(black_box(t)));
            }
        })
    });
    g.bench_function("iamgate_json_parse", |b| {
        let limits = Limits::default();
        b.iter(|| {
            for t in texts {
                // An arena per document, as `Policy::parse` makes one.
                let arena = iamgate::internals::json::Arena::new();
                let _ = black_box(iamgate::internals::json::parse(
                    black_box(t),
                    &arena,
                    &limits,
                ));
            }
        })
    });
    g.bench_function("serde_json_value", |b| {
        b.iter(|| {
            for t in texts {
                let _ = black_box(serde_json::from_str::<serde_json::Value>(black_box(t)));
            }
        })
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    let bundle: Vec<String> = BUNDLE_FILES.iter().map(|f| bench_file(f)).collect();
    let cases = case_policy_texts();
    check(
        cases.len() > 100,
        "corpus/cases holds fewer than 100 valid policies",
    );
    eprintln!(
        "parse inputs: corpus/bench bundle {} policies, {} bytes; corpus/cases {} policies, {} bytes",
        bundle.len(),
        bundle.iter().map(String::len).sum::<usize>(),
        cases.len(),
        cases.iter().map(String::len).sum::<usize>()
    );
    let big = vec![cidr_policy(
        "Allow",
        &["*"],
        "IpAddress",
        "aws:SourceIp",
        &random_cidrs(10_000, 10_000),
    )];
    group(c, "parse/bench_bundle", &bundle);
    group(c, "parse/cases_policies", &cases);
    group(c, "parse/cidrs_10000", &big);
}

criterion_group!(benches, parse);
criterion_main!(benches);

/// Every policy written in the cases, as its exact text (an inline object's bytes, or the string that holds the
/// policy), keeping only those that both iamgate and serde_json accept so that both parse the same work.
fn case_policy_texts() -> Vec<String> {
    let mut out = Vec::new();
    for text in case_texts() {
        let arena = json::Arena::new();
        let Ok(root) = json::parse(&text, &arena, &Limits::default()) else {
            continue;
        };
        let mut nodes: Vec<&Node<'_>> = Vec::new();
        for field in ["resource_policy", "permissions_boundary", "endpoint_policy"] {
            nodes.extend(root.get(field));
        }
        for field in ["identity_policies", "session_policies"] {
            nodes.extend(root.get(field).and_then(Node::as_array).unwrap_or(&[]));
        }
        for field in ["scps", "rcps"] {
            for level in root.get(field).and_then(Node::as_array).unwrap_or(&[]) {
                nodes.extend(level.as_array().unwrap_or(&[]));
            }
        }
        for n in nodes {
            let policy = match &n.value {
                Value::Object(_) => text.get(n.span.range()).map(str::to_string),
                Value::String(s) => Some(s.to_string()),
                _ => None,
            };
            if let Some(p) = policy {
                if Policy::parse(&p).is_ok()
                    && serde_json::from_str::<serde_json::Value>(&p).is_ok()
                {
                    out.push(p);
                }
            }
        }
    }
    out
}
