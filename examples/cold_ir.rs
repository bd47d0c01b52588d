//! Instruction counts of the cold path, "case in, decision out" (benches/README.md, "Cold path"): reads a JSONL
//! file of cases (`CASES`, by default benches/compare's generated cases) and, `N` times over, parses each case
//! (`Case::parse`: the JSON, the case, the policies, lint, the set) and decides it, as benches/compare's
//! end-to-end column does. Run it under `valgrind --tool=callgrind` for two values of `N`: the difference,
//! divided by the difference in `N` times the number of cases, is the count per case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iamgate::Limits;
use iamgate::api::case::Case;
use std::hint::black_box;

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let path =
        std::env::var("CASES").unwrap_or_else(|_| "benches/compare/target/run/cases.jsonl".into());
    let text = std::fs::read_to_string(&path).expect("CASES: a JSONL file of cases");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let limits = Limits::default();
    let mut decided = 0usize;
    for _ in 0..n {
        for l in &lines {
            if let Ok(c) = Case::parse(black_box(l), &limits) {
                black_box(c.set.decide(&c.request));
                decided += 1;
            }
        }
    }
    println!("{decided} cases decided");
}
