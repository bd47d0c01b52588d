//! Policy variables in values: their spelling, version and keys (docs/SEMANTICS.md §1.2, §2.3).

use super::Validator;
use super::keys::KeyInfo;
use super::keys::key_info;
use super::keys::suggest_key;
use crate::diagnostic::Diagnostic;
use crate::policy::Version;
use crate::span::Span;
use crate::traps;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VarProblem {
    Unclosed,
    Empty,
    Spaces,
    MissingQuote,
    DefaultSpacing,
}

/// One `${...}` in a value (escapes `${*}`, `${?}`, `${$}` are not listed).
pub(super) struct VarRef<'a> {
    /// The whole `${...}` as written.
    text: &'a str,
    /// The key, trimmed, as written.
    key: &'a str,
    problem: Option<VarProblem>,
}

/// Every policy variable in `s`, with what is wrong with its spelling (§2.3: Access Analyzer rejects a missing
/// brace, a missing quote, spaces and an empty `${}`).
pub(super) fn variables(s: &str) -> Vec<VarRef<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(p) = crate::bytes::find(rest, "${") {
        let Some(from) = rest.get(p..) else { break };
        let after = from.get(2..).unwrap_or("");
        if after.starts_with("*}") || after.starts_with("?}") || after.starts_with("$}") {
            rest = after.get(2..).unwrap_or("");
            continue;
        }
        let Some(q) = after.find('}') else {
            out.push(VarRef {
                text: from,
                key: "",
                problem: Some(VarProblem::Unclosed),
            });
            break;
        };
        let inner = after.get(..q).unwrap_or("");
        let text = from.get(..q + 3).unwrap_or(from);
        let (key_part, default) = match inner.split_once(',') {
            Some((k, d)) => (k, Some(d)),
            None => (inner, None),
        };
        let key = key_part.trim();
        let problem = if key.is_empty() {
            Some(VarProblem::Empty)
        } else if key_part.contains(crate::unicase::is_whitespace) {
            Some(VarProblem::Spaces)
        } else if let Some(d) = default {
            let t = d.trim();
            if t.len() < 2 || !t.starts_with('\'') || !t.ends_with('\'') {
                Some(VarProblem::MissingQuote)
            } else if !d.starts_with(" '") || d.ends_with(' ') {
                Some(VarProblem::DefaultSpacing)
            } else {
                None
            }
        } else {
            None
        };
        out.push(VarRef { text, key, problem });
        rest = after.get(q + 1..).unwrap_or("");
    }
    out
}

/// `s` without its `${...}` parts (for checks on the literal text around variables).
pub(super) fn without_variables(s: &str) -> std::borrow::Cow<'_, str> {
    if !crate::bytes::has_variable(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = crate::bytes::find(rest, "${") {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p..).unwrap_or("");
        match after.find('}') {
            Some(q) => rest = after.get(q + 1..).unwrap_or(""),
            None => return out.into(),
        }
    }
    out.push_str(rest);
    out.into()
}

/// The first `${...}` of `s`, for messages.
pub(super) fn first_variable(s: &str) -> &str {
    let Some(p) = crate::bytes::find(s, "${") else {
        return s;
    };
    let from = s.get(p..).unwrap_or(s);
    match from.find('}') {
        Some(q) => from.get(..=q).unwrap_or(from),
        None => from,
    }
}

impl Validator<'_> {
    /// Variables in a Resource or condition value: version, spelling, multivalued and unknown keys (§1.2, §2.3).
    pub(super) fn variables_in(&mut self, value: &str, span: Span, expanded: bool) {
        if !crate::bytes::has_variable(value) {
            return;
        }
        if !self.policy.variables_enabled() {
            let why = match &self.policy.version {
                Some(v) if v.value == Version::V2008_10_17 => "`Version` is `2008-10-17`",
                _ => "the policy has no `Version`",
            };
            let mut d = Diagnostic::warning(
                traps::VARIABLE_WITHOUT_VERSION.code,
                span,
                format!(
                    "policy variable `{}` is literal text because {why}",
                    first_variable(value)
                ),
            )
            .with_help("set `\"Version\": \"2012-10-17\"`; only that version expands `${...}`");
            if let Some(v) = &self.policy.version {
                d = d.with_related(v.span, "the version is set here");
            }
            self.push(d);
            return;
        }
        if !expanded {
            return;
        }
        for var in variables(value) {
            if let Some(problem) = var.problem {
                let (message, help) = match problem {
                    VarProblem::Unclosed => (
                        format!("policy variable `{}` has no closing `}}`", var.text),
                        "close it: `${aws:username}`; write `${$}` for a literal `$`",
                    ),
                    VarProblem::Empty => (
                        format!("empty policy variable `{}`", var.text),
                        "name a condition key, for example `${aws:username}`",
                    ),
                    VarProblem::Spaces => (
                        format!("spaces are not supported in policy variable `{}`", var.text),
                        "write the key without spaces, for example `${aws:username}`",
                    ),
                    VarProblem::MissingQuote => (
                        format!(
                            "the default value in policy variable `{}` is not quoted",
                            var.text
                        ),
                        "write the default in single quotes: `${aws:PrincipalTag/team, 'none'}`",
                    ),
                    VarProblem::DefaultSpacing => (
                        format!(
                            "policy variable `{}` is not spelled `${{key, 'default'}}`",
                            var.text
                        ),
                        "write one comma and one space before the quoted default: \
                         `${aws:PrincipalTag/team, 'none'}`; other spellings may not be accepted \
                         by AWS",
                    ),
                };
                self.push(Diagnostic::warning("malformed-variable", span, message).with_help(help));
                continue;
            }
            match key_info(var.key) {
                KeyInfo::Global {
                    name,
                    multivalued: true,
                    ..
                } => self.push(
                    Diagnostic::warning(
                        "variable-multivalued-key",
                        span,
                        format!("`{name}` is multivalued and cannot be used as a policy variable"),
                    )
                    .with_help(
                        "only single-valued keys can be variables; compare the key in a condition \
                         instead",
                    ),
                ),
                KeyInfo::Unknown => {
                    let mut d = Diagnostic::warning(
                        traps::UNKNOWN_GLOBAL_KEY.code,
                        span,
                        format!(
                            "`{}` is not a global condition key, so `{}` never has a value",
                            var.key, var.text
                        ),
                    );
                    d = match suggest_key(var.key) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help(
                            "check the spelling against the AWS global condition key list",
                        ),
                    };
                    self.push(d);
                }
                _ => {}
            }
        }
    }
}
