use super::{CliError, collect_files};
use crate::decide::Decision;
use crate::ffi::{Case, CaseError, DecisionRecord};
use crate::limits::Limits;
use rayon::prelude::*;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Case files (`.json`: one case; `.jsonl`: one case per line) or folders of them. Reads JSONL from stdin
    /// when none are given.
    paths: Vec<PathBuf>,
    /// Add every consulted statement and each condition's result to each record.
    #[arg(long)]
    explain: bool,
    /// Print a summary to stderr (always on when files are given).
    #[arg(long)]
    summary: bool,
}

/// One case's text and where it came from.
struct Input {
    origin: String,
    /// The line, or the byte offset where it stops being UTF-8.
    text: Result<String, usize>,
}

/// A line that is not UTF-8 still gets its record, naming the first bad byte.
fn utf8(bytes: Vec<u8>) -> Result<String, usize> {
    String::from_utf8(bytes).map_err(|e| e.utf8_error().valid_up_to())
}

/// Cases per parallel chunk when streaming stdin.
const CHUNK: usize = 8192;

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut stats = Stats::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.paths.is_empty() {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().split(b'\n');
        let mut n = 0usize;
        loop {
            let mut chunk = Vec::with_capacity(CHUNK);
            for line in lines.by_ref().take(CHUNK) {
                n += 1;
                let mut bytes = line.map_err(|e| CliError::Read {
                    path: "standard input".into(),
                    source: e,
                })?;
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                chunk.push(Input {
                    origin: format!("stdin:{n}"),
                    text: utf8(bytes),
                });
            }
            if chunk.is_empty() {
                break;
            }
            emit(&chunk, &args, &mut out, &mut stats)?;
        }
    } else {
        let files = collect_files(&args.paths, &["json", "jsonl"])?;
        let mut inputs = Vec::new();
        for f in files {
            let bytes = std::fs::read(&f).map_err(|source| CliError::Read {
                path: f.display().to_string(),
                source,
            })?;
            if f.extension().is_some_and(|x| x == "jsonl") {
                let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                for (i, line) in body.split(|&b| b == b'\n').enumerate() {
                    inputs.push(Input {
                        origin: format!("{}:{}", f.display(), i + 1),
                        text: utf8(line.strip_suffix(b"\r").unwrap_or(line).to_vec()),
                    });
                }
            } else {
                inputs.push(Input {
                    origin: f.display().to_string(),
                    text: utf8(bytes),
                });
            }
        }
        emit(&inputs, &args, &mut out, &mut stats)?;
    }
    out.flush().map_err(CliError::Write)?;
    if args.summary || !args.paths.is_empty() {
        stats.print();
    }
    Ok(if stats.errors > 0 || stats.mismatches > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn emit(
    inputs: &[Input],
    args: &Args,
    out: &mut impl Write,
    stats: &mut Stats,
) -> Result<(), CliError> {
    let results: Vec<(DecisionRecord, Option<String>)> = inputs
        .par_iter()
        .map(|input| decide_one(input, args.explain))
        .collect();
    for ((record, mismatch), input) in results.iter().zip(inputs) {
        let line = serde_json::to_string(record).unwrap_or_else(|e| {
            format!(
                "{{\"id\":null,\"error\":{{\"message\":\"cannot serialise the record: {e}\"}}}}"
            )
        });
        writeln!(out, "{line}").map_err(CliError::Write)?;
        stats.count(record, mismatch.is_some());
        if let Some(m) = mismatch {
            eprintln!("{}: {m}", input.origin);
        }
    }
    Ok(())
}

/// Decide one input; the second value says how it differs from the case's `expect`, if it does.
fn decide_one(input: &Input, explain: bool) -> (DecisionRecord, Option<String>) {
    let text = match &input.text {
        Ok(t) => t,
        Err(at) => {
            return (
                DecisionRecord::Failed {
                    id: None,
                    error: CaseError {
                        message: format!("the line is not valid UTF-8 (byte {})", at + 1),
                        line: 1,
                        column: at + 1,
                        path: "$".into(),
                    },
                },
                None,
            );
        }
    };
    if text.trim().is_empty() {
        return (
            DecisionRecord::Failed {
                id: None,
                error: CaseError {
                    message: "empty line; each line must hold one case".into(),
                    line: 1,
                    column: 1,
                    path: "$".into(),
                },
            },
            None,
        );
    }
    match Case::parse(text, &Limits::default()) {
        Err((id, error)) => (DecisionRecord::Failed { id, error }, None),
        Ok(case) => {
            let record = case.decide(explain);
            let mismatch = case.expect.as_ref().and_then(|e| e.check(&record));
            (record, mismatch)
        }
    }
}

#[derive(Default)]
struct Stats {
    total: usize,
    allow: usize,
    explicit: usize,
    implicit: usize,
    errors: usize,
    mismatches: usize,
}

impl Stats {
    fn count(&mut self, r: &DecisionRecord, mismatch: bool) {
        self.total += 1;
        match r.decision() {
            Some(Decision::Allow) => self.allow += 1,
            Some(Decision::ExplicitDeny) => self.explicit += 1,
            Some(Decision::ImplicitDeny) => self.implicit += 1,
            None => self.errors += 1,
        }
        if mismatch {
            self.mismatches += 1;
        }
    }

    fn print(&self) {
        let count = super::lint::count;
        eprintln!(
            "{}: {} Allow, {} ExplicitDeny, {} ImplicitDeny, {}; {} not as expected",
            count(self.total, "case", "cases"),
            self.allow,
            self.explicit,
            self.implicit,
            count(self.errors, "error", "errors"),
            self.mismatches
        );
    }
}
