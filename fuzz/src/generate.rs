//! Structured inputs from `arbitrary`: small policies, requests and contexts built from value pools that overlap
//! on purpose (so that conditions match often), rendered as a Case JSON line (docs/FORMATS.md §1).
//!
//! Every pool mixes well-formed values with the spellings that trip evaluators: wildcards under StringEquals,
//! variables with and without defaults, escapes, case variants, malformed CIDRs, numbers beyond f64, dates in
//! every form, base-64 in both alphabets.

use arbitrary::Arbitrary;
use serde_json::{Map, Value, json};

pub const PRINCIPAL_PATTERNS: &[&str] = &[
    "*",
    "111122223333",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::111122223333:role/DataSci",
    "arn:aws:iam::111122223333:role/path/DataSci",
    "arn:aws:sts::111122223333:assumed-role/DataSci/alice",
    "444455556666",
    "arn:aws:iam::444455556666:role/Other",
    "sagemaker.amazonaws.com",
    "arn:aws:iam::111122223333:user/alice",
];

pub const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:role/DataSci",
    "arn:aws:sts::111122223333:assumed-role/DataSci/alice",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:role/Other",
    "111122223333",
    "sagemaker.amazonaws.com",
    "arn:aws:iam::111122223333:user/alice",
];

pub const ACTION_PATTERNS: &[&str] = &[
    "*",
    "sagemaker:*",
    "sagemaker:CreatePresignedDomainUrl",
    "SageMaker:createpresigned*",
    "sagemaker:Describe?serProfile",
    "s3:GetObject",
    "s3:*",
    "kms:Decrypt",
    "s3:*Object",
    "sagemaker:Create*",
    "s3:Get?bject",
    "sts:*",
];

pub const ACTIONS: &[&str] = &[
    "sagemaker:CreatePresignedDomainUrl",
    "sagemaker:DescribeUserProfile",
    "s3:GetObject",
    "kms:Decrypt",
    "sts:AssumeRole",
    "ec2:RunInstances",
];

pub const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
    "arn:aws:sagemaker:*:111122223333:user-profile/d-abc123/*",
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/*/${aws:username}",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'dflt'}/*",
    "arn:aws:*:*:*:*",
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/al?ce",
    "not-an-arn",
    "arn:aws:s3:::bucket/${*}",
    "arn:aws:sagemaker:eu-west-1:444455556666:*",
    "arn:aws:s3:::bucket/${aws:username}",
];

pub const RESOURCES: &[&str] = &[
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
    "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-other/bob",
    "arn:aws:s3:::bucket/dflt/x",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/team-a/k",
    "*",
    "arn:aws:sagemaker:eu-west-1:444455556666:user-profile/d-x/y",
    "arn:aws:s3:::bucket/alice",
    "arn:aws:iam::111122223333:role/Admin",
];

pub const KEYS: &[&str] = &[
    "aws:SourceIp",
    "aws:SourceVpce",
    "AWS:sourcevpce",
    "aws:SourceVpc",
    "aws:VpcSourceIp",
    "aws:ViaAWSService",
    "aws:username",
    "aws:PrincipalTag/team",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:CalledVia",
    "aws:PrincipalArn",
    "test:Blob",
    "test:Num",
    "test:Any",
];

/// Condition values: every family's well-formed and malformed spellings, in one pool.
pub const VALUES: &[&str] = &[
    // IP
    "198.51.100.0/24",
    "198.51.100.7",
    "203.0.113.0/25",
    "0.0.0.0/0",
    "::/0",
    "2001:db8::/32",
    "2001:db8::7",
    "::ffff:198.51.100.7",
    "10.0.0.0/8",
    "198.51.100.7/33",
    "010.0.0.1",
    "198.51.100.7/024",
    "203.0.113.77/25",
    // strings
    "vpce-0api0000000000001",
    "vpce-0studio000000002",
    "VPCE-0API0000000000001",
    "vpce-0api*",
    "vpce-*",
    "*",
    "?",
    "",
    "vpc-0shared00000000001",
    "alice",
    "ALICE",
    "al?ce",
    "${aws:username}",
    "${aws:PrincipalTag/team, 'dflt'}",
    "dflt",
    "${*}",
    "a*b",
    "${unclosed",
    "team-a",
    "ÄBC",
    "äbc",
    "${ aws:username }",
    "${aws:username,'x'}",
    "vpce-${aws:username}",
    // ARN
    "arn:aws:iam::111122223333:role/DataSci",
    "arn:aws:iam::*:role/*",
    "arn:aws:iam::111122223333:role/${aws:username}",
    "arn:aws:sts::111122223333:assumed-role/DataSci/alice",
    // numbers
    "10",
    "10.0",
    "-1",
    "1e3",
    "0",
    "abc",
    "1e400",
    "+5",
    // dates
    "2024-03-01",
    "2024-03-01T00:00:00Z",
    "1709251200",
    "2024",
    "2024-03-01T01:00:00+01:00",
    "99999999999999999999999999999",
    "-5",
    "yesterday",
    // booleans
    "true",
    "false",
    "TRUE",
    "True",
    "yes",
    // binary
    "aGk=",
    "aGk",
    "aG8=",
    "dHJ1ZQ==",
    "!!",
    "a-_b",
];

pub const SOURCE_IPS: &[&str] = &[
    "198.51.100.7",
    "198.51.100.255",
    "203.0.113.200",
    "203.0.113.77",
    "10.1.2.3",
    "2001:db8::7",
    "::ffff:198.51.100.7",
    "0.0.0.0",
    "255.255.255.255",
    "::",
];

pub const CONTEXT_STRINGS: &[&str] = &[
    "vpce-0api0000000000001",
    "vpce-0studio000000002",
    "VPCE-0API0000000000001",
    "vpce-0api",
    "vpce-*",
    "vpc-0shared00000000001",
    "alice",
    "ALICE",
    "äbc",
    "ÄBC",
    "",
    "*",
    "team-a",
    "dflt",
    "a*b",
    "axxb",
    "athena.amazonaws.com",
    "sagemaker.amazonaws.com",
    "arn:aws:iam::111122223333:role/DataSci",
    "arn:aws:sts::111122223333:assumed-role/DataSci/alice",
    "10",
    "1e3",
    "abc",
    "2024-03-01",
    "2024-03-01T00:00:00Z",
    "1709251200",
    "true",
    "TRUE",
    "aGk=",
    "aGk",
    "dHJ1ZQ",
    "198.51.100.7",
];

pub const DATES: &[&str] = &[
    "2024-03-01",
    "2024-03-01T00:00:00Z",
    "2024-02-29T23:59:59Z",
    "2024-03-01T00:00:00.5Z",
    "1709251200",
    "2024",
];

pub const NUMBERS: &[f64] = &[0.0, 10.0, 10.5, -1.0, 1000.0, 1709251200.0, 1e300, -0.0];

/// Pick from a pool by an arbitrary index.
fn pick<T: Copy>(pool: &[T], i: u8) -> T {
    pool[usize::from(i) % pool.len()]
}

#[derive(Arbitrary, Debug, Clone)]
pub enum GenValue {
    Pool(u8),
    Number(i16),
    Bool(bool),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct GenCondition {
    qualifier: u8,
    base: u8,
    if_exists: bool,
    key: u8,
    values: Vec<GenValue>,
    /// A single bare value instead of an array, when there is one value.
    bare: bool,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum GenPrincipal {
    Any,
    Map(Vec<(u8, Vec<u8>)>),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct GenStatement {
    sid: Option<u8>,
    deny: bool,
    principal: Option<GenPrincipal>,
    not_principal: bool,
    not_action: bool,
    actions: Vec<u8>,
    not_resource: bool,
    resources: Vec<u8>,
    conditions: Vec<GenCondition>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct GenPolicy {
    version: u8,
    single: bool,
    statements: Vec<GenStatement>,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum GenContextValue {
    One(u8),
    Many(Vec<u8>),
    Number(u8),
    Bool(bool),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct GenRequest {
    principal: Option<u8>,
    action: u8,
    resource: u8,
    resource_account: Option<bool>,
    context: Vec<(u8, GenContextValue)>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct GenCase {
    identity: Vec<GenPolicy>,
    resource: Option<GenPolicy>,
    boundary: Option<GenPolicy>,
    session: Vec<GenPolicy>,
    scps: Vec<Vec<GenPolicy>>,
    rcps: Vec<Vec<GenPolicy>>,
    endpoint: Option<GenPolicy>,
    /// The endpoint is a gateway endpoint (docs/SEMANTICS.md §1.6).
    gateway: bool,
    request: GenRequest,
}

/// Make a rendered policy one that IAM or Organizations accepts for its kind (docs/SEMANTICS.md §1.12), so that the
/// case is decided rather than refused: Sids unique, a boundary or RCP at version 2012-10-17, an RCP's
/// statements `Deny` with `Action`, a trust policy's without `Resource` and with `Principal`.
fn accepted(mut doc: Value, kind: &str) -> Value {
    if matches!(kind, "boundary" | "rcp") {
        doc["Version"] = json!("2012-10-17");
    }
    let mut seen: Vec<Value> = Vec::new();
    let statements: Vec<&mut Value> = match doc.get_mut("Statement") {
        Some(Value::Array(a)) => a.iter_mut().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    for st in statements {
        let Some(m) = st.as_object_mut() else { continue };
        if let Some(sid) = m.get("Sid").cloned() {
            if seen.contains(&sid) {
                m.remove("Sid");
            } else {
                seen.push(sid);
            }
        }
        if kind == "rcp" {
            m.insert("Effect".into(), json!("Deny"));
            if let Some(v) = m.remove("NotAction") {
                m.insert("Action".into(), v);
            }
        }
        if kind == "trust" {
            m.remove("Resource");
            m.remove("NotResource");
            if let Some(v) = m.remove("NotPrincipal") {
                m.insert("Principal".into(), v);
            }
        }
    }
    doc
}

const OPERATORS: [&str; 27] = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

/// Limits on sizes, so that inputs stay small and fast.
pub struct Caps {
    pub statements: usize,
    pub conditions: usize,
    pub values: usize,
    pub policies: usize,
}

pub const CAPS: Caps = Caps {
    statements: 4,
    conditions: 3,
    values: 3,
    policies: 3,
};

fn condition_value(v: &GenValue) -> Value {
    match v {
        GenValue::Pool(i) => json!(pick(VALUES, *i)),
        GenValue::Number(n) => json!(n),
        GenValue::Bool(b) => json!(b),
    }
}

fn render_statement(s: &GenStatement, with_principal: bool, caps: &Caps) -> Value {
    let mut st = Map::new();
    if let Some(sid) = s.sid {
        st.insert("Sid".into(), json!(format!("S{sid}")));
    }
    st.insert(
        "Effect".into(),
        json!(if s.deny { "Deny" } else { "Allow" }),
    );
    if with_principal {
        let p = match &s.principal {
            None | Some(GenPrincipal::Any) => json!("*"),
            Some(GenPrincipal::Map(m)) => {
                let mut out = Map::new();
                for (k, vs) in m.iter().take(2) {
                    let kind = pick(&["AWS", "Service", "Federated", "AWS"], *k);
                    let vals: Vec<&str> = vs
                        .iter()
                        .take(3)
                        .map(|i| pick(PRINCIPAL_PATTERNS, *i))
                        .collect();
                    out.insert(kind.into(), json!(vals));
                }
                if out.is_empty() {
                    json!("*")
                } else {
                    Value::Object(out)
                }
            }
        };
        st.insert(
            if s.not_principal {
                "NotPrincipal"
            } else {
                "Principal"
            }
            .into(),
            p,
        );
    }
    let mut actions: Vec<&str> = s
        .actions
        .iter()
        .take(3)
        .map(|i| pick(ACTION_PATTERNS, *i))
        .collect();
    if actions.is_empty() {
        actions.push("*");
    }
    st.insert(
        if s.not_action { "NotAction" } else { "Action" }.into(),
        json!(actions),
    );
    let mut resources: Vec<&str> = s
        .resources
        .iter()
        .take(3)
        .map(|i| pick(RESOURCE_PATTERNS, *i))
        .collect();
    if resources.is_empty() {
        resources.push("*");
    }
    st.insert(
        if s.not_resource {
            "NotResource"
        } else {
            "Resource"
        }
        .into(),
        json!(resources),
    );
    if !s.conditions.is_empty() {
        let mut cond = Map::new();
        for c in s.conditions.iter().take(caps.conditions) {
            let base = pick(&OPERATORS, c.base);
            let q = match c.qualifier % 4 {
                0 => "ForAllValues:",
                1 => "ForAnyValue:",
                _ => "",
            };
            let ie = if c.if_exists && base != "Null" {
                "IfExists"
            } else {
                ""
            };
            let op = format!("{q}{base}{ie}");
            let key = pick(KEYS, c.key);
            let values: Vec<Value> = c
                .values
                .iter()
                .take(caps.values)
                .map(condition_value)
                .collect();
            let v = match values.as_slice() {
                [one] if c.bare => one.clone(),
                _ => Value::Array(values),
            };
            if let Some(Value::Object(m)) = cond.get_mut(&op) {
                m.insert(key.into(), v);
            } else {
                let mut block = Map::new();
                block.insert(key.into(), v);
                cond.insert(op, Value::Object(block));
            }
        }
        st.insert("Condition".into(), Value::Object(cond));
    }
    Value::Object(st)
}

/// A policy as a JSON object. `with_principal` for resource, endpoint and RCPs (docs/SEMANTICS.md §1.6).
pub fn render_policy(p: &GenPolicy, with_principal: bool, caps: &Caps) -> Value {
    let mut doc = Map::new();
    match p.version % 4 {
        0 | 1 => {
            doc.insert("Version".into(), json!("2012-10-17"));
        }
        2 => {
            doc.insert("Version".into(), json!("2008-10-17"));
        }
        _ => {}
    }
    let mut statements: Vec<Value> = p
        .statements
        .iter()
        .take(caps.statements)
        .map(|s| render_statement(s, with_principal, caps))
        .collect();
    if statements.is_empty() {
        statements.push(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
        if with_principal {
            statements[0]["Principal"] = json!("*");
        }
    }
    let statement = if p.single && statements.len() == 1 {
        statements.remove(0)
    } else {
        Value::Array(statements)
    };
    doc.insert("Statement".into(), statement);
    Value::Object(doc)
}

/// A context value for `key`, from the pool that suits its documented type (so that the case is accepted).
fn context_value(key: &str, v: &GenContextValue) -> Value {
    let lower = key.to_ascii_lowercase();
    match lower.as_str() {
        "aws:sourceip" | "aws:vpcsourceip" => match v {
            GenContextValue::One(i) | GenContextValue::Number(i) => json!(pick(SOURCE_IPS, *i)),
            GenContextValue::Many(l) => json!(
                l.iter()
                    .take(3)
                    .map(|i| pick(SOURCE_IPS, *i))
                    .collect::<Vec<_>>()
            ),
            GenContextValue::Bool(_) => json!("198.51.100.7"),
        },
        "aws:viaawsservice" => match v {
            GenContextValue::Bool(b) => json!(b),
            GenContextValue::One(i) => json!(pick(&["true", "false", "TRUE", "False"], *i)),
            GenContextValue::Many(l) => {
                json!(l.iter().take(2).map(|i| i % 2 == 0).collect::<Vec<_>>())
            }
            GenContextValue::Number(_) => json!(false),
        },
        "aws:currenttime" => match v {
            GenContextValue::Number(i) => json!(pick(&[1709251200.0, 0.0, -1.0, 1709251200.5], *i)),
            GenContextValue::Many(l) => json!(
                l.iter()
                    .take(3)
                    .map(|i| pick(DATES, *i))
                    .collect::<Vec<_>>()
            ),
            GenContextValue::One(i) => json!(pick(DATES, *i)),
            GenContextValue::Bool(_) => json!("2024-03-01"),
        },
        "aws:epochtime" => match v {
            GenContextValue::Number(i) | GenContextValue::One(i) => json!(pick(NUMBERS, *i)),
            GenContextValue::Many(l) => json!(
                l.iter()
                    .take(3)
                    .map(|i| pick(NUMBERS, *i))
                    .collect::<Vec<_>>()
            ),
            GenContextValue::Bool(_) => json!("10"),
        },
        _ => match v {
            GenContextValue::One(i) => json!(pick(CONTEXT_STRINGS, *i)),
            GenContextValue::Many(l) => json!(
                l.iter()
                    .take(3)
                    .map(|i| pick(CONTEXT_STRINGS, *i))
                    .collect::<Vec<_>>()
            ),
            GenContextValue::Number(i) => json!(pick(NUMBERS, *i)),
            GenContextValue::Bool(b) => json!(b),
        },
    }
}

/// The request as a JSON object, leaving out the keys in `skip` (lowercase).
pub fn render_request(r: &GenRequest, skip: &[&str]) -> Value {
    let mut req = Map::new();
    if let Some(p) = r.principal {
        req.insert("principal".into(), json!(pick(PRINCIPALS, p)));
    }
    req.insert("action".into(), json!(pick(ACTIONS, r.action)));
    req.insert("resource".into(), json!(pick(RESOURCES, r.resource)));
    if let Some(same) = r.resource_account {
        req.insert(
            "resource_account".into(),
            json!(if same { "111122223333" } else { "444455556666" }),
        );
    }
    let mut ctx = Map::new();
    for (k, v) in r.context.iter().take(6) {
        let key = pick(KEYS, *k);
        let lower = key.to_ascii_lowercase();
        // Keys are case-insensitive: a second spelling of one key is an error, so keep the first.
        if skip.contains(&lower.as_str()) || ctx.keys().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        ctx.insert(key.into(), context_value(key, v));
    }
    req.insert("context".into(), Value::Object(ctx));
    Value::Object(req)
}

impl GenCase {
    /// The case as one JSON line.
    pub fn render(&self) -> String {
        let caps = &CAPS;
        let mut case = Map::new();
        case.insert(
            "identity_policies".into(),
            Value::Array(
                self.identity
                    .iter()
                    .take(caps.policies)
                    .map(|p| accepted(render_policy(p, false, caps), "identity"))
                    .collect(),
            ),
        );
        let trust = pick(ACTIONS, self.request.action) == "sts:AssumeRole"
            && pick(RESOURCES, self.request.resource).contains(":role/");
        if let Some(p) = &self.resource {
            let kind = if trust { "trust" } else { "resource" };
            case.insert(
                "resource_policy".into(),
                accepted(render_policy(p, true, caps), kind),
            );
        }
        if let Some(p) = &self.boundary {
            case.insert(
                "permissions_boundary".into(),
                accepted(render_policy(p, false, caps), "boundary"),
            );
        }
        if !self.session.is_empty() {
            case.insert(
                "session_policies".into(),
                Value::Array(
                    self.session
                        .iter()
                        .take(2)
                        .map(|p| accepted(render_policy(p, false, caps), "session"))
                        .collect(),
                ),
            );
        }
        for (field, levels, principal) in [("scps", &self.scps, false), ("rcps", &self.rcps, true)]
        {
            if !levels.is_empty() {
                let levels: Vec<Value> = levels
                    .iter()
                    .take(2)
                    .map(|l| {
                        Value::Array(
                            l.iter()
                                .take(2)
                                .map(|p| {
                                    let kind = if principal { "rcp" } else { "scp" };
                                    accepted(render_policy(p, principal, caps), kind)
                                })
                                .collect(),
                        )
                    })
                    .collect();
                case.insert(field.into(), Value::Array(levels));
            }
        }
        if let Some(p) = &self.endpoint {
            case.insert("endpoint_policy".into(), render_policy(p, true, caps));
            if self.gateway {
                case.insert("endpoint_kind".into(), json!("gateway"));
            }
        }
        case.insert("request".into(), render_request(&self.request, &[]));
        Value::Object(case).to_string()
    }
}

/// A reach input (see `checks::reach_agrees_with_decide_json`): identity policies, maybe a boundary and an
/// SCP level, the two endpoints with their policies, and a template request without network keys.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenReach {
    identity: Vec<GenPolicy>,
    boundary: Option<GenPolicy>,
    scp: Option<GenPolicy>,
    api: Option<(u8, Option<GenPolicy>)>,
    studio: Option<(u8, Option<GenPolicy>)>,
    request: GenRequest,
}

pub const ENDPOINT_IDS: &[&str] = &[
    "vpce-0api0000000000001",
    "vpce-0studio000000002",
    "vpce-0other00000000003",
];

impl GenReach {
    pub fn render(&self) -> String {
        let caps = Caps {
            statements: 3,
            conditions: 2,
            values: 2,
            policies: 2,
        };
        let mut case = Map::new();
        let mut identity: Vec<Value> = self
            .identity
            .iter()
            .take(caps.policies)
            .map(|p| accepted(render_policy(p, false, &caps), "identity"))
            .collect();
        if identity.is_empty() {
            identity.push(json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}));
        }
        case.insert("identity_policies".into(), Value::Array(identity));
        if let Some(p) = &self.boundary {
            case.insert(
                "permissions_boundary".into(),
                accepted(render_policy(p, false, &caps), "boundary"),
            );
        }
        if let Some(p) = &self.scp {
            case.insert(
                "scps".into(),
                json!([[accepted(render_policy(p, false, &caps), "scp")]]),
            );
        }
        let network = [
            "aws:sourceip",
            "aws:sourcevpc",
            "aws:sourcevpce",
            "aws:vpcsourceip",
            "aws:viaawsservice",
        ];
        case.insert("request".into(), render_request(&self.request, &network));
        let endpoint = |e: &Option<(u8, Option<GenPolicy>)>| match e {
            None => Value::Null,
            Some((id, p)) => json!([
                pick(ENDPOINT_IDS, *id),
                p.as_ref().map(|p| render_policy(p, true, &caps))
            ]),
        };
        json!({"case": Value::Object(case), "api_endpoint": endpoint(&self.api), "studio_endpoint": endpoint(&self.studio)}).to_string()
    }
}
