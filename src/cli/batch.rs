use super::{CliError, input};
use crate::api::case::{Case, CaseError, DecisionRecord};
use crate::decide::Decision;
use crate::limits::Limits;
use rayon::prelude::*;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex, mpsc};

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
    text: Result<String, Problem>,
}

/// Why an input has no text to decide: each still gets its record.
enum Problem {
    /// The byte offset where the line stops being UTF-8.
    NotUtf8(usize),
    /// The line was this many bytes (a `.json` file: `None`, it was read no further), more than [`max_case`].
    TooLong(Option<u64>),
    /// The file or stream could not be read: the message names it.
    Unreadable(String),
}

/// A line that is not UTF-8 still gets its record, naming the first bad byte.
fn utf8(bytes: Vec<u8>) -> Result<String, Problem> {
    String::from_utf8(bytes).map_err(|e| Problem::NotUtf8(e.utf8_error().valid_up_to()))
}

/// The longest case: a case is one JSON document, so the document limit of [`Limits`]. A longer line is
/// refused while it is read, never held whole.
fn max_case() -> usize {
    Limits::default().max_document_bytes
}

/// Most cases decided in parallel at once.
const CHUNK: usize = 8192;

/// Most bytes of input read ahead of the output: what is being decided and what waits for it. With the parsed
/// cases and the records they make (each a small multiple of its case, `--explain` included), this bounds the
/// memory of a run. Each input counts its text plus [`INPUT_OVERHEAD`].
const READ_AHEAD: usize = 16 << 20;

/// What an input costs besides its text (its origin and bookkeeping), so that a flood of empty lines is bounded
/// too.
const INPUT_OVERHEAD: usize = 64;

fn cost(i: &Input) -> usize {
    let text = match &i.text {
        Ok(t) => t.len(),
        Err(_) => 0,
    };
    text + i.origin.len() + INPUT_OVERHEAD
}

/// The bytes read ahead and not yet decided: the reader waits while they are over [`READ_AHEAD`].
struct Budget {
    used: Mutex<usize>,
    freed: Condvar,
}

impl Budget {
    /// Wait until `n` more bytes fit (or nothing is held: one input always passes).
    fn take(&self, n: usize) {
        let Ok(mut used) = self.used.lock() else {
            return;
        };
        while *used > 0 && *used + n > READ_AHEAD {
            used = match self.freed.wait(used) {
                Ok(u) => u,
                Err(_) => return,
            };
        }
        *used += n;
    }

    fn give(&self, n: usize) {
        if let Ok(mut used) = self.used.lock() {
            *used = used.saturating_sub(n);
        }
        self.freed.notify_all();
    }
}

/// Where cases come from, in order.
enum Source {
    Stdin,
    File(PathBuf),
    Refused(PathBuf, String),
}

/// Read every source in order, sending each case (or its problem) as soon as it is read, within the budget.
fn read_all(sources: Vec<Source>, tx: &mpsc::Sender<Input>, budget: &Budget) {
    let send = |i: Input| {
        budget.take(cost(&i));
        tx.send(i).is_ok()
    };
    for src in sources {
        let going = match src {
            Source::Stdin => {
                let stdin = std::io::stdin();
                read_lines(&mut stdin.lock(), "stdin", "standard input", &send)
            }
            Source::Refused(p, why) => send(Input {
                origin: p.display().to_string(),
                text: Err(Problem::Unreadable(format!(
                    "cannot read `{}`: {why}",
                    p.display()
                ))),
            }),
            Source::File(p) if p.extension().is_some_and(|x| x == "jsonl") => {
                let name = p.display().to_string();
                match std::fs::File::open(&p) {
                    Ok(f) => read_lines(
                        &mut std::io::BufReader::with_capacity(64 << 10, f),
                        &name,
                        &format!("`{name}`"),
                        &send,
                    ),
                    Err(e) => send(Input {
                        origin: name.clone(),
                        text: Err(Problem::Unreadable(format!("cannot read `{name}`: {e}"))),
                    }),
                }
            }
            Source::File(p) => {
                let name = p.display().to_string();
                let text = match input::read_capped(&p, max_case()) {
                    Ok(bytes) => utf8(bytes),
                    Err(None) => Err(Problem::TooLong(None)),
                    Err(Some(e)) => Err(Problem::Unreadable(format!("cannot read `{name}`: {e}"))),
                };
                send(Input { origin: name, text })
            }
        };
        if !going {
            return;
        }
    }
}

/// Send each line of `r` as an input named `origin:N`; a read error ends the stream with a record that says so
/// (the lines before it keep theirs). False when the receiver has gone.
fn read_lines(
    r: &mut impl BufRead,
    origin: &str,
    what: &str,
    send: &impl Fn(Input) -> bool,
) -> bool {
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        n += 1;
        let text = match input::next_line(r, max_case(), &mut buf) {
            Ok(None) => return true,
            Ok(Some(input::Line::TooLong(len))) => Err(Problem::TooLong(Some(len))),
            Ok(Some(input::Line::Whole)) => {
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                utf8(std::mem::take(&mut buf))
            }
            Err(e) => {
                // The stream ends here; the next source is still read.
                return send(Input {
                    origin: format!("{origin}:{n}"),
                    text: Err(Problem::Unreadable(format!(
                        "cannot read {what} at line {n}: {e}"
                    ))),
                });
            }
        };
        if !send(Input {
            origin: format!("{origin}:{n}"),
            text,
        }) {
            return false;
        }
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let sources = if args.paths.is_empty() {
        vec![Source::Stdin]
    } else {
        input::walk(&args.paths, &["json", "jsonl"])
            .into_iter()
            .map(|f| match f {
                input::Found::File(p) => Source::File(p),
                input::Found::Refused(p, why) => Source::Refused(p, why),
            })
            .collect()
    };
    let mut stats = Stats::default();
    let budget = Arc::new(Budget {
        used: Mutex::new(0),
        freed: Condvar::new(),
    });
    let (tx, rx) = mpsc::channel();
    // The reader runs apart (never joined): when the output fails, the run ends while it may still wait for
    // input or for room.
    let reader_budget = Arc::clone(&budget);
    std::thread::spawn(move || read_all(sources, &tx, &reader_budget));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Decide what has arrived (at least one input, waiting for it), write it, and go on: a producer that writes
    // one case and waits for its record gets it.
    while let Ok(first) = rx.recv() {
        let mut held = cost(&first);
        let mut chunk = vec![first];
        while chunk.len() < CHUNK && held < READ_AHEAD {
            match rx.try_recv() {
                Ok(i) => {
                    held += cost(&i);
                    chunk.push(i);
                }
                Err(_) => break,
            }
        }
        emit(&chunk, &args, &mut out, &mut stats)?;
        drop(chunk);
        budget.give(held);
    }
    if args.summary || !args.paths.is_empty() {
        stats.print();
    }
    Ok(if stats.errors > 0 || stats.mismatches > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Decide a chunk in parallel and write its records in order, then flush: a record is out as soon as its chunk
/// is decided, and a run that is killed leaves only whole lines (of up to 4 KiB each; a longer record is one
/// write that a pipe may take in parts).
fn emit(
    inputs: &[Input],
    args: &Args,
    out: &mut impl Write,
    stats: &mut Stats,
) -> Result<(), CliError> {
    // Each record is serialised where it is decided, so that a chunk holds its output text, not the records
    // (with `--explain`, a trace per statement).
    let results: Vec<(String, Option<Decision>, Option<String>)> = inputs
        .par_iter()
        .map(|input| {
            let (record, mismatch) = decide_one(input, args.explain);
            let mut line = serde_json::to_string(&record).unwrap_or_else(|e| {
                format!(
                    "{{\"id\":null,\"error\":{{\"message\":\"cannot serialise the record: {e}\"}}}}"
                )
            });
            line.push('\n');
            (line, record.decision(), mismatch)
        })
        .collect();
    // Whole lines per write, at most `PIPE_BUF` bytes unless one line is longer: a write of up to `PIPE_BUF`
    // bytes to a pipe is atomic, so a run killed between writes (or during one) leaves whole lines.
    const PIPE_BUF: usize = 4096;
    let mut group = String::with_capacity(PIPE_BUF);
    for ((line, decision, mismatch), input) in results.iter().zip(inputs) {
        if !group.is_empty() && group.len() + line.len() > PIPE_BUF {
            out.write_all(group.as_bytes()).map_err(CliError::Write)?;
            group.clear();
        }
        group.push_str(line);
        stats.count(*decision, mismatch.is_some());
        if let Some(m) = mismatch {
            eprintln!("{}: {m}", input.origin);
        }
    }
    out.write_all(group.as_bytes()).map_err(CliError::Write)?;
    out.flush().map_err(CliError::Write)
}

/// Decide one input; the second value says how it differs from the case's `expect`, if it does.
fn decide_one(input: &Input, explain: bool) -> (DecisionRecord, Option<String>) {
    let failed = |message: String, column: usize| {
        (
            DecisionRecord::Failed {
                id: None,
                error: CaseError {
                    message,
                    line: 1,
                    column,
                    path: "$".into(),
                },
            },
            None,
        )
    };
    let text = match &input.text {
        Ok(t) => t,
        Err(Problem::NotUtf8(at)) => {
            return failed(
                format!("the line is not valid UTF-8 (byte {})", at + 1),
                at + 1,
            );
        }
        Err(Problem::TooLong(len)) => {
            let size = len.map_or_else(|| "longer than".into(), |n| format!("{n} bytes,"));
            return failed(
                format!(
                    "the case is {size} more than the limit of {} bytes; it was skipped unread",
                    max_case()
                ),
                1,
            );
        }
        Err(Problem::Unreadable(why)) => return failed(why.clone(), 1),
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
    fn count(&mut self, decision: Option<Decision>, mismatch: bool) {
        self.total += 1;
        match decision {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Read;

    /// Its bytes, then an error (a disk gone, a network file system dropped).
    struct FailsAfter(&'static [u8]);
    impl Read for FailsAfter {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("the disk is gone"));
            }
            let n = self.0.len().min(out.len()).min(5);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_keeps_the_lines_read_before_it() {
        let got = RefCell::new(Vec::new());
        let send = |i: Input| {
            got.borrow_mut().push(i);
            true
        };
        let mut r =
            std::io::BufReader::with_capacity(8, FailsAfter(b"{\"a\":1}\r\n\n{\"b\":2}\npart"));
        assert!(read_lines(&mut r, "stdin", "standard input", &send));
        let got: Vec<(String, Result<String, String>)> = got
            .into_inner()
            .into_iter()
            .map(|i| {
                let text = i.text.map_err(|p| match p {
                    Problem::Unreadable(m) => m,
                    _ => "other".into(),
                });
                (i.origin, text)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("stdin:1".into(), Ok("{\"a\":1}".into())),
                ("stdin:2".into(), Ok(String::new())),
                ("stdin:3".into(), Ok("{\"b\":2}".into())),
                (
                    "stdin:4".into(),
                    Err("cannot read standard input at line 4: the disk is gone".into())
                ),
            ]
        );
    }
}
