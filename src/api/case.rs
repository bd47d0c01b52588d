//! The Case format (docs/FORMATS.md §1): one request with the policies that apply to it, in; one decision record, out.
//!
//! A case is read with the spanned JSON parser, so a policy written inline as a JSON object is parsed from its
//! exact text in the case, and every error names the line and column in the case and the JSON path.

use crate::compile::{EndpointKind, PolicyRef, PolicySet, PolicySetBuilder, ResourceKind};
use crate::context::{Context, ContextValue, Request, Scalar};
use crate::decide::{Decision, Explanation, Reason, StatementTrace};
use crate::limits::Limits;
use crate::parse::json::{self, Member, Node, Value};
use crate::parse::placed;
use crate::policy::Policy;
use crate::policy::value::parse_number;
use crate::span::line_col;
use serde::Serialize;

/// Why a case could not be decided: a message, its place in the case text, and the JSON path (e.g.
/// `identity_policies[0].Statement[1].Effect`). The same error as a bundle's
/// ([`crate::parse::placed::PlacedError`]).
pub type CaseError = crate::parse::placed::PlacedError;

/// What a case expects (the corpus's test data; ignored when deciding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The decision expected.
    pub decision: Decision,
    /// The expected reasons as JSON values, compared as a set.
    pub reasons: Option<Vec<serde_json::Value>>,
}

impl Expectation {
    /// How `record` differs from this expectation (the decision, then the reasons as a set), if it does.
    pub fn check(&self, record: &DecisionRecord) -> Option<String> {
        let DecisionRecord::Decided {
            decision, reasons, ..
        } = record
        else {
            return Some("expected a decision, got an error".into());
        };
        if *decision != self.decision {
            return Some(format!("expected {}, decided {decision}", self.decision));
        }
        let want = self.reasons.as_ref()?;
        let mut got: Vec<String> = reasons
            .iter()
            .filter_map(|r| serde_json::to_value(r).ok())
            .map(|v| v.to_string())
            .collect();
        let mut want: Vec<String> = want.iter().map(|v| v.to_string()).collect();
        got.sort();
        want.sort();
        (got != want).then(|| {
            format!(
                "reasons differ: expected [{}], got [{}]",
                want.join(", "),
                got.join(", ")
            )
        })
    }
}

/// A parsed case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's `id`, echoed in its record.
    pub id: Option<String>,
    /// Its policies, compiled.
    pub set: PolicySet,
    /// Its request.
    pub request: Request,
    /// What the corpus expects of it (`expect`), if anything.
    pub expect: Option<Expectation>,
    /// Lists the case gives for single-valued context keys; `request` holds none of them (see [`Listed`]).
    pub listed: Vec<Listed>,
    /// Lint's warnings, made on the first call of [`Case::lint`] (a decision does not read them).
    lint: std::sync::OnceLock<Vec<String>>,
    /// The case's policies in the order the case gives them, each with what places its findings.
    placed: Placements,
}

/// The case's [`Placed`] policies in order: the first held inline, since a case usually has one policy and a
/// decision never reads them (no allocation to make and free for it); any more in a vector.
#[derive(Debug, Clone, Default)]
struct Placements {
    first: Option<Placed>,
    rest: Vec<Placed>,
}

impl Placements {
    fn push(&mut self, p: Placed) {
        if self.first.is_none() {
            self.first = Some(p);
        } else {
            self.rest.push(p);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Placed> {
        self.first.iter().chain(&self.rest)
    }
}

/// One of a case's policies, as lint needs it: where it sits in `set`, the kind it is checked as, and the line
/// and column in the case text where an inline policy's text starts (`None` for a string holding the policy
/// text: its findings are placed in that text). The case text itself is not kept.
#[derive(Debug, Clone, Copy)]
struct Placed {
    at: PolicyRef,
    kind: crate::policy::PolicyKind,
    starts: Option<(usize, usize)>,
}

/// One line of output: the decision, or the error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DecisionRecord {
    /// The case was decided (docs/FORMATS.md §2).
    Decided {
        /// The case's `id`.
        id: Option<String>,
        /// The decision.
        decision: Decision,
        /// The statements or gates that decided.
        reasons: Vec<Reason>,
        /// What `lint` says about the policies, unsettled rules the decision rests on, RCPs not applied.
        warnings: Vec<String>,
        /// Every statement consulted, with `explain`.
        #[serde(skip_serializing_if = "Option::is_none")]
        statements: Option<Vec<StatementTrace>>,
    },
    /// The case could not be decided.
    Failed {
        /// The case's `id`, when it could be read.
        id: Option<String>,
        /// What is wrong and where.
        error: CaseError,
    },
}

impl DecisionRecord {
    /// Whether the case could not be decided.
    pub fn is_error(&self) -> bool {
        matches!(self, DecisionRecord::Failed { .. })
    }

    /// The decision, for a decided case.
    pub fn decision(&self) -> Option<Decision> {
        match self {
            DecisionRecord::Decided { decision, .. } => Some(*decision),
            DecisionRecord::Failed { .. } => None,
        }
    }
}

/// Decide one case given as JSON text. Never panics; a case that cannot be decided yields a `Failed` record.
///
/// ```
/// let line = r#"{"id":"c1","identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}],
///   "request":{"principal":"arn:aws:iam::111122223333:role/R","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}"#;
/// let rec = iamgate::api::case::decide_case(line, false);
/// assert_eq!(serde_json::to_string(&rec).unwrap(),
///   r#"{"id":"c1","decision":"Allow","reasons":[{"policy":"identity[0]","sid":null,"statement":0,"effect":"Allow"}],"warnings":[]}"#);
/// ```
pub fn decide_case(text: &str, explain: bool) -> DecisionRecord {
    match Case::parse(text, &Limits::default()) {
        Ok(case) => case.decide(explain),
        Err((id, error)) => DecisionRecord::Failed { id, error },
    }
}

/// The warnings of a decision: conditions whose result rests on an unsettled choice, and RCPs not applied.
pub(crate) fn warnings(
    set: &PolicySet,
    request: &Request,
    statements: &[StatementTrace],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for st in statements
        .iter()
        .filter(|s| s.action_matched && s.resource_matched && s.principal_matched)
    {
        for c in &st.conditions {
            if let Some(u) = c.uncertain {
                warnings.push(format!(
                    "{} statement {}: `{}` on `{}`: {u}",
                    st.policy, st.statement, c.operator, c.key
                ));
            }
        }
    }
    if !set.inner.rcps.is_empty() && !crate::rules::rcp_governs(&request.action) {
        warnings.push(format!(
            "resource control policies were not applied: `{}` is not an action of a service that RCPs govern ({}; docs/SEMANTICS.md §9 row 20)",
            request.action,
            crate::rules::rcp_service_list()
        ));
    }
    if set.inner.resource.is_none() && resource_kind_of(request) == ResourceKind::Key {
        warnings.push(format!(
            "`{}` names a KMS key but the case gives no key policy: every key has one, and this decision assumes the default key policy, which allows the account and so leaves the decision to IAM policies (docs/SEMANTICS.md §9 row 32)",
            request.action
        ));
    }
    warnings
}

/// Read one request object (the Case contract's `request`) from JSON text; errors name `$.request...` paths.
pub(crate) fn parse_request(text: &str, limits: &Limits) -> Result<Request, CaseError> {
    json::with_parsed(text, limits, |root| {
        let root = root.map_err(|e| CaseError::not_json(text, e))?;
        Reader {
            text,
            limits,
            placed: std::cell::RefCell::new(Placements::default()),
            cursor: std::cell::RefCell::new(Cursor::new(text)),
            listed: None,
        }
        .request(&root)
    })
}

impl Case {
    /// Decide the case: its record, with the reasons, the warnings and (with `explain`) every statement's trace.
    ///
    /// A case that lists several values for a single-valued key (see [`Listed`]) is decided once for each
    /// combination of the values listed; the record is the most restrictive outcome (an explicit deny over an
    /// implicit one over an allow; the first such combination) and a warning gives each combination's decision.
    pub fn decide(&self, explain: bool) -> DecisionRecord {
        let mut warnings = self.lint().to_vec();
        let (request, explanation) = if self.listed.is_empty() {
            (
                std::borrow::Cow::Borrowed(&self.request),
                self.set.explain(&self.request),
            )
        } else {
            match self.decide_listed(&mut warnings) {
                Ok(chosen) => chosen,
                Err(error) => {
                    return DecisionRecord::Failed {
                        id: self.id.clone(),
                        error,
                    };
                }
            }
        };
        let Explanation {
            decision,
            reasons,
            statements,
        } = explanation;
        warnings.extend(self::warnings(&self.set, &request, &statements));
        DecisionRecord::Decided {
            id: self.id.clone(),
            decision,
            reasons,
            warnings,
            statements: explain.then_some(statements),
        }
    }

    /// The warnings `lint` gives for the case's policies, each with its place (`$.identity_policies[0]: lint
    /// warning[code]: ... (line L, column C)`): every record of the case ([`Case::decide`]) begins with them.
    ///
    /// Lint runs on the first call, not in [`Case::parse`]: a decision does not read its findings (lint never
    /// changes a decision, nor refuses a case: a policy IAM refuses is refused when the case is parsed), so a
    /// caller that wants only the decision (`case.set.decide(&case.request)`) does not pay for it. Later calls
    /// return the same lines. (This was the public field `lint` before.)
    ///
    /// ```
    /// use iamgate::api::case::Case;
    /// let line = r#"{"identity_policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
    ///   "Resource":"*","Condition":{"StringEquals":{"aws:SourceVpcID":"vpc-1"}}}]}],
    ///   "request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}"#;
    /// let case = Case::parse(line, &iamgate::Limits::default()).unwrap();
    /// assert_eq!(case.set.decide(&case.request), iamgate::Decision::ImplicitDeny);
    /// assert_eq!(case.lint().len(), 1);
    /// assert!(case.lint()[0].starts_with("$.identity_policies[0]: lint warning[unknown-global-key]"));
    /// ```
    pub fn lint(&self) -> &[String] {
        self.lint.get_or_init(|| {
            let mut lines = Vec::new();
            for p in self.placed.iter() {
                let Some(policy) = self.set.get(p.at).map(|c| c.policy()) else {
                    continue;
                };
                let text = policy.source();
                let findings = seen::lint(text, policy, p.kind);
                if findings.is_empty() {
                    continue;
                }
                // Placed as `Reader::placed` places an error: inline, in the case text (counted on from where
                // the policy starts in it, the same characters); in a string, in the policy text. The findings
                // come in order of their offsets, so one cursor reads the text once.
                let (mut cursor, within) = match p.starts {
                    Some((line, col)) => (Cursor::starting(text, line, col), ""),
                    None => (Cursor::new(text), " (in the policy text)"),
                };
                let path = case_path(p.at);
                for d in findings.iter() {
                    let (line, column) = cursor.line_col(d.span.start as usize);
                    let severity = if d.is_error() { "error" } else { "warning" };
                    lines.push(lint_line(
                        &path, severity, d.code, &d.message, within, line, column,
                    ));
                }
            }
            lines
        })
    }

    /// Every combination of the listed values decided; the most restrictive, and a warning naming each.
    fn decide_listed(
        &self,
        warnings: &mut Vec<String>,
    ) -> Result<(std::borrow::Cow<'_, Request>, Explanation), CaseError> {
        fn rank(d: Decision) -> u8 {
            match d {
                Decision::ExplicitDeny => 2,
                Decision::ImplicitDeny => 1,
                Decision::Allow => 0,
            }
        }
        let mut chosen: Option<(Request, Explanation)> = None;
        let mut outcomes = Vec::new();
        // Odometer over the lists; an empty list stands for the key being absent.
        let mut at = vec![0usize; self.listed.len()];
        loop {
            let mut request = self.request.clone();
            let mut named = Vec::with_capacity(self.listed.len());
            for (l, &i) in self.listed.iter().zip(&at) {
                match l.values.get(i) {
                    Some(v) => {
                        request
                            .context
                            .insert(&l.key, ContextValue::One(v.clone()))
                            .map_err(|e| CaseError {
                                message: e.to_string(),
                                line: 0,
                                column: 0,
                                path: format!("$.request.context[\"{}\"]", l.key),
                            })?;
                        named.push(format!("{} = {}", l.key, v.text()));
                    }
                    None => named.push(format!("{} absent", l.key)),
                }
            }
            let explanation = self.set.explain(&request);
            outcomes.push(format!("{}: {}", named.join(", "), explanation.decision));
            if chosen
                .as_ref()
                .is_none_or(|(_, c)| rank(explanation.decision) > rank(c.decision))
            {
                chosen = Some((request, explanation));
            }
            // Next combination.
            let mut k = 0;
            loop {
                let (Some(i), Some(l)) = (at.get_mut(k), self.listed.get(k)) else {
                    let Some((request, explanation)) = chosen else {
                        return Err(CaseError {
                            message: "no combination of the listed values was decided".into(),
                            line: 0,
                            column: 0,
                            path: "$.request.context".into(),
                        });
                    };
                    let keys: Vec<String> =
                        self.listed.iter().map(|l| format!("`{}`", l.key)).collect();
                    warnings.push(format!(
                        "{} {} one value (AWS sends one value for such a key), but the case gives a list: each \
                         {} was decided on its own and this record is the most restrictive outcome ({})",
                        keys.join(", "),
                        if keys.len() == 1 { "takes" } else { "each take" },
                        if keys.len() == 1 { "value" } else { "combination" },
                        outcomes.join("; ")
                    ));
                    return Ok((std::borrow::Cow::Owned(request), explanation));
                };
                *i += 1;
                if *i < l.values.len() {
                    break;
                }
                *i = 0;
                k += 1;
            }
        }
    }

    /// Parse a case. On error, the case's `id` (when it could be read) and the error.
    pub fn parse(text: &str, limits: &Limits) -> Result<Case, (Option<String>, CaseError)> {
        json::with_parsed(text, limits, |root| {
            let root = root.map_err(|e| (None, CaseError::not_json(text, e)))?;
            let mut r = Reader {
                text,
                limits,
                placed: std::cell::RefCell::new(Placements::default()),
                cursor: std::cell::RefCell::new(Cursor::new(text)),
                listed: Some(std::cell::RefCell::new(Vec::new())),
            };
            // The id is read again for an error only: a case that parses owns its own copy.
            r.case(&root).map_err(|e| {
                let id = root.get("id").and_then(|n| match n.value {
                    Value::String(s) => Some(s.to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
                (id, e)
            })
        })
    }
}

/// The JSON path in a case of the policy at `at`: `$.identity_policies[0]`, `$.scps[1][0]`, ...
fn case_path(at: PolicyRef) -> String {
    // Pieces pushed rather than `format!`: a path is made for each policy that has findings.
    let (field, first, second) = match at {
        PolicyRef::Identity(i) => ("$.identity_policies", Some(i), None),
        PolicyRef::Resource => ("$.resource_policy", None, None),
        PolicyRef::Boundary => ("$.permissions_boundary", None, None),
        PolicyRef::Session(i) => ("$.session_policies", Some(i), None),
        PolicyRef::Scp(l, j) => ("$.scps", Some(l), Some(j)),
        PolicyRef::Rcp(l, j) => ("$.rcps", Some(l), Some(j)),
        PolicyRef::Endpoint => ("$.endpoint_policy", None, None),
    };
    let mut out = String::with_capacity(field.len() + 16);
    out.push_str(field);
    for i in [first, second].into_iter().flatten() {
        out.push('[');
        push_decimal(&mut out, i);
        out.push(']');
    }
    out
}

/// One of a record's lint warnings: `{path}: lint {severity}[{code}]: {message}{within} (line {line}, column
/// {column})`, built in one allocation of the right size: about 1.5 k instructions fewer than `format!`, for each
/// finding of each case (benches/README.md, "Cold path, third pass").
fn lint_line(
    path: &str,
    severity: &str,
    code: &str,
    message: &str,
    within: &str,
    line: usize,
    column: usize,
) -> String {
    let pieces = [path, ": lint ", severity, "[", code, "]: ", message, within];
    let mut out = String::with_capacity(
        pieces.iter().map(|p| p.len()).sum::<usize>() + " (line , column )".len() + 40,
    );
    pieces.iter().for_each(|p| out.push_str(p));
    out.push_str(" (line ");
    push_decimal(&mut out, line);
    out.push_str(", column ");
    push_decimal(&mut out, column);
    out.push(')');
    out
}

/// `n` in decimal, as `{n}` writes it.
fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    digits
        .get(at..)
        .unwrap_or_default()
        .iter()
        .for_each(|&d| out.push(char::from(d)));
}

/// The kind `lint` checks a policy in this place as.
fn kind_of(at: PolicyRef) -> crate::policy::PolicyKind {
    at.kind()
}

/// What a case's resource policy is, by its request (docs/SEMANTICS.md §4.1): the trust policy of the role that
/// `sts:AssumeRole*` names, the key policy of a KMS key, or else a resource-based policy.
pub fn resource_kind_of(req: &Request) -> ResourceKind {
    // The service is the action's text before its first `:` (all of it without one), compared in place: `sts`
    // and `kms` are three bytes, followed by the colon or nothing.
    let a = req.action.as_bytes();
    let service = |s: &[u8; 3]| {
        a.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(s))
            && matches!(a.get(3), None | Some(b':'))
    };
    // The resource's ARN is split only for an `sts:AssumeRole*` action (the rest need not read it).
    let role = || {
        crate::policy::arn::split(&req.resource)
            .is_some_and(|f| f[2] == "iam" && f[5].starts_with("role/"))
    };
    if service(b"sts")
        && a.get(4..14)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"assumerole"))
        && role()
    {
        ResourceKind::Trust
    } else if service(b"kms") {
        ResourceKind::Key
    } else {
        ResourceKind::Resource
    }
}

/// The policies this thread has parsed and linted lately. A batch's cases often share their policies (a bundle
/// given in full in every case): each text is linted once per worker thread instead of once per case, and the
/// findings (their spans relative to the policy text) placed in each case as before; a text parsed among the
/// last few is copied rather than parsed again. Bounded: past [`seen::BUDGET`] bytes of texts and findings the
/// lint cache starts afresh.
mod seen {
    use crate::diagnostic::Diagnostic;
    use crate::limits::Limits;
    use crate::policy::PolicyKind;
    use crate::policy::{Policy, PolicyError};
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};
    use std::rc::Rc;

    /// Most bytes of policy text and findings held per thread.
    pub(super) const BUDGET: usize = 1 << 20;

    /// Lint's findings for one text and kind, shared by every case that holds the text.
    type Findings = Rc<[Diagnostic]>;

    /// The texts linted, by their hash (`Seen::hasher`): each text is hashed once per lookup, and the map
    /// grows without hashing its texts again.
    type ByHash = HashMap<u64, Vec<Linted>, std::hash::BuildHasherDefault<Prehashed>>;

    /// A text, and its findings for each kind it was linted as.
    type Linted = (Box<str>, Vec<(PolicyKind, Findings)>);

    /// The hasher of a map whose keys are hashes already.
    #[derive(Default)]
    pub(super) struct Prehashed(u64);

    impl std::hash::Hasher for Prehashed {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            // Only `write_u64` is used; any other input is folded in all the same.
            for &b in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(b);
            }
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }

    #[derive(Default)]
    pub(super) struct Seen {
        /// Each text, and its findings for each kind it was linted as.
        by_text: ByHash,
        /// The keyed hash of the texts (randomised: texts crafted to collide cannot be chosen in advance).
        hasher: std::hash::RandomState,
        /// Bytes held: the texts, and the findings' messages with a fixed charge for each.
        pub(super) bytes: usize,
        /// How many times `validate` has run on this thread (what the cache saves, for the tests).
        pub(super) linted: usize,
    }

    thread_local! {
        pub(super) static SEEN: RefCell<Seen> = RefCell::new(Seen::default());
    }

    /// `Policy::parse_with(text, limits)`: a copy of the policy this thread parsed from `text` under the same
    /// limits, when it is among the last [`LAST_KEPT`] parsed (cases that share their policies hold a few, in
    /// the same order); errors, and texts over [`PARSED_MAX`] bytes, are not kept.
    pub(super) fn parse(text: &str, limits: &Limits) -> Result<Policy, PolicyError> {
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if let Some(hit) = last.iter().find(|(t, l, _)| **t == *text && l == limits) {
                return Ok(hit.2.clone());
            }
            let policy = Policy::parse_with(text, limits)?;
            if text.len() <= PARSED_MAX {
                if last.len() == LAST_KEPT {
                    last.pop_front();
                }
                last.push_back((text.into(), *limits, policy.clone()));
            }
            Ok(policy)
        })
    }

    /// How many parsed policies `parse` keeps.
    pub(super) const LAST_KEPT: usize = 8;
    /// The longest text whose policy `parse` keeps.
    const PARSED_MAX: usize = 64 << 10;

    thread_local! {
        static LAST: RefCell<VecDeque<(Box<str>, Limits, Policy)>> = const { RefCell::new(VecDeque::new()) };
    }

    /// `crate::validate::validate(policy, kind)`, where `policy` is the parse of `text`: from the cache when
    /// this thread has linted `text` as `kind` already.
    pub(super) fn lint(text: &str, policy: &Policy, kind: PolicyKind) -> Rc<[Diagnostic]> {
        SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            let hash = std::hash::BuildHasher::hash_one(&seen.hasher, text);
            let held = |seen: &Seen| {
                seen.by_text
                    .get(&hash)
                    .and_then(|texts| texts.iter().find(|(t, _)| **t == *text))
                    .map(|(_, kinds)| {
                        kinds
                            .iter()
                            .find(|(k, _)| *k == kind)
                            .map(|f| Rc::clone(&f.1))
                    })
            };
            let known = match held(&seen) {
                Some(Some(found)) => return found,
                Some(None) => true,
                None => false,
            };
            let found: Rc<[Diagnostic]> = crate::validate::validate(policy, kind).into();
            seen.linted += 1;
            let findings = found.iter().map(|d| 64 + d.message.len()).sum::<usize>();
            let with_text = findings.saturating_add(text.len());
            if with_text > BUDGET / 4 {
                return found;
            }
            let cost = if known { findings } else { with_text };
            let known = if seen.bytes + cost > BUDGET {
                seen.by_text.clear();
                seen.bytes = with_text;
                false
            } else {
                seen.bytes += cost;
                known
            };
            let texts = seen.by_text.entry(hash).or_default();
            match texts.iter_mut().find(|(t, _)| **t == *text) {
                Some((_, kinds)) if known => kinds.push((kind, Rc::clone(&found))),
                _ => texts.push((text.into(), vec![(kind, Rc::clone(&found))])),
            }
            found
        })
    }
}

/// [`line_col`] for offsets into one text taken in increasing order: each call reads only the bytes since the
/// last one (an offset behind it, or not at a character's start, is placed by [`line_col`] itself). The text may
/// start at a line and column other than 1, 1 (a policy inline in a case: the places are the case's).
struct Cursor<'t> {
    text: &'t str,
    at: usize,
    line: usize,
    col: usize,
    /// The line and column of the text's first byte.
    starts: (usize, usize),
}

impl<'t> Cursor<'t> {
    fn new(text: &'t str) -> Cursor<'t> {
        Cursor::starting(text, 1, 1)
    }

    /// A cursor over `text`, whose first byte is at `line`, `col`.
    fn starting(text: &'t str, line: usize, col: usize) -> Cursor<'t> {
        Cursor {
            text,
            at: 0,
            line,
            col,
            starts: (line, col),
        }
    }

    fn line_col(&mut self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let Some(step) = self.text.get(self.at..at) else {
            let (line, col) = line_col(self.text, at);
            return if line == 1 {
                (self.starts.0, self.starts.1 + col - 1)
            } else {
                (self.starts.0 + line - 1, col)
            };
        };
        if crate::bytes::ascii_one_line(step.as_bytes()) {
            // The usual step: one line of ASCII, a character a byte.
            self.col += step.len();
            self.at = at;
            return (self.line, self.col);
        }
        match step.rfind('\n') {
            Some(i) => {
                self.line += step.bytes().filter(|&b| b == b'\n').count();
                self.col = step.get(i + 1..).map_or(0, |s| s.chars().count()) + 1;
            }
            None => self.col += step.chars().count(),
        }
        self.at = at;
        (self.line, self.col)
    }
}

struct Reader<'t> {
    text: &'t str,
    limits: &'t Limits,
    /// The policies read so far: where each sits, the kind lint checks it as, and where an inline one starts.
    placed: std::cell::RefCell<Placements>,
    /// Places the inline policies' starts in `text` (in the order they are read, usually the text's).
    cursor: std::cell::RefCell<Cursor<'t>>,
    /// Lists given for single-valued context keys: collected here when reading a case (each value is decided on
    /// its own, [`Case::decide`]); `None` when reading a bare request, where such a list is an error, as in the
    /// library.
    listed: Option<std::cell::RefCell<Vec<Listed>>>,
}

/// A list given in a case for a context key that takes one value (`aws:SourceIp`, ...). AWS never sends one, so
/// [`Case::decide`] decides the case once for each value listed and gives the most restrictive outcome, with a
/// warning (docs/FORMATS.md §1).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The key as the case wrote it.
    pub key: String,
    /// The values listed, each checked against the key's type.
    pub values: Vec<Scalar>,
}

/// The most combinations of listed values one case is decided for.
pub const MAX_LISTED_COMBINATIONS: usize = 64;

const CASE_FIELDS: [&str; 14] = [
    "id",
    "identity_policies",
    "resource_policy",
    "permissions_boundary",
    "session_policies",
    "scps",
    "rcps",
    "endpoint_policy",
    "endpoint_kind",
    "request",
    "expect",
    "description",
    "semantics",
    "tags",
];
const REQUEST_FIELDS: [&str; 5] = [
    "principal",
    "action",
    "resource",
    "resource_account",
    "context",
];

impl Reader<'_> {
    fn err(&self, node_offset: usize, path: &str, message: impl Into<String>) -> CaseError {
        CaseError::at(self.text, node_offset, path, message)
    }

    fn object<'n, 'a>(
        &self,
        node: &'n Node<'a>,
        path: &str,
        fields: &[&str],
    ) -> Result<&'n [Member<'a>], CaseError> {
        let members = placed::object(self.text, node, path)?;
        placed::fields(self.text, members, path, fields)?;
        Ok(members)
    }

    /// The members of the object `node` (at `path`) named by `fields`, each in its name's place: one pass over
    /// the members, which `placed::fields` checks (the first member that is unknown or repeated is the error, the
    /// same one: it is made by `placed::fields` itself).
    fn fields<'n, 'a, const N: usize>(
        &self,
        node: &'n Node<'a>,
        path: &str,
        fields: &[&str; N],
    ) -> Result<[Option<&'n Node<'a>>; N], CaseError> {
        let members = placed::object(self.text, node, path)?;
        let mut out = [None; N];
        for m in members {
            match fields
                .iter()
                .position(|f| *f == m.key)
                .and_then(|k| out.get_mut(k))
            {
                Some(slot @ None) => *slot = Some(&m.value),
                // Unknown or repeated: the check names the first such member.
                _ => placed::fields(self.text, members, path, fields)?,
            }
        }
        Ok(out)
    }

    fn case(&mut self, root: &Node<'_>) -> Result<Case, CaseError> {
        let [
            id,
            identity_policies,
            resource_policy,
            permissions_boundary,
            session_policies,
            scps,
            rcps,
            endpoint_policy,
            endpoint_kind,
            request,
            expect,
            _description,
            _semantics,
            _tags,
        ] = self.fields(root, "$", &CASE_FIELDS)?;
        let Some(req) = request else {
            return Err(self.err(
                root.span.start as usize,
                "$.request",
                "the case has no `request`",
            ));
        };
        // The request says what the resource policy is: a role's trust policy or a KMS key policy (§4.1).
        let request = self.request(req)?;
        let resource_kind = resource_kind_of(&request);
        let mut b = PolicySetBuilder::default();
        // Where each policy sits in the case, for a compile error's place: found again then, rather than listed
        // as each policy is read.
        fn nth<'t>(n: Option<&Node<'t>>, i: usize) -> Option<&'t Node<'t>> {
            n?.as_array()?.get(i)
        }
        let node_of = |at: PolicyRef| match at {
            PolicyRef::Identity(i) => nth(identity_policies, i),
            PolicyRef::Resource => resource_policy,
            PolicyRef::Boundary => permissions_boundary,
            PolicyRef::Session(i) => nth(session_policies, i),
            PolicyRef::Scp(l, j) => nth(nth(scps, l), j),
            PolicyRef::Rcp(l, j) => nth(nth(rcps, l), j),
            PolicyRef::Endpoint => endpoint_policy,
        };
        if let Some(n) = endpoint_kind {
            b = b.endpoint_kind(match self.string(n, "$.endpoint_kind")?.as_str() {
                "interface" => EndpointKind::Interface,
                "gateway" => EndpointKind::Gateway,
                other => {
                    return Err(self.err(
                        n.span.start as usize,
                        "$.endpoint_kind",
                        format!("unknown endpoint kind `{other}`; write `interface` (the default: the SageMaker API and Studio endpoints, PrivateLink) or `gateway` (S3, DynamoDB)"),
                    ));
                }
            });
        }
        if let Some(n) = identity_policies {
            for (i, p) in self.array(n, "$.identity_policies")?.iter().enumerate() {
                let at = PolicyRef::Identity(i);
                b = b.identity(self.policy(p, at, kind_of(at))?);
            }
        }
        if let Some(n) = resource_policy {
            let at = PolicyRef::Resource;
            let kind = resource_kind.policy_kind();
            b = b.resource_as(self.policy(n, at, kind)?, resource_kind);
        }
        if let Some(n) = permissions_boundary {
            let at = PolicyRef::Boundary;
            b = b.boundary(self.policy(n, at, kind_of(at))?);
        }
        if let Some(n) = session_policies {
            for (i, p) in self.array(n, "$.session_policies")?.iter().enumerate() {
                let at = PolicyRef::Session(i);
                b = b.session(self.policy(p, at, kind_of(at))?);
            }
        }
        for (field, levels, rcp) in [("scps", scps, false), ("rcps", rcps, true)] {
            if let Some(n) = levels {
                for (l, level) in self.array(n, &format!("$.{field}"))?.iter().enumerate() {
                    let path = format!("$.{field}[{l}]");
                    let mut out = Vec::new();
                    for (j, p) in self.array(level, &path)?.iter().enumerate() {
                        let at = if rcp {
                            PolicyRef::Rcp(l, j)
                        } else {
                            PolicyRef::Scp(l, j)
                        };
                        out.push(self.policy(p, at, kind_of(at))?);
                    }
                    b = if rcp {
                        b.rcp_level(out)
                    } else {
                        b.scp_level(out)
                    };
                }
            }
        }
        if let Some(n) = endpoint_policy {
            let at = PolicyRef::Endpoint;
            b = b.endpoint(self.policy(n, at, kind_of(at))?);
        }
        // A case decides once (batch, the playground): the action index would cost more than it saves.
        let set = b.build_lazy().map_err(|e| {
            let offset = e.diagnostic.span.start as usize;
            match node_of(e.policy) {
                // The place in the case: the policy's JSON path, and the line and column in the case text
                // (inline) or in the policy's own text (a string), as for a parse error.
                Some(node) => self.placed(
                    node,
                    &case_path(e.policy),
                    &e.source_text,
                    offset,
                    e.diagnostic.message.clone(),
                ),
                None => {
                    let (line, column) = line_col(&e.source_text, offset);
                    CaseError {
                        message: e.diagnostic.message.clone(),
                        line,
                        column,
                        path: format!("{}", e.policy),
                    }
                }
            }
        })?;
        let expect = match expect {
            Some(e) => Some(self.expect(e)?),
            None => None,
        };
        let id = id.and_then(|n| match &n.value {
            Value::String(s) => Some(s.to_string()),
            Value::Number(n) => Some((*n).to_string()),
            _ => None,
        });
        Ok(Case {
            id,
            set,
            request,
            expect,
            listed: self.listed.as_ref().map(|l| l.take()).unwrap_or_default(),
            lint: std::sync::OnceLock::new(),
            placed: self.placed.take(),
        })
    }

    fn array<'n, 'a>(&self, node: &'n Node<'a>, path: &str) -> Result<&'n [Node<'a>], CaseError> {
        placed::array(self.text, node, path)
    }

    /// A policy given inline as an object (parsed from its exact text) or as a string holding the policy text.
    /// The policy at `node`; where it sits is noted for `lint`, which checks it as a policy of `kind` when its
    /// findings are asked for ([`Case::lint`]; a policy IAM refuses is refused when the set is built,
    /// `crate::refuse`: an error record whose place this reader gives). An inline object is built from the
    /// case's tree, not parsed again.
    fn policy(
        &self,
        node: &Node<'_>,
        at: PolicyRef,
        kind: crate::policy::PolicyKind,
    ) -> Result<Policy, CaseError> {
        // The policy's JSON path, for an error or a finding (made only then).
        let path = || case_path(at);
        let text = match &node.value {
            Value::Object(_) => self.text.get(node.span.range()).unwrap_or(""),
            Value::String(s) => s,
            v => return Err(self.err(
                node.span.start as usize,
                &path(),
                format!(
                    "a policy must be a JSON object or a string holding the policy text, found {}",
                    v.kind_name()
                ),
            )),
        };
        // An inline object is built from the case's tree (no second parse), its spans made relative to its own
        // text as it is built; a string goes through the thread's cache of recently parsed texts.
        let parsed = match &node.value {
            Value::Object(_) => Policy::from_tree(node, text, node.span.start, self.limits),
            _ => seen::parse(text, self.limits),
        };
        let policy = parsed.map_err(|e| {
            let d = e.diagnostics.first();
            let offset = d.map_or(0, |d| d.span.start as usize);
            let message = d.map_or_else(|| "invalid policy".to_string(), |d| d.message.clone());
            self.placed(node, &path(), text, offset, message)
        })?;
        // Linted later, when its findings are asked for (`Case::lint`): here only where it sits.
        let starts = match node.value {
            Value::Object(_) => Some(self.cursor.borrow_mut().line_col(node.span.start as usize)),
            _ => None,
        };
        self.placed.borrow_mut().push(Placed { at, kind, starts });
        Ok(policy)
    }

    /// An error at byte `offset` of the text `text` of the policy at `node` (JSON path `path`): inline, the place
    /// in the case text; a string, the place within the policy text, said so.
    fn placed(
        &self,
        node: &Node<'_>,
        path: &str,
        text: &str,
        offset: usize,
        message: String,
    ) -> CaseError {
        match &node.value {
            Value::Object(_) => self.err(node.span.start as usize + offset, path, message),
            _ => {
                let (line, column) = line_col(text, offset);
                CaseError {
                    message: format!("{message} (in the policy text)"),
                    line,
                    column,
                    path: path.to_string(),
                }
            }
        }
    }

    fn string(&self, node: &Node<'_>, path: &str) -> Result<String, CaseError> {
        match &node.value {
            Value::String(s) => Ok(s.to_string()),
            v => Err(self.err(
                node.span.start as usize,
                path,
                format!("expected a string, found {}", v.kind_name()),
            )),
        }
    }

    /// The request's required text field `field` (`value` when present), refused unless `ok` holds for it (the
    /// request shape every decision checks, `crate::shape`), with `rule` saying what it must be.
    fn shaped(
        &self,
        request: &Node<'_>,
        value: Option<&Node<'_>>,
        field: &str,
        ok: fn(&str) -> bool,
        rule: &str,
    ) -> Result<String, CaseError> {
        let path = || format!("$.request.{field}");
        let Some(n) = value else {
            return Err(self.err(
                request.span.start as usize,
                &path(),
                format!("the request has no `{field}`"),
            ));
        };
        let text = match &n.value {
            Value::String(s) => s.to_string(),
            // Not a string: `string` says so.
            _ => self.string(n, &path())?,
        };
        if !ok(&text) {
            return Err(self.err(
                n.span.start as usize,
                &path(),
                format!("{field} `{}` {rule}", crate::unicase::escaped(&text)),
            ));
        }
        Ok(text)
    }

    fn request(&self, node: &Node<'_>) -> Result<Request, CaseError> {
        let [principal, action, resource, resource_account, context] =
            self.fields(node, "$.request", &REQUEST_FIELDS)?;
        let mut req = Request {
            action: self.shaped(
                node,
                action,
                "action",
                crate::shape::action_ok,
                "must be `service:ActionName` (ASCII letters, digits, `-` and `_`, no wildcard, no space)",
            )?,
            resource: self.shaped(
                node,
                resource,
                "resource",
                crate::shape::resource_ok,
                "must be `*` or an ARN (`arn:partition:service:region:account:resource`)",
            )?,
            ..Request::default()
        };
        if let Some(n) = principal {
            req.principal = Some(self.string(n, "$.request.principal")?);
        }
        if let Some(n) = resource_account {
            req.resource_account = Some(self.string(n, "$.request.resource_account")?);
        }
        if let Some(n) = context {
            req.context = self.context(n)?;
        }
        Ok(req)
    }

    fn context(&self, node: &Node<'_>) -> Result<Context, CaseError> {
        let Value::Object(members) = &node.value else {
            return Err(self.err(
                node.span.start as usize,
                "$.request.context",
                format!(
                    "expected an object of condition keys, found {}",
                    node.value.kind_name()
                ),
            ));
        };
        // Keys checked for repeats through a hash set and added to the context at once: linear and n log n in the
        // number of keys, whatever their order.
        // A few keys (the usual request) are compared with the earlier ones in place, without copies.
        let small = members.len() <= 16;
        let mut seen = crate::map::Set::with_capacity(if small { 0 } else { members.len() });
        // Each key is checked and entered as it is read; the first one the context refuses is the error only
        // when every member reads (the member errors above come first, as when the context was built after).
        let mut ctx = Context::with_capacity(members.len());
        let mut refused = None;
        for (k, m) in members.iter().enumerate() {
            // The member's JSON path, for an error (made only then).
            let path = || format!("$.request.context[\"{}\"]", m.key);
            let repeated = if small {
                members
                    .get(..k)
                    .unwrap_or_default()
                    .iter()
                    .any(|o| o.key.eq_ignore_ascii_case(m.key))
            } else {
                !seen.insert(m.key.to_ascii_lowercase())
            };
            if repeated {
                return Err(self.err(
                    m.key_span.start as usize,
                    &path(),
                    format!(
                        "context key `{}` appears twice (keys are case-insensitive)",
                        m.key
                    ),
                ));
            }
            let value = match &m.value.value {
                Value::Array(items) => {
                    let mut v = Vec::with_capacity(items.len());
                    for (i, it) in items.iter().enumerate() {
                        v.push(self.scalar(it, || format!("{}[{i}]", path()))?);
                    }
                    ContextValue::Many(v)
                }
                _ => ContextValue::One(self.scalar(&m.value, path)?),
            };
            if let (Some(listed), ContextValue::Many(values)) = (&self.listed, &value) {
                let lower = m.key.to_ascii_lowercase();
                if crate::context::known_key_type(&lower).is_some() {
                    // Each value gets every check of `Context::insert` here, so that an error names its element.
                    for (i, v) in values.iter().enumerate() {
                        Context::new()
                            .insert(m.key, ContextValue::One(v.clone()))
                            .map_err(|e| {
                                let at = match &m.value.value {
                                    Value::Array(items) => items.get(i).map(|n| n.span.start),
                                    _ => None,
                                };
                                self.err(
                                    at.unwrap_or(m.value.span.start) as usize,
                                    &format!("{}[{i}]", path()),
                                    e.to_string(),
                                )
                            })?;
                    }
                    let mut listed = listed.borrow_mut();
                    listed.push(Listed {
                        key: m.key.to_string(),
                        values: values.clone(),
                    });
                    let combinations = listed
                        .iter()
                        .map(|l| l.values.len().max(1))
                        .try_fold(1usize, |acc, n| acc.checked_mul(n))
                        .unwrap_or(usize::MAX);
                    if combinations > MAX_LISTED_COMBINATIONS {
                        return Err(self.err(
                            m.value.span.start as usize,
                            &path(),
                            format!(
                                "lists for single-valued keys give {combinations} combinations to decide; \
                                 at most {MAX_LISTED_COMBINATIONS} are (AWS sends one value for each of these keys)"
                            ),
                        ));
                    }
                    continue;
                }
            }
            if refused.is_none() {
                refused = ctx.push_unsorted(m.key, value).err();
            }
        }
        if let Some(e) = refused {
            // Keys are unique here, so the refused one names its member.
            let at = members.iter().find(|m| m.key == e.key);
            let start = at.map_or(node.span.start, |m| m.value.span.start) as usize;
            let path = format!("$.request.context[\"{}\"]", e.key);
            return Err(self.err(start, &path, e.to_string()));
        }
        ctx.settle();
        Ok(ctx)
    }

    /// A context value; `path` names it in an error.
    fn scalar(&self, node: &Node<'_>, path: impl Fn() -> String) -> Result<Scalar, CaseError> {
        Ok(match &node.value {
            Value::String(s) => Scalar::String(s.to_string()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match parse_number(n) {
                Some(x) => Scalar::Number(x, (*n).to_string()),
                None => {
                    return Err(self.err(
                        node.span.start as usize,
                        &path(),
                        format!("number `{n}` is out of range"),
                    ));
                }
            },
            v => return Err(self.err(
                node.span.start as usize,
                &path(),
                format!(
                    "a context value must be a string, number, boolean or a list of them, found {}",
                    v.kind_name()
                ),
            )),
        })
    }

    fn expect(&self, node: &Node<'_>) -> Result<Expectation, CaseError> {
        let members = self.object(node, "$.expect", &["decision", "reasons"])?;
        let get = |k: &str| members.iter().find(|m| m.key == k).map(|m| &m.value);
        let Some(d) = get("decision") else {
            return Err(self.err(
                node.span.start as usize,
                "$.expect.decision",
                "`expect` has no `decision`",
            ));
        };
        let decision = match self.string(d, "$.expect.decision")?.as_str() {
            "Allow" => Decision::Allow,
            "ExplicitDeny" => Decision::ExplicitDeny,
            "ImplicitDeny" => Decision::ImplicitDeny,
            other => return Err(self.err(
                d.span.start as usize,
                "$.expect.decision",
                format!(
                    "unknown decision `{other}`; write `Allow`, `ExplicitDeny` or `ImplicitDeny`"
                ),
            )),
        };
        let reasons = match get("reasons") {
            Some(n) => {
                let text = self.text.get(n.span.range()).unwrap_or("[]");
                let v: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
                    self.err(n.span.start as usize, "$.expect.reasons", e.to_string())
                })?;
                Some(v)
            }
            None => None,
        };
        Ok(Expectation { decision, reasons })
    }
}

#[cfg(test)]
mod tests {
    use super::seen::{BUDGET, SEEN};
    use super::*;

    /// A policy `lint` warns about (an unknown global key), as text.
    const WARNED: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
"Condition":{"StringEquals":{"aws:SourceVpcID":"vpc-0abc"}}}]}"#;

    /// A case's and its request's fields read in one pass give the errors `placed::fields` gives for the whole
    /// object (the first member unknown or repeated, at its key), and the same case otherwise: every arrangement of
    /// a few members, one of them unknown or repeated or neither, at each place.
    #[test]
    fn json6_fields_read_in_one_pass_err_as_the_check_does() {
        let limits = Limits::default();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let request = r#"{"principal":"arn:aws:iam::111122223333:role/R","action":"s3:GetObject","resource":"*"}"#;
        let case_members = [
            r#""id":"c""#.to_string(),
            format!(r#""identity_policies":[{policy}]"#),
            format!(r#""request":{request}"#),
            format!(
                r#""endpoint_policy":{}"#,
                policy.replace(r#""Action""#, r#""Principal":"*","Action""#)
            ),
        ];
        let request_members = [
            r#""action":"s3:GetObject""#,
            r#""resource":"*""#,
            r#""principal":"p""#,
            r#""context":{"aws:SourceVpc":"vpc-1"}"#,
        ];
        // `members` joined by commas, with `extra` (a member, or "twice": a repeat of the one before) at `at`.
        let with_extra = |members: &[&str], extra: Option<&str>, at: usize| {
            let mut members: Vec<String> = members.iter().map(|m| m.to_string()).collect();
            if let Some(x) = extra {
                let x = if x == "twice" {
                    members[at.saturating_sub(1).min(members.len() - 1)].clone()
                } else {
                    x.to_string()
                };
                members.insert(at, x);
            }
            members.join(",")
        };
        let mut checked = 0;
        for extra in [None, Some(r#""unknown":1"#), Some("twice")] {
            for at in 0..=case_members.len() {
                // The case's members, with the extra one (unknown, or a repeat of the member before) at `at`.
                let text = format!(
                    "{{{}}}",
                    with_extra(&case_members.each_ref().map(String::as_str), extra, at)
                );
                let arena = crate::parse::json::Arena::new();
                let root = crate::parse::json::parse(&text, &arena, &limits).unwrap();
                let expected =
                    placed::fields(&text, root.as_object().unwrap(), "$", &CASE_FIELDS).err();
                match (Case::parse(&text, &limits), expected) {
                    (Err((_, e)), Some(x)) => assert_eq!(e, x, "{text}"),
                    (Ok(c), None) => assert_eq!(c.id.as_deref(), Some("c"), "{text}"),
                    (got, x) => panic!("{text}: {:?} against {x:?}", got.err()),
                }
                // The same with the request's members.
                let req = format!("{{{}}}", with_extra(&request_members, extra, at));
                let text = format!(r#"{{"request":{req}}}"#);
                let root = crate::parse::json::parse(&text, &arena, &limits).unwrap();
                let node = root.get("request").unwrap();
                let expected = placed::fields(
                    &text,
                    node.as_object().unwrap(),
                    "$.request",
                    &REQUEST_FIELDS,
                )
                .err();
                match (Case::parse(&text, &limits), expected) {
                    (Err((_, e)), Some(x)) => assert_eq!(e, x, "{text}"),
                    (Ok(c), None) => {
                        assert_eq!(c.request.principal.as_deref(), Some("p"), "{text}");
                        assert!(c.request.context.get("aws:sourcevpc").is_some(), "{text}");
                    }
                    (got, x) => panic!("{text}: {:?} against {x:?}", got.err()),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 15);
    }

    /// `resource_kind_of` compares the service in place; it gives what its definition gives (the service the text
    /// before the first colon, `AssumeRole` the first ten characters after it, ignoring ASCII case) on every
    /// action of up to five characters over the bytes that matter and on longer ones around `sts:AssumeRole`.
    #[test]
    fn json7_resource_kind_is_its_definition() {
        fn definition(req: &Request) -> ResourceKind {
            let (service, name) = req.action.split_once(':').unwrap_or((&req.action, ""));
            let role = crate::policy::arn::split(&req.resource)
                .is_some_and(|f| f[2] == "iam" && f[5].starts_with("role/"));
            if service.eq_ignore_ascii_case("sts")
                && name
                    .get(..10)
                    .is_some_and(|p| p.eq_ignore_ascii_case("assumerole"))
                && role
            {
                ResourceKind::Trust
            } else if service.eq_ignore_ascii_case("kms") {
                ResourceKind::Key
            } else {
                ResourceKind::Resource
            }
        }
        let resources = ["arn:aws:iam::111122223333:role/R", "arn:aws:s3:::b/k", "*"];
        let mut actions: Vec<String> = vec![String::new()];
        let alphabet = ["s", "S", "t", "k", "m", "M", ":", "x", "é"];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            let next: Vec<String> = last
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            actions.extend(next.iter().cloned());
            last = next;
        }
        for tail in [
            "AssumeRole",
            "assumerolewithsaml",
            "ASSUMEROLE",
            "AssumeRol",
            "AssumeRolé",
            "Assume:Role",
            "GetObject",
        ] {
            for head in [
                "sts:", "STS:", "sTs:", "sts::", "stsx:", "st:", "kms:", "sts", "kMs",
            ] {
                actions.push(format!("{head}{tail}"));
            }
        }
        let mut kinds = [0usize; 3];
        for a in &actions {
            for r in resources {
                let req = Request::new(a, r);
                let got = resource_kind_of(&req);
                assert_eq!(got, definition(&req), "{a:?} on {r}");
                let k = match got {
                    ResourceKind::Trust => 0,
                    ResourceKind::Key => 1,
                    ResourceKind::Resource => 2,
                };
                if let Some(n) = kinds.get_mut(k) {
                    *n += 1;
                }
            }
        }
        // Each kind was reached.
        assert!(kinds.iter().all(|&n| n > 0), "{kinds:?}");
    }

    /// The request's context is filled as its members are read, but a member's own error still comes before a
    /// key the context refuses that was read earlier (as when the context was built after every member): the
    /// error names the member, its place and its message.
    #[test]
    fn json7_a_members_error_comes_before_an_earlier_refused_key() {
        let case = |context: &str| {
            format!(
                r#"{{"identity_policies":[],"request":{{"action":"s3:GetObject","resource":"*","context":{context}}}}}"#
            )
        };
        let limits = Limits::default();
        let err = |context: &str| match Case::parse(&case(context), &limits) {
            Err((_, e)) => e,
            Ok(_) => panic!("{context} was accepted"),
        };
        // Refused by the context alone: its key is named, at its value.
        let text = case(r#"{"x:a":"1","aws:SourceIp":"not-an-ip"}"#);
        let e = err(r#"{"x:a":"1","aws:SourceIp":"not-an-ip"}"#);
        assert_eq!(e.path, r#"$.request.context["aws:SourceIp"]"#);
        let at = text.find("\"not-an-ip").map(|i| i + 1);
        assert_eq!(Some(e.column), at, "{e:?}");
        assert!(e.message.contains("not-an-ip"), "{e:?}");
        // A later member that is not a context value: its error, not the refused key's.
        for later in [r#"{}"#, "null", r#"[{}]"#] {
            let context = format!(r#"{{"aws:SourceIp":"not-an-ip","x:b":{later}}}"#);
            let e = err(&context);
            assert!(
                e.path.starts_with(r#"$.request.context["x:b"]"#),
                "{later}: {e:?}"
            );
            assert!(
                e.message.contains("a context value must be"),
                "{later}: {e:?}"
            );
        }
        // A later repeated key: the repeat.
        let e = err(r#"{"aws:SourceIp":"not-an-ip","x:c":"1","X:C":"2"}"#);
        assert_eq!(e.path, r#"$.request.context["X:C"]"#);
        assert!(e.message.contains("appears twice"), "{e:?}");
        // Every member reads and none is refused: the context is the keys, sorted.
        let ok = Case::parse(
            &case(r#"{"x:b":"2","aws:SourceIp":"203.0.113.7","X:A":"1"}"#),
            &limits,
        )
        .map_err(|e| e.1)
        .unwrap();
        let keys: Vec<&str> = ok.request.context.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["aws:sourceip", "x:a", "x:b"]);
    }

    fn forget() {
        SEEN.with(|s| *s.borrow_mut() = seen::Seen::default());
    }

    /// The lint lines and policy paths pushed piece by piece read as `format!` wrote them.
    #[test]
    fn lint_lines_and_paths_read_as_format_wrote_them() {
        for n in [0, 7, 9, 10, 99, 100, 12_345, usize::MAX] {
            let mut s = String::from("x");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
            for (sev, within) in [("warning", ""), ("error", " (in the policy text)")] {
                assert_eq!(
                    lint_line(
                        "$.scps[1][0]",
                        sev,
                        "some-code",
                        "a `message`",
                        within,
                        n,
                        n / 3
                    ),
                    format!(
                        "$.scps[1][0]: lint {sev}[some-code]: a `message`{within} (line {n}, column {})",
                        n / 3
                    )
                );
            }
        }
        let paths = [
            (PolicyRef::Identity(12), "$.identity_policies[12]"),
            (PolicyRef::Resource, "$.resource_policy"),
            (PolicyRef::Boundary, "$.permissions_boundary"),
            (PolicyRef::Session(0), "$.session_policies[0]"),
            (PolicyRef::Scp(3, 10), "$.scps[3][10]"),
            (PolicyRef::Rcp(0, 2), "$.rcps[0][2]"),
            (PolicyRef::Endpoint, "$.endpoint_policy"),
        ];
        for (at, want) in paths {
            assert_eq!(case_path(at), want);
        }
    }

    fn linted() -> usize {
        SEEN.with(|s| s.borrow().linted)
    }

    fn lint_of(case: &str) -> Vec<String> {
        match Case::parse(case, &Limits::default()) {
            Ok(c) => c.lint().to_vec(),
            Err((_, e)) => vec![format!("refused: {e}")],
        }
    }

    /// The same policy text, inline at two different places and held in a string: linted once, and each case's
    /// warnings are those a fresh lint gives, placed where the policy is in that case.
    #[test]
    fn a_policy_text_seen_before_is_linted_once_and_placed_in_each_case() {
        let request = r#""request":{"principal":"arn:aws:iam::111122223333:role/R","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#;
        let quoted = serde_json::to_string(WARNED).unwrap_or_default();
        let cases = [
            format!(r#"{{"identity_policies":[{WARNED}],{request}}}"#),
            format!(
                r#"{{"id":"moved down a line",
"identity_policies":[{WARNED}],{request}}}"#
            ),
            format!(r#"{{"identity_policies":[{quoted}],{request}}}"#),
        ];
        let fresh: Vec<Vec<String>> = cases
            .iter()
            .map(|c| {
                forget();
                lint_of(c)
            })
            .collect();
        assert!(
            fresh
                .iter()
                .all(|w| w.len() == 1 && w[0].contains("unknown-global-key")),
            "{fresh:?}"
        );
        assert_ne!(fresh[0], fresh[1], "the places differ");
        assert_ne!(fresh[0], fresh[2], "the places differ");
        forget();
        let cached: Vec<Vec<String>> = cases.iter().map(|c| lint_of(c)).collect();
        assert_eq!(cached, fresh);
        assert_eq!(linted(), 1);
    }

    /// cold4: `Case::parse` does not lint; the first `Case::lint` does, once, and the record of `decide` begins
    /// with the same lines (computed once for the case, not again per call or per record).
    #[test]
    fn cold4_parse_does_not_lint_until_asked_and_lints_once() {
        let request = r#""request":{"principal":"arn:aws:iam::111122223333:role/R","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#;
        let quoted = serde_json::to_string(WARNED).unwrap_or_default();
        let case = format!(
            r#"{{"identity_policies":[{WARNED}],"session_policies":[{quoted}],{request}}}"#
        );
        forget();
        let c = Case::parse(&case, &Limits::default()).unwrap_or_else(|(_, e)| panic!("{e}"));
        assert_eq!(linted(), 0, "parse linted");
        let _ = c.set.decide(&c.request);
        assert_eq!(linted(), 0, "a decision linted");
        let lines = c.lint().to_vec();
        assert_eq!(linted(), 2, "one lint for each of the two policies");
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("$.identity_policies[0]: lint warning[unknown-global-key]"));
        assert!(lines[1].starts_with("$.session_policies[0]: lint warning[unknown-global-key]"));
        assert!(lines[1].contains(" (in the policy text)"), "{}", lines[1]);
        // Asked again, and the record: the same lines, and lint does not run again, even with the thread's
        // cache emptied.
        forget();
        assert_eq!(c.lint(), lines.as_slice());
        let DecisionRecord::Decided { warnings, .. } = c.decide(false) else {
            panic!("not decided");
        };
        assert_eq!(warnings.get(..2), Some(lines.as_slice()));
        assert_eq!(linted(), 0);
        // A clone made before lint ran lints on its own; one made after carries the lines.
        let fresh = Case::parse(&case, &Limits::default()).unwrap_or_else(|(_, e)| panic!("{e}"));
        let early = fresh.clone();
        assert_eq!(fresh.lint(), lines.as_slice());
        assert_eq!(early.lint(), lines.as_slice());
        fn shared<T: Send + Sync>(_: &T) {}
        shared(&c);
    }

    /// cold4: lint's lines for inline policies that start on a later line, after non-ASCII text, with findings
    /// on their own later lines, are placed where the case text has them (`line_col` over the whole case), as
    /// when lint ran on the case text itself; a policy text in a string stays placed in that text.
    #[test]
    fn cold4_lint_lines_are_placed_in_the_case_text() {
        let first = "{\"Version\":\"2012-10-17\",\n \"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\n  \"Condition\":{\"StringEquals\":{\"aws:SourceVpcID\":\"vpc-\u{e9}\"},\n  \"StringLike\":{\"aws:SourceVpcee\":\"x\"}}}]}";
        let second = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\",\n\"Condition\":{\"StringEquals\":{\"aws:SourceIP\":\"1\"}}}]}";
        let quoted = serde_json::to_string(second).unwrap_or_default();
        let case = format!(
            "{{\"id\":\"caf\u{e9} \u{1f600}\",\n  \"scps\":[[{second}],\n [{first}]],\n \"identity_policies\":[{first}, {quoted}],\n \"request\":{{\"action\":\"s3:GetObject\",\"resource\":\"arn:aws:s3:::b/k\"}}}}"
        );
        let c = Case::parse(&case, &Limits::default()).unwrap_or_else(|(_, e)| panic!("{e}"));
        // What placing every finding by its offset in the case text gives, policy by policy in the case's order
        // of fields (identity, then SCPs).
        let mut want = Vec::new();
        let mut place = |at: PolicyRef, text: &str, base: Option<usize>| {
            let p = Policy::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
            for d in crate::validate::validate(&p, at.kind()) {
                let (line, column, within) = match base {
                    Some(b) => {
                        let (l, c) = line_col(&case, b + d.span.start as usize);
                        (l, c, "")
                    }
                    None => {
                        let (l, c) = line_col(text, d.span.start as usize);
                        (l, c, " (in the policy text)")
                    }
                };
                let severity = if d.is_error() { "error" } else { "warning" };
                want.push(lint_line(
                    &case_path(at),
                    severity,
                    d.code,
                    &d.message,
                    within,
                    line,
                    column,
                ));
            }
        };
        let ident = case.find("\"identity_policies\"").unwrap_or(0);
        let first_in_identity = ident + case[ident..].find(first).unwrap_or(0);
        place(PolicyRef::Identity(0), first, Some(first_in_identity));
        place(PolicyRef::Identity(1), second, None);
        place(PolicyRef::Scp(0, 0), second, case.find(second));
        place(PolicyRef::Scp(1, 0), first, case.find(first));
        assert!(want.len() >= 4, "{want:?}");
        assert_eq!(c.lint(), want.as_slice());
        // An offset behind the cursor's is placed from the text's start, on the same lines and columns.
        let text = "ab\n\u{e9}x";
        let mut cursor = Cursor::starting(text, 3, 7);
        assert_eq!(cursor.line_col(5), (4, 2));
        assert_eq!(cursor.line_col(1), (3, 8));
        assert_eq!(cursor.line_col(0), (3, 7));
        assert_eq!(cursor.line_col(6), (4, 3));
    }

    /// cold4: what lint finds, errors included, never refuses a case nor changes its decision: a policy with
    /// lint errors (values that never match, an unknown operator qualifier's neighbour) is read and decided,
    /// and its findings are only the record's warnings.
    #[test]
    fn cold4_lint_errors_neither_refuse_a_case_nor_change_its_decision() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}}]}"#;
        let case = format!(
            r#"{{"identity_policies":[{policy}],"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k","context":{{"aws:SourceIp":"203.0.113.7"}}}}}}"#
        );
        let c = Case::parse(&case, &Limits::default()).unwrap_or_else(|(_, e)| panic!("{e}"));
        assert!(
            c.lint().iter().any(|l| l.contains(": lint error[")),
            "{:?}",
            c.lint()
        );
        assert_eq!(c.set.decide(&c.request), Decision::Allow);
        let DecisionRecord::Decided {
            decision, warnings, ..
        } = c.decide(false)
        else {
            panic!("not decided");
        };
        assert_eq!(decision, Decision::Allow);
        assert_eq!(warnings.get(..c.lint().len()), Some(c.lint()));
    }

    /// The cursor places every offset as `line_col` does, in order, backwards, and inside a character.
    #[test]
    fn the_cursor_places_as_line_col_does() {
        let text = "ab\n\u{e9}t\u{e9}\n\n  x\u{1f600}y\nz";
        let mut offsets: Vec<usize> = (0..=text.len() + 2).collect();
        offsets.extend([9, 3, 0, 4, 14, 1, 12]);
        let mut cursor = Cursor::new(text);
        for at in offsets {
            assert_eq!(cursor.line_col(at), line_col(text, at), "offset {at}");
        }
    }

    /// A text parsed before gives the same policy; under limits that refuse it, the error.
    #[test]
    fn a_policy_parsed_before_is_the_same_and_limits_still_apply() {
        let text = WARNED.replace("s3:GetObject", "s3:PutObject");
        let fresh = Policy::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        for _ in 0..2 {
            let got = seen::parse(&text, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(got, fresh);
        }
        let tight = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        assert!(seen::parse(&text, &tight).is_err());
        assert!(Policy::parse_with(&text, &tight).is_err());
        // More texts than are kept, then the first again: parsed anew, the same policy.
        for i in 0..=seen::LAST_KEPT {
            let other = WARNED.replace("s3:GetObject", &format!("s3:Get{i}"));
            assert!(seen::parse(&other, &Limits::default()).is_ok());
        }
        assert_eq!(seen::parse(&text, &Limits::default()).ok(), Some(fresh));
    }

    /// The kind is part of what is remembered: the same text as an SCP is linted as one.
    #[test]
    fn the_same_text_as_another_kind_is_linted_again() {
        forget();
        let p = Policy::parse(WARNED).unwrap_or_else(|e| panic!("{e:?}"));
        for kind in [
            crate::policy::PolicyKind::Identity,
            crate::policy::PolicyKind::Scp,
            crate::policy::PolicyKind::Identity,
            crate::policy::PolicyKind::Scp,
        ] {
            let got = seen::lint(WARNED, &p, kind);
            assert_eq!(&*got, crate::validate::validate(&p, kind).as_slice());
        }
        assert_eq!(linted(), 2);
    }

    /// Many distinct texts: the cache stays within its budget and still answers as lint does.
    #[test]
    fn the_cache_stays_within_its_budget() {
        forget();
        let pad = "x".repeat(4000);
        for i in 0..400 {
            let text = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S{i}","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{pad}"}}]}}"#
            );
            let p = Policy::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
            let kind = crate::policy::PolicyKind::Identity;
            assert_eq!(
                &*seen::lint(&text, &p, kind),
                crate::validate::validate(&p, kind).as_slice()
            );
            let bytes = SEEN.with(|s| s.borrow().bytes);
            assert!(bytes <= BUDGET, "{bytes} bytes held after {i} texts");
        }
        assert_eq!(linted(), 400);
        const { assert!(400 * 4000 > BUDGET, "the texts exceed the budget") };
    }

    use crate::compile::PolicyRef;

    const P1: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S\u0041","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]},"NumericLessThan":{"s3:max-keys":10}}}]}"#;
    const P2: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["s3:*"],"Resource":"arn:aws:s3:::b/*"}}"#;
    const R1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#;
    const E1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;

    /// Policies given inline are built from the case's tree, not parsed again: each is the policy that parsing
    /// its text gives (spans, shared texts, source), at every place a case holds policies.
    #[test]
    fn inline_policies_are_those_of_their_text() {
        let case = format!(
            r#"{{"id":"t","identity_policies":[{P1},{P2}],"session_policies":[{P2}],"permissions_boundary":{P1},
            "scps":[[{P1},{P2}],[{P2}]],"rcps":[[{R1}]],"request":{{"principal":"arn:aws:iam::111122223333:role/R",
            "action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
        );
        let c = Case::parse(&case, &Limits::default()).unwrap();
        let expected = [
            (PolicyRef::Identity(0), P1),
            (PolicyRef::Identity(1), P2),
            (PolicyRef::Session(0), P2),
            (PolicyRef::Boundary, P1),
            (PolicyRef::Scp(0, 0), P1),
            (PolicyRef::Scp(0, 1), P2),
            (PolicyRef::Scp(1, 0), P2),
            (PolicyRef::Rcp(0, 0), R1),
        ];
        for (at, text) in expected {
            let got = c.set.get(at).unwrap().policy();
            assert_eq!(got, &Policy::parse(text).unwrap(), "{at}");
        }
        assert_eq!(c.set.policies().count(), expected.len());
    }

    /// An inline policy's errors are placed in the case text, as when it was parsed from its slice; a policy
    /// given as a string keeps its own place.
    #[test]
    fn inline_policy_errors_point_into_the_case() {
        let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#;
        let case = format!(
            r#"{{"identity_policies":[{P2},{bad}],"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
        );
        let (_, e) = Case::parse(&case, &Limits::default()).unwrap_err();
        let at = case.find(r#""allow""#).unwrap();
        assert_eq!((e.line, e.column), (1, at + 1));
        assert_eq!(e.path, "$.identity_policies[1]");
        // A compile error: its place in the case too.
        let case = format!(
            r#"{{"identity_policies":[{P2},{E1}],"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
        );
        let (_, e) = Case::parse(&case, &Limits::default()).unwrap_err();
        let at = case.find(E1).unwrap() + E1.find(r#""*""#).unwrap();
        assert_eq!(
            (e.line, e.column, e.path.as_str()),
            (1, at + 1, "$.identity_policies[1]")
        );
        // Lint findings of an inline policy are placed in the case as well: where the same policy given as a
        // string places them in its text, shifted by where it starts in the case.
        let unknown_key = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpcee":"vpce-1"}}}]}"#;
        let tail = r#"],"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}"#;
        let case = format!(r#"{{"identity_policies":[{P2},{unknown_key}{tail}"#);
        let inline = Case::parse(&case, &Limits::default())
            .unwrap()
            .lint()
            .to_vec();
        let quoted = serde_json::to_string(unknown_key).unwrap();
        let as_text = format!(r#"{{"identity_policies":[{P2},{quoted}{tail}"#);
        let from_text = Case::parse(&as_text, &Limits::default())
            .unwrap()
            .lint()
            .to_vec();
        assert!(!inline.is_empty());
        assert_eq!(inline.len(), from_text.len());
        let col = |w: &str| -> usize {
            let tail = w.rsplit("column ").next().unwrap();
            tail.trim_end_matches(')').parse().unwrap()
        };
        let base = case.find(unknown_key).unwrap();
        for (a, b) in inline.iter().zip(&from_text) {
            assert_eq!(col(a), col(b) + base, "{a} / {b}");
        }
    }
}
