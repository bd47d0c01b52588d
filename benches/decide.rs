//! Decide on the typical Studio guardrail bundle of `corpus/bench/` (identity with a 50-CIDR
//! `NotIpAddressIfExists` deny, boundary, two SCP levels, endpoint policy):
//!
//! - the allowed API call through the VPC endpoint, including ingest (the `Request` and its checked `Context`
//!   built from text every iteration: IP text parsed, keys lowercased, values typed), and with a prebuilt request;
//! - the public request through Zscaler, denied early by the OU SCP;
//! - `explain` for both.
//!
//! A counting global allocator reports allocations per call before the timings (it adds one relaxed atomic
//! increment per allocation, nothing to a path that does not allocate).

mod common;

use common::{PUBLIC, VIA_ENDPOINT, bundle_set, check, expect, ingest, request};
use criterion::{Criterion, criterion_group, criterion_main};
use iamgate::Decision;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (alloc + realloc) per call of `f`, averaged over 1,000 calls.
fn allocations_per_call(mut f: impl FnMut()) -> f64 {
    f();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 1000.0
}

fn decide(c: &mut Criterion) {
    let set = bundle_set();
    let via_endpoint = request(&VIA_ENDPOINT);
    let public = request(&PUBLIC);
    expect(&set, &via_endpoint, Decision::Allow, "via endpoint");
    expect(&set, &public, Decision::ExplicitDeny, "public");

    let ingest_and_decide = |t: &common::RequestText<'_>| match ingest(black_box(t)) {
        Ok(req) => set.decide(&req),
        Err(_) => Decision::ExplicitDeny,
    };
    let borrowed = |t: &common::RequestText<'_>| {
        set.decide_ref(&black_box(t).borrowed())
            .unwrap_or(Decision::ExplicitDeny)
    };
    // A proxy's keys, resolved once, in the order it sends them (each request leaves some out).
    let layout = set.key_layout(common::PROXY_KEYS.iter().copied());
    let laid = |t: &common::RequestText<'_>| {
        set.decide_ref_with(&layout, &black_box(t).borrowed())
            .unwrap_or(Decision::ExplicitDeny)
    };
    check(
        borrowed(&VIA_ENDPOINT) == Decision::Allow
            && borrowed(&PUBLIC) == Decision::ExplicitDeny
            && laid(&VIA_ENDPOINT) == Decision::Allow
            && laid(&PUBLIC) == Decision::ExplicitDeny,
        "the borrowed requests decide as the owned ones",
    );
    for (name, n) in [
        (
            "allowed_via_endpoint_borrowed_with_ingest",
            allocations_per_call(|| {
                black_box(borrowed(&VIA_ENDPOINT));
            }),
        ),
        (
            "allowed_via_endpoint_borrowed_with_layout",
            allocations_per_call(|| {
                black_box(laid(&VIA_ENDPOINT));
            }),
        ),
        (
            "public_denied_borrowed_with_layout",
            allocations_per_call(|| {
                black_box(laid(&PUBLIC));
            }),
        ),
        (
            "public_denied_borrowed_with_ingest",
            allocations_per_call(|| {
                black_box(borrowed(&PUBLIC));
            }),
        ),
        (
            "allowed_via_endpoint_owned_with_ingest",
            allocations_per_call(|| {
                black_box(ingest_and_decide(&VIA_ENDPOINT));
            }),
        ),
        (
            "allowed_via_endpoint_prebuilt",
            allocations_per_call(|| {
                black_box(set.decide(&via_endpoint));
            }),
        ),
        (
            "public_denied_early_prebuilt",
            allocations_per_call(|| {
                black_box(set.decide(&public));
            }),
        ),
        (
            "public_denied_early_owned_with_ingest",
            allocations_per_call(|| {
                black_box(ingest_and_decide(&PUBLIC));
            }),
        ),
        (
            "explain_allowed_via_endpoint",
            allocations_per_call(|| {
                black_box(set.explain(&via_endpoint));
            }),
        ),
        (
            "ingest_only_via_endpoint",
            allocations_per_call(|| {
                let _ = black_box(ingest(&VIA_ENDPOINT));
            }),
        ),
    ] {
        eprintln!("allocations per call: decide/{name}: {n}");
    }

    let mut g = c.benchmark_group("decide");
    g.bench_function("allowed_via_endpoint_borrowed_with_ingest", |b| {
        b.iter(|| borrowed(&VIA_ENDPOINT))
    });
    g.bench_function("allowed_via_endpoint_borrowed_with_layout", |b| {
        b.iter(|| laid(&VIA_ENDPOINT))
    });
    g.bench_function("public_denied_borrowed_with_layout", |b| {
        b.iter(|| laid(&PUBLIC))
    });
    g.bench_function("public_denied_borrowed_with_ingest", |b| {
        b.iter(|| borrowed(&PUBLIC))
    });
    g.bench_function("allowed_via_endpoint_owned_with_ingest", |b| {
        b.iter(|| ingest_and_decide(&VIA_ENDPOINT))
    });
    g.bench_function("allowed_via_endpoint_prebuilt", |b| {
        b.iter(|| set.decide(black_box(&via_endpoint)))
    });
    g.bench_function("public_denied_early_prebuilt", |b| {
        b.iter(|| set.decide(black_box(&public)))
    });
    g.bench_function("public_denied_early_owned_with_ingest", |b| {
        b.iter(|| ingest_and_decide(&PUBLIC))
    });
    g.bench_function("ingest_only_via_endpoint", |b| {
        b.iter(|| ingest(black_box(&VIA_ENDPOINT)))
    });
    g.bench_function("explain_allowed_via_endpoint", |b| {
        b.iter(|| set.explain(black_box(&via_endpoint)))
    });
    g.bench_function("explain_public_denied", |b| {
        b.iter(|| set.explain(black_box(&public)))
    });
    g.finish();
}

criterion_group!(benches, decide);
criterion_main!(benches);
