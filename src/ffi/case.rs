//! The Case format (docs/FORMATS.md §1): one request with the policies that apply to it, in; one decision record, out.
//!
//! A case is read with the spanned JSON parser, so a policy written inline as a JSON object is parsed from its
//! exact text in the case, and every error names the line and column in the case and the JSON path.

use crate::compile::{PolicySet, PolicySetBuilder};
use crate::context::{Context, ContextValue, Request, Scalar};
use crate::decide::{Decision, Explanation, Reason, StatementTrace};
use crate::limits::Limits;
use crate::parse::json::{self, Member, Node, Value};
use crate::policy::Policy;
use crate::policy::value::parse_number;
use crate::span::line_col;
use serde::Serialize;

/// Why a case could not be decided: a message, its place in the case text, and the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message} (line {line}, column {column})")]
pub struct CaseError {
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// JSON path of the offending value, e.g. `identity_policies[0].Statement[1].Effect`.
    pub path: String,
}

/// What a case expects (the corpus's test data; ignored when deciding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
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
    pub id: Option<String>,
    pub set: PolicySet,
    pub request: Request,
    pub expect: Option<Expectation>,
}

/// One line of output: the decision, or the error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DecisionRecord {
    Decided {
        id: Option<String>,
        decision: Decision,
        reasons: Vec<Reason>,
        warnings: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        statements: Option<Vec<StatementTrace>>,
    },
    Failed {
        id: Option<String>,
        error: CaseError,
    },
}

impl DecisionRecord {
    pub fn is_error(&self) -> bool {
        matches!(self, DecisionRecord::Failed { .. })
    }

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
/// let rec = iamgate::ffi::decide_case(line, false);
/// assert_eq!(serde_json::to_string(&rec).unwrap(),
///   r#"{"id":"c1","decision":"Allow","reasons":[{"policy":"identity[0]","sid":null,"statement":0,"effect":"Allow"}],"warnings":[]}"#);
/// ```
pub fn decide_case(text: &str, explain: bool) -> DecisionRecord {
    match Case::parse(text, &Limits::default()) {
        Ok(case) => case.decide(explain),
        Err((id, error)) => DecisionRecord::Failed { id, error },
    }
}

impl Case {
    pub fn decide(&self, explain: bool) -> DecisionRecord {
        let Explanation {
            decision,
            reasons,
            statements,
        } = self.set.explain(&self.request);
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
        if !self.set.inner.rcps.is_empty() && !crate::decide::rcp_governs(&self.request.action) {
            warnings.push(format!(
                "resource control policies were not applied: `{}` is not an action of a service that RCPs govern (s3, sts, kms, sqs, secretsmanager; docs/SEMANTICS.md §4.1, uncertain)",
                self.request.action
            ));
        }
        DecisionRecord::Decided {
            id: self.id.clone(),
            decision,
            reasons,
            warnings,
            statements: explain.then_some(statements),
        }
    }

    /// Parse a case. On error, the case's `id` (when it could be read) and the error.
    pub fn parse(text: &str, limits: &Limits) -> Result<Case, (Option<String>, CaseError)> {
        let root = json::parse(text, limits).map_err(|e| {
            let (line, column) = e.line_col(text);
            (
                None,
                CaseError {
                    message: e.message,
                    line,
                    column,
                    path: "$".into(),
                },
            )
        })?;
        let mut r = Reader { text, limits };
        let id = root.get("id").and_then(|n| match &n.value {
            Value::String(s) => Some(s.to_string()),
            Value::Number(n) => Some((*n).to_string()),
            _ => None,
        });
        r.case(&root).map_err(|e| (id, e))
    }
}

struct Reader<'t> {
    text: &'t str,
    limits: &'t Limits,
}

const CASE_FIELDS: [&str; 13] = [
    "id",
    "identity_policies",
    "resource_policy",
    "permissions_boundary",
    "session_policies",
    "scps",
    "rcps",
    "endpoint_policy",
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
        let (line, column) = line_col(self.text, node_offset);
        CaseError {
            message: message.into(),
            line,
            column,
            path: path.to_string(),
        }
    }

    fn object<'n, 'a>(
        &self,
        node: &'n Node<'a>,
        path: &str,
        fields: &[&str],
    ) -> Result<&'n [Member<'a>], CaseError> {
        let Value::Object(members) = &node.value else {
            return Err(self.err(
                node.span.start as usize,
                path,
                format!("expected an object, found {}", node.value.kind_name()),
            ));
        };
        let mut seen: Vec<&str> = Vec::new();
        for m in members {
            if !fields.contains(&m.key.as_ref()) {
                return Err(self.err(
                    m.key_span.start as usize,
                    &format!("{path}.{}", m.key),
                    format!(
                        "unknown field `{}`; valid fields are {}",
                        m.key,
                        fields.join(", ")
                    ),
                ));
            }
            if seen.contains(&m.key.as_ref()) {
                return Err(self.err(
                    m.key_span.start as usize,
                    &format!("{path}.{}", m.key),
                    format!("field `{}` appears twice", m.key),
                ));
            }
            seen.push(&m.key);
        }
        Ok(members)
    }

    fn case(&mut self, root: &Node<'_>) -> Result<Case, CaseError> {
        let members = self.object(root, "$", &CASE_FIELDS)?;
        let get = |k: &str| members.iter().find(|m| m.key == k).map(|m| &m.value);
        let mut b = PolicySetBuilder::default();
        if let Some(n) = get("identity_policies") {
            for (i, p) in self.array(n, "$.identity_policies")?.iter().enumerate() {
                b = b.identity(self.policy(p, &format!("$.identity_policies[{i}]"))?);
            }
        }
        if let Some(n) = get("resource_policy") {
            b = b.resource(self.policy(n, "$.resource_policy")?);
        }
        if let Some(n) = get("permissions_boundary") {
            b = b.boundary(self.policy(n, "$.permissions_boundary")?);
        }
        if let Some(n) = get("session_policies") {
            for (i, p) in self.array(n, "$.session_policies")?.iter().enumerate() {
                b = b.session(self.policy(p, &format!("$.session_policies[{i}]"))?);
            }
        }
        for (field, rcp) in [("scps", false), ("rcps", true)] {
            if let Some(n) = get(field) {
                for (l, level) in self.array(n, &format!("$.{field}"))?.iter().enumerate() {
                    let path = format!("$.{field}[{l}]");
                    let mut out = Vec::new();
                    for (j, p) in self.array(level, &path)?.iter().enumerate() {
                        out.push(self.policy(p, &format!("{path}[{j}]"))?);
                    }
                    b = if rcp {
                        b.rcp_level(out)
                    } else {
                        b.scp_level(out)
                    };
                }
            }
        }
        if let Some(n) = get("endpoint_policy") {
            b = b.endpoint(self.policy(n, "$.endpoint_policy")?);
        }
        let set = b.build().map_err(|e| {
            let (line, column) = line_col(&e.source_text, e.diagnostic.span.start as usize);
            CaseError {
                message: e.diagnostic.message.clone(),
                line,
                column,
                path: format!("{}", e.policy),
            }
        })?;
        let Some(req) = get("request") else {
            return Err(self.err(
                root.span.start as usize,
                "$.request",
                "the case has no `request`",
            ));
        };
        let request = self.request(req)?;
        let expect = match get("expect") {
            Some(e) => Some(self.expect(e)?),
            None => None,
        };
        let id = get("id").and_then(|n| match &n.value {
            Value::String(s) => Some(s.to_string()),
            Value::Number(n) => Some((*n).to_string()),
            _ => None,
        });
        Ok(Case {
            id,
            set,
            request,
            expect,
        })
    }

    fn array<'n, 'a>(&self, node: &'n Node<'a>, path: &str) -> Result<&'n [Node<'a>], CaseError> {
        match &node.value {
            Value::Array(a) => Ok(a),
            v => Err(self.err(
                node.span.start as usize,
                path,
                format!("expected an array, found {}", v.kind_name()),
            )),
        }
    }

    /// A policy given inline as an object (parsed from its exact text) or as a string holding the policy text.
    fn policy(&self, node: &Node<'_>, path: &str) -> Result<Policy, CaseError> {
        let (text, base) = match &node.value {
            Value::Object(_) => (
                self.text.get(node.span.range()).unwrap_or(""),
                Some(node.span.start as usize),
            ),
            Value::String(s) => (s.as_ref(), None),
            v => return Err(self.err(
                node.span.start as usize,
                path,
                format!(
                    "a policy must be a JSON object or a string holding the policy text, found {}",
                    v.kind_name()
                ),
            )),
        };
        Policy::parse_with(text, self.limits).map_err(|e| {
            let d = e.diagnostics.first();
            let offset = d.map_or(0, |d| d.span.start as usize);
            let message = d.map_or_else(|| "invalid policy".to_string(), |d| d.message.clone());
            match base {
                // Inline: the place in the case text.
                Some(base) => self.err(base + offset, path, message),
                // A string: the place within the policy text.
                None => {
                    let (line, column) = line_col(text, offset);
                    CaseError {
                        message: format!("{message} (in the policy text)"),
                        line,
                        column,
                        path: path.to_string(),
                    }
                }
            }
        })
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

    fn request(&self, node: &Node<'_>) -> Result<Request, CaseError> {
        let members = self.object(node, "$.request", &REQUEST_FIELDS)?;
        let get = |k: &str| members.iter().find(|m| m.key == k).map(|m| &m.value);
        let mut req = Request::default();
        match get("action") {
            Some(n) => req.action = self.string(n, "$.request.action")?,
            None => {
                return Err(self.err(
                    node.span.start as usize,
                    "$.request.action",
                    "the request has no `action`",
                ));
            }
        }
        if !req.action.contains(':') {
            return Err(self.err(
                get("action").map_or(0, |n| n.span.start as usize),
                "$.request.action",
                format!("action `{}` must be `service:ActionName`", req.action),
            ));
        }
        match get("resource") {
            Some(n) => req.resource = self.string(n, "$.request.resource")?,
            None => {
                return Err(self.err(
                    node.span.start as usize,
                    "$.request.resource",
                    "the request has no `resource`",
                ));
            }
        }
        if let Some(n) = get("principal") {
            req.principal = Some(self.string(n, "$.request.principal")?);
        }
        if let Some(n) = get("resource_account") {
            req.resource_account = Some(self.string(n, "$.request.resource_account")?);
        }
        if let Some(n) = get("context") {
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
        let mut seen = std::collections::HashSet::with_capacity(members.len());
        let mut pairs = Vec::with_capacity(members.len());
        for m in members {
            let path = format!("$.request.context[\"{}\"]", m.key);
            if !seen.insert(m.key.to_ascii_lowercase()) {
                return Err(self.err(
                    m.key_span.start as usize,
                    &path,
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
                        v.push(self.scalar(it, &format!("{path}[{i}]"))?);
                    }
                    ContextValue::Many(v)
                }
                _ => ContextValue::One(self.scalar(&m.value, &path)?),
            };
            pairs.push((m, value));
        }
        let mut ctx = Context::new();
        ctx.extend(pairs.into_iter().map(|(m, v)| (&*m.key, v)))
            .map_err(|e| {
                // Keys are unique here, so the refused one names its member.
                let at = members.iter().find(|m| m.key == e.key);
                let start = at.map_or(node.span.start, |m| m.value.span.start) as usize;
                let path = format!("$.request.context[\"{}\"]", e.key);
                self.err(start, &path, e.to_string())
            })?;
        Ok(ctx)
    }

    fn scalar(&self, node: &Node<'_>, path: &str) -> Result<Scalar, CaseError> {
        Ok(match &node.value {
            Value::String(s) => Scalar::String(s.to_string()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match parse_number(n) {
                Some(x) => Scalar::Number(x, (*n).to_string()),
                None => {
                    return Err(self.err(
                        node.span.start as usize,
                        path,
                        format!("number `{n}` is out of range"),
                    ));
                }
            },
            v => return Err(self.err(
                node.span.start as usize,
                path,
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
