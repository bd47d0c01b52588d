//! Compile policies once into an immutable [`PolicySet`]: patterns precompiled, CIDR lists merged into sorted
//! range tables, keys lowercased, values typed. Do not recompile per request: build once, share (it is
//! `Send + Sync` and cheap to clone), decide many.

use crate::diagnostic::Diagnostic;
use crate::policy::action::ActionPattern;
use crate::policy::arn::ArnPattern;
use crate::policy::operator::{Family, Operator};
use crate::policy::pattern::Pattern;
use crate::policy::value::{CidrSet, Timestamp, decode_base64, parse_cidr, parse_number};
use crate::policy::{Effect, Policy, Principal, PrincipalKind, Statement};
use crate::validate::PolicyKind;
use std::fmt;
use std::sync::Arc;

/// Where a policy sits in a request's evaluation (docs/FORMATS.md §2: the names used in decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyRef {
    Scp(usize, usize),
    Rcp(usize, usize),
    Resource,
    Identity(usize),
    Boundary,
    Session(usize),
    Endpoint,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::Identity(i) => write!(f, "identity[{i}]"),
            PolicyRef::Resource => f.write_str("resource"),
            PolicyRef::Boundary => f.write_str("boundary"),
            PolicyRef::Session(i) => write!(f, "session[{i}]"),
            PolicyRef::Scp(l, j) => write!(f, "scps[{l}][{j}]"),
            PolicyRef::Rcp(l, j) => write!(f, "rcps[{l}][{j}]"),
            PolicyRef::Endpoint => f.write_str("endpoint"),
        }
    }
}

impl PolicyRef {
    /// Whether this kind of policy carries a `Principal` element (resource-based policies, endpoint policies
    /// and RCPs) or must not (identity-based policies, boundaries, session policies, SCPs).
    pub fn needs_principal(self) -> bool {
        matches!(
            self,
            PolicyRef::Resource | PolicyRef::Endpoint | PolicyRef::Rcp(..)
        )
    }
}

/// Which kind of VPC endpoint an endpoint policy belongs to (docs/SEMANTICS.md §1.6): they read an account in
/// `Principal` differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointKind {
    /// An interface endpoint (PrivateLink: the SageMaker API and Studio endpoints, and most services): an
    /// account principal means every principal of that account.
    #[default]
    Interface,
    /// A gateway endpoint (S3, DynamoDB): an account principal means only that account's root user.
    Gateway,
}

/// What the resource-based policy of a set is (docs/SEMANTICS.md §4.1): its own rules apply when the request names
/// the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceKind {
    /// A resource-based policy (S3 bucket, SQS queue, ...).
    #[default]
    Resource,
    /// A role trust policy, for `sts:AssumeRole*` on the role: it has no `Resource`, and it must itself allow.
    Trust,
    /// A KMS key policy: it must itself allow; an Allow for the account delegates to IAM policies.
    Key,
}

/// How an account in a statement's `Principal` matches (docs/SEMANTICS.md §1.6, docs/SEMANTICS.md §9 row 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum AccountMatch {
    /// Every principal of the account.
    #[default]
    Any,
    /// Only the account's root user (a gateway endpoint's policy).
    RootOnly,
    /// Only the root user when principal and resource share the account (an Allow of a resource-based
    /// policy: it delegates to identity policies rather than granting by itself); every principal otherwise.
    RootOnlySameAccount,
}

/// A policy that cannot be used where it was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{policy}: {}", .diagnostic.message)]
pub struct CompileError {
    pub policy: PolicyRef,
    pub source_text: Arc<str>,
    pub diagnostic: Box<Diagnostic>,
}

/// A compiled condition: operator, lowercase key, typed values.
#[derive(Debug, Clone)]
pub(crate) struct CCondition {
    pub op: Operator,
    pub key: String,
    /// `text_hash(key)`.
    pub hash: u64,
    /// The slot of `key` among the distinct keys of the owning set, where a decision caches its lookup.
    // INVARIANT: set by `Inner::intern` whenever a policy enters a `PolicySet`: within a set, two conditions
    // share a slot exactly when they test the same key.
    pub slot: usize,
    pub values: CValues,
}

#[derive(Debug, Clone)]
pub(crate) enum CValues {
    /// StringEquals family: literal patterns (maybe with variables); hashed too when they are many and all
    /// literal.
    Exact(Vec<Pattern>, Option<Arc<LiteralSet>>),
    IgnoreCase(Vec<Pattern>),
    Like(Vec<Pattern>),
    /// `None` for a value that is not a number: it never matches.
    Numeric(Vec<Option<f64>>),
    Date(Vec<Option<Timestamp>>),
    /// Bool values compared case-insensitively with `true`/`false` (variables allowed, §2.3 UNCERTAIN).
    Bool(Vec<Pattern>),
    Binary(Vec<Option<Vec<u8>>>),
    /// Valid CIDRs merged; values that are not CIDRs never match.
    Ip(Arc<CidrSet>),
    Arn(Vec<ArnPattern>),
    /// `Null: true` matches an absent key, `false` a present one; several values are ORed.
    Null {
        when_absent: bool,
        when_present: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum CPrincipal {
    Any,
    Map(Vec<(PrincipalKind, Vec<String>)>),
}

#[derive(Debug, Clone)]
pub(crate) struct CStatement {
    pub index: usize,
    /// The statement's place among every statement of the owning set, in the order of `PolicySet::policies`:
    /// its bit in an [`ActionIndex`] mask.
    // INVARIANT: set by `Inner::intern` whenever a policy enters a `PolicySet`.
    pub id: usize,
    /// An `Action`/`NotAction` pattern has a wildcard and is not `*`: matching an action the set never names
    /// needs the patterns.
    pub wild: bool,
    pub sid: Option<String>,
    pub effect: Effect,
    /// `(negated, pattern)`: Principal / NotPrincipal.
    pub principal: Option<(bool, CPrincipal)>,
    pub not_action: bool,
    pub actions: Vec<ActionPattern>,
    pub not_resource: bool,
    pub resources: Vec<ArnPattern>,
    pub conditions: Vec<CCondition>,
    /// One bit per service the `Action` patterns name (`service_bit`); every bit when a pattern's service has a
    /// wildcard, or for `NotAction`. A request whose service's bit is clear cannot match an action.
    pub services: u64,
    /// An `Action` pattern is `*`: every action matches (before `not_action`).
    pub any_action: bool,
    /// A `Resource` pattern is `*`: every resource matches (before `not_resource`).
    pub any_resource: bool,
    /// Resource `*`, no principal or `Principal: *`, no condition: the statement applies to every request its
    /// action matches.
    pub unconditional: bool,
    /// How an account in `Principal` matches; set when the statement enters a set.
    pub account_match: AccountMatch,
    /// A resource-policy `Deny` with `NotPrincipal` in a set with a permissions boundary: it applies to the
    /// principal whatever `NotPrincipal` lists (docs/SEMANTICS.md §4.1, AWS's boundaries page).
    pub deny_any_principal: bool,
}

/// One policy, parsed and compiled.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) policy: Policy,
    pub(crate) statements: Vec<CStatement>,
}

impl CompiledPolicy {
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn compile(policy: Policy, at: PolicyRef) -> Result<CompiledPolicy, CompileError> {
        CompiledPolicy::compile_as(policy, at, ResourceKind::Resource)
    }

    /// Compile `policy` for its place `at`; `resource` says what a resource-based policy is. What IAM or
    /// Organizations refuses when such a policy is saved is an error (`crate::refuse`).
    pub(crate) fn compile_as(
        policy: Policy,
        at: PolicyRef,
        resource: ResourceKind,
    ) -> Result<CompiledPolicy, CompileError> {
        let fail = |diagnostic: Diagnostic| CompileError {
            policy: at,
            source_text: policy.source_arc().clone(),
            diagnostic: Box::new(diagnostic),
        };
        if let Some(d) = crate::refuse::refusals(&policy, policy_kind(at, resource))
            .into_iter()
            .next()
        {
            return Err(fail(d));
        }
        let variables = policy.variables_enabled();
        let trust = at == PolicyRef::Resource && resource == ResourceKind::Trust;
        let mut statements = Vec::with_capacity(policy.statements.len());
        for st in &policy.statements {
            statements.push(compile_statement(st, at, variables, trust).map_err(fail)?);
        }
        Ok(CompiledPolicy { policy, statements })
    }
}

/// The kind `crate::refuse` checks a policy at `at` as.
fn policy_kind(at: PolicyRef, resource: ResourceKind) -> PolicyKind {
    match (at, resource) {
        (PolicyRef::Identity(_), _) => PolicyKind::Identity,
        (PolicyRef::Resource, ResourceKind::Resource) => PolicyKind::Resource,
        (PolicyRef::Resource, ResourceKind::Trust) => PolicyKind::Trust,
        (PolicyRef::Resource, ResourceKind::Key) => PolicyKind::Key,
        (PolicyRef::Boundary, _) => PolicyKind::Boundary,
        (PolicyRef::Session(_), _) => PolicyKind::Session,
        (PolicyRef::Scp(..), _) => PolicyKind::Scp,
        (PolicyRef::Rcp(..), _) => PolicyKind::Rcp,
        (PolicyRef::Endpoint, _) => PolicyKind::Endpoint,
    }
}

/// `trust`: the statement is a role trust policy's, which has no `Resource` (the role is the resource).
fn compile_statement(
    st: &Statement,
    at: PolicyRef,
    variables: bool,
    trust: bool,
) -> Result<CStatement, Diagnostic> {
    let principal = match (&st.principal, at.needs_principal()) {
        (Some(p), true) => Some((
            p.negated,
            match &p.principal {
                Principal::Any => CPrincipal::Any,
                Principal::Map(m) => CPrincipal::Map(
                    m.iter()
                        .map(|(k, vs)| (k.value, vs.iter().map(|v| v.value.to_string()).collect()))
                        .collect(),
                ),
            },
        )),
        (Some(p), false) => {
            let what = if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            return Err(Diagnostic::error(
                "principal-not-allowed",
                p.span,
                format!("`{what}` is not allowed in {}", kind_name(at)),
            )
            .with_help("identity-based policies, permissions boundaries, session policies and SCPs apply to the principal they are attached to; remove the element"));
        }
        (None, true) => {
            return Err(Diagnostic::error(
                "missing-principal",
                st.span,
                format!(
                    "the statement has no `Principal`, which {} require",
                    kind_name(at)
                ),
            )
            .with_help(
                "add `\"Principal\": \"*\"` and narrow it with a condition, or name the principals",
            ));
        }
        (None, false) => None,
    };
    let any_resource_element = crate::policy::ResourceElement {
        negated: false,
        span: st.span,
        patterns: Vec::new(),
    };
    let resource = match &st.resource {
        Some(r) => r,
        None if trust => &any_resource_element,
        None => return Err(Diagnostic::error(
            "missing-resource",
            st.span,
            "the statement has no `Resource` or `NotResource`",
        )
        .with_help("add `\"Resource\": \"*\"` or the ARNs the statement is about; a role trust policy has none, but then the request must be `sts:AssumeRole*` on the role")),
    };
    let mut conditions = Vec::with_capacity(st.conditions.len());
    for c in &st.conditions {
        let vars = variables && c.operator.value.base.accepts_variables();
        let texts = || c.values.iter().map(|v| v.value.text());
        let values = match c.operator.value.base.family() {
            Family::String { ignore_case: false } => {
                let ps: Vec<Pattern> = texts().map(|t| Pattern::parse(t, false, vars)).collect();
                let set = LiteralSet::of(&ps);
                CValues::Exact(ps, set)
            }
            Family::String { ignore_case: true } => {
                CValues::IgnoreCase(texts().map(|t| Pattern::parse(t, false, vars)).collect())
            }
            Family::StringLike => {
                CValues::Like(texts().map(|t| Pattern::parse(t, true, vars)).collect())
            }
            Family::Numeric(_) => CValues::Numeric(texts().map(parse_number).collect()),
            Family::Date(_) => CValues::Date(texts().map(|t| t.parse().ok()).collect()),
            Family::Bool => {
                CValues::Bool(texts().map(|t| Pattern::parse(t, false, vars)).collect())
            }
            Family::Binary => CValues::Binary(texts().map(decode_base64).collect()),
            Family::Ip => CValues::Ip(Arc::new(
                texts().filter_map(|t| parse_cidr(t).ok()).collect(),
            )),
            Family::Arn => CValues::Arn(texts().map(|t| ArnPattern::parse(t, vars)).collect()),
            Family::Null => CValues::Null {
                when_absent: texts().any(|t| t.eq_ignore_ascii_case("true")),
                when_present: texts().any(|t| t.eq_ignore_ascii_case("false")),
            },
        };
        let key = c.key_lower();
        conditions.push(CCondition {
            op: c.operator.value,
            hash: crate::context::text_hash(key.as_bytes()),
            key,
            slot: 0,
            values,
        });
    }
    let actions: Vec<ActionPattern> = st.action.patterns.iter().map(|p| p.value.clone()).collect();
    let services = if st.action.negated {
        u64::MAX
    } else {
        actions.iter().fold(0, |m, a| m | a.service_bit())
    };
    let resources: Vec<ArnPattern> = resource
        .patterns
        .iter()
        .map(|p| ArnPattern::parse(&p.value, variables))
        .collect();
    let any_action = actions.iter().any(|a| a.glob().is_any());
    let any_resource =
        (trust && st.resource.is_none()) || resources.iter().any(|r| matches!(r, ArnPattern::Any));
    Ok(CStatement {
        unconditional: any_resource
            && !resource.negated
            && conditions.is_empty()
            && matches!(principal, None | Some((false, CPrincipal::Any))),
        index: st.index,
        id: 0,
        wild: !any_action && actions.iter().any(|a| a.glob().has_wildcards()),
        any_action,
        any_resource,
        sid: st.sid.as_ref().map(|s| s.value.to_string()),
        effect: st.effect.value,
        principal,
        not_action: st.action.negated,
        actions,
        services,
        not_resource: resource.negated,
        resources,
        conditions,
        account_match: AccountMatch::Any,
        deny_any_principal: false,
    })
}

fn kind_name(at: PolicyRef) -> &'static str {
    match at {
        PolicyRef::Identity(_) => "an identity-based policy",
        PolicyRef::Resource => "resource-based policies",
        PolicyRef::Boundary => "a permissions boundary",
        PolicyRef::Session(_) => "a session policy",
        PolicyRef::Scp(..) => "a service control policy",
        PolicyRef::Rcp(..) => "resource control policies",
        PolicyRef::Endpoint => "VPC endpoint policies",
    }
}

#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Inner {
    /// Which statements each action the set names matches, when `index.on` (not for a set of more than
    /// `MASK_WORDS * 64` statements): see [`Inner::actions`]. First: a decision reads it first (see
    /// [`ActionIndex`]).
    index: ActionIndex,
    pub scps: Vec<Vec<CompiledPolicy>>,
    pub rcps: Vec<Vec<CompiledPolicy>>,
    pub resource: Option<CompiledPolicy>,
    pub identity: Vec<CompiledPolicy>,
    pub boundary: Option<CompiledPolicy>,
    pub session: Vec<CompiledPolicy>,
    pub endpoint: Option<CompiledPolicy>,
    /// The kind of VPC endpoint `endpoint` belongs to.
    pub endpoint_kind: EndpointKind,
    /// What `resource` is.
    pub resource_kind: ResourceKind,
    /// The condition keys of every statement, and the keys checked at ingest.
    pub keys: KeyTable,
}

impl Inner {
    fn policies_mut(&mut self) -> impl Iterator<Item = &mut CompiledPolicy> {
        self.scps
            .iter_mut()
            .chain(self.rcps.iter_mut())
            .flatten()
            .chain(self.resource.iter_mut())
            .chain(self.identity.iter_mut())
            .chain(self.boundary.iter_mut())
            .chain(self.session.iter_mut())
            .chain(self.endpoint.iter_mut())
    }

    /// Number the statements, give each distinct condition key a slot (where a decision keeps the request's
    /// value of that key), and index the actions the set names.
    fn intern(mut self) -> Inner {
        self.principal_rules();
        let mut keys: Vec<(u64, String)> = Vec::new();
        let mut slot_of: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        let mut id = 0;
        for p in self.policies_mut() {
            for st in p.statements.iter_mut() {
                st.id = id;
                id += 1;
                for c in st.conditions.iter_mut() {
                    c.slot = *slot_of.entry(c.key.clone()).or_insert_with(|| {
                        keys.push((c.hash, c.key.clone()));
                        keys.len() - 1
                    });
                }
            }
        }
        self.keys = KeyTable::build(keys);
        self.index = (id <= MASK_WORDS * 64 && !self.needs_full_walk())
            .then(|| ActionIndex::build(&self, id))
            .flatten()
            .unwrap_or_default();
        self
    }

    /// Set each statement's principal rules from its place and the set's kinds (docs/SEMANTICS.md §1.6, §4.1).
    fn principal_rules(&mut self) {
        let gateway = self.endpoint_kind == EndpointKind::Gateway;
        let delegates = self.resource_kind != ResourceKind::Resource;
        let boundary = self.boundary.is_some();
        for st in self.policies_mut().flat_map(|p| p.statements.iter_mut()) {
            st.account_match = AccountMatch::Any;
            st.deny_any_principal = false;
        }
        for st in self
            .endpoint
            .iter_mut()
            .flat_map(|p| p.statements.iter_mut())
        {
            if gateway {
                st.account_match = AccountMatch::RootOnly;
            }
        }
        for st in self
            .resource
            .iter_mut()
            .flat_map(|p| p.statements.iter_mut())
        {
            match st.effect {
                Effect::Allow if !delegates => st.account_match = AccountMatch::RootOnlySameAccount,
                Effect::Allow => {}
                Effect::Deny => {
                    st.deny_any_principal = boundary && matches!(st.principal, Some((true, _)));
                }
            }
        }
    }

    /// Whether a decision must take the full walk: a resource-based policy whose grant depends on how it names
    /// the caller (with a boundary or session policies, docs/SEMANTICS.md §4.1), or a trust or key policy, which
    /// must itself allow. The action index's plans and gates do not model these; such sets are rare.
    fn needs_full_walk(&self) -> bool {
        self.resource.is_some()
            && (self.boundary.is_some()
                || !self.session.is_empty()
                || self.resource_kind != ResourceKind::Resource)
    }

    /// The action index, when the set has one.
    #[inline]
    pub fn actions(&self) -> Option<&ActionIndex> {
        self.index.on.then_some(&self.index)
    }

    /// Every policy with its place, in evaluation order (see [`PolicySet::policies`]).
    pub(crate) fn policies(&self) -> impl Iterator<Item = (PolicyRef, &CompiledPolicy)> {
        let i = self;
        let scps = i.scps.iter().enumerate().flat_map(|(l, lv)| {
            lv.iter()
                .enumerate()
                .map(move |(j, p)| (PolicyRef::Scp(l, j), p))
        });
        let rcps = i.rcps.iter().enumerate().flat_map(|(l, lv)| {
            lv.iter()
                .enumerate()
                .map(move |(j, p)| (PolicyRef::Rcp(l, j), p))
        });
        scps.chain(rcps)
            .chain(i.resource.iter().map(|p| (PolicyRef::Resource, p)))
            .chain(
                i.identity
                    .iter()
                    .enumerate()
                    .map(|(n, p)| (PolicyRef::Identity(n), p)),
            )
            .chain(i.boundary.iter().map(|p| (PolicyRef::Boundary, p)))
            .chain(
                i.session
                    .iter()
                    .enumerate()
                    .map(|(n, p)| (PolicyRef::Session(n), p)),
            )
            .chain(i.endpoint.iter().map(|p| (PolicyRef::Endpoint, p)))
    }

    /// Every statement, in the order of `PolicySet::policies` (the order of their ids).
    pub(crate) fn statements(&self) -> impl Iterator<Item = &CStatement> {
        self.policies().flat_map(|(_, p)| p.statements.iter())
    }
}

/// The longest run of buckets a key may be from its own: beyond it a table is not built (keys crafted to collide
/// would make building it quadratic and lookups linear), and a lookup stops there.
const MAX_PROBE: usize = 64;

/// An open-addressing table of `len` entries keyed by hash: the bucket list, a power of two at least twice
/// `len`, each bucket 0 (empty) or an entry index + 1. `None` when some entry would sit more than [`MAX_PROBE`]
/// buckets from its own.
fn buckets(hashes: impl Iterator<Item = u64>, len: usize) -> Option<Box<[u32]>> {
    let n = (len * 2).next_power_of_two().max(8);
    let mut b = vec![0u32; n];
    for (i, h) in hashes.enumerate() {
        let mut at = h as usize & (n - 1);
        let mut steps = 0;
        while b.get(at).is_some_and(|&x| x != 0) {
            steps += 1;
            if steps > MAX_PROBE {
                return None;
            }
            at = (at + 1) & (n - 1);
        }
        *b.get_mut(at)? = u32::try_from(i + 1).ok()?;
    }
    Some(b.into_boxed_slice())
}

/// The entry index whose hash is `hash` and for which `eq` holds, by linear probing over [`buckets`]: at most
/// [`MAX_PROBE`] buckets past the key's own, since no entry sits farther.
#[inline]
fn probe(buckets: &[u32], hash: u64, mut eq: impl FnMut(usize) -> bool) -> Option<usize> {
    let mask = buckets.len().wrapping_sub(1);
    let mut at = hash as usize & mask;
    for _ in 0..=MAX_PROBE {
        match *buckets.get(at)? {
            0 => return None,
            i => {
                let i = i as usize - 1;
                if eq(i) {
                    return Some(i);
                }
            }
        }
        at = (at + 1) & mask;
    }
    None
}

/// The literal values of a `StringEquals`-family condition, hashed: a lookup instead of a scan when a
/// condition lists many values (an allow-list of endpoint ids, accounts or VPCs).
#[derive(Debug, Clone)]
pub(crate) struct LiteralSet {
    buckets: Box<[u32]>,
    /// `(key_hash, text)`.
    texts: Vec<(u64, Box<str>)>,
}

impl LiteralSet {
    /// Below this many values a scan is as fast.
    const MIN: usize = 8;

    /// The set of `ps`, when there are at least [`LiteralSet::MIN`] and each is literal (no variable).
    fn of(ps: &[Pattern]) -> Option<Arc<LiteralSet>> {
        if ps.len() < Self::MIN {
            return None;
        }
        let mut texts: Vec<(u64, Box<str>)> = Vec::with_capacity(ps.len());
        for p in ps {
            let t = p.as_literal()?;
            texts.push((crate::context::key_hash(t.as_bytes()), t.into()));
        }
        Some(Arc::new(LiteralSet {
            buckets: buckets(texts.iter().map(|t| t.0), texts.len())?,
            texts,
        }))
    }

    /// Whether `v` is one of the values, exactly.
    #[inline]
    pub fn contains(&self, v: &str) -> bool {
        let hash = crate::context::key_hash(v.as_bytes());
        probe(&self.buckets, hash, |i| {
            self.texts.get(i).is_some_and(|(h, t)| {
                *h == hash && crate::context::eq_bytes(t.as_bytes(), v.as_bytes())
            })
        })
        .is_some()
    }
}

/// A context key the set knows: a condition key (with its slot), a key with a documented type, or both.
#[derive(Debug, Clone)]
pub(crate) struct KeyEntry {
    pub folded: crate::context::Folded,
    /// Lowercase.
    pub key: std::borrow::Cow<'static, str>,
    pub slot: Option<usize>,
    pub ty: Option<crate::context::KeyType>,
}

/// What a decision needs of a known context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub slot: Option<usize>,
    pub ty: Option<crate::context::KeyType>,
}

impl KeyEntry {
    pub fn info(&self) -> KeyInfo {
        KeyInfo {
            slot: self.slot,
            ty: self.ty,
        }
    }
}

/// Where a request's context keys go, found by hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyTable {
    /// `None`: the keys collide too much to hash (see [`MAX_PROBE`]); they are scanned.
    buckets: Option<Box<[u32]>>,
    entries: Vec<KeyEntry>,
}

impl KeyTable {
    /// Slot `i` for `keys[i]`, then every key of [`crate::context::KNOWN_KEYS`].
    fn build(keys: Vec<(u64, String)>) -> KeyTable {
        use crate::context::{Folded, KNOWN_KEYS, known_key_type};
        // The documented keys' foldings, computed once per process.
        static KNOWN: std::sync::OnceLock<Vec<Folded>> = std::sync::OnceLock::new();
        let known = KNOWN.get_or_init(|| {
            KNOWN_KEYS
                .iter()
                .map(|(k, _)| Folded::of(k.as_bytes()))
                .collect()
        });
        let mut entries: Vec<KeyEntry> = Vec::with_capacity(keys.len() + KNOWN_KEYS.len());
        entries.extend(
            keys.into_iter()
                .enumerate()
                .map(|(slot, (_, key))| KeyEntry {
                    folded: Folded::of(key.as_bytes()),
                    ty: known_key_type(&key),
                    key: key.into(),
                    slot: Some(slot),
                }),
        );
        let condition_keys = entries.len();
        for ((k, ty), folded) in KNOWN_KEYS.iter().zip(known) {
            if !entries.iter().take(condition_keys).any(|e| e.key == *k) {
                entries.push(KeyEntry {
                    folded: *folded,
                    key: std::borrow::Cow::Borrowed(k),
                    slot: None,
                    ty: Some(*ty),
                });
            }
        }
        KeyTable {
            buckets: buckets(entries.iter().map(|e| e.folded.hash()), entries.len()),
            entries,
        }
    }

    /// The entry of `key` in any case.
    #[inline]
    pub fn get_any_case(&self, key: &str) -> Option<&KeyEntry> {
        let k = crate::context::KeyText::of(key.as_bytes());
        let hash = k.hash();
        let is = |e: &KeyEntry| e.folded.is(&k, e.key.as_bytes());
        match &self.buckets {
            Some(b) => {
                let i = probe(b, hash, |i| self.entries.get(i).is_some_and(is))?;
                self.entries.get(i)
            }
            None => self.entries.iter().find(|e| is(e)),
        }
    }
}

/// How many 64-bit words an action mask has: sets of up to 256 statements are indexed.
pub(crate) const MASK_WORDS: usize = 4;

/// For each action the set names literally (lowercase), which statements' `Action`/`NotAction` match it (one
/// bit per statement id, `NotAction` already applied); for any other action, the bits that do not depend on it.
///
/// What a decision on an action the set names reads comes first, in the order given, and starts a cache line, then
/// what one on another action reads: a cold decision reads the index through one or two lines, not one per field.
#[derive(Debug, Clone, Default)]
#[repr(C, align(64))]
pub(crate) struct ActionIndex {
    /// Whether the set has an index: `false` for the empty one a set too large to index keeps.
    on: bool,
    buckets: Box<[u32]>,
    /// `(folded, lowercase action)`.
    entries: Box<[(crate::context::Folded, Box<[u8]>)]>,
    /// Per entry, what its action meets (see [`crate::lower::Plan`]); their ids and gates in `plan_arena`.
    plans: Box<[crate::lower::Plan]>,
    pub plan_arena: crate::lower::Plans,
    /// The statements by id, lowered for the fast path.
    pub lowered: crate::lower::Lowered,
    /// An action the set never names: `*` patterns and all-literal `NotAction`s match it, all-literal `Action`s
    /// do not; the bits of `wild` statements are clear, to be computed from the patterns.
    pub unknown: [u64; MASK_WORDS],
    /// The `wild` statements, matched against an action the set never names.
    pub wild: WildActions,
    /// `MASK_WORDS` words per entry.
    masks: Vec<[u64; MASK_WORDS]>,
    /// Each statement id's place: its policy and index there.
    pub by_id: Vec<(PolicyRef, usize)>,
    /// The statements of each gate, one bit per id (see [`Gates`]).
    pub gates: Gates,
}

/// Statement masks for the fast path of `decide`: which statements deny, which allow unconditionally, and which
/// belong to each gate.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gates {
    /// Deny statements, RCPs excepted.
    pub deny: [u64; MASK_WORDS],
    /// Deny statements of RCPs (they apply only to the services RCPs govern).
    pub rcp_deny: [u64; MASK_WORDS],
    pub allow: [u64; MASK_WORDS],
    /// Allow statements that apply to every request their action matches.
    pub unconditional_allow: [u64; MASK_WORDS],
    /// One mask per SCP level.
    pub scps: Vec<[u64; MASK_WORDS]>,
    pub identity: [u64; MASK_WORDS],
    pub resource: [u64; MASK_WORDS],
    pub boundary: Option<[u64; MASK_WORDS]>,
    pub session: Option<[u64; MASK_WORDS]>,
    pub endpoint: Option<[u64; MASK_WORDS]>,
}

/// Set bit `id` of `m`.
pub(crate) fn set_bit(m: &mut [u64; MASK_WORDS], id: usize) {
    if let Some(w) = m.get_mut(id / 64) {
        *w |= 1 << (id % 64);
    }
}

impl Gates {
    /// The Deny statements an action meets: RCPs' only when they govern it (`action` lowercase).
    fn deny_for(&self, action: &[u8]) -> [u64; MASK_WORDS] {
        self.denies(std::str::from_utf8(action).is_ok_and(crate::decide::rcp_governs))
    }

    /// The Deny statements, RCPs' too when `rcps`.
    pub fn denies(&self, rcps: bool) -> [u64; MASK_WORDS] {
        std::array::from_fn(|k| {
            let d = self.deny.get(k).copied().unwrap_or(0);
            let r = self.rcp_deny.get(k).copied().unwrap_or(0);
            if rcps { d | r } else { d }
        })
    }

    /// The gates that must each have an applicable Allow, in the order of `decide` (§4.2): SCP levels, identity
    /// (when there is no resource policy: with one, see [`Gates::cross`]), boundary, session, endpoint.
    fn must_allow<'a>(&'a self, inner: &Inner) -> Vec<&'a [u64; MASK_WORDS]> {
        let identity = inner.resource.is_none().then_some(&self.identity);
        self.scps
            .iter()
            .chain(identity)
            .chain(self.boundary.as_ref())
            .chain(self.session.as_ref())
            .chain(self.endpoint.as_ref())
            .collect()
    }

    /// The identity and resource gates, when the set has a resource policy.
    fn cross(&self, inner: &Inner) -> Option<(&[u64; MASK_WORDS], &[u64; MASK_WORDS])> {
        inner
            .resource
            .is_some()
            .then_some((&self.identity, &self.resource))
    }

    fn build(inner: &Inner) -> Gates {
        let present = |b: bool| b.then_some([0; MASK_WORDS]);
        let mut g = Gates {
            scps: vec![[0; MASK_WORDS]; inner.scps.len()],
            boundary: present(inner.boundary.is_some()),
            session: present(!inner.session.is_empty()),
            endpoint: present(inner.endpoint.is_some()),
            ..Gates::default()
        };
        for (at, p) in inner.policies() {
            let gate = match at {
                PolicyRef::Scp(l, _) => g.scps.get_mut(l),
                // RCPs only deny: they are no gate.
                PolicyRef::Rcp(..) => None,
                PolicyRef::Resource => Some(&mut g.resource),
                PolicyRef::Identity(_) => Some(&mut g.identity),
                PolicyRef::Boundary => g.boundary.as_mut(),
                PolicyRef::Session(_) => g.session.as_mut(),
                PolicyRef::Endpoint => g.endpoint.as_mut(),
            };
            if let Some(m) = gate {
                p.statements.iter().for_each(|st| set_bit(m, st.id));
            }
            for st in &p.statements {
                match st.effect {
                    Effect::Deny if matches!(at, PolicyRef::Rcp(..)) => {
                        set_bit(&mut g.rcp_deny, st.id)
                    }
                    Effect::Deny => set_bit(&mut g.deny, st.id),
                    Effect::Allow => {
                        set_bit(&mut g.allow, st.id);
                        if st.unconditional {
                            set_bit(&mut g.unconditional_allow, st.id);
                        }
                    }
                }
            }
        }
        g
    }
}

impl ActionIndex {
    /// The index of `inner`'s `statements` statements; `None` when matching the wildcard patterns against the
    /// actions the set names would take more than [`ActionIndex::BUDGET`] matches (the decision then matches each
    /// statement's patterns itself).
    fn build(inner: &Inner, statements: usize) -> Option<ActionIndex> {
        debug_assert!(statements <= MASK_WORDS * 64);
        let mut entries: Vec<(crate::context::Folded, Box<[u8]>)> = Vec::new();
        let mut index_of: std::collections::HashMap<&[u8], usize> =
            std::collections::HashMap::new();
        let mut wild_patterns = 0usize;
        for st in inner.statements() {
            for a in &st.actions {
                match a.glob().as_literal() {
                    // INVARIANT: only well-formed actions have entries, so a request whose action finds one is
                    // well-formed (`Input::well_formed`); a request naming a malformed literal is refused anyway.
                    Some(l) if !crate::shape::action_ok(l) => {}
                    Some(l) => {
                        index_of.entry(l.as_bytes()).or_insert_with(|| {
                            entries.push((
                                crate::context::Folded::of(l.as_bytes()),
                                l.as_bytes().into(),
                            ));
                            entries.len() - 1
                        });
                    }
                    None if st.wild => wild_patterns += 1,
                    None => {}
                }
            }
        }
        if entries.len().saturating_mul(wild_patterns) > Self::BUDGET {
            return None;
        }
        // Per statement, which named actions its patterns match (`hit`), then its bit in each of their masks.
        let mut masks = vec![[0u64; MASK_WORDS]; entries.len()];
        let mut hit = vec![false; entries.len()];
        for st in inner.statements() {
            hit.iter_mut().for_each(|h| *h = st.any_action);
            if !st.any_action {
                for a in &st.actions {
                    match a.glob().as_literal() {
                        Some(l) => {
                            if let Some(h) =
                                index_of.get(l.as_bytes()).and_then(|&i| hit.get_mut(i))
                            {
                                *h = true;
                            }
                        }
                        None => {
                            for (h, (_, action)) in hit.iter_mut().zip(&entries) {
                                *h = *h || a.matches_lowercase(action);
                            }
                        }
                    }
                }
            }
            for (m, &h) in masks.iter_mut().zip(&hit) {
                if h != st.not_action {
                    set_bit(m, st.id);
                }
            }
        }
        let mut unknown = [0; MASK_WORDS];
        for st in inner.statements() {
            if !st.wild && st.any_action != st.not_action {
                set_bit(&mut unknown, st.id);
            }
        }
        let gates = Gates::build(inner);
        let lowered = crate::lower::Lowered::build(inner.statements())?;
        let mut pb = crate::lower::PlanBuilder::new(&lowered);
        let plans = masks
            .iter()
            .zip(&entries)
            .map(|(m, (_, action))| {
                pb.plan(
                    m,
                    &gates.deny_for(action),
                    (&gates.allow, &gates.unconditional_allow),
                    &gates.must_allow(inner),
                    gates.cross(inner),
                )
            })
            .collect::<Option<Vec<_>>>()?;
        let by_id = inner
            .policies()
            .flat_map(|(at, p)| (0..p.statements.len()).map(move |i| (at, i)))
            .collect();
        Some(ActionIndex {
            on: true,
            buckets: buckets(entries.iter().map(|e| e.0.hash()), entries.len())?,
            entries: entries.into(),
            masks,
            plans: plans.into(),
            plan_arena: pb.finish(),
            unknown,
            wild: WildActions::build(inner.statements().filter(|s| s.wild)),
            by_id,
            lowered,
            gates,
        })
    }

    /// The most pattern matches building an index may take (a few tens of milliseconds).
    const BUDGET: usize = 1 << 22;

    /// The entry of `action` (any case), when the set names it.
    #[inline]
    pub fn find(&self, action: &str) -> Option<usize> {
        let b = action.as_bytes();
        let k = crate::context::KeyText::of(b);
        probe(&self.buckets, k.hash(), |i| {
            self.entries.get(i).is_some_and(|(f, e)| f.is(&k, e))
        })
    }

    /// Entry `i`'s mask and plan.
    #[inline]
    pub fn entry(&self, i: usize) -> Option<(&[u64; MASK_WORDS], &crate::lower::Plan)> {
        self.masks.get(i).zip(self.plans.get(i))
    }
}

/// The statements whose `Action`/`NotAction` patterns have wildcards, as an action the set never names is matched
/// against them: patterns that are literal or a literal then `*` (the usual `service:*`, `s3:Get*`) as lowercase
/// texts in one arena, compared as `Pattern::matches` compares those shapes (ASCII case folded); a statement with
/// any other pattern keeps its patterns.
#[derive(Debug, Clone, Default)]
pub(crate) struct WildActions {
    pub statements: Vec<WildStatement>,
    /// `(offset, length, whether a prefix)` of each text in `bytes`.
    texts: Vec<(u32, u32, bool)>,
    bytes: Vec<u8>,
}

/// A statement of [`WildActions`].
#[derive(Debug, Clone)]
pub(crate) struct WildStatement {
    pub id: usize,
    pub not_action: bool,
    /// Its patterns as texts: `texts[start..end]`.
    texts: (u32, u32),
    /// Its patterns, when one is of another shape.
    general: Option<Box<[ActionPattern]>>,
}

impl WildActions {
    fn build<'a>(statements: impl Iterator<Item = &'a CStatement>) -> WildActions {
        let mut w = WildActions::default();
        for st in statements {
            let (from, bytes_from) = (w.texts.len(), w.bytes.len());
            let flat = st.actions.iter().all(|a| {
                let g = a.glob();
                let Some((t, prefix)) = g
                    .as_literal()
                    .map(|t| (t, false))
                    .or_else(|| g.as_prefix().map(|t| (t, true)))
                else {
                    return false;
                };
                match (u32::try_from(w.bytes.len()), u32::try_from(t.len())) {
                    (Ok(at), Ok(len)) => {
                        w.bytes.extend_from_slice(t.as_bytes());
                        w.texts.push((at, len, prefix));
                        true
                    }
                    _ => false,
                }
            });
            if !flat {
                w.texts.truncate(from);
                w.bytes.truncate(bytes_from);
            }
            let span = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            w.statements.push(WildStatement {
                id: st.id,
                not_action: st.not_action,
                texts: (span(from), span(w.texts.len())),
                general: (!flat).then(|| st.actions.clone().into_boxed_slice()),
            });
        }
        w
    }

    /// Whether statement `st`'s patterns match `action` (any case; before `NotAction` applies).
    #[inline]
    pub fn matches(&self, st: &WildStatement, action: &str) -> bool {
        if let Some(ps) = &st.general {
            return ps.iter().any(|a| a.matches(action));
        }
        let a = action.as_bytes();
        let texts = self
            .texts
            .get(st.texts.0 as usize..st.texts.1 as usize)
            .unwrap_or_default();
        texts.iter().any(|&(at, len, prefix)| {
            let t = self
                .bytes
                .get(at as usize..at as usize + len as usize)
                .unwrap_or_default();
            let head = if prefix { a.get(..t.len()) } else { Some(a) };
            head.is_some_and(|h| crate::context::eq_lower(h, t))
        })
    }
}

/// Every policy that applies to a request, compiled. Immutable, `Send + Sync`, cheap to clone.
///
/// ```
/// use iamgate::{Policy, PolicySet, Request, Decision};
/// let allow = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///     "Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}]}"#).unwrap();
/// let set = PolicySet::builder().identity(allow).build().unwrap();
/// let req = Request::new("sagemaker:CreatePresignedDomainUrl",
///     "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice")
///     .principal("arn:aws:iam::111122223333:role/DataSci");
/// assert_eq!(set.decide(&req), Decision::Allow);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub(crate) inner: Arc<Inner>,
}

/// Collects policies for a [`PolicySet`].
#[derive(Debug, Default)]
pub struct PolicySetBuilder {
    identity: Vec<Policy>,
    resource: Option<Policy>,
    boundary: Option<Policy>,
    session: Vec<Policy>,
    scps: Vec<Vec<Policy>>,
    rcps: Vec<Vec<Policy>>,
    endpoint: Option<Policy>,
    endpoint_kind: EndpointKind,
    resource_kind: ResourceKind,
}

impl PolicySetBuilder {
    /// Add an identity-based policy (attached to the principal, inline or managed).
    pub fn identity(mut self, p: Policy) -> Self {
        self.identity.push(p);
        self
    }
    /// Set the resource-based policy of the resource.
    pub fn resource(mut self, p: Policy) -> Self {
        self.resource = Some(p);
        self.resource_kind = ResourceKind::Resource;
        self
    }
    /// Set the role trust policy of the role that the request (`sts:AssumeRole*`) names: it has no `Resource`,
    /// and it must itself allow (docs/SEMANTICS.md §4.1).
    pub fn trust_policy(mut self, p: Policy) -> Self {
        self.resource = Some(p);
        self.resource_kind = ResourceKind::Trust;
        self
    }
    /// Set the key policy of the KMS key that the request names: it must itself allow, and an Allow for the
    /// account delegates to IAM policies (docs/SEMANTICS.md §4.1).
    pub fn key_policy(mut self, p: Policy) -> Self {
        self.resource = Some(p);
        self.resource_kind = ResourceKind::Key;
        self
    }
    /// Set the resource-based policy with its kind (see [`PolicySetBuilder::resource`],
    /// [`PolicySetBuilder::trust_policy`], [`PolicySetBuilder::key_policy`]).
    pub fn resource_as(mut self, p: Policy, kind: ResourceKind) -> Self {
        self.resource = Some(p);
        self.resource_kind = kind;
        self
    }
    /// Set the principal's permissions boundary.
    pub fn boundary(mut self, p: Policy) -> Self {
        self.boundary = Some(p);
        self
    }
    /// Add a session policy.
    pub fn session(mut self, p: Policy) -> Self {
        self.session.push(p);
        self
    }
    /// Add one SCP level (root, then each OU, then the account); every level must allow.
    pub fn scp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.scps.push(level.into_iter().collect());
        self
    }
    /// Add one RCP level; each level implicitly carries `RCPFullAWSAccess`, so RCPs can only deny.
    pub fn rcp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.rcps.push(level.into_iter().collect());
        self
    }
    /// Set the policy of the VPC endpoint the request came through (an interface endpoint unless
    /// [`PolicySetBuilder::endpoint_kind`] says otherwise).
    pub fn endpoint(mut self, p: Policy) -> Self {
        self.endpoint = Some(p);
        self
    }
    /// Say which kind of VPC endpoint the endpoint policy belongs to (docs/SEMANTICS.md §1.6): in a gateway
    /// endpoint's policy an account principal means only the account's root user.
    pub fn endpoint_kind(mut self, kind: EndpointKind) -> Self {
        self.endpoint_kind = kind;
        self
    }

    pub fn build(self) -> Result<PolicySet, CompileError> {
        let c = CompiledPolicy::compile;
        let mut inner = Inner::default();
        for (l, level) in self.scps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.push(c(p, PolicyRef::Scp(l, j))?);
            }
            inner.scps.push(out);
        }
        for (l, level) in self.rcps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.push(c(p, PolicyRef::Rcp(l, j))?);
            }
            inner.rcps.push(out);
        }
        let kind = self.resource_kind;
        inner.resource = self
            .resource
            .map(|p| CompiledPolicy::compile_as(p, PolicyRef::Resource, kind))
            .transpose()?;
        inner.resource_kind = kind;
        inner.endpoint_kind = self.endpoint_kind;
        for (i, p) in self.identity.into_iter().enumerate() {
            inner.identity.push(c(p, PolicyRef::Identity(i))?);
        }
        inner.boundary = self
            .boundary
            .map(|p| c(p, PolicyRef::Boundary))
            .transpose()?;
        for (i, p) in self.session.into_iter().enumerate() {
            inner.session.push(c(p, PolicyRef::Session(i))?);
        }
        inner.endpoint = self
            .endpoint
            .map(|p| c(p, PolicyRef::Endpoint))
            .transpose()?;
        Ok(PolicySet {
            inner: Arc::new(inner.intern()),
        })
    }
}

impl PolicySet {
    pub fn builder() -> PolicySetBuilder {
        PolicySetBuilder::default()
    }

    /// Every policy with its place, in evaluation order: SCPs, RCPs, resource, identity, boundary, session,
    /// endpoint.
    pub fn policies(&self) -> impl Iterator<Item = (PolicyRef, &CompiledPolicy)> {
        self.inner.policies()
    }

    /// The policy at `at`, if the set has one there.
    pub fn get(&self, at: PolicyRef) -> Option<&CompiledPolicy> {
        let i = &self.inner;
        match at {
            PolicyRef::Identity(n) => i.identity.get(n),
            PolicyRef::Resource => i.resource.as_ref(),
            PolicyRef::Boundary => i.boundary.as_ref(),
            PolicyRef::Session(n) => i.session.get(n),
            PolicyRef::Scp(l, j) => i.scps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Rcp(l, j) => i.rcps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Endpoint => i.endpoint.as_ref(),
        }
    }

    /// A copy of this set with another endpoint policy (or none): the same identity-side policies decided
    /// through a different endpoint.
    pub fn with_endpoint(&self, endpoint: Option<CompiledPolicy>) -> PolicySet {
        let i = &self.inner;
        if endpoint.is_none() && i.endpoint.is_none() {
            // Nothing to swap: the same policies, already compiled (bulk callers ask for this per step).
            return self.clone();
        }
        PolicySet {
            inner: Arc::new(
                Inner {
                    scps: i.scps.clone(),
                    rcps: i.rcps.clone(),
                    resource: i.resource.clone(),
                    identity: i.identity.clone(),
                    boundary: i.boundary.clone(),
                    session: i.session.clone(),
                    endpoint,
                    resource_kind: i.resource_kind,
                    // The endpoints of a network are interface endpoints (the SageMaker API and Studio).
                    endpoint_kind: EndpointKind::Interface,
                    ..Inner::default()
                }
                .intern(),
            ),
        }
    }

    pub fn has_scps(&self) -> bool {
        !self.inner.scps.is_empty()
    }

    /// The kind of VPC endpoint the set's endpoint policy belongs to.
    pub fn endpoint_kind(&self) -> EndpointKind {
        self.inner.endpoint_kind
    }

    /// What the set's resource-based policy is.
    pub fn resource_kind(&self) -> ResourceKind {
        self.inner.resource_kind
    }
}

/// Compile a single endpoint policy, for [`PolicySet::with_endpoint`].
pub fn compile_endpoint_policy(p: Policy) -> Result<CompiledPolicy, CompileError> {
    CompiledPolicy::compile(p, PolicyRef::Endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::pattern::NoVars;

    /// Colliding hashes: up to `MAX_PROBE` + 1 entries on one bucket build and are all found; more refuse to
    /// build; a lookup for an absent key stops within `MAX_PROBE` buckets.
    #[test]
    fn bucket_tables_bound_their_probes() {
        let fits = buckets(std::iter::repeat_n(5u64, MAX_PROBE + 1), MAX_PROBE + 1).unwrap();
        for i in 0..=MAX_PROBE {
            assert_eq!(probe(&fits, 5, |j| j == i), Some(i));
        }
        let mut looked = 0;
        assert_eq!(
            probe(&fits, 5, |_| {
                looked += 1;
                false
            }),
            None
        );
        assert!(looked <= MAX_PROBE + 1);
        assert!(buckets(std::iter::repeat_n(5u64, MAX_PROBE + 2), MAX_PROBE + 2).is_none());
        // Ordinary keys build: 10,000 decimal numbers.
        assert!(
            buckets(
                (0..10_000u64).map(crate::context::key_hash_words_test),
                10_000
            )
            .is_some()
        );
    }

    /// Keys scanned instead of hashed (a table that would not build) are found alike, in any case.
    #[test]
    fn key_table_without_buckets_scans() {
        let keys: Vec<(u64, String)> = ["aws:sourcevpce", "aws:principaltag/team", "my:key"]
            .iter()
            .map(|k| (crate::context::key_hash(k.as_bytes()), k.to_string()))
            .collect();
        let hashed = KeyTable::build(keys);
        let scanned = KeyTable {
            buckets: None,
            ..hashed.clone()
        };
        for k in [
            "AWS:SourceVpce",
            "aws:PrincipalTag/Team",
            "MY:KEY",
            "aws:SourceIp",
            "absent:key",
        ] {
            let a = hashed.get_any_case(k).map(|e| (&e.key, e.slot, e.ty));
            let b = scanned.get_any_case(k).map(|e| (&e.key, e.slot, e.ty));
            assert_eq!(a, b, "{k}");
            assert_eq!(a.is_some(), k != "absent:key", "{k}");
        }
    }

    /// A hashed set of literal values answers as the scan of their patterns, for every list length around the
    /// threshold, values with `*`, `?`, case and length variants, and values that are not in the list.
    #[test]
    fn literal_set_answers_as_the_scan() {
        let alphabet: Vec<char> = "aA*?-:/0é".chars().collect();
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for n in 0..40 {
            let mut word = || -> String {
                let len = (next() % 12) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let values: Vec<String> = (0..n).map(|_| word()).collect();
            let ps: Vec<Pattern> = values
                .iter()
                .map(|v| Pattern::parse(v, false, true))
                .collect();
            let set = LiteralSet::of(&ps);
            assert_eq!(set.is_some(), n >= LiteralSet::MIN, "{n}");
            let probes: Vec<String> = values
                .iter()
                .flat_map(|v| {
                    [
                        v.clone(),
                        v.to_uppercase(),
                        format!("{v}a"),
                        v.chars().skip(1).collect(),
                    ]
                })
                .chain((0..50).map(|_| word()))
                .collect();
            for probe in probes {
                let scan = ps
                    .iter()
                    .any(|p| p.matches(&probe, &NoVars, false) == Some(true));
                if let Some(set) = &set {
                    assert_eq!(set.contains(&probe), scan, "{probe:?} in {values:?}");
                }
                assert_eq!(scan, values.contains(&probe));
            }
        }
        // A value with a policy variable is not literal: no set.
        let mut ps: Vec<Pattern> = (0..10)
            .map(|i| Pattern::parse(&format!("v{i}"), false, true))
            .collect();
        ps.push(Pattern::parse("${aws:username}", false, true));
        assert!(LiteralSet::of(&ps).is_none());
    }
}
