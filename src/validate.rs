//! Advice about a parsed policy: Access-Analyzer-style errors and warnings (docs/SEMANTICS.md §1–§3 and §7).
//!
//! [`Policy::parse`] already rejects what no evaluation could use. This module looks for what parses but does
//! not do what its author most likely meant: values that never match, keys that are never in the request,
//! operators that widen an Allow, Denies that lock out VPC-endpoint traffic, and the rules IAM or Organizations
//! enforce when a policy is saved but the parser leaves alone (Sid characters, size, character set).
//!
//! Every finding has a stable kebab-case code, the span of the element it is about and a help text that says
//! what to write instead. Findings are sorted by position.

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::parse::json::{self, Value};
use crate::policy::arn;
use crate::policy::operator::{BaseOperator, Family, Operator, Qualifier};
use crate::policy::value::{
    Timestamp, decode_base64, parse_bool, parse_cidr, parse_ip, parse_number,
};
use crate::policy::{Condition, Effect, Policy, Principal, PrincipalKind, Statement, Version};
use crate::span::Span;
use ipnet::IpNet;
use std::net::IpAddr;

/// What kind of policy is being checked (some rules depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// An identity-based policy (managed or inline) attached to a user, group or role.
    Identity,
    /// A resource-based policy, including a role trust policy.
    Resource,
    /// A permissions boundary.
    Boundary,
    /// A session policy passed to `AssumeRole` and friends.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A VPC endpoint policy.
    Endpoint,
    /// A role trust policy: a resource-based policy with no `Resource` (the role is the resource).
    Trust,
    /// A KMS key policy.
    Key,
}

impl PolicyKind {
    /// Policies that IAM itself stores: IAM's Sid rule applies (docs/SEMANTICS.md §1.4) and `Id` is not expected
    /// (§1.3).
    pub(crate) fn is_iam(self) -> bool {
        matches!(
            self,
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session | PolicyKind::Trust
        )
    }

    /// Whether statements carry a `Principal` (§1.6; same rule as `PolicyRef::needs_principal`).
    fn takes_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource
                | PolicyKind::Endpoint
                | PolicyKind::Rcp
                | PolicyKind::Trust
                | PolicyKind::Key
        )
    }

    fn describe(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policies",
            PolicyKind::Resource => "resource-based policies",
            PolicyKind::Boundary => "permissions boundaries",
            PolicyKind::Session => "session policies",
            PolicyKind::Scp => "service control policies",
            PolicyKind::Rcp => "resource control policies",
            PolicyKind::Endpoint => "VPC endpoint policies",
            PolicyKind::Trust => "role trust policies",
            PolicyKind::Key => "KMS key policies",
        }
    }
}

/// Check `policy` as a policy of `kind` and return every finding, sorted by position.
///
/// ```
/// use iamgate::validate::{validate, PolicyKind};
/// let p = iamgate::Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///   "Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
///   "Condition":{"StringEquals":{"aws:SourceVpcID":"vpc-0abc"}}}]}"#).unwrap();
/// let d = validate(&p, PolicyKind::Identity);
/// assert_eq!(d[0].code, "unknown-global-key");
/// assert_eq!(d[0].span.line_col(p.source()), (3, 32));
/// assert!(d[0].help.as_deref().unwrap().starts_with("did you mean `aws:SourceVpc`?"));
/// ```
pub fn validate(policy: &Policy, kind: PolicyKind) -> Vec<Diagnostic> {
    let mut v = Validator {
        policy,
        kind,
        out: Vec::new(),
    };
    v.characters();
    v.size();
    v.document();
    v.sids();
    for st in &policy.statements {
        v.statement(st);
    }
    let mut out = v.out;
    // What IAM or Organizations refuses when the policy is saved (the Sid and date rules are reported above).
    out.extend(
        crate::refuse::refusals(policy, kind)
            .into_iter()
            .filter(|d| {
                !matches!(
                    d.code,
                    "invalid-sid" | "duplicate-sid" | "value-never-matches"
                )
            }),
    );
    out.sort_by_key(|d| (d.span.start, d.span.end));
    out
}

// ---------------------------------------------------------------------------------------------------------
// Global condition keys.

/// What a global condition key holds, for the operator-type check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    String,
    Arn,
    Ip,
    Bool,
    Date,
    Numeric,
    /// `aws:EpochTime`: works with Date and Numeric operators (§3.5).
    Epoch,
}

/// One global condition key: canonical spelling, whether the request carries it as a list (§3.4), type.
struct GlobalKey {
    name: &'static str,
    multivalued: bool,
    ty: KeyType,
}

const fn key(name: &'static str, multivalued: bool, ty: KeyType) -> GlobalKey {
    GlobalKey {
        name,
        multivalued,
        ty,
    }
}

/// The global keys of docs/SEMANTICS.md §5 and the AWS global condition key reference. Order matters only for
/// did-you-mean ties (`aws:SourceVpc` before `aws:SourceVpce`).
const GLOBAL_KEYS: [GlobalKey; 44] = [
    key("aws:SourceIp", false, KeyType::Ip),
    key("aws:SourceVpc", false, KeyType::String),
    key("aws:SourceVpce", false, KeyType::String),
    key("aws:VpcSourceIp", false, KeyType::Ip),
    key("aws:SourceVpcArn", false, KeyType::Arn),
    key("aws:ViaAWSService", false, KeyType::Bool),
    key("aws:CalledVia", true, KeyType::String),
    key("aws:CalledViaFirst", false, KeyType::String),
    key("aws:CalledViaLast", false, KeyType::String),
    key("aws:PrincipalArn", false, KeyType::Arn),
    key("aws:PrincipalAccount", false, KeyType::String),
    key("aws:PrincipalOrgID", false, KeyType::String),
    key("aws:PrincipalOrgPaths", true, KeyType::String),
    key("aws:PrincipalType", false, KeyType::String),
    key("aws:PrincipalIsAWSService", false, KeyType::Bool),
    key("aws:PrincipalServiceName", false, KeyType::String),
    key("aws:PrincipalServiceNamesList", true, KeyType::String),
    key("aws:userid", false, KeyType::String),
    key("aws:username", false, KeyType::String),
    key("aws:SourceAccount", false, KeyType::String),
    key("aws:SourceArn", false, KeyType::Arn),
    key("aws:SourceOrgID", false, KeyType::String),
    key("aws:SourceOrgPaths", true, KeyType::String),
    key("aws:RequestedRegion", false, KeyType::String),
    key("aws:TagKeys", true, KeyType::String),
    key("aws:ResourceAccount", false, KeyType::String),
    key("aws:ResourceOrgID", false, KeyType::String),
    key("aws:ResourceOrgPaths", true, KeyType::String),
    key("aws:CurrentTime", false, KeyType::Date),
    key("aws:EpochTime", false, KeyType::Epoch),
    key("aws:TokenIssueTime", false, KeyType::Date),
    key("aws:MultiFactorAuthAge", false, KeyType::Numeric),
    key("aws:MultiFactorAuthPresent", false, KeyType::Bool),
    key("aws:SecureTransport", false, KeyType::Bool),
    key("aws:Referer", false, KeyType::String),
    key("aws:UserAgent", false, KeyType::String),
    key("aws:FederatedProvider", false, KeyType::String),
    key("aws:SourceIdentity", false, KeyType::String),
    key("aws:ec2InstanceSourceVpc", false, KeyType::String),
    key("aws:ec2InstanceSourcePrivateIPv4", false, KeyType::Ip),
    key("aws:VpceAccount", false, KeyType::String),
    key("aws:VpceOrgID", false, KeyType::String),
    key("aws:VpceOrgPaths", true, KeyType::String),
    key("aws:AssumedRoot", false, KeyType::Bool),
];

/// Global keys with a tag-key suffix: `aws:PrincipalTag/<tag-key>` and so on. Single-valued strings.
const TAG_KEYS: [&str; 3] = ["aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/"];

/// Keys a SageMaker request never carries although they are global keys (§5.1, §7.5).
const NOT_FOR_SAGEMAKER: [&str; 4] = [
    "aws:sourcevpcarn",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
];

/// Keys present only on requests through a VPC endpoint, for every service (§5.2).
const ENDPOINT_KEYS: [&str; 3] = ["aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"];

/// Network keys whose presence depends on the path (§7.8).
const NETWORK_KEYS: [&str; 5] = [
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:sourcevpcarn",
];

/// Keys that exclude forward-access-session calls from a Deny (§7.15).
const FAS_KEYS: [&str; 4] = [
    "aws:viaawsservice",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
];

/// Keys naming system-generated identifiers, on which endpoint policies allow no wildcards and no numeric
/// operators (§4.1).
const ENDPOINT_ID_KEYS: [&str; 3] = ["aws:sourcevpc", "aws:sourcevpce", "aws:principalaccount"];

/// What a condition key is.
enum KeyInfo {
    /// Not an `aws:` key: a service key, not checked here.
    Service,
    Global {
        name: String,
        multivalued: bool,
        ty: KeyType,
    },
    /// An `aws:` key that does not exist.
    Unknown,
}

fn key_info(key: &str) -> KeyInfo {
    let lower = key.to_ascii_lowercase();
    if !lower.starts_with("aws:") {
        return KeyInfo::Service;
    }
    if let Some(k) = GLOBAL_KEYS
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(key))
    {
        return KeyInfo::Global {
            name: k.name.to_string(),
            multivalued: k.multivalued,
            ty: k.ty,
        };
    }
    for prefix in TAG_KEYS {
        if let Some(rest) = strip_prefix_ignore_case(key, prefix) {
            if !rest.is_empty() {
                return KeyInfo::Global {
                    name: format!("{prefix}{rest}"),
                    multivalued: false,
                    ty: KeyType::String,
                };
            }
        }
    }
    KeyInfo::Unknown
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Names people write for a network key that edit distance would not lead back to it (§7.5).
const CONFUSIONS: [(&str, &str); 10] = [
    ("aws:sourceendpoint", "aws:SourceVpce"),
    ("aws:sourcevpcendpoint", "aws:SourceVpce"),
    ("aws:vpcendpoint", "aws:SourceVpce"),
    ("aws:vpce", "aws:SourceVpce"),
    ("aws:vpcendpointid", "aws:SourceVpce"),
    ("aws:vpc", "aws:SourceVpc"),
    ("aws:vpcid", "aws:SourceVpc"),
    ("aws:ipaddress", "aws:SourceIp"),
    ("aws:sourceaddress", "aws:SourceIp"),
    ("aws:clientip", "aws:SourceIp"),
];

/// The closest real global key to a misspelled one, by edit distance (case-insensitive).
fn suggest_key(key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    // A tag key: compare the part up to and including the slash with the tag prefixes, keep the tag name.
    if let Some((head, tag)) = lower.split_once('/') {
        let head = format!("{head}/");
        let original_tag = key.get(head.len()..).unwrap_or(tag);
        return TAG_KEYS
            .iter()
            .filter_map(|p| {
                Some((
                    edit_distance_within(&head, &p.to_ascii_lowercase(), threshold(p))?,
                    *p,
                ))
            })
            .min_by_key(|(d, _)| *d)
            .map(|(_, p)| format!("{p}{original_tag}"));
    }
    if let Some((_, real)) = CONFUSIONS.iter().find(|(wrong, _)| *wrong == lower) {
        return Some((*real).to_string());
    }
    // `aws:SourceVpcID`, `aws:SourceIpAddress`: a real key with something appended.
    if let Some(k) = GLOBAL_KEYS
        .iter()
        .filter(|k| lower.starts_with(&k.name.to_ascii_lowercase()))
        .max_by_key(|k| k.name.len())
    {
        return Some(k.name.to_string());
    }
    let mut best: Option<(usize, String)> = None;
    let candidates = GLOBAL_KEYS
        .iter()
        .map(|k| (k.name.to_string(), k.name.to_ascii_lowercase()))
        .chain(TAG_KEYS.iter().map(|p| {
            let bare = p.trim_end_matches('/');
            (format!("{p}<tag-key>"), bare.to_ascii_lowercase())
        }));
    for (name, lower_name) in candidates {
        let Some(d) = edit_distance_within(&lower, &lower_name, threshold(&lower_name)) else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, name));
        }
    }
    best.map(|(_, name)| name)
}

/// How far a misspelling may be from `name` to still be suggested: half the length after `aws:`, at least 2.
fn threshold(name: &str) -> usize {
    (name.len().saturating_sub(4) / 2).max(2)
}

/// [`edit_distance`] when it is at most `max`, else `None` ([`crate::suggest::distance_within`]): a lint of
/// 40,000 unknown keys spends most of its time here.
fn edit_distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    crate::suggest::distance_within(a, b, max)
}

/// Edit distance with swaps of neighbours costing 1 (`aws:SourceVcpe` is nearer `aws:SourceVpce` than
/// `aws:SourceVpc`).
#[cfg(test)]
fn edit_distance(a: &str, b: &str) -> usize {
    crate::suggest::distance(a, b)
}

// ---------------------------------------------------------------------------------------------------------
// Policy variables.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VarProblem {
    Unclosed,
    Empty,
    Spaces,
    MissingQuote,
    DefaultSpacing,
}

/// One `${...}` in a value (escapes `${*}`, `${?}`, `${$}` are not listed).
struct VarRef<'a> {
    /// The whole `${...}` as written.
    text: &'a str,
    /// The key, trimmed, as written.
    key: &'a str,
    problem: Option<VarProblem>,
}

/// Every policy variable in `s`, with what is wrong with its spelling (§2.3: Access Analyzer rejects a missing
/// brace, a missing quote, spaces and an empty `${}`).
fn variables(s: &str) -> Vec<VarRef<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(p) = rest.find("${") {
        let Some(from) = rest.get(p..) else { break };
        let after = from.get(2..).unwrap_or("");
        if after.starts_with("*}") || after.starts_with("?}") || after.starts_with("$}") {
            rest = after.get(2..).unwrap_or("");
            continue;
        }
        let Some(q) = after.find('}') else {
            out.push(VarRef {
                text: from,
                key: "",
                problem: Some(VarProblem::Unclosed),
            });
            break;
        };
        let inner = after.get(..q).unwrap_or("");
        let text = from.get(..q + 3).unwrap_or(from);
        let (key_part, default) = match inner.split_once(',') {
            Some((k, d)) => (k, Some(d)),
            None => (inner, None),
        };
        let key = key_part.trim();
        let problem = if key.is_empty() {
            Some(VarProblem::Empty)
        } else if key_part.contains(char::is_whitespace) {
            Some(VarProblem::Spaces)
        } else if let Some(d) = default {
            let t = d.trim();
            if t.len() < 2 || !t.starts_with('\'') || !t.ends_with('\'') {
                Some(VarProblem::MissingQuote)
            } else if !d.starts_with(" '") || d.ends_with(' ') {
                Some(VarProblem::DefaultSpacing)
            } else {
                None
            }
        } else {
            None
        };
        out.push(VarRef { text, key, problem });
        rest = after.get(q + 1..).unwrap_or("");
    }
    out
}

/// `s` without its `${...}` parts (for checks on the literal text around variables).
fn without_variables(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find("${") {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p..).unwrap_or("");
        match after.find('}') {
            Some(q) => rest = after.get(q + 1..).unwrap_or(""),
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The first `${...}` of `s`, for messages.
fn first_variable(s: &str) -> &str {
    let Some(p) = s.find("${") else { return s };
    let from = s.get(p..).unwrap_or(s);
    match from.find('}') {
        Some(q) => from.get(..=q).unwrap_or(from),
        None => from,
    }
}

// ---------------------------------------------------------------------------------------------------------
// IP ranges.

use crate::policy::value::is_private;

/// Whether the address part of an IP value has bits set after the prefix (`203.0.113.7/24`).
fn has_host_bits(text: &str, net: &IpNet) -> bool {
    let addr = text.split_once('/').map_or(text, |(a, _)| a);
    parse_ip(addr).is_some_and(|a| a != net.network())
}

fn is_ipv4_mapped(net: &IpNet) -> bool {
    match net.addr() {
        IpAddr::V6(a) => a.to_ipv4_mapped().is_some() && net.prefix_len() >= 96,
        IpAddr::V4(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// The checks.

struct Validator<'p> {
    policy: &'p Policy,
    kind: PolicyKind,
    out: Vec<Diagnostic>,
}

/// Actions that have no `Resource` in a role trust policy (§1.8).
const TRUST_ACTIONS: [&str; 6] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

impl Validator<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// §1.1: tab, LF, CR and U+0020–U+00FF only. One finding per run of bad characters, at most 20.
    fn characters(&mut self) {
        const MAX: usize = 20;
        let src = self.policy.source();
        let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
        let mut run: Option<(usize, usize, char)> = None;
        let mut runs = Vec::new();
        for (i, c) in src.char_indices() {
            if allowed(c) {
                if let Some(r) = run.take() {
                    runs.push(r);
                }
                continue;
            }
            run = match run {
                Some((start, _, first)) => Some((start, i + c.len_utf8(), first)),
                None => Some((i, i + c.len_utf8(), c)),
            };
        }
        runs.extend(run);
        let total = runs.len();
        for (n, (start, end, first)) in runs.into_iter().take(MAX).enumerate() {
            let mut d = Diagnostic::error(
                "invalid-character",
                Span::new(start, end),
                format!(
                    "character `{first}` (U+{:04X}) is not allowed in a policy document",
                    u32::from(first)
                ),
            )
            .with_help(
                "policies may hold only tab, line feed, carriage return and the characters U+0020 \
                 to U+00FF; replace it with plain ASCII (for example `-` for a dash, `'` for a \
                 curly quote)",
            );
            if n + 1 == MAX && total > MAX {
                d.message
                    .push_str(&format!(" (and {} more places)", total - MAX));
            }
            self.push(d);
        }
    }

    /// §1.11: size limits per kind.
    fn size(&mut self) {
        let src = self.policy.source();
        let all = src.chars().count();
        let non_ws = src
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
            .count();
        let (count, limit, error, help) = match self.kind {
            PolicyKind::Identity | PolicyKind::Boundary => (
                non_ws,
                6_144,
                false,
                "a customer managed policy holds at most 6,144 characters not counting whitespace \
                 (inline policies share 2,048 per user, 5,120 per group, 10,240 per role); split \
                 it into several policies or use wildcards",
            ),
            PolicyKind::Session => (
                non_ws,
                2_048,
                false,
                "session policies hold at most 2,048 characters, and STS may reject smaller ones \
                 after packing; shorten the policy or pass managed policy ARNs",
            ),
            PolicyKind::Scp | PolicyKind::Rcp => (
                all,
                5_120,
                true,
                "Organizations counts every character, whitespace included, up to 5,120; minify \
                 the JSON or split the policy",
            ),
            PolicyKind::Endpoint => (
                all,
                20_480,
                true,
                "VPC endpoint policies hold at most 20,480 characters, whitespace included; \
                 minify the JSON or shorten the policy",
            ),
            PolicyKind::Trust => (
                non_ws,
                2_048,
                false,
                "a role trust policy holds at most 2,048 characters not counting whitespace (4,096 \
                 after a quota increase); shorten it",
            ),
            PolicyKind::Resource | PolicyKind::Key => return,
        };
        if count <= limit {
            return;
        }
        let what = if count == all {
            "characters"
        } else {
            "characters not counting whitespace"
        };
        let message = format!(
            "the policy has {count} {what}, more than the {limit} allowed in {}",
            self.kind.describe()
        );
        let span = self.policy.span;
        self.push(if error {
            Diagnostic::error("policy-too-large", span, message).with_help(help)
        } else {
            Diagnostic::warning("policy-too-large", span, message).with_help(help)
        });
    }

    /// §1.2, §1.3: Version and Id.
    fn document(&mut self) {
        if self.policy.version.is_none() {
            self.push(
                Diagnostic::warning(
                    "missing-version",
                    self.policy.span,
                    "the policy has no `Version`",
                )
                .with_help(
                    "add `\"Version\": \"2012-10-17\"`; without it policy variables such as \
                     `${aws:username}` are literal text",
                ),
            );
        }
        if self.kind.is_iam() {
            if let Some(id) = &self.policy.id {
                self.push(
                    Diagnostic::warning(
                        "id-in-identity-policy",
                        id.span,
                        format!("`Id` does not belong in {}", self.kind.describe()),
                    )
                    .with_help(
                        "remove the `Id` element; it is meant for resource-based policies (AWS's \
                         own SageMaker example policies carry one, but IAM's grammar does not \
                         allow it here)",
                    ),
                );
            }
        }
    }

    /// §1.4: Sid characters, empty and duplicate Sids.
    fn sids(&mut self) {
        let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
        for st in &self.policy.statements {
            let Some(sid) = &st.sid else { continue };
            if sid.value.is_empty() {
                self.push(
                    Diagnostic::warning("empty-sid", sid.span, "the statement id is empty")
                        .with_help(
                            "remove the `Sid` element or name the statement, for example \
                             `AllowStudio`",
                        ),
                );
                continue;
            }
            if !sid.value.chars().all(|c| c.is_ascii_alphanumeric()) {
                let fixed: String = sid
                    .value
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                let message = format!(
                    "statement ids (SID) must be alphanumeric, found `{}`",
                    sid.value
                );
                let d = if self.kind.is_iam() {
                    Diagnostic::error("invalid-sid", sid.span, message).with_help(format!(
                        "IAM accepts only `A-Z`, `a-z` and `0-9`; write `{fixed}` (AWS's \
                         SageMaker example policies use Sids with spaces, which IAM rejects when \
                         the policy is saved)"
                    ))
                } else {
                    Diagnostic::warning("invalid-sid", sid.span, message).with_help(format!(
                        "S3 bucket and KMS key policies accept spaces, but IAM and many services \
                         accept only `A-Z`, `a-z` and `0-9`; write `{fixed}` to be safe"
                    ))
                };
                self.push(d);
            }
            if let Some(first) = seen.get(sid.value.as_str()) {
                let first = *first;
                self.push(
                    Diagnostic::error(
                        "duplicate-sid",
                        sid.span,
                        format!("statement id `{}` is used twice", sid.value),
                    )
                    .with_related(first, "first used here")
                    .with_help("statement ids must be unique within a policy; rename one of them"),
                );
            } else {
                seen.insert(&sid.value, sid.span);
            }
        }
    }

    fn statement(&mut self, st: &Statement) {
        self.principal(st);
        self.action(st);
        self.resource(st);
        self.condition_block(st);
        let twins = case_twins(&st.conditions);
        for (c, twin) in st.conditions.iter().zip(twins) {
            self.condition(st, c);
            if let Some(first) = twin {
                self.out.push(
                    Diagnostic::error(
                        "duplicate-condition-key",
                        c.key.span,
                        format!(
                            "condition key `{}` appears twice under `{}`, differing only in case",
                            c.key.value, c.operator.value
                        ),
                    )
                    .with_related(first.key.span, "first written here")
                    .with_help("condition key names are case-insensitive: iamgate requires both conditions (AND); list all values in one array"),
                );
            }
        }
        self.network(st);
    }

    /// §1.6: Principal and NotPrincipal.
    fn principal(&mut self, st: &Statement) {
        match (&st.principal, self.kind.takes_principal()) {
            (Some(p), false) => {
                let what = if p.negated {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                self.push(
                    Diagnostic::error(
                        "principal-not-allowed",
                        p.span,
                        format!("`{what}` is not allowed in {}", self.kind.describe()),
                    )
                    .with_help(
                        "these policies apply to the principal they are attached to; remove the \
                         element (use `aws:PrincipalArn` in a condition to single out principals)",
                    ),
                );
            }
            (None, true) => {
                self.push(
                    Diagnostic::error(
                        "missing-principal",
                        st.span,
                        format!(
                            "the statement has no `Principal`, which {} require",
                            self.kind.describe()
                        ),
                    )
                    .with_help(
                        "add `\"Principal\": \"*\"` and narrow it with a condition such as \
                         `aws:PrincipalArn`",
                    ),
                );
            }
            _ => {}
        }
        let Some(p) = &st.principal else { return };
        if p.negated && st.effect.value == Effect::Allow {
            self.push(
                Diagnostic::warning(
                    "notprincipal-with-allow",
                    p.span,
                    "`NotPrincipal` with `Allow` grants access to every principal not listed, \
                     anonymous callers included",
                )
                .with_help("name the principals in `Principal` instead"),
            );
        }
        let Principal::Map(map) = &p.principal else {
            return;
        };
        for (k, values) in map {
            for v in values {
                if v.value.contains("${") {
                    self.push(
                        Diagnostic::error(
                            "variable-in-principal",
                            v.span,
                            format!(
                                "policy variables are not allowed in `Principal`, found `{}`",
                                v.value
                            ),
                        )
                        .with_help(
                            "write the principal literally, or use `aws:PrincipalArn` in a \
                             condition",
                        ),
                    );
                }
                if self.kind == PolicyKind::Endpoint
                    && k.value == PrincipalKind::Aws
                    && v.value.len() == 12
                    && v.value.bytes().all(|b| b.is_ascii_digit())
                {
                    self.push(
                        Diagnostic::warning(
                            "endpoint-account-principal",
                            v.span,
                            format!(
                                "in a gateway endpoint's policy (S3, DynamoDB) `{}` grants only that \
                                 account's root user; in an interface endpoint's policy it admits \
                                 every principal of the account",
                                v.value
                            ),
                        )
                        .with_help(format!(
                            "to admit every principal of the account through either kind write \
                             `\"Principal\": \"*\"` with `\"Condition\": {{\"StringEquals\": \
                             {{\"aws:PrincipalAccount\": \"{}\"}}}}`",
                            v.value
                        )),
                    );
                }
            }
        }
    }

    /// §1.7, §2.3: Action and NotAction.
    fn action(&mut self, st: &Statement) {
        for a in &st.action.patterns {
            if a.value.as_str().contains("${") {
                self.push(
                    Diagnostic::error(
                        "variable-in-action",
                        a.span,
                        format!(
                            "policy variables are not allowed in `Action`, found `{}`",
                            a.value
                        ),
                    )
                    .with_help("write the action name, with `*` wildcards if needed"),
                );
            }
        }
        let resource_star = st
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.patterns.iter().any(|p| p.value == "*"));
        if st.action.negated && st.effect.value == Effect::Allow && resource_star {
            self.push(
                Diagnostic::warning(
                    "notaction-with-allow",
                    st.action.span,
                    "`NotAction` with `Allow` on `\"Resource\": \"*\"` grants every other action \
                     of every service",
                )
                .with_help("list the allowed actions in `Action`, or use `NotAction` in a `Deny`"),
            );
        }
    }

    /// §1.8, §2.3, §7.12: Resource and NotResource.
    fn resource(&mut self, st: &Statement) {
        let Some(r) = &st.resource else {
            let trust = self.kind == PolicyKind::Trust
                || self.kind == PolicyKind::Resource
                    && !st.action.negated
                    && st.action.patterns.iter().all(|a| {
                        TRUST_ACTIONS
                            .iter()
                            .any(|t| a.value.as_str().eq_ignore_ascii_case(t))
                    });
            if !trust {
                self.push(
                    Diagnostic::error(
                        "missing-resource",
                        st.span,
                        "the statement has no `Resource` or `NotResource`",
                    )
                    .with_help("add `\"Resource\": \"*\"` or the ARNs the statement is about"),
                );
            }
            return;
        };
        if r.negated && st.effect.value == Effect::Allow {
            self.push(
                Diagnostic::warning(
                    "notresource-with-allow",
                    r.span,
                    "`NotResource` with `Allow` grants the actions on every resource not listed, \
                     including ones created later",
                )
                .with_help("list the allowed resources in `Resource` instead"),
            );
        }
        for p in &r.patterns {
            self.variables_in(&p.value, p.span, true);
            if self.policy.variables_enabled() {
                if let Some(fields) = arn::split(&p.value) {
                    let names = ["partition", "service", "region", "account"];
                    for (field, name) in fields.iter().skip(1).zip(names) {
                        if field.contains("${") {
                            self.push(
                                Diagnostic::warning(
                                    "variable-in-arn-field",
                                    p.span,
                                    format!("policy variable in the {name} field of `{}`", p.value),
                                )
                                .with_help(
                                    "variables are expanded only in the resource part of an ARN, \
                                     after the fifth colon; write the field literally or use `*`",
                                ),
                            );
                        }
                    }
                }
            }
            self.sagemaker_arn_case(&p.value, p.span);
        }
    }

    /// §7.12: user-profile names in ARNs with uppercase letters.
    fn sagemaker_arn_case(&mut self, value: &str, span: Span) {
        let Some([_, _, service, _, _, resource]) = arn::split(value) else {
            return;
        };
        if !service.eq_ignore_ascii_case("sagemaker") || !resource.starts_with("user-profile/") {
            return;
        }
        if without_variables(resource)
            .chars()
            .any(|c| c.is_ascii_uppercase())
        {
            self.push(
                Diagnostic::warning(
                    "sagemaker-arn-uppercase",
                    span,
                    format!("user-profile ARN `{value}` has uppercase letters"),
                )
                .with_help(
                    "SageMaker has been seen to lowercase names in ARNs, so this may never match \
                     (not confirmed for user profiles); use lowercase profile names, or list both \
                     spellings",
                ),
            );
        }
    }

    /// Variables in a Resource or condition value: version, spelling, multivalued and unknown keys (§1.2, §2.3).
    fn variables_in(&mut self, value: &str, span: Span, expanded: bool) {
        if !value.contains("${") {
            return;
        }
        if !self.policy.variables_enabled() {
            let why = match &self.policy.version {
                Some(v) if v.value == Version::V2008_10_17 => "`Version` is `2008-10-17`",
                _ => "the policy has no `Version`",
            };
            let mut d = Diagnostic::warning(
                "variable-without-version",
                span,
                format!(
                    "policy variable `{}` is literal text because {why}",
                    first_variable(value)
                ),
            )
            .with_help("set `\"Version\": \"2012-10-17\"`; only that version expands `${...}`");
            if let Some(v) = &self.policy.version {
                d = d.with_related(v.span, "the version is set here");
            }
            self.push(d);
            return;
        }
        if !expanded {
            return;
        }
        for var in variables(value) {
            if let Some(problem) = var.problem {
                let (message, help) = match problem {
                    VarProblem::Unclosed => (
                        format!("policy variable `{}` has no closing `}}`", var.text),
                        "close it: `${aws:username}`; write `${$}` for a literal `$`",
                    ),
                    VarProblem::Empty => (
                        format!("empty policy variable `{}`", var.text),
                        "name a condition key, for example `${aws:username}`",
                    ),
                    VarProblem::Spaces => (
                        format!("spaces are not supported in policy variable `{}`", var.text),
                        "write the key without spaces, for example `${aws:username}`",
                    ),
                    VarProblem::MissingQuote => (
                        format!(
                            "the default value in policy variable `{}` is not quoted",
                            var.text
                        ),
                        "write the default in single quotes: `${aws:PrincipalTag/team, 'none'}`",
                    ),
                    VarProblem::DefaultSpacing => (
                        format!(
                            "policy variable `{}` is not spelled `${{key, 'default'}}`",
                            var.text
                        ),
                        "write one comma and one space before the quoted default: \
                         `${aws:PrincipalTag/team, 'none'}`; other spellings may not be accepted \
                         by AWS",
                    ),
                };
                self.push(Diagnostic::warning("malformed-variable", span, message).with_help(help));
                continue;
            }
            match key_info(var.key) {
                KeyInfo::Global {
                    name,
                    multivalued: true,
                    ..
                } => self.push(
                    Diagnostic::warning(
                        "variable-multivalued-key",
                        span,
                        format!("`{name}` is multivalued and cannot be used as a policy variable"),
                    )
                    .with_help(
                        "only single-valued keys can be variables; compare the key in a condition \
                         instead",
                    ),
                ),
                KeyInfo::Unknown => {
                    let mut d = Diagnostic::warning(
                        "unknown-global-key",
                        span,
                        format!(
                            "`{}` is not a global condition key, so `{}` never has a value",
                            var.key, var.text
                        ),
                    );
                    d = match suggest_key(var.key) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(
                            "check the spelling against the AWS global condition key list",
                        ),
                    };
                    self.push(d);
                }
                _ => {}
            }
        }
    }

    /// §3.2, §1.9: empty Condition blocks and empty operator blocks (the AST drops the latter, so the block is
    /// read again from the source).
    fn condition_block(&mut self, st: &Statement) {
        let Some(span) = st.condition_span else {
            return;
        };
        let mut empty_ops = Vec::new();
        if let Some(text) = self.policy.source().get(span.range()) {
            if let Ok(node) = json::parse(text, &Limits::default()) {
                if let Value::Object(ops) = &node.value {
                    for m in ops {
                        if matches!(&m.value.value, Value::Object(keys) if keys.is_empty()) {
                            let start = span.start as usize + m.key_span.start as usize;
                            let end = span.start as usize + m.key_span.end as usize;
                            empty_ops.push((Span::new(start, end), m.key.to_string()));
                        }
                    }
                }
            }
        }
        if st.conditions.is_empty() && empty_ops.is_empty() {
            self.push(
                Diagnostic::warning("empty-condition", span, "the `Condition` block is empty")
                    .with_help(
                        "the statement applies unconditionally; add the conditions you meant, or \
                         remove the block",
                    ),
            );
        }
        for (op_span, op) in empty_ops {
            self.push(
                Diagnostic::warning(
                    "empty-condition",
                    op_span,
                    format!("`{op}` has no condition keys"),
                )
                .with_help("it tests nothing; add the keys you meant, or remove the operator"),
            );
        }
    }

    fn condition(&mut self, st: &Statement, c: &Condition) {
        let op = c.operator.value;
        let info = key_info(&c.key.value);
        self.key(st, c, &info);
        self.qualifier(st, c, &info);
        self.values(c);
        self.value_variables(c);
        if let KeyInfo::Global { ty, .. } = info {
            self.operator_type(c, ty);
        }
        let key = c.key_lower();
        // §7.8: IfExists on a network key in an Allow.
        if st.effect.value == Effect::Allow
            && op.if_exists
            && !op.base.is_negated()
            && op.qualifier != Some(Qualifier::ForAnyValue)
            && NETWORK_KEYS.contains(&key.as_str())
            && !complementary_if_exists(st, &key)
        {
            let absent_on = if key == "aws:sourceip" {
                "every request through a VPC endpoint"
            } else {
                "every request through a public endpoint, the console included"
            };
            self.push(
                Diagnostic::warning(
                    "ifexists-widens-access",
                    c.operator.span,
                    format!(
                        "`{op}` on `{}` widens access: the statement also allows requests without \
                         the key",
                        c.key.value
                    ),
                )
                .with_help(format!(
                    "`{}` is absent on {absent_on}, and `IfExists` is then true; drop `IfExists`, \
                     and to allow either an IP range or a VPC endpoint write one statement per \
                     key",
                    c.key.value
                )),
            );
        }
    }

    /// §7.5, §5.1: unknown global keys and keys SageMaker does not populate.
    fn key(&mut self, st: &Statement, c: &Condition, info: &KeyInfo) {
        match info {
            KeyInfo::Unknown => {
                let effect = if c.operator.value.base == BaseOperator::Null {
                    "`Null` always sees it as absent".to_string()
                } else if holds_when_absent(c.operator.value) {
                    format!("`{}` always holds", c.operator.value)
                } else {
                    format!("`{}` never holds", c.operator.value)
                };
                let mut d = Diagnostic::warning(
                    "unknown-global-key",
                    c.key.span,
                    format!(
                        "`{}` is not a global condition key, so it is never in the request",
                        c.key.value
                    ),
                );
                let why = format!(
                    "an absent key makes positive conditions false and negated ones true: here \
                     {effect}"
                );
                d = match suggest_key(&c.key.value) {
                    Some(s) => d.with_help(format!("did you mean `{s}`? {why}")),
                    None => d.with_help(format!(
                        "check the spelling against the AWS global condition key list; {why}"
                    )),
                };
                self.push(d);
            }
            KeyInfo::Global { name, .. } => {
                let lower = name.to_ascii_lowercase();
                if NOT_FOR_SAGEMAKER.contains(&lower.as_str()) && covers_sagemaker(st) {
                    self.push(
                        Diagnostic::warning(
                            "key-absent-for-sagemaker",
                            c.key.span,
                            format!(
                                "SageMaker does not populate `{}`, so it is never in a SageMaker \
                                 request",
                                c.key.value
                            ),
                        )
                        .with_help(
                            "for SageMaker requests positive conditions on it are false and \
                             negated ones true; use `aws:SourceVpce` or `aws:SourceVpc` instead",
                        ),
                    );
                }
            }
            KeyInfo::Service => {}
        }
    }

    /// §3.4, §7.7: set qualifiers against single- and multivalued keys; Null with a qualifier.
    fn qualifier(&mut self, st: &Statement, c: &Condition, info: &KeyInfo) {
        let op = c.operator.value;
        if op.base == BaseOperator::Null {
            if op.qualifier.is_some() {
                self.push(
                    Diagnostic::warning(
                        "null-with-qualifier",
                        c.operator.span,
                        format!("`{op}` combines `Null` with a set qualifier"),
                    )
                    .with_help("`Null` tests whether the key is present; write plain `Null`"),
                );
            }
            return;
        }
        let KeyInfo::Global {
            name, multivalued, ..
        } = info
        else {
            return;
        };
        match (op.qualifier, multivalued) {
            (None, true) => self.push(
                Diagnostic::warning(
                    "missing-qualifier",
                    c.operator.span,
                    format!(
                        "`{name}` is multivalued but `{op}` has no `ForAnyValue:` or \
                         `ForAllValues:`"
                    ),
                )
                .with_help(format!(
                    "AWS does not document how this is evaluated, and iamgate treats it as \
                     `ForAnyValue:`; write `ForAnyValue:{}` to match when any value matches, or \
                     `ForAllValues:{}` when all must",
                    without_qualifier(op),
                    without_qualifier(op)
                )),
            ),
            (Some(Qualifier::ForAllValues), false) if st.effect.value == Effect::Allow => self
                .push(
                Diagnostic::warning(
                    "forallvalues-single-valued-key",
                    c.operator.span,
                    format!(
                        "`{op}` on single-valued `{name}` is overly permissive: true when the key \
                         is absent"
                    ),
                )
                .with_help(format!(
                    "write `{}`; with `ForAllValues:` the statement also allows requests without \
                     `{name}`",
                    without_qualifier(op)
                )),
            ),
            (Some(q), false) => {
                let (prefix, why) = match q {
                    Qualifier::ForAllValues => (
                        "ForAllValues:",
                        format!(
                            "it is true when the key is absent, so this Deny also applies to \
                             requests without `{name}`"
                        ),
                    ),
                    Qualifier::ForAnyValue => (
                        "ForAnyValue:",
                        format!(
                            "on a single-valued key it adds nothing: `{op}` behaves as `{}`",
                            without_qualifier(op)
                        ),
                    ),
                };
                self.push(
                    Diagnostic::warning(
                        "qualifier-on-single-valued-key",
                        c.operator.span,
                        format!("set qualifier `{prefix}` on single-valued `{name}`"),
                    )
                    .with_help(format!("write `{}`; {why}", without_qualifier(op))),
                );
            }
            _ => {}
        }
    }

    /// §3.5, §1.1, §3.3: values that do not parse for the operator, mixed types, empty lists, IP advice.
    fn values(&mut self, c: &Condition) {
        let op = c.operator.value;
        let family = op.base.family();
        if c.values.is_empty() {
            self.empty_values(c);
            return;
        }
        if let Some(first) = c.values.first() {
            if let Some(other) = c
                .values
                .iter()
                .find(|v| v.value.kind() != first.value.kind())
            {
                self.push(
                    Diagnostic::warning(
                        "mixed-value-types",
                        c.values_span,
                        format!(
                            "the values of `{}` mix a {} and a {}",
                            c.key.value,
                            first.value.kind(),
                            other.value.kind()
                        ),
                    )
                    .with_help(
                        "write every value of one key with the same JSON type, for example all as \
                         strings",
                    ),
                );
            }
        }
        let key = c.key_lower();
        let mut private = Vec::new();
        let mut public = 0usize;
        for v in &c.values {
            let text = v.value.text();
            // Values with variables are reported by `value_variables`.
            if text.contains("${") && op.base.accepts_variables() {
                continue;
            }
            let bad = |what: &str, help: String| {
                Diagnostic::error(
                    "value-never-matches",
                    v.span,
                    format!("`{text}` is not {what}, so it never matches under `{op}`"),
                )
                .with_help(help)
            };
            match family {
                Family::Numeric(_) if parse_number(text).is_none() => self.push(bad(
                    "a number",
                    "write an integer or a decimal such as `3600` or `0.5`".to_string(),
                )),
                Family::Date(_) if text.parse::<Timestamp>().is_err() => self.push(bad(
                    "a date",
                    "write an ISO 8601 date such as `2025-01-31` or `2025-01-31T12:00:00Z`, or \
                     epoch seconds"
                        .to_string(),
                )),
                Family::Binary if decode_base64(text).is_none() => self.push(bad(
                    "base-64",
                    "`BinaryEquals` compares bytes written in base-64, for example \
                     `QmluYXJ5VmFsdWU=`"
                        .to_string(),
                )),
                Family::Bool | Family::Null if parse_bool(text).is_none() => self.push(bad(
                    "`true` or `false`",
                    format!(
                        "write `\"true\"` or `\"false\"`{}",
                        if family == Family::Null {
                            "; `\"true\"` means the key is absent"
                        } else {
                            ""
                        }
                    ),
                )),
                Family::Bool | Family::Null if text != "true" && text != "false" => self.push(
                    Diagnostic::warning(
                        "bool-value-case",
                        v.span,
                        format!("`{text}` is not written in lowercase"),
                    )
                    .with_help(
                        "write `true` or `false`; AWS does not document whether other casings are \
                         accepted",
                    ),
                ),
                Family::Ip => match parse_cidr(text) {
                    Err(_) => self.push(bad(
                        "an IP address or CIDR block",
                        "write for example `203.0.113.0/24` or `2001:db8::/32`".to_string(),
                    )),
                    Ok(net) => {
                        if has_host_bits(text, &net) {
                            self.push(
                                Diagnostic::warning(
                                    "improve-ip-range",
                                    v.span,
                                    format!("`{text}` has host bits set; it means `{net}`"),
                                )
                                .with_help(format!("write `{net}`")),
                            );
                        }
                        if is_ipv4_mapped(&net) {
                            self.push(
                                Diagnostic::warning(
                                    "ipv4-mapped-ipv6",
                                    v.span,
                                    format!("`{text}` is an IPv4-mapped IPv6 address"),
                                )
                                .with_help(
                                    "AWS does not document whether it matches IPv4 requests, and \
                                     iamgate does not cross-match address families; write the \
                                     IPv4 form",
                                ),
                            );
                        }
                        if is_private(&net) {
                            private.push((v.span, text));
                        } else {
                            public += 1;
                        }
                    }
                },
                _ => {}
            }
        }
        if family == Family::Bool && c.values.len() > 1 {
            self.push(
                Diagnostic::error(
                    "multiple-bool-values",
                    c.values_span,
                    format!("`{}` has several values under `{op}`", c.key.value),
                )
                .with_help(
                    "give one value; `true` and `false` together only test that the key is \
                     present, which `Null` says plainly",
                ),
            );
        }
        // §7.4: aws:SourceIp never holds a private address.
        if key == "aws:sourceip" && !private.is_empty() {
            if public == 0 {
                self.push(
                    Diagnostic::error(
                        "private-source-ip",
                        c.values_span,
                        "`aws:SourceIp` never holds a private address",
                    )
                    .with_help(format!(
                        "so `{op}` {} here; for addresses inside a VPC use `aws:VpcSourceIp` \
                         together with `aws:SourceVpc` or `aws:SourceVpce`",
                        if op.base.is_negated() {
                            "is always true"
                        } else {
                            "never matches"
                        }
                    )),
                );
            } else {
                for (span, text) in private {
                    self.push(
                        Diagnostic::warning(
                            "private-source-ip",
                            span,
                            format!(
                                "`{text}` is a private range, which `aws:SourceIp` never holds"
                            ),
                        )
                        .with_help(
                            "remove it; for addresses inside a VPC use `aws:VpcSourceIp` together \
                             with `aws:SourceVpc` or `aws:SourceVpce` in a separate statement",
                        ),
                    );
                }
            }
        }
    }

    /// §3.3 (Access Analyzer suggestions): what an empty value list does.
    fn empty_values(&mut self, c: &Condition) {
        let op = c.operator.value;
        let negated = op.base.is_negated();
        let outcome = match (op.base, op.qualifier, op.if_exists) {
            (BaseOperator::Null, ..) => "never holds",
            (_, Some(Qualifier::ForAnyValue), _) if negated => "holds whenever the key is present",
            (_, Some(Qualifier::ForAnyValue), _) => "never holds",
            (_, _, _) if negated => "always holds",
            (_, Some(Qualifier::ForAllValues), _) => "holds only when the key is absent or empty",
            (_, None, true) => "holds only when the key is absent",
            (_, None, false) => "never holds",
        };
        self.push(
            Diagnostic::warning(
                "empty-condition-values",
                c.values_span,
                format!("`{}` has no values, so `{op}` {outcome}", c.key.value),
            )
            .with_help("list the values to compare with, or remove the condition"),
        );
    }

    /// §2.1, §2.3, §4.1: variables and wildcards inside condition values.
    fn value_variables(&mut self, c: &Condition) {
        let op = c.operator.value;
        let family = op.base.family();
        let key = c.key_lower();
        if self.kind == PolicyKind::Endpoint
            && ENDPOINT_ID_KEYS.contains(&key.as_str())
            && matches!(family, Family::Numeric(_))
        {
            self.push(
                Diagnostic::error(
                    "endpoint-numeric-id-key",
                    c.operator.span,
                    format!(
                        "VPC endpoint policies do not allow `{op}` on `{}`",
                        c.key.value
                    ),
                )
                .with_help("compare the identifier with `StringEquals`"),
            );
        }
        for v in &c.values {
            let text = v.value.text();
            if text.contains("${") {
                if op.base.accepts_variables() {
                    self.variables_in(text, v.span, true);
                    if family == Family::Bool && self.policy.variables_enabled() {
                        self.push(
                            Diagnostic::warning(
                                "variable-in-bool",
                                v.span,
                                format!(
                                    "`Bool` may not expand policy variables, found `{}`",
                                    first_variable(text)
                                ),
                            )
                            .with_help(
                                "AWS documents this both ways; iamgate expands it, but write \
                                 `true` or `false` to be sure",
                            ),
                        );
                    }
                } else if self.policy.variables_enabled() {
                    self.push(
                        Diagnostic::warning(
                            "variable-not-supported",
                            v.span,
                            format!(
                                "`{}` does not expand policy variables, so `{}` is literal text",
                                op.base.name(),
                                first_variable(text)
                            ),
                        )
                        .with_help(
                            "only `String*`, `Arn*` and (uncertainly) `Bool` operators expand \
                             variables; write the value literally",
                        ),
                    );
                } else {
                    self.variables_in(text, v.span, false);
                }
            }
            let literal = without_variables(text);
            let wildcard = literal.contains(['*', '?']);
            if self.kind == PolicyKind::Endpoint
                && ENDPOINT_ID_KEYS.contains(&key.as_str())
                && wildcard
                && matches!(
                    family,
                    Family::String { .. } | Family::StringLike | Family::Arn
                )
            {
                self.push(
                    Diagnostic::error(
                        "endpoint-wildcard-id-key",
                        v.span,
                        format!(
                            "VPC endpoint policies do not allow wildcards in values of `{}`",
                            c.key.value
                        ),
                    )
                    .with_help("write each identifier in full"),
                );
                continue;
            }
            if wildcard && matches!(family, Family::String { .. }) {
                self.push(
                    Diagnostic::warning(
                        "wildcard-without-like",
                        v.span,
                        format!("`{text}` contains a wildcard but `{op}` compares it literally"),
                    )
                    .with_help(format!(
                        "use `{}` to match a pattern, or write the exact value",
                        like_counterpart(op)
                    )),
                );
            }
            if family == Family::Arn {
                self.sagemaker_arn_case(text, v.span);
            }
        }
    }

    /// Access Analyzer "type mismatch": an operator that does not fit the key's type.
    fn operator_type(&mut self, c: &Condition, ty: KeyType) {
        let family = c.operator.value.base.family();
        let fits = match family {
            Family::String { .. } | Family::StringLike => {
                matches!(ty, KeyType::String | KeyType::Arn)
            }
            Family::Arn => ty == KeyType::Arn,
            Family::Numeric(_) => matches!(ty, KeyType::Numeric | KeyType::Epoch),
            Family::Date(_) => matches!(ty, KeyType::Date | KeyType::Epoch),
            Family::Bool => ty == KeyType::Bool,
            Family::Ip => ty == KeyType::Ip,
            Family::Binary => false,
            Family::Null => true,
        };
        if fits {
            return;
        }
        let (holds, use_) = match ty {
            KeyType::String => ("a string", "a `String*` operator"),
            KeyType::Arn => ("an ARN", "an `Arn*` or `String*` operator"),
            KeyType::Ip => ("an IP address", "`IpAddress` or `NotIpAddress`"),
            KeyType::Bool => ("a boolean", "`Bool`"),
            KeyType::Date => ("a date", "a `Date*` operator"),
            KeyType::Numeric => ("a number", "a `Numeric*` operator"),
            KeyType::Epoch => (
                "a time in epoch seconds",
                "a `Date*` or `Numeric*` operator",
            ),
        };
        self.push(
            Diagnostic::warning(
                "operator-type-mismatch",
                c.operator.span,
                format!(
                    "`{}` does not fit `{}`, which holds {holds}",
                    c.operator.value, c.key.value
                ),
            )
            .with_help(format!("use {use_}")),
        );
    }

    /// §7.1, §7.2, §7.9, §7.15: network conditions that look across the statement.
    fn network(&mut self, st: &Statement) {
        let has = |pred: &dyn Fn(&Condition) -> bool| st.conditions.iter().any(pred);
        for c in &st.conditions {
            let key = c.key_lower();
            let base = c.operator.value.base;
            if st.effect.value == Effect::Deny
                && base == BaseOperator::NotIpAddress
                && key == "aws:sourceip"
                && !has(&is_endpoint_exclusion)
            {
                self.push(
                    Diagnostic::warning(
                        "deny-locks-out-endpoints",
                        c.operator.span,
                        format!(
                            "this Deny denies every request through a VPC endpoint: \
                             `aws:SourceIp` is absent there, so `{}` is true",
                            c.operator.value
                        ),
                    )
                    .with_help(
                        "`IfExists` does not help; add an exclusion for endpoint traffic to the \
                         same condition block, for example `\"StringNotEqualsIfExists\": \
                         {\"aws:SourceVpc\": [\"vpc-...\"]}`",
                    ),
                );
            }
            let vpc_key = key == "aws:sourcevpc" || key == "aws:sourcevpce";
            let negated_string = matches!(
                base,
                BaseOperator::StringNotEquals
                    | BaseOperator::StringNotEqualsIgnoreCase
                    | BaseOperator::StringNotLike
            );
            if st.effect.value == Effect::Deny && vpc_key && negated_string {
                if !has(&is_public_exclusion) {
                    self.push(
                        Diagnostic::warning(
                            "deny-outside-endpoint",
                            c.operator.span,
                            format!(
                                "this Deny blocks every request that does not come through {}, \
                                 the console and public-endpoint calls included",
                                if key == "aws:sourcevpc" {
                                    "an endpoint in a listed VPC"
                                } else {
                                    "a listed VPC endpoint"
                                }
                            ),
                        )
                        .with_help(format!(
                            "requests through the public endpoint carry no `{}`, so `{}` is true \
                             for them; if they should pass, exclude your public egress ranges \
                             with `\"NotIpAddressIfExists\": {{\"aws:SourceIp\": [...]}}` in the \
                             same block",
                            c.key.value, c.operator.value
                        )),
                    );
                }
                if !has(&|o: &Condition| FAS_KEYS.contains(&o.key_lower().as_str())) {
                    self.push(
                        Diagnostic::warning(
                            "deny-blocks-fas",
                            c.operator.span,
                            "this Deny also blocks calls AWS services make on the principal's \
                             behalf (forward access sessions)",
                        )
                        .with_help(
                            "those calls carry no VPC keys; add `\"BoolIfExists\": \
                             {\"aws:ViaAWSService\": \"false\"}` to the same condition block",
                        ),
                    );
                }
            }
            if key == "aws:vpcsourceip"
                && base != BaseOperator::Null
                && !has(&|o: &Condition| {
                    matches!(
                        o.key_lower().as_str(),
                        "aws:sourcevpc" | "aws:sourcevpce" | "aws:sourcevpcarn"
                    )
                })
            {
                self.push(
                    Diagnostic::warning(
                        "vpc-source-ip-without-vpc",
                        c.key.span,
                        "`aws:VpcSourceIp` is used without `aws:SourceVpc` or `aws:SourceVpce`",
                    )
                    .with_help(
                        "VPC address ranges overlap across VPCs; add `\"StringEquals\": \
                         {\"aws:SourceVpc\": \"vpc-...\"}` to the same statement",
                    ),
                );
            }
        }
    }
}

/// Whether the statement's actions include SageMaker's (§7.5: keys SageMaker does not populate).
fn covers_sagemaker(st: &Statement) -> bool {
    const PROBE: &str = "sagemaker:CreatePresignedDomainUrl";
    let listed = st
        .action
        .patterns
        .iter()
        .any(|a| a.value.service().as_deref() == Some("sagemaker") || a.value.matches(PROBE));
    if st.action.negated {
        !st.action.patterns.iter().any(|a| a.value.matches(PROBE))
    } else {
        listed
    }
}

/// What an operator gives when the key is absent (§3.3); `Null` is handled by its callers.
fn holds_when_absent(op: Operator) -> bool {
    // The set qualifier decides before `IfExists`.
    match (op.qualifier, op.if_exists) {
        (Some(Qualifier::ForAllValues), _) | (None, true) => true,
        (Some(Qualifier::ForAnyValue), _) => false,
        (None, false) => op.base.is_negated(),
    }
}

/// A condition that is false for requests through a VPC endpoint, so a Deny with it spares them (§7.1).
fn is_endpoint_exclusion(c: &Condition) -> bool {
    let key = c.key_lower();
    let endpoint_key = ENDPOINT_KEYS.contains(&key.as_str());
    if c.operator.value.base == BaseOperator::Null {
        let v = null_value(c);
        return (endpoint_key && v == Some(true)) || (key == "aws:sourceip" && v == Some(false));
    }
    endpoint_key
}

/// A condition that can be false for requests through a public endpoint, so a Deny with it spares them (§7.2).
fn is_public_exclusion(c: &Condition) -> bool {
    let key = c.key_lower();
    if c.operator.value.base == BaseOperator::Null {
        let v = null_value(c);
        return (ENDPOINT_KEYS.contains(&key.as_str()) && v == Some(false))
            || (key == "aws:sourceip" && v == Some(true));
    }
    key == "aws:sourceip"
}

/// The single value of a `Null` condition.
fn null_value(c: &Condition) -> Option<bool> {
    let mut it = c.values.iter().map(|v| parse_bool(v.value.text()));
    let first = it.next()??;
    it.all(|v| v == Some(first)).then_some(first)
}

/// Whether an Allow statement pairs `IfExists` on `aws:SourceIp` with `IfExists` on an endpoint key, which is
/// the documented "IP range or VPC" idiom: each path is checked by the key it carries (§7.8).
fn complementary_if_exists(st: &Statement, key: &str) -> bool {
    let is_pos_if_exists =
        |c: &&Condition| c.operator.value.if_exists && !c.operator.value.base.is_negated();
    let want_endpoint = key == "aws:sourceip";
    st.conditions.iter().filter(is_pos_if_exists).any(|c| {
        let k = c.key_lower();
        if want_endpoint {
            ENDPOINT_KEYS.contains(&k.as_str()) || k == "aws:sourcevpcarn"
        } else {
            k == "aws:sourceip"
        }
    })
}

fn without_qualifier(op: Operator) -> Operator {
    Operator {
        qualifier: None,
        ..op
    }
}

/// The `Like` operator to suggest instead of an exact string operator.
fn like_counterpart(op: Operator) -> Operator {
    let base = if op.base.is_negated() {
        BaseOperator::StringNotLike
    } else {
        BaseOperator::StringLike
    };
    Operator { base, ..op }
}

/// For each condition, the first earlier one under the same operator whose key differs from its key only in ASCII
/// case (docs/SEMANTICS.md §9 row 28), found through a hash map of the keys' lowercase forms: linear in the
/// conditions (comparing each with all earlier ones was quadratic in a statement of 80,000 keys).
fn case_twins(conditions: &[Condition]) -> Vec<Option<&Condition>> {
    // (operator, lowercase key) -> the first condition, and the first spelled differently from it. For a
    // condition spelled like the first, the earliest spelled differently is the second; otherwise the first.
    type Firsts<'c> = (&'c Condition, Option<&'c Condition>);
    let mut groups: std::collections::HashMap<(Operator, String), Firsts<'_>> =
        std::collections::HashMap::new();
    conditions
        .iter()
        .map(
            |c| match groups.entry((c.operator.value, c.key.value.to_ascii_lowercase())) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert((c, None));
                    None
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    let (first, second) = e.get_mut();
                    if first.key.value != c.key.value {
                        if second.is_none() {
                            *second = Some(c);
                        }
                        Some(*first)
                    } else {
                        *second
                    }
                }
            },
        )
        .collect()
}

#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

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
            "forallvalues-single-valued-key",
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
            "ifexists-widens-access",
        );
        assert_eq!(
            d.message,
            "`StringEqualsIfExists` on `aws:SourceVpce` widens access: the statement also allows requests without the key"
        );
        assert_eq!(at, (2, 14));
        assert!(d.help.unwrap().contains("public endpoint"));
        // The "IP range or VPC" idiom checks each path with the key it carries.
        let both = r#"{"IpAddressIfExists":{"aws:SourceIp":"203.0.113.0/24"},"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#;
        assert!(!codes(ID, &cond("Allow", both)).contains(&"ifexists-widens-access"));
        assert!(
            !codes(
                ID,
                &cond(
                    "Deny",
                    r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}"#
                )
            )
            .contains(&"ifexists-widens-access")
        );
    }

    #[test]
    fn deny_not_ip_address_locks_out_endpoint_traffic() {
        // §7.1: AWS's own deny-by-IP example.
        let c = r#"{"NotIpAddress":{"aws:SourceIp":["198.51.100.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}"#;
        let (d, at) = one(ID, &cond("Deny", c), "deny-locks-out-endpoints");
        assert_eq!(
            d.message,
            "this Deny denies every request through a VPC endpoint: `aws:SourceIp` is absent there, so `NotIpAddress` is true"
        );
        assert_eq!(at, (2, 14));
        let c = r#"{"NotIpAddressIfExists":{"aws:SourceIp":["198.51.100.0/24"]}}"#;
        assert!(codes(ID, &cond("Deny", c)).contains(&"deny-locks-out-endpoints"));
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
        let (d, at) = one(ID, &cond("Deny", c), "deny-outside-endpoint");
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
        let c = r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sagemaker:*:111122223333:user-profile/d-1/Bob"}}"#;
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
}
