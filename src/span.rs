//! Byte spans into policy text, and their line/column on demand.

use serde::Serialize;

/// A half-open byte range `start..end` into the text a policy was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// The first byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// The span `start..end` (offsets past `u32::MAX` saturate).
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The span as a range, to slice the text with.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// 1-based line and column (in characters) of the span's start within `text`.
    pub fn line_col(self, text: &str) -> (usize, usize) {
        line_col(text, self.start as usize)
    }
}

/// 1-based line and column (counted in characters) of byte offset `at` within `text`.
///
/// ```
/// assert_eq!(iamgate::span::line_col("ab\ncd", 4), (2, 2));
/// ```
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

/// Line starts of a text, to find the line and column of many offsets in it: each lookup is a binary search and a
/// count of at most [`LineTable::BLOCK`] bytes, where [`line_col`] walks the text from its start (a lint run with
/// tens of thousands of diagnostics was quadratic).
///
/// ```
/// use iamgate::span::{LineIndex, line_col};
/// let text = "ab\ncdé\nf";
/// let index = LineIndex::new(text);
/// for at in [0, 2, 3, 5, 7, 8, 9, 10] {
///     assert_eq!(index.line_col(at), line_col(text, at));
/// }
/// assert_eq!(index.line(2), Some("cdé"));
/// ```
#[derive(Debug, Clone)]
pub struct LineIndex<'t> {
    text: &'t str,
    table: LineTable,
}

impl<'t> LineIndex<'t> {
    /// An index of the lines of `text`.
    pub fn new(text: &'t str) -> LineIndex<'t> {
        LineIndex {
            text,
            table: LineTable::new(text),
        }
    }

    /// The text indexed.
    pub fn text(&self) -> &'t str {
        self.text
    }

    /// 1-based line and column (in characters) of byte offset `at`: the same as [`line_col`].
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        self.table.line_col(self.text, at)
    }

    /// The text of 1-based line `line`, without its line break (as [`str::lines`] gives it).
    pub fn line(&self, line: usize) -> Option<&'t str> {
        self.table.line(self.text, line)
    }
}

/// [`LineIndex`] without the text it was built from: for a cache that outlives the borrow. Every method takes that
/// same text again.
#[derive(Debug, Clone)]
pub struct LineTable {
    /// The offset of each line's first byte.
    starts: Vec<usize>,
    /// The number of characters before each multiple of `BLOCK`.
    chars: Vec<usize>,
    /// The text is ASCII: a character is a byte.
    ascii: bool,
}

impl LineTable {
    /// Characters are counted from a checkpoint every this many bytes.
    pub const BLOCK: usize = 512;

    /// The line starts of `text`, with character checkpoints every [`LineTable::BLOCK`] bytes.
    pub fn new(text: &str) -> LineTable {
        let b = text.as_bytes();
        let starts = std::iter::once(0)
            .chain(
                b.iter()
                    .enumerate()
                    .filter(|(_, c)| **c == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        let mut chars = Vec::with_capacity(b.len() / Self::BLOCK + 1);
        let mut n = 0;
        for block in b.chunks(Self::BLOCK) {
            chars.push(n);
            n += count_chars(block);
        }
        chars.push(n);
        LineTable {
            ascii: chars.last() == Some(&b.len()),
            starts,
            chars,
        }
    }

    /// The number of characters before byte offset `at` of `text`.
    fn chars_before(&self, text: &str, at: usize) -> usize {
        if self.ascii {
            return at;
        }
        let block = at / Self::BLOCK;
        let base = self.chars.get(block).copied().unwrap_or(0);
        let from = block * Self::BLOCK;
        base + text.as_bytes().get(from..at).map_or(0, count_chars)
    }

    /// [`LineIndex::line_col`] in `text`, the text this table was built from.
    pub fn line_col(&self, text: &str, at: usize) -> (usize, usize) {
        let at = at.min(text.len());
        // The last line start at or before `at`.
        let line = self.starts.partition_point(|&s| s <= at);
        let start = self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        (
            line,
            self.chars_before(text, at) - self.chars_before(text, start) + 1,
        )
    }

    /// The offset of the first byte of 1-based line `line` (`None` past the last line start).
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }

    /// The offset of the character `n` characters after byte offset `from` (a character boundary) of `text`, the
    /// text this table was built from: `text[from..].char_indices().nth(n)`, by the checkpoints (a search, not a
    /// pass over the characters before it). `None` past the end.
    pub fn char_after(&self, text: &str, from: usize, n: usize) -> Option<usize> {
        let want = self.chars_before(text, from.min(text.len())) + n;
        // The first byte with `want + 1` characters starting at or before it is the start of the wanted one.
        let (mut lo, mut hi) = (from.min(text.len()), text.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.chars_before(text, mid + 1) > want {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        (lo < text.len()).then_some(lo)
    }

    /// [`LineIndex::line`] in `text`, the text this table was built from.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> Option<&'t str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        if start == text.len() {
            // After a final line break (or in an empty text) there is no line, as for `str::lines`.
            return None;
        }
        let end = self.starts.get(line).map_or(text.len(), |&s| s - 1);
        let l = text.get(start..end)?;
        Some(l.strip_suffix('\r').unwrap_or(l))
    }
}

/// Characters in UTF-8 bytes: the bytes that are not continuation bytes.
fn count_chars(b: &[u8]) -> usize {
    b.iter().filter(|&&c| (c & 0xc0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `char_after` finds what `char_indices().nth` finds, from every character boundary of texts with multi-byte
    /// characters across the checkpoints, past the end included.
    #[test]
    fn char_after_is_nth_char() {
        let texts = [
            String::new(),
            "abc".to_string(),
            "日本語\nx€y".repeat(200),
            format!("{}é{}", "a".repeat(LineTable::BLOCK - 1), "b".repeat(700)),
        ];
        for text in &texts {
            let table = LineTable::new(text);
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            for &from in bounds.iter().step_by(7) {
                for n in [0, 1, 2, 5, 300, 600, 5000] {
                    let want = text
                        .get(from..)
                        .and_then(|r| r.char_indices().nth(n))
                        .map(|(i, _)| from + i);
                    assert_eq!(table.char_after(text, from, n), want, "{from} {n}");
                }
            }
        }
    }

    /// The index gives what `line_col` gives, at every offset of random texts with line breaks, `\r\n`, multi-byte
    /// characters and lines longer than a block; and each line as `str::lines` does.
    #[test]
    fn line_index_agrees_with_line_col() {
        let pieces = ["a", "\n", "\r\n", "é", "€", "😀", "xyz", "\n\n"];
        let mut next = crate::xorshift(0x9e37_79b9_7f4a_7c15);
        for len in [0usize, 1, 2, 5, 40, 300, 1200] {
            for round in 0..6 {
                // Odd rounds: mostly one long line, over several blocks.
                let text: String = (0..len)
                    .map(|_| {
                        let p = pieces[next() as usize % pieces.len()];
                        if round % 2 == 1 && p.contains('\n') && next() % 50 != 0 {
                            "ü"
                        } else {
                            p
                        }
                    })
                    .collect();
                let index = LineIndex::new(&text);
                for at in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                    assert_eq!(index.line_col(at), line_col(&text, at), "{at} in {text:?}");
                }
                let lines: Vec<&str> = text.lines().collect();
                for (i, l) in lines.iter().enumerate() {
                    assert_eq!(index.line(i + 1), Some(*l));
                }
                assert_eq!(index.line(lines.len() + 1), None);
            }
        }
    }
}
