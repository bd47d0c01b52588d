//! The Case format (docs/FORMATS.md §1): one request with the policies that apply to it, in; one decision record, out.
//!
//! A case is read with the spanned JSON parser, so a policy written inline as a JSON object is parsed from its
//! exact text in the case, and every error names the line and column in the case and the JSON path.

use crate::compile::{EndpointKind, PolicyRef, PolicySet, PolicySetBuilder, ResourceKind};
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
    /// The warnings `lint` gives for the case's policies, each with its place: every record of the case
    /// carries them.
    pub lint: Vec<String>,
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
    if !set.inner.rcps.is_empty() && !crate::decide::rcp_governs(&request.action) {
        warnings.push(format!(
            "resource control policies were not applied: `{}` is not an action of a service that RCPs govern ({}; docs/SEMANTICS.md §9 row 20)",
            request.action,
            crate::decide::rcp_service_list()
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
    let root = json::parse(text, limits).map_err(|e| {
        let (line, column) = e.line_col(text);
        CaseError {
            message: e.message,
            line,
            column,
            path: "$".into(),
        }
    })?;
    Reader {
        text,
        limits,
        lint: std::cell::RefCell::new(Vec::new()),
    }
    .request(&root)
}

impl Case {
    pub fn decide(&self, explain: bool) -> DecisionRecord {
        let Explanation {
            decision,
            reasons,
            statements,
        } = self.set.explain(&self.request);
        let mut warnings = self.lint.clone();
        warnings.extend(self::warnings(&self.set, &self.request, &statements));
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
        let mut r = Reader {
            text,
            limits,
            lint: std::cell::RefCell::new(Vec::new()),
        };
        let id = root.get("id").and_then(|n| match &n.value {
            Value::String(s) => Some(s.to_string()),
            Value::Number(n) => Some((*n).to_string()),
            _ => None,
        });
        r.case(&root).map_err(|e| (id, e))
    }
}

/// The kind `lint` checks a policy in this place as.
fn kind_of(at: PolicyRef) -> crate::validate::PolicyKind {
    use crate::validate::PolicyKind;
    match at {
        PolicyRef::Identity(_) => PolicyKind::Identity,
        PolicyRef::Resource => PolicyKind::Resource,
        PolicyRef::Boundary => PolicyKind::Boundary,
        PolicyRef::Session(_) => PolicyKind::Session,
        PolicyRef::Scp(..) => PolicyKind::Scp,
        PolicyRef::Rcp(..) => PolicyKind::Rcp,
        PolicyRef::Endpoint => PolicyKind::Endpoint,
    }
}

/// What a case's resource policy is, by its request (docs/SEMANTICS.md §4.1): the trust policy of the role that
/// `sts:AssumeRole*` names, the key policy of a KMS key, or else a resource-based policy.
pub fn resource_kind_of(req: &Request) -> ResourceKind {
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

struct Reader<'t> {
    text: &'t str,
    limits: &'t Limits,
    /// The lint warnings of the policies read so far.
    lint: std::cell::RefCell<Vec<String>>,
}

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
        let Some(req) = get("request") else {
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
        // Where each policy sits in the case, for a compile error's place.
        let mut places: Vec<(PolicyRef, String, &Node<'_>)> = Vec::new();
        let mut place = |at: PolicyRef, path: &str, node| {
            places.push((at, path.to_string(), node));
            path.to_string()
        };
        if let Some(n) = get("endpoint_kind") {
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
        if let Some(n) = get("identity_policies") {
            for (i, p) in self.array(n, "$.identity_policies")?.iter().enumerate() {
                let path = place(
                    PolicyRef::Identity(i),
                    &format!("$.identity_policies[{i}]"),
                    p,
                );
                b = b.identity(self.policy(p, &path, kind_of(PolicyRef::Identity(i)))?);
            }
        }
        if let Some(n) = get("resource_policy") {
            let path = place(PolicyRef::Resource, "$.resource_policy", n);
            let kind = match resource_kind {
                ResourceKind::Trust => crate::validate::PolicyKind::Trust,
                ResourceKind::Key => crate::validate::PolicyKind::Key,
                _ => crate::validate::PolicyKind::Resource,
            };
            b = b.resource_as(self.policy(n, &path, kind)?, resource_kind);
        }
        if let Some(n) = get("permissions_boundary") {
            let path = place(PolicyRef::Boundary, "$.permissions_boundary", n);
            b = b.boundary(self.policy(n, &path, kind_of(PolicyRef::Boundary))?);
        }
        if let Some(n) = get("session_policies") {
            for (i, p) in self.array(n, "$.session_policies")?.iter().enumerate() {
                let path = place(
                    PolicyRef::Session(i),
                    &format!("$.session_policies[{i}]"),
                    p,
                );
                b = b.session(self.policy(p, &path, kind_of(PolicyRef::Session(i)))?);
            }
        }
        for (field, rcp) in [("scps", false), ("rcps", true)] {
            if let Some(n) = get(field) {
                for (l, level) in self.array(n, &format!("$.{field}"))?.iter().enumerate() {
                    let path = format!("$.{field}[{l}]");
                    let mut out = Vec::new();
                    for (j, p) in self.array(level, &path)?.iter().enumerate() {
                        let at = if rcp {
                            PolicyRef::Rcp(l, j)
                        } else {
                            PolicyRef::Scp(l, j)
                        };
                        let path = place(at, &format!("{path}[{j}]"), p);
                        out.push(self.policy(p, &path, kind_of(at))?);
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
            let path = place(PolicyRef::Endpoint, "$.endpoint_policy", n);
            b = b.endpoint(self.policy(n, &path, kind_of(PolicyRef::Endpoint))?);
        }
        let set = b.build().map_err(|e| {
            let offset = e.diagnostic.span.start as usize;
            match places.iter().find(|(at, _, _)| *at == e.policy) {
                // The place in the case: the policy's JSON path, and the line and column in the case text
                // (inline) or in the policy's own text (a string), as for a parse error.
                Some((_, path, node)) => self.placed(
                    node,
                    path,
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
            lint: self.lint.take(),
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
    /// The policy at `node`, checked as `lint` checks a policy of its kind: what `lint` reports is kept for the
    /// record's warnings (a policy IAM refuses is refused when the set is built, `crate::refuse`: an error
    /// record whose place this reader gives).
    fn policy(
        &self,
        node: &Node<'_>,
        path: &str,
        kind: crate::validate::PolicyKind,
    ) -> Result<Policy, CaseError> {
        let text = match &node.value {
            Value::Object(_) => self.text.get(node.span.range()).unwrap_or(""),
            Value::String(s) => s.as_ref(),
            v => return Err(self.err(
                node.span.start as usize,
                path,
                format!(
                    "a policy must be a JSON object or a string holding the policy text, found {}",
                    v.kind_name()
                ),
            )),
        };
        let policy = Policy::parse_with(text, self.limits).map_err(|e| {
            let d = e.diagnostics.first();
            let offset = d.map_or(0, |d| d.span.start as usize);
            let message = d.map_or_else(|| "invalid policy".to_string(), |d| d.message.clone());
            self.placed(node, path, text, offset, message)
        })?;
        for d in crate::validate::validate(&policy, kind) {
            let offset = d.span.start as usize;
            let severity = if d.is_error() { "error" } else { "warning" };
            let e = self.placed(node, path, text, offset, d.message);
            self.lint.borrow_mut().push(format!(
                "{}: lint {severity}[{}]: {} (line {}, column {})",
                e.path, d.code, e.message, e.line, e.column
            ));
        }
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
        if !crate::shape::action_ok(&req.action) {
            return Err(self.err(
                get("action").map_or(0, |n| n.span.start as usize),
                "$.request.action",
                format!(
                    "action `{}` must be `service:ActionName` (ASCII letters, digits, `-` and `_`, no wildcard, no space)",
                    req.action.escape_debug()
                ),
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
        if !crate::shape::resource_ok(&req.resource) {
            return Err(self.err(
                get("resource").map_or(0, |n| n.span.start as usize),
                "$.request.resource",
                format!(
                    "resource `{}` must be `*` or an ARN (`arn:partition:service:region:account:resource`)",
                    req.resource.escape_debug()
                ),
            ));
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
