//! What `lint` knows, said by `decide` and `presign` too: the diagnostics of every policy the command read, the
//! conditions decided on an uncertain point of AWS's semantics, and RCPs that were not applied.

use super::policies::{Loaded, PolicyArgs};
use crate::context::Request;
use crate::decide::StatementTrace;
use crate::policy::PolicyKind;
use crate::validate::validate;

/// The kind `lint` checks a policy as, from its name in reasons.
fn kind_of(name: &str) -> PolicyKind {
    if name.starts_with("scps[") {
        PolicyKind::Scp
    } else if name.starts_with("rcps[") {
        PolicyKind::Rcp
    } else if name == "resource" {
        PolicyKind::Resource
    } else if name == "boundary" {
        PolicyKind::Boundary
    } else if name.starts_with("session[") {
        PolicyKind::Session
    } else if name == "endpoint" {
        PolicyKind::Endpoint
    } else {
        PolicyKind::Identity
    }
}

/// Every diagnostic `lint` would print for the policies read, rendered in the one error style, for text output.
pub(crate) fn lint_rendered(args: &PolicyArgs, loaded: &Loaded) -> Vec<String> {
    let colour = super::render::colour(super::render::Stream::Stdout);
    let mut out = Vec::new();
    for (name, file, text, policy) in &loaded.sources {
        for d in validate(policy, kind_of(name)) {
            let note = format!("the policy is used as {}", args.rename(name));
            out.push(
                super::render::diagnostic_with(
                    &d,
                    text,
                    &file.display().to_string(),
                    &[note],
                    colour,
                )
                .trim_end()
                .to_string(),
            );
        }
    }
    out
}

/// One line per diagnostic `lint` would print for the policies read, for JSON output:
/// `identity[0] (p.json:7:25): warning[missing-version]: ...`.
pub(crate) fn lint_warnings(args: &PolicyArgs, loaded: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for (name, file, text, policy) in &loaded.sources {
        for d in validate(policy, kind_of(name)) {
            let (line, column) = d.span.line_col(text);
            let severity = if d.is_error() { "error" } else { "warning" };
            let help = d
                .help
                .as_deref()
                .map(|h| format!(" (help: {h})"))
                .unwrap_or_default();
            out.push(format!(
                "{} ({}:{line}:{column}): {severity}[{}]: {}{help}",
                args.rename(name),
                file.display(),
                d.code,
                d.message
            ));
        }
    }
    out
}

/// Conditions that decided on a point where AWS's behaviour is not settled (docs/SEMANTICS.md §9), among the
/// statements that applied.
pub(crate) fn uncertain(args: &PolicyArgs, statements: &[StatementTrace]) -> Vec<String> {
    let mut out = Vec::new();
    for st in statements
        .iter()
        .filter(|s| s.action_matched && s.resource_matched && s.principal_matched)
    {
        for c in &st.conditions {
            if let Some(u) = c.uncertain {
                out.push(format!(
                    "{} statement {}: `{}` on `{}`: {u}",
                    args.rename(&st.policy.to_string()),
                    st.statement,
                    c.operator,
                    c.key
                ));
            }
        }
    }
    out
}

/// The warning that RCPs were given but not applied, because `action` is not of a service RCPs govern.
pub(crate) fn rcps_skipped(args: &PolicyArgs, action: &str) -> Option<String> {
    (!args.rcps.is_empty() && !crate::rules::rcp_governs(action)).then(|| {
        format!(
            "resource control policies were not applied: `{action}` is not an action of a service that RCPs govern (s3, sts, kms, sqs, secretsmanager; docs/SEMANTICS.md §4.1, uncertain)"
        )
    })
}

/// Every warning for one decided request: lint's, then those about the decision. `rendered` gives lint's in the
/// one error style (text output) instead of one line each (JSON output).
pub(crate) fn for_request(
    args: &PolicyArgs,
    loaded: &Loaded,
    request: &Request,
    statements: &[StatementTrace],
    rendered: bool,
) -> Vec<String> {
    let mut w = if rendered {
        lint_rendered(args, loaded)
    } else {
        lint_warnings(args, loaded)
    };
    let plain = |s: String| if rendered { format!("warning: {s}") } else { s };
    w.extend(uncertain(args, statements).into_iter().map(plain));
    w.extend(rcps_skipped(args, &request.action).map(plain));
    w
}
