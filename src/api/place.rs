//! Places in a text for an editor: 1-based line, 1-based column in UTF-16 code units (what JavaScript strings
//! and editors count), and the byte span.

use crate::span::Span;
use serde::Serialize;

/// Where something is in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Place {
    /// 1-based line of the start.
    pub line: usize,
    /// 1-based column of the start, in UTF-16 code units.
    pub column: usize,
    /// 1-based line of the end (the line holding the byte just past the span; the start's line for an empty
    /// span).
    pub end_line: usize,
    /// 1-based column just past the end, in UTF-16 code units.
    pub end_column: usize,
    /// The byte range `start..end` in the UTF-8 text.
    pub span: Span,
}

/// The place of bytes `start..end` of `text` (offsets past the end, or inside a character, are moved back to the
/// nearest character boundary).
///
/// ```
/// let p = iamgate::api::place("{\n  \"é😀x\": 1}", 11, 12); // the `x`: é is 2 bytes, 😀 is 4
/// assert_eq!((p.line, p.column, p.end_column), (2, 7, 8)); // é is 1 UTF-16 unit, 😀 is 2
/// ```
pub fn place(text: &str, start: usize, end: usize) -> Place {
    let start = floor(text, start);
    let end = floor(text, end.max(start));
    let (line, column) = line_col16(text, start);
    let (end_line, end_column) = line_col16(text, end);
    Place {
        line,
        column,
        end_line,
        end_column,
        span: Span::new(start, end),
    }
}

/// The place of `span` in `text`.
pub(crate) fn of_span(text: &str, span: Span) -> Place {
    place(text, span.start as usize, span.end as usize)
}

fn floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn line_col16(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before
        .get(line_start..)
        .map_or(0, |s| s.chars().map(char::len_utf16).sum::<usize>());
    (line, col + 1)
}

/// The byte offset of serde_json's 1-based `line` and `column` (a column counted in bytes).
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text.get(start..).and_then(|s| s.find('\n')) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    floor(text, start + column.saturating_sub(1))
}

/// The byte offset of a 1-based `line` and `column` counted in characters (the core's errors).
pub(crate) fn offset_of_line_char(text: &str, line: usize, column: usize) -> usize {
    let line_start = offset_of(text, line, 1);
    let rest = text.get(line_start..).unwrap_or("");
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}
