//! Condition values: what does not parse for the operator, mixed types, empty lists, IP advice, wildcards
//! and variables inside values (docs/SEMANTICS.md §2, §3.3, §3.5, §7.4, §7.10).

use super::PolicyKind;
use super::Validator;
use super::keys::ENDPOINT_ID_KEYS;
use super::variables::first_variable;
use super::variables::without_variables;
use crate::diagnostic::Diagnostic;
use crate::policy::Condition;
use crate::policy::operator::BaseOperator;
use crate::policy::operator::Family;
use crate::policy::operator::Operator;
use crate::policy::operator::Qualifier;
use crate::policy::value::Timestamp;
use crate::policy::value::decode_base64;
use crate::policy::value::is_private;
use crate::policy::value::parse_bool;
use crate::policy::value::parse_cidr_as_written;
use crate::policy::value::parse_number;
use crate::traps;
use ipnet::IpNet;
use std::net::IpAddr;

impl Validator<'_> {
    /// §3.5, §1.1, §3.3: values that do not parse for the operator, mixed types, empty lists, IP advice.
    pub(super) fn values(&mut self, c: &Condition) {
        let op = c.operator.value;
        let family = op.base.family();
        if c.values.is_empty() {
            self.empty_values(c);
            return;
        }
        if let Some(first) = c.values.first() {
            if let Some(other) = c
                .values
                .iter()
                .find(|v| v.value.kind() != first.value.kind())
            {
                self.push(
                    Diagnostic::warning(
                        "mixed-value-types",
                        c.values_span,
                        format!(
                            "the values of `{}` mix a {} and a {}",
                            c.key.value,
                            first.value.kind(),
                            other.value.kind()
                        ),
                    )
                    .with_help(
                        "write every value of one key with the same JSON type, for example all as \
                         strings",
                    ),
                );
            }
        }
        let key = super::Lower::of(&c.key.value);
        let mut private = Vec::new();
        let mut public = 0usize;
        for v in &c.values {
            let text = v.value.text();
            // Values with variables are reported by `value_variables`.
            if crate::bytes::has_variable(text) && op.base.accepts_variables() {
                continue;
            }
            let bad = |what: &str, help: String| {
                Diagnostic::error(
                    "value-never-matches",
                    v.span,
                    format!("`{text}` is not {what}, so it never matches under `{op}`"),
                )
                .with_help(help)
            };
            match family {
                Family::Numeric(_) if parse_number(text).is_none() => self.push(bad(
                    "a number",
                    "write an integer or a decimal such as `3600` or `0.5`".to_string(),
                )),
                Family::Date(_) if text.parse::<Timestamp>().is_err() => self.push(bad(
                    "a date",
                    "write an ISO 8601 date such as `2025-01-31` or `2025-01-31T12:00:00Z`, or \
                     epoch seconds"
                        .to_string(),
                )),
                Family::Binary if decode_base64(text).is_none() => self.push(bad(
                    "base-64",
                    "`BinaryEquals` compares bytes written in base-64, for example \
                     `QmluYXJ5VmFsdWU=`"
                        .to_string(),
                )),
                Family::Bool | Family::Null if parse_bool(text).is_none() => self.push(bad(
                    "`true` or `false`",
                    format!(
                        "write `\"true\"` or `\"false\"`{}",
                        if family == Family::Null {
                            "; `\"true\"` means the key is absent"
                        } else {
                            ""
                        }
                    ),
                )),
                Family::Bool | Family::Null if text != "true" && text != "false" => self.push(
                    Diagnostic::warning(
                        "bool-value-case",
                        v.span,
                        format!("`{text}` is not written in lowercase"),
                    )
                    .with_help(
                        "write `true` or `false`; AWS does not document whether other casings are \
                         accepted",
                    ),
                ),
                Family::Ip => match parse_cidr_as_written(text) {
                    Err(_) => self.push(bad(
                        "an IP address or CIDR block",
                        "write for example `203.0.113.0/24` or `2001:db8::/32`".to_string(),
                    )),
                    Ok(written) => {
                        let net = crate::ip::trunc(&written);
                        let shown = crate::ip::Net(net);
                        // Bits set after the prefix (`203.0.113.7/24`): the address differs from the network's.
                        if written.addr() != net.addr() {
                            self.push(
                                Diagnostic::warning(
                                    "improve-ip-range",
                                    v.span,
                                    format!("`{text}` has host bits set; it means `{shown}`"),
                                )
                                .with_help(format!("write `{shown}`")),
                            );
                        }
                        if is_ipv4_mapped(&net) {
                            self.push(
                                Diagnostic::warning(
                                    "ipv4-mapped-ipv6",
                                    v.span,
                                    format!("`{text}` is an IPv4-mapped IPv6 address"),
                                )
                                .with_help(
                                    "AWS does not document whether it matches IPv4 requests, and \
                                     iamgate does not cross-match address families; write the \
                                     IPv4 form",
                                ),
                            );
                        }
                        if is_private(&net) {
                            private.push((v.span, text));
                        } else {
                            public += 1;
                        }
                    }
                },
                _ => {}
            }
        }
        if family == Family::Bool && c.values.len() > 1 {
            self.push(
                Diagnostic::error(
                    "multiple-bool-values",
                    c.values_span,
                    format!("`{}` has several values under `{op}`", c.key.value),
                )
                .with_help(
                    "give one value; `true` and `false` together only test that the key is \
                     present, which `Null` says plainly",
                ),
            );
        }
        // §7.4: aws:SourceIp never holds a private address.
        if key == "aws:sourceip" && !private.is_empty() {
            if public == 0 {
                self.push(
                    Diagnostic::error(
                        traps::PRIVATE_SOURCE_IP.code,
                        c.values_span,
                        "`aws:SourceIp` never holds a private address",
                    )
                    .with_help(format!(
                        "so `{op}` {} here; for addresses inside a VPC use `aws:VpcSourceIp` \
                         together with `aws:SourceVpc` or `aws:SourceVpce`",
                        if op.base.is_negated() {
                            "is always true"
                        } else {
                            "never matches"
                        }
                    )),
                );
            } else {
                for (span, text) in private {
                    self.push(
                        Diagnostic::warning(
                            traps::PRIVATE_SOURCE_IP.code,
                            span,
                            format!(
                                "`{text}` is a private range, which `aws:SourceIp` never holds"
                            ),
                        )
                        .with_help(
                            "remove it; for addresses inside a VPC use `aws:VpcSourceIp` together \
                             with `aws:SourceVpc` or `aws:SourceVpce` in a separate statement",
                        ),
                    );
                }
            }
        }
    }

    /// §3.3 (Access Analyzer suggestions): what an empty value list does.
    pub(super) fn empty_values(&mut self, c: &Condition) {
        let op = c.operator.value;
        let negated = op.base.is_negated();
        let outcome = match (op.base, op.qualifier, op.if_exists) {
            (BaseOperator::Null, ..) => "never holds",
            (_, Some(Qualifier::ForAnyValue), _) if negated => "holds whenever the key is present",
            (_, Some(Qualifier::ForAnyValue), _) => "never holds",
            (_, _, _) if negated => "always holds",
            (_, Some(Qualifier::ForAllValues), _) => "holds only when the key is absent or empty",
            (_, None, true) => "holds only when the key is absent",
            (_, None, false) => "never holds",
        };
        self.push(
            Diagnostic::warning(
                "empty-condition-values",
                c.values_span,
                format!("`{}` has no values, so `{op}` {outcome}", c.key.value),
            )
            .with_help("list the values to compare with, or remove the condition"),
        );
    }

    /// §2.1, §2.3, §4.1: variables and wildcards inside condition values.
    pub(super) fn value_variables(&mut self, c: &Condition) {
        let op = c.operator.value;
        let family = op.base.family();
        let key = super::Lower::of(&c.key.value);
        if self.kind == PolicyKind::Endpoint
            && key.is_in(&ENDPOINT_ID_KEYS)
            && matches!(family, Family::Numeric(_))
        {
            self.push(
                Diagnostic::error(
                    "endpoint-numeric-id-key",
                    c.operator.span,
                    format!(
                        "VPC endpoint policies do not allow `{op}` on `{}`",
                        c.key.value
                    ),
                )
                .with_help("compare the identifier with `StringEquals`"),
            );
        }
        for v in &c.values {
            let text = v.value.text();
            if crate::bytes::has_variable(text) {
                if op.base.accepts_variables() {
                    self.variables_in(text, v.span, true);
                    if family == Family::Bool && self.policy.variables_enabled() {
                        self.push(
                            Diagnostic::warning(
                                "variable-in-bool",
                                v.span,
                                format!(
                                    "`Bool` may not expand policy variables, found `{}`",
                                    first_variable(text)
                                ),
                            )
                            .with_help(
                                "AWS documents this both ways; iamgate expands it, but write \
                                 `true` or `false` to be sure",
                            ),
                        );
                    }
                } else if self.policy.variables_enabled() {
                    self.push(
                        Diagnostic::warning(
                            "variable-not-supported",
                            v.span,
                            format!(
                                "`{}` does not expand policy variables, so `{}` is literal text",
                                op.base.name(),
                                first_variable(text)
                            ),
                        )
                        .with_help(
                            "only `String*`, `Arn*` and (uncertainly) `Bool` operators expand \
                             variables; write the value literally",
                        ),
                    );
                } else {
                    self.variables_in(text, v.span, false);
                }
            }
            let literal = without_variables(text);
            let wildcard = literal.contains(['*', '?']);
            if self.kind == PolicyKind::Endpoint
                && key.is_in(&ENDPOINT_ID_KEYS)
                && wildcard
                && matches!(
                    family,
                    Family::String { .. } | Family::StringLike | Family::Arn
                )
            {
                self.push(
                    Diagnostic::error(
                        traps::ENDPOINT_WILDCARD_ID_KEY.code,
                        v.span,
                        format!(
                            "VPC endpoint policies do not allow wildcards in values of `{}`",
                            c.key.value
                        ),
                    )
                    .with_help("write each identifier in full"),
                );
                continue;
            }
            if wildcard && matches!(family, Family::String { .. }) {
                self.push(
                    Diagnostic::warning(
                        traps::WILDCARD_WITHOUT_LIKE.code,
                        v.span,
                        format!("`{text}` contains a wildcard but `{op}` compares it literally"),
                    )
                    .with_help(format!(
                        "use `{}` to match a pattern, or write the exact value",
                        like_counterpart(op)
                    )),
                );
            }
            if family == Family::Arn {
                self.sagemaker_arn_case(text, v.span);
            }
        }
    }
}

pub(super) fn is_ipv4_mapped(net: &IpNet) -> bool {
    match net.addr() {
        IpAddr::V6(a) => crate::ip::mapped_v4(a).is_some() && net.prefix_len() >= 96,
        IpAddr::V4(_) => false,
    }
}

/// The `Like` operator to suggest instead of an exact string operator.
pub(super) fn like_counterpart(op: Operator) -> Operator {
    let base = if op.base.is_negated() {
        BaseOperator::StringNotLike
    } else {
        BaseOperator::StringLike
    };
    Operator { base, ..op }
}
