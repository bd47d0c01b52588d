//! `reach`'s endpoint x VPC pairs, told apart by the statements that apply to them.
//!
//! With the key values fixed, a pair's decision (over every `aws:VpcSourceIp`) and its reasons depend only on the
//! set the pair is decided with and on which statements' conditions on `aws:SourceVpce` and `aws:SourceVpc` hold
//! for it: a statement's conditions are all required, and its other conditions read other keys, the same for
//! every pair. So pairs with the same such statements are decided once. Whether a condition holds is asked of
//! the evaluator (`crate::decide::condition`) once per class and condition; a pair's statements are the
//! intersection of its endpoint class's and its VPC class's (only statements that test both keys need one), so
//! statements that each name their own endpoint and VPC cost a step per pair, not a decision over every statement.
//! Not used when a policy substitutes either key as a variable (the values then matter themselves).

use super::count_work;
use crate::compile::PolicySet;
use crate::context::Request;
use crate::map::Map;

const VPCE: &str = "aws:sourcevpce";
const VPC: &str = "aws:sourcevpc";

/// Which statements of one set hold for each endpoint class and each VPC class.
struct Side {
    /// Per class: positions (among the statements that test both keys) whose conditions on this side's key hold.
    both: Vec<Vec<u32>>,
    /// Per class: an id of which statements that test only this side's key hold.
    only: Vec<usize>,
}

/// For each request of `reqs`, which statements of `set` that test `key` have all their conditions on it hold:
/// those that also test `other` by their position among the statements that test both keys (in policy order),
/// the others as an id of the set of them.
fn side(set: &PolicySet, key: &str, other: &str, reqs: &[&Request]) -> Side {
    let statements: Vec<(bool, Vec<&crate::compile::CCondition>)> = set
        .policies()
        .flat_map(|(_, p)| &p.statements)
        .filter(|st| {
            st.conditions
                .iter()
                .any(|c| &*c.key == key || &*c.key == other)
        })
        .map(|st| {
            (
                st.conditions.iter().any(|c| &*c.key == other),
                st.conditions.iter().filter(|c| &*c.key == key).collect(),
            )
        })
        .collect();
    let mut only_ids: Map<Vec<u32>, usize> = Map::new();
    let mut side = Side {
        both: Vec::with_capacity(reqs.len()),
        only: Vec::with_capacity(reqs.len()),
    };
    for req in reqs {
        let (mut both, mut only) = (Vec::new(), Vec::new());
        let mut at_both = 0u32;
        for (at, (tests_other, conds)) in statements.iter().enumerate() {
            // A statement that tests only the other key is the other side's.
            if conds.is_empty() {
                continue;
            }
            count_work(conds.len() as u64);
            let holds = conds.iter().all(|c| crate::decide::condition(c, req).0);
            // Statements that test both keys are numbered alike on both sides: in policy order.
            if *tests_other {
                if holds {
                    both.push(at_both);
                }
                at_both += 1;
            } else if holds {
                only.push(u32::try_from(at).unwrap_or(u32::MAX));
            }
        }
        let next = only_ids.len();
        side.only.push(*only_ids.entry(only).or_insert(next));
        side.both.push(both);
    }
    side
}

/// Gives each (endpoint class, VPC class) pair the id of the statements that hold for it: pairs with one id
/// decide alike. Ids are dense, in order of first appearance.
pub(super) struct Pairs {
    /// Per endpoint class: which of `sets` it is decided with.
    through: Vec<usize>,
    /// Per set: the endpoint side (indexed by endpoint class) and the VPC side (by VPC class).
    sides: Vec<(Side, Side)>,
    ids: Map<(usize, usize, usize, Vec<u32>), usize>,
}

impl Pairs {
    /// `sets`: the sets pairs are decided with; `vpces`: per endpoint class, its set (an index into `sets`) and
    /// a request carrying its witness; `vpcs`: per VPC class, a request carrying its witness. `None` when a
    /// policy substitutes either key as a variable.
    pub(super) fn new(
        sets: &[&PolicySet],
        vpces: &[(usize, Request)],
        vpcs: &[Request],
    ) -> Option<Pairs> {
        if sets
            .iter()
            .any(|s| s.substitutes(VPCE) || s.substitutes(VPC))
        {
            return None;
        }
        let sides = sets
            .iter()
            .enumerate()
            .map(|(k, set)| {
                let mine: Vec<&Request> = vpces
                    .iter()
                    .filter(|(t, _)| *t == k)
                    .map(|(_, r)| r)
                    .collect();
                let mut a = side(set, VPCE, VPC, &mine);
                // Back to one entry per endpoint class (classes of another set get none).
                let (mut both, mut only) = (a.both.into_iter(), a.only.into_iter());
                a = Side {
                    both: Vec::new(),
                    only: Vec::new(),
                };
                for (t, _) in vpces {
                    let (b, o) = if *t == k {
                        (both.next().unwrap_or_default(), only.next().unwrap_or(0))
                    } else {
                        (Vec::new(), 0)
                    };
                    a.both.push(b);
                    a.only.push(o);
                }
                let all: Vec<&Request> = vpcs.iter().collect();
                (a, side(set, VPC, VPCE, &all))
            })
            .collect();
        Some(Pairs {
            through: vpces.iter().map(|(t, _)| *t).collect(),
            sides,
            ids: Map::new(),
        })
    }

    /// The id of the pair (endpoint class `a`, VPC class `b`).
    pub(super) fn id(&mut self, a: usize, b: usize) -> usize {
        let t = self.through.get(a).copied().unwrap_or(0);
        let Some((ea, vb)) = self.sides.get(t) else {
            return 0;
        };
        let (x, y) = (
            ea.both.get(a).map_or(&[][..], Vec::as_slice),
            vb.both.get(b).map_or(&[][..], Vec::as_slice),
        );
        count_work((x.len() + y.len()) as u64 + 1);
        // The statements testing both keys whose conditions hold on each side: a merge of two sorted lists.
        let mut common = Vec::new();
        let (mut i, mut j) = (x.iter().peekable(), y.iter().peekable());
        while let (Some(&&p), Some(&&q)) = (i.peek(), j.peek()) {
            match p.cmp(&q) {
                std::cmp::Ordering::Less => {
                    i.next();
                }
                std::cmp::Ordering::Greater => {
                    j.next();
                }
                std::cmp::Ordering::Equal => {
                    common.push(p);
                    i.next();
                    j.next();
                }
            }
        }
        let key = (
            t,
            ea.only.get(a).copied().unwrap_or(0),
            vb.only.get(b).copied().unwrap_or(0),
            common,
        );
        let next = self.ids.len();
        *self.ids.entry(key).or_insert(next)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::reach::{ReachQuery, reach, reach_with};
    use super::super::{DECISIONS, WORK};
    use crate::compile::compile_endpoint_policy;
    use crate::{Policy, PolicySet, Request};

    fn set_of(statements: &[String]) -> PolicySet {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        );
        PolicySet::builder()
            .identity(Policy::parse(&text).unwrap())
            .build()
            .unwrap()
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

    /// `n` Allow statements that each name their own endpoint and VPC (scripts/cost-inputs, `reach-pairs-N`).
    fn own_pairs(n: usize) -> PolicySet {
        set_of(
            &(0..n)
                .map(|i| {
                    format!(
                        r#"{{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*","Condition":{{"StringEquals":{{"aws:SourceVpce":"vpce-{i:05x}","aws:SourceVpc":"vpc-{i:05x}"}}}}}}"#
                    )
                })
                .collect::<Vec<_>>(),
        )
    }

    fn counted(f: impl FnOnce()) -> (u64, u64) {
        DECISIONS.with(|d| d.set(0));
        WORK.with(|d| d.set(0));
        f();
        (
            DECISIONS.with(|d| d.replace(0)),
            WORK.with(|d| d.replace(0)),
        )
    }

    /// Statements that each name their own endpoint and VPC: (n + 1)² pairs, of which only the n on the
    /// diagonal have a statement that applies. Each distinct set of applying statements is decided once (n + 1
    /// decisions a step, not (n + 1)²), and the steps that find a pair's statements grow with the pairs: doubling
    /// n gives about 4x the steps, where deciding every pair over every statement gives 8x.
    #[test]
    fn presign2_reach_pairs_are_decided_once_per_applying_statements() {
        let q = query();
        let (d1, w1) = counted(|| {
            reach(&own_pairs(40), &q);
        });
        let (d2, w2) = counted(|| {
            reach(&own_pairs(80), &q);
        });
        // Two steps, each with n + 1 distinct pair outcomes (plus the public path's few decisions).
        assert!(d1 <= 2 * (40 + 1) + 8, "{d1}");
        assert!(d2 <= 2 * (80 + 1) + 8, "{d2}");
        assert!(w2 * 10 <= w1 * 45, "{w1} -> {w2}");
        let (d_old, _) = counted(|| {
            reach_with(&own_pairs(40), &q, false);
        });
        assert!(d_old >= 2 * 41 * 41, "{d_old}");
        // And the answer is the same.
        assert_eq!(
            reach(&own_pairs(40), &q),
            reach_with(&own_pairs(40), &q, false)
        );
    }

    /// One condition on a key, from a small menu of operators that hold for some values, all values, none, or
    /// for the empty string.
    fn condition(op: usize, key: &str, v: usize) -> String {
        let ops = [
            "StringEquals",
            "StringNotEquals",
            "StringLike",
            "StringNotLike",
            "StringEqualsIfExists",
            "ForAnyValue:StringEquals",
            "StringEqualsIgnoreCase",
        ];
        let prefix = if key == "aws:SourceVpce" {
            "vpce-"
        } else {
            "vpc-"
        };
        let value = match op {
            2 | 3 => format!("{prefix}{v}*"),
            6 => format!("{}{v}", prefix.to_uppercase()),
            _ => format!("{prefix}{v}"),
        };
        format!(r#""{}":{{"{key}":"{value}"}}"#, ops[op % ops.len()])
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Deciding pairs once per distinct set of applying statements gives exactly the answer of deciding every
        /// pair: random statements over both keys (each key tested or not, by one of several operators, Allow or
        /// Deny, some with an `aws:VpcSourceIp` range), with and without an endpoint policy on the endpoint the
        /// step goes through.
        #[test]
        fn presign2_pairs_decide_as_every_pair(
            statements in proptest::collection::vec(
                (proptest::bool::ANY, proptest::option::of((0usize..7, 0usize..4)),
                 proptest::option::of((0usize..7, 0usize..4)), proptest::option::of(0u8..4)),
                1..7),
            endpoint in proptest::option::of((0usize..4, proptest::bool::ANY)),
        ) {
            let text: Vec<String> = statements
                .iter()
                .map(|(allow, e, v, ip)| {
                    let mut conds: Vec<String> = Vec::new();
                    if let Some((op, x)) = e {
                        conds.push(condition(*op, "aws:SourceVpce", *x));
                    }
                    if let Some((op, x)) = v {
                        // Two conditions under one operator merge: keep each under its own when they share one.
                        let c = condition(*op, "aws:SourceVpc", *x);
                        match conds.first_mut() {
                            Some(first) if first.split(':').next() == c.split(':').next() => {
                                let (head, tail) = c.split_once(":{").unwrap();
                                let _ = head;
                                first.truncate(first.len() - 1);
                                first.push(',');
                                first.push_str(tail);
                            }
                            _ => conds.push(c),
                        }
                    }
                    if let Some(o) = ip {
                        conds.push(format!(r#""IpAddress":{{"aws:VpcSourceIp":"10.{o}.0.0/16"}}"#));
                    }
                    format!(
                        r#"{{"Effect":"{}","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*","Condition":{{{}}}}}"#,
                        if *allow { "Allow" } else { "Deny" },
                        conds.join(",")
                    )
                })
                .collect();
            let set = set_of(&text);
            let mut q = query();
            if let Some((x, allow)) = endpoint {
                let p = format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}},{{"Effect":"{}","Principal":"*","Action":"sagemaker:*","Resource":"*","Condition":{{"StringEquals":{{"aws:SourceVpc":"vpc-{x}"}}}}}}]}}"#,
                    if allow { "Allow" } else { "Deny" }
                );
                let compiled = compile_endpoint_policy(Policy::parse(&p).unwrap()).unwrap();
                q.api_endpoint = Some((format!("vpce-{x}"), Some(compiled)));
            }
            proptest::prop_assert_eq!(reach(&set, &q), reach_with(&set, &q, false));
        }
    }
}
