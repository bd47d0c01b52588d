//! What kind of policy a document is: where it is attached decides which grammar rules and checks apply
//! (docs/SEMANTICS.md §1, §4.1). One enum for every stage: `lint` checks a policy as a kind, `compile` refuses
//! what a kind does not allow, and the command line and the JSON boundary name kinds with the same words.

use std::fmt;
use std::str::FromStr;

/// What kind of policy is being checked or compiled (some rules depend on it).
///
/// Parsed from and printed as the lowercase names the command line (`lint --kind`) and the JSON boundary
/// (`"kind"`) use:
///
/// ```
/// use iamgate::PolicyKind;
/// let k: PolicyKind = "scp".parse().unwrap();
/// assert_eq!(k, PolicyKind::Scp);
/// assert_eq!(k.to_string(), "scp");
/// let e = "role".parse::<PolicyKind>().unwrap_err();
/// assert_eq!(e.to_string(), "unknown policy kind `role`");
/// assert!(e.help().starts_with("valid kinds are identity, resource,"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyKind {
    /// An identity-based policy (managed or inline) attached to a user, group or role.
    Identity,
    /// A resource-based policy, including a role trust policy.
    Resource,
    /// A permissions boundary.
    Boundary,
    /// A session policy passed to `AssumeRole` and friends.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A VPC endpoint policy.
    Endpoint,
    /// A role trust policy: a resource-based policy with no `Resource` (the role is the resource).
    Trust,
    /// A KMS key policy.
    Key,
}

impl PolicyKind {
    /// Every kind, in the order help texts list them.
    pub const ALL: [PolicyKind; 9] = [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::Boundary,
        PolicyKind::Session,
        PolicyKind::Scp,
        PolicyKind::Rcp,
        PolicyKind::Endpoint,
        PolicyKind::Trust,
        PolicyKind::Key,
    ];

    /// The name written on the command line and in JSON: `identity`, `scp`, `trust`, ...
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
            PolicyKind::Boundary => "boundary",
            PolicyKind::Session => "session",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
            PolicyKind::Endpoint => "endpoint",
            PolicyKind::Trust => "trust",
            PolicyKind::Key => "key",
        }
    }

    /// Policies that IAM itself stores: IAM's Sid rule applies (docs/SEMANTICS.md §1.4) and `Id` is not expected
    /// (§1.3).
    pub(crate) fn is_iam(self) -> bool {
        matches!(
            self,
            PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session | PolicyKind::Trust
        )
    }

    /// Whether statements carry a `Principal` (docs/SEMANTICS.md §1.6): resource-based policies (trust and key
    /// policies among them), endpoint policies and RCPs do; identity-based policies, boundaries, session
    /// policies and SCPs must not.
    pub fn takes_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource
                | PolicyKind::Endpoint
                | PolicyKind::Rcp
                | PolicyKind::Trust
                | PolicyKind::Key
        )
    }

    /// The kind in the plural, for messages: "identity-based policies", "VPC endpoint policies".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policies",
            PolicyKind::Resource => "resource-based policies",
            PolicyKind::Boundary => "permissions boundaries",
            PolicyKind::Session => "session policies",
            PolicyKind::Scp => "service control policies",
            PolicyKind::Rcp => "resource control policies",
            PolicyKind::Endpoint => "VPC endpoint policies",
            PolicyKind::Trust => "role trust policies",
            PolicyKind::Key => "KMS key policies",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy kind name that is none of [`PolicyKind::ALL`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown policy kind `{0}`")]
pub struct UnknownPolicyKind(pub String);

impl UnknownPolicyKind {
    /// What would be valid: "valid kinds are identity, resource, ...".
    pub fn help(&self) -> String {
        let names: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.name()).collect();
        format!("valid kinds are {}", names.join(", "))
    }
}

impl FromStr for PolicyKind {
    type Err = UnknownPolicyKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownPolicyKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_kind_names_round_trip() {
        for k in PolicyKind::ALL {
            assert_eq!(k.to_string().parse::<PolicyKind>(), Ok(k));
        }
        // Names are lowercase only, as the command line and the JSON boundary always took them.
        assert!("Identity".parse::<PolicyKind>().is_err());
        assert_eq!(
            UnknownPolicyKind("x".into()).help(),
            "valid kinds are identity, resource, boundary, session, scp, rcp, endpoint, trust, key"
        );
    }
}
