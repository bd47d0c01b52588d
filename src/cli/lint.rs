use super::{CliError, input};
use crate::policy::Policy;
use crate::validate::{PolicyKind, validate};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Policy files or folders of them (`.json`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// What the policies are: identity, resource, boundary, session, scp, rcp, endpoint.
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
    let (mut errors, mut warnings) = (0usize, 0usize);
    // Every file is reported: one that cannot be read (or is not UTF-8, or is too large) is an error of its
    // own, and the next file is still linted.
    for found in input::walk(&a.paths, &["json"]) {
        let origin = found.path().display().to_string();
        let limit = crate::limits::Limits::default().max_document_bytes;
        let read = match &found {
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
        };
        let text = match read {
            Ok(t) => t,
            Err(why) => {
                errors += 1;
                let message = format!("cannot read `{origin}`: {why}");
                if a.json {
                    let v = serde_json::json!({"file": origin, "line": 1, "column": 1,
                        "severity": "error", "code": "unreadable", "message": message, "help": null});
                    outln!("{v}");
                } else {
                    outln!("error[unreadable]: {message}");
                    outln!();
                }
                continue;
            }
        };
        let diagnostics = match Policy::parse(&text) {
            Ok(p) => validate(&p, a.kind),
            Err(e) => e.diagnostics,
        };
        for d in &diagnostics {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            if a.json {
                let (line, column) = d.span.line_col(&text);
                let v = serde_json::json!({"file": origin, "line": line, "column": column,
                    "severity": d.severity, "code": d.code, "message": d.message, "help": d.help});
                outln!("{v}");
            } else {
                out!("{}", d.render(&text, &origin));
                outln!();
            }
        }
    }
    if !a.json {
        eprintln!("{errors} errors, {warnings} warnings");
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
