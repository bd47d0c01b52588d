//! One error style for every command: a title with the code, the file with line:column, the snippet with the span
//! underlined (annotate-snippets: multi-line spans, tabs, wide characters and long one-line documents come out
//! right), the JSON path, and help that says what would be valid. Colour on a terminal only, never with
//! `NO_COLOR` set (<https://no-color.org>).

use crate::diagnostic::{Diagnostic, Severity};
use crate::limits::Limits;
use crate::parse::json::{self, Node, Value};
use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use std::io::IsTerminal;

/// Where the text goes, to decide on colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Whether to colour what goes to `stream`: a terminal, and `NO_COLOR` unset or empty.
pub(crate) fn colour(stream: Stream) -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    }
}

fn renderer(colour: bool) -> Renderer {
    if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
}

/// The JSON path of the innermost value (or object key) of `text` at byte `at`: `$.Statement[0].Effect`. `$` when
/// the text is not JSON or `at` is outside every value.
#[cfg(test)]
pub(crate) fn json_path(text: &str, at: usize) -> String {
    Document::new(text, &json::Arena::new()).json_path(at)
}

/// A document parsed and indexed once for many diagnostics about it (`lint` of a policy with 40,000 of them): each
/// then costs a path search down the tree and the lines it shows, not a parse and a pass over the whole text.
pub(crate) struct Document<'t> {
    text: &'t str,
    root: Option<Node<'t>>,
    lines: crate::span::LineTable,
}

impl<'t> Document<'t> {
    pub(crate) fn new(text: &'t str, arena: &'t json::Arena) -> Document<'t> {
        Document {
            text,
            root: json::parse(text, arena, &Limits::default()).ok(),
            lines: crate::span::LineTable::new(text),
        }
    }

    /// [`json_path`] in this document.
    pub(crate) fn json_path(&self, at: usize) -> String {
        self.root
            .as_ref()
            .map_or_else(|| "$".to_string(), |r| path_and_span(r, at).0)
    }

    /// 1-based line and column (in characters) of byte `at`.
    pub(crate) fn line_col(&self, at: usize) -> (usize, usize) {
        self.lines.line_col(self.text, at)
    }

    /// The byte where 1-based `line` (a column in characters) starts: for places given as line and column.
    fn byte_at(&self, (line, column): (usize, usize)) -> usize {
        let start = self.lines.line_start(line).unwrap_or(self.text.len());
        self.lines
            .char_after(self.text, start, column.saturating_sub(1))
            .unwrap_or(start)
    }

    /// The lines that hold bytes `lo..hi`: their first byte, their end (before the last one's line break, if any)
    /// and the first one's number.
    fn lines_around(&self, lo: usize, hi: usize) -> (usize, usize, usize) {
        // The end of a text that ends with a line break belongs to the last line (as annotate-snippets shows it).
        let last_byte = self.text.len().saturating_sub(1);
        let (first, _) = self.line_col(lo.min(last_byte));
        let (last, _) = self.line_col(hi.min(last_byte));
        let start = self.lines.line_start(first).unwrap_or(0);
        let end = self
            .lines
            .line_start(last + 1)
            .map_or(self.text.len(), |s| s.saturating_sub(1));
        // The window keeps its last line's break when the text ends there, so a span at the very end stays in it.
        let end = if end + 1 >= self.text.len() {
            self.text.len()
        } else {
            end
        };
        (start, end.max(start), first)
    }
}

/// A window of one line longer than this is cut to [`CONTEXT`] bytes either side of what it shows: annotate-snippets
/// reads the whole line for each snippet (a minified policy is one line: thousands of findings on a 500 KB line
/// made `presign` quadratic), and shows only about a terminal's width of it.
const LONG_LINE: usize = 4096;
const CONTEXT: usize = 512;

/// `window` (one line) cut around `lo..hi` when it is long: the cut window, and the number of characters cut
/// from its start (the columns annotate-snippets would then count short).
fn cut_long_line(
    doc: &Document<'_>,
    window: std::ops::Range<usize>,
    lo: usize,
    hi: usize,
) -> (std::ops::Range<usize>, usize) {
    if window.len() <= LONG_LINE {
        return (window, 0);
    }
    let r = clamp(
        doc.text,
        lo.saturating_sub(CONTEXT).max(window.start),
        hi.saturating_add(CONTEXT).min(window.end),
    );
    let skipped = doc
        .line_col(r.start)
        .1
        .saturating_sub(doc.line_col(window.start).1);
    (r, skipped)
}

/// Render `group`, whose snippet was cut `skipped` characters into line `line`, with the column of its location
/// line (`--> origin:line:column`) counted from the start of the line, as for the whole text.
fn render_cut(
    group: annotate_snippets::Group<'_>,
    colour: bool,
    (origin, line, column, skipped): (&str, usize, usize, usize),
) -> String {
    let out = renderer(colour).render(&[group]);
    if skipped == 0 {
        return out;
    }
    let short = format!("{origin}:{line}:{}", column.saturating_sub(skipped));
    out.replacen(&short, &format!("{origin}:{line}:{column}"), 1)
}

fn contains(span: crate::span::Span, at: usize) -> bool {
    (span.start as usize) <= at && at < (span.end as usize).max(span.start as usize + 1)
}

/// The path and span of the innermost node at `at` (a key counts as its member's place).
fn path_and_span(root: &Node<'_>, at: usize) -> (String, crate::span::Span) {
    let mut path = String::from("$");
    let mut node = root;
    loop {
        match &node.value {
            Value::Object(members) => {
                // Members lie in source order, each key before its value: the one that can hold `at` is the last
                // whose key starts at or before it (a binary search: objects of 80,000 keys are within limits).
                let last = members.partition_point(|m| m.key_span.start as usize <= at);
                let Some(m) = last
                    .checked_sub(1)
                    .and_then(|i| members.get(i))
                    .filter(|m| contains(m.key_span, at) || contains(m.value.span, at))
                else {
                    return (path, node.span);
                };
                push_key(&mut path, m.key);
                if contains(m.key_span, at) {
                    return (path, m.key_span);
                }
                node = &m.value;
            }
            Value::Array(items) => {
                let last = items.partition_point(|n| n.span.start as usize <= at);
                let Some((i, item)) = last
                    .checked_sub(1)
                    .and_then(|i| Some((i, items.get(i)?)))
                    .filter(|(_, n)| contains(n.span, at))
                else {
                    return (path, node.span);
                };
                path.push_str(&format!("[{i}]"));
                node = item;
            }
            _ => return (path, node.span),
        }
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{}]", serde_json::Value::from(key)));
    }
}

/// A byte range of `source` that is safe to slice: within the text, on character boundaries.
fn clamp(source: &str, start: usize, end: usize) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(source.len());
        while i > 0 && !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let s = fix(start);
    let e = fix(end.max(s));
    s..e
}

/// A diagnostic about the document `source` read from `origin`, rendered.
pub(crate) fn diagnostic(d: &Diagnostic, source: &str, origin: &str, colour: bool) -> String {
    diagnostic_with(d, source, origin, &[], colour)
}

/// [`diagnostic`] with further notes after the JSON path (for example which policy the file was used as).
pub(crate) fn diagnostic_with(
    d: &Diagnostic,
    source: &str,
    origin: &str,
    notes: &[String],
    colour: bool,
) -> String {
    diagnostic_in(
        d,
        &Document::new(source, &json::Arena::new()),
        origin,
        notes,
        colour,
    )
}

/// [`diagnostic_with`] about a document already parsed and indexed: the snippet is cut to the lines the spans
/// touch (numbered as in the whole text), so each diagnostic costs those lines, not the whole text.
pub(crate) fn diagnostic_in(
    d: &Diagnostic,
    doc: &Document<'_>,
    origin: &str,
    notes: &[String],
    colour: bool,
) -> String {
    let source = doc.text;
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let range = clamp(source, d.span.start as usize, d.span.end as usize);
    let path = doc.json_path(range.start);
    let related: Vec<(std::ops::Range<usize>, &str)> = d
        .related
        .iter()
        .map(|(span, label)| {
            (
                clamp(source, span.start as usize, span.end as usize),
                label.as_str(),
            )
        })
        .collect();
    let lo = related
        .iter()
        .map(|(r, _)| r.start)
        .fold(range.start, usize::min);
    let hi = related
        .iter()
        .map(|(r, _)| r.end)
        .fold(range.end, usize::max);
    let (start, end, first_line) = doc.lines_around(lo, hi);
    let window = clamp(source, start, end);
    let (window, skipped) = if doc.line_col(window.end).0 == first_line {
        cut_long_line(doc, window, lo, hi)
    } else {
        (window, 0)
    };
    let (_, column) = doc.line_col(range.start);
    let shift = |r: &std::ops::Range<usize>| {
        r.start.saturating_sub(window.start).min(window.len())
            ..r.end.saturating_sub(window.start).min(window.len())
    };
    let mut snippet = Snippet::source(source.get(window.clone()).unwrap_or_default())
        .line_start(first_line)
        .path(origin)
        .annotation(AnnotationKind::Primary.span(shift(&range)));
    for (r, label) in &related {
        snippet = snippet.annotation(AnnotationKind::Context.span(shift(r)).label(*label));
    }
    let mut group = level
        .primary_title(d.message.as_str())
        .id(d.code)
        .element(snippet)
        .element(Level::NOTE.message(format!("at `{path}`")));
    for n in notes {
        group = group.element(Level::NOTE.message(n.as_str()));
    }
    if let Some(h) = &d.help {
        group = group.element(Level::HELP.message(h.as_str()));
    }
    render_cut(group, colour, (origin, first_line, column, skipped))
}

/// What [`at_place`] shows besides the message: the severity and code, the JSON path (computed from the text
/// when not given), notes and help.
#[derive(Debug, Default)]
pub(crate) struct Extra<'a> {
    pub warning: bool,
    pub code: Option<&'a str>,
    pub path: Option<&'a str>,
    pub notes: Vec<String>,
    pub help: Option<&'a str>,
}

/// A problem at `line`:`column` (1-based, columns in characters) of the JSON document `source`: the style of
/// [`diagnostic`] for what carries a line and column instead of a span (network files, feeds, findings). The
/// value that starts there is underlined.
pub(crate) fn at_place(
    message: &str,
    source: &str,
    origin: &str,
    place: (usize, usize),
    extra: Extra<'_>,
    colour: bool,
) -> String {
    at_place_in(
        message,
        &Document::new(source, &json::Arena::new()),
        origin,
        place,
        extra,
        colour,
    )
}

/// [`at_place`] in a document parsed and indexed once (`presign`'s findings, thousands on one policy): each costs
/// a path search and the lines it shows.
pub(crate) fn at_place_in(
    message: &str,
    doc: &Document<'_>,
    origin: &str,
    (line, column): (usize, usize),
    extra: Extra<'_>,
    colour: bool,
) -> String {
    let source = doc.text;
    let at = doc.byte_at((line, column));
    let (found_path, span) = match &doc.root {
        Some(root) => {
            let (p, s) = path_and_span(root, at);
            (p, Some(s).filter(|s| s.start as usize == at))
        }
        None => ("$".to_string(), None),
    };
    let span = span.map_or(at..at + 1, |s| s.start as usize..s.end as usize);
    let span = clamp(source, span.start, span.end);
    let (start, end, first_line) = doc.lines_around(span.start, span.end);
    let window = clamp(source, start, end);
    let (window, skipped) = if doc.line_col(window.end).0 == first_line {
        cut_long_line(doc, window, span.start, span.end)
    } else {
        (window, 0)
    };
    let (_, col) = doc.line_col(span.start);
    let shifted = span.start.saturating_sub(window.start).min(window.len())
        ..span.end.saturating_sub(window.start).min(window.len());
    let path = extra.path.map_or(found_path, str::to_string);
    let level = if extra.warning {
        Level::WARNING
    } else {
        Level::ERROR
    };
    let mut title = level.primary_title(message);
    if let Some(code) = extra.code {
        title = title.id(code);
    }
    let mut group = title
        .element(
            Snippet::source(source.get(window).unwrap_or_default())
                .line_start(first_line)
                .path(origin)
                .annotation(AnnotationKind::Primary.span(shifted)),
        )
        .element(Level::NOTE.message(format!("at `{path}`")));
    for n in &extra.notes {
        group = group.element(Level::NOTE.message(n.as_str()));
    }
    if let Some(h) = extra.help {
        group = group.element(Level::HELP.message(h));
    }
    render_cut(group, colour, (origin, first_line, col, skipped))
}

/// An error at `line`:`column` of `source` with its JSON path and help (network files, feeds).
pub(crate) fn located(
    message: &str,
    source: &str,
    origin: &str,
    place: (usize, usize),
    path: &str,
    help: Option<&str>,
    colour: bool,
) -> String {
    let extra = Extra {
        path: Some(path),
        help,
        ..Extra::default()
    };
    at_place(message, source, origin, place, extra, colour)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::span::Span;

    const POLICY: &str = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Alow\"}]}";

    #[test]
    fn newuser_json_path_names_the_innermost_value() {
        let at = POLICY.find("\"Alow\"").unwrap();
        assert_eq!(json_path(POLICY, at), "$.Statement[0].Effect");
        let key = POLICY.find("\"Effect\"").unwrap();
        assert_eq!(json_path(POLICY, key), "$.Statement[0].Effect");
        assert_eq!(json_path("{\"a:b\": [1, 2]}", 12), "$[\"a:b\"][1]");
        assert_eq!(json_path("not json", 2), "$");
    }

    #[test]
    fn newuser_diagnostic_has_file_line_column_path_and_help() {
        let at = POLICY.find("\"Alow\"").unwrap();
        let d = Diagnostic::error("invalid-effect", Span::new(at, at + 6), "bad effect")
            .with_help("write `Allow` or `Deny`");
        let out = diagnostic(&d, POLICY, "p.json", false);
        assert!(
            out.starts_with("error[invalid-effect]: bad effect"),
            "{out}"
        );
        assert!(out.contains("--> p.json:1:"), "{out}");
        assert!(out.contains("at `$.Statement[0].Effect`"), "{out}");
        assert!(out.contains("help: write `Allow` or `Deny`"), "{out}");
        assert!(!out.contains('\u{1b}'), "no colour asked: {out}");
        assert!(diagnostic(&d, POLICY, "p.json", true).contains('\u{1b}'));
    }

    #[test]
    fn newuser_long_one_line_policy_is_cut_around_the_span() {
        // A minified policy: the span sits far right on one long line.
        let filler = format!("\"Sid\": \"{}\", ", "x".repeat(400));
        let text = format!("{{\"Statement\": [{{{filler}\"Effect\": \"Alow\"}}]}}");
        let at = text.find("\"Alow\"").unwrap();
        let d = Diagnostic::error("e", Span::new(at, at + 6), "bad");
        let out = diagnostic(&d, &text, "p.json", false);
        let caret_line = out.lines().find(|l| l.contains('^')).unwrap();
        let source_line = out.lines().find(|l| l.contains("\"Alow\"")).unwrap();
        // The excerpt is cut (not 400 x's) and the caret sits under the value.
        assert!(source_line.len() < 200, "{source_line}");
        let caret = caret_line.find('^').unwrap();
        assert_eq!(source_line.get(caret..caret + 6), Some("\"Alow\""), "{out}");
    }

    #[test]
    fn newuser_tabs_and_wide_characters_keep_the_caret_under_the_span() {
        let text = "{\n\t\"Sid\": \"日本\", \"Effect\": \"Alow\"\n}";
        let at = text.find("\"Alow\"").unwrap();
        let d = Diagnostic::error("e", Span::new(at, at + 6), "bad");
        let out = diagnostic(&d, text, "p.json", false);
        let source_line = out.lines().find(|l| l.contains("\"Alow\"")).unwrap();
        let caret_line = out.lines().find(|l| l.contains('^')).unwrap();
        // Display columns: each CJK character is two columns wide, a tab is expanded.
        let width = |s: &str| {
            s.chars()
                .map(|c| {
                    if ('\u{3000}'..='\u{9fff}').contains(&c) {
                        2
                    } else {
                        1
                    }
                })
                .sum::<usize>()
        };
        let prefix = &source_line[..source_line.find("\"Alow\"").unwrap()];
        assert!(!source_line.contains('\t'), "tabs are expanded: {out}");
        assert_eq!(caret_line.find('^').unwrap(), width(prefix), "{out}");
    }

    #[test]
    fn newuser_multi_line_span_is_marked_on_each_line() {
        let text = "{\n  \"Statement\": {\n    \"Effect\": \"Allow\"\n  }\n}";
        let start = text.find("{\n    ").unwrap();
        let end = text.rfind("  }").unwrap() + 3;
        let d = Diagnostic::error("e", Span::new(start, end), "bad statement");
        let out = diagnostic(&d, text, "p.json", false);
        assert!(out.contains("2 |"), "{out}");
        assert!(out.contains("4 |"), "{out}");
    }

    #[test]
    fn newuser_place_outside_the_text_still_renders() {
        // A finding whose policy text is unknown, or a line past the end: the title and help, no panic.
        for (text, place) in [("", (1, 1)), ("{}", (9, 9)), ("{\n}", (2, 40))] {
            let extra = Extra {
                warning: true,
                code: Some("x"),
                help: Some("do this"),
                ..Extra::default()
            };
            let out = at_place("something", text, "f.json", place, extra, false);
            assert!(out.starts_with("warning[x]: something"), "{out}");
            assert!(out.contains("help: do this"), "{out}");
        }
    }

    #[test]
    fn newuser_located_error_underlines_the_value() {
        let text = "{\n  \"name\": \"x\",\n  \"region\": 7\n}";
        let out = located(
            "`region` must be a string",
            text,
            "net.json",
            (3, 13),
            "$.region",
            Some("write a region name such as `eu-west-1`"),
            false,
        );
        assert!(out.contains("--> net.json:3:13"), "{out}");
        assert!(out.contains("at `$.region`"), "{out}");
        assert!(out.contains("help: write a region name"), "{out}");
    }

    /// A diagnostic rendered with the whole text as its snippet (what the windows must reproduce).
    fn whole(d: &Diagnostic, source: &str) -> String {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let range = clamp(source, d.span.start as usize, d.span.end as usize);
        let path = json_path(source, range.start);
        let mut snippet = Snippet::source(source)
            .path("p.json")
            .annotation(AnnotationKind::Primary.span(range));
        for (span, label) in &d.related {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(clamp(source, span.start as usize, span.end as usize))
                    .label(label.as_str()),
            );
        }
        let mut group = level
            .primary_title(d.message.as_str())
            .id(d.code)
            .element(snippet)
            .element(Level::NOTE.message(format!("at `{path}`")));
        if let Some(h) = &d.help {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        renderer(false).render(&[group])
    }

    /// The snippet cut to the lines the spans touch renders exactly as the whole text does: for diagnostics with
    /// related places lines apart, on one long line, at the first and last lines, multi-line, and past the end.
    #[test]
    fn a_windowed_snippet_renders_as_the_whole_text() {
        let pretty = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"A\", \"Effect\": \"Allow\"},\n    {\"Sid\": \"A\", \"Effect\": \"Alow\"}\n  ]\n}\n";
        let one_line = pretty.replace('\n', " ");
        for text in [pretty.to_string(), one_line, format!("{pretty}\r\n")] {
            let arena = json::Arena::new();
            let doc = Document::new(&text, &arena);
            let find = |s: &str, n: usize| text.match_indices(s).nth(n).unwrap().0;
            let spans = [
                (find("\"A\"", 1), 3, Some(find("\"A\"", 0))),
                (find("\"Alow\"", 0), 6, None),
                (0, 1, Some(text.len() - 2)),
                (find("\"Statement\"", 0), 40, Some(find("\"Version\"", 0))),
                (text.len(), 0, None),
                (text.len() - 1, 5, Some(0)),
            ];
            for (start, len, related) in spans {
                let mut d = Diagnostic::error("x", Span::new(start, start + len), "a problem")
                    .with_help("do this");
                if let Some(r) = related {
                    d = d.with_related(Span::new(r, r + 3), "first here");
                }
                assert_eq!(
                    diagnostic_in(&d, &doc, "p.json", &[], false),
                    whole(&d, &text),
                    "{start} {len} {related:?} in {text:?}"
                );
            }
        }
    }

    /// A long line (a minified policy of thousands of statements) is cut around the span before rendering, and
    /// renders exactly as the whole text does, column of the location line included: for a diagnostic and for a
    /// place given as line and column, at the start, the middle and the end of the line, with wide characters
    /// before the span.
    #[test]
    fn a_long_line_cut_around_the_span_renders_as_the_whole_text() {
        let statement = r#"{"Sid":"S日本","Effect":"Allow","Action":"*","Resource":"*"},"#;
        let body = statement.repeat(200);
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}{{"Effect":"Alow"}}]}}"#,
            body
        );
        assert!(text.len() > 3 * LONG_LINE);
        let arena = json::Arena::new();
        let doc = Document::new(&text, &arena);
        let whole_place = |line: usize, column: usize| {
            // The rendering before the cut: the whole text as the snippet.
            let at = doc.byte_at((line, column));
            let (path, span) = path_and_span(doc.root.as_ref().unwrap(), at);
            let span = if span.start as usize == at {
                span.start as usize..span.end as usize
            } else {
                at..at + 1
            };
            let group =
                Level::ERROR
                    .primary_title("m")
                    .element(Snippet::source(text.as_str()).path("p.json").annotation(
                        AnnotationKind::Primary.span(clamp(&text, span.start, span.end)),
                    ))
                    .element(Level::NOTE.message(format!("at `{path}`")));
            renderer(false).render(&[group])
        };
        // A span longer than the context, and one longer than a terminal line.
        let long = format!(r#""Action":"*","Resource":"*"}},{}"#, statement.repeat(12));
        for needle in ["\"Version\"", "\"S日本\"", "\"Alow\"", long.as_str()] {
            let positions: Vec<usize> = text.match_indices(needle).map(|(i, _)| i).collect();
            for &at in [
                positions[0],
                positions[positions.len() / 2],
                positions[positions.len() - 1],
            ]
            .iter()
            {
                let d = Diagnostic::error("x", Span::new(at, at + needle.len()), "a problem");
                assert_eq!(
                    diagnostic_in(&d, &doc, "p.json", &[], false),
                    whole(&d, &text),
                    "{at}"
                );
                let (line, column) = doc.line_col(at);
                let cut = at_place_in("m", &doc, "p.json", (line, column), Extra::default(), false);
                assert_eq!(cut, whole_place(line, column), "{at}");
                assert!(cut.contains(&format!("p.json:1:{column}")), "{cut}");
            }
        }
    }
}
