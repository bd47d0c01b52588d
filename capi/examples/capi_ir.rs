//! Instruction counts of the C ABI decide against the Rust decide (benches/README.md, "The C ABI and the
//! proxy"): loads the typical Studio bundle and decides one request `N` times (`MODE`: `rust-via`/`capi-via`,
//! the allowed call through the API endpoint; `rust-public`/`capi-public`, the public call denied by the OU
//! SCP; `rust-routed-via`/`rust-routed-public`, the Rust decide given the endpoint apart). `rust-*` calls
//! `CompiledBundle::decide_ref` on a `RequestRef`, `rust-routed-*` `CompiledBundle::decide_ref_routed` with the
//! request's endpoint (as the C ABI does, and the bench's routed rows), `capi-*` calls `iamgate_decide` on the
//! same request as a C caller gives it (the address as 4 bytes); the bundle and the requests are those of
//! `benches/capi.rs` (`benches/common/mod.rs`). Run it under `valgrind --tool=callgrind` for two values of
//! `N`: the difference, divided by the difference in `N`, is the count per decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../benches/common/mod.rs"]
mod common;

use common::{Setup, decide_c};
use iamgate_capi::iamgate_decision;
use std::hint::black_box;

fn main() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mode = std::env::var("MODE").unwrap_or_else(|_| "capi-via".into());
    let s = Setup::new();
    let (case, route) = match mode.rsplit_once('-').map(|(_, r)| r) {
        Some("via") => (&s.via, Some("vpce-0api0000000000001")),
        Some("public") => (&s.public, None),
        _ => panic!("MODE `{mode}`: [rust-|rust-routed-|capi-](via|public)"),
    };
    let c_want = iamgate_decision::from(case.want);
    let mut right = 0usize;
    if mode.starts_with("rust-routed") {
        for _ in 0..n {
            let d = s
                .compiled
                .decide_ref_routed(black_box(route), black_box(&case.rust));
            right += usize::from(d == Ok(case.want));
        }
    } else if mode.starts_with("rust") {
        for _ in 0..n {
            let d = s.compiled.decide_ref(black_box(&case.rust));
            right += usize::from(d == Ok(case.want));
        }
    } else {
        for _ in 0..n {
            let d = decide_c(&s.engine, black_box(&case.c));
            right += usize::from(d == c_want);
        }
    }
    assert_eq!(right, n, "every decision as expected");
}
