//! Network conditions read across a statement: the Denies that lock out endpoint traffic, the console or
//! forward access sessions, and `aws:VpcSourceIp` without a VPC key (docs/SEMANTICS.md §7.1, §7.2, §7.9,
//! §7.15).

use super::Validator;
use super::keys::ENDPOINT_KEYS;
use super::keys::FAS_KEYS;
use crate::diagnostic::Diagnostic;
use crate::policy::Condition;
use crate::policy::Effect;
use crate::policy::Statement;
use crate::policy::operator::BaseOperator;
use crate::policy::value::parse_bool;
use crate::traps;

impl Validator<'_> {
    /// §7.1, §7.2, §7.9, §7.15: network conditions that look across the statement.
    pub(super) fn network(&mut self, st: &Statement) {
        let has = |pred: &dyn Fn(&Condition) -> bool| st.conditions.iter().any(pred);
        for c in &st.conditions {
            let key = super::Lower::of(&c.key.value);
            let base = c.operator.value.base;
            if st.effect.value == Effect::Deny
                && base == BaseOperator::NotIpAddress
                && key == "aws:sourceip"
                && !has(&is_endpoint_exclusion)
            {
                self.push(
                    Diagnostic::warning(
                        traps::NOT_IP_LOCKOUT.code,
                        c.operator.span,
                        format!(
                            "this Deny denies every request through a VPC endpoint: \
                             `aws:SourceIp` is absent there, so `{}` is true",
                            c.operator.value
                        ),
                    )
                    .with_help(
                        "`IfExists` does not help; add an exclusion for endpoint traffic to the \
                         same condition block, for example `\"StringNotEqualsIfExists\": \
                         {\"aws:SourceVpc\": [\"vpc-...\"]}`",
                    ),
                );
            }
            let vpc_key = key == "aws:sourcevpc" || key == "aws:sourcevpce";
            let negated_string = matches!(
                base,
                BaseOperator::StringNotEquals
                    | BaseOperator::StringNotEqualsIgnoreCase
                    | BaseOperator::StringNotLike
            );
            if st.effect.value == Effect::Deny && vpc_key && negated_string {
                if !has(&is_public_exclusion) {
                    self.push(
                        Diagnostic::warning(
                            traps::CONSOLE_BROKEN.code,
                            c.operator.span,
                            format!(
                                "this Deny blocks every request that does not come through {}, \
                                 the console and public-endpoint calls included",
                                if key == "aws:sourcevpc" {
                                    "an endpoint in a listed VPC"
                                } else {
                                    "a listed VPC endpoint"
                                }
                            ),
                        )
                        .with_help(format!(
                            "requests through the public endpoint carry no `{}`, so `{}` is true \
                             for them; if they should pass, exclude your public egress ranges \
                             with `\"NotIpAddressIfExists\": {{\"aws:SourceIp\": [...]}}` in the \
                             same block",
                            c.key.value, c.operator.value
                        )),
                    );
                }
                if !has(&|o: &Condition| super::Lower::of(&o.key.value).is_in(&FAS_KEYS)) {
                    self.push(
                        Diagnostic::warning(
                            traps::DENY_BLOCKS_FAS.code,
                            c.operator.span,
                            "this Deny also blocks calls AWS services make on the principal's \
                             behalf (forward access sessions)",
                        )
                        .with_help(
                            "those calls carry no VPC keys; add `\"BoolIfExists\": \
                             {\"aws:ViaAWSService\": \"false\"}` to the same condition block",
                        ),
                    );
                }
            }
            if key == "aws:vpcsourceip"
                && base != BaseOperator::Null
                && !has(&|o: &Condition| {
                    super::Lower::of(&o.key.value).is_in(&[
                        "aws:sourcevpc",
                        "aws:sourcevpce",
                        "aws:sourcevpcarn",
                    ])
                })
            {
                self.push(
                    Diagnostic::warning(
                        traps::VPC_SOURCE_IP_WITHOUT_VPC.code,
                        c.key.span,
                        "`aws:VpcSourceIp` is used without `aws:SourceVpc` or `aws:SourceVpce`",
                    )
                    .with_help(
                        "VPC address ranges overlap across VPCs; add `\"StringEquals\": \
                         {\"aws:SourceVpc\": \"vpc-...\"}` to the same statement",
                    ),
                );
            }
        }
    }
}

/// A condition that is false for requests through a VPC endpoint, so a Deny with it spares them (§7.1).
pub(super) fn is_endpoint_exclusion(c: &Condition) -> bool {
    let key = super::Lower::of(&c.key.value);
    let endpoint_key = key.is_in(&ENDPOINT_KEYS);
    if c.operator.value.base == BaseOperator::Null {
        let v = null_value(c);
        return (endpoint_key && v == Some(true)) || (key == "aws:sourceip" && v == Some(false));
    }
    endpoint_key
}

/// A condition that can be false for requests through a public endpoint, so a Deny with it spares them (§7.2).
pub(super) fn is_public_exclusion(c: &Condition) -> bool {
    let key = super::Lower::of(&c.key.value);
    if c.operator.value.base == BaseOperator::Null {
        let v = null_value(c);
        return (key.is_in(&ENDPOINT_KEYS) && v == Some(false))
            || (key == "aws:sourceip" && v == Some(true));
    }
    key == "aws:sourceip"
}

/// The single value of a `Null` condition.
pub(super) fn null_value(c: &Condition) -> Option<bool> {
    let mut it = c.values.iter().map(|v| parse_bool(v.value.text()));
    let first = it.next()??;
    it.all(|v| v == Some(first)).then_some(first)
}
