//! A policy bundle: everything that decides the requests an embedding (a proxy, a gateway) checks, in one JSON
//! document, compiled once and routed per request by the VPC endpoint the request came through.
//!
//! ```json
//! {"identity_policies": [POLICY, ...],
//!  "permissions_boundary": POLICY,
//!  "session_policies": [POLICY, ...],
//!  "scps": [[POLICY, ...], ...],
//!  "rcps": [[POLICY, ...], ...],
//!  "resource_policy": POLICY,
//!  "endpoint_policies": {"vpce-0api0000000000001": POLICY, ...},
//!  "unlisted_endpoints": "default-policy",
//!  "description": "free text"}
//! ```
//!
//! POLICY is a policy document as a JSON object or as a string holding the policy text, as in a case
//! (docs/embedding.md). Every field is optional; `scps` and `rcps` are lists of levels, each a list of policies.
//!
//! Routing, by the request's `aws:SourceVpce`:
//! - absent (the request came by the public endpoint): no endpoint policy applies;
//! - an id listed in `endpoint_policies`: that policy applies;
//! - any other id: as AWS does, an endpoint created without a policy has the default policy, which allows full
//!   access (<https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html>), so no endpoint
//!   policy restricts the request (`"unlisted_endpoints": "default-policy"`, the default). A bundle that lists
//!   every endpoint it trusts can say `"unlisted_endpoints": "deny"` instead: a request through any other
//!   endpoint is then denied (`ExplicitDeny` by the statement `UnlistedEndpoint` of the endpoint policy, which
//!   the bundle supplies: `Deny` everything to everyone).
//!
//! ```
//! use iamgate::bundle::Bundle;
//! use iamgate::{Decision, Limits, RequestRef};
//! let text = r#"{"identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!     "Action": "s3:GetObject", "Resource": "*"}]}],
//!   "endpoint_policies": {"vpce-1a2b3c4d": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
//!     "Principal": "*", "Action": "*", "Resource": "*"}]}}}"#;
//! let engine = Bundle::parse(text, &Limits::default()).unwrap().compile().unwrap();
//! let public = RequestRef { action: "s3:GetObject", resource: "arn:aws:s3:::b/k", ..RequestRef::default() };
//! assert_eq!(engine.decide_ref(&public), Ok(Decision::Allow));
//! let via = RequestRef { context: &[("aws:SourceVpce", "vpce-1a2b3c4d".into())], ..public };
//! assert_eq!(engine.decide_ref(&via), Ok(Decision::ExplicitDeny));
//! ```

use crate::compile::{
    CompileError, CompiledPolicy, EndpointKind, PolicyRef, PolicySet, PolicySetBuilder,
    compile_endpoint_policy,
};
use crate::context::{ContextError, RequestRef, ValueRef};
use crate::decide::{Decision, Explanation, KeyLayout, Reason};
use crate::limits::Limits;
use crate::parse::json::{self, Member, Node, Value};
use crate::parse::placed;
use crate::policy::Policy;
use crate::span::line_col;
use serde::Serialize;

/// docs/embedding.md, its Rust examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/embedding.md")]
pub struct EmbeddingDoc;

/// Why a bundle could not be read or compiled: a message, its place in the bundle text (1-based line, column in
/// characters), and the JSON path (e.g. `$.endpoint_policies["vpce-1"].Statement[0].Effect`). The same error as a
/// Case's ([`crate::parse::placed::PlacedError`]).
pub type BundleError = crate::parse::placed::PlacedError;

/// What a request through an endpoint that the bundle does not list meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnlistedEndpoints {
    /// The default endpoint policy, which allows full access: no endpoint policy restricts the request.
    #[default]
    DefaultPolicy,
    /// No endpoint policy allows the request: it is denied.
    Deny,
}

/// A parsed bundle: policies, not yet compiled.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// `identity_policies`: the principal's identity-based policies, named `identity[i]` in order.
    pub identity: Vec<Policy>,
    /// `permissions_boundary`: when given, it must allow every request too.
    pub boundary: Option<Policy>,
    /// `session_policies`: when any is given, one must allow; named `session[i]`.
    pub session: Vec<Policy>,
    /// `scps`: levels, root first, then each OU, then the account; every level must allow.
    pub scps: Vec<Vec<Policy>>,
    /// `rcps`: levels as for `scps`; each also carries AWS's allow-all, so these can only deny.
    pub rcps: Vec<Vec<Policy>>,
    /// `resource_policy`: the resource-based policy of the resource the proxy guards.
    pub resource: Option<Policy>,
    /// Endpoint policies by endpoint id, sorted by id (ids are unique).
    pub endpoints: Vec<(String, Policy)>,
    /// `unlisted_endpoints`: what a request through an endpoint not in `endpoints` meets (default: AWS's
    /// full-access endpoint policy).
    pub unlisted_endpoints: UnlistedEndpoints,
    /// Where each policy sits in the bundle text, to place the errors found when compiling.
    places: Vec<(Origin, Place)>,
}

/// Which policy of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Core(PolicyRef),
    Endpoint(String),
}

/// Where a policy's text sits: its JSON path and, when written inline, the line and column where it starts.
#[derive(Debug, Clone)]
struct Place {
    path: String,
    inline_at: Option<(usize, usize)>,
}

impl Place {
    /// The error for a diagnostic at `offset` in the policy's own text.
    fn error(&self, policy_text: &str, offset: usize, message: &str) -> BundleError {
        let (l, c) = line_col(policy_text, offset);
        match self.inline_at {
            // Inline: the policy text is a slice of the bundle, so its place shifts by where it starts.
            Some((l0, c0)) => BundleError {
                message: message.to_string(),
                line: l0 + l - 1,
                column: if l == 1 { c0 + c - 1 } else { c },
                path: self.path.clone(),
            },
            None => BundleError {
                message: format!("{message} (at line {l}, column {c} of the policy text)"),
                line: 0,
                column: 0,
                path: self.path.clone(),
            },
        }
    }
}

const FIELDS: [&str; 9] = [
    "identity_policies",
    "permissions_boundary",
    "session_policies",
    "scps",
    "rcps",
    "resource_policy",
    "endpoint_policies",
    "unlisted_endpoints",
    "description",
];

impl Bundle {
    /// Read a bundle. Every error names its line, column and JSON path. Each policy is held to `limits`, and so
    /// is the bundle's JSON (its size and nesting).
    ///
    /// ```
    /// use iamgate::bundle::Bundle;
    /// let e = Bundle::parse("{\n  \"scps\": [{}]\n}", &iamgate::Limits::default()).unwrap_err();
    /// assert_eq!((e.line, e.column, e.path.as_str()), (2, 12, "$.scps[0]"));
    /// assert_eq!(e.message, "expected an array, found object");
    /// ```
    pub fn parse(text: &str, limits: &Limits) -> Result<Bundle, BundleError> {
        // A bundle holds many policies: allow it as many bytes as the policies it may hold, at one more level.
        let outer = Limits {
            max_document_bytes: limits.max_document_bytes.saturating_mul(BUNDLE_POLICIES),
            max_depth: limits.max_depth.saturating_add(3),
            ..*limits
        };
        let arena = crate::parse::json::Arena::new();
        let root = json::parse(text, &arena, &outer).map_err(|e| BundleError::not_json(text, e))?;
        Reader {
            text,
            limits,
            bundle: Bundle::default(),
        }
        .read(&root)
    }

    /// Compile every policy into the sets the requests are decided by: one for the public path and one per
    /// listed endpoint. A policy that cannot be used where it sits (a `Principal` in an identity policy, ...)
    /// is an error placed in the bundle text.
    pub fn compile(&self) -> Result<CompiledBundle, BundleError> {
        let mut b = PolicySetBuilder::default();
        for p in &self.identity {
            b = b.identity(p.clone());
        }
        if let Some(p) = &self.boundary {
            b = b.boundary(p.clone());
        }
        for p in &self.session {
            b = b.session(p.clone());
        }
        for level in &self.scps {
            b = b.scp_level(level.iter().cloned());
        }
        for level in &self.rcps {
            b = b.rcp_level(level.iter().cloned());
        }
        if let Some(p) = &self.resource {
            b = b.resource(p.clone());
        }
        let public = b
            .build()
            .map_err(|e| self.compile_error(&Origin::Core(e.policy), &e))?;
        let mut endpoints = Vec::with_capacity(self.endpoints.len());
        for (id, p) in &self.endpoints {
            let compiled = compile_endpoint_policy(p.clone())
                .map_err(|e| self.compile_error(&Origin::Endpoint(id.clone()), &e))?;
            endpoints.push((
                id.clone().into_boxed_str(),
                Routed::new(
                    through(&public, compiled)
                        .map_err(|e| self.compile_error(&Origin::Endpoint(id.clone()), &e))?,
                ),
            ));
        }
        let unlisted = match self.unlisted_endpoints {
            UnlistedEndpoints::DefaultPolicy => None,
            UnlistedEndpoints::Deny => {
                let deny_all = Policy::parse(UNLISTED_DENY).map_err(|e| BundleError {
                    message: e.to_string(),
                    line: 0,
                    column: 0,
                    path: "$.unlisted_endpoints".into(),
                })?;
                let compiled = compile_endpoint_policy(deny_all).map_err(|e| BundleError {
                    message: e.to_string(),
                    line: 0,
                    column: 0,
                    path: "$.unlisted_endpoints".into(),
                })?;
                let set = through(&public, compiled).map_err(|e| BundleError {
                    message: e.to_string(),
                    line: 0,
                    column: 0,
                    path: "$.unlisted_endpoints".into(),
                })?;
                Some(Routed::new(set))
            }
        };
        Ok(CompiledBundle {
            public: Routed::new(public),
            endpoints: endpoints.into_boxed_slice(),
            unlisted,
        })
    }

    fn compile_error(&self, origin: &Origin, e: &CompileError) -> BundleError {
        let place = self
            .places
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(_, p)| p);
        match place {
            Some(p) => p.error(
                &e.source_text,
                e.diagnostic.span.start as usize,
                &e.diagnostic.message,
            ),
            None => BundleError {
                message: e.diagnostic.message.clone(),
                line: 0,
                column: 0,
                path: "$".into(),
            },
        }
    }
}

/// The endpoint policy of the endpoints a bundle does not list, when it denies them.
const UNLISTED_DENY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"UnlistedEndpoint","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// How many policies' worth of bytes a bundle may hold ([`Limits::max_document_bytes`] each).
const BUNDLE_POLICIES: usize = 64;

/// The context keys an embedding sends for the network path, in the order [`CompiledBundle::decide_ref`]
/// expects them first.
pub const NETWORK_KEYS: [&str; 4] = [
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:VpcSourceIp",
];

/// A compiled set with the network keys resolved against it.
#[derive(Debug, Clone)]
struct Routed {
    set: PolicySet,
    layout: KeyLayout,
}

impl Routed {
    fn new(set: PolicySet) -> Routed {
        let layout = set.key_layout(NETWORK_KEYS);
        Routed { set, layout }
    }
}

/// A compiled bundle: immutable, `Send + Sync`, built once and shared by every request (compile it again only
/// when the bundle changes).
#[derive(Debug, Clone)]
pub struct CompiledBundle {
    public: Routed,
    /// Sorted by id.
    endpoints: Box<[(Box<str>, Routed)]>,
    /// The set for endpoints not listed, when they are denied; `None` when they meet the default policy.
    unlisted: Option<Routed>,
}

/// Which endpoint policy decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// No `aws:SourceVpce`: the public endpoint.
    Public,
    /// An endpoint the bundle lists.
    Listed,
    /// An endpoint the bundle does not list (see [`UnlistedEndpoints`]).
    Unlisted,
}

impl CompiledBundle {
    /// The set that decides a request with this `aws:SourceVpce` (`None`: the public endpoint), and the route.
    pub fn set_for(&self, source_vpce: Option<&str>) -> (&PolicySet, Route) {
        let (r, route) = self.routed(source_vpce);
        (&r.set, route)
    }

    #[inline]
    fn routed(&self, source_vpce: Option<&str>) -> (&Routed, Route) {
        let Some(id) = source_vpce else {
            return (&self.public, Route::Public);
        };
        match self.endpoints.binary_search_by(|(k, _)| (**k).cmp(id)) {
            Ok(i) => match self.endpoints.get(i) {
                Some((_, r)) => (r, Route::Listed),
                None => (&self.public, Route::Public),
            },
            Err(_) => (
                self.unlisted.as_ref().unwrap_or(&self.public),
                Route::Unlisted,
            ),
        }
    }

    /// The route of a request: by its `aws:SourceVpce`, which must be a single value.
    fn route_of(&self, req: &RequestRef<'_>) -> Result<(&Routed, Route), ContextError> {
        match req.get_lower("aws:sourcevpce") {
            None => Ok(self.routed(None)),
            Some(ValueRef::One(id)) => Ok(self.routed(Some(id))),
            Some(ValueRef::Many(_)) => Err(ContextError {
                key: "aws:SourceVpce".into(),
                message: "a request comes through one endpoint: give a single endpoint id".into(),
            }),
        }
    }

    /// Decide a borrowed request by the set its `aws:SourceVpce` routes it to. Allocates nothing unless a value
    /// is refused; an error is a value its key's type refuses (an embedding that fails closed denies it). The
    /// keys of [`NETWORK_KEYS`] are found fastest when given first, in that order.
    pub fn decide_ref(&self, req: &RequestRef<'_>) -> Result<Decision, ContextError> {
        let (r, _) = self.route_of(req)?;
        r.set.decide_ref_with(&r.layout, req)
    }

    /// [`CompiledBundle::decide_ref`] for a caller that holds the request's `aws:SourceVpce` apart (a field of its
    /// own, as the C ABI's request does): routed by `source_vpce` (`None`: the public endpoint) without searching
    /// the context for it. `source_vpce` must be the value the request's context gives `aws:SourceVpce`, if any.
    pub fn decide_ref_routed(
        &self,
        source_vpce: Option<&str>,
        req: &RequestRef<'_>,
    ) -> Result<Decision, ContextError> {
        let (r, _) = self.routed(source_vpce);
        r.set.decide_ref_with(&r.layout, req)
    }

    /// Decide and say which statements decided (allocates: for a denied request's answer, not the fast path).
    pub fn decide_with_reasons(
        &self,
        req: &RequestRef<'_>,
    ) -> Result<(Decision, Vec<Reason>), ContextError> {
        let (r, _) = self.route_of(req)?;
        Ok(r.set.decide_with_reasons(&req.to_request()?))
    }

    /// Decide and explain: the deciding statements, every statement consulted, and the route taken.
    pub fn explain_ref(&self, req: &RequestRef<'_>) -> Result<BundleExplanation, ContextError> {
        let (r, route) = self.route_of(req)?;
        Ok(BundleExplanation {
            route,
            explanation: r.set.explain_ref(req)?,
        })
    }

    /// The endpoint ids the bundle lists, sorted.
    pub fn endpoint_ids(&self) -> impl Iterator<Item = &str> {
        self.endpoints.iter().map(|(k, _)| &**k)
    }
}

/// An [`Explanation`] with the endpoint route that chose the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleExplanation {
    /// Which endpoint policy applied: chosen by the request's `aws:SourceVpce` (docs/embedding.md, Routing by
    /// endpoint).
    pub route: Route,
    /// The decision and why, in the route's set; its fields are written beside `route`.
    #[serde(flatten)]
    pub explanation: Explanation,
}

/// The statement that decided a request, for an answer that names it: for a deny, the first explicit Deny; for
/// an implicit deny, the first gate without an Allow (`statement` is `None`); for an allow, the first Allow.
pub fn deciding(decision: Decision, reasons: &[Reason]) -> Option<&Reason> {
    let want = match decision {
        Decision::Allow => crate::policy::Effect::Allow,
        Decision::ExplicitDeny => crate::policy::Effect::Deny,
        Decision::ImplicitDeny => {
            return reasons.iter().find(|r| matches!(r, Reason::NoAllow(_)));
        }
    };
    reasons
        .iter()
        .find(|r| matches!(r, Reason::Statement { effect, .. } if *effect == want))
}

struct Reader<'t> {
    text: &'t str,
    limits: &'t Limits,
    bundle: Bundle,
}

/// `public` decided through an interface endpoint whose policy is `endpoint`: the compiled policies shared, the
/// set built eagerly (with its action index), so a proxy's decisions allocate nothing from the first.
fn through(public: &PolicySet, endpoint: CompiledPolicy) -> Result<PolicySet, CompileError> {
    public
        .edit()
        .endpoint_compiled(Some(endpoint))
        .endpoint_kind(EndpointKind::Interface)
        .build()
}

impl Reader<'_> {
    fn err(&self, offset: u32, path: &str, message: impl Into<String>) -> BundleError {
        BundleError::at(self.text, offset as usize, path, message)
    }

    fn object<'n, 'a>(
        &self,
        node: &'n Node<'a>,
        path: &str,
    ) -> Result<&'n [Member<'a>], BundleError> {
        placed::object(self.text, node, path)
    }

    fn array<'n, 'a>(&self, node: &'n Node<'a>, path: &str) -> Result<&'n [Node<'a>], BundleError> {
        placed::array(self.text, node, path)
    }

    fn read(mut self, root: &Node<'_>) -> Result<Bundle, BundleError> {
        let members = self.object(root, "$")?;
        placed::fields(self.text, members, "$", &FIELDS)?;
        for m in members {
            let path = format!("$.{}", m.key);
            self.field(m.key, &m.value, &path)?;
        }
        crate::sort::stable_by(&mut self.bundle.endpoints, |a, b| a.0.cmp(&b.0));
        Ok(self.bundle)
    }

    fn field(&mut self, key: &str, n: &Node<'_>, path: &str) -> Result<(), BundleError> {
        match key {
            "identity_policies" | "session_policies" => {
                for (i, p) in self.array(n, path)?.iter().enumerate() {
                    let at = if key == "identity_policies" {
                        PolicyRef::Identity(i)
                    } else {
                        PolicyRef::Session(i)
                    };
                    let p = self.policy(p, &format!("{path}[{i}]"), Origin::Core(at))?;
                    if key == "identity_policies" {
                        self.bundle.identity.push(p);
                    } else {
                        self.bundle.session.push(p);
                    }
                }
            }
            "permissions_boundary" => {
                self.bundle.boundary =
                    Some(self.policy(n, path, Origin::Core(PolicyRef::Boundary))?);
            }
            "resource_policy" => {
                self.bundle.resource =
                    Some(self.policy(n, path, Origin::Core(PolicyRef::Resource))?);
            }
            "scps" | "rcps" => {
                let mut levels = Vec::new();
                for (l, level) in self.array(n, path)?.iter().enumerate() {
                    let lpath = format!("{path}[{l}]");
                    let mut out = Vec::new();
                    for (j, p) in self.array(level, &lpath)?.iter().enumerate() {
                        let at = if key == "scps" {
                            PolicyRef::Scp(l, j)
                        } else {
                            PolicyRef::Rcp(l, j)
                        };
                        out.push(self.policy(p, &format!("{lpath}[{j}]"), Origin::Core(at))?);
                    }
                    levels.push(out);
                }
                if key == "scps" {
                    self.bundle.scps = levels;
                } else {
                    self.bundle.rcps = levels;
                }
            }
            "endpoint_policies" => {
                for m in self.object(n, path)? {
                    let epath = format!("{path}[{}]", serde_json::Value::from(m.key));
                    if !is_endpoint_id(m.key) {
                        return Err(self.err(
                            m.key_span.start,
                            &epath,
                            format!(
                                "`{}` is not a VPC endpoint id; write `vpce-` and up to 32 lowercase letters or digits",
                                m.key
                            ),
                        ));
                    }
                    if self.bundle.endpoints.iter().any(|(k, _)| *k == m.key) {
                        return Err(self.err(
                            m.key_span.start,
                            &epath,
                            format!("endpoint `{}` appears twice", m.key),
                        ));
                    }
                    let p = self.policy(&m.value, &epath, Origin::Endpoint(m.key.to_string()))?;
                    self.bundle.endpoints.push((m.key.to_string(), p));
                }
            }
            "unlisted_endpoints" => {
                self.bundle.unlisted_endpoints = match &n.value {
                    Value::String(s) if *s == "default-policy" => UnlistedEndpoints::DefaultPolicy,
                    Value::String(s) if *s == "deny" => UnlistedEndpoints::Deny,
                    v => {
                        let found = match v {
                            Value::String(s) => format!("`{s}`"),
                            v => v.kind_name().to_string(),
                        };
                        return Err(self.err(
                            n.span.start,
                            path,
                            format!("expected `default-policy` or `deny`, found {found}"),
                        ));
                    }
                };
            }
            // "description": free text, any JSON.
            _ => {}
        }
        Ok(())
    }

    /// A policy given inline as an object (parsed from its exact text) or as a string holding the policy text.
    fn policy(
        &mut self,
        node: &Node<'_>,
        path: &str,
        origin: Origin,
    ) -> Result<Policy, BundleError> {
        let (text, place) = match &node.value {
            Value::Object(_) => (
                self.text.get(node.span.range()).unwrap_or(""),
                Place {
                    path: path.to_string(),
                    inline_at: Some(line_col(self.text, node.span.start as usize)),
                },
            ),
            Value::String(s) => (
                *s,
                Place {
                    path: path.to_string(),
                    inline_at: None,
                },
            ),
            v => {
                return Err(self.err(
                    node.span.start,
                    path,
                    format!(
                        "a policy must be a JSON object or a string holding the policy text, found {}",
                        v.kind_name()
                    ),
                ));
            }
        };
        let policy = Policy::parse_with(text, self.limits).map_err(|e| {
            let d = e.diagnostics.first();
            let offset = d.map_or(0, |d| d.span.start as usize);
            let message = d.map_or("invalid policy", |d| d.message.as_str());
            place.error(text, offset, message)
        })?;
        self.bundle.places.push((origin, place));
        Ok(policy)
    }
}

/// `vpce-` and 1 to 32 lowercase letters or digits, the shape of AWS's endpoint ids (`vpce-` and 8 or 17 hex
/// digits), loose enough for the readable ids of examples.
fn is_endpoint_id(s: &str) -> bool {
    s.strip_prefix("vpce-").is_some_and(|h| {
        (1..=32).contains(&h.len())
            && h.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW_ALL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn compiled(text: &str) -> CompiledBundle {
        match Bundle::parse(text, &Limits::default()).and_then(|b| b.compile()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn req<'a>(ctx: &'a [(&'a str, ValueRef<'a>)]) -> RequestRef<'a> {
        RequestRef {
            principal: Some("arn:aws:iam::111122223333:role/R"),
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            context: ctx,
            ..RequestRef::default()
        }
    }

    fn bundle_with_endpoint(unlisted: &str) -> String {
        format!(
            r#"{{"identity_policies": [{ALLOW_ALL}],
  "endpoint_policies": {{
    "vpce-0api0000000000001": {{"Version": "2012-10-17", "Statement": [{{"Sid": "OnlyPut", "Effect": "Allow",
       "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}}]}},
    "vpce-1a2b3c4d": "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}]}}"
  }}{unlisted}}}"#
        )
    }

    /// The route follows `aws:SourceVpce`: none is the public path (no endpoint policy), a listed id its policy,
    /// an unlisted id the default full-access policy; the key is read in any case.
    #[test]
    fn routes_by_source_vpce() {
        let c = compiled(&bundle_with_endpoint(""));
        assert_eq!(c.decide_ref(&req(&[])), Ok(Decision::Allow));
        let listed = [("aws:SourceVpce", "vpce-0api0000000000001".into())];
        assert_eq!(c.decide_ref(&req(&listed)), Ok(Decision::ImplicitDeny));
        let upper = [("AWS:SOURCEVPCE", "vpce-0api0000000000001".into())];
        assert_eq!(c.decide_ref(&req(&upper)), Ok(Decision::ImplicitDeny));
        let as_string = [("aws:SourceVpce", "vpce-1a2b3c4d".into())];
        assert_eq!(c.decide_ref(&req(&as_string)), Ok(Decision::Allow));
        let unlisted = [("aws:SourceVpce", "vpce-0ffffffffffffffff".into())];
        assert_eq!(c.decide_ref(&req(&unlisted)), Ok(Decision::Allow));
        assert_eq!(c.set_for(Some("vpce-0ffffffffffffffff")).1, Route::Unlisted);
        assert_eq!(c.set_for(Some("vpce-1a2b3c4d")).1, Route::Listed);
        assert_eq!(c.set_for(None).1, Route::Public);
        assert_eq!(
            c.endpoint_ids().collect::<Vec<_>>(),
            ["vpce-0api0000000000001", "vpce-1a2b3c4d"]
        );
        // The listed endpoint's policy decides, and says so.
        let (d, reasons) = c
            .decide_with_reasons(&req(&listed))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d, Decision::ImplicitDeny);
        assert_eq!(
            deciding(d, &reasons).map(ToString::to_string).as_deref(),
            Some("no statement in endpoint allows the request")
        );
        let put = RequestRef {
            action: "s3:PutObject",
            ..req(&listed)
        };
        let (d, reasons) = c
            .decide_with_reasons(&put)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d, Decision::Allow);
        assert!(
            reasons
                .iter()
                .any(|r| r.to_string() == "Allow by endpoint statement 0 (OnlyPut)")
        );
    }

    /// `"unlisted_endpoints": "deny"` denies a request through an endpoint the bundle does not list, and only
    /// those.
    #[test]
    fn unlisted_endpoints_can_be_denied() {
        let c = compiled(&bundle_with_endpoint(r#", "unlisted_endpoints": "deny""#));
        let unlisted = [("aws:SourceVpce", "vpce-0ffffffffffffffff".into())];
        assert_eq!(c.decide_ref(&req(&unlisted)), Ok(Decision::ExplicitDeny));
        let (d, reasons) = c
            .decide_with_reasons(&req(&unlisted))
            .unwrap_or_else(|e| panic!("{e}"));
        let why = deciding(d, &reasons).map(ToString::to_string);
        assert_eq!(
            why.as_deref(),
            Some("Deny by endpoint statement 0 (UnlistedEndpoint)")
        );
        let listed = [("aws:SourceVpce", "vpce-1a2b3c4d".into())];
        assert_eq!(c.decide_ref(&req(&listed)), Ok(Decision::Allow));
        assert_eq!(c.decide_ref(&req(&[])), Ok(Decision::Allow));
    }

    /// The boundary and each session policy are gates of their own: an action the identity policy allows but
    /// one of them does not is an implicit deny that names it.
    #[test]
    fn boundary_and_session_policies_gate() {
        let only = |a: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{a}","Resource":"*"}}]}}"#
            )
        };
        let text = format!(
            r#"{{"identity_policies": [{ALLOW_ALL}], "permissions_boundary": {}, "session_policies": [{}]}}"#,
            only("s3:Get*"),
            only("s3:GetObject")
        );
        let c = compiled(&text);
        assert_eq!(c.decide_ref(&req(&[])), Ok(Decision::Allow));
        for (action, gate) in [
            ("s3:PutObject", "boundary"),
            ("s3:GetBucketPolicy", "session"),
        ] {
            let r = RequestRef { action, ..req(&[]) };
            let (d, reasons) = c.decide_with_reasons(&r).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d, Decision::ImplicitDeny, "{action}");
            let why = deciding(d, &reasons).map(ToString::to_string);
            assert_eq!(
                why,
                Some(format!("no statement in {gate} allows the request")),
                "{action}"
            );
        }
    }

    /// A list of endpoint ids is refused, not routed by one of them.
    #[test]
    fn many_endpoint_ids_are_an_error() {
        let c = compiled(&bundle_with_endpoint(""));
        let ids = ["vpce-1a2b3c4d", "vpce-0api0000000000001"];
        let ctx = [("aws:SourceVpce", ValueRef::Many(&ids))];
        assert!(c.decide_ref(&req(&ctx)).is_err());
        assert!(c.explain_ref(&req(&ctx)).is_err());
    }

    /// Every set of the bundle decides as a set built from the same policies with the builder.
    #[test]
    fn levels_and_policies_reach_their_gates() {
        let deny_put = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoPut","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#;
        let rcp_deny_delete = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}]}"#;
        let text = format!(
            r#"{{"identity_policies": [{ALLOW_ALL}], "permissions_boundary": {ALLOW_ALL},
                "session_policies": [{ALLOW_ALL}], "scps": [[{ALLOW_ALL}], [{ALLOW_ALL}, {deny_put}]],
                "rcps": [[{rcp_deny_delete}]], "description": {{"owner": "team"}}}}"#
        );
        let c = compiled(&text);
        let put = RequestRef {
            action: "s3:PutObject",
            ..req(&[])
        };
        let (d, reasons) = c
            .decide_with_reasons(&put)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d, Decision::ExplicitDeny);
        let first = deciding(d, &reasons).map(ToString::to_string);
        assert_eq!(
            first.as_deref(),
            Some("Deny by scps[1][1] statement 0 (NoPut)")
        );
        assert_eq!(c.decide_ref(&req(&[])), Ok(Decision::Allow));
        let delete = RequestRef {
            action: "s3:DeleteObject",
            ..req(&[])
        };
        let (d, reasons) = c
            .decide_with_reasons(&delete)
            .unwrap_or_else(|e| panic!("{e}"));
        let first = deciding(d, &reasons).map(ToString::to_string);
        assert_eq!(
            first.as_deref(),
            Some("Deny by rcps[0][0] statement 0 (NoDelete)")
        );
        let e = c.explain_ref(&put).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.route, Route::Public);
        assert_eq!(e.explanation.decision, Decision::ExplicitDeny);
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(json["route"], "public");
        assert_eq!(json["decision"], "ExplicitDeny");
    }

    fn parse_err(text: &str) -> BundleError {
        match Bundle::parse(text, &Limits::default()).and_then(|b| b.compile()) {
            Ok(_) => panic!("parsed: {text}"),
            Err(e) => e,
        }
    }

    /// Errors name the line, column and JSON path in the bundle text, also for a policy written inline.
    #[test]
    fn errors_are_placed_in_the_bundle() {
        let e = parse_err("{\"scpz\": []}");
        assert_eq!((e.line, e.column, e.path.as_str()), (1, 2, "$.scpz"));
        assert!(
            e.message
                .starts_with("unknown field `scpz`; valid fields are")
        );

        let e = parse_err("{\"scps\": [], \"scps\": []}");
        assert_eq!(e.message, "field `scps` appears twice");

        let e = parse_err(
            "{\n  \"identity_policies\": [\n    {\"Version\": \"2012-10-17\",\n     \"Statement\": [{\"Effect\": \"allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}]}",
        );
        assert_eq!(e.path, "$.identity_policies[0]");
        assert_eq!((e.line, e.column), (4, 31));
        assert!(e.message.contains("`allow`"), "{}", e.message);

        // A policy as a string: the place within the policy text.
        let e = parse_err(r#"{"permissions_boundary": "{\"Statement\": 3}"}"#);
        assert_eq!(e.path, "$.permissions_boundary");
        assert!(e.message.contains("of the policy text"), "{}", e.message);

        let e = parse_err(r#"{"resource_policy": 7}"#);
        assert_eq!(
            e.message,
            "a policy must be a JSON object or a string holding the policy text, found number"
        );

        let e = parse_err(r#"{"endpoint_policies": {"vpce-XYZ": {}}}"#);
        assert_eq!(e.path, r#"$.endpoint_policies["vpce-XYZ"]"#);
        assert!(e.message.contains("is not a VPC endpoint id"));

        let e = parse_err(&format!(
            r#"{{"endpoint_policies": {{"vpce-1a2b3c4d": {ALLOW_ALL}, "vpce-1a2b3c4d": {ALLOW_ALL}}}}}"#
        ));
        assert_eq!(e.message, "endpoint `vpce-1a2b3c4d` appears twice");

        let e = parse_err(r#"{"unlisted_endpoints": "allow"}"#);
        assert_eq!(
            e.message,
            "expected `default-policy` or `deny`, found `allow`"
        );

        let e = parse_err("{\"scps\": [");
        assert_eq!(e.path, "$");
        assert_eq!(e.line, 1);

        let e = parse_err("[]");
        assert_eq!(e.message, "expected an object, found array");
    }

    /// A policy that parses but cannot sit where it is (an identity policy with a `Principal`) is placed at the
    /// policy in the bundle when compiling.
    #[test]
    fn compile_errors_are_placed_in_the_bundle() {
        let text = "{\"identity_policies\": [\n  {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}]}]}";
        let b = Bundle::parse(text, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let e = match b.compile() {
            Ok(_) => panic!("compiled an identity policy with a Principal"),
            Err(e) => e,
        };
        assert_eq!(e.path, "$.identity_policies[0]");
        assert_eq!(e.line, 2);
        assert!(e.column > 3, "{e}");
    }

    /// The policy limits hold for each policy of the bundle.
    #[test]
    fn limits_hold_per_policy() {
        let limits = Limits {
            max_statements: 1,
            ..Limits::default()
        };
        let two = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let text = format!(r#"{{"identity_policies": [{two}]}}"#);
        assert!(Bundle::parse(&text, &limits).is_err());
        assert!(Bundle::parse(&text, &Limits::default()).is_ok());
    }

    #[test]
    fn endpoint_ids_are_checked() {
        assert!(is_endpoint_id("vpce-1a2b3c4d"));
        assert!(is_endpoint_id("vpce-0api0000000000001"));
        assert!(is_endpoint_id("vpce-0123456789abcdef0"));
        assert!(!is_endpoint_id("vpce-0123456789ABCDEF0"));
        assert!(!is_endpoint_id("vpce-"));
        assert!(!is_endpoint_id("vpce-1a2b 3c4d"));
        assert!(!is_endpoint_id("vpc-1a2b3c4d"));
    }
}
