//! Batch: `api::case::decide_case` (what `iamgate batch` runs per line: parse the case, compile its policies, decide
//! and explain) over every case of `corpus/cases/`, one iteration = the whole corpus; and, to show where that
//! time goes, the case parse + compile alone, `Case::decide` (explain) alone and `PolicySet::decide` alone on the
//! parsed cases.

mod common;

use common::{case_texts, check};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iamgate::Limits;
use iamgate::api::case::{Case, decide_case};
use std::hint::black_box;

fn batch(c: &mut Criterion) {
    let texts = case_texts();
    let bytes: usize = texts.iter().map(String::len).sum();
    let limits = Limits::default();
    let cases: Vec<Case> = texts
        .iter()
        .filter_map(|t| Case::parse(t, &limits).ok())
        .collect();
    eprintln!(
        "batch: {} case files ({bytes} bytes), {} parse",
        texts.len(),
        cases.len()
    );
    check(
        cases.len() > 100,
        "corpus/cases holds fewer than 100 valid cases",
    );

    let mut g = c.benchmark_group("batch");
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("decide_case_all_corpus_cases", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(decide_case(black_box(t), false));
            }
        })
    });
    g.bench_function("case_parse_and_compile_only", |b| {
        b.iter(|| {
            for t in &texts {
                let _ = black_box(Case::parse(black_box(t), &limits));
            }
        })
    });
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("case_decide_with_explain_prebuilt", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(case.decide(false));
            }
        })
    });
    g.bench_function("policyset_decide_prebuilt", |b| {
        b.iter(|| {
            for case in &cases {
                black_box(case.set.decide(black_box(&case.request)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
