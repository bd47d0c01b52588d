//! The lint checks, one test per finding, each asserting the message, the help and the place.

use super::*;
use crate::diagnostic::Severity;
use keys::{edit_distance, edit_distance_within, suggest_key};

fn lint(kind: PolicyKind, text: &str) -> (Policy, Vec<Diagnostic>) {
    let p = Policy::parse(text).unwrap_or_else(|e| panic!("{}", e.render("test.json")));
    let d = validate(&p, kind);
    (p, d)
}

/// The only diagnostic with `code`, with its line and column.
fn one(kind: PolicyKind, text: &str, code: &str) -> (Diagnostic, (usize, usize)) {
    let (p, ds) = lint(kind, text);
    let found: Vec<_> = ds.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one `{code}` in {ds:#?}");
    let d = found[0].clone();
    let at = d.span.line_col(p.source());
    (d, at)
}

fn codes(kind: PolicyKind, text: &str) -> Vec<&'static str> {
    lint(kind, text).1.iter().map(|d| d.code).collect()
}

const ID: PolicyKind = PolicyKind::Identity;

/// §6.7: the well-written Studio policy.
const STUDIO: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"AllowStudioViaEndpoints","Effect":"Allow",
  "Action":["sagemaker:CreatePresignedDomainUrl","sagemaker:DescribeUserProfile"],
  "Resource":"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/*",
  "Condition":{"StringEquals":{"aws:SourceVpce":["vpce-0api0000000000001","vpce-0studio000000002"]}}},
 {"Sid":"DenyOutsideCorp","Effect":"Deny","Action":"*","Resource":"*",
  "Condition":{"NotIpAddressIfExists":{"aws:SourceIp":["198.51.100.0/24"]},
           "StringNotEqualsIfExists":{"aws:SourceVpc":["vpc-0shared00000000001"]},
           "BoolIfExists":{"aws:ViaAWSService":"false"}}}]}"#;

#[test]
fn the_worked_studio_policy_is_clean() {
    let (p, ds) = lint(ID, STUDIO);
    let rendered: Vec<_> = ds
        .iter()
        .map(|d| d.render(p.source(), "studio.json"))
        .collect();
    assert!(ds.is_empty(), "{}", rendered.join("\n"));
    assert!(ds.iter().all(|d| d.severity != Severity::Error));
}

#[test]
fn missing_version() {
    let (d, at) = one(
        ID,
        "\n{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
        "missing-version",
    );
    assert_eq!(d.message, "the policy has no `Version`");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(at, (2, 1));
    assert!(d.help.unwrap().contains("2012-10-17"));
}

#[test]
fn variables_are_literal_without_version_2012() {
    let text = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
"Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#;
    let (d, at) = one(ID, text, "variable-without-version");
    assert_eq!(
        d.message,
        "policy variable `${aws:username}` is literal text because `Version` is `2008-10-17`"
    );
    assert_eq!(at, (2, 12));
    assert_eq!(d.related.len(), 1);
    let text = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
"Condition":{"StringEquals":{"s3:prefix":"home/${aws:username}"}}}}"#;
    let (d, at) = one(ID, text, "variable-without-version");
    assert_eq!(
        d.message,
        "policy variable `${aws:username}` is literal text because the policy has no `Version`"
    );
    assert_eq!(at, (2, 42));
}

#[test]
fn id_in_identity_policy() {
    let text = r#"{"Version":"2012-10-17","Id":"sagemaker-studio-example-1",
"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let (d, at) = one(ID, text, "id-in-identity-policy");
    assert_eq!(d.message, "`Id` does not belong in identity-based policies");
    assert_eq!(at, (1, 30));
    assert!(!codes(PolicyKind::Resource, text).contains(&"id-in-identity-policy"));
}

const SID_SPACES: &str = r#"{"Version":"2012-10-17","Statement":[
{"Sid":"Enable SageMaker Studio Access","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

#[test]
fn sid_with_spaces_is_an_error_in_iam_policies() {
    let (d, at) = one(ID, SID_SPACES, "invalid-sid");
    assert_eq!(
        d.message,
        "statement ids (SID) must be alphanumeric, found `Enable SageMaker Studio Access`"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 8));
    let help = d.help.unwrap();
    assert!(help.contains("`EnableSageMakerStudioAccess`"), "{help}");
    assert!(help.contains("SageMaker example"), "{help}");
}

#[test]
fn sid_with_spaces_is_a_warning_elsewhere() {
    let text = SID_SPACES.replace("\"Effect\"", "\"Principal\":\"*\",\"Effect\"");
    let (d, at) = one(PolicyKind::Resource, &text, "invalid-sid");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(at, (2, 8));
}

#[test]
fn duplicate_sid_points_at_both() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},
{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
    let (p, _) = lint(ID, text);
    let (d, at) = one(ID, text, "duplicate-sid");
    assert_eq!(d.message, "statement id `A` is used twice");
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (3, 8));
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.related[0].0.line_col(p.source()), (2, 8));
}

#[test]
fn empty_sid() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let (d, at) = one(ID, text, "empty-sid");
    assert_eq!(d.message, "the statement id is empty");
    assert_eq!(at, (2, 8));
}

#[test]
fn characters_outside_latin1() {
    let text = "{\"Version\":\"2012-10-17\",\"Statement\":[\n{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::a\u{2013}b\"}]}";
    let (d, at) = one(ID, text, "invalid-character");
    assert_eq!(
        d.message,
        "character `\u{2013}` (U+2013) is not allowed in a policy document"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 61));
    // Latin-1 is fine.
    let ok = text.replace('\u{2013}', "\u{e9}");
    assert!(!codes(ID, &ok).contains(&"invalid-character"));
}

fn padded(kind_principal: bool, pad: usize) -> String {
    let principal = if kind_principal {
        "\"Principal\":\"*\","
    } else {
        ""
    };
    format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{{principal}\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":[{}]}}]}}",
        vec!["\"arn:aws:s3:::bucket-name-0000/*\""; pad].join(",\n  ")
    )
}

#[test]
fn size_limits_per_kind() {
    // Identity: 6,144 characters without whitespace, a warning.
    let text = padded(false, 200);
    let (d, at) = one(ID, &text, "policy-too-large");
    assert_eq!(d.severity, Severity::Warning);
    assert!(
        d.message.starts_with(
            "the policy has 6886 characters not counting whitespace, more than the 6144"
        ),
        "{}",
        d.message
    );
    assert_eq!(at, (1, 1));
    // SCP: 5,120 characters with whitespace, an error.
    let text = padded(false, 150);
    let (d, _) = one(PolicyKind::Scp, &text, "policy-too-large");
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(
        d.message,
        "the policy has 5633 characters, more than the 5120 allowed in service control policies"
    );
    assert!(!codes(ID, &text).contains(&"policy-too-large"));
    // Endpoint: 20,480.
    let text = padded(true, 600);
    let (d, _) = one(PolicyKind::Endpoint, &text, "policy-too-large");
    assert_eq!(d.severity, Severity::Error);
}

fn cond(effect: &str, condition: &str) -> String {
    format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"{effect}\",\"Action\":\"sagemaker:CreatePresignedDomainUrl\",\"Resource\":\"*\",\n\"Condition\":{condition}}}]}}"
    )
}

#[test]
fn numeric_value_that_is_not_a_number() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"NumericLessThan":{"aws:MultiFactorAuthAge":"one hour"}}"#,
        ),
        "value-never-matches",
    );
    assert_eq!(
        d.message,
        "`one hour` is not a number, so it never matches under `NumericLessThan`"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 58));
    assert!(d.help.is_some());
}

#[test]
fn date_value_that_is_not_a_date() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"DateLessThan":{"aws:CurrentTime":"2025-02-30"}}"#,
        ),
        "value-never-matches",
    );
    assert_eq!(
        d.message,
        "`2025-02-30` is not a date, so it never matches under `DateLessThan`"
    );
    assert_eq!(at, (2, 48));
}

#[test]
fn ip_value_that_is_not_a_cidr() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}"#,
        ),
        "value-never-matches",
    );
    assert_eq!(
        d.message,
        "`203.0.113.0/33` is not an IP address or CIDR block, so it never matches under `IpAddress`"
    );
    assert_eq!(at, (2, 42));
}

#[test]
fn ip_value_with_host_bits() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.7/24"}}"#,
        ),
        "improve-ip-range",
    );
    assert_eq!(
        d.message,
        "`203.0.113.7/24` has host bits set; it means `203.0.113.0/24`"
    );
    assert_eq!(d.help.as_deref(), Some("write `203.0.113.0/24`"));
    assert_eq!(at, (2, 42));
}

/// Host bits are the bits after the prefix of the address as written: none in a network address, a bare address
/// or a /0 of `0.0.0.0`; some in an IPv6 block written from an address inside it.
#[test]
fn ip_values_with_and_without_host_bits() {
    let host_bits = |value: &str| {
        let text = cond(
            "Allow",
            &format!(r#"{{"IpAddress":{{"aws:SourceIp":"{value}"}}}}"#),
        );
        codes(ID, &text).contains(&"improve-ip-range")
    };
    for clean in [
        "203.0.113.0/24",
        "203.0.113.7",
        "203.0.113.7/32",
        "0.0.0.0/0",
        "2001:db8::/32",
    ] {
        assert!(!host_bits(clean), "{clean}");
    }
    for set in [
        "203.0.113.7/24",
        "10.0.0.1/8",
        "2001:db8::1/32",
        "2001:db8::1/127",
    ] {
        assert!(host_bits(set), "{set}");
    }
    let (d, _) = one(
        ID,
        &cond(
            "Allow",
            r#"{"IpAddress":{"aws:SourceIp":"2001:db8::1/32"}}"#,
        ),
        "improve-ip-range",
    );
    assert_eq!(
        d.message,
        "`2001:db8::1/32` has host bits set; it means `2001:db8::/32`"
    );
}

#[test]
fn ipv4_mapped_ipv6_value() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"IpAddress":{"aws:SourceIp":"::ffff:203.0.113.7"}}"#,
        ),
        "ipv4-mapped-ipv6",
    );
    assert_eq!(
        d.message,
        "`::ffff:203.0.113.7` is an IPv4-mapped IPv6 address"
    );
    assert_eq!(at, (2, 42));
}

#[test]
fn binary_value_that_is_not_base64() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"BinaryEquals":{"s3:x":"not base64!"}}"#),
        "value-never-matches",
    );
    assert_eq!(
        d.message,
        "`not base64!` is not base-64, so it never matches under `BinaryEquals`"
    );
    assert_eq!(at, (2, 37));
}

#[test]
fn bool_values() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"Bool":{"aws:SecureTransport":"yes"}}"#),
        "value-never-matches",
    );
    assert_eq!(
        d.message,
        "`yes` is not `true` or `false`, so it never matches under `Bool`"
    );
    assert_eq!(at, (2, 44));
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"Bool":{"aws:SecureTransport":["true","false"]}}"#,
        ),
        "multiple-bool-values",
    );
    assert_eq!(
        d.message,
        "`aws:SecureTransport` has several values under `Bool`"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 44));
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"Bool":{"aws:SecureTransport":"True"}}"#),
        "bool-value-case",
    );
    assert_eq!(d.message, "`True` is not written in lowercase");
    assert_eq!(at, (2, 44));
}

#[test]
fn null_value_that_is_not_a_bool() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"Null":{"aws:TokenIssueTime":"absent"}}"#),
        "value-never-matches",
    );
    assert_eq!(
        d.message,
        "`absent` is not `true` or `false`, so it never matches under `Null`"
    );
    assert_eq!(at, (2, 43));
    assert!(d.help.unwrap().contains("absent"));
}

#[test]
fn mixed_value_types() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"NumericEquals":{"s3:max-keys":[10,"20"]}}"#),
        "mixed-value-types",
    );
    assert_eq!(
        d.message,
        "the values of `s3:max-keys` mix a number and a string"
    );
    assert_eq!(at, (2, 45));
}

#[test]
fn empty_value_lists() {
    let cases = [
        (
            r#"{"StringEquals":{"aws:SourceVpce":[]}}"#,
            "`aws:SourceVpce` has no values, so `StringEquals` never holds",
        ),
        (
            r#"{"StringNotEquals":{"aws:SourceVpce":[]}}"#,
            "`aws:SourceVpce` has no values, so `StringNotEquals` always holds",
        ),
        (
            r#"{"StringEqualsIfExists":{"aws:SourceVpce":[]}}"#,
            "`aws:SourceVpce` has no values, so `StringEqualsIfExists` holds only when the key is absent",
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":[]}}"#,
            "`aws:TagKeys` has no values, so `ForAllValues:StringEquals` holds only when the key is absent or empty",
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":[]}}"#,
            "`aws:TagKeys` has no values, so `ForAnyValue:StringEquals` never holds",
        ),
    ];
    for (c, message) in cases {
        let (d, at) = one(ID, &cond("Allow", c), "empty-condition-values");
        assert_eq!(d.message, message);
        assert_eq!(at.0, 2);
    }
    let (_, at) = one(
        ID,
        &cond("Allow", r#"{"StringEquals":{"aws:SourceVpce":[]}}"#),
        "empty-condition-values",
    );
    assert_eq!(at, (2, 47));
}

#[test]
fn variables_in_operators_that_do_not_expand_them() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"NumericLessThan":{"s3:max-keys":"${aws:PrincipalTag/max}"}}"#,
        ),
        "variable-not-supported",
    );
    assert_eq!(
        d.message,
        "`NumericLessThan` does not expand policy variables, so `${aws:PrincipalTag/max}` is literal text"
    );
    assert_eq!(at, (2, 47));
}

#[test]
fn variables_in_action_and_principal_are_errors() {
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"${aws:userid}"},
"Action":"s3:${aws:username}","Resource":"*"}}"#;
    let (d, at) = one(PolicyKind::Resource, text, "variable-in-action");
    assert_eq!(
        d.message,
        "policy variables are not allowed in `Action`, found `s3:${aws:username}`"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 10));
    let (d, at) = one(PolicyKind::Resource, text, "variable-in-principal");
    assert_eq!(
        d.message,
        "policy variables are not allowed in `Principal`, found `${aws:userid}`"
    );
    assert_eq!(at, (1, 74));
}

#[test]
fn variables_in_arn_fields_other_than_the_resource() {
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
"Resource":"arn:aws:s3:${aws:RequestedRegion}::bucket"}}"#;
    let (d, at) = one(ID, text, "variable-in-arn-field");
    assert_eq!(
        d.message,
        "policy variable in the region field of `arn:aws:s3:${aws:RequestedRegion}::bucket`"
    );
    assert_eq!(at, (2, 12));
}

#[test]
fn malformed_variables() {
    let cases = [
        (
            "home/${aws:username",
            "policy variable `${aws:username` has no closing `}`",
        ),
        (
            "home/${ aws:username}",
            "spaces are not supported in policy variable `${ aws:username}`",
        ),
        ("home/${}", "empty policy variable `${}`"),
        (
            "home/${aws:PrincipalTag/team, none}",
            "the default value in policy variable `${aws:PrincipalTag/team, none}` is not quoted",
        ),
        (
            "home/${aws:PrincipalTag/team,'none'}",
            "policy variable `${aws:PrincipalTag/team,'none'}` is not spelled `${key, 'default'}`",
        ),
    ];
    for (value, message) in cases {
        let c = format!(r#"{{"StringLike":{{"s3:prefix":"{value}"}}}}"#);
        let (d, at) = one(ID, &cond("Allow", &c), "malformed-variable");
        assert_eq!(d.message, message);
        assert_eq!(at, (2, 40));
    }
    // Escapes and well-formed defaults are fine.
    let c = r#"{"StringLike":{"s3:prefix":"a${*}b${?}${$}/${aws:PrincipalTag/team, 'none'}"}}"#;
    assert!(!codes(ID, &cond("Allow", c)).contains(&"malformed-variable"));
}

#[test]
fn variables_with_multivalued_keys() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"StringEquals":{"s3:prefix":"${aws:CalledVia}"}}"#,
        ),
        "variable-multivalued-key",
    );
    assert_eq!(
        d.message,
        "`aws:CalledVia` is multivalued and cannot be used as a policy variable"
    );
    assert_eq!(at, (2, 42));
}

#[test]
fn variable_in_bool() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/tls}"}}"#,
        ),
        "variable-in-bool",
    );
    assert_eq!(
        d.message,
        "`Bool` may not expand policy variables, found `${aws:PrincipalTag/tls}`"
    );
    assert_eq!(at, (2, 44));
}

#[test]
fn wildcard_without_like() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"StringEquals":{"aws:SourceVpce":"vpce-*"}}"#),
        "wildcard-without-like",
    );
    assert_eq!(
        d.message,
        "`vpce-*` contains a wildcard but `StringEquals` compares it literally"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("use `StringLike` to match a pattern, or write the exact value")
    );
    assert_eq!(at, (2, 47));
    assert!(
        !codes(
            ID,
            &cond("Allow", r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#)
        )
        .contains(&"wildcard-without-like")
    );
}

#[test]
fn endpoint_policies_reject_wildcards_on_identifier_keys() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
"Condition":{"StringLike":{"aws:PrincipalAccount":"1111*"}}}]}"#;
    let (d, at) = one(PolicyKind::Endpoint, text, "endpoint-wildcard-id-key");
    assert_eq!(
        d.message,
        "VPC endpoint policies do not allow wildcards in values of `aws:PrincipalAccount`"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 51));
    assert!(!codes(ID, text).contains(&"endpoint-wildcard-id-key"));
}

#[test]
fn unknown_global_key_with_suggestion() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"StringEquals":{"aws:SourceVpcID":"vpc-0abc"}}"#,
        ),
        "unknown-global-key",
    );
    assert_eq!(
        d.message,
        "`aws:SourceVpcID` is not a global condition key, so it is never in the request"
    );
    assert_eq!(at, (2, 30));
    let help = d.help.unwrap();
    assert!(help.starts_with("did you mean `aws:SourceVpc`?"), "{help}");
    assert!(help.contains("`StringEquals` never holds"), "{help}");
    let (d, _) = one(
        ID,
        &cond(
            "Deny",
            r#"{"StringNotEquals":{"aws:SourceEndpoint":"vpce-1"}}"#,
        ),
        "unknown-global-key",
    );
    let help = d.help.unwrap();
    assert!(help.starts_with("did you mean `aws:SourceVpce`?"), "{help}");
    assert!(help.contains("`StringNotEquals` always holds"), "{help}");
    // Case does not matter, tag keys are keys.
    let c = r#"{"StringEquals":{"AWS:SOURCEVPCE":"vpce-1","aws:PrincipalTag/team":"a"}}"#;
    assert!(!codes(ID, &cond("Allow", c)).contains(&"unknown-global-key"));
    let (d, _) = one(
        ID,
        &cond("Allow", r#"{"StringEquals":{"aws:PrincpalTag/team":"a"}}"#),
        "unknown-global-key",
    );
    assert!(
        d.help
            .unwrap()
            .starts_with("did you mean `aws:PrincipalTag/team`?")
    );
}

#[test]
fn unknown_keys_in_variables_and_qualified_operators() {
    let c = r#"{"StringLike":{"s3:prefix":"home/${aws:user}/*"}}"#;
    let (d, at) = one(ID, &cond("Allow", c), "unknown-global-key");
    assert_eq!(
        d.message,
        "`aws:user` is not a global condition key, so `${aws:user}` never has a value"
    );
    assert_eq!(at, (2, 40));
    let c = r#"{"ForAllValues:StringEquals":{"aws:TagKey":["a"]}}"#;
    let (d, _) = one(ID, &cond("Allow", c), "unknown-global-key");
    let help = d.help.unwrap_or_default();
    assert!(help.starts_with("did you mean `aws:TagKeys`?"), "{help}");
    assert!(
        help.ends_with("`ForAllValues:StringEquals` always holds"),
        "{help}"
    );
}

#[test]
fn endpoint_policies_reject_numeric_operators_on_identifier_keys() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*",
"Condition":{"NumericEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}}]}"#;
    let (d, at) = one(PolicyKind::Endpoint, text, "endpoint-numeric-id-key");
    assert_eq!(
        d.message,
        "VPC endpoint policies do not allow `NumericEquals` on `aws:PrincipalAccount`"
    );
    assert_eq!(at, (2, 14));
}

#[test]
fn keys_sagemaker_does_not_populate() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"ArnEquals":{"aws:SourceVpcArn":"arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1"}}"#,
        ),
        "key-absent-for-sagemaker",
    );
    assert_eq!(
        d.message,
        "SageMaker does not populate `aws:SourceVpcArn`, so it is never in a SageMaker request"
    );
    assert_eq!(at, (2, 27));
    let s3 = cond(
        "Allow",
        r#"{"ArnEquals":{"aws:SourceVpcArn":"arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1"}}"#,
    )
    .replace("sagemaker:CreatePresignedDomainUrl", "s3:GetObject");
    assert!(!codes(ID, &s3).contains(&"key-absent-for-sagemaker"));
}

#[test]
fn forallvalues_on_single_valued_key_in_allow() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"ForAllValues:StringEquals":{"aws:SourceVpce":"vpce-1"}}"#,
        ),
        // A network key: trap §7.7, under the code `presign` gives it (crate::traps).
        "forallvalues-network-key",
    );
    assert_eq!(
        d.message,
        "`ForAllValues:StringEquals` on single-valued `aws:SourceVpce` is overly permissive: true when the key is absent"
    );
    assert_eq!(at, (2, 14));
    let (d, _) = one(
        ID,
        &cond(
            "Allow",
            r#"{"ForAllValues:StringEquals":{"aws:username":"alice"}}"#,
        ),
        "forallvalues-single-valued-key",
    );
    assert!(d.message.contains("`aws:username`"));
    let (d, _) = one(
        ID,
        &cond(
            "Allow",
            r#"{"ForAnyValue:StringEquals":{"aws:SourceVpce":"vpce-1"}}"#,
        ),
        "qualifier-on-single-valued-key",
    );
    assert_eq!(
        d.message,
        "set qualifier `ForAnyValue:` on single-valued `aws:SourceVpce`"
    );
}

#[test]
fn multivalued_key_without_qualifier() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}"#,
        ),
        "missing-qualifier",
    );
    assert_eq!(
        d.message,
        "`aws:CalledVia` is multivalued but `StringEquals` has no `ForAnyValue:` or `ForAllValues:`"
    );
    assert_eq!(at, (2, 14));
    assert!(
        d.help
            .unwrap()
            .contains("iamgate treats it as `ForAnyValue:`")
    );
}

#[test]
fn null_with_qualifier() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"ForAnyValue:Null":{"aws:TagKeys":"false"}}"#),
        "null-with-qualifier",
    );
    assert_eq!(
        d.message,
        "`ForAnyValue:Null` combines `Null` with a set qualifier"
    );
    assert_eq!(at, (2, 14));
}

#[test]
fn if_exists_on_network_keys_in_allow() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}"#,
        ),
        "ifexists-widening",
    );
    assert_eq!(
        d.message,
        "`StringEqualsIfExists` on `aws:SourceVpce` widens access: the statement also allows requests without the key"
    );
    assert_eq!(at, (2, 14));
    assert!(d.help.unwrap().contains("public endpoint"));
    // The "IP range or VPC" idiom checks each path with the key it carries.
    let both = r#"{"IpAddressIfExists":{"aws:SourceIp":"203.0.113.0/24"},"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#;
    assert!(!codes(ID, &cond("Allow", both)).contains(&"ifexists-widening"));
    assert!(
        !codes(
            ID,
            &cond(
                "Deny",
                r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}"#
            )
        )
        .contains(&"ifexists-widening")
    );
}

#[test]
fn deny_not_ip_address_locks_out_endpoint_traffic() {
    // §7.1: AWS's own deny-by-IP example.
    let c = r#"{"NotIpAddress":{"aws:SourceIp":["198.51.100.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}"#;
    let (d, at) = one(ID, &cond("Deny", c), "not-ip-lockout");
    assert_eq!(
        d.message,
        "this Deny denies every request through a VPC endpoint: `aws:SourceIp` is absent there, so `NotIpAddress` is true"
    );
    assert_eq!(at, (2, 14));
    let c = r#"{"NotIpAddressIfExists":{"aws:SourceIp":["198.51.100.0/24"]}}"#;
    assert!(codes(ID, &cond("Deny", c)).contains(&"not-ip-lockout"));
    let c = r#"{"NotIpAddressIfExists":{"aws:SourceIp":["198.51.100.0/24"]},"StringNotEqualsIfExists":{"aws:SourceVpc":"vpc-1"},"BoolIfExists":{"aws:ViaAWSService":"false"}}"#;
    assert!(
        codes(ID, &cond("Deny", c)).is_empty(),
        "{:?}",
        codes(ID, &cond("Deny", c))
    );
}

#[test]
fn deny_string_not_equals_on_vpc_keys() {
    let c = r#"{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}"#;
    let (d, at) = one(ID, &cond("Deny", c), "console-broken");
    assert_eq!(
        d.message,
        "this Deny blocks every request that does not come through a listed VPC endpoint, \
         the console and public-endpoint calls included"
    );
    assert_eq!(at, (2, 14));
    let (d, at) = one(ID, &cond("Deny", c), "deny-blocks-fas");
    assert_eq!(
        d.message,
        "this Deny also blocks calls AWS services make on the principal's behalf (forward access sessions)"
    );
    assert_eq!(at, (2, 14));
    assert!(d.help.unwrap().contains("aws:ViaAWSService"));
}

#[test]
fn private_addresses_in_source_ip() {
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.1.0/24"]}}"#,
        ),
        "private-source-ip",
    );
    assert_eq!(d.message, "`aws:SourceIp` never holds a private address");
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 42));
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","100.64.0.0/16"]}}"#,
        ),
        "private-source-ip",
    );
    assert_eq!(
        d.message,
        "`100.64.0.0/16` is a private range, which `aws:SourceIp` never holds"
    );
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(at, (2, 60));
    // aws:VpcSourceIp takes private addresses.
    let c = r#"{"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"},"StringEquals":{"aws:SourceVpc":"vpc-1"}}"#;
    assert!(codes(ID, &cond("Allow", c)).is_empty());
}

#[test]
fn vpc_source_ip_without_vpc() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}"#),
        "vpc-source-ip-without-vpc",
    );
    assert_eq!(
        d.message,
        "`aws:VpcSourceIp` is used without `aws:SourceVpc` or `aws:SourceVpce`"
    );
    assert_eq!(at, (2, 27));
}

#[test]
fn not_principal_not_resource_not_action_with_allow() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","NotResource":"arn:aws:s3:::b"},
{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#;
    let (d, at) = one(PolicyKind::Resource, text, "notprincipal-with-allow");
    assert_eq!(
        d.message,
        "`NotPrincipal` with `Allow` grants access to every principal not listed, anonymous callers included"
    );
    assert_eq!(at, (2, 34));
    let (d, at) = one(PolicyKind::Resource, text, "notresource-with-allow");
    assert!(d.message.starts_with("`NotResource` with `Allow` grants"));
    assert_eq!(at, (2, 105));
    let (d, at) = one(ID, text, "notaction-with-allow");
    assert_eq!(
        d.message,
        "`NotAction` with `Allow` on `\"Resource\": \"*\"` grants every other action of every service"
    );
    assert_eq!(at, (3, 31));
}

#[test]
fn principal_where_it_does_not_belong_and_missing_where_it_must() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    let (d, at) = one(ID, text, "principal-not-allowed");
    assert_eq!(
        d.message,
        "`Principal` is not allowed in identity-based policies"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 31));
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let (d, at) = one(PolicyKind::Endpoint, text, "missing-principal");
    assert_eq!(
        d.message,
        "the statement has no `Principal`, which VPC endpoint policies require"
    );
    assert_eq!(at, (2, 1));
}

#[test]
fn endpoint_policy_with_an_account_id_principal() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}]}"#;
    let (d, at) = one(PolicyKind::Endpoint, text, "endpoint-account-principal");
    assert_eq!(
        d.message,
        "in a gateway endpoint's policy (S3, DynamoDB) `111122223333` grants only that account's root user; in an interface endpoint's policy it admits every principal of the account"
    );
    assert_eq!(at, (2, 38));
    assert!(!codes(PolicyKind::Resource, text).contains(&"endpoint-account-principal"));
}

#[test]
fn empty_condition_blocks() {
    let (d, at) = one(ID, &cond("Allow", "{}"), "empty-condition");
    assert_eq!(d.message, "the `Condition` block is empty");
    assert_eq!(at, (2, 13));
    let (d, at) = one(
        ID,
        &cond(
            "Allow",
            r#"{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{}}"#,
        ),
        "empty-condition",
    );
    assert_eq!(d.message, "`StringEquals` has no condition keys");
    assert_eq!(at, (2, 52));
}

#[test]
fn statement_without_resource() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"s3:*"}]}"#;
    let (d, at) = one(ID, text, "missing-resource");
    assert_eq!(
        d.message,
        "the statement has no `Resource` or `NotResource`"
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(at, (2, 1));
    // A role trust policy has none.
    let trust = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    assert!(codes(PolicyKind::Resource, trust).is_empty());
}

#[test]
fn sagemaker_user_profile_arns_with_uppercase() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl",
"Resource":"arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/Alice"}]}"#;
    let (d, at) = one(ID, text, "sagemaker-arn-uppercase");
    assert_eq!(
        d.message,
        "user-profile ARN `arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/Alice` has uppercase letters"
    );
    assert_eq!(at, (2, 12));
    // Variables are not names.
    let var = text.replace("Alice", "${aws:username}");
    assert!(!codes(ID, &var).contains(&"sagemaker-arn-uppercase"));
    let c =
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sagemaker:*:111122223333:user-profile/d-1/Bob"}}"#;
    let (_, at) = one(ID, &cond("Allow", c), "sagemaker-arn-uppercase");
    assert_eq!(at, (2, 41));
}

#[test]
fn operator_type_mismatch() {
    let (d, at) = one(
        ID,
        &cond("Allow", r#"{"StringLike":{"aws:SourceIp":"203.0.113.*"}}"#),
        "operator-type-mismatch",
    );
    assert_eq!(
        d.message,
        "`StringLike` does not fit `aws:SourceIp`, which holds an IP address"
    );
    assert_eq!(d.help.as_deref(), Some("use `IpAddress` or `NotIpAddress`"));
    assert_eq!(at, (2, 14));
    let c = r#"{"NumericLessThan":{"aws:EpochTime":"1700000000"},"DateLessThan":{"aws:EpochTime":"1700000000"}}"#;
    assert!(codes(ID, &cond("Allow", c)).is_empty());
}

#[test]
fn rcp_and_scp_kinds() {
    let text = r#"{"Version":"2012-10-17","Statement":[
{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
    assert!(codes(PolicyKind::Rcp, text).is_empty());
    assert_eq!(codes(PolicyKind::Scp, text), vec!["principal-not-allowed"]);
}

#[test]
fn suggestions_stay_close() {
    assert_eq!(
        suggest_key("aws:SourceVpcID").as_deref(),
        Some("aws:SourceVpc")
    );
    assert_eq!(
        suggest_key("aws:sourceipaddress").as_deref(),
        Some("aws:SourceIp")
    );
    assert_eq!(suggest_key("aws:CompletelyDifferentThing"), None);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    // The bounded form agrees with the full one wherever the distance is within the bound.
    let words = [
        "",
        "a",
        "ab",
        "kitten",
        "sitting",
        "aws:sourceip",
        "aws:sourcevpce",
        "aws:sorceip",
        "é",
    ];
    for a in words {
        for b in words {
            for max in 0..8 {
                let d = edit_distance(a, b);
                assert_eq!(
                    edit_distance_within(a, b, max),
                    (d <= max).then_some(d),
                    "{a} {b} {max}"
                );
            }
        }
    }
}

mod duplicate_key_tests {
    use super::*;

    #[test]
    fn keys_differing_only_in_case_are_reported() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1","aws:sourcevpce":"vpce-2"}}}]}"#;
        let p = Policy::parse(text).unwrap();
        let d: Vec<_> = validate(&p, PolicyKind::Identity)
            .into_iter()
            .filter(|d| d.code == "duplicate-condition-key")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].message,
            "condition key `aws:sourcevpce` appears twice under `StringEquals`, differing only in case"
        );
        assert_eq!(d[0].span.line_col(p.source()), (2, 56));
    }
}

// The cold path's shortcuts (benches/README.md, "Cold path"): each gives what the full check gives.

#[test]
fn cold_case_twins_small_and_hashed_agree() {
    // Spellings of two keys under two operators, in an order that makes firsts, seconds and repeats of both.
    let keys = [
        "aws:SourceVpc",
        "aws:sourcevpc",
        "AWS:SOURCEVPC",
        "aws:SourceVpce",
        "aws:sourcevpc",
        "aws:SourceVpc",
        "aws:sourcevpce",
    ];
    for n in 1..=keys.len() {
        for op in ["StringEquals", "StringLike"] {
            let blocks: Vec<String> = keys
                .iter()
                .take(n)
                .enumerate()
                .map(|(i, k)| {
                    // Distinct operators per key spelling: the parser refuses a repeated JSON key in one block.
                    let op = if i % 2 == 0 { op } else { "StringNotEquals" };
                    format!(r#"{{"{op}":{{"{k}":"v{i}"}}}}"#)
                })
                .collect();
            // One statement per block, then their conditions together.
            let mut conditions = Vec::new();
            for b in &blocks {
                let text = format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{b}}}}}"#
                );
                let p = Policy::parse(&text).unwrap();
                conditions.extend(p.statements[0].conditions.iter().cloned());
            }
            let small = statement::case_twins_small(&conditions);
            let hashed = statement::case_twins_hashed(&conditions);
            let at = |v: &[Option<&crate::policy::Condition>]| -> Vec<Option<usize>> {
                v.iter()
                    .map(|t| t.map(|t| conditions.iter().position(|c| std::ptr::eq(c, t)).unwrap()))
                    .collect()
            };
            assert_eq!(at(&small), at(&hashed), "{n} conditions under {op}");
            if n >= 3 {
                assert!(small.iter().any(Option::is_some), "the twins were found");
            }
        }
    }
}

#[test]
fn cold_empty_object_scan_finds_every_empty_object() {
    use condition::has_empty_object;
    assert!(has_empty_object("{}"));
    assert!(has_empty_object("{\"StringEquals\": { \n\t\r }}"));
    assert!(!has_empty_object(
        "{\"StringEquals\": {\"aws:SourceVpc\": \"vpc-1\"}}"
    ));
    assert!(!has_empty_object("{ \"a\": [] }"));
    // Only JSON's whitespace between the braces; any later `{` may be the empty one; none at all is none.
    assert!(!has_empty_object("{\u{a0}}"));
    assert!(has_empty_object("é{x}{ \r}"));
    assert!(!has_empty_object("{"));
    assert!(!has_empty_object(""));
    assert!(!has_empty_object("}{"));
    // An operator without keys is reported whatever the spacing inside its braces.
    for inner in ["{}", "{ }", "{\n   }"] {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*",
              "Condition":{{"StringEquals":{inner}}}}}}}"#
        );
        assert!(codes(ID, &text).contains(&"empty-condition"), "{inner:?}");
    }
}

#[test]
fn cold_size_and_characters_fast_paths_report_as_before() {
    // Whitespace past the byte count of the limit, but not past its count without whitespace: no finding.
    let padded = format!(
        r#"{{"Version":"2012-10-17",{}"Statement":{{"Effect":"Allow","Action":"*","Resource":"*"}}}}"#,
        " ".repeat(7_000)
    );
    assert!(!codes(ID, &padded).contains(&"policy-too-large"));
    // The same whitespace counts in an SCP, whose limit counts every character.
    assert!(codes(PolicyKind::Scp, &padded).contains(&"policy-too-large"));
    // A character past U+00FF is reported (a parsed policy holds no raw control character: JSON refuses them).
    let wide = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"A\u{2013}\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}";
    assert!(codes(ID, wide).contains(&"invalid-character"));
    // U+007F and Latin-1 letters are allowed.
    let latin = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::b/\u{7f}\u{e9}\"}}";
    assert!(!codes(ID, latin).contains(&"invalid-character"));
}

#[test]
fn cold_key_lists_compared_without_case_are_lowercase() {
    // `Lower` compares a key with these names ignoring case, which equals `key_lower() == name` only when the
    // names are lowercase.
    for list in [
        &keys::NETWORK_KEYS[..],
        &keys::ENDPOINT_KEYS[..],
        &keys::ENDPOINT_ID_KEYS[..],
        &keys::FAS_KEYS[..],
        &keys::NOT_FOR_SAGEMAKER[..],
    ] {
        for name in list {
            assert_eq!(*name, name.to_ascii_lowercase());
        }
    }
    assert!(Lower::of("AWS:SourceIP") == "aws:sourceip");
    assert!(Lower::of("aws:SourceVpce").is_in(&keys::ENDPOINT_KEYS));
    assert!(!Lower::of("aws:SourceVpcArn").is_in(&keys::ENDPOINT_KEYS));
}

#[test]
fn cold_plain_ascii_is_the_byte_rule() {
    // Every byte value at every offset of a word, against the rule read byte by byte.
    let rule = |b: &[u8]| {
        b.iter()
            .all(|&c| c.is_ascii() && (c >= 0x20 || matches!(c, b'\t' | b'\n' | b'\r')))
    };
    for len in [1usize, 7, 8, 9, 17, 24] {
        for at in 0..len {
            for c in 0..=255u8 {
                let mut b = vec![b'a'; len];
                b[at] = c;
                assert_eq!(
                    document::plain_ascii(&b),
                    rule(&b),
                    "{c:#x} at {at} of {len}"
                );
            }
        }
    }
    assert!(document::plain_ascii(b""));
    assert!(document::plain_ascii(
        b"{\"Version\": \"2012-10-17\",\r\n\t\"Statement\": []}"
    ));
}

/// `key_info` finds every global key whatever the case it is written in, names it as the catalog spells it, and
/// finds nothing for a name one letter off or one letter longer or shorter.
#[test]
fn global_keys_are_found_in_any_case() {
    use crate::keys::GLOBAL_KEYS;
    use keys::{KeyInfo, key_info};
    for k in GLOBAL_KEYS {
        let flipped: String = k
            .name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        for written in [
            k.name.to_string(),
            k.name.to_ascii_lowercase(),
            k.name.to_ascii_uppercase(),
            flipped,
        ] {
            match key_info(&written) {
                KeyInfo::Global { name, .. } => assert_eq!(name, k.name, "{written}"),
                _ => panic!("{written}: not found"),
            }
        }
        for near in [
            format!("{}x", k.name),
            k.name[..k.name.len() - 1].to_string(),
            k.name.replace(':', ";"),
        ] {
            let found =
                matches!(key_info(&near), KeyInfo::Global { ref name, .. } if name == k.name);
            assert!(!found, "{near}");
        }
    }
}
