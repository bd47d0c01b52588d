//! The summary after the rows: counts per verdict and network, principals whose access differs between
//! networks, principals that can create from a shared Zscaler egress, SSO-mode domains, domain limits, what a
//! guardrail locks out and leaves open, and the presign findings, each once with the number of rows it holds for.

use super::runner::{Row, RowFinding, Runner};
use crate::network::{AuthMode, StepDecision, Verdict};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// How many examples each list keeps.
const EXAMPLES: usize = 10;

/// The user profiles one Studio domain holds at most (AWS, SageMaker quotas).
pub const MAX_PROFILES_PER_DOMAIN: usize = 1000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counted {
    pub count: usize,
    pub examples: Vec<String>,
}

impl Counted {
    fn add(&mut self, what: &str) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(what.to_string());
        }
    }
}

/// A finding with the rows it holds for: the presign finding of docs/whatif.md, its policy named as in rows.
#[derive(Debug, Clone, Serialize)]
pub struct FindingCount {
    pub network: String,
    pub code: &'static str,
    pub severity: crate::diagnostic::Severity,
    pub message: String,
    pub policy: String,
    pub place: Option<String>,
    pub sid: Option<String>,
    pub statement: Option<usize>,
    /// 1-based, in the policy document (for an export: in the document as printed from the export).
    pub line: usize,
    pub column: usize,
    pub help: String,
    pub rows: usize,
}

impl FindingCount {
    fn new(network: &str, f: &RowFinding) -> FindingCount {
        let g = &f.finding;
        FindingCount {
            network: network.to_string(),
            code: g.code,
            severity: g.severity,
            message: g.message.clone(),
            policy: f.policy.to_string(),
            place: f.place.as_deref().map(str::to_string),
            sid: g.sid.clone(),
            statement: g.statement,
            line: g.line,
            column: g.column,
            help: g.help.clone(),
            rows: 1,
        }
    }
}

/// What a guardrail changes, in rows (principal x network).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GuardrailCounts {
    /// Rows that worked (fully or from part of the range) and no longer do.
    pub locked_out: Counted,
    /// Rows that did not work and now do.
    pub opened: Counted,
    /// Rows that still work with the guardrail.
    pub still_open: Counted,
    /// Rows whose decision changed in any way.
    pub changed: usize,
}

/// A domain-limit finding.
#[derive(Debug, Clone, Serialize)]
pub struct DomainLimit {
    pub code: &'static str,
    pub message: String,
}

/// Network, code, policy, statement, line, column.
type FindingKey = (usize, &'static str, Arc<str>, Option<usize>, usize, usize);

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub inputs: usize,
    pub principals: usize,
    pub rows: usize,
    pub errors: usize,
    /// Network name -> verdict -> rows.
    pub verdicts: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Principals whose verdict is not the same on every network.
    pub differs_between_networks: Counted,
    /// Principals allowed to create (on all or part of the range) on a network whose create step leaves through
    /// a shared Zscaler egress to the public endpoint: anyone on that egress shares the allow-list.
    pub create_from_shared_egress: Counted,
    /// Principals whose policies would let them create on an SSO-mode domain, where the URL is not the way in.
    pub sso_domain_affected: Counted,
    pub domain_limits: Vec<DomainLimit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailCounts>,
    pub findings: Vec<FindingCount>,
    #[serde(skip)]
    finding_index: HashMap<FindingKey, usize>,
    #[serde(skip)]
    profiles: HashMap<(String, String, String), HashSet<String>>,
}

fn creates(d: StepDecision) -> bool {
    matches!(d, StepDecision::Allow | StepDecision::Mixed)
}

fn works(v: Verdict) -> bool {
    matches!(v, Verdict::Works | Verdict::Partial)
}

impl Summary {
    pub fn new(runner: &Runner) -> Summary {
        Summary {
            guardrail: runner.has_guardrail().then(GuardrailCounts::default),
            verdicts: runner
                .networks()
                .map(|n| (n.name.clone(), BTreeMap::new()))
                .collect(),
            ..Summary::default()
        }
    }

    /// Count one principal's rows.
    pub fn add(&mut self, rows: &[Row], runner: &Runner) {
        self.principals += 1;
        self.rows += rows.len();
        let Some(first) = rows.first() else { return };
        let principal = &*first.principal;
        let mut verdicts = BTreeSet::new();
        let (mut shared, mut sso) = (false, false);
        for r in rows {
            let Some(net) = runner.network(r.network) else {
                continue;
            };
            *self
                .verdicts
                .entry(net.name.clone())
                .or_default()
                .entry(r.now.verdict.name())
                .or_default() += 1;
            verdicts.insert(r.now.verdict.name());
            shared |= creates(r.now.create) && runner.creates_from_shared_egress(r.network);
            sso |= creates(r.now.create) && net.auth_mode == AuthMode::Sso;
            if net.auth_mode == AuthMode::Iam {
                let set = self
                    .profiles
                    .entry((
                        net.account.clone(),
                        net.region.clone(),
                        net.domain_id.clone(),
                    ))
                    .or_default();
                if set.len() <= MAX_PROFILES_PER_DOMAIN {
                    set.insert(r.user_profile.clone());
                }
            }
            if let (Some(g), Some(before)) = (self.guardrail.as_mut(), &r.before) {
                let what = format!("{principal} on {}", net.name);
                if before.differs(&r.now) {
                    g.changed += 1;
                }
                match (works(before.verdict), works(r.now.verdict)) {
                    (true, false) => g.locked_out.add(&what),
                    (false, true) => g.opened.add(&what),
                    (true, true) => g.still_open.add(&what),
                    (false, false) => {}
                }
            }
            for f in &r.findings {
                let g = &f.finding;
                let key = (
                    r.network,
                    g.code,
                    f.policy.clone(),
                    g.statement,
                    g.line,
                    g.column,
                );
                match self.finding_index.get(&key) {
                    Some(&i) => {
                        if let Some(c) = self.findings.get_mut(i) {
                            c.rows += 1;
                        }
                    }
                    None => {
                        self.finding_index.insert(key, self.findings.len());
                        self.findings.push(FindingCount::new(&net.name, f));
                    }
                }
            }
        }
        if verdicts.len() > 1 {
            self.differs_between_networks.add(principal);
        }
        if shared {
            self.create_from_shared_egress.add(principal);
        }
        if sso {
            self.sso_domain_affected.add(principal);
        }
    }

    /// Close the summary: the domain limits (AWS, SageMaker quotas: 1,000 user profiles per domain; one
    /// IAM-mode domain is what the presigned-URL flow assumes per account and region).
    pub fn finish(&mut self, runner: &Runner) {
        let mut iam_domains: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for n in runner.networks() {
            if n.auth_mode == AuthMode::Iam {
                iam_domains
                    .entry((n.account.clone(), n.region.clone()))
                    .or_default()
                    .insert(n.domain_id.clone());
            }
        }
        for ((account, region), domains) in &iam_domains {
            if domains.len() > 1 {
                self.domain_limits.push(DomainLimit {
                    code: "several-iam-domains",
                    message: format!(
                        "account {account} in {region} needs {} IAM-mode domains ({}); each domain holds at most {MAX_PROFILES_PER_DOMAIN} user profiles and its own endpoints and policies",
domains.len(),
                        domains.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        let mut over: Vec<_> = self
            .profiles
            .iter()
            .filter(|(_, s)| s.len() > MAX_PROFILES_PER_DOMAIN)
            .map(|((a, r, d), _)| (a.clone(), r.clone(), d.clone()))
            .collect();
        over.sort();
        for (a, r, d) in over {
            self.domain_limits.push(DomainLimit {
                code: "too-many-user-profiles",
                message: format!(
                    "the corpus maps more than {MAX_PROFILES_PER_DOMAIN} user profiles to domain {d} (account {a}, {r}), over the limit of one domain; spread them over more IAM-mode domains"
                ),
            });
        }
        self.findings
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(b.rows.cmp(&a.rows)));
    }
}
