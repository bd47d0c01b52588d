//! `compile` a set of policies once; `decide` and `explain` requests against it many times.

use super::case::{parse_request, resource_kind_of, warnings};
use super::input::{Doc, Reader};
use super::place::{Place, of_span, place};
use super::{Answer, ApiError};
use crate::compile::{EndpointKind, PolicyRef, PolicySet, PolicySetBuilder, ResourceKind};
use crate::context::{RequestRef, ValueRef};
use crate::decide::{ConditionTrace, Decision, KeyLayout, Outcome, Reason, StatementTrace};
use crate::limits::Limits;
use crate::parse::json::Node;
use crate::policy::{Effect, Policy};
use serde::Serialize;
use std::borrow::Cow;

/// The most context keys a request given as fields may have ([`Compiled::decide_fields`], [`super::HeldFields`]).
pub(super) const FIELD_KEYS: usize = 32;

/// The policies of a set, named as in the Case contract (docs: `corpus/cases/README.md`). Each policy is a JSON
/// object or a string holding the policy text; places in errors and explanations are in that text (for an
/// object, in its exact text within the input). A whole case compiles as it is: its `id`, `request`, `expect`,
/// `description`, `semantics` and `tags` are ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SetInput<'a> {
    /// `identity_policies`: the principal's identity-based policies, named `identity[i]` in order.
    pub identity_policies: Vec<Doc<'a>>,
    /// `resource_policy`: the resource's policy (read as `resource_kind` says), named `resource`.
    pub resource_policy: Option<Doc<'a>>,
    /// `permissions_boundary`: the principal's permissions boundary, named `boundary`; when given, it must allow.
    pub permissions_boundary: Option<Doc<'a>>,
    /// `session_policies`: the session policies, named `session[i]`; when any is given, one must allow.
    pub session_policies: Vec<Doc<'a>>,
    /// Levels, root first; each level a list of policies, and each level must allow.
    pub scps: Vec<Vec<Doc<'a>>>,
    /// `rcps`: levels as for `scps`. Each level also carries AWS's allow-all, so RCPs can only deny, and only for
    /// the services RCPs govern (docs/FORMATS.md §1).
    pub rcps: Vec<Vec<Doc<'a>>>,
    /// `endpoint_policy`: given means the request came through that VPC endpoint, whose policy must then allow.
    pub endpoint_policy: Option<Doc<'a>>,
    /// Which kind of VPC endpoint the endpoint policy belongs to: `interface` (the default) or `gateway`.
    pub endpoint_kind: Option<String>,
    /// What the resource policy is: `resource` (the default), `trust` (a role's trust policy) or `key` (a KMS key
    /// policy). Without it, a case's `request` decides, as in a batch (`sts:AssumeRole*` on a role: trust;
    /// `kms:*`: key).
    pub resource_kind: Option<String>,
    /// A case's `request`, kept as text: [`compile`] reads it only to choose the resource policy's kind when
    /// `resource_kind` is absent; decide it with [`Compiled::decide`].
    pub request: Option<Doc<'a>>,
}

const SET_FIELDS: [&str; 15] = [
    "identity_policies",
    "resource_policy",
    "permissions_boundary",
    "session_policies",
    "scps",
    "rcps",
    "endpoint_policy",
    "endpoint_kind",
    "resource_kind",
    "request",
    "id",
    "expect",
    "description",
    "semantics",
    "tags",
];

impl<'a> SetInput<'a> {
    /// Read a set's input; unknown and repeated fields are refused, each error placed in `text`.
    ///
    /// ```
    /// let s = iamgate::api::SetInput::read(r#"{"scps": [["{}"], [{"Statement": []}]], "id": 7}"#).unwrap();
    /// assert_eq!(s.scps[1][0].text(), r#"{"Statement": []}"#);
    /// assert!(iamgate::api::SetInput::read(r#"{"scp": []}"#).is_err());
    /// ```
    pub fn read(text: &'a str) -> Result<Self, Vec<ApiError>> {
        let arena = crate::parse::json::Arena::new();
        let (r, root) = Reader::parse(text, &arena)?;
        let mut s = SetInput::default();
        for m in r.object(&root, "$", &SET_FIELDS)? {
            let (v, path) = (&m.value, format!("$.{}", m.key));
            let levels = |v: &Node<'_>| -> Result<Vec<Vec<Doc<'a>>>, Vec<ApiError>> {
                let levels = r.array(v, &path)?.iter().enumerate();
                levels
                    .map(|(i, l)| r.docs(l, &format!("{path}[{i}]")))
                    .collect()
            };
            match m.key {
                "identity_policies" => s.identity_policies = r.docs(v, &path)?,
                "resource_policy" => s.resource_policy = r.opt_doc(v),
                "permissions_boundary" => s.permissions_boundary = r.opt_doc(v),
                "session_policies" => s.session_policies = r.docs(v, &path)?,
                "scps" => s.scps = levels(v)?,
                "rcps" => s.rcps = levels(v)?,
                "endpoint_policy" => s.endpoint_policy = r.opt_doc(v),
                "endpoint_kind" => s.endpoint_kind = r.opt_string(v, &path)?.map(Cow::into_owned),
                "resource_kind" => s.resource_kind = r.opt_string(v, &path)?.map(Cow::into_owned),
                "request" => s.request = r.opt_doc(v),
                _ => {} // the rest of a case
            }
        }
        Ok(s)
    }
}

/// A compiled set the caller holds: decide against it as often as needed, without re-parsing.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The compiled policies, named as in decision records; [`PolicySet`]'s own calls work on it directly.
    pub set: PolicySet,
}

/// The answer of [`Compiled::decide`].
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`, as in a decision record (docs/FORMATS.md §2).
    pub decision: Decision,
    /// What decided, as a decision record's `reasons`: the applicable Deny statements, the applicable Allow
    /// statements, or the gates without an Allow.
    pub reasons: Vec<Reason>,
}

/// The answer of [`Compiled::explain`]: the decision, its reasons and warnings (as in a batch decision record),
/// and every statement consulted with its place and each condition's outcome and place.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    /// The decision, as [`Compiled::decide`] gives it.
    pub decision: Decision,
    /// What decided, as [`Decided::reasons`], each deciding statement with its place in its policy's text.
    pub reasons: Vec<PlacedReason>,
    /// Sentences, as a decision record's `warnings` (docs/FORMATS.md §2): each condition whose result rests on a
    /// rule AWS has not settled (docs/SEMANTICS.md §9), and RCPs not applied to a service they do not govern.
    pub warnings: Vec<String>,
    /// The statements named by `reasons`, in the same order.
    pub deciding: Vec<StatementOut>,
    /// Every statement of every policy consulted, applicable or not, in the order consulted.
    pub statements: Vec<StatementOut>,
}

/// A reason of [`Explained`]: the decision record's fields (docs/FORMATS.md §2), and for a statement its place.
#[derive(Debug, Clone, Serialize)]
pub struct PlacedReason {
    /// The reason, serialised with its own fields.
    #[serde(flatten)]
    pub reason: Reason,
    /// The deciding statement in its policy's text; absent for a gate without an Allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
}

/// One statement: how it fared, and where it is in its policy's text.
#[derive(Debug, Clone, Serialize)]
pub struct StatementOut {
    /// The policy's name as in decision records: `identity[0]`, `scps[1][0]`, `endpoint`.
    pub policy: String,
    /// The statement's 0-based index in the policy's `Statement` list.
    pub statement: usize,
    /// The statement's `Sid`, or null.
    pub sid: Option<String>,
    /// `"Allow"` or `"Deny"`.
    pub effect: Effect,
    /// Whether the statement applied: action, resource and principal matched and every condition held.
    pub applies: bool,
    /// Whether `Action` (or `NotAction`) matched the request's action.
    pub action_matched: bool,
    /// Whether `Resource` (or `NotResource`) matched the request's resource.
    pub resource_matched: bool,
    /// Whether `Principal` (or `NotPrincipal`) matched the caller; true where the policy has none.
    pub principal_matched: bool,
    /// The whole statement object in the policy's text.
    pub place: Option<Place>,
    /// Each condition of the statement, in the order written, evaluated even after one fails.
    pub conditions: Vec<ConditionOut>,
}

/// One condition (`Operator: {Key: values}` entry) and whether it held.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionOut {
    /// The operator in AWS's spelling, with its qualifier and `IfExists` (`ForAnyValue:StringLikeIfExists`).
    pub operator: String,
    /// The condition key as the policy writes it (keys ignore case when matched).
    pub key: String,
    /// Whether the condition held for the request (docs/SEMANTICS.md §3.6).
    pub held: bool,
    /// Why, in words: `key absent: a negated operator is true`, `203.0.113.7 is in the list`.
    pub why: String,
    /// When the result rests on a rule AWS has not settled, the choice made and its docs/SEMANTICS.md §9 row;
    /// absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<&'static str>,

    /// From the key to the end of its values, in the policy's text.
    pub place: Option<Place>,
    /// What `held` rests on, named as in a decision record's condition trace (docs/FORMATS.md §2): `matched`,
    /// `no-match`, `absent-if-exists`, ...
    pub outcome: Outcome,
    /// The policy's values for the key, as written.
    pub values: Vec<String>,
    /// The request's values of the key; null when the request does not give the key.
    pub request_values: Option<Vec<String>>,
    /// Which of `request_values` matched a policy value under the operator's positive form.
    pub matched_values: Vec<String>,
}

/// The position of the first U+001F in `b` at or after `from`. Natively a byte loop; in WebAssembly, where a byte
/// loop costs several instructions per byte of the fields, [`separator_words`].
#[inline(always)]
fn separator(b: &[u8], from: usize) -> Option<usize> {
    #[cfg(target_arch = "wasm32")]
    return separator_words(b, from);
    #[cfg(not(target_arch = "wasm32"))]
    return b
        .get(from..)?
        .iter()
        .position(|&c| c == 0x1f)
        .map(|i| from + i);
}

/// [`separator`] eight bytes at a time.
#[inline(always)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn separator_words(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let rest = b.get(from..)?;
    let mut at = 0;
    while let Some(w) = rest
        .get(at..at + 8)
        .and_then(|c| <[u8; 8]>::try_from(c).ok())
    {
        // A zero byte of `x` where `rest` holds 0x1f; the lowest byte flagged in `z` is always a true one (a borrow
        // can only flag bytes above a zero byte).
        let x = u64::from_le_bytes(w) ^ (ONES * 0x1f);
        let z = x.wrapping_sub(ONES) & !x & HIGH;
        if z != 0 {
            return Some(from + at + (z.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = rest.get(at..).unwrap_or_default();
    tail.iter().position(|&c| c == 0x1f).map(|i| from + at + i)
}

fn parse_policy(doc: &Doc<'_>, name: String, errors: &mut Vec<ApiError>) -> Option<Policy> {
    let text = match doc.policy_text() {
        Ok(t) => t,
        Err(m) => {
            errors.push(ApiError {
                policy: Some(name),
                ..ApiError::new(m)
            });
            return None;
        }
    };
    match Policy::parse_with(text, &Limits::default()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e.diagnostics.into_iter().map(|d| ApiError {
                message: d.message,
                help: d.help,
                code: Some(d.code),
                policy: Some(name.clone()),
                path: None,
                place: Some(of_span(text, d.span)),
            }));
            None
        }
    }
}

/// Compile a set. Every policy that does not parse is reported, each error with its policy and place.
pub fn compile(input: &str) -> Result<Compiled, Vec<ApiError>> {
    let s = SetInput::read(input)?;
    let mut errors = Vec::new();
    let mut b = PolicySetBuilder::default();
    let resource_kind = match s.resource_kind.as_deref() {
        Some("resource") => ResourceKind::Resource,
        Some("trust") => ResourceKind::Trust,
        Some("key") => ResourceKind::Key,
        Some(other) => {
            return Err(vec![
                ApiError::new(format!("unknown resource kind `{other}`"))
                    .path("$.resource_kind")
                    .with_help("valid kinds are resource, trust, key"),
            ]);
        }
        None => s
            .request
            .as_ref()
            .and_then(|r| parse_request(r.raw, &Limits::default()).ok())
            .map_or(ResourceKind::Resource, |r| resource_kind_of(&r)),
    };
    match s.endpoint_kind.as_deref() {
        None | Some("interface") => {}
        Some("gateway") => b = b.endpoint_kind(EndpointKind::Gateway),
        Some(other) => {
            return Err(vec![
                ApiError::new(format!("unknown endpoint kind `{other}`"))
                    .path("$.endpoint_kind")
                    .with_help("valid kinds are interface (the default) and gateway"),
            ]);
        }
    }
    let add = |b: PolicySetBuilder, raw: &Doc<'_>, at: PolicyRef, errors: &mut Vec<ApiError>| {
        match parse_policy(raw, at.to_string(), errors) {
            Some(p) => match at {
                PolicyRef::Identity(_) => b.identity(p),
                PolicyRef::Resource => b.resource_as(p, resource_kind),
                PolicyRef::Boundary => b.boundary(p),
                PolicyRef::Session(_) => b.session(p),
                PolicyRef::Endpoint => b.endpoint(p),
                PolicyRef::Scp(..) | PolicyRef::Rcp(..) => b,
            },
            None => b,
        }
    };
    for (i, raw) in s.identity_policies.iter().enumerate() {
        b = add(b, raw, PolicyRef::Identity(i), &mut errors);
    }
    if let Some(raw) = &s.resource_policy {
        b = add(b, raw, PolicyRef::Resource, &mut errors);
    }
    if let Some(raw) = &s.permissions_boundary {
        b = add(b, raw, PolicyRef::Boundary, &mut errors);
    }
    for (i, raw) in s.session_policies.iter().enumerate() {
        b = add(b, raw, PolicyRef::Session(i), &mut errors);
    }
    for (rcp, levels) in [(false, &s.scps), (true, &s.rcps)] {
        for (l, level) in levels.iter().enumerate() {
            let mut out = Vec::new();
            for (j, raw) in level.iter().enumerate() {
                let at = if rcp {
                    PolicyRef::Rcp(l, j)
                } else {
                    PolicyRef::Scp(l, j)
                };
                out.extend(parse_policy(raw, at.to_string(), &mut errors));
            }
            b = if rcp {
                b.rcp_level(out)
            } else {
                b.scp_level(out)
            };
        }
    }
    if let Some(raw) = &s.endpoint_policy {
        b = add(b, raw, PolicyRef::Endpoint, &mut errors);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let set = b.build().map_err(|e| {
        let d = *e.diagnostic;
        vec![ApiError {
            message: d.message,
            help: d.help,
            code: Some(d.code),
            policy: Some(e.policy.to_string()),
            path: None,
            place: Some(of_span(&e.source_text, d.span)),
        }]
    })?;
    Ok(Compiled { set })
}

/// [`compile`] as an answer: `{"result": "success"}` (nothing to show but that it compiled) or the errors.
pub fn compile_json(input: &str) -> Answer<()> {
    compile(input).map(|_| ()).into()
}

impl Compiled {
    fn request(&self, input: &str) -> Result<crate::Request, Vec<ApiError>> {
        parse_request(input, &Limits::default()).map_err(|e| {
            // The request is the whole input here: `$.request.x` is `$.x`.
            let path = match crate::bytes::find(&e.path, "$.request") {
                Some(i) => {
                    let mut p = String::with_capacity(e.path.len());
                    p.push_str(e.path.get(..i).unwrap_or_default());
                    p.push('$');
                    p.push_str(e.path.get(i + "$.request".len()..).unwrap_or_default());
                    p
                }
                None => e.path.clone(),
            };
            let offset = super::place::offset_of_line_char(input, e.line, e.column);
            vec![
                ApiError::new(e.message)
                    .path(path)
                    .at(place(input, offset, offset)),
            ]
        })
    }

    /// Decide one request (the Case contract's `request` object): the decision and its reasons.
    pub fn decide(&self, request: &str) -> Answer<Decided> {
        self.request(request)
            .map(|req| {
                let (decision, reasons) = self.set.decide_with_reasons(&req);
                Decided { decision, reasons }
            })
            .into()
    }

    /// Decide one request given as fields joined by U+001F: principal (empty for none), action, resource, then
    /// each context key and its value. Single values only. The fast path of a JavaScript host: no JSON, nothing
    /// allocated; a value its key's type refuses is an error (then [`Compiled::decide`] says why).
    ///
    /// ```
    /// let set = iamgate::api::compile(r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///   "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}]}"#).unwrap();
    /// let d = set.decide_fields("\u{1f}s3:GetObject\u{1f}arn:aws:s3:::b/k\u{1f}aws:SourceIp\u{1f}10.1.2.3");
    /// assert_eq!(d, Ok(iamgate::Decision::Allow));
    /// assert!(set.decide_fields("\u{1f}s3:GetObject\u{1f}arn:aws:s3:::b/k\u{1f}aws:SourceIp\u{1f}ten").is_err());
    /// ```
    pub fn decide_fields(&self, fields: &str) -> Result<Decision, Box<ApiError>> {
        self.decide_fields_with(None, fields)
    }

    /// [`Compiled::decide_fields`] with the context keys resolved beforehand by [`Compiled::fields_layout`]: the
    /// same decision whatever the layout (a key it does not hold is looked up as usual), with less work per call
    /// when the keys come in the layout's order.
    ///
    /// ```
    /// let set = iamgate::api::compile(r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ///   "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}]}"#).unwrap();
    /// let fields = "\u{1f}s3:GetObject\u{1f}arn:aws:s3:::b/k\u{1f}aws:SourceIp\u{1f}10.1.2.3";
    /// let layout = set.fields_layout(fields);
    /// assert_eq!(set.decide_fields_with(Some(&layout), fields), Ok(iamgate::Decision::Allow));
    /// ```
    pub fn decide_fields_with<'f>(
        &self,
        layout: Option<&KeyLayout>,
        fields: &'f str,
    ) -> Result<Decision, Box<ApiError>> {
        const MAX: usize = FIELD_KEYS;
        let (mut principal, mut action, mut resource, mut key) = ("", "", "", "");
        let mut context = [("", ValueRef::One("")); MAX];
        // Field `k` is `text`: one pass over the bytes, each field placed as its separator is found (at the
        // WebAssembly build's `opt-level = "z"`, a split through iterator adapters was a fifth of a decision).
        let mut take = |k: usize, text: &'f str| -> bool {
            match k {
                0 => principal = text,
                1 => action = text,
                2 => resource = text,
                _ if k % 2 == 1 => key = text,
                _ => match context.get_mut((k - 4) / 2) {
                    Some(slot) => *slot = (key, ValueRef::One(text)),
                    None => return false,
                },
            }
            true
        };
        let (mut k, mut start) = (0, 0);
        while let Some(i) = separator(fields.as_bytes(), start) {
            // U+001F is one byte, so both sides of it are on character boundaries.
            if !take(k, fields.get(start..i).unwrap_or_default()) {
                return Err(Box::new(ApiError::new(format!(
                    "more than {MAX} context keys"
                ))));
            }
            (k, start) = (k + 1, i + 1);
        }
        if !take(k, fields.get(start..).unwrap_or_default()) {
            return Err(Box::new(ApiError::new(format!(
                "more than {MAX} context keys"
            ))));
        }
        if k < 2 {
            return Err(Box::new(ApiError::new(
                "expected principal, action and resource",
            )));
        }
        if k % 2 == 1 {
            return Err(Box::new(ApiError::new(format!(
                "context key `{key}` has no value"
            ))));
        }
        let n = (k - 2) / 2;
        self.decide_field_request(layout, principal, action, resource, context.get(..n))
    }

    /// Decide the request made of fields (an empty principal is none), with `layout` when given: the one end of
    /// [`Compiled::decide_fields_with`] and [`super::HeldFields::decide`].
    #[inline]
    pub(super) fn decide_field_request(
        &self,
        layout: Option<&KeyLayout>,
        principal: &str,
        action: &str,
        resource: &str,
        context: Option<&[(&str, ValueRef<'_>)]>,
    ) -> Result<Decision, Box<ApiError>> {
        let req = RequestRef {
            principal: (!principal.is_empty()).then_some(principal),
            action,
            resource,
            resource_account: None,
            context: context.unwrap_or_default(),
        };
        match layout {
            Some(layout) => self.set.decide_ref_with(layout, &req),
            None => self.set.decide_ref(&req),
        }
        .map_err(|e| Box::new(ApiError::new(e.to_string())))
    }

    /// The layout of the context keys in `fields` (as given to [`Compiled::decide_fields`]), in their order, for
    /// [`Compiled::decide_fields_with`].
    pub fn fields_layout(&self, fields: &str) -> KeyLayout {
        self.set.key_layout(Fields(Some(fields)).skip(3).step_by(2))
    }

    /// Decide one request and say why, with the places of the deciding statements and of every condition
    /// (1-based line, UTF-16 column, byte span in the policy's text) and each condition's outcome and values.
    ///
    /// ```
    /// use iamgate::api::{Answer, compile};
    /// let set = compile(r#"{"identity_policies": ["{\"Version\": \"2012-10-17\", \"Statement\": [\n {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\",\n  \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": \"10.0.0.0/8\"}}}]}"]}"#).unwrap();
    /// let Answer::Success(ex) = set.explain(r#"{"action": "s3:GetObject", "resource": "*", "context": {"aws:SourceIp": "10.1.2.3"}}"#) else {
    ///     panic!("explained")
    /// };
    /// let st = &ex.deciding[0];
    /// assert_eq!(ex.reasons[0].place, st.place); // the reason is placed too
    /// let place = st.place.unwrap();
    /// assert_eq!((place.line, place.column, place.end_line), (2, 2, 3));
    /// let c = &st.conditions[0];
    /// let place = c.place.unwrap();
    /// assert_eq!((place.line, place.column), (3, 31)); // `"aws:SourceIp": "10.0.0.0/8"`
    /// assert_eq!((c.outcome.name(), c.values.as_slice()), ("matched", &["10.0.0.0/8".to_string()][..]));
    /// assert_eq!(c.request_values, Some(vec!["10.1.2.3".to_string()]));
    /// ```
    pub fn explain(&self, request: &str) -> Answer<Explained> {
        self.request(request)
            .map(|req| {
                let ex = self.set.explain(&req);
                let warnings = warnings(&self.set, &req, &ex.statements);
                let statements: Vec<StatementOut> =
                    ex.statements.iter().map(|t| self.statement(t)).collect();
                let deciding = ex
                    .reasons
                    .iter()
                    .filter_map(|r| match r {
                        Reason::Statement {
                            policy, statement, ..
                        } => statements
                            .iter()
                            .find(|s| s.policy == policy.to_string() && s.statement == *statement)
                            .cloned(),
                        Reason::NoAllow(_) => None,
                    })
                    .collect();
                let reasons = ex
                    .reasons
                    .into_iter()
                    .map(|reason| {
                        let place = match &reason {
                            Reason::Statement { policy, span, .. } => self
                                .set
                                .get(*policy)
                                .map(|c| of_span(c.policy().source(), *span)),
                            Reason::NoAllow(_) => None,
                        };
                        PlacedReason { reason, place }
                    })
                    .collect();
                Explained {
                    decision: ex.decision,
                    reasons,
                    warnings,
                    deciding,
                    statements,
                }
            })
            .into()
    }

    fn statement(&self, t: &StatementTrace) -> StatementOut {
        let policy = self.set.get(t.policy).map(|c| c.policy());
        let st = policy.and_then(|p| p.statements.iter().find(|s| s.index == t.statement));
        let text = policy.map_or("", |p| p.source());
        StatementOut {
            policy: t.policy.to_string(),
            statement: t.statement,
            sid: t.sid.clone(),
            effect: t.effect,
            applies: t.applies,
            action_matched: t.action_matched,
            resource_matched: t.resource_matched,
            principal_matched: t.principal_matched,
            place: st.map(|_| of_span(text, t.span)),
            conditions: t
                .conditions
                .iter()
                .map(|c: &ConditionTrace| ConditionOut {
                    operator: c.operator.to_string(),
                    // The key as the policy writes it (the trace has it in lowercase).
                    key: st
                        .and_then(|s| s.conditions.get(c.index))
                        .map_or_else(|| c.key.clone(), |w| w.key.value.to_string()),
                    held: c.held,
                    why: c.why(),
                    uncertain: c.uncertain,
                    place: st
                        .and_then(|s| s.conditions.get(c.index))
                        .map(|_| of_span(text, c.span)),
                    outcome: c.outcome,
                    values: c.values.clone(),
                    request_values: c.request_values.clone(),
                    matched_values: c.matched_values.clone(),
                })
                .collect(),
        }
    }
}

/// The fields of a [`Compiled::decide_fields`] text, split at each U+001F byte (for [`Compiled::fields_layout`],
/// once per key order; each decision splits in one pass of its own).
struct Fields<'a>(Option<&'a str>);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let text = self.0?;
        match text.bytes().position(|b| b == 0x1f) {
            Some(i) => {
                // U+001F is one byte, so both sides of it are on character boundaries.
                self.0 = text.get(i + 1..);
                text.get(..i)
            }
            None => {
                self.0 = None;
                Some(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decide_fields_refuses_malformed_fields_and_decides_the_rest() {
        let set = compile(
            r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/t": "x"}}}]}]}"#,
        )
        .unwrap();
        let refused = |f: &str| set.decide_fields(f).unwrap_err().message;
        assert_eq!(refused(""), "expected principal, action and resource");
        assert_eq!(
            refused("\u{1f}s3:GetObject"),
            "expected principal, action and resource"
        );
        assert_eq!(
            refused("\u{1f}s3:GetObject\u{1f}*\u{1f}aws:PrincipalTag/t"),
            "context key `aws:PrincipalTag/t` has no value"
        );
        let many: String = (0..33).map(|i| format!("\u{1f}k{i}\u{1f}v")).collect();
        assert_eq!(
            refused(&format!("\u{1f}s3:GetObject\u{1f}*{many}")),
            "more than 32 context keys"
        );
        let ok: String = (0..31).map(|i| format!("\u{1f}k{i}\u{1f}v")).collect();
        for (tag, want) in [("x", Decision::Allow), ("y", Decision::ImplicitDeny)] {
            let f = format!("\u{1f}s3:GetObject\u{1f}*{ok}\u{1f}aws:PrincipalTag/t\u{1f}{tag}");
            assert_eq!(set.decide_fields(&f), Ok(want));
            let layout = set.fields_layout(&f);
            assert_eq!(set.decide_fields_with(Some(&layout), &f), Ok(want));
        }
        // Fields of every length around a word's size.
        for pad in 0..20 {
            let resource = format!("arn:aws:s3:::b/{}", "k".repeat(pad));
            for (tag, want) in [("x", Decision::Allow), ("xx", Decision::ImplicitDeny)] {
                let f = format!(
                    "\u{1f}s3:GetObject\u{1f}{resource}\u{1f}aws:PrincipalTag/t\u{1f}{tag}"
                );
                assert_eq!(set.decide_fields(&f), Ok(want), "{f:?}");
            }
        }
        // Empty fields are values: an empty tag is not `x`.
        let f = "\u{1f}s3:GetObject\u{1f}*\u{1f}aws:PrincipalTag/t\u{1f}";
        assert_eq!(set.decide_fields(f), Ok(Decision::ImplicitDeny));
    }

    #[test]
    fn fields_split_at_each_separator_and_keep_empty_ones() {
        let got: Vec<&str> = Fields(Some(
            "\u{1f}s3:GetObject\u{1f}arn:aws:s3:::bucket-name/key\u{1f}\u{1f}é",
        ))
        .collect();
        assert_eq!(
            got,
            ["", "s3:GetObject", "arn:aws:s3:::bucket-name/key", "", "é"]
        );
    }

    /// The word-at-a-time search finds the same separator as a byte loop: every position of one or two separators
    /// in texts of 0 to 40 bytes (around and across the eight-byte words), from every start, with bytes next to
    /// 0x1f in value (0x1e, 0x20, 0x9f) that a borrow between bytes could confuse with it.
    #[test]
    fn separator_words_finds_what_a_byte_loop_finds() {
        let by_bytes = |b: &[u8], from: usize| {
            b.get(from..)?
                .iter()
                .position(|&c| c == 0x1f)
                .map(|i| from + i)
        };
        let mut checked = 0;
        for len in 0..=40usize {
            for fill in [b'a', 0x1e, 0x20, 0x9f, 0x00] {
                for first in 0..=len {
                    for second in first..=len {
                        let mut b = vec![fill; len];
                        for at in [first, second] {
                            if let Some(c) = b.get_mut(at) {
                                *c = 0x1f;
                            }
                        }
                        for from in 0..=len + 1 {
                            assert_eq!(
                                separator_words(&b, from),
                                by_bytes(&b, from),
                                "{b:?} from {from}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 50_000);
    }
}
