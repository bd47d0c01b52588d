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
pub fn decide_over_ips(set: &PolicySet, template: &Request, key: &str, ranges: &[IpNet]) -> Vec<IpOutcome> {
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
    let mut pieces: Vec<(Piece, Decision, Vec<Reason>)> = Vec::new();
    let mut decide = |ip: IpAddr, piece: Piece, req: &mut Request| {
        let _ = req
            .context
            .insert(&lower, ContextValue::One(Scalar::String(ip.to_string())));
        let ex = set.explain(req);
        match pieces.last_mut() {
            Some((last, d, r)) if *d == ex.decision && *r == ex.reasons && last.adjacent(&piece) => {
                last.extend(&piece);
            }
            _ => pieces.push((piece, ex.decision, ex.reasons)),
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
            Piece::V4(a, b) => Ipv4Subnets::new(a.into(), b.into(), 0).map(IpNet::V4).collect(),
            Piece::V6(a, b) => Ipv6Subnets::new(a.into(), b.into(), 0).map(IpNet::V6).collect(),
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
