//! Action patterns: `service:Name` with `*` and `?`, compared case-insensitively (docs/SEMANTICS.md §1.7).

use super::pattern::{NoVars, Pattern};
use super::text::Text;
use std::fmt;
use std::str::FromStr;

/// An action pattern from an `Action` or `NotAction` element.
///
/// ```
/// use iamgate::policy::action::ActionPattern;
/// let p: ActionPattern = "sagemaker:CreatePresigned*".parse().unwrap();
/// assert!(p.matches("SageMaker:createpresigneddomainurl"));
/// assert!(!p.matches("sagemaker:CreateApp"));
/// assert!("*".parse::<ActionPattern>().unwrap().matches("s3:GetObject"));
/// assert!("s3".parse::<ActionPattern>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    /// As written (usually a slice of the policy's source).
    source: Text,
    /// The whole pattern, lowercased, `*`/`?` as wildcards.
    glob: Pattern,
    /// [`ActionPattern::service_bit`], found with the prefix when the pattern is parsed.
    service: u64,
}

/// Why an action is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// No `service:` prefix.
    #[error(
        "action `{0}` has no service prefix; write `service:ActionName`, for example `sagemaker:CreatePresignedDomainUrl`"
    )]
    NoPrefix(String),
    /// An empty prefix, or one with characters other than letters, digits and `-`.
    #[error(
        "action `{0}` has an empty or invalid service prefix; a prefix is letters, digits and `-`"
    )]
    BadPrefix(String),
    /// Nothing after the colon.
    #[error(
        "action `{0}` has an empty action name after the colon, which IAM refuses; use `*` for every action of the service"
    )]
    EmptyName(String),
    /// A wildcard in the prefix.
    #[error(
        "action `{0}` has a wildcard in its service prefix, which IAM refuses (\"Action vendors must not contain wildcards\"); name the service, for example `sagemaker:CreatePresignedDomainUrl`, or write `*` for every action"
    )]
    WildPrefix(String),
    /// More than one colon.
    #[error(
        "action `{0}` has more than one colon, which IAM refuses (\"Actions/Condition can contain only one colon\"); write `service:ActionName`"
    )]
    ExtraColon(String),
}

impl FromStr for ActionPattern {
    type Err = ActionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionPattern::from_text(s, || Text::from(s))
    }
}

impl ActionPattern {
    /// Parse `s`, keeping `text()` (the same string, possibly shared) as its source when valid.
    pub(crate) fn from_text(s: &str, text: impl FnOnce() -> Text) -> Result<Self, ActionError> {
        use crate::parse::grammar::{ActionShape, action};
        let service = match action(s) {
            // A valid prefix has no wildcard (`WildPrefix` below).
            Ok(Some((prefix, _))) => service_bit(prefix.as_bytes()),
            // `*`.
            Ok(None) => u64::MAX,
            Err(ActionShape::NoPrefix) => return Err(ActionError::NoPrefix(s.to_string())),
            Err(ActionShape::BadPrefix) => return Err(ActionError::BadPrefix(s.to_string())),
            Err(ActionShape::EmptyName) => return Err(ActionError::EmptyName(s.to_string())),
            Err(ActionShape::WildPrefix) => return Err(ActionError::WildPrefix(s.to_string())),
            Err(ActionShape::ExtraColon) => return Err(ActionError::ExtraColon(s.to_string())),
        };
        Ok(ActionPattern {
            source: text(),
            glob: Pattern::parse_lowercase(s, true, false),
            service,
        })
    }
}

impl ActionPattern {
    /// Whether `action` (`service:Name`, any case) matches.
    pub fn matches(&self, action: &str) -> bool {
        self.glob.matches(action, &NoVars, true) == Some(true)
    }

    /// Whether `action`, already lowercase, matches.
    #[inline]
    pub fn matches_lowercase(&self, action: &[u8]) -> bool {
        self.glob.matches_bytes(action, &NoVars, false) == Some(true)
    }

    /// The service prefix, lowercased; `None` when the prefix itself has a wildcard.
    pub fn service(&self) -> Option<String> {
        let (p, _) = self.source.split_once(':')?;
        (!p.contains(['*', '?'])).then(|| p.to_ascii_lowercase())
    }

    /// The bit of `service_bit` (one of 64, by a hash of the lowercase prefix) for this pattern's service; every bit when the service has a wildcard.
    #[inline]
    pub fn service_bit(&self) -> u64 {
        self.service
    }

    /// [`ActionPattern::service_bit`] found from the text again (tests: the bit kept is this one).
    #[cfg(test)]
    fn service_bit_of_text(&self) -> u64 {
        // By bytes: `:`, `*` and `?` are ASCII, which in UTF-8 is always that character.
        let b = self.source.as_bytes();
        match b.iter().position(|&c| c == b':').and_then(|n| b.get(..n)) {
            Some(p) if !p.iter().any(|&c| c == b'*' || c == b'?') => {
                // The hash ignores ASCII case: no lowercase copy.
                service_bit(p)
            }
            _ => u64::MAX,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The pattern as a case-insensitive glob.
    pub fn glob(&self) -> &Pattern {
        &self.glob
    }
}

/// One of 64 bits chosen by a lowercase service prefix: a cheap first test of whether an action can match.
pub(crate) fn service_bit(service: &[u8]) -> u64 {
    1 << (crate::bytes::key_hash(service) & 63)
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_with_wildcards() {
        let p: ActionPattern = "IAM:*AccessKey*".parse().unwrap();
        assert!(p.matches("iam:listaccesskeys"));
        assert!(p.matches("iam:CreateAccessKey"));
        assert!(!p.matches("iam:ListUsers"));
        let q: ActionPattern = "s3:Get?bject".parse().unwrap();
        assert!(q.matches("s3:GetObject"));
        assert!(!q.matches("s3:GetObjects"));
        let r: ActionPattern = "s3:*".parse().unwrap();
        assert!(!r.matches("s3x:GetObject"));
        assert_eq!(r.service().as_deref(), Some("s3"));
    }

    /// The service bit is the hash of the prefix whatever its case, and every bit for `*` or a prefix with a
    /// wildcard (which `from_text` refuses, but a glob may still hold).
    #[test]
    fn service_bits() {
        let bit = |t: &str| t.parse::<ActionPattern>().unwrap().service_bit();
        assert_eq!(bit("S3:GetObject"), service_bit(b"s3"));
        assert_eq!(bit("sagemaker:*"), service_bit(b"sagemaker"));
        assert_eq!(bit("SageMaker:Create?"), bit("sagemaker:Describe*"));
        assert_eq!(bit("*"), u64::MAX);
        assert_eq!(bit("s3:a:b${x}").count_ones(), 1);
    }

    #[test]
    fn cold6_the_service_bit_kept_is_the_one_of_the_text() {
        for t in [
            "*",
            "s3:GetObject",
            "S3:*",
            "sagemaker:CreatePresigned*",
            "SageMaker:Create?",
            "ec2-instance-connect:SendSSHPublicKey",
            "s3:a:b${x}",
            "iam:*AccessKey*",
            "kms:Decrypt",
        ] {
            let p: ActionPattern = t.parse().unwrap();
            assert_eq!(p.service_bit(), p.service_bit_of_text(), "{t}");
        }
        assert_eq!(
            "SageMaker:x"
                .parse::<ActionPattern>()
                .unwrap()
                .service_bit(),
            service_bit(b"sagemaker")
        );
    }
}
