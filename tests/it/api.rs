//! The library as an embedder uses it.

use iamgate::{Context, Decision, Policy, PolicySet, Reason, Request};

const STUDIO: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"AllowStudioViaEndpoints","Effect":"Allow",
  "Action":["sagemaker:CreatePresignedDomainUrl","sagemaker:DescribeUserProfile"],
  "Resource":"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/*",
  "Condition":{"StringEquals":{"aws:SourceVpce":["vpce-0api0000000000001","vpce-0studio000000002"]}}},
 {"Sid":"DenyOutsideCorp","Effect":"Deny","Action":"*","Resource":"*",
  "Condition":{"NotIpAddressIfExists":{"aws:SourceIp":["198.51.100.0/24"]},
               "StringNotEqualsIfExists":{"aws:SourceVpc":["vpc-0shared00000000001"]},
               "BoolIfExists":{"aws:ViaAWSService":"false"}}}]}"#;

fn studio_request(ctx: Context) -> Request {
    Request::new(
        "sagemaker:CreatePresignedDomainUrl",
        "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
    )
    .principal("arn:aws:iam::111122223333:role/DataSci")
    .context(ctx)
}

#[test]
fn semantics_6_7_rows() {
    let set = PolicySet::builder()
        .identity(Policy::parse(STUDIO).unwrap())
        .build()
        .unwrap();
    let zscaler = Context::new()
        .with("aws:SourceIp", "165.225.1.2")
        .unwrap()
        .with("aws:ViaAWSService", false)
        .unwrap();
    assert_eq!(
        set.decide(&studio_request(zscaler.clone())),
        Decision::ExplicitDeny
    );
    let api = Context::new()
        .with("aws:SourceVpce", "vpce-0api0000000000001")
        .unwrap()
        .with("aws:SourceVpc", "vpc-0shared00000000001")
        .unwrap()
        .with("aws:VpcSourceIp", "10.20.1.5")
        .unwrap()
        .with("aws:ViaAWSService", false)
        .unwrap();
    assert_eq!(set.decide(&studio_request(api)), Decision::Allow);
    let studio = Context::new()
        .with("aws:SourceVpce", "vpce-0studio000000002")
        .unwrap()
        .with("aws:SourceVpc", "vpc-0shared00000000001")
        .unwrap();
    assert_eq!(set.decide(&studio_request(studio)), Decision::Allow);

    let ex = set.explain(&studio_request(zscaler));
    assert_eq!(ex.decision, Decision::ExplicitDeny);
    // The deciding statement's span is its object in the policy's text: from `{"Sid":"DenyOutsideCorp"` to the
    // `}` before the closing `]`.
    let start = STUDIO.find(r#"{"Sid":"DenyOutsideCorp""#).unwrap();
    let end = STUDIO.rfind(']').unwrap();
    assert_eq!(
        ex.reasons,
        vec![Reason::Statement {
            policy: iamgate::PolicyRef::Identity(0),
            sid: Some("DenyOutsideCorp".into()),
            statement: 1,
            effect: iamgate::policy::Effect::Deny,
            span: iamgate::Span::new(start, end),
        }]
    );
    let deny = ex.statements.iter().find(|s| s.statement == 1).unwrap();
    assert!(deny.applies);
    let vpc = deny
        .conditions
        .iter()
        .find(|c| c.key == "aws:sourcevpc")
        .unwrap();
    assert!(vpc.held);
    assert_eq!(vpc.why(), "key absent: `IfExists` makes the condition true");
}

#[test]
fn policy_errors_name_the_place() {
    let text = "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\",\n   \"Resource\": \"*\", \"Condition\": {\"StringEqualz\": {\"a\": \"b\"}}}]}";
    let e = Policy::parse(text).unwrap_err();
    assert_eq!(e.line_col(), (3, 35));
    assert_eq!(
        e.diagnostics[0].message,
        "unknown condition operator `StringEqualz`"
    );
    let rendered = e.render("p.json");
    assert!(rendered.contains("p.json:3:35"), "{rendered}");
    assert!(rendered.contains("^^^^^^^^^^^^^^"), "{rendered}");
}

#[test]
fn principal_rules_per_policy_type() {
    let with_principal = Policy::parse(
        r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
    )
    .unwrap();
    let err = PolicySet::builder()
        .identity(with_principal.clone())
        .build()
        .unwrap_err();
    assert_eq!(err.diagnostic.code, "principal-not-allowed");
    assert!(
        PolicySet::builder()
            .resource(with_principal)
            .build()
            .is_ok()
    );
    let without =
        Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#)
            .unwrap();
    let err = PolicySet::builder().endpoint(without).build().unwrap_err();
    assert_eq!(err.diagnostic.code, "missing-principal");
}

#[test]
fn policy_set_is_send_sync_and_shared() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<PolicySet>();
    let set = PolicySet::builder()
        .identity(Policy::parse(STUDIO).unwrap())
        .build()
        .unwrap();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let s = set.clone();
            std::thread::spawn(move || s.decide(&studio_request(Context::new())))
        })
        .collect();
    for h in handles {
        // No SourceIp, no SourceVpc, no ViaAWSService: the Deny's IfExists conditions all hold.
        assert_eq!(h.join().unwrap(), Decision::ExplicitDeny);
    }
}

#[test]
fn malformed_context_values_are_errors() {
    let e = Context::new()
        .with("aws:SourceIp", "10.0.0.0/8")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "context key `aws:SourceIp`: `10.0.0.0/8` is not a single IP address (a request comes from one address, not a range)"
    );
    assert!(Context::new().with("aws:ViaAWSService", "yes").is_err());
    assert!(Context::new().with("aws:CurrentTime", "noon").is_err());
}

#[test]
fn decisions_say_when_they_rest_on_an_unsettled_rule() {
    let line = r#"{"id":"u","identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
      "Condition":{"StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}}]}],
      "request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","context":{"aws:CalledVia":["athena.amazonaws.com","glue.amazonaws.com"]}}}"#;
    let rec = serde_json::to_value(iamgate::api::case::decide_case(line, false)).unwrap();
    assert_eq!(rec["decision"], "Allow");
    // What `lint` says of the policy comes first, then what the decision rests on.
    assert_eq!(
        rec["warnings"][0],
        "$.identity_policies[0]: lint warning[missing-qualifier]: `aws:CalledVia` is multivalued but `StringEquals` has no `ForAnyValue:` or `ForAllValues:` (line 2, column 20)"
    );
    assert_eq!(
        rec["warnings"][1],
        "identity[0] statement 0: `StringEquals` on `aws:calledvia`: a list of values for a key used without `ForAnyValue:`/`ForAllValues:` matches when any value matches (docs/SEMANTICS.md §9 row 17)"
    );
    // A settled rule gives no warning.
    let plain = line.replace("StringEquals", "ForAnyValue:StringEquals");
    let rec = serde_json::to_value(iamgate::api::case::decide_case(&plain, false)).unwrap();
    assert_eq!(rec["warnings"], serde_json::json!([]));
}

/// `iamgate::ffi` is `iamgate::api::case` under its old name, kept (deprecated) for one release.
#[test]
#[allow(deprecated)]
fn the_old_ffi_path_is_the_case_boundary() {
    let line = r#"{"request":{"action":"s3:GetObject","resource":"*"}}"#;
    assert_eq!(
        iamgate::ffi::decide_case(line, false),
        iamgate::api::case::decide_case(line, false)
    );
    let _: fn(&str, bool) -> iamgate::ffi::DecisionRecord = iamgate::ffi::case::decide_case;
}
