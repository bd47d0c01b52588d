//! Deciding principals on networks, in batches: each distinct policy text is parsed once, each distinct
//! combination of policies compiled once (and once more per endpoint policy it meets), and a principal whose
//! policies cannot read anything about the principal (no `Principal`, no `aws:Principal*` key, no policy
//! variable) shares the decision of every other principal with the same combination, network and user profile.
//! Batches run in parallel over principals (rayon); the caches are dropped when they grow past a bound, so
//! memory stays flat however long the input.

use super::{InputError, PolicyDoc, Principal};
use crate::compile::{CompiledPolicy, PolicyRef, PolicySet, compile_endpoint_policy};
use crate::context::{ContextValue, Scalar};
use crate::decide::Reason;
use crate::network::findings::{self, Finding};
use crate::network::{
    DerivedStep, EgressKind, EndpointRole, Network, Reach, StepDecision, StepKind, StepReport,
    Verdict, decide_step_in, derive, sso_finding,
};
use crate::policy::Policy;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// What the candidate policy of `--guardrail` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardrailKind {
    /// Added to the last (account) SCP level; with no `--scp` levels, a new level beside `FullAWSAccess`.
    Scp,
    /// Added to the last RCP level, or a new level.
    Rcp,
    /// Every principal's permissions boundary, in place of its own.
    Boundary,
    /// The policy of every interface endpoint a step reaches, in place of the network's.
    Endpoint,
}

impl std::str::FromStr for GuardrailKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "scp" => GuardrailKind::Scp,
            "rcp" => GuardrailKind::Rcp,
            "boundary" => GuardrailKind::Boundary,
            "endpoint" => GuardrailKind::Endpoint,
            other => {
                return Err(format!(
                    "unknown guardrail kind `{other}`; valid kinds are `scp`, `rcp`, `boundary` and `endpoint`"
                ));
            }
        })
    }
}

#[derive(Debug, Clone)]
pub struct Guardrail {
    pub kind: GuardrailKind,
    pub doc: PolicyDoc,
}

/// The run's settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// SCP levels, root first, for principals without their own.
    pub scps: Vec<Vec<PolicyDoc>>,
    /// RCP levels, for principals without their own.
    pub rcps: Vec<Vec<PolicyDoc>>,
    pub guardrail: Option<Guardrail>,
    /// The user profile every principal targets, in place of each network's `user_profile`.
    pub user_profile: Option<String>,
    /// A principal tag whose value names the user profile (when the principal has it).
    pub profile_tag: Option<String>,
}

/// The deciding statement of a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deciding {
    pub step: StepKind,
    /// The policy's name: a managed policy's ARN, `inline:NAME`, a file, or a gate (`identity`, `scps[0]`) when
    /// no statement allowed.
    pub policy: String,
    /// Where the policy was read (`FILE#JSONPATH`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    pub sid: Option<String>,
    pub statement: Option<usize>,
    /// `Allow`, `Deny`, or `NoAllow` (no statement allowed).
    pub effect: String,
}

/// Both steps on one network, decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub create: StepDecision,
    #[serde(rename = "use")]
    pub use_: StepDecision,
    pub verdict: Verdict,
    /// `{}` when nothing decided (a step unreachable), as in the row.
    #[serde(serialize_with = "object_or_empty")]
    pub deciding: Option<Deciding>,
}

fn object_or_empty<S: serde::Serializer>(d: &Option<Deciding>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => d.serialize(s),
        None => serde_json::Map::new().serialize(s),
    }
}

impl Cell {
    /// Whether the decisions differ (the deciding statement aside).
    pub fn differs(&self, other: &Cell) -> bool {
        (self.create, self.use_, self.verdict) != (other.create, other.use_, other.verdict)
    }
}

/// A presign finding for one row, with its policy named as in [`Deciding`] (shared: rows only point at it).
#[derive(Debug, Clone)]
pub struct RowFinding {
    pub finding: Arc<Finding>,
    pub policy: Arc<str>,
    pub place: Option<Arc<str>>,
}

/// One principal on one network.
#[derive(Debug, Clone)]
pub struct Row {
    pub principal: Arc<str>,
    pub source: Arc<str>,
    /// Index into the runner's networks.
    pub network: usize,
    pub user_profile: String,
    /// With the guardrail, if one is given.
    pub now: Cell,
    /// Without the guardrail (only with `--guardrail`).
    pub before: Option<Cell>,
    pub findings: Vec<RowFinding>,
}

/// What one principal yields.
pub type Outcome = Result<Vec<Row>, InputError>;

/// One decided network, before names are resolved: shared between principals.
#[derive(Debug, Clone)]
struct Decided {
    create: StepDecision,
    use_: StepDecision,
    verdict: Verdict,
    deciding: Option<(StepKind, Reason)>,
    findings: SharedFindings,
}

/// Findings shared between the rows (and principals) they hold for.
type SharedFindings = Arc<Vec<Arc<Finding>>>;

struct NetInfo {
    net: Network,
    derived: Vec<DerivedStep>,
    /// An endpoint policy that reads the principal.
    sensitive: bool,
}

impl NetInfo {
    fn endpoint_policy(&self, role: EndpointRole) -> Option<CompiledPolicy> {
        self.net
            .endpoint(role)
            .and_then(|e| e.policy.as_ref())
            .map(|p| p.compiled.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ComboKey {
    identity: Vec<u32>,
    boundary: Option<u32>,
    scps: Vec<Vec<u32>>,
    rcps: Vec<Vec<u32>>,
    endpoint_guard: bool,
}

struct Combo {
    set: Result<PolicySet, String>,
    sensitive: bool,
    endpoint_guard: bool,
}

struct Stored {
    policy: Result<Policy, String>,
    sensitive: bool,
}

/// Past these sizes (distinct policy texts, their bytes, shared decisions) the caches are dropped between
/// batches: memory stays flat however many distinct policies a corpus holds.
const MAX_DOCS: usize = 20_000;
const MAX_DOC_BYTES: usize = 1 << 20;
const MAX_MEMO: usize = 100_000;

/// The `FullAWSAccess` SCP that a candidate SCP sits beside when the run has no SCP levels.
const FULL_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Decides principals on networks. Feed it batches with [`Runner::run_batch`].
pub struct Runner {
    opts: Options,
    nets: Vec<NetInfo>,
    guard_endpoint: Option<CompiledPolicy>,
    full_access: PolicyDoc,
    docs: HashMap<Arc<str>, u32>,
    stored: Vec<Stored>,
    stored_bytes: usize,
    combos: HashMap<ComboKey, u32>,
    combo_list: Vec<Combo>,
    /// (combo, network, endpoint role) -> the combo with that endpoint's policy.
    ep_sets: HashMap<(u32, usize, EndpointRole), PolicySet>,
    memo: HashMap<(u32, usize, String), Arc<Decided>>,
    /// The findings of a principal-dependent combination on a network and profile: those of the first principal
    /// met (findings are about the policies and the network; decisions stay per principal).
    findings_memo: HashMap<(u32, usize, String), SharedFindings>,
    /// Distinct combinations compiled so far (for the tests and the benchmarks).
    pub compiled_combos: usize,
}

/// Whether a policy text can read anything about the principal: a `Principal` element, an `aws:Principal*`
/// key, or a policy variable.
fn reads_principal(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    text.contains("${")
        || lower.contains("principal")
        || lower.contains("aws:username")
        || lower.contains("aws:userid")
}

/// The user name of an IAM user's ARN (`arn:aws:iam::ACCOUNT:user/PATH/NAME`), the value of `aws:username`.
fn user_name(arn: &str) -> Option<&str> {
    let rest = arn.splitn(6, ':').nth(5)?;
    let path = rest.strip_prefix("user/")?;
    path.rsplit('/').next()
}

impl Runner {
    pub fn new(networks: Vec<Network>, opts: Options) -> Result<Runner, String> {
        let mut guard_endpoint = None;
        if let Some(g) = &opts.guardrail {
            // The candidate must be valid where it goes; else every principal would fail the same way.
            let p = Policy::parse(&g.doc.text).map_err(|e| format!("{}: {e}", g.doc.place))?;
            let built = match g.kind {
                GuardrailKind::Endpoint => {
                    guard_endpoint = Some(
                        compile_endpoint_policy(p).map_err(|e| format!("{}: {e}", g.doc.place))?,
                    );
                    Ok(())
                }
                GuardrailKind::Scp => PolicySet::builder().scp_level([p]).build().map(drop),
                GuardrailKind::Rcp => PolicySet::builder().rcp_level([p]).build().map(drop),
                GuardrailKind::Boundary => PolicySet::builder().boundary(p).build().map(drop),
            };
            built.map_err(|e| {
                let (line, col) =
                    crate::span::line_col(&e.source_text, e.diagnostic.span.start as usize);
                format!(
                    "{}: {} (line {line}, column {col})",
                    g.doc.place, e.diagnostic.message
                )
            })?;
        }
        let nets = networks
            .into_iter()
            .map(|net| {
                let sensitive = [EndpointRole::Api, EndpointRole::Studio].iter().any(|r| {
                    net.endpoint(*r)
                        .and_then(|e| e.policy.as_ref())
                        .is_some_and(|p| reads_principal(p.compiled.policy().source()))
                });
                NetInfo {
                    derived: derive(&net),
                    net,
                    sensitive,
                }
            })
            .collect();
        Ok(Runner {
            opts,
            nets,
            guard_endpoint,
            full_access: PolicyDoc {
                name: "FullAWSAccess".into(),
                place: "FullAWSAccess".into(),
                text: FULL_ACCESS.into(),
            },
            docs: HashMap::new(),
            stored: Vec::new(),
            stored_bytes: 0,
            combos: HashMap::new(),
            combo_list: Vec::new(),
            ep_sets: HashMap::new(),
            memo: HashMap::new(),
            findings_memo: HashMap::new(),
            compiled_combos: 0,
        })
    }

    pub fn networks(&self) -> impl Iterator<Item = &Network> {
        self.nets.iter().map(|n| &n.net)
    }

    pub fn network(&self, i: usize) -> Option<&Network> {
        self.nets.get(i).map(|n| &n.net)
    }

    pub fn has_guardrail(&self) -> bool {
        self.opts.guardrail.is_some()
    }

    /// Whether the create step of network `i` leaves through a shared Zscaler egress onto the public endpoint.
    pub fn creates_from_shared_egress(&self, i: usize) -> bool {
        self.nets.get(i).is_some_and(|n| {
            n.derived
                .first()
                .is_some_and(|d| matches!(d.reach, Reach::Public { .. }))
                && n.net
                    .client
                    .egress
                    .as_ref()
                    .is_some_and(|e| e.kind == EgressKind::Zscaler)
        })
    }

    fn intern(&mut self, doc: &PolicyDoc) -> u32 {
        if let Some(&id) = self.docs.get(&doc.text) {
            return id;
        }
        let id = self.stored.len() as u32;
        let policy = Policy::parse(&doc.text).map_err(|e| {
            let (line, col) = e.line_col();
            let msg = e
                .diagnostics
                .first()
                .map_or_else(|| e.to_string(), |d| d.message.clone());
            format!("{msg} (line {line}, column {col})")
        });
        self.stored_bytes += doc.text.len();
        self.stored.push(Stored {
            policy,
            sensitive: reads_principal(&doc.text),
        });
        self.docs.insert(doc.text.clone(), id);
        id
    }

    /// The effective policies of `p` with or without the guardrail: SCP levels, RCP levels, boundary.
    fn effective(&self, p: &Principal, guard: bool) -> Effective {
        let mut scps = p.scps.clone().unwrap_or_else(|| self.opts.scps.clone());
        let mut rcps = p.rcps.clone().unwrap_or_else(|| self.opts.rcps.clone());
        let mut boundary = p.boundary.clone();
        let mut endpoint_guard = false;
        if let (true, Some(g)) = (guard, &self.opts.guardrail) {
            match g.kind {
                GuardrailKind::Scp => match scps.last_mut() {
                    Some(level) => level.push(g.doc.clone()),
                    None => scps.push(vec![self.full_access.clone(), g.doc.clone()]),
                },
                GuardrailKind::Rcp => match rcps.last_mut() {
                    Some(level) => level.push(g.doc.clone()),
                    None => rcps.push(vec![g.doc.clone()]),
                },
                GuardrailKind::Boundary => boundary = Some(g.doc.clone()),
                GuardrailKind::Endpoint => endpoint_guard = true,
            }
        }
        Effective {
            scps,
            rcps,
            boundary,
            endpoint_guard,
        }
    }

    /// Intern `p`'s policies and find (or register) its combination; the error names the first bad policy.
    fn combo_key(&mut self, p: &Principal, e: &Effective) -> Result<ComboKey, InputError> {
        let check = |this: &mut Runner, d: &PolicyDoc| -> Result<u32, InputError> {
            let id = this.intern(d);
            match this.stored.get(id as usize).map(|s| &s.policy) {
                Some(Err(m)) => Err(doc_error(p, d, m)),
                _ => Ok(id),
            }
        };
        let mut identity = Vec::with_capacity(p.identity.len());
        for d in &p.identity {
            identity.push(check(self, d)?);
        }
        let boundary = match &e.boundary {
            Some(d) => Some(check(self, d)?),
            None => None,
        };
        let levels =
            |this: &mut Runner, ls: &[Vec<PolicyDoc>]| -> Result<Vec<Vec<u32>>, InputError> {
                let mut out = Vec::new();
                for l in ls {
                    let mut ids = Vec::new();
                    for d in l {
                        ids.push(check(this, d)?);
                    }
                    out.push(ids);
                }
                Ok(out)
            };
        let scps = levels(self, &e.scps)?;
        let rcps = levels(self, &e.rcps)?;
        Ok(ComboKey {
            identity,
            boundary,
            scps,
            rcps,
            endpoint_guard: e.endpoint_guard,
        })
    }

    fn policy(&self, id: u32) -> Option<Policy> {
        self.stored
            .get(id as usize)
            .and_then(|s| s.policy.as_ref().ok())
            .cloned()
    }

    fn build(&self, k: &ComboKey) -> Combo {
        let mut b = PolicySet::builder();
        let mut sensitive = false;
        let mut add = |id: u32| {
            sensitive |= self.stored.get(id as usize).is_some_and(|s| s.sensitive);
            self.policy(id)
        };
        for &id in &k.identity {
            if let Some(p) = add(id) {
                b = b.identity(p);
            }
        }
        if let Some(p) = k.boundary.and_then(&mut add) {
            b = b.boundary(p);
        }
        for l in &k.scps {
            b = b.scp_level(l.iter().filter_map(|&id| add(id)).collect::<Vec<_>>());
        }
        for l in &k.rcps {
            b = b.rcp_level(l.iter().filter_map(|&id| add(id)).collect::<Vec<_>>());
        }
        let set = b.build().map_err(|e| {
            let (line, col) =
                crate::span::line_col(&e.source_text, e.diagnostic.span.start as usize);
            format!(
                "{}: {} (line {line}, column {col})",
                e.policy, e.diagnostic.message
            )
        });
        Combo {
            set,
            sensitive,
            endpoint_guard: k.endpoint_guard,
        }
    }

    fn profile(&self, p: &Principal, net: &Network) -> String {
        if let Some(t) = self.opts.profile_tag.as_deref().and_then(|k| p.tag(k)) {
            return t.to_string();
        }
        self.opts
            .user_profile
            .clone()
            .unwrap_or_else(|| net.user_profile.clone())
    }

    /// Decide a batch of principals on every network, in parallel; one outcome per principal, in order.
    pub fn run_batch(&mut self, batch: Vec<Principal>) -> Vec<Outcome> {
        if self.stored.len() > MAX_DOCS
            || self.stored_bytes > MAX_DOC_BYTES
            || self.memo.len() > MAX_MEMO
        {
            self.stored_bytes = 0;
            self.docs.clear();
            self.stored.clear();
            self.combos.clear();
            self.combo_list.clear();
            self.ep_sets.clear();
            self.memo.clear();
            self.findings_memo.clear();
        }
        // 1. Combinations, sequentially (interning), then the new ones compiled in parallel.
        let guard = self.opts.guardrail.is_some();
        let mut prepared: Vec<Result<Prep, InputError>> = Vec::with_capacity(batch.len());
        let mut fresh: Vec<ComboKey> = Vec::new();
        for p in batch {
            let mut ids = [None, None];
            let mut failed = None;
            for (slot, with_guard) in [(0, true), (1, false)] {
                if slot == 1 && !guard {
                    break;
                }
                let e = self.effective(&p, with_guard);
                match self.combo_key(&p, &e) {
                    Ok(k) => {
                        let id = match self.combos.get(&k) {
                            Some(&id) => id,
                            None => {
                                let id = (self.combo_list.len() + fresh.len()) as u32;
                                self.combos.insert(k.clone(), id);
                                fresh.push(k);
                                id
                            }
                        };
                        if let Some(s) = ids.get_mut(slot) {
                            *s = Some((id, e));
                        }
                    }
                    Err(err) => failed = Some(err),
                }
            }
            prepared.push(match (failed, ids) {
                (Some(err), _) => Err(err),
                (None, [Some(now), before]) => Ok(Prep { p, now, before }),
                (None, _) => Err(InputError::new(&p.source, "no policies".into(), 1, 1, "$")),
            });
        }
        let built: Vec<Combo> = fresh.par_iter().map(|k| self.build(k)).collect();
        self.compiled_combos += built.len();
        self.combo_list.extend(built);
        // 2. Endpoint variants of each combination met in this batch.
        let mut need: Vec<(u32, usize, EndpointRole)> = Vec::new();
        for prep in prepared.iter().flatten() {
            for (cid, _) in std::iter::once(&prep.now).chain(prep.before.as_ref()) {
                for (ni, n) in self.nets.iter().enumerate() {
                    for d in &n.derived {
                        if let Reach::Endpoint { role, .. } = d.reach {
                            let key = (*cid, ni, role);
                            if !self.ep_sets.contains_key(&key) && !need.contains(&key) {
                                need.push(key);
                            }
                        }
                    }
                }
            }
        }
        let sets: Vec<_> = need
            .par_iter()
            .filter_map(|&(cid, ni, role)| {
                let combo = self.combo_list.get(cid as usize)?;
                let set = combo.set.as_ref().ok()?;
                let ep = if combo.endpoint_guard {
                    self.guard_endpoint.clone()
                } else {
                    self.nets.get(ni)?.endpoint_policy(role)
                };
                let s = match ep {
                    Some(ep) => set.with_endpoint(Some(ep)),
                    None => set.clone(),
                };
                Some(((cid, ni, role), s))
            })
            .collect();
        self.ep_sets.extend(sets);
        // 3. Shared decisions: every (combination, network, profile) that does not depend on the principal.
        let mut shared: Vec<(u32, usize, String, usize)> = Vec::new();
        let mut per_principal: Vec<(u32, usize, String, usize)> = Vec::new();
        let mut seen: std::collections::HashSet<(u32, usize, String)> = Default::default();
        for (pi, prep) in prepared.iter().enumerate() {
            let Ok(prep) = prep else { continue };
            for (cid, _) in std::iter::once(&prep.now).chain(prep.before.as_ref()) {
                let Some(combo) = self.combo_list.get(*cid as usize) else {
                    continue;
                };
                if combo.set.is_err() {
                    continue;
                }
                for (ni, n) in self.nets.iter().enumerate() {
                    let key = (*cid, ni, self.profile(&prep.p, &n.net));
                    let known =
                        self.memo.contains_key(&key) || self.findings_memo.contains_key(&key);
                    if known || !seen.insert(key.clone()) {
                        continue;
                    }
                    if combo.sensitive || n.sensitive {
                        per_principal.push((key.0, key.1, key.2, pi));
                    } else {
                        shared.push((key.0, key.1, key.2, pi));
                    }
                }
            }
        }
        let decided: Vec<_> = shared
            .into_par_iter()
            .filter_map(|(cid, ni, profile, pi)| {
                let prep = prepared.get(pi)?.as_ref().ok()?;
                let d = self.decide(cid, ni, &prep.p, &profile, None)?;
                Some(((cid, ni, profile), Arc::new(d)))
            })
            .collect();
        self.memo.extend(decided);
        let found: Vec<_> = per_principal
            .into_par_iter()
            .filter_map(|(cid, ni, profile, pi)| {
                let prep = prepared.get(pi)?.as_ref().ok()?;
                let d = self.decide(cid, ni, &prep.p, &profile, None)?;
                Some(((cid, ni, profile), d.findings))
            })
            .collect();
        self.findings_memo.extend(found);
        // 4. Rows, in parallel, in order.
        let this = &*self;
        prepared
            .into_par_iter()
            .map(|prep| {
                let prep = prep?;
                this.rows(&prep)
            })
            .collect()
    }

    fn rows(&self, prep: &Prep) -> Outcome {
        let mut rows = Vec::with_capacity(self.nets.len());
        for (ni, n) in self.nets.iter().enumerate() {
            let profile = self.profile(&prep.p, &n.net);
            let cell =
                |(cid, e): &(u32, Effective)| -> Result<(Cell, Vec<RowFinding>), InputError> {
                    let combo = self.combo_list.get(*cid as usize);
                    if let Some(Err(m)) = combo.map(|c| &c.set) {
                        return Err(InputError::new(&prep.p.source, m.clone(), 1, 1, "$"));
                    }
                    let key = (*cid, ni, profile.clone());
                    let d = match self.memo.get(&key) {
                        Some(d) => d.clone(),
                        None => {
                            let known = self.findings_memo.get(&key);
                            Arc::new(self.decide(*cid, ni, &prep.p, &profile, known).ok_or_else(
                                || {
                                    InputError::new(
                                        &prep.p.source,
                                        "the policies could not be compiled".into(),
                                        1,
                                        1,
                                        "$",
                                    )
                                },
                            )?)
                        }
                    };
                    let namer = Namer {
                        p: &prep.p,
                        e,
                        net: &n.net,
                        guard: self.opts.guardrail.as_ref(),
                    };
                    Ok((
                        Cell {
                            create: d.create,
                            use_: d.use_,
                            verdict: d.verdict,
                            deciding: d
                                .deciding
                                .as_ref()
                                .map(|(step, r)| namer.deciding(*step, r)),
                        },
                        d.findings.iter().map(|f| namer.finding(f)).collect(),
                    ))
                };
            let (now, findings) = cell(&prep.now)?;
            let before = match &prep.before {
                Some(b) => Some(cell(b)?.0),
                None => None,
            };
            rows.push(Row {
                principal: prep.p.arn.clone(),
                source: prep.p.source.clone(),
                network: ni,
                user_profile: profile,
                now,
                before,
                findings,
            });
        }
        Ok(rows)
    }

    /// Decide both steps of network `ni` for principal `p` with combination `cid`.
    /// With `known_findings`, the findings are taken from there rather than computed again.
    fn decide(
        &self,
        cid: u32,
        ni: usize,
        p: &Principal,
        profile: &str,
        known_findings: Option<&SharedFindings>,
    ) -> Option<Decided> {
        let combo = self.combo_list.get(cid as usize)?;
        let base = combo.set.as_ref().ok()?;
        let n = self.nets.get(ni)?;
        let resource = format!(
            "arn:aws:sagemaker:{}:{}:user-profile/{}/{}",
            n.net.region, n.net.account, n.net.domain_id, profile
        );
        let mut steps: Vec<StepReport> = Vec::with_capacity(2);
        for d in &n.derived {
            let mut d = d.clone();
            d.request.principal = Some(p.arn.to_string());
            d.request.resource.clone_from(&resource);
            if !matches!(d.reach, Reach::Unreachable) {
                let ctx = &mut d.request.context;
                let s = |v: &str| ContextValue::One(Scalar::String(v.to_string()));
                let _ = ctx.insert("aws:PrincipalArn", s(&p.arn));
                if let Some(a) = p.account() {
                    let _ = ctx.insert("aws:PrincipalAccount", s(a));
                }
                // As presign derives it from the principal (docs/network.md): an IAM user's name.
                if let Some(name) = user_name(&p.arn) {
                    let _ = ctx.insert("aws:username", s(name));
                }
                for (k, v) in &p.tags {
                    let _ = ctx.insert(&format!("aws:PrincipalTag/{k}"), s(v));
                }
            }
            let set = match d.reach {
                Reach::Endpoint { role, .. } => self.ep_sets.get(&(cid, ni, role))?.clone(),
                Reach::Public { .. } | Reach::Unreachable => base.clone(),
            };
            steps.push(decide_step_in(set, &n.net, d));
        }
        let decision = |k: StepKind| {
            steps
                .iter()
                .find(|s| s.step == k)
                .map_or(StepDecision::Unreachable, |s| s.decision)
        };
        let (create, use_) = (decision(StepKind::Create), decision(StepKind::Use));
        let mut verdict = Verdict::of(create, use_);
        let deciding = deciding(&steps, verdict);
        let sso = sso_finding(&n.net);
        if sso.is_some() {
            verdict = Verdict::SsoDomain;
        }
        let findings = match known_findings {
            Some(f) => f.clone(),
            None => {
                let mut v: Vec<Arc<Finding>> = sso.into_iter().map(Arc::new).collect();
                v.extend(
                    findings::analyse(base, &n.net, &steps)
                        .into_iter()
                        .map(Arc::new),
                );
                Arc::new(v)
            }
        };
        Some(Decided {
            create,
            use_,
            verdict,
            deciding,
            findings,
        })
    }
}

struct Prep {
    p: Principal,
    now: (u32, Effective),
    before: Option<(u32, Effective)>,
}

#[derive(Debug, Clone)]
struct Effective {
    scps: Vec<Vec<PolicyDoc>>,
    rcps: Vec<Vec<PolicyDoc>>,
    boundary: Option<PolicyDoc>,
    endpoint_guard: bool,
}

/// The error record of principal `p` whose policy `d` cannot be used: the record names the principal (`source`),
/// the policy and where it was read (message, `path`), and the line and column inside the policy.
fn doc_error(p: &Principal, d: &PolicyDoc, message: &str) -> InputError {
    let path = match d.place.split_once('#') {
        Some((_, at)) if at.starts_with('$') => at,
        _ => "$",
    };
    let (line, column) = parse_line_col(message).unwrap_or((1, 1));
    let from = if *d.place == *d.name {
        String::new()
    } else {
        format!(" (read from `{}`)", d.place)
    };
    InputError::new(
        &p.source,
        format!("policy `{}`{from}: {message}", d.name),
        line,
        column,
        path,
    )
}

fn parse_line_col(m: &str) -> Option<(usize, usize)> {
    let rest = m.rsplit_once("(line ")?.1;
    let (l, rest) = rest.split_once(", column ")?;
    let c = rest.strip_suffix(')')?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

/// The step and reason that decided `verdict`: the first failing step in flow order, else the create step.
fn deciding(steps: &[StepReport], verdict: Verdict) -> Option<(StepKind, Reason)> {
    let step = match verdict {
        Verdict::Works | Verdict::CreateDenied => {
            steps.iter().find(|s| s.step == StepKind::Create)?
        }
        Verdict::UseDenied => steps.iter().find(|s| s.step == StepKind::Use)?,
        Verdict::Partial => steps.iter().find(|s| s.decision == StepDecision::Mixed)?,
        Verdict::Unreachable => return None,
        // Not reached: the SSO verdict is set after the deciding statement is chosen.
        Verdict::SsoDomain => return None,
    };
    let outcome = match step.decision {
        StepDecision::Mixed => step
            .outcomes
            .iter()
            .find(|o| !o.decision.is_allowed())
            .or(step.outcomes.first())?,
        _ => step.outcomes.first()?,
    };
    // An allow names the grant (an identity statement) rather than the SCP or boundary that also allowed.
    let grant = outcome.reasons.iter().find(|r| {
        matches!(
            r,
            Reason::Statement {
                policy: PolicyRef::Identity(_),
                ..
            }
        )
    });
    let reason = match (outcome.decision.is_allowed(), grant) {
        (true, Some(g)) => g,
        _ => outcome.reasons.first()?,
    };
    Some((step.step, reason.clone()))
}

/// Names the policies of one principal's combination as the output shows them.
struct Namer<'a> {
    p: &'a Principal,
    e: &'a Effective,
    net: &'a Network,
    guard: Option<&'a Guardrail>,
}

impl Namer<'_> {
    fn doc(&self, at: PolicyRef) -> Option<&PolicyDoc> {
        match at {
            PolicyRef::Identity(i) => self.p.identity.get(i),
            PolicyRef::Boundary => self.e.boundary.as_ref(),
            PolicyRef::Scp(l, j) => self.e.scps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Rcp(l, j) => self.e.rcps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Endpoint if self.e.endpoint_guard => self.guard.map(|g| &g.doc),
            PolicyRef::Endpoint | PolicyRef::Resource | PolicyRef::Session(_) => None,
        }
    }

    fn name(&self, at: PolicyRef) -> (Arc<str>, Option<Arc<str>>) {
        match self.doc(at) {
            Some(d) => (d.name.clone(), Some(d.place.clone())),
            None if at == PolicyRef::Endpoint => (
                format!("endpoint policy of network `{}`", self.net.name).into(),
                None,
            ),
            None => (at.to_string().into(), None),
        }
    }

    fn deciding(&self, step: StepKind, r: &Reason) -> Deciding {
        match r {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect,
                ..
            } => {
                let (name, place) = self.name(*policy);
                Deciding {
                    step,
                    policy: name.to_string(),
                    place: place.map(|p| p.to_string()),
                    sid: sid.clone(),
                    statement: Some(*statement),
                    effect: effect.to_string(),
                }
            }
            Reason::NoAllow(g) => Deciding {
                step,
                policy: g.to_string(),
                place: None,
                sid: None,
                statement: None,
                effect: "NoAllow".into(),
            },
        }
    }

    fn finding(&self, f: &Arc<Finding>) -> RowFinding {
        let (policy, place) = match parse_ref(&f.policy) {
            Some(at) => self.name(at),
            None => (f.policy.as_str().into(), None),
        };
        RowFinding {
            finding: f.clone(),
            policy,
            place,
        }
    }
}

/// `identity[0]`, `boundary`, `scps[1][0]`, ... back to a [`PolicyRef`].
fn parse_ref(s: &str) -> Option<PolicyRef> {
    let idx = |rest: &str| -> Option<Vec<usize>> {
        rest.split(']')
            .filter(|x| !x.is_empty())
            .map(|x| x.trim_start_matches('[').parse().ok())
            .collect()
    };
    Some(match s {
        "boundary" => PolicyRef::Boundary,
        "endpoint" => PolicyRef::Endpoint,
        "resource" => PolicyRef::Resource,
        _ => {
            let (head, rest) = s.split_at(s.find('[')?);
            let n = idx(rest)?;
            match (head, n.as_slice()) {
                ("identity", [i]) => PolicyRef::Identity(*i),
                ("session", [i]) => PolicyRef::Session(*i),
                ("scps", [l, j]) => PolicyRef::Scp(*l, *j),
                ("rcps", [l, j]) => PolicyRef::Rcp(*l, *j),
                _ => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatif_policy_refs_round_trip() {
        for r in [
            PolicyRef::Identity(3),
            PolicyRef::Boundary,
            PolicyRef::Scp(1, 2),
            PolicyRef::Rcp(0, 0),
            PolicyRef::Endpoint,
            PolicyRef::Session(1),
        ] {
            assert_eq!(parse_ref(&r.to_string()), Some(r));
        }
        assert_eq!(parse_ref("identity"), None);
        assert_eq!(parse_line_col("bad (line 3, column 7)"), Some((3, 7)));
    }

    /// The shared (cached, memoised) decisions agree with `presign` deciding each principal on its own, on
    /// every preset network; and far fewer combinations are compiled than there are principals.
    #[test]
    fn whatif_shared_decisions_match_presign() {
        let dir = std::env::temp_dir().join(format!("iamgate-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let org = dir.join("org.json");
        let mut f = std::fs::File::create(&org).unwrap();
        crate::whatif::synth::write(120, 5, false, &mut f).unwrap();
        drop(f);
        let mut principals = Vec::new();
        crate::whatif::gaad::read(&org, "org.json", &mut |i| match i {
            crate::whatif::Item::Principal(p) => principals.push(*p),
            crate::whatif::Item::Error(e) => panic!("{e:?}"),
        });
        let nets_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/networks");
        let mut nets = Vec::new();
        for e in std::fs::read_dir(&nets_dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                nets.push(Network::load(&p).unwrap());
            }
        }
        nets.sort_by(|a, b| a.name.cmp(&b.name));
        let mut runner = Runner::new(nets.clone(), Options::default()).unwrap();
        let out = runner.run_batch(principals.clone());
        assert!(
            runner.compiled_combos * 2 < principals.len(),
            "{}",
            runner.compiled_combos
        );
        let mut checked = 0;
        for (p, rows) in principals.iter().zip(out) {
            let rows = rows.unwrap();
            assert_eq!(rows.len(), nets.len());
            if p.identity
                .iter()
                .chain(&p.boundary)
                .any(|d| d.text.contains("${"))
            {
                continue;
            }
            let mut b = PolicySet::builder();
            for d in &p.identity {
                b = b.identity(Policy::parse(&d.text).unwrap());
            }
            if let Some(d) = &p.boundary {
                b = b.boundary(Policy::parse(&d.text).unwrap());
            }
            let set = b.build().unwrap();
            for (row, net) in rows.iter().zip(&nets) {
                let mut net = net.clone();
                net.principal = p.arn.to_string();
                let r = crate::network::presign(&set, &net);
                let d = |k: StepKind| r.step(k).map_or(StepDecision::Unreachable, |s| s.decision);
                assert_eq!(
                    (row.now.create, row.now.use_, row.now.verdict),
                    (d(StepKind::Create), d(StepKind::Use), r.verdict),
                    "{} on {}",
                    p.arn,
                    net.name
                );
                checked += 1;
            }
        }
        assert!(checked > 50 * nets.len(), "{checked}");
    }

    /// Past MAX_DOC_BYTES of policy text the caches are dropped before the next batch, and the next batch decides
    /// exactly as a fresh runner does.
    #[test]
    fn whatif_caches_are_bounded_between_batches() {
        let big = |i: usize| -> PolicyDoc {
            let actions: Vec<String> = (0..2000).map(|j| format!("\"s3:Get{i}x{j}\"")).collect();
            let text = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["sagemaker:CreatePresignedDomainUrl",{}],"Resource":"*"}}]}}"#,
                actions.join(",")
            );
            PolicyDoc {
                name: format!("p{i}").into(),
                place: format!("p{i}.json").into(),
                text: text.into(),
            }
        };
        let principals = |range: std::ops::Range<usize>| -> Vec<Principal> {
            range
                .map(|i| {
                    let arn = format!("arn:aws:iam::111122223333:role/r{i}");
                    Principal::new(&arn, &format!("p{i}.json"), vec![big(i)])
                })
                .collect()
        };
        let net_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/networks/zscaler-only.json");
        let nets = vec![Network::load(&net_path).unwrap()];
        let mut runner = Runner::new(nets.clone(), Options::default()).unwrap();
        let first = runner.run_batch(principals(0..40));
        assert!(first.iter().all(Result::is_ok));
        assert!(
            runner.stored_bytes > MAX_DOC_BYTES,
            "{}",
            runner.stored_bytes
        );
        let second = runner.run_batch(principals(30..33));
        assert_eq!(
            runner.stored.len(),
            3,
            "the caches were dropped before the second batch"
        );
        let mut fresh = Runner::new(nets, Options::default()).unwrap();
        let alone = fresh.run_batch(principals(30..33));
        let cells = |o: &[Outcome]| -> Vec<Cell> {
            o.iter()
                .flat_map(|r| r.as_ref().unwrap().iter().map(|row| row.now.clone()))
                .collect()
        };
        assert_eq!(cells(&second), cells(&alone));
        assert!(cells(&second).iter().all(|c| c.verdict == Verdict::Works));
    }

    #[test]
    fn whatif_reads_principal_is_conservative() {
        assert!(reads_principal(
            r#"{"Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}}"#
        ));
        assert!(reads_principal(
            r#"{"Resource":"arn:aws:s3:::b/${aws:username}"}"#
        ));
        assert!(!reads_principal(
            r#"{"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#
        ));
    }
}
