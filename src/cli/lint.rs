use super::{CliError, input};
use crate::policy::{Policy, PolicyKind};
use crate::validate::validate;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Policy files or folders of them (`.json`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// What kind of policy the files hold: identity, resource, boundary, session, scp, rcp, endpoint, trust (a
    /// role trust policy) or key (a KMS key policy).
    #[arg(long, default_value = "identity", value_parser = parse_kind)]
    kind: PolicyKind,
    /// Print diagnostics as JSON lines instead of rustc-style text.
    #[arg(long)]
    json: bool,
}

/// `--kind`, with `PolicyKind`'s own names and error.
fn parse_kind(s: &str) -> Result<PolicyKind, String> {
    s.parse()
        .map_err(|e: crate::policy::UnknownPolicyKind| format!("{e}; {}", e.help()))
}

pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let (mut errors, mut warnings, mut unreadable) = (0usize, 0usize, 0usize);
    let colour = super::render::colour(super::render::Stream::Stdout);
    // Every file is reported: one that cannot be read (or is not UTF-8, or is too large, or is no regular file
    // in a folder) is an error of its own, and the next file is still linted.
    for found in input::walk(&a.paths, &["json"]) {
        let origin = found.path().display().to_string();
        let text = match read_policy(&found) {
            Ok(t) => t,
            Err(why) => {
                unreadable += 1;
                let message = format!("cannot read `{origin}`: {why}");
                if a.json {
                    let v = serde_json::json!({"file": origin, "line": 1, "column": 1, "path": "$",
                        "severity": "error", "code": "unreadable", "message": message, "help": null});
                    outln!("{v}");
                } else {
                    outln!("error[unreadable]: {message}");
                    outln!();
                }
                continue;
            }
        };
        let diagnostics = all_diagnostics(&text, a.kind);
        // Parsed and indexed once for all of the file's diagnostics (each used to parse the text again).
        let arena = crate::parse::json::Arena::new();
        let doc = super::render::Document::new(&text, &arena);
        let mut shown = 0usize;
        for d in &diagnostics {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            if a.json {
                let (line, column) = doc.line_col(d.span.start as usize);
                let path = doc.json_path(d.span.start as usize);
                let v = serde_json::json!({"file": origin, "line": line, "column": column, "path": path,
                    "severity": d.severity, "code": d.code, "message": d.message, "help": d.help});
                outln!("{v}");
            } else if shown < SNIPPETS_PER_FILE {
                shown += 1;
                outln!(
                    "{}",
                    super::render::diagnostic_in(d, &doc, &origin, &[], colour)
                );
                outln!();
            } else {
                if shown == SNIPPETS_PER_FILE {
                    shown += 1;
                    outln!(
                        "note: `{origin}` has more than {SNIPPETS_PER_FILE} diagnostics: the others are listed without their snippets (`--json` gives them all in full)"
                    );
                    outln!();
                }
                let (line, column) = doc.line_col(d.span.start as usize);
                let severity = if d.is_error() { "error" } else { "warning" };
                outln!(
                    "{severity}[{}]: {}\n  --> {origin}:{line}:{column}",
                    d.code,
                    d.message
                );
            }
        }
    }
    if !a.json {
        eprintln!(
            "{}, {}",
            count(errors, "error", "errors"),
            count(warnings, "warning", "warnings")
        );
    }
    // An unreadable file is exit 2, as for every command; the others were still reported.
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Diagnostics of one file rendered with their snippet (about 20 µs each, annotate-snippets); the others are
/// listed with their place only, so that a file of 70,000 diagnostics lints in well under a second.
const SNIPPETS_PER_FILE: usize = 1000;

/// The text of a policy file, read up to the document limit, or why it cannot be linted.
fn read_policy(found: &input::Found) -> Result<String, String> {
    let limit = crate::limits::Limits::default().max_document_bytes;
    match found {
        input::Found::Refused(_, why) => Err(why.clone()),
        input::Found::File(f) => match input::read_capped(f, limit) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                format!(
                    "not valid UTF-8 (byte {}); policies are UTF-8 text",
                    e.utf8_error().valid_up_to() + 1
                )
            }),
            Err(None) => Err(format!("larger than the limit of {limit} bytes")),
            Err(Some(e)) => Err(e.to_string()),
        },
    }
}

/// Every problem of one policy in one pass: the parse errors, and what `validate` finds in the statements that
/// parsed (a policy with a misspelt element still gets its condition keys checked).
pub(crate) fn all_diagnostics(text: &str, kind: PolicyKind) -> Vec<crate::diagnostic::Diagnostic> {
    let (policy, mut out) = Policy::parse_partial(text);
    let Some(p) = policy else {
        return out;
    };
    let version_error = out.iter().any(|d| d.code == "invalid-version");
    let seen: Vec<_> = out.iter().map(|d| (d.code, d.span)).collect();
    out.extend(validate(&p, kind).into_iter().filter(|d| {
        let repeated = seen.contains(&(d.code, d.span));
        let version_again = version_error && d.code == "missing-version";
        !repeated && !version_again
    }));
    out.sort_by_key(|d| (d.span.start, d.span.end));
    out
}

/// `1 error`, `2 errors`, `0 errors`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
