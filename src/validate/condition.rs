//! One condition: its key, set qualifier, operator type and `IfExists` (docs/SEMANTICS.md §3.4, §7.5, §7.7,
//! §7.8).

use super::Validator;
use super::keys::ENDPOINT_KEYS;
use super::keys::KeyInfo;
use super::keys::KeyType;
use super::keys::NETWORK_KEYS;
use super::keys::NOT_FOR_SAGEMAKER;
use super::keys::key_info;
use super::keys::suggest_key;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::parse::json;
use crate::parse::json::Value;
use crate::policy::Condition;
use crate::policy::Effect;
use crate::policy::Statement;
use crate::policy::operator::BaseOperator;
use crate::policy::operator::Family;
use crate::policy::operator::Operator;
use crate::policy::operator::Qualifier;
use crate::span::Span;
use crate::traps;

impl Validator<'_> {
    /// §3.2, §1.9: empty Condition blocks and empty operator blocks (the AST drops the latter, so the block is
    /// read again from the source).
    pub(super) fn condition_block(&mut self, st: &Statement) {
        let Some(span) = st.condition_span else {
            return;
        };
        let mut empty_ops = Vec::new();
        // Read again only when the block holds an empty object (`{` then `}` with only whitespace between): an
        // operator without keys can be nothing else.
        let text = self
            .policy
            .source()
            .get(span.range())
            .filter(|t| has_empty_object(t));
        if let Some(text) = text {
            let arena = crate::parse::json::Arena::new();
            if let Ok(node) = json::parse(text, &arena, &Limits::default()) {
                if let Value::Object(ops) = &node.value {
                    for m in *ops {
                        if matches!(&m.value.value, Value::Object(keys) if keys.is_empty()) {
                            let start = span.start as usize + m.key_span.start as usize;
                            let end = span.start as usize + m.key_span.end as usize;
                            empty_ops.push((Span::new(start, end), m.key.to_string()));
                        }
                    }
                }
            }
        }
        if st.conditions.is_empty() && empty_ops.is_empty() {
            self.push(
                Diagnostic::warning("empty-condition", span, "the `Condition` block is empty")
                    .with_help(
                        "the statement applies unconditionally; add the conditions you meant, or \
                         remove the block",
                    ),
            );
        }
        for (op_span, op) in empty_ops {
            self.push(
                Diagnostic::warning(
                    "empty-condition",
                    op_span,
                    format!("`{op}` has no condition keys"),
                )
                .with_help("it tests nothing; add the keys you meant, or remove the operator"),
            );
        }
    }

    pub(super) fn condition(&mut self, st: &Statement, c: &Condition) {
        let op = c.operator.value;
        let info = key_info(&c.key.value);
        self.key(st, c, &info);
        self.qualifier(st, c, &info);
        self.values(c);
        self.value_variables(c);
        if let KeyInfo::Global { ty, .. } = info {
            self.operator_type(c, ty);
        }
        let key = super::Lower::of(&c.key.value);
        // §7.8: IfExists on a network key in an Allow.
        if st.effect.value == Effect::Allow
            && op.if_exists
            && !op.base.is_negated()
            && op.qualifier != Some(Qualifier::ForAnyValue)
            && key.is_in(&NETWORK_KEYS)
            && !complementary_if_exists(st, key)
        {
            let absent_on = if key == "aws:sourceip" {
                "every request through a VPC endpoint"
            } else {
                "every request through a public endpoint, the console included"
            };
            self.push(
                Diagnostic::warning(
                    traps::IFEXISTS_WIDENING.code,
                    c.operator.span,
                    format!(
                        "`{op}` on `{}` widens access: the statement also allows requests without \
                         the key",
                        c.key.value
                    ),
                )
                .with_help(format!(
                    "`{}` is absent on {absent_on}, and `IfExists` is then true; drop `IfExists`, \
                     and to allow either an IP range or a VPC endpoint write one statement per \
                     key",
                    c.key.value
                )),
            );
        }
    }

    /// §7.5, §5.1: unknown global keys and keys SageMaker does not populate.
    pub(super) fn key(&mut self, st: &Statement, c: &Condition, info: &KeyInfo) {
        match info {
            KeyInfo::Unknown => {
                let effect = if c.operator.value.base == BaseOperator::Null {
                    "`Null` always sees it as absent".to_string()
                } else if holds_when_absent(c.operator.value) {
                    format!("`{}` always holds", c.operator.value)
                } else {
                    format!("`{}` never holds", c.operator.value)
                };
                let mut d = Diagnostic::warning(
                    traps::UNKNOWN_GLOBAL_KEY.code,
                    c.key.span,
                    format!(
                        "`{}` is not a global condition key, so it is never in the request",
                        c.key.value
                    ),
                );
                let why = format!(
                    "an absent key makes positive conditions false and negated ones true: here \
                     {effect}"
                );
                d = match suggest_key(&c.key.value) {
                    Some(s) => d.with_help(format!("did you mean `{s}`? {why}")),
                    None => d.with_help(format!(
                        "check the spelling against the AWS global condition key list; {why}"
                    )),
                };
                self.push(d);
            }
            KeyInfo::Global { name, .. } => {
                if super::Lower::of(name).is_in(&NOT_FOR_SAGEMAKER) && covers_sagemaker(st) {
                    self.push(
                        Diagnostic::warning(
                            traps::KEY_ABSENT_FOR_SAGEMAKER.code,
                            c.key.span,
                            format!(
                                "SageMaker does not populate `{}`, so it is never in a SageMaker \
                                 request",
                                c.key.value
                            ),
                        )
                        .with_help(
                            "for SageMaker requests positive conditions on it are false and \
                             negated ones true; use `aws:SourceVpce` or `aws:SourceVpc` instead",
                        ),
                    );
                }
            }
            KeyInfo::Service => {}
        }
    }

    /// §3.4, §7.7: set qualifiers against single- and multivalued keys; Null with a qualifier.
    pub(super) fn qualifier(&mut self, st: &Statement, c: &Condition, info: &KeyInfo) {
        let op = c.operator.value;
        if op.base == BaseOperator::Null {
            if op.qualifier.is_some() {
                self.push(
                    Diagnostic::warning(
                        "null-with-qualifier",
                        c.operator.span,
                        format!("`{op}` combines `Null` with a set qualifier"),
                    )
                    .with_help("`Null` tests whether the key is present; write plain `Null`"),
                );
            }
            return;
        }
        let KeyInfo::Global {
            name, multivalued, ..
        } = info
        else {
            return;
        };
        match (op.qualifier, multivalued) {
            (None, true) => self.push(
                Diagnostic::warning(
                    "missing-qualifier",
                    c.operator.span,
                    format!(
                        "`{name}` is multivalued but `{op}` has no `ForAnyValue:` or \
                         `ForAllValues:`"
                    ),
                )
                .with_help(format!(
                    "AWS does not document how this is evaluated, and iamgate treats it as \
                     `ForAnyValue:`; write `ForAnyValue:{}` to match when any value matches, or \
                     `ForAllValues:{}` when all must",
                    without_qualifier(op),
                    without_qualifier(op)
                )),
            ),
            (Some(Qualifier::ForAllValues), false) if st.effect.value == Effect::Allow => self
                .push(
                Diagnostic::warning(
                    // The network keys' case is trap §7.7, with the code `presign` gives it too.
                    if NETWORK_KEYS.contains(&name.to_ascii_lowercase().as_str()) {
                        traps::FORALLVALUES_NETWORK_KEY.code
                    } else {
                        "forallvalues-single-valued-key"
                    },
                    c.operator.span,
                    format!(
                        "`{op}` on single-valued `{name}` is overly permissive: true when the key \
                         is absent"
                    ),
                )
                .with_help(format!(
                    "write `{}`; with `ForAllValues:` the statement also allows requests without \
                     `{name}`",
                    without_qualifier(op)
                )),
            ),
            (Some(q), false) => {
                let (prefix, why) = match q {
                    Qualifier::ForAllValues => (
                        "ForAllValues:",
                        format!(
                            "it is true when the key is absent, so this Deny also applies to \
                             requests without `{name}`"
                        ),
                    ),
                    Qualifier::ForAnyValue => (
                        "ForAnyValue:",
                        format!(
                            "on a single-valued key it adds nothing: `{op}` behaves as `{}`",
                            without_qualifier(op)
                        ),
                    ),
                };
                self.push(
                    Diagnostic::warning(
                        "qualifier-on-single-valued-key",
                        c.operator.span,
                        format!("set qualifier `{prefix}` on single-valued `{name}`"),
                    )
                    .with_help(format!("write `{}`; {why}", without_qualifier(op))),
                );
            }
            _ => {}
        }
    }

    /// Access Analyzer "type mismatch": an operator that does not fit the key's type.
    pub(super) fn operator_type(&mut self, c: &Condition, ty: KeyType) {
        let family = c.operator.value.base.family();
        let fits = match family {
            Family::String { .. } | Family::StringLike => {
                matches!(ty, KeyType::String | KeyType::Arn)
            }
            Family::Arn => ty == KeyType::Arn,
            Family::Numeric(_) => matches!(ty, KeyType::Numeric | KeyType::Epoch),
            Family::Date(_) => matches!(ty, KeyType::Date | KeyType::Epoch),
            Family::Bool => ty == KeyType::Bool,
            Family::Ip => ty == KeyType::Ip,
            Family::Binary => false,
            Family::Null => true,
        };
        if fits {
            return;
        }
        let (holds, use_) = match ty {
            KeyType::String => ("a string", "a `String*` operator"),
            KeyType::Arn => ("an ARN", "an `Arn*` or `String*` operator"),
            KeyType::Ip => ("an IP address", "`IpAddress` or `NotIpAddress`"),
            KeyType::Bool => ("a boolean", "`Bool`"),
            KeyType::Date => ("a date", "a `Date*` operator"),
            KeyType::Numeric => ("a number", "a `Numeric*` operator"),
            KeyType::Epoch => (
                "a time in epoch seconds",
                "a `Date*` or `Numeric*` operator",
            ),
        };
        self.push(
            Diagnostic::warning(
                "operator-type-mismatch",
                c.operator.span,
                format!(
                    "`{}` does not fit `{}`, which holds {holds}",
                    c.operator.value, c.key.value
                ),
            )
            .with_help(format!("use {use_}")),
        );
    }
}

/// Whether `text` may hold an empty JSON object: a `{` followed, after JSON whitespace only, by `}`.
pub(super) fn has_empty_object(text: &str) -> bool {
    // By bytes: the bytes looked for are ASCII, which in UTF-8 is always that character.
    let mut rest = text.as_bytes();
    while let Some(open) = rest.iter().position(|&c| c == b'{') {
        rest = rest.get(open + 1..).unwrap_or_default();
        let next = rest
            .iter()
            .find(|&&c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'));
        if next == Some(&b'}') {
            return true;
        }
    }
    false
}

/// Whether the statement's actions include SageMaker's (§7.5: keys SageMaker does not populate).
pub(super) fn covers_sagemaker(st: &Statement) -> bool {
    const PROBE: &str = "sagemaker:CreatePresignedDomainUrl";
    let listed = st
        .action
        .patterns
        .iter()
        .any(|a| a.value.service().as_deref() == Some("sagemaker") || a.value.matches(PROBE));
    if st.action.negated {
        !st.action.patterns.iter().any(|a| a.value.matches(PROBE))
    } else {
        listed
    }
}

/// What an operator gives when the key is absent (§3.3); `Null` is handled by its callers.
pub(super) fn holds_when_absent(op: Operator) -> bool {
    // The set qualifier decides before `IfExists`.
    match (op.qualifier, op.if_exists) {
        (Some(Qualifier::ForAllValues), _) | (None, true) => true,
        (Some(Qualifier::ForAnyValue), _) => false,
        (None, false) => op.base.is_negated(),
    }
}

/// Whether an Allow statement pairs `IfExists` on `aws:SourceIp` with `IfExists` on an endpoint key, which is
/// the documented "IP range or VPC" idiom: each path is checked by the key it carries (§7.8).
pub(super) fn complementary_if_exists(st: &Statement, key: super::Lower<'_>) -> bool {
    let is_pos_if_exists =
        |c: &&Condition| c.operator.value.if_exists && !c.operator.value.base.is_negated();
    let want_endpoint = key == "aws:sourceip";
    st.conditions.iter().filter(is_pos_if_exists).any(|c| {
        let k = super::Lower::of(&c.key.value);
        if want_endpoint {
            k.is_in(&ENDPOINT_KEYS) || k == "aws:sourcevpcarn"
        } else {
            k == "aws:sourceip"
        }
    })
}

pub(super) fn without_qualifier(op: Operator) -> Operator {
    Operator {
        qualifier: None,
        ..op
    }
}
