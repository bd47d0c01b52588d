//! The rules of AWS's evaluation that more than one stage reads (docs/SEMANTICS.md §4): the gates a request must
//! pass, and which services resource control policies govern. `compile` (which indexes a set's Allows and Denies
//! by gate, and skips RCPs for other services) and `decide` (which applies them) both read them here.
//!
//! Dependencies: this module depends on nothing else in the crate; `compile` and `decide` depend on it, so neither
//! needs the other for it (`compile` used to import `decide::rcp_governs` while `decide` imports `compile`).

use std::fmt;

/// A gate that must allow for the request to be allowed (docs/SEMANTICS.md §4.1-§4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Identity-based policies (or, in the same account, the resource policy).
    Identity,
    /// The resource policy, for a cross-account request.
    Resource,
    /// The permissions boundary.
    Boundary,
    /// The session policies.
    Session,
    /// One SCP level.
    Scp(usize),
    /// The VPC endpoint's policy.
    Endpoint,
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gate::Identity => f.write_str("identity"),
            Gate::Resource => f.write_str("resource"),
            Gate::Boundary => f.write_str("boundary"),
            Gate::Session => f.write_str("session"),
            Gate::Scp(l) => write!(f, "scps[{l}]"),
            Gate::Endpoint => f.write_str("endpoint"),
        }
    }
}

/// The services whose requests RCPs govern, each with the month it joined Organizations' list of services that
/// support RCPs (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html>; the
/// later ones as AWS's What's New announced them, and as AWS's data-perimeter RCP examples list them). The one
/// place the list lives: add a service here, with its date, when AWS adds it. SageMaker is not on it.
pub const RCP_SERVICES: [(&str, &str); 10] = [
    ("s3", "2024-11"),
    ("sts", "2024-11"),
    ("kms", "2024-11"),
    ("sqs", "2024-11"),
    ("secretsmanager", "2024-11"),
    ("ecr", "2025-06"),
    ("aoss", "2025-06"),
    ("cognito-idp", "2026-01"),
    ("logs", "2026-01"),
    ("dynamodb", "2026-02"),
];

/// Whether RCPs govern requests for `action`.
pub fn rcp_governs(action: &str) -> bool {
    let service = action.split_once(':').map_or(action, |(s, _)| s);
    RCP_SERVICES
        .iter()
        .any(|(s, _)| s.eq_ignore_ascii_case(service))
}

/// The services of [`RCP_SERVICES`], comma-separated, for messages.
pub fn rcp_service_list() -> String {
    RCP_SERVICES
        .iter()
        .map(|(s, _)| *s)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcp_services_are_matched_by_service_in_any_case() {
        assert!(rcp_governs("s3:GetObject"));
        assert!(rcp_governs("S3:GetObject"));
        assert!(rcp_governs("dynamodb"));
        assert!(!rcp_governs("sagemaker:CreatePresignedDomainUrl"));
        assert!(!rcp_governs("s3x:GetObject"));
        assert!(rcp_service_list().starts_with("s3, sts, kms"));
    }
}
