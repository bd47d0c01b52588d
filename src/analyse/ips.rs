//! A decision for every address of a range ([`decide_over_ips`]), computed over the ranges the policies'
//! IP conditions distinguish: by the sweep of `super::sweep` when the key has only IP and `Null` conditions, by
//! deciding each piece between two range boundaries otherwise; and the address intervals both work on ([`Piece`],
//! `merge`, `split`). `super::reach` builds on it for the network paths' source addresses.

use super::{count_decision, count_work};
use crate::compile::{CValues, PolicySet};
use crate::context::{ContextValue, Request, Scalar};
use crate::decide::{Decision, Reason};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One class of addresses that all decide the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct IpOutcome {
    /// The addresses, as the fewest CIDR blocks, in ascending order.
    pub ranges: Vec<IpNet>,
    /// The decision every address of `ranges` gets.
    pub decision: Decision,
    /// Why, the same for every address of the class: the reasons of a decision record (docs/FORMATS.md §2).
    pub reasons: Vec<Reason>,
}

impl PolicySet {
    /// The CIDR set of every IP condition on `key` (lowercase), in policy order.
    pub(crate) fn ip_sets(&self, key: &str) -> Vec<&crate::policy::value::CidrSet> {
        let mut out = Vec::new();
        for (_, p) in self.policies() {
            for st in &p.statements {
                for c in st.conditions.iter().filter(|c| &*c.key == key) {
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
                    .filter(|c| &*c.key == key)
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
                    if &*c.key != key {
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
        crate::sort::unstable(&mut v4);
        v4.dedup();
        crate::sort::unstable(&mut v6);
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
///
/// The work grows as n log n in the statements and CIDR ranges of the policies (and with the size of the answer):
/// see `analyse/sweep.rs`. When the key is compared with other operators than the IP ones and `Null`, or a
/// policy substitutes it as a variable, every piece between two range boundaries is decided on the whole set.
pub fn decide_over_ips(
    set: &PolicySet,
    template: &Request,
    key: &str,
    ranges: &[IpNet],
) -> Vec<IpOutcome> {
    let lower = key.to_ascii_lowercase();
    // With a few boundaries there are a few pieces: deciding each on the whole set costs less than the sweep's
    // traced decision (`reach` decides every class of endpoint and VPC ids this way).
    let (b4, b6) = set.ip_boundaries(&lower);
    if b4.len() + b6.len() <= FEW_BOUNDARIES {
        return walk(set, template, &lower, (&b4, &b6), ranges);
    }
    decide_over_ips_sweep(set, template, &lower, ranges)
        .unwrap_or_else(|| walk(set, template, &lower, (&b4, &b6), ranges))
}

/// [`decide_over_ips`] by the sweep of `analyse/sweep.rs` (`lower`: the key in lowercase), or `None` when the key
/// is not one it takes.
pub(super) fn decide_over_ips_sweep(
    set: &PolicySet,
    template: &Request,
    lower: &str,
    ranges: &[IpNet],
) -> Option<Vec<IpOutcome>> {
    let mut sw = super::sweep::Sweep::new(set, template, lower)?;
    let (v4, v6) = intervals(ranges);
    let pieces = super::sweep::pieces(&mut sw, &v4, &v6);
    // Adjacent pieces with one outcome are one range; pieces with equal outcomes that are not adjacent become one
    // class with several ranges, classes in order of their first piece.
    let mut merged: Vec<(Piece, usize)> = Vec::new();
    for (piece, id) in pieces {
        match merged.last_mut() {
            Some((last, i)) if *i == id && last.adjacent(&piece) => last.extend(&piece),
            _ => merged.push((piece, id)),
        }
    }
    let mut class_of: Vec<Option<usize>> = vec![None; sw.outcomes.len()];
    let mut classes: Vec<IpOutcome> = Vec::new();
    for (piece, id) in merged {
        let nets = piece.cidrs();
        match class_of.get(id).copied().flatten() {
            Some(c) => {
                if let Some(c) = classes.get_mut(c) {
                    c.ranges.extend(nets);
                }
            }
            None => {
                // Each outcome becomes one class: its reasons move there (a copy per class held the answer
                // twice: 1,000 classes of 1,000 reasons each).
                let Some((decision, reasons)) = sw.outcomes.get_mut(id) else {
                    continue;
                };
                if let Some(slot) = class_of.get_mut(id) {
                    *slot = Some(classes.len());
                }
                classes.push(IpOutcome {
                    ranges: nets,
                    decision: *decision,
                    reasons: std::mem::take(reasons),
                });
            }
        }
    }
    Some(classes)
}

/// Up to this many range boundaries (about two IP conditions' ranges), [`decide_over_ips`] decides each piece on
/// the whole set.
const FEW_BOUNDARIES: usize = 4;

/// Inclusive address intervals of IPv4 and of IPv6.
type Intervals = (Vec<(u32, u32)>, Vec<(u128, u128)>);

/// The addresses of `ranges`, IPv4 and IPv6, each family's sorted and merged.
fn intervals(ranges: &[IpNet]) -> Intervals {
    let mut v4: Vec<(u32, u32)> = Vec::new();
    let mut v6: Vec<(u128, u128)> = Vec::new();
    for r in ranges {
        match r {
            IpNet::V4(_) => {
                let (_, lo, hi) = crate::ip::bounds(r);
                v4.push((lo as u32, hi as u32));
            }
            IpNet::V6(_) => {
                let (_, lo, hi) = crate::ip::bounds(r);
                v6.push((lo, hi));
            }
        }
    }
    (merge(v4), merge(v6))
}

/// [`decide_over_ips`] by deciding the first address of every piece between two range boundaries on the whole
/// set (a piece with the same CIDR memberships as one before it reuses its decision when the key has only IP and
/// `Null` conditions): what the sweep replaced, kept for the keys it does not take, and as the reference its
/// tests compare it with. Work: pieces x statements.
#[cfg(test)]
pub(super) fn decide_over_ips_walk(
    set: &PolicySet,
    template: &Request,
    key: &str,
    ranges: &[IpNet],
) -> Vec<IpOutcome> {
    let lower = key.to_ascii_lowercase();
    let (b4, b6) = set.ip_boundaries(&lower);
    walk(set, template, &lower, (&b4, &b6), ranges)
}

/// [`decide_over_ips_walk`] given the key in lowercase and the set's IP boundaries on it (`set.ip_boundaries`),
/// which [`decide_over_ips`] has already read to choose between the walk and the sweep.
fn walk(
    set: &PolicySet,
    template: &Request,
    lower: &str,
    (b4, b6): (&[u32], &[u128]),
    ranges: &[IpNet],
) -> Vec<IpOutcome> {
    let mut req = template.clone();
    // Intervals in order: IPv4 first, then IPv6, each family's ranges sorted and merged.
    let (v4, v6) = intervals(ranges);
    // INVARIANT: with `key` set to one address, every condition on it reads only whether that address is in its
    // CIDR set, so the decision is a function of the membership vector. Each distinct vector is decided once.
    let sets = set.ip_sets(lower);
    let memo_ok = set.only_ip_conditions(lower);
    // Membership vectors as bits: thousands of sets made hashing a byte per set a cost of its own.
    let mut memo: crate::map::Map<Vec<u64>, (Decision, Vec<Reason>)> = crate::map::Map::new();
    let mut pieces: Vec<(Piece, Decision, Vec<Reason>)> = Vec::new();
    let mut decide = |ip: IpAddr, piece: Piece, req: &mut Request| {
        let mut membership = vec![0u64; sets.len().div_ceil(64)];
        for (i, s) in sets.iter().enumerate() {
            if s.contains(ip) {
                if let Some(w) = membership.get_mut(i / 64) {
                    *w |= 1 << (i % 64);
                }
            }
        }
        let (decision, reasons) = match memo.get(&membership).filter(|_| memo_ok) {
            Some(known) => known.clone(),
            None => {
                let _ = req.context.insert(
                    lower,
                    ContextValue::One(Scalar::String(crate::ip::addr_text(ip))),
                );
                count_decision();
                count_work(sets.len() as u64);
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
        for (a, b) in split(lo, hi, b4) {
            decide(IpAddr::V4(Ipv4Addr::from(a)), Piece::V4(a, b), &mut req);
        }
    }
    for (lo, hi) in v6 {
        for (a, b) in split(lo, hi, b6) {
            decide(IpAddr::V6(Ipv6Addr::from(a)), Piece::V6(a, b), &mut req);
        }
    }
    // Pieces with equal outcomes that are not adjacent become one class with several ranges (found through a
    // hash map: thousands of distinct outcomes made a scan of the classes quadratic).
    let mut classes: Vec<IpOutcome> = Vec::new();
    let mut class_of: crate::map::Map<(Decision, Vec<Reason>), usize> = crate::map::Map::new();
    for (piece, decision, reasons) in pieces {
        let nets = piece.cidrs();
        match class_of
            .get(&(decision, reasons.clone()))
            .and_then(|&i| classes.get_mut(i))
        {
            Some(c) => c.ranges.extend(nets),
            None => {
                class_of.insert((decision, reasons.clone()), classes.len());
                classes.push(IpOutcome {
                    ranges: nets,
                    decision,
                    reasons,
                });
            }
        }
    }
    classes
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Piece {
    V4(u32, u32),
    V6(u128, u128),
}

impl Piece {
    pub(super) fn adjacent(&self, next: &Piece) -> bool {
        match (self, next) {
            (Piece::V4(_, hi), Piece::V4(lo, _)) => hi.checked_add(1) == Some(*lo),
            (Piece::V6(_, hi), Piece::V6(lo, _)) => hi.checked_add(1) == Some(*lo),
            _ => false,
        }
    }

    pub(super) fn extend(&mut self, next: &Piece) {
        match (self, next) {
            (Piece::V4(_, hi), Piece::V4(_, h)) => *hi = *h,
            (Piece::V6(_, hi), Piece::V6(_, h)) => *hi = *h,
            _ => {}
        }
    }

    pub(super) fn cidrs(&self) -> Vec<IpNet> {
        match *self {
            Piece::V4(a, b) => crate::ip::cover(a.into(), b.into(), false),
            Piece::V6(a, b) => crate::ip::cover(a, b, true),
        }
    }
}

fn merge<T: Ord + Copy + Successor>(mut v: Vec<(T, T)>) -> Vec<(T, T)> {
    crate::sort::unstable(&mut v);
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

pub(super) trait Successor: Sized {
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
pub(crate) fn all_addresses() -> Vec<IpNet> {
    vec![
        IpNet::V4(Ipv4Net::new(Ipv4Addr::UNSPECIFIED, 0).unwrap_or_default()),
        IpNet::V6(Ipv6Net::new(Ipv6Addr::UNSPECIFIED, 0).unwrap_or_default()),
    ]
}
