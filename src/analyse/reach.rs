//! The exact network origins from which a presigned URL can be created and used ([`reach`]): for each step of
//! the flow, the public path over every `aws:SourceIp`, the endpoint path over every endpoint and VPC id the
//! policies name (grouped into the classes the policies cannot tell apart, `value_classes`; pairs by
//! `super::pairs`) and every `aws:VpcSourceIp`, and calls via an AWS service. The addresses of each class are
//! decided by `super::ips`.

use super::ips::{IpOutcome, all_addresses, decide_over_ips};
use crate::compile::{CValues, PolicySet};
use crate::context::{ContextValue, Request, Scalar};
use crate::decide::{Decision, Reason};
use ipnet::IpNet;

/// every use of the URL, which AWS authorizes as the same action again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// `create`: the `CreatePresignedDomainUrl` call to the SageMaker API, through the API endpoint or public.
    Create,
    /// `use`: the browser's requests to the Studio host, through the Studio endpoint or public.
    Use,
}

/// A set of condition-key values: every value, only values that no policy names, or a list (which may hold
/// [`OTHER`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    /// Every value, named by a policy or not: written `"*"`.
    Any,
    /// These values: ids a policy names (or witnesses of its wildcard patterns), and [`OTHER`] for every value
    /// no policy names. A list of [`OTHER`] alone is written `"*other*"`, any other list as a JSON array.
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
        /// The class's values of `aws:SourceIp`, as the fewest CIDR blocks, ascending, IPv4 before IPv6.
        source_ip: Vec<IpNet>,
        /// The decision of every origin in the class.
        decision: Decision,
        /// Why, as a decision record's `reasons` (docs/FORMATS.md §2); the same for every origin in the class.
        reasons: Vec<Reason>,
    },
    /// Through an interface VPC endpoint: `aws:SourceVpce`, `aws:SourceVpc`, `aws:VpcSourceIp` present.
    Endpoint {
        /// The class's values of `aws:SourceVpce`: the endpoint ids.
        vpce: Values,
        /// The class's values of `aws:SourceVpc`: the ids of the VPCs holding the endpoints.
        vpc: Values,
        /// The class's values of `aws:VpcSourceIp`, as the fewest CIDR blocks, ascending, IPv4 before IPv6.
        vpc_source_ip: Vec<IpNet>,
        /// The decision of every origin in the class.
        decision: Decision,
        /// Why, as a decision record's `reasons`; the same for every origin in the class.
        reasons: Vec<Reason>,
    },
    /// A call an AWS service makes on the principal's behalf (forward access session) after a public request:
    /// `aws:ViaAWSService` true, `aws:SourceIp` kept (§5.2). Listed only when a policy tests `aws:ViaAWSService`.
    ViaAwsService {
        /// The `aws:SourceIp` of the first, public request, which the service's call keeps, as CIDR blocks.
        source_ip: Vec<IpNet>,
        /// The decision of every origin in the class.
        decision: Decision,
        /// Why, as a decision record's `reasons`; the same for every origin in the class.
        reasons: Vec<Reason>,
    },
}

impl Origin {
    /// The decision every origin of the class gets, whichever path it is on.
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
    /// Which step of the flow.
    pub step: Step,
    /// The classes: the public path, then the endpoint path, then (when a policy tests `aws:ViaAWSService`) calls
    /// via an AWS service. Classes that decide alike for the same reasons are merged (docs/reach.md).
    pub origins: Vec<Origin>,
}

/// What to analyse: the request (principal, action, resource, other context keys) and the endpoints the
/// network has, with their policies.
#[derive(Debug, Clone, Default)]
pub struct ReachQuery {
    /// The request every origin shares: principal, action, resource and the context keys other than the network
    /// keys, which reach sets for each class, replacing any value given here (`aws:SourceIp`, `aws:SourceVpce`, `aws:SourceVpc`,
    /// `aws:VpcSourceIp`, `aws:ViaAWSService`).
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
///
/// ```
/// use iamgate::analyse::{Origin, ReachQuery, Step, reach};
/// use iamgate::{Decision, Policy, PolicySet, Request};
/// let p = Policy::parse(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
///   "Action": "sagemaker:CreatePresignedDomainUrl", "Resource": "*",
///   "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}]}"#).unwrap();
/// let set = PolicySet::builder().identity(p).build().unwrap();
/// let template = Request::new("sagemaker:CreatePresignedDomainUrl",
///     "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice");
/// let steps = reach(&set, &ReachQuery { template, ..ReachQuery::default() });
/// assert_eq!(steps[0].step, Step::Create);
/// // Allowed from exactly the one public block; every endpoint origin is denied (no aws:SourceIp there).
/// let allowed: Vec<String> = steps[0].origins.iter().filter_map(|o| match o {
///     Origin::Public { source_ip, decision: Decision::Allow, .. } => Some(source_ip.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" ")),
///     _ => None,
/// }).collect();
/// assert_eq!(allowed, ["198.51.100.0/24"]);
/// assert!(steps[0].origins.iter().all(|o| !matches!(o, Origin::Endpoint { decision: Decision::Allow, .. })));
/// ```
pub fn reach(set: &PolicySet, q: &ReachQuery) -> Vec<ReachStep> {
    reach_with(set, q, true)
}

/// [`reach`], deciding endpoint x VPC pairs once per distinct set of applying statements (`pair_memo`, see
/// `analyse/pairs.rs`) or each on its own (the reference the tests compare with).
pub(super) fn reach_with(set: &PolicySet, q: &ReachQuery, pair_memo: bool) -> Vec<ReachStep> {
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
        // this step (its service is different), so it is left out. Values the policies cannot tell apart form one
        // class, decided once through its first value: the work grows with the classes, not with endpoint ids x
        // VPC ids.
        let step_vpces: Vec<String> = vpces
            .iter()
            .filter(|v| other.as_ref().is_none_or(|(id, _)| id != *v))
            .cloned()
            .collect();
        let this_id = this.as_ref().map(|(id, _)| id.as_str());
        let vpce_classes = value_classes(
            &all_sets,
            "aws:sourcevpce",
            &step_vpces,
            &vpce_other,
            this_id,
        );
        let vpc_classes = value_classes(&all_sets, "aws:sourcevpc", &vpcs, &vpc_other, None);
        // One request per endpoint class and per VPC class (the witness of its first value, the other key's first
        // class), and the set each endpoint class is decided with (its endpoint's policy, for the endpoint the
        // step goes through).
        let witness = |v: &str, fallback: &str| {
            if v == OTHER {
                fallback.to_string()
            } else {
                v.to_string()
            }
        };
        let first = |classes: &[Vec<usize>], values: &[String]| -> Vec<String> {
            classes
                .iter()
                .filter_map(|c| c.first().and_then(|&i| values.get(i)).cloned())
                .collect()
        };
        let vpce_firsts = first(&vpce_classes, &step_vpces);
        let vpc_firsts = first(&vpc_classes, &vpcs);
        let pair_request = |vpce: &str, vpc: &str| {
            let mut req = q.template.clone();
            strip_network(&mut req);
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
            req
        };
        let through_endpoint = match this {
            Some((id, Some(policy))) => Some((id, set.with_endpoint(Some(policy.clone())))),
            _ => None,
        };
        let mut sets = vec![set];
        if let Some((_, s)) = &through_endpoint {
            sets.push(s);
        }
        let a_side: Vec<(usize, Request)> = vpce_firsts
            .iter()
            .map(|vpce| {
                let t = usize::from(through_endpoint.as_ref().is_some_and(|(id, _)| *id == vpce));
                let vpc = vpc_firsts.first().map_or(OTHER, String::as_str);
                (t, pair_request(vpce, vpc))
            })
            .collect();
        let b_side: Vec<Request> = vpc_firsts
            .iter()
            .map(|vpc| pair_request(vpce_firsts.first().map_or(OTHER, String::as_str), vpc))
            .collect();
        let mut pairs = pair_memo
            .then(|| super::pairs::Pairs::new(&sets, &a_side, &b_side))
            .flatten();
        // Pairs with the same applying statements decide alike: each distinct one is decided once, and the rows
        // refer to its outcomes (`decided`) by index.
        let mut decided: Vec<IpOutcome> = Vec::new();
        let mut decided_at: Vec<std::ops::Range<usize>> = Vec::new();
        let mut rows: Vec<(usize, usize, usize)> = Vec::new();
        for (ai, (vpce, (t, _))) in vpce_firsts.iter().zip(&a_side).enumerate() {
            let through = sets.get(*t).copied().unwrap_or(set);
            for (bi, vpc) in vpc_firsts.iter().enumerate() {
                let id = match pairs.as_mut() {
                    Some(p) => p.id(ai, bi),
                    None => decided_at.len(),
                };
                if id == decided_at.len() {
                    let req = pair_request(vpce, vpc);
                    let from = decided.len();
                    decided.extend(decide_over_ips(
                        through,
                        &req,
                        "aws:VpcSourceIp",
                        &everything,
                    ));
                    decided_at.push(from..decided.len());
                }
                for o in decided_at.get(id).cloned().unwrap_or_default() {
                    rows.push((ai, bi, o));
                }
            }
        }
        let endpoint_ids = Classes {
            values: &step_vpces,
            classes: &vpce_classes,
            all: vpces.len(),
        };
        let vpc_ids = Classes {
            values: &vpcs,
            classes: &vpc_classes,
            all: vpcs.len(),
        };
        origins.extend(group_endpoint_rows(rows, &decided, &endpoint_ids, &vpc_ids));
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

/// Values of one key grouped into classes (indices into `values`, ascending; classes in order of their first
/// value), and how many values the key has in all (a list of every one of them prints as `"*"`).
struct Classes<'v> {
    values: &'v [String],
    classes: &'v [Vec<usize>],
    all: usize,
}

impl Classes<'_> {
    /// The values of the classes `which`, in their order among all values.
    fn values_of(&self, which: &[usize]) -> Values {
        let mut at: Vec<usize> = which
            .iter()
            .filter_map(|&c| self.classes.get(c))
            .flatten()
            .copied()
            .collect();
        crate::sort::unstable(&mut at);
        if at.len() == self.all {
            return Values::Any;
        }
        Values::List(
            at.into_iter()
                .filter_map(|i| self.values.get(i).cloned())
                .collect(),
        )
    }
}

/// Merge rows (endpoint class, VPC class, outcome) that differ only in the endpoint, then those that differ only
/// in the VPC: the same grouping as over single values (every value of a class has its class's outcomes), in work
/// that grows with the classes and memory with the answer.
fn group_endpoint_rows(
    rows: Vec<(usize, usize, usize)>,
    decided: &[IpOutcome],
    vpces: &Classes<'_>,
    vpcs: &Classes<'_>,
) -> Vec<Origin> {
    use crate::map::Map;
    // Outcomes interned, so that grouping compares numbers: each decided outcome once.
    let mut outcomes: Vec<&IpOutcome> = Vec::new();
    let mut outcome_ids: Map<&IpOutcome, usize> = Map::new();
    let interned: Vec<usize> = decided
        .iter()
        .map(|o| {
            let next = outcomes.len();
            let id = *outcome_ids.entry(o).or_insert(next);
            if id == next {
                outcomes.push(o);
            }
            id
        })
        .collect();
    // (vpc class, outcome) -> endpoint classes, in order of first appearance.
    let mut by_vpc: Vec<(usize, usize, Vec<usize>)> = Vec::new();
    let mut by_vpc_at: Map<(usize, usize), usize> = Map::new();
    for (vpce, vpc, o) in rows {
        let Some(&id) = interned.get(o) else {
            continue;
        };
        match by_vpc_at.get(&(vpc, id)).and_then(|&i| by_vpc.get_mut(i)) {
            Some((_, _, list)) => list.push(vpce),
            None => {
                by_vpc_at.insert((vpc, id), by_vpc.len());
                by_vpc.push((vpc, id, vec![vpce]));
            }
        }
    }
    // (endpoint classes, outcome) -> vpc classes.
    let mut merged: Vec<(Vec<usize>, usize, Vec<usize>)> = Vec::new();
    let mut merged_at: Map<(Vec<usize>, usize), usize> = Map::new();
    for (vpc, id, vpce_list) in by_vpc {
        match merged_at
            .get(&(vpce_list.clone(), id))
            .and_then(|&i| merged.get_mut(i))
        {
            Some((_, _, v)) => v.push(vpc),
            None => {
                merged_at.insert((vpce_list.clone(), id), merged.len());
                merged.push((vpce_list, id, vec![vpc]));
            }
        }
    }
    merged
        .into_iter()
        .filter_map(|(vpce_list, id, vpc_list)| {
            let o = (*outcomes.get(id)?).clone();
            Some(Origin::Endpoint {
                vpce: vpces.values_of(&vpce_list),
                vpc: vpcs.values_of(&vpc_list),
                vpc_source_ip: o.ranges,
                decision: o.decision,
                reasons: o.reasons,
            })
        })
        .collect()
}

/// `values` of `key` grouped into the classes the policies cannot tell apart: two values are alike when every
/// condition on the key in every set matches both or neither under the positive counterpart of its operator (what
/// a decision reads of a single-valued key; `crate::decide::condition::matches_any` with no variables), both or
/// neither are empty, and both or neither are `this_id` (the endpoint whose policy applies). [`OTHER`] stands for
/// `other_witness`. When a pattern substitutes the key as a policy variable, or a condition on it has variables,
/// every value is its own class.
fn value_classes(
    sets: &[PolicySet],
    key: &str,
    values: &[String],
    other_witness: &str,
    this_id: Option<&str>,
) -> Vec<Vec<usize>> {
    let conditions: Vec<&crate::compile::CCondition> = sets
        .iter()
        .flat_map(|s| s.policies().map(|(_, p)| p))
        .flat_map(|p| &p.statements)
        .flat_map(|st| &st.conditions)
        .filter(|c| &*c.key == key)
        .collect();
    let apart = sets.iter().any(|s| s.substitutes(key))
        || conditions.iter().any(|c| condition_has_variables(c));
    let mut classes: Vec<Vec<usize>> = Vec::new();
    let mut by_signature: crate::map::Map<(Vec<bool>, Option<&str>), usize> =
        crate::map::Map::new();
    for (i, v) in values.iter().enumerate() {
        let text = if v == OTHER { other_witness } else { v };
        let mut signature: Vec<bool> = conditions
            .iter()
            .map(|c| {
                crate::decide::matches_any(
                    c,
                    crate::context::ScalarRef::String(text),
                    None,
                    &crate::policy::pattern::NoVars,
                )
            })
            .collect();
        signature.push(text.is_empty());
        signature.push(this_id == Some(v.as_str()));
        let own = apart.then_some(v.as_str());
        let next = classes.len();
        let c = *by_signature.entry((signature, own)).or_insert(next);
        match classes.get_mut(c) {
            Some(class) => class.push(i),
            None => classes.push(vec![i]),
        }
    }
    classes
}

/// Whether a condition's policy values contain policy variables (they can then tell any two values apart).
fn condition_has_variables(c: &crate::compile::CCondition) -> bool {
    match &c.values {
        CValues::Exact(ps, _) | CValues::IgnoreCase(ps) | CValues::Like(ps) | CValues::Bool(ps) => {
            ps.iter()
                .any(crate::policy::pattern::Pattern::has_variables)
        }
        CValues::Arn(ps) => ps.iter().any(crate::policy::arn::ArnPattern::has_variables),
        _ => false,
    }
}

/// The values of `key` that policies (and the query's endpoints) name, witnesses for its wildcard patterns, and
/// [`OTHER`].
fn key_values(sets: &[PolicySet], key: &str, prefix: &str, q: &ReachQuery) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: crate::map::Set<String> = crate::map::Set::new();
    let mut push = |v: String| {
        if seen.insert(v.clone()) {
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
    /// Whether any pattern (resource or condition value) substitutes the policy variable `key` (lowercase).
    pub(crate) fn substitutes(&self, key: &str) -> bool {
        use crate::policy::pattern::{Atom, Pattern};
        let names = |p: &Pattern| {
            p.has_variables()
                && p.atoms()
                    .iter()
                    .any(|a| matches!(a, Atom::Var { key: k, .. } if k == key))
        };
        self.policies().flat_map(|(_, p)| &p.statements).any(|st| {
            st.resources.iter().flat_map(|r| r.patterns()).any(names)
                || st.conditions.iter().any(|c| match &c.values {
                    CValues::Exact(ps, _)
                    | CValues::IgnoreCase(ps)
                    | CValues::Like(ps)
                    | CValues::Bool(ps) => ps.iter().any(names),
                    CValues::Arn(ps) => ps.iter().flat_map(|r| r.patterns()).any(names),
                    _ => false,
                })
        })
    }

    /// Whether any condition reads `key` (lowercase).
    pub(crate) fn tests_key(&self, key: &str) -> bool {
        self.policies().any(|(_, p)| {
            p.statements
                .iter()
                .any(|s| s.conditions.iter().any(|c| &*c.key == key))
        })
    }

    /// The literal values of string conditions on `key`, and a witness for each wildcard pattern.
    pub(crate) fn literals_of(&self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (_, p) in self.policies() {
            for st in &p.statements {
                for c in st.conditions.iter().filter(|c| &*c.key == key) {
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
                    .filter(|c| &*c.key == key)
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

#[cfg(test)]
mod tests {
    use super::super::DECISIONS;
    use super::*;
    use crate::Policy;

    fn take_decisions() -> u64 {
        DECISIONS.with(|d| d.replace(0))
    }

    /// A policy of `statements` (effect, endpoint ids, VPC ids): each statement's condition lists its values.
    fn endpoint_policy(statements: &[(&str, Vec<String>, Vec<String>)]) -> PolicySet {
        let st: Vec<String> = statements
            .iter()
            .map(|(effect, vpces, vpcs)| {
                format!(
                    r#"{{"Effect":"{effect}","Action":"sagemaker:*","Resource":"*","Condition":{{"StringEquals":{{"aws:SourceVpce":{},"aws:SourceVpc":{}}}}}}}"#,
                    serde_json::to_string(vpces).unwrap_or_default(),
                    serde_json::to_string(vpcs).unwrap_or_default()
                )
            })
            .collect();
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            st.join(",")
        );
        let Ok(policy) = Policy::parse(&text) else {
            return PolicySet::default();
        };
        PolicySet::builder()
            .identity(policy)
            .build()
            .unwrap_or_default()
    }

    fn query() -> ReachQuery {
        ReachQuery {
            template: Request::new(
                "sagemaker:CreatePresignedDomainUrl",
                "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
            )
            .principal("arn:aws:iam::111122223333:role/DataSci"),
            ..ReachQuery::default()
        }
    }

    fn ids(prefix: &str, from: usize, n: usize) -> Vec<String> {
        (from..from + n)
            .map(|i| format!("{prefix}{i:05x}"))
            .collect()
    }

    /// Issue 14's reproduction: one statement listing 1,000 `aws:SourceVpce` and 1,000 `aws:SourceVpc` values
    /// took 11.2 s and 690 MB (a million endpoint x VPC pairs, each decided over every address). The values form
    /// two classes per key (listed, not listed), so the work is that of a one-value policy; the answer still
    /// lists every value.
    #[test]
    fn a_thousand_endpoints_and_vpcs_are_decided_as_classes() {
        let one = endpoint_policy(&[("Allow", ids("vpce-", 0, 1), ids("vpc-", 0, 1))]);
        take_decisions();
        let small = reach(&one, &query());
        let base = take_decisions();
        let many = endpoint_policy(&[("Allow", ids("vpce-", 0, 1000), ids("vpc-", 0, 1000))]);
        let steps = reach(&many, &query());
        assert_eq!(take_decisions(), base);
        assert_eq!(steps.len(), small.len());
        let allowed: Vec<&Origin> = steps
            .iter()
            .flat_map(|s| &s.origins)
            .filter(|o| {
                matches!(
                    o,
                    Origin::Endpoint {
                        decision: Decision::Allow,
                        ..
                    }
                )
            })
            .collect();
        assert_eq!(allowed.len(), 2, "one per step");
        for o in allowed {
            let Origin::Endpoint { vpce, vpc, .. } = o else {
                continue;
            };
            assert_eq!(vpce, &Values::List(ids("vpce-", 0, 1000)));
            assert_eq!(vpc, &Values::List(ids("vpc-", 0, 1000)));
        }
    }

    /// A value the policies substitute as a variable can tell any two values apart: each is then its own class.
    #[test]
    fn a_key_used_as_a_variable_keeps_every_value_apart() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"sagemaker:*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}},
            {"Effect":"Deny","Action":"sagemaker:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/vpce":"${aws:SourceVpce}"}}}]}"#;
        let set = PolicySet::builder()
            .identity(Policy::parse(text).unwrap())
            .build()
            .unwrap();
        assert!(set.substitutes("aws:sourcevpce"));
        let values: Vec<String> = ["vpce-1", "vpce-2", OTHER].map(String::from).to_vec();
        let classes = value_classes(
            std::slice::from_ref(&set),
            "aws:sourcevpce",
            &values,
            "vpce-x",
            None,
        );
        assert_eq!(classes, vec![vec![0], vec![1], vec![2]]);
        let plain = endpoint_policy(&[("Allow", ids("vpce-", 0, 2), ids("vpc-", 0, 1))]);
        let values = ids("vpce-", 0, 2)
            .into_iter()
            .chain([OTHER.to_string()])
            .collect::<Vec<_>>();
        let classes = value_classes(&[plain], "aws:sourcevpce", &values, "vpce-x", None);
        assert_eq!(classes, vec![vec![0, 1], vec![2]]);
        // The step's own endpoint is a class of its own (its endpoint policy applies to it alone).
        let plain = endpoint_policy(&[("Allow", ids("vpce-", 0, 2), ids("vpc-", 0, 1))]);
        let classes = value_classes(
            &[plain],
            "aws:sourcevpce",
            &values,
            "vpce-x",
            Some("vpce-00001"),
        );
        assert_eq!(classes, vec![vec![0], vec![1], vec![2]]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Reach's work (decisions made) does not grow with the number of values a policy lists: the same
        /// statements listing `n` or `4n` endpoint and VPC ids (overlapping between statements as the generator
        /// says) make the same number of decisions, so the growth in the size of the policy is linear (the reading
        /// of the values) and never endpoint ids x VPC ids.
        #[test]
        fn reach_work_does_not_grow_with_the_values_listed(
            shape in proptest::collection::vec((proptest::bool::ANY, 0usize..3, 0usize..3), 1..4),
            half in 1usize..20,
        ) {
            let n = 2 * half;
            let policy = |n: usize| {
                let statements: Vec<(&str, Vec<String>, Vec<String>)> = shape
                    .iter()
                    .map(|(allow, e, v)| {
                        // Statement lists start at one of three offsets: some overlap, some do not.
                        (if *allow { "Allow" } else { "Deny" }, ids("vpce-", e * n / 2, n), ids("vpc-", v * n / 2, n))
                    })
                    .collect();
                endpoint_policy(&statements)
            };
            take_decisions();
            let small = reach(&policy(n), &query());
            let work = take_decisions();
            let large = reach(&policy(4 * n), &query());
            proptest::prop_assert_eq!(take_decisions(), work);
            proptest::prop_assert_eq!(small.len(), large.len());
            proptest::prop_assert!(work <= 2 * 4 * (1 << (2 * shape.len())) * 64, "{}", work);
        }
    }
}
