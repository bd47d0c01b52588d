//! Deciding both steps along the network path: the presign record (docs/FORMATS.md §4).

use super::Network;
use super::addr::show_net;
use super::derive::{
    DerivedStep, Reach, SOURCE_IP, StepKind, VIA_AWS_SERVICE, VPC_SOURCE_IP, derive,
};
use super::derive::{SOURCE_VPC, SOURCE_VPCE};
use super::findings::{self, Finding};
use super::step::{Class, ReasonLists, put};
pub use super::step::{
    KeyValue, KeyValues, Outcome, SharedReasons, StepContext, StepDecision, StepReport,
};
use crate::analyse::decide_over_ips;
use crate::compile::PolicySet;
use crate::decide::Explanation;
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;

/// The flow as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Verdict {
    /// Both steps are allowed from every address.
    Works,
    /// The URL cannot be created (from any address).
    CreateDenied,
    /// The URL can be created but not used (from any address).
    UseDenied,
    /// It works from part of a source range only.
    Partial,
    /// A step never arrives. The first failing step, in flow order, decides the verdict.
    Unreachable,
    /// The domain uses IAM Identity Center (`domain.auth_mode` = `sso`): `CreatePresignedDomainUrl` is not the
    /// way in, whatever the policies decide (the steps still show what they would decide).
    SsoDomain,
}

impl Verdict {
    /// The verdict as the presign record writes it (docs/FORMATS.md §4): `works`, `create-denied`,
    /// `use-denied`, `partial`, `unreachable` or `sso-domain`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Works => "works",
            Verdict::CreateDenied => "create-denied",
            Verdict::UseDenied => "use-denied",
            Verdict::Partial => "partial",
            Verdict::Unreachable => "unreachable",
            Verdict::SsoDomain => "sso-domain",
        }
    }

    /// The verdict for a create and a use decision: the first step (in flow order) that fails decides; a `Mixed`
    /// step is a partial success.
    ///
    /// ```
    /// use iamgate::network::{StepDecision::*, Verdict};
    /// assert_eq!(Verdict::of(Allow, Allow), Verdict::Works);
    /// assert_eq!(Verdict::of(ExplicitDeny, Unreachable), Verdict::CreateDenied);
    /// assert_eq!(Verdict::of(Mixed, ImplicitDeny), Verdict::UseDenied);
    /// assert_eq!(Verdict::of(Allow, Mixed), Verdict::Partial);
    /// assert_eq!(Verdict::of(Unreachable, Allow), Verdict::Unreachable);
    /// ```
    pub fn of(create: StepDecision, use_: StepDecision) -> Verdict {
        use StepDecision::*;
        match (create, use_) {
            (Unreachable, _) => Verdict::Unreachable,
            (ExplicitDeny | ImplicitDeny, _) => Verdict::CreateDenied,
            (_, Unreachable) => Verdict::Unreachable,
            (_, ExplicitDeny | ImplicitDeny) => Verdict::UseDenied,
            (Mixed, _) | (_, Mixed) => Verdict::Partial,
            (Allow, Allow) => Verdict::Works,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The whole answer of `iamgate presign`.
#[derive(Debug, Clone, Serialize)]
pub struct PresignReport {
    /// The network's `name`.
    pub network: String,
    /// Both steps, `create` then `use`, each with its host, endpoint, path, context and decision.
    pub steps: Vec<StepReport>,
    /// The flow as a whole: the first step, in flow order, that fails decides it; `sso-domain` overrides all.
    pub verdict: Verdict,
    /// The traps of docs/SEMANTICS.md §7 this network's policies fall into (docs/network.md, Findings), each
    /// placed in its policy's file; the `sso-domain` finding comes first when present. Empty when none.
    pub findings: Vec<Finding>,
}

impl PresignReport {
    /// The report of `step`, if the report has it (a report from [`presign`] always has both).
    pub fn step(&self, step: StepKind) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }
}

/// Decide both steps of `net`'s flow against `set` (identity-side policies; any endpoint policy in `set` is
/// replaced by that of the endpoint each step reaches, or removed on the public path), with the verdict and the
/// findings.
pub fn presign(set: &PolicySet, net: &Network) -> PresignReport {
    let mut lists = ReasonLists::default();
    let steps: Vec<StepReport> = derive(net)
        .into_iter()
        .map(|d| decide_step(set, net, d, &mut lists))
        .collect();
    let decision = |k: StepKind| {
        steps
            .iter()
            .find(|s| s.step == k)
            .map_or(StepDecision::Unreachable, |s| s.decision)
    };
    let mut verdict = Verdict::of(decision(StepKind::Create), decision(StepKind::Use));
    let mut findings = findings::analyse(set, net, &steps);
    if let Some(f) = sso_finding(net) {
        verdict = Verdict::SsoDomain;
        findings.insert(0, f);
    }
    PresignReport {
        network: net.name.clone(),
        steps,
        verdict,
        findings,
    }
}

/// The finding for a domain in IAM Identity Center mode, where presigned URLs are not the way in (AWS, SageMaker
/// API reference, CreatePresignedDomainUrl: the domain must use IAM authentication; docs/whatif.md).
pub(crate) fn sso_finding(net: &Network) -> Option<Finding> {
    if net.auth_mode != super::AuthMode::Sso {
        return None;
    }
    let (line, column) = net.auth_mode_at;
    Some(Finding {
        code: "sso-domain",
        severity: crate::diagnostic::Severity::Error,
        message: format!(
            "domain `{}` uses IAM Identity Center authentication: `CreatePresignedDomainUrl` works only for IAM-mode domains, so no presigned URL opens it, whatever the policies allow",
            net.domain_id
        ),
        policy: "network".into(),
        endpoint: None,
        sid: None,
        statement: None,
        line,
        column,
        help: "users of an SSO-mode domain sign in through the IAM Identity Center portal; to use presigned URLs, create an IAM-mode domain (the mode is fixed when the domain is created)".into(),
        step: None,
    })
}

fn ips_value(nets: &[IpNet]) -> KeyValue {
    match nets {
        [one] => KeyValue::String(show_net(one)),
        many => KeyValue::Strings(many.iter().map(show_net).collect()),
    }
}

fn decide_step(
    set: &PolicySet,
    net: &Network,
    d: DerivedStep,
    lists: &mut ReasonLists,
) -> StepReport {
    let step_set = match &d.reach {
        Reach::Endpoint { role, .. } => set.with_endpoint(
            net.endpoint(*role)
                .and_then(|e| e.policy.as_ref())
                .map(|p| p.compiled.clone()),
        ),
        Reach::Public { .. } | Reach::Unreachable => set.with_endpoint(None),
    };
    decide_step_sharing(step_set, net, d, lists)
}

/// Decide one derived step with `step_set`: the identity-side policies with the endpoint policy of the endpoint
/// the step reaches (none on the public path). Bulk callers cache `step_set` per policy combination.
#[cfg(feature = "cli")]
pub(crate) fn decide_step_in(step_set: PolicySet, net: &Network, d: DerivedStep) -> StepReport {
    decide_step_sharing(step_set, net, d, &mut ReasonLists::default())
}

/// [`decide_step_in`], with lists of reasons shared through `lists`.
fn decide_step_sharing(
    step_set: PolicySet,
    net: &Network,
    d: DerivedStep,
    lists: &mut ReasonLists,
) -> StepReport {
    let mut context = StepContext::default();
    match &d.reach {
        Reach::Public { source_ips } => {
            put(&mut context, SOURCE_IP, ips_value(source_ips), true);
            put(&mut context, VIA_AWS_SERVICE, KeyValue::Bool(false), true);
        }
        Reach::Endpoint {
            id,
            vpc,
            source_ips,
            ..
        } => {
            put(
                &mut context,
                SOURCE_VPCE,
                KeyValue::String(id.clone()),
                true,
            );
            put(
                &mut context,
                SOURCE_VPC,
                KeyValue::String(vpc.clone()),
                true,
            );
            put(&mut context, VPC_SOURCE_IP, ips_value(source_ips), true);
            put(&mut context, VIA_AWS_SERVICE, KeyValue::Bool(false), true);
        }
        Reach::Unreachable => {}
    }
    if !matches!(d.reach, Reach::Unreachable) {
        for (k, v) in net.context.iter() {
            let text = |s: &crate::context::Scalar| s.text().to_string();
            let v = match v {
                crate::context::ContextValue::One(s) => KeyValue::String(text(s)),
                crate::context::ContextValue::Many(l) => {
                    KeyValue::Strings(l.iter().map(text).collect())
                }
            };
            put(&mut context, k, v, false);
        }
    }
    let mut classes = Vec::new();
    let mut explanations: Vec<Explanation> = Vec::new();
    let mut outcomes: Vec<(IpNet, Outcome)> = Vec::new();
    if let Some((key, ranges)) = d.varying() {
        for c in decide_over_ips(&step_set, &d.request, key, ranges) {
            let Some(first) = c.ranges.first() else {
                continue;
            };
            let request = d.request_at(crate::ip::first(first));
            if !explanations.iter().any(|e| e.decision == c.decision) {
                explanations.push(step_set.explain(&request));
            }
            let reasons = lists.share(c.reasons);
            for r in &c.ranges {
                outcomes.push((
                    *r,
                    Outcome {
                        source_ip: show_net(r),
                        decision: c.decision,
                        reasons: reasons.clone(),
                    },
                ));
            }
            classes.push(Class {
                decision: c.decision,
                reasons,
                request,
            });
        }
    }
    crate::sort::stable_by_key(&mut outcomes, |a| a.0);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    let decision = match outcomes.split_first() {
        None => StepDecision::Unreachable,
        Some((first, rest)) if rest.iter().all(|o| o.decision == first.decision) => {
            first.decision.into()
        }
        Some(_) => StepDecision::Mixed,
    };
    StepReport {
        step: d.step,
        host: d.host.clone(),
        endpoint: d.endpoint().map(str::to_string),
        path: d.path.clone(),
        context,
        outcomes,
        decision,
        derived: d,
        classes,
        explanations,
        set: step_set,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;
    use crate::decide::Decision;

    /// `n` one-address Allow statements for the presign action, each `op` on its own `aws:SourceIp` address
    /// inside 165.225.0.0/16, and a network whose Zscaler egress is that /16.
    fn one_address_statements(op: &str, n: usize) -> (PolicySet, Network) {
        let addresses = (0..n).map(|i| format!("165.225.{}.{}", i / 250, i % 250));
        address_statements(op, addresses, "165.225.0.0/16")
    }

    /// One Allow statement for the presign action per address, each `op` on that `aws:SourceIp` address, and a
    /// network whose Zscaler egress is `egress`.
    fn address_statements(
        op: &str,
        addresses: impl Iterator<Item = String>,
        egress: &str,
    ) -> (PolicySet, Network) {
        let statements: Vec<String> = addresses
            .map(|a| {
                format!(
                    r#"{{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*","Condition":{{"{op}":{{"aws:SourceIp":"{a}/32"}}}}}}"#
                )
            })
            .collect();
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        );
        let set = PolicySet::builder()
            .identity(Policy::parse(&text).unwrap())
            .build()
            .unwrap();
        let net = Network::parse(
            &format!(
                r#"{{"name":"wide","region":"eu-west-1","account":"111122223333",
                "principal":"arn:aws:iam::111122223333:role/DataSci","domain_id":"d-abc123","user_profile":"alice",
                "client":{{"ip":"10.20.1.5","egress":{{"kind":"zscaler","ips":["{egress}"]}}}},
                "create":{{"via":"client"}}}}"#
            ),
            None,
        )
        .unwrap();
        (set, net)
    }

    /// Issue 14's presign reproduction, smaller: one-address Allow statements inside a /16 egress range. Each
    /// address decides for its own statement (a class each), but the report keeps one full explanation per
    /// distinct decision, not per class (2,000 statements took 2.8 GB), and every class keeps its reasons.
    #[test]
    fn one_explanation_per_decision_not_per_class() {
        let n = 300;
        let (set, net) = one_address_statements("IpAddress", n);
        let report = presign(&set, &net);
        let create = &report.steps[0];
        assert_eq!(create.classes.len(), n + 1);
        assert_eq!(create.explanations.len(), 2, "Allow and ImplicitDeny");
        let allowed = create
            .classes
            .iter()
            .filter(|c| c.decision == Decision::Allow)
            .count();
        assert_eq!(allowed, n);
        assert!(create.classes.iter().all(|c| !c.reasons.is_empty()));
        // Every statement admits shared egress: one finding each, found through the index.
        let shared = report
            .findings
            .iter()
            .filter(|f| f.code == "shared-egress-allowed")
            .count();
        assert_eq!(shared, n);
    }

    /// Every CIDR block of a class shares the class's one list of reasons: Allows that each apply everywhere but
    /// at their own address split a /24 into one class per address and one for the rest, which is many blocks
    /// each listing every statement (1,000 such statements made 140 MB of answer, held once per block before).
    #[test]
    fn presign2_blocks_of_a_class_share_its_reasons() {
        let n = 40;
        let addresses = (0..n).map(|i| format!("165.225.0.{}", 2 * i + 1));
        let (set, net) = address_statements("NotIpAddress", addresses, "165.225.0.0/24");
        let report = presign(&set, &net);
        let create = &report.steps[0];
        assert_eq!(create.classes.len(), n + 1);
        assert!(create.outcomes.len() > 2 * n, "{}", create.outcomes.len());
        // The class of every address but the 40: all 40 statements apply there, over many blocks.
        let all: Vec<&Outcome> = create
            .outcomes
            .iter()
            .filter(|o| o.reasons.len() == n)
            .collect();
        assert!(all.len() > n, "{}", all.len());
        // Each block holds its class's list, not a copy: as many lists as classes.
        for o in &create.outcomes {
            let class = create
                .classes
                .iter()
                .filter(|c| c.reasons.same_list(&o.reasons))
                .count();
            assert_eq!(class, 1, "{}", o.source_ip);
        }
        assert!(all.iter().all(|o| o.reasons.same_list(&all[0].reasons)));
        // The use step decides alike: its blocks share the create step's lists.
        let used = &report.steps[1];
        assert_eq!(used.step, StepKind::Use);
        assert_eq!(used.outcomes.len(), create.outcomes.len());
        assert!(
            used.outcomes
                .iter()
                .zip(&create.outcomes)
                .all(|(u, c)| u.reasons.same_list(&c.reasons))
        );
        assert_eq!(
            serde_json::to_value(&all[0].reasons)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            n
        );
    }

    /// The findings read each class once per network key, not once per statement: `n` one-address Allow
    /// statements with `IpAddressIfExists` (each an `ifexists-widening` finding, each asking whether a class of
    /// requests without `aws:SourceIp` is allowed by it) read the steps' classes once (they read `n` x classes).
    #[test]
    fn findings_read_the_classes_once_per_key() {
        let n = 200;
        let (set, net) = one_address_statements("IpAddressIfExists", n);
        super::findings::CLASSES_READ.with(|v| v.set(0));
        let report = presign(&set, &net);
        let read = super::findings::CLASSES_READ.with(|v| v.replace(0));
        let classes: usize = report.steps.iter().map(|s| s.classes.len()).sum();
        assert!(classes > n);
        assert!(read as usize <= classes, "{read} > {classes}");
        let widening: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.code == "ifexists-widening")
            .collect();
        assert_eq!(widening.len(), n);
        // Each statement allows a class of the create step's public requests, which lack `aws:SourceVpce`...
        // but the condition is on `aws:SourceIp`, which they carry: the finding is not grounded there.
        assert!(widening.iter().all(|f| f.step.is_none()));
    }
}
