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
        bases: Vec::new(),
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
        let mut root = root;
        let bases = rebase_policies(&mut root);
        let mut r = Reader {
            text,
            limits,
            bases,
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
    /// The policies given inline as objects, each by its node's address, with where its text starts in the
    /// case: their nodes' spans are made relative to that (see [`rebase_policies`]).
    bases: Vec<(usize, u32)>,
    /// The lint warnings of the policies read so far.
    lint: std::cell::RefCell<Vec<String>>,
}

/// The node's address, to find it in [`Reader::bases`].
fn address(node: &Node<'_>) -> usize {
    std::ptr::from_ref(node) as usize
}

/// Make the spans of every policy given inline as an object relative to the policy's own text, so that it is
/// built from the case's tree instead of parsed again (`Policy::from_tree`); returns each such node's address and
/// where its text starts in the case. The fields read are those `Reader::case` reads policies from.
fn rebase_policies(root: &mut Node<'_>) -> Vec<(usize, u32)> {
    fn shift(node: &mut Node<'_>, base: u32) {
        node.span.start = node.span.start.saturating_sub(base);
        node.span.end = node.span.end.saturating_sub(base);
        match &mut node.value {
            Value::Array(items) => items.iter_mut().for_each(|n| shift(n, base)),
            Value::Object(members) => {
                for m in members {
                    m.key_span.start = m.key_span.start.saturating_sub(base);
                    m.key_span.end = m.key_span.end.saturating_sub(base);
                    shift(&mut m.value, base);
                }
            }
            _ => {}
        }
    }
    fn policy(node: &mut Node<'_>, bases: &mut Vec<(usize, u32)>) {
        if matches!(node.value, Value::Object(_)) {
            let base = node.span.start;
            shift(node, base);
            bases.push((address(node), base));
        }
    }
    fn items<'n, 'a>(node: &'n mut Node<'a>) -> &'n mut [Node<'a>] {
        match &mut node.value {
            Value::Array(a) => a,
            _ => &mut [],
        }
    }
    let mut bases = Vec::new();
    let Value::Object(members) = &mut root.value else {
        return bases;
    };
    for m in members {
        match m.key.as_ref() {
            "resource_policy" | "permissions_boundary" | "endpoint_policy" => {
                policy(&mut m.value, &mut bases)
            }
            "identity_policies" | "session_policies" => items(&mut m.value)
                .iter_mut()
                .for_each(|p| policy(p, &mut bases)),
            "scps" | "rcps" => {
                for level in items(&mut m.value) {
                    items(level).iter_mut().for_each(|p| policy(p, &mut bases));
                }
            }
            _ => {}
        }
    }
    bases
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
    /// Where an inline policy's text starts in the case, when [`rebase_policies`] made its spans relative to it.
    fn base_of(&self, node: &Node<'_>) -> Option<usize> {
        let at = address(node);
        self.bases
            .iter()
            .find(|(a, _)| *a == at)
            .map(|&(_, base)| base as usize)
    }

    /// Where `node` starts in the case.
    fn start_of(&self, node: &Node<'_>) -> usize {
        self.base_of(node).unwrap_or(node.span.start as usize)
    }

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
        // A case decides once (batch, the playground): the action index would cost more than it saves.
        let set = b.build_lazy().map_err(|e| {
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
    /// record whose place this reader gives). An inline object is built from the case's tree, whose spans
    /// [`rebase_policies`] made relative to its own text, not parsed again.
    fn policy(
        &self,
        node: &Node<'_>,
        path: &str,
        kind: crate::validate::PolicyKind,
    ) -> Result<Policy, CaseError> {
        let rebased = self.base_of(node);
        let text = match (&node.value, rebased) {
            (Value::Object(_), Some(base)) => self
                .text
                .get(base..base + node.span.end as usize)
                .unwrap_or(""),
            (Value::Object(_), None) => self.text.get(node.span.range()).unwrap_or(""),
            (Value::String(s), _) => s.as_ref(),
            (v, _) => return Err(self.err(
                node.span.start as usize,
                path,
                format!(
                    "a policy must be a JSON object or a string holding the policy text, found {}",
                    v.kind_name()
                ),
            )),
        };
        let parsed = match rebased {
            Some(_) => Policy::from_tree(node, text, self.limits),
            None => Policy::parse_with(text, self.limits),
        };
        let policy = parsed.map_err(|e| {
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
            Value::Object(_) => self.err(self.start_of(node) + offset, path, message),
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
        let mut ctx = Context::new();
        for m in members {
            let path = format!("$.request.context[\"{}\"]", m.key);
            if ctx.get(&m.key).is_some() {
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
            ctx.insert(&m.key, value)
                .map_err(|e| self.err(m.value.span.start as usize, &path, e.to_string()))?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
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
        let inline = Case::parse(&case, &Limits::default()).unwrap().lint;
        let quoted = serde_json::to_string(unknown_key).unwrap();
        let as_text = format!(r#"{{"identity_policies":[{P2},{quoted}{tail}"#);
        let from_text = Case::parse(&as_text, &Limits::default()).unwrap().lint;
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
