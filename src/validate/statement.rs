//! Statement elements: `Principal`, `Action`, `Resource`, and duplicate condition keys (docs/SEMANTICS.md
//! §1.6-§1.8, §7.12).

use super::PolicyKind;
use super::Validator;
use super::variables::without_variables;
use crate::diagnostic::Diagnostic;
use crate::policy::Condition;
use crate::policy::Effect;
use crate::policy::Principal;
use crate::policy::PrincipalKind;
use crate::policy::Statement;
use crate::policy::arn;
use crate::policy::operator::Operator;
use crate::span::Span;
use crate::traps;

impl Validator<'_> {
    pub(super) fn statement(&mut self, st: &Statement) {
        self.principal(st);
        self.action(st);
        self.resource(st);
        self.condition_block(st);
        // A few conditions (the usual statement): each one's twin found in place, without a vector of them.
        let twins = (st.conditions.len() > SMALL).then(|| case_twins_hashed(&st.conditions));
        for (i, c) in st.conditions.iter().enumerate() {
            self.condition(st, c);
            let twin = match &twins {
                Some(t) => t.get(i).copied().flatten(),
                None => case_twin_small(&st.conditions, i),
            };
            if let Some(first) = twin {
                self.out.push(
                    Diagnostic::error(
                        "duplicate-condition-key",
                        c.key.span,
                        format!(
                            "condition key `{}` appears twice under `{}`, differing only in case",
                            c.key.value, c.operator.value
                        ),
                    )
                    .with_related(first.key.span, "first written here")
                    .with_help("condition key names are case-insensitive: iamgate requires both conditions (AND); list all values in one array"),
                );
            }
        }
        self.network(st);
    }

    /// §1.6: Principal and NotPrincipal.
    pub(super) fn principal(&mut self, st: &Statement) {
        match (&st.principal, self.kind.takes_principal()) {
            (Some(p), false) => {
                let what = if p.negated {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                self.push(
                    Diagnostic::error(
                        "principal-not-allowed",
                        p.span,
                        format!("`{what}` is not allowed in {}", self.kind.describe()),
                    )
                    .with_help(
                        "these policies apply to the principal they are attached to; remove the \
                         element (use `aws:PrincipalArn` in a condition to single out principals)",
                    ),
                );
            }
            (None, true) => {
                self.push(
                    Diagnostic::error(
                        "missing-principal",
                        st.span,
                        format!(
                            "the statement has no `Principal`, which {} require",
                            self.kind.describe()
                        ),
                    )
                    .with_help(
                        "add `\"Principal\": \"*\"` and narrow it with a condition such as \
                         `aws:PrincipalArn`",
                    ),
                );
            }
            _ => {}
        }
        let Some(p) = &st.principal else { return };
        if p.negated && st.effect.value == Effect::Allow {
            self.push(
                Diagnostic::warning(
                    "notprincipal-with-allow",
                    p.span,
                    "`NotPrincipal` with `Allow` grants access to every principal not listed, \
                     anonymous callers included",
                )
                .with_help("name the principals in `Principal` instead"),
            );
        }
        let Principal::Map(map) = &p.principal else {
            return;
        };
        for (k, values) in map {
            for v in values {
                if crate::bytes::has_variable(&v.value) {
                    self.push(
                        Diagnostic::error(
                            "variable-in-principal",
                            v.span,
                            format!(
                                "policy variables are not allowed in `Principal`, found `{}`",
                                v.value
                            ),
                        )
                        .with_help(
                            "write the principal literally, or use `aws:PrincipalArn` in a \
                             condition",
                        ),
                    );
                }
                if self.kind == PolicyKind::Endpoint
                    && k.value == PrincipalKind::Aws
                    && v.value.len() == 12
                    && v.value.bytes().all(|b| b.is_ascii_digit())
                {
                    self.push(
                        Diagnostic::warning(
                            "endpoint-account-principal",
                            v.span,
                            format!(
                                "in a gateway endpoint's policy (S3, DynamoDB) `{}` grants only that \
                                 account's root user; in an interface endpoint's policy it admits \
                                 every principal of the account",
                                v.value
                            ),
                        )
                        .with_help(format!(
                            "to admit every principal of the account through either kind write \
                             `\"Principal\": \"*\"` with `\"Condition\": {{\"StringEquals\": \
                             {{\"aws:PrincipalAccount\": \"{}\"}}}}`",
                            v.value
                        )),
                    );
                }
            }
        }
    }

    /// §1.7, §2.3: Action and NotAction.
    pub(super) fn action(&mut self, st: &Statement) {
        for a in &st.action.patterns {
            if crate::bytes::has_variable(a.value.as_str()) {
                self.push(
                    Diagnostic::error(
                        "variable-in-action",
                        a.span,
                        format!(
                            "policy variables are not allowed in `Action`, found `{}`",
                            a.value
                        ),
                    )
                    .with_help("write the action name, with `*` wildcards if needed"),
                );
            }
        }
        let resource_star = st
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.patterns.iter().any(|p| p.value == "*"));
        if st.action.negated && st.effect.value == Effect::Allow && resource_star {
            self.push(
                Diagnostic::warning(
                    "notaction-with-allow",
                    st.action.span,
                    "`NotAction` with `Allow` on `\"Resource\": \"*\"` grants every other action \
                     of every service",
                )
                .with_help("list the allowed actions in `Action`, or use `NotAction` in a `Deny`"),
            );
        }
    }

    /// §1.8, §2.3, §7.12: Resource and NotResource.
    pub(super) fn resource(&mut self, st: &Statement) {
        let Some(r) = &st.resource else {
            let trust = self.kind == PolicyKind::Trust
                || self.kind == PolicyKind::Resource
                    && !st.action.negated
                    && st.action.patterns.iter().all(|a| {
                        TRUST_ACTIONS
                            .iter()
                            .any(|t| a.value.as_str().eq_ignore_ascii_case(t))
                    });
            if !trust {
                self.push(
                    Diagnostic::error(
                        "missing-resource",
                        st.span,
                        "the statement has no `Resource` or `NotResource`",
                    )
                    .with_help("add `\"Resource\": \"*\"` or the ARNs the statement is about"),
                );
            }
            return;
        };
        if r.negated && st.effect.value == Effect::Allow {
            self.push(
                Diagnostic::warning(
                    "notresource-with-allow",
                    r.span,
                    "`NotResource` with `Allow` grants the actions on every resource not listed, \
                     including ones created later",
                )
                .with_help("list the allowed resources in `Resource` instead"),
            );
        }
        for p in &r.patterns {
            self.variables_in(&p.value, p.span, true);
            if self.policy.variables_enabled() {
                if let Some(fields) = arn::split(&p.value) {
                    let names = ["partition", "service", "region", "account"];
                    for (field, name) in fields.iter().skip(1).zip(names) {
                        if crate::bytes::has_variable(field) {
                            self.push(
                                Diagnostic::warning(
                                    "variable-in-arn-field",
                                    p.span,
                                    format!("policy variable in the {name} field of `{}`", p.value),
                                )
                                .with_help(
                                    "variables are expanded only in the resource part of an ARN, \
                                     after the fifth colon; write the field literally or use `*`",
                                ),
                            );
                        }
                    }
                }
            }
            self.sagemaker_arn_case(&p.value, p.span);
        }
    }

    /// §7.12: user-profile names in ARNs with uppercase letters.
    pub(super) fn sagemaker_arn_case(&mut self, value: &str, span: Span) {
        let Some([_, _, service, _, _, resource]) = arn::split(value) else {
            return;
        };
        if !service.eq_ignore_ascii_case("sagemaker") || !resource.starts_with("user-profile/") {
            return;
        }
        if without_variables(resource)
            .chars()
            .any(|c| c.is_ascii_uppercase())
        {
            self.push(
                Diagnostic::warning(
                    traps::SAGEMAKER_ARN_UPPERCASE.code,
                    span,
                    format!("user-profile ARN `{value}` has uppercase letters"),
                )
                .with_help(
                    "SageMaker has been seen to lowercase names in ARNs, so this may never match \
                     (not confirmed for user profiles); use lowercase profile names, or list both \
                     spellings",
                ),
            );
        }
    }
}

/// Up to this many conditions in a statement, each one's twin is found by comparing it with the earlier ones
/// ([`case_twin_small`]); above, through a map ([`case_twins_hashed`]).
pub(super) const SMALL: usize = 16;

/// Actions that have no `Resource` in a role trust policy (§1.8).
pub(super) const TRUST_ACTIONS: [&str; 6] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

/// For each condition, the first earlier one under the same operator whose key differs from its key only in ASCII
/// case (docs/SEMANTICS.md §9 row 28), by comparing each condition with the earlier ones: quadratic, for a few
/// conditions (up to [`SMALL`]; `case_twins_hashed` above that gives the same answers).
#[cfg(test)]
pub(super) fn case_twins_small(conditions: &[Condition]) -> Vec<Option<&Condition>> {
    (0..conditions.len())
        .map(|i| case_twin_small(conditions, i))
        .collect()
}

/// The twin of condition `i` that [`case_twins_small`] gives, found in place.
pub(super) fn case_twin_small(conditions: &[Condition], i: usize) -> Option<&Condition> {
    let c = conditions.get(i)?;
    let mut group = conditions.get(..i).unwrap_or_default().iter().filter(|o| {
        o.operator.value == c.operator.value && o.key.value.eq_ignore_ascii_case(&c.key.value)
    });
    let first = group.next()?;
    if first.key.value != c.key.value {
        Some(first)
    } else {
        group.find(|o| o.key.value != first.key.value)
    }
}

/// The twins of [`case_twin_small`] for every condition, through a map of the keys' lowercase forms: linear, for any number of conditions.
pub(super) fn case_twins_hashed(conditions: &[Condition]) -> Vec<Option<&Condition>> {
    // (operator, lowercase key) -> the first condition, and the first spelled differently from it. For a
    // condition spelled like the first, the earliest spelled differently is the second; otherwise the first.
    type Firsts<'c> = (&'c Condition, Option<&'c Condition>);
    let mut groups: crate::map::Map<(Operator, String), Firsts<'_>> = crate::map::Map::new();
    conditions
        .iter()
        .map(|c| {
            let key = (c.operator.value, c.key.value.to_ascii_lowercase());
            match crate::map::first_or_insert(&mut groups, key, (c, None)) {
                None => None,
                Some((first, second)) => {
                    if first.key.value != c.key.value {
                        if second.is_none() {
                            *second = Some(c);
                        }
                        Some(*first)
                    } else {
                        *second
                    }
                }
            }
        })
        .collect()
}
