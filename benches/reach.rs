//! Reach: `decide_over_ips` over 0.0.0.0/0 for a set whose three policies hold 1,000 CIDRs in total (identity
//! allow-list of 400, boundary allow-list of 300 sharing 150 with it, OU SCP deny-list of 300 sharing 100 with
//! it). The result is exact: every IPv4 address is in exactly one class.

mod common;

use common::{
    ACTION, PRINCIPAL, RESOURCE, bench_file, check, cidr_policy, or_exit, parse, random_cidrs,
};
use criterion::{Criterion, criterion_group, criterion_main};
use iamgate::analyse::decide_over_ips;
use iamgate::{PolicySet, Request};
use ipnet::IpNet;
use std::hint::black_box;

fn reach(c: &mut Criterion) {
    let identity_list = random_cidrs(400, 1);
    let boundary_list: Vec<String> = identity_list
        .iter()
        .take(150)
        .cloned()
        .chain(random_cidrs(150, 2))
        .collect();
    let scp_list: Vec<String> = identity_list
        .iter()
        .skip(200)
        .take(100)
        .cloned()
        .chain(random_cidrs(200, 3))
        .collect();
    check(
        identity_list.len() + boundary_list.len() + scp_list.len() == 1000,
        "1,000 CIDRs",
    );
    let actions = [
        "sagemaker:CreatePresignedDomainUrl",
        "sagemaker:DescribeUserProfile",
    ];
    let set = PolicySet::builder()
        .identity(parse(
            &cidr_policy(
                "Allow",
                &actions,
                "IpAddress",
                "aws:SourceIp",
                &identity_list,
            ),
            "identity",
        ))
        .boundary(parse(
            &cidr_policy(
                "Allow",
                &["sagemaker:*"],
                "IpAddress",
                "aws:SourceIp",
                &boundary_list,
            ),
            "boundary",
        ))
        .scp_level([
            parse(&bench_file("scp-full-access.json"), "scp"),
            parse(
                &cidr_policy("Deny", &["*"], "IpAddress", "aws:SourceIp", &scp_list),
                "scp",
            ),
        ])
        .build();
    let set = or_exit(set, "compile");
    let template = Request::new(ACTION, RESOURCE).principal(PRINCIPAL);
    let everything: Vec<IpNet> = vec![or_exit("0.0.0.0/0".parse(), "0.0.0.0/0")];
    let classes = decide_over_ips(&set, &template, "aws:SourceIp", &everything);
    let ranges: usize = classes.iter().map(|c| c.ranges.len()).sum();
    eprintln!(
        "reach: {} classes, {ranges} CIDR blocks in all",
        classes.len()
    );
    check(
        classes.len() >= 3,
        "at least Allow, ExplicitDeny and ImplicitDeny classes",
    );

    let mut g = c.benchmark_group("reach");
    g.bench_function("decide_over_ips_all_ipv4_1000_cidrs_3_policies", |b| {
        b.iter(|| decide_over_ips(black_box(&set), &template, "aws:SourceIp", &everything))
    });
    g.finish();
}

criterion_group!(benches, reach);
criterion_main!(benches);
