//! The `iamgate` command line: batch, decide, lint, presign, reach (README.md, Use). Exit codes: 0 done, 1
//! findings or errors in the input, 2 usage or an unreadable file, 3 a denied request under `decide --exit-code`.

/// `println!` for a command's output: when the reader has gone away (`iamgate lint . | head -1`), the run ends
/// quietly (see [`write_out`]) instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::write_out(format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($t)*)))
    };
}

/// `print!` for a command's output, as [`outln!`].
macro_rules! out {
    ($($t:tt)*) => {
        $crate::cli::write_out(format_args!($($t)*))
    };
}

mod batch;
mod decide;
mod input;
mod lint;
mod policies;
mod presign;
mod reach;
mod render;
mod warnings;
mod whatif;

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
    command: Option<Command>,
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
    /// Decide every principal of a corpus on every network, and show what a guardrail would change (docs/whatif.md).
    Whatif(whatif::Args),
}

/// Run the `iamgate` command line with the process's arguments; the exit code follows docs/FORMATS.md §7.
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
        None => whatif::run_default(),
        Some(Command::Whatif(a)) => whatif::run(a),
        Some(Command::Batch(a)) => batch::run(a),
        Some(Command::Decide(a)) => decide::run(a),
        Some(Command::Lint(a)) => lint::run(a),
        Some(Command::Reach(a)) => reach::run(a),
        Some(Command::Presign(a)) => presign::run(a),
    };
    match result {
        Ok(code) => code,
        Err(CliError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(BROKEN_PIPE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The exit code of a run whose reader closed its output early: what a shell reports for a Unix tool that
/// `SIGPIPE` ended (128 + 13), so that `set -o pipefail` treats iamgate as it treats `cat`; nothing is printed.
pub(crate) const BROKEN_PIPE: u8 = 141;

/// Write a command's output to stdout. A closed pipe ends the process quietly with [`BROKEN_PIPE`]; another
/// write error ends it with a message and exit code 2.
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(BROKEN_PIPE));
        }
        eprintln!("error: {}", CliError::Write(e));
        std::process::exit(2);
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

/// The text of `path`, read up to `limit` bytes (a larger file, or one that never ends, is an error).
pub(crate) fn read_capped_text(path: &Path, limit: usize) -> Result<String, CliError> {
    let err = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    let bytes = input::read_capped(path, limit).map_err(|e| {
        err(e.unwrap_or_else(|| {
            std::io::Error::other(format!("larger than the limit of {limit} bytes"))
        }))
    })?;
    String::from_utf8(bytes)
        .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Files under `paths` (folders recursed, sorted; see [`input::walk`]) whose extension is one of `exts`; the
/// first folder that cannot be listed or entry that is not a regular file is an error.
#[allow(
    dead_code,
    reason = "the commands that read folders use `input::walk` for their per-file records; kept for those that stop at the first unreadable input"
)]
pub(crate) fn collect_files(paths: &[PathBuf], exts: &[&str]) -> Result<Vec<PathBuf>, CliError> {
    input::walk(paths, exts)
        .into_iter()
        .map(|f| match f {
            input::Found::File(p) => Ok(p),
            input::Found::Refused(p, why) => Err(CliError::Usage(format!(
                "cannot read `{}`: {why}",
                p.display()
            ))),
        })
        .collect()
}
