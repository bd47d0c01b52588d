//! Document-wide checks: characters, size, `Version`, `Id` and Sids (docs/SEMANTICS.md §1.1-§1.4, §1.11).

use super::PolicyKind;
use super::Validator;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::traps;

impl Validator<'_> {
    /// §1.1: tab, LF, CR and U+0020–U+00FF only. One finding per run of bad characters, at most 20.
    pub(super) fn characters(&mut self) {
        const MAX: usize = 20;
        let src = self.policy.source();
        let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
        // Most policies are ASCII without control characters: one pass over the bytes proves there is nothing
        // to report, without decoding characters.
        if plain_ascii(src.as_bytes()) {
            return;
        }
        let mut run: Option<(usize, usize, char)> = None;
        let mut runs = Vec::new();
        for (i, c) in src.char_indices() {
            if allowed(c) {
                if let Some(r) = run.take() {
                    runs.push(r);
                }
                continue;
            }
            run = match run {
                Some((start, _, first)) => Some((start, i + c.len_utf8(), first)),
                None => Some((i, i + c.len_utf8(), c)),
            };
        }
        runs.extend(run);
        let total = runs.len();
        for (n, (start, end, first)) in runs.into_iter().take(MAX).enumerate() {
            let mut d = Diagnostic::error(
                traps::INVALID_CHARACTER.code,
                Span::new(start, end),
                format!(
                    "character `{first}` (U+{:04X}) is not allowed in a policy document",
                    u32::from(first)
                ),
            )
            .with_help(
                "policies may hold only tab, line feed, carriage return and the characters U+0020 \
                 to U+00FF; replace it with plain ASCII (for example `-` for a dash, `'` for a \
                 curly quote)",
            );
            if n + 1 == MAX && total > MAX {
                d.message
                    .push_str(&format!(" (and {} more places)", total - MAX));
            }
            self.push(d);
        }
    }

    /// §1.11: size limits per kind.
    pub(super) fn size(&mut self) {
        let src = self.policy.source();
        // Both counts are at most the byte length, which the limit usually covers.
        let all = || src.chars().count();
        let non_ws = || {
            src.chars()
                .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
                .count()
        };
        let (counts_all, limit, error, help) = match self.kind {
            PolicyKind::Identity | PolicyKind::Boundary => (
                false,
                6_144,
                false,
                "a customer managed policy holds at most 6,144 characters not counting whitespace \
                 (inline policies share 2,048 per user, 5,120 per group, 10,240 per role); split \
                 it into several policies or use wildcards",
            ),
            PolicyKind::Session => (
                false,
                2_048,
                false,
                "session policies hold at most 2,048 characters, and STS may reject smaller ones \
                 after packing; shorten the policy or pass managed policy ARNs",
            ),
            PolicyKind::Scp | PolicyKind::Rcp => (
                true,
                5_120,
                true,
                "Organizations counts every character, whitespace included, up to 5,120; minify \
                 the JSON or split the policy",
            ),
            PolicyKind::Endpoint => (
                true,
                20_480,
                true,
                "VPC endpoint policies hold at most 20,480 characters, whitespace included; \
                 minify the JSON or shorten the policy",
            ),
            PolicyKind::Trust => (
                false,
                2_048,
                false,
                "a role trust policy holds at most 2,048 characters not counting whitespace (4,096 \
                 after a quota increase); shorten it",
            ),
            PolicyKind::Resource | PolicyKind::Key => return,
        };
        if src.len() <= limit {
            return;
        }
        let all = all();
        let count = if counts_all { all } else { non_ws() };
        if count <= limit {
            return;
        }
        let what = if count == all {
            "characters"
        } else {
            "characters not counting whitespace"
        };
        let message = format!(
            "the policy has {count} {what}, more than the {limit} allowed in {}",
            self.kind.describe()
        );
        let span = self.policy.span;
        self.push(if error {
            Diagnostic::error(traps::POLICY_TOO_LARGE.code, span, message).with_help(help)
        } else {
            Diagnostic::warning(traps::POLICY_TOO_LARGE.code, span, message).with_help(help)
        });
    }

    /// §1.2, §1.3: Version and Id.
    pub(super) fn document(&mut self) {
        if self.policy.version.is_none() {
            self.push(
                Diagnostic::warning(
                    "missing-version",
                    self.policy.span,
                    "the policy has no `Version`",
                )
                .with_help(
                    "add `\"Version\": \"2012-10-17\"`; without it policy variables such as \
                     `${aws:username}` are literal text",
                ),
            );
        }
        if self.kind.is_iam() {
            if let Some(id) = &self.policy.id {
                self.push(
                    Diagnostic::warning(
                        traps::ID_IN_IDENTITY_POLICY.code,
                        id.span,
                        format!("`Id` does not belong in {}", self.kind.describe()),
                    )
                    .with_help(
                        "remove the `Id` element; it is meant for resource-based policies (AWS's \
                         own SageMaker example policies carry one, but IAM's grammar does not \
                         allow it here)",
                    ),
                );
            }
        }
    }

    /// §1.4: Sid characters, empty and duplicate Sids.
    pub(super) fn sids(&mut self) {
        // A few statements (the usual policy): the Sids seen are searched in a list, without hashing them.
        let small = self.policy.statements.len() <= super::statement::SMALL;
        let mut listed: Vec<(&str, Span)> = Vec::new();
        let mut seen: crate::map::Map<&str, Span> = crate::map::Map::new();
        for st in &self.policy.statements {
            let Some(sid) = &st.sid else { continue };
            if sid.value.is_empty() {
                self.push(
                    Diagnostic::warning("empty-sid", sid.span, "the statement id is empty")
                        .with_help(
                            "remove the `Sid` element or name the statement, for example \
                             `AllowStudio`",
                        ),
                );
                continue;
            }
            if !sid.value.chars().all(|c| c.is_ascii_alphanumeric()) {
                let fixed: String = sid
                    .value
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                let message = format!(
                    "statement ids (SID) must be alphanumeric, found `{}`",
                    sid.value
                );
                let d = if self.kind.is_iam() {
                    Diagnostic::error(traps::INVALID_SID.code, sid.span, message).with_help(
                        format!(
                            "IAM accepts only `A-Z`, `a-z` and `0-9`; write `{fixed}` (AWS's \
                         SageMaker example policies use Sids with spaces, which IAM rejects when \
                         the policy is saved)"
                        ),
                    )
                } else {
                    Diagnostic::warning(traps::INVALID_SID.code, sid.span, message).with_help(format!(
                        "S3 bucket and KMS key policies accept spaces, but IAM and many services \
                         accept only `A-Z`, `a-z` and `0-9`; write `{fixed}` to be safe"
                    ))
                };
                self.push(d);
            }
            let earlier = if small {
                listed
                    .iter()
                    .find(|(s, _)| *s == sid.value.as_str())
                    .map(|&(_, span)| span)
            } else {
                seen.get(sid.value.as_str()).copied()
            };
            if let Some(first) = earlier {
                self.push(
                    Diagnostic::error(
                        "duplicate-sid",
                        sid.span,
                        format!("statement id `{}` is used twice", sid.value),
                    )
                    .with_related(first, "first used here")
                    .with_help("statement ids must be unique within a policy; rename one of them"),
                );
            } else if small {
                listed.push((&sid.value, sid.span));
            } else {
                seen.insert(&sid.value, sid.span);
            }
        }
    }
}

/// Whether `b` is ASCII with no control character but tab, line feed and carriage return: eight bytes at a time,
/// a word looked at byte by byte only when it holds a byte below `0x20`.
pub(super) fn plain_ascii(b: &[u8]) -> bool {
    const LOW: u64 = 0x2020_2020_2020_2020;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let byte_ok = |c: &u8| *c >= 0x20 && c.is_ascii() || matches!(c, b'\t' | b'\n' | b'\r');
    let words = b.chunks_exact(8);
    let rest = words.remainder();
    words.clone().all(|w| {
        let x = w.try_into().map_or(HIGH, u64::from_le_bytes);
        // A byte of 0x80 or more, or one below 0x20 (whose subtraction borrows into its high bit), flags the word.
        if (x | x.wrapping_sub(LOW)) & HIGH == 0 {
            true
        } else {
            w.iter().all(byte_ok)
        }
    }) && rest.iter().all(byte_ok)
}
