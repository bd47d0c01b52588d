//! What [`PolicySet::explain`] returns: the deciding [`Reason`]s and, for every statement consulted, a
//! [`StatementTrace`] with a [`ConditionTrace`] per condition, typed (the operator, the key, the policy's values,
//! the request's values, the [`Outcome`]) and placed (the byte [`Span`] of each statement and condition in its
//! policy's source text).
//!
//! The spans are not in the compiled statements the fast path walks: the walk that explains records positions
//! (policy, statement, condition index), and [`PolicySet::explain`] then reads the spans and the values as written
//! from the parsed policies the set keeps ([`crate::CompiledPolicy::policy`]), a side table only explaining reads.

use super::Decision;
use crate::compile::{PolicyRef, PolicySet};
use crate::policy::operator::{Operator, Qualifier};
use crate::policy::{Effect, Policy};
use crate::rules::Gate;
use crate::span::Span;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::fmt;

/// Why the decision came out as it did: a statement that applied, or a gate without an Allow. It serialises as
/// one entry of a decision record's `reasons` (docs/FORMATS.md §2): `{"policy", "sid", "statement", "effect"}`,
/// or `{"policy": GATE, "effect": "NoAllow"}`; the statement's span is in its `statements` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A statement that applied to the request: a Deny behind an [`Decision::ExplicitDeny`], or an Allow behind
    /// an [`Decision::Allow`].
    Statement {
        /// The policy that holds the statement, written `identity[0]`, `scps[1][0]`, ... in records.
        policy: PolicyRef,
        /// The statement's `Sid`, if it has one.
        sid: Option<String>,
        /// The statement's 0-based index in the policy's `Statement` list (0 when `Statement` is one object).
        statement: usize,
        /// The statement's `Effect`.
        effect: Effect,
        /// The statement object in the policy's source text ([`Policy::source`]).
        span: Span,
    },
    /// A gate that had to allow the request and had no applicable Allow: one of the reasons for an
    /// [`Decision::ImplicitDeny`].
    NoAllow(Gate),
}

impl Reason {
    /// The span of the deciding statement in its policy's text; `None` for a gate without an Allow.
    pub fn span(&self) -> Option<Span> {
        match self {
            Reason::Statement { span, .. } => Some(*span),
            Reason::NoAllow(_) => None,
        }
    }
}

impl fmt::Display for Reason {
    /// `Deny by identity[0] statement 1 (DenyOutsideCorp)`, or `no statement in boundary allows the request`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect,
                ..
            } => {
                write!(f, "{effect} by {policy} statement {statement}")?;
                if let Some(s) = sid {
                    write!(f, " ({s})")?;
                }
                Ok(())
            }
            Reason::NoAllow(g) => write!(f, "no statement in {g} allows the request"),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect,
                ..
            } => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("policy", &policy.to_string())?;
                m.serialize_entry("sid", sid)?;
                m.serialize_entry("statement", statement)?;
                m.serialize_entry("effect", effect)?;
                m.end()
            }
            Reason::NoAllow(g) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("policy", &g.to_string())?;
                m.serialize_entry("effect", "NoAllow")?;
                m.end()
            }
        }
    }
}

/// The rule that decides a condition whose key the request does not give (docs/SEMANTICS.md §3.3, §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AbsentRule {
    /// `ForAllValues:`: vacuously true (before `IfExists`, which changes nothing).
    ForAllValues,
    /// `ForAnyValue:`: false (before `IfExists`, which changes nothing).
    ForAnyValue,
    /// `IfExists` without a qualifier: true.
    IfExists,
    /// A negated operator (`StringNotEquals`, `NotIpAddress`, ...) without a qualifier: true.
    Negated,
    /// A positive operator without a qualifier: false.
    Positive,
}

/// How a condition came out: what [`ConditionTrace::held`] rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The request's values matched the policy's under the operator's positive form (`StringEquals` for
    /// `StringNotEquals`): without a qualifier, one value matched a policy value; with `ForAnyValue:` or
    /// `ForAllValues:`, as the qualifier counts. The condition holds unless the operator is negated.
    Matched,
    /// The request's values did not match the policy's, as [`Outcome::Matched`] counts: the condition holds only
    /// when the operator is negated.
    NoMatch,
    /// The key is absent (no value; for a set qualifier also a lone empty string), and `rule` decided.
    Absent(AbsentRule),
    /// A `Null` condition, on a key the request gives (`present`) or not: it holds when the policy's `true`
    /// (absent) or `false` (present) says so.
    Null {
        /// Whether the request gives the key a value.
        present: bool,
    },
}

impl Outcome {
    /// The outcome's name in the JSON records (docs/FORMATS.md §2): `matched`, `no-match`, `absent-for-all-values`,
    /// `absent-for-any-value`, `absent-if-exists`, `absent-negated`, `absent-positive`, `null-absent`,
    /// `null-present`.
    ///
    /// ```
    /// use iamgate::decide::{AbsentRule, Outcome};
    /// assert_eq!(Outcome::Absent(AbsentRule::IfExists).name(), "absent-if-exists");
    /// assert_eq!(Outcome::Null { present: true }.name(), "null-present");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Matched => "matched",
            Outcome::NoMatch => "no-match",
            Outcome::Absent(AbsentRule::ForAllValues) => "absent-for-all-values",
            Outcome::Absent(AbsentRule::ForAnyValue) => "absent-for-any-value",
            Outcome::Absent(AbsentRule::IfExists) => "absent-if-exists",
            Outcome::Absent(AbsentRule::Negated) => "absent-negated",
            Outcome::Absent(AbsentRule::Positive) => "absent-positive",
            Outcome::Null { present: false } => "null-absent",
            Outcome::Null { present: true } => "null-present",
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Why one condition held or not. Fields may be added (it is only built by [`PolicySet::explain`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConditionTrace {
    /// Index in the statement's conditions (the order written).
    pub index: usize,
    /// The condition operator, with its qualifier and `IfExists`; written in AWS's spelling
    /// (`ForAnyValue:StringLikeIfExists`) in records.
    pub operator: Operator,
    /// The condition key, in lower case (keys ignore case; docs/SEMANTICS.md §1.10).
    pub key: String,
    /// The policy's values for the key, as written (numbers and booleans as their JSON text).
    pub values: Vec<String>,
    /// The request's values of the key as the condition read them; `None` when the request does not give the key.
    pub request_values: Option<Vec<String>>,
    /// Which of `request_values` matched a policy value under the operator's positive form (`StringEquals` for
    /// `StringNotEquals`): the one that made an unqualified condition match, or, under `ForAllValues:`, all but
    /// the ones that did not. Empty for `Null`.
    pub matched_values: Vec<String>,
    /// Whether the condition held for this request (docs/SEMANTICS.md §3.6). A statement applies only when all
    /// its conditions hold.
    pub held: bool,
    /// What `held` rests on.
    pub outcome: Outcome,
    /// When the result rests on a choice where AWS's behaviour is not settled (docs/SEMANTICS.md §9), which one.
    pub uncertain: Option<&'static str>,
    /// The condition in the policy's source text, from its key to the end of its values.
    pub span: Span,
}

impl ConditionTrace {
    /// [`ConditionTrace::outcome`] in words, the `why` of the records: `key absent: a negated operator is true`,
    /// `` `203.0.113.7` matches a policy value``, ...
    pub fn why(&self) -> String {
        Why(self).to_string()
    }
}

/// [`ConditionTrace::why`], written without an intermediate string.
struct Why<'a>(&'a ConditionTrace);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        let negated = c.operator.base.is_negated();
        match c.outcome {
            Outcome::Absent(AbsentRule::IfExists) => {
                f.write_str("key absent: `IfExists` makes the condition true")
            }
            Outcome::Absent(AbsentRule::ForAllValues) => {
                f.write_str("key absent: `ForAllValues` is vacuously true")
            }
            Outcome::Absent(AbsentRule::ForAnyValue) => {
                f.write_str("key absent: `ForAnyValue` is false")
            }
            Outcome::Absent(AbsentRule::Positive) => {
                f.write_str("key absent: a positive operator is false")
            }
            Outcome::Absent(AbsentRule::Negated) => {
                f.write_str("key absent: a negated operator is true")
            }
            Outcome::Null { present: false } => write!(f, "key absent: `Null` is {}", c.held),
            Outcome::Null { present: true } => write!(f, "key present: `Null` is {}", c.held),
            Outcome::Matched | Outcome::NoMatch => {
                let matched = c.outcome == Outcome::Matched;
                // The value is named when the condition compared one without a qualifier.
                match c.request_values.as_deref() {
                    Some([v]) if c.operator.qualifier.is_none() => write!(f, "`{v}` ")?,
                    _ => f.write_str("the request values ")?,
                }
                let q = match c.operator.qualifier {
                    Some(Qualifier::ForAllValues) => " (all request values checked)",
                    Some(Qualifier::ForAnyValue) => " (any request value checked)",
                    None => "",
                };
                match (matched, negated) {
                    (true, false) => write!(f, "matches a policy value{q}"),
                    (false, false) => write!(f, "matches no policy value{q}"),
                    (true, true) => write!(
                        f,
                        "matches a policy value, so the negated operator is false{q}"
                    ),
                    (false, true) => write!(
                        f,
                        "matches no policy value, so the negated operator is true{q}"
                    ),
                }
            }
        }
    }
}

impl Serialize for ConditionTrace {
    /// docs/FORMATS.md §2: `index`, `operator`, `key`, `held`, `why`, `uncertain` (when set), then `outcome`,
    /// `values`, `request_values`, `matched_values` and `span`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("index", &self.index)?;
        m.serialize_entry("operator", &self.operator.to_string())?;
        m.serialize_entry("key", &self.key)?;
        m.serialize_entry("held", &self.held)?;
        m.serialize_entry("why", &self.why())?;
        if let Some(u) = self.uncertain {
            m.serialize_entry("uncertain", u)?;
        }
        m.serialize_entry("outcome", &self.outcome)?;
        m.serialize_entry("values", &self.values)?;
        m.serialize_entry("request_values", &self.request_values)?;
        m.serialize_entry("matched_values", &self.matched_values)?;
        m.serialize_entry("span", &self.span)?;
        m.end()
    }
}

/// How one statement fared: one entry of the `statements` that `--explain` adds to a decision record
/// (docs/FORMATS.md §2). The statement applies when its action, resource and principal match and every
/// condition holds. Fields may be added (it is only built by [`PolicySet::explain`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatementTrace {
    /// The policy that holds the statement; serialised as its name (`identity[0]`, `scps[1][0]`).
    #[serde(serialize_with = "ser_display")]
    pub policy: PolicyRef,
    /// The statement's 0-based index in the policy's `Statement` list.
    pub statement: usize,
    /// The statement's `Sid`, if it has one.
    pub sid: Option<String>,
    /// The statement's `Effect`.
    pub effect: Effect,
    /// Whether `Action` (or `NotAction`) matched the request's action.
    pub action_matched: bool,
    /// Whether `Resource` (or `NotResource`) matched the request's resource.
    pub resource_matched: bool,
    /// Whether `Principal` (or `NotPrincipal`) matched the caller; true for a statement without one (identity
    /// policies, boundaries, session policies, SCPs).
    pub principal_matched: bool,
    /// Each condition's result, in the order written (every condition is evaluated, even after one fails).
    pub conditions: Vec<ConditionTrace>,
    /// Whether the whole statement applied to the request.
    pub applies: bool,
    /// The statement object in the policy's source text ([`Policy::source`]).
    pub span: Span,
}

fn ser_display<T: fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A decision with the statements and conditions that made it.
///
/// ```
/// use iamgate::decide::Outcome;
/// use iamgate::{Context, Decision, Policy, PolicySet, Request};
/// let text = r#"{"Version": "2012-10-17", "Statement": [
///   {"Sid": "Corp", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
///    "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]}}}]}"#;
/// let set = PolicySet::builder().identity(Policy::parse(text).unwrap()).build().unwrap();
/// let req = Request::new("s3:GetObject", "arn:aws:s3:::b/k")
///     .context(Context::new().with("aws:SourceIp", "203.0.113.7").unwrap());
/// let ex = set.explain(&req);
/// assert_eq!(ex.decision, Decision::Allow);
/// // The deciding statement, and where it is in the policy's text.
/// let st = ex.deciding().next().unwrap();
/// assert!(text[st.span.range()].starts_with(r#"{"Sid": "Corp""#));
/// assert_eq!(ex.reasons[0].span(), Some(st.span));
/// // Each condition: operator, key, values on both sides, outcome and place.
/// let c = &st.conditions[0];
/// assert_eq!(c.operator.to_string(), "IpAddress");
/// assert_eq!(c.values, ["203.0.113.0/24", "198.51.100.0/24"]);
/// assert_eq!(c.request_values.as_deref(), Some(&["203.0.113.7".to_string()][..]));
/// assert_eq!((c.held, c.outcome), (true, Outcome::Matched));
/// assert_eq!(c.why(), "`203.0.113.7` matches a policy value");
/// assert!(text[c.span.range()].starts_with(r#""aws:SourceIp": ["#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision, always that of [`PolicySet::decide`] on the same request.
    pub decision: Decision,
    /// What decided (docs/FORMATS.md §2): for an ExplicitDeny every Deny statement that applied; for an Allow
    /// every Allow that applied in each policy consulted; for an ImplicitDeny every gate without an applicable
    /// Allow. Empty for a malformed request.
    pub reasons: Vec<Reason>,

    /// Every statement of every policy that was consulted.
    pub statements: Vec<StatementTrace>,
}

impl Explanation {
    /// The traces of the statements [`Explanation::reasons`] names, in the same order: what a playground
    /// highlights. None for an implicit deny (its reasons are gates).
    pub fn deciding(&self) -> impl Iterator<Item = &StatementTrace> {
        self.reasons.iter().filter_map(|r| match r {
            Reason::Statement {
                policy, statement, ..
            } => self
                .statements
                .iter()
                .find(|s| s.policy == *policy && s.statement == *statement),
            Reason::NoAllow(_) => None,
        })
    }
}

/// The parsed statement `index` of `policy`.
fn written(policy: Option<&Policy>, index: usize) -> Option<&crate::policy::Statement> {
    let p = policy?;
    // Statements are kept in order, so `index` finds it directly; the search is a guard.
    p.statements
        .get(index)
        .filter(|s| s.index == index)
        .or_else(|| p.statements.iter().find(|s| s.index == index))
}

impl PolicySet {
    /// The span of statement `index` of the policy at `at` in that policy's text.
    pub(crate) fn statement_span(&self, at: PolicyRef, index: usize) -> Option<Span> {
        written(self.get(at).map(|c| c.policy()), index).map(|s| s.span)
    }

    /// Fill in what the walk leaves to the parsed policies: each reason's and each trace's span, and each
    /// condition's values as written.
    pub(super) fn locate(&self, reasons: &mut [Reason], statements: &mut [StatementTrace]) {
        for r in reasons {
            if let Reason::Statement {
                policy,
                statement,
                span,
                ..
            } = r
            {
                let p = self.get(*policy).map(|c| c.policy());
                if let Some(st) = written(p, *statement) {
                    *span = st.span;
                }
            }
        }
        for t in statements {
            let p = self.get(t.policy).map(|c| c.policy());
            let Some(st) = written(p, t.statement) else {
                continue;
            };
            t.span = st.span;
            for c in &mut t.conditions {
                if let Some(w) = st.conditions.get(c.index) {
                    c.span = Span {
                        start: w.key.span.start,
                        end: w.values_span.end,
                    };
                    c.values = w
                        .values
                        .iter()
                        .map(|v| v.value.text().to_string())
                        .collect();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, ContextValue, Request, Scalar};

    const TEXT: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Other", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
 {"Sid": "Every", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {
  "StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "aws:PrincipalTag/x": 5},
  "StringNotEquals": {"aws:PrincipalTag/team": "a", "aws:PrincipalTag/absent": "z"},
  "StringEqualsIfExists": {"aws:PrincipalTag/absent": "z"},
  "ForAnyValue:StringEquals": {"aws:TagKeys": ["k"], "aws:absent1": "v"},
  "ForAllValues:StringEquals": {"aws:absent2": "v"},
  "NumericLessThan": {"s3:max-keys": "10"},
  "Null": {"aws:absent3": "true", "aws:PrincipalTag/team": "true"}}}]}"#;

    fn explained() -> Explanation {
        let set = PolicySet::builder()
            .identity(Policy::parse(TEXT).unwrap())
            .build()
            .unwrap();
        let ctx = Context::new()
            .with("aws:PrincipalTag/team", "a")
            .unwrap()
            .with("aws:PrincipalTag/x", "6")
            .unwrap()
            .context_list("aws:TagKeys", &["j", "k"]);
        set.explain(&Request::new("s3:GetObject", "arn:aws:s3:::b/k").context(ctx))
    }

    trait List {
        fn context_list(self, key: &str, values: &[&str]) -> Self;
    }
    impl List for Context {
        fn context_list(mut self, key: &str, values: &[&str]) -> Self {
            let list = values.iter().map(|v| Scalar::from(*v)).collect();
            self.insert(key, ContextValue::Many(list)).unwrap();
            self
        }
    }

    #[test]
    fn every_outcome_with_its_values_why_and_span() {
        let ex = explained();
        assert_eq!(ex.decision, Decision::ImplicitDeny);
        let st = ex.statements.iter().find(|s| s.statement == 1).unwrap();
        assert!(TEXT[st.span.range()].starts_with(r#"{"Sid": "Every""#));
        assert!(TEXT[st.span.range()].ends_with(r#""true"}}}"#));
        let got: Vec<(String, &str, bool, &str, String)> = st
            .conditions
            .iter()
            .map(|c| {
                (
                    c.operator.to_string(),
                    c.key.as_str(),
                    c.held,
                    c.outcome.name(),
                    c.why(),
                )
            })
            .collect();
        let want = [
            (
                "StringEquals",
                "aws:principaltag/team",
                true,
                "matched",
                "`a` matches a policy value",
            ),
            (
                "StringEquals",
                "aws:principaltag/x",
                false,
                "no-match",
                "`6` matches no policy value",
            ),
            (
                "StringNotEquals",
                "aws:principaltag/team",
                false,
                "matched",
                "`a` matches a policy value, so the negated operator is false",
            ),
            (
                "StringNotEquals",
                "aws:principaltag/absent",
                true,
                "absent-negated",
                "key absent: a negated operator is true",
            ),
            (
                "StringEqualsIfExists",
                "aws:principaltag/absent",
                true,
                "absent-if-exists",
                "key absent: `IfExists` makes the condition true",
            ),
            (
                "ForAnyValue:StringEquals",
                "aws:tagkeys",
                true,
                "matched",
                "the request values matches a policy value (any request value checked)",
            ),
            (
                "ForAnyValue:StringEquals",
                "aws:absent1",
                false,
                "absent-for-any-value",
                "key absent: `ForAnyValue` is false",
            ),
            (
                "ForAllValues:StringEquals",
                "aws:absent2",
                true,
                "absent-for-all-values",
                "key absent: `ForAllValues` is vacuously true",
            ),
            (
                "NumericLessThan",
                "s3:max-keys",
                false,
                "absent-positive",
                "key absent: a positive operator is false",
            ),
            (
                "Null",
                "aws:absent3",
                true,
                "null-absent",
                "key absent: `Null` is true",
            ),
            (
                "Null",
                "aws:principaltag/team",
                false,
                "null-present",
                "key present: `Null` is false",
            ),
        ];
        let want: Vec<(String, &str, bool, &str, String)> = want
            .iter()
            .map(|&(o, k, h, n, w)| (o.to_string(), k, h, n, w.to_string()))
            .collect();
        assert_eq!(got, want);
        // Each condition's span runs from its key to the end of its values, as written.
        let spans: Vec<&str> = st
            .conditions
            .iter()
            .map(|c| &TEXT[c.span.range()])
            .collect();
        assert_eq!(spans[0], r#""aws:PrincipalTag/team": ["a", "b"]"#);
        assert_eq!(spans[1], r#""aws:PrincipalTag/x": 5"#);
        assert_eq!(spans[9], r#""aws:absent3": "true""#);
        // The policy's values as written, and the request's as the condition read them (none: absent).
        assert_eq!(st.conditions[1].values, ["5"]);
        assert_eq!(
            st.conditions[5].request_values,
            Some(vec!["j".to_string(), "k".to_string()])
        );
        assert_eq!(st.conditions[3].request_values, None);
        // Which request values matched: `k` of `j` and `k`; none of `6`; none for `Null`.
        assert_eq!(st.conditions[5].matched_values, ["k"]);
        assert!(st.conditions[1].matched_values.is_empty());
        assert!(st.conditions[10].matched_values.is_empty());
    }

    #[test]
    fn a_condition_serialises_with_the_old_fields_first_then_the_new() {
        let ex = explained();
        let st = ex.statements.iter().find(|s| s.statement == 1).unwrap();
        let c = serde_json::to_string(&st.conditions[0]).unwrap();
        let start = TEXT.find(r#""aws:PrincipalTag/team": ["a""#).unwrap();
        let end = start + r#""aws:PrincipalTag/team": ["a", "b"]"#.len();
        assert_eq!(
            c,
            format!(
                r#"{{"index":0,"operator":"StringEquals","key":"aws:principaltag/team","held":true,"why":"`a` matches a policy value","outcome":"matched","values":["a","b"],"request_values":["a"],"matched_values":["a"],"span":{{"start":{start},"end":{end}}}}}"#
            )
        );
        let s = serde_json::to_value(st).unwrap();
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        // serde_json's map without `preserve_order` sorts keys: check the text's order instead.
        assert_eq!(keys.len(), 10);
        let bare = StatementTrace {
            conditions: Vec::new(),
            ..st.clone()
        };
        let text = serde_json::to_string(&bare).unwrap();
        let order = [
            "\"policy\"",
            "\"statement\"",
            "\"sid\"",
            "\"effect\"",
            "\"action_matched\"",
            "\"resource_matched\"",
            "\"principal_matched\"",
            "\"conditions\"",
            "\"applies\"",
            "\"span\"",
        ];
        let at: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn reasons_carry_their_statement_span_and_serialise_as_before() {
        let set = PolicySet::builder()
            .identity(Policy::parse(TEXT).unwrap())
            .build()
            .unwrap();
        let req = Request::new("s3:PutObject", "arn:aws:s3:::b/k");
        let ex = set.explain(&req);
        assert_eq!(ex.decision, Decision::ExplicitDeny);
        let span = ex.reasons[0].span().unwrap();
        assert_eq!(
            &TEXT[span.range()],
            r#"{"Sid": "Other", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}"#
        );
        assert_eq!(ex.deciding().next().map(|s| s.span), Some(span));
        // The reasons-only path places them alike.
        assert_eq!(set.decide_with_reasons(&req).1, ex.reasons);
        assert_eq!(
            serde_json::to_string(&ex.reasons[0]).unwrap(),
            r#"{"policy":"identity[0]","sid":"Other","statement":0,"effect":"Deny"}"#
        );
    }
}
