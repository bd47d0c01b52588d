//! `compile` a set of policies once; `decide` and `explain` requests against it many times.

use super::case::{parse_request, resource_kind_of, warnings};
use super::place::{Place, of_span, place};
use super::{Answer, ApiError, read_input};
use crate::compile::{EndpointKind, PolicyRef, PolicySet, PolicySetBuilder, ResourceKind};
use crate::context::{RequestRef, ValueRef};
use crate::decide::{ConditionTrace, Decision, KeyLayout, Reason, StatementTrace};
use crate::limits::Limits;
use crate::policy::{Effect, Policy};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The policies of a set, named as in the Case contract (docs: `corpus/cases/README.md`). Each policy is a JSON
/// object or a string holding the policy text; places in errors and explanations are in that text (for an
/// object, in its exact text within the input). A whole case compiles as it is: its `id`, `request`, `expect`,
/// `description`, `semantics` and `tags` are ignored.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SetInput<'a> {
    #[serde(default, borrow)]
    pub identity_policies: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    pub resource_policy: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub permissions_boundary: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub session_policies: Vec<&'a RawValue>,
    /// Levels, root first; each level a list of policies, and each level must allow.
    #[serde(default, borrow)]
    pub scps: Vec<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    pub rcps: Vec<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    pub endpoint_policy: Option<&'a RawValue>,
    #[serde(default, rename = "id")]
    _id: Option<IgnoredAny>,
    /// Which kind of VPC endpoint the endpoint policy belongs to: `interface` (the default) or `gateway`.
    #[serde(default)]
    pub endpoint_kind: Option<String>,
    /// What the resource policy is: `resource` (the default), `trust` (a role's trust policy) or `key` (a KMS key
    /// policy). Without it, a case's `request` decides, as in a batch (`sts:AssumeRole*` on a role: trust;
    /// `kms:*`: key).
    #[serde(default)]
    pub resource_kind: Option<String>,
    #[serde(default, borrow)]
    pub request: Option<&'a RawValue>,
    #[serde(default, rename = "expect")]
    _expect: Option<IgnoredAny>,
    #[serde(default, rename = "description")]
    _description: Option<IgnoredAny>,
    #[serde(default, rename = "semantics")]
    _semantics: Option<IgnoredAny>,
    #[serde(default, rename = "tags")]
    _tags: Option<IgnoredAny>,
}

/// A compiled set the caller holds: decide against it as often as needed, without re-parsing.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub set: PolicySet,
}

/// The answer of [`Compiled::decide`].
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

/// The answer of [`Compiled::explain`]: the decision, its reasons and warnings (as in a batch decision record),
/// and every statement consulted with its place and each condition's outcome and place.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<String>,
    /// The statements named by `reasons`, in the same order.
    pub deciding: Vec<StatementOut>,
    pub statements: Vec<StatementOut>,
}

/// One statement: how it fared, and where it is in its policy's text.
#[derive(Debug, Clone, Serialize)]
pub struct StatementOut {
    pub policy: String,
    pub statement: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub applies: bool,
    pub action_matched: bool,
    pub resource_matched: bool,
    pub principal_matched: bool,
    /// The whole statement object in the policy's text.
    pub place: Option<Place>,
    pub conditions: Vec<ConditionOut>,
}

/// One condition (`Operator: {Key: values}` entry) and whether it held.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionOut {
    pub operator: String,
    pub key: String,
    pub held: bool,
    pub why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<&'static str>,
    /// From the key to the end of its values, in the policy's text.
    pub place: Option<Place>,
}

/// The text of one policy given as an object or a string.
fn policy_text(raw: &RawValue) -> Result<String, String> {
    let t = raw.get();
    if t.starts_with('"') {
        serde_json::from_str::<String>(t).map_err(|e| e.to_string())
    } else if t.starts_with('{') {
        Ok(t.to_string())
    } else {
        Err("a policy must be a JSON object or a string holding the policy text".into())
    }
}

fn parse_policy(raw: &RawValue, name: String, errors: &mut Vec<ApiError>) -> Option<Policy> {
    let text = match policy_text(raw) {
        Ok(t) => t,
        Err(m) => {
            errors.push(ApiError {
                policy: Some(name),
                ..ApiError::new(m)
            });
            return None;
        }
    };
    match Policy::parse_with(&text, &Limits::default()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e.diagnostics.into_iter().map(|d| ApiError {
                message: d.message,
                help: d.help,
                code: Some(d.code),
                policy: Some(name.clone()),
                path: None,
                place: Some(of_span(&text, d.span)),
            }));
            None
        }
    }
}

/// Compile a set. Every policy that does not parse is reported, each error with its policy and place.
pub fn compile(input: &str) -> Result<Compiled, Vec<ApiError>> {
    let s: SetInput<'_> = read_input(input)?;
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
            .and_then(|r| parse_request(r.get(), &Limits::default()).ok())
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
    let add = |b: PolicySetBuilder, raw: &RawValue, at: PolicyRef, errors: &mut Vec<ApiError>| {
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
    if let Some(raw) = s.resource_policy {
        b = add(b, raw, PolicyRef::Resource, &mut errors);
    }
    if let Some(raw) = s.permissions_boundary {
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
    if let Some(raw) = s.endpoint_policy {
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
            let path = e.path.replacen("$.request", "$", 1);
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
    pub fn decide_fields_with(
        &self,
        layout: Option<&KeyLayout>,
        fields: &str,
    ) -> Result<Decision, Box<ApiError>> {
        const MAX: usize = 32;
        let mut parts = Fields(Some(fields));
        let (Some(principal), Some(action), Some(resource)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(Box::new(ApiError::new(
                "expected principal, action and resource",
            )));
        };
        let mut context = [("", ValueRef::One("")); MAX];
        let mut n = 0;
        while let Some(key) = parts.next() {
            let Some(value) = parts.next() else {
                return Err(Box::new(ApiError::new(format!(
                    "context key `{key}` has no value"
                ))));
            };
            let Some(slot) = context.get_mut(n) else {
                return Err(Box::new(ApiError::new(format!(
                    "more than {MAX} context keys"
                ))));
            };
            *slot = (key, ValueRef::One(value));
            n += 1;
        }
        let req = RequestRef {
            principal: (!principal.is_empty()).then_some(principal),
            action,
            resource,
            resource_account: None,
            context: context.get(..n).unwrap_or_default(),
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

    /// Decide one request and say why, with the places of the deciding statements and of every condition.
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
                Explained {
                    decision: ex.decision,
                    reasons: ex.reasons,
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
            place: st.map(|s| of_span(text, s.span)),
            conditions: t
                .conditions
                .iter()
                .map(|c: &ConditionTrace| ConditionOut {
                    operator: c.operator.clone(),
                    // The key as the policy writes it (the trace has it in lowercase).
                    key: st
                        .and_then(|s| s.conditions.get(c.index))
                        .map_or_else(|| c.key.clone(), |w| w.key.value.to_string()),
                    held: c.held,
                    why: c.why.clone(),
                    uncertain: c.uncertain,
                    place: st.and_then(|s| s.conditions.get(c.index)).map(|w| {
                        place(text, w.key.span.start as usize, w.values_span.end as usize)
                    }),
                })
                .collect(),
        }
    }
}

/// The fields of a [`Compiled::decide_fields`] text, split at each U+001F byte: a plain byte loop, since the
/// fields are short and `str::split` on a `char` sets up a searcher for each field (which shows in WebAssembly).
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
