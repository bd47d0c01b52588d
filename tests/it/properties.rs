//! Properties of the evaluator that must hold for every policy and request.

use iamgate::{Context, ContextValue, Decision, Policy, PolicySet, Request, Scalar};
use proptest::prelude::*;
use serde_json::{Value, json};

const ACTIONS: [&str; 4] = [
    "sagemaker:CreatePresignedDomainUrl",
    "sagemaker:DescribeUserProfile",
    "s3:GetObject",
    "kms:Decrypt",
];
const ACTION_PATTERNS: [&str; 6] = [
    "*",
    "sagemaker:*",
    "sagemaker:CreatePresigned*",
    "s3:Get?bject",
    "kms:*",
    "sagemaker:Describe*",
];
const RESOURCES: [&str; 3] = [
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-other/bob",
    "arn:aws:s3:::bucket/key",
];
const RESOURCE_PATTERNS: [&str; 4] = [
    "*",
    "arn:aws:sagemaker:*:111122223333:user-profile/d-abc123/*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/*/${aws:username}",
];
const VPCES: [&str; 3] = [
    "vpce-0api0000000000001",
    "vpce-0studio000000002",
    "vpce-0other00000000003",
];
const CIDRS: [&str; 4] = [
    "198.51.100.0/24",
    "203.0.113.0/25",
    "165.225.0.0/17",
    "10.0.0.0/8",
];
const IPS: [&str; 4] = ["198.51.100.7", "203.0.113.200", "165.225.3.4", "10.1.2.3"];

fn condition() -> impl Strategy<Value = (String, String, Value)> {
    prop_oneof![
        (
            prop::sample::select(vec![
                "StringEquals",
                "StringNotEquals",
                "StringEqualsIfExists",
                "StringNotEqualsIfExists",
                "ForAnyValue:StringEquals",
                "ForAllValues:StringEquals"
            ]),
            prop::sample::subsequence(VPCES.to_vec(), 0..=2)
        )
            .prop_map(|(op, v)| (op.to_string(), "aws:SourceVpce".to_string(), json!(v))),
        (
            prop::sample::select(vec![
                "IpAddress",
                "NotIpAddress",
                "IpAddressIfExists",
                "NotIpAddressIfExists"
            ]),
            prop::sample::subsequence(CIDRS.to_vec(), 1..=3)
        )
            .prop_map(|(op, v)| (op.to_string(), "aws:SourceIp".to_string(), json!(v))),
        (
            prop::sample::select(vec!["Bool", "BoolIfExists"]),
            any::<bool>()
        )
            .prop_map(|(op, b)| (
                op.to_string(),
                "aws:ViaAWSService".to_string(),
                json!(b.to_string())
            )),
        prop::sample::select(vec!["true", "false"]).prop_map(|b| (
            "Null".to_string(),
            "aws:SourceVpc".to_string(),
            json!(b)
        )),
        // Shapes the fast path decides apart from the kernel, or sends back to it: Bool literals in any case
        // (and one that is no boolean), on a documented and an undocumented key; IP and string conditions on an
        // undocumented key (whose value may be no address, or a list); a value with a variable.
        (
            prop::sample::select(vec!["Bool", "BoolIfExists"]),
            prop::sample::select(vec!["aws:ViaAWSService", "my:flag"]),
            prop::sample::subsequence(vec!["true", "FALSE", "True", "yes"], 1..=2)
        )
            .prop_map(|(op, key, v)| (op.to_string(), key.to_string(), json!(v))),
        (
            prop::sample::select(vec!["IpAddress", "NotIpAddressIfExists"]),
            prop::sample::subsequence(CIDRS.to_vec(), 1..=2)
        )
            .prop_map(|(op, v)| (op.to_string(), "my:ip".to_string(), json!(v))),
        (
            prop::sample::select(vec!["StringEquals", "StringNotEqualsIfExists"]),
            prop::sample::subsequence(vec!["10.1.2.3", "true", "${aws:username}", "bob"], 1..=2)
        )
            .prop_map(|(op, v)| (op.to_string(), "my:ip".to_string(), json!(v))),
    ]
}

fn statement(effect: Option<&'static str>) -> impl Strategy<Value = Value> {
    let effect = match effect {
        Some(e) => Just(e).boxed(),
        None => prop::sample::select(vec!["Allow", "Deny"]).boxed(),
    };
    (
        effect,
        any::<bool>(),
        prop::sample::subsequence(ACTION_PATTERNS.to_vec(), 1..=2),
        prop::sample::subsequence(RESOURCE_PATTERNS.to_vec(), 1..=2),
        prop::collection::vec(condition(), 0..=2),
    )
        .prop_map(|(effect, not_action, actions, resources, conds)| {
            let mut cond = serde_json::Map::new();
            for (op, key, v) in conds {
                let entry = cond.entry(op).or_insert_with(|| json!({}));
                if let Some(m) = entry.as_object_mut() {
                    m.insert(key, v);
                }
            }
            let mut st = json!({"Effect": effect, "Resource": resources, "Condition": cond});
            st[if not_action { "NotAction" } else { "Action" }] = json!(actions);
            st
        })
}

pub(crate) fn policy() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(statement(None), 1..=4)
}

fn context() -> impl Strategy<Value = Context> {
    (
        prop::option::of(prop::sample::select(VPCES.to_vec())),
        prop::option::of(prop::sample::select(IPS.to_vec())),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec!["alice", "bob"])),
        prop::option::of(prop::sample::select(vec!["true", "FALSE", "maybe"])),
        prop::option::of(prop::collection::vec(
            prop::sample::select(vec!["10.1.2.3", "198.51.100.7", "not-an-ip", "bob"]),
            1..=2,
        )),
    )
        .prop_map(|(vpce, ip, via, user, flag, my_ip)| {
            let mut c = Context::new();
            let mut put = |k: &str, v: Scalar| {
                let _ = c.insert(k, ContextValue::One(v));
            };
            if let Some(v) = vpce {
                put("aws:SourceVpce", v.into());
                put("aws:SourceVpc", "vpc-0shared00000000001".into());
            }
            if let Some(ip) = ip {
                put("aws:SourceIp", ip.into());
            }
            if let Some(b) = via {
                put("aws:ViaAWSService", b.into());
            }
            if let Some(u) = user {
                put("aws:username", u.into());
            }
            if let Some(f) = flag {
                put("my:flag", f.into());
            }
            match my_ip.as_deref() {
                Some([one]) => put("my:ip", (*one).into()),
                Some(list) => {
                    let _ = c.insert(
                        "my:ip",
                        ContextValue::Many(list.iter().map(|v| Scalar::from(*v)).collect()),
                    );
                }
                None => {}
            }
            c
        })
}

pub(crate) fn request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(ACTIONS.to_vec()),
        prop::sample::select(RESOURCES.to_vec()),
        context(),
    )
        .prop_map(|(a, r, c)| {
            Request::new(a, r)
                .principal("arn:aws:iam::111122223333:role/DataSci")
                .context(c)
        })
}

pub(crate) fn doc(statements: &[Value]) -> Policy {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    match Policy::parse(&text) {
        Ok(p) => p,
        Err(e) => panic!("generated policy does not parse: {e}\n{text}"),
    }
}

pub(crate) fn set(identity: &[Vec<Value>], boundary: &Option<Vec<Value>>) -> PolicySet {
    let mut b = PolicySet::builder();
    for p in identity {
        b = b.identity(doc(p));
    }
    if let Some(bd) = boundary {
        b = b.boundary(doc(bd));
    }
    match b.build() {
        Ok(s) => s,
        Err(e) => panic!("generated policies do not compile: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Adding a Deny statement anywhere never turns a non-Allow into an Allow, and never lifts an explicit deny.
    #[test]
    fn adding_a_deny_never_allows_more(
        identity in prop::collection::vec(policy(), 1..=3),
        boundary in prop::option::of(policy()),
        deny in statement(Some("Deny")),
        target in any::<prop::sample::Index>(),
        req in request(),
    ) {
        let before = set(&identity, &boundary).decide(&req);
        let mut more = identity.clone();
        let i = target.index(more.len());
        more[i].push(deny);
        let after = set(&more, &boundary).decide(&req);
        if before != Decision::Allow {
            prop_assert_ne!(after, Decision::Allow);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    /// Neither the order of statements nor the order of policies changes a decision.
    #[test]
    fn order_never_matters(
        identity in prop::collection::vec(policy(), 1..=3),
        boundary in prop::option::of(policy()),
        seed in any::<u64>(),
        req in request(),
    ) {
        let before = set(&identity, &boundary).decide(&req);
        let mut shuffled = identity.clone();
        let mut s = seed;
        let mut next = |n: usize| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 33) as usize % n.max(1) };
        for p in &mut shuffled {
            for i in (1..p.len()).rev() { let j = next(i + 1); p.swap(i, j); }
        }
        for i in (1..shuffled.len()).rev() { let j = next(i + 1); shuffled.swap(i, j); }
        let boundary2 = boundary.map(|mut b| { b.reverse(); b });
        prop_assert_eq!(set(&shuffled, &boundary2).decide(&req), before);
        // The explaining path decides the same.
        prop_assert_eq!(set(&identity, &None).explain(&req).decision, set(&identity, &None).decide(&req));
    }

    /// IpAddress over a CIDR list equals a naive check of each CIDR.
    #[test]
    fn ip_condition_equals_naive_check(
        cidrs in prop::collection::vec((any::<u32>(), 0u8..=32), 1..40),
        v6 in prop::collection::vec((any::<u128>(), 0u8..=128), 0..5),
        probe in any::<u32>(),
        near in any::<prop::sample::Index>(),
        probe6 in any::<u128>(),
    ) {
        let mut nets: Vec<ipnet::IpNet> = cidrs.iter().map(|&(a, p)| ipnet::IpNet::V4(ipnet::Ipv4Net::new(a.into(), p).unwrap())).collect();
        nets.extend(v6.iter().map(|&(a, p)| ipnet::IpNet::V6(ipnet::Ipv6Net::new(a.into(), p).unwrap())));
        let texts: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        let p = Policy::parse(&json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp": texts}}}]}).to_string()).unwrap();
        let set = PolicySet::builder().identity(p).build().unwrap();
        // Probe a random address, and addresses at the edges of one of the ranges.
        let (a, pl) = cidrs[near.index(cidrs.len())];
        let net = ipnet::Ipv4Net::new(a.into(), pl).unwrap();
        let mut probes: Vec<std::net::IpAddr> = vec![
            std::net::Ipv4Addr::from(probe).into(),
            net.network().into(),
            net.broadcast().into(),
            std::net::Ipv4Addr::from(u32::from(net.network()).wrapping_sub(1)).into(),
            std::net::Ipv4Addr::from(u32::from(net.broadcast()).wrapping_add(1)).into(),
            std::net::Ipv6Addr::from(probe6).into(),
        ];
        if let Some(&(a6, _)) = v6.first() { probes.push(std::net::Ipv6Addr::from(a6).into()); }
        for ip in probes {
            let ctx = Context::new().with("aws:SourceIp", ip.to_string().as_str()).unwrap();
            let req = Request::new("s3:GetObject", "arn:aws:s3:::b/k").context(ctx);
            let naive = nets.iter().any(|n| n.contains(&ip));
            prop_assert_eq!(set.decide(&req) == Decision::Allow, naive, "{}", ip);
        }
    }

    /// The policy parser never panics on arbitrary text, and on valid JSON it fails only with a diagnostic.
    #[test]
    fn parser_never_panics(text in "\\PC{0,200}") {
        let _ = Policy::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_policy_like_text(
        pieces in prop::collection::vec(prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"Statement\"", "\"Effect\"", "\"Allow\"", "\"Deny\"", "\"Action\"",
            "\"s3:*\"", "\"Resource\"", "\"*\"", "\"Condition\"", "\"StringEquals\"", "\"aws:SourceVpce\"", "1", "true",
            "null", "\"Version\"", "\"2012-10-17\"", "\"${aws:username}\"", "\"NotIpAddress\"", "\"10.0.0.0/8\"",
        ]), 0..60),
    ) {
        let text = pieces.concat();
        if let Ok(p) = Policy::parse(&text) {
            let _ = PolicySet::builder().identity(p).build();
        }
    }
}

/// CIDR lists of one family shaped per case: addresses clustered under a random prefix of `cluster` bits (so many
/// ranges may share a bucket of the lookup index) and prefix lengths from `min_prefix` to the family's width.
#[cfg(feature = "internals")]
fn cidr_list(width: u8, max_len: usize) -> impl Strategy<Value = Vec<(u128, u8)>> {
    let modes = (
        prop::sample::select(vec![0u8, 1, 8, 16, 24, 28]),
        prop::sample::select(vec![0u8, 8, 12, 16, 20]),
        any::<u128>(),
    );
    modes.prop_flat_map(move |(min_prefix, cluster, base)| {
        let min_prefix = min_prefix.min(width);
        let keep = u128::MAX >> (128 - u32::from(width));
        let mask = keep.checked_shr(u32::from(cluster)).unwrap_or(0);
        let base = base & keep & !mask;
        let element =
            (any::<u128>(), min_prefix..=width).prop_map(move |(a, p)| (base | (a & mask), p));
        prop_oneof![
            prop::collection::vec(element.clone(), 0..24),
            prop::collection::vec(element, 0..max_len),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// `CidrSet::contains` equals a naive check over the original CIDRs, for lists of 0 to 3,000 CIDRs (overlapping,
    /// /0 to /32 and /128, clustered or spread), probed at random addresses, at the first and last address of
    /// CIDRs and merged ranges and one either side, and at IPv4-mapped IPv6 forms (which never match IPv4 ranges).
    #[test]
    #[cfg(feature = "internals")]
    fn cidr_set_contains_equals_naive_check(
        v4 in cidr_list(32, 3000),
        v6 in cidr_list(128, 300),
        random4 in prop::collection::vec(any::<u32>(), 32),
        random6 in prop::collection::vec(any::<u128>(), 8),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 24),
    ) {
        use iamgate::internals::CidrSet;
        use ipnet::{IpNet, Ipv4Net, Ipv6Net};
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

        let mut nets: Vec<IpNet> = v4.iter().map(|&(a, p)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a as u32), p).unwrap())).collect();
        nets.extend(v6.iter().map(|&(a, p)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), p).unwrap())));
        let set: CidrSet = nets.iter().copied().collect();

        let mut probes: Vec<IpAddr> = random4.iter().map(|&a| IpAddr::from(Ipv4Addr::from(a))).collect();
        probes.extend(random6.iter().map(|&a| IpAddr::from(Ipv6Addr::from(a))));
        probes.extend(["0.0.0.0", "255.255.255.255", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"].map(|s| s.parse::<IpAddr>().unwrap()));
        let mut edges4: Vec<(u32, u32)> = Vec::new();
        let mut edges6: Vec<(u128, u128)> = Vec::new();
        for pick in &picks {
            if let Some(n) = (!nets.is_empty()).then(|| nets[pick.index(nets.len())]) {
                match n {
                    IpNet::V4(n) => edges4.push((n.network().into(), n.broadcast().into())),
                    IpNet::V6(n) => edges6.push((n.network().into(), n.broadcast().into())),
                }
            }
            let r4 = set.v4_ranges();
            if !r4.is_empty() { edges4.push(r4[pick.index(r4.len())]); }
            let r6 = set.v6_ranges();
            if !r6.is_empty() { edges6.push(r6[pick.index(r6.len())]); }
        }
        for (lo, hi) in edges4 {
            for a in [lo.wrapping_sub(1), lo, lo.wrapping_add(1), hi.wrapping_sub(1), hi, hi.wrapping_add(1)] {
                probes.push(Ipv4Addr::from(a).into());
                // The IPv4-mapped form: only ever matched by IPv6 ranges.
                probes.push(Ipv4Addr::from(a).to_ipv6_mapped().into());
            }
        }
        for (lo, hi) in edges6 {
            for a in [lo.wrapping_sub(1), lo, lo.wrapping_add(1), hi.wrapping_sub(1), hi, hi.wrapping_add(1)] {
                probes.push(Ipv6Addr::from(a).into());
            }
        }
        for ip in probes {
            let naive = nets.iter().any(|n| n.contains(&ip));
            prop_assert_eq!(set.contains(ip), naive, "{} in {} CIDRs", ip, nets.len());
        }
    }
}
