//! Byte spans into policy text, and their line/column on demand.

use serde::Serialize;

/// A half-open byte range `start..end` into the text a policy was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

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
