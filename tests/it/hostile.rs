//! Hostile input, one test per class: each is rejected with the exact error asserted here, or handled as
//! docs/SEMANTICS.md says, within the limits of `iamgate::Limits`, and nothing panics. Timings are never asserted:
//! a test that finishes proves the input is handled in bounded time.

use iamgate::api::case::{DecisionRecord, decide_case};
use iamgate::context::ContextValue;
use iamgate::validate::{PolicyKind, validate};
use iamgate::{Context, Decision, Limits, Policy, PolicySet, Request, Scalar};

const PROFILE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice";
const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";
const ROLE: &str = "arn:aws:iam::111122223333:role/DataSci";

/// A one-statement Allow with `condition` (JSON text of the Condition block).
fn allow_if(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{ACTION}","Resource":"*","Condition":{condition}}}]}}"#
    )
}

fn decide(policy: &str, ctx: Context) -> Decision {
    let set = PolicySet::builder()
        .identity(Policy::parse(policy).unwrap())
        .build()
        .unwrap();
    set.decide(&Request::new(ACTION, PROFILE).principal(ROLE).context(ctx))
}

fn source_ip(ip: &str) -> Context {
    Context::new().with("aws:SourceIp", ip).unwrap()
}

/// The first error message of a policy that must not parse.
fn policy_error(text: &str, limits: &Limits) -> String {
    Policy::parse_with(text, limits).unwrap_err().to_string()
}

fn codes(text: &str) -> Vec<(&'static str, String)> {
    let p = Policy::parse(text).unwrap();
    validate(&p, PolicyKind::Identity)
        .into_iter()
        .map(|d| (d.code, d.message))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Deep nesting

/// Where and why `text` is not JSON under `limits`, as `Policy::parse_with` reports it (its `invalid-json`
/// diagnostic); `None` when it is JSON, whatever the policy grammar makes of it.
fn json_error(text: &str, limits: &Limits) -> Option<(usize, String)> {
    let e = Policy::parse_with(text, limits).err()?;
    let d = e.diagnostics.first()?;
    (d.code == "invalid-json").then(|| (d.span.start as usize, d.message.clone()))
}

#[test]
fn nesting_beyond_max_depth_is_an_error_at_the_bracket() {
    let limits = Limits::default();
    // 32 levels are fine, the 33rd is not.
    let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
    assert_eq!(json_error(&ok, &limits), None);
    let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
    let (offset, message) = json_error(&deep, &limits).unwrap();
    assert_eq!(offset, 32);
    assert_eq!(
        message,
        "`[` nests arrays and objects 33 deep, more than the limit of 32"
    );
}

#[test]
fn a_million_open_brackets_fail_without_exhausting_the_stack() {
    let limits = Limits {
        max_document_bytes: usize::MAX,
        ..Limits::default()
    };
    for open in ["[", "{\"a\":"] {
        let text = open.repeat(1_000_000);
        let (_, message) = json_error(&text, &limits).unwrap();
        assert!(message.contains("more than the limit of 32"), "{message}");
    }
    // With no depth limit at all the parser still does not recurse (it runs out of input instead).
    let unbounded = Limits {
        max_depth: usize::MAX,
        max_document_bytes: usize::MAX,
        ..Limits::default()
    };
    let (offset, _) = json_error(&"[".repeat(1_000_000), &unbounded).unwrap();
    assert_eq!(offset, 1_000_000);
}

#[test]
fn nesting_inside_a_condition_value_is_a_policy_error_with_its_place() {
    let limits = Limits {
        max_depth: 6,
        ..Limits::default()
    };
    let text = allow_if(r#"{"StringEquals":{"aws:SourceVpce":[[["vpce-1"]]]}}"#);
    assert_eq!(
        policy_error(&text, &limits),
        "`[` nests arrays and objects 7 deep, more than the limit of 6 at line 1, column 164"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Huge arrays and strings, each limit on its own

#[test]
fn document_size_limit_is_checked_before_parsing() {
    let limits = Limits {
        max_document_bytes: 100,
        ..Limits::default()
    };
    let text = format!("[\"{}\"]", "x".repeat(97));
    assert_eq!(text.len(), 101);
    assert_eq!(
        json_error(&text, &limits).unwrap().1,
        "document is 101 bytes, more than the limit of 100 bytes"
    );
    // Within the limit, the parser looks at the text (and finds the cut-off string).
    let (offset, message) = json_error(&text[..99], &limits).unwrap();
    assert_eq!((offset, message.as_str()), (1, "unterminated string"));
}

#[test]
fn pattern_length_limit_applies_to_actions_resources_and_condition_values() {
    let limits = Limits {
        max_pattern_bytes: 64,
        ..Limits::default()
    };
    let long = format!("s3:{}", "a".repeat(62)); // 65 bytes
    let text = format!(r#"{{"Statement":{{"Effect":"Allow","Action":"{long}","Resource":"*"}}}}"#);
    assert_eq!(
        policy_error(&text, &limits),
        "a value in `Action` of 65 bytes is longer than the limit of 64 at line 1, column 41"
    );
    let text = format!(
        r#"{{"Statement":{{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::{}"}}}}"#,
        "b".repeat(52)
    );
    assert_eq!(
        policy_error(&text, &limits),
        "a value in `Resource` of 65 bytes is longer than the limit of 64 at line 1, column 59"
    );
    let text = allow_if(&format!(
        r#"{{"StringLike":{{"aws:SourceVpce":"{}"}}}}"#,
        "v".repeat(65)
    ));
    assert_eq!(
        policy_error(&text, &limits),
        "a condition value of 65 bytes is longer than the limit of 64 at line 1, column 161"
    );
    // Exactly at the limit is fine.
    let text = format!(
        r#"{{"Statement":{{"Effect":"Allow","Action":"s3:{}","Resource":"*"}}}}"#,
        "a".repeat(61)
    );
    assert!(Policy::parse_with(&text, &limits).is_ok());
}

#[test]
fn a_huge_action_array_within_the_size_limit_parses_and_decides() {
    // 100,000 actions (about 2.3 MB) are over the default document limit ...
    let actions: Vec<String> = (0..100_000).map(|i| format!("\"s3:Get{i}\"")).collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        actions.join(",")
    );
    let e = policy_error(&text, &Limits::default());
    assert!(
        e.starts_with(&format!(
            "document is {} bytes, more than the limit of 1048576 bytes",
            text.len()
        )),
        "{e}"
    );
    // ... and accepted when the caller raises it; deciding walks them all.
    let big = Limits {
        max_document_bytes: 4 << 20,
        ..Limits::default()
    };
    let p = Policy::parse_with(&text, &big).unwrap();
    let set = PolicySet::builder().identity(p).build().unwrap();
    let req = Request::new("s3:Get99999", "arn:aws:s3:::b/k").principal(ROLE);
    assert_eq!(set.decide(&req), Decision::Allow);
    let req = Request::new("s3:Get100000", "arn:aws:s3:::b/k").principal(ROLE);
    assert_eq!(set.decide(&req), Decision::ImplicitDeny);
}

/// Thousands of literal actions and thousands of wildcard patterns in one set: matching every pattern against
/// every named action when building the action index would take millions of globs, so the set is built without
/// it (bounded) and decides by matching each statement's patterns.
#[test]
fn many_literal_actions_and_many_wildcards_build_in_bounded_time() {
    let literals: Vec<String> = (0..3_000).map(|i| format!("\"s3:Get{i}\"")).collect();
    let wild: Vec<String> = (0..2_000).map(|i| format!("\"kms:Op{i}*\"")).collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Action":[{}],"Resource":"*"}},
            {{"Effect":"Deny","Action":[{}],"Resource":"*"}}]}}"#,
        literals.join(","),
        wild.join(",")
    );
    let big = Limits {
        max_document_bytes: 4 << 20,
        ..Limits::default()
    };
    let set = PolicySet::builder()
        .identity(Policy::parse_with(&text, &big).unwrap())
        .build()
        .unwrap();
    for (action, want) in [
        ("s3:Get2999", Decision::Allow),
        ("S3:GET0", Decision::Allow),
        ("s3:Get3000", Decision::ImplicitDeny),
        ("kms:Op1999x", Decision::ExplicitDeny),
        ("kms:Op", Decision::ImplicitDeny),
    ] {
        let req = Request::new(action, "arn:aws:s3:::b/k").principal(ROLE);
        assert_eq!(set.decide(&req), want, "{action}");
        assert_eq!(set.explain(&req).decision, want, "{action}");
    }
}

#[test]
fn a_huge_string_is_over_the_document_limit() {
    let text = format!(
        r#"{{"Statement":{{"Sid":"{}","Effect":"Allow","Action":"*","Resource":"*"}}}}"#,
        "S".repeat(2 << 20)
    );
    assert_eq!(
        policy_error(&text, &Limits::default()),
        format!(
            "document is {} bytes, more than the limit of 1048576 bytes at line 1, column 1",
            text.len()
        )
    );
}

// ---------------------------------------------------------------------------------------------------------
// 1 MiB policies: just under and just over the default limit

fn padded_policy(len: usize) -> String {
    let head = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#;
    // Whitespace is legal JSON and counts toward the size.
    format!("{head}{}}}", " ".repeat(len - head.len() - 1))
}

#[test]
fn one_mebibyte_policy_is_accepted_one_byte_more_is_not() {
    let at = padded_policy(1 << 20);
    assert_eq!(at.len(), 1_048_576);
    assert!(Policy::parse(&at).is_ok());
    let over = padded_policy((1 << 20) + 1);
    assert_eq!(
        Policy::parse(&over).unwrap_err().to_string(),
        "document is 1048577 bytes, more than the limit of 1048576 bytes at line 1, column 1"
    );
}

#[test]
fn ten_thousand_statements_are_over_max_statements() {
    let st = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        vec![st; 10_000].join(",")
    );
    assert!(text.len() < 1 << 20);
    assert_eq!(
        policy_error(&text, &Limits::default()),
        "the policy has 10000 statements, more than the limit of 4096 at line 1, column 37"
    );
    let limits = Limits {
        max_statements: 10_000,
        ..Limits::default()
    };
    assert_eq!(
        Policy::parse_with(&text, &limits).unwrap().statements.len(),
        10_000
    );
}

// ---------------------------------------------------------------------------------------------------------
// Pathological wildcards: linear matching, no backtracking

#[test]
fn star_a_star_a_star_b_against_100_kb_finishes() {
    // `*a*a*...*a*b` (4 KiB, under max_pattern_bytes) against 100 KB of `a`: a backtracking matcher takes
    // exponential time here; ours is linear per star.
    let pattern = format!("{}*b", "*a".repeat(2048));
    let value = "a".repeat(100_000);
    let like = allow_if(&format!(r#"{{"StringLike":{{"test:K":"{pattern}"}}}}"#));
    let ctx = || Context::new().with("test:K", value.as_str()).unwrap();
    assert_eq!(decide(&like, ctx()), Decision::ImplicitDeny);
    let not_like = allow_if(&format!(r#"{{"StringNotLike":{{"test:K":"{pattern}"}}}}"#));
    assert_eq!(decide(&not_like, ctx()), Decision::Allow);
    // The same shape in a Resource pattern and an Action pattern.
    let resource = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::{pattern}"}}]}}"#
    );
    let set = PolicySet::builder()
        .identity(Policy::parse(&resource).unwrap())
        .build()
        .unwrap();
    let req = Request::new("s3:GetObject", &format!("arn:aws:s3:::{value}")).principal(ROLE);
    assert_eq!(set.decide(&req), Decision::ImplicitDeny);
    let action = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:{pattern}","Resource":"*"}}]}}"#
    );
    let set = PolicySet::builder()
        .identity(Policy::parse(&action).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        set.decide(&Request::new(&format!("s3:{value}"), "*").principal(ROLE)),
        Decision::ImplicitDeny
    );
    // And it still matches when it should.
    let ok = Context::new()
        .with("test:K", format!("{value}b").as_str())
        .unwrap();
    assert_eq!(decide(&like, ok), Decision::Allow);
}

/// Issue 14 item 1: a long `?`-heavy segment between stars (`*` + `?a`×4000 + `?b*`, near 8 KiB) against 50 KB
/// under every element and operator that takes wildcards: each decides (trying each start would cost pattern ×
/// value; the matcher's step count is asserted in src/policy/pattern.rs).
#[test]
fn a_long_question_mark_segment_decides_under_every_wildcard_element() {
    let segment = format!("{}?b", "?a".repeat(4000));
    let value = "a".repeat(50_000);
    let hit = format!("{value}{}", "xa".repeat(4000) + "xb");
    let pattern = format!("*{segment}*");
    let like = allow_if(&format!(r#"{{"StringLike":{{"test:K":"{pattern}"}}}}"#));
    let ctx = |v: &str| Context::new().with("test:K", v).unwrap();
    assert_eq!(decide(&like, ctx(&value)), Decision::ImplicitDeny);
    assert_eq!(decide(&like, ctx(&hit)), Decision::Allow);
    let not_like = allow_if(&format!(r#"{{"StringNotLike":{{"test:K":"{pattern}"}}}}"#));
    assert_eq!(decide(&not_like, ctx(&value)), Decision::Allow);
    let arn_pattern = format!("arn:aws:s3:::*{segment}*");
    let arn_like = allow_if(&format!(r#"{{"ArnLike":{{"test:K":"{arn_pattern}"}}}}"#));
    let arn = |v: &str| format!("arn:aws:s3:::{v}");
    assert_eq!(decide(&arn_like, ctx(&arn(&value))), Decision::ImplicitDeny);
    assert_eq!(decide(&arn_like, ctx(&arn(&hit))), Decision::Allow);
    let statement = |element: &str, action: &str, resource: &str| {
        let set = PolicySet::builder()
            .identity(
                Policy::parse(&format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",{element}}}]}}"#
                ))
                .unwrap(),
            )
            .build()
            .unwrap();
        set.decide(&Request::new(action, resource).principal(ROLE))
    };
    let resource = format!(r#""Action":"s3:*","Resource":"{arn_pattern}""#);
    assert_eq!(
        statement(&resource, "s3:GetObject", &arn(&value)),
        Decision::ImplicitDeny
    );
    assert_eq!(
        statement(&resource, "s3:GetObject", &arn(&hit)),
        Decision::Allow
    );
    let not_resource = format!(r#""Action":"s3:*","NotResource":"{arn_pattern}""#);
    assert_eq!(
        statement(&not_resource, "s3:GetObject", &arn(&value)),
        Decision::Allow
    );
    assert_eq!(
        statement(&not_resource, "s3:GetObject", &arn(&hit)),
        Decision::ImplicitDeny
    );
    let action = format!(r#""Action":"s3:*{segment}*","Resource":"*""#);
    assert_eq!(
        statement(&action, &format!("s3:{value}"), "*"),
        Decision::ImplicitDeny
    );
    assert_eq!(
        statement(&action, &format!("s3:{hit}"), "*"),
        Decision::Allow
    );
}

/// Issue 14 item 1: `*${aws:userid, 'x'}*` with a 600 KB `aws:userid` expands past the 8 KiB bound and matches
/// nothing, as a missing variable would: StringLike does not apply, StringNotLike does (docs/SEMANTICS.md §9 row 37).
#[test]
fn a_variable_that_expands_past_the_bound_matches_nothing() {
    let big = "a".repeat(600_000);
    let ctx = || {
        Context::new()
            .with("aws:userid", big.as_str())
            .unwrap()
            .with("test:K", big.as_str())
            .unwrap()
    };
    let like = allow_if(r#"{"StringLike":{"test:K":"*${aws:userid, 'x'}*"}}"#);
    assert_eq!(decide(&like, ctx()), Decision::ImplicitDeny);
    let small = || {
        Context::new()
            .with("aws:userid", "AIDAEXAMPLE")
            .unwrap()
            .with("test:K", format!("{big}AIDAEXAMPLE").as_str())
            .unwrap()
    };
    assert_eq!(decide(&like, small()), Decision::Allow);
}

/// Issue 14 item 17: an embedding that raises `max_depth` to 50,000 can parse, validate and drop a policy that
/// deep on a thread with a small stack (the tree drops without recursion).
#[test]
fn a_policy_nested_50_000_deep_parses_and_drops_on_a_small_stack() {
    let limits = Limits {
        max_depth: 50_000,
        ..Limits::default()
    };
    let n = 49_990;
    let text = allow_if(&format!(
        r#"{{"StringEquals":{{"aws:SourceVpce":{}"vpce-1"{}}}}}"#,
        "[".repeat(n),
        "]".repeat(n)
    ));
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            // The JSON is read (and its tree dropped) before the policy grammar refuses the nested arrays.
            assert_eq!(json_error(&text, &limits), None);
            let e = Policy::parse_with(&text, &limits).unwrap_err();
            assert!(e.to_string().contains("array"), "{e}");
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn question_marks_and_stars_mixed_with_multibyte_text_finish() {
    let pattern = format!("{}*é", "?*".repeat(1000));
    let value = "é".repeat(50_000);
    let like = allow_if(&format!(r#"{{"StringLike":{{"test:K":"{pattern}"}}}}"#));
    assert_eq!(
        decide(
            &like,
            Context::new().with("test:K", value.as_str()).unwrap()
        ),
        Decision::Allow
    );
    let short = "é".repeat(1000);
    assert_eq!(
        decide(
            &like,
            Context::new().with("test:K", short.as_str()).unwrap()
        ),
        Decision::ImplicitDeny
    );
}

// ---------------------------------------------------------------------------------------------------------
// IP spellings that fooled other parsers

const BAD_IPS: [&str; 9] = [
    "010.0.0.1",
    "0x7f.0.0.1",
    "127.1",
    "1.2.3.4.",
    "fe80::1%eth0",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4/033",
    "0177.0.0.1",
];

#[test]
fn odd_ip_spellings_in_a_policy_never_match_and_lint_says_so() {
    // What each spelling would mean to a lenient parser, as a request address.
    let meant = [
        "10.0.0.1",
        "127.0.0.1",
        "127.0.0.1",
        "1.2.3.4",
        "fe80::1",
        "1.2.3.4",
        "1.2.3.4",
        "1.2.3.4",
        "127.0.0.1",
    ];
    for (bad, ip) in BAD_IPS.iter().zip(meant) {
        let json_bad = serde_json::to_string(bad).unwrap();
        let pos = allow_if(&format!(r#"{{"IpAddress":{{"aws:SourceIp":{json_bad}}}}}"#));
        assert_eq!(decide(&pos, source_ip(ip)), Decision::ImplicitDeny, "{bad}");
        let neg = allow_if(&format!(
            r#"{{"NotIpAddress":{{"aws:SourceIp":{json_bad}}}}}"#
        ));
        assert_eq!(decide(&neg, source_ip(ip)), Decision::Allow, "{bad}");
        let found = codes(&pos);
        assert!(
            found.contains(&(
                "value-never-matches",
                format!("`{bad}` is not an IP address or CIDR block, so it never matches under `IpAddress`")
            )),
            "{bad}: {found:?}"
        );
    }
}

#[test]
fn ipv4_mapped_request_address_is_the_ipv4_address_aws_sees() {
    // A dual-stack socket reports an IPv4 peer as `::ffff:203.0.113.7`; AWS sees 203.0.113.7, so the mapped
    // request value is that address and a Deny on its IPv4 range holds (docs/SEMANTICS.md §9 row 16).
    let deny = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#;
    for peer in [
        "::ffff:203.0.113.7",
        "::FFFF:203.0.113.7",
        "::ffff:cb00:7107",
    ] {
        assert_eq!(
            decide(deny, source_ip(peer)),
            Decision::ExplicitDeny,
            "{peer}"
        );
        // The borrowed form reads it the same way.
        let set = PolicySet::builder()
            .identity(Policy::parse(deny).unwrap())
            .build()
            .unwrap();
        let r = iamgate::RequestRef {
            principal: Some(ROLE),
            action: ACTION,
            resource: PROFILE,
            context: &[("aws:SourceIp", peer.into())],
            ..Default::default()
        };
        assert_eq!(set.decide_ref(&r), Ok(Decision::ExplicitDeny), "{peer}");
    }
    assert_eq!(decide(deny, source_ip("2001:db8::7")), Decision::Allow);
    // The embedding's constructor writes the peer as AWS sees it.
    let peer: std::net::IpAddr = "::ffff:203.0.113.7".parse().unwrap();
    assert_eq!(Scalar::from_ip(peer), Scalar::from("203.0.113.7"));
    let v4 = allow_if(r#"{"IpAddress":{"aws:SourceIp":"1.2.3.0/24"}}"#);
    assert_eq!(decide(&v4, source_ip("::ffff:1.2.3.4")), Decision::Allow);
    // A mapped policy value is IPv6 and never covers an IPv4 request (families never cross in a policy), which
    // the request's mapped form now is too; lint warns on the value.
    let mapped = allow_if(r#"{"IpAddress":{"aws:SourceIp":"::ffff:1.2.3.4"}}"#);
    for ip in ["1.2.3.4", "::ffff:1.2.3.4"] {
        assert_eq!(
            decide(&mapped, source_ip(ip)),
            Decision::ImplicitDeny,
            "{ip}"
        );
    }
    assert!(codes(&mapped).contains(&(
        "ipv4-mapped-ipv6",
        "`::ffff:1.2.3.4` is an IPv4-mapped IPv6 address".to_string()
    )));
}

#[test]
fn odd_ip_spellings_in_the_request_are_rejected_at_insert() {
    for bad in BAD_IPS {
        let e = Context::new()
            .with("aws:SourceIp", bad)
            .map(|_| ())
            .unwrap_err();
        let want = if bad == "1.2.3.4/033" {
            // A CIDR-looking value is refused with the same message as any other non-address.
            format!(
                "context key `aws:SourceIp`: `{bad}` is not an IP address; write for example `203.0.113.7` or `2001:db8::7`"
            )
        } else {
            format!(
                "context key `aws:SourceIp`: `{bad}` is not an IP address; write for example `203.0.113.7` or `2001:db8::7`"
            )
        };
        assert_eq!(e.to_string(), want, "{bad}");
    }
    // A valid CIDR is not a request address either, and the message says why.
    let e = Context::new()
        .with("aws:VpcSourceIp", "10.0.0.0/8")
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "context key `aws:VpcSourceIp`: `10.0.0.0/8` is not a single IP address (a request comes from one address, not a range)"
    );
    // The same through the case boundary: an error record with the JSON path.
    let line = format!(
        r#"{{"id":"x","identity_policies":[],"request":{{"action":"{ACTION}","resource":"{PROFILE}","context":{{"aws:SourceIp":"010.0.0.1"}}}}}}"#
    );
    match decide_case(&line, false) {
        DecisionRecord::Failed { id, error } => {
            assert_eq!(id.as_deref(), Some("x"));
            assert_eq!(error.path, "$.request.context[\"aws:SourceIp\"]");
            assert_eq!(
                error.message,
                "context key `aws:SourceIp`: `010.0.0.1` is not an IP address; write for example `203.0.113.7` or `2001:db8::7`"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Characters outside what IAM allows; NUL bytes

#[test]
fn characters_outside_latin_1_are_invalid_characters() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/–"}]}"#;
    let found = codes(text);
    assert_eq!(
        found,
        vec![(
            "invalid-character",
            "character `–` (U+2013) is not allowed in a policy document".to_string()
        )]
    );
    // Latin-1 (U+00FF and below) is allowed.
    let ok = text.replace('–', "ÿ");
    assert!(codes(&ok).iter().all(|(c, _)| *c != "invalid-character"));
}

#[test]
fn nul_bytes_raw_are_json_errors_and_escaped_are_invalid_characters() {
    let raw = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"A\u{0}\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}";
    assert_eq!(
        Policy::parse(raw).unwrap_err().to_string(),
        "unescaped control character U+0000 in a string at line 1, column 47"
    );
    let escaped = raw.replace('\u{0}', "\\u0000");
    let p = Policy::parse(&escaped).unwrap();
    assert_eq!(p.statements[0].sid.as_ref().unwrap().value, "A\u{0}");
    let found: Vec<_> = validate(&p, PolicyKind::Identity)
        .into_iter()
        .map(|d| d.code)
        .collect();
    assert!(found.contains(&"invalid-sid"), "{found:?}");
    // NUL in a request value is just a character: it decides, and matches only itself.
    let pol = allow_if(r#"{"StringEquals":{"test:K":"a\u0000b"}}"#);
    assert_eq!(
        decide(&pol, Context::new().with("test:K", "a\u{0}b").unwrap()),
        Decision::Allow
    );
    assert_eq!(
        decide(&pol, Context::new().with("test:K", "ab").unwrap()),
        Decision::ImplicitDeny
    );
}

#[test]
fn unpaired_surrogate_escapes_are_json_errors() {
    let text = allow_if(r#"{"StringEquals":{"test:K":"\ud800"}}"#);
    assert_eq!(
        Policy::parse(&text).unwrap_err().to_string(),
        r"unpaired surrogate `\ud800` in a string at line 1, column 156"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Duplicate keys

#[test]
fn duplicate_element_is_a_policy_error_pointing_at_both_places() {
    let text = "{\"Version\":\"2012-10-17\",\"Statement\":[{\n  \"Effect\":\"Allow\",\n  \"Action\":\"s3:*\",\"Resource\":\"*\",\n  \"Effect\":\"Deny\"}]}";
    let e = Policy::parse(text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`Effect` appears twice in one statement at line 4, column 3"
    );
    let d = &e.diagnostics[0];
    assert_eq!(d.code, "duplicate-key");
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.related[0].0.line_col(text), (2, 3));
    assert_eq!(d.related[0].1, "first written here");
}

#[test]
fn duplicate_condition_key_is_a_policy_error_and_a_case_variant_is_a_lint_error() {
    // The same key twice under one operator is a repeated JSON key: a policy error at both places.
    let text =
        allow_if(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1","aws:SourceVpce":"vpce-2"}}"#);
    let e = Policy::parse(&text).unwrap_err();
    assert_eq!(
        e.to_string(),
        "condition key `aws:SourceVpce` appears twice under `StringEquals` at line 1, column 172"
    );
    assert_eq!(e.diagnostics[0].related[0].0.line_col(&text), (1, 146));
    // Differing only in case: two conditions that must both hold (docs/SEMANTICS.md §1.9), and a lint error.
    let text =
        allow_if(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1","AWS:SOURCEVPCE":"vpce-2"}}"#);
    assert!(codes(&text).contains(&(
        "duplicate-condition-key",
        "condition key `AWS:SOURCEVPCE` appears twice under `StringEquals`, differing only in case".to_string()
    )));
    let vpce = |v: &str| Context::new().with("aws:SourceVpce", v).unwrap();
    assert_eq!(decide(&text, vpce("vpce-1")), Decision::ImplicitDeny);
    assert_eq!(decide(&text, vpce("vpce-2")), Decision::ImplicitDeny);
    // Duplicate top-level elements and duplicate operators, too.
    let e = Policy::parse(r#"{"Statement":[],"Statement":[]}"#).unwrap_err();
    assert_eq!(
        e.diagnostics[0].message,
        "`Statement` appears twice in one policy"
    );
    let text =
        allow_if(r#"{"Bool":{"aws:ViaAWSService":"false"},"Bool":{"aws:SecureTransport":"true"}}"#);
    let e = Policy::parse(&text).unwrap_err();
    assert_eq!(
        e.diagnostics[0].message,
        "condition operator `Bool` appears twice in one `Condition`"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Numbers out of range

#[test]
fn number_beyond_f64_in_a_numeric_condition_never_matches() {
    // The JSON number is kept as written (1e400 is valid JSON); as a number it is out of range, so it never
    // matches (docs/SEMANTICS.md §9 row 13) and lint says so.
    let lt = allow_if(r#"{"NumericLessThan":{"test:N":1e400}}"#);
    let ctx = || Context::new().with("test:N", "5").unwrap();
    assert_eq!(decide(&lt, ctx()), Decision::ImplicitDeny);
    let ne = allow_if(r#"{"NumericNotEquals":{"test:N":"1e400"}}"#);
    assert_eq!(decide(&ne, ctx()), Decision::Allow);
    assert!(codes(&lt).contains(&(
        "value-never-matches",
        "`1e400` is not a number, so it never matches under `NumericLessThan`".to_string()
    )));
}

#[test]
fn number_beyond_f64_in_the_request_context_is_an_error_record() {
    let line = format!(
        r#"{{"id":"n","identity_policies":[],"request":{{"action":"{ACTION}","resource":"{PROFILE}","context":{{"test:N":1e400}}}}}}"#
    );
    match decide_case(&line, false) {
        DecisionRecord::Failed { error, .. } => {
            assert_eq!(error.message, "number `1e400` is out of range");
            assert_eq!(error.path, "$.request.context[\"test:N\"]");
        }
        other => panic!("{other:?}"),
    }
    // As a string, it is a present value that no numeric operator matches.
    let lt = allow_if(r#"{"NumericGreaterThan":{"test:N":"0"}}"#);
    assert_eq!(
        decide(&lt, Context::new().with("test:N", "1e400").unwrap()),
        Decision::ImplicitDeny
    );
}

#[test]
fn huge_epoch_seconds_in_a_date_condition_do_not_panic() {
    // Epoch seconds far beyond any date: a policy value (not a date, so IAM refuses the policy when it is saved:
    // a compile error, docs/SEMANTICS.md §1.12), a string context value and a number context value.
    let gt = allow_if(
        r#"{"DateGreaterThan":{"aws:CurrentTime":["99999999999999999999999999999999999999","-99999999999999999999999999999999999999"]}}"#,
    );
    let refused = PolicySet::builder()
        .identity(Policy::parse(&gt).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(refused.diagnostic.code, "value-never-matches");
    let line = format!(
        r#"{{"identity_policies":[{}],"request":{{"action":"{ACTION}","resource":"{PROFILE}","context":{{"test:T":1e300}}}}}}"#,
        allow_if(r#"{"DateLessThan":{"test:T":"2024-01-01"}}"#)
    );
    assert_eq!(
        decide_case(&line, false).decision(),
        Some(Decision::ImplicitDeny)
    );
    let mut c = Context::new();
    assert!(
        c.insert(
            "aws:CurrentTime",
            ContextValue::One(Scalar::Number(1e300, "1e300".into()))
        )
        .is_err()
    );
}

// ---------------------------------------------------------------------------------------------------------
// Invalid UTF-8 through the CLI

/// Five lines, three of them invalid UTF-8, through `iamgate batch`: five records, in order.
#[cfg(feature = "cli")]
fn batch_with_invalid_utf8() -> Vec<serde_json::Value> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let good = format!(
        r#"{{"id":"ok","identity_policies":[],"request":{{"action":"{ACTION}","resource":"{PROFILE}"}}}}"#
    );
    let mut input: Vec<u8> = Vec::new();
    input.extend_from_slice(good.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(b"{\"id\":\"bad\xff\xfe\"}\n");
    input.extend_from_slice(b"\xc3\x28\n");
    input.extend_from_slice(b"\xed\xa0\x80 surrogate in UTF-8\n");
    input.extend_from_slice(good.as_bytes());
    input.push(b'\n');
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .arg("batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 5, "{stdout}");
    assert_eq!(records[0]["decision"], "ImplicitDeny");
    for r in &records[1..4] {
        assert_eq!(r["id"], serde_json::Value::Null);
        assert!(r["error"]["message"].is_string(), "{r}");
    }
    assert_eq!(records[4]["decision"], "ImplicitDeny");
    records
}

#[cfg(feature = "cli")]
#[test]
fn invalid_utf8_lines_in_batch_each_get_one_error_record() {
    let records = batch_with_invalid_utf8();
    // Each record names the first byte that is not UTF-8, as a column of the line.
    let want = [
        (11, "bad JSON string"),
        (1, "bad lead byte"),
        (1, "UTF-8-encoded surrogate"),
    ];
    for (r, (byte, what)) in records[1..4].iter().zip(want) {
        assert_eq!(
            r["error"]["message"],
            format!("the line is not valid UTF-8 (byte {byte})"),
            "{what}"
        );
        assert_eq!(r["error"]["column"], byte, "{what}");
        assert_eq!(r["error"]["path"], "$", "{what}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Malformed requests never reach Allow (issue 14, items 7-9)

/// `Allow */*` and a `Deny s3:*` on the bucket: a well-formed request for the bucket is denied, so any Allow for
/// a malformed one would be a bypass.
const ALLOW_ALL_DENY_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":"*","Resource":"*"},
    {"Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]}]}"#;

#[test]
fn malformed_actions_and_resources_never_reach_allow() {
    let set = PolicySet::builder()
        .identity(Policy::parse(ALLOW_ALL_DENY_BUCKET).unwrap())
        .build()
        .unwrap();
    let good = ("s3:GetObject", "arn:aws:s3:::bucket/key");
    assert_eq!(
        set.decide(&Request::new(good.0, good.1)),
        Decision::ExplicitDeny
    );
    let bad = [
        ("", good.1),
        (" s3:GetObject", good.1),
        ("s3:GetObject ", good.1),
        ("s3GetObject", good.1),
        ("s3\u{ff1a}GetObject", good.1),
        ("s3:Get*", good.1),
        ("s3:GetObject\n", good.1),
        (good.0, "ARN:aws:s3:::bucket/key"),
        (good.0, " arn:aws:s3:::bucket/key"),
        (good.0, ""),
        (good.0, "arn:aws:s3"),
        (good.0, "*\n"),
    ];
    for (action, resource) in bad {
        let req = Request::new(action, resource).principal(ROLE);
        let what = format!("{action:?} on {resource:?}");
        // Never Allow: `ImplicitDeny` where the policies would allow it, their deny where they deny it anyway
        // (`s3:*` matches `"s3:GetObject "`).
        assert_ne!(set.decide(&req), Decision::Allow, "{what}");
        assert_eq!(set.decide_with_reasons(&req).0, Decision::ImplicitDeny);
        let ex = set.explain(&req);
        assert_eq!(ex.decision, Decision::ImplicitDeny, "{what}");
        assert!(ex.statements.is_empty() && ex.reasons.is_empty(), "{what}");
        let e = set.try_decide(&req).unwrap_err();
        assert_eq!(req.check(), Err(e.clone()));
        let r = iamgate::RequestRef {
            principal: Some(ROLE),
            action,
            resource,
            ..Default::default()
        };
        assert_eq!(set.decide_ref(&r), Err(e.clone()), "{what}");
        assert_eq!(set.explain_ref(&r).map(|x| x.decision), Err(e.clone()));
        let layout = set.key_layout(["aws:SourceIp"]);
        assert_eq!(set.decide_ref_with(&layout, &r), Err(e.clone()));
        let which = if action == good.0 {
            "resource"
        } else {
            "action"
        };
        assert!(e.to_string().starts_with(which), "{what}: {e}");
        // A case is an error record naming the field.
        let case = serde_json::json!({"identity_policies": [ALLOW_ALL_DENY_BUCKET],
            "request": {"action": action, "resource": resource}});
        match decide_case(&case.to_string(), false) {
            DecisionRecord::Failed { error, .. } => {
                assert_eq!(error.path, format!("$.request.{which}"), "{what}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // Well-formed spellings AWS sends stay decided: any case of the action, `*`, a key with spaces.
    for (action, resource) in [
        ("S3:getobject", "arn:aws:s3:::bucket/key"),
        (
            "s3:GetObject",
            "arn:aws:s3:::other/a key ending in a space ",
        ),
        ("execute-api:Invoke", "*"),
    ] {
        let req = Request::new(action, resource);
        assert!(req.check().is_ok(), "{action} {resource}");
        assert_eq!(set.try_decide(&req), Ok(set.decide(&req)));
    }
    assert_eq!(
        set.decide(&Request::new("s3:GetObject", "arn:aws:s3:::other/key")),
        Decision::Allow
    );
    // An ARN short of its six fields is an error where it would be allowed; where the policies deny it, the
    // deny stands (no scan of a denied request's resource).
    let deny_all = PolicySet::builder()
        .identity(
            Policy::parse(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let short = Request::new("s3:GetObject", "arn:aws:s3");
    assert_eq!(deny_all.try_decide(&short), Ok(Decision::ExplicitDeny));
    assert!(set.try_decide(&short).is_err());
    assert_eq!(set.decide(&short), Decision::ImplicitDeny);
}

#[test]
fn a_nan_number_is_refused_at_insert() {
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}}]}"#;
    for (n, text) in [
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        for key in ["aws:MultiFactorAuthAge", "s3:max-keys", "any:key"] {
            let e = Context::new()
                .with(key, Scalar::Number(n, text.into()))
                .unwrap_err();
            // A key documented as numeric says so by its type; any other by the number itself.
            let why = if key == "aws:MultiFactorAuthAge" {
                format!("`{text}` is not a number")
            } else {
                format!("`{text}` ({n}) is not a finite number")
            };
            assert_eq!(e.to_string(), format!("context key `{key}`: {why}"));
        }
    }
    // A finite number still decides.
    let ctx = Context::new()
        .with(
            "aws:MultiFactorAuthAge",
            Scalar::Number(7200.0, "7200".into()),
        )
        .unwrap();
    assert_eq!(decide(deny, ctx), Decision::ExplicitDeny);
}

#[test]
fn a_list_for_a_single_valued_key_is_refused() {
    let set = PolicySet::builder()
        .identity(
            Policy::parse(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let list: &[&str] = &["203.0.113.7", "198.51.100.7"];
    for key in [
        "aws:SourceIp",
        "AWS:SOURCEIP",
        "aws:SourceVpce",
        "aws:ViaAWSService",
    ] {
        let r = iamgate::RequestRef {
            principal: Some(ROLE),
            action: ACTION,
            resource: PROFILE,
            context: &[(key, iamgate::ValueRef::Many(list))],
            ..Default::default()
        };
        let e = set.decide_ref(&r).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "context key `{key}`: takes one value, not a list (AWS sends one value for this key)"
            )
        );
        let mut c = Context::new();
        let many = ContextValue::Many(list.iter().map(|s| Scalar::from(*s)).collect());
        assert_eq!(c.insert(key, many).unwrap_err(), e);
        // Even a list of one.
        let one = ContextValue::Many(vec![Scalar::from("203.0.113.7")]);
        assert!(c.insert(key, one).is_err());
    }
    // A multivalued key keeps its list.
    let mut c = Context::new();
    c.insert(
        "aws:CalledVia",
        ContextValue::Many(vec!["athena.amazonaws.com".into()]),
    )
    .unwrap();
}

/// The policy of [`a_list_for_a_single_valued_key_is_refused`] as JSON: allow all, deny outside 203.0.113.0/24.
fn deny_outside_range() -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "Outside", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]})
}

fn listed_case(context: serde_json::Value) -> DecisionRecord {
    let case = serde_json::json!({"id": "l", "identity_policies": [deny_outside_range()],
        "request": {"action": ACTION, "resource": PROFILE, "context": context}});
    decide_case(&case.to_string(), false)
}

fn decided(r: DecisionRecord) -> (Decision, Vec<iamgate::Reason>, Vec<String>) {
    match r {
        DecisionRecord::Decided {
            decision,
            reasons,
            warnings,
            ..
        } => (decision, reasons, warnings),
        other => panic!("{other:?}"),
    }
}

/// In a case (batch), a list for a single-valued key is a warning record: each value decided on its own, the most
/// restrictive outcome given, whatever the order of the values.
#[test]
fn a_listed_single_valued_key_in_a_case_decides_each_value_and_warns() {
    for list in [
        ["203.0.113.7", "198.51.100.7"],
        ["198.51.100.7", "203.0.113.7"],
    ] {
        let (d, reasons, warnings) =
            decided(listed_case(serde_json::json!({"aws:SourceIp": list})));
        assert_eq!(d, Decision::ExplicitDeny);
        assert_eq!(reasons.len(), 1);
        assert!(
            matches!(&reasons[0], iamgate::Reason::Statement { sid: Some(s), .. } if s == "Outside"),
            "{reasons:?}"
        );
        let w = warnings
            .iter()
            .find(|w| w.contains("`aws:SourceIp` takes one value"))
            .unwrap_or_else(|| panic!("{warnings:?}"));
        assert!(w.contains("aws:SourceIp = 203.0.113.7: Allow"), "{w}");
        assert!(
            w.contains("aws:SourceIp = 198.51.100.7: ExplicitDeny"),
            "{w}"
        );
    }
    // Every value allowed: Allow, still with the warning.
    let (d, _, warnings) = decided(listed_case(
        serde_json::json!({"aws:SourceIp": ["203.0.113.7", "203.0.113.8"]}),
    ));
    assert_eq!(d, Decision::Allow);
    assert!(
        warnings.iter().any(|w| w.contains("takes one value")),
        "{warnings:?}"
    );
    // A list of one is that value; an empty list is the key absent (NotIpAddress holds: denied).
    let (d, _, _) = decided(listed_case(
        serde_json::json!({"aws:SourceIp": ["203.0.113.7"]}),
    ));
    assert_eq!(d, Decision::Allow);
    let (d, _, warnings) = decided(listed_case(serde_json::json!({"aws:SourceIp": []})));
    assert_eq!(d, Decision::ExplicitDeny);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("aws:SourceIp absent: ExplicitDeny")),
        "{warnings:?}"
    );
    // Two listed keys: every combination (2 x 2).
    let (_, _, warnings) = decided(listed_case(serde_json::json!({
        "aws:SourceIp": ["203.0.113.7", "198.51.100.7"],
        "aws:SourceVpce": ["vpce-1", "vpce-2"]})));
    let w = warnings
        .iter()
        .find(|w| w.contains("each take one value"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    assert_eq!(
        w.matches(": Allow").count() + w.matches(": ExplicitDeny").count(),
        4,
        "{w}"
    );
    // A value of the wrong type is an error at its element.
    match listed_case(serde_json::json!({"aws:SourceIp": ["203.0.113.7", "not-an-ip"]})) {
        DecisionRecord::Failed { error, .. } => {
            assert_eq!(error.path, "$.request.context[\"aws:SourceIp\"][1]");
            assert!(error.message.contains("not-an-ip"), "{}", error.message);
        }
        other => panic!("{other:?}"),
    }
    // More combinations than are decided: an error record that says so.
    let many: Vec<String> = (0..9).map(|i| format!("203.0.113.{i}")).collect();
    match listed_case(
        serde_json::json!({"aws:SourceIp": many, "aws:SourceVpce": many.iter().map(|i| format!("vpce-{i}")).collect::<Vec<_>>()}),
    ) {
        DecisionRecord::Failed { error, .. } => {
            assert!(
                error.message.contains("81 combinations"),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }
    // A multivalued key's list is a list, no warning.
    let (d, _, warnings) = decided(listed_case(serde_json::json!({
        "aws:SourceIp": "203.0.113.7", "aws:CalledVia": ["athena.amazonaws.com"]})));
    assert_eq!(d, Decision::Allow);
    assert!(
        !warnings.iter().any(|w| w.contains("one value")),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Feed paths in network files (issue 14, item 6)

/// A network whose Zscaler egress reads the CENR feed `path`.
fn network_with_feed(path: &str) -> String {
    serde_json::json!({"name": "n", "region": "eu-west-1", "account": "111122223333",
        "principal": "arn:aws:iam::111122223333:role/DataSci", "domain_id": "d-abc123", "user_profile": "alice",
        "client": {"ip": "10.20.1.5", "egress": {"kind": "zscaler", "cenr": {"path": path}}},
        "create": {"via": "client"}})
    .to_string()
}

fn feed_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("iamgate-feeds-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("net")).unwrap();
    d
}

const SAMPLE_CENR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/corpus/networks/feeds/zscaler-cenr-sample.json"
);

#[test]
fn feed_paths_stay_in_the_network_files_folder() {
    use iamgate::network::Network;
    let d = feed_dir("outside");
    let net = d.join("net");
    std::fs::copy(SAMPLE_CENR, net.join("cenr.json")).unwrap();
    std::fs::copy(SAMPLE_CENR, d.join("outside.json")).unwrap();
    std::os::unix::fs::symlink(d.join("outside.json"), net.join("link-out.json")).unwrap();
    std::os::unix::fs::symlink(net.join("cenr.json"), net.join("link-in.json")).unwrap();
    // Inside the folder, directly or through a link that stays in it: read.
    for ok in ["cenr.json", "./cenr.json", "link-in.json"] {
        let n = Network::parse(&network_with_feed(ok), Some(&net)).unwrap();
        assert_eq!(n.client.egress.as_ref().unwrap().feeds.len(), 8, "{ok}");
    }
    let outside = d.join("outside.json").display().to_string();
    for bad in [
        "../outside.json",
        "sub/../../outside.json",
        outside.as_str(),
        "/etc/passwd",
        "link-out.json",
    ] {
        let e = Network::parse(&network_with_feed(bad), Some(&net)).unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "feed `{bad}` is outside the network file's folder; a network file may only name feeds in its folder (name the file with `--feed` to allow it)"
            ),
            "{bad}"
        );
        assert_eq!(e.path, "$.client.egress.cenr");
    }
    // Named by the user, a feed may be anywhere, by any path that leads to it.
    for named in [outside.as_str(), "../outside.json", "link-out.json"] {
        let n = Network::parse_allowing_feeds(
            &network_with_feed(named),
            Some(&net),
            &[d.join("outside.json")],
        )
        .unwrap();
        assert_eq!(n.client.egress.as_ref().unwrap().feeds.len(), 8, "{named}");
    }
    // Naming one file allows no other.
    let e = Network::parse_allowing_feeds(
        &network_with_feed("/etc/passwd"),
        Some(&net),
        &[d.join("outside.json")],
    )
    .unwrap_err();
    assert!(e.message.contains("outside the network file's folder"));
}

#[test]
fn feeds_that_never_end_block_or_leak_are_refused() {
    use iamgate::network::Network;
    let d = feed_dir("special");
    let net = d.join("net");
    // A FIFO nobody writes (reading it would block for ever), a device that never ends, a folder.
    assert!(
        std::process::Command::new("mkfifo")
            .arg(net.join("fifo.json"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", net.join("zero.json")).unwrap();
    std::fs::create_dir(net.join("dir.json")).unwrap();
    for (name, named) in [
        ("fifo.json", false),
        ("dir.json", false),
        ("zero.json", true),
    ] {
        // `/dev/zero` lies outside: even named by the user, it is no regular file.
        let allowed = if named { vec![net.join(name)] } else { vec![] };
        let e = Network::parse_allowing_feeds(&network_with_feed(name), Some(&net), &allowed)
            .unwrap_err();
        assert_eq!(
            e.message,
            format!("feed `{name}` is not a regular file (a FIFO, a device or a folder)")
        );
    }
    // Larger than the cap: refused after reading one byte past it.
    let big = std::fs::File::create(net.join("big.json")).unwrap();
    big.set_len(64 << 20 | 1).unwrap();
    let e = Network::parse(&network_with_feed("big.json"), Some(&net)).unwrap_err();
    assert_eq!(
        e.message,
        "feed `big.json` is larger than the limit of 67108864 bytes"
    );
    // A file that is not a feed: its text never shows in the message.
    std::fs::write(net.join("passwd.json"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    std::fs::write(
        net.join("secret.json"),
        r#"{"aws_secret_access_key": "wJalrXUtnFEMI"}"#,
    )
    .unwrap();
    for name in ["passwd.json", "secret.json"] {
        let e = Network::parse(&network_with_feed(name), Some(&net)).unwrap_err();
        assert!(
            e.message.starts_with(&format!("in feed `{name}`: ")),
            "{}",
            e.message
        );
        for secret in ["root", "bin/bash", "aws_secret", "wJalr"] {
            assert!(!e.message.contains(secret), "{}", e.message);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// A compile error's place in a case (issue 14, item 15)

#[test]
fn a_compile_error_names_the_case_path_and_the_column_in_the_case_line() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
    // The error points at the `Principal` value.
    let in_policy = policy.find(r#""*","Action""#).unwrap() + 1;
    for (field, wrap) in [
        ("identity_policies", true),
        ("session_policies", true),
        ("permissions_boundary", false),
    ] {
        let value = if wrap {
            format!("[{policy}]")
        } else {
            policy.to_string()
        };
        let line = format!(
            r#"{{"id":"x","{field}":{value},"request":{{"action":"s3:GetObject","resource":"*"}}}}"#
        );
        let DecisionRecord::Failed { error, .. } = decide_case(&line, false) else {
            panic!("{field}: decided");
        };
        let path = if wrap {
            format!("$.{field}[0]")
        } else {
            format!("$.{field}")
        };
        assert_eq!(error.path, path);
        assert_eq!(error.line, 1);
        // The column in the case line, where the policy's `Principal` value is.
        assert_eq!(
            error.column,
            line.find(policy).unwrap() + in_policy,
            "{field}"
        );
        assert!(
            error.message.contains("`Principal` is not allowed"),
            "{}",
            error.message
        );
    }
    // A policy given as a string: the place within its text, said so.
    let line = serde_json::json!({"id": "y", "scps": [[policy]],
        "request": {"action": "s3:GetObject", "resource": "*"}})
    .to_string();
    let DecisionRecord::Failed { error, .. } = decide_case(&line, false) else {
        panic!("decided");
    };
    assert_eq!(error.path, "$.scps[0][0]");
    assert_eq!((error.line, error.column), (1, in_policy));
    assert!(
        error.message.ends_with("(in the policy text)"),
        "{}",
        error.message
    );
}

// ---------------------------------------------------------------------------------------------------------
// Lint's findings in decision records (issue 14, item 11)

#[test]
fn a_malformed_cidr_is_not_silent_in_a_decision_record() {
    let line = r#"{"id":"c","identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}}]}],"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","context":{"aws:SourceIp":"203.0.113.7"}}}"#;
    let rec = serde_json::to_value(decide_case(line, false)).unwrap();
    // AWS accepts the policy and the value never matches (docs/SEMANTICS.md §9 row 13): Allow, and the record says why.
    assert_eq!(rec["decision"], "Allow");
    let column = line.find(r#""203.0.113.0/33""#).unwrap() + 1;
    let lint = codes(&line[31..line.find(r#"],"request""#).unwrap()]);
    assert!(
        lint.iter().any(|(c, _)| *c == "value-never-matches"),
        "{lint:?}"
    );
    assert_eq!(
        rec["warnings"][0],
        format!(
            "$.identity_policies[0]: lint error[value-never-matches]: `203.0.113.0/33` is not an IP address or CIDR block, so it never matches under `IpAddress` (line 1, column {column})"
        )
    );
}

#[test]
fn a_policy_iam_would_refuse_is_an_error_record() {
    for (policy, message) in [
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
            "statement id `A` is used twice",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Allow all","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            "IAM refuses the statement id `Allow all`",
        ),
    ] {
        let line = format!(
            r#"{{"id":"r","identity_policies":[{policy}],"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
        );
        let DecisionRecord::Failed { id, error } = decide_case(&line, false) else {
            panic!("{policy}: decided");
        };
        assert_eq!(id.as_deref(), Some("r"));
        assert_eq!(error.path, "$.identity_policies[0]");
        assert!(error.message.contains(message), "{}", error.message);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Many keys (issue 14 item 4): each used to be quadratic somewhere

/// `n` distinct lowercase words of four letters, ascending.
fn words(n: usize) -> Vec<String> {
    (0..n)
        .map(|mut i| {
            let mut w = [b'a'; 4];
            for c in w.iter_mut().rev() {
                *c = b'a' + (i % 26) as u8;
                i /= 26;
            }
            String::from_utf8(w.to_vec()).unwrap()
        })
        .collect()
}

/// 116,000 context keys in descending order (a 1 MiB line): each insert shifted every key after it; now the
/// reader checks repeats through a hash set and sorts once. The condition's key sits in the middle.
#[test]
fn a_mebibyte_of_context_keys_in_descending_order_decides() {
    let keys = words(116_000);
    let context: Vec<String> = keys.iter().rev().map(|k| format!(r#""{k}":0"#)).collect();
    let policy = allow_if(r#"{"NumericEquals":{"DAAA":"0"}}"#);
    let line = format!(
        r#"{{"identity_policies":[{policy}],"request":{{"action":"{ACTION}","resource":"{PROFILE}","context":{{{}}}}}}}"#,
        context.join(",")
    );
    assert!(
        line.len() > 1_000_000 && line.len() < 1 << 20,
        "{}",
        line.len()
    );
    let record = decide_case(&line, false);
    assert_eq!(
        record.decision(),
        Some(Decision::Allow),
        "{:?}",
        format!("{record:?}").chars().take(300).collect::<String>()
    );
    // A refused value among them names its own key; a repeat in another case is still found.
    let bad = line.replacen(r#""daaa":0"#, r#""aws:SourceIp":0"#, 1);
    match decide_case(&bad, false) {
        DecisionRecord::Failed { error, .. } => {
            assert_eq!(error.path, "$.request.context[\"aws:SourceIp\"]");
            assert!(
                error.message.contains("not an IP address"),
                "{}",
                error.message
            );
        }
        other => panic!("{other:?}"),
    }
    let twice = line.replacen(r#""daab":0"#, r#""DAAA":1"#, 1);
    match decide_case(&twice, false) {
        DecisionRecord::Failed { error, .. } => {
            assert!(error.message.contains("appears twice"), "{}", error.message);
        }
        other => panic!("{other:?}"),
    }
}

/// 80,000 condition keys under one operator (a 1 MiB policy): the parser compared each key with all earlier
/// ones. It still finds an exact repeat and points at both places, and `validate` still finds a key repeated in
/// another case.
#[test]
fn eighty_thousand_condition_keys_under_one_operator_parse_and_validate() {
    let keys: Vec<String> = words(80_000)
        .iter()
        .map(|k| format!(r#""t:{k}":"v""#))
        .collect();
    let text = allow_if(&format!(r#"{{"StringEquals":{{{}}}}}"#, keys.join(",")));
    assert!(text.len() < 1 << 20);
    let p = Policy::parse(&text).unwrap();
    assert_eq!(p.statements[0].conditions.len(), 80_000);
    let twin = text.replacen(r#""t:aaab":"v""#, r#""T:AAAA":"v""#, 1);
    let d: Vec<_> = validate(&Policy::parse(&twin).unwrap(), PolicyKind::Identity)
        .into_iter()
        .filter(|d| d.code == "duplicate-condition-key")
        .collect();
    assert_eq!(d.len(), 1);
    let first = text.find(r#""t:aaaa""#).unwrap() as u32;
    assert_eq!(d[0].related[0].0.start, first);
    let repeat = text.replacen(r#""t:zzzz":"v""#, r#""t:aaaa":"w""#, 1);
    let repeat = if repeat == text {
        text.replacen(r#""t:eluz":"v""#, r#""t:aaaa":"w""#, 1)
    } else {
        repeat
    };
    let e = Policy::parse(&repeat).unwrap_err();
    let dup = &e.diagnostics[0];
    assert_eq!(dup.code, "duplicate-key");
    assert_eq!(dup.related[0].0.start, first);
}
