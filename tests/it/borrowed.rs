//! `PolicySet::decide_ref` on a borrowed `RequestRef` decides exactly as `decide` on the owned request: over
//! random policies and requests, over every corpus case, past the limits of the fast path (more condition keys
//! than slots, more context entries than slot offsets, sets too large for the action index), and it refuses
//! the same malformed values.

use super::cases::with_ref;
use super::properties::{doc, policy, request, set};
use iamgate::context::{ContextValue, RequestRef, ValueRef};
use iamgate::{Decision, PolicySet, Request};
use proptest::prelude::*;
use serde_json::json;

fn same(set: &PolicySet, req: &Request, what: &str) {
    let want = set.decide(req);
    if let Err(e) = req.check() {
        // A malformed action or resource: never allowed. The checked forms return the error, except for an ARN
        // that only lacks its six fields where the policies deny it anyway (`PolicySet::decide_ref`).
        assert_ne!(want, Decision::Allow, "{what}");
        let short_arn_only = iamgate::Request::new(req.action.as_str(), "*")
            .check()
            .is_ok()
            && req.resource.starts_with("arn:");
        for got in [
            set.try_decide(req),
            with_ref(req, |_| false, |r| set.decide_ref(r)),
        ] {
            match got {
                Ok(d) => assert!(short_arn_only && d == want, "{what}: {d}"),
                Err(x) => assert_eq!(x, e, "{what}"),
            }
        }
        assert_eq!(
            with_ref(req, |_| false, |r| set.explain_ref(r)),
            Err(e),
            "{what}"
        );
        return;
    }
    assert_eq!(set.try_decide(req), Ok(want), "{what}");
    for upper in [false, true] {
        let got = with_ref(req, |i| upper && i % 2 == 0, |r| set.decide_ref(r));
        assert_eq!(got, Ok(want), "{what} (keys uppercased: {upper})");
    }
    let explained = with_ref(req, |_| false, |r| set.explain_ref(r));
    assert_eq!(explained, Ok(set.explain(req)), "{what}: explain_ref");
    with_ref(
        req,
        |_| false,
        |r| {
            for (name, layout) in layouts(set, r) {
                assert_eq!(
                    set.decide_ref_with(&layout, r),
                    Ok(want),
                    "{what}: layout {name}"
                );
            }
        },
    );
}

/// Layouts for `r` against `set`, each with its name: the request's keys in its order, reversed (every key out of
/// place), in another case than the request's, with keys the set does not know in front, before each key, and
/// nine before each key (past the look-ahead), and the request's keys resolved against another set (ignored).
fn layouts(set: &PolicySet, r: &RequestRef<'_>) -> Vec<(&'static str, iamgate::KeyLayout)> {
    let keys: Vec<&str> = r.context.iter().map(|(k, _)| *k).collect();
    let upper: Vec<String> = keys.iter().map(|k| k.to_ascii_uppercase()).collect();
    let other = PolicySet::builder()
        .identity(
            iamgate::Policy::parse(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                "Condition":{"StringEquals":{"aws:SourceVpce":"x"}}}]}"#,
            )
            .expect("policy"),
        )
        .build()
        .expect("set");
    vec![
        ("in order", set.key_layout(keys.iter().copied())),
        ("reversed", set.key_layout(keys.iter().rev().copied())),
        (
            "other case",
            set.key_layout(upper.iter().map(String::as_str)),
        ),
        (
            "unknown keys first",
            set.key_layout(["my:unknown"].into_iter().chain(keys.iter().copied())),
        ),
        (
            "interleaved",
            set.key_layout(keys.iter().flat_map(|k| ["my:gap", *k])),
        ),
        (
            "far apart",
            set.key_layout(
                keys.iter()
                    .flat_map(|k| std::iter::repeat_n("my:gap", 9).chain([*k])),
            ),
        ),
        ("another set's", other.key_layout(keys.iter().copied())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random identity policies, boundary and request: borrowed and owned decide alike, in any key case.
    #[test]
    fn borrowed_decides_as_owned(
        identity in prop::collection::vec(policy(), 1..=3),
        boundary in prop::option::of(policy()),
        req in request(),
    ) {
        let s = set(&identity, &boundary);
        let want = s.decide(&req);
        for upper in [false, true] {
            let got = with_ref(&req, |i| upper && i % 2 == 1, |r| s.decide_ref(r));
            prop_assert_eq!(got, Ok(want));
            let laid = with_ref(&req, |i| upper && i % 2 == 1, |r| {
                layouts(&s, r).into_iter().map(|(_, l)| s.decide_ref_with(&l, r)).collect::<Vec<_>>()
            });
            prop_assert!(laid.iter().all(|d| *d == Ok(want)), "{:?}", laid);
        }
        let owned = with_ref(&req, |_| true, |r| r.to_request());
        prop_assert_eq!(owned.map(|o| s.decide(&o)), Ok(want));
    }
}

#[test]
fn every_corpus_case_decides_alike_borrowed() {
    for (p, case) in super::cases::corpus_cases() {
        same(&case.set, &case.request, &p.display().to_string());
    }
}

/// A policy testing `n` distinct keys `k0..`, each `StringEquals` to `v`: more keys than the fast path keeps
/// slots for.
#[test]
fn more_condition_keys_than_slots() {
    let n = 40;
    let mut cond = serde_json::Map::new();
    for i in 0..n {
        cond.insert(format!("aws:PrincipalTag/k{i}"), json!("v"));
    }
    let set = PolicySet::builder()
        .identity(doc(&[
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringEquals": cond}}),
        ]))
        .build()
        .unwrap();
    let mut ctx = iamgate::Context::new();
    for i in 0..n {
        ctx.insert(
            &format!("aws:PrincipalTag/K{i}"),
            ContextValue::One("v".into()),
        )
        .unwrap();
    }
    let req = Request::new("s3:GetObject", "arn:aws:s3:::b/k").context(ctx.clone());
    assert_eq!(set.decide(&req), Decision::Allow);
    same(&set, &req, "40 keys");
    // One key missing (the last, beyond the slots) or wrong: no Allow.
    for change in ["aws:principaltag/k39", "aws:principaltag/k0"] {
        let mut c = ctx.clone();
        c.insert(change, ContextValue::One("other".into())).unwrap();
        let req = Request::new("s3:GetObject", "arn:aws:s3:::b/k").context(c);
        assert_eq!(set.decide(&req), Decision::ImplicitDeny, "{change}");
        same(&set, &req, change);
    }
}

/// 300 context entries before the key that matters: beyond what a slot notes, it is looked up.
#[test]
fn key_far_into_the_context() {
    let set = PolicySet::builder()
        .identity(doc(&[
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}),
        ]))
        .build()
        .unwrap();
    let mut ctx = iamgate::Context::new();
    for i in 0..300 {
        ctx.insert(&format!("aaa:k{i:03}"), ContextValue::One("x".into()))
            .unwrap();
    }
    for (ip, want) in [
        ("203.0.113.9", Decision::Allow),
        ("198.51.100.1", Decision::ImplicitDeny),
    ] {
        let mut c = ctx.clone();
        c.insert("aws:SourceIp", ContextValue::One(ip.into()))
            .unwrap();
        let req = Request::new("s3:GetObject", "arn:aws:s3:::b/k").context(c);
        assert_eq!(set.decide(&req), want);
        same(&set, &req, ip);
    }
}

/// A set of more statements than the action index holds decides as the same rules in a small set: 300
/// statements that never match are added to a policy with wildcards and `NotAction`.
#[test]
fn sets_too_large_to_index_decide_alike() {
    let rules = vec![
        json!({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}),
        json!({"Effect": "Allow", "NotAction": ["iam:*", "kms:Decrypt"], "Resource": "arn:aws:sagemaker:*"}),
        json!({"Effect": "Deny", "Action": "sagemaker:CreatePresigned*", "Resource": "*",
            "Condition": {"Null": {"aws:SourceVpce": "true"}}}),
        json!({"Effect": "Deny", "NotAction": "s3:*", "Resource": "arn:aws:s3:::*"}),
    ];
    let mut big = rules.clone();
    for i in 0..300 {
        big.push(json!({"Effect": "Deny", "Action": format!("zz{i}:Never"), "Resource": "*"}));
    }
    let small = PolicySet::builder().identity(doc(&rules)).build().unwrap();
    let large = PolicySet::builder().identity(doc(&big)).build().unwrap();
    let mut seen = std::collections::HashSet::new();
    for action in [
        "s3:GetObject",
        "S3:getobject",
        "s3:PutObject",
        "sagemaker:CreatePresignedDomainUrl",
        "sagemaker:ListApps",
        "kms:Decrypt",
        "kms:Encrypt",
        "iam:PassRole",
        "zz:Other",
        "nocolon",
        "sagemaker:créer",
    ] {
        for resource in [
            "arn:aws:s3:::b/k",
            "arn:aws:sagemaker:eu-west-1:1:domain/d",
            "*",
        ] {
            for vpce in [None, Some("vpce-1")] {
                let mut req = Request::new(action, resource);
                if let Some(v) = vpce {
                    req.context
                        .insert("aws:SourceVpce", ContextValue::One(v.into()))
                        .unwrap();
                }
                let want = small.decide(&req);
                seen.insert(want);
                let what = format!("{action} {resource} {vpce:?}");
                assert_eq!(large.decide(&req), want, "{what}");
                same(&small, &req, &what);
                same(&large, &req, &what);
            }
        }
    }
    assert_eq!(seen.len(), 3, "the requests reach every decision");
}

#[test]
fn refuses_what_context_insert_refuses() {
    let set = PolicySet::builder()
        .identity(doc(&[
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        ]))
        .build()
        .unwrap();
    let base = RequestRef {
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
        ..RequestRef::default()
    };
    for (key, value, says) in [
        ("aws:SourceIp", "203.0.113.0/24", "a single IP address"),
        ("AWS:SOURCEIP", "not-an-ip", "an IP address"),
        ("aws:VpcSourceIp", "010.0.0.1", "an IP address"),
        ("aws:ViaAWSService", "yes", "a boolean"),
        ("aws:MultiFactorAuthAge", "old", "a number"),
        ("aws:CurrentTime", "yesterday", "a date"),
    ] {
        let context = [(key, ValueRef::One(value))];
        let err = set
            .decide_ref(&RequestRef {
                context: &context,
                ..base
            })
            .unwrap_err();
        assert_eq!(err.key, key);
        assert!(err.message.contains(says), "{key}: {}", err.message);
        // With the key laid out, or laid out elsewhere: the same refusal.
        for layout in [set.key_layout([key]), set.key_layout(["my:key", key])] {
            let laid = set.decide_ref_with(
                &layout,
                &RequestRef {
                    context: &context,
                    ..base
                },
            );
            assert_eq!(laid, Err(err.clone()), "{key}");
        }
        // The owned form refuses it alike.
        let mut c = iamgate::Context::new();
        assert!(c.insert(key, ContextValue::One(value.into())).is_err());
    }
    // A bad value in a list is refused too; unknown keys are taken as text.
    let list = ["203.0.113.1", "nope"];
    let context = [
        ("aws:SourceIp", ValueRef::Many(&list)),
        ("my:key", ValueRef::One("??")),
    ];
    assert!(
        set.decide_ref(&RequestRef {
            context: &context,
            ..base
        })
        .is_err()
    );
    let context = [("my:key", ValueRef::One("??"))];
    assert_eq!(
        set.decide_ref(&RequestRef {
            context: &context,
            ..base
        }),
        Ok(Decision::Allow)
    );
}

/// A key given twice takes its last value, in any case, also as a policy variable.
#[test]
fn last_value_wins_and_variables_resolve() {
    let set = PolicySet::builder()
        .identity(doc(&[json!({"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/${aws:username}/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})]))
        .build()
        .unwrap();
    let decide = |context: &[(&str, ValueRef<'_>)]| {
        set.decide_ref(&RequestRef {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/alice/x",
            context,
            ..RequestRef::default()
        })
    };
    let user = ("aws:username", ValueRef::One("alice"));
    assert_eq!(
        decide(&[
            user,
            ("aws:SourceIp", "198.51.100.1".into()),
            ("AWS:SourceIP", "203.0.113.5".into())
        ]),
        Ok(Decision::Allow)
    );
    assert_eq!(
        decide(&[
            user,
            ("aws:SourceIp", "203.0.113.5".into()),
            ("aws:sourceip", "198.51.100.1".into())
        ]),
        Ok(Decision::ImplicitDeny)
    );
    assert_eq!(
        decide(&[
            ("AWS:UserName", "bob".into()),
            ("aws:SourceIp", "203.0.113.5".into())
        ]),
        Ok(Decision::ImplicitDeny)
    );
    assert_eq!(
        decide(&[
            ("AWS:UserName", "alice".into()),
            ("aws:SourceIp", "203.0.113.5".into())
        ]),
        Ok(Decision::Allow)
    );
}

/// A policy whose statements carry a `Principal` (resource, endpoint and RCP policies need one).
fn with_principal() -> impl Strategy<Value = Vec<serde_json::Value>> {
    (
        policy(),
        prop::collection::vec(
            prop::sample::select(vec![
                json!("*"),
                json!({"AWS": "111122223333"}),
                json!({"AWS": "arn:aws:iam::111122223333:root"}),
                json!({"AWS": "arn:aws:iam::111122223333:role/DataSci"}),
                json!({"AWS": "arn:aws:iam::444455556666:role/Other"}),
            ]),
            4,
        ),
    )
        .prop_map(|(mut p, principals)| {
            for (st, pr) in p.iter_mut().zip(principals.into_iter().cycle()) {
                st["Principal"] = pr;
            }
            p
        })
}

/// [`with_principal`], some of its Deny statements with `NotPrincipal` instead.
fn with_not_principal() -> impl Strategy<Value = Vec<serde_json::Value>> {
    (with_principal(), any::<u8>()).prop_map(|(mut p, bits)| {
        for (i, st) in p.iter_mut().enumerate() {
            if st["Effect"] == "Deny" && bits >> (i % 8) & 1 == 1 {
                if let Some(m) = st.as_object_mut() {
                    if let Some(v) = m.remove("Principal") {
                        m.insert("NotPrincipal".into(), v);
                    }
                }
            }
        }
        p
    })
}

/// What Organizations accepts as an RCP (docs/SEMANTICS.md §1.12): `Deny` statements with `Action`.
fn as_rcp(mut p: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    for st in &mut p {
        st["Effect"] = json!("Deny");
        if let Some(m) = st.as_object_mut() {
            if let Some(v) = m.remove("NotAction") {
                m.insert("Action".into(), v);
            }
        }
    }
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Every kind of policy at once (SCP levels, an RCP level, resource or KMS key policy with Principal or
    /// NotPrincipal, identity, boundary, session, interface or gateway endpoint), same- and cross-account: the fast path by the action index, the full path of `explain` and of
    /// `decide_with_reasons`, the borrowed request, and the same set made too large to index all decide alike.
    #[test]
    fn fast_path_decides_as_full_path(
        scps in prop::collection::vec(prop::collection::vec(policy(), 1..=2), 0..=1),
        rcps in prop::option::weighted(0.3, with_principal().prop_map(as_rcp)),
        resource in prop::option::of(with_not_principal()),
        key_policy in any::<bool>(),
        gateway in any::<bool>(),
        identity in prop::collection::vec(policy(), 0..=2),
        boundary in prop::option::weighted(0.3, policy()),
        session in prop::option::weighted(0.2, policy()),
        endpoint in prop::option::weighted(0.3, with_principal()),
        req in request(),
        cross in any::<bool>(),
    ) {
        let build = |pad: bool| {
            let mut b = PolicySet::builder();
            for level in &scps {
                b = b.scp_level(level.iter().map(|p| doc(p)));
            }
            if let Some(r) = &rcps {
                b = b.rcp_level([doc(r)]);
            }
            if let Some(r) = &resource {
                b = if key_policy { b.key_policy(doc(r)) } else { b.resource(doc(r)) };
            }
            if gateway {
                b = b.endpoint_kind(iamgate::compile::EndpointKind::Gateway);
            }
            for p in &identity {
                b = b.identity(doc(p));
            }
            if pad {
                let never: Vec<serde_json::Value> = (0..260)
                    .map(|i| json!({"Effect": "Deny", "Action": format!("zz:Never{i}"), "Resource": "*"}))
                    .collect();
                b = b.identity(doc(&never));
            }
            if let Some(p) = &boundary {
                b = b.boundary(doc(p));
            }
            if let Some(p) = &session {
                b = b.session(doc(p));
            }
            if let Some(p) = &endpoint {
                b = b.endpoint(doc(p));
            }
            b.build().unwrap()
        };
        let (small, large) = (build(false), build(true));
        let mut req = req;
        if cross {
            req.principal = Some("arn:aws:iam::444455556666:role/Other".into());
        }
        let want = small.explain(&req).decision;
        prop_assert_eq!(small.decide(&req), want);
        prop_assert_eq!(small.decide_with_reasons(&req).0, want);
        prop_assert_eq!(large.decide(&req), want);
        prop_assert_eq!(large.explain(&req).decision, want);
        prop_assert_eq!(with_ref(&req, |i| i % 2 == 0, |r| small.decide_ref(r)), Ok(want));
    }
}

/// Long lists of literal values are hashed: hits, misses, a value differing only in case (StringEquals is
/// case-sensitive), a negated operator and an absent key decide as a short list would.
#[test]
fn long_literal_lists_decide_as_short_ones() {
    let ids: Vec<String> = (0..50).map(|i| format!("vpce-{i:017x}")).collect();
    let long = PolicySet::builder()
        .identity(doc(&[
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpce": ids}}}),
            json!({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": ids}}}),
        ]))
        .build()
        .unwrap();
    for (vpce, want) in [
        (Some(ids[0].clone()), Decision::Allow),
        (Some(ids[49].clone()), Decision::Allow),
        (Some(ids[17].to_uppercase()), Decision::ExplicitDeny),
        (Some(format!("{}0", ids[3])), Decision::ExplicitDeny),
        (Some(String::new()), Decision::ExplicitDeny),
        // Absent: `...IfExists` makes the Deny apply.
        (None, Decision::ExplicitDeny),
    ] {
        let mut req = Request::new("s3:GetObject", "arn:aws:s3:::b/k");
        if let Some(v) = &vpce {
            req.context
                .insert("aws:SourceVpce", ContextValue::One(v.as_str().into()))
                .unwrap();
        }
        assert_eq!(long.decide(&req), want, "{vpce:?}");
        same(&long, &req, &format!("{vpce:?}"));
    }
}

/// A layout shows its keys, not the set it was resolved against.
#[test]
fn key_layout_debug_shows_its_keys() {
    let set = PolicySet::builder()
        .identity(doc(&[
            json!({"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}),
        ]))
        .build()
        .unwrap();
    let shown = format!("{:?}", set.key_layout(["aws:SourceVpce", "my:key"]));
    assert!(
        shown.contains("aws:SourceVpce") && shown.contains("my:key"),
        "{shown}"
    );
    assert!(!shown.contains("Statement") && shown.len() < 400, "{shown}");
}

/// What the action alone settles, settled when the set is built (the fast path's per-action plans), decides as
/// the full path: an RCP's Deny only for the services RCPs govern; a gate without any Allow for the action
/// (an implicit deny, unless a Deny applies); a gate passed by an unconditional Allow; the identity and resource
/// gates with the accounts, same and cross.
#[test]
fn per_action_plans_decide_as_the_full_path() {
    let allow = |action: &str| json!({"Effect": "Allow", "Action": action, "Resource": "*"});
    let deny_all = json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}});
    let vpce_allow = json!({"Effect": "Allow", "Action": ["s3:GetObject", "sagemaker:ListApps"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}});
    let on = |principal: &str, action: &str, resource: &str, vpce: Option<&str>| {
        // The bucket's account, which its ARN lacks.
        let mut r = Request {
            resource_account: Some("111122223333".into()),
            ..Request::new(action, resource).principal(principal)
        };
        if let Some(v) = vpce {
            r = r.context(iamgate::Context::new().with("aws:SourceVpce", v).unwrap());
        }
        r
    };
    let me = "arn:aws:iam::111122223333:role/DataSci";
    let other = "arn:aws:iam::444455556666:role/Other";
    let bucket = "arn:aws:s3:::bucket/key";
    let app = "arn:aws:sagemaker:eu-west-1:111122223333:app/d-1/alice/jupyterserver/default";
    let check = |set: &PolicySet, req: &Request, want: Decision, what: &str| {
        assert_eq!(set.explain(req).decision, want, "{what}: explain");
        assert_eq!(set.decide(req), want, "{what}: decide");
        same(set, req, what);
    };

    // An RCP denies off the endpoint: S3 (governed) is denied, SageMaker (not governed) is not.
    let rcp = PolicySet::builder()
        .rcp_level([doc(std::slice::from_ref(&deny_all))])
        .identity(doc(&[allow("s3:GetObject"), allow("sagemaker:ListApps")]))
        .build()
        .unwrap();
    check(
        &rcp,
        &on(me, "s3:GetObject", bucket, None),
        Decision::ExplicitDeny,
        "rcp, s3, public",
    );
    check(
        &rcp,
        &on(me, "s3:GetObject", bucket, Some("vpce-1")),
        Decision::Allow,
        "rcp, s3, endpoint",
    );
    check(
        &rcp,
        &on(me, "sagemaker:ListApps", app, None),
        Decision::Allow,
        "rcp, sagemaker",
    );

    // A boundary without any Allow for the action: an implicit deny, but a Deny still wins.
    let bounded = PolicySet::builder()
        .scp_level([doc(&[allow("*")])])
        .identity(doc(&[
            allow("s3:GetObject"),
            allow("sagemaker:ListApps"),
            json!({"Effect": "Deny",
            "Action": "sagemaker:ListApps", "Resource": "*",
            "Condition": {"Null": {"aws:SourceVpce": "true"}}}),
        ]))
        .boundary(doc(&[allow("s3:*")]))
        .build()
        .unwrap();
    check(
        &bounded,
        &on(me, "s3:GetObject", bucket, None),
        Decision::Allow,
        "boundary allows",
    );
    check(
        &bounded,
        &on(me, "sagemaker:ListApps", app, Some("vpce-1")),
        Decision::ImplicitDeny,
        "no boundary allow",
    );
    check(
        &bounded,
        &on(me, "sagemaker:ListApps", app, None),
        Decision::ExplicitDeny,
        "deny over a failing gate",
    );

    // Conditional Allows in every gate; the identity and resource gates across accounts.
    let gated = |resource: bool| {
        let mut b = PolicySet::builder()
            .scp_level([doc(std::slice::from_ref(&vpce_allow))])
            .identity(doc(std::slice::from_ref(&vpce_allow)))
            .endpoint(doc(&[
                json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}),
            ]));
        if resource {
            b = b.resource(doc(&[
                json!({"Effect": "Allow", "Principal": {"AWS": other},
                "Action": "s3:GetObject", "Resource": bucket}),
            ]));
        }
        b.build().unwrap()
    };
    for (resource, principal, vpce, want) in [
        (false, me, Some("vpce-1"), Decision::Allow),
        (false, me, Some("vpce-2"), Decision::ImplicitDeny),
        (false, other, Some("vpce-1"), Decision::ImplicitDeny),
        (true, me, Some("vpce-1"), Decision::Allow),
        (true, other, Some("vpce-1"), Decision::Allow),
        (true, other, Some("vpce-2"), Decision::ImplicitDeny),
    ] {
        let set = gated(resource);
        let req = on(principal, "s3:GetObject", bucket, vpce);
        let what = format!("resource policy {resource}, {principal}, {vpce:?}");
        check(&set, &req, want, &what);
    }
    // The resource policy alone allows in its own account only.
    let own = PolicySet::builder()
        .resource(doc(&[
            json!({"Effect": "Allow", "Principal": {"AWS": [me, other]},
            "Action": "s3:GetObject", "Resource": bucket}),
        ]))
        .build()
        .unwrap();
    let in_account = on(me, "s3:GetObject", bucket, None);
    check(
        &own,
        &in_account,
        Decision::Allow,
        "resource policy alone, same account",
    );
    let across = on(other, "s3:GetObject", bucket, None);
    check(
        &own,
        &across,
        Decision::ImplicitDeny,
        "resource policy alone, cross-account",
    );
}

/// The accounts compared on the fast path where a literal resource pattern has told where the resource's account
/// field is, and the principal's read where the usual principal ARN has it: every principal shape and an explicit
/// resource account decide as the full path, which reads both fields by their colons.
#[test]
fn accounts_by_literal_resources_decide_as_the_full_path() {
    let profile = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-1/alice";
    let domain = "arn:aws:sagemaker:eu-west-1:111122223333:domain/d-1";
    let set = PolicySet::builder()
        .identity(doc(&[json!({"Effect": "Allow", "Action": "sagemaker:*",
        "Resource": [
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-1/*",
            domain,
            "arn:aws:sagemaker:eu-west-1:444455556666:user-profile/*",
        ]})]))
        .build()
        .unwrap();
    let other_profile = "arn:aws:sagemaker:eu-west-1:444455556666:user-profile/d-9/bob";
    let cases: [(&str, &str, Option<&str>, Decision); 17] = [
        (
            "arn:aws:iam::111122223333:role/DataSci",
            profile,
            None,
            Decision::Allow,
        ),
        (
            "arn:aws:iam::111122223333:role/DataSci",
            domain,
            None,
            Decision::Allow,
        ),
        (
            "arn:aws:sts::111122223333:assumed-role/DataSci/alice",
            profile,
            None,
            Decision::Allow,
        ),
        (
            "arn:aws:iam::444455556666:role/Other",
            profile,
            None,
            Decision::ImplicitDeny,
        ),
        (
            "arn:aws:iam::444455556666:role/Other",
            other_profile,
            None,
            Decision::Allow,
        ),
        (
            "arn:aws:iam::111122223333:role/DataSci",
            other_profile,
            None,
            Decision::ImplicitDeny,
        ),
        // The field one digit longer or shorter, or not closed by a colon.
        (
            "arn:aws:iam::1111222233334:role/X",
            profile,
            None,
            Decision::ImplicitDeny,
        ),
        (
            "arn:aws:iam::11112222333:role/X",
            profile,
            None,
            Decision::ImplicitDeny,
        ),
        (
            "arn:aws:iam::111122223333/role",
            profile,
            None,
            Decision::Allow,
        ),
        ("arn:aws:iam::111122223333", profile, None, Decision::Allow),
        // Other shapes: read by the colons.
        (
            "arn:aws-cn:iam::111122223333:role/X",
            profile,
            None,
            Decision::Allow,
        ),
        (
            "arn:aws:iam:eu-west-1:111122223333:role/X",
            profile,
            None,
            Decision::Allow,
        ),
        // Colons where the fast read expects a service: the account field is empty, so unknown.
        (
            "arn:aws:i:m::444455556666:role/X",
            profile,
            None,
            Decision::Allow,
        ),
        (
            "arn:aws:::2::111122223333:role/X",
            profile,
            None,
            Decision::ImplicitDeny,
        ),
        ("111122223333", profile, None, Decision::Allow),
        ("444455556666", profile, None, Decision::ImplicitDeny),
        // An explicit resource account is the resource's account.
        (
            "arn:aws:iam::111122223333:role/DataSci",
            profile,
            Some("444455556666"),
            Decision::ImplicitDeny,
        ),
    ];
    for (principal, resource, account, want) in cases {
        let req = Request {
            resource_account: account.map(String::from),
            ..Request::new("sagemaker:CreatePresignedDomainUrl", resource).principal(principal)
        };
        let what = format!("{principal} on {resource} ({account:?})");
        assert_eq!(set.explain(&req).decision, want, "{what}: explain");
        assert_eq!(set.decide(&req), want, "{what}: decide");
        same(&set, &req, &what);
    }
}
