//! Where a policy sits: [`PolicyRef`] (a place in a request's evaluation), [`EndpointKind`] and
//! [`ResourceKind`] (what kind of endpoint or resource policy a set holds), and `AccountMatch` (how an account in a
//! `Principal` matches, which depends on the place). The first step of compiling: every later module names places.

use crate::policy::PolicyKind;
use std::fmt;

/// Where a policy sits in a request's evaluation (docs/FORMATS.md §2: the names used in decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyRef {
    /// An SCP: (level, index in the level), levels numbered from 0 at the organisation's root down to the
    /// account, in the order [`PolicySetBuilder::scp_level`] added them. Written `scps[L][j]`.
    ///
    /// [`PolicySetBuilder::scp_level`]: crate::PolicySetBuilder::scp_level
    Scp(usize, usize),
    /// An RCP: (level, index in the level), numbered as for [`PolicyRef::Scp`]. Written `rcps[L][j]`.
    Rcp(usize, usize),
    /// The resource-based policy (or the trust or key policy: [`ResourceKind`]). Written `resource`.
    Resource,
    /// The i-th identity-based policy, in the order added (0-based). Written `identity[i]`.
    Identity(usize),
    /// The permissions boundary. Written `boundary`.
    Boundary,
    /// The i-th session policy, in the order added (0-based). Written `session[i]`.
    Session(usize),
    /// The policy of the VPC endpoint the request came through. Written `endpoint`.
    Endpoint,
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::Identity(i) => write!(f, "identity[{i}]"),
            PolicyRef::Resource => f.write_str("resource"),
            PolicyRef::Boundary => f.write_str("boundary"),
            PolicyRef::Session(i) => write!(f, "session[{i}]"),
            PolicyRef::Scp(l, j) => write!(f, "scps[{l}][{j}]"),
            PolicyRef::Rcp(l, j) => write!(f, "rcps[{l}][{j}]"),
            PolicyRef::Endpoint => f.write_str("endpoint"),
        }
    }
}

impl PolicyRef {
    /// Whether this kind of policy carries a `Principal` element (resource-based policies, endpoint policies
    /// and RCPs) or must not (identity-based policies, boundaries, session policies, SCPs).
    pub fn needs_principal(self) -> bool {
        self.kind().takes_principal()
    }

    /// The kind of policy this place holds (a resource-based policy as [`PolicyKind::Resource`]; see
    /// [`ResourceKind::policy_kind`] for trust and key policies).
    ///
    /// ```
    /// use iamgate::{PolicyKind, PolicyRef};
    /// assert_eq!(PolicyRef::Scp(0, 1).kind(), PolicyKind::Scp);
    /// assert_eq!(PolicyRef::Identity(2).kind(), PolicyKind::Identity);
    /// ```
    pub fn kind(self) -> PolicyKind {
        match self {
            PolicyRef::Identity(_) => PolicyKind::Identity,
            PolicyRef::Resource => PolicyKind::Resource,
            PolicyRef::Boundary => PolicyKind::Boundary,
            PolicyRef::Session(_) => PolicyKind::Session,
            PolicyRef::Scp(..) => PolicyKind::Scp,
            PolicyRef::Rcp(..) => PolicyKind::Rcp,
            PolicyRef::Endpoint => PolicyKind::Endpoint,
        }
    }
}

/// Which kind of VPC endpoint an endpoint policy belongs to (docs/SEMANTICS.md §1.6): they read an account in
/// `Principal` differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointKind {
    /// An interface endpoint (PrivateLink: the SageMaker API and Studio endpoints, and most services): an
    /// account principal means every principal of that account.
    #[default]
    Interface,
    /// A gateway endpoint (S3, DynamoDB): an account principal means only that account's root user.
    Gateway,
}

/// What the resource-based policy of a set is (docs/SEMANTICS.md §4.1): its own rules apply when the request names
/// the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceKind {
    /// A resource-based policy (S3 bucket, SQS queue, ...).
    #[default]
    Resource,
    /// A role trust policy, for `sts:AssumeRole*` on the role: it has no `Resource`, and it must itself allow.
    Trust,
    /// A KMS key policy: it must itself allow; an Allow for the account delegates to IAM policies.
    Key,
}

impl ResourceKind {
    /// The kind `lint` and `compile` check such a policy as.
    pub fn policy_kind(self) -> PolicyKind {
        match self {
            ResourceKind::Resource => PolicyKind::Resource,
            ResourceKind::Trust => PolicyKind::Trust,
            ResourceKind::Key => PolicyKind::Key,
        }
    }
}

/// How an account in a statement's `Principal` matches (docs/SEMANTICS.md §1.6, docs/SEMANTICS.md §9 row 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum AccountMatch {
    /// Every principal of the account.
    #[default]
    Any,
    /// Only the account's root user (a gateway endpoint's policy).
    RootOnly,
    /// Only the root user when principal and resource share the account (an Allow of a resource-based
    /// policy: it delegates to identity policies rather than granting by itself); every principal otherwise.
    RootOnlySameAccount,
}
