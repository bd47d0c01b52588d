//! [`super::decide_over_ips`] in time n log n in the statements and the CIDR ranges: a sweep over the sorted range
//! boundaries that keeps, for the address it has reached, the statements whose conditions on the key hold, and
//! decides each distinct set of what matters of them once, on a set cut down to those statements (one
//! evaluator: the statements keep their meaning, only the ones that cannot apply are left out).
//!
//! Why it is exact. With the key set to one address, a statement applies when its action, resource, principal
//! and conditions on other keys hold (the same for every address: one traced decision tells, see [`Sweep::new`])
//! and each of its conditions on the key holds, which (an IP or `Null` condition, the only kinds this path takes)
//! depends only on whether the address is in the condition's CIDR set. Statements that do not apply never change
//! a decision or its reasons, so a set holding only statements that apply decides as the whole set. Then:
//!
//! - when a Deny applies, the decision and its reasons (every applying Deny) are those of the set of the
//!   applying Denies;
//! - otherwise each gate asks whether some Allow of its policies applies (the resource policy: which of its
//!   Allows, as they name the caller differently), so one applying Allow per policy gives the decision;
//! - an Allow is explained by every applying Allow: then the set of all of them decides.
//!
//! Each is keyed by a hash of the statements (or policies) it holds, kept up to date as the sweep adds and
//! removes statements, and decided once per distinct key. The hashes are keyed per run from the operating
//! system's randomness (`RandomState`), 128 bits: a collision would need about 2^64 distinct keys.

use super::ips::Piece;
use super::{count_decision, count_work};
use crate::compile::{CCondition, CStatement, CValues, PolicyRef, PolicySet};
use crate::context::{ContextValue, Request, Scalar};
use crate::decide::{Decision, Reason, condition};
use crate::map::Map;
use crate::policy::Effect;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One condition on the key of a statement that may apply: it holds where membership in `set` is `inside`.
struct KeyCondition {
    statement: u32,
    inside: bool,
}

/// A statement that may apply (its other parts hold for the template).
struct Candidate {
    /// Its policy, numbered in the order of [`PolicySet::policies`].
    policy: usize,
    /// Its index in its policy.
    index: usize,
    deny: bool,
    /// The statement as the cut-down sets hold it: its other parts known to hold, only the conditions on the
    /// key are kept (an applying statement of thousands of actions costs nothing to copy).
    proxy: CStatement,
    /// Which conditions are `inside` ones (they do not hold at the start of a family's sweep).
    inside: u32,
}

/// What decides a class, as kept by the sweep.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// The applying Deny statements.
    Deny(u64, u64),
    /// The applying Allow statements.
    Allows(u64, u64),
}

#[derive(Clone, Copy)]
enum GateMemo {
    Allow,
    Outcome(usize),
}

pub(super) struct Sweep<'s> {
    set: &'s PolicySet,
    req: Request,
    key: String,
    candidates: Vec<Candidate>,
    conditions: Vec<KeyCondition>,
    /// Range boundaries: (address, entering, condition), sorted (leaving before entering at one address).
    v4: Vec<(u32, bool, u32)>,
    v6: Vec<(u128, bool, u32)>,
    policies: usize,
    /// The statements the traced decision visited: what a decision on the whole set costs.
    whole: usize,
    resource: Option<usize>,
    at_of: Map<PolicyRef, usize>,
    hash: [std::collections::hash_map::RandomState; 2],
    // Sweep state, reset per family.
    member: Vec<bool>,
    unsat: Vec<u32>,
    denies: crate::map::Ids,
    allows: Vec<crate::map::Ids>,
    h_deny: (u64, u64),
    h_allow: (u64, u64),
    h_gates: (u64, u64),
    dirty: bool,
    current: usize,
    // Memos, across families.
    memo: Map<Key, usize>,
    gate_memo: Map<(u64, u64), GateMemo>,
    pub(super) outcomes: Vec<(Decision, Vec<Reason>)>,
    /// Outcomes by their hash (the outcomes themselves are kept once, in `outcomes`: a copy as a key held each
    /// answer twice, 1,000 reasons for each of 1,000 classes).
    outcome_of: Map<u64, Vec<usize>>,
    outcome_hasher: std::hash::RandomState,
}

impl<'s> Sweep<'s> {
    /// The sweep for `key` (lowercase) over `set`, or `None` when the key's decision is not a function of CIDR
    /// membership: a condition on it of another kind (a string compared with the address text), or a policy
    /// that substitutes it as a variable.
    pub(super) fn new(set: &'s PolicySet, template: &Request, key: &str) -> Option<Sweep<'s>> {
        if !set.only_ip_conditions(key) || set.substitutes(key) {
            return None;
        }
        let mut req = template.clone();
        // INVARIANT: with no variable naming the key, nothing but its conditions reads it: one decision at any
        // address tells which statements' other parts hold.
        let probe = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        put(&mut req, key, probe);
        count_decision();
        let trace = set.explain(&req);
        count_work(trace.statements.len() as u64);
        let others_hold: Map<(PolicyRef, usize), bool> = trace
            .statements
            .iter()
            .map(|t| {
                let hold = t.action_matched
                    && t.resource_matched
                    && t.principal_matched
                    && t.conditions.iter().all(|c| c.held || &*c.key == key);
                ((t.policy, t.statement), hold)
            })
            .collect();
        let mut sweep = Sweep {
            set,
            req,
            key: key.to_string(),
            candidates: Vec::new(),
            conditions: Vec::new(),
            v4: Vec::new(),
            v6: Vec::new(),
            policies: 0,
            whole: trace.statements.len(),
            resource: None,
            at_of: Map::new(),
            hash: [Default::default(), Default::default()],
            member: Vec::new(),
            unsat: Vec::new(),
            denies: crate::map::Ids::new(),
            allows: Vec::new(),
            h_deny: (0, 0),
            h_allow: (0, 0),
            h_gates: (0, 0),
            dirty: true,
            current: 0,
            memo: Map::new(),
            gate_memo: Map::new(),
            outcomes: Vec::new(),
            outcome_of: Map::new(),
            outcome_hasher: std::hash::RandomState::new(),
        };
        for (k, (at, p)) in set.policies().enumerate() {
            sweep.policies = k + 1;
            sweep.at_of.insert(at, k);
            if at == PolicyRef::Resource {
                sweep.resource = Some(k);
            }
            for st in p.statements.iter() {
                // A statement the traced decision did not visit (an RCP's Allow, RCPs for a service they do not
                // govern) never counts.
                if others_hold.get(&(at, st.index)) != Some(&true) {
                    continue;
                }
                sweep.add(k, at, st);
            }
        }
        crate::sort::unstable(&mut sweep.v4);
        crate::sort::unstable(&mut sweep.v6);
        count_work((sweep.v4.len() + sweep.v6.len()) as u64);
        Some(sweep)
    }

    /// Add statement `st` of policy `k` (at `at`), whose other parts hold, with its conditions on the key.
    fn add(&mut self, k: usize, at: PolicyRef, st: &CStatement) {
        let s = u32::try_from(self.candidates.len()).unwrap_or(u32::MAX);
        let mut kept: Vec<CCondition> = Vec::new();
        // The conditions that depend on the address: `(inside, CIDR set)`, added once the statement is known to
        // be a candidate.
        let mut varying: Vec<(bool, std::sync::Arc<crate::policy::value::CidrSet>)> = Vec::new();
        for c in st.conditions.iter().filter(|c| *c.key == *self.key) {
            kept.push(c.clone());
            let CValues::Ip(cidrs) = &c.values else {
                // `Null`: the key is present, so it holds or not whatever the address.
                let (held, _) = condition(c, &self.req);
                if !held {
                    return;
                }
                continue;
            };
            let witness_in = cidrs
                .v4_ranges()
                .first()
                .map(|r| IpAddr::V4(r.0.into()))
                .or_else(|| cidrs.v6_ranges().first().map(|r| IpAddr::V6(r.0.into())));
            let witness_out = outside(cidrs.v4_ranges(), |a| IpAddr::V4(a.into()))
                .or_else(|| outside(cidrs.v6_ranges(), |a| IpAddr::V6(a.into())))
                .filter(|&a| !cidrs.contains(a));
            let mut at_ = |a: Option<IpAddr>| {
                a.map(|a| {
                    put(&mut self.req, &self.key, a);
                    condition(c, &self.req).0
                })
            };
            let (when_in, when_out) = (at_(witness_in), at_(witness_out));
            match (when_in, when_out) {
                // Every address is in the set, or none is: a constant.
                (Some(h), None) | (None, Some(h)) => {
                    if !h {
                        return;
                    }
                }
                (Some(a), Some(b)) if a == b => {
                    if !a {
                        return;
                    }
                }
                (Some(a), Some(_)) => varying.push((a, cidrs.clone())),
                (None, None) => return,
            }
        }
        let mut inside = 0;
        for (a, cidrs) in varying {
            let cid = u32::try_from(self.conditions.len()).unwrap_or(u32::MAX);
            self.conditions.push(KeyCondition {
                statement: s,
                inside: a,
            });
            inside += u32::from(a);
            for &(lo, hi) in cidrs.v4_ranges() {
                self.v4.push((lo, true, cid));
                if let Some(n) = hi.checked_add(1) {
                    self.v4.push((n, false, cid));
                }
            }
            for &(lo, hi) in cidrs.v6_ranges() {
                self.v6.push((lo, true, cid));
                if let Some(n) = hi.checked_add(1) {
                    self.v6.push((n, false, cid));
                }
            }
        }
        let proxy = CStatement {
            index: st.index,
            cond_at: 0,
            wild: false,
            sid: st.sid.clone(),
            effect: st.effect,
            // The principal matched; a resource policy's Allow also says how it names the caller, and its Deny
            // with `NotPrincipal` how a boundary reads it.
            principal: if at == PolicyRef::Resource {
                st.principal.clone()
            } else {
                None
            },
            not_action: false,
            actions: Vec::new(),
            not_resource: false,
            resources: Vec::new(),
            conditions: kept,
            services: u64::MAX,
            any_action: true,
            any_resource: true,
            unconditional: false,
        };
        self.candidates.push(Candidate {
            policy: k,
            index: st.index,
            deny: st.effect == Effect::Deny,
            proxy,
            inside,
        });
    }

    fn h(&self, tag: u8, x: u32) -> (u64, u64) {
        let [a, b] = &self.hash;
        (a.hash_one((tag, x)), b.hash_one((tag, x)))
    }

    fn reset(&mut self) {
        self.member = vec![false; self.conditions.len()];
        self.unsat = self.candidates.iter().map(|c| c.inside).collect();
        self.denies.clear();
        self.allows = vec![crate::map::Ids::new(); self.policies];
        self.h_deny = (0, 0);
        self.h_allow = (0, 0);
        self.h_gates = (0, 0);
        self.dirty = true;
        for s in 0..self.candidates.len() {
            if self.unsat.get(s) == Some(&0) {
                self.toggle(s as u32, true);
            }
        }
    }

    /// Statement `s` starts (`on`) or stops applying.
    fn toggle(&mut self, s: u32, on: bool) {
        let Some(c) = self.candidates.get(s as usize) else {
            return;
        };
        let (deny, k) = (c.deny, c.policy);
        let add = |h: &mut (u64, u64), v: (u64, u64)| {
            if on {
                *h = (h.0.wrapping_add(v.0), h.1.wrapping_add(v.1));
            } else {
                *h = (h.0.wrapping_sub(v.0), h.1.wrapping_sub(v.1));
            }
        };
        self.dirty = true;
        if deny {
            let v = self.h(0, s);
            add(&mut self.h_deny, v);
            if on {
                self.denies.insert(s);
            } else {
                self.denies.remove(&s);
            }
            return;
        }
        let v = self.h(1, s);
        add(&mut self.h_allow, v);
        let Some(list) = self.allows.get_mut(k) else {
            return;
        };
        if on {
            list.insert(s);
        } else {
            list.remove(&s);
        }
        let len = list.len();
        if self.resource == Some(k) {
            let v = self.h(2, s);
            add(&mut self.h_gates, v);
        } else if (on && len == 1) || (!on && len == 0) {
            let v = self.h(3, k as u32);
            add(&mut self.h_gates, v);
        }
    }

    /// Condition `cid`'s address enters (`entering`) or leaves its CIDR set.
    fn event(&mut self, cid: u32, entering: bool) {
        count_work(1);
        let Some(c) = self.conditions.get(cid as usize) else {
            return;
        };
        let (s, inside) = (c.statement, c.inside);
        let Some(m) = self.member.get_mut(cid as usize) else {
            return;
        };
        if *m == entering {
            return;
        }
        let before = *m == inside;
        *m = entering;
        let after = entering == inside;
        if before == after {
            return;
        }
        let Some(u) = self.unsat.get_mut(s as usize) else {
            return;
        };
        if after {
            *u -= 1;
            if *u == 0 {
                self.toggle(s, true);
            }
        } else {
            *u += 1;
            if *u == 1 {
                self.toggle(s, false);
            }
        }
    }

    /// The outcome id at the sweep's position, whose first address is `at`.
    fn outcome(&mut self, at: IpAddr) -> usize {
        if !self.dirty {
            return self.current;
        }
        self.dirty = false;
        let id = if !self.denies.is_empty() {
            let key = Key::Deny(self.h_deny.0, self.h_deny.1);
            match self.memo.get(&key) {
                Some(&id) => id,
                None => {
                    let chosen: Vec<u32> = self.denies.iter().copied().collect();
                    let out = self.decide(&chosen, at);
                    let id = self.intern(out);
                    self.memo.insert(key, id);
                    id
                }
            }
        } else {
            let gates = match self.gate_memo.get(&self.h_gates) {
                Some(&g) => g,
                None => {
                    // One applying Allow per policy (each of the resource policy's).
                    let mut chosen = Vec::new();
                    for (k, list) in self.allows.iter().enumerate() {
                        if self.resource == Some(k) {
                            chosen.extend(list.iter().copied());
                        } else {
                            chosen.extend(list.first().copied());
                        }
                    }
                    let out = self.decide(&chosen, at);
                    let g = if out.0 == Decision::Allow {
                        GateMemo::Allow
                    } else {
                        GateMemo::Outcome(self.intern(out))
                    };
                    self.gate_memo.insert(self.h_gates, g);
                    g
                }
            };
            match gates {
                GateMemo::Outcome(id) => id,
                GateMemo::Allow => {
                    let key = Key::Allows(self.h_allow.0, self.h_allow.1);
                    match self.memo.get(&key) {
                        Some(&id) => id,
                        None => {
                            let chosen: Vec<u32> = self.allows.iter().flatten().copied().collect();
                            let out = self.decide(&chosen, at);
                            let id = self.intern(out);
                            self.memo.insert(key, id);
                            id
                        }
                    }
                }
            }
        };
        self.current = id;
        id
    }

    fn intern(&mut self, mut out: (Decision, Vec<Reason>)) -> usize {
        use std::hash::BuildHasher;
        let hash = self.outcome_hasher.hash_one(&out);
        let same = self.outcome_of.get(&hash).and_then(|ids| {
            ids.iter()
                .copied()
                .find(|&id| self.outcomes.get(id) == Some(&out))
        });
        if let Some(id) = same {
            return id;
        }
        let id = self.outcomes.len();
        self.outcome_of.entry(hash).or_default().push(id);
        out.1.shrink_to_fit();
        self.outcomes.push(out);
        id
    }

    /// Decide at `at` on the set cut down to the candidates `chosen` (ascending), with the reasons' statement
    /// numbers mapped back to the whole policies'.
    fn decide(&mut self, chosen: &[u32], at: IpAddr) -> (Decision, Vec<Reason>) {
        put(&mut self.req, &self.key, at);
        // The whole set decides alike at `at` (the statements left out do not apply there); it is the cheaper
        // when the cut-down set would hold a good part of it, and costs at most 4x the statements chosen.
        if chosen.len().saturating_mul(4) > self.whole && !cut_always() {
            count_decision();
            count_work(self.whole as u64);
            return self.set.decide_with_reasons(&self.req);
        }
        let mut indices: Vec<Vec<usize>> = vec![Vec::new(); self.policies];
        let mut statements: Vec<Vec<CStatement>> = vec![Vec::new(); self.policies];
        for &s in chosen {
            if let Some(c) = self.candidates.get(s as usize) {
                if let (Some(i), Some(st)) =
                    (indices.get_mut(c.policy), statements.get_mut(c.policy))
                {
                    i.push(c.index);
                    st.push(c.proxy.clone());
                }
            }
        }
        count_decision();
        count_work(chosen.len() as u64 + self.policies as u64);
        let cut = self.set.with_statements(|k, _, _| {
            statements
                .get_mut(k)
                .map(std::mem::take)
                .unwrap_or_default()
        });
        let (decision, mut reasons) = cut.decide_with_reasons(&self.req);
        for r in &mut reasons {
            if let Reason::Statement {
                policy,
                statement,
                span,
                ..
            } = r
            {
                let original = self
                    .at_of
                    .get(policy)
                    .and_then(|&k| indices.get(k))
                    .and_then(|l| l.get(*statement))
                    .copied();
                if let Some(i) = original {
                    *statement = i;
                    if let Some(s) = self.set.statement_span(*policy, i) {
                        *span = s;
                    }
                }
            }
        }
        (decision, reasons)
    }

    /// Pieces of the intervals `queries` (sorted, disjoint) with their outcome ids, split at every boundary of
    /// one family's events.
    /// A piece whose first address `to_ip` maps to `None` gets [`UNDECIDED`].
    fn family<A: Copy + Ord>(
        &mut self,
        queries: &[(A, A)],
        to_ip: impl Fn(A) -> Option<IpAddr>,
        pred: impl Fn(A) -> Option<A>,
        events: impl Fn(&Self) -> &[(A, bool, u32)],
        mut piece: impl FnMut(A, A, usize),
    ) {
        self.reset();
        let mut at = 0usize;
        for &(lo, hi) in queries {
            let mut start = lo;
            loop {
                while let Some(&(pos, entering, cid)) = events(self).get(at) {
                    if pos > start {
                        break;
                    }
                    self.event(cid, entering);
                    at += 1;
                }
                let id = to_ip(start).map_or(UNDECIDED, |a| self.outcome(a));
                match events(self).get(at) {
                    Some(&(next, _, _)) if next <= hi => {
                        if let Some(end) = pred(next) {
                            piece(start, end, id);
                        }
                        start = next;
                    }
                    _ => {
                        piece(start, hi, id);
                        break;
                    }
                }
            }
        }
    }

    fn v4_events(&self) -> &[(u32, bool, u32)] {
        &self.v4
    }

    fn v6_events(&self) -> &[(u128, bool, u32)] {
        &self.v6
    }
}

/// Pieces of `v4` and `v6` (sorted, merged intervals) with their outcome ids, in order: IPv4, then IPv6. An
/// IPv6 piece that starts in `::ffff:0:0/96` is decided as the IPv4 address it maps to (the evaluator reads
/// such an address as AWS does, docs/SEMANTICS.md), as deciding its first address always did.
pub(super) fn pieces(
    sweep: &mut Sweep<'_>,
    v4: &[(u32, u32)],
    v6: &[(u128, u128)],
) -> Vec<(Piece, usize)> {
    let mut out: Vec<(Piece, usize)> = Vec::new();
    sweep.family(
        v4,
        |a| Some(IpAddr::V4(Ipv4Addr::from(a))),
        |a: u32| a.checked_sub(1),
        Sweep::v4_events,
        |a, b, id| out.push((Piece::V4(a, b), id)),
    );
    let start = out.len();
    let mapped = |a: u128| crate::ip::mapped_v4(a.into()).map(u32::from);
    // A mapped address is decided in the IPv4 sweep below: deciding it here would read it as IPv4 against what
    // the IPv6 ranges say of it.
    sweep.family(
        v6,
        |a| mapped(a).is_none().then(|| IpAddr::V6(Ipv6Addr::from(a))),
        |a: u128| a.checked_sub(1),
        Sweep::v6_events,
        |a, b, id| out.push((Piece::V6(a, b), id)),
    );
    let mut points: Vec<(u32, u32)> = out
        .get(start..)
        .unwrap_or_default()
        .iter()
        .filter_map(|(p, _)| match p {
            Piece::V6(a, _) => mapped(*a).map(|x| (x, x)),
            Piece::V4(..) => None,
        })
        .collect();
    if !points.is_empty() {
        crate::sort::unstable(&mut points);
        points.dedup();
        let mut at_point: Map<u32, usize> = Map::new();
        sweep.family(
            &points,
            |a| Some(IpAddr::V4(Ipv4Addr::from(a))),
            |a: u32| a.checked_sub(1),
            Sweep::v4_events,
            |a, _, id| {
                at_point.insert(a, id);
            },
        );
        for (p, id) in out.iter_mut().skip(start) {
            if let Piece::V6(a, _) = p {
                if let Some(&x) = mapped(*a).and_then(|x| at_point.get(&x)) {
                    *id = x;
                }
            }
        }
    }
    out
}

/// An address of one family outside the merged ranges `r` (ascending), if one is: the family's first address,
/// or the one after a range.
fn outside<A: Copy + Ord + From<u8> + super::ips::Successor>(
    r: &[(A, A)],
    ip: impl Fn(A) -> IpAddr,
) -> Option<IpAddr> {
    let zero = A::from(0);
    match r.first() {
        None => Some(ip(zero)),
        Some(&(lo, _)) if lo > zero => Some(ip(zero)),
        Some(&(_, hi)) => hi.succ().map(ip),
    }
}

#[cfg(test)]
thread_local! {
    /// Tests only: decide every class on a cut-down set, however large (the differential test covers both ways).
    pub(super) static CUT_ALWAYS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn cut_always() -> bool {
    #[cfg(test)]
    return CUT_ALWAYS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// The outcome id of a piece left for another pass.
const UNDECIDED: usize = usize::MAX;

fn put(req: &mut Request, key: &str, a: IpAddr) {
    let _ = req.context.insert(
        key,
        ContextValue::One(Scalar::String(crate::ip::addr_text(a))),
    );
}

#[cfg(test)]
mod tests {
    use super::super::ips::{
        IpOutcome, all_addresses, decide_over_ips, decide_over_ips_sweep, decide_over_ips_walk,
    };
    use super::super::{DECISIONS, WORK};
    use crate::{Policy, PolicySet, Request};
    use ipnet::IpNet;
    use proptest::prelude::*;

    const ACTION: &str = "sagemaker:CreatePresignedDomainUrl";
    const ROLE: &str = "arn:aws:iam::111122223333:role/DataSci";

    fn template() -> Request {
        Request::new(
            ACTION,
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
        )
        .principal(ROLE)
    }

    fn take() -> (u64, u64) {
        (
            DECISIONS.with(|d| d.replace(0)),
            WORK.with(|d| d.replace(0)),
        )
    }

    /// A CIDR in a small space, so that ranges overlap: `10.0.0.x/len` or `2001:db8::x/len`.
    fn cidr() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u32..256, 24u8..=32).prop_map(|(x, l)| format!("10.0.0.{x}/{l}")),
            (0u32..256, 120u8..=128).prop_map(|(x, l)| format!("2001:db8::{x:x}/{l}")),
            Just("0.0.0.0/0".to_string()),
            Just("10.0.0.0/25".to_string()),
        ]
    }

    /// One condition: on the key (IP operators, their `IfExists` forms, `Null`) or on another key.
    fn condition() -> impl Strategy<Value = (String, String, String)> {
        let ops = prop_oneof![
            Just("IpAddress"),
            Just("NotIpAddress"),
            Just("IpAddressIfExists"),
            Just("NotIpAddressIfExists"),
            Just("ForAnyValue:IpAddress"),
        ];
        prop_oneof![
            4 => (ops, proptest::collection::vec(cidr(), 1..4)).prop_map(|(op, cs)| {
                (op.to_string(), "aws:SourceIp".to_string(), serde_json::to_string(&cs).unwrap_or_default())
            }),
            1 => proptest::bool::ANY.prop_map(|b| ("Null".to_string(), "aws:SourceIp".to_string(), format!("\"{b}\""))),
            1 => proptest::bool::ANY.prop_map(|b| ("StringEquals".to_string(), "aws:PrincipalTag/team".to_string(),
                if b { "\"ml\"".to_string() } else { "\"other\"".to_string() })),
        ]
    }

    /// One statement: effect, whether its action matches, a Sid or none, and up to three conditions.
    fn statement() -> impl Strategy<Value = String> {
        (
            proptest::bool::ANY,
            0u8..8,
            proptest::option::of(0u8..4),
            proptest::collection::vec(condition(), 0..3),
        )
            .prop_map(|(allow, action, sid, conds)| {
                let effect = if allow { "Allow" } else { "Deny" };
                let action = if action == 0 { "s3:GetObject" } else { ACTION };
                let sid = sid.map_or(String::new(), |s| format!(r#""Sid":"S{s}","#));
                let mut by_op: Vec<(String, Vec<(String, String)>)> = Vec::new();
                for (op, key, v) in conds {
                    match by_op.iter_mut().find(|(o, _)| *o == op) {
                        Some((_, list)) if !list.iter().any(|(k, _)| *k == key) => {
                            list.push((key, v))
                        }
                        Some(_) => {}
                        None => by_op.push((op, vec![(key, v)])),
                    }
                }
                let cond: Vec<String> = by_op
                    .iter()
                    .map(|(op, list)| {
                        let inner: Vec<String> =
                            list.iter().map(|(k, v)| format!(r#""{k}":{v}"#)).collect();
                        format!(r#""{op}":{{{}}}"#, inner.join(","))
                    })
                    .collect();
                let cond = if cond.is_empty() {
                    String::new()
                } else {
                    format!(r#","Condition":{{{}}}"#, cond.join(","))
                };
                format!(r#"{{{sid}"Effect":"{effect}","Action":"{action}","Resource":"*"{cond}}}"#)
            })
    }

    /// Statement ids made unique within a policy (IAM refuses repeats).
    fn unique_sids(sts: Vec<String>) -> String {
        let sts: Vec<String> = sts
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.replacen(r#""Sid":"S"#, &format!(r#""Sid":"S{i}x"#), 1))
            .collect();
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            sts.join(",")
        )
    }

    fn policy() -> impl Strategy<Value = String> {
        proptest::collection::vec(statement(), 1..5).prop_map(unique_sids)
    }

    /// A resource or endpoint policy: statements as [`statement`] with a `Principal` (the role, its account, or
    /// anyone).
    fn resource_policy() -> impl Strategy<Value = String> {
        proptest::collection::vec((statement(), 0u8..3), 1..4).prop_map(|sts| {
            let sts: Vec<String> = sts
                .into_iter()
                .map(|(s, p)| {
                    let who = match p {
                        0 => format!(r#""{ROLE}""#),
                        1 => r#""111122223333""#.to_string(),
                        _ => r#""*""#.to_string(),
                    };
                    format!(
                        r#"{{"Principal":{{"AWS":{who}}},{}"#,
                        s.trim_start_matches('{')
                    )
                })
                .collect();
            unique_sids(sts)
        })
    }

    fn build(
        identity: &[String],
        boundary: &Option<String>,
        scps: &[String],
        endpoint: &Option<String>,
        resource: &Option<String>,
    ) -> Option<PolicySet> {
        let p = |t: &str| Policy::parse(t).ok();
        let mut b = PolicySet::builder();
        for t in identity {
            b = b.identity(p(t)?);
        }
        if let Some(t) = boundary {
            b = b.boundary(p(t)?);
        }
        for t in scps {
            b = b.scp_level([p(t)?]);
        }
        if let Some(t) = endpoint {
            b = b.endpoint(p(t)?);
        }
        if let Some(t) = resource {
            b = b.resource(p(t)?);
        }
        b.build().ok()
    }

    fn queries() -> impl Strategy<Value = Vec<IpNet>> {
        prop_oneof![
            Just(all_addresses()),
            Just(vec!["10.0.0.0/24".parse().unwrap_or(all_addresses()[0])]),
            proptest::collection::vec(cidr(), 1..3)
                .prop_map(|cs| cs.iter().filter_map(|c| c.parse().ok()).collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The sweep gives exactly the classes, decisions and reasons (statements, Sids, order) of deciding the
        /// first address of every piece on the whole set, on random small sets: identity policies, a boundary,
        /// SCP levels, an endpoint policy and a resource policy whose statements mix Allow and Deny, actions
        /// that match or not, IP conditions (negated, `IfExists`, `ForAnyValue`), `Null` on the key and
        /// conditions on another key, over overlapping IPv4 and IPv6 ranges.
        #[test]
        fn sweep_decides_as_every_piece_on_the_whole_set(
            identity in proptest::collection::vec(policy(), 0..3),
            boundary in proptest::option::of(policy()),
            scps in proptest::collection::vec(policy(), 0..2),
            endpoint in proptest::option::of(resource_policy()),
            resource in proptest::option::of(resource_policy()),
            tagged in proptest::bool::ANY,
            ranges in queries(),
        ) {
            let Some(set) = build(&identity, &boundary, &scps, &endpoint, &resource) else {
                return Ok(());
            };
            let mut req = template();
            if tagged {
                let _ = req.context.insert(
                    "aws:PrincipalTag/team",
                    crate::context::ContextValue::One(crate::context::Scalar::String("ml".into())),
                );
            }
            let fast: Option<Vec<IpOutcome>> = decide_over_ips_sweep(&set, &req, "aws:sourceip", &ranges);
            super::CUT_ALWAYS.with(|c| c.set(true));
            let cut: Option<Vec<IpOutcome>> = decide_over_ips_sweep(&set, &req, "aws:sourceip", &ranges);
            super::CUT_ALWAYS.with(|c| c.set(false));
            let reference = decide_over_ips_walk(&set, &req, "aws:SourceIp", &ranges);
            prop_assert_eq!(&cut, &fast);
            // Only a condition on the key of another kind sends the key to the walk; the generator writes none.
            prop_assert_eq!(fast, Some(reference));
        }
    }

    /// `n` one-address Allow statements (issue 14's presign reproduction).
    fn one_address_statements(n: usize) -> PolicySet {
        let st: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"Effect":"Allow","Action":"{ACTION}","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"165.225.{}.{}/32"}}}}}}"#,
                    i / 250,
                    i % 250
                )
            })
            .collect();
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            st.join(",")
        );
        Policy::parse(&text)
            .ok()
            .and_then(|p| PolicySet::builder().identity(p).build().ok())
            .unwrap_or_default()
    }

    /// The work of deciding a /16 over `n` one-address Allow statements grows linearly: 4x the statements,
    /// about 4x the steps (statements put in the sets decided, plus boundaries swept), where deciding each of the
    /// `n + 1` classes on the whole set took `n` steps each (16x). Each class is still decided once.
    #[test]
    fn presign_work_grows_linearly_in_one_address_statements() {
        let range: Vec<IpNet> = vec!["165.225.0.0/16".parse().unwrap()];
        let mut work = Vec::new();
        for n in [200, 800] {
            let set = one_address_statements(n);
            take();
            let classes = decide_over_ips(&set, &template(), "aws:SourceIp", &range);
            let (decisions, steps) = take();
            assert_eq!(classes.len(), n + 1);
            // The traced decision, the one policy's gates with and without an applying Allow, then each Allow
            // class for its reasons.
            assert_eq!(decisions, n as u64 + 3);
            work.push(steps);
            decide_over_ips_walk(&set, &template(), "aws:SourceIp", &range);
            let (_, old) = take();
            assert!(old > (n * n) as u64, "{old}");
        }
        let ratio = work[1] as f64 / work[0] as f64;
        assert!(ratio < 4.5, "{work:?}");
    }

    /// Statements that apply everywhere do not make every class cost them: with 300 Deny statements that apply
    /// to every address and 300 one-address Allows, each class is decided on what explains it, and the
    /// decisions of the pieces between the Allows are one (the Denies decide them all).
    #[test]
    fn statements_that_apply_everywhere_are_decided_once() {
        let n = 300;
        let mut st: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"Effect":"Allow","Action":"{ACTION}","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"165.225.{}.{}/32"}}}}}}"#,
                    i / 250,
                    i % 250
                )
            })
            .collect();
        st.extend((0..n).map(|i| {
            format!(r#"{{"Sid":"D{i}","Effect":"Deny","Action":"{ACTION}","Resource":"*"}}"#)
        }));
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            st.join(",")
        );
        let set = PolicySet::builder()
            .identity(Policy::parse(&text).unwrap())
            .build()
            .unwrap();
        let range: Vec<IpNet> = vec!["165.225.0.0/16".parse().unwrap()];
        take();
        let classes = decide_over_ips(&set, &template(), "aws:SourceIp", &range);
        let (decisions, steps) = take();
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].reasons.len(), n);
        assert_eq!(decisions, 2, "the trace and one decision");
        // A few passes over the 2n statements and their boundaries; deciding each of the n + 1 pieces on the
        // whole set would be 2n^2.
        assert!(steps < 12 * n as u64, "{steps}");
        assert_eq!(
            classes,
            decide_over_ips_walk(&set, &template(), "aws:SourceIp", &range)
        );
    }

    /// A piece that starts in `::ffff:0:0/96` is decided as the IPv4 address it maps to, as on the whole set,
    /// and a decision made there is not reused for an IPv6 piece with the same CIDR memberships.
    #[test]
    fn a_mapped_piece_decides_as_its_ipv4_address() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::ffff:10.0.0.0/104","2001:db8::/32"]}}}]}"#;
        let set = PolicySet::builder()
            .identity(Policy::parse(text).unwrap())
            .build()
            .unwrap();
        let classes = decide_over_ips(&set, &template(), "aws:SourceIp", &all_addresses());
        let of = |a: &str| {
            let ip: std::net::IpAddr = a.parse().unwrap();
            classes
                .iter()
                .find(|c| c.ranges.iter().any(|r| r.contains(&ip)))
                .map(|c| c.decision)
        };
        use crate::Decision::*;
        assert_eq!(of("10.1.2.3"), Some(Allow));
        assert_eq!(of("2001:db8::1"), Some(Allow));
        // The piece ::ffff:10.0.0.0/104 starts at ::ffff:10.0.0.0, which the evaluator reads as 10.0.0.0.
        assert_eq!(of("::ffff:10.0.0.0"), Some(Allow));
        assert_eq!(of("::ffff:9.0.0.0"), Some(ImplicitDeny));
        let mut req = template();
        let _ = req.context.insert(
            "aws:SourceIp",
            crate::context::ContextValue::One(crate::context::Scalar::String(
                "::ffff:10.0.0.0".into(),
            )),
        );
        assert_eq!(set.decide(&req), Allow);
    }
}
