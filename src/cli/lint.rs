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
    let files = collect_files(&a.paths, &["json"])?;
    let (mut errors, mut warnings) = (0usize, 0usize);
    for f in files {
        let text = read(&f)?;
        let origin = f.display().to_string();
        let diagnostics = match Policy::parse(&text) {
            Ok(p) => validate(&p, a.kind),
            Err(e) => e.diagnostics,
        };
        let index = crate::span::LineIndex::new(&text);
        for d in &diagnostics {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            if a.json {
                let (line, column) = index.line_col(d.span.start as usize);
                let v = serde_json::json!({"file": origin, "line": line, "column": column,
                    "severity": d.severity, "code": d.code, "message": d.message, "help": d.help});
                println!("{v}");
            } else {
                print!("{}", d.render_indexed(&index, &origin));
                println!();
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
