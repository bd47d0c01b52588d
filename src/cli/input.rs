//! Reading the command line's inputs without trusting them: folders walked without following links, only regular
//! files read from a folder, every read bounded, and every input that cannot be read reported as itself so that
//! the others are still read.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

/// One input a folder walk found: a file to read, or a path that cannot be read and why.
#[derive(Debug)]
pub(crate) enum Found {
    File(PathBuf),
    /// A folder that cannot be listed, or an entry that is not a regular file.
    Refused(PathBuf, String),
}

/// The files under `paths` whose extension is one of `exts`: a folder is walked (sorted, links to folders not
/// followed, so a link loop cannot make the walk endless), and in it only regular files are taken (a FIFO would
/// block the run, a device would never end). A path named on the command line is taken whatever it is: the user
/// chose it (`<(...)`, `/dev/stdin`).
pub(crate) fn walk(paths: &[PathBuf], exts: &[&str]) -> Vec<Found> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(Found::File(p.clone()));
            continue;
        }
        let mut stack = vec![p.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    found.push(Found::Refused(
                        dir.clone(),
                        format!("cannot list the folder: {e}"),
                    ));
                    continue;
                }
            };
            for e in entries {
                let e = match e {
                    Ok(e) => e,
                    Err(e) => {
                        found.push(Found::Refused(
                            dir.clone(),
                            format!("cannot list the folder: {e}"),
                        ));
                        break;
                    }
                };
                let path = e.path();
                let Ok(ty) = e.file_type() else {
                    found.push(Found::Refused(path, "its file type cannot be read".into()));
                    continue;
                };
                if ty.is_dir() {
                    stack.push(path);
                    continue;
                }
                let wanted = path
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| exts.contains(&x));
                if !wanted {
                    continue;
                }
                // A link to a regular file is read; to anything else (or dangling), refused.
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => found.push(Found::File(path)),
                    Ok(_) => found.push(Found::Refused(
                        path,
                        "not a regular file (a FIFO, a device or a folder); name it on the command line to read it".into(),
                    )),
                    Err(e) => found.push(Found::Refused(path, e.to_string())),
                }
            }
        }
        found.sort_by(|a, b| a.path().cmp(b.path()));
        out.extend(found);
    }
    out
}

impl Found {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Found::File(p) | Found::Refused(p, _) => p,
        }
    }
}

/// How a bounded read ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line (without its `\n`) is in the buffer.
    Whole,
    /// The line was this many bytes, more than the limit: the buffer holds its first `limit` bytes only, and the
    /// rest was read past and dropped.
    TooLong(u64),
}

/// Read the next line of `r` into `buf` (cleared first, without the `\n`), keeping at most `limit` bytes of it:
/// a longer line is read to its end and dropped as it is read, so memory never holds more than `limit` bytes
/// of it. `None` at the end of the input (a last line without `\n` is a line).
pub(crate) fn next_line(
    r: &mut impl BufRead,
    limit: usize,
    buf: &mut Vec<u8>,
) -> io::Result<Option<Line>> {
    buf.clear();
    let mut total: u64 = 0;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then(|| ended(total, limit)));
        }
        any = true;
        let newline = avail.iter().position(|&b| b == b'\n');
        let part = match newline {
            Some(i) => avail.get(..i).unwrap_or_default(),
            None => avail,
        };
        let room = limit.saturating_sub(buf.len()).min(part.len());
        buf.extend_from_slice(part.get(..room).unwrap_or_default());
        total += part.len() as u64;
        let used = newline.map_or(avail.len(), |i| i + 1);
        r.consume(used);
        if newline.is_some() {
            return Ok(Some(ended(total, limit)));
        }
    }
}

fn ended(total: u64, limit: usize) -> Line {
    if total > limit as u64 {
        Line::TooLong(total)
    } else {
        Line::Whole
    }
}

/// A whole file, read with a cap: `Err(None)` when it is longer than `limit` bytes (no more than `limit + 1`
/// bytes are ever held), `Err(Some(e))` when it cannot be read.
pub(crate) fn read_capped(path: &Path, limit: usize) -> Result<Vec<u8>, Option<io::Error>> {
    let f = File::open(path).map_err(Some)?;
    let mut buf = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(Some)?;
    if buf.len() > limit {
        return Err(None);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its bytes a few at a time, as a pipe does.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(self.0.len()).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(text: &[u8], limit: usize, step: usize) -> Vec<(Vec<u8>, Line)> {
        let mut r = io::BufReader::with_capacity(4, Trickle(text, step));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(l) = next_line(&mut r, limit, &mut buf).unwrap() {
            assert!(buf.len() <= limit);
            out.push((buf.clone(), l));
        }
        out
    }

    #[test]
    fn lines_are_cut_at_newlines_and_bounded_while_read() {
        for step in [1, 3, 64] {
            let got = lines(b"ab\n\ncdefgh\nij", 4, step);
            assert_eq!(
                got,
                vec![
                    (b"ab".to_vec(), Line::Whole),
                    (b"".to_vec(), Line::Whole),
                    (b"cdef".to_vec(), Line::TooLong(6)),
                    (b"ij".to_vec(), Line::Whole),
                ],
                "step {step}"
            );
            // No line after a final newline; nothing at all in an empty input.
            assert_eq!(lines(b"ab\n", 4, step).len(), 1);
            assert!(lines(b"", 4, step).is_empty());
            // Exactly the limit is whole.
            assert_eq!(
                lines(b"abcd\n", 4, step),
                vec![(b"abcd".to_vec(), Line::Whole)]
            );
        }
    }
}
