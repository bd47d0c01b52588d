//! The policy AST: every element with its byte span, built from the spanned JSON of [`crate::parse::json`].
//!
//! Building the AST checks the grammar of docs/SEMANTICS.md §1 that any evaluation needs (element names, required
//! elements, value types, operator names, duplicate keys). Everything that is advice rather than structure lives
//! in [`crate::validate`].

pub mod action;
pub mod arn;
mod kind;
pub mod operator;
pub mod pattern;
pub mod text;
pub(crate) mod value;

use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::parse::json::{self, Member, Node, Value};
use crate::span::Span;
use action::ActionPattern;
pub use kind::{PolicyKind, UnknownPolicyKind};
use operator::{Operator, OperatorError};
use std::fmt;
use std::sync::Arc;
pub use text::Text;

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// `value`, written at `span`.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// The policy language version (docs/SEMANTICS.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`, the current version: policy variables are expanded.
    V2012_10_17,
    /// `2008-10-17`: policy variables are literal text.
    V2008_10_17,
}

/// A statement's `Effect` (docs/SEMANTICS.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    /// The statement allows what it matches.
    Allow,
    /// The statement denies what it matches.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A parsed policy document. Cheap to clone (the source text is shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    source: Arc<str>,
    /// The `Version` element, if written.
    pub version: Option<Spanned<Version>>,
    /// The `Id` element, if written.
    pub id: Option<Spanned<String>>,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// The span of the `Statement` value.
    pub statement_span: Span,
    /// The whole document.
    pub span: Span,
}

/// One statement of a policy (docs/SEMANTICS.md §1).
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// 0-based position in the `Statement` array (0 for a single statement object).
    pub index: usize,
    /// The statement object.
    pub span: Span,
    /// The `Sid`, if written.
    pub sid: Option<Spanned<Text>>,
    /// The `Effect`.
    pub effect: Spanned<Effect>,
    /// The `Principal` or `NotPrincipal`, if written.
    pub principal: Option<PrincipalElement>,
    /// The `Action` or `NotAction`.
    pub action: ActionElement,
    /// The `Resource` or `NotResource`, if written (a trust policy has none).
    pub resource: Option<ResourceElement>,
    /// Every condition of the `Condition` block, each operator and key on its own.
    pub conditions: Vec<Condition>,
    /// The span of the `Condition` value, when present.
    pub condition_span: Option<Span>,
}

/// A `Principal` or `NotPrincipal` element (docs/SEMANTICS.md §1.6).
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalElement {
    /// `NotPrincipal`.
    pub negated: bool,
    /// The element's value.
    pub span: Span,
    /// The principals listed.
    pub principal: Principal,
}

/// What a `Principal` element lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// `"*"`.
    Any,
    /// `{"AWS": [...], "Service": [...], ...}`.
    Map(Vec<(Spanned<PrincipalKind>, Vec<Spanned<Text>>)>),
}

/// The kind of a principal in a `Principal` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// `AWS`: accounts, users, roles, sessions.
    Aws,
    /// `Federated`: identity providers.
    Federated,
    /// `Service`: AWS service principals.
    Service,
    /// `CanonicalUser`: S3 canonical user ids.
    CanonicalUser,
}

/// An `Action` or `NotAction` element (docs/SEMANTICS.md §1.7).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionElement {
    /// `NotAction`.
    pub negated: bool,
    /// The element's value.
    pub span: Span,
    /// The action patterns listed.
    pub patterns: Vec<Spanned<ActionPattern>>,
}

/// A `Resource` or `NotResource` element (docs/SEMANTICS.md §1.8).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceElement {
    /// `NotResource`.
    pub negated: bool,
    /// The element's value.
    pub span: Span,
    /// The resource patterns listed, as written.
    pub patterns: Vec<Spanned<Text>>,
}

/// One `Operator: { Key: values }` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition operator.
    pub operator: Spanned<Operator>,
    /// The key as written; compare with [`Condition::key_lower`].
    pub key: Spanned<Text>,
    /// The values to compare with, each with its span.
    pub values: Vec<Spanned<ConditionValue>>,
    /// The span of the value (string or array) as written.
    pub values_span: Span,
}

impl Condition {
    /// The key in lowercase (keys ignore case).
    pub fn key_lower(&self) -> String {
        self.key.value.to_ascii_lowercase()
    }
}

/// A condition value as written: IAM accepts strings, and numbers and booleans unquoted (§1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionValue {
    /// A JSON string.
    String(Text),
    /// A JSON number, as written.
    Number(Text),
    /// A JSON boolean.
    Bool(bool),
}

impl ConditionValue {
    /// The value as text, the way IAM compares it.
    pub fn text(&self) -> &str {
        match self {
            ConditionValue::String(s) | ConditionValue::Number(s) => s,
            ConditionValue::Bool(true) => "true",
            ConditionValue::Bool(false) => "false",
        }
    }

    /// The JSON type, for messages: `string`, `number` or `boolean`.
    pub fn kind(&self) -> &'static str {
        match self {
            ConditionValue::String(_) => "string",
            ConditionValue::Number(_) => "number",
            ConditionValue::Bool(_) => "boolean",
        }
    }
}

/// A policy text that could not be turned into a policy: every structural error found, each with its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct PolicyError {
    /// The text that was parsed, which the diagnostics' spans point into.
    pub source_text: Arc<str>,
    /// Every error found, in order.
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicyError {
    /// The first error's 1-based line and column.
    pub fn line_col(&self) -> (usize, usize) {
        self.diagnostics
            .first()
            .map_or((1, 1), |d| d.span.line_col(&self.source_text))
    }

    /// Every diagnostic rendered rustc-style.
    pub fn render(&self, origin: &str) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.source_text, origin))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        match self.diagnostics.first() {
            Some(d) => write!(f, "{} at line {line}, column {col}", d.message)?,
            None => f.write_str("invalid policy")?,
        }
        if self.diagnostics.len() > 1 {
            write!(f, " (and {} more)", self.diagnostics.len() - 1)?;
        }
        Ok(())
    }
}

impl Policy {
    /// Parse a policy document with the default [`Limits`].
    ///
    /// ```
    /// let p = iamgate::Policy::parse(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#).unwrap();
    /// assert_eq!(p.statements.len(), 1);
    /// let e = iamgate::Policy::parse(r#"{"Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#).unwrap_err();
    /// assert_eq!(e.to_string(), "`Effect` must be `Allow` or `Deny`, found `allow` at line 1, column 25");
    /// ```
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse_with(text, &Limits::default())
    }

    /// [`Policy::parse`] under `limits` instead of the defaults.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Policy, PolicyError> {
        let arena = crate::parse::json::Arena::new();
        let node = json::parse(text, &arena, limits).map_err(|e| {
            let mut d =
                Diagnostic::error("invalid-json", Span::new(e.offset, e.offset + 1), e.message);
            d.help = e.help;
            PolicyError {
                source_text: Arc::from(text),
                diagnostics: vec![d],
            }
        })?;
        Policy::from_tree(&node, text, 0, limits)
    }

    /// [`Policy::parse_with`] of `text` whose JSON tree, `node`, is already parsed (a policy inside a larger
    /// document that holds `text` at byte `base`, the node's spans relative to that document and its strings
    /// borrowed from it): the same policy or errors, spans relative to `text`, without parsing the text again.
    pub(crate) fn from_tree(
        node: &Node<'_>,
        text: &str,
        base: u32,
        limits: &Limits,
    ) -> Result<Policy, PolicyError> {
        let source: Arc<str> = Arc::from(text);
        let fail = |diagnostics| PolicyError {
            source_text: source.clone(),
            diagnostics,
        };
        let mut b = Builder {
            errors: Vec::new(),
            limits,
            text,
            source: &source,
            base,
        };
        let policy = b.policy(node, source.clone());
        match policy {
            Some(p) if b.errors.is_empty() => Ok(p),
            _ => Err(fail(b.errors)),
        }
    }

    /// Parse as far as the text allows, for reporting every problem in one pass: the policy without the statements
    /// that have errors (none when the document itself cannot be read as a policy), and every error found.
    ///
    /// ```
    /// let (p, errors) = iamgate::Policy::parse_partial(r#"{"Version":"2012-10-17","Statement":[
    ///   {"Effect":"Alow","Action":"s3:*","Resource":"*"},
    ///   {"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
    /// assert_eq!(errors.len(), 1);
    /// assert_eq!(p.unwrap().statements.len(), 1);
    /// ```
    pub fn parse_partial(text: &str) -> (Option<Policy>, Vec<Diagnostic>) {
        let limits = Limits::default();
        let source: Arc<str> = Arc::from(text);
        let arena = crate::parse::json::Arena::new();
        let node = match json::parse(text, &arena, &limits) {
            Ok(n) => n,
            Err(e) => {
                let mut d =
                    Diagnostic::error("invalid-json", Span::new(e.offset, e.offset + 1), e.message);
                d.help = e.help;
                return (None, vec![d]);
            }
        };
        let mut b = Builder {
            errors: Vec::new(),
            limits: &limits,
            text,
            source: &source,
            base: 0,
        };
        let policy = b.policy(&node, source.clone());
        (policy, b.errors)
    }

    /// The text this policy was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The source text, shared.
    pub fn source_arc(&self) -> &Arc<str> {
        &self.source
    }

    /// Whether `${...}` policy variables are expanded: only under Version 2012-10-17 (§1.2).
    pub fn variables_enabled(&self) -> bool {
        matches!(
            self.version.as_ref().map(|v| &v.value),
            Some(Version::V2012_10_17)
        )
    }
}

impl std::str::FromStr for Policy {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::parse(s)
    }
}

struct Builder<'l> {
    errors: Vec<Diagnostic>,
    limits: &'l Limits,
    /// The text parsed, which the JSON nodes borrow from, and the policy's copy of it.
    text: &'l str,
    source: &'l Arc<str>,
    /// Where `text` starts in the document whose tree is read: the nodes' spans are relative to that document,
    /// the policy's to `text` (0 when the tree is `text`'s own).
    base: u32,
}

fn kind(node: &Node<'_>) -> &'static str {
    match node.value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const POLICY_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Builder<'_> {
    /// A node's span made relative to the policy's text.
    #[inline]
    fn at(&self, span: Span) -> Span {
        Span {
            start: span.start.saturating_sub(self.base),
            end: span.end.saturating_sub(self.base),
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// `s` as a [`Text`]: shared with the policy's source when `s` is a slice of the parsed text (a string
    /// without escapes, a number), else a copy.
    fn text_of(&self, s: &str) -> Text {
        text_of(self.text, self.source, s)
    }

    /// Check the members of an object: known names only, no duplicates. Returns the members by the index of
    /// their name in `known`.
    fn members<'n, 'a, const N: usize>(
        &mut self,
        members: &'n [Member<'a>],
        known: &[&'static str; N],
        what: &str,
    ) -> [Option<&'n Member<'a>>; N] {
        let mut out: [Option<&'n Member<'a>>; N] = [None; N];
        for m in members {
            let key: &str = m.key;
            let Some(at) = known.iter().position(|k| *k == key) else {
                self.unknown(m, known, what);
                continue;
            };
            match out.get_mut(at) {
                Some(Some(first)) => {
                    let first = self.at(first.key_span);
                    self.duplicate(m, known.get(at).copied().unwrap_or_default(), first, what);
                }
                Some(slot) => *slot = Some(m),
                None => {}
            }
        }
        out
    }

    #[cold]
    fn unknown(&mut self, m: &Member<'_>, known: &[&'static str], what: &str) {
        let mut d = Diagnostic::error(
            "unknown-element",
            self.at(m.key_span),
            format!("unknown {what} element `{}`", m.key),
        );
        d = match known.iter().find(|k| k.eq_ignore_ascii_case(m.key)) {
            Some(k) => d.with_help(format!("element names are case-sensitive; write `{k}`")),
            None => match crate::suggest::nearest(m.key, known.iter().copied()) {
                Some(k) => d.with_help(format!(
                    "did you mean `{k}`? valid elements are {}",
                    list(known)
                )),
                None => d.with_help(format!("valid elements are {}", list(known))),
            },
        };
        self.err(d);
    }

    #[cold]
    fn duplicate(&mut self, m: &Member<'_>, name: &str, first: Span, what: &str) {
        let d = Diagnostic::error(
            "duplicate-key",
            self.at(m.key_span),
            format!("`{name}` appears twice in one {what}"),
        )
        .with_related(first, "first written here")
        .with_help("IAM rejects repeated elements; merge the two");
        self.err(d);
    }

    fn policy(&mut self, node: &Node<'_>, source: Arc<str>) -> Option<Policy> {
        let Value::Object(members) = &node.value else {
            self.err(
                Diagnostic::error(
                    "not-an-object",
                    self.at(node.span),
                    format!("a policy must be a JSON object, found {}", kind(node)),
                )
                .with_help("write `{\"Version\": \"2012-10-17\", \"Statement\": [...]}`"),
            );
            return None;
        };
        let [version, id, stmt] = self.members(members, &POLICY_KEYS, "policy");
        let version = version.and_then(|m| match &m.value.value {
            Value::String(s) if *s == "2012-10-17" => {
                Some(Spanned::new(Version::V2012_10_17, self.at(m.value.span)))
            }
            Value::String(s) if *s == "2008-10-17" => {
                Some(Spanned::new(Version::V2008_10_17, self.at(m.value.span)))
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        "invalid-version",
                        self.at(m.value.span),
                        format!(
                            "`Version` must be `2012-10-17` or `2008-10-17`, found {}",
                            show(&m.value)
                        ),
                    )
                    .with_help("use `2012-10-17`; it is the only version with policy variables"),
                );
                None
            }
        });
        let id = id.and_then(|m| self.string(&m.value, "Id"));
        let Some(stmt) = stmt else {
            self.err(
                Diagnostic::error(
                    "missing-statement",
                    self.at(node.span),
                    "the policy has no `Statement` element",
                )
                .with_help(
                    "add `\"Statement\": [{\"Effect\": ..., \"Action\": ..., \"Resource\": ...}]`",
                ),
            );
            return None;
        };
        let items: &[Node<'_>] = match &stmt.value.value {
            Value::Array(items) => items,
            Value::Object(_) => std::slice::from_ref(&stmt.value),
            _ => {
                self.err(Diagnostic::error(
                    "invalid-statement",
                    self.at(stmt.value.span),
                    format!(
                        "`Statement` must be an object or an array of objects, found {}",
                        kind(&stmt.value)
                    ),
                ));
                return None;
            }
        };
        if items.is_empty() {
            // IAM refuses it when the policy is saved (docs/SEMANTICS.md §1.12).
            self.err(
                Diagnostic::error(
                    "empty-statement",
                    self.at(stmt.value.span),
                    "`Statement` is an empty array, which IAM refuses when the policy is saved",
                )
                .with_help(
                    "add a statement: `{\"Effect\": ..., \"Action\": ..., \"Resource\": ...}`",
                ),
            );
            return None;
        }
        if items.len() > self.limits.max_statements {
            self.err(Diagnostic::error(
                "too-many-statements",
                self.at(stmt.value.span),
                format!(
                    "the policy has {} statements, more than the limit of {}",
                    items.len(),
                    self.limits.max_statements
                ),
            ));
            return None;
        }
        let mut statements = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if let Some(s) = self.statement(item, index) {
                statements.push(s);
            }
        }
        Some(Policy {
            source,
            version,
            id,
            statements,
            statement_span: self.at(stmt.value.span),
            span: self.at(node.span),
        })
    }

    /// [`Builder::string`] as a [`Text`].
    fn text(&mut self, node: &Node<'_>, what: &str) -> Option<Spanned<Text>> {
        match &node.value {
            Value::String(s) => Some(Spanned::new(self.text_of(s), self.at(node.span))),
            _ => {
                self.type_error(node, what);
                None
            }
        }
    }

    #[cold]
    fn type_error(&mut self, node: &Node<'_>, what: &str) {
        self.err(Diagnostic::error(
            "invalid-type",
            self.at(node.span),
            format!("`{what}` must be a string, found {}", kind(node)),
        ));
    }

    fn string(&mut self, node: &Node<'_>, what: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::String(s) => Some(Spanned::new(s.to_string(), self.at(node.span))),
            _ => {
                self.err(Diagnostic::error(
                    "invalid-type",
                    self.at(node.span),
                    format!("`{what}` must be a string, found {}", kind(node)),
                ));
                None
            }
        }
    }

    /// A string or an array of strings (§1.1: a single bare value is a one-element list).
    fn texts(&mut self, node: &Node<'_>, what: &str) -> Vec<Spanned<Text>> {
        let mut out = Vec::with_capacity(items_of(node).len());
        let (text, source) = (self.text, self.source);
        self.each_string(node, what, |s, span| {
            out.push(Spanned::new(text_of(text, source, s), span));
        });
        out
    }

    /// Each string of a string or an array of strings, in order, each checked against the pattern-length limit.
    #[inline]
    fn each_string(&mut self, node: &Node<'_>, what: &str, mut f: impl FnMut(&str, Span)) {
        for item in items_of(node) {
            match &item.value {
                Value::String(s) if s.len() <= self.limits.max_pattern_bytes => {
                    f(s, self.at(item.span))
                }
                Value::String(s) => self.err(Diagnostic::error(
                    "pattern-too-long",
                    self.at(item.span),
                    format!(
                        "a value in `{what}` of {} bytes is longer than the limit of {}",
                        s.len(),
                        self.limits.max_pattern_bytes
                    ),
                )),
                _ => self.err(Diagnostic::error(
                    "invalid-type",
                    self.at(item.span),
                    format!(
                        "`{what}` must be a string or an array of strings, found {}",
                        kind(item)
                    ),
                )),
            }
        }
    }

    fn statement(&mut self, node: &Node<'_>, index: usize) -> Option<Statement> {
        let Value::Object(members) = &node.value else {
            self.err(Diagnostic::error(
                "invalid-statement",
                self.at(node.span),
                format!("a statement must be an object, found {}", kind(node)),
            ));
            return None;
        };
        let errors_before = self.errors.len();
        let [
            sid,
            effect,
            principal,
            not_principal,
            action,
            not_action,
            resource,
            not_resource,
            condition,
        ] = self.members(members, &STATEMENT_KEYS, "statement");
        let sid = sid.and_then(|m| self.text(&m.value, "Sid"));
        let effect = match effect {
            None => {
                self.err(
                    Diagnostic::error(
                        "missing-effect",
                        self.at(node.span),
                        "the statement has no `Effect`",
                    )
                    .with_help("add `\"Effect\": \"Allow\"` or `\"Effect\": \"Deny\"`"),
                );
                None
            }
            Some(m) => match &m.value.value {
                Value::String(s) if *s == "Allow" => {
                    Some(Spanned::new(Effect::Allow, self.at(m.value.span)))
                }
                Value::String(s) if *s == "Deny" => {
                    Some(Spanned::new(Effect::Deny, self.at(m.value.span)))
                }
                _ => {
                    self.err(
                        Diagnostic::error(
                            "invalid-effect",
                            self.at(m.value.span),
                            format!(
                                "`Effect` must be `Allow` or `Deny`, found {}",
                                show(&m.value)
                            ),
                        )
                        .with_help("the value is case-sensitive"),
                    );
                    None
                }
            },
        };
        let principal = match (principal, not_principal) {
            (Some(a), Some(b)) => {
                self.err(
                    Diagnostic::error(
                        "principal-and-notprincipal",
                        self.at(b.key_span),
                        "a statement cannot have both `Principal` and `NotPrincipal`",
                    )
                    .with_related(self.at(a.key_span), "`Principal` is here"),
                );
                None
            }
            (Some(m), None) => self.principal(&m.value, false),
            (None, Some(m)) => self.principal(&m.value, true),
            (None, None) => None,
        };
        let action = match (action, not_action) {
            (Some(a), Some(b)) => {
                self.err(
                    Diagnostic::error(
                        "action-and-notaction",
                        self.at(b.key_span),
                        "a statement cannot have both `Action` and `NotAction`",
                    )
                    .with_related(self.at(a.key_span), "`Action` is here"),
                );
                None
            }
            (Some(m), None) => Some(self.actions(&m.value, false)),
            (None, Some(m)) => Some(self.actions(&m.value, true)),
            (None, None) => {
                self.err(
                    Diagnostic::error(
                        "missing-action",
                        self.at(node.span),
                        "the statement has no `Action` or `NotAction`",
                    )
                    .with_help(
                        "add for example `\"Action\": \"sagemaker:CreatePresignedDomainUrl\"`",
                    ),
                );
                None
            }
        };
        let resource = match (resource, not_resource) {
            (Some(a), Some(b)) => {
                self.err(
                    Diagnostic::error(
                        "resource-and-notresource",
                        self.at(b.key_span),
                        "a statement cannot have both `Resource` and `NotResource`",
                    )
                    .with_related(self.at(a.key_span), "`Resource` is here"),
                );
                None
            }
            (Some(m), None) => Some(ResourceElement {
                negated: false,
                span: self.at(m.value.span),
                patterns: self.resources(&m.value, "Resource"),
            }),
            (None, Some(m)) => Some(ResourceElement {
                negated: true,
                span: self.at(m.value.span),
                patterns: self.resources(&m.value, "NotResource"),
            }),
            (None, None) => None,
        };
        let (conditions, condition_span) = match condition {
            Some(m) => (self.conditions(&m.value), Some(self.at(m.value.span))),
            None => (Vec::new(), None),
        };
        if self.errors.len() > errors_before {
            return None;
        }
        Some(Statement {
            index,
            span: self.at(node.span),
            sid,
            effect: effect?,
            principal,
            action: action?,
            resource,
            conditions,
            condition_span,
        })
    }

    fn principal(&mut self, node: &Node<'_>, negated: bool) -> Option<PrincipalElement> {
        let name = if negated { "NotPrincipal" } else { "Principal" };
        let principal = match &node.value {
            Value::String(s) if *s == "*" => Principal::Any,
            Value::Object(members) => {
                const KINDS: [&str; 4] = ["AWS", "Federated", "Service", "CanonicalUser"];
                let kinds = self.members(members, &KINDS, name);
                let mut map = Vec::with_capacity(kinds.iter().flatten().count());
                // In the order written: each member that was kept.
                for m in *members {
                    let Some(at) = kinds
                        .iter()
                        .position(|k| k.is_some_and(|k| std::ptr::eq(k, m)))
                    else {
                        continue;
                    };
                    let kind = match at {
                        0 => PrincipalKind::Aws,
                        1 => PrincipalKind::Federated,
                        2 => PrincipalKind::Service,
                        _ => PrincipalKind::CanonicalUser,
                    };
                    let values = self.texts(&m.value, name);
                    map.push((Spanned::new(kind, self.at(m.key_span)), values));
                }
                Principal::Map(map)
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        "invalid-principal",
                        self.at(node.span),
                        format!(
                            "`{name}` must be `\"*\"` or an object, found {}",
                            show(node)
                        ),
                    )
                    .with_help("write `\"*\"` or `{\"AWS\": \"arn:aws:iam::111122223333:root\"}`"),
                );
                return None;
            }
        };
        Some(PrincipalElement {
            negated,
            span: self.at(node.span),
            principal,
        })
    }

    /// The patterns of `Resource`/`NotResource`: IAM refuses an empty list and an empty string when the policy
    /// is saved (docs/SEMANTICS.md §1.12).
    fn resources(&mut self, node: &Node<'_>, name: &str) -> Vec<Spanned<Text>> {
        if matches!(&node.value, Value::Array(a) if a.is_empty()) {
            self.err(
                Diagnostic::error(
                    "empty-resource",
                    self.at(node.span),
                    format!("`{name}` is an empty array, which IAM refuses (\"Policy statement must contain resources\")"),
                )
                .with_help("list the ARNs the statement is about, or write `\"*\"`"),
            );
        }
        let patterns = self.texts(node, name);
        for p in &patterns {
            if p.value.trim().is_empty() {
                self.err(
                    Diagnostic::error(
                        "empty-resource",
                        p.span,
                        format!("a value in `{name}` is empty, which IAM refuses (\"Resource must be in ARN format or '*'\")"),
                    )
                    .with_help("write an ARN, or `\"*\"` for every resource"),
                );
            }
        }
        patterns
    }

    fn actions(&mut self, node: &Node<'_>, negated: bool) -> ActionElement {
        let name = if negated { "NotAction" } else { "Action" };
        if matches!(&node.value, Value::Array(a) if a.is_empty()) {
            self.err(
                Diagnostic::error(
                    "empty-action",
                    self.at(node.span),
                    format!("`{name}` is an empty array, which IAM refuses (\"Policy statement must contain actions\")"),
                )
                .with_help("list the actions, for example `\"sagemaker:CreatePresignedDomainUrl\"`, or write `\"*\"`"),
            );
        }
        let mut patterns = Vec::with_capacity(items_of(node).len());
        let mut bad = Vec::new();
        let (text, source) = (self.text, self.source);
        self.each_string(node, name, |s, span| {
            match ActionPattern::from_text(s, || text_of(text, source, s)) {
                Ok(p) => patterns.push(Spanned::new(p, span)),
                Err(e) => bad.push((span, e)),
            }
        });
        for (span, e) in bad {
            self.err(Diagnostic::error("invalid-action", span, e.to_string()));
        }
        ActionElement {
            negated,
            span: self.at(node.span),
            patterns,
        }
    }

    fn conditions(&mut self, node: &Node<'_>) -> Vec<Condition> {
        let Value::Object(ops) = &node.value else {
            self.err(
                Diagnostic::error(
                    "invalid-condition",
                    self.at(node.span),
                    format!("`Condition` must be an object, found {}", kind(node)),
                )
                .with_help("write `{\"StringEquals\": {\"aws:SourceVpce\": \"vpce-...\"}}`"),
            );
            return Vec::new();
        };
        // One condition for each key under each operator, as written (fewer when some are refused).
        let mut out = Vec::with_capacity(
            ops.iter()
                .map(|op| op.value.as_object().map_or(0, <[_]>::len))
                .sum(),
        );
        let op_repeats = first_repeats(ops);
        for (i, op) in ops.iter().enumerate() {
            // The first of the earlier members with this name (never itself a repeat).
            if let Some(first) = op_repeats.of(i) {
                self.err(
                    Diagnostic::error(
                        "duplicate-key",
                        self.at(op.key_span),
                        format!(
                            "condition operator `{}` appears twice in one `Condition`",
                            op.key
                        ),
                    )
                    .with_related(self.at(first.key_span), "first written here")
                    .with_help("put all keys for one operator in one block"),
                );
                continue;
            }
            let operator = match op.key.parse::<Operator>() {
                Ok(o) => o,
                Err(e) => {
                    let help = match &e {
                        OperatorError::WrongCase { expected, .. } => format!("write `{expected}`"),
                        OperatorError::NullIfExists => {
                            "`Null` already tests for presence; drop `IfExists`".to_string()
                        }
                        OperatorError::Unknown(given) => {
                            let hint = crate::policy::operator::suggest(given)
                                .map(|s| format!("did you mean `{s}`? "))
                                .unwrap_or_default();
                            hint + "valid operators are String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress, NotIpAddress, Arn* and Null, optionally with `ForAllValues:`/`ForAnyValue:` and `IfExists`"
                        }
                    };
                    self.err(
                        Diagnostic::error("invalid-operator", self.at(op.key_span), e.to_string())
                            .with_help(help),
                    );
                    continue;
                }
            };
            let Value::Object(keys) = &op.value.value else {
                self.err(Diagnostic::error(
                    "invalid-condition",
                    self.at(op.value.span),
                    format!(
                        "the block of `{}` must be an object of condition keys, found {}",
                        op.key,
                        kind(&op.value)
                    ),
                ));
                continue;
            };
            let key_repeats = first_repeats(keys);
            for (j, k) in keys.iter().enumerate() {
                // An exact repeat is a repeated JSON key; keys that differ only in case are two conditions
                // (ANDed), which `validate` reports (docs/SEMANTICS.md §1.9).
                if let Some(first) = key_repeats.of(j) {
                    self.err(
                        Diagnostic::error(
                            "duplicate-key",
                            self.at(k.key_span),
                            format!("condition key `{}` appears twice under `{}`", k.key, op.key),
                        )
                        .with_related(self.at(first.key_span), "first written here")
                        .with_help("list all values in one array"),
                    );
                    continue;
                }
                let items = items_of(&k.value);
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    let v = match &item.value {
                        // A slice of the text is shared with it; an unescaped string is copied.
                        Value::String(s) => ConditionValue::String(self.text_of(s)),
                        Value::Number(n) => ConditionValue::Number(self.text_of(n)),
                        Value::Bool(b) => ConditionValue::Bool(*b),
                        _ => {
                            self.err(Diagnostic::error(
                                "invalid-condition-value",
                                self.at(item.span),
                                format!(
                                    "a condition value must be a string, number or boolean, found {}",
                                    kind(item)
                                ),
                            ));
                            continue;
                        }
                    };
                    if v.text().len() > self.limits.max_pattern_bytes {
                        self.err(Diagnostic::error(
                            "pattern-too-long",
                            self.at(item.span),
                            format!(
                                "a condition value of {} bytes is longer than the limit of {}",
                                v.text().len(),
                                self.limits.max_pattern_bytes
                            ),
                        ));
                        continue;
                    }
                    values.push(Spanned::new(v, self.at(item.span)));
                }
                out.push(Condition {
                    operator: Spanned::new(operator, self.at(op.key_span)),
                    key: Spanned::new(self.text_of(k.key), self.at(k.key_span)),
                    values,
                    values_span: self.at(k.value.span),
                });
            }
        }
        out
    }
}

/// `s` as a [`Text`]: shared with `source` (the policy's copy of `text`) when `s` is a slice of `text`, else a
/// copy.
fn text_of(text: &str, source: &Arc<str>, s: &str) -> Text {
    let at = (s.as_ptr() as usize).checked_sub(text.as_ptr() as usize);
    at.filter(|at| at.saturating_add(s.len()) <= text.len())
        .and_then(|at| Text::shared(source, at, at + s.len()))
        .unwrap_or_else(|| Text::from(s))
}

/// The items of an array, or the node alone (§1.1: a single bare value is a one-element list).
#[inline]
fn items_of<'n, 'a>(node: &'n Node<'a>) -> &'n [Node<'a>] {
    match &node.value {
        Value::Array(a) => a,
        _ => std::slice::from_ref(node),
    }
}

fn show(node: &Node<'_>) -> String {
    match &node.value {
        Value::String(s) => format!("`{s}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::Bool(b) => format!("`{b}`"),
        _ => kind(node).to_string(),
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// For each member of an object, the first earlier member with the same name (`None` for a first use): see
/// [`Repeats::of`].
fn first_repeats<'m, 'a>(members: &'m [Member<'a>]) -> Repeats<'m, 'a> {
    if members.len() <= 16 {
        return Repeats::Few(members);
    }
    let mut first: crate::map::Map<&str, &'m Member<'a>> =
        crate::map::Map::with_capacity(members.len());
    Repeats::Many(
        members
            .iter()
            .map(|m| crate::map::first_or_insert(&mut first, m.key, m).map(|e| *e))
            .collect(),
    )
}

/// The earlier members with the same name as each member of an object. Linear in the members through a hash map
/// (comparing each with all earlier ones was quadratic: 80,000 condition keys under one operator took seconds); a
/// short object is compared directly, when asked, with nothing allocated.
enum Repeats<'m, 'a> {
    /// At most 16 members, compared when asked.
    Few(&'m [Member<'a>]),
    /// The answer for each member, computed through a hash map.
    Many(Vec<Option<&'m Member<'a>>>),
}

impl<'m, 'a> Repeats<'m, 'a> {
    /// The first member before the `i`-th with the same name, if any.
    fn of(&self, i: usize) -> Option<&'m Member<'a>> {
        match self {
            Repeats::Few(members) => {
                let m = members.get(i)?;
                members.get(..i)?.iter().find(|e| e.key == m.key)
            }
            Repeats::Many(first) => first.get(i).copied().flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_shared_or_copied_read_the_same() {
        let text = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b\/k","arn:aws:s3:::é"],
            "Condition":{"NumericLessThan":{"k":[1.5e3,"x\"y",true,""]}}}}"#;
        let p = Policy::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let st = &p.statements[0];
        let r: Vec<&str> = st
            .resource
            .iter()
            .flat_map(|r| r.patterns.iter().map(|p| &*p.value))
            .collect();
        assert_eq!(r, ["arn:aws:s3:::b/k", "arn:aws:s3:::é"]);
        let v: Vec<&str> = st.conditions[0]
            .values
            .iter()
            .map(|v| v.value.text())
            .collect();
        assert_eq!(v, ["1.5e3", "x\"y", "true", ""]);
        assert_eq!(st.conditions[0].values[0].value.kind(), "number");
    }
}
