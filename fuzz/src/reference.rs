//! A deliberately naive IAM evaluator, written straight from docs/SEMANTICS.md §2-§4 and the choices in
//! docs/SEMANTICS.md §9, for differential testing of the compiled fast path.
//!
//! It reads only the policy AST (`iamgate::policy`), never the compiled form, and shares no matching code with
//! the crate: globs are a dynamic program over characters, ARNs are `splitn(6, ':')`, CIDRs are masks over
//! integers, variables are expanded by a hand-written scanner. The only leaf it borrows is the ISO 8601 date
//! parser ([`iamgate::internals::Timestamp`]): dates have their own unit tests, and re-deriving the W3C
//! profile here would test nothing about evaluation.
//!
//! Slow on purpose (it allocates everywhere and re-parses every value on every request); correctness by
//! inspection is the only goal. Shared by the fuzz crate and `tests/it/regressions.rs` (through `#[path]`), so
//! it depends on nothing but `iamgate` and `std`.

use iamgate::compile::{EndpointKind, PolicyRef, ResourceKind};
use iamgate::decide::Gate;
use iamgate::internals::Timestamp;
use iamgate::policy::operator::{BaseOperator, Qualifier};
use iamgate::policy::{Condition, Effect, Policy, Principal, PrincipalKind, Statement, Version};
use iamgate::{ContextValue, Decision, PolicySet, Reason, Request, Scalar};
use std::net::IpAddr;

/// Services whose requests RCPs govern (docs/SEMANTICS.md §4.1, corrected 2026-12-07, docs/SEMANTICS.md §9 row 20): the launch services, then ECR and OpenSearch Serverless, Cognito user
/// pools, CloudWatch Logs and DynamoDB.
const RCP_SERVICES: [&str; 10] = [
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-idp",
    "logs",
    "dynamodb",
];

/// The decision and its reasons (corpus/cases/README.md, "Reasons"), reasons sorted for comparison.
/// `scp_levels` is the number of SCP levels the case gives: a level without policies has no Allow, and the set
/// does not list empty levels.
pub fn decide(set: &PolicySet, req: &Request, scp_levels: usize) -> (Decision, Vec<Reason>) {
    let policies: Vec<(PolicyRef, &Policy)> =
        set.policies().map(|(at, p)| (at, p.policy())).collect();
    let service = req
        .action
        .split(':')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let rcps_apply = RCP_SERVICES.contains(&service.as_str());
    let same_account = same_account(req);
    let env = Env {
        same_account,
        own_rules: set.resource_kind() != ResourceKind::Resource,
        has_boundary: policies.iter().any(|(at, _)| *at == PolicyRef::Boundary),
        gateway: set.endpoint_kind() == EndpointKind::Gateway,
    };

    // 1. Deny pass: every applicable Deny statement of every policy (RCPs only for the services they govern).
    let mut denies = Vec::new();
    for (at, p) in &policies {
        if matches!(at, PolicyRef::Rcp(..)) && !rcps_apply {
            continue;
        }
        for st in &p.statements {
            if st.effect.value == Effect::Deny && applies(*at, p, st, req, env) {
                denies.push(statement_reason(*at, st));
            }
        }
    }
    if !denies.is_empty() {
        return (Decision::ExplicitDeny, sorted(denies));
    }

    // 2. The gates, each needing an applicable Allow. RCPs carry an implicit allow-all and are never listed.
    let allows_in = |filter: &dyn Fn(PolicyRef) -> bool| -> Vec<Reason> {
        let mut out = Vec::new();
        for (at, p) in &policies {
            if !filter(*at) {
                continue;
            }
            for st in &p.statements {
                if st.effect.value == Effect::Allow && applies(*at, p, st, req, env) {
                    out.push(statement_reason(*at, st));
                }
            }
        }
        out
    };
    let mut allows = Vec::new();
    let mut missing = Vec::new();

    for level in 0..scp_levels {
        let a = allows_in(&|at| matches!(at, PolicyRef::Scp(l, _) if l == level));
        if a.is_empty() {
            missing.push(Reason::NoAllow(Gate::Scp(level)));
        }
        allows.extend(a);
    }
    let identity = allows_in(&|at| matches!(at, PolicyRef::Identity(_)));
    let resource = allows_in(&|at| matches!(at, PolicyRef::Resource));
    // docs/SEMANTICS.md §4.1: how the resource policy's applicable Allows name the caller. In one account a grant to
    // the caller itself (user or session ARN, `*`: docs/SEMANTICS.md §9 row 22) stands alone; a grant to the role is
    // limited by the boundary and the session policies; a key or trust policy must allow, and its Allow for the
    // account delegates to the identity policies.
    let own_rules = env.own_rules;
    let named = resource_naming(&policies, req, env);
    let direct = same_account && named == Naming::Caller;
    if same_account {
        if own_rules && named == Naming::Nothing {
            missing.push(Reason::NoAllow(Gate::Resource));
        }
        if !direct && identity.is_empty() && named != Naming::Role {
            missing.push(Reason::NoAllow(Gate::Identity));
        }
    } else {
        if identity.is_empty() {
            missing.push(Reason::NoAllow(Gate::Identity));
        }
        if resource.is_empty() {
            missing.push(Reason::NoAllow(Gate::Resource));
        }
    }
    allows.extend(identity);
    allows.extend(resource);
    let has = |f: &dyn Fn(PolicyRef) -> bool| policies.iter().any(|(at, _)| f(*at));
    let is_boundary = |at: PolicyRef| matches!(at, PolicyRef::Boundary);
    let is_session = |at: PolicyRef| matches!(at, PolicyRef::Session(_));
    let is_endpoint = |at: PolicyRef| matches!(at, PolicyRef::Endpoint);
    for (is, gate, spared) in [
        (
            &is_boundary as &dyn Fn(PolicyRef) -> bool,
            Gate::Boundary,
            direct,
        ),
        (&is_session, Gate::Session, direct),
        (&is_endpoint, Gate::Endpoint, false),
    ] {
        if has(is) {
            let a = allows_in(is);
            if a.is_empty() && !spared {
                missing.push(Reason::NoAllow(gate));
            }
            allows.extend(a);
        }
    }
    if missing.is_empty() {
        (Decision::Allow, sorted(allows))
    } else {
        (Decision::ImplicitDeny, sorted(missing))
    }
}

/// How the resource policy's applicable Allows name the caller, weakest first (docs/SEMANTICS.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Naming {
    Nothing,
    /// The caller's account (delegation to the identity policies).
    Account,
    /// The role of the calling session.
    Role,
    /// The caller itself, `*`, or everyone but a `NotPrincipal` list.
    Caller,
}

fn resource_naming(policies: &[(PolicyRef, &Policy)], req: &Request, env: Env) -> Naming {
    let mut best = Naming::Nothing;
    for (at, p) in policies {
        if *at != PolicyRef::Resource {
            continue;
        }
        for st in &p.statements {
            if st.effect.value != Effect::Allow || !applies(*at, p, st, req, env) {
                continue;
            }
            let n = match (&st.principal, req.principal.as_deref()) {
                (Some(pe), Some(who)) if !pe.negated => match &pe.principal {
                    Principal::Any => Naming::Caller,
                    Principal::Map(m) => m
                        .iter()
                        .flat_map(|(k, vs)| vs.iter().map(move |v| (k.value, v.value.to_string())))
                        .map(|(k, v)| naming_of(k, &v, who))
                        .max()
                        .unwrap_or(Naming::Nothing),
                },
                _ => Naming::Caller,
            };
            best = best.max(n);
        }
    }
    best
}

fn naming_of(kind: PrincipalKind, v: &str, who: &str) -> Naming {
    if kind != PrincipalKind::Aws {
        return if v == who {
            Naming::Caller
        } else {
            Naming::Nothing
        };
    }
    if v == "*" || v == who {
        return Naming::Caller;
    }
    let account_form =
        is_account_id(v) || arn_fields(v).is_some_and(|f| f[2] == "iam" && f[5] == "root");
    if account_form {
        return if aws_principal_matches(v, who, true) {
            Naming::Caller
        } else if aws_principal_matches(v, who, false) {
            Naming::Account
        } else {
            Naming::Nothing
        };
    }
    if aws_principal_matches(v, who, false) {
        Naming::Role
    } else {
        Naming::Nothing
    }
}

/// Reasons in a canonical order, so that two lists can be compared as sets.
pub fn sorted(mut reasons: Vec<Reason>) -> Vec<Reason> {
    reasons.sort_by_key(|r| format!("{r:?}"));
    reasons
}

fn statement_reason(at: PolicyRef, st: &Statement) -> Reason {
    Reason::Statement {
        policy: at,
        sid: st.sid.as_ref().map(|s| s.value.to_string()),
        statement: st.index,
        effect: st.effect.value,
        span: st.span,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Accounts and principals (docs/SEMANTICS.md §1.6, docs/SEMANTICS.md §9 row 24).

fn arn_fields(s: &str) -> Option<Vec<&str>> {
    let f: Vec<&str> = s.splitn(6, ':').collect();
    (f.len() == 6).then_some(f)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

fn arn_account(s: &str) -> Option<String> {
    let f = arn_fields(s)?;
    (!f[4].is_empty()).then(|| f[4].to_string())
}

fn principal_account(req: &Request) -> Option<String> {
    let p = req.principal.as_deref()?;
    arn_account(p).or_else(|| is_account_id(p).then(|| p.to_string()))
}

fn resource_account(req: &Request) -> Option<String> {
    req.resource_account
        .clone()
        .or_else(|| arn_account(&req.resource))
        .or_else(|| principal_account(req))
}

/// Same account, or one of the two unknown.
fn same_account(req: &Request) -> bool {
    match (principal_account(req), resource_account(req)) {
        (Some(p), Some(r)) => p == r,
        _ => true,
    }
}

fn aws_principal_matches(v: &str, who: &str, root_only: bool) -> bool {
    if v == "*" || v == who {
        return true;
    }
    let who_f = arn_fields(who);
    let who_root = who_f
        .as_ref()
        .is_some_and(|f| f[2] == "iam" && f[5] == "root");
    let account_ok =
        |acct: &str| arn_account(who).as_deref() == Some(acct) && (!root_only || who_root);
    if is_account_id(v) {
        return account_ok(v);
    }
    let (Some(vf), Some(wf)) = (arn_fields(v), who_f) else {
        return false;
    };
    if vf[2] == "iam" && vf[5] == "root" {
        return account_ok(vf[4]);
    }
    // A role matches its sessions: arn:P:iam::A:role/path/Name ~ arn:P:sts::A:assumed-role/Name/session.
    if vf[2] == "iam" && wf[2] == "sts" && vf[1] == wf[1] && vf[4] == wf[4] {
        if let (Some(role), Some(session)) = (
            vf[5].strip_prefix("role/"),
            wf[5].strip_prefix("assumed-role/"),
        ) {
            let role_name = role.split('/').next_back().unwrap_or(role);
            let session_role = session.split('/').next().unwrap_or(session);
            return role_name == session_role;
        }
    }
    false
}

fn principal_matches(p: &Principal, req: &Request, root_only: bool) -> bool {
    let map = match p {
        Principal::Any => return true,
        Principal::Map(m) => m,
    };
    match req.principal.as_deref() {
        None => map
            .iter()
            .any(|(k, vs)| k.value == PrincipalKind::Aws && vs.iter().any(|v| v.value == "*")),
        Some(who) => map.iter().any(|(k, vs)| {
            vs.iter().any(|v| match k.value {
                PrincipalKind::Aws => aws_principal_matches(&v.value, who, root_only),
                _ => v.value == who,
            })
        }),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Statements.

/// What a statement's applicability depends on beyond the request.
#[derive(Clone, Copy)]
struct Env {
    same_account: bool,
    /// The resource policy is a key or trust policy (its Allow for the account counts, delegating).
    own_rules: bool,
    has_boundary: bool,
    /// The endpoint policy is a gateway endpoint's.
    gateway: bool,
}

fn applies(at: PolicyRef, p: &Policy, st: &Statement, req: &Request, env: Env) -> bool {
    let Env {
        same_account,
        own_rules,
        has_boundary,
        gateway,
    } = env;
    let vars = Vars {
        enabled: matches!(
            p.version.as_ref().map(|v| &v.value),
            Some(Version::V2012_10_17)
        ),
        req,
    };
    let action = st.action.patterns.iter().any(|a| {
        tokens(&a.value.as_str().to_ascii_lowercase(), true, None)
            .is_some_and(|t| glob(&t, &req.action.to_ascii_lowercase()))
    }) != st.action.negated;
    let resource = match &st.resource {
        Some(resource_el) => {
            resource_el
                .patterns
                .iter()
                .any(|r| arn_like(&r.value, &req.resource, &vars) == Some(true))
                != resource_el.negated
        }
        // A role trust policy has no `Resource`: the role is the resource.
        None => at == PolicyRef::Resource && own_rules,
    };
    let principal = match &st.principal {
        None => true,
        // docs/SEMANTICS.md §4.1: a resource-policy Deny with NotPrincipal denies a principal with a boundary.
        Some(pe)
            if pe.negated
                && at == PolicyRef::Resource
                && st.effect.value == Effect::Deny
                && has_boundary =>
        {
            true
        }
        Some(pe) => {
            // §1.6: root only in a gateway endpoint's policy; in one account a resource policy's Allow for the
            // account delegates (it grants alone only in a key or trust policy's own gate, see `decide`).
            let root_only = match at {
                PolicyRef::Endpoint => gateway,
                PolicyRef::Resource => {
                    st.effect.value == Effect::Allow && same_account && !own_rules
                }
                _ => false,
            };
            principal_matches(&pe.principal, req, root_only) != pe.negated
        }
    };
    action && resource && principal && st.conditions.iter().all(|c| condition(c, req, &vars))
}

// ---------------------------------------------------------------------------------------------------------
// Conditions: the kernel of docs/SEMANTICS.md §3.6.

fn condition(c: &Condition, req: &Request, vars: &Vars<'_>) -> bool {
    let op = c.operator.value;
    let present: Vec<Scalar> = req
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&c.key.value))
        .map(|(_, v)| match v {
            ContextValue::One(s) => vec![s.clone()],
            ContextValue::Many(l) => l.clone(),
        })
        .unwrap_or_default();
    let texts: Vec<&str> = c.values.iter().map(|v| v.value.text()).collect();

    if op.base == BaseOperator::Null {
        // `"true"`: the key is absent; `"false"`: it is present. Several values are ORed.
        let absent = present.is_empty();
        return texts.iter().any(|t| parse_bool(t) == Some(absent));
    }
    let mut values = present;
    // docs/SEMANTICS.md §9 row 18: with a set qualifier, a lone empty string counts as absent.
    if op.qualifier.is_some() && matches!(values.as_slice(), [Scalar::String(s)] if s.is_empty()) {
        values.clear();
    }
    let negated = op.base.is_negated();
    if values.is_empty() {
        // docs/SEMANTICS.md §3.3: the set qualifier decides before `IfExists`.
        return match op.qualifier {
            Some(Qualifier::ForAllValues) => true,
            Some(Qualifier::ForAnyValue) => false,
            None => op.if_exists || negated,
        };
    }
    let m = |r: &Scalar| texts.iter().any(|p| base_match(op.base, r, p, vars));
    match op.qualifier {
        // docs/SEMANTICS.md §9 row 17: a list without a qualifier matches when any of its values does.
        None => values.iter().any(m) != negated,
        Some(Qualifier::ForAnyValue) => values.iter().any(|r| m(r) != negated),
        Some(Qualifier::ForAllValues) => values.iter().all(|r| m(r) != negated),
    }
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::String(t) | Scalar::Number(_, t) => t.clone(),
        Scalar::Bool(b) => b.to_string(),
    }
}

/// The positive counterpart of `base` applied to one request value and one policy value.
fn base_match(base: BaseOperator, r: &Scalar, p: &str, vars: &Vars<'_>) -> bool {
    use BaseOperator::*;
    let rt = scalar_text(r);
    match base {
        StringEquals | StringNotEquals => expand(p, vars).is_some_and(|text| text == rt),
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            expand(p, vars).is_some_and(|text| fold(&text) == fold(&rt))
        }
        StringLike | StringNotLike => glob_with_vars(p, &rt, vars),
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let x = match r {
                Scalar::Number(n, _) => Some(*n),
                Scalar::String(s) => number(s),
                Scalar::Bool(_) => None,
            };
            match (x, number(p)) {
                (Some(x), Some(y)) => match base {
                    NumericLessThan => x < y,
                    NumericLessThanEquals => x <= y,
                    NumericGreaterThan => x > y,
                    NumericGreaterThanEquals => x >= y,
                    _ => x == y,
                },
                _ => false,
            }
        }
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let x = match r {
                // Whole epoch seconds; a value too large for the timestamp is not a date.
                Scalar::Number(n, _) if n.fract() == 0.0 => {
                    (*n as i128).checked_mul(1_000_000_000).map(Timestamp)
                }
                Scalar::Number(..) | Scalar::Bool(_) => None,
                Scalar::String(s) => date(s),
            };
            match (x, date(p)) {
                (Some(x), Some(y)) => match base {
                    DateLessThan => x < y,
                    DateLessThanEquals => x <= y,
                    DateGreaterThan => x > y,
                    DateGreaterThanEquals => x >= y,
                    _ => x == y,
                },
                _ => false,
            }
        }
        Bool => {
            let x = match r {
                Scalar::Bool(b) => Some(*b),
                Scalar::String(s) => parse_bool(s),
                Scalar::Number(..) => None,
            };
            // docs/SEMANTICS.md §9 row 10: Bool values expand variables.
            x.is_some_and(|x| expand(p, vars).is_some_and(|t| parse_bool(&t) == Some(x)))
        }
        BinaryEquals => match (base64(&rt), base64(p)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        IpAddress | NotIpAddress => match (r, cidr(p)) {
            (Scalar::String(s), Some((net, prefix))) => {
                // A request's IPv4-mapped address is the IPv4 address AWS sees (docs/SEMANTICS.md §9 row 16).
                s.parse::<IpAddr>()
                    .is_ok_and(|ip| in_cidr(ip.to_canonical(), net, prefix))
            }
            _ => false,
        },
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => arn_like(p, &rt, vars) == Some(true),
        Null => false,
    }
}

/// Unicode lowercase, character by character (docs/SEMANTICS.md §9 row 12).
fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// `true`/`false`, ASCII case-insensitively (docs/SEMANTICS.md §9 row 11).
fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `[+-]?digits(.digits)?([eE][+-]?digits)?`, finite (docs/SEMANTICS.md §3.5).
fn number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// A date (docs/SEMANTICS.md §3.5): epoch seconds (any number of digits but four, which is a year), or ISO 8601
/// through the crate's leaf parser. Out-of-range epoch values are not dates.
fn date(s: &str) -> Option<Timestamp> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && (neg || digits.len() != 4)
    {
        let secs: i128 = digits.parse().ok()?;
        let nanos = secs.checked_mul(1_000_000_000)?;
        return Some(Timestamp(if neg { -nanos } else { nanos }));
    }
    s.parse::<Timestamp>().ok()
}

/// Base-64, both alphabets, padding optional (corpus/cases/README.md: the bytes are compared).
fn base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut bits: Vec<u8> = Vec::new();
    for c in s.chars() {
        let v = match c {
            'A'..='Z' => c as u8 - b'A',
            'a'..='z' => c as u8 - b'a' + 26,
            '0'..='9' => c as u8 - b'0' + 52,
            '+' | '-' => 62,
            '/' | '_' => 63,
            _ => return None,
        };
        for k in (0..6).rev() {
            bits.push((v >> k) & 1);
        }
    }
    if bits.len() % 8 >= 6 {
        return None;
    }
    Some(
        bits.chunks_exact(8)
            .map(|ch| ch.iter().fold(0u8, |acc, b| (acc << 1) | b))
            .collect(),
    )
}

/// A CIDR or a bare address (IPv4 /32, IPv6 /128), strictly spelled; the prefix in decimal without leading
/// zeros (docs/SEMANTICS.md §3.5, docs/SEMANTICS.md §9 row 15).
fn cidr(s: &str) -> Option<(IpAddr, u32)> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            if p.is_empty()
                || !p.chars().all(|c| c.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
                || p.len() > 3
            {
                return None;
            }
            (a, Some(p.parse::<u32>().ok()?))
        }
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((ip, prefix))
}

/// Whether `ip` is in `net/prefix`; families never cross (docs/SEMANTICS.md §9 row 16).
fn in_cidr(ip: IpAddr, net: IpAddr, prefix: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Patterns: wildcards and policy variables (docs/SEMANTICS.md §2.1, §2.3).

/// Where variables come from, and whether they are expanded at all (Version 2012-10-17 only, §1.2).
struct Vars<'r> {
    enabled: bool,
    req: &'r Request,
}

impl Vars<'_> {
    /// A single-valued key's text; a list is not a variable (docs/SEMANTICS.md §9 row 27).
    fn get(&self, key: &str) -> Option<String> {
        self.req
            .context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| match v {
                ContextValue::One(s) => Some(scalar_text(s)),
                ContextValue::Many(_) => None,
            })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// Scan one `${...}` at the start of `s`: `Ok((consumed, Some(text)))` for an escape or a resolved variable,
/// `Ok((consumed, None))` for a variable missing from the request, `Err(())` when `s` does not start with a
/// well-formed variable (then `$` is literal). Grammar: `${*}`, `${?}`, `${$}`, or
/// `${ KEY [, 'DEFAULT'] }` with spaces allowed around the parts (docs/SEMANTICS.md §9 row 9).
fn variable(s: &str, vars: &Vars<'_>) -> Result<(usize, Option<String>), ()> {
    for (esc, lit) in [("${*}", "*"), ("${?}", "?"), ("${$}", "$")] {
        if s.starts_with(esc) {
            return Ok((esc.len(), Some(lit.to_string())));
        }
    }
    let rest = s.strip_prefix("${").ok_or(())?;
    let chars: Vec<(usize, char)> = rest.char_indices().collect();
    let mut i = 0;
    let skip_spaces = |i: &mut usize| {
        while chars.get(*i).is_some_and(|(_, c)| *c == ' ') {
            *i += 1;
        }
    };
    skip_spaces(&mut i);
    let key_start = i;
    while chars
        .get(i)
        .is_some_and(|(_, c)| !matches!(c, '}' | ',' | ' ' | '$' | '{'))
    {
        i += 1;
    }
    if i == key_start {
        return Err(());
    }
    let byte = |i: usize| chars.get(i).map_or(rest.len(), |(b, _)| *b);
    let key = &rest[byte(key_start)..byte(i)];
    skip_spaces(&mut i);
    let mut default = None;
    if chars.get(i).is_some_and(|(_, c)| *c == ',') {
        i += 1;
        skip_spaces(&mut i);
        if chars.get(i).is_none_or(|(_, c)| *c != '\'') {
            return Err(());
        }
        i += 1;
        let d_start = i;
        while chars.get(i).is_some_and(|(_, c)| *c != '\'') {
            i += 1;
        }
        if chars.get(i).is_none() {
            return Err(());
        }
        default = Some(rest[byte(d_start)..byte(i)].to_string());
        i += 1;
        skip_spaces(&mut i);
    }
    if chars.get(i).is_none_or(|(_, c)| *c != '}') {
        return Err(());
    }
    let consumed = 2 + byte(i) + 1;
    Ok((consumed, vars.get(key).or(default)))
}

/// The text of `p` with variables expanded (wildcards are not special): `None` if a variable is missing.
fn expand(p: &str, vars: &Vars<'_>) -> Option<String> {
    let toks = tokens(p, false, Some(vars))?;
    Some(
        toks.iter()
            .map(|t| match t {
                Tok::Lit(c) => *c,
                Tok::Star => '*',
                Tok::One => '?',
            })
            .collect(),
    )
}

/// Tokenise `p`: `*` and `?` are wildcards when `wildcards`; with `vars` (and variables enabled), `${...}`
/// expands to literal characters. `None` if a variable without default is missing.
fn tokens(p: &str, wildcards: bool, vars: Option<&Vars<'_>>) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        let rest = &p[i..];
        if let Some(v) = vars.filter(|v| v.enabled) {
            if rest.starts_with("${") {
                if let Ok((n, value)) = variable(rest, v) {
                    out.extend(value?.chars().map(Tok::Lit));
                    i += n;
                    continue;
                }
            }
        }
        let c = rest.chars().next()?;
        out.push(match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::One,
            c => Tok::Lit(c),
        });
        i += c.len_utf8();
    }
    Some(out)
}

/// Whether `value` matches the tokens, by the textbook dynamic program.
fn glob(toks: &[Tok], value: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    // m[j] = whether toks[..i] matches v[..j].
    let mut m = vec![false; v.len() + 1];
    m[0] = true;
    for t in toks {
        let mut next = vec![false; v.len() + 1];
        for j in 0..=v.len() {
            next[j] = match t {
                Tok::Star => m[j] || (j > 0 && next[j - 1]),
                Tok::One => j > 0 && m[j - 1],
                Tok::Lit(c) => j > 0 && m[j - 1] && v[j - 1] == *c,
            };
        }
        m = next;
    }
    m[v.len()]
}

fn glob_with_vars(p: &str, value: &str, vars: &Vars<'_>) -> bool {
    tokens(p, true, Some(vars)).is_some_and(|t| glob(&t, value))
}

/// ArnLike (and the Resource element): `*` alone matches everything; otherwise both sides must have six
/// colon-separated fields, matched field by field, case-sensitively (docs/SEMANTICS.md §2.1). `None` when a
/// variable is missing (§2.3: that entry matches nothing).
fn arn_like(p: &str, value: &str, vars: &Vars<'_>) -> Option<bool> {
    if p == "*" {
        return Some(true);
    }
    let Some(pf) = arn_fields(p) else {
        return Some(false);
    };
    let mut all = true;
    let vf = arn_fields(value);
    for (k, field) in pf.iter().enumerate() {
        let toks = tokens(field, true, Some(vars))?;
        match &vf {
            Some(vf) => all &= glob(&toks, vf[k]),
            None => all = false,
        }
    }
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_basics() {
        let g = |p: &str, v: &str| glob(&tokens(p, true, None).unwrap(), v);
        assert!(g("*", ""));
        assert!(g("a*b", "ab"));
        assert!(g("a?c", "aéc"));
        assert!(!g("a*a*a", "aa"));
        assert!(g("bucket/*/test/*", "bucket//test/object.jpg"));
    }
}
