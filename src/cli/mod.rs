//! The `iamgate` command line: batch, decide, lint, presign, reach (README.md, Use). Exit codes: 0 done, 1
//! findings or errors in the input, 2 usage or an unreadable file, 3 a denied request under `decide --exit-code`.

mod batch;
mod decide;
mod lint;
mod policies;
mod presign;
mod reach;
mod render;
mod warnings;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "iamgate",
    version,
    about = "Exact AWS IAM decisions for SageMaker Studio presigned URLs along real network paths"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decide cases (docs/FORMATS.md §1): JSONL on stdin, or files and folders; one JSON line out per case in.
    Batch(batch::Args),
    /// Decide one request against policy files, and say which statements decided it.
    Decide(decide::Args),
    /// Check policy files and print diagnostics with line:column; exits 1 when there are errors.
    Lint(lint::Args),
    /// Find the exact network origins (public addresses, endpoints, VPCs) from which the URL can be created and
    /// used.
    Reach(reach::Args),
    /// Decide both steps of the presigned-URL flow (create, then use) along a network path, with a verdict and
    /// findings; exits 1 unless it works without findings.
    Presign(presign::Args),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Batch(a) => batch::run(a),
        Command::Decide(a) => decide::run(a),
        Command::Lint(a) => lint::run(a),
        Command::Reach(a) => reach::run(a),
        Command::Presign(a) => presign::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A usage or I/O problem: exit code 2.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output: {0}")]
    Write(std::io::Error),
}

pub(crate) fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Files under `paths` (folders recursed, sorted) whose extension is one of `exts`.
pub(crate) fn collect_files(paths: &[PathBuf], exts: &[&str]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir).map_err(|source| CliError::Read {
                    path: dir.display().to_string(),
                    source,
                })?;
                for e in entries.flatten() {
                    let path = e.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path
                        .extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| exts.contains(&x))
                    {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
