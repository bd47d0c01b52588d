//! Compile: lower parsed policies into a `PolicySet` (patterns precompiled, CIDR lists merged into range tables,
//! keys lowercased, values typed). Compile once, decide many; this is the once.

mod common;

use common::{
    bench_file, build, bundle, cidr_policy, endpoint_text, identity_text, or_exit, parse,
    random_cidrs,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use iamgate::PolicySet;
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    // The parsed policies are cloned outside the timed part; only `build` is measured.
    g.bench_function("bundle_build", |b| {
        let parsed = bundle();
        b.iter_batched(
            || common::Bundle {
                identity: parsed.identity.clone(),
                boundary: parsed.boundary.clone(),
                scp_full_access: parsed.scp_full_access.clone(),
                scp_ou_deny_public: parsed.scp_ou_deny_public.clone(),
                endpoint: parsed.endpoint.clone(),
            },
            |bundle| black_box(build(bundle)),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("bundle_parse_and_build", |b| {
        let texts: Vec<String> = common::BUNDLE_FILES.iter().map(|f| bench_file(f)).collect();
        let [identity, boundary, full, ou, endpoint] = texts.as_slice() else {
            return;
        };
        b.iter(|| {
            black_box(build(common::Bundle {
                identity: parse(black_box(identity), "identity"),
                boundary: parse(black_box(boundary), "boundary"),
                scp_full_access: parse(black_box(full), "scp"),
                scp_ou_deny_public: parse(black_box(ou), "scp"),
                endpoint: parse(black_box(endpoint), "endpoint"),
            }))
        })
    });
    g.bench_function("cidrs_10000_build", |b| {
        let policy = parse(
            &cidr_policy(
                "Allow",
                &["*"],
                "IpAddress",
                "aws:SourceIp",
                &random_cidrs(10_000, 10_000),
            ),
            "10,000-CIDR policy",
        );
        b.iter_batched(
            || policy.clone(),
            |p| black_box(or_exit(PolicySet::builder().identity(p).build(), "compile")),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// Compile once, compose many: 1,000 identity policies compiled (and one set built of them), against 1,500 sets
/// built from those compiled policies, each with one of 20 compiled endpoint policies.
fn compose(c: &mut Criterion) {
    use iamgate::{CompiledPolicy, PolicyRef};
    let mut g = c.benchmark_group("compose");
    g.sample_size(10);
    let identity: Vec<iamgate::Policy> = (0..1_000)
        .map(|i| parse(&identity_text(i), "identity"))
        .collect();
    let endpoints: Vec<CompiledPolicy> = (0..20)
        .map(|e| {
            or_exit(
                CompiledPolicy::compile(parse(&endpoint_text(e), "endpoint"), PolicyRef::Endpoint),
                "compile",
            )
        })
        .collect();
    g.bench_function("compile_1000_identity", |b| {
        b.iter_batched(
            || identity.clone(),
            |ps| {
                let set = ps
                    .into_iter()
                    .fold(PolicySet::builder(), |b, p| b.identity(p));
                black_box(or_exit(set.build(), "compile"))
            },
            BatchSize::LargeInput,
        )
    });
    let compiled: Vec<CompiledPolicy> = identity
        .iter()
        .map(|p| {
            or_exit(
                CompiledPolicy::compile(p.clone(), PolicyRef::Identity(0)),
                "compile",
            )
        })
        .collect();
    g.bench_function("compose_1500_sets_of_1000_shared", |b| {
        b.iter(|| {
            let base = compiled
                .iter()
                .cloned()
                .fold(PolicySet::builder(), |b, p| b.identity_compiled(p));
            let base = or_exit(base.build_lazy(), "compose");
            for k in 0..1_500 {
                let e = endpoints.get(k % endpoints.len()).cloned();
                black_box(base.with_endpoint(e));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, compile, compose);
criterion_main!(benches);
