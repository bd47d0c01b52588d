//! The adversarial wildcard: `*a*a*...*a*b` (50 stars) against 100 KB of `a`, as the targets table of benches/README.md states it, plus two
//! variants that force the matcher through the text (a trailing `*`, so the tail check cannot reject early; and a
//! value that matches), and the trailing-`*` variant against 200 KB to show the growth is linear; and issue 14's
//! `*` + `?a`×4094 + `?b*` (8 KiB) against 500 KB of `a`. Throughput is the value's length.

mod common;

use common::check;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iamgate::policy::pattern::{NoVars, Pattern};
use std::hint::black_box;

fn glob(c: &mut Criterion) {
    // 49 × `*a`, then `*b`: 50 stars.
    let spec = format!("{}*b", "*a".repeat(49));
    let trailing_star = format!("{spec}*");
    let a100k = "a".repeat(100_000);
    let a200k = "a".repeat(200_000);
    let a100k_b = format!("{a100k}b");
    let cases = [
        ("spec_50_stars_vs_100kb_a", &spec, &a100k, false),
        ("trailing_star_vs_100kb_a", &trailing_star, &a100k, false),
        // Twice the text: twice the time if the matcher is linear.
        ("trailing_star_vs_200kb_a", &trailing_star, &a200k, false),
        ("spec_50_stars_vs_100kb_a_then_b", &spec, &a100k_b, true),
    ];
    // Issue 14: an 8 KiB segment of `?a` between two stars, against 500 KB (the bit-parallel search).
    let question = format!("*{}?b*", "?a".repeat(4094));
    let a500k = "a".repeat(500_000);
    let mut g = c.benchmark_group("glob");
    for (name, pattern, value, want) in cases {
        check(pattern.matches('*').count() >= 50, "pattern has 50 stars");
        let p = Pattern::parse(pattern, true, false);
        check(p.matches(value, &NoVars, false) == Some(want), name);
        g.throughput(Throughput::Bytes(value.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| p.matches(black_box(value), &NoVars, false))
        });
    }
    let p = Pattern::parse(&question, true, false);
    check(
        p.matches(&a500k, &NoVars, false) == Some(false),
        "question segment",
    );
    g.throughput(Throughput::Bytes(a500k.len() as u64));
    g.bench_function("question_segment_8kib_vs_500kb_a", |b| {
        b.iter(|| p.matches(black_box(&a500k), &NoVars, false))
    });
    g.finish();
}

criterion_group!(benches, glob);
criterion_main!(benches);
