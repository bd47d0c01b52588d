//! Exact analyses over sets of requests: a decision for every address of a range, computed over the ranges the
//! policies distinguish, never by sampling.

use crate::compile::{CValues, PolicySet};
use crate::context::{ContextValue, Request, Scalar};
use crate::decide::{Decision, Reason};
use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One class of addresses that all decide the same way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IpOutcome {
    /// The addresses, as the fewest CIDR blocks, in ascending order.
    pub ranges: Vec<IpNet>,
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

impl PolicySet {
    /// The CIDR set of every IP condition on `key` (lowercase), in policy order.
    pub(crate) fn ip_sets(&self, key: &str) -> Vec<&crate::policy::value::CidrSet> {
        let mut out = Vec::new();
        for (_, p) in self.policies() {
            for st in &p.statements {
                for c in st.conditions.iter().filter(|c| c.key == key) {
                    if let CValues::Ip(set) = &c.values {
                        out.push(&**set);
                    }
                }
            }
        }
        out
    }

    /// Whether every condition on `key` is an IP or `Null` condition, so that an address's decision depends only
    /// on which CIDR sets hold it.
    pub(crate) fn only_ip_conditions(&self, key: &str) -> bool {
        self.policies().all(|(_, p)| {
            p.statements.iter().all(|st| {
                st.conditions
                    .iter()
                    .filter(|c| c.key == key)
                    .all(|c| matches!(c.values, CValues::Ip(_) | CValues::Null { .. }))
            })
        })
    }

    /// Every range boundary that an IP condition on `key` (lowercase) draws: the start of each merged range and
    /// the address after its end. Between two consecutive boundaries every address decides alike.
    pub(crate) fn ip_boundaries(&self, key: &str) -> (Vec<u32>, Vec<u128>) {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (_, p) in self.policies() {
            for st in &p.statements {
                for c in &st.conditions {
                    if c.key != key {
                        continue;
                    }
                    if let CValues::Ip(set) = &c.values {
                        for &(lo, hi) in set.v4_ranges() {
                            v4.push(lo);
                            if let Some(n) = hi.checked_add(1) {
                                v4.push(n);
                            }
                        }
                        for &(lo, hi) in set.v6_ranges() {
                            v6.push(lo);
                            if let Some(n) = hi.checked_add(1) {
                                v6.push(n);
                            }
                        }
                    }
                }
            }
        }
        v4.sort_unstable();
        v4.dedup();
        v6.sort_unstable();
        v6.dedup();
        (v4, v6)
    }
}

/// Decide `template` with `key` set to each address of `ranges` (any other value of `key` in the template is
/// replaced). Returns classes that together cover exactly `ranges`, each with its decision and reasons; adjacent
/// addresses with the same outcome share a class.
///
/// ```
/// use iamgate::{Policy, PolicySet, Request, Decision, analyse::decide_over_ips};
/// let p = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
///   "Condition":{"IpAddress":{"aws:SourceIp":"165.225.0.0/18"}}}]}"#).unwrap();
/// let set = PolicySet::builder().identity(p).build().unwrap();
/// let classes = decide_over_ips(&set, &Request::new("s3:GetObject", "*"), "aws:SourceIp",
///     &["165.225.0.0/17".parse().unwrap()]);
/// assert_eq!(classes.len(), 2);
/// assert_eq!(classes[0].ranges[0].to_string(), "165.225.0.0/18");
/// assert_eq!(classes[0].decision, Decision::Allow);
/// assert_eq!(classes[1].ranges[0].to_string(), "165.225.64.0/18");
/// assert_eq!(classes[1].decision, Decision::ImplicitDeny);
/// ```
pub fn decide_over_ips(
    set: &PolicySet,
    template: &Request,
    key: &str,
    ranges: &[IpNet],
) -> Vec<IpOutcome> {
    let lower = key.to_ascii_lowercase();
    let (b4, b6) = set.ip_boundaries(&lower);
    let mut req = template.clone();
    // Intervals in order: IPv4 first, then IPv6, each family's ranges sorted and merged.
    let mut v4: Vec<(u32, u32)> = Vec::new();
    let mut v6: Vec<(u128, u128)> = Vec::new();
    for r in ranges {
        match r {
            IpNet::V4(n) => v4.push((n.network().into(), n.broadcast().into())),
            IpNet::V6(n) => v6.push((n.network().into(), n.broadcast().into())),
        }
    }
    let v4 = merge(v4);
    let v6 = merge(v6);
    // INVARIANT: with `key` set to one address, every condition on it reads only whether that address is in its
    // CIDR set, so the decision is a function of the membership vector. Each distinct vector is decided once.
    let sets = set.ip_sets(&lower);
    let memo_ok = set.only_ip_conditions(&lower);
    let mut memo: std::collections::HashMap<Vec<bool>, (Decision, Vec<Reason>)> =
        std::collections::HashMap::new();
    let mut pieces: Vec<(Piece, Decision, Vec<Reason>)> = Vec::new();
    let mut decide = |ip: IpAddr, piece: Piece, req: &mut Request| {
        let membership: Vec<bool> = sets.iter().map(|s| s.contains(ip)).collect();
        let (decision, reasons) = match memo.get(&membership).filter(|_| memo_ok) {
            Some(known) => known.clone(),
            None => {
                let _ = req
                    .context
                    .insert(&lower, ContextValue::One(Scalar::String(ip.to_string())));
                let out = set.decide_with_reasons(req);
                memo.insert(membership, out.clone());
                out
            }
        };
        match pieces.last_mut() {
            Some((last, d, r)) if *d == decision && *r == reasons && last.adjacent(&piece) => {
                last.extend(&piece);
            }
            _ => pieces.push((piece, decision, reasons)),
        }
    };
    for (lo, hi) in v4 {
        for (a, b) in split(lo, hi, &b4) {
            decide(IpAddr::V4(Ipv4Addr::from(a)), Piece::V4(a, b), &mut req);
        }
    }
    for (lo, hi) in v6 {
        for (a, b) in split(lo, hi, &b6) {
            decide(IpAddr::V6(Ipv6Addr::from(a)), Piece::V6(a, b), &mut req);
        }
    }
    // Pieces with equal outcomes that are not adjacent become one class with several ranges.
    let mut classes: Vec<IpOutcome> = Vec::new();
    for (piece, decision, reasons) in pieces {
        let nets = piece.cidrs();
        match classes
            .iter_mut()
            .find(|c| c.decision == decision && c.reasons == reasons)
        {
            Some(c) => c.ranges.extend(nets),
            None => classes.push(IpOutcome {
                ranges: nets,
                decision,
                reasons,
            }),
        }
    }
    classes
}

#[derive(Debug, Clone, Copy)]
enum Piece {
    V4(u32, u32),
    V6(u128, u128),
}

impl Piece {
    fn adjacent(&self, next: &Piece) -> bool {
        match (self, next) {
            (Piece::V4(_, hi), Piece::V4(lo, _)) => hi.checked_add(1) == Some(*lo),
            (Piece::V6(_, hi), Piece::V6(lo, _)) => hi.checked_add(1) == Some(*lo),
            _ => false,
        }
    }

    fn extend(&mut self, next: &Piece) {
        match (self, next) {
            (Piece::V4(_, hi), Piece::V4(_, h)) => *hi = *h,
            (Piece::V6(_, hi), Piece::V6(_, h)) => *hi = *h,
            _ => {}
        }
    }

    fn cidrs(&self) -> Vec<IpNet> {
        match *self {
            Piece::V4(a, b) => Ipv4Subnets::new(a.into(), b.into(), 0)
                .map(IpNet::V4)
                .collect(),
            Piece::V6(a, b) => Ipv6Subnets::new(a.into(), b.into(), 0)
                .map(IpNet::V6)
                .collect(),
        }
    }
}

fn merge<T: Ord + Copy + Successor>(mut v: Vec<(T, T)>) -> Vec<(T, T)> {
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if last.1.succ().is_none_or(|n| lo <= n) => {
                if hi > last.1 {
                    last.1 = hi;
                }
            }
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Split `[lo, hi]` at every boundary inside it.
fn split<T: Ord + Copy + Successor + Predecessor>(lo: T, hi: T, bounds: &[T]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut start = lo;
    let first = bounds.partition_point(|&b| b <= lo);
    for &b in bounds.get(first..).unwrap_or(&[]) {
        if b > hi {
            break;
        }
        if let Some(end) = b.pred() {
            out.push((start, end));
        }
        start = b;
    }
    out.push((start, hi));
    out
}

trait Successor: Sized {
    fn succ(self) -> Option<Self>;
}
trait Predecessor: Sized {
    fn pred(self) -> Option<Self>;
}
impl Successor for u32 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}
impl Successor for u128 {
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
}
impl Predecessor for u32 {
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}
impl Predecessor for u128 {
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

/// Every IPv4 and IPv6 address.
pub fn all_addresses() -> Vec<IpNet> {
    vec![
        IpNet::V4(Ipv4Net::new(Ipv4Addr::UNSPECIFIED, 0).unwrap_or_default()),
        IpNet::V6(Ipv6Net::new(Ipv6Addr::UNSPECIFIED, 0).unwrap_or_default()),
    ]
}

/// The two steps of the presigned-URL flow (docs/SEMANTICS.md §6.2): the `CreatePresignedDomainUrl` call, then
/// every use of the URL, which AWS authorizes as the same action again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Create,
    Use,
}

/// A set of condition-key values: every value, only values that no policy names, or a list (which may hold
/// [`OTHER`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    Any,
    List(Vec<String>),
}

/// Stands for every value that no policy names.
pub const OTHER: &str = "*other*";

impl serde::Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Values::Any => s.serialize_str("*"),
            Values::List(v) if v.len() == 1 && v.first().is_some_and(|x| x == OTHER) => {
                s.serialize_str(OTHER)
            }
            Values::List(v) => v.serialize(s),
        }
    }
}

/// One class of network origins that decide alike.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "path", rename_all = "kebab-case")]
pub enum Origin {
    /// Through the public endpoint: `aws:SourceIp` present, no VPC keys.
    Public {
        source_ip: Vec<IpNet>,
        decision: Decision,
        reasons: Vec<Reason>,
    },
    /// Through an interface VPC endpoint: `aws:SourceVpce`, `aws:SourceVpc`, `aws:VpcSourceIp` present.
    Endpoint {
        vpce: Values,
        vpc: Values,
        vpc_source_ip: Vec<IpNet>,
        decision: Decision,
        reasons: Vec<Reason>,
    },
    /// A call an AWS service makes on the principal's behalf (forward access session) after a public request:
    /// `aws:ViaAWSService` true, `aws:SourceIp` kept (§5.2). Listed only when a policy tests `aws:ViaAWSService`.
    ViaAwsService {
        source_ip: Vec<IpNet>,
        decision: Decision,
        reasons: Vec<Reason>,
    },
}

impl Origin {
    pub fn decision(&self) -> Decision {
        match self {
            Origin::Public { decision, .. }
            | Origin::Endpoint { decision, .. }
            | Origin::ViaAwsService { decision, .. } => *decision,
        }
    }
}

/// Every origin class of one step; together they cover every origin exactly once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReachStep {
    pub step: Step,
    pub origins: Vec<Origin>,
}

/// What to analyse: the request (principal, action, resource, other context keys) and the endpoints the
/// network has, with their policies.
#[derive(Debug, Clone, Default)]
pub struct ReachQuery {
    pub template: Request,
    /// The SageMaker API endpoint (`com.amazonaws.REGION.sagemaker.api`) id and its policy, if known.
    pub api_endpoint: Option<(String, Option<crate::compile::CompiledPolicy>)>,
    /// The Studio endpoint (`aws.sagemaker.REGION.studio`) id and its policy, if known.
    pub studio_endpoint: Option<(String, Option<crate::compile::CompiledPolicy>)>,
}

/// The exact network origins from which the URL can be created and used.
///
/// For each step: on the public path, `aws:SourceIp` over all of IPv4 and IPv6; through an endpoint, every
/// endpoint id and VPC id the policies name plus "any other", and `aws:VpcSourceIp` over all addresses.
/// A value matched only by a wildcard pattern is represented by a witness string that matches it.
pub fn reach(set: &PolicySet, q: &ReachQuery) -> Vec<ReachStep> {
    // Every set a request can meet: the policies alone, and with each given endpoint policy. Values and witnesses
    // come from all of them, so an id named only in an endpoint policy gets its own class.
    let mut all_sets = vec![set.clone()];
    for (_, policy) in [&q.api_endpoint, &q.studio_endpoint].into_iter().flatten() {
        if let Some(p) = policy {
            all_sets.push(set.with_endpoint(Some(p.clone())));
        }
    }
    let vpces = key_values(&all_sets, "aws:sourcevpce", "vpce-", q);
    let vpcs = key_values(&all_sets, "aws:sourcevpc", "vpc-", q);
    let vpce_other = other_witness(&all_sets, "aws:sourcevpce", "vpce-");
    let vpc_other = other_witness(&all_sets, "aws:sourcevpc", "vpc-");
    let tests_fas = set.tests_key("aws:viaawsservice");
    let everything = all_addresses();
    let mut steps = Vec::with_capacity(2);
    for step in [Step::Create, Step::Use] {
        let (this, other) = match step {
            Step::Create => (&q.api_endpoint, &q.studio_endpoint),
            Step::Use => (&q.studio_endpoint, &q.api_endpoint),
        };
        let mut origins = Vec::new();
        // The public path.
        let mut public = q.template.clone();
        strip_network(&mut public);
        let _ = public
            .context
            .insert("aws:ViaAWSService", ContextValue::One(Scalar::Bool(false)));
        for c in decide_over_ips(set, &public, "aws:SourceIp", &everything) {
            origins.push(Origin::Public {
                source_ip: c.ranges,
                decision: c.decision,
                reasons: c.reasons,
            });
        }
        // Through endpoints: every named endpoint and VPC, and any other. The other step's endpoint cannot carry
        // this step (its service is different), so it is left out.
        let mut rows: Vec<(String, String, IpOutcome)> = Vec::new();
        for vpce in vpces
            .iter()
            .filter(|v| other.as_ref().is_none_or(|(id, _)| id != *v))
        {
            let through = match this {
                Some((id, Some(policy))) if id == vpce => set.with_endpoint(Some(policy.clone())),
                _ => set.clone(),
            };
            for vpc in &vpcs {
                let mut req = q.template.clone();
                strip_network(&mut req);
                let witness = |v: &str, fallback: &str| {
                    if v == OTHER {
                        fallback.to_string()
                    } else {
                        v.to_string()
                    }
                };
                let put = |req: &mut Request, k: &str, v: Scalar| {
                    let _ = req.context.insert(k, ContextValue::One(v));
                };
                put(
                    &mut req,
                    "aws:SourceVpce",
                    Scalar::String(witness(vpce, &vpce_other)),
                );
                put(
                    &mut req,
                    "aws:SourceVpc",
                    Scalar::String(witness(vpc, &vpc_other)),
                );
                put(&mut req, "aws:ViaAWSService", Scalar::Bool(false));
                for c in decide_over_ips(&through, &req, "aws:VpcSourceIp", &everything) {
                    rows.push((vpce.clone(), vpc.clone(), c));
                }
            }
        }
        origins.extend(group_endpoint_rows(rows, &vpces, &vpcs));
        if tests_fas {
            let mut fas = q.template.clone();
            strip_network(&mut fas);
            let _ = fas
                .context
                .insert("aws:ViaAWSService", ContextValue::One(Scalar::Bool(true)));
            for c in decide_over_ips(set, &fas, "aws:SourceIp", &everything) {
                origins.push(Origin::ViaAwsService {
                    source_ip: c.ranges,
                    decision: c.decision,
                    reasons: c.reasons,
                });
            }
        }
        steps.push(ReachStep { step, origins });
    }
    steps
}

fn strip_network(req: &mut Request) {
    for k in [
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:VpcSourceIp",
        "aws:ViaAWSService",
    ] {
        req.context.remove(k);
    }
}

/// Merge rows that differ only in the endpoint id, then those that differ only in the VPC id.
fn group_endpoint_rows(
    rows: Vec<(String, String, IpOutcome)>,
    vpces: &[String],
    vpcs: &[String],
) -> Vec<Origin> {
    // (vpc, outcome) -> vpces
    let mut by_vpc: Vec<(String, IpOutcome, Vec<String>)> = Vec::new();
    for (vpce, vpc, o) in rows {
        match by_vpc.iter_mut().find(|(v, oo, _)| *v == vpc && *oo == o) {
            Some((_, _, list)) => list.push(vpce),
            None => by_vpc.push((vpc, o, vec![vpce])),
        }
    }
    // (vpces, outcome) -> vpcs
    let mut merged: Vec<(Vec<String>, IpOutcome, Vec<String>)> = Vec::new();
    for (vpc, o, vpce_list) in by_vpc {
        match merged
            .iter_mut()
            .find(|(l, oo, _)| *l == vpce_list && *oo == o)
        {
            Some((_, _, v)) => v.push(vpc),
            None => merged.push((vpce_list, o, vec![vpc])),
        }
    }
    let values = |list: Vec<String>, all: &[String]| {
        if list.len() == all.len() {
            Values::Any
        } else {
            Values::List(list)
        }
    };
    merged
        .into_iter()
        .map(|(vpce_list, o, vpc_list)| Origin::Endpoint {
            vpce: values(vpce_list, vpces),
            vpc: values(vpc_list, vpcs),
            vpc_source_ip: o.ranges,
            decision: o.decision,
            reasons: o.reasons,
        })
        .collect()
}

/// The values of `key` that policies (and the query's endpoints) name, witnesses for its wildcard patterns, and
/// [`OTHER`].
fn key_values(sets: &[PolicySet], key: &str, prefix: &str, q: &ReachQuery) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: String| {
        if !out.contains(&v) {
            out.push(v);
        }
    };
    for v in sets.iter().flat_map(|s| s.literals_of(key)) {
        push(v);
    }
    if prefix == "vpce-" {
        for (id, _) in [&q.api_endpoint, &q.studio_endpoint].into_iter().flatten() {
            push(id.clone());
        }
    }
    push(OTHER.to_string());
    out
}

/// A value of `key` that no policy names and no pattern of the policies matches.
fn other_witness(sets: &[PolicySet], key: &str, prefix: &str) -> String {
    let candidates = [
        format!("{prefix}0iamgate0other0000"),
        format!("{prefix}ffffffffffffffff9"),
        "iamgate-unnamed".to_string(),
        String::new(),
    ];
    for c in candidates {
        if !sets.iter().any(|s| s.names_value(key, &c)) {
            return c;
        }
    }
    format!("{prefix}0iamgate0other0000")
}

impl PolicySet {
    /// Whether any condition reads `key` (lowercase).
    pub(crate) fn tests_key(&self, key: &str) -> bool {
        self.policies().any(|(_, p)| {
            p.statements
                .iter()
                .any(|s| s.conditions.iter().any(|c| c.key == key))
        })
    }

    /// The literal values of string conditions on `key`, and a witness for each wildcard pattern.
    pub(crate) fn literals_of(&self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (_, p) in self.policies() {
            for st in &p.statements {
                for c in st.conditions.iter().filter(|c| c.key == key) {
                    match &c.values {
                        CValues::Exact(ps, _) | CValues::IgnoreCase(ps) => {
                            out.extend(
                                ps.iter().filter_map(|p| p.as_literal().map(str::to_string)),
                            );
                        }
                        CValues::Like(ps) => out.extend(ps.iter().filter_map(witness)),
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Whether some string condition on `key` would treat `value` as one of its values.
    pub(crate) fn names_value(&self, key: &str, value: &str) -> bool {
        use crate::policy::pattern::NoVars;
        self.policies().any(|(_, p)| {
            p.statements.iter().any(|st| {
                st.conditions
                    .iter()
                    .filter(|c| c.key == key)
                    .any(|c| match &c.values {
                        CValues::Exact(ps, _) | CValues::Like(ps) => ps
                            .iter()
                            .any(|p| p.matches(value, &NoVars, false) != Some(false)),
                        CValues::IgnoreCase(ps) => ps
                            .iter()
                            .any(|p| p.equals_ignore_case(value, &NoVars) != Some(false)),
                        _ => false,
                    })
            })
        })
    }
}

/// A string that matches a wildcard pattern: `*` as nothing, `?` as `0`. `None` when it has variables.
fn witness(p: &crate::policy::pattern::Pattern) -> Option<String> {
    use crate::policy::pattern::Atom;
    let mut s = String::new();
    for a in p.atoms().iter() {
        match a {
            Atom::Text(t) => s.push_str(t),
            Atom::One => s.push('0'),
            Atom::Star => {}
            Atom::Var { .. } => return None,
        }
    }
    Some(s)
}
