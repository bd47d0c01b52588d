//! Findings for the network traps of docs/SEMANTICS.md §7, grounded in the decisions of the steps where they can be:
//! a finding that a step's outcome proves is an error; one that only the policy text shows is a warning. The codes
//! are the trap registry's ([`crate::traps`]), shared with `lint`.
//!
//! | code | trap | when |
//! |---|---|---|
//! | `not-ip-lockout` | §7.1 | a step through an endpoint is explicitly denied by a `NotIpAddress` on `aws:SourceIp` (the key is absent there) |
//! | `one-endpoint-only` | §7.3 | an `aws:SourceVpce` allow-list holds one of the network's two endpoints but not the other |
//! | `shared-egress-allowed` | §7.6 | an `aws:SourceIp` allow-list overlaps shared egress (Zscaler egress, CENR or ip-ranges feeds) |
//! | `private-source-ip` | §7.4 | `aws:SourceIp` compared with private ranges |
//! | `forallvalues-network-key` | §7.7 | `ForAllValues:` on a single-valued network key in an Allow |
//! | `ifexists-widening` | §7.8 | `…IfExists` on a network key in an Allow with no condition for the other path |
//! | `console-broken` | §7.2, §7.14 | a public step (console creation included) is denied from every address by endpoint conditions |
//! | `endpoint-policy-denies` | §7.16 | the endpoint policy of the endpoint reached denies the step, or the Studio endpoint's does not allow `CreateApp` |

use super::derive::{Reach, StepKind};
use super::step::{StepDecision, StepReport};
use super::{ACTION, CreateVia, EndpointRole, Network, addr};
use crate::analyse::{all_addresses, decide_over_ips};
use crate::compile::{CCondition, CStatement, CValues, CompiledPolicy, PolicyRef, PolicySet};
use crate::context::{Context, ContextValue, Request, Scalar};
use crate::decide::{Decision, Gate, Reason, condition};
use crate::diagnostic::Severity;
use crate::ip::bounds;
use crate::keys::ENDPOINT_KEYS;
use crate::policy::operator::{BaseOperator, Qualifier};
use crate::policy::value::parse_cidr;
use crate::policy::{Effect, Policy};
use crate::span::LineTable;
use crate::traps;
use ipnet::IpNet;
use serde::Serialize;

/// One finding: what is wrong, where (the statement or condition, line:column in the file it was read from), and
/// what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable kebab-case code, e.g. `not-ip-lockout`.
    pub code: &'static str,
    /// An error when a decision of this network proves the trap; a warning when only the policy text shows it.
    pub severity: Severity,
    /// Lowercase, one line.
    pub message: String,
    /// The policy, named as in decision reasons: `identity[0]`, `boundary`, `scps[0][1]`, `endpoint`, ...
    pub policy: String,
    /// For `policy` = `endpoint`: which endpoint's policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The `Sid` of the statement the finding is about, or null.
    pub sid: Option<String>,
    /// 0-based index in the `Statement` array; null for a finding about the policy as a whole.
    pub statement: Option<usize>,
    /// 1-based, in the policy's file (for an endpoint policy written inline: in the network file).
    pub line: usize,
    /// 1-based, counted in characters, in the same file as `line`: the condition's operator, or the statement.
    pub column: usize,
    /// What to change in the policy: the exclusion or condition to add, or the value to fix.
    pub help: String,

    /// The step whose decision grounds the finding, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepKind>,
}

const SOURCE_IP: &str = "aws:sourceip";

fn is_network_key(k: &str) -> bool {
    k == SOURCE_IP || ENDPOINT_KEYS.contains(&k)
}

/// A policy and where its text lives.
#[derive(Clone)]
struct Site<'a> {
    at: PolicyRef,
    endpoint: Option<(EndpointRole, String)>,
    compiled: &'a CompiledPolicy,
    /// Offset of the policy text in the network file, for an inline endpoint policy.
    inline: Option<usize>,
}

#[cfg(test)]
thread_local! {
    /// Classes read by [`Analyser::allowed_without`] on this thread (tests only): its work.
    pub(crate) static CLASSES_READ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The item whose index is `index` among items usually stored at their index: that place first (a scan of every
/// statement per finding was quadratic in a policy of thousands), then a scan.
fn at_index<T>(items: &[T], index: usize, of: impl Fn(&T) -> usize) -> Option<&T> {
    match items.get(index) {
        Some(s) if of(s) == index => Some(s),
        _ => items.iter().find(|s| of(s) == index),
    }
}

impl Site<'_> {
    fn statement(&self, index: usize) -> Option<&CStatement> {
        at_index(&self.compiled.statements, index, |s| s.index)
    }

    /// The condition's key as written.
    fn key_as_written(&self, index: usize, cond: usize) -> String {
        at_index(&self.compiled.policy().statements, index, |s| s.index)
            .and_then(|s| s.conditions.get(cond))
            .map_or_else(String::new, |c| c.key.value.to_string())
    }

    /// The condition's values as written.
    fn values_as_written(&self, index: usize, cond: usize) -> Vec<String> {
        at_index(&self.compiled.policy().statements, index, |s| s.index)
            .and_then(|s| s.conditions.get(cond))
            .map(|c| {
                c.values
                    .iter()
                    .map(|v| v.value.text().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// How a statement is called in messages: by Sid, else by index.
fn label(st: &CStatement) -> String {
    match &st.sid {
        Some(s) if !s.is_empty() => format!("statement `{s}`"),
        _ => format!("statement {}", st.index),
    }
}

/// A key's canonical spelling, from the condition-key catalog.
fn canonical(key: &str) -> &str {
    crate::keys::global_key(key).map_or(key, |k| k.name)
}

struct Analyser<'a> {
    set: &'a PolicySet,
    net: &'a Network,
    steps: &'a [StepReport],
    /// Statements whose action, resource and principal match the flow's request.
    relevant: Vec<(PolicyRef, usize, Option<EndpointRole>)>,
    out: Vec<Finding>,
    /// What makes a finding a repeat of one in `out`: code, policy, endpoint, statement, line and column.
    emitted: crate::map::Set<FindingKey>,
    /// A line index per source text (keyed by its address and length), built on first use.
    lines: crate::map::Map<(usize, usize), LineTable>,
    /// Per network key, the statements that an allowed class of requests lacking the key names as a reason, with
    /// the steps where it does, in order (see [`Analyser::allowed_without`]).
    allowed: crate::map::Map<String, crate::map::Map<(PolicyRef, usize), Vec<usize>>>,
}

type FindingKey = (String, String, Option<String>, Option<usize>, usize, usize);

/// Every finding for `net`'s flow decided against `set`, errors first.
pub(crate) fn analyse(set: &PolicySet, net: &Network, steps: &[StepReport]) -> Vec<Finding> {
    let mut a = Analyser {
        set,
        net,
        steps,
        relevant: Vec::new(),
        out: Vec::new(),
        emitted: crate::map::Set::new(),
        lines: crate::map::Map::new(),
        allowed: crate::map::Map::new(),
    };
    a.collect_relevant();
    a.not_ip_lockout();
    a.endpoint_policy_denies();
    a.one_endpoint_only();
    a.console_broken();
    a.qualifier_widening();
    a.shared_egress();
    a.private_source_ip();
    let mut out = a.out;
    crate::sort::stable_by_key(&mut out, |f| std::cmp::Reverse(f.severity));
    out
}

fn base_request(net: &Network) -> Request {
    Request::new(ACTION, &net.resource_arn()).principal(&net.principal)
}

fn role_of(step: &StepReport) -> Option<EndpointRole> {
    match &step.derived.reach {
        Reach::Endpoint { role, .. } => Some(*role),
        _ => None,
    }
}

struct Emit<'s> {
    code: &'static str,
    severity: Severity,
    cond: Option<usize>,
    statement: Option<usize>,
    message: String,
    help: String,
    step: Option<StepKind>,
    site: &'s Site<'s>,
}

impl<'a> Analyser<'a> {
    fn collect_relevant(&mut self) {
        let base = self
            .set
            .with_endpoint(None)
            .explain(&base_request(self.net));
        let mut rel = Vec::new();
        for t in &base.statements {
            if t.action_matched && t.resource_matched && t.principal_matched {
                rel.push((t.policy, t.statement, None));
            }
        }
        for step in self.steps {
            let role = role_of(step);
            for e in &step.explanations {
                for t in &e.statements {
                    if t.action_matched && t.resource_matched && t.principal_matched {
                        let r = if t.policy == PolicyRef::Endpoint {
                            role
                        } else {
                            None
                        };
                        rel.push((t.policy, t.statement, r));
                    }
                }
            }
        }
        let mut seen = Vec::new();
        let mut known = crate::map::Set::new();
        for r in rel {
            if known.insert(r) {
                seen.push(r);
            }
        }
        self.relevant = seen;
    }

    fn site(&self, at: PolicyRef, role: Option<EndpointRole>) -> Option<Site<'a>> {
        if at == PolicyRef::Endpoint {
            let role = role?;
            let e = self.net.endpoint(role)?;
            let p = e.policy.as_ref()?;
            Some(Site {
                at,
                endpoint: Some((role, e.id.clone())),
                compiled: &p.compiled,
                inline: p.inline_at,
            })
        } else {
            Some(Site {
                at,
                endpoint: None,
                compiled: self.set.get(at)?,
                inline: None,
            })
        }
    }

    fn relevant_sites(&self) -> Vec<(Site<'a>, usize)> {
        self.relevant
            .iter()
            .filter_map(|&(at, idx, role)| Some((self.site(at, role)?, idx)))
            .collect()
    }

    fn emit(&mut self, e: Emit<'_>) {
        let policy = e.site.compiled.policy();
        let ast = e
            .statement
            .and_then(|i| at_index(&policy.statements, i, |s| s.index));
        let span = match ast {
            Some(s) => e
                .cond
                .and_then(|i| s.conditions.get(i))
                .map_or(s.span, |c| c.operator.span),
            None => policy.statement_span,
        };
        // Line indexes built once per text: a finding per statement of a large policy made this quadratic.
        let (text, at) = match e.site.inline {
            Some(base) => (&*self.net.source, base + span.start as usize),
            None => (policy.source(), span.start as usize),
        };
        let (line, column) = self
            .lines
            .entry((text.as_ptr() as usize, text.len()))
            .or_insert_with(|| LineTable::new(text))
            .line_col(text, at);
        let sid = ast
            .and_then(|s| s.sid.as_ref())
            .map(|s| s.value.to_string());
        let endpoint = e.site.endpoint.as_ref().map(|(_, id)| id.clone());
        let policy_name = e.site.at.to_string();
        let key = (
            e.code.to_string(),
            policy_name.clone(),
            endpoint.clone(),
            e.statement,
            line,
            column,
        );
        if !self.emitted.insert(key) {
            return;
        }
        self.out.push(Finding {
            code: e.code,
            severity: e.severity,
            message: e.message,
            policy: policy_name,
            endpoint,
            sid,
            statement: e.statement,
            line,
            column,
            help: e.help,
            step: e.step,
        });
    }

    /// §7.1: a step through an endpoint explicitly denied by `NotIpAddress` on the absent `aws:SourceIp`.
    fn not_ip_lockout(&mut self) {
        for step in self.steps {
            let Reach::Endpoint {
                role,
                id,
                vpc,
                source_ips,
            } = &step.derived.reach
            else {
                continue;
            };
            for class in step
                .classes
                .iter()
                .filter(|c| c.decision == Decision::ExplicitDeny)
            {
                for r in &class.reasons {
                    let Reason::Statement {
                        policy,
                        statement,
                        effect: Effect::Deny,
                        ..
                    } = r
                    else {
                        continue;
                    };
                    let Some(site) = self.site(*policy, Some(*role)) else {
                        continue;
                    };
                    let Some(st) = site.statement(*statement) else {
                        continue;
                    };
                    let Some((i, c)) = st.conditions.iter().enumerate().find(|(_, c)| {
                        &*c.key == SOURCE_IP
                            && c.op.base == BaseOperator::NotIpAddress
                            && c.op.qualifier != Some(Qualifier::ForAnyValue)
                    }) else {
                        continue;
                    };
                    let op = c.op.to_string();
                    let exclusion = st
                        .conditions
                        .iter()
                        .find(|x| ENDPOINT_KEYS.contains(&&*x.key) && x.op.base.is_negated());
                    let vpc_source = source_ips.first().map(addr::show_net).unwrap_or_default();
                    let (message, help) = match exclusion {
                        None => (
                            format!(
                                "{} denies the {} step through endpoint `{id}`: `{op}` on `aws:SourceIp` is true when the key is absent, and requests through a VPC endpoint never carry it",
                                label(st),
                                step.step
                            ),
                            format!(
                                "exclude endpoint traffic: add `\"StringNotEqualsIfExists\": {{\"aws:SourceVpc\": [\"{vpc}\"]}}` to this Deny; `NotIpAddressIfExists` alone does not help, an absent key makes it true as well (docs/SEMANTICS.md §7.1)"
                            ),
                        ),
                        Some(x) => {
                            let value = match &*x.key {
                                "aws:sourcevpc" => vpc.clone(),
                                "aws:sourcevpce" => id.clone(),
                                _ => vpc_source,
                            };
                            (
                                format!(
                                    "{} denies the {} step through endpoint `{id}`: `{op}` on `aws:SourceIp` is true when the key is absent, and its exclusion on `{}` does not cover `{value}`",
                                    label(st),
                                    step.step,
                                    canonical(&x.key)
                                ),
                                format!(
                                    "add `{value}` to the statement's `{}` list (docs/SEMANTICS.md §7.1)",
                                    canonical(&x.key)
                                ),
                            )
                        }
                    };
                    let statement = Some(st.index);
                    self.emit(Emit {
                        code: traps::NOT_IP_LOCKOUT.code,
                        severity: Severity::Error,
                        cond: Some(i),
                        statement,
                        message,
                        help,
                        step: Some(step.step),
                        site: &site,
                    });
                }
            }
        }
    }

    /// §7.16: the endpoint policy of the endpoint reached denies the step; the Studio endpoint's policy does not
    /// allow `CreateApp`.
    fn endpoint_policy_denies(&mut self) {
        for step in self.steps {
            let Reach::Endpoint { role, id, .. } = &step.derived.reach else {
                continue;
            };
            let Some(site) = self.site(PolicyRef::Endpoint, Some(*role)) else {
                continue;
            };
            let resource = self.net.resource_arn();
            for class in &step.classes {
                for r in &class.reasons {
                    match r {
                        Reason::NoAllow(Gate::Endpoint) => self.emit(Emit {
                            code: traps::ENDPOINT_POLICY_DENIES.code,
                            severity: Severity::Error,
                            cond: None,
                            statement: None,
                            message: format!(
                                "the policy of the {role} endpoint `{id}` does not allow `{ACTION}` on `{resource}`, so the {} step through it is denied",
                                step.step
                            ),
                            help: format!(
                                "add a statement allowing `{ACTION}` with `\"Principal\": \"*\"` on `arn:aws:sagemaker:{}:{}:user-profile/{}/*`{} (docs/SEMANTICS.md §6.4, §7.16)",
                                self.net.region,
                                self.net.account,
                                self.net.domain_id,
                                if *role == EndpointRole::Studio { ", and `sagemaker:CreateApp` on the domain's apps" } else { "" }
                            ),
                            step: Some(step.step),
                            site: &site,
                        }),
                        Reason::Statement {
                            policy: PolicyRef::Endpoint,
                            statement,
                            effect: Effect::Deny,
                            ..
                        } => {
                            let name = site.statement(*statement).map(label).unwrap_or_default();
                            self.emit(Emit {
                                code: traps::ENDPOINT_POLICY_DENIES.code,
                                severity: Severity::Error,
                                cond: None,
                                statement: Some(*statement),
                                message: format!(
                                    "{name} of the policy of the {role} endpoint `{id}` denies the {} step through it",
                                    step.step
                                ),
                                help: "narrow the Deny so that it does not match the presigned-URL flow (docs/SEMANTICS.md §7.16)".into(),
                                step: Some(step.step),
                                site: &site,
                            });
                        }
                        _ => {}
                    }
                }
            }
            if *role == EndpointRole::Studio && !self.allows_create_app(&site, step) {
                self.emit(Emit {
                    code: traps::ENDPOINT_POLICY_DENIES.code,
                    severity: Severity::Warning,
                    cond: None,
                    statement: None,
                    message: format!(
                        "the policy of the Studio endpoint `{id}` does not allow `sagemaker:CreateApp`, so Studio cannot start apps through it"
                    ),
                    help: format!(
                        "allow `sagemaker:CreateApp` on `arn:aws:sagemaker:{}:{}:app/{}/*` for `\"Principal\": \"*\"` (docs/SEMANTICS.md §6.4, §7.16)",
                        self.net.region, self.net.account, self.net.domain_id
                    ),
                    step: Some(step.step),
                    site: &site,
                });
            }
        }
    }

    /// Whether the endpoint policy alone allows `CreateApp` for the user's apps with the step's context.
    fn allows_create_app(&self, site: &Site<'_>, step: &StepReport) -> bool {
        const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let Ok(all) = Policy::parse(ALLOW_ALL) else {
            return true;
        };
        let Ok(set) = PolicySet::builder().identity(all).build() else {
            return true;
        };
        let set = set.with_endpoint(Some(site.compiled.clone()));
        let mut req = step
            .classes
            .first()
            .map_or_else(|| step.derived.request.clone(), |c| c.request.clone());
        req.action = "sagemaker:CreateApp".into();
        req.resource = format!(
            "arn:aws:sagemaker:{}:{}:app/{}/{}/JupyterLab/default",
            self.net.region, self.net.account, self.net.domain_id, self.net.user_profile
        );
        set.decide(&req) == Decision::Allow
    }

    /// §7.3: an `aws:SourceVpce` allow-list that admits one of the two endpoints but not the other.
    fn one_endpoint_only(&mut self) {
        let (Some(api), Some(studio)) = (
            self.net.endpoint(EndpointRole::Api),
            self.net.endpoint(EndpointRole::Studio),
        ) else {
            return;
        };
        let with_vpce = |id: &str| {
            let mut ctx = Context::new();
            let _ = ctx.insert(
                "aws:SourceVpce",
                ContextValue::One(Scalar::String(id.to_string())),
            );
            base_request(self.net).context(ctx)
        };
        let (api_req, studio_req) = (with_vpce(&api.id), with_vpce(&studio.id));
        for (site, idx) in self.relevant_sites() {
            if site.at == PolicyRef::Endpoint {
                continue;
            }
            let Some(st) = site.statement(idx) else {
                continue;
            };
            if st.effect != Effect::Allow {
                continue;
            }
            for (i, c) in st.conditions.iter().enumerate() {
                if &*c.key != "aws:sourcevpce"
                    || c.op.base.is_negated()
                    || !matches!(
                        c.values,
                        CValues::Exact(..) | CValues::IgnoreCase(_) | CValues::Like(_)
                    )
                {
                    continue;
                }
                let (a, s) = (condition(c, &api_req).0, condition(c, &studio_req).0);
                if a == s {
                    continue;
                }
                let (listed, missing, missing_role, works, fails) = if a {
                    (
                        &api.id,
                        &studio.id,
                        EndpointRole::Studio,
                        "creating the URL works through the API endpoint",
                        "using it through the Studio endpoint does not",
                    )
                } else {
                    (
                        &studio.id,
                        &api.id,
                        EndpointRole::Api,
                        "using the URL works through the Studio endpoint",
                        "creating it through the API endpoint does not",
                    )
                };
                let failing = self.steps.iter().find(|s| {
                    role_of(s) == Some(missing_role) && s.decision != StepDecision::Allow
                });
                self.emit(Emit {
                    code: traps::ONE_ENDPOINT_ONLY.code,
                    severity: if failing.is_some() { Severity::Error } else { Severity::Warning },
                    cond: Some(i),
                    statement: Some(st.index),
                    message: format!(
                        "{} admits `aws:SourceVpce` `{listed}` but not `{missing}` (the {missing_role} endpoint): {works}, {fails}",
                        label(st)
                    ),
                    help: format!(
                        "list both endpoint ids, `{}` and `{}`: creation goes through the API endpoint and every use of the URL through the Studio endpoint (docs/SEMANTICS.md §6.4, §7.3)",
                        api.id, studio.id
                    ),
                    step: failing.map(|s| s.step),
                    site: &site,
                });
            }
        }
    }

    /// §7.2, §7.14: a public step denied from every address because statements require an endpoint.
    fn console_broken(&mut self) {
        for step in self.steps {
            if !matches!(step.derived.reach, Reach::Public { .. })
                || step.decision == StepDecision::Allow
            {
                continue;
            }
            let everywhere = decide_over_ips(
                &step.set,
                &step.derived.request,
                "aws:SourceIp",
                &all_addresses(),
            );
            if everywhere.iter().any(|c| c.decision == Decision::Allow) {
                continue;
            }
            let console =
                step.step == StepKind::Create && self.net.create.via == CreateVia::Console;
            let sites = self.relevant_sites();
            // Denies that fire on every public request: a negated endpoint-key condition, no aws:SourceIp test.
            let mut culprits: Vec<(&Site<'_>, &CStatement, usize, &CCondition)> = Vec::new();
            for (site, idx) in &sites {
                let Some(st) = site.statement(*idx) else {
                    continue;
                };
                if st.effect != Effect::Deny || st.conditions.iter().any(|c| &*c.key == SOURCE_IP) {
                    continue;
                }
                if let Some((i, c)) = st
                    .conditions
                    .iter()
                    .enumerate()
                    .find(|(_, c)| ENDPOINT_KEYS.contains(&&*c.key) && c.op.base.is_negated())
                {
                    culprits.push((site, st, i, c));
                }
            }
            if culprits.is_empty() {
                // Allows that can never apply on the public path: a positive endpoint-key condition.
                for (site, idx) in &sites {
                    let Some(st) = site.statement(*idx) else {
                        continue;
                    };
                    if st.effect != Effect::Allow {
                        continue;
                    }
                    if let Some((i, c)) = st.conditions.iter().enumerate().find(|(_, c)| {
                        ENDPOINT_KEYS.contains(&&*c.key)
                            && !c.op.base.is_negated()
                            && c.op.base != BaseOperator::Null
                            && !c.op.if_exists
                            && c.op.qualifier != Some(Qualifier::ForAllValues)
                    }) {
                        culprits.push((site, st, i, c));
                    }
                }
            }
            for (site, st, i, c) in culprits {
                let key = canonical(&c.key);
                let what = if st.effect == Effect::Deny {
                    format!("{} denies every request without `{key}`", label(st))
                } else {
                    format!("{} allows only requests with `{key}`", label(st))
                };
                let message = match (step.step, console) {
                    (StepKind::Create, true) => format!(
                        "the URL cannot be created from the SageMaker console: the console calls the public API, whose requests never carry `{key}`, and {what}"
                    ),
                    (StepKind::Create, false) => format!(
                        "creating the URL on the public path, and so from the SageMaker console, is denied from every address: {what}, which public requests never carry"
                    ),
                    (StepKind::Use, _) => format!(
                        "using the URL on the public path is denied from every address: {what}, which public requests never carry, so Studio cannot be opened from the SageMaker console"
                    ),
                };
                self.emit(Emit {
                    code: traps::CONSOLE_BROKEN.code,
                    severity: if console { Severity::Error } else { Severity::Warning },
                    cond: Some(i),
                    statement: Some(st.index),
                    message,
                    help: "if Studio must be reached only through the VPC endpoints, create URLs through the API endpoint and resolve the Studio host to the Studio endpoint (docs/SEMANTICS.md §6.5); to keep the console, allow it with an `aws:SourceIp` condition listing egress addresses you own (docs/SEMANTICS.md §7.2, §7.14)".into(),
                    step: Some(step.step),
                    site,
                });
            }
        }
    }

    /// The step (if any) that `site`'s statement `idx` allows while the step's requests lack `key`.
    fn allowed_without(&mut self, site: &Site<'_>, idx: usize, key: &str) -> Option<StepKind> {
        let steps = self.steps;
        // Indexed once per key: asking each statement over every class of every step was statements x classes
        // (4,096 one-address statements, 4,097 classes).
        let index = self.allowed.entry(key.to_string()).or_insert_with(|| {
            let mut m: crate::map::Map<(PolicyRef, usize), Vec<usize>> = crate::map::Map::new();
            for (n, step) in steps.iter().enumerate() {
                let lacking = step.classes.iter().filter(|c| {
                    #[cfg(test)]
                    CLASSES_READ.with(|v| v.set(v.get() + 1));
                    c.decision == Decision::Allow && c.request.context.get_lower(key).is_none()
                });
                for r in lacking.flat_map(|c| &c.reasons) {
                    if let Reason::Statement {
                        policy,
                        statement,
                        effect: Effect::Allow,
                        ..
                    } = r
                    {
                        let at = m.entry((*policy, *statement)).or_default();
                        if at.last() != Some(&n) {
                            at.push(n);
                        }
                    }
                }
            }
            m
        });
        let role = site.endpoint.as_ref().map(|(r, _)| *r);
        index
            .get(&(site.at, idx))?
            .iter()
            .filter_map(|&n| steps.get(n))
            .find(|step| site.at != PolicyRef::Endpoint || role == role_of(step))
            .map(|step| step.step)
    }

    /// §7.7 and §7.8: `ForAllValues:` and `…IfExists` on network keys in Allow statements.
    fn qualifier_widening(&mut self) {
        for (site, idx) in self.relevant_sites() {
            let Some(st) = site.statement(idx) else {
                continue;
            };
            if st.effect != Effect::Allow {
                continue;
            }
            for (i, c) in st.conditions.iter().enumerate() {
                if !is_network_key(&c.key) {
                    continue;
                }
                let key = site.key_as_written(st.index, i);
                let op = c.op.to_string();
                let admits = if &*c.key == SOURCE_IP {
                    "every request through any VPC endpoint, of any VPC"
                } else {
                    "every request through the public endpoint, from any address"
                };
                let grounded = self.allowed_without(&site, st.index, &c.key);
                let here = grounded
                    .map(|s| format!("; here it allows the {s} step"))
                    .unwrap_or_default();
                let severity = if grounded.is_some() {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                if c.op.qualifier == Some(Qualifier::ForAllValues) {
                    self.emit(Emit {
                        code: traps::FORALLVALUES_NETWORK_KEY.code,
                        severity,
                        cond: Some(i),
                        statement: Some(st.index),
                        message: format!(
                            "`{op}` on `{key}` is true when the key is absent, so {} also admits {admits}{here}",
                            label(st)
                        ),
                        help: format!(
                            "`{}` is single-valued: drop `ForAllValues:` so that an absent key does not match (docs/SEMANTICS.md §7.7)",
                            canonical(&c.key)
                        ),
                        step: grounded,
                        site: &site,
                    });
                } else if c.op.if_exists
                    && !c.op.base.is_negated()
                    // `ForAnyValue:` on an absent key is false, `IfExists` or not (§3.3).
                    && c.op.qualifier != Some(Qualifier::ForAnyValue)
                {
                    let paired = st.conditions.iter().any(|o| {
                        if &*c.key == SOURCE_IP {
                            ENDPOINT_KEYS.contains(&&*o.key)
                        } else {
                            &*o.key == SOURCE_IP
                        }
                    });
                    if paired {
                        continue;
                    }
                    let pair = if &*c.key == SOURCE_IP {
                        "an `IfExists` condition on `aws:SourceVpc` or `aws:SourceVpce`"
                    } else {
                        "an `IpAddressIfExists` condition on `aws:SourceIp` listing your own addresses"
                    };
                    self.emit(Emit {
                        code: traps::IFEXISTS_WIDENING.code,
                        severity,
                        cond: Some(i),
                        statement: Some(st.index),
                        message: format!(
                            "`{op}` on `{key}` is true when the key is absent, so {} admits {admits}{here}",
                            label(st)
                        ),
                        help: format!(
                            "drop `IfExists`, or pair it with {pair} (\"IP range or VPC\" is correct only with both, docs/SEMANTICS.md §7.8)"
                        ),
                        step: grounded,
                        site: &site,
                    });
                }
            }
        }
    }

    /// §7.6: `aws:SourceIp` allow-lists that overlap shared egress ranges.
    fn shared_egress(&mut self) {
        let mut shared = self.net.shared_ranges.clone();
        if let Some(e) = &self.net.client.egress {
            shared.extend(e.shared());
        }
        if shared.is_empty() {
            return;
        }
        let index = SharedIndex::new(&shared);
        for (site, idx) in self.relevant_sites() {
            let Some(st) = site.statement(idx) else {
                continue;
            };
            for (i, c) in st.conditions.iter().enumerate() {
                if &*c.key != SOURCE_IP || !matches!(c.values, CValues::Ip(_)) {
                    continue;
                }
                let lets_in = match st.effect {
                    Effect::Allow => !c.op.base.is_negated(),
                    Effect::Deny => c.op.base.is_negated(),
                };
                if !lets_in {
                    continue;
                }
                let mut hits: Vec<String> = Vec::new();
                let mut sources: Vec<String> = Vec::new();
                let mut seen_sources = crate::map::Set::new();
                for v in site.values_as_written(st.index, i) {
                    let Ok(net) = parse_cidr(&v) else { continue };
                    let overlapping = index.overlapping(&net);
                    if overlapping.is_empty() {
                        continue;
                    }
                    hits.push(format!("`{v}`"));
                    for r in overlapping.iter().filter_map(|&k| shared.get(k)) {
                        let s = format!("{} ({})", r.source, addr::show_net(&r.net));
                        if seen_sources.insert(s.clone()) {
                            sources.push(s);
                        }
                    }
                }
                if hits.is_empty() {
                    continue;
                }
                let more = sources.len().saturating_sub(3);
                let mut shown: Vec<String> = sources.into_iter().take(3).collect();
                if more > 0 {
                    shown.push(format!("{more} more"));
                }
                let verb = if st.effect == Effect::Allow {
                    "admits"
                } else {
                    "exempts from its Deny"
                };
                self.emit(Emit {
                    code: traps::SHARED_EGRESS_ALLOWED.code,
                    severity: Severity::Warning,
                    cond: Some(i),
                    statement: Some(st.index),
                    message: format!(
                        "{} {verb} `aws:SourceIp` {}, shared egress of other organizations: {}; every tenant of that service leaves from these addresses",
                        label(st),
                        hits.join(", "),
                        shown.join("; ")
                    ),
                    help: "do not allow-list a security cloud's or cloud provider's shared ranges: send the flow through the VPC endpoints and condition on `aws:SourceVpce` (docs/SEMANTICS.md §6.5, §7.6), or use egress addresses your organization owns".into(),
                    step: None,
                    site: &site,
                });
            }
        }
    }

    /// §7.4: `aws:SourceIp` compared with private ranges.
    fn private_source_ip(&mut self) {
        for (site, idx) in self.relevant_sites() {
            let Some(st) = site.statement(idx) else {
                continue;
            };
            for (i, c) in st.conditions.iter().enumerate() {
                if &*c.key != SOURCE_IP || !matches!(c.values, CValues::Ip(_)) {
                    continue;
                }
                let values = site.values_as_written(st.index, i);
                let private: Vec<String> = values
                    .iter()
                    .filter(|v| parse_cidr(v).is_ok_and(|n| addr::is_private(&n)))
                    .map(|v| format!("`{v}`"))
                    .collect();
                if private.is_empty() {
                    continue;
                }
                let all = private.len() == values.len();
                let effect = if c.op.base.is_negated() {
                    "the negated operator is always true for them"
                } else {
                    "they never match"
                };
                let message = if all {
                    format!(
                        "{} compares `aws:SourceIp` with private ranges only ({}): AWS sees public source addresses only, so {effect}",
                        label(st),
                        private.join(", ")
                    )
                } else {
                    format!(
                        "{} lists private ranges ({}) for `aws:SourceIp`: AWS sees public source addresses only, so {effect}",
                        label(st),
                        private.join(", ")
                    )
                };
                self.emit(Emit {
                    code: traps::PRIVATE_SOURCE_IP.code,
                    severity: if all { Severity::Error } else { Severity::Warning },
                    cond: Some(i),
                    statement: Some(st.index),
                    message,
                    help: "to restrict private addresses, use `aws:VpcSourceIp` together with `aws:SourceVpc` or `aws:SourceVpce` (docs/SEMANTICS.md §7.4)".into(),
                    step: None,
                    site: &site,
                });
            }
        }
    }
}

/// Shared egress ranges indexed for overlap queries: two CIDR blocks overlap exactly when one contains the other,
/// so the ranges overlapping a block are those that start inside it (a binary search over the ranges sorted by
/// first address) and those that contain it (one hash lookup per shorter prefix). A policy value costs a search,
/// not a pass over every range (a CENR feed holds thousands).
struct SharedIndex {
    /// (family, first address, index in the ranges), sorted.
    starts: Vec<(bool, u128, usize)>,
    /// Each range's block (normalised to its network address) to its indices.
    blocks: crate::map::Map<IpNet, Vec<usize>>,
}

impl SharedIndex {
    fn new(ranges: &[super::FeedRange]) -> SharedIndex {
        let mut starts: Vec<(bool, u128, usize)> = ranges
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let (v6, first, _) = bounds(&r.net);
                (v6, first, k)
            })
            .collect();
        crate::sort::unstable(&mut starts);
        let mut blocks: crate::map::Map<IpNet, Vec<usize>> = crate::map::Map::new();
        for (k, r) in ranges.iter().enumerate() {
            blocks.entry(crate::ip::trunc(&r.net)).or_default().push(k);
        }
        SharedIndex { starts, blocks }
    }

    /// The indices of the ranges that share an address with `net`, ascending.
    fn overlapping(&self, net: &IpNet) -> Vec<usize> {
        let (v6, first, last) = bounds(net);
        let lo = self
            .starts
            .partition_point(|&(f, s, _)| (f, s) < (v6, first));
        let hi = self
            .starts
            .partition_point(|&(f, s, _)| (f, s) <= (v6, last));
        let mut out: Vec<usize> = self
            .starts
            .get(lo..hi)
            .unwrap_or_default()
            .iter()
            .map(|&(_, _, k)| k)
            .collect();
        for len in 0..net.prefix_len() {
            let Ok(up) = IpNet::new(crate::ip::first(net), len) else {
                continue;
            };
            if let Some(ks) = self.blocks.get(&crate::ip::trunc(&up)) {
                out.extend(ks);
            }
        }
        crate::sort::unstable(&mut out);
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::FeedRange;

    /// The index finds exactly the ranges a pass over all of them finds, in the same order, for random blocks of
    /// both families (nested, equal, disjoint, not normalised).
    #[test]
    fn shared_index_agrees_with_a_pass_over_every_range() {
        let mut next = crate::xorshift(0x0123_4567_89ab_cdef);
        let block = |next: &mut dyn FnMut() -> u64| -> IpNet {
            if next() % 4 == 0 {
                let a =
                    std::net::Ipv6Addr::from(u128::from(next() % 8) << 120 | u128::from(next()));
                IpNet::new(a.into(), (next() % 129) as u8).unwrap()
            } else {
                // A small corner of IPv4, so that blocks nest and repeat.
                let a = std::net::Ipv4Addr::from(0x0a00_0000 | (next() as u32 & 0xffff));
                IpNet::new(a.into(), 8 + (next() % 25) as u8).unwrap()
            }
        };
        for _ in 0..40 {
            let n = (next() % 60) as usize;
            let ranges: Vec<FeedRange> = (0..n)
                .map(|i| FeedRange {
                    net: block(&mut next),
                    source: format!("feed {i}"),
                })
                .collect();
            let index = SharedIndex::new(&ranges);
            for _ in 0..40 {
                let q = block(&mut next);
                let naive: Vec<usize> = (0..n)
                    .filter(|&k| addr::overlaps(&ranges[k].net, &q))
                    .collect();
                assert_eq!(index.overlapping(&q), naive, "{q}");
            }
        }
    }
}
