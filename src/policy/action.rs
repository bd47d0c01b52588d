//! Action patterns: `service:Name` with `*` and `?`, compared case-insensitively (docs/SEMANTICS.md §1.7).

use super::pattern::{GlobShape, NoVars, Pattern};
use super::text::Text;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

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
        let Some(usual) = Usual::read(s.as_bytes()) else {
            return ActionPattern::from_text_checked(s, text);
        };
        let source = text();
        // A text without capitals is its own lowercase glob: the policy's text when the action is a slice of it.
        let shared = match (usual.upper, source.shared_range()) {
            (false, Some((from, start, end))) => {
                Pattern::of_action(Arc::clone(from), start, end, usual.shape)
            }
            _ => None,
        };
        let glob = match shared {
            Some(g) => g,
            None => {
                let mut lower: Arc<str> = Arc::from(s);
                if let Some(l) = Arc::get_mut(&mut lower) {
                    l.make_ascii_lowercase();
                }
                // `shape` is of the text, which lowercasing does not move (ASCII letters only). Not reached
                // otherwise: all of a `str` is a slice of it; said all the same, without a panic.
                Pattern::of_action(Arc::clone(&lower), 0, s.len(), usual.shape)
                    .unwrap_or_else(|| Pattern::parse_lowercase(s, true, false))
            }
        };
        Ok(ActionPattern {
            source,
            glob,
            service: usual.service,
        })
    }

    /// [`ActionPattern::from_text`] by the grammar's check, then the glob's own parse: every text `Usual::read`
    /// does not take (an error, a `?`, a star inside the name, a colon or a variable in it).
    #[cold]
    fn from_text_checked(s: &str, text: impl FnOnce() -> Text) -> Result<Self, ActionError> {
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

/// An action of the usual forms, read in one pass over its bytes: what [`ActionPattern::from_text`] needs of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Usual {
    /// [`service_bit`] of the prefix, or every bit for `*`.
    service: u64,
    /// The glob's shape ([`Pattern::of_action`]).
    shape: GlobShape,
    /// Whether the text holds an ASCII capital (then the glob is a lowercase copy).
    upper: bool,
}

impl Usual {
    /// `*`, or `prefix:name` with a prefix of ASCII letters, digits and `-` and a name that starts with a
    /// visible ASCII character and holds no colon: the forms `grammar::action` accepts but for a variable after
    /// a second colon. `None` for every other text (which [`ActionPattern::from_text_checked`] reads as before).
    #[inline]
    fn read(b: &[u8]) -> Option<Usual> {
        if b == b"*" {
            return Some(Usual {
                service: u64::MAX,
                shape: GlobShape::Any,
                upper: false,
            });
        }
        // Eight bytes at a time (the last word zero-padded, `valid` marking the text's bytes). Every byte looked
        // for is ASCII, which in UTF-8 is always that character.
        let mut upper = false;
        // The prefix: letters, digits and `-` up to the first `:`.
        let mut at = 0;
        let colon = loop {
            let (w, valid) = swar::load(b, at)?;
            upper |= swar::upper(w) & valid != 0;
            let bad = !swar::prefix_byte(w) & valid;
            let colon = swar::eq(w, b':') & valid;
            if colon != 0 {
                let n = colon.trailing_zeros() as usize / 8;
                // No other byte before it.
                if bad & ((1u64 << (n * 8)) - 1) != 0 {
                    return None;
                }
                break at + n;
            }
            if bad != 0 {
                return None;
            }
            at += 8;
        };
        let (prefix, name) = (b.get(..colon)?, b.get(colon + 1..)?);
        if prefix.is_empty() || !name.first()?.is_ascii_graphic() {
            return None;
        }
        // The name: no `:`; the first `*`, and whether other bytes or a `?` follow it (a general glob); whether
        // a capital.
        let mut star = None;
        let mut general = false;
        let mut at = colon + 1;
        while at < b.len() {
            let (w, valid) = swar::load(b, at)?;
            if swar::eq(w, b':') & valid != 0 {
                return None;
            }
            general |= swar::eq(w, b'?') & valid != 0;
            let stars = swar::eq(w, b'*') & valid;
            let others = !stars & valid;
            match star {
                Some(_) => general |= others != 0,
                None if stars != 0 => {
                    let first = stars.trailing_zeros() as usize / 8;
                    // Stars only from the first one on, or a general glob.
                    general |= others >> (first * 8) != 0;
                    star = Some(at + first);
                }
                None => {}
            }
            upper |= swar::upper(w) & valid != 0;
            at += 8;
        }
        Some(Usual {
            service: service_bit(prefix),
            shape: match star {
                _ if general => GlobShape::General,
                // A star after the colon: never at 0.
                Some(n) => GlobShape::Prefix(n),
                None => GlobShape::Exact,
            },
            upper,
        })
    }
}

/// [`crate::bytes::swar`]'s word tests, and the one only the action reader needs.
mod swar {
    use crate::bytes::swar::{ONES, range};
    pub(super) use crate::bytes::swar::{eq, load, upper};

    /// Bytes of a service prefix: ASCII letters, digits and `-`.
    #[inline(always)]
    pub(super) fn prefix_byte(w: u64) -> u64 {
        // `| 0x20` maps `A`-`Z` onto `a`-`z` and no other ASCII byte into that range.
        range(w | (ONES * 0x20), b'a', b'z') | range(w, b'0', b'9') | eq(w, b'-')
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

    /// The one-pass reader gives what the grammar's check and the glob's parse give (the value: source, glob
    /// text and shape, service bit; or the error), for every text of up to five characters over those that
    /// matter, and for the usual actions in any case; with the text a copy and a slice of a shared source.
    #[test]
    fn cold7_one_pass_action_is_the_checked_one() {
        let alphabet = [
            'a', 'Z', '3', '-', '*', '?', ':', '$', '{', '}', ' ', '\t', 'é', '_',
        ];
        let mut texts: Vec<String> = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            let next: Vec<String> = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(next.iter().cloned());
            last = next;
        }
        // Past a word's end: the same texts of up to three characters after prefixes and names of 0 to 17 bytes.
        let short: Vec<String> = texts
            .iter()
            .filter(|t| t.chars().count() <= 3)
            .cloned()
            .collect();
        for t in &short {
            for (p, n) in [
                ("s3", ""),
                ("ec2-Instance", "Abcdefg"),
                ("abcdefg", "abcdefgh"),
                ("S3", "ABCDEFGHIJKLMNOPQ"),
            ] {
                texts.push(format!("{p}:{n}{t}"));
                texts.push(format!("{p}{t}"));
            }
        }
        for t in [
            "*",
            "s3:GetObject",
            "S3:*",
            "sagemaker:CreatePresigned*",
            "sagemaker:CreatePresigned**",
            "SageMaker:Create?",
            "sagemaker:*App",
            "sagemaker:Describe*Profile",
            "ec2-instance-connect:SendSSHPublicKey",
            "s3:a:b${x}",
            "iam:*AccessKey*",
            "kms:Decrypt",
            "s3:Get\u{e9}*",
            "s3:GetÉtat",
            "s*:Get",
            "s3: Get",
            "s3:",
            ":Get",
            "s3",
        ] {
            texts.push(t.to_string());
        }
        let mut usual = 0;
        for t in &texts {
            let source: Arc<str> = Arc::from(format!("[\"{t}\"]"));
            let at = 2..2 + t.len();
            let shared = Text::shared(&source, at.start, at.end).unwrap();
            let s = source.get(at).unwrap();
            for text in [Text::from(t.as_str()), shared] {
                let fast = ActionPattern::from_text(s, || text.clone());
                let checked = ActionPattern::from_text_checked(s, || text.clone());
                assert_eq!(fast, checked, "{t:?}");
                if let (Ok(f), Ok(c)) = (&fast, &checked) {
                    assert_eq!(f.glob().source(), c.glob().source(), "{t:?}");
                    assert_eq!(f.service_bit(), c.service_bit(), "{t:?}");
                    assert_eq!(f.glob().as_prefix(), c.glob().as_prefix(), "{t:?}");
                    assert_eq!(f.glob().as_literal(), c.glob().as_literal(), "{t:?}");
                    assert_eq!(f.glob().is_any(), c.glob().is_any(), "{t:?}");
                    for a in [
                        "s3:getobject",
                        "sagemaker:createpresignedurl",
                        "az:x",
                        "a:aa",
                    ] {
                        assert_eq!(f.matches(a), c.matches(a), "{t:?} {a}");
                    }
                }
            }
            usual += usize::from(Usual::read(t.as_bytes()).is_some());
        }
        // Both readers were exercised.
        assert!(usual > 10_000 && usual < texts.len() / 2, "{usual}");
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
