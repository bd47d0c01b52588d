//! Instruction counts of the cold path (benches/README.md, "Cold path"). Run it under `valgrind --tool=callgrind`
//! for two values of `N`: the difference, divided by the difference in `N` (times the number of cases for
//! `MODE=case`), is the count per unit.
//!
//! - `MODE=case` (the default): reads a JSONL file of cases (`CASES`, by default benches/compare's generated
//!   cases) and, `N` times over, parses each case (`Case::parse`: the JSON, the case, the policies, the set; no
//!   lint) and decides it, as benches/compare's "case in, decision out" column does.
//! - `MODE=record`: the same, but each case's record (`Case::decide`: the reasons and lint's warnings), as
//!   `iamgate batch` makes it and benches/compare's "record with lint" column times it.
//! - `MODE=compose`: the loop of `benches/compile.rs`'s `compose_1500_sets_of_1000_shared`: 1,000 compiled
//!   identity policies in one set, then `N` sets from it, each with one of 20 compiled endpoint policies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/common/mod.rs"]
mod common;

use iamgate::api::case::Case;
use iamgate::{CompiledPolicy, Limits, Policy, PolicyRef, PolicySet};
use std::hint::black_box;

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    match std::env::var("MODE").as_deref().unwrap_or("case") {
        "case" => cases(n, false),
        "record" => cases(n, true),
        "compose" => compose(n),
        other => panic!("MODE `{other}`: case, record or compose"),
    }
}

fn cases(n: usize, record: bool) {
    let path =
        std::env::var("CASES").unwrap_or_else(|_| "benches/compare/target/run/cases.jsonl".into());
    let text = std::fs::read_to_string(&path).expect("CASES: a JSONL file of cases");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let limits = Limits::default();
    let mut decided = 0usize;
    for _ in 0..n {
        for l in &lines {
            if let Ok(c) = Case::parse(black_box(l), &limits) {
                if record {
                    black_box(c.decide(false));
                } else {
                    black_box(c.set.decide(&c.request));
                }
                decided += 1;
            }
        }
    }
    println!("{decided} cases decided");
}

/// The policies of benches/compile.rs's `compose` group (`benches/common`'s population).
fn compose(n: usize) {
    let compile =
        |text: &str, at| CompiledPolicy::compile(Policy::parse(text).unwrap(), at).unwrap();
    let identity: Vec<CompiledPolicy> = (0..1_000)
        .map(|i| compile(&common::identity_text(i), PolicyRef::Identity(0)))
        .collect();
    let endpoints: Vec<CompiledPolicy> = (0..20)
        .map(|e| compile(&common::endpoint_text(e), PolicyRef::Endpoint))
        .collect();
    let base = identity
        .iter()
        .cloned()
        .fold(PolicySet::builder(), |b, p| b.identity_compiled(p))
        .build_lazy()
        .unwrap();
    for k in 0..n {
        black_box(base.with_endpoint(endpoints.get(k % endpoints.len()).cloned()));
    }
    println!("{n} sets built");
}
