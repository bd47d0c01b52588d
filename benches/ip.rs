//! An IP condition against 10,000 CIDRs: a one-statement policy `Allow * on * if IpAddress aws:SourceIp [10,000
//! CIDRs]` decided for an address inside and one outside the list, so that only that condition matters. The raw
//! range-table lookup (`CidrSet::contains`) and parse + lookup are measured too, to show where the time goes.

mod common;

use common::{
    ACTION, PRINCIPAL, RESOURCE, RequestText, Rng, cidr_policy, expect, or_exit, parse,
    random_cidrs, request,
};
use criterion::{Criterion, criterion_group, criterion_main};
use iamgate::internals::{CidrSet, parse_cidr, parse_ip};
use iamgate::{Decision, PolicySet, ValueRef};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

fn ip(c: &mut Criterion) {
    let cidrs = random_cidrs(10_000, 10_000);
    let policy = parse(
        &cidr_policy("Allow", &["*"], "IpAddress", "aws:SourceIp", &cidrs),
        "10,000-CIDR policy",
    );
    let set = or_exit(PolicySet::builder().identity(policy).build(), "compile");
    let table: CidrSet = cidrs.iter().map(|s| or_exit(parse_cidr(s), s)).collect();
    eprintln!(
        "10,000 CIDRs merge into {} IPv4 ranges",
        table.v4_ranges().len()
    );

    // Inside: the first address of the middle CIDR. Outside: the first deterministic address not in the table.
    let inside = or_exit(
        parse_cidr(cidrs.get(5_000).map_or("", String::as_str)),
        "cidr",
    )
    .network()
    .to_string();
    let mut rng = Rng::new(7);
    let outside = loop {
        let a = IpAddr::V4(Ipv4Addr::from(rng.next_u64() as u32));
        if !table.contains(a) {
            break a.to_string();
        }
    };
    let req = |ip: &str| {
        request(&RequestText {
            principal: PRINCIPAL,
            action: ACTION,
            resource: RESOURCE,
            context: &[("aws:SourceIp", ValueRef::One(ip))],
        })
    };
    let (hit, miss) = (req(&inside), req(&outside));
    expect(&set, &hit, Decision::Allow, "inside the list");
    expect(&set, &miss, Decision::ImplicitDeny, "outside the list");

    let mut g = c.benchmark_group("ip");
    g.bench_function("decide_10000_cidrs_inside", |b| {
        b.iter(|| set.decide(black_box(&hit)))
    });
    g.bench_function("decide_10000_cidrs_outside", |b| {
        b.iter(|| set.decide(black_box(&miss)))
    });
    let (a_in, a_out) = (parse_ip(&inside), parse_ip(&outside));
    g.bench_function("cidrset_contains_inside", |b| {
        b.iter(|| black_box(a_in).is_some_and(|a| table.contains(a)))
    });
    g.bench_function("cidrset_contains_outside", |b| {
        b.iter(|| black_box(a_out).is_some_and(|a| table.contains(a)))
    });
    g.bench_function("parse_ip_and_contains_inside", |b| {
        b.iter(|| parse_ip(black_box(&inside)).is_some_and(|a| table.contains(a)))
    });
    g.finish();
}

criterion_group!(benches, ip);
criterion_main!(benches);
