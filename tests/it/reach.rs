//! Reach agrees with decide: every concrete origin falls in exactly one class, and decides as that class says.

use crate::properties::{doc, policy};
use iamgate::analyse::{OTHER, Origin, ReachQuery, Values, reach};
use iamgate::{Context, ContextValue, PolicySet, Request, Scalar};
use proptest::prelude::*;
use std::net::IpAddr;

const NAMED_VPCES: [&str; 3] = [
    "vpce-0api0000000000001",
    "vpce-0studio000000002",
    "vpce-0other00000000003",
];

fn in_values(v: &Values, value: &str, named: bool) -> bool {
    match v {
        Values::Any => true,
        Values::List(l) => l.iter().any(|x| x == value || (x == OTHER && !named)),
    }
}

fn ip_strategy() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(a.into())),
        prop::sample::select(vec![
            "198.51.100.7",
            "203.0.113.200",
            "165.225.3.4",
            "10.1.2.3",
            "203.0.113.127",
            "203.0.113.128"
        ])
        .prop_map(|s| s.parse().unwrap()),
        any::<u128>().prop_map(|a| IpAddr::V6(a.into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reach_agrees_with_decide(
        identity in prop::collection::vec(policy(), 1..=2),
        public in any::<bool>(),
        vpce in prop::sample::select(vec![NAMED_VPCES[0], NAMED_VPCES[1], NAMED_VPCES[2], "vpce-0unnamed0000000009"]),
        vpc in prop::sample::select(vec!["vpc-0shared00000000001", "vpc-0elsewhere0000009"]),
        ip in ip_strategy(),
        use_step in any::<bool>(),
    ) {
        let mut b = PolicySet::builder();
        for p in &identity { b = b.identity(doc(p)); }
        let set = b.build().unwrap();
        let template = Request::new(
            "sagemaker:CreatePresignedDomainUrl",
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
        ).principal("arn:aws:iam::111122223333:role/DataSci");
        let steps = reach(&set, &ReachQuery { template: template.clone(), ..ReachQuery::default() });
        let step = &steps[usize::from(use_step)];
        let mut req = template.clone();
        let mut ctx = Context::new();
        let put = |c: &mut Context, k: &str, v: Scalar| c.insert(k, ContextValue::One(v)).unwrap();
        put(&mut ctx, "aws:ViaAWSService", Scalar::Bool(false));
        if public {
            put(&mut ctx, "aws:SourceIp", Scalar::String(ip.to_string()));
        } else {
            put(&mut ctx, "aws:SourceVpce", vpce.into());
            put(&mut ctx, "aws:SourceVpc", vpc.into());
            put(&mut ctx, "aws:VpcSourceIp", Scalar::String(ip.to_string()));
        }
        req.context = ctx;
        // Values the policies name (the generator names only these endpoint ids and this VPC).
        let text: String = identity.iter().flatten().map(|s| s.to_string()).collect();
        let vpce_named = text.contains(vpce);
        let vpc_named = text.contains(vpc);
        let matching: Vec<&Origin> = step.origins.iter().filter(|o| match o {
            Origin::Public { source_ip, .. } => public && source_ip.iter().any(|n| n.contains(&ip)),
            Origin::Endpoint { vpce: e, vpc: v, vpc_source_ip, .. } => !public
                && in_values(e, vpce, vpce_named)
                && in_values(v, vpc, vpc_named)
                && vpc_source_ip.iter().any(|n| n.contains(&ip)),
            Origin::ViaAwsService { .. } => false,
        }).collect();
        prop_assert_eq!(matching.len(), 1, "{:?}", step.origins);
        let (decision, reasons) = set.decide_with_reasons(&req);
        let (d, r) = match matching[0] {
            Origin::Public { decision, reasons, .. } | Origin::Endpoint { decision, reasons, .. } | Origin::ViaAwsService { decision, reasons, .. } => (decision, reasons),
        };
        prop_assert_eq!(*d, decision);
        prop_assert_eq!(r, &reasons);
    }
}
