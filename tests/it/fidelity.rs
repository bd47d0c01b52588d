//! The AWS rules of docs/SEMANTICS.md §1.6, §1.7, §1.12, §3.3, §3.6 and §4.1 through the public API: what IAM or
//! Organizations refuses when a policy is saved is an error in the library, in `batch` and in `lint`; the
//! builder's endpoint and resource-policy kinds; the decisions each rule changes. The corpus (corpus/cases)
//! holds one expected-decision case per rule as well.

use iamgate::api::case::{DecisionRecord, decide_case};
use iamgate::compile::{EndpointKind, ResourceKind};
use iamgate::validate::{PolicyKind, validate};
use iamgate::{Decision, Policy, PolicySet, Request};

const ROLE: &str = "arn:aws:iam::111122223333:role/DataSci";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/DataSci/alice";

fn statement(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#)
}

/// The code of the parse error of `text`, if it does not parse.
fn parse_error(text: &str) -> Option<&'static str> {
    Policy::parse(text)
        .err()
        .and_then(|e| e.diagnostics.first().map(|d| d.code))
}

/// What IAM refuses in any policy: the parser's errors, with IAM's answer in the message.
#[test]
fn grammar_refusals_are_parse_errors() {
    for (body, code, says) in [
        (
            r#"{"Effect":"Allow","Action":"*:CreatePresignedDomainUrl","Resource":"*"}"#,
            "invalid-action",
            "wildcard in its service prefix",
        ),
        (
            r#"{"Effect":"Allow","Action":"sagemaker:*:x","Resource":"*"}"#,
            "invalid-action",
            "more than one colon",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:","Resource":"*"}"#,
            "invalid-action",
            "empty action name",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:  ","Resource":"*"}"#,
            "invalid-action",
            "empty action name",
        ),
        (
            r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#,
            "empty-action",
            "Policy statement must contain actions",
        ),
        (
            r#"{"Effect":"Allow","NotAction":[],"Resource":"*"}"#,
            "empty-action",
            "must contain actions",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":[]}"#,
            "empty-resource",
            "must contain resources",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":""}"#,
            "empty-resource",
            "ARN format",
        ),
    ] {
        let text = statement(body);
        let e = Policy::parse(&text).expect_err(body);
        let d = &e.diagnostics[0];
        assert_eq!(d.code, code, "{body}");
        assert!(d.message.contains(says), "{body}: {}", d.message);
    }
    let empty = r#"{"Version":"2012-10-17","Statement":[]}"#;
    assert_eq!(parse_error(empty), Some("empty-statement"));
    // What IAM accepts still parses: `*`, a wildcard in the name, a variable left to `lint`.
    for ok in [
        "*",
        "s3:*",
        "s3:Get*Object",
        "sagemaker:Describe?serProfile",
    ] {
        let body = format!(r#"{{"Effect":"Allow","Action":"{ok}","Resource":"*"}}"#);
        assert_eq!(parse_error(&statement(&body)), None, "{ok}");
    }
}

/// What IAM or Organizations refuses for a kind of policy: a compile error from the builder, an error record
/// from `batch`, and the same code from `lint`.
#[test]
fn kind_refusals_are_errors_everywhere() {
    let allow_s3 = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "identity_policies",
            r#"{"Sid":"Enable Studio","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
            "invalid-sid",
            "alpha-numeric",
        ),
        (
            "identity_policies",
            r#"{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}"#,
            "duplicate-sid",
            "used twice",
        ),
        (
            "identity_policies",
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}"#,
            "value-never-matches",
            "not a date",
        ),
        (
            "identity_policies",
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:eu-west-1::bucket/*"}"#,
            "s3-arn-region",
            "can not contain region information",
        ),
        (
            "permissions_boundary",
            allow_s3,
            "boundary-version",
            "2012-10-17",
        ),
        (
            "rcps",
            r#"{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}"#,
            "rcp-notaction",
            "NotAction",
        ),
        (
            "rcps",
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#,
            "rcp-allow",
            "Allow",
        ),
        (
            "rcps",
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#,
            "rcp-version",
            "Version",
        ),
        (
            "resource_policy",
            r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}"#,
            "trust-policy-resource",
            "Has prohibited field Resource",
        ),
    ];
    for (field, body, code, says) in cases {
        // The boundary at 2008-10-17, the RCP without Version; the others at 2012-10-17.
        let text = match (field, code) {
            ("permissions_boundary", _) => {
                format!(r#"{{"Version":"2008-10-17","Statement":[{body}]}}"#)
            }
            (_, "rcp-version") => format!(r#"{{"Statement":[{body}]}}"#),
            _ => statement(body),
        };
        let policy = Policy::parse(&text).expect(body);
        let (kind, request) = match field {
            "resource_policy" => (
                PolicyKind::Trust,
                r#"{"principal":"arn:aws:iam::111122223333:role/DataSci","action":"sts:AssumeRole","resource":"arn:aws:iam::111122223333:role/Admin"}"#,
            ),
            _ => (
                match field {
                    "permissions_boundary" => PolicyKind::Boundary,
                    "rcps" => PolicyKind::Rcp,
                    _ => PolicyKind::Identity,
                },
                r#"{"principal":"arn:aws:iam::111122223333:role/DataSci","action":"s3:GetObject","resource":"arn:aws:s3:::bucket/k"}"#,
            ),
        };
        // lint: the code, as an error.
        let found = validate(&policy, kind);
        assert!(
            found.iter().any(|d| d.code == code && d.is_error()),
            "{code}: lint found {:?}",
            found.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        // The library: a compile error.
        let b = PolicySet::builder();
        let b = match field {
            "identity_policies" => b.identity(policy.clone()),
            "permissions_boundary" => b.boundary(policy.clone()),
            "rcps" => b.rcp_level([policy.clone()]),
            _ => b.trust_policy(policy.clone()),
        };
        let e = b.build().expect_err(code);
        assert_eq!(e.diagnostic.code, code);
        assert!(
            e.diagnostic.message.contains(says),
            "{code}: {}",
            e.diagnostic.message
        );
        assert!(e.diagnostic.help.is_some(), "{code}: says how to fix it");
        // batch: an error record that says what IAM answers.
        let value = match field {
            "rcps" => format!("[[{text}]]"),
            "identity_policies" => format!("[{text}]"),
            _ => text.clone(),
        };
        let line = format!(r#"{{"id":"x","{field}":{value},"request":{request}}}"#);
        match decide_case(&line, false) {
            DecisionRecord::Failed { error, .. } => {
                assert!(error.message.contains(says), "{code}: {}", error.message);
            }
            other => panic!("{code}: decided {other:?}"),
        }
    }
}

/// The same refusals do not touch what IAM accepts: a resource policy's Sid with spaces (S3 and KMS accept
/// them), an S3 access point ARN with its region, an identity policy without Version, the `RCPFullAWSAccess`
/// Allow. A boundary without Version is refused (a managed policy must name 2012-10-17).
#[test]
fn what_aws_accepts_still_builds() {
    let p = |t: &str| Policy::parse(t).unwrap();
    let bucket = p(&statement(
        r#"{"Sid":"Read access","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    ));
    let access_point = p(&statement(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/ap/object/*"}"#,
    ));
    let unversioned = p(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
    let e = PolicySet::builder()
        .boundary(unversioned.clone())
        .build()
        .unwrap_err();
    assert_eq!(e.diagnostic.code, "boundary-version");
    let boundary = p(&statement(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
    ));
    let full = p(&statement(
        r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}"#,
    ));
    PolicySet::builder()
        .resource(bucket)
        .identity(access_point)
        .identity(unversioned)
        .boundary(boundary)
        .rcp_level([full])
        .build()
        .unwrap();
}

/// §3.3: the set qualifier decides before `IfExists`, in `decide`, `decide_ref` and `explain`.
#[test]
fn foranyvalue_ifexists_on_an_absent_key_is_false() {
    let set = |op: &str| {
        let body = format!(
            r#"{{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*","Condition":{{"{op}":{{"aws:SourceVpce":["vpce-0api0000000000001"]}}}}}}"#
        );
        PolicySet::builder()
            .identity(Policy::parse(&statement(&body)).unwrap())
            .build()
            .unwrap()
    };
    let public = Request::new(
        "sagemaker:CreatePresignedDomainUrl",
        "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
    )
    .principal(ROLE)
    .context(
        iamgate::Context::new()
            .with("aws:SourceIp", "165.225.10.20")
            .unwrap(),
    );
    for (op, want) in [
        ("ForAnyValue:StringEqualsIfExists", Decision::ImplicitDeny),
        ("ForAllValues:StringEqualsIfExists", Decision::Allow),
        ("StringEqualsIfExists", Decision::Allow),
    ] {
        let s = set(op);
        assert_eq!(s.decide(&public), want, "{op}");
        let explained = s.explain(&public);
        assert_eq!(explained.decision, want, "{op}");
        let borrowed = iamgate::RequestRef {
            principal: Some(ROLE),
            action: "sagemaker:CreatePresignedDomainUrl",
            resource: "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
            context: &[("aws:SourceIp", iamgate::ValueRef::One("165.225.10.20"))],
            ..iamgate::RequestRef::default()
        };
        assert_eq!(s.decide_ref(&borrowed), Ok(want), "{op}");
    }
    let why = set("ForAnyValue:StringEqualsIfExists").explain(&public);
    let text = &why.statements[0].conditions[0].why();
    assert!(text.contains("`ForAnyValue` is false"), "{text}");
}

/// §1.6: an account principal in an interface endpoint's policy (the default) admits the account's roles; in a
/// gateway endpoint's only its root user.
#[test]
fn endpoint_kind_decides_how_an_account_principal_reads() {
    let identity = Policy::parse(&statement(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
    ))
    .unwrap();
    let endpoint = Policy::parse(&statement(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}"#,
    ))
    .unwrap();
    let req = Request::new("s3:GetObject", "arn:aws:s3:::bucket/k").principal(SESSION);
    let build = |kind: Option<EndpointKind>| {
        let mut b = PolicySet::builder()
            .identity(identity.clone())
            .endpoint(endpoint.clone());
        if let Some(k) = kind {
            b = b.endpoint_kind(k);
        }
        b.build().unwrap()
    };
    assert_eq!(build(None).endpoint_kind(), EndpointKind::Interface);
    assert_eq!(build(None).decide(&req), Decision::Allow);
    assert_eq!(
        build(Some(EndpointKind::Interface)).decide(&req),
        Decision::Allow
    );
    let gateway = build(Some(EndpointKind::Gateway));
    assert_eq!(gateway.decide(&req), Decision::ImplicitDeny);
    let root = Request::new("s3:GetObject", "arn:aws:s3:::bucket/k")
        .principal("arn:aws:iam::111122223333:root");
    assert_eq!(gateway.decide(&root), Decision::Allow);
    // A network's endpoints are interface endpoints.
    assert_eq!(
        gateway.with_endpoint(None).endpoint_kind(),
        EndpointKind::Interface
    );
}

/// §4.1: trust and key policies must themselves allow; an Allow for the account delegates to the identity
/// policies; the case reads the kind from its request.
#[test]
fn trust_and_key_policies_must_allow() {
    let trust = |who: &str| {
        Policy::parse(&statement(&format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{who}"}},"Action":"sts:AssumeRole"}}"#
        )))
        .unwrap()
    };
    let assume = Policy::parse(&statement(
        r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#,
    ))
    .unwrap();
    let req =
        Request::new("sts:AssumeRole", "arn:aws:iam::111122223333:role/Admin").principal(SESSION);
    let set = |t: Policy, identity: bool| {
        let mut b = PolicySet::builder().trust_policy(t);
        if identity {
            b = b.identity(assume.clone());
        }
        b.build().unwrap()
    };
    assert_eq!(set(trust(ROLE), false).resource_kind(), ResourceKind::Trust);
    assert_eq!(set(trust(ROLE), false).decide(&req), Decision::Allow);
    assert_eq!(
        set(trust("111122223333"), false).decide(&req),
        Decision::ImplicitDeny
    );
    assert_eq!(
        set(trust("111122223333"), true).decide(&req),
        Decision::Allow
    );
    let other = "arn:aws:iam::111122223333:role/Other";
    assert_eq!(set(trust(other), true).decide(&req), Decision::ImplicitDeny);
    // NotPrincipal has no place in a trust policy (docs/SEMANTICS.md §1.6).
    let not_principal = Policy::parse(&statement(
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}"#,
    ))
    .unwrap();
    let e = PolicySet::builder()
        .trust_policy(not_principal)
        .build()
        .unwrap_err();
    assert_eq!(e.diagnostic.code, "notprincipal-in-trust-policy");
    // As a plain resource policy (no `Resource`), the same document is refused.
    assert!(PolicySet::builder().resource(trust(ROLE)).build().is_err());
    assert_eq!(
        iamgate::api::case::resource_kind_of(&req),
        ResourceKind::Trust
    );
    let key =
        Request::new("kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k1").principal(SESSION);
    assert_eq!(
        iamgate::api::case::resource_kind_of(&key),
        ResourceKind::Key
    );
    // No key policy: the default key policy is assumed, and the record warns.
    let line = r#"{"identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}],
        "request":{"principal":"arn:aws:sts::111122223333:assumed-role/DataSci/alice","action":"kms:Decrypt","resource":"arn:aws:kms:eu-west-1:111122223333:key/k1"}}"#;
    match decide_case(line, false) {
        DecisionRecord::Decided {
            decision, warnings, ..
        } => {
            assert_eq!(decision, Decision::Allow);
            assert!(
                warnings.iter().any(|w| w.contains("default key policy")),
                "{warnings:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// §4.1: the RCP services are dated data; the five added since launch are governed.
#[test]
#[cfg(feature = "internals")]
fn rcps_govern_the_services_added_since_launch() {
    for action in [
        "dynamodb:GetItem",
        "ecr:BatchGetImage",
        "aoss:APIAccessAll",
        "cognito-idp:AdminGetUser",
        "logs:GetLogEvents",
        "s3:GetObject",
    ] {
        assert!(iamgate::internals::rcp_governs(action), "{action}");
    }
    assert!(!iamgate::internals::rcp_governs(
        "sagemaker:CreatePresignedDomainUrl"
    ));
    for (service, since) in iamgate::internals::RCP_SERVICES {
        assert!(
            since.len() == 7 && since.starts_with("202"),
            "{service}: {since}"
        );
    }
}

/// §1.6: a network file's endpoints are interface endpoints, so an account principal in their policies admits the
/// network's role, and the presigned URL is created and used through them.
#[test]
fn network_endpoints_read_an_account_principal_as_interface_endpoints() {
    use iamgate::network::{Network, presign};
    let account = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "111122223333"}, "Action": "*", "Resource": "*"}]});
    let other = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "444455556666"}, "Action": "*", "Resource": "*"}]});
    let network = |policy: &serde_json::Value| {
        serde_json::json!({"name": "n", "region": "eu-west-1", "account": "111122223333",
           "principal": ROLE, "domain_id": "d-abc123", "user_profile": "alice",
           "vpc": {"id": "vpc-0shared00000000001",
                   "endpoints": {"api": {"id": "vpce-0api0000000000001", "private_dns": true, "policy": policy},
                                 "studio": {"id": "vpce-0studio000000002", "private_dns": true, "policy": policy}},
                   "inbound_resolver": ["10.0.0.10"]},
           "client": {"ip": "10.20.1.5",
                      "dns_forwarding": ["api.sagemaker.eu-west-1.amazonaws.com", "*.studio.eu-west-1.sagemaker.aws"],
                      "private_route": {"kind": "direct-connect", "source_ip": "10.20.1.5"},
                      "egress": {"kind": "direct", "ips": ["203.0.113.7"]}},
           "create": {"via": "client"}})
        .to_string()
    };
    let set = PolicySet::builder()
        .identity(
            Policy::parse(&statement(
                r#"{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}"#,
            ))
            .unwrap(),
        )
        .build()
        .unwrap();
    let works = presign(&set, &Network::parse(&network(&account), None).unwrap());
    assert_eq!(works.verdict.name(), "works");
    let denied = presign(&set, &Network::parse(&network(&other), None).unwrap());
    assert_ne!(denied.verdict.name(), "works");
}

/// The CLI: `lint --kind rcp|boundary|trust|key` reports the refusals with their codes and exits 1; a trust policy
/// without `Resource` is clean under `--kind trust`; `batch` answers a refused policy with an error record.
#[cfg(feature = "cli")]
#[test]
fn cli_lint_and_batch_report_refusals() {
    let dir = std::env::temp_dir().join(format!("iamgate-fidelity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str], stdin: &str| {
        let (code, out, _) = crate::cli::iamgate(args, stdin);
        (code, out)
    };
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let rcp = file(
        "rcp.json",
        &statement(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#),
    );
    let (code, out) = run(&["lint", "--json", "--kind", "rcp", &rcp], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#""code":"rcp-allow""#), "{out}");
    let trust = file(
        "trust.json",
        &statement(
            r#"{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        ),
    );
    let (code, out) = run(&["lint", "--json", "--kind", "trust", &trust], "");
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&["lint", "--json", "--kind", "key", &trust], "");
    assert_eq!(code, 1, "a key policy needs Resource: {out}");
    assert!(out.contains(r#""code":"missing-resource""#), "{out}");
    let line = r#"{"id":"b","permissions_boundary":{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]},"request":{"principal":"arn:aws:iam::111122223333:role/DataSci","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}"#;
    let (code, out) = run(&["batch"], &format!("{line}\n"));
    assert_eq!(code, 1, "{out}");
    let record: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(record["id"], "b");
    assert!(
        record["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2012-10-17")),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
