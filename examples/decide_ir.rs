//! Instruction counts of the decide fast path (benches/README.md, "callgrind"): builds the bench bundle of
//! `corpus/bench/` and decides one request `N` times (`MODE`: `allow`, the API call through the endpoint;
//! `deny`, the public request denied early by the OU SCP; `allow-ref`/`deny-ref`, the same borrowed). Run it
//! under `valgrind --tool=callgrind` for two values of `N`: the difference, divided by the difference in `N`, is
//! the count per decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/common/mod.rs"]
mod common;

use common::{PUBLIC, VIA_ENDPOINT, bundle_set, request};
use iamgate::Decision;
use std::hint::black_box;

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mode = std::env::var("MODE").unwrap_or_else(|_| "allow".into());
    let set = bundle_set();
    let (text, want) = match mode.trim_end_matches("-ref") {
        "allow" => (&VIA_ENDPOINT, Decision::Allow),
        "deny" => (&PUBLIC, Decision::ExplicitDeny),
        other => panic!("MODE `{other}`: allow, deny, allow-ref or deny-ref"),
    };
    let req = request(text);
    let mut allowed = 0usize;
    if mode.ends_with("-ref") {
        let borrowed = text.borrowed();
        for _ in 0..n {
            let d = set
                .decide_ref(black_box(&borrowed))
                .unwrap_or(Decision::ExplicitDeny);
            allowed += usize::from(d == want);
        }
    } else {
        for _ in 0..n {
            allowed += usize::from(set.decide(black_box(&req)) == want);
        }
    }
    assert_eq!(allowed, n, "every decision as expected");
}
