use super::{CliError, collect_files, read};
use crate::policy::Policy;
use crate::validate::{PolicyKind, validate};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Policy files or folders of them (`.json`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// What kind of policy the files hold: identity, resource, boundary, session, scp, rcp or endpoint.
    #[arg(long, default_value = "identity", value_parser = parse_kind)]
    kind: PolicyKind,
    /// Print diagnostics as JSON lines instead of rustc-style text.
    #[arg(long)]
    json: bool,
}

fn parse_kind(s: &str) -> Result<PolicyKind, String> {
    Ok(match s {
        "identity" => PolicyKind::Identity,
        "resource" => PolicyKind::Resource,
        "boundary" => PolicyKind::Boundary,
        "session" => PolicyKind::Session,
        "scp" => PolicyKind::Scp,
        "rcp" => PolicyKind::Rcp,
        "endpoint" => PolicyKind::Endpoint,
        _ => {
            return Err(format!(
                "unknown kind `{s}`; valid kinds are identity, resource, boundary, session, scp, rcp, endpoint"
            ));
        }
    })
}

pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let files = collect_files(&a.paths, &["json"])?;
    let (mut errors, mut warnings) = (0usize, 0usize);
    let colour = super::render::colour(super::render::Stream::Stdout);
    for f in files {
        let text = read(&f)?;
        let origin = f.display().to_string();
        let diagnostics = all_diagnostics(&text, a.kind);
        // Parsed and indexed once for all of the file's diagnostics (each used to parse the text again).
        let doc = super::render::Document::new(&text);
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
                println!("{v}");
            } else {
                println!(
                    "{}",
                    super::render::diagnostic_in(d, &doc, &origin, &[], colour)
                );
                println!();
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
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
